//! Entries racing close on C-created threads (see `c/close_race_tests.c`).

use crosscall_ctests::{c, CALLBACK_GATE};

#[test]
fn gates_closed_under_traffic_round_after_round() {
    CALLBACK_GATE.open();
    c::ctest_gates_closed_under_traffic_round_after_round();
}

#[test]
fn pointers_at_the_top_of_memory_are_refused() {
    c::ctest_pointers_at_the_top_of_memory_are_refused();
}

/// glibc runs Rust's thread-local destructors before pthread key destructors: a first entry
/// made from a key destructor is released by crosscall's own key destructor in a later round
/// (`crosscall/src/gate/thread_exit.rs`), so the held entry ends and close returns.
#[test]
fn first_entry_from_a_key_destructor_does_not_outlive_the_thread() {
    c::ctest_first_entry_from_a_key_destructor_does_not_outlive_the_thread();
}
