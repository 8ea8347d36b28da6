/*
 * trivial_pair: the cheapest guard a C library can put around a body, as a yardstick for the
 * C API's crosscall_gate_enter / crosscall_gate_leave. Built as a shared library of its own
 * (libcrosscall_lab_pair.so) and linked the way the C API is, so both pairs pay the same two
 * calls through the PLT into another object; each call reads and bumps one word of the
 * calling thread (no shared write, like crosscall's fast path).
 */
#ifndef CROSSCALL_LAB_TRIVIAL_PAIR_H
#define CROSSCALL_LAB_TRIVIAL_PAIR_H

/* Returns 0, or -1 for a NULL handle (the C API refuses a NULL gate likewise). */
int trivial_pair_enter(const void *handle);
/* Undoes one trivial_pair_enter of this thread. */
void trivial_pair_leave(const void *handle);

#endif
