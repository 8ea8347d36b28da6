//! Port of cgo's entry wait since Go 1.22 (CL 505455, golang/go#60961):
//! 1.22's C-side fix alone.
//!
//! `_cgo_wait_runtime_init_done` first loads `runtime_init_done` atomically
//! (`__ATOMIC_CONSUME`); only when it is not yet 2 does it take
//! `runtime_init_mu`, wait on `runtime_init_cond` while the flag is 0, finish
//! the one-time work (creating the pthread key) and publish 2 with
//! `__ATOMIC_RELEASE`. `x_cgo_notify_runtime_init_done` stores 1 under the
//! mutex and broadcasts. Once initialized, a callback reads one shared,
//! never-written cache line: no lock, no write.
//!
//! On a thread that C created, Go 1.22–1.26 add a lock per callback on the
//! Go side ([`super::CgoCthreadGate`]); Go 1.27 skips it once initialized, so
//! this gate is also what a C-thread callback into Go 1.27 pays for entry.
//!
//! cgo has no shutdown; the port adds a fourth state, `CLOSED`, which sends
//! callers down the slow path to be refused. It does not drain.
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU8, Ordering};

use super::pthread::{RawCond, RawMutex};
use super::{run_admitted, EntryGate, Installed, Refused};

/// `runtime_init_done == 0`: not initialized; callers wait.
const UNINIT: u8 = 0;
/// `runtime_init_done == 1`: initialized, fast path not yet published.
const NOTIFIED: u8 = 1;
/// `runtime_init_done == 2`: the fast path; callers only load this.
const OPEN: u8 = 2;
/// The port's addition: refused from now on.
const CLOSED: u8 = 3;

/// cgo's ≥1.22 entry: an acquire load of an "init done" flag; the mutex and
/// condvar only while initialization is still running.
pub struct AtomicGate {
    state: AtomicU8,
    mutex: RawMutex,
    cond: RawCond,
}

/// Admission to an [`AtomicGate`]. Leaving costs nothing, as in cgo.
#[must_use = "the pass marks an admitted call"]
pub struct AtomicPass<'g> {
    _gate: PhantomData<&'g AtomicGate>,
}

static INSTALLED: Installed<AtomicGate> = Installed::new();

impl AtomicGate {
    /// A new, not yet opened gate, for embedding in another gate (the
    /// `cgo-cthread` port runs this check first).
    pub(super) const fn new() -> Self {
        AtomicGate {
            state: AtomicU8::new(UNINIT),
            mutex: RawMutex::new(),
            cond: RawCond::new(),
        }
    }

    /// Admits at once when open; otherwise waits for `open` under the mutex.
    ///
    /// # Errors
    ///
    /// [`Refused::Closed`] after [`EntryGate::close`].
    #[inline]
    pub fn enter(&self) -> Result<AtomicPass<'_>, Refused> {
        // Acquire: pairs with the Release stores in `enter_slow`/`set_state`,
        // so the admitted caller sees everything initialization wrote (cgo
        // uses CONSUME, which compilers promote to acquire).
        if self.state.load(Ordering::Acquire) == OPEN {
            return Ok(AtomicPass { _gate: PhantomData });
        }
        self.enter_slow()
    }

    #[cold]
    fn enter_slow(&self) -> Result<AtomicPass<'_>, Refused> {
        self.mutex.lock();
        // Relaxed loads below are ordered by the mutex: every store to
        // `state` happens with it held.
        while self.state.load(Ordering::Relaxed) == UNINIT {
            // SAFETY: this thread holds `mutex`, the only mutex used with `cond`.
            unsafe { self.cond.wait(&self.mutex) };
        }
        let result = match self.state.load(Ordering::Relaxed) {
            CLOSED => Err(Refused::Closed),
            state => {
                if state == NOTIFIED {
                    // Publish the fast path (cgo: store 2, __ATOMIC_RELEASE).
                    self.state.store(OPEN, Ordering::Release);
                }
                Ok(AtomicPass { _gate: PhantomData })
            }
        };
        // SAFETY: locked above on this thread.
        unsafe { self.mutex.unlock() };
        result
    }

    /// Stores `to` under the mutex (never back out of `CLOSED`) and wakes
    /// every waiter.
    fn set_state(&self, to: u8) {
        self.mutex.lock();
        // Relaxed: every store happens with the mutex held, which orders it.
        if self.state.load(Ordering::Relaxed) != CLOSED {
            // Release: pairs with the fast path's Acquire load.
            self.state.store(to, Ordering::Release);
        }
        self.cond.broadcast();
        // SAFETY: locked above on this thread.
        unsafe { self.mutex.unlock() };
    }
}

impl EntryGate for AtomicGate {
    const NAME: &'static str = "atomic";

    fn new_static() -> &'static Self {
        super::leak_padded(AtomicGate::new())
    }

    /// Like `x_cgo_notify_runtime_init_done`: flag 1 under the mutex, broadcast;
    /// the first caller through the slow path publishes the fast path.
    fn open(&self) {
        self.set_state(NOTIFIED);
    }

    /// Refuses later calls. Does not wait for calls in flight: the flag says
    /// nothing about who is inside.
    fn close(&self) {
        self.set_state(CLOSED);
    }

    #[inline]
    fn call<R>(&self, refused: R, body: impl FnOnce() -> R) -> R {
        run_admitted(self.enter(), refused, body)
    }

    fn installed() -> &'static Installed<Self> {
        &INSTALLED
    }
}
