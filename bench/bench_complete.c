/*
 * gp_bench_complete: completions per second through the C ABI alone, gp_host_complete_promise
 * from several threads: the baseline that bench/bench_http.py sets the HTTP endpoint against
 * (the same promises, payloads and number of clients, on the same kind of host).
 *
 * A fresh host gets --requests pending promises of one worker (a file host creates them at
 * synchronous NORMAL, then is reopened with the default, FULL, so each completion is durable as
 * an HTTP 200 true is), then --clients threads complete them, promise i by thread i mod clients,
 * each checked to complete (*out == 1).  Only the completions are timed: from the first thread's
 * start after a barrier to the last thread's end.
 *
 * Usage: gp_bench_complete [--host memory|file] [--requests N] [--clients K]
 *                          [--payload-bytes B] [--dir DIR]
 * Prints one line for scripts:
 *   RESULT complete_c host=memory requests=N clients=K payload_bytes=B seconds=S per_s=R us=U cpu_us=C
 * (cpu_us: the process's CPU time, all threads, per completion)
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sys/resource.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "golem_promise.h"

#define COMPONENT "1a2b3c4d-0000-4000-8000-00000000beef"
#define WORKER_NAME "bench-http"

static struct {
    int file;
    long requests;
    int clients;
    size_t payload_len;
    const char *dir;
} cfg = {0, 20000, 4, 16, "."};

static gp_host *g_host;
static gp_promise_id_t *g_ids;
static uint8_t g_payload[4096];
static pthread_barrier_t g_start;
static double *g_began, *g_ended; /* per thread: its first and last completion's times */

