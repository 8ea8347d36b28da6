/* fork(): in the child only the forking thread exists. Entries of threads that were inside a
 * gate when another thread forked no longer count there: the child can enter, close, reopen
 * and free the gates it inherited, and the parent is unaffected. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "crosscall.h"

static const uint64_t SECOND_NS = 1000000000ull;

/* Runs `child` in a forked child (its return value is the exit status: 0 or the failed line,
 * truncated to 8 bits but never 0 for a failure) and returns 0 if it exited with 0. */
static int in_child(int (*child)(void *), void *arg) {
    pid_t pid = fork();
    if (pid == 0) {
        int failed = child(arg);
        _exit(failed == 0 ? 0 : (failed % 255) + 1);
    }
    CHECK(pid > 0);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "fork child failed: %s %d\n", WIFEXITED(status) ? "exit" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    }
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return 0;
}

/* ---- a thread inside the gate while another thread forks ---- */

struct holder {
    crosscall_gate *gate;
    atomic_int inside;
    atomic_int release;
};

static void *hold_entry(void *arg) {
    struct holder *h = arg;
    CHECK_T(crosscall_gate_enter(h->gate) == CROSSCALL_OK);
    atomic_store(&h->inside, 1);
    while (!atomic_load(&h->release)) sleep_ms(1);
    crosscall_gate_leave(h->gate);
    return NULL;
}

static void *enter_leave_once(void *arg) {
    crosscall_gate *gate = arg;
    CHECK_T(crosscall_gate_enter(gate) == CROSSCALL_OK);
    crosscall_gate_leave(gate);
    return NULL;
}

/* The child: the holder does not exist here, so nothing is in flight; the inherited gate
 * admits this thread and a new one, closes at once, reopens with a state, closes, and frees;
 * a new gate works too (membarrier or the fallback in the child). */
static int child_uses_inherited_gate(void *arg) {
    struct holder *h = arg;
    CHECK(crosscall_gate_in_flight(h->gate) == 0);
    CHECK(crosscall_gate_enter(h->gate) == CROSSCALL_OK);
    CHECK(crosscall_gate_in_flight(h->gate) == 1);
    crosscall_gate_leave(h->gate);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, enter_leave_once, h->gate) == 0);
    JOIN_CHECK(t);
    CHECK(crosscall_gate_close_timeout(h->gate, 5 * SECOND_NS) == CROSSCALL_OK);
    CHECK(crosscall_gate_state(h->gate) == CROSSCALL_STATE_CLOSED);
    static int state = 7;
    CHECK(crosscall_gate_reopen_state(h->gate, &state, NULL) == CROSSCALL_OK);
    CHECK(crosscall_gate_enter(h->gate) == CROSSCALL_OK);
    crosscall_gate_leave(h->gate);
    CHECK(crosscall_gate_close(h->gate) == CROSSCALL_OK);
    crosscall_gate_free(h->gate);

    crosscall_gate *fresh = crosscall_gate_new();
    CHECK(fresh != NULL);
    CHECK(crosscall_gate_open(fresh) == CROSSCALL_OK);
    CHECK(pthread_create(&t, NULL, enter_leave_once, fresh) == 0);
    JOIN_CHECK(t);
    CHECK(crosscall_gate_close(fresh) == CROSSCALL_OK);
    crosscall_gate_free(fresh);
    return 0;
}

int ctest_fork_with_a_thread_inside(void) {
    struct holder h = {.gate = crosscall_gate_new()};
    CHECK(h.gate != NULL);
    CHECK(crosscall_gate_open(h.gate) == CROSSCALL_OK);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, hold_entry, &h) == 0);
    while (!atomic_load(&h.inside)) sleep_ms(1);

    int failed = in_child(child_uses_inherited_gate, &h);
    if (failed != 0) return failed;

    /* The parent is unaffected: its holder is still inside, close waits for it. */
    CHECK(crosscall_gate_in_flight(h.gate) == 1);
    CHECK(crosscall_gate_close_timeout(h.gate, 10 * 1000000ull) == CROSSCALL_ERR_TIMEOUT);
    atomic_store(&h.release, 1);
    JOIN_CHECK(t);
    CHECK(crosscall_gate_close(h.gate) == CROSSCALL_OK);
    crosscall_gate_free(h.gate);
    return 0;
}

/* ---- fork from inside the gate: the forking thread's own entry survives ---- */

static int child_leaves_its_own_entry(void *arg) {
    crosscall_gate *gate = arg;
    CHECK(crosscall_gate_in_flight(gate) == 1); /* its own entry still counts */
    CHECK(crosscall_gate_close_timeout(gate, 0) == CROSSCALL_ERR_WOULD_DEADLOCK);
    crosscall_gate_leave(gate);
    CHECK(crosscall_gate_close(gate) == CROSSCALL_OK);
    crosscall_gate_free(gate);
    return 0;
}

int ctest_fork_from_inside_the_gate(void) {
    crosscall_gate *gate = crosscall_gate_new();
    CHECK(gate != NULL);
    CHECK(crosscall_gate_open(gate) == CROSSCALL_OK);
    CHECK(crosscall_gate_enter(gate) == CROSSCALL_OK);
    int failed = in_child(child_leaves_its_own_entry, gate);
    if (failed != 0) return failed;
    CHECK(crosscall_gate_in_flight(gate) == 1);
    crosscall_gate_leave(gate);
    CHECK(crosscall_gate_close(gate) == CROSSCALL_OK);
    crosscall_gate_free(gate);
    return 0;
}

