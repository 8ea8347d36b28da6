//! The C gate API, exercised by C code on pthreads (see `c/gate_tests.c`).

use crosscall_ctests::c;

#[test]
fn bad_arguments_are_invalid() {
    c::ctest_bad_arguments_are_invalid();
}

#[test]
fn early_callers_wait_until_open() {
    c::ctest_early_callers_wait_until_open();
}

#[test]
fn enter_timeout_admits_when_opened_in_time() {
    c::ctest_enter_timeout_admits_when_opened_in_time();
}

#[test]
fn close_waits_for_admitted_calls() {
    c::ctest_close_waits_for_admitted_calls();
}

#[test]
fn close_before_open_releases_waiters() {
    c::ctest_close_before_open_releases_waiters();
}

#[test]
fn close_from_inside_would_deadlock() {
    c::ctest_close_from_inside_would_deadlock();
}

#[test]
fn enter_inside_init_would_deadlock() {
    c::ctest_enter_inside_init_would_deadlock();
}

#[test]
fn unmatched_leave_is_reported() {
    c::ctest_unmatched_leave_is_reported();
}

#[test]
fn leave_belongs_to_the_entering_thread() {
    c::ctest_leave_belongs_to_the_entering_thread();
}
