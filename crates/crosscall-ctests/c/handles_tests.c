/* Handle tables (crosscall_handles_* / crosscall_handle_*) driven from C pthreads: bad input,
 * deferred destruction, and a stress where readers look up while writers insert and remove;
 * every object is destroyed exactly once and never while a reader holds it (valgrind checks
 * the "never while held" part as a use after free, the objects check it by their magic). */
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "crosscall.h"

enum { OBJ_LIVE = 0x0b1ec7, OBJ_DEAD = 0xdead };

/* An object lent to a table; counts its own destruction in its test's counter. */
struct obj {
    _Atomic int magic;
    int slot;             /* which published slot it was made for (stress) */
    atomic_int *destroys; /* the test's destroy counter */
};

static struct obj *obj_new(int slot, atomic_int *destroys) {
    struct obj *o = malloc(sizeof *o);
    if (o == NULL) abort();
    atomic_init(&o->magic, OBJ_LIVE);
    o->slot = slot;
    o->destroys = destroys;
    return o;
}

static void obj_destroy(void *p) {
    struct obj *o = p;
    /* Destroyed twice (or something that is not an object) would fail here, loudly. */
    if (atomic_exchange(&o->magic, OBJ_DEAD) != OBJ_LIVE) abort();
    atomic_fetch_add(o->destroys, 1);
    free(o);
}

/* ---- bad input ---------------------------------------------------------------------------- */

int ctest_handles_bad_input(void) {
    atomic_int destroys = 0;
    crosscall_gate *g = crosscall_gate_new();
    CHECK(g != NULL);
    CHECK(crosscall_handles_new(NULL, obj_destroy) == NULL);
    CHECK(LAST_ERROR_HAS("NULL"));
    CHECK(crosscall_handles_new(g, NULL) == NULL);
    CHECK(LAST_ERROR_HAS("destroy"));

    crosscall_handles *t = crosscall_handles_new(g, obj_destroy);
    crosscall_handles *other = crosscall_handles_new(g, obj_destroy);
    CHECK(t != NULL && other != NULL);
    CHECK(crosscall_gate_open(g) == CROSSCALL_OK);

    struct obj *a = obj_new(0, &destroys);
    CHECK(crosscall_handle_insert(NULL, a) == 0);
    CHECK(crosscall_handle_insert(t, NULL) == 0);
    CHECK(LAST_ERROR_HAS("obj"));
    uint64_t ha = crosscall_handle_insert(t, a);
    uint64_t hb = crosscall_handle_insert(other, obj_new(0, &destroys));
    CHECK(ha != 0 && hb != 0);

    void *out = (void *)1;
    /* Not inside the gate: refused, not trusted. */
    CHECK(crosscall_handle_get(t, ha, &out) == CROSSCALL_ERR_INVALID);
    CHECK(out == NULL);
    CHECK(LAST_ERROR_HAS("crosscall_gate_enter"));

    CHECK(crosscall_gate_enter(g) == CROSSCALL_OK);
    CHECK(crosscall_handle_get(NULL, ha, &out) == CROSSCALL_ERR_INVALID);
    CHECK(crosscall_handle_get(t, ha, NULL) == CROSSCALL_ERR_INVALID);
    CHECK(crosscall_handle_get(t, ha, &out) == CROSSCALL_OK);
    CHECK(out == a);
    CHECK(crosscall_handle_get(t, 0, &out) == CROSSCALL_ERR_INVALID);
    CHECK(out == NULL);
    CHECK(LAST_ERROR_HAS("never issued"));
    const uint64_t made_up[] = {1, 2, 0xffffffffu, 0xdeadbeef00000000u, UINT64_MAX,
                                ha ^ ((uint64_t)1 << 40), ha + 1};
    for (size_t i = 0; i < sizeof made_up / sizeof made_up[0]; i++) {
        CHECK(crosscall_handle_get(t, made_up[i], &out) == CROSSCALL_ERR_INVALID);
    }
    /* Another table's handle (same entry index, other key). */
    CHECK(crosscall_handle_get(t, hb, &out) == CROSSCALL_ERR_INVALID);
    CHECK(LAST_ERROR_HAS("another table"));
    crosscall_gate_leave(g);

    CHECK(crosscall_handle_remove(t, hb) == CROSSCALL_ERR_INVALID);
    CHECK(crosscall_handle_remove(t, 0) == CROSSCALL_ERR_INVALID);
    CHECK(crosscall_handle_remove(NULL, ha) == CROSSCALL_ERR_INVALID);
    CHECK(crosscall_handle_remove_sync(t, ha) == CROSSCALL_OK); /* sync: destroyed now */
    CHECK(atomic_load(&destroys) == 1);
    CHECK(crosscall_handle_remove(t, ha) == CROSSCALL_ERR_STALE); /* double remove */
    CHECK(LAST_ERROR_HAS("stale"));

    CHECK(crosscall_gate_enter(g) == CROSSCALL_OK);
    CHECK(crosscall_handle_get(t, ha, &out) == CROSSCALL_ERR_STALE); /* after remove */
    CHECK(out == NULL);
    crosscall_gate_leave(g);

    /* After the gate closed: lookups and inserts are refused. */
    uint64_t hc = crosscall_handle_insert(t, obj_new(0, &destroys));
    CHECK(hc != 0);
    CHECK(crosscall_gate_close(g) == CROSSCALL_OK);
    CHECK(crosscall_handle_get(t, hc, &out) == CROSSCALL_ERR_CLOSED);
    struct obj *refused = obj_new(0, &destroys);
    CHECK(crosscall_handle_insert(t, refused) == 0);
    CHECK(LAST_ERROR_HAS("closed"));
    obj_destroy(refused); /* a refused object stays the caller's */
    CHECK(atomic_load(&destroys) == 2);

    CHECK(strcmp(crosscall_strerror(CROSSCALL_ERR_STALE), crosscall_strerror(CROSSCALL_ERR_INVALID)) != 0);
    crosscall_handles_free(NULL); /* no-op */
    crosscall_handles_free(t);     /* destroys hc */
    CHECK(atomic_load(&destroys) == 3);
    crosscall_handles_free(other); /* destroys hb's object */
    CHECK(atomic_load(&destroys) == 4);
    crosscall_gate_free(g);
    return 0;
}

