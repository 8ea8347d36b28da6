//! Entering and leaving a gate from C.

use std::ffi::c_int;
use std::time::Duration;

use crosscall::{EnterError, Gate, Pass};

use crate::barrier::{guarded, guarded_void};
use crate::codes::{enter_code, CROSSCALL_OK};
use crate::handle::{checked, crosscall_gate};
use crate::pass_stack;

/// Shared body of the three `enter` forms: attaches the thread (once), then the fast path
/// never blocks and writes nothing shared; only when the gate is not open yet does the
/// thread count itself as blocked and call `wait`.
///
/// # Safety
///
/// As for [`checked`].
unsafe fn enter_with(
    gate: *mut crosscall_gate,
    wait: Option<&dyn Fn(&'static Gate) -> Result<Pass<'static>, EnterError>>,
) -> c_int {
    guarded(|| {
        // SAFETY: forwarded contract. The 'static lifetime is sound for the pass parked
        // below: crosscall_gate_free refuses (aborts) while this gate has calls in flight.
        let handle: &'static crosscall_gate = match unsafe { checked(gate) } {
            Ok(h) => h,
            Err(code) => return code,
        };
        // Same order as crosscall::entry: a thread is attached before its first admission.
        crosscall::attach::ensure_attached();
        let entered = match (handle.gate.try_enter(), wait) {
            (Err(EnterError::Timeout), Some(wait)) => {
                let _blocked = handle.block();
                wait(&handle.gate)
            }
            (result, _) => result,
        };
        match entered {
            Ok(pass) => {
                pass_stack::park(gate, pass);
                CROSSCALL_OK
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
/// detached when the thread exits. Returns `CROSSCALL_OK` once admitted; pair it with exactly one `crosscall_gate_leave()` on
/// the same thread. Entries nest. Errors: `CROSSCALL_ERR_CLOSED` (closing or closed),
/// `CROSSCALL_ERR_WOULD_DEADLOCK` (called from inside this gate's `crosscall_gate_open_with`
/// initializer), `CROSSCALL_ERR_INVALID` (NULL or not a gate). On error there is nothing to
/// leave. A thread that exits while entered leaves automatically.
///
/// # Safety
///
/// `gate` must be NULL or a live pointer from `crosscall_gate_new`.
#[no_mangle]
pub unsafe extern "C" fn crosscall_gate_enter(gate: *mut crosscall_gate) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { enter_with(gate, Some(&Gate::enter)) }
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
    unsafe { enter_with(gate, None) }
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
    let timeout = Duration::from_nanos(timeout_ns);
    // SAFETY: forwarded contract.
    unsafe {
        enter_with(
            gate,
            Some(&move |g: &'static Gate| g.enter_timeout(timeout)),
        )
    }
}

/// Leaves the gate: undoes the innermost successful enter of `gate` on this thread.
///
/// NULL is a no-op. A leave with no matching enter on this thread changes nothing and records
/// a last-error message (check with `crosscall_last_error_message()`).
///
/// # Safety
///
/// `gate` must be NULL or a live pointer from `crosscall_gate_new`.
#[no_mangle]
pub unsafe extern "C" fn crosscall_gate_leave(gate: *mut crosscall_gate) {
    if gate.is_null() {
        return;
    }
    guarded_void(|| {
        // SAFETY: forwarded contract.
        if unsafe { checked(gate) }.is_err() {
            return;
        }
        match pass_stack::unpark(gate) {
            Some(pass) => drop(pass),
            None => crosscall::set_last_error(
                "crosscall: crosscall_gate_leave without a matching crosscall_gate_enter on this thread",
            ),
        }
    });
}
