//! The `crosscall_gate` handle: allocation, release, and checking pointers that C hands back.

use std::alloc::{alloc, Layout};
use std::ffi::c_int;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crosscall::{Gate, SlowPathRefused};

use crate::barrier::{guarded, guarded_void};
use crate::codes::{CROSSCALL_ERR_BUSY, CROSSCALL_ERR_INVALID};

/// Marks a live handle ("crossgat" in ASCII). Lets a stray or already freed pointer be
/// reported as `CROSSCALL_ERR_INVALID` in the common cases instead of being used.
const LIVE: u64 = 0x6372_6f73_7367_6174;
/// Written over [`LIVE`] just before the memory is released.
const FREED: u64 = 0x6465_6164_6761_7465;

/// An opaque lifecycle gate for C callers; create with `crosscall_gate_new()`.
///
/// States: `UNINIT -> OPEN -> CLOSING -> CLOSED`. `enter` before `open` waits; after `close` it
/// is refused; `close` stops admission and waits until every admitted call has left.
#[allow(non_camel_case_types)]
// the C name, as it appears in crosscall.h
// `gate` first, so that a handle's address is its gate's (see `gate_ptr`). C sees an opaque
// type: cbindgen.toml excludes this struct and declares `typedef struct crosscall_gate ...`.
#[repr(C)]
pub struct crosscall_gate {
    pub(crate) gate: Gate,
    /// [`LIVE`] while the handle may be used. Atomic so a racing misuse is a detectable
    /// wrong value rather than a data race; Relaxed suffices as it guards nothing else.
    magic: AtomicU64,
    /// Threads inside a blocking slow path (waiting in `enter` for the gate to open, or in
    /// `close`). Only slow paths touch it, so the admitted fast path writes nothing shared.
    /// `crosscall_gate_free` reads it to refuse freeing memory that a waiter still uses.
    blocked: AtomicUsize,
    /// The current generation's state (`crosscall_gate_open_state`); see `state.rs`.
    pub(crate) state: crate::state::StateSlot,
}

impl crosscall_gate {
    /// Counts the calling thread as blocked on this gate until the guard drops.
    pub(crate) fn block(&self) -> Blocked<'_> {
        // Relaxed: the count only feeds `free`'s misuse check; the gate's own
        // synchronization orders the waiting itself.
        self.blocked.fetch_add(1, Ordering::Relaxed);
        Blocked(self)
    }
}

/// Scope of a blocking slow path; see [`crosscall_gate::block`].
pub(crate) struct Blocked<'g>(&'g crosscall_gate);

impl Drop for Blocked<'_> {
    fn drop(&mut self) {
        // Release: pairs with the Acquire load in `crosscall_gate_free`, so once free sees
        // zero, this thread's last use of the gate happened before.
        self.0.blocked.fetch_sub(1, Ordering::Release);
    }
}

/// The gate inside a handle, as a raw pointer: the same address (`gate` is the first field
/// of a `#[repr(C)]` struct), so any pointer may be passed, and nothing is read.
#[inline(always)]
pub(crate) fn gate_ptr(handle: *const crosscall_gate) -> *const Gate {
    const _: () = assert!(std::mem::offset_of!(crosscall_gate, gate) == 0);
    handle.cast()
}

/// The shape of a C API call that may take the gate's lock: refused with
/// `CROSSCALL_ERR_BUSY` when it interrupts this thread's own slow path (a signal handler, see
/// `signal.rs`), then `f` on the checked gate, behind the panic barrier.
///
/// # Safety
///
/// As for [`checked`].
pub(crate) unsafe fn with_gate_slow_path(
    gate: *const crosscall_gate,
    f: impl FnOnce(&crosscall_gate) -> c_int,
) -> c_int {
    let _slow_path = match Gate::__begin_slow_path(false) {
        Ok(guard) => Some(guard),
        Err(SlowPathRefused::Busy) => return CROSSCALL_ERR_BUSY,
        Err(SlowPathRefused::NotPrepared) => None,
    };
    guarded(|| {
        // SAFETY: forwarded contract.
        match unsafe { checked(gate) } {
            Ok(handle) => f(handle),
            Err(code) => code,
        }
    })
}

/// Turns a pointer from C into a reference, or records why it can't be one.
///
/// # Safety
///
/// `gate` must be NULL or a pointer returned by `crosscall_gate_new` that has not been passed
/// to `crosscall_gate_free` yet (a freed pointer is detected only on a best-effort basis).
pub(crate) unsafe fn checked<'g>(gate: *const crosscall_gate) -> Result<&'g crosscall_gate, c_int> {
    if gate.is_null() {
        crosscall::set_last_error("crosscall: the gate argument is NULL");
        return Err(CROSSCALL_ERR_INVALID);
    }
    if !gate.is_aligned() {
        crosscall::set_last_error(
            "crosscall: the gate argument is misaligned: not a crosscall_gate",
        );
        return Err(CROSSCALL_ERR_INVALID);
    }
    // SAFETY: non-NULL and aligned; the caller promises it came from crosscall_gate_new and
    // is not freed, so it points to an initialized crosscall_gate that outlives this call.
    let handle = unsafe { &*gate };
    if handle.magic.load(Ordering::Relaxed) != LIVE {
        crosscall::set_last_error(
            "crosscall: the gate argument is not a live crosscall_gate (freed, or never created)",
        );
        return Err(CROSSCALL_ERR_INVALID);
    }
    Ok(handle)
}

