/* tokio-capi: C pthreads call a Rust library that owns a tokio runtime (src/lib.rs), through
 * a blocking function and an async one with a completion callback, while the C side shuts
 * the library down, then initializes it again for a second round. Checks, with exit codes:
 *   - callers that arrive before the first tcap_init wait, and are then served;
 *   - every accepted async call gets its callback exactly once, TCAP_DONE with the right value
 *     or TCAP_CANCELLED, never after tcap_shutdown returned: accepted = done + cancelled;
 *   - a refused call never gets a callback; blocking calls return the right value or are
 *     refused with "closed" in the last error;
 *   - bad input: NULL callback, init twice, shutdown twice or before init, calls after
 *     shutdown, a callback that calls back into the library (nested async call: accepted or
 *     refused; blocking call and shutdown from a runtime thread: refused);
 *   - fork() while the runtime runs and a C thread is inside the library: the child gives the
 *     inherited runtime up (tcap_atfork_child, nothing dropped), initializes its own and
 *     serves calls; the parent goes on.
 * Usage: main [threads] [async_calls_per_thread] [hammer_ms]   (defaults 4, 2000, 200) */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tcap.h"

#define FAIL(code, ...)                                                                       \
    do {                                                                                      \
        fprintf(stderr, "tokio-capi: FAIL: " __VA_ARGS__);                                    \
        fputc('\n', stderr);                                                                  \
        exit(code);                                                                           \
    } while (0)

enum { MAX_THREADS = 32, NESTED = 4096, REENTER_EVERY = 8 };

struct request {
    atomic_int calls;   /* callbacks received: must end at accepted ? 1 : 0 */
    int accepted;       /* tcap_compute_async returned TCAP_OK */
    int reenter;        /* the callback calls back into the library */
    int64_t expected;   /* 2 * x */
};

/* Counters of one round (reset by main between rounds, when no thread runs). */
static atomic_long accepted, refused, done, cancelled, callbacks, after_shutdown, wrong_values,
    bad_status, blocking_ok, blocking_refused, reentry_misbehaved, nested_accepted,
    nested_refused;
static atomic_int shutdown_returned;
static atomic_int arrived, early_returned;

static struct request nested[NESTED];
static atomic_int nested_next;

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int last_error_has(const char *needle) {
    const char *msg = tcap_last_error();
    return msg != NULL && strstr(msg, needle) != NULL;
}

static void on_done(void *user_data, int status, int64_t result);

/* Calls back into the library from a callback, i.e. on a runtime thread. */
static void reenter(void) {
    /* Blocking a runtime worker is refused (or, once shutdown began, refused as closed), and
     * so is a shutdown from here. */
    int64_t blocked = tcap_compute_blocking(1);
    if (!(blocked == TCAP_ERR_STATE && last_error_has("runtime thread")) &&
        !(blocked == TCAP_ERR_CLOSED && last_error_has("closed")))
        atomic_fetch_add(&reentry_misbehaved, 1);
    if (tcap_shutdown(1000) != TCAP_ERR_STATE) atomic_fetch_add(&reentry_misbehaved, 1);
    /* A nested async call: accepted while the library runs, refused once shutdown began. */
    int i = atomic_fetch_add(&nested_next, 1);
    if (i >= NESTED) return;
    struct request *r = &nested[i];
    r->expected = 2 * (int64_t)i;
    int rc = tcap_compute_async(i, on_done, r);
    if (rc == TCAP_OK) {
        r->accepted = 1;
        atomic_fetch_add(&accepted, 1);
        atomic_fetch_add(&nested_accepted, 1);
    } else if (rc == TCAP_ERR_CLOSED && last_error_has("closed")) {
        atomic_fetch_add(&nested_refused, 1);
    } else {
        atomic_fetch_add(&reentry_misbehaved, 1);
    }
}

static void on_done(void *user_data, int status, int64_t result) {
    struct request *r = user_data;
    if (atomic_load(&shutdown_returned)) atomic_fetch_add(&after_shutdown, 1);
    atomic_fetch_add(&r->calls, 1);
    atomic_fetch_add(&callbacks, 1);
    if (status == TCAP_DONE) {
        atomic_fetch_add(&done, 1);
        if (result != r->expected) atomic_fetch_add(&wrong_values, 1);
    } else if (status == TCAP_CANCELLED) {
        atomic_fetch_add(&cancelled, 1);
    } else {
        atomic_fetch_add(&bad_status, 1);
    }
    if (r->reenter) reenter();
}

struct worker {
    pthread_t thread;
    int id;
    int max_async;
    struct request *requests;
    int64_t early_result;        /* the first call, made before tcap_init in round 1 */
    int stopped_because_closed;  /* the refusal that ended the loop said "closed" */
};

