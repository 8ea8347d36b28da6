//! Entering and leaving a gate from C.
//!
//! An entry from C has no `Pass` to carry: the thread's own slot in the gate counts it (the
//! depth already counts nesting), `leave` takes one off, and a `leave` with nothing to take
//! is refused. The admitted path is the Rust fast path plus the pointer check: no lock, no
//! shared write, no `catch_unwind` (nothing on it can panic). Everything else — first entry
//! on a thread, waiting for the gate to open, refusals, bad pointers — runs behind the panic
//! barrier on a cold path.

use std::ffi::c_int;
use std::time::Duration;

use crosscall::{EnterError, Gate, HeldLeave, Pass, SlowPathRefused};

use crate::barrier::{guarded, guarded_void};
use crate::codes::{enter_code, CROSSCALL_ERR_BUSY, CROSSCALL_ERR_INVALID, CROSSCALL_OK};
use crate::handle::{checked, crosscall_gate, gate_ptr};

/// How long an entry may wait for the gate to open.
#[derive(Clone, Copy)]
enum Wait {
    Never,
    Forever,
    For(Duration),
}

/// The shared fast path of the three `enter` forms.
///
/// # Safety
///
/// As for [`checked`].
#[inline(always)]
unsafe fn enter_with(gate: *mut crosscall_gate, wait: Wait) -> c_int {
    // SAFETY: the pointer is read only if it is a gate this thread entered and cached (its
    // front or table entry), which the caller's contract (a live gate) keeps alive. Anything else takes the slow path, which
    // checks it and reports why it is refused.
    if unsafe { Gate::__enter_held_fast_at(gate_ptr(gate)) } {
        return CROSSCALL_OK;
    }
    // SAFETY: forwarded contract.
    unsafe { enter_slow(gate, wait) }
}

/// Everything but an immediate admission: the thread's spill table first (a gate whose cache
/// table entry another gate took), then behind the barrier: checks the pointer with a message, attaches the
/// thread and claims its slot (first entry), waits for the gate to open, or refuses. Only
/// while waiting does the thread count itself as blocked (for `crosscall_gate_free`'s check).
///
/// `extern "C"` only to tell the compiler it cannot unwind (it runs behind the barrier):
/// the fast path then reaches it with a tail call and needs no stack frame.
///
/// # Safety
///
/// As for [`checked`].
#[inline(never)]
#[allow(improper_ctypes_definitions)] // Rust-to-Rust only (`Wait` is not a C type).
unsafe extern "C" fn enter_slow(gate: *mut crosscall_gate, wait: Wait) -> c_int {
    // First the thread's spill table: a thread alternating between more gates than its cache
    // table holds finds them there, without the checks below.
    // SAFETY: read only if the address matches a gate this thread entered, which the
    // caller's contract keeps alive.
    if unsafe { Gate::__enter_held_refill_at(gate_ptr(gate)) } {
        return CROSSCALL_OK;
    }
    // A handler that interrupted this thread's own slow path is refused (see `signal.rs`).
    let Ok(_slow_path) = Gate::__begin_slow_path(true) else {
        return CROSSCALL_ERR_BUSY;
    };
    guarded(|| {
        // SAFETY: forwarded contract.
        let handle = match unsafe { checked(gate) } {
            Ok(h) => h,
            Err(code) => return code,
        };
        let entered: Result<Pass<'_>, EnterError> = match (handle.gate.try_enter(), wait) {
            (Err(EnterError::Timeout), Wait::Forever) => {
                let _blocked = handle.block();
                handle.gate.enter()
            }
            (Err(EnterError::Timeout), Wait::For(timeout)) => {
                let _blocked = handle.block();
                handle.gate.enter_timeout(timeout)
            }
            (result, _) => result,
        };
        match entered.map(Gate::__hold) {
            Ok(Ok(())) => CROSSCALL_OK,
            Ok(Err(unheld)) => {
                // A call from the thread's exit after its last destructor round that could
                // still release a slot: no slot could count the entry until `leave`.
                drop(unheld);
                crosscall::set_last_error(
                    "crosscall: enter refused: this thread is exiting and can no longer hold \
                     an entry",
                );
                CROSSCALL_ERR_INVALID
            }
            Err(e) => {
                crosscall::set_last_error(format!("crosscall: enter failed: {e}"));
                enter_code(e)
            }
        }
    })
}

