// Lives apart from main.go: a cgo file that uses //export may only declare,
// not define, C functions in its preamble.
#include <string.h>

#include "_cgo_export.h"
#include "getvalue.h"

void get_value(void *key, void *value) {
    unsigned char stack_array[GOREF_VALUE_LEN];
    // Every call is a C->Go callback: the entry cost the lab measures.
    goFillValue(key, stack_array);
    memcpy(value, stack_array, GOREF_VALUE_LEN);
}
