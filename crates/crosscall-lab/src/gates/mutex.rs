//! Port of cgo's entry wait before Go 1.22.
//!
//! In `runtime/cgo/gcc_libinit.c` up to Go 1.21, `_cgo_wait_runtime_init_done`
//! runs at the start of every C→Go callback: it locks the process-wide
//! `runtime_init_mu`, waits on `runtime_init_cond` while `runtime_init_done` is
//! zero, reads the context function under the lock, and unlocks.
//! `x_cgo_notify_runtime_init_done` sets the flag under the same mutex and
//! broadcasts. One mutex, taken by every callback on every core: the
//! contention golang/go#60961 measured (~45% of the profile in unlock).
//!
//! cgo has no shutdown; the port adds a `closed` flag read inside the critical
//! section it already holds (no extra lock), and does not drain.
use std::cell::UnsafeCell;
use std::marker::PhantomData;

use super::pthread::{RawCond, RawMutex};
use super::{run_admitted, EntryGate, Installed, Refused};

/// What the mutex protects (`runtime_init_done` plus the port's `closed`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Uninit,
    Open,
    Closed,
}

/// cgo's pre-1.22 entry: lock, wait while not initialized, unlock — on every call.
pub struct MutexGate {
    mutex: RawMutex,
    cond: RawCond,
    /// Only read or written with `mutex` held.
    state: UnsafeCell<State>,
}

// SAFETY: `state` is only accessed while `mutex` is held (see each access);
// the pthread objects are Sync themselves.
unsafe impl Sync for MutexGate {}

/// Admission to a [`MutexGate`]. Leaving costs nothing, as in cgo: the lock is
/// released before the callback body runs.
#[must_use = "the pass marks an admitted call"]
pub struct MutexPass<'g> {
    _gate: PhantomData<&'g MutexGate>,
}

static INSTALLED: Installed<MutexGate> = Installed::new();

impl MutexGate {
    /// Waits while the gate is not open (like `_cgo_wait_runtime_init_done`),
    /// then admits, or refuses once closed.
    ///
    /// # Errors
    ///
    /// [`Refused::Closed`] after [`EntryGate::close`].
    #[inline]
    pub fn enter(&self) -> Result<MutexPass<'_>, Refused> {
        self.mutex.lock();
        // SAFETY: `state` is read with `mutex` held.
        while unsafe { *self.state.get() } == State::Uninit {
            // SAFETY: this thread holds `mutex`, the only mutex used with `cond`.
            unsafe { self.cond.wait(&self.mutex) };
        }
        // SAFETY: `state` is read with `mutex` held (re-taken by `wait`).
        let state = unsafe { *self.state.get() };
        // SAFETY: locked just above on this thread.
        unsafe { self.mutex.unlock() };
        match state {
            State::Closed => Err(Refused::Closed),
            State::Open | State::Uninit => Ok(MutexPass { _gate: PhantomData }),
        }
    }

    /// Moves to `to` under the mutex (never back out of `Closed`) and wakes
    /// every waiter, as `x_cgo_notify_runtime_init_done` does.
    fn set_state(&self, to: State) {
        self.mutex.lock();
        // SAFETY: read and written with `mutex` held.
        unsafe {
            if *self.state.get() != State::Closed {
                *self.state.get() = to;
            }
        }
        self.cond.broadcast();
        // SAFETY: locked above on this thread.
        unsafe { self.mutex.unlock() };
    }
}

impl EntryGate for MutexGate {
    const NAME: &'static str = "mutex";

    fn new_static() -> &'static Self {
        super::leak_padded(MutexGate {
            mutex: RawMutex::new(),
            cond: RawCond::new(),
            state: UnsafeCell::new(State::Uninit),
        })
    }

    fn open(&self) {
        self.set_state(State::Open);
    }

    /// Refuses later calls. Does not wait for calls in flight: cgo's lock is
    /// not held across the callback, so it cannot know about them.
    fn close(&self) {
        self.set_state(State::Closed);
    }

    #[inline]
    fn call<R>(&self, refused: R, body: impl FnOnce() -> R) -> R {
        run_admitted(self.enter(), refused, body)
    }

    fn installed() -> &'static Installed<Self> {
        &INSTALLED
    }
}
