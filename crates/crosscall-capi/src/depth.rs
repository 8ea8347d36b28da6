//! A thread's depth in a gate, for `longjmp` landing sites: read it before a call that may
//! `longjmp` past `crosscall_gate_leave()` (Lua's `lua_error`, Ruby's `rb_raise`, libpng's
//! error handler), give back every skipped entry where the jump lands.

use std::ffi::c_int;

use crate::barrier::guarded;
use crate::codes::CROSSCALL_ERR_INVALID;
use crate::handle::{checked, crosscall_gate, with_gate_slow_path};

/// How many entries of `gate` the calling thread holds (>= 0): entries nest, so this is the
/// number of `crosscall_gate_leave()` calls it owes. `CROSSCALL_ERR_INVALID` for NULL or not
/// a gate. Allocates nothing and takes no lock on success (usable from a signal handler).
///
/// # Safety
///
/// `gate` must be NULL or a live pointer from `crosscall_gate_new`.
#[no_mangle]
pub unsafe extern "C" fn crosscall_gate_depth(gate: *const crosscall_gate) -> c_int {
    guarded(|| {
        // SAFETY: forwarded contract.
        match unsafe { checked(gate) } {
            Ok(handle) => c_int::try_from(handle.gate.__held_depth()).unwrap_or(c_int::MAX),
            Err(code) => code,
        }
    })
}

/// Gives back the calling thread's entries of `gate` above `depth`, as that many
/// `crosscall_gate_leave()` calls would; returns how many it gave back (>= 0).
///
/// For a `longjmp` landing site: read `crosscall_gate_depth()` before the call that may jump,
/// pass it here where the jump lands. The entries given back were skipped by the jump, so
/// their calls are over; a `close` waiting for them returns.
///
/// `CROSSCALL_ERR_INVALID` for NULL or not a gate, a negative `depth`, or a `depth` above the
/// thread's current one (entries cannot be given back twice, nor made up); nothing changes
/// then. `CROSSCALL_ERR_BUSY` from a signal handler that interrupted this thread's own
/// crosscall call.
///
/// # Safety
///
/// `gate` must be NULL or a live pointer from `crosscall_gate_new`.
#[no_mangle]
pub unsafe extern "C" fn crosscall_gate_restore_depth(
    gate: *mut crosscall_gate,
    depth: c_int,
) -> c_int {
    let call = |handle: &crosscall_gate| {
        let now = handle.gate.__held_depth();
        let Some(target) = usize::try_from(depth).ok().filter(|&d| d <= now) else {
            crosscall::set_last_error(format!(
                "crosscall: crosscall_gate_restore_depth: depth {depth} is not between 0 and \
                 this thread's current depth {now}"
            ));
            return CROSSCALL_ERR_INVALID;
        };
        let mut given_back = 0;
        while given_back < now - target && handle.gate.__leave_held() {
            given_back += 1;
        }
        c_int::try_from(given_back).unwrap_or(c_int::MAX)
    };
    // SAFETY: forwarded contract.
    unsafe { with_gate_slow_path(gate, call) }
}
