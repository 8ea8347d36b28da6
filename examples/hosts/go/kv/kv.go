// Package kv is a Go face for libhostkv: errors as Go errors, stores as values.
//
// Build with the library's directory in CGO_LDFLAGS (run.sh does this):
//
//	CGO_LDFLAGS="-L$DIR -Wl,-rpath,$DIR" go build
//
// Every function locks the calling goroutine to its OS thread for the call and the read of
// the error message: the library keeps the last error per OS thread, and between two cgo
// calls the Go scheduler may move a goroutine to another thread.
package kv

/*
#cgo CFLAGS: -I${SRCDIR}/../../kvlib
#cgo LDFLAGS: -lhostkv
#include <stdlib.h>
#include "hostkv.h"
*/
import "C"

import (
	"math"
	"runtime"
	"time"
	"unsafe"
)

// Error is a failed call: the function and kv_last_error()'s message.
type Error struct {
	Op      string
	Message string
}

func (e *Error) Error() string { return e.Op + ": " + e.Message }

// lastError reads this OS thread's message; call it with the thread locked, right after
// the failed call.
func lastError(op string) error {
	message := C.kv_last_error()
	if message == nil {
		return &Error{op, "(no error message)"}
	}
	return &Error{op, C.GoString(message)}
}

// Init opens the library; calls made before it wait.
func Init() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if C.kv_init() != 0 {
		return lastError("kv_init")
	}
	return nil
}

// Shutdown waits for calls in progress, frees every store and refuses later calls.
// It returns how many Add calls succeeded since Init.
func Shutdown() (int64, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	served := int64(C.kv_shutdown())
	if served < 0 {
		return 0, lastError("kv_shutdown")
	}
	return served, nil
}

// WaitReady waits at most timeout for Init.
func WaitReady(timeout time.Duration) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if C.kv_wait_ready(C.uint32_t(timeout.Milliseconds())) != 0 {
		return lastError("kv_wait_ready")
	}
	return nil
}

// Store is a handle to a store of the library (a stale or made-up one is an error).
type Store uint64

// NewStore creates a store; before Init it waits.
func NewStore() (Store, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	handle := C.kv_store_new()
	if handle == 0 {
		return 0, lastError("kv_store_new")
	}
	return Store(handle), nil
}

// Free frees the store; its handle is stale afterwards.
func (s Store) Free() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if C.kv_store_free(C.uint64_t(s)) != 0 {
		return lastError("kv_store_free")
	}
	return nil
}

// Add adds delta to counter key and returns its new value.
func (s Store) Add(key string, delta int64) (int64, error) {
	ckey := C.CString(key)
	defer C.free(unsafe.Pointer(ckey))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	value := int64(C.kv_add(C.uint64_t(s), ckey, C.int64_t(delta)))
	if value == math.MinInt64 {
		return 0, lastError("kv_add")
	}
	return value, nil
}

// Get returns counter key (0 if never added to).
func (s Store) Get(key string) (int64, error) {
	ckey := C.CString(key)
	defer C.free(unsafe.Pointer(ckey))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	value := int64(C.kv_get(C.uint64_t(s), ckey))
	if value == math.MinInt64 {
		return 0, lastError("kv_get")
	}
	return value, nil
}

// Len returns how many counters the store holds.
func (s Store) Len() (int64, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	n := int64(C.kv_len(C.uint64_t(s)))
	if n < 0 {
		return 0, lastError("kv_len")
	}
	return n, nil
}

// DebugPanic makes the library panic with message; the panic comes back as an error.
func DebugPanic(message string) error {
	cmessage := C.CString(message)
	defer C.free(unsafe.Pointer(cmessage))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if C.kv_debug_panic(cmessage) != 0 {
		return lastError("kv_debug_panic")
	}
	return nil
}
