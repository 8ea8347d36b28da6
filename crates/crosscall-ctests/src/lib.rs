//! Test-only crate: the tests of `crosscall-capi` (and of the `crosscall-hostbench` cdylib,
//! loaded with `dlopen()`) written in C (`c/*.c`, compiled by
//! `build.rs` against the committed `include/crosscall.h`), plus the Rust callbacks and probes
//! those C tests call. Each C test runs its checks on threads it creates with
//! `pthread_create`; `tests/*.rs` run them and fail with the C file and line that failed.
#![deny(unsafe_op_in_unsafe_fn, missing_docs)]

use std::ffi::c_int;
#[cfg(unix)]
use std::ffi::{c_char, CString};
#[cfg(unix)]
use std::path::Path;

use crosscall::Gate;

// Links the C API into every binary of this crate: the C tests call its symbols.
pub use crosscall_capi;

/// The gate of the Rust callbacks below; the Rust harness opens it.
pub static CALLBACK_GATE: Gate = Gate::new();

/// `a / b` for C: panics if `b` is 0, fails with `Err` if `a` is negative, `-1` on failure.
#[crosscall::export(gate = CALLBACK_GATE, on_panic = -1)]
#[no_mangle]
pub extern "C" fn ctest_div(a: i64, b: i64) -> Result<i64, String> {
    if b == 0 {
        panic!("ctest_div: cannot divide {a} by zero");
    }
    if a < 0 {
        return Err(format!("ctest_div: negative dividend {a}"));
    }
    Ok(a / b)
}

/// Threads attached since process start (`crosscall::attach::attach_count`).
#[no_mangle]
pub extern "C" fn ctest_attach_count() -> u64 {
    crosscall::attach::attach_count() as u64
}

/// Threads detached since process start (`crosscall::attach::detach_count`).
#[no_mangle]
pub extern "C" fn ctest_detach_count() -> u64 {
    crosscall::attach::detach_count() as u64
}

/// 1 if the calling thread is attached, else 0.
#[no_mangle]
pub extern "C" fn ctest_is_attached() -> c_int {
    c_int::from(crosscall::attach::is_attached())
}

