/*
 * bench_map.c - nf_map against DPDK's rte_hash on the same keys, in the same
 * run: 1M random 13-byte keys, tables sized so 1M keys fill 70% of their
 * capacity, inserts then lookups in a random (shuffled) order: one key at a
 * time (nf_map_get vs rte_hash_lookup_data), absent keys, and batches of 32
 * (rt_map_get_bulk vs rte_hash_lookup_bulk). Prints operations per second,
 * the ratio to rte_hash's one-key lookups, and the memory each table holds
 * per key (rsskey: its allocation; rte_hash: growth of DPDK's heap).
 *
 * rte_hash runs with its fastest single-thread setup (CRC32 hash, no
 * multi-writer or read-write concurrency flags). EAL starts without
 * hugepages or PCI (--no-huge -m 1024 --no-pci), so no NIC is needed.
 *
 * Usage: bench_map [keys]   (default 1000000)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "runtime/runtime.h"

#define KEY_SIZE 13
#define BULK 32
#define REPEATS 3

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* n distinct random keys: the first 8 bytes carry a bijection of the key
 * number, the other 5 are random. */
static uint8_t *make_keys(uint32_t n, uint64_t seed)
{
    uint8_t *keys = malloc((size_t)n * KEY_SIZE);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t id = (uint64_t)i * 0x9e3779b97f4a7c15ULL ^ 0x5bd1e995ULL;
        uint64_t r = splitmix(&seed);
        memcpy(keys + (size_t)i * KEY_SIZE, &id, 8);
        memcpy(keys + (size_t)i * KEY_SIZE + 8, &r, KEY_SIZE - 8);
    }
    return keys;
}

/* The same keys, copied in a shuffled order (so lookups walk memory in
 * order on the key side and at random on the table side). */
