//! Library state behind a C gate: open with a `void *` state and its destructor, borrow it on
//! entry, have it destroyed on the closing thread after the drain, reopen with a new one.
//!
//! The same protocol as the Rust `crosscall::StateGate` (see its module docs for the
//! ordering argument): the state pair is written only while no call can be admitted (inside
//! the gate's opening, under its transition lock, before the Release store of the open
//! state), read only by admitted calls, and taken only by the close that ends the
//! generation, after the drain, under the same lock.

use std::cell::UnsafeCell;
use std::ffi::{c_int, c_void};
use std::time::Duration;

use crosscall::{Gate, GateState};

use crate::barrier::guarded;
use crate::codes::{close_code, CROSSCALL_ERR_CLOSED, CROSSCALL_ERR_INVALID, CROSSCALL_OK};
use crate::enter::crosscall_gate_enter;
use crate::handle::{checked, crosscall_gate, gate_ptr};

/// A state's destructor as C passes it (`void (*destroy)(void *state)`, may be NULL).
pub(crate) type Destroy = Option<unsafe extern "C" fn(state: *mut c_void)>;

/// The state of one generation.
#[derive(Clone, Copy)]
pub(crate) struct Installed {
    state: *mut c_void,
    destroy: Destroy,
}

impl Installed {
    /// No state: NULL for `crosscall_gate_enter_state`, nothing to destroy.
    const NONE: Installed = Installed {
        state: std::ptr::null_mut(),
        destroy: None,
    };

    /// The state pointer, without destroying it (`crosscall_gate_close_abandon`).
    pub(crate) fn state_ptr(self) -> *mut c_void {
        self.state
    }

    /// Calls the destructor (if any) on the calling thread.
    ///
    /// # Safety
    ///
    /// Called once per installed state, when no call can read it any more; the C caller of
    /// the opening promised `destroy` may be called with `state`.
    pub(crate) unsafe fn destroy(self) {
        if let Some(destroy) = self.destroy {
            // SAFETY: forwarded contract.
            unsafe { destroy(self.state) };
        }
    }
}

/// The gate's current state: [`Installed::NONE`] while no generation is open (or a plain open
/// carried none), so reading it on entry is one load.
pub(crate) struct StateSlot(UnsafeCell<Installed>);

// SAFETY: the cell is written only inside the gate's opening and closing transitions (lock
// held, no call admitted; see the module docs) and read only by admitted calls, which those
// transitions order before and after themselves. The pointers are the C caller's, who
// promised they may be used from any thread.
unsafe impl Sync for StateSlot {}
// SAFETY: as above; the pointers are plain data to Rust.
unsafe impl Send for StateSlot {}

impl StateSlot {
    pub(crate) const fn empty() -> StateSlot {
        StateSlot(UnsafeCell::new(Installed::NONE))
    }

    /// The state an admitted call sees: NULL if the generation carries none.
    ///
    /// # Safety
    ///
    /// The calling thread is inside the gate that owns this slot.
    unsafe fn current(&self) -> *mut c_void {
        // SAFETY: inside the gate nothing writes the slot (module docs).
        unsafe { (*self.0.get()).state }
    }

    /// Installs a generation's state.
    ///
    /// # Safety
    ///
    /// Only from the gate's opening `install` (lock held, no call admitted).
    unsafe fn install(&self, installed: Installed) {
        // SAFETY: forwarded contract: no concurrent access.
        unsafe { *self.0.get() = installed };
    }

    /// Takes the state out, leaving the slot empty.
    ///
    /// # Safety
    ///
    /// Only from the gate's closing `take` (drained, lock held), or with exclusive access.
    pub(crate) unsafe fn take(&self) -> Installed {
        // SAFETY: forwarded contract: no concurrent access.
        unsafe { std::mem::replace(&mut *self.0.get(), Installed::NONE) }
    }
}

