/*
 * bench_toeplitz.c - Toeplitz hashes per second: DPDK 22.11's rte_softrss,
 * rte_softrss_be and rte_thash_gfni_bulk against rsskey's reference, table,
 * bulk and GFNI paths and the per-packet API, on the same random 12-byte
 * IPv4 L4 tuples (and 36-byte IPv6 L4), in one run. Baseline:
 * rte_softrss_be. Goals: rsskey scalar >= 5x rte_softrss_be; rsskey bulk >=
 * rte_thash_gfni_bulk.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_thash.h>

#include "rss/rss.h"

#if !defined(__GFNI__) || !defined(__AVX512F__)
#error "bench_toeplitz must be compiled with -mgfni -mavx512f (bench/rss/CMakeLists.txt)"
#endif

#define N (1u << 22)

static volatile uint32_t sink;

struct row {
    const char *name;
    double mps;
};

static double mps(double seconds, size_t n)
{
    return (double)n / seconds / 1e6;
}

static void run(size_t len, const uint8_t *key, int key_len, struct row *rows, int *n_rows,
                double *init_us)
{
    uint8_t *in = malloc(N * len);
    uint32_t *host = malloc(N * len), *out = malloc(N * sizeof *out);
    uint8_t **ptrs = malloc(N * sizeof *ptrs);
    uint64_t x = 88172645463325252ULL;
    for (size_t i = 0; i < N * len; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        in[i] = (uint8_t)x;
    }
    for (size_t i = 0; i < N * len / 4; i++) {
        uint32_t be;
        memcpy(&be, in + 4 * i, 4);
        host[i] = ntohl(be);
    }
    for (size_t i = 0; i < N; i++)
        ptrs[i] = in + i * len;
    uint32_t words = (uint32_t)(len / 4), acc = 0;
    int r = 0;
    double t;

    t = util_now_seconds();
    for (size_t i = 0; i < N; i++)
        acc ^= rte_softrss(host + i * words, words, key);
    rows[r++] = (struct row){"rte_softrss", mps(util_now_seconds() - t, N)};

    uint8_t be_key[RSS_KEY_MAX];
    rte_convert_rss_key((const uint32_t *)key, (uint32_t *)be_key, key_len);
    t = util_now_seconds();
    for (size_t i = 0; i < N; i++)
        acc ^= rte_softrss_be(host + i * words, words, be_key);
    rows[r++] = (struct row){"rte_softrss_be (baseline)", mps(util_now_seconds() - t, N)};

    uint64_t matrices[RSS_KEY_MAX];
    rte_thash_complete_matrix(matrices, key, key_len);
    t = util_now_seconds();
    rte_thash_gfni_bulk(matrices, (int)len, ptrs, out, N);
    rows[r++] = (struct row){"rte_thash_gfni_bulk", mps(util_now_seconds() - t, N)};
    acc ^= out[N / 2];

    size_t n_ref = N / 64;
    t = util_now_seconds();
    for (size_t i = 0; i < n_ref; i++)
        acc ^= rss_toeplitz_reference(key, (size_t)key_len, in + i * len, len);
    rows[r++] = (struct row){"rsskey reference (bit by bit)", mps(util_now_seconds() - t, n_ref)};

    struct rss_toeplitz tz;
    t = util_now_seconds();
    rss_toeplitz_init(&tz, key, (size_t)key_len);
    double init = util_now_seconds() - t;
    t = util_now_seconds();
    for (size_t i = 0; i < N; i++)
        acc ^= rss_toeplitz_hash(&tz, in + i * len, len);
    rows[r++] = (struct row){"rsskey tables, scalar", mps(util_now_seconds() - t, N)};

    t = util_now_seconds();
    rss_toeplitz_bulk_tables(&tz, in, len, N, out);
    rows[r++] = (struct row){"rsskey tables, bulk", mps(util_now_seconds() - t, N)};
    acc ^= out[N / 3];

    t = util_now_seconds();
    rss_toeplitz_bulk(&tz, in, len, N, out);
    rows[r++] = (struct row){"rsskey bulk (dispatch)", mps(util_now_seconds() - t, N)};
    acc ^= out[N / 4];

    if (tz.gfni) {
        t = util_now_seconds();
        rss_toeplitz_bulk_gfni(&tz, in, len, N, out);
        rows[r++] = (struct row){"rsskey GFNI bulk", mps(util_now_seconds() - t, N)};
        acc ^= out[N / 5];
    }
    /* Correctness spot check against DPDK while we are here. */
    for (size_t i = 0; i < 1000; i++)
        if (rte_softrss(host + i * words, words, key) != rss_toeplitz_hash(&tz, in + i * len, len)) {
            fprintf(stderr, "bench_toeplitz: rsskey and rte_softrss disagree on tuple %zu\n", i);
            exit(1);
        }
    *init_us = init * 1e6;
    sink = acc;
    *n_rows = r;
    free(in), free(host), free(out), free(ptrs);
}

static void print_table(const char *title, struct row *rows, int n)
{
    printf("%s\n%-32s %12s %10s\n", title, "path", "M hashes/s", "vs base");
    for (int i = 0; i < n; i++)
        printf("%-32s %12.1f %9.2fx\n", rows[i].name, rows[i].mps, rows[i].mps / rows[1].mps);
}

int main(void)
{
    uint8_t key[RSS_KEY_MAX];
    for (int i = 0; i < RSS_KEY_MAX; i++)
        key[i] = (uint8_t)(i * 37 + 11);
    printf("bench_toeplitz: %u random tuples per path, GFNI+AVX-512 %s\n", N,
           rss_cpu_has_gfni() ? "available" : "NOT available (GFNI rows skipped)");
    struct row rows[9];
    int n;
    double init_us;
    run(12, key, 52, rows, &n, &init_us);
    print_table("\nIPv4 L4 (12-byte input, 52-byte key)", rows, n);
    printf("table and matrix set-up per key: %.1f us\n", init_us);
    double scalar = rows[4].mps / rows[1].mps;
    double bulk = rows[6].mps;      /* rss_toeplitz_bulk, the dispatching entry point */
    printf("goal scalar >= 5x rte_softrss_be: %.2fx %s\n", scalar, scalar >= 5 ? "MET" : "NOT MET");
    printf("goal bulk >= rte_thash_gfni_bulk: %.2fx %s\n", bulk / rows[2].mps,
           bulk >= rows[2].mps ? "MET" : "NOT MET");
    run(36, key, 40, rows, &n, &init_us);
    print_table("\nIPv6 L4 (36-byte input, 40-byte key)", rows, n);
    printf("goal bulk >= rte_thash_gfni_bulk: %.2fx %s\n", rows[6].mps / rows[2].mps,
           rows[6].mps >= rows[2].mps ? "MET" : "NOT MET");
    return 0;
}
