//! Opening, closing and inspecting a gate from C.

use std::ffi::{c_int, c_void};
use std::time::Duration;

use crosscall::GateState;

use crate::barrier::guarded;
use crate::codes::{
    CROSSCALL_ERR_CLOSED, CROSSCALL_ERR_INVALID, CROSSCALL_OK, CROSSCALL_STATE_CLOSED,
    CROSSCALL_STATE_CLOSING, CROSSCALL_STATE_OPEN, CROSSCALL_STATE_UNINIT,
};
use crate::handle::{checked, crosscall_gate, with_gate_slow_path};

/// Refuses to open a gate that is already closing or closed.
fn refuse_if_closed(handle: &crosscall_gate) -> Result<(), c_int> {
    match handle.gate.state() {
        GateState::Closing | GateState::Closed => {
            crosscall::set_last_error("crosscall: cannot open a gate that is closing or closed");
            Err(CROSSCALL_ERR_CLOSED)
        }
        GateState::Uninit | GateState::Open => Ok(()),
    }
}

/// Marks initialization done: admits callers from now on and wakes every waiting `enter`.
///
/// Opening an open gate is a no-op (`CROSSCALL_OK`). `CROSSCALL_ERR_CLOSED` if the gate is
/// closing or closed; `CROSSCALL_ERR_INVALID` for NULL or not a gate.
///
/// # Safety
///
/// `gate` must be NULL or a live pointer from `crosscall_gate_new`.
#[no_mangle]
pub unsafe extern "C" fn crosscall_gate_open(gate: *mut crosscall_gate) -> c_int {
    guarded(|| {
        // SAFETY: forwarded contract.
        let handle = match unsafe { checked(gate) } {
            Ok(h) => h,
            Err(code) => return code,
        };
        if let Err(code) = refuse_if_closed(handle) {
            return code;
        }
        handle.gate.open();
        CROSSCALL_OK
    })
}

/// Runs `init(ctx)` on the calling thread, then opens the gate.
///
/// While `init` runs, other threads' `enter` waits; an `enter` of this gate from inside `init`
/// (same thread) returns `CROSSCALL_ERR_WOULD_DEADLOCK` instead of waiting forever.
/// `CROSSCALL_ERR_INVALID` if `gate` or `init` is NULL; `CROSSCALL_ERR_CLOSED` if the gate is
/// closing or closed (then `init` is not called).
///
/// # Safety
///
/// `gate` must be NULL or a live pointer from `crosscall_gate_new`; `init` must be NULL or a
/// function safe to call with `ctx`, and must return normally (no `longjmp` or C++ exception
/// out of it).
#[no_mangle]
pub unsafe extern "C" fn crosscall_gate_open_with(
    gate: *mut crosscall_gate,
    init: Option<unsafe extern "C" fn(ctx: *mut c_void)>,
    ctx: *mut c_void,
) -> c_int {
    guarded(|| {
        // SAFETY: forwarded contract.
        let handle = match unsafe { checked(gate) } {
            Ok(h) => h,
            Err(code) => return code,
        };
        let Some(init) = init else {
            crosscall::set_last_error("crosscall: the init argument is NULL");
            return CROSSCALL_ERR_INVALID;
        };
        if let Err(code) = refuse_if_closed(handle) {
            return code;
        }
        // SAFETY: the caller promises `init` may be called with `ctx` and returns normally.
        handle.gate.open_with(|| unsafe { init(ctx) });
        CROSSCALL_OK
    })
}

/// Shared body of the two `close` forms (`timeout` `None`: wait for ever).
///
/// # Safety
///
/// As for [`checked`].
unsafe fn close_with(gate: *mut crosscall_gate, timeout: Option<Duration>) -> c_int {
    // A handler that interrupted this thread's own slow path (which may hold the gate's
    // lock) is refused (see `signal.rs`).
    let call = |handle: &crosscall_gate| {
        let _blocked = handle.block();
        crate::state::close_destroying(handle, timeout)
    };
    // SAFETY: forwarded contract.
    unsafe { with_gate_slow_path(gate, call) }
}

