//! The end of a thread's crosscall state: at thread exit its gate slots are released
//! (`slots::OwnedSlots`) and it is detached (`attach::detach`), once, from one destructor.
//!
//! # Why a pthread key, not a `thread_local!` with `Drop` (unix)
//!
//! glibc runs the thread-local destructors of Rust and C++ (`__call_tls_dtors`) *before* the
//! pthread key destructors (`__nptl_deallocate_tsd`). A thread whose first crosscall entry
//! comes from a key destructor — a C library cleaning up at thread exit calls into a Rust
//! library — would register its thread-local destructor after they all ran: it would never
//! run, the thread's slots would stay claimed, a C API entry it holds would never end, and
//! `close` would wait forever. Go (1.21 on) keeps a C thread's runtime state until a pthread
//! key destructor runs; crosscall does the same. On unix the thread's state is a heap
//! allocation whose pointer is the value of one process-wide key, set on the thread's first
//! attach or slot claim; the key's destructor ([`release_at_exit`]) releases it.
//!
//! A destructor round that sets a key value makes the C library run another round, up to
//! `PTHREAD_DESTRUCTOR_ITERATIONS` (4 in glibc, musl and macOS; POSIX's minimum). So a first
//! entry from another key's destructor, and an entry made *after* ours ran (from a later
//! round of another key's destructor, or from the `on_detach` hook), arm the key again and
//! are released in a later round. Once ours has run in that many rounds there is
//! none left: [`with_slots`] then returns `None` and the entry claims a slot for itself alone
//! (`slots::Claim::Temporary`).
//!
//! Known limit: the C library does not say which round it is in, so the rounds are counted by
//! our destructor's runs. If another key's destructor keeps re-arming itself through every
//! round, makes this thread's *first* entry in round 1 from a key created after ours, and
//! enters again in the last round, that last entry arms a round that never comes: its slot
//! stays claimed (a C API entry held there then keeps `close` waiting).
//!
//! On Windows the state is released by a TLS callback instead (`thread_exit_windows.rs`).
//! Elsewhere (neither unix nor Windows), and under loom (whose modelled threads have their own
//! thread-locals), the state is a `thread_local!` with a destructor, as before.

#[cfg(all(unix, not(loom)))]
pub(crate) use key::{arm_detach, begin_slow_path, pause_slow_path, with_slots};
#[cfg(any(not(any(unix, windows)), loom))]
pub(crate) use thread_local_dtor::{arm_detach, with_slots};
// Windows: a TLS callback (`.CRT$XLA_crosscall`), the counterpart of the pthread key (see that file).
#[cfg(all(windows, not(loom)))]
#[path = "thread_exit_windows.rs"]
mod tls_callback;
#[cfg(all(windows, not(loom)))]
pub(crate) use tls_callback::{arm_detach, with_slots};
// Where no pthread key holds the thread's state, its slow-path mark is a thread-local of its own.
#[cfg(any(not(unix), loom))]
pub(crate) use portable_mark::{begin_slow_path, pause_slow_path};

use crate::gate::slots::PaddedSlot;

/// Whether the calling thread owns `slot` (for `fork.rs`). `true` as well when its slots
/// cannot be read right now (borrowed by code this call interrupted): such a slot is left
/// alone rather than reset under its owner.
#[cfg_attr(any(not(unix), miri), allow(dead_code))] // no fork handling off unix or under Miri
pub(crate) fn owns_slot(slot: *const PaddedSlot) -> bool {
    with_slots(false, |owned| {
        owned
            .try_borrow()
            .map_or(true, |owned| owned.contains(slot))
    })
    .unwrap_or(false)
}

#[cfg(all(unix, not(loom)))]
mod key {
    use std::cell::{Cell, RefCell};
    use std::ffi::c_void;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use crate::gate::slots::OwnedSlots;

    /// Destructor rounds a thread exit runs at most: `PTHREAD_DESTRUCTOR_ITERATIONS`, which
    /// is 4 in glibc, musl and macOS (and POSIX's `_POSIX_THREAD_DESTRUCTOR_ITERATIONS`).
    pub(super) const DESTRUCTOR_ROUNDS: u8 = 4;

