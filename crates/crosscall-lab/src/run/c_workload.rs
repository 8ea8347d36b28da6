//! Bindings to the C side of the workloads (`c/workload.c`, compiled by
//! `build.rs`). See `c/workload.h` for the contract of each function.
use std::ffi::c_int;

/// Length of the key, of the value and of `get_value`'s stack array
/// (`LAB_VALUE_LEN` in `c/workload.h`).
pub const VALUE_LEN: usize = 32;

/// What a callback returns when its gate refused the call (any negative
/// value; C passes it through and leaves `value` untouched).
pub const REFUSED: c_int = -1;

/// `lab_value_callback`: receives the key and C's stack array.
pub type ValueCallback = extern "C" fn(key: *const u8, out: *mut u8) -> c_int;

/// `lab_empty_callback`: nothing to do but enter and leave.
pub type EmptyCallback = extern "C" fn() -> c_int;

extern "C" {
    fn lab_set_callbacks(value_cb: Option<ValueCallback>, empty_cb: Option<EmptyCallback>);
    fn lab_get_value(key: *const u8, value: *mut u8) -> c_int;
    fn lab_get_value_poisoned(key: *const u8, value: *mut u8) -> c_int;
    fn lab_call_empty() -> c_int;
}

/// Registers the callbacks C calls from now on (`None`: calls return
/// [`REFUSED`]). The registry is process-wide: callers serialize runs.
pub fn set_callbacks(value_cb: Option<ValueCallback>, empty_cb: Option<EmptyCallback>) {
    // SAFETY: takes two function pointers (or NULL) and stores them
    // atomically; no memory of ours is touched.
    unsafe { lab_set_callbacks(value_cb, empty_cb) }
}

/// C's `get_value(key, value)`; `POISON` picks the test variant that fills
/// the stack array with `0xAA` before calling back.
///
/// # Safety
///
/// `key` must be valid for reads and `value` for writes of [`VALUE_LEN`] bytes
/// for the duration of the call (C reads and writes exactly that many).
#[inline]
pub unsafe fn get_value<const POISON: bool>(key: *const u8, value: *mut u8) -> c_int {
    if POISON {
        // SAFETY: forwarded from this function's contract.
        unsafe { lab_get_value_poisoned(key, value) }
    } else {
        // SAFETY: forwarded from this function's contract.
        unsafe { lab_get_value(key, value) }
    }
}

/// C's `call_empty()`: one callback with nothing to do.
#[inline]
pub fn call_empty() -> c_int {
    // SAFETY: takes no arguments; calls the registered callback (or returns
    // REFUSED when none is registered).
    unsafe { lab_call_empty() }
}
