//! `fork()`: in the child only the forking thread exists, so entries of every other thread
//! stop counting there.
//!
//! A gate counts entries in per-thread slots (`slots.rs`). After `fork()` the child has a copy
//! of every slot, including those of threads that were inside a gate in the parent: they do
//! not exist in the child and will never leave, so a `close` there would wait for ever. Every
//! slot ever allocated, of every gate, is therefore listed here; a `pthread_atfork` child
//! handler resets each slot that the forking thread does not own: depth 0 (its outermost-entry
//! count moves on, so a grace period that saw it inside sees it leave) and free for reuse. The
//! forking thread's own slots are kept as they are: if it forked from inside a call, that call
//! still returns and leaves in the child.
//!
//! The list is guarded by a spin lock that the `prepare` handler takes before the fork and
//! both sides release after it, so the child never inherits it locked. It is only touched when
//! a slot is allocated or freed (the slow path), never by an entry.
//!
//! What a dead thread owned besides its slots (its thread state, which only its exit would
//! free) stays allocated in the child: a bounded leak of a few dozen bytes per thread alive at
//! the fork. The parent is unaffected: its handlers only take and release the lock.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::gate::slots::PaddedSlot;

/// Every live slot, behind [`LOCK`]. Pointers, not addresses: the child handler dereferences
/// them.
struct Registry(UnsafeCell<Vec<*const PaddedSlot>>);

// SAFETY: the vector is only accessed with `LOCK` held (see `locked`); the slots it points to
// are `Sync` and alive while listed.
unsafe impl Sync for Registry {}

static SLOTS: Registry = Registry(UnsafeCell::new(Vec::new()));
/// Held while `SLOTS` is accessed, and by the forking thread across `fork()`.
static LOCK: AtomicBool = AtomicBool::new(false);
/// Whether the `pthread_atfork` handlers are installed (or being installed by some thread).
#[cfg(all(unix, not(miri)))]
static HANDLERS: AtomicBool = AtomicBool::new(false);

fn lock() {
    // Acquire pairs with the Release in `unlock`: the previous holder's changes are visible.
    while LOCK
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        std::hint::spin_loop();
        std::thread::yield_now();
    }
}

fn unlock() {
    // Release: this holder's changes to `SLOTS` happen before the next holder's Acquire.
    LOCK.store(false, Ordering::Release);
}

fn locked<R>(f: impl FnOnce(&mut Vec<*const PaddedSlot>) -> R) -> R {
    lock();
    // SAFETY: `LOCK` is held: no other reference to the vector exists until `unlock`.
    let result = f(unsafe { &mut *SLOTS.0.get() });
    unlock();
    result
}

/// Lists a new slot (called once per slot, before it is published to its gate).
pub(crate) fn register(slot: *const PaddedSlot) {
    install_handlers();
    locked(|slots| slots.push(slot));
}

/// Removes a slot that is being freed (its last reference is gone).
pub(crate) fn unregister(slot: *const PaddedSlot) {
    locked(|slots| {
        if let Some(at) = slots.iter().position(|&s| std::ptr::eq(s, slot)) {
            slots.swap_remove(at);
        }
    });
}

/// The `fork()` handlers of one concern, registered with `pthread_atfork` once per
/// `installed` flag; returns `pthread_atfork`'s error, or 0 (also when another thread
/// installed them or is installing them).
///
/// Never waits, unlike a `Once`: a `fork()` while another thread ran a `Once` would leave the
/// child waiting for that thread at its next call (as `thread_exit::key` and
/// `fence::membarrier_available` avoid for the same reason). The price: a thread that loses
/// the race may go on before the winner's `pthread_atfork` returned.
///
/// # Safety
///
/// The handlers must never unwind and must stay mapped for the life of the process (their
/// object pinned, see `pin.rs`).
#[cfg(all(unix, not(miri)))]
pub(crate) unsafe fn atfork_once(
    installed: &AtomicBool,
    prepare: unsafe extern "C" fn(),
    parent: unsafe extern "C" fn(),
    child: unsafe extern "C" fn(),
) -> libc::c_int {
    // Relaxed load, then a swap: exactly one thread installs.
    if installed.load(Ordering::Relaxed) || installed.swap(true, Ordering::Relaxed) {
        return 0;
    }
    // SAFETY: the caller's contract.
    unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) }
}