impl Drop for StateSlot {
    /// `crosscall_gate_free` of a gate that was never closed: its state is destroyed on the
    /// freeing thread (free already checked that no call is inside or waiting).
    fn drop(&mut self) {
        let installed = std::mem::replace(self.0.get_mut(), Installed::NONE);
        // SAFETY: exclusive access (`&mut self`); the state was installed once and not
        // destroyed yet (a close would have taken it, leaving NONE, which destroys nothing).
        unsafe { installed.destroy() };
    }
}

/// Opens an `UNINIT` gate with a state: every admitted call can read `state` with
/// `crosscall_gate_enter_state()`, and `crosscall_gate_close()` calls `destroy(state)` once,
/// on the closing thread, after the last call has left and before it returns.
///
/// `destroy` may be NULL (nothing is called). Waiting callers are woken and admitted.
/// Errors (nothing changes, and the caller keeps ownership of `state`):
/// `CROSSCALL_ERR_CLOSED` if the gate is closing or closed (use
/// `crosscall_gate_reopen_state()`), `CROSSCALL_ERR_INVALID` if it is already open or being
/// opened by another thread, or for NULL or not a gate. A gate freed while still open
/// destroys its state in `crosscall_gate_free()`.
///
/// # Safety
///
/// `gate` must be NULL or a live pointer from `crosscall_gate_new`; `destroy` must be NULL or
/// a function that may be called once with `state`, from any thread, and returns normally.
/// `state` must stay valid until then (or for as long as the gate lives, if `destroy` is
/// NULL).
#[no_mangle]
pub unsafe extern "C" fn crosscall_gate_open_state(
    gate: *mut crosscall_gate,
    state: *mut c_void,
    destroy: Option<unsafe extern "C" fn(state: *mut c_void)>,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { open_installing(gate, false, Installed { state, destroy }) }
}

/// Reopens a `CLOSED` gate with a new state: a new generation begins, and callers arriving
/// from now on are admitted and see `state`.
///
/// On a gate that is not `CLOSED` (never opened, open, or still closing) it returns
/// `CROSSCALL_ERR_INVALID` and changes nothing (the caller keeps `state`);
/// `CROSSCALL_ERR_INVALID` also for NULL or not a gate. Plain `crosscall_gate_open()` never
/// reopens a closed gate. Threads keep their per-thread slots across generations.
///
/// # Safety
///
/// As for `crosscall_gate_open_state()`.
#[no_mangle]
pub unsafe extern "C" fn crosscall_gate_reopen_state(
    gate: *mut crosscall_gate,
    state: *mut c_void,
    destroy: Option<unsafe extern "C" fn(state: *mut c_void)>,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { open_installing(gate, true, Installed { state, destroy }) }
}

/// Enters the gate like `crosscall_gate_enter()` and writes the current generation's state
/// to `*state` (NULL if the gate was opened without one). Leave with `crosscall_gate_leave()`;
/// the state may be used until then.
///
/// A NULL `state` out-pointer is `CROSSCALL_ERR_INVALID` and enters nothing. On any error
/// `*state` is set to NULL and there is nothing to leave; the codes are those of
/// `crosscall_gate_enter()`.
///
/// # Safety
///
/// `gate` must be NULL or a live pointer from `crosscall_gate_new`; `state` must be NULL or
/// valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn crosscall_gate_enter_state(
    gate: *mut crosscall_gate,
    state: *mut *mut c_void,
) -> c_int {
    // The admitted path of `crosscall_gate_enter`, then one load and one store: the state.
    // SAFETY: as in `crosscall_gate_enter`: the pointer is read only if it is a gate this
    // thread entered and cached, which the caller's contract (a live gate) keeps alive; anything
    // else takes the slow path, which checks it.
    if !state.is_null() && unsafe { Gate::__enter_held_fast_at(gate_ptr(gate)) } {
        // SAFETY: admitted just above, so `gate` is live and this thread is inside it; the
        // caller promised `state` (checked non-NULL) is valid for writing.
        unsafe { state.write((*gate).state.current()) };
        return CROSSCALL_OK;
    }
    // SAFETY: forwarded contract.
    unsafe { enter_state_slow(gate, state) }
}

