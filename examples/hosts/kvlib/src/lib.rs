//! `libhostkv.so`: a small key-value library that Python, Go, C++, Java and Node programs
//! load (`examples/hosts/`), built on crosscall.
//!
//! What a host sees (the C declarations are in `hostkv.h`):
//!
//! - **Lifecycle.** `kv_init()` opens the library; calls made before it *wait* for it (from
//!   any thread). `kv_shutdown()` stops admitting calls, waits for those inside, frees every
//!   store and returns how many `kv_add` calls succeeded since `kv_init`; later calls are
//!   refused. `kv_init()` after a shutdown starts over (handles from before stay invalid).
//!   `kv_wait_ready(ms)` waits at most `ms` for `kv_init` (a bounded alternative to a call that
//!   would wait forever).
//! - **Stores lent as handles.** `kv_store_new()` returns a `uint64_t` handle; a freed, stale
//!   (from before a shutdown) or made-up handle is an error, never a crash.
//! - **Errors.** Every function returns an error value (`-1`, `0` for a handle,
//!   `INT64_MIN` for a counter) and sets the thread's last error, read with
//!   `kv_last_error()`. A panic inside becomes the error value too (`kv_debug_panic` makes one
//!   on purpose, so hosts can test that path).
//!
//! ```
//! use hostkv::*;
//!
//! assert_eq!(kv_init(), 0);
//! let store = kv_store_new();
//! assert_eq!(kv_add(store, c"apples".as_ptr(), 3), 3);
//! assert_eq!(kv_add(store, c"apples".as_ptr(), 4), 7);
//! assert_eq!(kv_get(store, c"apples".as_ptr()), 7);
//! assert_eq!(kv_add(store, std::ptr::null(), 1), KV_ERROR);
//! assert_eq!(last_error_text(), "key is NULL");
//!
//! assert_eq!(kv_shutdown(), 2); // two kv_add calls succeeded
//! assert_eq!(kv_get(store, c"apples".as_ptr()), KV_ERROR); // refused: shut down
//! assert_eq!(last_error_text(), "crosscall: the gate is closed");
//!
//! assert_eq!(kv_init(), 0); // again
//! assert_eq!(kv_get(store, c"apples".as_ptr()), KV_ERROR); // the old handle is stale
//! assert!(last_error_text().contains("stale handle"));
//!
//! fn last_error_text() -> String {
//!     // SAFETY: kv_last_error returns NULL or a C string valid until its next call.
//!     unsafe { std::ffi::CStr::from_ptr(kv_last_error()) }.to_string_lossy().into_owned()
//! }
//! ```
#![deny(unsafe_op_in_unsafe_fn, missing_docs)]
// The exports take C strings from C callers, for whom `unsafe` means nothing: each one's
// pointer contract is in its documentation (and hostkv.h), as for any C function.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

mod store;

use std::ffi::{c_char, CStr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crosscall::{Gate, GateState, Handle, Handles};

use store::{key_from_c, Store};

// `const char *kv_last_error(void)`: this thread's last error for C, or NULL; valid until the
// thread's next failing call into the library.
crosscall::export_last_error!(kv_last_error);

/// The error value of the functions returning a counter (`kv_add`, `kv_get`): `INT64_MIN`.
pub const KV_ERROR: i64 = i64::MIN;

/// The library's lifecycle: opened by [`kv_init`], closed (drained) by [`kv_shutdown`].
static LIB: Gate = Gate::new();

/// The stores hosts hold, by handle. Emptied by [`kv_shutdown`].
static STORES: Handles<Store> = Handles::new(&LIB);

/// Held by [`kv_init`] and [`kv_shutdown`] for their whole run, so a `kv_init` racing a
/// shutdown cannot reopen the gate between its close and its freeing of the stores (which
/// would free the new generation's stores too).
static LIFECYCLE: Mutex<()> = Mutex::new(());

fn lifecycle() -> MutexGuard<'static, ()> {
    // Nothing panics while it is held; a poisoned lock guards no data anyway.
    LIFECYCLE.lock().unwrap_or_else(|e| e.into_inner())
}

/// `kv_add` calls that succeeded since `kv_init`. Relaxed: counted inside the gate, read by
/// `kv_shutdown` after `LIB.close()` drained every call, which orders those increments
/// before the read.
static SERVED: AtomicU64 = AtomicU64::new(0);

/// Opens the library: calls waiting for it proceed, later calls are admitted. After a
/// [`kv_shutdown`] it opens a new generation (old handles stay stale).
///
/// Returns 0, or -1 with the last error set (already open).
#[no_mangle]
pub extern "C" fn kv_init() -> i32 {
    let _lifecycle = lifecycle();
    let opened = match LIB.state() {
        GateState::Uninit => {
            LIB.open();
            Ok(())
        }
        GateState::Closed => LIB.reopen().map_err(|e| e.to_string()),
        GateState::Open => Err("the library is already initialized".to_owned()),
        // Not seen while the lifecycle lock is held (only kv_shutdown closes); kept for safety.
        GateState::Closing => Err("the library is shutting down".to_owned()),
    };
    match opened {
        Ok(()) => 0,
        Err(message) => {
            crosscall::set_last_error(format_args!("kv_init: {message}"));
            -1
        }
    }
}