/* ---- removal from inside a call ------------------------------------------------------------ */

int ctest_handles_remove_inside_is_deferred(void) {
    atomic_int destroys = 0;
    crosscall_gate *g = crosscall_gate_new();
    CHECK(g != NULL);
    crosscall_handles *t = crosscall_handles_new(g, obj_destroy);
    CHECK(t != NULL);
    CHECK(crosscall_gate_open(g) == CROSSCALL_OK);
    uint64_t h = crosscall_handle_insert(t, obj_new(7, &destroys));
    CHECK(h != 0);

    CHECK(crosscall_gate_enter(g) == CROSSCALL_OK);
    void *p = NULL;
    CHECK(crosscall_handle_get(t, h, &p) == CROSSCALL_OK);
    CHECK(crosscall_handle_remove(t, h) == CROSSCALL_OK);
    /* Still ours for this call: not destroyed yet. */
    CHECK(atomic_load(&destroys) == 0);
    CHECK(((struct obj *)p)->slot == 7 && atomic_load(&((struct obj *)p)->magic) == OBJ_LIVE);
    CHECK(crosscall_handle_get(t, h, &p) == CROSSCALL_ERR_STALE);
    /* Freeing the table from inside its gate is refused. */
    crosscall_handles_free(t);
    CHECK(LAST_ERROR_HAS("inside"));
    crosscall_gate_leave(g);

    /* Destroyed later (batched: by a later operation, the reclaimer, or free below). */
    uint64_t h2 = crosscall_handle_insert(t, obj_new(8, &destroys));
    CHECK(h2 != 0 && h2 != h);
    CHECK(atomic_load(&destroys) <= 1);
    crosscall_handles_free(t);
    CHECK(atomic_load(&destroys) == 2);
    CHECK(crosscall_gate_close(g) == CROSSCALL_OK);
    crosscall_gate_free(g);
    return 0;
}

/* ---- stress ----------------------------------------------------------------------------- */

enum { PUBLISHED = 8, WRITER_OPS = 3000, MIN_LOOKUPS = 2000 };

struct stress {
    crosscall_gate *gate;
    crosscall_handles *table;
    _Atomic uint64_t published[PUBLISHED];
    atomic_int destroys;
    atomic_int inserted;
    atomic_int lookups_ok;
    atomic_int readers_running;
    atomic_int writers_running;
    unsigned seed;
};

