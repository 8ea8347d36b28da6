/* Handle tables under churn, from C pthreads: batched removal (the handle is stale at once,
 * destroy runs later, exactly once, never while a reader holds the object), an idle table
 * destroyed by the reclaimer without any further call, the synchronous remove, and lookups
 * that are refused always clearing *obj. */
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "crosscall.h"

enum { CHURN_LIVE = 0x5eed, CHURN_DEAD = 0xdead };

struct churn_obj {
    _Atomic int magic;
    int owner;            /* the churning thread that made it */
    atomic_int *destroys; /* the test's destroy counter */
    pthread_t creator;    /* the thread that made it */
    /* If set: counts destroys that ran on `creator` (the idle-table test checks that the
     * reclaimer, not the remover, destroyed it). Per object, not global: tests run in
     * parallel, and a global "last destroyer" was written by their destroys too. */
    atomic_int *destroyed_by_creator;
};

static struct churn_obj *churn_new(int owner, atomic_int *destroys) {
    struct churn_obj *o = malloc(sizeof *o);
    if (o == NULL) abort();
    atomic_init(&o->magic, CHURN_LIVE);
    o->owner = owner;
    o->destroys = destroys;
    o->creator = pthread_self();
    o->destroyed_by_creator = NULL;
    return o;
}

static void churn_destroy(void *p) {
    struct churn_obj *o = p;
    /* Destroyed twice, or something that is not an object: fail loudly. */
    if (atomic_exchange(&o->magic, CHURN_DEAD) != CHURN_LIVE) abort();
    if (o->destroyed_by_creator != NULL && pthread_equal(pthread_self(), o->creator))
        atomic_fetch_add(o->destroyed_by_creator, 1);
    atomic_fetch_add(o->destroys, 1);
    free(o);
}

/* A new open gate and a table of churn objects on it; 0, or the failed check's line. */
static int open_churn_table(crosscall_gate **g, crosscall_handles **t) {
    *g = crosscall_gate_new();
    CHECK(*g != NULL);
    *t = crosscall_handles_new(*g, churn_destroy);
    CHECK(*t != NULL);
    CHECK(crosscall_gate_open(*g) == CROSSCALL_OK);
    return 0;
}

/* ---- an idle table ------------------------------------------------------------------------ */

int ctest_churn_idle_table_destroys_without_another_call(void) {
    atomic_int destroys = 0;
    crosscall_gate *g;
    crosscall_handles *t;
    CHECK(open_churn_table(&g, &t) == 0);
    atomic_int destroyed_by_creator = 0;
    struct churn_obj *o = churn_new(0, &destroys);
    o->destroyed_by_creator = &destroyed_by_creator;
    uint64_t h = crosscall_handle_insert(t, o);
    CHECK(h != 0);
    CHECK(crosscall_handle_remove(t, h) == CROSSCALL_OK);

    CHECK(crosscall_gate_enter(g) == CROSSCALL_OK);
    void *p = (void *)1;
    CHECK(crosscall_handle_get(t, h, &p) == CROSSCALL_ERR_STALE); /* stale at once */
    CHECK(p == NULL);
    crosscall_gate_leave(g);

    /* No further call on the table: the reclaimer thread destroys it (bound ~2 ms; the wait
     * here is generous for a loaded machine or valgrind). */
    for (int waited = 0; atomic_load(&destroys) == 0; waited++) {
        CHECK(waited < 20000);
        sleep_ms(1);
    }
    CHECK(atomic_load(&destroys) == 1);
    CHECK(atomic_load(&destroyed_by_creator) == 0); /* the reclaimer destroyed it */

    crosscall_handles_free(t);
    CHECK(atomic_load(&destroys) == 1);
    CHECK(crosscall_gate_close(g) == CROSSCALL_OK);
    crosscall_gate_free(g);
    return 0;
}

/* ---- the synchronous remove --------------------------------------------------------------- */

