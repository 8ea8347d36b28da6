// libhostkv through koffi: load it, declare every function. Works the same in the main
// thread and in worker_threads (each thread that require()s this gets its own bindings to
// the one library the process loaded).
//
//   const kv = require('./kv');
//   kv.kv_init();
//   const store = kv.kv_store_new();
//   kv.kv_add(store, 'hits', 1);
//
// Every call is synchronous: it blocks the calling JS thread (and its event loop) until the
// library returns, including while it waits for kv_init. koffi's `fn.async(..., callback)`
// runs a call on koffi's own thread pool instead.
'use strict';

const koffi = require('koffi');

const lib = koffi.load(process.env.HOSTKV_LIB || 'libhostkv.so');

// 64-bit integers come back as a Number when exactly representable, else as a BigInt:
// handles (random high bits) and KV_ERROR (INT64_MIN) are BigInts. `big()` makes them one
// type for comparisons; koffi accepts both when passing them back.
const big = (v) => BigInt(v);
const KV_ERROR = -(2n ** 63n);

module.exports = {
  KV_ERROR,
  big,
  kv_init: lib.func('int32_t kv_init(void)'),
  kv_shutdown: lib.func('int64_t kv_shutdown(void)'),
  kv_wait_ready: lib.func('int32_t kv_wait_ready(uint32_t timeout_ms)'),
  // `const char *` results are copied into a JS string (or null) right away.
  kv_last_error: lib.func('const char *kv_last_error(void)'),
  kv_store_new: lib.func('uint64_t kv_store_new(void)'),
  kv_store_free: lib.func('int32_t kv_store_free(uint64_t store)'),
  // JS strings are passed as UTF-8 `const char *` (null passes NULL).
  kv_add: lib.func('int64_t kv_add(uint64_t store, const char *key, int64_t delta)'),
  kv_get: lib.func('int64_t kv_get(uint64_t store, const char *key)'),
  kv_len: lib.func('int64_t kv_len(uint64_t store)'),
  kv_debug_panic: lib.func('int32_t kv_debug_panic(const char *message)'),
};

/** This thread's last error message, or null. Read it right after the failed call, on the
 * same thread (each worker is its own thread). */
module.exports.lastError = () => module.exports.kv_last_error();
