/* C declarations of the tokio-capi example library (src/lib.rs). */
#ifndef TCAP_H
#define TCAP_H

#include <stdint.h>

#define TCAP_OK 0
#define TCAP_ERR_CLOSED (-1)
#define TCAP_ERR_INVALID (-2)
#define TCAP_ERR_STATE (-3)
#define TCAP_ERR_TIMEOUT (-4)

#define TCAP_DONE 0
#define TCAP_CANCELLED 1

typedef void (*tcap_callback)(void *user_data, int status, int64_t result);

int tcap_init(uint32_t worker_threads);
int64_t tcap_compute_blocking(int64_t x);
int tcap_compute_async(int64_t x, tcap_callback callback, void *user_data);
int tcap_shutdown(uint64_t timeout_ms);
/* The calling thread's last error, or NULL; valid until its next failing call. */
const char *tcap_last_error(void);
/* In a fork() child: give up the parent's runtime without dropping it, then tcap_init. */
int tcap_atfork_child(void);

#endif