/* ---- forks under traffic: every child drains the inherited gate ---- */

enum { TRAFFIC_THREADS = 4, FORKS = 40 };

struct traffic {
    crosscall_gate *gate;
    atomic_int stop;
    atomic_long calls;
};

static void *enter_leave_until_stopped(void *arg) {
    struct traffic *tr = arg;
    while (!atomic_load(&tr->stop)) {
        CHECK_T(crosscall_gate_enter(tr->gate) == CROSSCALL_OK);
        atomic_fetch_add(&tr->calls, 1);
        crosscall_gate_leave(tr->gate);
    }
    return NULL;
}

static int child_closes_under_inherited_traffic(void *arg) {
    struct traffic *tr = arg;
    CHECK(crosscall_gate_close_timeout(tr->gate, 5 * SECOND_NS) == CROSSCALL_OK);
    CHECK(crosscall_gate_in_flight(tr->gate) == 0);
    crosscall_gate_free(tr->gate);
    return 0;
}

int ctest_forks_under_traffic_leave_drainable_gates(void) {
    struct traffic tr = {.gate = crosscall_gate_new()};
    CHECK(tr.gate != NULL);
    CHECK(crosscall_gate_open(tr.gate) == CROSSCALL_OK);
    pthread_t t[TRAFFIC_THREADS];
    for (int i = 0; i < TRAFFIC_THREADS; i++) {
        CHECK(pthread_create(&t[i], NULL, enter_leave_until_stopped, &tr) == 0);
    }
    while (atomic_load(&tr.calls) < 1000) sleep_ms(1);
    for (int i = 0; i < FORKS; i++) {
        int failed = in_child(child_closes_under_inherited_traffic, &tr);
        if (failed != 0) return failed;
    }
    /* The parent's traffic goes on (waits up to 10 s for the loaded machine to run it). */
    long before = atomic_load(&tr.calls);
    for (int waited = 0; atomic_load(&tr.calls) <= before && waited < 10000; waited++) {
        sleep_ms(1);
    }
    CHECK(atomic_load(&tr.calls) > before);
    atomic_store(&tr.stop, 1);
    for (int i = 0; i < TRAFFIC_THREADS; i++) JOIN_CHECK(t[i]);
    CHECK(crosscall_gate_close(tr.gate) == CROSSCALL_OK);
    crosscall_gate_free(tr.gate);
    return 0;
}

/* ---- a state that owns the parent's threads: the child abandons it and starts over ---- */

static atomic_int destroyed_parent_state, destroyed_child_state;
static int parent_state = 1, child_state = 2;

static void destroy_state(void *state) {
    if (state == &parent_state) atomic_fetch_add(&destroyed_parent_state, 1);
    if (state == &child_state) atomic_fetch_add(&destroyed_child_state, 1);
}

static int child_abandons_and_reopens(void *arg) {
    struct holder *h = arg;
    void *abandoned = NULL;
    CHECK(crosscall_gate_close_abandon(h->gate, &abandoned) == CROSSCALL_OK);
    CHECK(abandoned == &parent_state);
    CHECK(atomic_load(&destroyed_parent_state) == 0); /* not destroyed in the child */
    CHECK(crosscall_gate_close_abandon(h->gate, &abandoned) == CROSSCALL_OK);
    CHECK(abandoned == NULL); /* already closed: nothing more to abandon */
    CHECK(crosscall_gate_reopen_state(h->gate, &child_state, destroy_state) == CROSSCALL_OK);
    void *seen = NULL;
    CHECK(crosscall_gate_enter_state(h->gate, &seen) == CROSSCALL_OK);
    CHECK(seen == &child_state);
    crosscall_gate_leave(h->gate);
    CHECK(crosscall_gate_close(h->gate) == CROSSCALL_OK);
    CHECK(atomic_load(&destroyed_child_state) == 1);
    CHECK(atomic_load(&destroyed_parent_state) == 0);
    CHECK(crosscall_gate_close_abandon(NULL, &abandoned) == CROSSCALL_ERR_INVALID);
    CHECK(abandoned == NULL);
    return 0;
}

int ctest_fork_child_abandons_the_state_and_reopens(void) {
    struct holder h = {.gate = crosscall_gate_new()};
    CHECK(h.gate != NULL);
    CHECK(crosscall_gate_open_state(h.gate, &parent_state, destroy_state) == CROSSCALL_OK);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, hold_entry, &h) == 0);
    while (!atomic_load(&h.inside)) sleep_ms(1);
    int failed = in_child(child_abandons_and_reopens, &h);
    if (failed != 0) return failed;
    atomic_store(&h.release, 1);
    JOIN_CHECK(t);
    CHECK(crosscall_gate_close(h.gate) == CROSSCALL_OK);
    CHECK(atomic_load(&destroyed_parent_state) == 1); /* the parent destroys its own */
    crosscall_gate_free(h.gate);
    return 0;
}
