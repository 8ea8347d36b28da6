/* The entry paths of the C API: a thread's first entry (attach, claim a slot) and the cached
 * ones after it, two gates alternating on one thread (the per-thread cache holds one gate's
 * slot at a time), and a leave while the gate is closing (the fast path refuses, the slow
 * path leaves). Every check runs on threads created here with pthread_create. */
#include <stdatomic.h>

#include "check.h"
#include "crosscall.h"

uint64_t ctest_attach_count(void);
int ctest_is_attached(void);

enum { ROUNDS = 1000 };

static void *enter_many(void *arg) {
    crosscall_gate *g = arg;
    CHECK_T(!ctest_is_attached());
    for (int i = 0; i < ROUNDS; i++) {
        CHECK_T(crosscall_gate_enter(g) == CROSSCALL_OK);
        CHECK_T(ctest_is_attached()); /* the first entry attached this thread */
        CHECK_T(crosscall_gate_enter(g) == CROSSCALL_OK); /* nested */
        CHECK_T(crosscall_gate_in_flight(g) >= 2);
        crosscall_gate_leave(g);
        crosscall_gate_leave(g);
    }
    /* Everything was left: one more leave is refused. */
    crosscall_clear_last_error();
    crosscall_gate_leave(g);
    CHECK_T(LAST_ERROR_HAS("without a matching"));
    return NULL;
}

int ctest_first_entry_then_cached_entries_on_new_threads(void) {
    crosscall_gate *g = crosscall_gate_new();
    CHECK(g != NULL);
    CHECK(crosscall_gate_open(g) == CROSSCALL_OK);
    enum { THREADS = 4 };
    uint64_t attached_before = ctest_attach_count();
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) CHECK(pthread_create(&t[i], NULL, enter_many, g) == 0);
    for (int i = 0; i < THREADS; i++) JOIN_CHECK(t[i]);
    /* Each new thread attached (other tests may attach threads of their own meanwhile). */
    CHECK(ctest_attach_count() - attached_before >= THREADS);
    CHECK(crosscall_gate_in_flight(g) == 0);
    CHECK(crosscall_gate_close(g) == CROSSCALL_OK);
    crosscall_gate_free(g);
    return 0;
}

struct two_gates {
    crosscall_gate *a, *b;
};

static void *alternate(void *arg) {
    struct two_gates *gates = arg;
    crosscall_gate *a = gates->a, *b = gates->b;
    for (int i = 0; i < ROUNDS; i++) {
        CHECK_T(crosscall_gate_enter(a) == CROSSCALL_OK);
        CHECK_T(crosscall_gate_enter(b) == CROSSCALL_OK);
        CHECK_T(crosscall_gate_enter(a) == CROSSCALL_OK);
        CHECK_T(crosscall_gate_in_flight(a) >= 2 && crosscall_gate_in_flight(b) >= 1);
        crosscall_gate_leave(b); /* not the innermost: entries of two gates are independent */
        crosscall_gate_leave(a);
        crosscall_gate_leave(a);
    }
    crosscall_clear_last_error();
    crosscall_gate_leave(b);
    CHECK_T(LAST_ERROR_HAS("without a matching"));
    crosscall_clear_last_error();
    crosscall_gate_leave(a);
    CHECK_T(LAST_ERROR_HAS("without a matching"));
    return NULL;
}

int ctest_two_gates_alternate_on_one_thread(void) {
    struct two_gates gates = {crosscall_gate_new(), crosscall_gate_new()};
    CHECK(gates.a != NULL && gates.b != NULL);
    CHECK(crosscall_gate_open(gates.a) == CROSSCALL_OK);
    CHECK(crosscall_gate_open(gates.b) == CROSSCALL_OK);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) CHECK(pthread_create(&t[i], NULL, alternate, &gates) == 0);
    for (int i = 0; i < 2; i++) JOIN_CHECK(t[i]);
    CHECK(crosscall_gate_in_flight(gates.a) == 0);
    CHECK(crosscall_gate_in_flight(gates.b) == 0);
    /* Closing one leaves the other open. */
    CHECK(crosscall_gate_close(gates.a) == CROSSCALL_OK);
    CHECK(crosscall_gate_state(gates.b) == CROSSCALL_STATE_OPEN);
    CHECK(crosscall_gate_enter(gates.b) == CROSSCALL_OK);
    CHECK(crosscall_gate_enter(gates.a) == CROSSCALL_ERR_CLOSED);
    crosscall_gate_leave(gates.b);
    CHECK(crosscall_gate_close(gates.b) == CROSSCALL_OK);
    crosscall_gate_free(gates.a);
    crosscall_gate_free(gates.b);
    return 0;
}

struct closing {
    crosscall_gate *g;
    atomic_int close_result;
    atomic_int close_returned;
};

static void *close_it(void *arg) {
    struct closing *c = arg;
    int rc = crosscall_gate_close(c->g);
    atomic_store(&c->close_result, rc);
    atomic_store(&c->close_returned, 1);
    return NULL;
}

int ctest_leave_while_closing(void) {
    struct closing c = {crosscall_gate_new(), 1, 0};
    CHECK(c.g != NULL);
    CHECK(crosscall_gate_open(c.g) == CROSSCALL_OK);
    CHECK(crosscall_gate_enter(c.g) == CROSSCALL_OK);
    CHECK(crosscall_gate_enter(c.g) == CROSSCALL_OK);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, close_it, &c) == 0);
    while (crosscall_gate_state(c.g) != CROSSCALL_STATE_CLOSING) sleep_ms(1);
    /* Closing: nothing new gets in, not even a nested entry of a thread already inside. */
    CHECK(crosscall_gate_enter(c.g) == CROSSCALL_ERR_CLOSED);
    CHECK(crosscall_gate_in_flight(c.g) == 2);
    crosscall_gate_leave(c.g);
    sleep_ms(5);
    CHECK(atomic_load(&c.close_returned) == 0); /* one entry is still inside */
    crosscall_gate_leave(c.g);
    JOIN_CHECK(t);
    CHECK(atomic_load(&c.close_result) == CROSSCALL_OK);
    CHECK(crosscall_gate_state(c.g) == CROSSCALL_STATE_CLOSED);
    crosscall_clear_last_error();
    crosscall_gate_leave(c.g); /* nothing left to leave */
    CHECK(LAST_ERROR_HAS("without a matching"));
    crosscall_gate_free(c.g);
    return 0;
}
