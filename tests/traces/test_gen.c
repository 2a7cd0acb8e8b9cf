/*
 * test_gen.c - the synthetic trace generator: same seed same bytes, file and
 * in-memory generator agree, Zipf skew is measurable, replies with
 * --two-port, valid IPv4/TCP/UDP checksums, churn, sizes, rate/duration.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "traces/traces.h"

static void tmp_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "/tmp/rsskey-test-gen-%d-%s", (int)getpid(), name);
}

static char *slurp(const char *path, size_t *len)
{
    struct util_error err;
    char *data = util_read_file(path, len, &err);
    assert_non_null(data);
    return data;
}

/* Stats of the generator's packets, with the two-port LAN policy applied. */
static void gen_stats(const struct trace_gen_options *o, struct trace_stats *s)
{
    struct util_error err;
    struct trace_gen *g = trace_gen_new(o, &err);
    assert_non_null(g);
    trace_stats_init(s);
    struct trace_packet p;
    while (trace_gen_next(g, &p) == 1)
        assert_int_equal(trace_stats_add(s, &p, &err), 0);
    trace_gen_free(g);
}

static void test_seed_reproducible(void **state)
{
    (void)state;
    struct trace_gen_options o;
    trace_gen_defaults(&o);
    o.packets = 3000;
    o.flows = 300;
    o.ipv6_share = 0.4;
    o.two_port = true;
    o.churn = 2;
    char a[128], b[128], c[128];
    tmp_path(a, sizeof a, "a.pcap");
    tmp_path(b, sizeof b, "b.pcap");
    tmp_path(c, sizeof c, "c.pcap");
    struct util_error err;
    assert_int_equal(trace_gen_write(&o, a, NULL, &err), 0);
    assert_int_equal(trace_gen_write(&o, b, NULL, &err), 0);
    o.seed = 2;
    assert_int_equal(trace_gen_write(&o, c, NULL, &err), 0);
    size_t la, lb, lc;
    char *da = slurp(a, &la), *db = slurp(b, &lb), *dc = slurp(c, &lc);
    assert_int_equal(la, lb);
    assert_memory_equal(da, db, la);
    assert_true(la != lc || memcmp(da, dc, la) != 0);

    /* The file holds exactly what the in-memory generator yields. */
    o.seed = 1;
    struct trace_gen *g = trace_gen_new(&o, &err);
    struct trace_reader *r = trace_open(a, &err);
    assert_non_null(g);
    assert_non_null(r);
    struct trace_packet pg, pr;
    uint64_t n = 0;
    while (trace_gen_next(g, &pg) == 1) {
        assert_int_equal(trace_next(r, &pr, &err), 1);
        assert_int_equal(pg.time_ns, pr.time_ns);
        assert_int_equal(pg.cap_len, pr.cap_len);
        assert_int_equal(pg.wire_len, pr.wire_len);
        assert_memory_equal(pg.data, pr.data, pg.cap_len);
        n++;
    }
    assert_int_equal(trace_next(r, &pr, &err), 0);
    assert_int_equal(n, 3000);
    trace_close(r);
    trace_gen_free(g);
    free(da);
    free(db);
    free(dc);
    unlink(a);
    unlink(b);
    unlink(c);
}

static void test_zipf_skew(void **state)
{
    (void)state;
    struct trace_gen_options o;
    trace_gen_defaults(&o);
    o.packets = 20000;
    o.flows = 1000;
    struct trace_stats s;
    struct trace_flow top;

    o.zipf = 1.2;       /* top share = 1 / sum_{k<=1000} k^-1.2 = 0.231 */
    gen_stats(&o, &s);
    assert_int_equal(trace_stats_top_flows(&s, &top, 1), 1);
    double share = (double)top.packets / (double)s.packets;
    assert_true(share > 0.20 && share < 0.26);
    trace_stats_free(&s);

    o.zipf = 0;         /* uniform: 20 packets a flow on average */
    gen_stats(&o, &s);
    assert_int_equal(trace_stats_top_flows(&s, &top, 1), 1);
    assert_true(top.packets < 60);
    assert_true(s.n_flows > 990);
    trace_stats_free(&s);
}

static bool key_in_lan(const struct trace_flow_key *k)
{
    return (k->ip_version == 4 && k->src[0] == 10) || (k->ip_version == 6 && k->src[0] == 0xfd);
}

