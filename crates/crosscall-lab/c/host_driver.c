/*
 * host_driver: a C host calling an `int32_t f(int32_t)` from threads it creates itself, the
 * way a C program uses a library written with crosscall. `crosscall-lab deployed` compiles
 * it with the system C compiler and runs it once per shape; it also runs on its own:
 *
 *   host_driver [-t THREADS] [-n CALLS] [-r REPEAT] [-w WARMUP] MODE ...
 *
 * MODE:
 *   local                             a plain C function in this program, through a
 *                                     function pointer: the cost of the loop itself
 *   dlopen LIB SYMBOL [INIT_SYMBOL]   dlopen() LIB, call INIT_SYMBOL (void (*)(void)) if
 *                                     given, then call SYMBOL
 *   capi                              (built with -DHOST_DRIVER_CAPI, linked against
 *                                     libcrosscall_capi.so) x + 1 inside
 *                                     crosscall_gate_enter(g) / crosscall_gate_leave(g) on a
 *                                     gate main() created and opened
 *   capi-state                        (the same build) x + *state inside
 *                                     crosscall_gate_enter_state(g, &state) / leave, on a
 *                                     gate opened with crosscall_gate_open_state(g, &one)
 *   pair                              (the same build, also linked against
 *                                     libcrosscall_lab_pair.so) x + 1 inside
 *                                     trivial_pair_enter(h) / trivial_pair_leave(h): two
 *                                     trivial calls into a shared library, the yardstick
 *                                     for the capi pair (trivial_pair.h)
 *
 * Each thread makes WARMUP calls (its first entry attaches it), waits at a barrier, then
 * makes CALLS calls in a tight loop timed with clock_gettime(CLOCK_MONOTONIC). The results
 * are summed and checked against the closed form, so no call can be optimized out and a
 * refused call (-1) fails the run. Per repeat it prints one line:
 *
 *   repeat R slowest_ns_per_call X threads_ns_per_call A B ...
 *
 * and at the end `median_slowest_ns_per_call X` (the median over repeats of the slowest
 * thread). Exit status 0 on success, 1 on a failed check, 2 on bad usage.
 */
#define _POSIX_C_SOURCE 200809L

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef HOST_DRIVER_CAPI
#include "crosscall.h"
#include "trivial_pair.h"
#endif

typedef int32_t (*add1_fn)(int32_t);

/* Read once per thread through a volatile, so the compiler cannot see which function it is
 * and inline or hoist it: every shape pays the same indirect call. */
static add1_fn volatile target;

static pthread_barrier_t start_line;
static long calls_per_thread;
static long warmup_calls;

#define DIE(...)                                                                               \
    do {                                                                                       \
        fprintf(stderr, "host_driver: " __VA_ARGS__);                                          \
        fputc('\n', stderr);                                                                   \
        exit(1);                                                                               \
    } while (0)

__attribute__((noinline)) static int32_t local_add1(int32_t x) { return x + 1; }

#ifdef HOST_DRIVER_CAPI
static crosscall_gate *capi_gate;

/* The shape of a C library guarding its body with the C API. */
__attribute__((noinline)) static int32_t capi_add1(int32_t x) {
    if (crosscall_gate_enter(capi_gate) != CROSSCALL_OK) {
        return -1;
    }
    int32_t result = x + 1;
    crosscall_gate_leave(capi_gate);
    return result;
}

/* The same with library state: the 1 is read from the state the gate hands out. */
static int32_t capi_one = 1;

__attribute__((noinline)) static int32_t capi_state_add1(int32_t x) {
    void *state;
    if (crosscall_gate_enter_state(capi_gate, &state) != CROSSCALL_OK) {
        return -1;
    }
    int32_t result = x + *(const int32_t *)state;
    crosscall_gate_leave(capi_gate);
    return result;
}

/* The same shape around the trivial pair: what any two calls into a library cost. */
static const int pair_object = 0;
static const void *pair_handle;

