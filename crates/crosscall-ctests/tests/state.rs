//! Library state behind the C gate (`crosscall_gate_open_state`, `_reopen_state`,
//! `_enter_state`, and `destroy` in `crosscall_gate_close`), exercised by C code on pthreads
//! (see `c/state_tests.c`).

use crosscall_ctests::c;

#[test]
fn state_bad_arguments() {
    c::ctest_state_bad_arguments();
}

#[test]
fn state_close_destroys_and_reopen_installs() {
    c::ctest_state_close_destroys_and_reopen_installs();
}

#[test]
fn state_destroy_runs_on_the_closing_thread_after_the_drain() {
    c::ctest_state_destroy_runs_on_the_closing_thread_after_the_drain();
}

#[test]
fn state_reopen_cycles_under_load() {
    c::ctest_state_reopen_cycles_under_load();
}
