//! Windows: a thread's crosscall state is released at its exit by a fiber-local storage (FLS)
//! callback, the counterpart of the pthread key destructor used on unix (`thread_exit.rs`).
//!
//! # Why FLS, and not a TLS callback or a `thread_local!` destructor
//!
//! - `FlsAlloc` takes a callback that Windows runs on the exiting thread for every non-NULL
//!   value of the index, from `LdrShutdownThread`, for threads made by `CreateThread`,
//!   `_beginthreadex` and Rust alike; nothing needs a `DllMain` or a `.CRT$XL*` section, so it
//!   works the same in an executable, a Rust `cdylib` and a static library linked into a C
//!   program (a TLS callback needs the image's TLS directory, which a static library cannot
//!   add on every toolchain). It is the mechanism Rust's std uses for its own thread-local
//!   destructors on Windows.
//! - The state is armed on the thread's first attach or slot claim, as with the pthread key:
//!   a first entry made from another library's FLS callback or thread-local destructor still
//!   arms it, as long as our callback has not run yet.
//! - Once our callback ran (the thread is exiting), later entries on the thread (from the
//!   `on_detach` hook, or from a callback that runs after ours) are not armed again: a value
//!   set during the loader's FLS clean-up would never be passed to a callback. Those entries
//!   claim a slot for themselves alone (`slots::Claim::Temporary`) and do not attach, as after
//!   the last destructor round on unix.
//!
//! # `FreeLibrary`
//!
//! The callback is code in the image that contains crosscall. If a DLL built with crosscall
//! were unloaded while the index is allocated, the next thread exit would call into unmapped
//! memory (`FlsFree` at unload would instead run every thread's callback on the unloading
//! thread, releasing other threads' slots from the wrong thread). So the first `FlsAlloc`
//! pins that image (`GetModuleHandleExW` with `GET_MODULE_HANDLE_EX_FLAG_PIN`): from then on
//! `FreeLibrary` leaves it loaded until the process exits, as glibc keeps a shared object
//! loaded while a thread has `thread_local!` destructors registered in it.
//!
//! # Fibers
//!
//! FLS values are per fiber, while the fast path's cache (`local.rs`) is per thread. A thread
//! that converts itself to a fiber and switches to another fiber between entries is not
//! supported (crosscall's entries are not fiber-aware, like Rust's std thread-locals); threads
//! that never switch fibers, which is every thread unless the host uses fibers, are unaffected.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::sync::OnceLock;

use crate::gate::slots::OwnedSlots;

type Hmodule = *mut c_void;

/// `FLS_OUT_OF_INDEXES`: what `FlsAlloc` returns when it fails.
const FLS_OUT_OF_INDEXES: u32 = u32::MAX;
/// `GET_MODULE_HANDLE_EX_FLAG_PIN`: the module stays loaded until the process exits.
const GET_MODULE_HANDLE_EX_FLAG_PIN: u32 = 0x1;
/// `GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS`: the "name" is an address inside the module.
const GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS: u32 = 0x4;

#[link(name = "kernel32")]
extern "system" {
    fn FlsAlloc(callback: Option<unsafe extern "system" fn(*mut c_void)>) -> u32;
    fn FlsGetValue(index: u32) -> *mut c_void;
    fn FlsSetValue(index: u32, value: *mut c_void) -> i32;
    fn GetModuleHandleExW(flags: u32, name: *const u16, module: *mut Hmodule) -> i32;
}

/// What a thread's exit releases. Owned by the FLS index: its value is `Box::into_raw` of one.
struct ThreadState {
    /// The thread's gate slots.
    slots: RefCell<OwnedSlots>,
    /// Whether the thread attached: the exit then detaches it.
    attached: Cell<bool>,
}

// No `Drop`, `const`-initialized: a plain TLS word, usable at any point of the thread's exit.
std::thread_local! {
    /// Whether [`release_at_exit`] ran on this thread (it is exiting).
    static RELEASED: Cell<bool> = const { Cell::new(false) };
}

