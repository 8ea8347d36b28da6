//! Windows: a thread's crosscall state is released at its exit by a TLS callback of the image
//! that contains crosscall, the counterpart of the pthread key destructor used on unix
//! (`thread_exit.rs`).
//!
//! # Why a TLS callback, and why before Rust's thread-local destructors
//!
//! Windows calls the functions listed in an image's `.CRT$XL*` sections (its TLS callbacks)
//! with `DLL_THREAD_DETACH` on every exiting thread, for threads made by `CreateThread`,
//! `_beginthreadex` and Rust alike, in the order of the section names. Rust's std registers
//! its own at `.CRT$XLB` and runs the thread's `thread_local!` destructors from it; on
//! `x86_64-pc-windows-gnu` every `thread_local!` (the portable fast path's `Local` included)
//! is an OS TLS slot whose storage that callback frees. So ours sorts first (`.CRT$XLA_`,
//! right after the array's start marker) and releases the thread's slots while everything it
//! touches is still alive. The difference from unix: an entry made later, from a Rust
//! thread-local destructor, finds the thread released and claims a slot for itself alone
//! (`slots::Claim::Temporary`) without attaching, as after the last destructor round on unix
//! (the thread is not attached inside those destructors).
//!
//! An FLS callback (`FlsAlloc`) was the other candidate; it runs before the TLS callbacks too.
//! But Windows calls it only for a non-NULL value, so a thread that never entered before its
//! exit would not be marked as released, and its first entry from a thread-local destructor
//! would arm a state that is never released (tried under wine: that thread's attach was never
//! matched by a detach); FLS values are per fiber, not per thread like the fast path's cache;
//! and an FLS callback left behind by a `FreeLibrary`ed DLL is called at the next thread exit,
//! so the DLL would have to be pinned.
//!
//! # Rounds
//!
//! Our callback releases the thread's state, which runs the `on_detach` hook; an entry made
//! from that hook arms a new state, which the same callback releases in another round, up to
//! [`ROUNDS`] (as the C library's destructor rounds on unix). Once the callback has run,
//! entries on the exiting thread claim a slot for themselves alone
//! (`slots::Claim::Temporary`) and do not attach.
//!
//! # `FreeLibrary`, process exit
//!
//! The callback is part of the image: a DLL built with crosscall takes it along when it is
//! unloaded, and threads still alive then are simply never released (their slots belong to
//! gates of the unloaded DLL). Nothing is left behind that could be called after the unload.
//! The thread that ends the process is not detached (`DLL_PROCESS_DETACH` is ignored), as on
//! unix, where `exit()` runs no pthread key destructors.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;

use crate::gate::slots::OwnedSlots;

/// `DLL_THREAD_DETACH`: the reason a TLS callback gets for a thread's exit.
const DLL_THREAD_DETACH: u32 = 3;

/// How many times the callback releases a state that was armed again from inside it (the
/// `on_detach` hook entering a gate); the same number of rounds as glibc's, musl's and
/// macOS's `PTHREAD_DESTRUCTOR_ITERATIONS`.
const ROUNDS: u8 = 4;

/// What a thread's exit releases; `Box::into_raw` of one is kept in [`STATE`].
struct ThreadState {
    /// The thread's gate slots.
    slots: RefCell<OwnedSlots>,
    /// Whether the thread attached: the exit then detaches it.
    attached: Cell<bool>,
}

// No `Drop`, `const`-initialized. On `x86_64-pc-windows-gnu` these are OS TLS slots that std's
// TLS callback frees after ours ran: every access uses `try_with`, and a slot already freed
// reads as "no state, released".
std::thread_local! {
    /// The calling thread's state, or NULL.
    static STATE: Cell<*mut ThreadState> = const { Cell::new(std::ptr::null_mut()) };
    /// Whether [`release_at_exit`] ran on this thread (it is exiting): no new state is armed.
    static RELEASED: Cell<bool> = const { Cell::new(false) };
}

