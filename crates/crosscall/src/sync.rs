//! The one place atomics, locks and thread-locals come from: `std` normally, `loom` under
//! `--cfg loom` so the model checker sees every access (cf. tokio's `src/loom`).

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU64, AtomicU8, AtomicUsize, Ordering,
};
#[cfg(loom)]
pub(crate) use loom::sync::{Condvar, Mutex, MutexGuard};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU64, AtomicU8, AtomicUsize, Ordering,
};
#[cfg(not(loom))]
pub(crate) use std::sync::{Condvar, Mutex, MutexGuard};

// Slots are reference counted so a thread-local can outlive the gate that handed the slot
// out; `Arc` only manages memory here and is not part of any ordering argument, so the
// std one is used in both configurations.
pub(crate) use std::sync::Arc;

/// Identity of the calling thread, as the model checker sees it under loom.
#[cfg(not(loom))]
pub(crate) fn current_thread_id() -> std::thread::ThreadId {
    std::thread::current().id()
}
#[cfg(loom)]
pub(crate) fn current_thread_id() -> loom::thread::ThreadId {
    loom::thread::current().id()
}

/// The thread id type matching [`current_thread_id`].
#[cfg(not(loom))]
pub(crate) type ThreadId = std::thread::ThreadId;
#[cfg(loom)]
pub(crate) type ThreadId = loom::thread::ThreadId;

/// A cell whose reads and writes loom checks for races (`loom::cell::UnsafeCell`); under std
/// a thin wrapper with the same interface that compiles to plain pointer arithmetic.
#[cfg(loom)]
pub(crate) use loom::cell::{ConstPtr, UnsafeCell};

/// `std` stand-in for `loom::cell::UnsafeCell` (the subset crosscall uses).
#[cfg(not(loom))]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> UnsafeCell<T> {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// A read handle; loom counts the cell as being read while it lives.
    #[inline(always)]
    pub(crate) fn get(&self) -> ConstPtr<T> {
        ConstPtr(self.0.get())
    }

    /// The raw pointer, for reads loom need not see (code that is compiled out under loom).
    #[inline(always)]
    pub(crate) fn as_ptr(&self) -> *const T {
        self.0.get()
    }

    /// Runs `f` with write access.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// `std` stand-in for `loom::cell::ConstPtr`.
#[cfg(not(loom))]
pub(crate) struct ConstPtr<T>(*const T);

#[cfg(not(loom))]
impl<T> ConstPtr<T> {
    /// # Safety
    ///
    /// As dereferencing a `*const T`: the cell is alive and nobody writes it meanwhile.
    #[inline(always)]
    pub(crate) unsafe fn deref(&self) -> &T {
        // SAFETY: forwarded to the caller.
        unsafe { &*self.0 }
    }
}
