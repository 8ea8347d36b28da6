// Command goref is the Go reference for crosscall's seed workload: every task
// crosses Go -> C -> Go once through cgo, so its run time is dominated by what a
// C->Go callback costs on the toolchain that built it (see docs/DESIGN.md, "The seed
// workload"). crosscall-lab builds it with each Go toolchain it finds and runs
// it next to the Rust gates.
//
// Output (parsed by crosscall-lab, keep the shape):
//
//	numWorkers = N
//	took Xms
package main

/*
#include <stdlib.h>

#include "getvalue.h"
*/
import "C"

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

const valueLen = C.GOREF_VALUE_LEN

// goFillValue is the callback C's get_value makes: copy the key into Go memory,
// make the (zero) value for it and write it into C's stack array byte by byte.
//
//export goFillValue
func goFillValue(key unsafe.Pointer, out unsafe.Pointer) {
	k := C.GoBytes(key, valueLen)
	value := make([]byte, len(k))
	dst := (*[valueLen]byte)(out)
	for i := range value {
		dst[i] = value[i]
	}
}

// getValue is one task: hand a key to C in C memory, let C fill a C buffer
// through the callback, copy the result back into Go memory, free both.
func getValue() []byte {
	key := make([]byte, valueLen)
	cKey := C.CBytes(key)
	cValue := C.malloc(valueLen)
	C.get_value(cKey, cValue)
	value := C.GoBytes(cValue, valueLen)
	C.free(cKey)
	C.free(cValue)
	return value
}

func main() {
	workers := flag.Int("workers", runtime.NumCPU(), "number of goroutines draining the task queue")
	tasks := flag.Int("tasks", 10_000_000, "number of tasks (one C->Go callback each)")
	flag.Parse()
	if *workers < 1 {
		fmt.Fprintf(os.Stderr, "goref: -workers must be at least 1, got %d\n", *workers)
		os.Exit(2)
	}
	if *tasks < 0 {
		fmt.Fprintf(os.Stderr, "goref: -tasks must not be negative, got %d\n", *tasks)
		os.Exit(2)
	}

	// All tasks are queued before the clock starts, as in the original repro.
	queue := make(chan int32, *tasks)
	for i := 0; i < *tasks; i++ {
		queue <- int32(i)
	}
	close(queue)

	fmt.Printf("numWorkers = %d\n", *workers)
	start := time.Now()
	var wg sync.WaitGroup
	wg.Add(*workers)
	for w := 0; w < *workers; w++ {
		go func() {
			defer wg.Done()
			for range queue {
				if v := getValue(); len(v) != valueLen {
					panic("get_value returned a value of the wrong length")
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	fmt.Printf("took %.3fms\n", float64(took.Nanoseconds())/1e6)
}
