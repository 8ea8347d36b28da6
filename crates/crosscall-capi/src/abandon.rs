//! Closing without destroying the state: for a `fork()` child whose inherited state owns
//! threads that do not exist there (a runtime), so its destructor would wait for them for ever.

use std::ffi::{c_int, c_void};

use crate::codes::{close_code, CROSSCALL_OK};
use crate::handle::{crosscall_gate, with_gate_slow_path};

/// Closes the gate like `crosscall_gate_close()` (stops admission, waits until every admitted
/// call has left) but does **not** call the state's `destroy`: the state is abandoned, and
/// its pointer is stored in `*state` (NULL if the gate carried none, or if this close did not
/// end the generation) so the caller may release what it safely can.
///
/// Meant for a `fork()` child: the state it inherited may own threads that exist only in the
/// parent (a tokio runtime, a thread pool); destroying it there would wait for them for ever.
/// Abandon it, then `crosscall_gate_reopen_state()` with a state made in the child.
///
/// `state` may be NULL (the pointer is then not reported). Errors as `crosscall_gate_close()`;
/// on error `*state` is NULL and nothing was abandoned.
///
/// # Safety
///
/// `gate` must be NULL or a live pointer from `crosscall_gate_new`; `state` must be NULL or
/// valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn crosscall_gate_close_abandon(
    gate: *mut crosscall_gate,
    state: *mut *mut c_void,
) -> c_int {
    if !state.is_null() {
        // SAFETY: non-NULL and, by contract, valid for writing one pointer.
        unsafe { state.write(std::ptr::null_mut()) };
    }
    let call = |handle: &crosscall_gate| {
        let _blocked = handle.block();
        let closed = handle.gate.__close_taking(None, || {
            // SAFETY: this is the close's `take`: drained, lock held.
            unsafe { handle.state.take() }
        });
        match closed {
            Ok(taken) => {
                let abandoned = taken.map_or(std::ptr::null_mut(), |t| t.state_ptr());
                if !state.is_null() {
                    // SAFETY: as above.
                    unsafe { state.write(abandoned) };
                }
                CROSSCALL_OK
            }
            Err(e) => {
                crosscall::set_last_error(format!("crosscall: close failed: {e}"));
                close_code(e)
            }
        }
    };
    // SAFETY: forwarded contract.
    unsafe { with_gate_slow_path(gate, call) }
}
