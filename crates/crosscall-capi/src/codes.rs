//! Return codes shared by every `crosscall_*` function, and their messages.

use std::ffi::{c_char, c_int};

use crosscall::{CloseError, EnterError};

/// Return codes of the `crosscall_*` functions (returned as `int`): `CROSSCALL_OK` or a
/// negative error. An enum rather than `#define`s so every constant is a hygienic integer
/// constant expression (no `-1` pasted into an expression).
#[repr(C)]
#[allow(non_camel_case_types)] // C names, as they appear in crosscall.h
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum crosscall_code {
    /// Success.
    CROSSCALL_OK = 0,
    /// The gate is closing or closed: no new call is admitted (and `open` after `close` is
    /// refused).
    CROSSCALL_ERR_CLOSED = -1,
    /// The time limit ran out (or, for `crosscall_gate_try_enter`, the gate is not open yet).
    CROSSCALL_ERR_TIMEOUT = -2,
    /// Waiting would deadlock: `enter` on the thread that is running the gate's
    /// initialization, or `close` from a thread that is itself inside the gate.
    CROSSCALL_ERR_WOULD_DEADLOCK = -3,
    /// A NULL or otherwise bad argument (e.g. a pointer that is not a live gate, `leave`
    /// without a matching `enter` on this thread).
    CROSSCALL_ERR_INVALID = -4,
    /// Rust code panicked inside the call; `crosscall_last_error_message()` holds the panic
    /// message.
    CROSSCALL_ERR_PANICKED = -5,
    /// The handle was issued by this table, but its object has been removed. (A handle that
    /// was never issued by the table — 0, made up, or another table's — is
    /// `CROSSCALL_ERR_INVALID`.)
    CROSSCALL_ERR_STALE = -6,
    /// The call interrupted this thread's own crosscall call (it was made from a signal
    /// handler): refused at once, nothing changed, no last-error message recorded.
    CROSSCALL_ERR_BUSY = -7,
    /// `crosscall_gate_try_enter_signal()` on a thread that has not prepared the gate
    /// (`crosscall_gate_prepare_thread()`, or an earlier entry): its first entry would
    /// allocate. Refused at once, no last-error message recorded.
    CROSSCALL_ERR_NOT_PREPARED = -8,
}

/// Lifecycle states reported by `crosscall_gate_state` (returned as `int`).
#[repr(C)]
#[allow(non_camel_case_types)] // C names, as they appear in crosscall.h
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum crosscall_state {
    /// Not opened yet; `enter` waits.
    CROSSCALL_STATE_UNINIT = 0,
    /// Open; `enter` admits.
    CROSSCALL_STATE_OPEN = 1,
    /// `close` has begun; admission stopped, admitted calls draining.
    CROSSCALL_STATE_CLOSING = 2,
    /// Closed and drained.
    CROSSCALL_STATE_CLOSED = 3,
}

/// [`crosscall_code::CROSSCALL_OK`] as the `int` the functions return.
pub const CROSSCALL_OK: c_int = crosscall_code::CROSSCALL_OK as c_int;
/// [`crosscall_code::CROSSCALL_ERR_CLOSED`] as an `int`.
pub const CROSSCALL_ERR_CLOSED: c_int = crosscall_code::CROSSCALL_ERR_CLOSED as c_int;
/// [`crosscall_code::CROSSCALL_ERR_TIMEOUT`] as an `int`.
pub const CROSSCALL_ERR_TIMEOUT: c_int = crosscall_code::CROSSCALL_ERR_TIMEOUT as c_int;
/// [`crosscall_code::CROSSCALL_ERR_WOULD_DEADLOCK`] as an `int`.
pub const CROSSCALL_ERR_WOULD_DEADLOCK: c_int =
    crosscall_code::CROSSCALL_ERR_WOULD_DEADLOCK as c_int;