/// Shuts the library down: admits no new call, waits for every call inside to return,
/// then frees every store (on this thread). A thread still waiting for [`kv_init`] is
/// released with an error. Shutting down a shut-down library does nothing.
///
/// Returns the number of `kv_add` calls that succeeded since `kv_init` (0 if already shut
/// down), or -1 with the last error set (called from inside a call of this library).
#[no_mangle]
pub extern "C" fn kv_shutdown() -> i64 {
    let _lifecycle = lifecycle();
    if let Err(e) = LIB.close() {
        crosscall::set_last_error(format_args!("kv_shutdown: {e}"));
        return -1;
    }
    // Closed and drained: no call is inside, none will be admitted, so every store can go.
    match STORES.clear() {
        Ok(stores) => drop(stores),
        Err(e) => {
            crosscall::set_last_error(format_args!("kv_shutdown: {e}"));
            return -1;
        }
    }
    // Relaxed: see SERVED.
    SERVED.swap(0, Ordering::Relaxed) as i64
}

/// Waits at most `timeout_ms` milliseconds for the library to be initialized.
///
/// Returns 0 once it is open, or -1 with the last error set (timed out, or shut down).
/// Hosts that must not block forever in their first call (a process that cannot exit while
/// a thread waits, see `examples/hosts/README.md`) call this first.
#[no_mangle]
pub extern "C" fn kv_wait_ready(timeout_ms: u32) -> i32 {
    match LIB.enter_timeout(Duration::from_millis(u64::from(timeout_ms))) {
        Ok(_pass) => 0,
        Err(e) => {
            crosscall::set_last_error(format_args!("kv_wait_ready: {e}"));
            -1
        }
    }
}

/// Creates an empty store and returns its handle, or 0 with the last error set.
/// Waits for [`kv_init`] if called before it.
#[crosscall::export(gate = LIB, on_panic = 0)]
#[no_mangle]
pub extern "C" fn kv_store_new() -> Result<u64, String> {
    STORES
        .insert(Store::default())
        .map(Handle::into_raw)
        .map_err(|e| format!("kv_store_new: {e}"))
}

/// Frees the store `store`. Returns 0, or -1 with the last error set (stale or invalid
/// handle, shut down). Calls still using the store on other threads finish first.
#[crosscall::export(gate = LIB, on_panic = -1)]
#[no_mangle]
pub extern "C" fn kv_store_free(store: u64) -> Result<i32, String> {
    let handle = Handle::from_raw(store).ok_or("kv_store_free: invalid handle 0")?;
    // From inside the gate `remove` defers the drop until no call can still use the store.
    STORES
        .remove(handle)
        .map_err(|e| format!("kv_store_free: {e}"))?;
    Ok(0)
}

/// Adds `delta` to counter `key` of `store` and returns the new value, or `INT64_MIN`
/// ([`KV_ERROR`]) with the last error set (bad handle, NULL or non-UTF-8 key, overflow,
/// shut down). `key` is a NUL-terminated UTF-8 string.
#[crosscall::export(gate = LIB, on_panic = KV_ERROR, handles(store = STORES))]
#[no_mangle]
pub extern "C" fn kv_add(store: &Store, key: *const c_char, delta: i64) -> Result<i64, String> {
    // SAFETY: the host passes NULL or a NUL-terminated string valid for this call.
    let key = unsafe { key_from_c(key) }?;
    let value = store.add(key, delta)?;
    // Relaxed: a count read only after the gate drained (see SERVED).
    SERVED.fetch_add(1, Ordering::Relaxed);
    Ok(value)
}

/// The counter `key` of `store` (0 if never added to), or `INT64_MIN` ([`KV_ERROR`]) with
/// the last error set.
#[crosscall::export(gate = LIB, on_panic = KV_ERROR, handles(store = STORES))]
#[no_mangle]
pub extern "C" fn kv_get(store: &Store, key: *const c_char) -> Result<i64, String> {
    // SAFETY: the host passes NULL or a NUL-terminated string valid for this call.
    let key = unsafe { key_from_c(key) }?;
    Ok(store.get(key))
}

/// How many counters `store` holds, or -1 with the last error set.
#[crosscall::export(gate = LIB, on_panic = -1, handles(store = STORES))]
#[no_mangle]
pub extern "C" fn kv_len(store: &Store) -> i64 {
    i64::try_from(store.len()).unwrap_or(i64::MAX)
}

/// Panics inside the library with `message` (for hosts to test that path): returns -1,
/// and the last error reads `crosscall: kv_debug_panic panicked: <message>`. The panic hook still
/// prints the panic on stderr (with a backtrace when `RUST_BACKTRACE` is set).
#[crosscall::export(gate = LIB, on_panic = -1)]
#[no_mangle]
pub extern "C" fn kv_debug_panic(message: *const c_char) -> i32 {
    let text = if message.is_null() {
        "(NULL message)".into()
    } else {
        // SAFETY: non-NULL; the host passes a NUL-terminated string valid for this call.
        unsafe { CStr::from_ptr(message) }.to_string_lossy()
    };
    panic!("{text}");
}
