//! A tiny key-value store for C callers, showing crosscall's lifecycle end to end.
//!
//! - C threads may call `kv_put`/`kv_get` before `kv_init`: they wait on the gate until the
//!   store exists (lazy initialization, like cgo's wait for runtime init).
//! - `kv_shutdown` closes the gate, waits for the calls in flight, then frees the store: no
//!   call can touch it afterwards, and none needs a lock or a shared counter to make that so.
//!
//! The C declarations are in `kv.h`; `main.c` hammers this library from a pool of pthreads.
#![deny(unsafe_op_in_unsafe_fn, missing_docs)]

use std::collections::HashMap;
use std::ffi::c_int;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::Mutex;

use crosscall::Gate;

// The C API's symbols (crosscall_last_error_message, ...) for main.c, in this one staticlib.
pub use crosscall_capi;

/// `kv_get`'s value for a key that was never put.
pub const KV_MISSING: i64 = -2;

/// Shards spread keys over several locks, so the store itself does not serialize the pool.
const SHARDS: usize = 16;

/// Admits calls once the store exists; drains them before it is freed.
static GATE: Gate = Gate::new();

/// The store: null before `kv_init` and after `kv_shutdown`. Published by `kv_init` before
/// `GATE.open()` and cleared by `kv_shutdown` only after `GATE.close()` drained every call, so
/// an admitted call always finds it non-null; a null seen inside a call is a gate bug, counted
/// in [`VIOLATIONS`].
static STORE: AtomicPtr<Store> = AtomicPtr::new(std::ptr::null_mut());

/// Calls that found no store although admitted (must stay 0). Relaxed: read after the
/// workers are joined.
static VIOLATIONS: AtomicU64 = AtomicU64::new(0);

struct Shard {
    map: HashMap<u64, u64>,
    /// Calls served by this shard, counted under its lock.
    served: u64,
}

struct Store {
    shards: Vec<Mutex<Shard>>,
}

impl Store {
    fn new() -> Store {
        let shards = (0..SHARDS)
            .map(|_| {
                Mutex::new(Shard {
                    map: HashMap::new(),
                    served: 0,
                })
            })
            .collect();
        Store { shards }
    }

    fn shard(&self, key: u64) -> std::sync::MutexGuard<'_, Shard> {
        // A poisoned shard only means another call panicked mid-update of a plain map: the
        // map is still a valid map, so keep serving.
        self.shards[(key as usize) % SHARDS]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn served(&self) -> u64 {
        (0..SHARDS as u64).map(|i| self.shard(i).served).sum()
    }
}

/// The store, for a call admitted by [`GATE`].
fn admitted_store() -> Result<&'static Store, String> {
    // Acquire pairs with the Release store in `kv_init` (the gate's own open/enter ordering
    // covers it too; this keeps the pointer read self-evidently ordered).
    let ptr = STORE.load(Ordering::Acquire);
    if ptr.is_null() {
        VIOLATIONS.fetch_add(1, Ordering::Relaxed);
        return Err("kv: admitted call found no store (gate violation)".into());
    }
    // SAFETY: non-null pointers in STORE come from Box::into_raw in kv_init and are freed
    // only by kv_shutdown after GATE.close() has drained every admitted call, and this call
    // is admitted (it runs inside the gate), so the store outlives this borrow.
    Ok(unsafe { &*ptr })
}

/// Creates the store and opens the gate, releasing every caller waiting for it.
///
/// Returns 0, or -1 if the library was already initialized or shut down.
#[no_mangle]
pub extern "C" fn kv_init() -> c_int {
    if GATE.state() != crosscall::GateState::Uninit {
        crosscall::set_last_error("kv_init: already initialized or shut down");
        return -1;
    }
    let store = Box::into_raw(Box::new(Store::new()));
    // Release on success: the store's contents are visible to whoever loads the pointer.
    // The exchange (not a plain store) makes a racing second kv_init lose cleanly.
    if STORE
        .compare_exchange(
            std::ptr::null_mut(),
            store,
            Ordering::Release,
            Ordering::Relaxed,
        )
        .is_err()
    {
        // SAFETY: `store` came from Box::into_raw just above and was never published.
        drop(unsafe { Box::from_raw(store) });
        crosscall::set_last_error("kv_init: already initialized");
        return -1;
    }
    GATE.open();
    0
}

/// Stores `value` under `key`. Returns 0, or -1 once shut down (see the last error).
#[crosscall::export(gate = GATE, on_panic = -1)]
#[no_mangle]
pub extern "C" fn kv_put(key: u64, value: u64) -> Result<c_int, String> {
    let mut shard = admitted_store()?.shard(key);
    shard.map.insert(key, value);
    shard.served += 1;
    Ok(0)
}

/// The value under `key`, `KV_MISSING` (-2) if none, or -1 once shut down.
#[crosscall::export(gate = GATE, on_panic = -1)]
#[no_mangle]
pub extern "C" fn kv_get(key: u64) -> Result<i64, String> {
    let mut shard = admitted_store()?.shard(key);
    shard.served += 1;
    Ok(shard.map.get(&key).map_or(KV_MISSING, |&v| v as i64))
}

/// Stops admitting calls, waits for those in flight, frees the store, and returns how many
/// calls were served in total; -1 if already shut down or called from inside a kv call.
///
/// A caller waiting for `kv_init` when this runs gets -1 (closed) instead of waiting forever.
#[no_mangle]
pub extern "C" fn kv_shutdown() -> i64 {
    if let Err(e) = GATE.close() {
        crosscall::set_last_error(format_args!("kv_shutdown: {e}"));
        return -1;
    }
    // The gate is closed and drained: no call is inside and none will be admitted again.
    let ptr = STORE.swap(std::ptr::null_mut(), Ordering::AcqRel);
    if ptr.is_null() {
        crosscall::set_last_error("kv_shutdown: already shut down (or never initialized)");
        return -1;
    }
    // SAFETY: ptr came from Box::into_raw in kv_init; the swap made this the only owner, and
    // the drained, closed gate guarantees no call still borrows it.
    let store = unsafe { Box::from_raw(ptr) };
    store.served() as i64
}

/// Admitted calls that found no store: 0 unless the gate let a call run after shutdown.
#[no_mangle]
pub extern "C" fn kv_violations() -> u64 {
    VIOLATIONS.load(Ordering::Relaxed)
}
