//! What Rust libraries moved to from `RwLock` for "global state + shutdown":
//! `arc_swap::ArcSwapOption<T>`, `load()`ed for each call (scylla-rust-driver,
//! abscissa, agave).
//!
//! `load()` borrows the current `Arc` through one of the reading thread's own
//! "debt" slots (falling back to a reference-count increment when they are
//! full), so the fast path writes no cache line shared with other readers.
//! The call runs while the returned guard lives; `None` means not there (yet,
//! or any more) and the call is refused.
//!
//! It does not drain. Shutdown stores `None`: calls that loaded the old value
//! keep running with it, and the state is dropped by whichever thread lets go
//! of it last — possibly a caller, possibly after `close` has returned. Nothing
//! tells the closer when the last call has left.
//!
//! Left out: there is no wait for initialization — a call before `open`
//! finds `None` and is refused.
use arc_swap::ArcSwapOption;
use std::sync::Arc;

use super::rwlock::LibraryState;
use super::{EntryGate, Installed};

/// `ArcSwapOption<T>`: `load()` per call; shutdown = store `None` (no drain).
pub struct ArcSwapGate {
    state: ArcSwapOption<LibraryState>,
}

static INSTALLED: Installed<ArcSwapGate> = Installed::new();

impl ArcSwapGate {
    /// Whether the state is there (after `open`, before `close`).
    pub fn is_open(&self) -> bool {
        self.state.load().is_some()
    }

    /// The current state, as a call sees it (for tests of the no-drain rule).
    pub fn load_state(&self) -> Option<Arc<LibraryState>> {
        self.state.load_full()
    }
}

impl EntryGate for ArcSwapGate {
    const NAME: &'static str = "arcswap";

    fn new_static() -> &'static Self {
        super::leak_padded(ArcSwapGate {
            state: ArcSwapOption::empty(),
        })
    }

    /// Publishes the state.
    fn open(&self) {
        self.state.store(Some(Arc::new(LibraryState::new())));
    }

    /// Stores `None`: later calls are refused. Returns at once; calls in
    /// flight keep the old state alive until they finish.
    fn close(&self) {
        self.state.store(None);
    }

    #[inline]
    fn call<R>(&self, refused: R, body: impl FnOnce() -> R) -> R {
        let guard = self.state.load();
        match guard.as_ref() {
            Some(_state) => body(),
            None => refused,
        }
    }

    fn installed() -> &'static Installed<Self> {
        &INSTALLED
    }
}
