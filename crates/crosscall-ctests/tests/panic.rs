//! The panic barrier of an exported Rust callback, called from a C thread (see
//! `c/panic_tests.c`).

use crosscall_ctests::{c, CALLBACK_GATE};

#[test]
fn panic_becomes_error_value() {
    CALLBACK_GATE.open();
    c::ctest_panic_becomes_error_value();
}
