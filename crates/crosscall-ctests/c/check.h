/* Assertions for the C tests: each test function returns 0 on success or the line number of
 * the first failed check (after printing it), so the Rust harness can report it. */
#ifndef CROSSCALL_CTESTS_CHECK_H
#define CROSSCALL_CTESTS_CHECK_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* In a test function (returns int). */
#define CHECK(cond)                                                                           \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);          \
            return __LINE__;                                                                  \
        }                                                                                     \
    } while (0)

/* In a pthread start routine (returns void *): the failed line travels through pthread_join. */
#define CHECK_T(cond)                                                                         \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "%s:%d: check failed (thread): %s\n", __FILE__, __LINE__, #cond); \
            return (void *)(intptr_t)__LINE__;                                                \
        }                                                                                     \
    } while (0)

/* Joins `t` and fails the test with the thread's failed line, if any. */
#define JOIN_CHECK(t)                                                                         \
    do {                                                                                      \
        void *joined_result_ = NULL;                                                          \
        CHECK(pthread_join((t), &joined_result_) == 0);                                       \
        if (joined_result_ != NULL) return (int)(intptr_t)joined_result_;                     \
    } while (0)

/* The calling thread's last error contains `needle`. */
#define LAST_ERROR_HAS(needle)                                                                \
    (crosscall_last_error_message() != NULL &&                                                \
     strstr(crosscall_last_error_message(), (needle)) != NULL)

static inline void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

#endif
