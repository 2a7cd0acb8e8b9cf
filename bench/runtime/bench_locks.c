/*
 * bench_locks.c - what the runtime's packet-level locking costs, for the
 * simulator's calibration: packets/s of a small per-packet workload (a
 * 13-byte key lookup in a 64K-entry map plus a counter add) with sharded
 * objects and no tokens (the baseline, measured in this run), with a core's
 * read token, with shared objects under all tokens (1, 2, 4 cores,
 * uncontended), and on two threads with a share of writer packets
 * (contended) against two threads on sharded objects.
 *
 * Each case runs REPEATS times and keeps the best rate (the machine is shared).
 *
 * Usage: bench_locks [packets]   (default 1000000 per run)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/runtime.h"

static struct nf_map *table;
static struct nf_counter *count;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The map is filled here; sharded runs keep it replicated (read-only). */
static int init(int cores, enum rt_mode mode)
{
    struct util_error err;
    rt_reset();
    table = nf_map_create("table", 13, 65536);
    count = nf_counter_create("count");
    if (!table || !count)
        return -1;
    for (uint32_t i = 0; i < 45000; i++) {
        uint8_t key[13] = {0};
        memcpy(key, &i, 4);
        nf_map_put(table, key, (int32_t)i);
    }
    enum rt_mode modes[2] = {mode == RT_SHARDED ? RT_REPLICATED : mode, mode};
    if (rt_instantiate(cores, modes, &err) != 0) {
        fprintf(stderr, "bench_locks: %s\n", err.msg);
        return -1;
    }
    rt_set_abort_on_violation(true);    /* a wrong case must not time the slow path */
    return 0;
}

static inline void work(uint32_t i)
{
    uint8_t key[13] = {0};
    uint32_t k = (i * 2654435761u) % 45000;
    memcpy(key, &k, 4);
    int32_t v;
    nf_map_get(table, key, &v);
    nf_counter_add(count, (uint64_t)v);
}

enum lock_kind { NO_TOKENS, READ_TOKEN, ALL_TOKENS };

#define REPEATS 5

static double run_one_once(uint32_t n, enum lock_kind kind)
{
    double t0 = now_seconds();
    for (uint32_t i = 0; i < n; i++) {
        if (kind != NO_TOKENS)
            rt_packet_begin(0, kind == ALL_TOKENS);
        work(i);
        if (kind != NO_TOKENS)
            rt_packet_end(0);
    }
    return n / (now_seconds() - t0);
}

struct thread_arg {
    int core;
    uint32_t n;
    uint32_t write_every;   /* 0: never write; else every write_every-th packet */
    bool locked;
};

static void *thread_main(void *p)
{
    struct thread_arg *a = p;
    rt_set_core(a->core);
    for (uint32_t i = 0; i < a->n; i++) {
        bool write = a->write_every && i % a->write_every == 0;
        if (a->locked)
            rt_packet_begin(a->core, write);
        uint8_t key[13] = {0};
        uint32_t k = (i * 2654435761u) % 45000;
        memcpy(key, &k, 4);
        int32_t v;
        nf_map_get(table, key, &v);
        if (write)
            nf_counter_add(count, 1);
        if (a->locked)
            rt_packet_end(a->core);
    }
    return NULL;
}

static double run_one(uint32_t n, enum lock_kind kind)
{
    double best = 0;
    for (int i = 0; i < REPEATS; i++) {
        double r = run_one_once(n, kind);
        best = r > best ? r : best;
    }
    return best;
}

static double run_two_once(uint32_t n, uint32_t write_every, bool locked)
{
    pthread_t t[2];
    struct thread_arg a[2] = {{0, n, write_every, locked}, {1, n, write_every, locked}};
    double t0 = now_seconds();
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, thread_main, &a[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    return 2.0 * n / (now_seconds() - t0);
}

static double run_two(uint32_t n, uint32_t write_every, bool locked)
{
    double best = 0;
    for (int i = 0; i < REPEATS; i++) {
        double r = run_two_once(n, write_every, locked);
        best = r > best ? r : best;
    }
    return best;
}

int main(int argc, char **argv)
{
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1000000;
    printf("bench_locks: %u packets per run, best of %d; work = 13-byte map lookup + counter "
           "add\n", n, REPEATS);
    printf("%-40s %12s %8s\n", "case", "packets/s", "ratio");
    if (init(1, RT_SHARDED))
        return 1;
    double base = run_one(n, NO_TOKENS);
    printf("%-40s %11.2fM %7.2fx\n", "1 core, sharded, no tokens (baseline)", base / 1e6, 1.0);
    double r = run_one(n, READ_TOKEN);
    printf("%-40s %11.2fM %7.2fx\n", "1 core, sharded, read token", r / 1e6, r / base);
    int cores_list[3] = {1, 2, 4};
    for (int i = 0; i < 3; i++) {
        if (init(cores_list[i], RT_SHARED))
            return 1;
        r = run_one(n, ALL_TOKENS);
        char name[64];
        snprintf(name, sizeof name, "%d core(s), shared, all tokens", cores_list[i]);
        printf("%-40s %11.2fM %7.2fx\n", name, r / 1e6, r / base);
    }
    /* two threads: the baseline is sharded objects, no tokens, the most writes */
    if (init(2, RT_SHARDED))
        return 1;
    double base2 = run_two(n, 10, false);
    printf("%-40s %11.2fM %7.2fx\n", "2 threads, sharded, no tokens (base 2)", base2 / 1e6,
           base2 / base);
    const uint32_t every[4] = {0, 1000, 100, 10};
    for (int i = 0; i < 4; i++) {
        if (init(2, RT_SHARED))
            return 1;
        r = run_two(n, every[i], true);
        char name[64];
        if (every[i])
            snprintf(name, sizeof name, "2 threads, shared, 1/%u packets write", every[i]);
        else
            snprintf(name, sizeof name, "2 threads, shared, read tokens only");
        printf("%-40s %11.2fM %7.2fx\n", name, r / 1e6, r / base2);
    }
    printf("ratio: against the 1-core baseline (rows 2-5) or the 2-thread baseline (last "
           "rows; its own ratio is to the 1-core one), measured in this run\n");
    rt_reset();
    return 0;
}
