//! Handle tables for C: objects lent out by number (`crosscall_handles_*`,
//! `crosscall_handle_*`), checked on every use, looked up inside a gate without writing
//! anything shared.
//!
//! ```c
//! crosscall_handles *conns = crosscall_handles_new(gate, conn_destroy);
//! uint64_t h = crosscall_handle_insert(conns, conn);      /* 0 on error */
//!
//! /* any thread: */
//! if (crosscall_gate_enter(gate) == CROSSCALL_OK) {
//!     void *c;
//!     if (crosscall_handle_get(conns, h, &c) == CROSSCALL_OK) { /* use c until leave */ }
//!     crosscall_gate_leave(gate);
//! }
//!
//! crosscall_handle_remove(conns, h);   /* stale now; conn_destroy(conn) runs once nobody
//!                                         can see it (batched, see the function's docs) */
//! crosscall_handles_free(conns);       /* destroys what is left */
//! ```

use std::alloc::{alloc, Layout};
use std::ffi::{c_int, c_void};
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};

use crosscall::{GateState, Handle, HandleError, Handles};

use crate::barrier::{guarded, guarded_void};
use crate::codes::{
    CROSSCALL_ERR_CLOSED, CROSSCALL_ERR_INVALID, CROSSCALL_ERR_STALE, CROSSCALL_ERR_WOULD_DEADLOCK,
    CROSSCALL_OK,
};
use crate::handle::{checked, crosscall_gate, Blocked};

/// Marks a live table ("crosshdl" in ASCII); see the gate's `LIVE` in `handle.rs`.
const LIVE: u64 = 0x6372_6f73_7368_646c;
/// Written over [`LIVE`] just before the memory is released.
const FREED: u64 = 0x6465_6164_6864_6c73;

/// The destroy function C passes to `crosscall_handles_new`.
type Destroy = unsafe extern "C" fn(obj: *mut c_void);

/// An opaque table of C objects handed out as `uint64_t` handles; create with
/// `crosscall_handles_new()`.
///
/// Lookups (`crosscall_handle_get`) run inside the table's gate and write nothing shared;
/// `crosscall_handle_remove` calls the table's `destroy` exactly once per object, when no call
/// can still see it.
#[allow(non_camel_case_types)] // the C name, as it appears in crosscall.h
pub struct crosscall_handles {
    /// [`LIVE`] while the table may be used (Relaxed: guards nothing else; see the gate's).
    magic: AtomicU64,
    destroy: Destroy,
    /// Declared before `_pins_gate`, so it is dropped while the gate is still pinned.
    table: Handles<'static, CObject>,
    /// Counts the table as a user of the gate: `crosscall_gate_free` aborts while it exists,
    /// which keeps the `'static` borrows above sound.
    _pins_gate: Blocked<'static>,
}

/// A C object and its destructor: dropping it calls `destroy(obj)`.
struct CObject {
    obj: *mut c_void,
    destroy: Destroy,
}

// SAFETY: `crosscall_handles_new` documents that objects are shared with every thread that
// calls into the table's gate and destroyed on whichever thread removes them (or later).
unsafe impl Send for CObject {}
// SAFETY: as above.
unsafe impl Sync for CObject {}

impl Drop for CObject {
    fn drop(&mut self) {
        // SAFETY: the caller of `crosscall_handles_new` promises `destroy` may be called once
        // with each object inserted, from any thread; the table drops each object once.
        unsafe { (self.destroy)(self.obj) }
    }
}

/// Turns a table pointer from C into a reference, or records why it can't be one.
///
/// # Safety
///
/// `t` must be NULL or a pointer from `crosscall_handles_new` not yet freed (a freed pointer
/// is detected only on a best-effort basis).
unsafe fn checked_table<'t>(t: *const crosscall_handles) -> Result<&'t crosscall_handles, c_int> {
    if t.is_null() {
        crosscall::set_last_error("crosscall: the handle table argument is NULL");
        return Err(CROSSCALL_ERR_INVALID);
    }
    if !t.is_aligned() {
        crosscall::set_last_error(
            "crosscall: the handle table argument is misaligned: not a crosscall_handles",
        );
        return Err(CROSSCALL_ERR_INVALID);
    }
    // SAFETY: non-NULL and aligned; the caller promises it came from crosscall_handles_new and
    // is not freed, so it points to an initialized table that outlives this call.
    let table = unsafe { &*t };
    if table.magic.load(Ordering::Relaxed) != LIVE {
        crosscall::set_last_error(
            "crosscall: the handle table argument is not a live crosscall_handles (freed, or \
             never created)",
        );
        return Err(CROSSCALL_ERR_INVALID);
    }
    Ok(table)
}