/// [`checked`] without a last-error message (which would allocate): for callers that must
/// be async-signal-safe.
///
/// # Safety
///
/// As for [`checked`].
pub(crate) unsafe fn checked_quiet<'g>(gate: *const crosscall_gate) -> Option<&'g crosscall_gate> {
    if gate.is_null() || !gate.is_aligned() {
        return None;
    }
    // SAFETY: as in `checked`.
    let handle = unsafe { &*gate };
    (handle.magic.load(Ordering::Relaxed) == LIVE).then_some(handle)
}

/// Creates a gate in the `UNINIT` state, or returns NULL if memory is exhausted.
///
/// Release it with `crosscall_gate_free()`.
///
/// ```c
/// crosscall_gate *g = crosscall_gate_new();
/// if (g == NULL) return -1; // out of memory
/// ```
#[no_mangle]
pub extern "C" fn crosscall_gate_new() -> *mut crosscall_gate {
    let layout = Layout::new::<crosscall_gate>();
    // SAFETY: crosscall_gate is not zero-sized (it holds a u64), as `alloc` requires.
    let ptr = unsafe { alloc(layout) }.cast::<crosscall_gate>();
    if ptr.is_null() {
        crosscall::set_last_error("crosscall: out of memory allocating a gate");
        return ptr;
    }
    let value = crosscall_gate {
        // Entries from C have no `Pass`: they end when their thread exits.
        gate: Gate::__new_leave_at_exit(),
        magic: AtomicU64::new(LIVE),
        blocked: AtomicUsize::new(0),
        state: crate::state::StateSlot::empty(),
    };
    // SAFETY: `ptr` is non-NULL, freshly allocated with the layout of crosscall_gate, so it
    // is valid and aligned for this write; nothing else has seen it yet.
    unsafe { ptr.write(value) };
    ptr
}

/// Releases a gate. NULL is a no-op.
///
/// Close the gate first (`crosscall_gate_close()`), then make sure every other thread has
/// returned from its last `crosscall_gate_*` call on it and will make no more (join or stop
/// those threads): a call that is still returning, or that *starts*, after `free` is a use
/// after free. The drain of `close` alone is not enough, as a thread may still be on its way
/// out of `crosscall_gate_leave`. Freeing a gate that still has admitted calls in flight,
/// or threads blocked waiting in `enter`/`close` on it, would pull memory out from under them:
/// crosscall detects this, prints a message to stderr and aborts the process rather than
/// corrupt memory. A pointer that is not a live gate is refused with a last-error message.
/// A gate freed while it still holds a state (opened with `crosscall_gate_open_state()` and
/// not closed) calls that state's `destroy` here, on the freeing thread.
///
/// # Safety
///
/// `gate` must be NULL or a pointer returned by `crosscall_gate_new` and not freed before;
/// no other call on it may be running or start during or after this one.
#[no_mangle]
pub unsafe extern "C" fn crosscall_gate_free(gate: *mut crosscall_gate) {
    if gate.is_null() {
        return;
    }
    guarded_void(|| {
        // SAFETY: forwarded contract of this function.
        let Ok(handle) = (unsafe { checked(gate) }) else {
            return;
        };
        // Acquire: pairs with the Release decrement in `Blocked::drop`.
        let blocked = handle.blocked.load(Ordering::Acquire);
        let in_flight = handle.gate.in_flight();
        if blocked > 0 || in_flight > 0 {
            // Continuing would free memory other calls are using; as in Go's runtime/cgo,
            // a broken invariant is reported loudly and stops the process.
            eprintln!(
                "crosscall: crosscall_gate_free({gate:p}) with {in_flight} call(s) in flight and \
                 {blocked} thread(s) waiting; close the gate and stop callers before freeing"
            );
            std::process::abort();
        }
        // Leave the gate closed (its key without an open bit) before the memory goes: a
        // thread that cached this address must not be admitted by a stale open key if it
        // passes the freed pointer again (the magic check is on the slow path only). No call
        // is in flight, so this returns at once; a transient announcement of a thread
        // entering another gate may make it time out, which changes nothing here.
        let _ = handle.gate.close_timeout(std::time::Duration::ZERO);
        handle.magic.store(FREED, Ordering::Relaxed);
        // SAFETY: `gate` came from crosscall_gate_new, which allocated it with the global
        // allocator and the layout of crosscall_gate, as Box requires; it is live (magic was
        // LIVE) and no call is in flight or waiting on it, so this is the last reference.
        drop(unsafe { Box::from_raw(gate) });
    });
}
