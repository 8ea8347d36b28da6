/* Thread attach seen from C: a pthread is attached on its first entry, exactly once however
 * many calls it makes, and detached when it exits. */
#include <stdatomic.h>

#include "check.h"
#include "crosscall.h"

/* Rust helpers from this crate (src/lib.rs). */
extern uint64_t ctest_attach_count(void);
extern uint64_t ctest_detach_count(void);
extern int ctest_is_attached(void);
extern int64_t ctest_div(int64_t a, int64_t b);

enum { ATTACH_THREADS = 6, CALLS_PER_THREAD = 200 };

struct attach_run {
    crosscall_gate *gate;
    atomic_int finished_calls; /* threads done calling (not yet exited) */
    atomic_int may_exit;
};

static void *caller(void *arg) {
    struct attach_run *r = arg;
    CHECK_T(!ctest_is_attached());
    for (int i = 0; i < CALLS_PER_THREAD; i++) {
        /* Alternate the two ways in: the C gate API and a #[crosscall::export] function. */
        if (i % 2 == 0) {
            CHECK_T(crosscall_gate_enter(r->gate) == CROSSCALL_OK);
            crosscall_gate_leave(r->gate);
        } else {
            CHECK_T(ctest_div(i, 1) == i);
        }
        CHECK_T(ctest_is_attached());
    }
    atomic_fetch_add(&r->finished_calls, 1);
    while (!atomic_load(&r->may_exit)) sleep_ms(1);
    return NULL;
}

int ctest_attach_once_per_thread_detach_at_exit(void) {
    struct attach_run r = {.gate = crosscall_gate_new()};
    CHECK(r.gate != NULL);
    CHECK(crosscall_gate_open(r.gate) == CROSSCALL_OK);
    uint64_t attached0 = ctest_attach_count(), detached0 = ctest_detach_count();

    pthread_t t[ATTACH_THREADS];
    for (int i = 0; i < ATTACH_THREADS; i++) CHECK(pthread_create(&t[i], NULL, caller, &r) == 0);
    while (atomic_load(&r.finished_calls) < ATTACH_THREADS) sleep_ms(1);
    /* All threads made all their calls and are still alive: one attach each, no detach yet. */
    CHECK(ctest_attach_count() - attached0 == ATTACH_THREADS);
    CHECK(ctest_detach_count() - detached0 == 0);

    atomic_store(&r.may_exit, 1);
    for (int i = 0; i < ATTACH_THREADS; i++) JOIN_CHECK(t[i]);
    CHECK(ctest_attach_count() - attached0 == ATTACH_THREADS);
    CHECK(ctest_detach_count() - detached0 == ATTACH_THREADS);

    CHECK(crosscall_gate_close(r.gate) == CROSSCALL_OK);
    crosscall_gate_free(r.gate);
    return 0;
}
