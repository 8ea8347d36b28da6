/* The C side of crosscall-lab's workloads (see docs/DESIGN.md, "The seed workload").
 *
 * The host registers its callbacks at run time through function pointers, so
 * the compiler of this file cannot see, inline or elide them: every get_value
 * is one real C -> host call, as in the cgo original. Every symbol carries the
 * lab_ prefix. */
#ifndef CROSSCALL_LAB_WORKLOAD_H
#define CROSSCALL_LAB_WORKLOAD_H

#include <stdint.h>

/* Length of the key, of the value and of get_value's stack array. */
#define LAB_VALUE_LEN 32

/* The host callback of the seed and lean workloads: receives the key and
 * get_value's stack array (both LAB_VALUE_LEN bytes) and must fill the array.
 * Returns 0, or a negative number when the host refused the call. */
typedef int (*lab_value_callback)(const uint8_t *key, uint8_t *out);

/* The host callback of the empty workload: nothing to do but enter and leave. */
typedef int (*lab_empty_callback)(void);

/* Registers the callbacks that lab_get_value* and lab_call_empty call.
 * Either may be NULL, which makes the matching calls return -1. */
void lab_set_callbacks(lab_value_callback value_cb, lab_empty_callback empty_cb);

/* The seed's get_value: keeps a LAB_VALUE_LEN-byte array on its stack, calls
 * back into the host with (key, array), then copies the array into value.
 * Returns what the callback returned (value is left untouched if negative). */
int lab_get_value(const uint8_t *key, uint8_t *value);

/* lab_get_value for tests: fills the stack array with 0xAA before the call
 * back, so a callback that does not write every byte is observable. */
int lab_get_value_poisoned(const uint8_t *key, uint8_t *value);

/* The empty workload: calls back into the host with nothing to do. */
int lab_call_empty(void);

#endif
