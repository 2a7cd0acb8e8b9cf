/*
 * test_nf_nat.c - the NAT rewrites LAN sources to its external address and
 * an allocated port, translates replies back, keeps checksums valid, and
 * lets only the flow's remote host answer (the guard).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(translates_both_ways),
        cmocka_unit_test(distinct_flows_distinct_ports),
        cmocka_unit_test(guard_drops_other_hosts),
        cmocka_unit_test(flows_expire),
        cmocka_unit_test(rejects_port_range_overflow),
        cmocka_unit_test(non_tcp_udp_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
