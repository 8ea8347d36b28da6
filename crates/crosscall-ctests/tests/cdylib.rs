//! The deployed shape from C: the crosscall-hostbench cdylib loaded with dlopen() by C code,
//! called from C-created threads, shut down and unloaded (see `c/cdylib_tests.c`).
//!
//! The library is found next to this test binary: crosscall-hostbench is a dev-dependency of
//! this crate, so cargo builds `libcrosscall_hostbench.so` into the same `deps/` directory
//! (and the profile directory above it) before the tests run. `CROSSCALL_HOSTBENCH_SO`
//! overrides the path.
//!
//! Not on Windows (no `dlopen()`; the C API's DLL is built there, not loaded) nor on musl
//! (Rust's musl targets link executables statically and build no cdylib by default, so there
//! is neither a `.so` to load nor a dynamic loader in the test binary).
#![cfg(all(unix, not(target_env = "musl")))]

#[test]
fn cdylib_loaded_with_dlopen_serves_c_threads_then_shuts_down_and_unloads() {
    crosscall_ctests::cdylib_dlopen(&crosscall_ctests::built_library(
        "libcrosscall_hostbench.so",
        "CROSSCALL_HOSTBENCH_SO",
    ));
}