/// The code for a failed handle operation, with a last-error message naming the check.
fn fail(e: HandleError, h: u64) -> c_int {
    crosscall::set_last_error(format!("crosscall: handle {h:#018x}: {e}"));
    code_of(e)
}

/// The return code for `e`.
fn code_of(e: HandleError) -> c_int {
    match e {
        HandleError::Stale => CROSSCALL_ERR_STALE,
        HandleError::Closed => CROSSCALL_ERR_CLOSED,
        HandleError::WouldDeadlock => CROSSCALL_ERR_WOULD_DEADLOCK,
        HandleError::NotIssued
        | HandleError::WrongGate
        | HandleError::Full
        | HandleError::OutOfMemory => CROSSCALL_ERR_INVALID,
    }
}

/// Creates a handle table whose lookups run inside `gate`, and whose objects are destroyed
/// with `destroy`. Returns NULL (with a last-error message) if `gate` is NULL or not a live
/// gate, if `destroy` is NULL, or if memory is exhausted.
///
/// `destroy(obj)` is called exactly once for each object inserted, when no call can still
/// see it, and never while a lock of the table is held (it may insert into or remove from
/// this table, but not free it): on the removing thread, on a thread that later inserts into
/// or removes from this table, on the library's reclaimer thread, or in
/// `crosscall_handles_free` (see `crosscall_handle_remove()`). Objects are read by every
/// thread that calls `crosscall_handle_get`, so they must be safe to share between threads.
///
/// Free every table before its gate: `crosscall_gate_free` on a gate that still has a
/// table aborts the process (it counts as a thread using the gate).
///
/// # Safety
///
/// `gate` must be NULL or a live pointer from `crosscall_gate_new`; `destroy` must be NULL or
/// a function that may be called once with each object inserted, from any thread, and returns
/// normally.
#[no_mangle]
pub unsafe extern "C" fn crosscall_handles_new(
    gate: *mut crosscall_gate,
    destroy: Option<unsafe extern "C" fn(obj: *mut c_void)>,
) -> *mut crosscall_handles {
    let mut created = ptr::null_mut();
    guarded(|| {
        // SAFETY: forwarded contract. The 'static lifetime is sound: the table pins the gate
        // (`_pins_gate`), so crosscall_gate_free aborts instead of freeing it under us.
        let pinned: &'static crosscall_gate = match unsafe { checked(gate) } {
            Ok(g) => g,
            Err(code) => return code,
        };
        let Some(destroy) = destroy else {
            crosscall::set_last_error("crosscall: the destroy argument is NULL");
            return CROSSCALL_ERR_INVALID;
        };
        let layout = Layout::new::<crosscall_handles>();
        // SAFETY: crosscall_handles is not zero-sized, as `alloc` requires.
        let memory = unsafe { alloc(layout) }.cast::<crosscall_handles>();
        if memory.is_null() {
            crosscall::set_last_error("crosscall: out of memory allocating a handle table");
            return CROSSCALL_ERR_INVALID;
        }
        let table = crosscall_handles {
            magic: AtomicU64::new(LIVE),
            destroy,
            table: Handles::new(&pinned.gate),
            _pins_gate: pinned.block(),
        };
        // SAFETY: freshly allocated with this layout, non-NULL, not yet shared.
        unsafe { memory.write(table) };
        created = memory;
        CROSSCALL_OK
    });
    created
}

/// Adds `obj` to the table and returns its handle, never 0. Returns 0 (with a last-error
/// message) if `t` is NULL or not a live table, if `obj` is NULL, if the table's gate is
/// closing or closed, or if the table is full (2^32 objects) or out of memory; `obj` is then
/// left to the caller (not destroyed).
///
/// May also destroy, on this thread, removed objects whose destruction is now safe.
///
/// # Safety
///
/// `t` must be NULL or a live pointer from `crosscall_handles_new`; `obj` must be valid for
/// the table's `destroy` (it is destroyed once, when removed or when the table is freed).
#[no_mangle]
pub unsafe extern "C" fn crosscall_handle_insert(
    t: *mut crosscall_handles,
    obj: *mut c_void,
) -> u64 {
    let mut handle = 0;
    guarded(|| {
        // SAFETY: forwarded contract.
        let table = match unsafe { checked_table(t) } {
            Ok(table) => table,
            Err(code) => return code,
        };
        if obj.is_null() {
            crosscall::set_last_error("crosscall: the obj argument is NULL");
            return CROSSCALL_ERR_INVALID;
        }
        let object = CObject {
            obj,
            destroy: table.destroy,
        };
        match table.table.insert(object) {
            Ok(h) => {
                handle = h.into_raw();
                CROSSCALL_OK
            }
            Err(refused) => {
                // Not inserted: the object stays the caller's, so it is not destroyed.
                std::mem::forget(refused.value);
                crosscall::set_last_error(format!("crosscall: insert failed: {}", refused.error));
                code_of(refused.error)
            }
        }
    });
    handle
}