    /// What a thread's exit releases. Owned by the key: its value is `Box::into_raw` of one.
    struct ThreadState {
        /// The thread's gate slots.
        slots: RefCell<OwnedSlots>,
        /// Whether the thread attached: the exit then detaches it.
        attached: Cell<bool>,
        /// Whether the thread is inside a C API slow path (`signal.rs`): a call that finds it
        /// set interrupted that path (a signal handler) and is refused at once.
        busy: Cell<bool>,
    }

    // No `Drop`, `const`-initialized: a plain TLS word, readable and writable at any point of
    // the thread's exit (no lazy initialization, no destructor registered).
    std::thread_local! {
        /// How many times [`release_at_exit`] ran on this thread.
        static ROUNDS_RUN: Cell<u8> = const { Cell::new(0) };
    }

    /// The process-wide key plus one (0: not created yet); created on first use. Not a
    /// `OnceLock`: a `fork()` while another thread runs a `OnceLock`'s initializer leaves the
    /// child waiting for a thread it does not have, at its first entry (seen on musl: every
    /// thread of the child blocked in `key()`). Racing creators each make a key; the first to
    /// publish wins and the others delete theirs, so nobody ever waits. `std`'s atomics, not
    /// `crate::sync`: this module is not built under loom.
    static KEY: AtomicUsize = AtomicUsize::new(0);

    fn key() -> libc::pthread_key_t {
        // Acquire pairs with the Release publication below (the key is created).
        let published = KEY.load(Ordering::Acquire);
        if published != 0 {
            return (published - 1) as libc::pthread_key_t;
        }
        create_key()
    }

    #[cold]
    fn create_key() -> libc::pthread_key_t {
        let mut key: libc::pthread_key_t = 0;
        // SAFETY: `key` is a valid out-pointer; `release_at_exit` has the destructor type
        // pthread expects and never unwinds. The published key is never deleted: the object
        // that holds its destructor is pinned below, so it stays valid.
        let rc = unsafe { libc::pthread_key_create(&mut key, Some(release_at_exit)) };
        if rc != 0 {
            // As Go's runtime/cgo does: without the key no thread can be released at
            // exit, and failing later (a `close` that never returns) would be worse.
            eprintln!(
                "crosscall: pthread_key_create failed ({}); aborting",
                std::io::Error::from_raw_os_error(rc)
            );
            std::process::abort();
        }
        // AcqRel: publishes the key (Release) or reads the winner's (Acquire).
        match KEY.compare_exchange(0, key as usize + 1, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => {
                // The key's destructor lives in this object: keep the object mapped for as
                // long as a thread may run it (see `pin.rs`).
                crate::gate::pin::pin_this_object();
                key
            }
            Err(winner) => {
                // Another thread published first; ours was never handed out.
                // SAFETY: `key` was created just above and no thread has set a value in it.
                unsafe { libc::pthread_key_delete(key) };
                (winner - 1) as libc::pthread_key_t
            }
        }
    }

    /// The calling thread's state, or NULL when it has none (never armed, or released).
    fn current() -> *mut ThreadState {
        // SAFETY: `key()` is a live key (created above, never deleted).
        unsafe { libc::pthread_getspecific(key()) }.cast()
    }

    /// [`current`] without creating the key: no lock, no allocation (for `signal.rs`).
    fn current_if_keyed() -> *mut ThreadState {
        // Acquire: as in `key`.
        match KEY.load(Ordering::Acquire) {
            0 => std::ptr::null_mut(),
            // SAFETY: a published key is live (never deleted).
            published => {
                unsafe { libc::pthread_getspecific((published - 1) as libc::pthread_key_t) }.cast()
            }
        }
    }

    /// The calling thread marked as inside a slow path until this drops (see `signal.rs`).
    pub(crate) struct SlowPath(*const ThreadState);

    impl Drop for SlowPath {
        fn drop(&mut self) {
            // SAFETY: as in `begin_slow_path`: the thread's own live state, or NULL.
            if let Some(state) = unsafe { self.0.as_ref() } {
                state.busy.set(false);
            }
        }
    }

