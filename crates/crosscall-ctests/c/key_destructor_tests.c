/* Entries from pthread key destructors, which glibc runs after the thread's Rust and C++
 * thread-local destructors: a C library cleaning up at thread exit calls into Rust. Whatever
 * the round, the entry is counted while it runs and ends with its thread (the gate drains),
 * and a thread attached once is detached once. */
#include <limits.h>
#include <stdatomic.h>

#include "check.h"
#include "crosscall.h"

extern uint64_t ctest_attach_count(void);
extern uint64_t ctest_detach_count(void);
extern int ctest_is_attached(void);
extern int64_t ctest_div(int64_t a, int64_t b);

/* What a key destructor saw, per test (one exiting thread at a time). */
struct seen {
    crosscall_gate *gate;
    pthread_key_t key;
    atomic_int calls;        /* destructor calls so far */
    atomic_int entered;      /* entries admitted (held, never left) */
    atomic_int refused;      /* entries refused because the thread could no longer hold one */
    atomic_int bad;          /* any other result, or a wrong attach state */
    atomic_int attached_at;  /* is_attached() right after the destructor's entry */
};

static struct seen seen;

static void reset(crosscall_gate *g) {
    seen.gate = g;
    atomic_store(&seen.calls, 0);
    atomic_store(&seen.entered, 0);
    atomic_store(&seen.refused, 0);
    atomic_store(&seen.bad, 0);
    atomic_store(&seen.attached_at, -1);
}

/* Enters the gate and does not leave: the entry must end with the thread. Also calls a Rust
 * export (another gate), which enters and leaves. */
static void enter_and_hold(void) {
    int rc = crosscall_gate_enter(seen.gate);
    if (rc == CROSSCALL_OK) {
        atomic_fetch_add(&seen.entered, 1);
        if (crosscall_gate_in_flight(seen.gate) < 1) atomic_fetch_add(&seen.bad, 1);
    } else if (rc == CROSSCALL_ERR_INVALID && LAST_ERROR_HAS("exiting")) {
        atomic_fetch_add(&seen.refused, 1);
    } else {
        atomic_fetch_add(&seen.bad, 1);
    }
    if (ctest_div(6, 3) != 2) atomic_fetch_add(&seen.bad, 1);
    atomic_store(&seen.attached_at, ctest_is_attached());
}

static void *set_key(void *arg) {
    CHECK_T(pthread_setspecific(seen.key, arg) == 0);
    return NULL;
}

static void *enter_then_set_key(void *arg) {
    CHECK_T(crosscall_gate_enter(seen.gate) == CROSSCALL_OK);
    CHECK_T(ctest_is_attached());
    crosscall_gate_leave(seen.gate);
    CHECK_T(pthread_setspecific(seen.key, arg) == 0);
    return NULL;
}

/* Runs `body` on a new thread whose key `seen.key` has destructor `destructor`; afterwards the
 * gate must have nothing in flight and close at once, and attaches == detaches == 1. */
static int run_exiting_thread(void (*destructor)(void *), void *(*body)(void *)) {
    crosscall_gate *g = crosscall_gate_new();
    CHECK(g != NULL);
    CHECK(crosscall_gate_open(g) == CROSSCALL_OK);
    reset(g);
    CHECK(pthread_key_create(&seen.key, destructor) == 0);
    uint64_t attached_before = ctest_attach_count();
    uint64_t detached_before = ctest_detach_count();
    pthread_t t;
    CHECK(pthread_create(&t, NULL, body, &seen) == 0);
    JOIN_CHECK(t);
    CHECK(atomic_load(&seen.bad) == 0);
    CHECK(crosscall_gate_in_flight(g) == 0);
    CHECK(crosscall_gate_close_timeout(g, 2000000000ull) == CROSSCALL_OK);
    CHECK(ctest_attach_count() - attached_before == 1);
    CHECK(ctest_detach_count() - detached_before == 1);
    CHECK(pthread_key_delete(seen.key) == 0);
    crosscall_gate_free(g);
    return 0;
}

/* The thread's first crosscall use is in the destructor. */
static void first_use(void *arg) {
    (void)arg;
    atomic_fetch_add(&seen.calls, 1);
    if (ctest_is_attached()) atomic_fetch_add(&seen.bad, 1);
    enter_and_hold();
}

int ctest_first_entry_from_a_key_destructor_attaches_and_ends_with_the_thread(void) {
    CHECK(run_exiting_thread(first_use, set_key) == 0);
    CHECK(atomic_load(&seen.calls) == 1);
    CHECK(atomic_load(&seen.entered) == 1);
    CHECK(atomic_load(&seen.attached_at) == 1);
    return 0;
}

/* Round 1: asks for round 2 (sets its value again); round 2: enters, after crosscall's own key
 * destructor released the thread in round 1. */
static void enter_in_round_two(void *arg) {
    if (atomic_fetch_add(&seen.calls, 1) == 0) {
        if (pthread_setspecific(seen.key, arg) != 0) atomic_fetch_add(&seen.bad, 1);
        return;
    }
    if (ctest_is_attached()) atomic_fetch_add(&seen.bad, 1); /* detached in round 1 */
    enter_and_hold();
}

int ctest_entry_again_from_a_later_destructor_round_ends_with_the_thread(void) {
    CHECK(run_exiting_thread(enter_in_round_two, enter_then_set_key) == 0);
    CHECK(atomic_load(&seen.calls) == 2);
    CHECK(atomic_load(&seen.entered) == 1);
    CHECK(atomic_load(&seen.attached_at) == 0); /* no second attach */
    return 0;
}

/* Enters in every round and asks for the next one, until the C library stops: each entry
 * either ends in a later round or, past the last one, is refused (never held forever). */
static void enter_in_every_round(void *arg) {
    atomic_fetch_add(&seen.calls, 1);
    enter_and_hold();
    if (pthread_setspecific(seen.key, arg) != 0) atomic_fetch_add(&seen.bad, 1);
}

int ctest_entries_in_every_destructor_round_end_with_the_thread(void) {
    CHECK(run_exiting_thread(enter_in_every_round, enter_then_set_key) == 0);
    int calls = atomic_load(&seen.calls);
#ifdef PTHREAD_DESTRUCTOR_ITERATIONS
    CHECK(calls == PTHREAD_DESTRUCTOR_ITERATIONS);
#else
    CHECK(calls >= 4); /* POSIX's minimum */
#endif
    CHECK(atomic_load(&seen.entered) + atomic_load(&seen.refused) == calls);
    CHECK(atomic_load(&seen.entered) >= calls - 1);
    return 0;
}
