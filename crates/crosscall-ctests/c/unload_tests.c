/* Unload: a library built on crosscall is dlopen()ed, called from C threads, shut down and
 * dlclose()d, cycle after cycle, while some threads that called it stay alive (idle) across
 * cycles and exit only at the end. Their exit runs crosscall's pthread key destructor, which
 * lives in the library: crosscall pins its object on the first thread state it creates (see
 * crates/crosscall/src/gate/pin.rs), so the destructor is still mapped, no key is used up per
 * cycle, and memory stays bounded. Two libraries are cycled: crosscall-hostbench (gated
 * #[crosscall::export] functions) and the C API library itself (crosscall_gate_* by dlsym). */
#include <dlfcn.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "crosscall.h"

enum { LONG_LIVED = 4, CALLS = 20 };

/* One unit of work the threads run against the library loaded in the current cycle:
 * returns 0 or the failed line. */
typedef int (*work_fn)(void *ctx);

struct crew {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    unsigned round; /* bumped by the main thread to start a round */
    unsigned done;  /* long-lived threads that finished the current round */
    int quit;
    int failed_line; /* first failure reported by a thread */
    work_fn work;
    void *ctx;
};

static void crew_report(struct crew *crew, int line) {
    if (line != 0) {
        pthread_mutex_lock(&crew->lock);
        if (crew->failed_line == 0) crew->failed_line = line;
        pthread_mutex_unlock(&crew->lock);
    }
}

/* Alive across every cycle: runs each round's work, then waits, idle, while the main thread
 * shuts the library down and unloads it. Exits only after the last dlclose(). */
static void *long_lived(void *arg) {
    struct crew *crew = arg;
    unsigned seen = 0;
    for (;;) {
        pthread_mutex_lock(&crew->lock);
        while (crew->round == seen && !crew->quit) pthread_cond_wait(&crew->changed, &crew->lock);
        if (crew->quit) {
            pthread_mutex_unlock(&crew->lock);
            return NULL;
        }
        seen = crew->round;
        work_fn work = crew->work;
        void *ctx = crew->ctx;
        pthread_mutex_unlock(&crew->lock);

        crew_report(crew, work(ctx));

        pthread_mutex_lock(&crew->lock);
        crew->done++;
        pthread_cond_broadcast(&crew->changed);
        pthread_mutex_unlock(&crew->lock);
    }
}

/* Lives for one cycle: its first entry attaches it; it exits while the library is loaded. */
static void *short_lived(void *arg) {
    struct crew *crew = arg;
    crew_report(crew, crew->work(crew->ctx));
    return NULL;
}

/* Runs one round of `work` on every long-lived thread and on one fresh thread; returns the
 * first failed line (0: none). */
static int crew_round(struct crew *crew, work_fn work, void *ctx) {
    pthread_mutex_lock(&crew->lock);
    crew->work = work;
    crew->ctx = ctx;
    crew->done = 0;
    crew->round++;
    pthread_cond_broadcast(&crew->changed);
    pthread_mutex_unlock(&crew->lock);

    pthread_t fresh;
    CHECK(pthread_create(&fresh, NULL, short_lived, crew) == 0);
    CHECK(pthread_join(fresh, NULL) == 0);

    pthread_mutex_lock(&crew->lock);
    while (crew->done < LONG_LIVED) pthread_cond_wait(&crew->changed, &crew->lock);
    int failed = crew->failed_line;
    pthread_mutex_unlock(&crew->lock);
    return failed;
}

#define LOOKUP(handle, var, name)                                                             \
    do {                                                                                      \
        void *sym_ = dlsym((handle), (name));                                                 \
        CHECK(sym_ != NULL);                                                                  \
        memcpy(&(var), &sym_, sizeof(var));                                                   \
    } while (0)

/* ---- crosscall-hostbench: #[crosscall::export] functions behind the library's gate ---- */

typedef int32_t (*add1_fn)(int32_t);

static int call_add1(void *ctx) {
    add1_fn add1;
    memcpy(&add1, ctx, sizeof add1);
    for (int32_t i = 0; i < CALLS; i++) {
        if (add1(i) != i + 1) {
            fprintf(stderr, "%s:%d: add1(%d) != %d\n", __FILE__, __LINE__, i, i + 1);
            return __LINE__;
        }
    }
    return 0;
}

static int hostbench_cycle(const char *path, struct crew *crew) {
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) fprintf(stderr, "dlopen(%s): %s\n", path, dlerror());
    CHECK(lib != NULL);
    void (*init)(void);
    int (*shutdown)(void);
    add1_fn add1;
    LOOKUP(lib, init, "hb_init");
    LOOKUP(lib, shutdown, "hb_shutdown");
    LOOKUP(lib, add1, "hb_export_add1");

    init(); /* opens, or reopens after the previous cycle's shutdown */
    int failed = crew_round(crew, call_add1, &add1);
    if (failed != 0) return failed;
    CHECK(shutdown() == 0);
    CHECK(add1(1) == -1); /* refused after shutdown */
    CHECK(dlclose(lib) == 0);
    return 0;
}