static bool has_flow(const struct trace_stats *s, const struct trace_flow_key *k)
{
    for (size_t i = 0; i < s->capacity; i++)
        if (s->flows[i].packets && memcmp(&s->flows[i].key, k, sizeof *k) == 0)
            return true;
    return false;
}

static void test_two_port_replies(void **state)
{
    (void)state;
    struct trace_gen_options o;
    trace_gen_defaults(&o);
    o.packets = 10000;
    o.flows = 200;
    o.ipv6_share = 0.5;
    o.two_port = true;
    struct util_error err;
    struct trace_source_options so;
    memset(&so, 0, sizeof so);
    assert_int_equal(trace_options_add_lan(&so, "10.0.0.0/8,fd00::/8", &err), 0);

    struct trace_gen *g = trace_gen_new(&o, &err);
    assert_non_null(g);
    struct trace_stats s;
    trace_stats_init(&s);
    struct trace_packet p;
    uint64_t ports[2] = {0, 0};
    while (trace_gen_next(g, &p) == 1) {
        uint16_t lan_port = trace_lan_port(so.lan, so.n_lan, &p.tuple);
        assert_int_equal(lan_port, p.port);     /* the generator's port == the policy's */
        ports[lan_port]++;
        assert_int_equal(trace_stats_add(&s, &p, &err), 0);
    }
    trace_gen_free(g);
    /* About half the packets after each flow's first are replies. */
    assert_true(ports[1] > 4000 && ports[1] < 5000);
    /* Every reply flow answers a request flow: the reverse 5-tuple exists. */
    size_t replies = 0;
    for (size_t i = 0; i < s.capacity; i++) {
        const struct trace_flow *f = &s.flows[i];
        if (!f->packets || key_in_lan(&f->key))
            continue;
        struct trace_flow_key rev = f->key;
        memcpy(rev.src, f->key.dst, 16);
        memcpy(rev.dst, f->key.src, 16);
        rev.sport = f->key.dport;
        rev.dport = f->key.sport;
        assert_true(key_in_lan(&rev));
        assert_true(has_flow(&s, &rev));
        replies++;
    }
    assert_true(replies > 150);
    trace_stats_free(&s);

    /* Without --two-port everything comes from the LAN. */
    o.two_port = false;
    gen_stats(&o, &s);
    for (size_t i = 0; i < s.capacity; i++)
        if (s.flows[i].packets)
            assert_true(key_in_lan(&s.flows[i].key));
    trace_stats_free(&s);
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum;
}

static void test_checksums_valid(void **state)
{
    (void)state;
    struct trace_gen_options o;
    trace_gen_defaults(&o);
    o.packets = 2000;
    o.flows = 100;
    o.ipv6_share = 0.5;
    o.two_port = true;
    struct util_error err;
    assert_int_equal(trace_size_dist_parse("uniform:60-333", &o.sizes, &err), 0);
    struct trace_gen *g = trace_gen_new(&o, &err);
    assert_non_null(g);
    struct trace_packet p;
    unsigned counted[2][2] = {{0, 0}, {0, 0}};
    while (trace_gen_next(g, &p) == 1) {
        const uint8_t *ip = p.data + 14;
        assert_true(p.tuple.has_ports);
        uint32_t l4_len, pseudo;
        const uint8_t *l4;
        if (p.tuple.ip_version == 4) {
            assert_int_equal(sum16(ip, 20, 0), 0xffff);
            l4 = ip + 20;
            l4_len = (uint32_t)(ip[2] << 8 | ip[3]) - 20;
            pseudo = sum16(ip + 12, 8, 0) + ip[9] + l4_len;
        } else {
            l4 = ip + 40;
            l4_len = (uint32_t)(ip[4] << 8 | ip[5]);
            pseudo = sum16(ip + 8, 32, 0) + ip[6] + l4_len;
        }
        assert_int_equal(14 + (l4 - ip) + l4_len, p.wire_len);
        assert_int_equal(sum16(l4, l4_len, pseudo), 0xffff);
        counted[p.tuple.ip_version == 6][p.tuple.proto == 17]++;
    }
    trace_gen_free(g);
    for (int v = 0; v < 2; v++)
        for (int u = 0; u < 2; u++)
            assert_true(counted[v][u] > 50);    /* all four kinds were checked */
}

