//! The C API's entry paths, exercised by C code on pthreads (see `c/entry_path_tests.c`).

use crosscall_ctests::c;

#[test]
fn first_entry_then_cached_entries_on_new_threads() {
    c::ctest_first_entry_then_cached_entries_on_new_threads();
}

#[test]
fn two_gates_alternate_on_one_thread() {
    c::ctest_two_gates_alternate_on_one_thread();
}

#[test]
fn leave_while_closing() {
    c::ctest_leave_while_closing();
}
