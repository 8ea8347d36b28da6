//! Port of a Go 1.22–1.26 callback's entry on a thread that C created
//! (golang/go#77522).
//!
//! Two checks run on every such callback. On the C side,
//! `_cgo_wait_runtime_init_done` loads the atomic `runtime_init_done` flag
//! (the 1.22 fix, ported as [`AtomicGate`]). Then on the Go side,
//! `cgocallbackg1` sees `m.ncgo == 0` (no Go frame of this call above it: a C
//! thread calling in) and receives from the closed `main_init_done` channel.
//! That receive (`chanrecv1` → `chanrecv(c, nil, block=true)`) has no
//! lock-free path for a blocking receive: it takes the channel's lock
//! (`runtime.mutex`, ported as [`GoMutex`]), finds `closed != 0` and
//! `qcount == 0`, unlocks and returns. Every callback on every core writes
//! the same lock word twice — the contention of the pre-1.22 pthread mutex,
//! moved into the Go runtime.
//!
//! Go 1.27 checks an atomic `mainInitDone` first and receives only while it
//! is false; from then on a C-thread callback pays what [`AtomicGate`] pays.
//!
//! Left out: everything else a cgo callback does (switching to the Go stack,
//! `exitsyscall` taking a P, the deferred `unwindm`), about the same in every
//! Go since 1.21 and not a shared write on the fast path; Go's own order at
//! start-up (it sets the C flag, then closes the channel, so an early caller
//! can park on the channel; the port closes first so it never parks).
//!
//! cgo has no shutdown; as in [`AtomicGate`], closing sends callers down the
//! C side's slow path to be refused. It does not drain.
use std::cell::UnsafeCell;
use std::marker::PhantomData;

use crossbeam_utils::CachePadded;

use super::atomic::AtomicGate;
use super::go_mutex::GoMutex;
use super::{run_admitted, EntryGate, Installed, Refused};

/// The fields of Go's `hchan` that a receive from a closed, unbuffered
/// channel reads, and its lock (in Go they share the channel's allocation).
struct ClosedChannel {
    lock: GoMutex,
    /// `hchan.closed`: only read or written with `lock` held.
    closed: UnsafeCell<u32>,
    /// `hchan.qcount`: always 0 (the channel is unbuffered); read with `lock` held.
    qcount: UnsafeCell<usize>,
}

impl ClosedChannel {
    const fn new() -> Self {
        ClosedChannel {
            lock: GoMutex::new(),
            closed: UnsafeCell::new(0),
            qcount: UnsafeCell::new(0),
        }
    }

    /// `close(main_init_done)`: `closechan` sets `closed` under the lock.
    fn close(&self) {
        self.lock.lock();
        // SAFETY: `closed` is only accessed with `lock` held.
        unsafe { *self.closed.get() = 1 };
        // SAFETY: locked above on this thread.
        unsafe { self.lock.unlock() };
    }

    /// `<-main_init_done`: lock, see the channel closed and empty, unlock.
    #[inline]
    fn recv(&self) {
        loop {
            self.lock.lock();
            // SAFETY: both fields are only accessed with `lock` held.
            let done = unsafe { *self.closed.get() != 0 && *self.qcount.get() == 0 };
            // SAFETY: locked above on this thread.
            unsafe { self.lock.unlock() };
            if done {
                return;
            }
            // Go parks the goroutine until `close`; the port's `open` closes
            // the channel before it lets anyone in, so this never runs.
            std::thread::yield_now();
        }
    }
}

/// Go 1.22–1.26 on a C-created thread: the atomic init flag, then a
/// lock/unlock of the `main_init_done` channel's lock on every call.
pub struct CgoCthreadGate {
    /// `_cgo_wait_runtime_init_done` (C side).
    c_side: AtomicGate,
    /// `main_init_done`, a heap object of its own in Go.
    main_init_done: CachePadded<ClosedChannel>,
}

// SAFETY: the channel's cells are only accessed with its lock held; the rest
// is Sync already.
unsafe impl Sync for CgoCthreadGate {}

/// Admission to a [`CgoCthreadGate`]. Leaving costs nothing, as in Go.
#[must_use = "the pass marks an admitted call"]
pub struct CgoCthreadPass<'g> {
    _gate: PhantomData<&'g CgoCthreadGate>,
}

static INSTALLED: Installed<CgoCthreadGate> = Installed::new();

impl CgoCthreadGate {
    /// The C side's flag check, then the receive from the closed channel.
    ///
    /// # Errors
    ///
    /// [`Refused::Closed`] after [`EntryGate::close`].
    #[inline]
    pub fn enter(&self) -> Result<CgoCthreadPass<'_>, Refused> {
        let _c_side = self.c_side.enter()?;
        self.main_init_done.recv();
        Ok(CgoCthreadPass { _gate: PhantomData })
    }
}

impl EntryGate for CgoCthreadGate {
    const NAME: &'static str = "cgo-cthread";

    fn new_static() -> &'static Self {
        super::leak_padded(CgoCthreadGate {
            c_side: AtomicGate::new(),
            main_init_done: CachePadded::new(ClosedChannel::new()),
        })
    }

    /// Closes `main_init_done`, then opens the C side's flag.
    fn open(&self) {
        self.main_init_done.close();
        self.c_side.open();
    }

    /// Refuses later calls (on the C side). Does not wait for calls in flight.
    fn close(&self) {
        self.c_side.close();
    }

    #[inline]
    fn call<R>(&self, refused: R, body: impl FnOnce() -> R) -> R {
        run_admitted(self.enter(), refused, body)
    }

    fn installed() -> &'static Installed<Self> {
        &INSTALLED
    }
}
