/* The deployed shape from C: the crosscall-hostbench cdylib (a Rust library whose exports go
 * through #[crosscall::export]) loaded with dlopen(), called from pthreads this file creates,
 * shut down, and unloaded with dlclose(). Only dlsym()ed symbols are used: nothing of the
 * library is linked in. */
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "check.h"

typedef int32_t (*add1_fn)(int32_t);

struct hostbench {
    void *handle;
    void (*init)(void);
    int (*shutdown)(void);
    add1_fn export_add1;
    add1_fn export_abort_add1;
    add1_fn ungated_add1;
    const char *(*last_error_message)(void);
};

/* dlsym() into a function pointer (POSIX guarantees the representation). */
#define LOOKUP(lib, field, name)                                                              \
    do {                                                                                      \
        void *sym_ = dlsym((lib)->handle, (name));                                            \
        CHECK(sym_ != NULL);                                                                  \
        memcpy(&(lib)->field, &sym_, sizeof(lib)->field);                                     \
    } while (0)

/* The calling thread's last error, as the library records it, contains `needle`. */
static int lib_error_has(const struct hostbench *lib, const char *needle) {
    const char *message = lib->last_error_message();
    return message != NULL && strstr(message, needle) != NULL;
}

enum { THREADS = 4, CALLS = 2000 };

struct caller {
    const struct hostbench *lib;
    add1_fn f;
    atomic_int *arrived;
    atomic_int *returned;
};

/* Calls f(0 .. CALLS-1) once the library admits calls; every result must be x + 1. */
static void *call_many(void *arg) {
    struct caller *c = arg;
    atomic_fetch_add(c->arrived, 1);
    int32_t first = c->f(0);
    atomic_fetch_add(c->returned, 1);
    CHECK_T(first == 1);
    for (int32_t i = 1; i < CALLS; i++) {
        CHECK_T(c->f(i) == i + 1);
    }
    return NULL;
}

/* Calls f until it is refused; before that every result is x + 1, after it the call stays
 * refused (-1) with the library's "closed" last error on this thread. */
static void *call_until_refused(void *arg) {
    struct caller *c = arg;
    atomic_fetch_add(c->arrived, 1);
    for (int32_t i = 0;; i = (i + 1) % 1000000) {
        int32_t result = c->f(i);
        if (result == -1) {
            break;
        }
        CHECK_T(result == i + 1);
    }
    CHECK_T(lib_error_has(c->lib, "closed"));
    CHECK_T(c->f(7) == -1);
    atomic_fetch_add(c->returned, 1);
    return NULL;
}

/* A refused call from a thread that never entered before (its first entry attaches it). */
static void *call_once_after_shutdown(void *arg) {
    const struct hostbench *lib = arg;
    CHECK_T(lib->export_add1(1) == -1);
    CHECK_T(lib_error_has(lib, "closed"));
    CHECK_T(lib->export_abort_add1(1) == -1);
    CHECK_T(lib->ungated_add1(1) == 2);
    return NULL;
}

int ctest_cdylib_dlopen(const char *path) {
    struct hostbench lib = {0};
    lib.handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib.handle == NULL) {
        fprintf(stderr, "dlopen(%s): %s\n", path, dlerror());
    }
    CHECK(lib.handle != NULL);
    LOOKUP(&lib, init, "hb_init");
    LOOKUP(&lib, shutdown, "hb_shutdown");
    LOOKUP(&lib, export_add1, "hb_export_add1");
    LOOKUP(&lib, export_abort_add1, "hb_export_abort_add1");
    LOOKUP(&lib, ungated_add1, "hb_ungated_add1");
    LOOKUP(&lib, last_error_message, "crosscall_last_error_message");

    /* Before hb_init: callers on C threads wait; none is admitted. */
    atomic_int arrived = 0, returned = 0;
    struct caller callers[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        callers[i] = (struct caller){&lib, i % 2 ? lib.export_abort_add1 : lib.export_add1,
                                     &arrived, &returned};
        CHECK(pthread_create(&t[i], NULL, call_many, &callers[i]) == 0);
    }
    while (atomic_load(&arrived) < THREADS) sleep_ms(1);
    sleep_ms(20); /* give a broken gate the chance to admit early */
    CHECK(atomic_load(&returned) == 0);

    lib.init();
    for (int i = 0; i < THREADS; i++) JOIN_CHECK(t[i]);
    CHECK(atomic_load(&returned) == THREADS);

    /* Shutdown while C threads are calling: it drains them; afterwards every call is refused. */
    atomic_store(&arrived, 0);
    atomic_store(&returned, 0);
    for (int i = 0; i < THREADS; i++) {
        CHECK(pthread_create(&t[i], NULL, call_until_refused, &callers[i]) == 0);
    }
    while (atomic_load(&arrived) < THREADS) sleep_ms(1);
    sleep_ms(5);
    CHECK(lib.shutdown() == 0);
    CHECK(lib.shutdown() == 0); /* closing a closed library is done already */
    for (int i = 0; i < THREADS; i++) JOIN_CHECK(t[i]);
    CHECK(atomic_load(&returned) == THREADS);

    /* Refused on this thread and on a fresh one; the ungated export still works. */
    CHECK(lib.export_add1(41) == -1);
    CHECK(lib_error_has(&lib, "closed"));
    pthread_t late;
    CHECK(pthread_create(&late, NULL, call_once_after_shutdown, &lib) == 0);
    JOIN_CHECK(late);

    CHECK(dlclose(lib.handle) == 0);
    return 0;
}
