//! Unload safety: the shared object that holds crosscall pins itself in memory before it
//! registers anything that outlives a call (its pthread key destructor).
//!
//! # Why pin
//!
//! On unix a thread's crosscall state is released by a pthread key destructor
//! (`thread_exit.rs`). Its code lives in the object crosscall was linked into: a Rust `cdylib`
//! that a host may `dlclose()` while threads that called it are still alive. If the object
//! were unmapped, those threads would jump into unmapped memory when they exit (SIGSEGV in
//! glibc's `__nptl_deallocate_tsd`), and every load/unload cycle would use up one of the
//! process's 1024 pthread keys.
//!
//! Deleting the key from a library destructor (a "clean unload") does not fix this: threads
//! that are alive keep their state, which then leaks, and the slots it holds stay claimed in
//! gates that no longer exist; glibc cannot unmap static TLS either (the fast path's
//! initial-exec thread-local). So crosscall does what glibc itself does for a library with
//! pending thread-local destructors (`__cxa_thread_atexit_impl` keeps its object loaded) and
//! what Go's runtime does for itself: on the first thread state it creates, right after it
//! creates the key, it re-opens its own object with `RTLD_NOLOAD | RTLD_NODELETE`, found by
//! `dladdr` on one of its own symbols. From then on `dlclose()` of the library succeeds but
//! leaves it mapped; a later `dlopen()` of the same path returns the same, already-initialized
//! instance (its statics — gates, states — are as the last `close` left them: reopen a closed
//! gate with `Gate::reopen`). A library that is loaded and unloaded without any thread ever
//! entering a gate or attaching is not pinned and unloads normally.
//!
//! An executable, or an object the dynamic loader cannot re-open by name, is never unloaded
//! anyway: a failed re-open is ignored.

/// Keeps the object that contains this code loaded until the process exits. Idempotent,
/// cheap after the first call (it is only called once per key creation anyway).
#[cfg(all(
    any(target_os = "linux", target_os = "android", target_vendor = "apple"),
    not(miri)
))]
pub(crate) fn pin_this_object() {
    // Any symbol of this object does; a static's address is one.
    static ANCHOR: u8 = 0;
    // SAFETY: `Dl_info` is plain old data (pointers and integers); all-zero is a valid value
    // that `dladdr` overwrites on success.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: `dladdr` reads the loader's tables for an address of this object and writes
    // `info`, a valid out-pointer.
    let found = unsafe { libc::dladdr(std::ptr::addr_of!(ANCHOR).cast(), &mut info) };
    if found == 0 || info.dli_fname.is_null() {
        return;
    }
    // SAFETY: `dli_fname` is the loader's NUL-terminated path of the object containing
    // `ANCHOR`, valid while the object is loaded (it is: we are running its code). NOLOAD:
    // never loads anything new, only takes one more reference to the object already mapped;
    // NODELETE: the object is then never unmapped, whatever its reference count.
    let handle = unsafe {
        libc::dlopen(
            info.dli_fname,
            libc::RTLD_NOW | libc::RTLD_NOLOAD | libc::RTLD_NODELETE,
        )
    };
    // The handle is deliberately never closed: that reference is the pin. NULL (the main
    // executable opened by a path the loader does not recognize) needs no pin.
    let _ = handle;
}

/// Elsewhere (and under Miri, which has no dynamic loader) there is nothing to pin.
#[cfg(not(all(
    any(target_os = "linux", target_os = "android", target_vendor = "apple"),
    not(miri)
)))]
#[cfg_attr(any(not(unix), miri), allow(dead_code))] // called only where a pthread key is made
pub(crate) fn pin_this_object() {}
