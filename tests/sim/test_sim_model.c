/*
 * test_sim_model.c - the simulator's pieces and its replay on plans and
 * packets built in code: the Toeplitz golden vectors, LRU order, the costs
 * file, per-core counts, coherence of shared vs sharded state, ring drops,
 * absent fields, MLFFR, RETA folding and lock waits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim/sim_internal.h"
#include "sim_fixture.h"

static const int KEY_5TUPLE[] = {IR_FIELD_IPV4_SRC, IR_FIELD_IPV4_DST, IR_FIELD_L4_SPORT,
                                 IR_FIELD_L4_DPORT, IR_FIELD_IP_PROTO, -1};
static const int KEY_NONE[] = {-1};

static void ipv4(struct trace_tuple *t, const char *s, const char *d, int sp, int dp)
{
    memset(t, 0, sizeof *t);
    t->ip_version = 4;
    t->proto = 6;
    t->has_ports = true;
    inet_pton(AF_INET, s, t->src);
    inet_pton(AF_INET, d, t->dst);
    t->sport = htons((uint16_t)sp);
    t->dport = htons((uint16_t)dp);
}

static void test_cache_lru(void **state)
{
    (void)state;
    struct sim_cache *c = sim_cache_new(128, 2);    /* one set, two ways */
    assert_non_null(c);
    assert_false(sim_cache_access(c, 1));
    assert_false(sim_cache_access(c, 2));
    assert_true(sim_cache_access(c, 1));
    assert_false(sim_cache_access(c, 3));           /* evicts 2, the LRU */
    assert_true(sim_cache_access(c, 1));
    assert_false(sim_cache_access(c, 2));           /* evicts 3 */
    assert_true(sim_cache_access(c, 1));
    sim_cache_free(c);
    assert_null(sim_cache_new(3 * 64 * 2, 2));      /* 3 sets: not a power of two */
}

/* A reference LRU (move-to-front lists) against sim_cache's SIMD and scalar
 * paths, on 2-, 8- and 16-way caches with invalidations mixed in. */
static void test_cache_vs_reference(void **state)
{
    (void)state;
    static const uint32_t ways_list[] = {2, 4, 8, 16};
    for (size_t wi = 0; wi < sizeof ways_list / sizeof ways_list[0]; wi++) {
        uint32_t ways = ways_list[wi], sets = 16;
        struct sim_cache *c = sim_cache_new((uint64_t)sets * ways * 64, ways);
        assert_non_null(c);
        uint64_t *ref = calloc((size_t)sets * ways, sizeof *ref);  /* MRU first; 0 empty */
        uint64_t s = 12345 + ways;
        for (int i = 0; i < 200000; i++) {
            uint64_t line = 1 + fixture_rand(&s) % (sets * ways * 3);
            uint64_t *set = ref + (line % sets) * ways;
            if (fixture_rand(&s) % 16 == 0) {              /* invalidate */
                bool had = false;
                for (uint32_t w = 0; w < ways; w++)
                    if (set[w] == line) {
                        memmove(set + w, set + w + 1, (ways - w - 1) * sizeof *set);
                        set[ways - 1] = 0;
                        had = true;
                        break;
                    }
                assert_int_equal(sim_cache_invalidate(c, line), had);
                continue;
            }
            uint32_t pos = ways;
            for (uint32_t w = 0; w < ways; w++)
                if (set[w] == line)
                    pos = w;
            bool hit = pos < ways;
            if (!hit)
                pos = ways - 1;                             /* LRU (or an empty way) */
            memmove(set + 1, set, pos * sizeof *set);
            set[0] = line;
            assert_int_equal(sim_cache_access(c, line), hit);
        }
        free(ref);
        sim_cache_free(c);
    }
}

static void test_calibrate(void **state)
{
    (void)state;
    struct sim_costs c;
    sim_costs_default(&c);
    struct sim_calib_object objs[1] = {{"flows", DEPS_KIND_MAP, 16, 0, 4096}};
    struct util_error err;
    assert_int_equal(sim_calibrate(&c, objs, 1, 0, NULL, &err), 0);
    assert_true(c.ghz > 0.3 && c.ghz < 10);
    assert_true(c.read_cycles > 0 && c.write_cycles > 0 && c.alloc_cycles > 0);
    assert_true(c.lock_read_cycles > 0 && c.lock_write_cycles > 0);
    assert_true(c.base_cycles > 80);
    assert_int_equal(c.n_overrides, 0);    /* sizes come with the plan */
}