/// Enters the gate, waiting while it is not open yet.
///
/// The first enter on a thread attaches it to crosscall (running any attach hook); it is
/// detached when the thread exits. Returns `CROSSCALL_OK` once admitted; pair it with exactly
/// one `crosscall_gate_leave()` on the same thread. Entries nest. Errors:
/// `CROSSCALL_ERR_CLOSED` (closing or closed), `CROSSCALL_ERR_WOULD_DEADLOCK` (called from
/// inside this gate's `crosscall_gate_open_with` initializer), `CROSSCALL_ERR_INVALID` (NULL
/// or not a gate). On error there is nothing to leave. A thread that exits while entered
/// leaves automatically.
///
/// # Safety
///
/// `gate` must be NULL or a live pointer from `crosscall_gate_new`.
#[no_mangle]
pub unsafe extern "C" fn crosscall_gate_enter(gate: *mut crosscall_gate) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { enter_with(gate, Wait::Forever) }
}

/// Enters the gate without waiting: `CROSSCALL_ERR_TIMEOUT` if it is not open yet.
///
/// Otherwise as `crosscall_gate_enter()`.
///
/// # Safety
///
/// `gate` must be NULL or a live pointer from `crosscall_gate_new`.
#[no_mangle]
pub unsafe extern "C" fn crosscall_gate_try_enter(gate: *mut crosscall_gate) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { enter_with(gate, Wait::Never) }
}

/// Enters the gate, waiting at most `timeout_ns` nanoseconds for it to open.
///
/// `CROSSCALL_ERR_TIMEOUT` if it did not open in time; otherwise as `crosscall_gate_enter()`.
///
/// # Safety
///
/// `gate` must be NULL or a live pointer from `crosscall_gate_new`.
#[no_mangle]
pub unsafe extern "C" fn crosscall_gate_enter_timeout(
    gate: *mut crosscall_gate,
    timeout_ns: u64,
) -> c_int {
    let wait = Wait::For(Duration::from_nanos(timeout_ns));
    // SAFETY: forwarded contract.
    unsafe { enter_with(gate, wait) }
}

/// Leaves the gate: undoes one successful enter of `gate` on this thread.
///
/// NULL is a no-op. A leave with no matching enter on this thread is refused: nothing
/// changes, and the last-error message (`crosscall_last_error_message()`) says so, as it does
/// for a pointer that is not a live gate (`CROSSCALL_ERR_INVALID` in both cases for
/// `crosscall_strerror`-style reporting).
///
/// # Safety
///
/// `gate` must be NULL or a live pointer from `crosscall_gate_new`.
#[no_mangle]
pub unsafe extern "C" fn crosscall_gate_leave(gate: *mut crosscall_gate) {
    match Gate::__leave_held_fast_at(gate_ptr(gate)) {
        HeldLeave::Left => {}
        // The last call out of a closing gate: wake its closer (a tail call, rare).
        HeldLeave::LeftWake => Gate::__wake_closers(),
        // SAFETY: forwarded contract.
        HeldLeave::NotLeft => unsafe { leave_slow(gate) },
    }
}

/// A leave the fast path could not do: the gate is not in this thread's front or table
/// entry, or the pointer is bad, or there is nothing to leave (refused with a
/// last-error message; NULL silently, as documented).
///
/// `extern "C"`: nounwind, as `enter_slow`.
///
/// # Safety
///
/// As for [`checked`].
#[inline(never)]
unsafe extern "C" fn leave_slow(gate: *mut crosscall_gate) {
    if gate.is_null() {
        return;
    }
    // First the thread's spill table, as in `enter_slow`.
    match Gate::__leave_held_refill_at(gate_ptr(gate)) {
        HeldLeave::Left => return,
        HeldLeave::LeftWake => return Gate::__wake_closers(),
        HeldLeave::NotLeft => {}
    }
    // Busy: a handler that interrupted this thread's own slow path; its entries were refused
    // as busy too, so there is nothing of its own to leave. No state: nothing to guard.
    let _slow_path = match Gate::__begin_slow_path(false) {
        Ok(guard) => Some(guard),
        Err(SlowPathRefused::Busy) => return,
        Err(SlowPathRefused::NotPrepared) => None,
    };
    guarded_void(|| {
        // SAFETY: forwarded contract. `checked` records the message for a bad pointer.
        let Ok(handle) = (unsafe { checked(gate) }) else {
            return;
        };
        if !handle.gate.__leave_held() {
            crosscall::set_last_error(
                "crosscall: crosscall_gate_leave without a matching crosscall_gate_enter on \
                 this thread (CROSSCALL_ERR_INVALID)",
            );
        }
    });
}
