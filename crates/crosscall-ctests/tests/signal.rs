//! Entries from signal handlers (see `c/signal_tests.c`). One test at a time: the handlers
//! are process-wide.
//!
//! Unix only (see `build.rs`).
#![cfg(unix)]

use crosscall_ctests::c;

#[test]
fn signal_handlers_enter_safely() {
    c::ctest_signal_entries_on_a_prepared_thread_switching_gates();
    c::ctest_signal_first_entry_is_refused_not_deadlocked();
}
