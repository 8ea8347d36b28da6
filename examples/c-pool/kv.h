/* C declarations of the c-pool example library (src/lib.rs). */
#ifndef KV_H
#define KV_H

#include <stdint.h>

#define KV_MISSING (-2)

int kv_init(void);
int kv_put(uint64_t key, uint64_t value);
int64_t kv_get(uint64_t key);
int64_t kv_shutdown(void);
uint64_t kv_violations(void);

#endif
