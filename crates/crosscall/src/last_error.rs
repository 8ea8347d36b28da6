//! The calling thread's last error message, errno-style.
//!
//! Kept as a C string so the C API can hand out a pointer without copying; see
//! [`last_error_ptr`].

use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::fmt::{self, Write as _};

std::thread_local! {
    // A `RefCell` because a message is replaced wholesale; nothing hands out a borrow that
    // outlives a single call here (the C pointer is raw and documented to die on replacement).
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

/// Returns the calling thread's last error message, if one is set.
///
/// Set by [`entry`](crate::entry) and `#[crosscall::export]` when a call is refused by its
/// gate, panics, or returns `Err`, and by [`set_last_error`]. Like C's `errno`, a successful call
/// does **not** clear it: check the return value first, then read the message. Each thread
/// has its own message.
///
/// # Examples
///
/// ```
/// crosscall::set_last_error("disk on fire");
/// assert_eq!(crosscall::last_error().as_deref(), Some("disk on fire"));
/// crosscall::clear_last_error();
/// assert_eq!(crosscall::last_error(), None);
/// ```
pub fn last_error() -> Option<String> {
    LAST_ERROR
        .try_with(|slot| {
            let slot = slot.borrow();
            slot.as_ref()
                .map(|message| message.to_string_lossy().into_owned())
        })
        // During thread-local destruction there is no message to report.
        .unwrap_or(None)
}

/// Clears the calling thread's last error message.
///
/// # Examples
///
/// ```
/// crosscall::set_last_error("stale");
/// crosscall::clear_last_error();
/// assert!(crosscall::last_error().is_none());
/// ```
pub fn clear_last_error() {
    // `try_with`: a no-op when called from another thread-local's destructor after ours ran.
    let _ = LAST_ERROR.try_with(|slot| slot.borrow_mut().take());
}

/// Replaces the calling thread's last error message with `message`.
///
/// The text is stored as a C string; an interior NUL byte, which C could not see past, is
/// replaced by U+FFFD (`�`). The message is formatted before the old one is dropped, so a
/// `Display` impl may itself read [`last_error`].
///
/// # Examples
///
/// ```
/// crosscall::set_last_error(format_args!("bad length {}", 7));
/// assert_eq!(crosscall::last_error().as_deref(), Some("bad length 7"));
/// crosscall::set_last_error("a\0b");
/// assert_eq!(crosscall::last_error().as_deref(), Some("a\u{FFFD}b"));
/// ```
pub fn set_last_error(message: impl fmt::Display) {
    let message = to_c_string(&message);
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = Some(message));
}

/// Pointer to the calling thread's last error message as a NUL-terminated C string, or null
/// when none is set.
///
/// The pointer stays valid until this thread next sets or clears its last error (any
/// `entry` that fails does so) or exits. Backs `crosscall_last_error_message()`.
pub fn last_error_ptr() -> *const c_char {
    LAST_ERROR
        .try_with(|slot| {
            slot.borrow()
                .as_ref()
                .map_or(std::ptr::null(), |message| message.as_ptr())
        })
        .unwrap_or(std::ptr::null())
}

fn to_c_string(message: &dyn fmt::Display) -> CString {
    let mut text = String::new();
    // Writing into a `String` fails only if the `Display` impl itself reports an error.
    if write!(text, "{message}").is_err() {
        text = String::from("crosscall: formatting the error message failed");
    }
    if text.contains('\0') {
        text = text.replace('\0', "\u{FFFD}");
    }
    // No NUL remains, so this cannot fail; the fallback only guards against future edits.
    CString::new(text).unwrap_or_default()
}
