"""libhostkv from Python threads: the whole lifecycle, asserted. Exits non-zero on failure.

    HOSTKV_LIB=.../libhostkv.so python3 test_kv.py ctypes            # or: cffi
    HOSTKV_LIB=.../libhostkv.so python3 test_kv.py ctypes exit-while-waiting

`lifecycle` (the default): callers before kv_init wait; several threads add to shared and
own stores; bad input and a panic become error values with readable messages (per thread);
freed and made-up handles are errors; shutdown while threads call drains them (its count
of served calls equals what the threads saw succeed) and refuses later calls; kv_init
again starts over with the old handles stale.
`exit-while-waiting`: a thread waits for a kv_init that never comes; kv_shutdown at exit
releases it with an error, and the process exits.
"""

import importlib
import sys
import threading
import time

THREADS = 4
ADDS = 2000  # per thread and store


def main():
    binding = sys.argv[1] if len(sys.argv) > 1 else "ctypes"
    mode = sys.argv[2] if len(sys.argv) > 2 else "lifecycle"
    kv = importlib.import_module("kv_" + binding)
    if mode == "lifecycle":
        lifecycle(kv)
    elif mode == "exit-while-waiting":
        exit_while_waiting(kv)
    else:
        sys.exit(f"unknown mode {mode!r}")
    print(f"python/{binding} {mode}: ok")


def expect(condition, what):
    if not condition:
        raise AssertionError(what)


def start_threads(target, count=THREADS):
    """Starts target(i) on `count` threads; returns join(), which waits for them and returns
    their results in order. A thread's exception fails the test."""
    results, errors = [None] * count, []

    def body(i):
        try:
            results[i] = target(i)
        except BaseException as e:  # noqa: BLE001 - re-raised by join()
            errors.append(e)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()

    def join():
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        return results

    return join


def run_threads(target, count=THREADS):
    return start_threads(target, count)()


def lifecycle(kv):
    lib, last_error, KV_ERROR = kv.lib, kv.last_error, kv.KV_ERROR

    # kv_wait_ready bounds the wait for kv_init.
    expect(lib.kv_wait_ready(50) == -1, "kv_wait_ready before kv_init must time out")
    expect("timed out" in last_error(), f"kv_wait_ready's error: {last_error()!r}")

    # Early callers wait for kv_init (the GIL is released while they wait).
    initialized = threading.Event()
    started, returned = [], []

    def early(_):
        started.append(True)
        store = lib.kv_store_new()
        returned.append(store)
        expect(initialized.is_set(), "kv_store_new returned before kv_init")
        expect(store != 0, f"kv_store_new after waiting: {last_error()!r}")
        return store

    join_early = start_threads(early)
    while len(started) < THREADS:  # every thread is about to call
        time.sleep(0.001)
    time.sleep(0.2)
    expect(not returned, "a call before kv_init returned instead of waiting")
    initialized.set()
    expect(lib.kv_init() == 0, f"kv_init: {last_error()!r}")
    stores = join_early()
    expect(len(set(stores)) == THREADS, f"handles must be distinct: {stores}")
    shared = stores[0]

    # Several threads: a shared store and one of their own.
    def adder(i):
        for _ in range(ADDS):
            if lib.kv_add(shared, b"hits", 1) == KV_ERROR:
                raise AssertionError(last_error())
            if lib.kv_add(stores[i], b"mine", 1) == KV_ERROR:
                raise AssertionError(last_error())

    run_threads(adder)
    expect(lib.kv_get(shared, b"hits") == THREADS * ADDS, "lost or extra adds")
    for store in stores[1:]:
        expect(lib.kv_get(store, b"mine") == ADDS, "per-thread store")
    expect(lib.kv_len(shared) == 2, "shared store holds hits and mine")
    served = 2 * THREADS * ADDS

    # Errors: the value says failed, kv_last_error says why, per thread.
    expect(lib.kv_add(shared, kv.NULL, 1) == KV_ERROR, "NULL key must fail")
    expect(last_error() == "key is NULL", f"NULL key: {last_error()!r}")

    def panicker(i):
        expect(lib.kv_debug_panic(f"boom {i}".encode()) == -1, "a panic returns -1")
        return last_error()

    messages = run_threads(panicker)
    for i, message in enumerate(messages):
        expect(message == f"crosscall: kv_debug_panic panicked: boom {i}", f"panic: {message!r}")
    expect(last_error() == "key is NULL", "another thread's error leaked into this one")

    # Handles: a freed one is stale, a made-up one was never issued.
    freed = stores[1]
    expect(lib.kv_store_free(freed) == 0, last_error())
    expect(lib.kv_get(freed, b"mine") == KV_ERROR, "a freed handle must fail")
    expect("stale handle" in last_error(), f"freed handle: {last_error()!r}")
    expect(lib.kv_store_free(freed) == -1, "double free must fail")
    expect(lib.kv_get(0xDEADBEEF, b"x") == KV_ERROR, "a made-up handle must fail")
    expect("never issued" in last_error(), f"made-up handle: {last_error()!r}")

    # Shutdown while threads keep calling: it drains them, then refuses.
    successes = [0] * THREADS
    refusals = [None] * THREADS

    def hammer(i):
        while True:
            if lib.kv_add(shared, b"late", 1) == KV_ERROR:
                refusals[i] = last_error()
                return
            successes[i] += 1

    join_hammer = start_threads(hammer)
    while min(successes) == 0:  # every thread is calling
        time.sleep(0.001)
    drained = lib.kv_shutdown()
    join_hammer()
    expect(drained == served + sum(successes),
           f"kv_shutdown served {drained}, threads saw {served} + {sum(successes)}")
    for message in refusals:
        expect(message == "crosscall: the gate is closed", f"after shutdown: {message!r}")
    expect(lib.kv_store_new() == 0, "kv_store_new after shutdown must fail")
    expect(lib.kv_wait_ready(10) == -1, "kv_wait_ready after shutdown must fail")

    # Init again: a new generation; every old handle is stale.
    expect(lib.kv_init() == 0, f"kv_init again: {last_error()!r}")
    expect(lib.kv_get(shared, b"hits") == KV_ERROR, "an old handle must be stale")
    expect("stale handle" in last_error(), f"old handle: {last_error()!r}")
    fresh = lib.kv_store_new()
    expect(lib.kv_add(fresh, "ключ".encode(), 5) == 5, last_error())
    expect(lib.kv_shutdown() == 1, "one add in the second generation")


def exit_while_waiting(kv):
    lib, last_error = kv.lib, kv.last_error
    outcome = {}

    def waiter():
        outcome["store"] = lib.kv_store_new()  # waits: kv_init never comes
        outcome["error"] = last_error()

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.2)
    expect(t.is_alive(), "the call before kv_init must wait")
    # The program is done without ever initializing: shut down so the waiter returns
    # (otherwise the interpreter would wait for that thread at exit, forever).
    expect(lib.kv_shutdown() == 0, last_error())
    t.join()
    expect(outcome["store"] == 0, "the waiter must be refused")
    expect(outcome["error"] == "crosscall: the gate is closed", f"waiter: {outcome['error']!r}")


if __name__ == "__main__":
    main()
