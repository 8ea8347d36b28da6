//! Grace periods: "wait until every call that is inside the gate now has left", the read
//! side being nothing more than the callers' ordinary entries.
//!
//! This is what lets a structure read by calls (a handle table, a swapped configuration) be
//! updated without readers writing anything shared: the updater unlinks the old value, starts
//! a grace period, and frees the value once it has passed — no call that could still see it
//! is left. As in RCU, the readers' critical sections are the passes.
//!
//! # Protocol
//!
//! [`Gate::grace_begin`] runs the closing side of the gate's asymmetric fence pair
//! (`membarrier`, or `fence(SeqCst)` in fallback mode) and then reads every slot. Against an
//! entry's "store own slot, then load" this is the store-buffering shape `close` relies on:
//! an entry whose slot store the scan missed will load whatever the updater stored before the
//! barrier (the unlinked pointer), so it cannot find the old value. Every slot seen inside is
//! recorded with its word; the period has passed for it once its depth is 0 or its
//! outermost-entry count has moved (the thread was outside in between, see `slots.rs`).

use std::marker::PhantomData;
use std::time::Duration;

use crate::gate::slots::{depth, outermost_entries, PaddedSlot};
use crate::gate::{CloseError, Gate};
use crate::sync::Ordering;

/// A grace period in progress: the slots that were inside when it began.
pub(crate) struct Grace<'g> {
    /// (slot, its word when the period began) for every slot with depth > 0 then.
    inside: Vec<(*const PaddedSlot, usize)>,
    /// The slots belong to this gate's list, which keeps them alive.
    _gate: PhantomData<&'g Gate>,
}

impl Gate {
    /// Starts a grace period: runs the closing-side barrier and records which threads are
    /// inside the gate right now (the calling thread included).
    pub(crate) fn grace_begin(&self) -> Grace<'_> {
        self.closing_barrier();
        let inside = self
            .slot_list()
            .iter()
            .filter_map(|slot| {
                // Acquire pairs with the Release store of a leave: what the call did happens
                // before the period is seen to pass for it.
                let word = slot.word.load(Ordering::Acquire);
                (depth(word) > 0).then_some((slot as *const PaddedSlot, word))
            })
            .collect();
        Grace {
            inside,
            _gate: PhantomData,
        }
    }

    /// Blocks until `grace` has passed, polling (10 µs doubling to 1 ms, as `close` does).
    ///
    /// # Errors
    ///
    /// [`CloseError::WouldDeadlock`] if the calling thread is inside this gate: its own call
    /// cannot leave while it waits. Defer the work past the period instead
    /// ([`Grace::has_passed`]).
    pub(crate) fn grace_wait(&self, grace: &Grace<'_>) -> Result<(), CloseError> {
        if self.entered_here() {
            return Err(CloseError::WouldDeadlock);
        }
        let mut poll = Duration::from_micros(10);
        while !grace.has_passed() {
            #[cfg(not(loom))]
            std::thread::sleep(poll);
            #[cfg(loom)]
            loom::thread::yield_now();
            poll = (poll * 2).min(Duration::from_millis(1));
        }
        Ok(())
    }
}

impl Grace<'_> {
    /// Whether every call that was inside when the period began has left. Does not block.
    pub(crate) fn has_passed(&self) -> bool {
        self.inside.iter().all(|&(slot, then)| {
            // SAFETY: the slot is in the gate's list, which lives for `'g` and frees slots
            // only when the gate drops.
            let now = unsafe { &*slot }.word.load(Ordering::Acquire);
            depth(now) == 0 || outermost_entries(now) != outermost_entries(then)
        })
    }
}

