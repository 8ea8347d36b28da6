/* Several gates per thread (round-robin, nested, thousands made and freed), a close woken by
 * the last leave, and crosscall_gate_stats(), from C on pthreads. */
#include <crosscall.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "check.h"

#define GATES 12 /* more than the per-thread cache table holds (8) */

struct round_robin {
    crosscall_gate **gates;
    int count;
    long rounds;
};

/* Enters and leaves every gate in turn, then gate i nested inside gate i+1. */
static void *round_robin_thread(void *arg) {
    struct round_robin *r = arg;
    for (long round = 0; round < r->rounds; round++) {
        for (int i = 0; i < r->count; i++) {
            CHECK_T(crosscall_gate_enter(r->gates[i]) == CROSSCALL_OK);
            CHECK_T(crosscall_gate_in_flight(r->gates[i]) >= 1);
            crosscall_gate_leave(r->gates[i]);
        }
        for (int i = 0; i + 1 < r->count; i++) {
            CHECK_T(crosscall_gate_enter(r->gates[i + 1]) == CROSSCALL_OK);
            CHECK_T(crosscall_gate_enter(r->gates[i]) == CROSSCALL_OK);
            crosscall_gate_leave(r->gates[i]);
            crosscall_gate_leave(r->gates[i + 1]);
        }
    }
    /* Every leave found its entry: nothing is left to leave. */
    for (int i = 0; i < r->count; i++) {
        crosscall_gate_leave(r->gates[i]);
        CHECK_T(LAST_ERROR_HAS("without a matching"));
    }
    return NULL;
}

int ctest_many_gates_round_robin_and_nested(void) {
    crosscall_gate *gates[GATES];
    for (int i = 0; i < GATES; i++) {
        gates[i] = crosscall_gate_new();
        CHECK(gates[i] != NULL);
        CHECK(crosscall_gate_open(gates[i]) == CROSSCALL_OK);
    }
    struct round_robin r = {.gates = gates, .count = GATES, .rounds = 2000};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) CHECK(pthread_create(&t[i], NULL, round_robin_thread, &r) == 0);
    for (int i = 0; i < 2; i++) JOIN_CHECK(t[i]);
    for (int i = 0; i < GATES; i++) {
        CHECK(crosscall_gate_in_flight(gates[i]) == 0);
        struct crosscall_gate_stats s;
        CHECK(crosscall_gate_stats(gates[i], &s, sizeof s) == CROSSCALL_OK);
        /* Each thread: one entry per round in the loop, one or two (outer, inner) nested. */
        uint64_t nested = (i == 0 || i == GATES - 1) ? 1 : 2;
        CHECK(s.admitted == 2 * 2000 * (1 + nested));
        CHECK(crosscall_gate_close(gates[i]) == CROSSCALL_OK);
        crosscall_gate_free(gates[i]);
    }
    return 0;
}

/* One gate after another, each entered and freed: a thread's cache and slot map keep
 * working (and stay small) across thousands of gates that come and go. */
int ctest_thousands_of_gates_come_and_go(void) {
    crosscall_gate *keep = crosscall_gate_new();
    CHECK(keep != NULL && crosscall_gate_open(keep) == CROSSCALL_OK);
    for (int i = 0; i < 5000; i++) {
        crosscall_gate *g = crosscall_gate_new();
        CHECK(g != NULL);
        CHECK(crosscall_gate_open(g) == CROSSCALL_OK);
        CHECK(crosscall_gate_enter(keep) == CROSSCALL_OK);
        CHECK(crosscall_gate_enter(g) == CROSSCALL_OK);
        crosscall_gate_leave(g);
        crosscall_gate_leave(keep);
        CHECK(crosscall_gate_close(g) == CROSSCALL_OK);
        crosscall_gate_free(g);
    }
    CHECK(crosscall_gate_in_flight(keep) == 0);
    CHECK(crosscall_gate_close(keep) == CROSSCALL_OK);
    crosscall_gate_free(keep);
    return 0;
}

struct wake {
    crosscall_gate *gate;
    atomic_int inside;
    atomic_int release;
    atomic_int closed;
};

static void *holder(void *arg) {
    struct wake *w = arg;
    CHECK_T(crosscall_gate_enter(w->gate) == CROSSCALL_OK);
    atomic_store(&w->inside, 1);
    while (!atomic_load(&w->release)) sleep_ms(1);
    CHECK_T(!atomic_load(&w->closed));
    crosscall_gate_leave(w->gate); /* the last leave: wakes the closer */
    return NULL;
}

static void *closer(void *arg) {
    struct wake *w = arg;
    CHECK_T(crosscall_gate_close(w->gate) == CROSSCALL_OK);
    atomic_store(&w->closed, 1);
    return NULL;
}

/* The closer sleeps while a call is inside and returns once it leaves; the drain shows in
 * the statistics. (How fast it wakes is measured in docs/PERFORMANCE.md, not here.) */