static uint64_t xorshift(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void *stress_writer(void *arg) {
    struct stress *st = arg;
    uint64_t rng = 0x9e3779b97f4a7c15u ^ (uint64_t)atomic_fetch_add(&st->inserted, 0) ^
                   (uint64_t)(uintptr_t)&rng;
    for (int op = 0;; op++) {
        if (op >= WRITER_OPS && (atomic_load(&st->lookups_ok) >= MIN_LOOKUPS ||
                                 atomic_load(&st->readers_running) < 2)) {
            break;
        }
        /* Removals no longer wait for the readers: leave them the CPU now and then (under
         * valgrind's one-thread-at-a-time scheduling they would otherwise starve). */
        if ((op & 15) == 0) sched_yield();
        uint64_t r = xorshift(&rng);
        int i = (int)(r % PUBLISHED);
        uint64_t h = atomic_exchange(&st->published[i], 0);
        if (h != 0) {
            if (r & 0x100) {
                CHECK_T(crosscall_handle_remove(st->table, h) == CROSSCALL_OK); /* batched */
            } else {
                CHECK_T(crosscall_gate_enter(st->gate) == CROSSCALL_OK);
                CHECK_T(crosscall_handle_remove(st->table, h) == CROSSCALL_OK); /* deferred */
                crosscall_gate_leave(st->gate);
            }
            continue;
        }
        h = crosscall_handle_insert(st->table, obj_new(i, &st->destroys));
        CHECK_T(h != 0);
        atomic_fetch_add(&st->inserted, 1);
        uint64_t expected = 0;
        if (!atomic_compare_exchange_strong(&st->published[i], &expected, h)) {
            CHECK_T(crosscall_handle_remove(st->table, h) == CROSSCALL_OK);
        }
    }
    atomic_fetch_sub(&st->writers_running, 1);
    return NULL;
}

static void *stress_reader(void *arg) {
    struct stress *st = arg;
    uint64_t rng = 0x2545f4914f6cdd1du ^ (uint64_t)(uintptr_t)&rng;
    void *failed = NULL;
    while (failed == NULL && atomic_load(&st->writers_running) > 0) {
        if (crosscall_gate_enter(st->gate) != CROSSCALL_OK) {
            failed = (void *)(intptr_t)__LINE__;
            break;
        }
        for (int k = 0; k < 8; k++) {
            uint64_t x = xorshift(&rng);
            int i = (int)(x % PUBLISHED);
            uint64_t h = atomic_load(&st->published[i]);
            void *p = NULL;
            if (h == 0) {
                (void)crosscall_handle_get(st->table, x, &p); /* made up: an error, no crash */
                continue;
            }
            int rc = crosscall_handle_get(st->table, h, &p);
            if (rc == CROSSCALL_OK) {
                struct obj *o = p;
                for (int hold = 0; hold < 4; hold++) {
                    if (atomic_load(&o->magic) != OBJ_LIVE || o->slot != i) {
                        fprintf(stderr, "%s:%d: wrong or destroyed object\n", __FILE__, __LINE__);
                        failed = (void *)(intptr_t)__LINE__;
                    }
                    sched_yield(); /* hold it while the writers run */
                }
                atomic_fetch_add(&st->lookups_ok, 1);
            } else if (rc != CROSSCALL_ERR_STALE) {
                fprintf(stderr, "%s:%d: unexpected code %d\n", __FILE__, __LINE__, rc);
                failed = (void *)(intptr_t)__LINE__;
            }
        }
        crosscall_gate_leave(st->gate);
        sched_yield();
    }
    atomic_fetch_sub(&st->readers_running, 1);
    return failed;
}

int ctest_handles_stress_destroys_each_object_once(void) {
    static struct stress st; /* zeroed */
    st.gate = crosscall_gate_new();
    CHECK(st.gate != NULL);
    st.table = crosscall_handles_new(st.gate, obj_destroy);
    CHECK(st.table != NULL);
    CHECK(crosscall_gate_open(st.gate) == CROSSCALL_OK);
    atomic_store(&st.readers_running, 2);
    atomic_store(&st.writers_running, 2);
    pthread_t threads[4];
    CHECK(pthread_create(&threads[0], NULL, stress_reader, &st) == 0);
    CHECK(pthread_create(&threads[1], NULL, stress_reader, &st) == 0);
    CHECK(pthread_create(&threads[2], NULL, stress_writer, &st) == 0);
    CHECK(pthread_create(&threads[3], NULL, stress_writer, &st) == 0);
    for (int i = 0; i < 4; i++) JOIN_CHECK(threads[i]);
    CHECK(atomic_load(&st.lookups_ok) > 0);

    CHECK(crosscall_gate_close(st.gate) == CROSSCALL_OK);
    crosscall_handles_free(st.table); /* destroys the published ones and any deferred */
    CHECK(atomic_load(&st.destroys) == atomic_load(&st.inserted));
    crosscall_gate_free(st.gate);
    return 0;
}
