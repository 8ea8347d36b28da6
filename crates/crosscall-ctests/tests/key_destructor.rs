//! Entries from pthread key destructors at thread exit (see `c/key_destructor_tests.c`).
//!
//! Its own test binary with a single test: the C tests check exact attach and detach counts,
//! which are process-wide, so no other test may create attaching threads meanwhile.

use crosscall_ctests::{c, CALLBACK_GATE};

#[test]
fn entries_from_key_destructors_end_with_the_thread() {
    CALLBACK_GATE.open();
    c::ctest_first_entry_from_a_key_destructor_attaches_and_ends_with_the_thread();
    c::ctest_entry_again_from_a_later_destructor_round_ends_with_the_thread();
    c::ctest_entries_in_every_destructor_round_end_with_the_thread();
}