__attribute__((noinline)) static int32_t pair_add1(int32_t x) {
    if (trivial_pair_enter(pair_handle) != 0) {
        return -1;
    }
    int32_t result = x + 1;
    trivial_pair_leave(pair_handle);
    return result;
}
#endif

struct worker {
    pthread_t thread;
    double ns_per_call;
};

static double now_ns(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        DIE("clock_gettime: %s", strerror(errno));
    }
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Calls f(0) .. f(n - 1) and checks that the results sum to 1 + 2 + ... + n. */
static void call_and_check(add1_fn f, long n, const char *what) {
    int64_t sum = 0;
    for (int32_t i = 0; i < (int32_t)n; i++) {
        sum += f(i);
    }
    int64_t want = (int64_t)n * (n + 1) / 2;
    if (sum != want) {
        DIE("%s: the results sum to %" PRId64 ", expected %" PRId64
            " (a call was refused or returned a wrong value)",
            what, sum, want);
    }
}

static void *worker_main(void *arg) {
    struct worker *self = arg;
    add1_fn f = target;
    call_and_check(f, warmup_calls, "warm-up");
    int rc = pthread_barrier_wait(&start_line);
    if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD) {
        DIE("pthread_barrier_wait: %s", strerror(rc));
    }
    double start = now_ns();
    call_and_check(f, calls_per_thread, "timed loop");
    self->ns_per_call = (now_ns() - start) / (double)calls_per_thread;
    return NULL;
}

/* One repeat: THREADS threads, returns the slowest thread's ns per call. */
static double run_once(struct worker *workers, long threads) {
    int rc = pthread_barrier_init(&start_line, NULL, (unsigned)threads);
    if (rc != 0) {
        DIE("pthread_barrier_init: %s", strerror(rc));
    }
    for (long t = 0; t < threads; t++) {
        rc = pthread_create(&workers[t].thread, NULL, worker_main, &workers[t]);
        if (rc != 0) {
            DIE("pthread_create: %s", strerror(rc));
        }
    }
    double slowest = 0.0;
    for (long t = 0; t < threads; t++) {
        rc = pthread_join(workers[t].thread, NULL);
        if (rc != 0) {
            DIE("pthread_join: %s", strerror(rc));
        }
        if (workers[t].ns_per_call > slowest) {
            slowest = workers[t].ns_per_call;
        }
    }
    pthread_barrier_destroy(&start_line);
    return slowest;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void usage(const char *why) {
    fprintf(stderr,
            "host_driver: %s\n"
            "usage: host_driver [-t THREADS] [-n CALLS] [-r REPEAT] [-w WARMUP] MODE ...\n"
            "  MODE: local | dlopen LIB SYMBOL [INIT_SYMBOL]"
#ifdef HOST_DRIVER_CAPI
            " | capi | capi-state | pair"
#endif
            "\n",
            why);
    exit(2);
}

static long parse_count(const char *text, const char *what, long min, long max) {
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < min || value > max) {
        char why[160];
        snprintf(why, sizeof why, "%s must be a whole number in %ld..=%ld, got '%s'", what, min,
                 max, text);
        usage(why);
    }
    return value;
}

