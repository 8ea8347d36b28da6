//! Port of the Go runtime's internal lock (`runtime.mutex`) as Go 1.22 builds
//! it on Linux: `lock2`/`unlock2` of `runtime/lock_futex.go`.
//!
//! One 32-bit key: 0 unlocked, 1 locked, 2 locked with (presumably) a sleeper.
//! `lock` swaps in 1 and is done if the key was 0. Otherwise it spins: on a
//! machine with more than one CPU, 4 rounds of "compare-and-swap while the
//! key reads 0, then 30 `PAUSE`s" (`procyield(30)`), then 1 round ending in
//! `sched_yield` (`osyield`), then swaps in 2 and sleeps in `FUTEX_WAIT` until
//! woken; a thread that ever slept takes the lock with 2, so the next unlock
//! wakes the others. `unlock` swaps in 0 and, if the key was 2, wakes one
//! sleeper with `FUTEX_WAKE`.
//!
//! Left out: the per-M lock count (`m.locks`, a thread-local write), the lock
//! rank checks (compiled out in release Go) and the mutex profile hooks (idle
//! unless mutex profiling is on). Go 1.24 replaced this lock with
//! `lock_spinbit.go` (one spinning waiter at a time, sleepers in a list in
//! the key); its uncontended path is the same one atomic swap, its contended
//! path spins less.
use std::sync::atomic::{AtomicU32, Ordering};

/// `mutex_unlocked`.
const UNLOCKED: u32 = 0;
/// `mutex_locked`.
const LOCKED: u32 = 1;
/// `mutex_sleeping`: locked, and a thread may be asleep on the key.
const SLEEPING: u32 = 2;
/// `active_spin`: spinning rounds before yielding.
const ACTIVE_SPIN: u32 = 4;
/// `active_spin_cnt`: `PAUSE`s per spinning round (`procyield`).
const ACTIVE_SPIN_CNT: u32 = 30;
/// `passive_spin`: rounds ending in `sched_yield` before sleeping.
const PASSIVE_SPIN: u32 = 1;

/// The Go runtime's futex lock (see the module docs).
///
/// # Examples
///
/// ```
/// use crosscall_lab::gates::GoMutex;
///
/// let lock = GoMutex::new();
/// lock.lock();
/// // SAFETY: this thread holds the lock.
/// unsafe { lock.unlock() };
/// ```
#[derive(Debug, Default)]
pub struct GoMutex {
    key: AtomicU32,
}

impl GoMutex {
    /// An unlocked lock.
    pub const fn new() -> Self {
        GoMutex {
            key: AtomicU32::new(UNLOCKED),
        }
    }

    /// Takes the lock: one swap when free, else spin, yield, then sleep.
    #[inline]
    pub fn lock(&self) {
        // Acquire (every RMW that takes the lock): pairs with the Release swap
        // in `unlock`, so the holder sees what the previous holder wrote.
        // Go's atomics are sequentially consistent; acquire is what a lock needs.
        let v = self.key.swap(LOCKED, Ordering::Acquire);
        if v != UNLOCKED {
            self.lock_slow(v);
        }
    }

    #[cold]
    fn lock_slow(&self, mut wait: u32) {
        // "On uniprocessors, no point spinning."
        let spin = if ncpu() > 1 { ACTIVE_SPIN } else { 0 };
        loop {
            for _ in 0..spin {
                if self.try_take(wait) {
                    return;
                }
                for _ in 0..ACTIVE_SPIN_CNT {
                    std::hint::spin_loop(); // PAUSE, as procyield
                }
            }
            for _ in 0..PASSIVE_SPIN {
                if self.try_take(wait) {
                    return;
                }
                std::thread::yield_now(); // sched_yield, as osyield
            }
            // Acquire: as in `lock`.
            if self.key.swap(SLEEPING, Ordering::Acquire) == UNLOCKED {
                return;
            }
            wait = SLEEPING;
            futex_wait(&self.key, SLEEPING);
        }
    }

    /// `for l.key == mutex_unlocked { if Cas(&l.key, mutex_unlocked, wait) … }`
    #[inline]
    fn try_take(&self, wait: u32) -> bool {
        // Relaxed read: only a hint that the CAS may succeed; the CAS orders.
        while self.key.load(Ordering::Relaxed) == UNLOCKED {
            if self
                .key
                .compare_exchange(UNLOCKED, wait, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return true;
            }
        }
        false
    }

    /// Releases the lock; wakes one sleeper if there may be one.
    ///
    /// # Safety
    ///
    /// The calling thread holds the lock (Go throws "unlock of unlocked
    /// lock"; this port aborts when it sees that, but cannot tell which thread
    /// holds it).
    #[inline]
    pub unsafe fn unlock(&self) {
        // Release: pairs with the Acquire RMWs in `lock`.
        let v = self.key.swap(UNLOCKED, Ordering::Release);
        if v == UNLOCKED {
            eprintln!("crosscall-lab: unlock of unlocked lock");
            std::process::abort();
        }
        if v == SLEEPING {
            futex_wake_one(&self.key);
        }
    }
}

/// The CPU count the runtime reads once at start (`ncpu`).
fn ncpu() -> usize {
    static NCPU: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *NCPU.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// `futexsleep(addr, val, -1)`: sleeps while `*key == val` (spurious wake-ups allowed).
#[cfg(target_os = "linux")]
fn futex_wait(key: &AtomicU32, val: u32) {
    // SAFETY: `key` is a live, aligned u32 for the whole call; FUTEX_WAIT only
    // reads it and the null timeout means "no timeout". Errors (EAGAIN when
    // the key changed, EINTR) are spurious wake-ups, which the caller's loop
    // handles, exactly as Go's futexsleep ignores them.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            key.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            val,
            std::ptr::null::<libc::timespec>(),
        );
    }
}

/// `futexwakeup(addr, 1)`.
#[cfg(target_os = "linux")]
fn futex_wake_one(key: &AtomicU32) {
    // SAFETY: `key` is a live, aligned u32; FUTEX_WAKE does not access it.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            key.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            1,
        );
    }
}

/// Without futexes (Go uses `lock_sema.go` there): yield instead of sleeping.
#[cfg(not(target_os = "linux"))]
fn futex_wait(_key: &AtomicU32, _val: u32) {
    std::thread::yield_now();
}

/// Without futexes nobody sleeps, so nobody needs waking.
#[cfg(not(target_os = "linux"))]
fn futex_wake_one(_key: &AtomicU32) {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::UnsafeCell;

    struct Counted {
        lock: GoMutex,
        count: UnsafeCell<u64>,
    }
    // SAFETY: `count` is only touched with `lock` held.
    unsafe impl Sync for Counted {}

    #[test]
    fn excludes_under_contention_and_wakes_sleepers() {
        let shared = Counted {
            lock: GoMutex::new(),
            count: UnsafeCell::new(0),
        };
        let shared = &shared;
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(move || {
                    for i in 0..20_000 {
                        shared.lock.lock();
                        // SAFETY: the lock is held.
                        unsafe { *shared.count.get() += 1 };
                        if i % 1000 == 0 {
                            // Hold it long enough for others to go to sleep.
                            std::thread::sleep(std::time::Duration::from_micros(50));
                        }
                        // SAFETY: locked above on this thread.
                        unsafe { shared.lock.unlock() };
                    }
                });
            }
        });
        // SAFETY: every thread that wrote `count` has been joined.
        assert_eq!(unsafe { *shared.count.get() }, 80_000);
        assert_eq!(shared.lock.key.load(Ordering::Relaxed), UNLOCKED);
    }
}