#[cfg(all(unix, not(miri)))]
fn install_handlers() {
    // SAFETY: the three handlers are `extern "C"` functions that never unwind; they live in
    // this object, which is pinned before any slot exists (a slot is claimed only after the
    // thread's state was armed, which creates the key and pins, see `pin.rs`); glibc also
    // drops the handlers of an object it unloads.
    let rc = unsafe { atfork_once(&HANDLERS, prepare, parent, child) };
    if rc != 0 {
        // ENOMEM: without the handler a forked child may inherit entries of dead threads;
        // everything else still works, so say so and go on.
        eprintln!("crosscall: pthread_atfork failed (error {rc}): fork() children may not be able to close inherited gates");
    }
}

#[cfg(not(all(unix, not(miri))))]
fn install_handlers() {}

/// Before `fork()`, in the forking thread: no slot is being listed or freed across the fork.
#[cfg(all(unix, not(miri)))]
extern "C" fn prepare() {
    lock();
}

/// After `fork()`, in the parent: nothing changed.
#[cfg(all(unix, not(miri)))]
extern "C" fn parent() {
    unlock();
}

/// After `fork()`, in the child (single-threaded): the lock is still held from `prepare`.
#[cfg(all(unix, not(miri)))]
extern "C" fn child() {
    // SAFETY: `LOCK` is held (taken in `prepare` by this very thread, the only one left).
    let slots = unsafe { &*SLOTS.0.get() };
    reset_others(slots);
    unlock();
}

/// Resets every listed slot that the calling thread does not own. With `LOCK` held, so every
/// listed slot is alive (a slot is unlisted before it is freed).
#[cfg_attr(any(not(unix), miri), allow(dead_code))] // no fork handling off unix or under Miri
fn reset_others(slots: &[*const PaddedSlot]) {
    for &slot in slots {
        if crate::gate::thread_exit::owns_slot(slot) {
            continue;
        }
        // SAFETY: listed slots are alive while listed (see above); resetting writes only the
        // slot's atomics.
        unsafe { &*slot }.reset_after_fork();
    }
}

/// The work of the child handler, for tests (Miri, loom-free unit tests): resets the slots of
/// `gate` owned by every thread but the calling one, as if the others had vanished in a
/// `fork()`. Only that gate's: unit tests run in parallel in one process, and resetting the
/// slots of another test's gates under their live owners made that test's calls leave a
/// depth of 0 (seen as "leave without a matching entry" in grace-period tests).
#[cfg(all(test, not(loom)))]
pub(crate) fn simulate_fork_child(gate: &crate::Gate) {
    let mine: Vec<*const PaddedSlot> = gate
        .slot_list()
        .iter()
        .map(|slot| slot as *const PaddedSlot)
        .collect();
    locked(|slots| {
        let of_gate: Vec<_> = slots.iter().copied().filter(|s| mine.contains(s)).collect();
        reset_others(&of_gate);
    });
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::simulate_fork_child;
    use crate::{Gate, GateState};

    #[test]
    fn entries_of_other_threads_stop_counting_and_their_slots_are_reused() {
        let gate = Gate::new_fence_fallback();
        gate.open();
        std::thread::scope(|s| {
            s.spawn(|| {
                // A thread that "vanishes" inside the gate: its entry is never left.
                std::mem::forget(gate.enter().unwrap());
            });
        });
        let mine = gate.enter().unwrap();
        assert_eq!(gate.in_flight(), 2);
        simulate_fork_child(&gate);
        // Only this thread's own entry is left.
        assert_eq!(gate.in_flight(), 1);
        drop(mine);
        let slots = gate.__slot_count();
        std::thread::scope(|s| {
            s.spawn(|| drop(gate.enter().unwrap()));
        });
        assert_eq!(gate.__slot_count(), slots, "the freed slot is reused");
        gate.close().unwrap();
        assert_eq!(gate.state(), GateState::Closed);
    }
}
