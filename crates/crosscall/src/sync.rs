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
