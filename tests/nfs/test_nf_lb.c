/*
 * test_nf_lb.c - the load balancer pins flows to live backends, consumes
 * heartbeats, and moves the flows of a backend that stopped beating.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "nf_harness.h"
#include "rsskey/nf.h"

#define FLOWS 32

static const char *const config[] = {"backends=4", "chash_size=31", "backend_timeout_ms=100",
                                     "capacity=64", "expiry_ms=10000", NULL};

static const uint32_t vip = PB_IPV4(10, 10, 10, 10);
static const uint32_t b1 = PB_IPV4(10, 9, 0, 1);
static const uint32_t b2 = PB_IPV4(10, 9, 0, 2);
static const uint32_t b3 = PB_IPV4(10, 9, 0, 3);

static void heartbeat(uint32_t backend, uint64_t t)
{
    struct pb_spec hb = pb_ipv4(NF_PROTO_UDP, backend, PB_IPV4(10, 9, 255, 255), 7777, 7777);
    assert_int_equal(harness_send_spec(&hb, 1, t), NF_DROP);       /* consumed */
}

/* Sends client flow i; returns the backend IP it was sent to, 0 if dropped. */
static uint32_t client(int i, uint64_t t)
{
    struct pb_spec s = pb_ipv4(NF_PROTO_TCP, PB_IPV4(100, 64, 0, 1 + i), vip,
                               (uint16_t)(30000 + i * 7), 80);
    uint8_t frame[PB_MAX_FRAME];
    size_t len = pb_build(&s, frame, sizeof frame);
    int verdict = harness_send(frame, len, 0, t);
    if (verdict == NF_DROP)
        return 0;
    assert_int_equal(verdict, 1);
    struct pb_view v;
    assert_true(pb_parse(frame, len, &v));
    assert_true(pb_checksums_valid(frame, len));
    assert_int_equal(v.dport, 80);
    return v.dst_ip;
}

static void no_backend_drops(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    assert_int_equal(client(0, 0), 0);
    heartbeat(b1, 1);
    assert_int_equal(client(0, 2), b1);
}

static void flows_stick_and_spread(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    heartbeat(b1, 0);
    heartbeat(b2, 0);
    uint32_t first[FLOWS];
    int on_b1 = 0, on_b2 = 0;
    for (int i = 0; i < FLOWS; i++) {
        first[i] = client(i, 1);
        on_b1 += first[i] == b1;
        on_b2 += first[i] == b2;
    }
    assert_int_equal(on_b1 + on_b2, FLOWS);
    assert_true(on_b1 > 0 && on_b2 > 0);
    /* A third backend joins: pinned flows do not move. */
    heartbeat(b3, 10 * MS);
    for (int i = 0; i < FLOWS; i++)
        assert_int_equal(client(i, 20 * MS), first[i]);
}

static void dead_backend_flows_move(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    heartbeat(b1, 0);
    heartbeat(b2, 0);
    uint32_t first[FLOWS];
    for (int i = 0; i < FLOWS; i++)
        first[i] = client(i, 1);
    /* Only b2 keeps beating; b1's last heartbeat was at 0. */
    heartbeat(b2, 60 * MS);
    for (int i = 0; i < FLOWS; i++)
        assert_int_equal(client(i, 100 * MS), first[i]);  /* b1 not yet timed out */
    heartbeat(b2, 100 * MS);
    for (int i = 0; i < FLOWS; i++)
        assert_int_equal(client(i, 100 * MS + 1), b2);
    /* b1 comes back: flows stay where they are now. */
    heartbeat(b1, 130 * MS);
    for (int i = 0; i < FLOWS; i++)
        assert_int_equal(client(i, 140 * MS), b2);
}

static void non_ip_dropped(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    heartbeat(b1, 0);
    struct pb_spec icmp = pb_ipv4(1, PB_IPV4(100, 64, 0, 1), vip, 0, 0);
    assert_int_equal(harness_send_spec(&icmp, 0, 1), NF_DROP);
    struct pb_spec arp = pb_ipv4(0, 0, 0, 0, 0);
    arp.ip_version = 0;
    arp.ethertype = 0x0806;
    assert_int_equal(harness_send_spec(&arp, 1, 1), NF_DROP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_backend_drops),
        cmocka_unit_test(flows_stick_and_spread),
        cmocka_unit_test(dead_backend_flows_move),
        cmocka_unit_test(non_ip_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
