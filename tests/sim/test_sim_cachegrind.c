/*
 * test_sim_cachegrind.c - acceptance: on one core, the cache model's D1 and
 * LL miss rates for an NF's access stream are within 10% of valgrind's
 * cachegrind with the same geometry (docs/simulator.md, "Checking the cache
 * model").
 *
 * 1. A flow table, a count-min sketch, a vector and a counter, 30000 packets
 *    over 6000 flows: the engine exports the line addresses it touches.
 * 2. The engine's own L1/LLC miss counts equal a plain two-level replay of
 *    that stream (L2 off, the geometry cachegrind has: D1 then LL).
 * 3. stream_replay performs the stream (plus its sequential reads of the
 *    stream buffer) under cachegrind; the model replays the same interleaved
 *    stream; the state accesses' miss rates must agree within 10%.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim_fixture.h"

#define D1_BYTES 32768
#define D1_WAYS 8
#define LL_BYTES (1u << 20)
#define LL_WAYS 16

static const int KEY_5TUPLE[] = {IR_FIELD_IPV4_SRC, IR_FIELD_IPV4_DST, IR_FIELD_L4_SPORT,
                                 IR_FIELD_L4_DPORT, IR_FIELD_IP_PROTO, -1};
static const int KEY_SRC[] = {IR_FIELD_IPV4_SRC, -1};
static const int KEY_DST[] = {IR_FIELD_IPV4_DST, -1};
static const int KEY_NONE[] = {-1};

struct counts {
    uint64_t accesses, d1_misses, ll_misses;
};

/* Sums cachegrind's counts for the functions whose name starts with prefix. */
static struct counts cachegrind_counts(const char *path, const char *prefix_a,
                                       const char *prefix_b)
{
    struct counts c = {0};
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[4096];
    int col[9], ncol = 0;
    bool in_fn = false;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "events:", 7) == 0) {
            static const char *want[] = {"Dr", "D1mr", "DLmr", "Dw", "D1mw", "DLmw"};
            char *save, *tok = strtok_r(line + 7, " \n", &save);
            int i = 0;
            for (int k = 0; k < 6; k++)
                col[k] = -1;
            for (; tok; tok = strtok_r(NULL, " \n", &save), i++)
                for (int k = 0; k < 6; k++)
                    if (strcmp(tok, want[k]) == 0)
                        col[k] = i;
            ncol = i;
        } else if (strncmp(line, "fn=", 3) == 0) {
            in_fn = strncmp(line + 3, prefix_a, strlen(prefix_a)) == 0 ||
                    strncmp(line + 3, prefix_b, strlen(prefix_b)) == 0;
        } else if (in_fn && line[0] >= '0' && line[0] <= '9') {
            /* "LINE v1 v2 ...": values in event order; missing ones are 0. */
            uint64_t v[32] = {0};
            char *p = line, *end;
            strtoull(p, &end, 10);      /* source line number */
            p = end;
            for (int i = 0; i < ncol && i < 32; i++) {
                v[i] = strtoull(p, &end, 10);
                if (end == p)
                    break;
                p = end;
            }
            c.accesses += v[col[0]] + v[col[3]];
            c.d1_misses += v[col[1]] + v[col[4]];
            c.ll_misses += v[col[2]] + v[col[5]];
        }
    }
    fclose(f);
    assert_true(ncol > 0 && col[1] >= 0 && col[2] >= 0);
    return c;
}

static void expect_close(const char *what, double model, double measured)
{
    double diff = model > measured ? model - measured : measured - model;
    print_message("%-14s model %.4f  cachegrind %.4f  (diff %.1f%%)\n", what, model, measured,
                  measured > 0 ? 100 * diff / measured : 0.0);
    /* Within 10% relative, or both negligible (under 0.1% of accesses). */
    assert_true(diff <= 0.10 * measured || diff < 0.001);
}

