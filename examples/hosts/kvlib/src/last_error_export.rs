//! `kv_last_error()`: the calling thread's last error as a C string the host can read.
//!
//! crosscall keeps the message per thread (`crosscall::last_error()`); a host needs a
//! pointer it can read after the call returns. This module keeps a copy per thread, so the
//! pointer stays valid until the same thread's next `kv_last_error()` call (or its exit),
//! whatever other threads do.
//!
//! It is a small, self-contained function on purpose: a later crosscall macro that generates
//! exactly this export can replace the whole file.

use std::cell::RefCell;
use std::ffi::{c_char, CString};

std::thread_local! {
    // The copy handed to C; replaced only by this thread's next kv_last_error().
    static HANDED_OUT: RefCell<Option<CString>> = const { RefCell::new(None) };
}

/// The calling thread's last error message, or NULL if none was set. Like `errno`, a
/// successful call does not clear it: read it only after a call returned its error value.
///
/// The string belongs to the library and stays valid until this thread calls
/// `kv_last_error()` again or exits; copy it to keep it longer.
#[no_mangle]
pub extern "C" fn kv_last_error() -> *const c_char {
    let message = crosscall::last_error()
        // The message came from a C string, so it holds no NUL; the default is unreachable.
        .map(|text| CString::new(text).unwrap_or_default());
    HANDED_OUT
        .try_with(|slot| {
            let mut slot = slot.borrow_mut();
            *slot = message;
            slot.as_ref().map_or(std::ptr::null(), |text| text.as_ptr())
        })
        // During thread-local destruction (a host's thread-exit hook calling in): nothing.
        .unwrap_or(std::ptr::null())
}
