//! Handle tables under churn, driven by C code on pthreads (see `c/handle_churn_tests.c`):
//! batched removal, the reclaimer, the synchronous remove, refused lookups.

use crosscall_ctests::c;

#[test]
fn churn_idle_table_destroys_without_another_call() {
    c::ctest_churn_idle_table_destroys_without_another_call();
}

#[test]
fn churn_remove_sync_destroys_before_returning() {
    c::ctest_churn_remove_sync_destroys_before_returning();
}

#[test]
fn churn_refused_lookups_clear_obj() {
    c::ctest_churn_refused_lookups_clear_obj();
}

#[test]
fn churn_two_churning_two_looking_up() {
    c::ctest_churn_two_churning_two_looking_up();
}