/// Looks up handle `h`: on `CROSSCALL_OK`, `*obj` is the object, valid until the calling
/// thread leaves the table's gate (the matching `crosscall_gate_leave`). The caller must be
/// inside the table's gate (`crosscall_gate_enter`); this is checked.
///
/// Writes nothing shared: lookups cost the same on any number of threads. Errors (`*obj` is
/// set to NULL whenever `obj` is not NULL, and the last-error message names the check that
/// failed): `CROSSCALL_ERR_STALE` (the object was removed), `CROSSCALL_ERR_INVALID` (0, a
/// made-up number, another table's handle; NULL or dead `t`; NULL `obj`; the calling thread
/// is not inside the table's gate), `CROSSCALL_ERR_CLOSED` (the gate is closing or closed and
/// the caller is not inside).
///
/// # Safety
///
/// `t` must be NULL or a live pointer from `crosscall_handles_new`; `obj` must be NULL or
/// valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn crosscall_handle_get(
    t: *mut crosscall_handles,
    h: u64,
    obj: *mut *mut c_void,
) -> c_int {
    // The found path: no panic barrier and no message, as nothing on it can panic. Anything
    // else (bad arguments, a bad handle, a thread outside the gate) is redone on the slow
    // path, which says why.
    if !t.is_null() && t.is_aligned() && !obj.is_null() {
        // SAFETY: non-NULL and aligned; by contract a live table (checked by its magic).
        let table = unsafe { &*t };
        if table.magic.load(Ordering::Relaxed) == LIVE {
            // SAFETY: the pointer handed to C is documented valid only until the thread
            // leaves the gate.
            if let Some(object) = unsafe { table.table.__get_held_cached(h) } {
                // SAFETY: `obj` is non-NULL and, by contract, valid for writing one pointer.
                unsafe { obj.write(object.obj) };
                return CROSSCALL_OK;
            }
        }
    }
    // SAFETY: forwarded contract.
    unsafe { get_slow(t, h, obj) }
}

/// Everything but a lookup that found its object through the thread's cached gate: a thread
/// inside through another cached gate, or a refusal, which sets `*obj` to NULL (if `obj` is
/// not NULL) and returns the code with a last-error message naming the check that failed.
///
/// `extern "C"` only to tell the compiler it cannot unwind (it runs behind the barrier): the
/// found path then reaches it with a tail call and saves no registers.
///
/// # Safety
///
/// As for [`crosscall_handle_get`].
#[cold]
#[inline(never)]
unsafe extern "C" fn get_slow(t: *mut crosscall_handles, h: u64, obj: *mut *mut c_void) -> c_int {
    if !obj.is_null() {
        // SAFETY: non-NULL and, by contract, valid for writing one pointer.
        unsafe { obj.write(ptr::null_mut()) };
    }
    guarded(|| {
        // SAFETY: forwarded contract.
        let table = match unsafe { checked_table(t) } {
            Ok(table) => table,
            Err(code) => return code,
        };
        if obj.is_null() {
            crosscall::set_last_error("crosscall: the obj argument is NULL");
            return CROSSCALL_ERR_INVALID;
        }
        // SAFETY: the pointer handed to C is documented valid only until the thread leaves.
        let found = match unsafe { table.table.__get_held(h) } {
            Some(Ok(object)) => Ok(object.obj),
            Some(Err(e)) => Err(fail(e, h)),
            None => Err(not_inside(table)),
        };
        match found {
            Ok(value) => {
                // Found after all (the table changed between the two lookups).
                // SAFETY: `obj` is non-NULL and, by contract, valid for writing one pointer.
                unsafe { obj.write(value) };
                CROSSCALL_OK
            }
            Err(code) => code,
        }
    })
}

/// The error for a lookup by a thread that is not inside the table's gate.
#[cold]
fn not_inside(table: &crosscall_handles) -> c_int {
    if matches!(
        table.table.gate().state(),
        GateState::Closing | GateState::Closed
    ) {
        crosscall::set_last_error("crosscall: crosscall_handle_get: the table's gate is closed");
        CROSSCALL_ERR_CLOSED
    } else {
        crosscall::set_last_error(
            "crosscall: crosscall_handle_get outside the table's gate: call \
             crosscall_gate_enter on the table's gate first (the object stays valid until the \
             matching crosscall_gate_leave)",
        );
        CROSSCALL_ERR_INVALID
    }
}

