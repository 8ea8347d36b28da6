/* Entries racing close on C-created threads: gates created, opened, closed under traffic and
 * freed round after round (so a new gate usually lands at the address of the one freed before,
 * which the entering threads still have cached), threads that exit while entered, threads
 * created while the gate closes, and a Rust #[export] on another gate called from inside. No
 * entry may be admitted once close has returned, and close must always return. */
#include <stdatomic.h>

#include "check.h"
#include "crosscall.h"

int64_t ctest_div(int64_t a, int64_t b);

enum { ROUNDS = 40, WORKERS = 3, EXITERS = 2, MIN_ENTRIES = 200 };

struct rounds {
    pthread_barrier_t start, end;
    crosscall_gate *_Atomic gate;
    atomic_int closed;      /* set once close of the current gate returned */
    atomic_long entries;    /* admitted entries in the current round */
    atomic_long violations; /* admitted (or still inside) after close returned */
};

static void *worker(void *arg) {
    struct rounds *r = arg;
    for (int round = 0; round < ROUNDS; round++) {
        pthread_barrier_wait(&r->start);
        crosscall_gate *g = atomic_load(&r->gate);
        for (long i = 0;; i++) {
            int rc = crosscall_gate_enter(g);
            if (rc == CROSSCALL_ERR_CLOSED) break;
            CHECK_T(rc == CROSSCALL_OK);
            if (atomic_load(&r->closed)) atomic_fetch_add(&r->violations, 1);
            atomic_fetch_add(&r->entries, 1);
            if (i % 3 == 0) {
                /* A Rust export on another gate from inside this one: the thread's cache
                 * switches gates, and this gate's next entry takes the slow path. */
                CHECK_T(ctest_div(6, 3) == 2);
            }
            if (i % 5 == 0 && crosscall_gate_enter(g) == CROSSCALL_OK) crosscall_gate_leave(g);
            if (atomic_load(&r->closed)) atomic_fetch_add(&r->violations, 1);
            crosscall_gate_leave(g);
        }
        pthread_barrier_wait(&r->end);
    }
    return NULL;
}

/* Enters and exits without leaving: the entry ends with the thread. */
static void *exit_while_entered(void *arg) {
    struct rounds *r = arg;
    crosscall_gate *g = atomic_load(&r->gate);
    int rc = crosscall_gate_enter(g);
    CHECK_T(rc == CROSSCALL_OK || rc == CROSSCALL_ERR_CLOSED);
    if (rc == CROSSCALL_OK) {
        if (atomic_load(&r->closed)) atomic_fetch_add(&r->violations, 1);
        CHECK_T(crosscall_gate_enter(g) == CROSSCALL_OK || atomic_load(&r->closed) == 0);
    }
    return NULL;
}

/* Created while the gate closes (or after): admitted only before close returned. */
static void *late_enter(void *arg) {
    struct rounds *r = arg;
    crosscall_gate *g = atomic_load(&r->gate);
    int rc = crosscall_gate_try_enter(g);
    CHECK_T(rc == CROSSCALL_OK || rc == CROSSCALL_ERR_CLOSED);
    if (rc == CROSSCALL_OK) {
        if (atomic_load(&r->closed)) atomic_fetch_add(&r->violations, 1);
        crosscall_gate_leave(g);
    }
    return NULL;
}

int ctest_gates_closed_under_traffic_round_after_round(void) {
    static struct rounds r;
    CHECK(pthread_barrier_init(&r.start, NULL, WORKERS + 1) == 0);
    CHECK(pthread_barrier_init(&r.end, NULL, WORKERS + 1) == 0);
    atomic_store(&r.violations, 0);
    pthread_t workers[WORKERS];
    for (int i = 0; i < WORKERS; i++) CHECK(pthread_create(&workers[i], NULL, worker, &r) == 0);
    for (int round = 0; round < ROUNDS; round++) {
        crosscall_gate *g = crosscall_gate_new();
        CHECK(g != NULL);
        CHECK(crosscall_gate_open(g) == CROSSCALL_OK);
        atomic_store(&r.gate, g);
        atomic_store(&r.closed, 0);
        atomic_store(&r.entries, 0);
        pthread_barrier_wait(&r.start);
        pthread_t exiters[EXITERS], late;
        for (int i = 0; i < EXITERS; i++)
            CHECK(pthread_create(&exiters[i], NULL, exit_while_entered, &r) == 0);
        while (atomic_load(&r.entries) < MIN_ENTRIES) sleep_ms(1);
        CHECK(pthread_create(&late, NULL, late_enter, &r) == 0);
        CHECK(crosscall_gate_close(g) == CROSSCALL_OK);
        atomic_store(&r.closed, 1);
        CHECK(crosscall_gate_state(g) == CROSSCALL_STATE_CLOSED);
        CHECK(crosscall_gate_in_flight(g) == 0);
        for (int i = 0; i < EXITERS; i++) JOIN_CHECK(exiters[i]);
        JOIN_CHECK(late);
        pthread_barrier_wait(&r.end);
        CHECK(crosscall_gate_in_flight(g) == 0);
        crosscall_gate_free(g); /* the next round's gate most likely reuses this address */
    }
    for (int i = 0; i < WORKERS; i++) JOIN_CHECK(workers[i]);
    CHECK(atomic_load(&r.violations) == 0);
    pthread_barrier_destroy(&r.start);
    pthread_barrier_destroy(&r.end);
    return 0;
}

