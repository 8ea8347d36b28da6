/* Library state behind a C gate (crosscall_gate_open_state / reopen_state / enter_state, and
 * the destroy call in crosscall_gate_close), driven from threads C creates. */
#include <stdatomic.h>
#include <stdint.h>

#include "check.h"
#include "crosscall.h"

/* A library state: which generation it belongs to, whether it is alive, calls it served. */
struct lib_state {
    int generation;
    atomic_int alive;        /* 1 from open until destroy; a call must never see 0 */
    atomic_long calls;       /* calls served with this state */
    atomic_int destroyed;    /* destroy calls (must end at exactly 1) */
    pthread_t destroyed_on;  /* the thread destroy ran on */
    crosscall_gate *gate;    /* to look at the gate from inside destroy */
    int state_at_destroy;    /* crosscall_gate_state() seen by destroy */
    int64_t in_flight_at_destroy;
    int reentry_code;        /* crosscall_gate_enter() from inside destroy */
    int reclose_code;        /* crosscall_gate_close() from inside destroy */
};

static void lib_state_init(struct lib_state *s, crosscall_gate *g, int generation) {
    memset(s, 0, sizeof *s);
    s->generation = generation;
    s->gate = g;
    atomic_store(&s->alive, 1);
}

static void destroy_lib_state(void *p) {
    struct lib_state *s = p;
    s->destroyed_on = pthread_self();
    s->state_at_destroy = crosscall_gate_state(s->gate);
    s->in_flight_at_destroy = crosscall_gate_in_flight(s->gate);
    /* Calling back into the gate from destroy: refused as closed, never a deadlock. */
    s->reentry_code = crosscall_gate_enter(s->gate);
    if (s->reentry_code == CROSSCALL_OK) crosscall_gate_leave(s->gate);
    s->reclose_code = crosscall_gate_close(s->gate);
    atomic_store(&s->alive, 0);
    atomic_fetch_add(&s->destroyed, 1);
}

/* ---- bad arguments and wrong states ------------------------------------------------------ */

int ctest_state_bad_arguments(void) {
    struct lib_state a, b;
    void *seen = &seen;

    CHECK(crosscall_gate_open_state(NULL, &a, destroy_lib_state) == CROSSCALL_ERR_INVALID);
    CHECK(crosscall_gate_reopen_state(NULL, &a, destroy_lib_state) == CROSSCALL_ERR_INVALID);
    CHECK(crosscall_gate_enter_state(NULL, &seen) == CROSSCALL_ERR_INVALID);
    CHECK(seen == NULL); /* an error writes NULL */

    crosscall_gate *g = crosscall_gate_new();
    CHECK(g != NULL);
    lib_state_init(&a, g, 1);
    lib_state_init(&b, g, 2);

    /* reopen needs a CLOSED gate: refused on UNINIT, nothing changes. */
    CHECK(crosscall_gate_reopen_state(g, &b, destroy_lib_state) == CROSSCALL_ERR_INVALID);
    CHECK(LAST_ERROR_HAS("not CLOSED"));
    CHECK(crosscall_gate_state(g) == CROSSCALL_STATE_UNINIT);

    /* A NULL out-pointer is refused and enters nothing (even before open: no waiting). */
    CHECK(crosscall_gate_enter_state(g, NULL) == CROSSCALL_ERR_INVALID);
    CHECK(LAST_ERROR_HAS("out-pointer"));

    CHECK(crosscall_gate_open_state(g, &a, destroy_lib_state) == CROSSCALL_OK);
    CHECK(crosscall_gate_enter_state(g, NULL) == CROSSCALL_ERR_INVALID);
    CHECK(crosscall_gate_in_flight(g) == 0);

    /* Open twice, or reopen while open: refused, the first state stays, b is not destroyed. */
    CHECK(crosscall_gate_open_state(g, &b, destroy_lib_state) == CROSSCALL_ERR_INVALID);
    CHECK(LAST_ERROR_HAS("already open"));
    CHECK(crosscall_gate_reopen_state(g, &b, destroy_lib_state) == CROSSCALL_ERR_INVALID);
    CHECK(crosscall_gate_enter_state(g, &seen) == CROSSCALL_OK);
    CHECK(seen == &a);
    crosscall_gate_leave(g);

    CHECK(crosscall_gate_close(g) == CROSSCALL_OK);
    CHECK(atomic_load(&a.destroyed) == 1);
    CHECK(atomic_load(&b.destroyed) == 0);

    /* After close: plain open and open_state stay refused; only reopen_state opens. */
    CHECK(crosscall_gate_open(g) == CROSSCALL_ERR_CLOSED);
    CHECK(crosscall_gate_open_state(g, &b, destroy_lib_state) == CROSSCALL_ERR_CLOSED);
    CHECK(LAST_ERROR_HAS("reopen"));
    seen = &seen;
    CHECK(crosscall_gate_enter_state(g, &seen) == CROSSCALL_ERR_CLOSED);
    CHECK(seen == NULL);
    CHECK(LAST_ERROR_HAS("closed"));
    CHECK(atomic_load(&b.destroyed) == 0);

    crosscall_gate_free(g);
    CHECK(atomic_load(&b.destroyed) == 0); /* never installed: never destroyed */
    return 0;
}

