/* See workload.h. Built by build.rs with -O2. */
#include <string.h>

#include "workload.h"

/* Set once per lab run, before any worker starts; read on every call.
 * Release (setter) pairs with acquire (callers), so a caller that sees the
 * pointer also sees everything the host prepared before registering it. */
static lab_value_callback value_callback;
static lab_empty_callback empty_callback;

void lab_set_callbacks(lab_value_callback value_cb, lab_empty_callback empty_cb) {
    __atomic_store_n(&value_callback, value_cb, __ATOMIC_RELEASE);
    __atomic_store_n(&empty_callback, empty_cb, __ATOMIC_RELEASE);
}

/* One body for both entry points; `poison` is a compile-time constant at each
 * call site, so lab_get_value carries no test code. */
static inline __attribute__((always_inline)) int get_value_impl(const uint8_t *key, uint8_t *value, int poison) {
    uint8_t stack_array[LAB_VALUE_LEN];
    lab_value_callback cb = __atomic_load_n(&value_callback, __ATOMIC_ACQUIRE);
    int rc;
    if (cb == NULL) {
        return -1;
    }
    if (poison) {
        memset(stack_array, 0xAA, sizeof stack_array);
    }
    rc = cb(key, stack_array);
    if (rc < 0) {
        return rc;
    }
    memcpy(value, stack_array, sizeof stack_array);
    return rc;
}

int lab_get_value(const uint8_t *key, uint8_t *value) {
    return get_value_impl(key, value, 0);
}

int lab_get_value_poisoned(const uint8_t *key, uint8_t *value) {
    return get_value_impl(key, value, 1);
}

int lab_call_empty(void) {
    lab_empty_callback cb = __atomic_load_n(&empty_callback, __ATOMIC_ACQUIRE);
    if (cb == NULL) {
        return -1;
    }
    return cb();
}
