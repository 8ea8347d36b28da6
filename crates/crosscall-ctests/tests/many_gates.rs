//! Several gates per thread, the woken close and the statistics, from C on pthreads (see
//! `c/many_gates_tests.c`).

use crosscall_ctests::c;

#[test]
fn many_gates_round_robin_and_nested() {
    c::ctest_many_gates_round_robin_and_nested();
}

#[test]
fn thousands_of_gates_come_and_go() {
    c::ctest_thousands_of_gates_come_and_go();
}

#[test]
fn close_is_woken_by_the_last_leave() {
    c::ctest_close_is_woken_by_the_last_leave();
}

#[test]
fn stats_count_what_happened() {
    c::ctest_stats_count_what_happened();
}