// SAFETY: the raw pointers are read-only views of slots whose shared fields are atomic and
// which the gate borrowed for `'g` keeps alive.
unsafe impl Send for Grace<'_> {}
// SAFETY: as above.
unsafe impl Sync for Grace<'_> {}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering as O};
    use std::sync::Barrier;

    #[test]
    fn nobody_inside_passes_at_once() {
        let gate = Gate::new();
        gate.open();
        drop(gate.enter().unwrap());
        let grace = gate.grace_begin();
        assert!(grace.has_passed());
        assert_eq!(gate.grace_wait(&grace), Ok(()));
    }

    #[test]
    fn waiting_from_inside_is_refused_and_deferring_works() {
        let gate = Gate::new();
        gate.open();
        let outer = gate.enter().unwrap();
        let inner = gate.enter().unwrap();
        let grace = gate.grace_begin();
        assert!(!grace.has_passed(), "this thread is inside");
        assert_eq!(gate.grace_wait(&grace), Err(CloseError::WouldDeadlock));
        drop(inner);
        assert!(!grace.has_passed(), "the outer call is still inside");
        drop(outer);
        assert!(grace.has_passed());
    }

    #[test]
    fn a_thread_that_is_almost_always_inside_still_lets_a_period_pass() {
        let gate = Gate::new();
        gate.open();
        let stop = AtomicBool::new(false);
        let calls = AtomicUsize::new(0);
        let started = Barrier::new(2);
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut pass = gate.enter().unwrap();
                started.wait();
                while !stop.load(O::Relaxed) {
                    // Leave and re-enter back to back: depth is 0 only for an instant.
                    drop(pass);
                    pass = gate.enter().unwrap();
                    calls.fetch_add(1, O::Relaxed);
                }
                drop(pass);
            });
            started.wait();
            let grace = gate.grace_begin();
            let before = calls.load(O::Relaxed);
            assert_eq!(gate.grace_wait(&grace), Ok(()));
            // The period passed because the call in progress at its start left.
            assert!(calls.load(O::Relaxed) > before || grace.has_passed());
            stop.store(true, O::Relaxed);
        });
    }

    /// RCU's contract under load: readers are almost always inside (leaving and re-entering
    /// back to back, one of them also entering another gate in between, so its cached slot
    /// switches gates); the updater unlinks an object, waits for a period and only then marks
    /// it retired. No reader may see an object retired while the call that loaded it is
    /// still inside. Both fence modes.
    #[test]
    fn an_object_unlinked_before_a_period_is_never_read_after_it_passed() {
        struct Obj {
            retired: AtomicBool,
        }
        const UPDATES: usize = 300;
        const MIN_WAITED: usize = 20;
        for gate in [Gate::new(), Gate::new_fence_fallback()] {
            gate.open();
            let other = Gate::new();
            other.open();
            let fresh = || {
                Box::into_raw(Box::new(Obj {
                    retired: AtomicBool::new(false),
                }))
            };
            let current = AtomicPtr::new(fresh());
            let stop = AtomicBool::new(false);
            let violations = AtomicUsize::new(0);
            let reads = AtomicUsize::new(0);
            let mut unlinked = Vec::new();
            let mut waited = 0;
            std::thread::scope(|s| {
                for alternate in [false, true] {
                    let (gate, other, current) = (&gate, &other, &current);
                    let (stop, violations, reads) = (&stop, &violations, &reads);
                    s.spawn(move || {
                        while !stop.load(O::Relaxed) {
                            if alternate {
                                drop(other.enter().unwrap());
                            }
                            let pass = gate.enter().unwrap();
                            // Acquire pairs with the updater's swap: the object is initialized.
                            let obj = current.load(O::Acquire);
                            for _ in 0..16 {
                                // SAFETY: objects are freed only after the scope ends.
                                if unsafe { &*obj }.retired.load(O::Acquire) {
                                    violations.fetch_add(1, O::Relaxed);
                                }
                                std::hint::spin_loop();
                            }
                            reads.fetch_add(1, O::Relaxed);
                            drop(pass);
                        }
                    });
                }
                while reads.load(O::Relaxed) < 100 {
                    std::thread::yield_now();
                }
                // At least UPDATES periods, and on until MIN_WAITED of them found a reader
                // inside: on a loaded machine the readers can be off-CPU for a whole burst of
                // updates (300 take ~1 ms, less than a time slice), and a period that finds
                // nobody inside checks nothing.
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
                let mut updates = 0;
                while updates < UPDATES
                    || (waited < MIN_WAITED && std::time::Instant::now() < deadline)
                {
                    updates += 1;
                    if waited < MIN_WAITED && updates % 64 == 0 {
                        // Give descheduled readers a chance to be inside for the next ones.
                        std::thread::sleep(std::time::Duration::from_micros(100));
                    }
                    let old = current.swap(fresh(), O::AcqRel);
                    let grace = gate.grace_begin();
                    if !grace.has_passed() {
                        waited += 1;
                    }
                    while !grace.has_passed() {
                        std::thread::yield_now();
                    }
                    // SAFETY: `old` is alive until the scope ends (freed below).
                    unsafe { &*old }.retired.store(true, O::Release);
                    unlinked.push(old);
                }
                stop.store(true, O::Relaxed);
            });
            assert_eq!(violations.load(O::Relaxed), 0, "a retired object was read");
            assert!(
                waited >= MIN_WAITED,
                "only {waited} periods in 30 s found a reader inside"
            );
            unlinked.push(current.load(O::Relaxed));
            for obj in unlinked {
                // SAFETY: every pointer came from `Box::into_raw` once; no thread is left.
                drop(unsafe { Box::from_raw(obj) });
            }
        }
    }

    #[test]
    fn a_call_in_progress_holds_the_period_until_it_leaves() {
        let gate = Gate::new();
        gate.open();
        let left = AtomicBool::new(false);
        let entered = Barrier::new(2);
        let release = Barrier::new(2);
        std::thread::scope(|s| {
            s.spawn(|| {
                let pass = gate.enter().unwrap();
                entered.wait();
                release.wait();
                left.store(true, O::Release);
                drop(pass);
            });
            entered.wait();
            let grace = gate.grace_begin();
            assert!(!grace.has_passed());
            release.wait();
            gate.grace_wait(&grace).unwrap();
            assert!(
                left.load(O::Acquire),
                "the period ended before the call left"
            );
        });
    }
}
