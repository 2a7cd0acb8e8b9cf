/*
 * test_nf_nat.c - the NAT rewrites LAN sources to its external address and
 * an allocated port, translates replies back, keeps checksums valid, and
 * lets only the flow's remote host answer (the guard).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "nat_script.h"
#include "nf_harness.h"
#include "rsskey/nf.h"

#define EXTERNAL PB_IPV4(203, 0, 113, 7)
#define BASE_PORT 2000
#define CAPACITY 4

static const char *const config[] = {
    "external_ip=0xCB007107", "base_port=2000", "capacity=4", "expiry_ms=1000", NULL,
};

static const uint32_t inside = PB_IPV4(10, 0, 0, 5);
static const uint32_t remote = PB_IPV4(198, 51, 100, 9);

/* Sends a LAN packet, checks the translation, returns the external port. */
static uint16_t open_flow(uint8_t proto, uint16_t sport, uint64_t time_ns)
{
    struct pb_spec s = pb_ipv4(proto, inside, remote, sport, 80);
    uint8_t frame[PB_MAX_FRAME];
    size_t len = pb_build(&s, frame, sizeof frame);
    assert_int_equal(harness_send(frame, len, 0, time_ns), 1);
    struct pb_view v;
    assert_true(pb_parse(frame, len, &v));
    assert_int_equal(v.src_ip, EXTERNAL);
    assert_int_equal(v.dst_ip, remote);
    assert_int_equal(v.dport, 80);
    assert_in_range(v.sport, BASE_PORT, BASE_PORT + CAPACITY - 1);
    assert_true(pb_checksums_valid(frame, len));
    return v.sport;
}

static void translates_both_ways(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    for (int proto_i = 0; proto_i < 2; proto_i++) {
        uint8_t proto = proto_i == 0 ? NF_PROTO_TCP : NF_PROTO_UDP;
        uint16_t sport = (uint16_t)(1234 + proto_i);
        uint16_t external_port = open_flow(proto, sport, 0);
        /* The same flow keeps its port. */
        assert_int_equal(open_flow(proto, sport, 1), external_port);

        struct pb_spec r = pb_ipv4(proto, remote, EXTERNAL, 80, external_port);
        uint8_t frame[PB_MAX_FRAME];
        size_t len = pb_build(&r, frame, sizeof frame);
        assert_int_equal(harness_send(frame, len, 1, 2), 0);
        struct pb_view v;
        assert_true(pb_parse(frame, len, &v));
        assert_int_equal(v.src_ip, remote);
        assert_int_equal(v.sport, 80);
        assert_int_equal(v.dst_ip, inside);
        assert_int_equal(v.dport, sport);
        assert_true(pb_checksums_valid(frame, len));
    }
}

static void distinct_flows_distinct_ports(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    uint16_t seen[CAPACITY];
    for (int i = 0; i < CAPACITY; i++) {
        seen[i] = open_flow(NF_PROTO_TCP, (uint16_t)(3000 + i), 0);
        for (int j = 0; j < i; j++)
            assert_int_not_equal(seen[i], seen[j]);
    }
    /* Every external port in use: a fifth flow is dropped. */
    struct pb_spec s = pb_ipv4(NF_PROTO_TCP, inside, remote, 4000, 80);
    assert_int_equal(harness_send_spec(&s, 0, 1), NF_DROP);
}

static void guard_drops_other_hosts(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    uint16_t port = open_flow(NF_PROTO_TCP, 1234, 0);
    struct pb_spec other_host = pb_ipv4(NF_PROTO_TCP, PB_IPV4(198, 51, 100, 10), EXTERNAL,
                                        80, port);
    assert_int_equal(harness_send_spec(&other_host, 1, 1), NF_DROP);
    struct pb_spec other_port = pb_ipv4(NF_PROTO_TCP, remote, EXTERNAL, 81, port);
    assert_int_equal(harness_send_spec(&other_port, 1, 1), NF_DROP);
    struct pb_spec other_proto = pb_ipv4(NF_PROTO_UDP, remote, EXTERNAL, 80, port);
    assert_int_equal(harness_send_spec(&other_proto, 1, 1), NF_DROP);
    struct pb_spec other_dst = pb_ipv4(NF_PROTO_TCP, remote, PB_IPV4(203, 0, 113, 8), 80, port);
    assert_int_equal(harness_send_spec(&other_dst, 1, 1), NF_DROP);
    /* Ports outside the range, and a free port inside it. */
    uint16_t free_port = port == BASE_PORT ? BASE_PORT + 1 : BASE_PORT;
    uint16_t probes[] = {BASE_PORT - 1, BASE_PORT + CAPACITY, 80, free_port};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        struct pb_spec p = pb_ipv4(NF_PROTO_TCP, remote, EXTERNAL, 80, probes[i]);
        assert_int_equal(harness_send_spec(&p, 1, 1), NF_DROP);
    }
    /* The right host still gets through. */
    struct pb_spec reply = pb_ipv4(NF_PROTO_TCP, remote, EXTERNAL, 80, port);
    assert_int_equal(harness_send_spec(&reply, 1, 2), 0);
}