/// Everything but an immediate admission: a NULL out-pointer, the first entry on a thread,
/// waiting, refusals, bad pointers (`crosscall_gate_enter`'s slow path).
///
/// `extern "C"`: nounwind, so the fast path reaches it with a tail call and needs no frame.
///
/// # Safety
///
/// As for `crosscall_gate_enter_state()`.
#[cold]
#[inline(never)]
unsafe extern "C" fn enter_state_slow(gate: *mut crosscall_gate, state: *mut *mut c_void) -> c_int {
    if state.is_null() {
        crosscall::set_last_error("crosscall: the state out-pointer is NULL");
        return CROSSCALL_ERR_INVALID;
    }
    // SAFETY: forwarded contract.
    let code = unsafe { crosscall_gate_enter(gate) };
    let current = if code == CROSSCALL_OK {
        // SAFETY: the enter succeeded, so `gate` is a live gate and this thread is inside it.
        unsafe { (*gate).state.current() }
    } else {
        std::ptr::null_mut()
    };
    // SAFETY: the caller promised `state` is valid for writing (checked non-NULL above).
    unsafe { state.write(current) };
    code
}

/// Shared body of the two state openings.
///
/// # Safety
///
/// As for `crosscall_gate_open_state()`.
unsafe fn open_installing(gate: *mut crosscall_gate, reopen: bool, installed: Installed) -> c_int {
    guarded(|| {
        // SAFETY: forwarded contract.
        let handle = match unsafe { checked(gate) } {
            Ok(h) => h,
            Err(code) => return code,
        };
        let opened = handle.gate.__open_installing(reopen, || {
            // SAFETY: this is the opening's `install`: lock held, no call admitted.
            unsafe { handle.state.install(installed) }
        });
        let Err(found) = opened else {
            return CROSSCALL_OK;
        };
        let (code, why) = match (reopen, found) {
            (false, GateState::Closing | GateState::Closed) => (
                CROSSCALL_ERR_CLOSED,
                "the gate is closing or closed (crosscall_gate_reopen_state opens it again)",
            ),
            (false, _) => (
                CROSSCALL_ERR_INVALID,
                "the gate is already open (or another thread is opening it)",
            ),
            (true, GateState::Uninit) => (
                CROSSCALL_ERR_INVALID,
                "the gate is not CLOSED: it was never opened (use crosscall_gate_open_state)",
            ),
            (true, GateState::Open) => {
                (CROSSCALL_ERR_INVALID, "the gate is not CLOSED: it is open")
            }
            (true, _) => (
                CROSSCALL_ERR_INVALID,
                "the gate is not CLOSED: it is still closing (close it again to finish)",
            ),
        };
        let name = if reopen {
            "crosscall_gate_reopen_state"
        } else {
            "crosscall_gate_open_state"
        };
        crosscall::set_last_error(format!("crosscall: {name}: {why}"));
        code
    })
}

/// Closes `handle`'s gate (waiting at most `timeout`, `None` for ever); the close that ends
/// the generation destroys its state on this thread before returning.
pub(crate) fn close_destroying(handle: &crosscall_gate, timeout: Option<Duration>) -> c_int {
    let closed = handle.gate.__close_taking(timeout, || {
        // SAFETY: this is the close's `take`: drained, lock held.
        unsafe { handle.state.take() }
    });
    match closed {
        Ok(taken) => {
            if let Some(installed) = taken {
                // The destructor runs outside the close's slow-path mark, so its calls back
                // into crosscall are not refused as busy.
                let _callback = Gate::__pause_slow_path();
                // SAFETY: taken exactly once by the close that ended its generation; no call
                // can read it any more. Called after the gate's lock is released, so a
                // destructor that calls back into the gate does not deadlock.
                unsafe { installed.destroy() };
            }
            CROSSCALL_OK
        }
        Err(e) => {
            crosscall::set_last_error(format!("crosscall: close failed: {e}"));
            close_code(e)
        }
    }
}
