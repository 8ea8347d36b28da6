//! Thread attach: the first entry from a thread registers it once; thread exit releases it.
//!
//! Go re-attached C-created threads on every callback until 1.21 (about 1–3 µs a call) and
//! then switched to keeping the thread's state until a pthread key destructor runs at thread
//! exit. crosscall does the same (on unix with a pthread key destructor too; elsewhere with a
//! thread-local destructor; see `thread_exit.rs` for why the key): the first
//! [`ensure_attached`] on a thread (created by Rust, by C through `pthread_create`, or by
//! anything else) runs the slow path once; later calls read one word of a thread-local.
//! Every first entry attaches: through [`entry`](crate::entry), `#[crosscall::export]`,
//! [`Gate::enter`](crate::Gate::enter) or the C API.
//!
//! # Hooks
//!
//! [`set_hooks`] installs process-wide `on_attach` / `on_detach` functions:
//!
//! - `on_attach` runs on the attaching thread, inside its first entry, before the gate is
//!   entered and before the callback body runs.
//! - `on_detach` runs on the exiting thread, at its exit (on unix from a pthread key
//!   destructor, after the thread's Rust and C++ thread-local destructors; elsewhere from a
//!   thread-local destructor), after the thread's last entry has returned. Other
//!   thread-locals may already be gone then, so it should not rely on them. On unix the
//!   thread that ends the process with `exit()` (returning from `main`) is not detached:
//!   `exit()` runs no pthread key destructors.
//!
//! Hooks are read when the event happens: a thread that attached before [`set_hooks`] still
//! gets the `on_detach` installed at its exit.
//!
//! Hooks must not panic. A panicking hook would otherwise unwind into C code (or out of a
//! thread-exit destructor), so crosscall catches it, prints a message on stderr and aborts
//! the process — loudly, as Go's runtime does for broken invariants.
//!
//! # Thread exit
//!
//! A thread's first entry may come from its exit (a pthread key destructor of a C library,
//! a thread-local destructor): it attaches, and detaches in a later destructor round. An
//! entry made after the thread detached (from a later destructor round, or from the
//! `on_detach` hook) does not register the thread again: the call still runs, but no attach
//! is counted and no hook runs.

use std::sync::RwLock;

use crate::gate::local::{phase, set_phase, PHASE_ATTACHED, PHASE_DETACHED};

// `std` atomics, not `crate::sync`: these are process-wide statistics outside every model
// checked under loom, and loom atomics cannot be built in a `static` initializer.
use std::sync::atomic::{AtomicUsize, Ordering};

// The attach phase lives in the fast path's one thread-local (`local.rs`), so checking it
// costs nothing extra on an entry. It has no destructor, so it is readable at thread exit.
// What runs the detach at thread exit is `thread_exit` (a pthread key destructor on unix).

/// Attaches counted since process start. Relaxed: a statistic read by tests after a join,
/// which already orders the attaching thread's writes before the read.
static ATTACHES: AtomicUsize = AtomicUsize::new(0);
/// Detaches counted since process start. Relaxed for the same reason as `ATTACHES`.
static DETACHES: AtomicUsize = AtomicUsize::new(0);

/// The user's hooks. A lock is fine: it is read once per thread attach and detach, never
/// on the fast path.
static HOOKS: RwLock<Option<Hooks>> = RwLock::new(None);

#[derive(Clone, Copy)]
struct Hooks {
    on_attach: fn(),
    on_detach: fn(),
}

/// The thread's detach, run once by `thread_exit` when an attached thread exits.
pub(crate) fn detach() {
    set_phase(PHASE_DETACHED);
    DETACHES.fetch_add(1, Ordering::Relaxed);
    if let Some(hooks) = current_hooks() {
        run_hook(hooks.on_detach, "on_detach");
    }
}