/* A handle whose gate part would sit at the very top of the address space (e.g. MAP_FAILED,
 * (void *)-1): misaligned, so refused without being read, also on a thread whose cache is
 * empty and on one that has entered a gate. */
static int refuse_top_of_memory(void) {
    for (uintptr_t k = 0; k <= 64; k++) {
        crosscall_gate *bad = (crosscall_gate *)(UINTPTR_MAX - 8 * k);
        CHECK(crosscall_gate_enter(bad) == CROSSCALL_ERR_INVALID);
        CHECK(crosscall_gate_try_enter(bad) == CROSSCALL_ERR_INVALID);
        CHECK(crosscall_gate_enter_timeout(bad, 1000) == CROSSCALL_ERR_INVALID);
        crosscall_clear_last_error();
        crosscall_gate_leave(bad);
        CHECK(LAST_ERROR_HAS("misaligned"));
    }
    return 0;
}

static void *top_of_memory_fresh_thread(void *arg) {
    (void)arg;
    CHECK_T(refuse_top_of_memory() == 0);
    return NULL;
}

int ctest_pointers_at_the_top_of_memory_are_refused(void) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, top_of_memory_fresh_thread, NULL) == 0);
    JOIN_CHECK(t);
    crosscall_gate *g = crosscall_gate_new();
    CHECK(g != NULL);
    CHECK(crosscall_gate_open(g) == CROSSCALL_OK);
    CHECK(crosscall_gate_enter(g) == CROSSCALL_OK);
    crosscall_gate_leave(g);
    CHECK(refuse_top_of_memory() == 0);
    CHECK(crosscall_gate_close(g) == CROSSCALL_OK);
    crosscall_gate_free(g);
    return 0;
}

/* ---- entries from pthread key destructors (after Rust's thread-local destructors ran) ---- */

static pthread_key_t late_key;
static atomic_int late_enter_rc;

/* Runs during thread exit, after the thread's Rust thread-locals were destroyed (glibc runs
 * C++/Rust thread_local destructors before pthread key destructors). First entry of this
 * thread, never left: it must end when the thread ends (or be refused), not stay forever. */
static void enter_from_key_destructor(void *arg) {
    atomic_store(&late_enter_rc, crosscall_gate_enter(arg));
}

static void *arm_key_destructor(void *arg) {
    CHECK_T(pthread_setspecific(late_key, arg) == 0);
    return NULL;
}

int ctest_first_entry_from_a_key_destructor_does_not_outlive_the_thread(void) {
    crosscall_gate *g = crosscall_gate_new();
    CHECK(g != NULL);
    CHECK(crosscall_gate_open(g) == CROSSCALL_OK);
    CHECK(pthread_key_create(&late_key, enter_from_key_destructor) == 0);
    atomic_store(&late_enter_rc, 1);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, arm_key_destructor, g) == 0);
    JOIN_CHECK(t);
    int rc = atomic_load(&late_enter_rc);
    CHECK(rc == CROSSCALL_OK); /* admitted: released by crosscall's own key destructor */
    /* The entry ended with its thread: close drains. */
    CHECK(crosscall_gate_close_timeout(g, 2000000000ull) == CROSSCALL_OK);
    /* Attach and detach counts are process-wide, and the other tests of this binary attach
     * threads while this one runs: key_destructor_tests.c checks them exactly, alone. */
    CHECK(pthread_key_delete(late_key) == 0);
    crosscall_gate_free(g);
    return 0;
}
