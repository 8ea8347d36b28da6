//! The per-thread last-error message, as C sees it.

use std::ffi::c_char;

/// The message of the last error recorded on the calling thread, or NULL if there is none.
///
/// Every `crosscall_*` function that returns a negative code records a message; so does every
/// Rust function exported with `#[crosscall::export]` that fails or panics. Successful calls
/// of this API do not clear it (check the return code first, like `errno`).
///
/// The string is owned by crosscall: do not free it. It stays valid until the calling thread
/// next records or clears an error (a failing crosscall call, or
/// `crosscall_clear_last_error()`); copy it if you need it longer.
#[no_mangle]
pub extern "C" fn crosscall_last_error_message() -> *const c_char {
    // Reading a thread-local pointer cannot panic in a way worth a barrier, but keep the
    // promise "no unwinding into C" unconditional.
    std::panic::catch_unwind(crosscall::__private::last_error_ptr).unwrap_or(std::ptr::null())
}

/// Forgets the calling thread's last error: `crosscall_last_error_message()` returns NULL until
/// the next failure.
#[no_mangle]
pub extern "C" fn crosscall_clear_last_error() {
    crate::barrier::guarded_void(crosscall::clear_last_error);
}
