/* Signal handlers that enter gates: on a prepared thread an entry from a handler works, even
 * while the thread it interrupted switches gates (crosscall's own slow path: the handler is
 * refused with CROSSCALL_ERR_BUSY, never a panic, never a deadlock); a handler that
 * interrupts malloc() on a thread that never prepared the gate is refused at once with
 * CROSSCALL_ERR_NOT_PREPARED instead of allocating. */
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "crosscall.h"

enum { SIGNALS = 2000 };

static crosscall_gate *handler_gate;
static atomic_int handled, admitted, busy, not_prepared, other;

static void count(int code) {
    if (code == CROSSCALL_OK) {
        atomic_fetch_add(&admitted, 1);
    } else if (code == CROSSCALL_ERR_BUSY) {
        atomic_fetch_add(&busy, 1);
    } else if (code == CROSSCALL_ERR_NOT_PREPARED) {
        atomic_fetch_add(&not_prepared, 1);
    } else {
        atomic_fetch_add(&other, 1);
    }
}

/* Alternates the signal-safe entry and the ordinary try_enter (both refuse with BUSY when
 * they interrupt the thread's own slow path). */
static void on_signal(int sig) {
    (void)sig;
    int n = atomic_fetch_add(&handled, 1);
    int code = n % 2 ? crosscall_gate_try_enter_signal(handler_gate)
                     : crosscall_gate_try_enter(handler_gate);
    count(code);
    if (code == CROSSCALL_OK) {
        if (crosscall_gate_depth(handler_gate) < 1) atomic_fetch_add(&other, 1);
        crosscall_gate_leave(handler_gate);
    }
}

static void install(int sig) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(sig, &sa, NULL);
}

static void reset_counts(void) {
    atomic_store(&handled, 0);
    atomic_store(&admitted, 0);
    atomic_store(&busy, 0);
    atomic_store(&not_prepared, 0);
    atomic_store(&other, 0);
}

struct target {
    crosscall_gate *other_gate;
    int prepare;
    atomic_int ready;
    atomic_int stop;
};

/* Switches between the handler's gate and another one (each switch is a slow path), and
 * allocates, until stopped. */
static void *switch_gates(void *arg) {
    struct target *t = arg;
    if (t->prepare) CHECK_T(crosscall_gate_prepare_thread(handler_gate) == CROSSCALL_OK);
    atomic_store(&t->ready, 1);
    while (!atomic_load(&t->stop)) {
        if (t->prepare) {
            CHECK_T(crosscall_gate_enter(handler_gate) == CROSSCALL_OK);
            crosscall_gate_leave(handler_gate);
            CHECK_T(crosscall_gate_enter(t->other_gate) == CROSSCALL_OK);
            crosscall_gate_leave(t->other_gate);
        }
        free(malloc(64 + (size_t)(rand() % 4096)));
    }
    return NULL;
}

static int signal_storm(int sig) {
    install(sig);
    reset_counts();
    handler_gate = crosscall_gate_new();
    struct target t = {.other_gate = crosscall_gate_new(), .prepare = 1};
    CHECK(handler_gate != NULL && t.other_gate != NULL);
    CHECK(crosscall_gate_open(handler_gate) == CROSSCALL_OK);
    CHECK(crosscall_gate_open(t.other_gate) == CROSSCALL_OK);
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, switch_gates, &t) == 0);
    while (!atomic_load(&t.ready)) sleep_ms(1);
    for (int i = 0; i < SIGNALS; i++) {
        CHECK(pthread_kill(thread, sig) == 0);
        if (i % 64 == 0) sleep_ms(1);
    }
    while (atomic_load(&handled) < 1) sleep_ms(1);
    atomic_store(&t.stop, 1);
    JOIN_CHECK(thread);
    if (getenv("CROSSCALL_CTESTS_VERBOSE")) {
        fprintf(stderr, "signal %d: handled %d admitted %d busy %d not_prepared %d\n", sig,
                atomic_load(&handled), atomic_load(&admitted), atomic_load(&busy),
                atomic_load(&not_prepared));
    }
    CHECK(atomic_load(&other) == 0);
    CHECK(atomic_load(&admitted) > 0);
    CHECK(atomic_load(&not_prepared) == 0);
    CHECK(crosscall_gate_in_flight(handler_gate) == 0);
    CHECK(crosscall_gate_close(handler_gate) == CROSSCALL_OK);
    CHECK(crosscall_gate_close(t.other_gate) == CROSSCALL_OK);
    crosscall_gate_free(handler_gate);
    crosscall_gate_free(t.other_gate);
    return 0;
}

int ctest_signal_entries_on_a_prepared_thread_switching_gates(void) {
    return signal_storm(SIGUSR1);
}


/* Only the signal-safe entry: a handler that interrupts malloc() on a thread that never
 * entered must not allocate. */
static void on_signal_safe_only(int sig) {
    (void)sig;
    atomic_fetch_add(&handled, 1);
    int code = crosscall_gate_try_enter_signal(handler_gate);
    count(code);
    if (code == CROSSCALL_OK) crosscall_gate_leave(handler_gate);
}

int ctest_signal_first_entry_is_refused_not_deadlocked(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal_safe_only;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    CHECK(sigaction(SIGUSR2, &sa, NULL) == 0);
    reset_counts();
    handler_gate = crosscall_gate_new();
    struct target t = {.other_gate = crosscall_gate_new(), .prepare = 0};
    CHECK(crosscall_gate_open(handler_gate) == CROSSCALL_OK);
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, switch_gates, &t) == 0);
    while (!atomic_load(&t.ready)) sleep_ms(1);
    for (int i = 0; i < SIGNALS; i++) {
        CHECK(pthread_kill(thread, SIGUSR2) == 0);
        if (i % 64 == 0) sleep_ms(1);
    }
    while (atomic_load(&handled) < 1) sleep_ms(1);
    atomic_store(&t.stop, 1);
    JOIN_CHECK(thread);
    CHECK(atomic_load(&not_prepared) == atomic_load(&handled));
    CHECK(crosscall_gate_try_enter_signal(NULL) == CROSSCALL_ERR_INVALID);
    CHECK(crosscall_gate_close(handler_gate) == CROSSCALL_OK);
    crosscall_gate_free(handler_gate);
    crosscall_gate_free(t.other_gate);
    return 0;
}
