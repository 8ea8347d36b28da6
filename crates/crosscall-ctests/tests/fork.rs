//! fork() with threads inside gates (see `c/fork_tests.c`): the child can enter, close,
//! reopen and free what it inherited; the parent is unaffected.
//!
//! Unix only (see `build.rs`).
#![cfg(unix)]

use crosscall_ctests::c;

#[test]
fn fork_with_a_thread_inside() {
    c::ctest_fork_with_a_thread_inside();
}

#[test]
fn fork_from_inside_the_gate() {
    c::ctest_fork_from_inside_the_gate();
}

#[test]
fn forks_under_traffic_leave_drainable_gates() {
    c::ctest_forks_under_traffic_leave_drainable_gates();
}

#[test]
fn fork_child_abandons_the_state_and_reopens() {
    c::ctest_fork_child_abandons_the_state_and_reopens();
}
