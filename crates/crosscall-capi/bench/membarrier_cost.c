/* What one membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) costs the calling thread, by what
 * else of the process runs (docs/PERFORMANCE.md section 13):
 *
 *   membarrier_cost alone     one thread calling it
 *   membarrier_cost spinner   one thread calling it while another spins on the other CPU
 *                             (the call interrupts that CPU: an inter-processor interrupt)
 *   membarrier_cost both      two threads calling it
 *
 * Build: cc -O2 -pthread crates/crosscall-capi/bench/membarrier_cost.c -o membarrier_cost */
#define _GNU_SOURCE
#include <linux/membarrier.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { CALLS = 20000 };
static volatile int stop;

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void *spin(void *arg) {
    (void)arg;
    while (!stop) {
    }
    return NULL;
}

static void *call(void *arg) {
    double began = now_ns();
    for (int i = 0; i < CALLS; i++) syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
    *(double *)arg = (now_ns() - began) / CALLS;
    return NULL;
}

int main(int argc, char **argv) {
    const char *mode = argc == 2 ? argv[1] : "";
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) != 0) {
        perror("membarrier register");
        return 1;
    }
    pthread_t other;
    double ns = 0, other_ns = 0;
    if (strcmp(mode, "alone") == 0) {
        call(&ns);
    } else if (strcmp(mode, "spinner") == 0) {
        pthread_create(&other, NULL, spin, NULL);
        usleep(10000); /* let it get onto the other CPU */
        call(&ns);
        stop = 1;
        pthread_join(other, NULL);
    } else if (strcmp(mode, "both") == 0) {
        pthread_create(&other, NULL, call, &other_ns);
        call(&ns);
        pthread_join(other, NULL);
    } else {
        fprintf(stderr, "usage: %s alone|spinner|both\n", argv[0]);
        return 2;
    }
    printf("membarrier %s: %.0f ns per call\n", mode, ns);
    return 0;
}
