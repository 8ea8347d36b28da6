//! Thread attach from C-created threads (see `c/attach_tests.c`).
//!
//! Its own test binary with a single test: attach counts are process-wide, so no other test
//! may create attaching threads meanwhile.

use crosscall_ctests::{c, CALLBACK_GATE};

#[test]
fn attach_once_per_thread_detach_at_exit() {
    CALLBACK_GATE.open();
    c::ctest_attach_once_per_thread_detach_at_exit();
}