int ctest_churn_remove_sync_destroys_before_returning(void) {
    atomic_int destroys = 0;
    crosscall_gate *g;
    crosscall_handles *t;
    CHECK(open_churn_table(&g, &t) == 0);
    uint64_t a = crosscall_handle_insert(t, churn_new(0, &destroys));
    uint64_t b = crosscall_handle_insert(t, churn_new(0, &destroys));
    CHECK(a != 0 && b != 0);

    CHECK(crosscall_handle_remove_sync(t, a) == CROSSCALL_OK);
    CHECK(atomic_load(&destroys) == 1);
    CHECK(crosscall_handle_remove_sync(t, a) == CROSSCALL_ERR_STALE);
    CHECK(crosscall_handle_remove_sync(t, 0) == CROSSCALL_ERR_INVALID);
    CHECK(crosscall_handle_remove_sync(NULL, b) == CROSSCALL_ERR_INVALID);

    /* From inside the gate it would wait for its own call: refused, nothing removed. */
    CHECK(crosscall_gate_enter(g) == CROSSCALL_OK);
    CHECK(crosscall_handle_remove_sync(t, b) == CROSSCALL_ERR_WOULD_DEADLOCK);
    CHECK(LAST_ERROR_HAS("deadlock"));
    void *p = NULL;
    CHECK(crosscall_handle_get(t, b, &p) == CROSSCALL_OK);
    CHECK(atomic_load(&((struct churn_obj *)p)->magic) == CHURN_LIVE);
    crosscall_gate_leave(g);

    crosscall_handles_free(t);
    CHECK(atomic_load(&destroys) == 2);
    CHECK(crosscall_gate_close(g) == CROSSCALL_OK);
    crosscall_gate_free(g);
    return 0;
}

/* ---- refused lookups clear *obj ----------------------------------------------------------- */

int ctest_churn_refused_lookups_clear_obj(void) {
    atomic_int destroys = 0;
    crosscall_gate *g;
    crosscall_handles *t;
    CHECK(open_churn_table(&g, &t) == 0);
    uint64_t h = crosscall_handle_insert(t, churn_new(0, &destroys));
    CHECK(h != 0);
    CHECK(crosscall_gate_enter(g) == CROSSCALL_OK);
    void *p = (void *)1;
    CHECK(crosscall_handle_get(NULL, h, &p) == CROSSCALL_ERR_INVALID);
    CHECK(p == NULL);
    p = (void *)1;
    CHECK(crosscall_handle_get((crosscall_handles *)((uintptr_t)t + 1), h, &p) ==
          CROSSCALL_ERR_INVALID);
    CHECK(p == NULL);
    p = (void *)1;
    CHECK(crosscall_handle_get(t, h ^ ((uint64_t)1 << 63), &p) == CROSSCALL_ERR_INVALID);
    CHECK(p == NULL);
    CHECK(crosscall_handle_get(t, h, &p) == CROSSCALL_OK && p != NULL);
    crosscall_gate_leave(g);
    crosscall_handles_free(t);
    CHECK(atomic_load(&destroys) == 1);
    CHECK(crosscall_gate_close(g) == CROSSCALL_OK);
    crosscall_gate_free(g);
    return 0;
}

/* ---- 2 threads churning, 2 looking up ----------------------------------------------------- */

enum { CHURNERS = 2, LOOKERS = 2, SLOTS = 16, CHURN_LIFETIMES = 4000 };

struct churn {
    crosscall_gate *gate;
    crosscall_handles *table;
    /* Each churner publishes its live handles here for the lookers; 0 = empty. */
    _Atomic uint64_t published[CHURNERS][SLOTS];
    atomic_int destroys;
    atomic_int inserted;
    atomic_int lookups_ok;
    atomic_int churners_running;
};

