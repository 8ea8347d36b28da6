/* C declarations of libhostkv.so (examples/hosts/kvlib/src/lib.rs).
 *
 * Every function may be called from any thread. Calls made before kv_init() wait for it;
 * calls made after kv_shutdown() return their error value. After an error value, the
 * thread's kv_last_error() says why. */
#ifndef HOSTKV_H
#define HOSTKV_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The error value of kv_add and kv_get. */
#define KV_ERROR INT64_MIN

/* Lifecycle. */
int32_t kv_init(void);                    /* 0, or -1 (already open) */
int64_t kv_shutdown(void);                /* kv_add calls served since kv_init, or -1 */
int32_t kv_wait_ready(uint32_t timeout_ms); /* 0 once initialized; -1 timed out or shut down */
const char *kv_last_error(void);          /* this thread's last error, or NULL; valid until
                                             this thread's next failing call */

/* Stores, lent as handles (0 is never a handle). */
uint64_t kv_store_new(void);              /* a handle, or 0 */
int32_t kv_store_free(uint64_t store);    /* 0, or -1 */
int64_t kv_add(uint64_t store, const char *key, int64_t delta); /* new value, or KV_ERROR */
int64_t kv_get(uint64_t store, const char *key); /* value (0 if absent), or KV_ERROR */
int64_t kv_len(uint64_t store);           /* number of counters, or -1 */

/* Panics inside the library on purpose: returns -1; the last error holds the message. */
int32_t kv_debug_panic(const char *message);

#ifdef __cplusplus
}
#endif

#endif
