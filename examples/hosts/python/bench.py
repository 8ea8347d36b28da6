"""Per-call cost of a gated export from Python, beside the same function ungated.

    HOSTBENCH_LIB=.../libcrosscall_hostbench.so python3 bench.py   # or: run.sh --bench
    HOSTBENCH_LIB=... python3 bench.py count ctypes|cffi ungated|gated CALLS
                                        # just CALLS calls, for callgrind (run.sh --count)

Calls `hb_ungated_add1` and `hb_export_add1` (crates/crosscall-hostbench: body `x + 1`,
the second behind #[crosscall::export]) through ctypes and cffi, from 1 and 2 threads.
Rounds interleave the two functions (ABBA order), so load drift hits both alike; prints the
median ns per call of each, the median per-round difference and the ratio. With 2 threads,
a round's figure is the slower thread's (both run at once; the GIL serializes them).
"""

import ctypes
import os
import statistics
import sys
import threading
import time

from cffi import FFI

ROUNDS = int(os.environ.get("ROUNDS", "21"))
CALLS = int(os.environ.get("CALLS", "200000"))
path = os.environ["HOSTBENCH_LIB"]


def ctypes_functions():
    lib = ctypes.CDLL(path)
    for name in ("hb_ungated_add1", "hb_export_add1"):
        getattr(lib, name).restype = ctypes.c_int32
        getattr(lib, name).argtypes = [ctypes.c_int32]
    lib.hb_init()
    return lib.hb_ungated_add1, lib.hb_export_add1


def cffi_functions():
    ffi = FFI()
    ffi.cdef("int32_t hb_ungated_add1(int32_t); int32_t hb_export_add1(int32_t); void hb_init(void);")
    lib = ffi.dlopen(path)
    lib.hb_init()
    return lib.hb_ungated_add1, lib.hb_export_add1


def ns_per_call(function):
    x = 0
    start = time.perf_counter_ns()
    for _ in range(CALLS):
        x = function(x)
    elapsed = time.perf_counter_ns() - start
    if x != CALLS:
        sys.exit(f"wrong result {x}")
    return elapsed / CALLS


def measure(functions, threads):
    """Per round: (ungated ns, gated ns), each the slowest thread's."""
    barrier = threading.Barrier(threads)
    per_thread = [[] for _ in range(threads)]

    def worker(i):
        for r in range(ROUNDS):
            order = (0, 1) if r % 2 == 0 else (1, 0)
            figures = [0.0, 0.0]
            for which in order:
                barrier.wait()
                figures[which] = ns_per_call(functions[which])
            per_thread[i].append(tuple(figures))

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return [
        (max(t[r][0] for t in per_thread), max(t[r][1] for t in per_thread))
        for r in range(ROUNDS)
    ]


def count(binding, shape, calls):
    functions = ctypes_functions() if binding == "ctypes" else cffi_functions()
    function = functions[("ungated", "gated").index(shape)]
    x = 0
    for _ in range(calls):
        x = function(x)
    if x != calls:
        sys.exit(f"wrong result {x}")


def main():
    if sys.argv[1:2] == ["count"]:
        count(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    print(f"# python {sys.version.split()[0]}, {ROUNDS} rounds x {CALLS} calls, ns per call")
    print(f"{'host':<16}{'threads':>8}{'ungated':>10}{'gated':>10}{'delta':>9}{'ratio':>8}")
    for name, functions in (("python ctypes", ctypes_functions()), ("python cffi", cffi_functions())):
        for threads in (1, 2):
            rounds = measure(functions, threads)
            u = statistics.median(r[0] for r in rounds)
            g = statistics.median(r[1] for r in rounds)
            d = statistics.median(r[1] - r[0] for r in rounds)
            print(f"{name:<16}{threads:>8}{u:>10.1f}{g:>10.1f}{d:>+9.1f}{g / u:>8.3f}")


if __name__ == "__main__":
    main()