/// The process-wide FLS index; allocated (and the image pinned) on first use.
static INDEX: OnceLock<u32> = OnceLock::new();

fn index() -> u32 {
    *INDEX.get_or_init(|| {
        let mut module: Hmodule = std::ptr::null_mut();
        // SAFETY: with FROM_ADDRESS the "name" is an address inside the module to pin (our
        // callback); `module` is a valid out-pointer. Pinning never fails for a loaded image.
        let pinned = unsafe {
            GetModuleHandleExW(
                GET_MODULE_HANDLE_EX_FLAG_PIN | GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS,
                release_at_exit as *const u16,
                &mut module,
            )
        };
        // SAFETY: `release_at_exit` has the callback's type and never unwinds; the index is
        // never freed.
        let index = unsafe { FlsAlloc(Some(release_at_exit)) };
        if pinned == 0 || index == FLS_OUT_OF_INDEXES {
            // As on unix: without the callback no thread can be released at exit, and
            // failing later (a `close` that never returns) would be worse.
            eprintln!(
                "crosscall: {} failed ({}); aborting",
                if pinned == 0 {
                    "GetModuleHandleExW(PIN)"
                } else {
                    "FlsAlloc"
                },
                std::io::Error::last_os_error()
            );
            std::process::abort();
        }
        index
    })
}

/// The calling thread's state, or NULL when it has none (never armed, or released).
fn current() -> *mut ThreadState {
    // SAFETY: `index()` is a live FLS index (allocated above, never freed).
    unsafe { FlsGetValue(index()) }.cast()
}

/// The calling thread's state, created and armed if it has none; NULL if it has none and can
/// no longer be released at exit (see the module docs).
fn current_or_armed() -> *mut ThreadState {
    if RELEASED.with(Cell::get) {
        return std::ptr::null_mut();
    }
    let state = current();
    if !state.is_null() {
        return state;
    }
    let state = Box::into_raw(Box::new(ThreadState {
        slots: RefCell::new(OwnedSlots::new()),
        attached: Cell::new(false),
    }));
    // SAFETY: `index()` is a live index; the value is only ever read back by this module.
    if unsafe { FlsSetValue(index(), state.cast()) } == 0 {
        // SAFETY: `state` came from `Box::into_raw` just above and was not published.
        drop(unsafe { Box::from_raw(state) });
        return std::ptr::null_mut();
    }
    state
}

/// As the unix version: runs `f` on the calling thread's owned slots; with `create`, makes
/// them first if the thread has none (arming their release at exit).
pub(crate) fn with_slots<R>(create: bool, f: impl FnOnce(&RefCell<OwnedSlots>) -> R) -> Option<R> {
    let state = if create {
        current_or_armed()
    } else if RELEASED.with(Cell::get) {
        std::ptr::null_mut()
    } else {
        current()
    };
    // SAFETY: a non-null value of the index is a live `Box<ThreadState>` of this thread (FLS
    // values are per thread, set only by `current_or_armed` on it). It is freed only by
    // `release_at_exit`, which sets `RELEASED` first, so it is never returned here once it is
    // being freed, and it stays alive while `f` runs on this thread. Only shared references
    // are made; mutation goes through the `RefCell`.
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

/// The FLS callback: releases the thread's slots (clearing the fast path's cache first), then
/// detaches the thread if it attached, on the exiting thread.
unsafe extern "system" fn release_at_exit(value: *mut c_void) {
    RELEASED.with(|released| released.set(true));
    if value.is_null() {
        return;
    }
    // SAFETY: the index's non-null values all come from `Box::into_raw` in
    // `current_or_armed`; Windows passes each one once, at the thread's exit (the index is
    // never freed, and fibers are not supported, see the module docs).
    let state = unsafe { Box::from_raw(value.cast::<ThreadState>()) };
    let ThreadState { slots, attached } = *state;
    // `OwnedSlots::drop`: forgets the cache, then releases (or keeps) each slot.
    drop(slots);
    if attached.get() {
        crate::gate::attach::detach();
    }
}