static void *work(void *arg) {
    struct worker *w = arg;
    atomic_fetch_add(&arrived, 1);
    w->early_result = tcap_compute_blocking(w->id); /* round 1: waits for tcap_init */
    atomic_fetch_add(&early_returned, 1);
    if (w->early_result == 2 * (int64_t)w->id) atomic_fetch_add(&blocking_ok, 1);

    for (int64_t i = 0;; i++) {
        int64_t x = i * MAX_THREADS + w->id;
        /* A blocking call... */
        int64_t v = tcap_compute_blocking(x);
        if (v == TCAP_ERR_CLOSED) {
            atomic_fetch_add(&blocking_refused, 1);
            w->stopped_because_closed = last_error_has("closed");
            return NULL;
        }
        if (v != 2 * x) atomic_fetch_add(&wrong_values, 1);
        atomic_fetch_add(&blocking_ok, 1);
        /* ...then an async one, while request slots last. */
        if (i >= w->max_async) continue;
        struct request *r = &w->requests[i];
        r->expected = 2 * x;
        r->reenter = (i % REENTER_EVERY) == 0;
        int rc = tcap_compute_async(x, on_done, r);
        if (rc == TCAP_OK) {
            r->accepted = 1;
            atomic_fetch_add(&accepted, 1);
        } else {
            atomic_fetch_add(&refused, 1);
            w->stopped_because_closed = rc == TCAP_ERR_CLOSED && last_error_has("closed");
            return NULL;
        }
    }
}

static void reset_round(void) {
    atomic_long *counters[] = {&accepted,     &refused,         &done,           &cancelled,
                               &callbacks,    &after_shutdown,  &wrong_values,   &bad_status,
                               &blocking_ok,  &blocking_refused, &reentry_misbehaved,
                               &nested_accepted, &nested_refused};
    for (size_t i = 0; i < sizeof counters / sizeof *counters; i++) atomic_store(counters[i], 0);
    atomic_store(&shutdown_returned, 0);
    atomic_store(&arrived, 0);
    atomic_store(&early_returned, 0);
    memset(nested, 0, sizeof nested);
    atomic_store(&nested_next, 0);
}

static void round_trip(int round, int threads, int max_async, long hammer_ms) {
    reset_round();
    static struct worker workers[MAX_THREADS];
    for (int i = 0; i < threads; i++) {
        workers[i] = (struct worker){.id = i, .max_async = max_async};
        workers[i].requests = calloc((size_t)max_async, sizeof(struct request));
        if (workers[i].requests == NULL) FAIL(3, "out of memory");
    }

    if (round == 1) {
        /* Callers arrive before the first init: they must wait, not fail. */
        for (int i = 0; i < threads; i++)
            if (pthread_create(&workers[i].thread, NULL, work, &workers[i]) != 0)
                FAIL(3, "pthread_create failed");
        while (atomic_load(&arrived) < threads) sleep_ms(1);
        sleep_ms(20);
        if (atomic_load(&early_returned) != 0) FAIL(10, "a call returned before tcap_init");
    }

    if (tcap_init(2) != TCAP_OK) FAIL(11, "round %d: tcap_init failed: %s", round, tcap_last_error());
    if (tcap_init(2) != TCAP_ERR_STATE || !last_error_has("already"))
        FAIL(12, "a second tcap_init was not refused");
    struct request unused = {0};
    if (tcap_compute_async(1, NULL, &unused) != TCAP_ERR_INVALID || !last_error_has("NULL"))
        FAIL(13, "a NULL callback was not refused");

    if (round != 1) {
        for (int i = 0; i < threads; i++)
            if (pthread_create(&workers[i].thread, NULL, work, &workers[i]) != 0)
                FAIL(3, "pthread_create failed");
    }
    for (int waited = 0; atomic_load(&early_returned) < threads; waited++) {
        if (waited > 60000) FAIL(14, "callers were not admitted after tcap_init");
        sleep_ms(1);
    }

    sleep_ms(hammer_ms); /* both kinds of calls keep arriving */
    int rc = tcap_shutdown(30000);
    long callbacks_at_return = atomic_load(&callbacks);
    atomic_store(&shutdown_returned, 1);
    if (rc != TCAP_OK) FAIL(15, "round %d: tcap_shutdown failed (%d): %s", round, rc, tcap_last_error());

    /* After shutdown: calls are refused with a reason; a second shutdown is an error. */
    if (tcap_compute_blocking(7) != TCAP_ERR_CLOSED || !last_error_has("closed"))
        FAIL(16, "a blocking call after shutdown was not refused");
    if (tcap_compute_async(7, on_done, &unused) != TCAP_ERR_CLOSED || !last_error_has("closed"))
        FAIL(17, "an async call after shutdown was not refused");
    if (tcap_shutdown(1000) != TCAP_ERR_STATE || !last_error_has("already shut down"))
        FAIL(18, "a second tcap_shutdown was not refused");

    for (int i = 0; i < threads; i++) {
        if (pthread_join(workers[i].thread, NULL) != 0) FAIL(3, "pthread_join failed");
        if (workers[i].early_result != 2 * (int64_t)i)
            FAIL(19, "worker %d: its first call was not served", i);
        if (!workers[i].stopped_because_closed)
            FAIL(20, "worker %d stopped for a reason other than shutdown", i);
    }
    sleep_ms(20); /* a late callback would show up now */

    long acc = atomic_load(&accepted), d = atomic_load(&done), c = atomic_load(&cancelled);
    printf("tokio-capi: round %d: %d threads; blocking %ld served, %ld refused; async %ld accepted "
           "= %ld done + %ld cancelled, %ld refused; nested from callbacks %ld accepted, %ld "
           "refused\n",
           round, threads, atomic_load(&blocking_ok), atomic_load(&blocking_refused), acc, d, c,
           atomic_load(&refused), atomic_load(&nested_accepted), atomic_load(&nested_refused));

    if (atomic_load(&callbacks) != callbacks_at_return || atomic_load(&after_shutdown) != 0)
        FAIL(21, "callbacks ran after tcap_shutdown returned");
    if (acc != d + c) FAIL(22, "accepted %ld != done %ld + cancelled %ld", acc, d, c);
    if (atomic_load(&callbacks) != acc) FAIL(23, "%ld callbacks for %ld accepted calls", atomic_load(&callbacks), acc);
    if (atomic_load(&wrong_values) != 0) FAIL(24, "%ld wrong values", atomic_load(&wrong_values));
    if (atomic_load(&bad_status) != 0) FAIL(25, "%ld callbacks with an unknown status", atomic_load(&bad_status));
    if (atomic_load(&reentry_misbehaved) != 0) FAIL(26, "%ld re-entries from callbacks misbehaved", atomic_load(&reentry_misbehaved));
    for (int i = 0; i < threads; i++) {
        for (int k = 0; k < max_async; k++) {
            struct request *r = &workers[i].requests[k];
            if (atomic_load(&r->calls) != r->accepted)
                FAIL(27, "worker %d request %d: %d callbacks, accepted %d", i, k, atomic_load(&r->calls), r->accepted);
        }
        free(workers[i].requests);
    }
    for (int k = 0; k < NESTED; k++)
        if (atomic_load(&nested[k].calls) != nested[k].accepted) FAIL(28, "nested request %d: wrong callback count", k);
    if (atomic_load(&unused.calls) != 0) FAIL(29, "a refused call got a callback");
    if (acc == 0 || atomic_load(&blocking_ok) <= threads) FAIL(30, "round %d made too few calls", round);
}