/// Removes the object of handle `h`: the handle is stale at once, and `destroy(obj)` runs
/// exactly once, later, when no call can still see the object. Returns without waiting, from
/// inside or outside the table's gate (inside, the caller may go on using the object until
/// it leaves).
///
/// Removals are destroyed in batches: one grace period (one `membarrier` system call) serves
/// at least 1,024 removals of a thread under churn, and the batches of every thread. `destroy(obj)` runs on one of: this thread, at a later
/// `crosscall_handle_insert` / `crosscall_handle_remove` of this table; the library's
/// reclaimer thread (`crosscall-reclaim`), within about 3 ms when the table goes idle and no
/// thread that was inside the gate at the removal is still inside; `crosscall_handles_free`.
/// Use `crosscall_handle_remove_sync()` to have `destroy(obj)` run before returning.
///
/// Errors: `CROSSCALL_ERR_STALE` (already removed), `CROSSCALL_ERR_INVALID` (0, a made-up
/// number, another table's handle; NULL or dead `t`). Removing still works after the gate
/// closed (to clean up).
///
/// # Safety
///
/// `t` must be NULL or a live pointer from `crosscall_handles_new`.
#[no_mangle]
pub unsafe extern "C" fn crosscall_handle_remove(t: *mut crosscall_handles, h: u64) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { remove_with(t, h, Handles::remove) }
}

/// The checks both removals share (table, then handle), then `remove` on the table, behind
/// the panic barrier.
///
/// # Safety
///
/// `t` must be NULL or a live pointer from `crosscall_handles_new`.
unsafe fn remove_with(
    t: *mut crosscall_handles,
    h: u64,
    remove: fn(&Handles<'static, CObject>, Handle) -> Result<(), HandleError>,
) -> c_int {
    guarded(|| {
        // SAFETY: forwarded contract.
        let table = match unsafe { checked_table(t) } {
            Ok(table) => table,
            Err(code) => return code,
        };
        let Some(handle) = Handle::from_raw(h) else {
            return fail(HandleError::NotIssued, h);
        };
        match remove(&table.table, handle) {
            Ok(()) => CROSSCALL_OK,
            Err(e) => fail(e, h),
        }
    })
}

/// Removes the object of handle `h` and runs `destroy(obj)` on this thread before returning,
/// after waiting until every call that was inside the table's gate has left. Costs a grace
/// period of its own per call (one `membarrier` system call, a few µs, plus the wait), where
/// `crosscall_handle_remove()` shares one among 1,024 removals or more.
///
/// Errors: as `crosscall_handle_remove()`, plus `CROSSCALL_ERR_WOULD_DEADLOCK` when called
/// from inside the table's gate (it would wait for its own call; nothing is removed).
///
/// # Safety
///
/// `t` must be NULL or a live pointer from `crosscall_handles_new`.
#[no_mangle]
pub unsafe extern "C" fn crosscall_handle_remove_sync(t: *mut crosscall_handles, h: u64) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { remove_with(t, h, Handles::remove_sync) }
}

/// Destroys every object still in the table (waiting until no call can still see them, as
/// `crosscall_handle_remove` from outside the gate does), then frees the table. NULL is a
/// no-op.
///
/// Called from inside the table's gate (a call may still be using an object) it is refused:
/// nothing is freed and the last-error message says so. No other call on this table may be
/// running or start during or after this one.
///
/// # Safety
///
/// `t` must be NULL or a live pointer from `crosscall_handles_new`, not freed before.
#[no_mangle]
pub unsafe extern "C" fn crosscall_handles_free(t: *mut crosscall_handles) {
    if t.is_null() {
        return;
    }
    guarded_void(|| {
        // SAFETY: forwarded contract.
        let Ok(table) = (unsafe { checked_table(t) }) else {
            return;
        };
        match table.table.clear() {
            Ok(objects) => drop(objects), // destroy(obj) for each, on this thread
            Err(HandleError::WouldDeadlock) => {
                crosscall::set_last_error(
                    "crosscall: crosscall_handles_free from inside the table's gate: refused, a \
                     call may still use its objects; leave the gate first",
                );
                return;
            }
            Err(e) => {
                crosscall::set_last_error(format!("crosscall: crosscall_handles_free: {e}"));
                return;
            }
        }
        table.magic.store(FREED, Ordering::Relaxed);
        // SAFETY: `t` came from crosscall_handles_new (global allocator, this layout) and is
        // live (magic was LIVE); by contract no other call on it runs or follows, so this is
        // the last reference. Dropping it unpins the gate.
        drop(unsafe { Box::from_raw(t) });
    });
}
