"""libhostkv through ctypes (standard library): load it, declare every signature.

    from kv_ctypes import lib, last_error
    lib.kv_init()
    store = lib.kv_store_new()
    lib.kv_add(store, b"hits", 1)

ctypes.CDLL releases the GIL for the duration of each call, so a thread waiting inside the
library (for kv_init, or for a lock) does not stop the other Python threads. Never load a
crosscall library with ctypes.PyDLL, which keeps the GIL: a thread waiting for kv_init would
then stop the thread that is to call it.
"""

import ctypes
import os

KV_ERROR = -(2**63)  # INT64_MIN, the error value of kv_add and kv_get
NULL = None  # a NULL `const char *`

lib = ctypes.CDLL(os.environ.get("HOSTKV_LIB", "libhostkv.so"))

# Without these declarations ctypes would pass and return C `int`: a handle (uint64_t) or
# a counter (int64_t) would be truncated.
for name, restype, argtypes in [
    ("kv_init", ctypes.c_int32, []),
    ("kv_shutdown", ctypes.c_int64, []),
    ("kv_wait_ready", ctypes.c_int32, [ctypes.c_uint32]),
    ("kv_last_error", ctypes.c_char_p, []),  # c_char_p: copied into bytes, or None
    ("kv_store_new", ctypes.c_uint64, []),
    ("kv_store_free", ctypes.c_int32, [ctypes.c_uint64]),
    ("kv_add", ctypes.c_int64, [ctypes.c_uint64, ctypes.c_char_p, ctypes.c_int64]),
    ("kv_get", ctypes.c_int64, [ctypes.c_uint64, ctypes.c_char_p]),
    ("kv_len", ctypes.c_int64, [ctypes.c_uint64]),
    ("kv_debug_panic", ctypes.c_int32, [ctypes.c_char_p]),
]:
    function = getattr(lib, name)
    function.restype = restype
    function.argtypes = argtypes


def last_error():
    """This thread's last error message (str), or None. Read it right after the failed
    call, on the same thread: each thread has its own."""
    message = lib.kv_last_error()
    return None if message is None else message.decode("utf-8", "replace")
