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