/// Stops admitting calls and waits until every admitted call has left.
///
/// After it returns `CROSSCALL_OK` the gate is `CLOSED`: no call is inside, and every later
/// (or waiting) `enter` fails with `CROSSCALL_ERR_CLOSED`. Closing a closed gate is a no-op.
/// `CROSSCALL_ERR_WOULD_DEADLOCK` if the calling thread is itself inside the gate (leave
/// first); `CROSSCALL_ERR_INVALID` for NULL or not a gate.
///
/// If the gate was opened with a state (`crosscall_gate_open_state()` or
/// `crosscall_gate_reopen_state()`), the close that ends the generation calls
/// `destroy(state)` exactly once, on its own thread, after the drain and before it returns
/// (a second close, or a concurrent one that did not end the generation, does not). The
/// destructor may call back into the gate: entries are refused as closed, and a close
/// returns `CROSSCALL_OK`.
///
/// # Safety
///
/// `gate` must be NULL or a live pointer from `crosscall_gate_new`.
#[no_mangle]
pub unsafe extern "C" fn crosscall_gate_close(gate: *mut crosscall_gate) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { close_with(gate, None) }
}

/// Like `crosscall_gate_close()`, waiting at most `timeout_ns` nanoseconds for the drain.
///
/// `CROSSCALL_ERR_TIMEOUT` if calls are still in flight then; the gate stays `CLOSING` (no
/// new admissions, the state is kept) and the call may be repeated; the close that finishes
/// the drain destroys the state, as `crosscall_gate_close()` does.
///
/// # Safety
///
/// `gate` must be NULL or a live pointer from `crosscall_gate_new`.
#[no_mangle]
pub unsafe extern "C" fn crosscall_gate_close_timeout(
    gate: *mut crosscall_gate,
    timeout_ns: u64,
) -> c_int {
    let timeout = Duration::from_nanos(timeout_ns);
    // SAFETY: forwarded contract.
    unsafe { close_with(gate, Some(timeout)) }
}

/// The gate's lifecycle state: one of the `CROSSCALL_STATE_*` values, or
/// `CROSSCALL_ERR_INVALID` for NULL or not a gate.
///
/// # Safety
///
/// `gate` must be NULL or a live pointer from `crosscall_gate_new`.
#[no_mangle]
pub unsafe extern "C" fn crosscall_gate_state(gate: *const crosscall_gate) -> c_int {
    guarded(|| {
        // SAFETY: forwarded contract.
        match unsafe { checked(gate) } {
            Ok(h) => match h.gate.state() {
                GateState::Uninit => CROSSCALL_STATE_UNINIT,
                GateState::Open => CROSSCALL_STATE_OPEN,
                GateState::Closing => CROSSCALL_STATE_CLOSING,
                GateState::Closed => CROSSCALL_STATE_CLOSED,
            },
            Err(code) => code,
        }
    })
}

/// The number of admitted calls that have not left yet (>= 0), or `CROSSCALL_ERR_INVALID`
/// for NULL or not a gate.
///
/// While the gate is open the count may be momentarily stale; once closed it is exact (0).
///
/// # Safety
///
/// `gate` must be NULL or a live pointer from `crosscall_gate_new`.
#[no_mangle]
pub unsafe extern "C" fn crosscall_gate_in_flight(gate: *const crosscall_gate) -> i64 {
    let mut count = 0i64;
    let code = guarded(|| {
        // SAFETY: forwarded contract.
        match unsafe { checked(gate) } {
            Ok(h) => {
                count = i64::try_from(h.gate.in_flight()).unwrap_or(i64::MAX);
                CROSSCALL_OK
            }
            Err(code) => code,
        }
    });
    if code == CROSSCALL_OK {
        count
    } else {
        i64::from(code)
    }
}