static uint8_t *shuffled_copy(const uint8_t *keys, uint32_t n, uint64_t seed)
{
    uint32_t *perm = malloc(n * sizeof *perm);
    for (uint32_t i = 0; i < n; i++)
        perm[i] = i;
    for (uint32_t i = n - 1; i > 0; i--) {
        uint32_t j = (uint32_t)(splitmix(&seed) % (i + 1));
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    uint8_t *out = malloc((size_t)n * KEY_SIZE);
    for (uint32_t i = 0; i < n; i++)
        memcpy(out + (size_t)i * KEY_SIZE, keys + (size_t)perm[i] * KEY_SIZE, KEY_SIZE);
    free(perm);
    return out;
}

struct result {
    const char *name;
    double inserts_per_s;   /* 0: not measured */
    double lookups_per_s;   /* keys present */
    double misses_per_s;    /* keys absent (0: not measured) */
    double bytes_per_key;
};

static size_t rte_heap_bytes(void)
{
    struct rte_malloc_socket_stats st;
    if (rte_malloc_get_socket_stats((int)rte_socket_id(), &st) != 0)
        return 0;
    return st.heap_allocsz_bytes;
}

int main(int argc, char **argv)
{
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1000000;
    if (n < 1000) {
        fprintf(stderr, "bench_map: use at least 1000 keys\n");
        return 2;
    }
    uint32_t capacity = (uint32_t)((uint64_t)n * 10 / 7);

    char prefix[64];
    snprintf(prefix, sizeof prefix, "--file-prefix=rsskey-bench-%d", (int)getpid());
    char *eal_argv[] = {"bench_map", "--no-huge", "-m", "1024", "--no-pci", prefix,
                        "--log-level=1", NULL};   /* 1 = emergencies only; 22.11 rejects 0 */
    if (rte_eal_init(7, eal_argv) < 0) {
        fprintf(stderr, "bench_map: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
        return 1;
    }

    uint8_t *keys = make_keys(n, 12345);
    uint8_t *lookup = shuffled_copy(keys, n, 777);
    uint8_t *absent = make_keys(n, 999);    /* other random tails: not in the tables */
    for (uint32_t i = 0; i < n; i++)
        absent[(size_t)i * KEY_SIZE + 8] ^= 0x80;
    struct result res[4] = {{"rsskey nf_map", 0, 0, 0, 0},
                            {"rte_hash (one key)", 0, 0, 0, 0},
                            {"rsskey (bulk 32)", 0, 0, 0, 0},
                            {"rte_hash (bulk 32)", 0, 0, 0, 0}};
    uint64_t check_ours_bulk = 0;
    uint64_t miss_ours = 0, miss_rte = 0;
    uint64_t check_ours = 0, check_rte = 0, check_bulk = 0;

    /* ---- rsskey ---- */
    struct nf_map *map = nf_map_create("bench", KEY_SIZE, capacity);
    if (!map) {
        fprintf(stderr, "bench_map: nf_map_create failed\n");
        return 1;
    }
    double t0 = now_seconds();
    for (uint32_t i = 0; i < n; i++)
        if (!nf_map_put(map, keys + (size_t)i * KEY_SIZE, (int32_t)i))
            return fprintf(stderr, "bench_map: nf_map_put failed at %u\n", i), 1;
    res[0].inserts_per_s = n / (now_seconds() - t0);
    double best = 1e9;
    for (int rep = 0; rep < REPEATS; rep++) {
        t0 = now_seconds();
        uint64_t sum = 0;
        for (uint32_t i = 0; i < n; i++) {
            int32_t v = -1;
            sum += nf_map_get(map, lookup + (size_t)i * KEY_SIZE, &v);
            sum += (uint32_t)v;
        }
        double t = now_seconds() - t0;
        best = t < best ? t : best;
        check_ours = sum;
    }
    res[0].lookups_per_s = n / best;
    best = 1e9;
    for (int rep = 0; rep < REPEATS; rep++) {
        t0 = now_seconds();
        uint64_t sum = 0;
        for (uint32_t i = 0; i < n; i++) {
            int32_t v;
            sum += nf_map_get(map, absent + (size_t)i * KEY_SIZE, &v);
        }
        double t = now_seconds() - t0;
        best = t < best ? t : best;
        miss_ours = sum;
    }
    res[0].misses_per_s = n / best;
    best = 1e9;
    for (int rep = 0; rep < REPEATS; rep++) {
        t0 = now_seconds();
        uint64_t sum = 0;
        const void *batch[BULK];
        int32_t values[BULK];
        for (uint32_t i = 0; i + BULK <= n; i += BULK) {
            for (int j = 0; j < BULK; j++)
                batch[j] = lookup + (size_t)(i + (uint32_t)j) * KEY_SIZE;
            sum += (uint64_t)__builtin_popcountll(rt_map_get_bulk(map, batch, BULK, values));
        }
        double t = now_seconds() - t0;
        best = t < best ? t : best;
        check_ours_bulk = sum;
    }
    res[2].lookups_per_s = (double)(n - n % BULK) / best;
    struct rt_object_info info;
    rt_object_info((size_t)rt_object_find("bench"), &info);
    res[0].bytes_per_key = res[2].bytes_per_key = (double)info.bytes / n;

    /* ---- rte_hash ---- */
    size_t heap0 = rte_heap_bytes();
    struct rte_hash_parameters params = {
        .name = "bench_rte_hash",
        .entries = capacity,
        .key_len = KEY_SIZE,
        .hash_func = rte_hash_crc,
        .hash_func_init_val = 0,
        .socket_id = (int)rte_socket_id(),
    };
    struct rte_hash *h = rte_hash_create(&params);
    if (!h) {
        fprintf(stderr, "bench_map: rte_hash_create failed: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    t0 = now_seconds();
    for (uint32_t i = 0; i < n; i++)
        if (rte_hash_add_key_data(h, keys + (size_t)i * KEY_SIZE, (void *)(uintptr_t)i) < 0)
            return fprintf(stderr, "bench_map: rte_hash_add_key_data failed at %u\n", i), 1;
    res[1].inserts_per_s = n / (now_seconds() - t0);
    res[1].bytes_per_key = res[3].bytes_per_key = (double)(rte_heap_bytes() - heap0) / n;
    best = 1e9;
    for (int rep = 0; rep < REPEATS; rep++) {
        t0 = now_seconds();
        uint64_t sum = 0;
        for (uint32_t i = 0; i < n; i++) {
            void *data = NULL;
            sum += rte_hash_lookup_data(h, lookup + (size_t)i * KEY_SIZE, &data) >= 0;
            sum += (uint32_t)(uintptr_t)data;
        }
        double t = now_seconds() - t0;
        best = t < best ? t : best;
        check_rte = sum;
    }
    res[1].lookups_per_s = n / best;
    best = 1e9;
    for (int rep = 0; rep < REPEATS; rep++) {
        t0 = now_seconds();
        uint64_t sum = 0;
        for (uint32_t i = 0; i < n; i++)
            sum += rte_hash_lookup(h, absent + (size_t)i * KEY_SIZE) >= 0;
        double t = now_seconds() - t0;
        best = t < best ? t : best;
        miss_rte = sum;
    }
    res[1].misses_per_s = n / best;
    best = 1e9;
    for (int rep = 0; rep < REPEATS; rep++) {
        t0 = now_seconds();
        uint64_t sum = 0;
        const void *batch[BULK];
        int32_t pos[BULK];
        for (uint32_t i = 0; i + BULK <= n; i += BULK) {
            for (int j = 0; j < BULK; j++)
                batch[j] = lookup + (size_t)(i + (uint32_t)j) * KEY_SIZE;
            rte_hash_lookup_bulk(h, batch, BULK, pos);
            for (int j = 0; j < BULK; j++)
                sum += pos[j] >= 0;
        }
        double t = now_seconds() - t0;
        best = t < best ? t : best;
        check_bulk = sum;
    }
    res[3].lookups_per_s = (double)(n - n % BULK) / best;

    /* sanity: both found every key and returned the same values */
    if (check_ours != check_rte || check_bulk != (n - n % BULK) ||
        check_ours_bulk != (n - n % BULK) || miss_ours || miss_rte) {
        fprintf(stderr, "bench_map: results disagree (rsskey %" PRIu64 ", rte_hash %" PRIu64
                ", bulk hits %" PRIu64 ")\n", check_ours, check_rte, check_bulk);
        return 1;
    }

    printf("bench_map: %u random %d-byte keys, capacity %u (%.0f%% load), random lookup "
           "order, best of %d\n", n, KEY_SIZE, capacity, 100.0 * n / capacity, REPEATS);
    printf("%-20s %10s %11s %7s %11s %7s %9s\n", "table", "inserts/s", "hits/s", "ratio",
           "misses/s", "ratio", "bytes/key");
    for (int i = 0; i < 4; i++) {
        char ins[32] = "-", miss[32] = "-", mratio[32] = "-";
        if (res[i].inserts_per_s > 0)
            snprintf(ins, sizeof ins, "%.2fM", res[i].inserts_per_s / 1e6);
        if (res[i].misses_per_s > 0) {
            snprintf(miss, sizeof miss, "%.2fM", res[i].misses_per_s / 1e6);
            snprintf(mratio, sizeof mratio, "%.2fx", res[i].misses_per_s / res[1].misses_per_s);
        }
        printf("%-20s %10s %10.2fM %6.2fx %11s %7s %9.1f\n", res[i].name, ins,
               res[i].lookups_per_s / 1e6, res[i].lookups_per_s / res[1].lookups_per_s, miss,
               mratio, res[i].bytes_per_key);
    }
    printf("ratio: against rte_hash (one key) in this run. rsskey/rte_hash lookups: hits "
           "%.2fx, misses %.2fx, bulk %.2fx; memory %.2fx\n", res[0].lookups_per_s / res[1].lookups_per_s,
           res[0].misses_per_s / res[1].misses_per_s, res[2].lookups_per_s / res[3].lookups_per_s,
           res[0].bytes_per_key / res[1].bytes_per_key);

    rte_hash_free(h);
    free(keys);
    free(lookup);
    free(absent);
    rt_reset();
    rte_eal_cleanup();
    return 0;
}
