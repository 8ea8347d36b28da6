/* The panic barrier seen from C: a Rust callback that panics (or fails) returns its error
 * value, and the reason is in crosscall_last_error_message() on the calling thread. */
#include "check.h"
#include "crosscall.h"

/* From src/lib.rs: a/b; panics when b == 0, returns Err when a < 0; -1 on any failure. */
extern int64_t ctest_div(int64_t a, int64_t b);

static void *call_failing_callbacks(void *arg) {
    (void)arg;
    crosscall_clear_last_error();
    CHECK_T(ctest_div(84, 2) == 42);
    CHECK_T(crosscall_last_error_message() == NULL);

    CHECK_T(ctest_div(7, 0) == -1);
    CHECK_T(LAST_ERROR_HAS("ctest_div: cannot divide 7 by zero"));

    CHECK_T(ctest_div(-3, 1) == -1);
    CHECK_T(LAST_ERROR_HAS("negative dividend -3"));

    /* The thread is still usable after a panic, and a success keeps the old message. */
    CHECK_T(ctest_div(9, 3) == 3);
    CHECK_T(LAST_ERROR_HAS("negative dividend -3"));
    return NULL;
}

int ctest_panic_becomes_error_value(void) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, call_failing_callbacks, NULL) == 0);
    JOIN_CHECK(t);
    return 0;
}