static void test_costs_file(void **state)
{
    (void)state;
    struct sim_costs c, back;
    sim_costs_default(&c);
    c.ghz = 2.5;
    c.l2_bytes = 0;
    c.ring_size = 77;
    c.n_overrides = 1;
    strcpy(c.overrides[0].name, "flows");
    c.overrides[0].capacity = 1000;
    char *text = sim_costs_format(&c, "# test\n");
    char path[] = "/tmp/rsskey-sim-costs-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct util_error err;
    sim_costs_default(&back);
    assert_int_equal(sim_costs_read(path, &back, &err), 0);
    assert_true(back.ghz == 2.5);
    assert_int_equal(back.l2_bytes, 0);
    assert_int_equal(back.ring_size, 77);
    assert_int_equal(back.n_overrides, 1);
    assert_int_equal(back.overrides[0].capacity, 1000);
    free(text);
    /* A bad value names the file and line. */
    FILE *f = fopen(path, "w");
    fputs("ghz = 3\n# ok\nl1_bytes = lots\n", f);
    fclose(f);
    assert_int_equal(sim_costs_read(path, &back, &err), UTIL_EXIT_INPUT);
    assert_non_null(strstr(err.msg, ":3:"));
    assert_non_null(strstr(err.msg, "l1_bytes"));
    f = fopen(path, "w");
    fputs("no_such_knob = 1\n", f);
    fclose(f);
    assert_int_equal(sim_costs_read(path, &back, &err), UTIL_EXIT_INPUT);
    assert_non_null(strstr(err.msg, "unknown parameter"));
    /* Numbers out of range for their type or unit are refused, never cast:
     * the fuzzer's finds (l1_bytes = 1e120 was undefined behaviour, ghz = nan
     * was accepted, l1_ways = 4294967297 became 1). */
    const char *bad[][2] = {
        {"l1_bytes = 1e120\n", "out of range"},      {"ghz = nan\n", "finite"},
        {"ghz = inf\n", "finite"},                   {"l1_ways = 4294967297\n", "out of range"},
        {"ring_size = 1.5\n", "whole number"},       {"ghz = 1e300\n", "out of range"},
        {"ghz = 5000\n", "ghz"},                     {"object.flows.entry_bytes = 1e10\n", "out of range"},
        {"object.flows.capacity = 1e30\n", "out of range"}, {"ghz = -1\n", "non-negative"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        f = fopen(path, "w");
        fputs(bad[i][0], f);
        fclose(f);
        sim_costs_default(&back);
        assert_int_equal(sim_costs_read(path, &back, &err), UTIL_EXIT_INPUT);
        if (!strstr(err.msg, bad[i][1]))
            fail_msg("'%s': '%s' lacks '%s'", bad[i][0], err.msg, bad[i][1]);
    }
    unlink(path);
}

/* sim/costs/default.conf is the built-in defaults, parameter for parameter. */
static void test_default_conf_matches(void **state)
{
    (void)state;
    struct sim_costs file, built;
    struct util_error err;
    sim_costs_default(&built);
    memset(&file, 0xa5, sizeof file);   /* every field must come from the file */
    file.n_overrides = 0;
    assert_int_equal(sim_costs_read(DEFAULT_CONF, &file, &err), 0);
    char *a = sim_costs_format(&file, NULL), *b = sim_costs_format(&built, NULL);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

static void run_ok(const struct rss_plan *p, const struct sim_costs *c,
                   const struct sim_options *o, struct trace_packet *pk, uint64_t n,
                   struct sim_result *r)
{
    struct sim_source src;
    struct sim_array_source arr;
    sim_array_source_init(&src, &arr, pk, n);
    struct util_error err;
    int rc = sim_run(p, c, o, &src, r, &err);
    if (rc)
        fail_msg("sim_run: %s", err.msg);
}

static void test_rss_counts(void **state)
{
    (void)state;
    struct rss_plan p;
    fixture_plan(&p, 4, 1);
    struct sim_costs c;
    sim_costs_default(&c);
    uint64_t n = 20000;
    struct trace_packet *pk = fixture_packets(n, 3000, 7);
    uint64_t expect[4] = {0};
    for (uint64_t i = 0; i < n; i++)
        expect[p.ports[0].reta[rss_hash_tuple(&p.ports[0], &pk[i].tuple) & 127]]++;
    struct sim_options o;
    sim_options_default(&o);
    static struct sim_result fast, full;
    o.rss_only = true;
    run_ok(&p, &c, &o, pk, n, &fast);
    o.rss_only = false;
    run_ok(&p, &c, &o, pk, n, &full);
    uint64_t sum = 0;
    for (int k = 0; k < 4; k++) {
        assert_int_equal(fast.core[k].packets, expect[k]);
        assert_int_equal(full.core[k].packets, expect[k]);
        assert_true(expect[k] > n / 8);     /* the default key spreads these */
        sum += full.core[k].packets + full.core[k].drops;
    }
    assert_int_equal(sum, n);
    assert_int_equal(full.drops, 0);
    assert_true(full.imbalance >= 1.0 && full.imbalance < 1.2);
    assert_true(full.mpps > 0);
    free(pk);
    fixture_plan_free(&p);
}

/* The same NF with its flow table sharded, then shared under locks. */
static void run_flow_table(enum deps_decision d, struct sim_result *r)
{
    struct rss_plan p;
    fixture_plan(&p, 4, 1);
    int flows = fixture_object(&p, "flows", DEPS_KIND_MAP, d);
    int count = fixture_object(&p, "count", DEPS_KIND_COUNTER, DEPS_SHARDED);
    fixture_access(&p, flows, DEPS_OP_READ, 0, KEY_5TUPLE);
    fixture_access(&p, flows, DEPS_OP_WRITE, 0, KEY_5TUPLE);
    fixture_access(&p, count, DEPS_OP_WRITE, 0, KEY_NONE);
    struct sim_costs c;
    sim_costs_default(&c);
    uint64_t n = 20000;
    struct trace_packet *pk = fixture_packets(n, 2000, 11);
    struct sim_options o;
    sim_options_default(&o);
    o.writes_every_packet = true;
    run_ok(&p, &c, &o, pk, n, r);
    free(pk);
    fixture_plan_free(&p);
}

static void test_coherence_shared_vs_sharded(void **state)
{
    (void)state;
    static struct sim_result sharded, shared;
    run_flow_table(DEPS_SHARDED, &sharded);
    run_flow_table(DEPS_SHARED, &shared);
    uint64_t inv_sharded = 0, inv_shared = 0, tr_shared = 0, bus_sharded = 0, bus_shared = 0;
    double lock_shared = 0, lock_sharded = 0;
    for (int k = 0; k < 4; k++) {
        inv_sharded += sharded.core[k].invalidations + sharded.core[k].transfers;
        inv_shared += shared.core[k].invalidations;
        tr_shared += shared.core[k].transfers;
        bus_sharded += sharded.core[k].bus_ops;
        bus_shared += shared.core[k].bus_ops;
        lock_shared += shared.core[k].cycles_lock;
        lock_sharded += sharded.core[k].cycles_lock;
        assert_int_equal(sharded.core[k].accesses, 3 * sharded.core[k].packets);
    }
    assert_int_equal(inv_sharded, 0);
    assert_true(lock_sharded == 0);
    /* Shared: every packet's writer takes all four tokens, so token lines
     * bounce between cores; flows hit by several cores' lines move too. */
    assert_true(inv_shared > 0);
    assert_true(tr_shared > 0);
    assert_true(lock_shared > 0);
    assert_true(bus_shared > bus_sharded);
    assert_int_equal(shared.processed, sharded.processed);
}

static void test_ring_drops(void **state)
{
    (void)state;
    struct rss_plan p;
    fixture_plan(&p, 2, 1);
    int flows = fixture_object(&p, "flows", DEPS_KIND_MAP, DEPS_SHARDED);
    fixture_access(&p, flows, DEPS_OP_WRITE, 0, KEY_5TUPLE);
    struct sim_costs c;
    sim_costs_default(&c);
    c.ring_size = 16;
    uint64_t n = 5000;
    struct trace_packet *pk = fixture_packets(n, 500, 5);
    struct sim_options o;
    sim_options_default(&o);
    o.pacing = SIM_PACE_PPS;
    o.rate = 1e9;                       /* far beyond two cores */
    static struct sim_result r;
    run_ok(&p, &c, &o, pk, n, &r);
    assert_true(r.drops > n / 2);
    assert_int_equal(r.processed + r.drops, n);
    assert_int_equal(r.offered, n);
    /* The bottleneck line names what lost packets first: a ring. */
    assert_true(strncmp(r.bottleneck, "ring overflow on core ", 22) == 0);
    assert_true(r.first_drop_packet > 0 && r.first_drop_packet <= n);
    assert_true(r.first_drop_core >= 0 && r.first_drop_core < 2);
    assert_true(r.core[r.first_drop_core].drops > 0);
    assert_true(r.cause != SIM_CAUSE_NONE);
    /* At a gentle rate nothing drops, and the limits are named. */
    o.rate = 1e5;
    run_ok(&p, &c, &o, pk, n, &r);
    assert_int_equal(r.drops, 0);
    assert_int_equal(r.first_drop_packet, 0);
    assert_int_equal(r.cause, SIM_CAUSE_NONE);
    assert_true(strncmp(r.bottleneck, "core", 4) == 0);
    free(pk);
    fixture_plan_free(&p);
}

static void test_absent_fields(void **state)
{
    (void)state;
    struct rss_plan p;
    fixture_plan(&p, 2, 1);
    int flows = fixture_object(&p, "flows", DEPS_KIND_MAP, DEPS_SHARDED);
    int count = fixture_object(&p, "count", DEPS_KIND_COUNTER, DEPS_SHARDED);
    fixture_access(&p, flows, DEPS_OP_WRITE, 0, KEY_5TUPLE);
    fixture_access(&p, count, DEPS_OP_WRITE, 0, KEY_NONE);
    struct sim_costs c;
    sim_costs_default(&c);
    uint64_t n = 1000;
    struct trace_packet *pk = fixture_packets(n, 100, 3);
    for (uint64_t i = 0; i < n; i += 2)
        memset(&pk[i].tuple, 0, sizeof pk[i].tuple);   /* every other: not IP */
    struct sim_options o;
    sim_options_default(&o);
    o.writes_every_packet = true;
    static struct sim_result r;
    run_ok(&p, &c, &o, pk, n, &r);
    assert_int_equal(r.skipped_accesses, n / 2);
    assert_int_equal(r.no_hash, n / 2);
    uint64_t acc = r.core[0].accesses + r.core[1].accesses;
    assert_int_equal(acc, n + n / 2);
    /* Unhashed packets land on RETA[0]'s core, core 0. */
    assert_true(r.core[0].packets >= n / 2);
    free(pk);
    fixture_plan_free(&p);
}

static void test_mlffr(void **state)
{
    (void)state;
    struct rss_plan p;
    fixture_plan(&p, 2, 1);
    int flows = fixture_object(&p, "flows", DEPS_KIND_MAP, DEPS_SHARDED);
    fixture_access(&p, flows, DEPS_OP_WRITE, 0, KEY_5TUPLE);
    struct sim_costs c;
    sim_costs_default(&c);
    c.ring_size = 64;
    uint64_t n = 20000;
    struct trace_packet *pk = fixture_packets(n, 1000, 9);
    struct sim_options o;
    sim_options_default(&o);
    o.writes_every_packet = true;
    struct sim_source src;
    struct sim_array_source arr;
    sim_array_source_init(&src, &arr, pk, n);
    static struct sim_result at, r;
    double mlffr = 0;
    struct util_error err;
    assert_int_equal(sim_mlffr(&p, &c, &o, &src, &mlffr, &at, &err), 0);
    assert_true(mlffr > 1e6);
    assert_int_equal(at.drops, 0);
    /* Two cores at ~3 GHz / (base + write + misses) cycles each. */
    double per_core = c.ghz * 1e9 / (c.base_cycles + c.write_cycles);
    assert_true(mlffr < 2.2 * per_core);
    o.pacing = SIM_PACE_PPS;
    o.rate = mlffr * 0.97;
    run_ok(&p, &c, &o, pk, n, &r);
    assert_int_equal(r.drops, 0);
    o.rate = mlffr * 1.3;
    run_ok(&p, &c, &o, pk, n, &r);
    assert_true(r.drops > 0);
    free(pk);
    fixture_plan_free(&p);
}

/* A slow NIC: the MLFFR is its line rate and the bottleneck says so; the
 * --gbps pacing at that rate drops nothing. */
static void test_nic_bottleneck(void **state)
{
    (void)state;
    struct rss_plan p;
    fixture_plan(&p, 2, 1);
    struct sim_costs c;
    sim_costs_default(&c);
    c.nic_gbps = 0.1;                   /* 100 Mbit/s: 64-byte frames, ~142 kpps */
    uint64_t n = 5000;
    struct trace_packet *pk = fixture_packets(n, 500, 29);
    struct sim_options o;
    sim_options_default(&o);
    struct sim_source src;
    struct sim_array_source arr;
    sim_array_source_init(&src, &arr, pk, n);
    static struct sim_result at, r;
    double mlffr = 0;
    struct util_error err;
    assert_int_equal(sim_mlffr(&p, &c, &o, &src, &mlffr, &at, &err), 0);
    assert_true(fabs(mlffr - 0.1e9 / ((64 + 4 + 20) * 8)) < 1);  /* + FCS, preamble, gap */
    assert_string_equal(at.bottleneck, "NIC line rate");
    o.pacing = SIM_PACE_GBPS;
    o.rate = 0.1;
    run_ok(&p, &c, &o, pk, n, &r);
    assert_int_equal(r.drops, 0);
    assert_true(fabs(r.offered_pps - mlffr) < 0.01 * mlffr);
    free(pk);
    fixture_plan_free(&p);
}

static void test_reta_fold(void **state)
{
    (void)state;
    struct rss_plan p;
    fixture_plan(&p, 4, 1);
    struct sim_costs c;
    sim_costs_default(&c);
    uint64_t n = 5000;
    struct trace_packet *pk = fixture_packets(n, 800, 13);
    uint64_t expect[3] = {0};
    for (uint64_t i = 0; i < n; i++)
        expect[p.ports[0].reta[rss_hash_tuple(&p.ports[0], &pk[i].tuple) & 127] % 3]++;
    struct sim_options o;
    sim_options_default(&o);
    o.cores = 3;
    static struct sim_result r;
    run_ok(&p, &c, &o, pk, n, &r);
    assert_int_equal(r.cores, 3);
    assert_false(r.reta_round_robin);
    for (int k = 0; k < 3; k++)
        assert_int_equal(r.core[k].packets, expect[k]);
    /* More cores than the plan's: round-robin, every core gets packets. */
    o.cores = 8;
    run_ok(&p, &c, &o, pk, n, &r);
    assert_true(r.reta_round_robin);
    for (int k = 0; k < 8; k++)
        assert_true(r.core[k].packets > 0);
    free(pk);
    fixture_plan_free(&p);
}

static void test_lock_wait(void **state)
{
    (void)state;
    struct rss_plan p;
    fixture_plan(&p, 4, 1);
    int table = fixture_object(&p, "table", DEPS_KIND_MAP, DEPS_SHARED);
    fixture_access(&p, table, DEPS_OP_WRITE, 0, KEY_5TUPLE);
    struct sim_costs c;
    sim_costs_default(&c);
    uint64_t n = 4000;
    struct trace_packet *pk = fixture_packets(n, 400, 17);
    struct sim_options o;
    sim_options_default(&o);
    o.pacing = SIM_PACE_PPS;
    o.rate = 50e6;
    o.writes_every_packet = true;
    static struct sim_result r;
    run_ok(&p, &c, &o, pk, n, &r);
    double wait = 0;
    for (int k = 0; k < 4; k++)
        wait += r.core[k].cycles_lock_wait;
    assert_true(wait > 0);      /* writers serialise: four cores wait on each other */
    free(pk);
    fixture_plan_free(&p);
}

/* Inserts happen on a key's first packet; reads on every packet. Shared
 * objects of one group share one lock. */
static void test_path_model(void **state)
{
    (void)state;
    struct rss_plan p;
    fixture_plan(&p, 2, 1);
    int flows = fixture_object(&p, "flows", DEPS_KIND_MAP, DEPS_SHARDED);
    int slots = fixture_object(&p, "slots", DEPS_KIND_VECTOR, DEPS_SHARDED);
    int hits = fixture_object(&p, "hits", DEPS_KIND_VECTOR, DEPS_SHARDED);
    fixture_access(&p, flows, DEPS_OP_READ, 0, KEY_5TUPLE);
    fixture_access(&p, flows, DEPS_OP_WRITE, 0, KEY_5TUPLE);     /* insert */
    fixture_access(&p, slots, DEPS_OP_WRITE, 0, KEY_NONE);       /* index from state */
    fixture_access(&p, hits, DEPS_OP_WRITE, 0, KEY_5TUPLE);      /* per-packet record */
    struct sim_costs c;
    sim_costs_default(&c);
    uint64_t n = 3000;
    struct trace_packet *pk = fixture_packets(n, 100, 23);
    struct sim_options o;
    sim_options_default(&o);
    static struct sim_result r;
    run_ok(&p, &c, &o, pk, n, &r);
    uint64_t flows_seen = r.core[0].flows + r.core[1].flows;
    assert_true(flows_seen > 90 && flows_seen <= 100);
    assert_int_equal(r.path_skipped, 2 * (n - flows_seen));
    assert_int_equal(r.core[0].accesses + r.core[1].accesses, 2 * n + 2 * flows_seen);
    o.writes_every_packet = true;
    run_ok(&p, &c, &o, pk, n, &r);
    assert_int_equal(r.path_skipped, 0);
    assert_int_equal(r.core[0].accesses + r.core[1].accesses, 4 * n);
    free(pk);
    fixture_plan_free(&p);
}

/* Exports the address stream of n fixture packets on one core. */
static void export_stream(const struct rss_plan *p, struct trace_packet *pk, uint64_t n,
                          struct sim_trace_sink *sink)
{
    struct sim_costs c;
    sim_costs_default(&c);
    struct sim_source src;
    struct sim_array_source arr;
    sim_array_source_init(&src, &arr, pk, n);
    struct util_error err;
    memset(sink, 0, sizeof *sink);
    assert_int_equal(sim_export_stream(p, &c, &src, sink, &err), 0);
}

/* Bytes between the lowest and the highest address of a stream. */
static uint64_t address_span(const struct sim_trace_sink *sink)
{
    uint64_t lo = UINT64_MAX, hi = 0;
    for (uint64_t i = 0; i < sink->count; i++) {
        lo = sink->addrs[i] < lo ? sink->addrs[i] : lo;
        hi = sink->addrs[i] > hi ? sink->addrs[i] : hi;
    }
    return sink->count ? hi - lo : 0;
}

/* Keys with a /prefix: sources in one /24 share an entry; the exported
 * address stream shows it. */
static void test_prefix_keys(void **state)
{
    (void)state;
    struct rss_plan p;
    fixture_plan(&p, 1, 1);
    int nets = fixture_object(&p, "nets", DEPS_KIND_VECTOR, DEPS_SHARDED);
    fixture_access(&p, nets, DEPS_OP_READ, 0, (const int[]){IR_FIELD_IPV4_SRC, -1});
    p.deps.accesses[0].key.fields[0].prefix = 24;
    struct trace_packet pk[3];
    memset(pk, 0, sizeof pk);
    ipv4(&pk[0].tuple, "10.1.2.3", "1.1.1.1", 1, 2);
    ipv4(&pk[1].tuple, "10.1.2.200", "2.2.2.2", 3, 4);
    ipv4(&pk[2].tuple, "10.1.3.3", "1.1.1.1", 1, 2);
    struct sim_trace_sink sink;
    export_stream(&p, pk, 3, &sink);
    assert_int_equal(sink.count, 3);
    assert_true(sink.addrs[0] == sink.addrs[1]);
    assert_true(sink.addrs[0] != sink.addrs[2]);
    sim_trace_sink_free(&sink);
    fixture_plan_free(&p);
}

/* The layout rules of runtime/: map slots and the split of sharded maps and
 * allocators, sketch rows, and where each length came from. */
static void test_object_table(void **state)
{
    (void)state;
    struct sim_costs c;
    sim_costs_default(&c);
    struct deps_object d = {.kind = DEPS_KIND_MAP, .decision = DEPS_SHARDED,
                            .key_size = 13, .capacity = 1000};
    strcpy(d.name, "flows");
    struct sim_table t;
    sim_object_table(&c, &d, 1, &t);
    assert_true(t.entries == 2048 && t.entry_bytes == 24 && t.rows == 1 && t.per_core);
    assert_int_equal(t.source, SIM_SIZE_PLAN);
    sim_object_table(&c, &d, 2, &t);        /* 500 a core: 626 slots wanted */
    assert_true(t.entries == 1024 && t.entry_bytes == 24);
    d.decision = DEPS_SHARED;               /* one table, not split */
    sim_object_table(&c, &d, 2, &t);
    assert_true(t.entries == 2048 && !t.per_core);
    d.capacity = 0;                         /* unknown length: the default */
    sim_object_table(&c, &d, 2, &t);
    assert_true(t.entries == c.default_capacity && t.entry_bytes == 24);
    assert_int_equal(t.source, SIM_SIZE_DEFAULT);
    c.n_overrides = 1;                      /* the costs file wins */
    strcpy(c.overrides[0].name, "flows");
    c.overrides[0].capacity = 77;
    c.overrides[0].entry_bytes = 0;
    sim_object_table(&c, &d, 2, &t);
    assert_true(t.entries == 77 && t.entry_bytes == 24);
    assert_int_equal(t.source, SIM_SIZE_COSTS);
    c.n_overrides = 0;

    struct deps_object a = {.kind = DEPS_KIND_ALLOC, .decision = DEPS_SHARDED,
                            .capacity = 1001};
    sim_object_table(&c, &a, 4, &t);
    assert_true(t.entries == 251 && t.entry_bytes == 16);
    struct deps_object s = {.kind = DEPS_KIND_SKETCH, .decision = DEPS_SHARDED,
                            .key_size = 8, .width = 4096, .depth = 3};
    sim_object_table(&c, &s, 4, &t);        /* sketches are copied, not split */
    assert_true(t.entries == 4096 && t.entry_bytes == 4 && t.rows == 3);
    struct deps_object v = {.kind = DEPS_KIND_VECTOR, .decision = DEPS_REPLICATED,
                            .record_size = 12, .capacity = 10};
    sim_object_table(&c, &v, 4, &t);
    assert_true(t.entries == 10 && t.entry_bytes == 12 && t.per_core);
}

/* Tables are laid out from the sizes the plan carries, as runtime/ lays
 * them out: a 256-byte record spans 4 lines; a map of 1000 entries with
 * 13-byte keys is 2048 slots of 24 bytes; unknown sizes take the defaults. */
static void test_layout_from_plan_sizes(void **state)
{
    (void)state;
    uint64_t n = 4000;
    struct trace_packet *pk = fixture_packets(n, 3000, 5);
    struct rss_plan p;
    fixture_plan(&p, 1, 1);
    int v = fixture_object(&p, "records", DEPS_KIND_VECTOR, DEPS_SHARDED);
    fixture_access(&p, v, DEPS_OP_READ, 0, (const int[]){IR_FIELD_IPV4_SRC, -1});
    p.deps.objects[v].record_size = 256;
    p.deps.objects[v].capacity = 100;
    struct sim_trace_sink sink;
    export_stream(&p, pk, n, &sink);
    assert_int_equal(sink.count, 4 * n);
    for (uint64_t i = 0; i < n; i++) {
        assert_int_equal(sink.addrs[4 * i] % 256, 0);
        for (int l = 1; l < 4; l++)
            assert_int_equal(sink.addrs[4 * i + l], sink.addrs[4 * i] + 64 * l);
    }
    assert_true(address_span(&sink) < 100 * 256);
    sim_trace_sink_free(&sink);
    p.deps.objects[v].record_size = 0;      /* unknown: 64-byte default entries */
    export_stream(&p, pk, n, &sink);
    assert_int_equal(sink.count, n);
    sim_trace_sink_free(&sink);
    fixture_plan_free(&p);

    fixture_plan(&p, 1, 1);
    int m = fixture_object(&p, "flows", DEPS_KIND_MAP, DEPS_SHARDED);
    fixture_access(&p, m, DEPS_OP_READ, 0, KEY_5TUPLE);
    p.deps.objects[m].key_size = 13;
    p.deps.objects[m].capacity = 1000;
    export_stream(&p, pk, n, &sink);
    assert_true(sink.count >= n);           /* a 24-byte slot may straddle two lines */
    uint64_t span = address_span(&sink);
    assert_true(span < 2048 * 24 && span > 2048 * 24 * 9 / 10);
    sim_trace_sink_free(&sink);
    fixture_plan_free(&p);
    free(pk);
}

static void test_bad_plan(void **state)
{
    (void)state;
    struct rss_plan p;
    fixture_plan(&p, 2, 1);
    p.ports[0].reta_size = 100;
    struct sim_costs c;
    sim_costs_default(&c);
    struct trace_packet *pk = fixture_packets(10, 10, 1);
    struct sim_options o;
    sim_options_default(&o);
    struct sim_source src;
    struct sim_array_source arr;
    sim_array_source_init(&src, &arr, pk, 10);
    static struct sim_result r;
    struct util_error err;
    assert_int_equal(sim_run(&p, &c, &o, &src, &r, &err), UTIL_EXIT_INPUT);
    assert_non_null(strstr(err.msg, "power of two"));
    p.ports[0].reta_size = 128;
    pk[3].port = 5;                     /* a port the plan lacks */
    sim_array_source_init(&src, &arr, pk, 10);
    assert_int_equal(sim_run(&p, &c, &o, &src, &r, &err), UTIL_EXIT_INPUT);
    assert_non_null(strstr(err.msg, "port 5"));
    free(pk);
    fixture_plan_free(&p);
}

/* The pipelined replay (a second host thread reads and hashes packets)
 * gives exactly the one-thread replay's results: per core, in total, in the
 * MLFFR search, and the same error for a bad packet deep in the trace. */
static void test_threads_identical(void **state)
{
    (void)state;
    struct rss_plan p;
    fixture_plan(&p, 4, 2);
    int flows = fixture_object(&p, "flows", DEPS_KIND_MAP, DEPS_SHARDED);
    int routes = fixture_object(&p, "routes", DEPS_KIND_VECTOR, DEPS_SHARED);
    int count = fixture_object(&p, "count", DEPS_KIND_COUNTER, DEPS_SHARED);
    for (int port = 0; port < 2; port++) {
        fixture_access(&p, flows, DEPS_OP_READ, port, KEY_5TUPLE);
        fixture_access(&p, flows, DEPS_OP_WRITE, port, KEY_5TUPLE);
        fixture_access(&p, routes, DEPS_OP_READ, port,
                       (const int[]){IR_FIELD_IPV4_DST, -1});
    }
    fixture_access(&p, count, DEPS_OP_WRITE, 1, KEY_NONE);
    p.deps.objects[count].group = 1;
    struct sim_costs c;
    sim_costs_default(&c);
    uint64_t n = 30000;                 /* many batches of the pipeline */
    struct trace_packet *pk = fixture_packets(n, 3000, 41);
    for (uint64_t i = 0; i < n; i += 3)
        pk[i].port = 1;
    struct sim_options o;
    sim_options_default(&o);
    o.pacing = SIM_PACE_PPS;
    o.rate = 30e6;                      /* overloaded: drops and lock waits */
    static struct sim_result one, two;
    o.threads = 1;
    run_ok(&p, &c, &o, pk, n, &one);
    o.threads = 2;
    run_ok(&p, &c, &o, pk, n, &two);
    assert_true(one.drops > 0);
    assert_int_equal(one.processed + one.drops, n);
    assert_int_equal(memcmp(one.core, two.core, sizeof one.core), 0);
    assert_int_equal(one.processed, two.processed);
    assert_true(one.duration_s == two.duration_s && one.mpps == two.mpps);
    assert_string_equal(one.bottleneck, two.bottleneck);

    struct sim_source src;
    struct sim_array_source arr;
    struct util_error err;
    double rate_one, rate_two;
    o.threads = 1;
    sim_array_source_init(&src, &arr, pk, n);
    assert_int_equal(sim_mlffr(&p, &c, &o, &src, &rate_one, &one, &err), 0);
    o.threads = 2;
    sim_array_source_init(&src, &arr, pk, n);
    assert_int_equal(sim_mlffr(&p, &c, &o, &src, &rate_two, &two, &err), 0);
    assert_true(rate_one > 0 && rate_one == rate_two);
    assert_int_equal(memcmp(one.core, two.core, sizeof one.core), 0);

    pk[20001].port = 7;                 /* a port the plan lacks, late in the trace */
    for (int threads = 1; threads <= 2; threads++) {
        o.threads = threads;
        sim_array_source_init(&src, &arr, pk, n);
        assert_int_equal(sim_run(&p, &c, &o, &src, &two, &err), UTIL_EXIT_INPUT);
        assert_non_null(strstr(err.msg, "packet 20002 arrives on port 7"));
    }
    free(pk);
    fixture_plan_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache_lru),
        cmocka_unit_test(test_cache_vs_reference),
        cmocka_unit_test(test_calibrate),
        cmocka_unit_test(test_costs_file),
        cmocka_unit_test(test_default_conf_matches),
        cmocka_unit_test(test_rss_counts),
        cmocka_unit_test(test_coherence_shared_vs_sharded),
        cmocka_unit_test(test_ring_drops),
        cmocka_unit_test(test_absent_fields),
        cmocka_unit_test(test_mlffr),
        cmocka_unit_test(test_nic_bottleneck),
        cmocka_unit_test(test_reta_fold),
        cmocka_unit_test(test_lock_wait),
        cmocka_unit_test(test_path_model),
        cmocka_unit_test(test_prefix_keys),
        cmocka_unit_test(test_bad_plan),
        cmocka_unit_test(test_threads_identical),
        cmocka_unit_test(test_object_table),
        cmocka_unit_test(test_layout_from_plan_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
