//! One key-value store: named 64-bit counters behind a lock, lent to hosts as a handle.

use std::collections::HashMap;
use std::ffi::{c_char, CStr};
use std::sync::{Mutex, MutexGuard};

/// Counters by name. Calls from many host threads on the same store serialize on its lock;
/// calls on different stores do not touch each other.
#[derive(Default)]
pub struct Store {
    counters: Mutex<HashMap<String, i64>>,
}

impl Store {
    /// Adds `delta` to the counter `key` (created at 0) and returns its new value.
    pub fn add(&self, key: &str, delta: i64) -> Result<i64, String> {
        let mut counters = self.counters();
        let value = counters.entry(key.to_owned()).or_insert(0);
        *value = value
            .checked_add(delta)
            .ok_or_else(|| format!("kv_add: counter `{key}` would overflow ({value} + {delta})"))?;
        Ok(*value)
    }

    /// The counter `key`, 0 if it was never added to.
    pub fn get(&self, key: &str) -> i64 {
        self.counters().get(key).copied().unwrap_or(0)
    }

    /// How many counters the store holds.
    pub fn len(&self) -> usize {
        self.counters().len()
    }

    fn counters(&self) -> MutexGuard<'_, HashMap<String, i64>> {
        // A poisoned lock only means a call panicked while holding it; every update above
        // completes before anything that can panic, so the map is consistent.
        self.counters.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The UTF-8 key a host passed as a NUL-terminated C string.
///
/// # Safety
///
/// `key` is NULL or points to a NUL-terminated string that stays valid for `'a`.
pub unsafe fn key_from_c<'a>(key: *const c_char) -> Result<&'a str, String> {
    if key.is_null() {
        return Err("key is NULL".into());
    }
    // SAFETY: non-NULL, and the caller guarantees a NUL-terminated string living for 'a.
    let key = unsafe { CStr::from_ptr(key) };
    key.to_str().map_err(|e| format!("key is not UTF-8 ({e})"))
}
