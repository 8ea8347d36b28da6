//! Entering from signal handlers: preparing a thread ahead of time, and the entry that never
//! allocates, waits or locks (see crosscall's `gate/signal.rs` for the protocol).

use std::ffi::c_int;

use crosscall::{Gate, GateState, SlowPathRefused};

use crate::barrier::guarded;
use crate::codes::{
    enter_code, CROSSCALL_ERR_BUSY, CROSSCALL_ERR_CLOSED, CROSSCALL_ERR_INVALID,
    CROSSCALL_ERR_NOT_PREPARED, CROSSCALL_ERR_TIMEOUT, CROSSCALL_OK,
};
use crate::handle::{checked, checked_quiet, crosscall_gate, gate_ptr};

/// Does the calling thread's first-entry work for `gate` ahead of time, without entering:
/// attaches the thread (running any attach hook) and claims its slot in the gate. This
/// allocates, so call it outside signal handlers, on every thread whose handlers will enter
/// `gate`. Afterwards `crosscall_gate_try_enter_signal()` can admit this thread into `gate`.
///
/// Works in any state of the gate (the slot is kept across close and reopen). Calling it
/// again is a cheap no-op. `CROSSCALL_ERR_INVALID` for NULL or not a gate, or when the
/// thread is exiting and past the point where it could keep a slot; `CROSSCALL_ERR_BUSY` when
/// called from a handler that interrupted this thread's own crosscall call.
///
/// # Safety
///
/// `gate` must be NULL or a live pointer from `crosscall_gate_new`.
#[no_mangle]
pub unsafe extern "C" fn crosscall_gate_prepare_thread(gate: *mut crosscall_gate) -> c_int {
    let Ok(_slow_path) = Gate::__begin_slow_path(true) else {
        return CROSSCALL_ERR_BUSY;
    };
    guarded(|| {
        // SAFETY: forwarded contract.
        let handle = match unsafe { checked(gate) } {
            Ok(h) => h,
            Err(code) => return code,
        };
        if handle.gate.__has_slot_here() {
            return CROSSCALL_OK;
        }
        // The slow path of an entry attaches and claims the slot before it looks at the
        // state; admitted or not, the entry itself is given back at once.
        drop(handle.gate.try_enter());
        if handle.gate.__has_slot_here() {
            CROSSCALL_OK
        } else {
            crosscall::set_last_error(
                "crosscall: crosscall_gate_prepare_thread: this thread is exiting and can no \
                 longer keep a slot",
            );
            CROSSCALL_ERR_INVALID
        }
    })
}

/// Enters the gate from a signal handler: async-signal-safe, never waits, never allocates,
/// never takes a lock held by the interrupted code, records no last-error message.
///
/// Returns `CROSSCALL_OK` (pair it with `crosscall_gate_leave()` in the same handler),
/// `CROSSCALL_ERR_CLOSED` (closing or closed), `CROSSCALL_ERR_TIMEOUT` (not open yet),
/// `CROSSCALL_ERR_NOT_PREPARED` (the thread has neither entered nor prepared this gate
/// before: call `crosscall_gate_prepare_thread()` outside handlers),
/// `CROSSCALL_ERR_BUSY` (the handler interrupted this thread's own crosscall call),
/// `CROSSCALL_ERR_INVALID` (NULL or not a gate).
///
/// Also usable outside handlers; there it is `crosscall_gate_try_enter()` without the first
/// entry and without messages.
///
/// # Safety
///
/// `gate` must be NULL or a live pointer from `crosscall_gate_new`.
#[no_mangle]
pub unsafe extern "C" fn crosscall_gate_try_enter_signal(gate: *mut crosscall_gate) -> c_int {
    // SAFETY: as in `crosscall_gate_enter`: read only if it is the gate this thread entered
    // last, which the caller's contract keeps alive.
    if unsafe { Gate::__enter_held_fast_at(gate_ptr(gate)) } {
        return CROSSCALL_OK;
    }
    // SAFETY: forwarded contract.
    let Some(handle) = (unsafe { checked_quiet(gate) }) else {
        return CROSSCALL_ERR_INVALID;
    };
    let _slow_path = match Gate::__begin_slow_path(false) {
        Ok(guard) => guard,
        Err(SlowPathRefused::Busy) => return CROSSCALL_ERR_BUSY,
        Err(SlowPathRefused::NotPrepared) => return CROSSCALL_ERR_NOT_PREPARED,
    };
    if !handle.gate.__has_slot_here() {
        return CROSSCALL_ERR_NOT_PREPARED;
    }
    // Refuse on the state first: a refused entry's own path may take the gate's lock.
    match handle.gate.state() {
        GateState::Open => {}
        GateState::Uninit => return CROSSCALL_ERR_TIMEOUT,
        GateState::Closing | GateState::Closed => return CROSSCALL_ERR_CLOSED,
    }
    // With the slot owned and the thread attached, this entry allocates nothing: it caches
    // the slot and announces itself in it. Behind the barrier only for the impossible
    // (nesting deeper than the slot counts).
    guarded(|| match handle.gate.try_enter().map(Gate::__hold) {
        Ok(Ok(())) => CROSSCALL_OK,
        Ok(Err(unheld)) => {
            drop(unheld);
            CROSSCALL_ERR_INVALID
        }
        Err(e) => enter_code(e),
    })
}