    /// Clears the calling thread's busy mark until the guard drops (user code called from
    /// inside a slow path, which may call back into crosscall).
    pub(crate) fn pause_slow_path() -> SlowPathPaused {
        let state = current_if_keyed();
        // SAFETY: as in `begin_slow_path`.
        match unsafe { state.as_ref() } {
            Some(state) if state.busy.replace(false) => SlowPathPaused(state),
            _ => SlowPathPaused(std::ptr::null()),
        }
    }

    /// Restores the busy mark [`pause_slow_path`] cleared.
    pub(crate) struct SlowPathPaused(*const ThreadState);

    impl Drop for SlowPathPaused {
        fn drop(&mut self) {
            // SAFETY: as in `begin_slow_path`: the thread's own live state, or NULL.
            if let Some(state) = unsafe { self.0.as_ref() } {
                state.busy.set(true);
            }
        }
    }

    /// Marks the calling thread as inside a slow path. `Err(true)`: it already is (this call
    /// interrupted it). `Err(false)`: it has no state and `create` is false (never prepared).
    /// With `create`, a thread without state gets one (its first entry: allocates).
    pub(crate) fn begin_slow_path(create: bool) -> Result<SlowPath, bool> {
        let state = if create {
            current_or_armed()
        } else {
            current_if_keyed()
        };
        // SAFETY: as in `with_slots`: a non-null value is this thread's live state, freed
        // only by `release_at_exit` after the C library cleared it from the key (never while
        // a call of this thread is in progress).
        match unsafe { state.as_ref() } {
            Some(state) if state.busy.get() => Err(true),
            Some(state) => {
                state.busy.set(true);
                Ok(SlowPath(state))
            }
            // Exiting past the last destructor round: nothing to guard, nothing to refuse.
            None if create => Ok(SlowPath(std::ptr::null())),
            None => Err(false),
        }
    }

    /// The calling thread's state, created and armed if it has none; NULL if it has none and
    /// can no longer be released at exit (see the module docs).
    fn current_or_armed() -> *mut ThreadState {
        let state = current();
        if !state.is_null() || ROUNDS_RUN.with(Cell::get) >= DESTRUCTOR_ROUNDS {
            return state;
        }
        let state = Box::into_raw(Box::new(ThreadState {
            slots: RefCell::new(OwnedSlots::new()),
            attached: Cell::new(false),
            busy: Cell::new(false),
        }));
        // SAFETY: `key()` is a live key; the value is only ever read back by this module.
        if unsafe { libc::pthread_setspecific(key(), state.cast()) } != 0 {
            // ENOMEM: the library could not allocate the key's storage for this thread.
            // SAFETY: `state` came from `Box::into_raw` just above and was not published.
            drop(unsafe { Box::from_raw(state) });
            return std::ptr::null_mut();
        }
        state
    }

    /// Runs `f` on the calling thread's owned slots; with `create`, makes them first if the
    /// thread has none (arming their release at exit). `None` if there are none (or, with
    /// `create`, if they could not be released at this thread's exit any more).
    pub(crate) fn with_slots<R>(
        create: bool,
        f: impl FnOnce(&RefCell<OwnedSlots>) -> R,
    ) -> Option<R> {
        let state = if create {
            current_or_armed()
        } else {
            current()
        };
        // SAFETY: a non-null value of the key is a live `Box<ThreadState>` of this thread
        // (set by `current_or_armed` on this thread; keys are per thread). It is freed only by
        // `release_at_exit`, which gets it after the C library cleared it from the key, so
        // the pointer read here is not the one being freed even if this runs from inside that
        // destructor (from the `on_detach` hook), and it stays alive while `f` runs on this
        // thread. Only shared references are made; mutation goes through the `RefCell`.
        let state = unsafe { state.as_ref()? };
        // Borrowed already: this call interrupted `f` on this thread (a signal handler, see
        // `signal.rs`). Borrowing again would panic ("already borrowed"); answer as for a
        // thread that has no slots to offer (a first entry then uses a temporary slot).
        if state.slots.try_borrow_mut().is_err() {
            return None;
        }
        Some(f(&state.slots))
    }