/// Registers the calling thread on its first call; afterwards only a thread-local read.
///
/// Called by [`entry`](crate::entry) and `#[crosscall::export]` functions before entering the
/// gate; call it yourself only to attach a thread ahead of its first callback.
///
/// # Examples
///
/// ```
/// use crosscall::attach;
///
/// std::thread::spawn(|| {
///     assert!(!attach::is_attached());
///     attach::ensure_attached();
///     attach::ensure_attached(); // no-op: already attached
///     assert!(attach::is_attached());
/// })
/// .join()
/// .unwrap();
/// ```
#[inline]
pub fn ensure_attached() {
    if phase() != PHASE_ATTACHED {
        attach_slow();
    }
}

#[cold]
#[inline(never)]
fn attach_slow() {
    if phase() == PHASE_DETACHED {
        return;
    }
    // Arm the detach first: if the thread's exit is past the point where it could still run
    // it, the thread is left unregistered instead of registering a detach that never runs.
    if !crate::gate::thread_exit::arm_detach() {
        set_phase(PHASE_DETACHED);
        return;
    }
    set_phase(PHASE_ATTACHED);
    ATTACHES.fetch_add(1, Ordering::Relaxed);
    if let Some(hooks) = current_hooks() {
        run_hook(hooks.on_attach, "on_attach");
    }
}

/// Whether the calling thread has attached and not yet detached.
///
/// # Examples
///
/// ```
/// crosscall::attach::ensure_attached();
/// assert!(crosscall::attach::is_attached());
/// ```
pub fn is_attached() -> bool {
    phase() == PHASE_ATTACHED
}

/// Number of thread attaches since the process started (each thread counts at most once).
///
/// # Examples
///
/// ```
/// use crosscall::attach;
///
/// let before = attach::attach_count();
/// std::thread::spawn(attach::ensure_attached).join().unwrap();
/// assert!(attach::attach_count() > before);
/// ```
pub fn attach_count() -> usize {
    ATTACHES.load(Ordering::Relaxed)
}

/// Number of attached threads that have exited since the process started.
///
/// A thread's detach is counted before [`JoinHandle::join`](std::thread::JoinHandle::join)
/// (or `pthread_join`) returns for it.
///
/// # Examples
///
/// ```
/// use crosscall::attach;
///
/// let before = attach::detach_count();
/// std::thread::spawn(attach::ensure_attached).join().unwrap();
/// assert!(attach::detach_count() > before);
/// ```
pub fn detach_count() -> usize {
    DETACHES.load(Ordering::Relaxed)
}

/// Installs process-wide hooks run when a thread attaches and when it detaches.
///
/// Replaces any hooks set before. See the [module docs](self#hooks) for when each runs.
/// Hooks must not panic: a panicking hook aborts the process after a message on stderr.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// static SEEN: AtomicUsize = AtomicUsize::new(0);
/// fn on_attach() {
///     SEEN.fetch_add(1, Ordering::Relaxed);
/// }
/// fn on_detach() {}
///
/// crosscall::attach::set_hooks(on_attach, on_detach);
/// std::thread::spawn(crosscall::attach::ensure_attached).join().unwrap();
/// assert!(SEEN.load(Ordering::Relaxed) >= 1);
/// crosscall::attach::clear_hooks();
/// ```
pub fn set_hooks(on_attach: fn(), on_detach: fn()) {
    let hooks = Some(Hooks {
        on_attach,
        on_detach,
    });
    // Nothing panics while holding the lock, so poisoning cannot happen; recover anyway.
    *HOOKS
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = hooks;
}

/// Removes the hooks installed by [`set_hooks`]; threads attach and detach silently again.
///
/// # Examples
///
/// ```
/// crosscall::attach::set_hooks(|| {}, || {});
/// crosscall::attach::clear_hooks();
/// ```
pub fn clear_hooks() {
    *HOOKS
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
}

/// A copy of the hooks; the lock is released before any hook runs, so a hook may call
/// [`set_hooks`] without deadlocking.
fn current_hooks() -> Option<Hooks> {
    *HOOKS
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn run_hook(hook: fn(), name: &str) {
    if std::panic::catch_unwind(hook).is_err() {
        eprintln!("crosscall: the attach {name} hook panicked; aborting");
        std::process::abort();
    }
}
