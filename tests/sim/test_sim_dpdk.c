/*
 * test_sim_dpdk.c - acceptance: the simulator's per-core packet counts equal
 * an independent computation with DPDK's rte_softrss and the plan's RETA, on
 * a generated trace (traces/' generator, IPv4 and IPv6, TCP and UDP) and on
 * the shared real captures when they exist. Also checks that sim/'s copies
 * of the RTE_ETH_RSS_* bits match rte_ethdev.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>
#include <rte_ethdev.h>
#include <rte_thash.h>

#include "sim/sim_internal.h"
#include "sim_fixture.h"

_Static_assert(SIM_RSS_IPV4 == RTE_ETH_RSS_IPV4, "rss_hf bit");
_Static_assert(SIM_RSS_FRAG_IPV4 == RTE_ETH_RSS_FRAG_IPV4, "rss_hf bit");
_Static_assert(SIM_RSS_NONFRAG_IPV4_TCP == RTE_ETH_RSS_NONFRAG_IPV4_TCP, "rss_hf bit");
_Static_assert(SIM_RSS_NONFRAG_IPV4_UDP == RTE_ETH_RSS_NONFRAG_IPV4_UDP, "rss_hf bit");
_Static_assert(SIM_RSS_NONFRAG_IPV4_OTHER == RTE_ETH_RSS_NONFRAG_IPV4_OTHER, "rss_hf bit");
_Static_assert(SIM_RSS_IPV6 == RTE_ETH_RSS_IPV6, "rss_hf bit");
_Static_assert(SIM_RSS_FRAG_IPV6 == RTE_ETH_RSS_FRAG_IPV6, "rss_hf bit");
_Static_assert(SIM_RSS_NONFRAG_IPV6_TCP == RTE_ETH_RSS_NONFRAG_IPV6_TCP, "rss_hf bit");
_Static_assert(SIM_RSS_NONFRAG_IPV6_UDP == RTE_ETH_RSS_NONFRAG_IPV6_UDP, "rss_hf bit");
_Static_assert(SIM_RSS_NONFRAG_IPV6_OTHER == RTE_ETH_RSS_NONFRAG_IPV6_OTHER, "rss_hf bit");
_Static_assert(SIM_RSS_L3_SRC_ONLY == RTE_ETH_RSS_L3_SRC_ONLY, "rss_hf bit");
_Static_assert(SIM_RSS_L4_DST_ONLY == RTE_ETH_RSS_L4_DST_ONLY, "rss_hf bit");
_Static_assert(FIXTURE_RSS_HF == (RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP |
                                  RTE_ETH_RSS_NONFRAG_IPV4_UDP | RTE_ETH_RSS_IPV6 |
                                  RTE_ETH_RSS_NONFRAG_IPV6_TCP | RTE_ETH_RSS_NONFRAG_IPV6_UDP),
               "fixture rss_hf");

#define CORES 4

/* The DPDK side, written from the NIC rules (FIXTURE_RSS_HF: every IPv4 and
 * IPv6 packet; TCP/UDP with ports on the 4-tuple) without sim/'s code. */
static uint32_t dpdk_hash(const struct trace_tuple *t)
{
    if (t->ip_version != 4 && t->ip_version != 6)
        return 0;
    uint8_t bytes[36];
    int alen = t->ip_version == 4 ? 4 : 16, n = 0;
    memcpy(bytes, t->src, alen);
    memcpy(bytes + alen, t->dst, alen);
    n = 2 * alen;
    if (t->has_ports && !t->is_fragment && (t->proto == 6 || t->proto == 17)) {
        memcpy(bytes + n, &t->sport, 2);
        memcpy(bytes + n + 2, &t->dport, 2);
        n += 4;
    }
    uint32_t words[9];
    for (int i = 0; i < n / 4; i++)
        words[i] = (uint32_t)bytes[4 * i] << 24 | (uint32_t)bytes[4 * i + 1] << 16 |
                   (uint32_t)bytes[4 * i + 2] << 8 | bytes[4 * i + 3];
    return rte_softrss(words, (uint32_t)(n / 4), fixture_key);
}

