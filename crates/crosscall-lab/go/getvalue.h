// The C side of the seed workload (see docs/DESIGN.md, "The seed workload").
#ifndef CROSSCALL_GOREF_GETVALUE_H
#define CROSSCALL_GOREF_GETVALUE_H

// Length of the key, of the value and of get_value's stack array.
#define GOREF_VALUE_LEN 32

// Calls back into Go with (key, a 32-byte array on this function's stack),
// then copies that array into value. key and value hold GOREF_VALUE_LEN bytes.
void get_value(void *key, void *value);

#endif
