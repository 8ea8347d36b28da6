/* c-pool: a pool of pthreads hammers a Rust key-value library (src/lib.rs) that initializes
 * late and is shut down while calls are still arriving. Checks, with exit codes:
 *   - callers that arrive before kv_init wait and are then served (none fails, none runs early);
 *   - no call is served after kv_shutdown returns;
 *   - the calls C saw succeed add up to the count the library served.
 * Usage: main [threads] [hammer_ms]   (defaults 8 and 200) */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crosscall.h"
#include "kv.h"

#define FAIL(code, ...)                                                                       \
    do {                                                                                      \
        fprintf(stderr, "c-pool: FAIL: " __VA_ARGS__);                                        \
        fputc('\n', stderr);                                                                  \
        exit(code);                                                                           \
    } while (0)

enum { MAX_THREADS = 64, KEYS_PER_THREAD = 512 };

static atomic_int arrived;          /* workers about to make their first (early) call */
static atomic_int early_returned;   /* workers whose early call has returned */
static atomic_int shutdown_returned; /* set by main right after kv_shutdown returns */

struct worker {
    pthread_t thread;
    unsigned id;
    int early_result;          /* result of the call made before kv_init */
    char early_error[160];     /* its last-error message, if it failed */
    uint64_t served;           /* calls that succeeded */
    uint64_t served_after;     /* successes of calls *started* after kv_shutdown returned */
    uint64_t wrong_values;     /* kv_get returned something other than what was put */
    int stopped_because_closed; /* the failure that ended the loop was "gate is closed" */
};

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int last_error_says_closed(void) {
    const char *msg = crosscall_last_error_message();
    return msg != NULL && strstr(msg, "closed") != NULL;
}

static void *work(void *arg) {
    struct worker *w = arg;
    uint64_t base = (uint64_t)w->id * KEYS_PER_THREAD;

    atomic_fetch_add(&arrived, 1);
    w->early_result = kv_put(base, 1); /* kv_init has not run: this waits on the gate */
    atomic_fetch_add(&early_returned, 1);
    if (w->early_result == 0) {
        w->served++;
    } else if (crosscall_last_error_message() != NULL) {
        snprintf(w->early_error, sizeof w->early_error, "%s", crosscall_last_error_message());
    }

    for (uint64_t i = 1;; i++) {
        uint64_t key = base + i % KEYS_PER_THREAD;
        int after = atomic_load(&shutdown_returned);
        int ok;
        if (i % 2) {
            ok = kv_put(key, i) == 0;
        } else {
            int64_t v = kv_get(base + (i - 1) % KEYS_PER_THREAD); /* the key put just before */
            ok = v != -1;
            if (ok && v != (int64_t)(i - 1)) w->wrong_values++;
        }
        if (!ok) {
            w->stopped_because_closed = last_error_says_closed();
            return NULL;
        }
        w->served++;
        if (after) w->served_after++;
    }
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 8;
    long hammer_ms = argc > 2 ? atol(argv[2]) : 200;
    if (threads < 1 || threads > MAX_THREADS || hammer_ms < 0) FAIL(2, "bad arguments");

    static struct worker workers[MAX_THREADS];
    for (int i = 0; i < threads; i++) {
        workers[i].id = (unsigned)i;
        if (pthread_create(&workers[i].thread, NULL, work, &workers[i]) != 0)
            FAIL(3, "pthread_create failed");
    }

    /* Every worker is making its early call; give a broken gate the chance to let one in. */
    while (atomic_load(&arrived) < threads) sleep_ms(1);
    sleep_ms(20);
    if (atomic_load(&early_returned) != 0) FAIL(10, "an early call returned before kv_init");

    if (kv_init() != 0) FAIL(11, "kv_init failed: %s", crosscall_last_error_message());
    if (kv_init() != -1) FAIL(12, "a second kv_init succeeded");

    /* Every early caller must be let in by the open. Waiting for that (bounded) before the
     * shutdown matters: a waiter woken by the open but not yet scheduled when the close begins
     * is, correctly, refused; that is not what this check is about. */
    for (int waited_ms = 0; atomic_load(&early_returned) < threads; waited_ms++) {
        if (waited_ms > 60000) FAIL(23, "early callers were not released by kv_init");
        sleep_ms(1);
    }

    sleep_ms(hammer_ms); /* the pool hammers the store */

    int64_t served = kv_shutdown(); /* while calls are still arriving */
    atomic_store(&shutdown_returned, 1);
    if (served < 0) FAIL(13, "kv_shutdown failed: %s", crosscall_last_error_message());

    /* A caller arriving after shutdown is refused at once, not left waiting. */
    if (kv_get(0) != -1 || !last_error_says_closed()) FAIL(14, "a call after shutdown was not refused");
    if (kv_shutdown() != -1) FAIL(15, "a second kv_shutdown succeeded");

    uint64_t total = 0, after = 0, wrong = 0;
    for (int i = 0; i < threads; i++) {
        if (pthread_join(workers[i].thread, NULL) != 0) FAIL(3, "pthread_join failed");
        struct worker *w = &workers[i];
        if (w->early_result != 0) FAIL(16, "worker %d: its early call was not served: %s", i, w->early_error);
        if (!w->stopped_because_closed) FAIL(17, "worker %d stopped for a reason other than shutdown", i);
        total += w->served;
        after += w->served_after;
        wrong += w->wrong_values;
    }

    printf("c-pool: %d threads, %" PRIu64 " calls served (library counted %" PRId64 ")\n",
           threads, total, served);
    if (after != 0) FAIL(18, "%" PRIu64 " calls served after kv_shutdown returned", after);
    if (kv_violations() != 0) FAIL(19, "%" PRIu64 " admitted calls found no store", kv_violations());
    if (total != (uint64_t)served) FAIL(20, "C saw %" PRIu64 " successes, library served %" PRId64, total, served);
    if (wrong != 0) FAIL(21, "%" PRIu64 " gets returned a wrong value", wrong);
    if (total <= (uint64_t)threads) FAIL(22, "the pool made no calls past the early ones");
    puts("c-pool: OK");
    return 0;
}
