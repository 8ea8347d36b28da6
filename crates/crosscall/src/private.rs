//! Not public API: what `#[crosscall::export]` expands to and what `crosscall-capi` calls.
//!
//! Hidden from the docs and free to change together with `crosscall-macros` and
//! `crosscall-capi` in any release.

pub use crate::barrier::{
    drop_payload, entry, entry_or_abort, export_result, export_result_or_abort, panic_text,
};
pub use crate::gate::Gate;
pub use crate::last_error::last_error_ptr;

/// A nested pass of `gate` for the body of an export with handle parameters (the runner
/// holds the outer one), or the error message that becomes the last error.
#[inline]
pub fn nested_pass(gate: &Gate) -> Result<crate::Pass<'_>, String> {
    gate.try_enter().map_err(|e| format!("crosscall: {e}"))
}

/// Looks up handle parameter `name` (C passed `raw`), or the error message naming the
/// parameter and the check that failed.
#[inline]
pub fn resolve_handle<'a, T>(
    table: &'a crate::Handles<'_, T>,
    pass: &'a crate::Pass<'_>,
    raw: u64,
    name: &str,
) -> Result<&'a T, String> {
    table
        .get_raw(pass, raw)
        .map_err(|e| format!("crosscall: handle argument `{name}` ({raw:#018x}): {e}"))
}

#[cfg(not(loom))]
pub use crate::state_entry::{
    entry_state, entry_state_or_abort, export_state_result, export_state_result_or_abort,
};
pub use crate::state_gate::StateGate;

pub use crate::c_exports::mark_bytes;
pub use crate::error_value::ErrorValue;
#[cfg(not(loom))]
pub use crate::log_callback::LogCallback;
pub use crate::panic_policy::UnwindingExport;

/// What `export_log_callback!`'s function runs: the log callback setter, behind a
/// panic barrier (it takes no gate: it configures the library, like an init function).
#[cfg(not(loom))]
pub fn set_log_callback_guarded(
    callback: Option<LogCallback>,
    user: *mut std::ffi::c_void,
    max_level: std::ffi::c_int,
) -> std::ffi::c_int {
    std::panic::catch_unwind(|| crate::log_callback::set_log_callback(callback, user, max_level))
        .unwrap_or_else(|payload| {
            crate::set_last_error("crosscall: log callback: the setter panicked");
            crate::barrier::drop_payload(payload);
            crate::log_callback::LOG_ERR_STATE
        })
}

/// The `tokio` option's runtime pieces.
#[cfg(all(feature = "tokio", not(loom)))]
pub mod tokio {
    pub use crate::tokio_context::{enter_context, spawn_export, AsyncCallback};
}
