/* Compiled (not run) by tests/header.rs as C11 and as C++11 with every warning an error:
 * proves include/crosscall.h is self-contained and declares the contract's names. */
#include "crosscall.h"
#include "crosscall.h" /* the include guard makes a second include harmless */

/* Each prototype must match the contract exactly, or these initializations fail to compile. */
static crosscall_gate *(*const p_new)(void) = crosscall_gate_new;
static void (*const p_free)(crosscall_gate *) = crosscall_gate_free;
static int (*const p_open)(crosscall_gate *) = crosscall_gate_open;
static int (*const p_open_with)(crosscall_gate *, void (*)(void *), void *) =
    crosscall_gate_open_with;
static int (*const p_enter)(crosscall_gate *) = crosscall_gate_enter;
static int (*const p_try_enter)(crosscall_gate *) = crosscall_gate_try_enter;
static int (*const p_enter_timeout)(crosscall_gate *, uint64_t) = crosscall_gate_enter_timeout;
static void (*const p_leave)(crosscall_gate *) = crosscall_gate_leave;
static int (*const p_close)(crosscall_gate *) = crosscall_gate_close;
static int (*const p_close_timeout)(crosscall_gate *, uint64_t) = crosscall_gate_close_timeout;
static int (*const p_state)(const crosscall_gate *) = crosscall_gate_state;
static int64_t (*const p_in_flight)(const crosscall_gate *) = crosscall_gate_in_flight;
static const char *(*const p_last_error)(void) = crosscall_last_error_message;
static void (*const p_clear)(void) = crosscall_clear_last_error;
static const char *(*const p_strerror)(int) = crosscall_strerror;

/* The codes are integer constant expressions: usable in a switch. */
int header_check_classify(int code);
int header_check_classify(int code) {
    switch (code) {
    case CROSSCALL_OK: return 0;
    case CROSSCALL_ERR_CLOSED:
    case CROSSCALL_ERR_TIMEOUT:
    case CROSSCALL_ERR_WOULD_DEADLOCK:
    case CROSSCALL_ERR_INVALID:
    case CROSSCALL_ERR_PANICKED: return 1;
    case CROSSCALL_STATE_OPEN:
    case CROSSCALL_STATE_CLOSING:
    case CROSSCALL_STATE_CLOSED: return 2;
    default: return 3;
    }
}

/* Keeps every pointer above "used" under -Wunused. */
const void *header_check_symbols(int i);
const void *header_check_symbols(int i) {
    switch (i) {
    case 0: return (const void *)&p_new;
    case 1: return (const void *)&p_free;
    case 2: return (const void *)&p_open;
    case 3: return (const void *)&p_open_with;
    case 4: return (const void *)&p_enter;
    case 5: return (const void *)&p_try_enter;
    case 6: return (const void *)&p_enter_timeout;
    case 7: return (const void *)&p_leave;
    case 8: return (const void *)&p_close;
    case 9: return (const void *)&p_close_timeout;
    case 10: return (const void *)&p_state;
    case 11: return (const void *)&p_in_flight;
    case 12: return (const void *)&p_last_error;
    case 13: return (const void *)&p_clear;
    default: return (const void *)&p_strerror;
    }
}
