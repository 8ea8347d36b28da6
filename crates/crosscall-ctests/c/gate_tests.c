/* The crosscall_gate C API driven from threads that C creates with pthread_create. */
#include <stdatomic.h>
#include <stdint.h>

#include "check.h"
#include "crosscall.h"

/* ---- bad arguments ------------------------------------------------------------------------ */

static void init_nothing(void *ctx) { (void)ctx; }

int ctest_bad_arguments_are_invalid(void) {
    crosscall_clear_last_error();
    CHECK(crosscall_last_error_message() == NULL);

    CHECK(crosscall_gate_open(NULL) == CROSSCALL_ERR_INVALID);
    CHECK(LAST_ERROR_HAS("NULL"));
    CHECK(crosscall_gate_open_with(NULL, init_nothing, NULL) == CROSSCALL_ERR_INVALID);
    CHECK(crosscall_gate_enter(NULL) == CROSSCALL_ERR_INVALID);
    CHECK(crosscall_gate_try_enter(NULL) == CROSSCALL_ERR_INVALID);
    CHECK(crosscall_gate_enter_timeout(NULL, 1000) == CROSSCALL_ERR_INVALID);
    CHECK(crosscall_gate_close(NULL) == CROSSCALL_ERR_INVALID);
    CHECK(crosscall_gate_close_timeout(NULL, 1000) == CROSSCALL_ERR_INVALID);
    CHECK(crosscall_gate_state(NULL) == CROSSCALL_ERR_INVALID);
    CHECK(crosscall_gate_in_flight(NULL) == CROSSCALL_ERR_INVALID);
    crosscall_gate_leave(NULL); /* documented no-op */
    crosscall_gate_free(NULL);  /* documented no-op */

    crosscall_gate *g = crosscall_gate_new();
    CHECK(g != NULL);
    CHECK(crosscall_gate_open_with(g, NULL, NULL) == CROSSCALL_ERR_INVALID);
    CHECK(LAST_ERROR_HAS("init"));
    CHECK(crosscall_gate_state(g) == CROSSCALL_STATE_UNINIT); /* the refused open changed nothing */

    /* A pointer into the middle of a gate is misaligned: refused without being dereferenced. */
    crosscall_gate *inside = (crosscall_gate *)((char *)g + 1);
    CHECK(crosscall_gate_state(inside) == CROSSCALL_ERR_INVALID);
    CHECK(crosscall_gate_enter(inside) == CROSSCALL_ERR_INVALID);

    /* Messages stay until the next failure: a success does not clear them. */
    CHECK(crosscall_gate_open(g) == CROSSCALL_OK);
    CHECK(LAST_ERROR_HAS("misaligned"));
    crosscall_clear_last_error();
    CHECK(crosscall_last_error_message() == NULL);

    CHECK(crosscall_gate_close(g) == CROSSCALL_OK);
    crosscall_gate_free(g);

    CHECK(strcmp(crosscall_strerror(CROSSCALL_ERR_CLOSED), crosscall_strerror(12345)) != 0);
    return 0;
}

/* ---- waiting for open --------------------------------------------------------------------- */

struct early {
    crosscall_gate *gate;
    atomic_int arrived;  /* threads about to call enter */
    atomic_int admitted; /* threads whose enter returned OK */
    int initialized;     /* plain: published to callers by crosscall_gate_open */
};

static void *early_caller(void *arg) {
    struct early *e = arg;
    atomic_fetch_add(&e->arrived, 1);
    CHECK_T(crosscall_gate_enter(e->gate) == CROSSCALL_OK);
    atomic_fetch_add(&e->admitted, 1);
    /* Everything written before open is visible to an admitted caller. */
    CHECK_T(e->initialized == 42);
    CHECK_T(crosscall_gate_state(e->gate) == CROSSCALL_STATE_OPEN);
    crosscall_gate_leave(e->gate);
    return NULL;
}