int main(int argc, char **argv) {
    long threads = 1, repeat = 1;
    calls_per_thread = 10000000;
    warmup_calls = 1000;
    int opt;
    while ((opt = getopt(argc, argv, "t:n:r:w:")) != -1) {
        switch (opt) {
        case 't': threads = parse_count(optarg, "-t THREADS", 1, 4096); break;
        /* The results of 0 .. CALLS - 1 plus one must fit an int32_t. */
        case 'n': calls_per_thread = parse_count(optarg, "-n CALLS", 1, INT32_MAX - 1); break;
        case 'r': repeat = parse_count(optarg, "-r REPEAT", 1, 1000); break;
        case 'w': warmup_calls = parse_count(optarg, "-w WARMUP", 0, INT32_MAX - 1); break;
        default: usage("unknown option");
        }
    }
    if (optind >= argc) {
        usage("no MODE given");
    }
    const char *mode = argv[optind];
    char **rest = argv + optind + 1;
    int nrest = argc - optind - 1;

    if (strcmp(mode, "local") == 0) {
        if (nrest != 0) {
            usage("local takes no arguments");
        }
        target = local_add1;
    } else if (strcmp(mode, "dlopen") == 0) {
        if (nrest < 2 || nrest > 3) {
            usage("dlopen takes LIB SYMBOL [INIT_SYMBOL]");
        }
        void *lib = dlopen(rest[0], RTLD_NOW | RTLD_LOCAL);
        if (lib == NULL) {
            DIE("dlopen(%s): %s", rest[0], dlerror());
        }
        /* POSIX's way to turn dlsym's void * into a function pointer. */
        add1_fn f;
        void *sym = dlsym(lib, rest[1]);
        if (sym == NULL) {
            DIE("dlsym(%s): %s", rest[1], dlerror());
        }
        memcpy(&f, &sym, sizeof f);
        target = f;
        if (nrest == 3) {
            void (*init)(void);
            void *init_sym = dlsym(lib, rest[2]);
            if (init_sym == NULL) {
                DIE("dlsym(%s): %s", rest[2], dlerror());
            }
            memcpy(&init, &init_sym, sizeof init);
            init();
        }
        /* Not dlclose()d: the library stays until exit, as a host's plugins usually do. */
    } else if (strcmp(mode, "capi") == 0) {
#ifdef HOST_DRIVER_CAPI
        if (nrest != 0) {
            usage("capi takes no arguments");
        }
        capi_gate = crosscall_gate_new();
        if (capi_gate == NULL || crosscall_gate_open(capi_gate) != CROSSCALL_OK) {
            DIE("creating and opening a gate failed: %s", crosscall_last_error_message());
        }
        target = capi_add1;
#else
        usage("this host_driver was built without the C API (-DHOST_DRIVER_CAPI)");
#endif
    } else if (strcmp(mode, "capi-state") == 0) {
#ifdef HOST_DRIVER_CAPI
        if (nrest != 0) {
            usage("capi-state takes no arguments");
        }
        capi_gate = crosscall_gate_new();
        if (capi_gate == NULL ||
            crosscall_gate_open_state(capi_gate, &capi_one, NULL) != CROSSCALL_OK) {
            DIE("creating and opening a gate failed: %s", crosscall_last_error_message());
        }
        target = capi_state_add1;
#else
        usage("this host_driver was built without the C API (-DHOST_DRIVER_CAPI)");
#endif
    } else if (strcmp(mode, "pair") == 0) {
#ifdef HOST_DRIVER_CAPI
        if (nrest != 0) {
            usage("pair takes no arguments");
        }
        pair_handle = &pair_object;
        target = pair_add1;
#else
        usage("this host_driver was built without the C API (-DHOST_DRIVER_CAPI)");
#endif
    } else {
        usage("unknown MODE");
    }

    struct worker *workers = calloc((size_t)threads, sizeof *workers);
    double *slowest = calloc((size_t)repeat, sizeof *slowest);
    if (workers == NULL || slowest == NULL) {
        DIE("out of memory");
    }
    for (long r = 0; r < repeat; r++) {
        slowest[r] = run_once(workers, threads);
        printf("repeat %ld slowest_ns_per_call %.4f threads_ns_per_call", r + 1, slowest[r]);
        for (long t = 0; t < threads; t++) {
            printf(" %.4f", workers[t].ns_per_call);
        }
        printf("\n");
    }
    qsort(slowest, (size_t)repeat, sizeof *slowest, compare_doubles);
    printf("median_slowest_ns_per_call %.4f\n", slowest[repeat / 2]);

#ifdef HOST_DRIVER_CAPI
    if (capi_gate != NULL) {
        if (crosscall_gate_close(capi_gate) != CROSSCALL_OK) {
            DIE("closing the gate failed: %s", crosscall_last_error_message());
        }
        crosscall_gate_free(capi_gate);
    }
#endif
    free(slowest);
    free(workers);
    return 0;
}