/* ---- one generation after another on one thread ------------------------------------------ */

int ctest_state_close_destroys_and_reopen_installs(void) {
    crosscall_gate *g = crosscall_gate_new();
    CHECK(g != NULL);
    struct lib_state a, b;
    lib_state_init(&a, g, 1);
    lib_state_init(&b, g, 2);
    void *seen = NULL;

    CHECK(crosscall_gate_open_state(g, &a, destroy_lib_state) == CROSSCALL_OK);
    CHECK(crosscall_gate_enter_state(g, &seen) == CROSSCALL_OK);
    CHECK(seen == &a);
    /* Closing from inside is refused and changes nothing. */
    CHECK(crosscall_gate_close(g) == CROSSCALL_ERR_WOULD_DEADLOCK);
    CHECK(atomic_load(&a.destroyed) == 0);
    crosscall_gate_leave(g);

    CHECK(crosscall_gate_close(g) == CROSSCALL_OK);
    CHECK(atomic_load(&a.destroyed) == 1);
    CHECK(pthread_equal(a.destroyed_on, pthread_self()));
    CHECK(a.state_at_destroy == CROSSCALL_STATE_CLOSED);
    CHECK(a.in_flight_at_destroy == 0);
    CHECK(a.reentry_code == CROSSCALL_ERR_CLOSED);
    CHECK(a.reclose_code == CROSSCALL_OK);

    CHECK(crosscall_gate_close(g) == CROSSCALL_OK); /* twice: no second destroy */
    CHECK(atomic_load(&a.destroyed) == 1);

    CHECK(crosscall_gate_reopen_state(g, &b, destroy_lib_state) == CROSSCALL_OK);
    CHECK(crosscall_gate_state(g) == CROSSCALL_STATE_OPEN);
    CHECK(crosscall_gate_enter_state(g, &seen) == CROSSCALL_OK);
    CHECK(seen == &b);
    crosscall_gate_leave(g);
    CHECK(crosscall_gate_close_timeout(g, UINT64_C(10000000000)) == CROSSCALL_OK);
    CHECK(atomic_load(&b.destroyed) == 1);
    CHECK(atomic_load(&a.destroyed) == 1);

    /* A state without destroy (NULL), then a gate opened plainly: enter_state gives NULL. */
    int plain = 0;
    CHECK(crosscall_gate_reopen_state(g, &plain, NULL) == CROSSCALL_OK);
    CHECK(crosscall_gate_enter_state(g, &seen) == CROSSCALL_OK);
    CHECK(seen == &plain);
    crosscall_gate_leave(g);
    CHECK(crosscall_gate_close(g) == CROSSCALL_OK);
    crosscall_gate_free(g);

    crosscall_gate *h = crosscall_gate_new();
    CHECK(h != NULL);
    CHECK(crosscall_gate_open(h) == CROSSCALL_OK);
    seen = &seen;
    CHECK(crosscall_gate_enter_state(h, &seen) == CROSSCALL_OK);
    CHECK(seen == NULL);
    crosscall_gate_leave(h);
    CHECK(crosscall_gate_close(h) == CROSSCALL_OK);
    crosscall_gate_free(h);

    /* A gate freed while open destroys its state in free. */
    crosscall_gate *k = crosscall_gate_new();
    CHECK(k != NULL);
    struct lib_state c;
    lib_state_init(&c, k, 1);
    CHECK(crosscall_gate_open_state(k, &c, NULL) == CROSSCALL_OK);
    CHECK(crosscall_gate_reopen_state(k, &c, NULL) == CROSSCALL_ERR_INVALID);
    crosscall_gate_free(k);
    return 0;
}

/* ---- early callers wait for the state; destroy waits for the drain ------------------------ */

struct holder {
    crosscall_gate *gate;
    struct lib_state *expected;
    atomic_int inside;
    atomic_int release;
    atomic_int left; /* set just before leave */
};

static void *hold_state(void *arg) {
    struct holder *h = arg;
    void *seen = NULL;
    CHECK_T(crosscall_gate_enter_state(h->gate, &seen) == CROSSCALL_OK); /* waits for open */
    CHECK_T(seen == h->expected);
    CHECK_T(atomic_load(&h->expected->alive) == 1);
    atomic_store(&h->inside, 1);
    while (!atomic_load(&h->release)) sleep_ms(1);
    CHECK_T(atomic_load(&h->expected->alive) == 1); /* still alive: close is waiting for us */
    atomic_store(&h->left, 1);
    crosscall_gate_leave(h->gate);
    return NULL;
}

struct closer {
    crosscall_gate *gate;
    int code;
    pthread_t self;
};

static void *close_gate(void *arg) {
    struct closer *c = arg;
    c->self = pthread_self();
    c->code = crosscall_gate_close(c->gate);
    return NULL;
}