int ctest_early_callers_wait_until_open(void) {
    enum { THREADS = 4 };
    struct early e = {.gate = crosscall_gate_new()};
    CHECK(e.gate != NULL);
    CHECK(crosscall_gate_state(e.gate) == CROSSCALL_STATE_UNINIT);
    CHECK(crosscall_gate_try_enter(e.gate) == CROSSCALL_ERR_TIMEOUT);
    CHECK(crosscall_gate_enter_timeout(e.gate, 1000000) == CROSSCALL_ERR_TIMEOUT);
    CHECK(LAST_ERROR_HAS("timed out"));

    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) CHECK(pthread_create(&t[i], NULL, early_caller, &e) == 0);
    while (atomic_load(&e.arrived) < THREADS) sleep_ms(1);
    sleep_ms(20); /* give a broken gate the chance to admit early */
    CHECK(atomic_load(&e.admitted) == 0);

    e.initialized = 42;
    CHECK(crosscall_gate_open(e.gate) == CROSSCALL_OK);
    CHECK(crosscall_gate_open(e.gate) == CROSSCALL_OK); /* idempotent */
    for (int i = 0; i < THREADS; i++) JOIN_CHECK(t[i]);
    CHECK(atomic_load(&e.admitted) == THREADS);

    CHECK(crosscall_gate_close(e.gate) == CROSSCALL_OK);
    CHECK(crosscall_gate_open(e.gate) == CROSSCALL_ERR_CLOSED); /* no reopening */
    crosscall_gate_free(e.gate);
    return 0;
}

struct opener {
    crosscall_gate *gate;
    long delay_ms;
};

static void *open_later(void *arg) {
    struct opener *o = arg;
    sleep_ms(o->delay_ms);
    CHECK_T(crosscall_gate_open(o->gate) == CROSSCALL_OK);
    return NULL;
}

int ctest_enter_timeout_admits_when_opened_in_time(void) {
    struct opener o = {.gate = crosscall_gate_new(), .delay_ms = 10};
    CHECK(o.gate != NULL);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, open_later, &o) == 0);
    CHECK(crosscall_gate_enter_timeout(o.gate, UINT64_C(60000000000)) == CROSSCALL_OK);
    CHECK(crosscall_gate_in_flight(o.gate) == 1);
    crosscall_gate_leave(o.gate);
    JOIN_CHECK(t);
    /* The largest timeout ("forever") must not overflow anything. */
    CHECK(crosscall_gate_enter_timeout(o.gate, UINT64_MAX) == CROSSCALL_OK);
    crosscall_gate_leave(o.gate);
    CHECK(crosscall_gate_close_timeout(o.gate, UINT64_MAX) == CROSSCALL_OK);
    CHECK(crosscall_gate_state(o.gate) == CROSSCALL_STATE_CLOSED);
    crosscall_gate_free(o.gate);
    return 0;
}

/* ---- draining on close -------------------------------------------------------------------- */

struct drain {
    crosscall_gate *gate;
    atomic_int inside;       /* the holder is admitted */
    atomic_int release;      /* main lets the holder go */
    atomic_int holder_done;  /* the holder finished its work (just before leaving) */
    atomic_int close_returned;
    int close_code;
    int holder_done_at_close; /* holder_done as seen right after close returned */
};

static void *holder(void *arg) {
    struct drain *d = arg;
    CHECK_T(crosscall_gate_enter(d->gate) == CROSSCALL_OK);
    atomic_store(&d->inside, 1);
    while (!atomic_load(&d->release)) sleep_ms(1);
    atomic_store(&d->holder_done, 1);
    crosscall_gate_leave(d->gate);
    return NULL;
}

static void *closer(void *arg) {
    struct drain *d = arg;
    d->close_code = crosscall_gate_close(d->gate);
    d->holder_done_at_close = atomic_load(&d->holder_done);
    atomic_store(&d->close_returned, 1);
    return NULL;
}