static void flows_expire(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    uint16_t port = open_flow(NF_PROTO_UDP, 1234, 0);
    struct pb_spec reply = pb_ipv4(NF_PROTO_UDP, remote, EXTERNAL, 80, port);
    assert_int_equal(harness_send_spec(&reply, 1, 900 * MS), 0);       /* refreshes */
    assert_int_equal(harness_send_spec(&reply, 1, 1900 * MS), 0);
    assert_int_equal(harness_send_spec(&reply, 1, 2900 * MS + 1), NF_DROP);
}

static void rejects_port_range_overflow(void **state)
{
    (void)state;
    const char *const bad[] = {"base_port=65000", "capacity=1000", NULL};
    assert_int_not_equal(harness_init(bad), 0);
}

static void non_tcp_udp_dropped(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    struct pb_spec icmp = pb_ipv4(1, inside, remote, 0, 0);
    assert_int_equal(harness_send_spec(&icmp, 0, 0), NF_DROP);
    struct pb_spec v6 = pb_ipv4(NF_PROTO_TCP, 0, 0, 1, 2);
    v6.ip_version = 6;
    assert_int_equal(harness_send_spec(&v6, 0, 0), NF_DROP);
}

/* ---- Multi-core: sharded by the remote host ------------------------------ */

static int core_remote_host(const uint8_t *frame, size_t len, uint16_t port, int cores,
                            void *ctx)
{
    (void)ctx;
    struct pb_view v;
    pb_parse(frame, len, &v);
    return (int)(harness_mix(port == 0 ? v.dst_ip : v.src_ip) % (uint32_t)cores);
}

static int core_local_host(const uint8_t *frame, size_t len, uint16_t port, int cores,
                           void *ctx)
{
    (void)ctx;
    (void)port;
    struct pb_view v;
    pb_parse(frame, len, &v);
    return (int)(harness_mix(v.src_ip) % (uint32_t)cores);
}

static void sharded_by_remote_host_matches_sequential(void **state)
{
    (void)state;
    static struct nat_script script;
    static struct nat_script_outcome seq, par;
    nat_script_make(&script, 2024);
    assert_int_equal(nat_script_run(&script, 0, NULL, NULL, &seq), 0);
    assert_int_equal(nat_script_run(&script, 4, core_remote_host, NULL, &par), 0);
    int forwarded, dropped;
    int differ = nat_script_differences(&seq, &par, &forwarded, &dropped);
    struct rt_stats stats;
    rt_stats(&stats);
    fprintf(stderr, "nat: %d steps (sequential: %d forwarded, %d dropped), 4 cores sharded "
            "by remote host: %d differ\n", NAT_SCRIPT_STEPS, forwarded, dropped, differ);
    assert_int_equal(differ, 0);
    assert_int_equal(stats.plan_violations, 0);
    assert_true(forwarded > 1000 && dropped > 50);        /* the workload bites */

    /* Sharding by the local host sends replies to the wrong core. */
    assert_int_equal(nat_script_run(&script, 4, core_local_host, NULL, &par), 0);
    differ = nat_script_differences(&seq, &par, &forwarded, &dropped);
    fprintf(stderr, "nat: sharded by local host: %d differ\n", differ);
    assert_true(differ > 0);
}

static void survives_malformed_frames(void **state)
{
    (void)state;
    assert_int_equal(harness_init(NULL), 0);
    assert_int_equal(harness_fuzz(42, 3000), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(translates_both_ways),
        cmocka_unit_test(distinct_flows_distinct_ports),
        cmocka_unit_test(guard_drops_other_hosts),
        cmocka_unit_test(flows_expire),
        cmocka_unit_test(rejects_port_range_overflow),
        cmocka_unit_test(non_tcp_udp_dropped),
        cmocka_unit_test(sharded_by_remote_host_matches_sequential),
        cmocka_unit_test(survives_malformed_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
