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

use std::path::PathBuf;

fn library(file: &str, env: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(env) {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let candidates: Vec<PathBuf> = exe
        .ancestors()
        .skip(1)
        .take(2)
        .map(|dir| dir.join(file))
        .collect();
    candidates
        .iter()
        .find(|path| path.is_file())
        .cloned()
        .unwrap_or_else(|| panic!("{file} not found at {candidates:?}: set {env}"))
}

#[test]
fn dlclose_with_threads_alive_cycle_after_cycle() {
    let cycles = std::env::var("CROSSCALL_UNLOAD_CYCLES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    crosscall_ctests::unload_cycles(
        &library("libcrosscall_hostbench.so", "CROSSCALL_HOSTBENCH_SO"),
        &library("libcrosscall_capi.so", "CROSSCALL_CAPI_SO"),
        cycles,
    );
}