int ctest_close_waits_for_admitted_calls(void) {
    struct drain d = {.gate = crosscall_gate_new()};
    CHECK(d.gate != NULL);
    CHECK(crosscall_gate_open(d.gate) == CROSSCALL_OK);

    pthread_t h, c;
    CHECK(pthread_create(&h, NULL, holder, &d) == 0);
    while (!atomic_load(&d.inside)) sleep_ms(1);

    /* A bounded close gives up while the holder is inside, leaving the gate closing. */
    CHECK(crosscall_gate_close_timeout(d.gate, 5000000) == CROSSCALL_ERR_TIMEOUT);
    CHECK(LAST_ERROR_HAS("timed out"));
    CHECK(crosscall_gate_state(d.gate) == CROSSCALL_STATE_CLOSING);
    CHECK(crosscall_gate_in_flight(d.gate) == 1);

    CHECK(pthread_create(&c, NULL, closer, &d) == 0);
    sleep_ms(20); /* give a broken close the chance to return early */
    CHECK(!atomic_load(&d.close_returned));
    /* Closing: nobody new gets in, waiting or not. */
    CHECK(crosscall_gate_try_enter(d.gate) == CROSSCALL_ERR_CLOSED);
    CHECK(crosscall_gate_enter(d.gate) == CROSSCALL_ERR_CLOSED);
    CHECK(LAST_ERROR_HAS("closed"));

    atomic_store(&d.release, 1);
    JOIN_CHECK(h);
    JOIN_CHECK(c);
    CHECK(d.close_code == CROSSCALL_OK);
    CHECK(d.holder_done_at_close == 1); /* close returned only after the holder left */

    CHECK(crosscall_gate_state(d.gate) == CROSSCALL_STATE_CLOSED);
    CHECK(crosscall_gate_in_flight(d.gate) == 0);
    CHECK(crosscall_gate_enter(d.gate) == CROSSCALL_ERR_CLOSED);
    CHECK(crosscall_gate_enter_timeout(d.gate, 1000000) == CROSSCALL_ERR_CLOSED);
    CHECK(crosscall_gate_close(d.gate) == CROSSCALL_OK); /* closing twice is fine */
    crosscall_gate_free(d.gate);
    return 0;
}

struct waiter {
    crosscall_gate *gate;
    atomic_int arrived;
    int code;
};

static void *wait_for_open(void *arg) {
    struct waiter *w = arg;
    atomic_store(&w->arrived, 1);
    w->code = crosscall_gate_enter(w->gate);
    return NULL;
}

int ctest_close_before_open_releases_waiters(void) {
    struct waiter w = {.gate = crosscall_gate_new()};
    CHECK(w.gate != NULL);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, wait_for_open, &w) == 0);
    while (!atomic_load(&w.arrived)) sleep_ms(1);
    sleep_ms(10);
    CHECK(crosscall_gate_close(w.gate) == CROSSCALL_OK);
    JOIN_CHECK(t);
    CHECK(w.code == CROSSCALL_ERR_CLOSED);
    CHECK(crosscall_gate_state(w.gate) == CROSSCALL_STATE_CLOSED);
    crosscall_gate_free(w.gate);
    return 0;
}

/* ---- deadlock detection ------------------------------------------------------------------- */

int ctest_close_from_inside_would_deadlock(void) {
    crosscall_gate *g = crosscall_gate_new();
    CHECK(g != NULL);
    CHECK(crosscall_gate_open(g) == CROSSCALL_OK);
    CHECK(crosscall_gate_enter(g) == CROSSCALL_OK);
    CHECK(crosscall_gate_close(g) == CROSSCALL_ERR_WOULD_DEADLOCK);
    CHECK(LAST_ERROR_HAS("deadlock"));
    CHECK(crosscall_gate_close_timeout(g, 1000000) == CROSSCALL_ERR_WOULD_DEADLOCK);
    crosscall_gate_leave(g);
    CHECK(crosscall_gate_close(g) == CROSSCALL_OK);
    crosscall_gate_free(g);
    return 0;
}

struct init_ctx {
    crosscall_gate *gate;
    int enter_code;
    int try_enter_code;
};

static void init_that_enters(void *arg) {
    struct init_ctx *ctx = arg;
    ctx->enter_code = crosscall_gate_enter(ctx->gate);
    ctx->try_enter_code = crosscall_gate_try_enter(ctx->gate);
}

int ctest_enter_inside_init_would_deadlock(void) {
    struct init_ctx ctx = {.gate = crosscall_gate_new(), .enter_code = 1, .try_enter_code = 1};
    CHECK(ctx.gate != NULL);
    CHECK(crosscall_gate_open_with(ctx.gate, init_that_enters, &ctx) == CROSSCALL_OK);
    CHECK(ctx.enter_code == CROSSCALL_ERR_WOULD_DEADLOCK);
    CHECK(ctx.try_enter_code < 0); /* refused, whichever reason it gives */
    CHECK(crosscall_gate_state(ctx.gate) == CROSSCALL_STATE_OPEN);
    CHECK(crosscall_gate_in_flight(ctx.gate) == 0);
    CHECK(crosscall_gate_close(ctx.gate) == CROSSCALL_OK);
    CHECK(crosscall_gate_open_with(ctx.gate, init_that_enters, &ctx) == CROSSCALL_ERR_CLOSED);
    crosscall_gate_free(ctx.gate);
    return 0;
}

