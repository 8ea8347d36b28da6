//! How a closer sleeps until the last admitted call leaves, and how that call wakes it.
//!
//! A closer arms every slot of its gate (`SlotList::arm`: a per-slot waiter count beside the
//! slot word), runs the closing barrier, and then sleeps here until the slots read 0. A leave
//! is a Release store to the thread's own slot followed by one load of that count
//! (`slots::store_leaving`); only when it is nonzero — only while a close drains — does the
//! leave call [`wake`]. The barrier pair (membarrier on the closing side, a compiler fence on
//! the leaving side, as for entries) makes the store and the count a Dekker pair: either the
//! closer's scan sees the leave, or the leave sees the count and wakes the closer.
//!
//! The wake goes to one process-wide mutex and condvar, not to the gate: once its slot
//! store is visible the leaving call may no longer touch the gate (its closer may return and
//! free it), while this pair lives for the whole process. Closes are rare, so closers of
//! different gates sharing it only costs them a spurious wake-up now and then.

use crate::sync::{AtomicBool, AtomicUsize, Condvar, Mutex, MutexGuard, Ordering};
use std::time::{Duration, Instant};

/// The longest a closer of a gate on membarrier sleeps before it looks at the slots again,
/// even though every leave wakes it: insurance, never needed for correctness there.
pub(crate) const BACKSTOP: Duration = Duration::from_millis(10);
/// The same for a gate on the `fence(SeqCst)` fallback, whose leaves have no hardware
/// barrier between their store and their flag load: a wake may be missed, so the closer
/// looks again at least this often (the drain's old polling bound).
pub(crate) const BACKSTOP_FENCED: Duration = Duration::from_millis(1);

/// Wake-ups handed out so far (a counter: only the mutex and the condvar matter), and how
/// many closers are inside [`wait_until`].
struct Waker {
    wakes: Mutex<u64>,
    woken: Condvar,
    /// Closers inside `wait_until` (counted before their first check): lets a refused entry
    /// skip the wake when nobody sleeps ([`wake`]).
    sleeping: AtomicUsize,
    /// A wake was signalled that no closer has taken yet (cleared by a closer before each
    /// check): further wakes until then need no syscall of their own ([`wake`]).
    signalled: AtomicBool,
}

#[cfg(not(loom))]
static WAKER: Waker = Waker {
    wakes: Mutex::new(0),
    woken: Condvar::new(),
    sleeping: AtomicUsize::new(0),
    signalled: AtomicBool::new(false),
};

#[cfg(loom)]
loom::lazy_static! {
    static ref WAKER: Waker = Waker {
        wakes: Mutex::new(0),
        woken: Condvar::new(),
        sleeping: AtomicUsize::new(0),
        signalled: AtomicBool::new(false),
    };
}

fn lock() -> MutexGuard<'static, u64> {
    // Poison carries no meaning here: the counter is only a counter.
    WAKER.wakes.lock().unwrap_or_else(|e| e.into_inner())
}

/// Wakes every closer sleeping in [`wait_until`], if there is one. Called after a store a
/// closer may wait on: by a leave that found its slot armed, by an entry refused while its
/// gate closes (its withdrawn announcement, in a slot no closer armed, may be what a closer
/// saw), and by a closer that finished (others may wait for the state it stored). While no
/// closer sleeps — the closer usually finds the slots drained right after its barrier — it
/// is one read-modify-write and no syscall, so callers refused in a loop and the leaves of a
/// close that did not need to sleep cost the closer nothing.
///
/// `extern "C"` only to say that it cannot unwind (nothing in it panics: a poisoned lock is
/// taken as is): a leave that calls it needs no landing pad, so the fast path around it
/// keeps its values in registers.
#[cold]
#[inline(never)]
pub(crate) extern "C" fn wake() {
    wake_sleeping();
}

/// [`wake`], returning whether a closer was sleeping (then the caller, an entry refused
/// while a gate closes, gives up its CPU: see `Gate::enter_slow_counted`).
pub(crate) fn wake_sleeping() -> bool {
    // AcqRel read-modify-write, paired with the one in `wait_until` (both on `sleeping`, so
    // they are ordered): if ours comes first, the closer's acquires our caller's store
    // (sequenced before it) and its check sees it; if the closer's comes first, we read
    // nonzero and wake it.
    if WAKER.sleeping.fetch_add(0, Ordering::AcqRel) == 0 {
        return false;
    }
    // Coalesced: if an earlier wake is still untaken, every sleeping closer will clear it
    // and check again after our store. AcqRel swap, paired with the closer's clearing swap:
    // reading `true` means ours precedes that clear, which then acquires our caller's store
    // before the check; reading `false` means we signal (below) as if alone.
    if WAKER.signalled.swap(true, Ordering::AcqRel) {
        return true;
    }
    // Taking the lock orders this wake after the closer's check, which it makes holding the
    // lock until it sleeps: it either saw the store, or is already waiting.
    let mut wakes = lock();
    *wakes = wakes.wrapping_add(1);
    drop(wakes);
    WAKER.woken.notify_all();
    true
}

/// Sleeps until `done()` (checked under the wake lock, so no [`wake`] that follows a store
/// `done` depends on can be missed) or `deadline`; looks again at least every `backstop`.
/// Returns whether `done()` held.
pub(crate) fn wait_until(
    done: impl Fn() -> bool,
    deadline: Option<Instant>,
    backstop: Duration,
) -> bool {
    let mut guard = lock();
    // AcqRel: see `wake`; before the first `done()`, which reads the slots.
    WAKER.sleeping.fetch_add(1, Ordering::AcqRel);
    let done = || {
        let done = done();
        if done {
            // Relaxed: only counts; a late wake is harmless.
            WAKER.sleeping.fetch_sub(1, Ordering::Relaxed);
        }
        done
    };
    loop {
        // Take any pending wake before checking: a wake that finds it taken signals again.
        // AcqRel: see `wake`.
        WAKER.signalled.swap(false, Ordering::AcqRel);
        if done() {
            return true;
        }
        #[cfg(not(loom))]
        {
            let mut nap = backstop;
            if let Some(deadline) = deadline {
                let now = Instant::now();
                if now >= deadline {
                    // Relaxed: as above.
                    WAKER.sleeping.fetch_sub(1, Ordering::Relaxed);
                    return false;
                }
                nap = nap.min(deadline - now);
            }
            guard = match WAKER.woken.wait_timeout(guard, nap) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
        }
        // loom: no clock and no timeout, so a lost wake-up shows up as a deadlock.
        #[cfg(loom)]
        {
            let _ = (deadline, backstop);
            guard = WAKER.woken.wait(guard).unwrap_or_else(|e| e.into_inner());
        }
    }
}