/// [`crosscall_code::CROSSCALL_ERR_INVALID`] as an `int`.
pub const CROSSCALL_ERR_INVALID: c_int = crosscall_code::CROSSCALL_ERR_INVALID as c_int;
/// [`crosscall_code::CROSSCALL_ERR_PANICKED`] as an `int`.
pub const CROSSCALL_ERR_PANICKED: c_int = crosscall_code::CROSSCALL_ERR_PANICKED as c_int;
/// [`crosscall_code::CROSSCALL_ERR_STALE`] as an `int`.
pub const CROSSCALL_ERR_STALE: c_int = crosscall_code::CROSSCALL_ERR_STALE as c_int;
/// [`crosscall_code::CROSSCALL_ERR_BUSY`] as an `int`.
pub const CROSSCALL_ERR_BUSY: c_int = crosscall_code::CROSSCALL_ERR_BUSY as c_int;
/// [`crosscall_code::CROSSCALL_ERR_NOT_PREPARED`] as an `int`.
pub const CROSSCALL_ERR_NOT_PREPARED: c_int = crosscall_code::CROSSCALL_ERR_NOT_PREPARED as c_int;
/// [`crosscall_state::CROSSCALL_STATE_UNINIT`] as an `int`.
pub const CROSSCALL_STATE_UNINIT: c_int = crosscall_state::CROSSCALL_STATE_UNINIT as c_int;
/// [`crosscall_state::CROSSCALL_STATE_OPEN`] as an `int`.
pub const CROSSCALL_STATE_OPEN: c_int = crosscall_state::CROSSCALL_STATE_OPEN as c_int;
/// [`crosscall_state::CROSSCALL_STATE_CLOSING`] as an `int`.
pub const CROSSCALL_STATE_CLOSING: c_int = crosscall_state::CROSSCALL_STATE_CLOSING as c_int;
/// [`crosscall_state::CROSSCALL_STATE_CLOSED`] as an `int`.
pub const CROSSCALL_STATE_CLOSED: c_int = crosscall_state::CROSSCALL_STATE_CLOSED as c_int;

/// The code a failed `enter` returns.
pub(crate) fn enter_code(e: EnterError) -> c_int {
    match e {
        EnterError::Closed => CROSSCALL_ERR_CLOSED,
        EnterError::Timeout => CROSSCALL_ERR_TIMEOUT,
        EnterError::WouldDeadlock => CROSSCALL_ERR_WOULD_DEADLOCK,
    }
}

/// The code a failed `close` returns.
pub(crate) fn close_code(e: CloseError) -> c_int {
    match e {
        CloseError::Timeout => CROSSCALL_ERR_TIMEOUT,
        CloseError::WouldDeadlock => CROSSCALL_ERR_WOULD_DEADLOCK,
    }
}

/// A static, human-readable description of a `crosscall_*` return code.
///
/// Never returns NULL; an unknown code gives `"unknown crosscall return code"`. The string is
/// static: never free it.
#[no_mangle]
pub extern "C" fn crosscall_strerror(code: c_int) -> *const c_char {
    let s: &'static std::ffi::CStr = match code {
        CROSSCALL_OK => c"success",
        CROSSCALL_ERR_CLOSED => c"gate is closed",
        CROSSCALL_ERR_TIMEOUT => c"timed out (or gate not open yet)",
        CROSSCALL_ERR_WOULD_DEADLOCK => c"operation would deadlock",
        CROSSCALL_ERR_INVALID => c"invalid argument",
        CROSSCALL_ERR_PANICKED => c"Rust code panicked",
        CROSSCALL_ERR_STALE => c"stale handle (its object was removed)",
        CROSSCALL_ERR_BUSY => c"interrupted this thread's own crosscall call (signal handler)",
        CROSSCALL_ERR_NOT_PREPARED => c"thread not prepared for this gate (first entry)",
        _ => c"unknown crosscall return code",
    };
    s.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn every_code_has_its_own_message() {
        let codes = [
            CROSSCALL_OK,
            CROSSCALL_ERR_CLOSED,
            CROSSCALL_ERR_TIMEOUT,
            CROSSCALL_ERR_WOULD_DEADLOCK,
            CROSSCALL_ERR_INVALID,
            CROSSCALL_ERR_PANICKED,
            CROSSCALL_ERR_STALE,
            CROSSCALL_ERR_BUSY,
            CROSSCALL_ERR_NOT_PREPARED,
        ];
        let unknown = message(12345);
        let mut seen = std::collections::HashSet::new();
        for c in codes {
            let m = message(c);
            assert_ne!(m, unknown, "code {c} has no message");
            assert!(seen.insert(m), "code {c} shares a message");
            assert!(c == CROSSCALL_OK || c < 0, "error code {c} is not negative");
        }
    }

    fn message(code: c_int) -> String {
        // SAFETY: crosscall_strerror returns a pointer to a static NUL-terminated string.
        unsafe { CStr::from_ptr(crosscall_strerror(code)) }
            .to_str()
            .unwrap()
            .to_owned()
    }
}