/* ---- enter/leave pairing ------------------------------------------------------------------ */

int ctest_unmatched_leave_is_reported(void) {
    crosscall_gate *g = crosscall_gate_new();
    crosscall_gate *other = crosscall_gate_new();
    CHECK(g != NULL && other != NULL);
    CHECK(crosscall_gate_open(g) == CROSSCALL_OK);
    CHECK(crosscall_gate_open(other) == CROSSCALL_OK);

    crosscall_clear_last_error();
    crosscall_gate_leave(g);
    CHECK(LAST_ERROR_HAS("without a matching"));
    CHECK(crosscall_gate_in_flight(g) == 0);

    /* Nested entries, interleaved with another gate: each leave undoes one enter of its gate. */
    CHECK(crosscall_gate_enter(g) == CROSSCALL_OK);
    CHECK(crosscall_gate_enter(other) == CROSSCALL_OK);
    CHECK(crosscall_gate_enter(g) == CROSSCALL_OK);
    CHECK(crosscall_gate_in_flight(g) == 2);
    crosscall_gate_leave(g);
    CHECK(crosscall_gate_in_flight(g) == 1);
    CHECK(crosscall_gate_in_flight(other) == 1);
    crosscall_gate_leave(g);
    crosscall_clear_last_error();
    crosscall_gate_leave(g); /* one too many */
    CHECK(LAST_ERROR_HAS("without a matching"));
    CHECK(crosscall_gate_in_flight(g) == 0);
    CHECK(crosscall_gate_in_flight(other) == 1);

    CHECK(crosscall_gate_close(g) == CROSSCALL_OK); /* counts were not corrupted */
    crosscall_gate_leave(other);
    CHECK(crosscall_gate_close(other) == CROSSCALL_OK);
    crosscall_gate_free(g);
    crosscall_gate_free(other);
    return 0;
}

static void *leave_on_wrong_thread(void *arg) {
    crosscall_gate *g = arg;
    crosscall_clear_last_error();
    crosscall_gate_leave(g); /* the enter belongs to another thread */
    CHECK_T(LAST_ERROR_HAS("without a matching"));
    return NULL;
}

static void *enter_and_exit(void *arg) {
    crosscall_gate *g = arg;
    CHECK_T(crosscall_gate_enter(g) == CROSSCALL_OK);
    CHECK_T(crosscall_gate_enter(g) == CROSSCALL_OK);
    return NULL; /* exits while entered twice */
}

int ctest_leave_belongs_to_the_entering_thread(void) {
    crosscall_gate *g = crosscall_gate_new();
    CHECK(g != NULL);
    CHECK(crosscall_gate_open(g) == CROSSCALL_OK);
    CHECK(crosscall_gate_enter(g) == CROSSCALL_OK);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, leave_on_wrong_thread, g) == 0);
    JOIN_CHECK(t);
    CHECK(crosscall_gate_in_flight(g) == 1);
    crosscall_gate_leave(g);
    CHECK(crosscall_gate_in_flight(g) == 0);

    /* A thread that exits while entered leaves at exit. */
    CHECK(pthread_create(&t, NULL, enter_and_exit, g) == 0);
    JOIN_CHECK(t);
    CHECK(crosscall_gate_in_flight(g) == 0);
    /* ...and its slot is fine to reuse by the next thread. */
    CHECK(pthread_create(&t, NULL, enter_and_exit, g) == 0);
    JOIN_CHECK(t);
    CHECK(crosscall_gate_in_flight(g) == 0);
    CHECK(crosscall_gate_close(g) == CROSSCALL_OK);
    crosscall_gate_free(g);
    return 0;
}

/* ---- freeing misuse (run in a child process: it must abort) ------------------------------- */

int ctest_free_while_entered_aborts(void) {
    crosscall_gate *g = crosscall_gate_new();
    CHECK(g != NULL);
    CHECK(crosscall_gate_open(g) == CROSSCALL_OK);
    CHECK(crosscall_gate_enter(g) == CROSSCALL_OK);
    crosscall_gate_free(g); /* must not return: a call is in flight */
    return __LINE__;
}
