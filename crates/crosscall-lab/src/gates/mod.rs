//! The entry strategies the lab compares: what a C→host callback does before
//! and after its body.
//!
//! | gate        | ports                                                         |
//! |-------------|---------------------------------------------------------------|
//! | [`NoGate`]      | nothing: the ungated floor                                |
//! | [`MutexGate`]   | cgo before Go 1.22: pthread mutex + condvar on every call |
//! | [`AtomicGate`]  | cgo since Go 1.22 (CL 505455): atomic flag, lock only while initializing |
//! | [`CgoCthreadGate`] | Go 1.22–1.26 on a C-created thread: the atomic flag, then the `main_init_done` channel's lock (golang/go#77522) |
//! | [`CounterGate`] | `run-down` / tokio-util `TaskTracker`: one shared in-flight counter with drain |
//! | [`RwLockGate`]  | std `RwLock<Option<Arc<T>>>`, read guard per call; shutdown write-locks (drains) and takes |
//! | [`ArcSwapGate`] | `arc-swap` `ArcSwapOption<T>::load()` per call; shutdown stores `None` (no drain) |
//! | [`CrosscallGate`] | the product: `crosscall` gate + thread attach + panic barrier |
//!
//! Every gate lives for the rest of the process once made (see
//! [`EntryGate::new_static`]) — like the C statics cgo uses — and is reached
//! from `extern "C"` callbacks through its [`Installed`] slot.

mod arcswap;
mod atomic;
mod cgo_cthread;
mod counter;
mod crosscall;
mod go_mutex;
mod installed;
mod mutex;
mod none;
mod pthread;
mod rwlock;

pub use self::arcswap::ArcSwapGate;
pub use self::atomic::{AtomicGate, AtomicPass};
pub use self::cgo_cthread::{CgoCthreadGate, CgoCthreadPass};
pub use self::counter::{CounterGate, CounterPass};
pub use self::crosscall::CrosscallGate;
pub use self::go_mutex::GoMutex;
pub use self::installed::Installed;
pub use self::mutex::{MutexGate, MutexPass};
pub use self::none::NoGate;
pub use self::rwlock::{LibraryState, RwLockGate};

use std::fmt;

use crossbeam_utils::CachePadded;

/// An entry strategy: how a callback from C is admitted into the host.
///
/// # Examples
///
/// ```
/// use crosscall_lab::gates::{AtomicGate, EntryGate};
///
/// let gate = AtomicGate::new_static();
/// gate.open();
/// assert_eq!(gate.call(-1, || 7), 7);
/// gate.close();
/// assert_eq!(gate.call(-1, || 7), -1); // refused once closed
/// ```
pub trait EntryGate: Sync + Send + Sized + 'static {
    /// The gate's name on the command line and in reports.
    const NAME: &'static str;

    /// A new, not yet opened gate that lives for the rest of the process.
    ///
    /// Gates hold pthread objects and per-thread registrations that must not
    /// move once used, so they are only handed out behind a `'static`
    /// reference (a leaked box; the lab makes a handful per process).
    fn new_static() -> &'static Self;

    /// Marks initialization done: callers waiting in [`EntryGate::call`] proceed.
    fn open(&self);

    /// Stops admitting calls; waits for the admitted ones to leave where the
    /// strategy can tell (see each gate for what its original does).
    fn close(&self);

    /// Runs `body` as one admitted callback, or returns `refused` when the
    /// gate refuses entry (it is closed). Waits while the gate is not open
    /// yet — except [`RwLockGate`] and [`ArcSwapGate`], which refuse then, as
    /// the patterns they port have no wait for initialization.
    fn call<R>(&self, refused: R, body: impl FnOnce() -> R) -> R;

    /// The slot through which `extern "C"` callbacks find the current gate of
    /// this kind.
    fn installed() -> &'static Installed<Self>;
}

/// Moves `gate` to a cache-line-aligned, never-freed allocation of its own,
/// so that no other data written during a run shares its cache lines (as a
/// neighbour on the heap could; that would measure false sharing, not the gate).
/// `EntryGate::call` for gates whose `enter` returns a pass that leaves when dropped: runs
/// `body` while the pass lives, or returns `refused`.
#[inline]
pub(crate) fn run_admitted<P, R>(
    entered: Result<P, Refused>,
    refused: R,
    body: impl FnOnce() -> R,
) -> R {
    match entered {
        Ok(_pass) => body(),
        Err(Refused::Closed) => refused,
    }
}

pub(crate) fn leak_padded<G: 'static>(gate: G) -> &'static G {
    let padded: &'static CachePadded<G> = Box::leak(Box::new(CachePadded::new(gate)));
    padded
}

/// Why a reference gate refused entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The gate has been closed.
    Closed,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::Closed => f.write_str("gate is closed"),
        }
    }
}

impl std::error::Error for Refused {}