/* ---- the C API library: a gate per cycle, created, entered, closed and freed ---- */

struct capi {
    crosscall_gate *(*gate_new)(void);
    int (*gate_open)(crosscall_gate *);
    int (*gate_enter)(crosscall_gate *);
    void (*gate_leave)(crosscall_gate *);
    int (*gate_close)(crosscall_gate *);
    void (*gate_free)(crosscall_gate *);
    crosscall_gate *gate;
};

static int enter_leave(void *ctx) {
    const struct capi *api = ctx;
    for (int i = 0; i < CALLS; i++) {
        if (api->gate_enter(api->gate) != CROSSCALL_OK) {
            fprintf(stderr, "%s:%d: enter refused\n", __FILE__, __LINE__);
            return __LINE__;
        }
        api->gate_leave(api->gate);
    }
    return 0;
}

static int capi_cycle(const char *path, struct crew *crew) {
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) fprintf(stderr, "dlopen(%s): %s\n", path, dlerror());
    CHECK(lib != NULL);
    struct capi api;
    LOOKUP(lib, api.gate_new, "crosscall_gate_new");
    LOOKUP(lib, api.gate_open, "crosscall_gate_open");
    LOOKUP(lib, api.gate_enter, "crosscall_gate_enter");
    LOOKUP(lib, api.gate_leave, "crosscall_gate_leave");
    LOOKUP(lib, api.gate_close, "crosscall_gate_close");
    LOOKUP(lib, api.gate_free, "crosscall_gate_free");

    api.gate = api.gate_new();
    CHECK(api.gate != NULL);
    CHECK(api.gate_open(api.gate) == CROSSCALL_OK);
    int failed = crew_round(crew, enter_leave, &api);
    if (failed != 0) return failed;
    CHECK(api.gate_close(api.gate) == CROSSCALL_OK);
    api.gate_free(api.gate);
    CHECK(dlclose(lib) == 0);
    return 0;
}

/* Bytes in use in the main thread's malloc arena, where dlopen()/dlclose() and the gates
 * allocate (0 where mallinfo2 reports nothing, e.g. under valgrind). */
static size_t heap_in_use(void) {
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

int ctest_unload_cycles_with_threads_alive(const char *hostbench, const char *capi, int cycles) {
    struct crew crew = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};
    pthread_t threads[LONG_LIVED];
    for (int i = 0; i < LONG_LIVED; i++) {
        CHECK(pthread_create(&threads[i], NULL, long_lived, &crew) == 0);
    }

    size_t heap_after_warmup = 0;
    for (int cycle = 0; cycle < cycles; cycle++) {
        int failed = hostbench_cycle(hostbench, &crew);
        if (failed == 0) failed = capi_cycle(capi, &crew);
        if (failed != 0) {
            fprintf(stderr, "unload cycle %d failed at line %d\n", cycle, failed);
            return failed;
        }
        if (cycle == cycles / 10) heap_after_warmup = heap_in_use();
    }
    /* Bounded: whatever the first tenth of the cycles allocated is reused by the rest (a
     * leak of even one small block per cycle would show as tens of KB here). */
    size_t heap_at_end = heap_in_use();
    if (heap_at_end > heap_after_warmup + 64 * 1024) {
        fprintf(stderr, "heap grew from %zu to %zu bytes over the cycles\n", heap_after_warmup,
                heap_at_end);
    }
    CHECK(heap_at_end <= heap_after_warmup + 64 * 1024);

    /* The long-lived threads exit now, long after their last call and after the last
     * dlclose(): their crosscall state is released by the (still mapped) key destructor. */
    pthread_mutex_lock(&crew.lock);
    crew.quit = 1;
    pthread_cond_broadcast(&crew.changed);
    pthread_mutex_unlock(&crew.lock);
    for (int i = 0; i < LONG_LIVED; i++) CHECK(pthread_join(threads[i], NULL) == 0);

    /* Documented behaviour: both libraries stay mapped (pinned), so a NOLOAD open finds them. */
    void *pinned = dlopen(hostbench, RTLD_NOW | RTLD_NOLOAD);
    CHECK(pinned != NULL);
    CHECK(dlclose(pinned) == 0);
    pinned = dlopen(capi, RTLD_NOW | RTLD_NOLOAD);
    CHECK(pinned != NULL);
    CHECK(dlclose(pinned) == 0);

    /* No pthread key was used up per cycle. */
    pthread_key_t key;
    CHECK(pthread_key_create(&key, NULL) == 0);
    CHECK(pthread_key_delete(key) == 0);
    return 0;
}
