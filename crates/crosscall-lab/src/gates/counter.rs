//! One shared in-flight counter with a closing bit and drain — what the Rust
//! crates that offer drain do today.
//!
//! `run-down` (`RundownRef`) keeps a reference count and a "rundown in
//! progress" flag in one atomic word: acquiring adds one unless the flag is
//! set, releasing subtracts one, and `wait_for_completion` sets the flag and
//! blocks until the count reaches zero. tokio-util's `TaskTracker` does the
//! same with `fetch_add(2)` / `fetch_sub(2)` on one `AtomicUsize` whose low bit
//! is "closed". Either way every call writes the same cache line twice — on
//! every core — which brings back the contention an atomic init flag removed.
//!
//! The port uses a single `fetch_add` to enter (cheaper than `run-down`'s
//! compare-and-swap loop under contention) and a single `fetch_sub` to leave.
//! An "open" bit in the same word gives it cgo's wait-until-initialized.
use std::marker::PhantomData;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};

use super::{run_admitted, EntryGate, Installed, Refused};

/// Set by `open`.
const OPEN: usize = 0b01;
/// Set by `close`: admission stops.
const CLOSED: usize = 0b10;
/// One call in flight; the count lives above the two flag bits.
const ONE: usize = 0b100;

/// Admission counted in one shared atomic; `close` stops admission and waits
/// until the count drains to zero.
pub struct CounterGate {
    /// `count * ONE | CLOSED? | OPEN?`
    word: AtomicUsize,
    /// Slow paths only: waiting for `open`, and `close` waiting for the drain.
    lock: Mutex<()>,
    changed: Condvar,
}

/// Admission to a [`CounterGate`]; leaves (decrements the count) on drop.
#[must_use = "the pass leaves the gate when dropped"]
pub struct CounterPass<'g> {
    gate: &'g CounterGate,
    _not_send: PhantomData<*const ()>,
}

static INSTALLED: Installed<CounterGate> = Installed::new();

impl CounterGate {
    /// Counts this call in; waits while the gate is not open yet.
    ///
    /// # Errors
    ///
    /// [`Refused::Closed`] once [`EntryGate::close`] has begun.
    #[inline]
    pub fn enter(&self) -> Result<CounterPass<'_>, Refused> {
        loop {
            // Acquire: pairs with the Release `fetch_or(OPEN)` in `open`, so
            // an admitted call sees what initialization wrote.
            let prev = self.word.fetch_add(ONE, Ordering::Acquire);
            if prev & (OPEN | CLOSED) == OPEN {
                return Ok(CounterPass {
                    gate: self,
                    _not_send: PhantomData,
                });
            }
            // Not admitted: take the count back out (this may be the count a
            // closer is waiting for).
            self.leave();
            if prev & CLOSED != 0 {
                return Err(Refused::Closed);
            }
            self.wait_while(|word| word & (OPEN | CLOSED) == 0);
        }
    }

    /// The number of calls inside (plus, for an instant, refused ones on
    /// their way out).
    pub fn in_flight(&self) -> usize {
        self.word.load(Ordering::Relaxed) / ONE
    }

    #[inline]
    fn leave(&self) {
        // Release: pairs with the Acquire loads in `close`, so the closer sees
        // everything the call did before leaving.
        let prev = self.word.fetch_sub(ONE, Ordering::Release);
        if prev & CLOSED != 0 && prev / ONE == 1 {
            self.notify();
        }
    }

    #[cold]
    fn notify(&self) {
        // Taking the lock orders this wake-up after a waiter's check of the
        // word (made with the lock held), so the wake-up cannot be lost.
        let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        self.changed.notify_all();
    }

    #[cold]
    fn wait_while(&self, blocked: impl Fn(usize) -> bool) {
        let mut guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        // Acquire: pairs with the Release RMWs in `open` and `leave`.
        while blocked(self.word.load(Ordering::Acquire)) {
            guard = self
                .changed
                .wait(guard)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl Drop for CounterPass<'_> {
    #[inline]
    fn drop(&mut self) {
        self.gate.leave();
    }
}

impl EntryGate for CounterGate {
    const NAME: &'static str = "counter";

    fn new_static() -> &'static Self {
        super::leak_padded(CounterGate {
            word: AtomicUsize::new(0),
            lock: Mutex::new(()),
            changed: Condvar::new(),
        })
    }

    fn open(&self) {
        // Release: pairs with the Acquire `fetch_add` in `enter`.
        self.word.fetch_or(OPEN, Ordering::Release);
        self.notify();
    }

    /// Stops admission, then waits until every admitted call has left
    /// (`run-down`'s `wait_for_completion`, `TaskTracker::close` + `wait`).
    /// Like those, it deadlocks if called from inside a call of this gate.
    fn close(&self) {
        // AcqRel: Release so waiters for `open` see the flag with what came
        // before; Acquire to read the count consistently with leavers.
        self.word.fetch_or(CLOSED, Ordering::AcqRel);
        self.notify(); // callers still waiting for `open` now get refused
        self.wait_while(|word| word / ONE != 0);
    }

    #[inline]
    fn call<R>(&self, refused: R, body: impl FnOnce() -> R) -> R {
        run_admitted(self.enter(), refused, body)
    }

    fn installed() -> &'static Installed<Self> {
        &INSTALLED
    }
}
