/* longjmp past crosscall_gate_leave (as Lua's lua_error, Ruby's rb_raise and libpng's error
 * handler do): the landing site gives back the skipped entries with
 * crosscall_gate_restore_depth, and a close waiting on another thread then finishes. */
#include <setjmp.h>
#include <stdatomic.h>
#include <stdint.h>

#include "check.h"
#include "crosscall.h"

static _Thread_local jmp_buf landing;

/* A "callback" that enters twice (nested) and raises: the two leaves never run. */
static void gated_call_that_raises(crosscall_gate *gate) {
    if (crosscall_gate_enter(gate) != CROSSCALL_OK) return;
    if (crosscall_gate_enter(gate) != CROSSCALL_OK) return;
    longjmp(landing, 1);
}

struct closer {
    crosscall_gate *gate;
    atomic_int done;
    int code;
};

static void *close_gate(void *arg) {
    struct closer *c = arg;
    c->code = crosscall_gate_close(c->gate);
    atomic_store(&c->done, 1);
    return NULL;
}

int ctest_longjmp_landing_site_restores_depth(void) {
    crosscall_gate *gate = crosscall_gate_new();
    CHECK(gate != NULL);
    CHECK(crosscall_gate_open(gate) == CROSSCALL_OK);
    CHECK(crosscall_gate_enter(gate) == CROSSCALL_OK); /* an outer entry the jump keeps */

    volatile int saved = crosscall_gate_depth(gate);
    CHECK(saved == 1);
    if (setjmp(landing) == 0) {
        gated_call_that_raises(gate);
        CHECK(0); /* not reached */
    }
    /* Landed: two entries were skipped. */
    CHECK(crosscall_gate_depth(gate) == 3);

    struct closer c = {.gate = gate};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, close_gate, &c) == 0);
    sleep_ms(20);
    CHECK(!atomic_load(&c.done)); /* waits for the skipped entries (and the outer one) */

    /* Misuse changes nothing. */
    CHECK(crosscall_gate_restore_depth(gate, 4) == CROSSCALL_ERR_INVALID);
    CHECK(LAST_ERROR_HAS("current depth 3"));
    CHECK(crosscall_gate_restore_depth(gate, -1) == CROSSCALL_ERR_INVALID);
    CHECK(crosscall_gate_restore_depth(NULL, 0) == CROSSCALL_ERR_INVALID);
    CHECK(crosscall_gate_depth(NULL) == CROSSCALL_ERR_INVALID);
    CHECK(crosscall_gate_depth(gate) == 3);

    CHECK(crosscall_gate_restore_depth(gate, saved) == 2);
    CHECK(crosscall_gate_depth(gate) == 1);
    CHECK(crosscall_gate_restore_depth(gate, saved) == 0); /* idempotent */
    sleep_ms(5);
    CHECK(!atomic_load(&c.done)); /* the outer entry still counts */
    crosscall_gate_leave(gate);
    JOIN_CHECK(t);
    CHECK(c.code == CROSSCALL_OK);
    CHECK(crosscall_gate_depth(gate) == 0);
    crosscall_gate_free(gate);
    return 0;
}

/* Without a restore the skipped entry counts until the thread exits (documented: the caller
 * must act): a close with a timeout reports it instead of hanging. */
static void *raise_without_restore(void *arg) {
    crosscall_gate *gate = arg;
    if (setjmp(landing) == 0) gated_call_that_raises(gate);
    CHECK_T(crosscall_gate_close_timeout(gate, 0) == CROSSCALL_ERR_WOULD_DEADLOCK);
    return NULL;
}

int ctest_longjmp_without_restore_ends_with_the_thread(void) {
    crosscall_gate *gate = crosscall_gate_new();
    CHECK(gate != NULL);
    CHECK(crosscall_gate_open(gate) == CROSSCALL_OK);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, raise_without_restore, gate) == 0);
    JOIN_CHECK(t);
    /* The thread exited: C API entries end with it. */
    CHECK(crosscall_gate_close_timeout(gate, 5000000000ull) == CROSSCALL_OK);
    crosscall_gate_free(gate);
    return 0;
}
