/* A C host for libcrosscall_kit_fixture.so: loads it with dlopen() and checks, from C
 * threads, what a library built from crosscall's kit promises its C callers.
 *
 *   kit_host LIB.so panics MODE   error values by type, Poison, the last error for C;
 *                                  MODE is kit_init's panic output (0 stderr, 1 quiet,
 *                                  2 log callback; the caller checks stderr)
 *   kit_host LIB.so logs           the log callback: levels, C threads, never after off
 *
 * Exits 0 when every check passed; prints the failed check and exits 1 otherwise. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stdout, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);       \
            exit(1);                                                                       \
        }                                                                                  \
    } while (0)

typedef void (*log_fn)(int level, const char *target, const char *message, void *user);

static int (*kit_init)(int);
static int (*kit_shutdown)(void);
static const char *(*kit_name)(int);
static bool (*kit_check)(int);
static void (*kit_touch)(int);
static int (*kit_add)(int, int);
static void (*kit_log)(int, int);
static const char *(*kit_last_error)(void);
static int (*kit_set_log_callback)(log_fn, void *, int);

static void *symbol(void *lib, const char *name) {
    void *s = dlsym(lib, name);
    if (!s) {
        fprintf(stdout, "missing symbol %s: %s\n", name, dlerror());
        exit(1);
    }
    return s;
}

static void load(const char *path) {
    void *lib = dlopen(path, RTLD_NOW);
    if (!lib) {
        fprintf(stdout, "dlopen %s: %s\n", path, dlerror());
        exit(1);
    }
    *(void **)&kit_init = symbol(lib, "kit_init");
    *(void **)&kit_shutdown = symbol(lib, "kit_shutdown");
    *(void **)&kit_name = symbol(lib, "kit_name");
    *(void **)&kit_check = symbol(lib, "kit_check");
    *(void **)&kit_touch = symbol(lib, "kit_touch");
    *(void **)&kit_add = symbol(lib, "kit_add");
    *(void **)&kit_log = symbol(lib, "kit_log");
    *(void **)&kit_last_error = symbol(lib, "kit_last_error");
    *(void **)&kit_set_log_callback = symbol(lib, "kit_set_log_callback");
}

static bool last_error_has(const char *part) {
    const char *e = kit_last_error();
    if (!e || !strstr(e, part)) {
        fprintf(stdout, "last error %s%s%s lacks \"%s\"\n", e ? "\"" : "", e ? e : "NULL",
                e ? "\"" : "", part);
        return false;
    }
    return true;
}

/* ---- panics ------------------------------------------------------------------------ */

static atomic_int panic_logs;

static void count_panic_logs(int level, const char *target, const char *message, void *user) {
    (void)user;
    if (level == 1 && strcmp(target, "kit::panic") == 0 && strstr(message, "asked to fail"))
        atomic_fetch_add(&panic_logs, 1);
}

/* Runs on a C thread: refusal after the poisoning panic happened on another thread. */
static void *poisoned_call(void *arg) {
    (void)arg;
    CHECK(kit_last_error() == NULL); /* a new thread has no last error */
    CHECK(kit_check(0) == false);
    CHECK(last_error_has("Poison"));
    CHECK(last_error_has("kit_name panicked: kit_name was asked to fail"));
    return NULL;
}