/// The TLS callback, first in the image's TLS callback array: after its start marker
/// (`.CRT$XLA`), before Rust std's (`.CRT$XLB`) and the C runtimes' (`.CRT$XLC`, `.CRT$XLD`).
/// `#[used]`: kept even though nothing refers to it by name; [`current_or_armed`] also reads
/// it, so that the object holding it is linked wherever this module is used.
#[used]
#[link_section = ".CRT$XLA_crosscall"]
static CALLBACK: unsafe extern "system" fn(*mut c_void, u32, *mut c_void) = tls_callback;

/// The calling thread's state, or NULL (none, or the thread-locals are gone: released).
fn current() -> *mut ThreadState {
    STATE.try_with(Cell::get).unwrap_or(std::ptr::null_mut())
}

/// Whether the thread's exit released its state already (or its thread-locals are gone).
fn released() -> bool {
    RELEASED.try_with(Cell::get).unwrap_or(true)
}

/// The calling thread's state, created and armed if it has none; NULL if it has none and can
/// no longer be released at exit (see the module docs).
fn current_or_armed() -> *mut ThreadState {
    let state = current();
    if !state.is_null() || released() {
        return state;
    }
    // Refer to the callback, so that the linker keeps it wherever this module is linked.
    // SAFETY: a read of an initialized static through a valid reference.
    let _ = unsafe { std::ptr::from_ref(&CALLBACK).read_volatile() };
    let state = Box::into_raw(Box::new(ThreadState {
        slots: RefCell::new(OwnedSlots::new()),
        attached: Cell::new(false),
    }));
    if STATE.try_with(|current| current.set(state)).is_err() {
        // SAFETY: `state` came from `Box::into_raw` just above and was not published.
        drop(unsafe { Box::from_raw(state) });
        return std::ptr::null_mut();
    }
    state
}

/// As the unix version: runs `f` on the calling thread's owned slots; with `create`, makes
/// them first if the thread has none (arming their release at exit). `None` if there are none.
pub(crate) fn with_slots<R>(create: bool, f: impl FnOnce(&RefCell<OwnedSlots>) -> R) -> Option<R> {
    let state = if create {
        current_or_armed()
    } else {
        current()
    };
    // SAFETY: a non-null `STATE` is a live `Box<ThreadState>` of this thread (set by
    // `current_or_armed` on it). `release_at_exit` clears `STATE` before it frees the box, so
    // the pointer read here is not one being freed even from inside it (the `on_detach`
    // hook), and it stays alive while `f` runs on this thread. Only shared references are
    // made; mutation goes through the `RefCell`.
    let state = unsafe { state.as_ref()? };
    Some(f(&state.slots))
}

/// As the unix version: makes the calling thread's exit run `attach::detach`; `false` if it
/// cannot any more.
pub(crate) fn arm_detach() -> bool {
    // SAFETY: as in `with_slots`.
    match unsafe { current_or_armed().as_ref() } {
        Some(state) => {
            state.attached.set(true);
            true
        }
        None => false,
    }
}

/// Windows' TLS callback signature: (image base, reason, reserved).
unsafe extern "system" fn tls_callback(_image: *mut c_void, reason: u32, _reserved: *mut c_void) {
    if reason == DLL_THREAD_DETACH {
        release_at_exit();
    }
}

/// Releases the thread's slots (clearing the fast path's cache first), then detaches the
/// thread if it attached, on the exiting thread; again for a state armed meanwhile, up to
/// [`ROUNDS`] times.
fn release_at_exit() {
    for round in 1..=ROUNDS {
        if round == ROUNDS {
            // The last round: what it runs may still enter, but arms nothing any more.
            let _ = RELEASED.try_with(|released| released.set(true));
        }
        let state = STATE
            .try_with(|current| current.replace(std::ptr::null_mut()))
            .unwrap_or(std::ptr::null_mut());
        if state.is_null() {
            break;
        }
        // SAFETY: a non-null `STATE` comes from `Box::into_raw` in `current_or_armed`, and it
        // was just taken out of `STATE`, so this is its only owner now.
        let ThreadState { slots, attached } = *unsafe { Box::from_raw(state) };
        // `OwnedSlots::drop`: forgets the cache, then releases (or keeps) each slot.
        drop(slots);
        if attached.get() {
            // May run the `on_detach` hook, which may enter a gate again: that arms a new
            // state, released by the next round.
            crate::gate::attach::detach();
        }
    }
    let _ = RELEASED.try_with(|released| released.set(true));
}
