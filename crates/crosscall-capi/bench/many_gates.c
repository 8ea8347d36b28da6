/* Several gates per thread through libcrosscall_capi.so: ns per enter+leave pair when each
 * thread round-robins over K open gates, and per iteration of a nested pair (enter a, enter
 * b, leave b, leave a), as ratios to one gate measured in the same run. Best of 3 runs per
 * shape; 1 and 2 threads (the slowest thread's time). A measurement tool, not a test.
 *
 *   bash crates/crosscall-capi/bench/many_gates.sh [iterations]
 *
 * `many_gates SHAPE ITERATIONS` runs one shape once on one thread (SHAPE: the row number,
 * from 0), for instruction counts under callgrind: many_gates.sh --callgrind prints
 * (Ir(2N) - Ir(N)) / N per shape, so start-up and warm-up cancel.
 */
#define _POSIX_C_SOURCE 200809L
#include <crosscall.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_GATES 64

static crosscall_gate *gates[MAX_GATES];
static long iterations = 20000000;

struct shape {
    const char *name;
    int gates;  /* round-robin over this many; 0: nested pair */
};

struct run {
    const struct shape *shape;
    pthread_barrier_t *start;
    double ns;
    int failed;
};

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Through a function pointer, so the compiler cannot merge or hoist the calls. */
static int (*volatile enter)(crosscall_gate *) = crosscall_gate_enter;
static void (*volatile leave)(crosscall_gate *) = crosscall_gate_leave;

static void *worker(void *arg) {
    struct run *r = arg;
    int (*en)(crosscall_gate *) = enter;
    void (*le)(crosscall_gate *) = leave;
    int k = r->shape->gates;
    /* Warm up: first entries attach the thread and claim its slots. */
    for (int i = 0; i < MAX_GATES; i++) {
        if (en(gates[i]) != CROSSCALL_OK) r->failed = 1;
        le(gates[i]);
    }
    pthread_barrier_wait(r->start);
    double t0 = now_ns();
    if (k == 0) {
        crosscall_gate *a = gates[0], *b = gates[1];
        for (long i = 0; i < iterations; i++) {
            r->failed |= en(a);
            r->failed |= en(b);
            le(b);
            le(a);
        }
    } else {
        int g = 0;
        for (long i = 0; i < iterations; i++) {
            crosscall_gate *gate = gates[g];
            r->failed |= en(gate);
            le(gate);
            g = g + 1 == k ? 0 : g + 1;
        }
    }
    r->ns = (now_ns() - t0) / (double)iterations;
    return NULL;
}

/* ns per iteration for `shape` on `threads` threads (the slowest thread). */
static double measure(const struct shape *shape, int threads) {
    pthread_t t[2];
    struct run runs[2];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads);
    for (int i = 0; i < threads; i++) {
        runs[i] = (struct run){.shape = shape, .start = &start};
        pthread_create(&t[i], NULL, worker, &runs[i]);
    }
    double worst = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        if (runs[i].failed) {
            fprintf(stderr, "an entry failed: %s\n", crosscall_last_error_message());
            exit(1);
        }
        if (runs[i].ns > worst) worst = runs[i].ns;
    }
    pthread_barrier_destroy(&start);
    return worst;
}

int main(int argc, char **argv) {
    static const struct shape shapes[] = {
        {"one gate", 1},        {"2 gates round-robin", 2},  {"4 gates round-robin", 4},
        {"8 gates round-robin", 8}, {"16 gates round-robin", 16}, {"64 gates round-robin", 64},
        {"nested a(b) per iteration", 0},
    };
    int n = (int)(sizeof shapes / sizeof shapes[0]);
    for (int i = 0; i < MAX_GATES; i++) {
        gates[i] = crosscall_gate_new();
        if (gates[i] == NULL || crosscall_gate_open(gates[i]) != CROSSCALL_OK) return 1;
    }
    if (argc > 2) { /* one shape, one thread, no output: for callgrind */
        int s = atoi(argv[1]);
        if (s < 0 || s >= n) return 2;
        iterations = atol(argv[2]);
        measure(&shapes[s], 1);
        return 0;
    }
    if (argc > 1) iterations = atol(argv[1]);
    double best[2][16];
    for (int th = 0; th < 2; th++)
        for (int s = 0; s < n; s++) best[th][s] = 1e300;
    /* Shapes take turns, three rounds: load changes hit every shape alike. */
    for (int round = 0; round < 3; round++)
        for (int th = 0; th < 2; th++)
            for (int s = 0; s < n; s++) {
                double ns = measure(&shapes[s], th + 1);
                if (ns < best[th][s]) best[th][s] = ns;
            }
    printf("%-28s %10s %8s %10s %8s\n", "shape", "ns@1t", "ratio", "ns@2t", "ratio");
    for (int s = 0; s < n; s++)
        printf("%-28s %10.2f %8.2f %10.2f %8.2f\n", shapes[s].name, best[0][s],
               best[0][s] / best[0][0], best[1][s], best[1][s] / best[1][0]);
    for (int i = 0; i < MAX_GATES; i++) {
        crosscall_gate_close(gates[i]);
        crosscall_gate_free(gates[i]);
    }
    return 0;
}