static int panics(int mode) {
    if (mode == 2)
        CHECK(kit_set_log_callback(count_panic_logs, NULL, 1) == 0);
    CHECK(kit_init(mode) == 0);
    CHECK(kit_last_error() == NULL);
    CHECK(strcmp(kit_name(0), "kit") == 0);
    CHECK(kit_check(0) == true);
    kit_touch(0);
    CHECK(kit_add(2, 3) == 5);
    CHECK(kit_add(2147483647, 1) == -1); /* an Err: not a panic, no poisoning */
    CHECK(last_error_has("overflows"));
    CHECK(kit_check(0) == true);

    /* A pointer-returning export panics: NULL, and the gate is poisoned. */
    CHECK(kit_name(1) == NULL);
    CHECK(last_error_has("kit_name panicked: kit_name was asked to fail"));
    CHECK(kit_name(0) == NULL);
    CHECK(last_error_has("refused after a panic"));
    CHECK(kit_add(1, 1) == -1);
    kit_touch(0); /* refused: nothing to check but that it returns */
    pthread_t t;
    CHECK(pthread_create(&t, NULL, poisoned_call, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);

    /* Closed and reopened: admitted again. A bool-returning export panics: false. */
    CHECK(kit_shutdown() == 0);
    CHECK(kit_init(mode) == 0);
    CHECK(kit_check(0) == true);
    CHECK(kit_check(1) == false);
    CHECK(last_error_has("kit_check panicked"));
    CHECK(kit_check(0) == false);

    /* A unit export panics: returns, last error set. */
    CHECK(kit_shutdown() == 0);
    CHECK(kit_init(mode) == 0);
    kit_touch(1);
    CHECK(last_error_has("kit_touch panicked"));
    CHECK(kit_name(0) == NULL);
    CHECK(kit_shutdown() == 0);

    if (mode == 2) {
        CHECK(atomic_load(&panic_logs) == 3);
        CHECK(kit_set_log_callback(NULL, NULL, 0) == 0);
    }
    printf("panics: ok\n");
    return 0;
}

/* ---- logs -------------------------------------------------------------------------- */

enum { THREADS = 4, RECORDS = 200 };

static atomic_int by_level[6];
static atomic_int bad_records;
static atomic_int after_off;  /* calls of a callback after the setter that removed it returned */
static atomic_int removed;    /* set right after the setter returned */
static atomic_int stop;
static atomic_int watched;    /* calls of the watching callback (the check above is not vacuous) */

static void counting(int level, const char *target, const char *message, void *user) {
    if (user != (void *)&by_level || level < 1 || level > 5 || strcmp(target, "kit") != 0 ||
        strncmp(message, "kit record ", 11) != 0)
        atomic_fetch_add(&bad_records, 1);
    else
        atomic_fetch_add(&by_level[level], 1);
}

static void *log_all_levels(void *arg) {
    (void)arg;
    for (int level = 1; level <= 5; level++)
        kit_log(level, RECORDS);
    return NULL;
}

static void watching(int level, const char *target, const char *message, void *user) {
    (void)level, (void)target, (void)message, (void)user;
    atomic_fetch_add(&watched, 1);
    if (atomic_load(&removed))
        atomic_fetch_add(&after_off, 1);
    /* Stay inside a little, so the setter has calls to wait for. */
    struct timespec pause = {0, 20000};
    nanosleep(&pause, NULL);
}

static void *log_until_stopped(void *arg) {
    (void)arg;
    while (!atomic_load(&stop))
        kit_log(3, 10);
    return NULL;
}

static void reentrant(int level, const char *target, const char *message, void *user) {
    (void)level, (void)target, (void)message;
    /* From inside the callback: refused (it would wait for itself). */
    *(int *)user = kit_set_log_callback(NULL, NULL, 0);
}

static int logs(void) {
    CHECK(kit_init(1) == 0);
    CHECK(kit_set_log_callback(counting, &by_level, 9) == -1);
    CHECK(last_error_has("max_level 9"));

    /* Records up to max_level 3 (info) reach the callback, from every C thread. */
    CHECK(kit_set_log_callback(counting, &by_level, 3) == 0);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, log_all_levels, NULL) == 0);
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_join(t[i], NULL) == 0);
    CHECK(atomic_load(&bad_records) == 0);
    for (int level = 1; level <= 3; level++)
        CHECK(atomic_load(&by_level[level]) == THREADS * RECORDS);
    CHECK(atomic_load(&by_level[4]) == 0);
    CHECK(atomic_load(&by_level[5]) == 0);

    /* Off: nothing more arrives. */
    CHECK(kit_set_log_callback(NULL, NULL, 0) == 0);
    int before = atomic_load(&by_level[1]);
    kit_log(1, 10);
    CHECK(atomic_load(&by_level[1]) == before);

    /* Never after the setter that turned it off returned, while C threads keep logging. */
    for (int round = 0; round < 20; round++) {
        atomic_store(&removed, 0);
        atomic_store(&stop, 0);
        CHECK(kit_set_log_callback(watching, NULL, 5) == 0);
        for (int i = 0; i < THREADS; i++)
            CHECK(pthread_create(&t[i], NULL, log_until_stopped, NULL) == 0);
        struct timespec pause = {0, 2000000};
        nanosleep(&pause, NULL);
        CHECK(kit_set_log_callback(NULL, NULL, 0) == 0);
        atomic_store(&removed, 1);
        nanosleep(&pause, NULL);
        atomic_store(&stop, 1);
        for (int i = 0; i < THREADS; i++)
            CHECK(pthread_join(t[i], NULL) == 0);
    }
    CHECK(atomic_load(&after_off) == 0);
    CHECK(atomic_load(&watched) > 0);

    /* The setter from inside the callback is refused, and the callback stays set. */
    int from_inside = 1;
    CHECK(kit_set_log_callback(reentrant, &from_inside, 1) == 0);
    kit_log(1, 1);
    CHECK(from_inside == -2);
    CHECK(kit_set_log_callback(NULL, NULL, 0) == 0);
    CHECK(kit_shutdown() == 0);
    printf("logs: ok\n");
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s LIB.so panics MODE | logs\n", argv[0]);
        return 2;
    }
    load(argv[1]);
    if (strcmp(argv[2], "panics") == 0 && argc == 4)
        return panics(atoi(argv[3]));
    if (strcmp(argv[2], "logs") == 0)
        return logs();
    fprintf(stderr, "unknown scenario %s\n", argv[2]);
    return 2;
}
