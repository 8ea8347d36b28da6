//! Entries from pthread key destructors at thread exit (see `c/key_destructor_tests.c`).
//!
//! Its own test binary with a single test: the C tests check exact attach and detach counts,
//! which are process-wide, so no other test may create attaching threads meanwhile.
//!
//! Unix only: it checks the pthread-key ordering of glibc, musl and macOS (crosscall's own key
//! destructor runs after the other keys' in the same rounds). On Windows (winpthreads) the
//! thread's crosscall state is released by a TLS callback that runs before the pthread key
//! destructors, so an entry from one of them is refused as "exiting" (C API) or runs
//! unattached, by design (`crosscall/src/gate/thread_exit_windows.rs`);
//! `close_race::first_entry_from_a_key_destructor_does_not_outlive_the_thread` checks there
//! that such an entry never outlives the thread.
#![cfg(unix)]

use crosscall_ctests::{c, CALLBACK_GATE};

#[test]
fn entries_from_key_destructors_end_with_the_thread() {
    CALLBACK_GATE.open();
    c::ctest_first_entry_from_a_key_destructor_attaches_and_ends_with_the_thread();
    c::ctest_entry_again_from_a_later_destructor_round_ends_with_the_thread();
    c::ctest_entries_in_every_destructor_round_end_with_the_thread();
}
