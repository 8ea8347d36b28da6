//! The C handle-table API, exercised by C code on pthreads (see `c/handles_tests.c`).

use crosscall_ctests::c;

#[test]
fn handles_bad_input() {
    c::ctest_handles_bad_input();
}

#[test]
fn handles_remove_inside_is_deferred() {
    c::ctest_handles_remove_inside_is_deferred();
}

#[test]
fn handles_stress_destroys_each_object_once() {
    c::ctest_handles_stress_destroys_each_object_once();
}
