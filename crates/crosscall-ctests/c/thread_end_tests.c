/* Threads that end in ways other than returning, and the process ending with threads inside:
 * pthread_exit and pthread_cancel inside C API entries (the entries end with the thread),
 * 10,000 threads that each enter once and exit, exit() with threads inside (never hangs; an
 * atexit handler's close_timeout reports the calls still in flight), and misuse. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "crosscall.h"

int64_t ctest_div(int64_t a, int64_t b);

static void *exit_inside(void *arg) {
    crosscall_gate *gate = arg;
    CHECK_T(crosscall_gate_enter(gate) == CROSSCALL_OK);
    CHECK_T(crosscall_gate_enter(gate) == CROSSCALL_OK);
    pthread_exit(NULL);
}

static void *cancelled_inside(void *arg) {
    crosscall_gate *gate = arg;
    CHECK_T(crosscall_gate_enter(gate) == CROSSCALL_OK);
    for (;;) sleep_ms(1000); /* nanosleep is a cancellation point */
    return NULL;
}

int ctest_pthread_exit_and_cancel_inside_end_the_entries(void) {
    crosscall_gate *gate = crosscall_gate_new();
    CHECK(gate != NULL);
    CHECK(crosscall_gate_open(gate) == CROSSCALL_OK);

    pthread_t t;
    CHECK(pthread_create(&t, NULL, exit_inside, gate) == 0);
    JOIN_CHECK(t);
    CHECK(crosscall_gate_in_flight(gate) == 0);

    CHECK(pthread_create(&t, NULL, cancelled_inside, gate) == 0);
    while (crosscall_gate_in_flight(gate) < 1) sleep_ms(1);
    CHECK(pthread_cancel(t) == 0);
    void *result = NULL;
    CHECK(pthread_join(t, &result) == 0);
    CHECK(result == PTHREAD_CANCELED);
    CHECK(crosscall_gate_in_flight(gate) == 0);

    CHECK(crosscall_gate_close_timeout(gate, 5000000000ull) == CROSSCALL_OK);
    crosscall_gate_free(gate);
    return 0;
}

/* ---- 10,000 threads (64 at a time), each entering once (C API and #[export]) and exiting ---- */

enum { STORM_THREADS = 10000, STORM_BATCH = 64 };

/* CROSSCALL_CTESTS_STORM_THREADS overrides the count (valgrind.sh runs fewer). */
static int storm_threads(void) {
    const char *env = getenv("CROSSCALL_CTESTS_STORM_THREADS");
    int n = env != NULL ? atoi(env) : 0;
    return n > 0 ? n : STORM_THREADS;
}

static void *enter_once(void *arg) {
    crosscall_gate *gate = arg;
    CHECK_T(crosscall_gate_enter(gate) == CROSSCALL_OK);
    crosscall_gate_leave(gate);
    CHECK_T(ctest_div(42, 6) == 7);
    return NULL;
}

int ctest_ten_thousand_threads_enter_once_and_exit(void) {
    crosscall_gate *gate = crosscall_gate_new();
    CHECK(gate != NULL);
    CHECK(crosscall_gate_open(gate) == CROSSCALL_OK);
    pthread_t batch[STORM_BATCH];
    int threads = storm_threads();
    for (int started = 0; started < threads; started += STORM_BATCH) {
        for (int i = 0; i < STORM_BATCH; i++) {
            CHECK(pthread_create(&batch[i], NULL, enter_once, gate) == 0);
        }
        for (int i = 0; i < STORM_BATCH; i++) JOIN_CHECK(batch[i]);
    }
    CHECK(crosscall_gate_in_flight(gate) == 0);
    CHECK(crosscall_gate_close(gate) == CROSSCALL_OK);
    crosscall_gate_free(gate);
    return 0;
}

/* ---- exit() with threads inside ---- */

static crosscall_gate *exit_gate;
static int report_fd = -1;

static void close_at_exit(void) {
    /* The threads inside never run again: a close without timeout would wait for ever. */
    int code = crosscall_gate_close_timeout(exit_gate, 50 * 1000000ull);
    (void)!write(report_fd, &code, sizeof code);
}

static void *inside_for_ever(void *arg) {
    (void)arg;
    if (crosscall_gate_enter(exit_gate) != CROSSCALL_OK) return NULL;
    for (;;) sleep_ms(1000);
    return NULL;
}

int ctest_exit_with_threads_inside_does_not_hang(void) {
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        report_fd = fds[1];
        exit_gate = crosscall_gate_new();
        if (exit_gate == NULL || crosscall_gate_open(exit_gate) != CROSSCALL_OK) _exit(2);
        for (int i = 0; i < 4; i++) {
            pthread_t t;
            if (pthread_create(&t, NULL, inside_for_ever, NULL) != 0) _exit(3);
        }
        while (crosscall_gate_in_flight(exit_gate) < 4) sleep_ms(1);
        atexit(close_at_exit);
        exit(0); /* threads are inside: exit must still end the process */
    }
    close(fds[1]);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    int code = 0;
    CHECK(read(fds[0], &code, sizeof code) == (ssize_t)sizeof code);
    CHECK(code == CROSSCALL_ERR_TIMEOUT);
    close(fds[0]);
    return 0;
}

/* ---- misuse: every bad argument is a definite error, never a crash ---- */

int ctest_lifecycle_misuse_is_refused(void) {
    CHECK(crosscall_gate_depth(NULL) == CROSSCALL_ERR_INVALID);
    CHECK(crosscall_gate_restore_depth(NULL, 0) == CROSSCALL_ERR_INVALID);
    CHECK(crosscall_gate_prepare_thread(NULL) == CROSSCALL_ERR_INVALID);
    CHECK(crosscall_gate_try_enter_signal(NULL) == CROSSCALL_ERR_INVALID);
    void *state = &state;
    CHECK(crosscall_gate_close_abandon(NULL, &state) == CROSSCALL_ERR_INVALID);
    CHECK(state == NULL);
    CHECK(crosscall_gate_close_abandon(NULL, NULL) == CROSSCALL_ERR_INVALID);

    /* crosscall_handle_get sets *obj to NULL on every error, a NULL table included. */
    void *obj = &obj;
    CHECK(crosscall_handle_get(NULL, 1, &obj) == CROSSCALL_ERR_INVALID);
    CHECK(obj == NULL);

    crosscall_gate *gate = crosscall_gate_new();
    CHECK(gate != NULL);
    /* Prepared before open, entered from the signal-safe path only once open. */
    CHECK(crosscall_gate_prepare_thread(gate) == CROSSCALL_OK);
    CHECK(crosscall_gate_prepare_thread(gate) == CROSSCALL_OK);
    CHECK(crosscall_gate_try_enter_signal(gate) == CROSSCALL_ERR_TIMEOUT);
    CHECK(crosscall_gate_open(gate) == CROSSCALL_OK);
    CHECK(crosscall_gate_try_enter_signal(gate) == CROSSCALL_OK);
    CHECK(crosscall_gate_depth(gate) == 1);
    crosscall_gate_leave(gate);
    CHECK(crosscall_gate_depth(gate) == 0);
    CHECK(crosscall_gate_restore_depth(gate, 1) == CROSSCALL_ERR_INVALID);
    CHECK(crosscall_gate_restore_depth(gate, 0) == 0);
    CHECK(crosscall_gate_close(gate) == CROSSCALL_OK);
    CHECK(crosscall_gate_try_enter_signal(gate) == CROSSCALL_ERR_CLOSED);
    crosscall_gate_free(gate);
    return 0;
}