static double cpu_s(void) { /* this process, all threads */
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec * 1e-6;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void check(int rc, const char *what) {
    if (rc == GP_OK) return;
    fprintf(stderr, "gp_bench_complete: %s failed: %s (%s)\n", what, gp_errstr(rc), gp_last_error_message());
    exit(2);
}

static void remove_db(const char *path) {
    static const char *const kSuffix[] = {"", "-wal", "-shm", "-journal", "-gpwake"};
    char name[4200];
    for (size_t i = 0; i < sizeof kSuffix / sizeof kSuffix[0]; ++i) {
        snprintf(name, sizeof name, "%s%s", path, kSuffix[i]);
        unlink(name);
    }
}

static void *client(void *arg) {
    const long first = (long)(intptr_t)arg;
    pthread_barrier_wait(&g_start);
    g_began[first] = now_s();
    for (long i = first; i < cfg.requests; i += cfg.clients) {
        int completed = 0;
        check(gp_host_complete_promise(&completed, g_host, &g_ids[i], g_payload, cfg.payload_len),
              "gp_host_complete_promise");
        if (!completed) {
            fprintf(stderr, "gp_bench_complete: promise %ld was already completed\n", i);
            exit(2);
        }
    }
    g_ended[first] = now_s();
    return NULL;
}

static long parse_long(const char *text, const char *name, long low, long high) {
    char *end = NULL;
    const long v = strtol(text, &end, 10);
    if (!*text || *end || v < low || v > high) {
        fprintf(stderr, "gp_bench_complete: %s must be from %ld to %ld, got '%s'\n", name, low, high, text);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            puts("usage: gp_bench_complete [--host memory|file] [--requests N] [--clients K] "
                 "[--payload-bytes B] [--dir DIR]");
            return 0;
        }
        if (!v) {
            fprintf(stderr, "gp_bench_complete: unknown or incomplete argument '%s' (try --help)\n", a);
            return 2;
        }
        if (!strcmp(a, "--host") && (!strcmp(v, "memory") || !strcmp(v, "file"))) {
            cfg.file = !strcmp(v, "file");
        } else if (!strcmp(a, "--requests")) {
            cfg.requests = parse_long(v, a, 1, 100000000);
        } else if (!strcmp(a, "--clients")) {
            cfg.clients = (int)parse_long(v, a, 1, 1024);
        } else if (!strcmp(a, "--payload-bytes")) {
            cfg.payload_len = (size_t)parse_long(v, a, 0, (long)sizeof g_payload);
        } else if (!strcmp(a, "--dir")) {
            cfg.dir = v;
        } else {
            fprintf(stderr, "gp_bench_complete: unknown argument '%s %s' (try --help)\n", a, v);
            return 2;
        }
        ++i;
    }
    if (cfg.requests < cfg.clients) {
        fprintf(stderr, "gp_bench_complete: need at least one request per client\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof g_payload; ++i) g_payload[i] = (uint8_t)(i % 251);

    char path[4096];
    if (cfg.file) {
        snprintf(path, sizeof path, "%s/bench-complete-%ld.db", cfg.dir, (long)getpid());
        remove_db(path);
    } else {
        snprintf(path, sizeof path, ":memory:");
    }
    g_ids = calloc((size_t)cfg.requests, sizeof *g_ids);
    if (!g_ids) return 2;

    /* Setup: the promises (a file host creates them without waiting for fsyncs). */
    gp_host_options_t setup_opts;
    memset(&setup_opts, 0, sizeof setup_opts);
    setup_opts.version = GP_HOST_OPTIONS_VERSION;
    setup_opts.synchronous = cfg.file ? GP_SYNCHRONOUS_NORMAL : 0;
    check(gp_host_open(&g_host, path, &setup_opts), "gp_host_open");
    gp_uuid_t component;
    check(gp_uuid_parse(&component, COMPONENT), "gp_uuid_parse");
    gp_worker_id_t wid;
    check(gp_worker_id_make(&wid, &component, WORKER_NAME), "gp_worker_id_make");
    gp_worker *worker = NULL;
    check(gp_worker_open(&worker, g_host, &wid), "gp_worker_open");
    for (long i = 0; i < cfg.requests; ++i) check(gp_worker_create_promise(&g_ids[i], worker), "gp_worker_create_promise");
    gp_worker_close(&worker);
    if (cfg.file) {  /* reopened with the defaults: synchronous FULL */
        gp_host_close(&g_host);
        check(gp_host_open(&g_host, path, NULL), "gp_host_open");
    }

    pthread_t *threads = calloc((size_t)cfg.clients, sizeof *threads);
    g_began = calloc((size_t)cfg.clients, sizeof *g_began);
    g_ended = calloc((size_t)cfg.clients, sizeof *g_ended);
    if (!threads || !g_began || !g_ended || pthread_barrier_init(&g_start, NULL, (unsigned)cfg.clients + 1) != 0) return 2;
    for (int t = 0; t < cfg.clients; ++t) {
        if (pthread_create(&threads[t], NULL, client, (void *)(intptr_t)t) != 0) return 2;
    }
    const double cpu_before = cpu_s();
    pthread_barrier_wait(&g_start);
    for (int t = 0; t < cfg.clients; ++t) pthread_join(threads[t], NULL);
    const double cpu = cpu_s() - cpu_before;
    /* From the first thread's start to the last one's end, as the threads saw them (the main
     * thread may be scheduled long after the barrier opened). */
    double start = g_began[0], end = g_ended[0];
    for (int t = 1; t < cfg.clients; ++t) {
        if (g_began[t] < start) start = g_began[t];
        if (g_ended[t] > end) end = g_ended[t];
    }
    const double seconds = end - start;

    gp_host_close(&g_host);
    if (cfg.file) remove_db(path);
    printf("RESULT complete_c host=%s requests=%ld clients=%d payload_bytes=%zu seconds=%.6f per_s=%.0f us=%.2f "
           "cpu_us=%.2f\n",
           cfg.file ? "file" : "memory", cfg.requests, cfg.clients, cfg.payload_len, seconds,
           (double)cfg.requests / seconds, 1e6 * seconds / (double)cfg.requests, 1e6 * cpu / (double)cfg.requests);
    free(threads);
    free(g_began);
    free(g_ended);
    free(g_ids);
    pthread_barrier_destroy(&g_start);
    return 0;
}