static void test_churn_rate_sizes(void **state)
{
    (void)state;
    struct trace_gen_options o;
    trace_gen_defaults(&o);
    struct util_error err;
    struct trace_stats s;

    /* --duration 10 at 1000 pps: 10000 packets; churn 1/s over 100 slots
     * brings ~1000 new flows. */
    o.flows = 100;
    o.pps = 1000;
    o.duration_s = 10;
    o.zipf = 0;
    assert_int_equal(trace_gen_check(&o, &err), 0);
    assert_int_equal(o.packets, 10000);
    gen_stats(&o, &s);
    assert_int_equal(s.packets, 10000);
    assert_int_equal(s.last_ns - s.first_ns, 9999 * 1000000ull);
    assert_true(s.n_flows <= 100);
    trace_stats_free(&s);
    o.churn = 1.0;
    gen_stats(&o, &s);
    assert_true(s.n_flows > 800 && s.n_flows <= 1100);
    trace_stats_free(&s);

    /* --packets with --duration sets the rate. */
    trace_gen_defaults(&o);
    o.packets = 500;
    o.packets_given = true;
    o.duration_s = 5;
    assert_int_equal(trace_gen_check(&o, &err), 0);
    assert_true(o.pps > 99.99 && o.pps < 100.01);

    /* Sizes and snaplen. */
    trace_gen_defaults(&o);
    o.packets = 1000;
    o.snaplen = 60;
    o.ipv6_share = 0.5;
    assert_int_equal(trace_size_dist_parse("fixed:300", &o.sizes, &err), 0);
    struct trace_gen *g = trace_gen_new(&o, &err);
    struct trace_packet p;
    while (trace_gen_next(g, &p) == 1) {
        assert_int_equal(p.wire_len, 300);
        assert_int_equal(p.cap_len, 60);
    }
    trace_gen_free(g);
    assert_int_equal(trace_size_dist_parse("64:1,1500:3", &o.sizes, &err), 0);
    assert_int_equal(o.sizes.n, 2);
    assert_int_equal(trace_size_dist_parse("uniform:9-3", &o.sizes, &err), -1);
    assert_int_equal(trace_size_dist_parse("big", &o.sizes, &err), -1);
    assert_non_null(strstr(err.msg, "big"));
    assert_int_equal(trace_size_dist_parse("64:0", &o.sizes, &err), -1);
    trace_gen_defaults(&o);
    o.zipf = -1;
    assert_int_equal(trace_gen_check(&o, &err), -1);

    /* IPv6 share is a share of flows. */
    trace_gen_defaults(&o);
    o.ipv6_share = 0.25;
    o.zipf = 0;
    gen_stats(&o, &s);
    double v6 = (double)s.ipv6 / (double)s.packets;
    assert_true(v6 > 0.18 && v6 < 0.32);
    trace_stats_free(&s);
}

static void test_write_failure_leaves_nothing(void **state)
{
    (void)state;
    struct trace_gen_options o;
    trace_gen_defaults(&o);
    struct util_error err;
    assert_int_equal(trace_gen_write(&o, "/nonexistent-dir/x.pcap", NULL, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent-dir/x.pcap"));
}

/* traces/demo/demo-2port.pcap is exactly what its documented command makes. */
static void test_demo_trace_matches_its_command(void **state)
{
    (void)state;
    const char *demo = RSSKEY_SOURCE_DIR "/traces/demo/demo-2port.pcap";
    struct trace_gen_options o;
    trace_gen_defaults(&o);
    o.seed = 42;
    o.flows = 200;
    o.packets = 2500;
    o.packets_given = true;
    o.zipf = 1.1;
    o.pps = 5000;
    o.churn = 1;
    o.two_port = true;
    struct util_error err;
    assert_int_equal(trace_size_dist_parse("imix", &o.sizes, &err), 0);
    char fresh[128];
    tmp_path(fresh, sizeof fresh, "demo.pcap");
    assert_int_equal(trace_gen_write(&o, fresh, NULL, &err), 0);
    size_t la, lb;
    char *a = slurp(demo, &la), *b = slurp(fresh, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a);
    free(b);
    unlink(fresh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_reproducible),
        cmocka_unit_test(test_zipf_skew),
        cmocka_unit_test(test_two_port_replies),
        cmocka_unit_test(test_checksums_valid),
        cmocka_unit_test(test_churn_rate_sizes),
        cmocka_unit_test(test_write_failure_leaves_nothing),
        cmocka_unit_test(test_demo_trace_matches_its_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
