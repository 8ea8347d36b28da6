//! dlclose() with attached threads alive, 2,000 load/unload cycles (see `c/unload_tests.c`).
//!
//! Its own test binary: the long-lived C threads must be the only ones that outlive the
//! cycles, and the process must survive their exit after the last dlclose().
//!
//! The libraries are found next to this test binary: crosscall-hostbench and crosscall-capi
//! are dependencies of this crate, so cargo builds `libcrosscall_hostbench.so` and
//! `libcrosscall_capi.so` before the tests run. `CROSSCALL_HOSTBENCH_SO` and
//! `CROSSCALL_CAPI_SO` override the paths; `CROSSCALL_UNLOAD_CYCLES` the number of cycles.
//!
//! Unix only, and not on musl (no cdylib to load there), as `cdylib.rs`.
#![cfg(all(unix, not(target_env = "musl")))]

use crosscall_ctests::built_library;

#[test]
fn dlclose_with_threads_alive_cycle_after_cycle() {
    let cycles = std::env::var("CROSSCALL_UNLOAD_CYCLES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    crosscall_ctests::unload_cycles(
        &built_library("libcrosscall_hostbench.so", "CROSSCALL_HOSTBENCH_SO"),
        &built_library("libcrosscall_capi.so", "CROSSCALL_CAPI_SO"),
        cycles,
    );
}
