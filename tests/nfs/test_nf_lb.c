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
    heartbeat(b2, 100 * MS);                                /* b1 not yet timed out */
    for (int i = 0; i < FLOWS; i++)
        assert_int_equal(client(i, 100 * MS), first[i]);
    /* Liveness changes at heartbeats: clients alone do not retire b1... */
    for (int i = 0; i < FLOWS; i++)
        assert_int_equal(client(i, 100 * MS + 1), first[i]);
    /* ... the next heartbeat past b1's timeout does. */
    heartbeat(b2, 100 * MS + 1);
    for (int i = 0; i < FLOWS; i++)
        assert_int_equal(client(i, 100 * MS + 2), b2);
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

/* The catalogue's mixed plan (and rsskey analyze's): flow objects sharded by
 * the 5-tuple, backend objects shared, the Maglev table (written only in
 * nf_init) replicated; heartbeats on any core. The sequential verdicts and
 * rewritten bytes on 4 cores. Sharding the backend objects too is not. */
static int core_plan(const struct pb_view *v, uint16_t port, int cores)
{
    uint32_t h = port == 0 ? harness_mix(v->src_ip ^ harness_mix(v->dst_ip) ^
                                         ((uint32_t)v->sport << 16 | v->dport) ^ v->proto)
                           : harness_mix(v->sport);
    return (int)(h % (uint32_t)cores);
}

static const struct harness_mode backends_shared[] = {
    {"lb_backend_table", RT_SHARED}, {"lb_backends_alive", RT_SHARED},
    {"lb_backend_keys", RT_SHARED}, {"lb_backend_info", RT_SHARED},
    {"lb_backend_chash", RT_REPLICATED}, {NULL, RT_SHARDED},
};

static const struct harness_workload workload = {
    .seed = 13, .lan_hosts = 30, .wan_hosts = 4, .port1_percent = 8, .reply_percent = 0,
    .sports = 64, .dports = 4, .step_ns = 1 * MS,
};

static void sharded_plan_matches_sequential(void **state)
{
    (void)state;
    static struct harness_packet packets[2000];
    harness_workload_fill(&workload, packets, 2000);
    const char *const settings[] = {
        "backends=8", "chash_size=31", "backend_timeout_ms=40", "expiry_ms=500", NULL,
    };
    struct harness_result r;
    assert_int_equal(harness_sharded_run(settings, packets, 2000, 4,
                                         backends_shared, core_plan, 0x2, true, &r), 0);
    assert_int_equal(r.mismatches, 0);
    assert_int_equal(r.violations, 0);
    assert_true(r.forwarded > 500 && r.dropped > 150);     /* the workload bites */
    assert_int_equal(harness_sharded_run(settings, packets, 2000, 4,
                                         NULL, core_plan, 0x2, true, &r), 0);
    assert_true(r.mismatches > 0);
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
        cmocka_unit_test(no_backend_drops),
        cmocka_unit_test(flows_stick_and_spread),
        cmocka_unit_test(dead_backend_flows_move),
        cmocka_unit_test(non_ip_dropped),
        cmocka_unit_test(sharded_plan_matches_sequential),
        cmocka_unit_test(survives_malformed_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
