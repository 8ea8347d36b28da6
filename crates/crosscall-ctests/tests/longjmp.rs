//! longjmp past `crosscall_gate_leave` (see `c/longjmp_tests.c`); the same with a real Lua
//! host is `scripts/ci/lifecycle.sh`'s Lua check.
//!
//! Unix only (see `build.rs`).
#![cfg(unix)]

use crosscall_ctests::c;

#[test]
fn longjmp_landing_site_restores_depth() {
    c::ctest_longjmp_landing_site_restores_depth();
}

#[test]
fn longjmp_without_restore_ends_with_the_thread() {
    c::ctest_longjmp_without_restore_ends_with_the_thread();
}
