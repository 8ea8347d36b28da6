//! Threads ending by pthread_exit/pthread_cancel inside entries, a 10,000-thread storm,
//! exit() with threads inside, and misuse (see `c/thread_end_tests.c`).
//!
//! Unix only (see `build.rs`).
#![cfg(unix)]

use crosscall_ctests::{c, CALLBACK_GATE};

#[test]
fn pthread_exit_and_cancel_inside_end_the_entries() {
    c::ctest_pthread_exit_and_cancel_inside_end_the_entries();
}

/// Memory follows the threads alive at once (64 per batch), not the 10,000 that entered.
#[test]
fn ten_thousand_threads_enter_once_and_exit() {
    CALLBACK_GATE.open();
    c::ctest_ten_thousand_threads_enter_once_and_exit();
    let slots = CALLBACK_GATE.__slot_count();
    assert!(
        slots <= 64 + 8,
        "{slots} slots for 64 threads alive at once"
    );
}

#[test]
fn exit_with_threads_inside_does_not_hang() {
    c::ctest_exit_with_threads_inside_does_not_hang();
}

#[test]
fn lifecycle_misuse_is_refused() {
    c::ctest_lifecycle_misuse_is_refused();
}
