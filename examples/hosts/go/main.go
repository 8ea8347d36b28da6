// libhostkv from goroutines: the whole lifecycle, asserted (see ../README.md).
//
//	go run .                     # lifecycle
//	go run . exit-while-waiting
//
// Exits non-zero on the first failed expectation.
package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"example.invalid/hostkv/kv"
)

const (
	goroutines = 8
	adds       = 20000 // per goroutine and store
)

func expect(condition bool, format string, args ...any) {
	if !condition {
		fmt.Fprintf(os.Stderr, "go: FAILED: "+format+"\n", args...)
		os.Exit(1)
	}
}

// message is the library's text of err ("" for nil).
func message(err error) string {
	var kvErr *kv.Error
	if errors.As(err, &kvErr) {
		return kvErr.Message
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func parallel(n int, body func(i int)) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			body(i)
		}(i)
	}
	wg.Wait()
}

func lifecycle() {
	err := kv.WaitReady(50 * time.Millisecond)
	expect(strings.Contains(message(err), "timed out"), "WaitReady before Init: %v", err)

	// Early callers wait for Init (each blocked goroutine holds an OS thread meanwhile).
	var initialized atomic.Bool
	var started, returned atomic.Int32
	stores := make([]kv.Store, goroutines)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			started.Add(1)
			store, err := kv.NewStore()
			returned.Add(1)
			expect(initialized.Load(), "NewStore returned before Init")
			expect(err == nil, "NewStore after waiting: %v", err)
			stores[i] = store
		}(i)
	}
	for started.Load() < goroutines { // every goroutine is about to call
		time.Sleep(time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	expect(returned.Load() == 0, "a call before Init returned instead of waiting")
	initialized.Store(true)
	expect(kv.Init() == nil, "Init")
	wg.Wait()
	seen := map[kv.Store]bool{}
	for _, s := range stores {
		seen[s] = true
	}
	expect(len(seen) == goroutines, "distinct handles: %v", stores)
	shared := stores[0]

	// Several goroutines: a shared store and one of their own.
	parallel(goroutines, func(i int) {
		for n := 0; n < adds; n++ {
			_, err1 := shared.Add("hits", 1)
			_, err2 := stores[i].Add("mine", 1)
			expect(err1 == nil && err2 == nil, "Add: %v %v", err1, err2)
		}
	})
	hits, _ := shared.Get("hits")
	expect(hits == goroutines*adds, "lost or extra adds: %d", hits)
	for _, s := range stores[1:] {
		mine, _ := s.Get("mine")
		expect(mine == adds, "own store: %d", mine)
	}
	n, _ := shared.Len()
	expect(n == 2, "shared store holds hits and mine: %d", n)
	served := int64(2 * goroutines * adds)

	// Errors: each comes back with the library's message, per goroutine.
	_, err = shared.Add("\xff", 1)
	expect(strings.HasPrefix(message(err), "key is not UTF-8"), "bad key: %v", err)
	_, err = shared.Add("hits", math.MaxInt64)
	expect(strings.Contains(message(err), "would overflow"), "overflow: %v", err)
	parallel(goroutines, func(i int) {
		text := fmt.Sprintf("boom %d", i)
		err := kv.DebugPanic(text)
		expect(message(err) == "crosscall: kv_debug_panic panicked: "+text, "panic: %v", err)
	})

	// Handles: a freed one is stale, a made-up one was never issued.
	freed := stores[1]
	expect(freed.Free() == nil, "Free")
	_, err = freed.Get("mine")
	expect(strings.Contains(message(err), "stale handle"), "freed handle: %v", err)
	expect(freed.Free() != nil, "double Free must fail")
	_, err = kv.Store(0xdeadbeef).Get("x")
	expect(strings.Contains(message(err), "never issued"), "made-up handle: %v", err)

	// Shutdown while goroutines keep calling: it drains them, then refuses.
	successes := make([]atomic.Int64, goroutines)
	refusals := make([]string, goroutines)
	var hammer sync.WaitGroup
	for i := 0; i < goroutines; i++ {
		hammer.Add(1)
		go func(i int) {
			defer hammer.Done()
			for {
				if _, err := shared.Add("late", 1); err != nil {
					refusals[i] = message(err)
					return
				}
				successes[i].Add(1)
			}
		}(i)
	}
	for i := range successes {
		for successes[i].Load() == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	drained, err := kv.Shutdown()
	expect(err == nil, "Shutdown: %v", err)
	hammer.Wait()
	total := served
	for i := range successes {
		total += successes[i].Load()
	}
	expect(drained == total, "Shutdown served %d, goroutines saw %d", drained, total)
	for _, r := range refusals {
		expect(r == "crosscall: the gate is closed", "after Shutdown: %q", r)
	}
	_, err = kv.NewStore()
	expect(message(err) == "crosscall: the gate is closed", "NewStore after Shutdown: %v", err)
	expect(kv.WaitReady(10*time.Millisecond) != nil, "WaitReady after Shutdown must fail")

	// Init again: a new generation; every old handle is stale.
	expect(kv.Init() == nil, "Init again")
	_, err = shared.Get("hits")
	expect(strings.Contains(message(err), "stale handle"), "old handle: %v", err)
	fresh, err := kv.NewStore()
	expect(err == nil, "NewStore: %v", err)
	v, err := fresh.Add("ключ", 5)
	expect(v == 5 && err == nil, "Add in the new generation: %d %v", v, err)
	drained, _ = kv.Shutdown()
	expect(drained == 1, "one Add in the second generation: %d", drained)
}

func exitWhileWaiting() {
	done := make(chan error)
	go func() {
		_, err := kv.NewStore() // waits: Init never comes
		done <- err
	}()
	select {
	case err := <-done:
		expect(false, "the call before Init must wait, returned %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	// Done without ever initializing: Go exits without waiting for that goroutine, but a
	// program that waits for its goroutines (or a host runtime that waits for its threads)
	// needs the shutdown to release it.
	_, err := kv.Shutdown()
	expect(err == nil, "Shutdown: %v", err)
	err = <-done
	expect(message(err) == "crosscall: the gate is closed", "waiter: %v", err)
}

func main() {
	mode := "lifecycle"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	switch mode {
	case "lifecycle":
		lifecycle()
	case "exit-while-waiting":
		exitWhileWaiting()
	default:
		fmt.Fprintf(os.Stderr, "unknown mode %s\n", mode)
		os.Exit(2)
	}
	fmt.Printf("go %s: ok\n", mode)
}