    /// Makes the calling thread's exit run `attach::detach`; `false` if it cannot any more.
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

    /// The key's destructor: releases the thread's slots (clearing the fast path's cache
    /// first), then detaches the thread if it attached, on the exiting thread.
    unsafe extern "C" fn release_at_exit(value: *mut c_void) {
        ROUNDS_RUN.with(|rounds| rounds.set(rounds.get().saturating_add(1)));
        // SAFETY: the key's non-null values all come from `Box::into_raw` in
        // `current_or_armed`; the C library passes each one once, after clearing it from the
        // key, so this is its only owner now.
        let state = unsafe { Box::from_raw(value.cast::<ThreadState>()) };
        let ThreadState {
            slots, attached, ..
        } = *state;
        // `OwnedSlots::drop`: forgets the cache, then releases (or keeps) each slot.
        drop(slots);
        if attached.get() {
            // May run the `on_detach` hook, which may enter a gate again: that arms a new
            // state (the one above is already out of the key) for a later round.
            crate::gate::attach::detach();
        }
    }
}

#[cfg(any(not(any(unix, windows)), loom))]
mod thread_local_dtor {
    use std::cell::RefCell;

    use crate::gate::slots::OwnedSlots;

    #[cfg(not(loom))]
    std::thread_local! {
        static OWNED: RefCell<OwnedSlots> = const { RefCell::new(OwnedSlots::new()) };
    }
    #[cfg(loom)]
    loom::thread_local! {
        static OWNED: RefCell<OwnedSlots> = RefCell::new(OwnedSlots::new());
    }

    // A plain `std` thread-local also under loom: attach is defined by the platform's
    // thread-exit destructors, which is what this one has.
    std::thread_local! {
        // Touched once per thread; its destructor is the detach.
        static DETACH_GUARD: DetachGuard = const { DetachGuard };
    }

    struct DetachGuard;

    impl Drop for DetachGuard {
        fn drop(&mut self) {
            crate::gate::attach::detach();
        }
    }

    /// As the unix version: `None` once the thread's thread-locals are being destroyed.
    pub(crate) fn with_slots<R>(
        _create: bool,
        f: impl FnOnce(&RefCell<OwnedSlots>) -> R,
    ) -> Option<R> {
        OWNED.try_with(f).ok()
    }

    /// As the unix version: arms the destructor; `false` if thread-locals are already
    /// being torn down (the detach would never run).
    pub(crate) fn arm_detach() -> bool {
        DETACH_GUARD.try_with(|_| ()).is_ok()
    }
}

/// The slow-path mark (see `signal.rs`) where the thread's state is not a pthread key's value:
/// a `Drop`-free thread-local pair, readable until the thread's thread-locals are torn down.
#[cfg(any(not(unix), loom))]
mod portable_mark {
    std::thread_local! {
        static BUSY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        static PREPARED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    /// As the unix version.
    pub(crate) struct SlowPath(bool);

    impl Drop for SlowPath {
        fn drop(&mut self) {
            if self.0 {
                let _ = BUSY.try_with(|busy| busy.set(false));
            }
        }
    }

    /// As the unix version.
    pub(crate) struct SlowPathPaused(bool);

    impl Drop for SlowPathPaused {
        fn drop(&mut self) {
            if self.0 {
                let _ = BUSY.try_with(|busy| busy.set(true));
            }
        }
    }

    /// As the unix version.
    pub(crate) fn pause_slow_path() -> SlowPathPaused {
        SlowPathPaused(BUSY.try_with(|busy| busy.replace(false)).unwrap_or(false))
    }

    /// As the unix version.
    pub(crate) fn begin_slow_path(create: bool) -> Result<SlowPath, bool> {
        if create {
            let _ = PREPARED.try_with(|p| p.set(true));
        } else if !PREPARED.try_with(|p| p.get()).unwrap_or(false) {
            return Err(false);
        }
        match BUSY.try_with(|busy| busy.replace(true)) {
            Ok(true) => Err(true),
            Ok(false) => Ok(SlowPath(true)),
            Err(_) => Ok(SlowPath(false)),
        }
    }
}
