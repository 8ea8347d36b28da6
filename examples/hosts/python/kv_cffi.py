"""libhostkv through cffi (PyPI `cffi`, ABI mode: no compiler needed at run time).

    from kv_cffi import lib, ffi, last_error
    lib.kv_init()
    store = lib.kv_store_new()
    lib.kv_add(store, b"hits", 1)

cffi releases the GIL around each call, like ctypes.CDLL. Strings: pass bytes (a C `char*`
is built for the duration of the call); read returned `char*` with ffi.string before the
next call on this thread.
"""

import os

from cffi import FFI

KV_ERROR = -(2**63)  # INT64_MIN, the error value of kv_add and kv_get

ffi = FFI()
# The declarations of hostkv.h (cdef takes no preprocessor lines).
ffi.cdef(
    """
    int32_t kv_init(void);
    int64_t kv_shutdown(void);
    int32_t kv_wait_ready(uint32_t timeout_ms);
    const char *kv_last_error(void);
    uint64_t kv_store_new(void);
    int32_t kv_store_free(uint64_t store);
    int64_t kv_add(uint64_t store, const char *key, int64_t delta);
    int64_t kv_get(uint64_t store, const char *key);
    int64_t kv_len(uint64_t store);
    int32_t kv_debug_panic(const char *message);
    """
)
lib = ffi.dlopen(os.environ.get("HOSTKV_LIB", "libhostkv.so"))
NULL = ffi.NULL  # a NULL `const char *`


def last_error():
    """This thread's last error message (str), or None; see kv_ctypes.last_error."""
    message = lib.kv_last_error()
    return None if message == ffi.NULL else ffi.string(message).decode("utf-8", "replace")
