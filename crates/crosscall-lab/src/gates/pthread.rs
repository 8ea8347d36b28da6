//! Thin wrappers over a statically initialized pthread mutex and condition
//! variable — the primitives cgo's `gcc_libinit.c` uses (`runtime_init_mu`,
//! `runtime_init_cond`), called directly rather than through `std::sync` so the
//! ports pay exactly what cgo pays.
use std::cell::UnsafeCell;

/// Aborts with a message when a pthread call fails; cgo does the same
/// (`fprintf(stderr, ...); abort()`), as there is no sane way to continue.
fn check(rc: libc::c_int, what: &str) {
    if rc != 0 {
        eprintln!("crosscall-lab: {what} failed with error {rc}");
        std::process::abort();
    }
}

/// A `pthread_mutex_t` made with `PTHREAD_MUTEX_INITIALIZER`.
///
/// Must not move once used: it only lives inside gates that are handed out
/// as `&'static` (see `EntryGate::new_static`).
pub(super) struct RawMutex {
    inner: UnsafeCell<libc::pthread_mutex_t>,
}

// SAFETY: a pthread mutex is made to be shared between threads; every access
// goes through the pthread functions, which synchronize internally.
unsafe impl Sync for RawMutex {}
// SAFETY: an unused (unlocked, never-waited-on) pthread mutex is plain data.
unsafe impl Send for RawMutex {}

impl RawMutex {
    pub(super) const fn new() -> Self {
        RawMutex {
            inner: UnsafeCell::new(libc::PTHREAD_MUTEX_INITIALIZER),
        }
    }

    #[inline]
    pub(super) fn lock(&self) {
        // SAFETY: `inner` is an initialized mutex at a fixed address (the
        // owning gate is never moved once shared).
        check(
            unsafe { libc::pthread_mutex_lock(self.inner.get()) },
            "pthread_mutex_lock",
        );
    }

    /// # Safety
    ///
    /// The calling thread holds the lock.
    #[inline]
    pub(super) unsafe fn unlock(&self) {
        // SAFETY: the caller holds the lock (this function's contract).
        check(
            unsafe { libc::pthread_mutex_unlock(self.inner.get()) },
            "pthread_mutex_unlock",
        );
    }
}

/// A `pthread_cond_t` made with `PTHREAD_COND_INITIALIZER`; same placement
/// rule as [`RawMutex`].
pub(super) struct RawCond {
    inner: UnsafeCell<libc::pthread_cond_t>,
}

// SAFETY: as for `RawMutex`: a condition variable is made to be shared and
// only touched through the pthread functions.
unsafe impl Sync for RawCond {}
// SAFETY: an unused pthread condition variable is plain data.
unsafe impl Send for RawCond {}

impl RawCond {
    pub(super) const fn new() -> Self {
        RawCond {
            inner: UnsafeCell::new(libc::PTHREAD_COND_INITIALIZER),
        }
    }

    /// Atomically releases `mutex`, sleeps until woken, re-locks `mutex`.
    ///
    /// # Safety
    ///
    /// The calling thread holds `mutex`, and every waiter on this condition
    /// variable uses that same mutex.
    pub(super) unsafe fn wait(&self, mutex: &RawMutex) {
        // SAFETY: both objects are initialized at fixed addresses; the caller
        // holds `mutex` and pairs it with this condvar only (contract above).
        check(
            unsafe { libc::pthread_cond_wait(self.inner.get(), mutex.inner.get()) },
            "pthread_cond_wait",
        );
    }

    /// Wakes every waiter.
    pub(super) fn broadcast(&self) {
        // SAFETY: `inner` is an initialized condvar at a fixed address.
        check(
            unsafe { libc::pthread_cond_broadcast(self.inner.get()) },
            "pthread_cond_broadcast",
        );
    }
}
