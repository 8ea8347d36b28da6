/* See trivial_pair.h. */
#include "trivial_pair.h"

#include <stddef.h>

/* The calling thread's depth. initial-exec, as crosscall's own thread-local in a shared
 * library on x86_64 glibc: one %fs-relative access, no __tls_get_addr call. */
static __thread long depth __attribute__((tls_model("initial-exec")));

int trivial_pair_enter(const void *handle) {
    if (handle == NULL) {
        return -1;
    }
    depth++;
    return 0;
}

void trivial_pair_leave(const void *handle) {
    (void)handle;
    depth--;
}