/* Replays path through the simulator (RSS only and full) and through DPDK;
 * returns the packet count. */
static uint64_t compare_file(const char *path)
{
    struct rss_plan p;
    fixture_plan(&p, CORES, 1);
    /* A RETA that is not round-robin, so folding mistakes would show. */
    for (int k = 0; k < 128; k++)
        p.ports[0].reta[k] = (uint16_t)((k * 7 + k / 5) % CORES);
    struct util_error err;
    uint64_t expect[CORES] = {0}, n = 0;
    struct trace_reader *r = trace_open(path, &err);
    if (!r)
        fail_msg("%s", err.msg);
    struct trace_packet pkt;
    int got;
    while ((got = trace_next(r, &pkt, &err)) == 1) {
        expect[p.ports[0].reta[dpdk_hash(&pkt.tuple) & 127]]++;
        n++;
    }
    assert_int_equal(got, 0);
    trace_close(r);

    struct sim_costs c;
    sim_costs_default(&c);
    c.ring_size = 1u << 20;     /* the trace's own timing: keep every packet */
    struct trace_source_options so = {0};
    assert_int_equal(trace_options_add_file(&so, path, &err), 0);
    struct sim_source src;
    assert_int_equal(sim_file_source_open(&src, &so, &err), 0);
    struct sim_options o;
    sim_options_default(&o);
    static struct sim_result fast, full;
    o.rss_only = true;
    assert_int_equal(sim_run(&p, &c, &o, &src, &fast, &err), 0);
    assert_int_equal(src.rewind(src.ctx, &err), 0);
    o.rss_only = false;
    o.pacing = SIM_PACE_PPS;
    o.rate = 1e5;
    assert_int_equal(sim_run(&p, &c, &o, &src, &full, &err), 0);
    sim_file_source_close(&src);
    for (int k = 0; k < CORES; k++) {
        print_message("%s: core %d: dpdk %llu, sim %llu\n", path, k,
                      (unsigned long long)expect[k], (unsigned long long)fast.core[k].packets);
        assert_int_equal(fast.core[k].packets, expect[k]);
        assert_int_equal(full.core[k].packets + full.core[k].drops, expect[k]);
    }
    assert_int_equal(full.drops, 0);
    fixture_plan_free(&p);
    return n;
}

static void test_generated_trace(void **state)
{
    (void)state;
    char dir[] = "/tmp/rsskey-sim-dpdk-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/gen.pcap", dir);
    struct trace_gen_options g;
    trace_gen_defaults(&g);
    g.seed = 42;
    g.flows = 3000;
    g.packets = 40000;
    g.ipv6_share = 0.3;
    g.tcp_share = 0.6;
    g.two_port = true;
    struct util_error err;
    assert_int_equal(trace_gen_check(&g, &err), 0);
    assert_int_equal(trace_gen_write(&g, path, NULL, &err), 0);
    assert_int_equal(compare_file(path), 40000);
    unlink(path);
    rmdir(dir);
}

static void test_real_traces(void **state)
{
    (void)state;
    static const char *names[] = {"web-tls-v4v6.pcap", "web-v4.pcap", "p2p-gnutella.pcap",
                                  "real-mix-104k.pcap"};
    int done = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/traces/%s", RSSKEY_SHARED_DIR, names[i]);
        if (access(path, R_OK) != 0)
            continue;
        compare_file(path);
        done++;
    }
    if (!done)
        skip();
}

/* The fast per-port hasher the simulator replays with (rss_port_hasher)
 * agrees with rss_hash_tuple, the plan's own definition, for every packet of
 * a real capture, under several rss_hf settings (selectors included) and
 * both key sizes. */