static void test_cache_model_vs_cachegrind(void **state)
{
    (void)state;
    struct rss_plan p;
    fixture_plan(&p, 1, 1);
    int flows = fixture_object(&p, "flows", DEPS_KIND_MAP, DEPS_SHARDED);
    int sketch = fixture_object(&p, "sketch", DEPS_KIND_SKETCH, DEPS_SHARDED);
    int hosts = fixture_object(&p, "hosts", DEPS_KIND_VECTOR, DEPS_SHARDED);
    int count = fixture_object(&p, "count", DEPS_KIND_COUNTER, DEPS_SHARDED);
    fixture_access(&p, flows, DEPS_OP_READ, 0, KEY_5TUPLE);
    fixture_access(&p, sketch, DEPS_OP_WRITE, 0, KEY_SRC);
    fixture_access(&p, hosts, DEPS_OP_READ, 0, KEY_DST);
    fixture_access(&p, flows, DEPS_OP_WRITE, 0, KEY_5TUPLE);
    fixture_access(&p, count, DEPS_OP_WRITE, 0, KEY_NONE);
    struct sim_costs c;
    sim_costs_default(&c);
    c.l1_bytes = D1_BYTES;
    c.l1_ways = D1_WAYS;
    c.l2_bytes = 0;
    c.llc_bytes = LL_BYTES;
    c.llc_ways = LL_WAYS;
    uint64_t n = 30000;
    struct trace_packet *pk = fixture_packets(n, 6000, 21);
    struct sim_source src;
    struct sim_array_source arr;
    struct util_error err;

    /* 1. The stream. */
    struct sim_trace_sink sink = {0};
    sim_array_source_init(&src, &arr, pk, n);
    assert_int_equal(sim_export_stream(&p, &c, &src, &sink, &err), 0);
    assert_true(sink.count >= n * 5);

    /* 2. The engine's counters are a two-level replay of it. */
    struct sim_options o;
    sim_options_default(&o);
    o.cores = 1;
    static struct sim_result r;
    sim_array_source_init(&src, &arr, pk, n);
    assert_int_equal(sim_run(&p, &c, &o, &src, &r, &err), 0);
    struct sim_cache *d1 = sim_cache_new(D1_BYTES, D1_WAYS), *ll = sim_cache_new(LL_BYTES, LL_WAYS);
    uint64_t m1 = 0, m2 = 0, max_line = 0;
    for (uint64_t i = 0; i < sink.count; i++) {
        uint64_t line = sink.addrs[i] / 64;
        if (line > max_line)
            max_line = line;
        if (!sim_cache_access(d1, line)) {
            m1++;
            m2 += !sim_cache_access(ll, line);
        }
    }
    assert_int_equal(r.core[0].line_accesses, sink.count);
    assert_int_equal(r.core[0].l1_misses, m1);
    assert_int_equal(r.core[0].llc_misses, m2);
    sim_cache_free(d1);
    sim_cache_free(ll);
    assert_true(max_line < (1u << 31));

    /* 3. The interleaved stream, as stream_replay executes it. */
    uint64_t stream_line = ((max_line + 1) * 64 + (4u << 20)) / (2u << 20) * (2u << 20) / 64;
    d1 = sim_cache_new(D1_BYTES, D1_WAYS);
    ll = sim_cache_new(LL_BYTES, LL_WAYS);
    struct counts model = {0};
    for (uint64_t i = 0; i < sink.count; i++) {
        uint64_t s = stream_line + i * 4 / 64;
        if (!sim_cache_access(d1, s))
            sim_cache_access(ll, s);
        uint64_t line = sink.addrs[i] / 64;
        model.accesses++;
        if (!sim_cache_access(d1, line)) {
            model.d1_misses++;
            model.ll_misses += !sim_cache_access(ll, line);
        }
    }
    sim_cache_free(d1);
    sim_cache_free(ll);

    char dir[] = "/tmp/rsskey-sim-cg-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char stream_path[256], out_path[256], cmd[1024];
    snprintf(stream_path, sizeof stream_path, "%s/stream.bin", dir);
    snprintf(out_path, sizeof out_path, "%s/cachegrind.out", dir);
    FILE *f = fopen(stream_path, "wb");
    assert_non_null(f);
    uint64_t hdr[2] = {sink.count, max_line};
    fwrite(hdr, sizeof hdr, 1, f);
    for (uint64_t i = 0; i < sink.count; i++) {
        uint32_t v = (uint32_t)(sink.addrs[i] / 64) | (sink.is_write[i] ? 1u << 31 : 0);
        fwrite(&v, 4, 1, f);
    }
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "%s --tool=cachegrind --cache-sim=yes --I1=32768,8,64 --D1=%u,%u,64 "
             "--LL=%u,%u,64 --cachegrind-out-file=%s %s %s >/dev/null 2>%s/valgrind.log",
             VALGRIND, D1_BYTES, D1_WAYS, LL_BYTES, LL_WAYS, out_path, STREAM_REPLAY,
             stream_path, dir);
    int rc = system(cmd);
    if (rc != 0) {
        snprintf(cmd, sizeof cmd, "cat %s/valgrind.log >&2", dir);
        (void)system(cmd);
        fail_msg("valgrind failed (%d): %s", rc, cmd);
    }
    struct counts cg = cachegrind_counts(out_path, "sim_cg_load", "sim_cg_store");
    /* cachegrind also counts each call's return-address pop (a hit) in
     * these functions; the rates use the stream's own access count. */
    assert_true(cg.accesses >= sink.count);
    print_message("state accesses %llu, model D1 misses %llu, cachegrind %llu; "
                  "model LL misses %llu, cachegrind %llu\n",
                  (unsigned long long)sink.count, (unsigned long long)model.d1_misses,
                  (unsigned long long)cg.d1_misses, (unsigned long long)model.ll_misses,
                  (unsigned long long)cg.ll_misses);
    expect_close("D1 miss rate", (double)model.d1_misses / sink.count,
                 (double)cg.d1_misses / sink.count);
    expect_close("LL miss rate", (double)model.ll_misses / sink.count,
                 (double)cg.ll_misses / sink.count);
    /* The engine's rates without the stream-buffer reads, for the record. */
    print_message("engine alone: D1 %.4f LL %.4f per line access\n",
                  (double)r.core[0].l1_misses / sink.count,
                  (double)r.core[0].llc_misses / sink.count);

    unlink(stream_path);
    unlink(out_path);
    snprintf(cmd, sizeof cmd, "%s/valgrind.log", dir);
    unlink(cmd);
    rmdir(dir);
    sim_trace_sink_free(&sink);
    free(pk);
    fixture_plan_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache_model_vs_cachegrind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
