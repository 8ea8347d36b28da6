/* LD_PRELOAD shim: times every membarrier(2) a program makes through libc's syscall() (as
 * crosscall does) and prints their count, mean and maximum at exit (docs/PERFORMANCE.md
 * section 13).
 *
 * Build: cc -O2 -shared -fPIC crates/crosscall-capi/bench/membarrier_time.c -o membarrier_time.so -ldl
 * Use:   LD_PRELOAD=$PWD/membarrier_time.so ./handle_churn churn-out 2 2000000 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>

static _Atomic long calls, total_ns, max_ns;

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

long syscall(long number, ...) {
    static long (*real)(long, ...);
    va_list ap;
    va_start(ap, number);
    long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
    long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
    va_end(ap);
    if (real == NULL) real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
    if (number != SYS_membarrier) return real(number, a, b, c, d, e, f);
    long began = now_ns();
    long result = real(number, a, b, c, d, e, f);
    long took = now_ns() - began;
    calls++;
    total_ns += took;
    long seen = max_ns;
    while (took > seen && !atomic_compare_exchange_weak(&max_ns, &seen, took)) {
    }
    return result;
}

__attribute__((destructor)) static void report(void) {
    if (calls > 0) {
        fprintf(stderr, "membarrier: %ld calls, mean %.0f ns, max %ld ns\n", (long)calls,
                (double)total_ns / (double)calls, (long)max_ns);
    }
}