int ctest_state_destroy_runs_on_the_closing_thread_after_the_drain(void) {
    crosscall_gate *g = crosscall_gate_new();
    CHECK(g != NULL);
    struct lib_state a;
    lib_state_init(&a, g, 1);
    struct holder h = {.gate = g, .expected = &a};
    pthread_t ht;
    CHECK(pthread_create(&ht, NULL, hold_state, &h) == 0);
    sleep_ms(20); /* the holder waits in enter_state: the gate is not open */
    CHECK(atomic_load(&h.inside) == 0);
    CHECK(crosscall_gate_open_state(g, &a, destroy_lib_state) == CROSSCALL_OK);
    while (!atomic_load(&h.inside)) sleep_ms(1);

    struct closer c = {.gate = g};
    pthread_t ct;
    CHECK(pthread_create(&ct, NULL, close_gate, &c) == 0);
    sleep_ms(20); /* the closer is draining: the holder is still inside */
    CHECK(atomic_load(&a.destroyed) == 0);
    CHECK(crosscall_gate_state(g) == CROSSCALL_STATE_CLOSING);
    atomic_store(&h.release, 1);
    JOIN_CHECK(ct);
    JOIN_CHECK(ht);
    CHECK(c.code == CROSSCALL_OK);
    CHECK(atomic_load(&h.left) == 1);
    CHECK(atomic_load(&a.destroyed) == 1);
    CHECK(pthread_equal(a.destroyed_on, c.self));
    CHECK(a.in_flight_at_destroy == 0);
    crosscall_gate_free(g);
    return 0;
}

/* ---- close/reopen cycles while threads hammer -------------------------------------------- */

enum { HAMMER_THREADS = 4, GENERATIONS = 30 };

struct hammer {
    crosscall_gate *gate;
    struct lib_state *states; /* GENERATIONS of them, one per generation */
    atomic_int stop;
    atomic_long admitted;     /* calls that got a state */
    atomic_long refused;      /* calls refused as closed */
    atomic_long dead_seen;    /* calls that saw a destroyed state (must stay 0) */
    atomic_long foreign_seen; /* calls that saw a pointer that is no state (must stay 0) */
};

static void *hammer_calls(void *arg) {
    struct hammer *m = arg;
    while (!atomic_load(&m->stop)) {
        void *seen = NULL;
        int code = crosscall_gate_enter_state(m->gate, &seen);
        if (code == CROSSCALL_OK) {
            struct lib_state *s = seen;
            if (s < m->states || s >= m->states + GENERATIONS) {
                atomic_fetch_add(&m->foreign_seen, 1);
            } else {
                if (atomic_load(&s->alive) != 1) atomic_fetch_add(&m->dead_seen, 1);
                atomic_fetch_add(&s->calls, 1);
                if (atomic_load(&s->alive) != 1) atomic_fetch_add(&m->dead_seen, 1);
            }
            crosscall_gate_leave(m->gate);
            atomic_fetch_add(&m->admitted, 1);
        } else {
            CHECK_T(code == CROSSCALL_ERR_CLOSED);
            atomic_fetch_add(&m->refused, 1);
        }
    }
    return NULL;
}

int ctest_state_reopen_cycles_under_load(void) {
    static struct lib_state states[GENERATIONS];
    crosscall_gate *g = crosscall_gate_new();
    CHECK(g != NULL);
    for (int i = 0; i < GENERATIONS; i++) lib_state_init(&states[i], g, i + 1);
    struct hammer m = {.gate = g, .states = states};
    pthread_t t[HAMMER_THREADS];
    for (int i = 0; i < HAMMER_THREADS; i++) CHECK(pthread_create(&t[i], NULL, hammer_calls, &m) == 0);

    CHECK(crosscall_gate_open_state(g, &states[0], destroy_lib_state) == CROSSCALL_OK);
    for (int i = 0; i < GENERATIONS; i++) {
        sleep_ms(2);
        CHECK(crosscall_gate_close(g) == CROSSCALL_OK);
        CHECK(atomic_load(&states[i].destroyed) == 1);
        CHECK(pthread_equal(states[i].destroyed_on, pthread_self()));
        CHECK(states[i].in_flight_at_destroy == 0);
        if (i + 1 < GENERATIONS)
            CHECK(crosscall_gate_reopen_state(g, &states[i + 1], destroy_lib_state) == CROSSCALL_OK);
    }
    atomic_store(&m.stop, 1);
    for (int i = 0; i < HAMMER_THREADS; i++) JOIN_CHECK(t[i]);

    long per_state = 0;
    for (int i = 0; i < GENERATIONS; i++) {
        CHECK(atomic_load(&states[i].destroyed) == 1);
        per_state += atomic_load(&states[i].calls);
    }
    CHECK(atomic_load(&m.dead_seen) == 0);
    CHECK(atomic_load(&m.foreign_seen) == 0);
    /* Every admitted call ran against exactly one generation's state. */
    CHECK(per_state == atomic_load(&m.admitted));
    CHECK(atomic_load(&m.admitted) > 0);
    CHECK(crosscall_gate_in_flight(g) == 0);
    crosscall_gate_free(g);
    return 0;
}