int ctest_close_is_woken_by_the_last_leave(void) {
    struct wake w = {.gate = crosscall_gate_new()};
    CHECK(w.gate != NULL && crosscall_gate_open(w.gate) == CROSSCALL_OK);
    pthread_t h, c;
    CHECK(pthread_create(&h, NULL, holder, &w) == 0);
    while (!atomic_load(&w.inside)) sleep_ms(1);
    CHECK(pthread_create(&c, NULL, closer, &w) == 0);
    sleep_ms(30);
    CHECK(!atomic_load(&w.closed));
    CHECK(crosscall_gate_state(w.gate) == CROSSCALL_STATE_CLOSING);
    atomic_store(&w.release, 1);
    JOIN_CHECK(h);
    JOIN_CHECK(c);
    struct crosscall_gate_stats s;
    CHECK(crosscall_gate_stats(w.gate, &s, sizeof s) == CROSSCALL_OK);
    CHECK(s.state == CROSSCALL_STATE_CLOSED);
    CHECK(s.closes == 1);
    CHECK(s.last_drain_ns >= 20 * 1000000ull); /* it waited for the holder */
    CHECK(s.max_drain_ns == s.last_drain_ns);
    CHECK(s.in_flight == 0 && s.admitted == 1);
    crosscall_gate_free(w.gate);
    return 0;
}

static void *early_caller(void *arg) {
    crosscall_gate *g = arg;
    CHECK_T(crosscall_gate_enter(g) == CROSSCALL_OK);
    crosscall_gate_leave(g);
    return NULL;
}

int ctest_stats_count_what_happened(void) {
    crosscall_gate *g = crosscall_gate_new();
    CHECK(g != NULL);
    struct crosscall_gate_stats s;
    memset(&s, 0xff, sizeof s);
    CHECK(crosscall_gate_stats(g, &s, sizeof s) == CROSSCALL_OK);
    CHECK(s.state == CROSSCALL_STATE_UNINIT && s.reserved == 0 && s.generation == 0);
    CHECK(s.admitted == 0 && s.refused == 0 && s.waited == 0 && s.threads == 0);

    /* A caller that waits for open. */
    pthread_t t;
    CHECK(pthread_create(&t, NULL, early_caller, g) == 0);
    sleep_ms(20);
    CHECK(crosscall_gate_try_enter(g) == CROSSCALL_ERR_TIMEOUT);    /* did not wait */
    CHECK(crosscall_gate_enter_timeout(g, 1000) == CROSSCALL_ERR_TIMEOUT); /* gave up */
    CHECK(crosscall_gate_open(g) == CROSSCALL_OK);
    JOIN_CHECK(t);
    for (int i = 0; i < 10; i++) {
        CHECK(crosscall_gate_enter(g) == CROSSCALL_OK);
        crosscall_gate_leave(g);
    }
    CHECK(crosscall_gate_enter(g) == CROSSCALL_OK);
    CHECK(crosscall_gate_stats(g, &s, sizeof s) == CROSSCALL_OK);
    CHECK(s.state == CROSSCALL_STATE_OPEN && s.generation == 1);
    CHECK(s.admitted == 12 && s.in_flight == 1);
    CHECK(s.waited == 2 && s.wait_ns >= 10 * 1000000ull); /* the early caller, the timeout */
    CHECK(s.timed_out == 1);
    CHECK(s.threads == 1); /* the early caller has exited; this thread holds its slot */
    CHECK(s.slow_path_entries >= 3);
    crosscall_gate_leave(g);
    CHECK(crosscall_gate_close(g) == CROSSCALL_OK);
    CHECK(crosscall_gate_enter(g) == CROSSCALL_ERR_CLOSED);
    CHECK(crosscall_gate_enter(g) == CROSSCALL_ERR_CLOSED);
    CHECK(crosscall_gate_stats(g, &s, sizeof s) == CROSSCALL_OK);
    CHECK(s.refused == 2 && s.closes == 1 && s.reopens == 0);

    /* A caller built against a shorter struct gets the fields it knows, nothing past them. */
    unsigned char small[24];
    memset(small, 0xee, sizeof small);
    CHECK(crosscall_gate_stats(g, (struct crosscall_gate_stats *)(void *)small, 16) ==
          CROSSCALL_OK);
    CHECK(small[16] == 0xee && small[23] == 0xee);
    CHECK(((struct crosscall_gate_stats *)(void *)small)->generation == 1);

    /* Bad arguments. */
    CHECK(crosscall_gate_stats(NULL, &s, sizeof s) == CROSSCALL_ERR_INVALID);
    CHECK(LAST_ERROR_HAS("NULL"));
    CHECK(crosscall_gate_stats(g, NULL, sizeof s) == CROSSCALL_ERR_INVALID);
    CHECK(LAST_ERROR_HAS("out argument is NULL"));
    CHECK(crosscall_gate_stats(g, &s, 4) == CROSSCALL_ERR_INVALID);
    CHECK(LAST_ERROR_HAS("too small"));
    crosscall_gate_free(g);
    return 0;
}