/* A C thread blocked inside the library (in tcap_compute_blocking) while main forks. */
static atomic_int fork_caller_inside;
static void *call_across_fork(void *arg) {
    (void)arg;
    atomic_store(&fork_caller_inside, 1);
    for (int i = 0; i < 50; i++) {
        if (tcap_compute_blocking(i) != 2 * i) return (void *)1;
    }
    return NULL;
}

/* The child of a fork taken while the runtime runs: start over and serve calls. */
static void fork_child(void) {
    if (tcap_atfork_child() != TCAP_OK) FAIL(30, "child: tcap_atfork_child refused");
    if (tcap_compute_blocking(1) != TCAP_ERR_CLOSED) FAIL(31, "child: call admitted while closed");
    if (tcap_init(1) != TCAP_OK) FAIL(32, "child: tcap_init failed");
    for (int64_t x = 0; x < 20; x++) {
        if (tcap_compute_blocking(x) != 2 * x) FAIL(33, "child: wrong value for %" PRId64, x);
    }
    if (tcap_shutdown(1000) != TCAP_OK) FAIL(34, "child: tcap_shutdown failed");
    _exit(0);
}

static void fork_round(void) {
    if (tcap_init(2) != TCAP_OK) FAIL(35, "fork round: tcap_init failed");
    pthread_t caller;
    if (pthread_create(&caller, NULL, call_across_fork, NULL) != 0) FAIL(36, "pthread_create");
    while (!atomic_load(&fork_caller_inside)) sleep_ms(1);
    pid_t pid = fork();
    if (pid < 0) FAIL(37, "fork failed");
    if (pid == 0) fork_child();
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        FAIL(38, "fork child failed (status %d)", status);
    void *failed = NULL;
    if (pthread_join(caller, &failed) != 0 || failed != NULL) FAIL(39, "parent's caller failed");
    if (tcap_shutdown(1000) != TCAP_OK) FAIL(40, "fork round: tcap_shutdown failed");
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 4;
    int max_async = argc > 2 ? atoi(argv[2]) : 2000;
    long hammer_ms = argc > 3 ? atol(argv[3]) : 200;
    if (threads < 1 || threads > MAX_THREADS || max_async < 1 || hammer_ms < 0) FAIL(2, "bad arguments");

    if (tcap_shutdown(1000) != TCAP_ERR_STATE || !last_error_has("not initialized"))
        FAIL(4, "tcap_shutdown before tcap_init was not refused");

    round_trip(1, threads, max_async, hammer_ms);
    /* fork while the runtime runs; the child starts over. Not under valgrind (run.sh
     * --valgrind sets TCAP_SKIP_FORK): the child leaks the parent's runtime on purpose, which
     * memcheck's leak check in the child would count as an error. */
    if (getenv("TCAP_SKIP_FORK") == NULL) fork_round();
    round_trip(2, threads, max_async, hammer_ms); /* init after shutdown: a new generation */
    puts("tokio-capi: OK");
    return 0;
}
