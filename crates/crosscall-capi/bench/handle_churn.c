/* Handle lifetimes and lookups through the C API's shared library, as a C host makes them.
 *
 *   handle_churn churn-out THREADS N   insert + remove per lifetime, outside the gate
 *   handle_churn churn-in  THREADS N   the same inside the gate (enter/leave per lifetime)
 *   handle_churn churn-held THREADS N  the same with the whole loop inside one entry
 *   handle_churn sync      THREADS N   insert + crosscall_handle_remove_sync
 *   handle_churn get       THREADS N   crosscall_handle_get into a table of 1,000 objects
 *
 * Threads are pthreads released together; prints ns per operation of the slowest thread.
 * Build and run: docs/PERFORMANCE.md section 13 (also counts membarrier calls and instructions). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crosscall.h"

enum { LIVE_OBJECTS = 1000 };

static crosscall_gate *gate;
static crosscall_handles *table;
static uint64_t live[LIVE_OBJECTS];
static const char *mode;
static long per_thread;
static pthread_barrier_t start;
static char objects[LIVE_OBJECTS + 1]; /* any non-NULL, distinct pointers */

static void destroy(void *obj) { (void)obj; }

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void fail(const char *what) {
    fprintf(stderr, "handle_churn: %s: %s\n", what, crosscall_last_error_message());
    exit(1);
}

static void *run(void *arg) {
    double *elapsed = arg;
    void *obj = &objects[LIVE_OBJECTS];
    pthread_barrier_wait(&start);
    double began = now_ns();
    if (strcmp(mode, "churn-out") == 0) {
        for (long i = 0; i < per_thread; i++) {
            uint64_t h = crosscall_handle_insert(table, obj);
            if (h == 0 || crosscall_handle_remove(table, h) != CROSSCALL_OK) fail("churn");
        }
    } else if (strcmp(mode, "churn-in") == 0) {
        for (long i = 0; i < per_thread; i++) {
            if (crosscall_gate_enter(gate) != CROSSCALL_OK) fail("enter");
            uint64_t h = crosscall_handle_insert(table, obj);
            if (h == 0 || crosscall_handle_remove(table, h) != CROSSCALL_OK) fail("churn");
            crosscall_gate_leave(gate);
        }
    } else if (strcmp(mode, "churn-held") == 0) {
        if (crosscall_gate_enter(gate) != CROSSCALL_OK) fail("enter");
        for (long i = 0; i < per_thread; i++) {
            uint64_t h = crosscall_handle_insert(table, obj);
            if (h == 0 || crosscall_handle_remove(table, h) != CROSSCALL_OK) fail("churn");
        }
        crosscall_gate_leave(gate);
    } else if (strcmp(mode, "sync") == 0) {
        for (long i = 0; i < per_thread; i++) {
            uint64_t h = crosscall_handle_insert(table, obj);
            if (h == 0 || crosscall_handle_remove_sync(table, h) != CROSSCALL_OK) fail("sync");
        }
    } else if (strcmp(mode, "get") == 0) {
        if (crosscall_gate_enter(gate) != CROSSCALL_OK) fail("enter");
        uintptr_t sum = 0;
        for (long i = 0; i < per_thread; i++) {
            void *p;
            if (crosscall_handle_get(table, live[i % LIVE_OBJECTS], &p) != CROSSCALL_OK) {
                fail("get");
            }
            sum += (uintptr_t)p;
        }
        crosscall_gate_leave(gate);
        if (sum == 1) puts(""); /* keep the loop */
    } else {
        fprintf(stderr, "handle_churn: unknown mode %s\n", mode);
        exit(2);
    }
    *elapsed = now_ns() - began;
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s churn-out|churn-in|churn-held|sync|get THREADS N\n", argv[0]);
        return 2;
    }
    mode = argv[1];
    int threads = atoi(argv[2]);
    per_thread = atol(argv[3]);
    if (threads < 1 || threads > 64 || per_thread < 1) return 2;
    gate = crosscall_gate_new();
    table = crosscall_handles_new(gate, destroy);
    if (gate == NULL || table == NULL || crosscall_gate_open(gate) != CROSSCALL_OK) fail("setup");
    for (int i = 0; i < LIVE_OBJECTS; i++) {
        live[i] = crosscall_handle_insert(table, &objects[i]);
        if (live[i] == 0) fail("insert");
    }
    pthread_barrier_init(&start, NULL, (unsigned)threads);
    pthread_t t[64];
    double elapsed[64];
    for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, run, &elapsed[i]);
    double slowest = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        if (elapsed[i] > slowest) slowest = elapsed[i];
    }
    printf("%s threads=%d n=%ld ns/op=%.1f\n", mode, threads, per_thread, slowest / (double)per_thread);
    crosscall_handles_free(table);
    if (crosscall_gate_close(gate) != CROSSCALL_OK) fail("close");
    crosscall_gate_free(gate);
    return 0;
}