/// Declares C test functions (`int name(void)`, 0 = pass, else the failed line) and a Rust
/// wrapper for each that panics with the line.
macro_rules! c_tests {
    ($($(#[$attr:meta])* $name:ident),* $(,)?) => {
        mod ffi {
            extern "C" {
                $($(#[$attr])* pub(super) fn $name() -> std::ffi::c_int;)*
            }
        }
        /// Safe wrappers of the C test functions.
        pub mod c {
            $(
                #[doc = concat!("Runs the C test `", stringify!($name), "`; panics if it fails.")]
                $(#[$attr])*
                pub fn $name() {
                    // SAFETY: the C test functions take no arguments and only use the C API
                    // as documented; they return normally.
                    let failed_line = unsafe { super::ffi::$name() };
                    assert_eq!(
                        failed_line, 0,
                        concat!("C test ", stringify!($name), " failed at line {} (see stderr)"),
                        failed_line
                    );
                }
            )*
        }
    };
}

c_tests!(
    ctest_many_gates_round_robin_and_nested,
    ctest_thousands_of_gates_come_and_go,
    ctest_close_is_woken_by_the_last_leave,
    ctest_stats_count_what_happened,
    ctest_bad_arguments_are_invalid,
    ctest_early_callers_wait_until_open,
    ctest_enter_timeout_admits_when_opened_in_time,
    ctest_close_waits_for_admitted_calls,
    ctest_close_before_open_releases_waiters,
    ctest_close_from_inside_would_deadlock,
    ctest_enter_inside_init_would_deadlock,
    ctest_unmatched_leave_is_reported,
    ctest_leave_belongs_to_the_entering_thread,
    ctest_attach_once_per_thread_detach_at_exit,
    ctest_panic_becomes_error_value,
    ctest_free_while_entered_aborts,
    ctest_first_entry_then_cached_entries_on_new_threads,
    ctest_two_gates_alternate_on_one_thread,
    ctest_leave_while_closing,
    ctest_gates_closed_under_traffic_round_after_round,
    ctest_pointers_at_the_top_of_memory_are_refused,
    ctest_first_entry_from_a_key_destructor_does_not_outlive_the_thread,
    ctest_handles_bad_input,
    ctest_handles_remove_inside_is_deferred,
    ctest_handles_stress_destroys_each_object_once,
    ctest_churn_idle_table_destroys_without_another_call,
    ctest_churn_remove_sync_destroys_before_returning,
    ctest_churn_refused_lookups_clear_obj,
    ctest_churn_two_churning_two_looking_up,
    ctest_first_entry_from_a_key_destructor_attaches_and_ends_with_the_thread,
    ctest_entry_again_from_a_later_destructor_round_ends_with_the_thread,
    ctest_entries_in_every_destructor_round_end_with_the_thread,
    ctest_state_bad_arguments,
    ctest_state_close_destroys_and_reopen_installs,
    ctest_state_destroy_runs_on_the_closing_thread_after_the_drain,
    ctest_state_reopen_cycles_under_load,
    #[cfg(unix)]
    ctest_fork_with_a_thread_inside,
    #[cfg(unix)]
    ctest_fork_from_inside_the_gate,
    #[cfg(unix)]
    ctest_forks_under_traffic_leave_drainable_gates,
    #[cfg(unix)]
    ctest_fork_child_abandons_the_state_and_reopens,
    #[cfg(unix)]
    ctest_signal_entries_on_a_prepared_thread_switching_gates,
    #[cfg(unix)]
    ctest_signal_first_entry_is_refused_not_deadlocked,
    #[cfg(unix)]
    ctest_longjmp_landing_site_restores_depth,
    #[cfg(unix)]
    ctest_longjmp_without_restore_ends_with_the_thread,
    #[cfg(unix)]
    ctest_pthread_exit_and_cancel_inside_end_the_entries,
    #[cfg(unix)]
    ctest_ten_thousand_threads_enter_once_and_exit,
    #[cfg(unix)]
    ctest_exit_with_threads_inside_does_not_hang,
    #[cfg(unix)]
    ctest_lifecycle_misuse_is_refused,
);

#[cfg(unix)]
extern "C" {
    fn ctest_cdylib_dlopen(path: *const c_char) -> c_int;
    #[cfg(not(target_env = "musl"))]
    fn ctest_unload_cycles_with_threads_alive(
        hostbench: *const c_char,
        capi: *const c_char,
        cycles: c_int,
    ) -> c_int;
}

#[cfg(all(unix, not(target_env = "musl")))]
fn c_path(path: &Path) -> CString {
    CString::new(path.as_os_str().as_encoded_bytes()).expect("a library path has no NUL byte")
}

/// A library built into this workspace's target directory, for the `dlopen()` tests: `$env`
/// if set, else `file` beside the test binary or one directory up (`target/<profile>/deps`
/// or `target/<profile>`). Panics, naming both, if neither holds it.
#[cfg(unix)]
pub fn built_library(file: &str, env: &str) -> std::path::PathBuf {
    use std::path::PathBuf;
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
        .unwrap_or_else(|| {
            panic!(
                "{file} not found at {candidates:?}: build its crate (`cargo build`) or set {env}"
            )
        })
}

/// Runs the C test `ctest_unload_cycles_with_threads_alive` (`c/unload_tests.c`): `cycles`
/// times dlopen(), calls from C threads, shutdown and dlclose() of the crosscall-hostbench
/// cdylib at `hostbench` and of the C API library at `capi`, with threads alive across the
/// cycles that exit at the end. Panics with the failed line if it fails. Unix only, not musl.
#[cfg(all(unix, not(target_env = "musl")))]
pub fn unload_cycles(hostbench: &Path, capi: &Path, cycles: c_int) {
    let (hostbench, capi) = (c_path(hostbench), c_path(capi));
    // SAFETY: both paths are NUL-terminated strings that outlive the call; the C test only
    // reads them and uses the libraries through the symbols it looks up.
    let failed_line = unsafe {
        ctest_unload_cycles_with_threads_alive(hostbench.as_ptr(), capi.as_ptr(), cycles)
    };
    assert_eq!(
        failed_line, 0,
        "C test ctest_unload_cycles_with_threads_alive failed at line {failed_line} (see stderr)"
    );
}

/// Runs the C test `ctest_cdylib_dlopen` (`c/cdylib_tests.c`) on the crosscall-hostbench
/// cdylib at `library`: dlopen(), calls from C threads before and after `hb_init`, shutdown
/// while they call, refusal after it, dlclose(). Panics with the failed line if it fails.
/// Unix only (`dlopen()`).
#[cfg(unix)]
pub fn cdylib_dlopen(library: &Path) {
    let path = CString::new(library.as_os_str().as_encoded_bytes())
        .expect("a library path has no NUL byte");
    // SAFETY: `path` is a NUL-terminated string that outlives the call; the C test only
    // reads it and uses the library through the symbols it looks up.
    let failed_line = unsafe { ctest_cdylib_dlopen(path.as_ptr()) };
    assert_eq!(
        failed_line, 0,
        "C test ctest_cdylib_dlopen failed at line {failed_line} (see stderr)"
    );
}
