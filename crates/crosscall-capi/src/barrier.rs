//! The panic barrier around every C API function: a panic becomes
//! `CROSSCALL_ERR_PANICKED` plus a last-error message, never an unwind into C.

use std::any::Any;
use std::ffi::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::codes::CROSSCALL_ERR_PANICKED;

/// Runs `body`; if it panics, records the panic message as this thread's last error and
/// returns `CROSSCALL_ERR_PANICKED`.
///
/// `AssertUnwindSafe` is sound here: after a panic the only state the caller observes is the
/// returned code and the last error; the gate's own invariants are kept by its guards
/// (`Pass` leaves on drop, also while unwinding).
pub(crate) fn guarded(body: impl FnOnce() -> c_int) -> c_int {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(code) => code,
        Err(payload) => {
            crosscall::set_last_error(panic_message(payload.as_ref()));
            // A payload whose destructor panics must not unwind into C either.
            crosscall::__private::drop_payload(payload);
            CROSSCALL_ERR_PANICKED
        }
    }
}

/// Like [`guarded`] for functions that return nothing to C: the panic is only recorded.
pub(crate) fn guarded_void(body: impl FnOnce()) {
    let _ = guarded(|| {
        body();
        crate::codes::CROSSCALL_OK
    });
}

/// The text of a panic payload (`panic!("...")` carries a `&str` or a `String`).
fn panic_message(payload: &(dyn Any + Send)) -> String {
    let text =
        crosscall::__private::panic_text(payload).unwrap_or("panic with a non-string payload");
    format!("panicked: {text}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::CROSSCALL_OK;

    #[test]
    fn a_panic_becomes_the_panicked_code_and_the_last_error() {
        crosscall::clear_last_error();
        assert_eq!(guarded(|| panic!("boom {}", 7)), CROSSCALL_ERR_PANICKED);
        assert_eq!(crosscall::last_error().as_deref(), Some("panicked: boom 7"));
        assert_eq!(
            guarded(|| std::panic::panic_any(3u8)),
            CROSSCALL_ERR_PANICKED
        );
        assert_eq!(
            crosscall::last_error().as_deref(),
            Some("panicked: panic with a non-string payload")
        );
    }

    #[test]
    fn no_panic_passes_the_code_through_and_keeps_the_last_error() {
        crosscall::set_last_error("earlier");
        assert_eq!(guarded(|| -4), -4);
        assert_eq!(guarded(|| CROSSCALL_OK), CROSSCALL_OK);
        assert_eq!(crosscall::last_error().as_deref(), Some("earlier"));
    }
}
