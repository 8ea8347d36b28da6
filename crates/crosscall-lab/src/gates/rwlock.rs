//! What a Rust library author writes for "global state + shutdown" with std
//! alone: `RwLock<Option<Arc<T>>>`, read-locked for each call
//! (opentelemetry-rust's global providers; its read contention is
//! opentelemetry-rust#1801).
//!
//! A call takes a read guard and runs while holding it; `None` means not
//! there (yet, or any more) and the call is refused. Shutdown takes the write
//! lock — which waits until every read guard is gone, so it drains — and
//! takes the state out. Every call writes the lock word twice (std's futex
//! `RwLock` counts readers in one `AtomicU32`): a shared write per call, as
//! in the [`super::CounterGate`].
//!
//! Left out: there is no wait for initialization — a call before `open`
//! finds `None` and is refused (users initialize before anyone can call);
//! cloning the `Arc` out of the guard, as opentelemetry's
//! `global::tracer_provider()` does, adds a third shared write per call and
//! gives up the drain.
use std::sync::{Arc, PoisonError, RwLock};

use super::{EntryGate, Installed};

/// The library's state that calls use (a stand-in: what it holds does not
/// matter to the entry).
#[derive(Debug)]
pub struct LibraryState {
    _private: (),
}

impl LibraryState {
    /// A fresh state.
    pub fn new() -> Self {
        LibraryState { _private: () }
    }
}

impl Default for LibraryState {
    fn default() -> Self {
        Self::new()
    }
}

/// `RwLock<Option<Arc<T>>>`: a read guard per call, shutdown = write-lock and take.
pub struct RwLockGate {
    state: RwLock<Option<Arc<LibraryState>>>,
}

static INSTALLED: Installed<RwLockGate> = Installed::new();

impl RwLockGate {
    /// Whether the state is there (after `open`, before `close`).
    pub fn is_open(&self) -> bool {
        self.state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }
}

impl EntryGate for RwLockGate {
    const NAME: &'static str = "rwlock";

    fn new_static() -> &'static Self {
        super::leak_padded(RwLockGate {
            state: RwLock::new(None),
        })
    }

    /// Publishes the state.
    fn open(&self) {
        *self.state.write().unwrap_or_else(PoisonError::into_inner) =
            Some(Arc::new(LibraryState::new()));
    }

    /// Takes the write lock (waiting for every call in flight to let go of
    /// its read guard) and takes the state out: later calls are refused.
    /// Deadlocks if called from inside a call of this gate, as the real
    /// pattern does.
    fn close(&self) {
        let taken = self
            .state
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        drop(taken);
    }

    #[inline]
    fn call<R>(&self, refused: R, body: impl FnOnce() -> R) -> R {
        // A poisoned lock only means a call panicked; the state is still
        // whole (nothing writes it but open/close), so go on as users do.
        let guard = self.state.read().unwrap_or_else(PoisonError::into_inner);
        match guard.as_ref() {
            Some(_state) => body(),
            None => refused,
        }
    }

    fn installed() -> &'static Installed<Self> {
        &INSTALLED
    }
}