static void test_same_as_rss_hash_tuple(void **state)
{
    (void)state;
    static const uint64_t hfs[] = {
        FIXTURE_RSS_HF,
        RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_IPV6,
        RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV6_UDP,
        FIXTURE_RSS_HF | RTE_ETH_RSS_L3_SRC_ONLY,
        FIXTURE_RSS_HF | RTE_ETH_RSS_L4_DST_ONLY,
        RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_FRAG_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_OTHER,
    };
    char path[1024];
    snprintf(path, sizeof path, "%s/traces/%s", RSSKEY_SHARED_DIR, "web-tls-v4v6.pcap");
    if (access(path, R_OK) != 0)
        skip();
    struct util_error err;
    uint64_t compared = 0;
    for (size_t i = 0; i < sizeof hfs / sizeof hfs[0]; i++) {
        for (int key_len = 40; key_len <= 52; key_len += 12) {
            struct rss_port_config cfg = {0};
            for (int b = 0; b < key_len; b++)
                cfg.key[b] = (uint8_t)(fixture_key[b % 40] * 7 + b);
            cfg.key_len = key_len;
            cfg.rss_hf = hfs[i];
            cfg.reta_size = 128;
            struct rss_port_hasher *h = malloc(sizeof *h);
            assert_non_null(h);
            rss_port_hasher_init(h, &cfg);
            struct trace_reader *r = trace_open(path, &err);
            assert_non_null(r);
            struct trace_packet pkt;
            while (trace_next(r, &pkt, &err) == 1) {
                uint32_t want = rss_hash_tuple(&cfg, &pkt.tuple);
                uint32_t got = rss_port_hasher_hash(h, &pkt.tuple);
                if (want != got)
                    fail_msg("rss_hf %#llx key %d: rss %08x sim %08x",
                             (unsigned long long)hfs[i], key_len, want, got);
                compared++;
            }
            trace_close(r);
            free(h);
        }
    }
    assert_true(compared > 10000);
}

/* sim's single-file fast path yields exactly what traces/' merged source
 * does: same packets, tuples, ports (LAN policy and fixed), timestamps. */
static void test_source_matches_trace_source(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/traces/%s", RSSKEY_SHARED_DIR, "real-mix-104k.pcap");
    if (access(path, R_OK) != 0)
        skip();
    struct util_error err;
    char spec[1100];
    snprintf(spec, sizeof spec, "1=%s", path);
    for (int variant = 0; variant < 3; variant++) {
        struct trace_source_options so = {0};
        if (variant == 2)
            assert_int_equal(trace_options_add_port_file(&so, spec, &err), 0);
        else
            assert_int_equal(trace_options_add_file(&so, path, &err), 0);
        if (variant == 1)
            assert_int_equal(trace_options_add_lan(&so, "10.0.0.0/8,192.168.0.0/16,fd00::/8",
                                                   &err), 0);
        struct trace_source *ref = trace_source_open(&so, &err);
        assert_non_null(ref);
        struct sim_source src;
        assert_int_equal(sim_file_source_open(&src, &so, &err), 0);
        struct trace_packet a, b;
        uint64_t n = 0, port1 = 0;
        int ra, rb;
        while ((ra = trace_source_next(ref, &a, &err)) == 1) {
            rb = src.next(src.ctx, &b, &err);
            assert_int_equal(rb, 1);
            assert_int_equal(a.port, b.port);
            assert_true(a.time_ns == b.time_ns && a.wire_len == b.wire_len);
            assert_true(a.tuple.ip_version == b.tuple.ip_version &&
                        a.tuple.proto == b.tuple.proto &&
                        a.tuple.has_ports == b.tuple.has_ports &&
                        a.tuple.is_fragment == b.tuple.is_fragment &&
                        a.tuple.sport == b.tuple.sport && a.tuple.dport == b.tuple.dport);
            assert_memory_equal(a.tuple.src, b.tuple.src, 16);
            assert_memory_equal(a.tuple.dst, b.tuple.dst, 16);
            assert_memory_equal(a.tuple.src_mac, b.tuple.src_mac, 6);
            port1 += b.port == 1;
            n++;
        }
        assert_int_equal(ra, 0);
        assert_int_equal(src.next(src.ctx, &b, &err), 0);
        assert_true(n > 100000);
        if (variant == 1)
            assert_true(port1 > 0 && port1 < n);
        trace_source_close(ref);
        sim_file_source_close(&src);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated_trace),
        cmocka_unit_test(test_real_traces),
        cmocka_unit_test(test_same_as_rss_hash_tuple),
        cmocka_unit_test(test_source_matches_trace_source),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
