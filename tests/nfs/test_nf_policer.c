/*
 * test_nf_policer.c - WAN -> LAN traffic is policed per destination by a
 * token bucket (rate 1000 B/s, burst 3000 B here); LAN -> WAN is not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "nf_harness.h"
#include "rsskey/nf.h"

#define SECOND (1000 * MS)

static const char *const config[] = {
    "rate_bytes_per_s=1000", "burst_bytes=3000", "capacity=2", "expiry_ms=60000", NULL,
};

/* A 1000-byte UDP frame from the WAN to `dst`. */
static int send_kb(uint32_t dst, uint16_t port, uint64_t time_ns)
{
    struct pb_spec s = pb_ipv4(NF_PROTO_UDP, PB_IPV4(198, 51, 100, 1), dst, 5000, 6000);
    s.payload_len = 1000 - 14 - 20 - 8;
    return harness_send_spec(&s, port, time_ns);
}

static const uint32_t d1 = PB_IPV4(10, 0, 0, 1);
static const uint32_t d2 = PB_IPV4(10, 0, 0, 2);
static const uint32_t d3 = PB_IPV4(10, 0, 0, 3);

static void over_rate_dropped_others_pass(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(send_kb(d1, 1, 0), 0);        /* the burst */
    assert_int_equal(send_kb(d1, 1, 0), NF_DROP);
    assert_int_equal(send_kb(d1, 1, 1), NF_DROP);
    /* Another destination has its own bucket. */
    assert_int_equal(send_kb(d2, 1, 2), 0);
    /* LAN -> WAN is never policed. */
    for (int i = 0; i < 10; i++)
        assert_int_equal(send_kb(d1, 0, 3), 1);
}

static void tokens_refill_over_time(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(send_kb(d1, 1, 0), 0);
    assert_int_equal(send_kb(d1, 1, SECOND / 2), NF_DROP);     /* 500 B back */
    assert_int_equal(send_kb(d1, 1, SECOND), 0);               /* 1000 B back */
    assert_int_equal(send_kb(d1, 1, SECOND), NF_DROP);
    /* Long idle: the bucket is full again, no more than full. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(send_kb(d1, 1, 20 * SECOND), 0);
    assert_int_equal(send_kb(d1, 1, 20 * SECOND), NF_DROP);
}

static void full_table_and_expiry(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    assert_int_equal(send_kb(d1, 1, 0), 0);
    assert_int_equal(send_kb(d2, 1, 0), 0);
    /* Both buckets in use: a third destination cannot be policed, dropped. */
    assert_int_equal(send_kb(d3, 1, 1), NF_DROP);
    /* After expiry_ms of idleness the buckets are freed. */
    assert_int_equal(send_kb(d3, 1, 60 * SECOND + 1), 0);
}

static void non_ipv4_from_wan_dropped(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    struct pb_spec v6 = pb_ipv4(NF_PROTO_UDP, 0, 0, 1, 2);
    v6.ip_version = 6;
    assert_int_equal(harness_send_spec(&v6, 1, 0), NF_DROP);
    assert_int_equal(harness_send_spec(&v6, 0, 0), 1);
}

/* Port 1 sharded by destination IP (the catalogue's plan), port 0 anywhere:
 * the sequential verdicts on 4 cores. Port 1 by source IP is not enough. */
static int core_plan(const struct pb_view *v, uint16_t port, int cores)
{
    uint32_t h = port == 1 ? harness_mix(v->dst_ip) : harness_mix(v->src_ip ^ v->sport);
    return (int)(h % (uint32_t)cores);
}

static int core_wrong(const struct pb_view *v, uint16_t port, int cores)
{
    (void)port;
    return (int)(harness_mix(v->src_ip) % (uint32_t)cores);
}

static const struct harness_workload workload = {
    .seed = 11, .lan_hosts = 8, .wan_hosts = 40, .port1_percent = 60, .reply_percent = 0,
    .sports = 64, .dports = 4, .step_ns = 1 * MS,
};

static void sharded_plan_matches_sequential(void **state)
{
    (void)state;
    static struct harness_packet packets[2000];
    harness_workload_fill(&workload, packets, 2000);
    const char *const settings[] = {
        "rate_bytes_per_s=4000", "burst_bytes=600", "expiry_ms=300", NULL,
    };
    struct harness_result r;
    assert_int_equal(harness_sharded_run(settings, packets, 2000, 4,
                                         NULL, core_plan, 0, true, &r), 0);
    assert_int_equal(r.mismatches, 0);
    assert_int_equal(r.violations, 0);
    assert_true(r.forwarded > 600 && r.dropped > 100);     /* the workload bites */
    assert_int_equal(harness_sharded_run(settings, packets, 2000, 4,
                                         NULL, core_wrong, 0, true, &r), 0);
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
        cmocka_unit_test(over_rate_dropped_others_pass),
        cmocka_unit_test(tokens_refill_over_time),
        cmocka_unit_test(full_table_and_expiry),
        cmocka_unit_test(non_ipv4_from_wan_dropped),
        cmocka_unit_test(sharded_plan_matches_sequential),
        cmocka_unit_test(survives_malformed_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