static uint64_t churn_rand(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

struct churner_arg {
    struct churn *c;
    int id;
};

static void *churner(void *arg) {
    struct churner_arg *a = arg;
    struct churn *c = a->c;
    uint64_t rng = 0x9e3779b97f4a7c15u + (uint64_t)a->id;
    for (int n = 0; n < CHURN_LIFETIMES; n++) {
        uint64_t r = churn_rand(&rng);
        int inside = (r & 1) != 0; /* half the lifetimes inside the gate */
        if (inside) CHECK_T(crosscall_gate_enter(c->gate) == CROSSCALL_OK);
        uint64_t h = crosscall_handle_insert(c->table, churn_new(a->id, &c->destroys));
        CHECK_T(h != 0);
        atomic_fetch_add(&c->inserted, 1);
        /* Publish it; the handle it replaces is removed (batched). */
        uint64_t old = atomic_exchange(&c->published[a->id][(r >> 8) % SLOTS], h);
        if (old != 0) CHECK_T(crosscall_handle_remove(c->table, old) == CROSSCALL_OK);
        if (inside) {
            void *p = NULL;
            CHECK_T(crosscall_handle_get(c->table, h, &p) == CROSSCALL_OK);
            CHECK_T(((struct churn_obj *)p)->owner == a->id);
            crosscall_gate_leave(c->gate);
        }
    }
    atomic_fetch_sub(&c->churners_running, 1);
    return NULL;
}

static void *looker(void *arg) {
    struct churn *c = arg;
    uint64_t rng = 0x2545f4914f6cdd1du ^ (uint64_t)(uintptr_t)&rng;
    while (atomic_load(&c->churners_running) > 0) {
        CHECK_T(crosscall_gate_enter(c->gate) == CROSSCALL_OK);
        for (int k = 0; k < 8; k++) {
            uint64_t x = churn_rand(&rng);
            int owner = (int)(x % CHURNERS);
            uint64_t h = atomic_load(&c->published[owner][(x >> 8) % SLOTS]);
            void *p = (void *)1;
            int rc = crosscall_handle_get(c->table, h, &p);
            if (rc == CROSSCALL_OK) {
                struct churn_obj *o = p;
                for (int hold = 0; hold < 4; hold++) {
                    /* Held inside the gate: never destroyed under us. */
                    CHECK_T(atomic_load(&o->magic) == CHURN_LIVE && o->owner == owner);
                    sched_yield();
                }
                atomic_fetch_add(&c->lookups_ok, 1);
            } else {
                /* Removed meanwhile (stale), or an empty slot (0: never issued). */
                CHECK_T(rc == CROSSCALL_ERR_STALE || (h == 0 && rc == CROSSCALL_ERR_INVALID));
                CHECK_T(p == NULL);
            }
        }
        crosscall_gate_leave(c->gate);
    }
    return NULL;
}

int ctest_churn_two_churning_two_looking_up(void) {
    static struct churn c; /* zeroed */
    c.gate = crosscall_gate_new();
    CHECK(c.gate != NULL);
    c.table = crosscall_handles_new(c.gate, churn_destroy);
    CHECK(c.table != NULL);
    CHECK(crosscall_gate_open(c.gate) == CROSSCALL_OK);
    atomic_store(&c.churners_running, CHURNERS);
    pthread_t threads[CHURNERS + LOOKERS];
    struct churner_arg args[CHURNERS];
    for (int i = 0; i < LOOKERS; i++) {
        CHECK(pthread_create(&threads[i], NULL, looker, &c) == 0);
    }
    for (int i = 0; i < CHURNERS; i++) {
        args[i] = (struct churner_arg){&c, i};
        CHECK(pthread_create(&threads[LOOKERS + i], NULL, churner, &args[i]) == 0);
    }
    for (int i = 0; i < CHURNERS + LOOKERS; i++) JOIN_CHECK(threads[i]);

    int inserted = atomic_load(&c.inserted);
    CHECK(inserted == CHURNERS * CHURN_LIFETIMES);
    /* Every removed object is destroyed without a further call (the last batches by the
     * reclaimer once the lookers left; a looker's long call may have held all of them). */
    int published = 0;
    for (int i = 0; i < CHURNERS; i++) {
        for (int k = 0; k < SLOTS; k++) published += atomic_load(&c.published[i][k]) != 0;
    }
    for (int waited = 0; atomic_load(&c.destroys) != inserted - published; waited++) {
        CHECK(waited < 20000);
        sleep_ms(1);
    }
    CHECK(crosscall_gate_close(c.gate) == CROSSCALL_OK);
    crosscall_handles_free(c.table); /* destroys the published ones and what still waits */
    CHECK(atomic_load(&c.destroys) == inserted);
    crosscall_gate_free(c.gate);
    return 0;
}
