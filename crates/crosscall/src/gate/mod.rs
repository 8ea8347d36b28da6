//! The gate and the per-thread machinery behind its fast path.
//!
//! These files form one concept: a thread's entry through a gate reads the thread's cache,
//! claims a slot once, attaches once, and gives both back when the thread exits. The layering,
//! from the bottom up (a file may use the ones above it; the upward uses are named):
//!
//! - `local.rs` — the one thread-local the fast path reads (the per-thread table of cached
//!   gate keys, slots and addresses, and the attach phase); initial-exec TLS where
//!   supported. Uses nothing here.
//! - `attach.rs` — a thread's attach/detach and the user's hooks; reads the attach phase in
//!   `local`.
//! - `slots.rs` — per-thread cache-padded slot words and a gate's slot list; a thread's owned
//!   slots live in `thread_exit`'s per-thread state.
//! - `thread_exit.rs` — what ends a thread's state at exit: releases its slots and detaches it
//!   (calls up into `slots` and `attach`).
//! - `close_wake.rs` — how a closer sleeps until the last call leaves and how that leave
//!   wakes it (a process-wide condvar; the per-slot flag lives in `slots`, which calls it).
//! - `stats.rs` — the gate's slow-path counters and the [`GateStats`] snapshot.
//! - `open_error.rs` — the error of a refused open/reopen.
//! - `lifecycle.rs` — [`Gate`] itself: states and key, enter/open/close, the drain. Uses all of
//!   the above; `slots` and `open_error` name the gate's key helpers and `Found` from here (the
//!   one intended cycle: the slot cache is keyed by the gate's key).

pub mod attach;
pub(crate) mod close_wake;
pub(crate) mod fork;
mod held;
mod lifecycle;
pub(crate) mod local;
pub(crate) mod open_error;
pub(crate) mod pin;
pub(crate) mod signal;
pub(crate) mod slots;
mod stats;
pub(crate) mod thread_exit;

pub(crate) use lifecycle::{
    key_id, leave_entered, open_key, wake_closers_with, Found, Reopen, Wait,
};
pub use lifecycle::{CloseError, EnterError, Gate, GateState, HeldLeave, Pass};
pub use signal::SlowPathRefused;
pub use stats::GateStats;
