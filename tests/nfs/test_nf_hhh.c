/*
 * test_nf_hhh.c - heavy-hitter hierarchy: a WAN source is dropped while its
 * /32 or any wider prefix is over that level's threshold in the window.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "nf_harness.h"
#include "rsskey/nf.h"

static const char *const config[] = {
    "threshold_8=12", "threshold_16=8", "threshold_24=5", "threshold_32=3",
    "window_ms=1000", "capacity=32", NULL,
};

static int from(uint32_t src, uint64_t t)
{
    struct pb_spec s = pb_ipv4(NF_PROTO_UDP, src, PB_IPV4(10, 0, 0, 1), 1, 2);
    return harness_send_spec(&s, 1, t);
}

static void host_threshold_trips_exactly(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    uint32_t host = PB_IPV4(20, 1, 1, 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(from(host, (uint64_t)i), 0);
    assert_int_equal(from(host, 3), NF_DROP);
    assert_int_equal(from(host, 4), NF_DROP);
    /* Window over: counts start again. */
    assert_int_equal(from(host, 1000 * MS + 1), 0);
}

static void prefix_thresholds_trip(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    /* Five hosts of 20.1.1.0/24, one packet each: /24 reaches 5, all pass. */
    for (int h = 1; h <= 5; h++)
        assert_int_equal(from(PB_IPV4(20, 1, 1, h), (uint64_t)h), 0);
    /* The sixth packet from that /24 is over threshold_24, whoever sends it. */
    assert_int_equal(from(PB_IPV4(20, 1, 1, 6), 10), NF_DROP);
    assert_int_equal(from(PB_IPV4(20, 1, 1, 1), 11), NF_DROP);
    /* The /16 has seen 7 packets: one more from another /24 passes (8), the
     * next is over threshold_16. */
    assert_int_equal(from(PB_IPV4(20, 1, 2, 1), 12), 0);
    assert_int_equal(from(PB_IPV4(20, 1, 3, 1), 13), NF_DROP);
    /* A different /8 is untouched. */
    assert_int_equal(from(PB_IPV4(30, 1, 1, 1), 14), 0);
    /* The /8 20.0.0.0 has seen 9: three more from new /16s pass, then over. */
    assert_int_equal(from(PB_IPV4(20, 2, 0, 1), 15), 0);
    assert_int_equal(from(PB_IPV4(20, 3, 0, 1), 16), 0);
    assert_int_equal(from(PB_IPV4(20, 4, 0, 1), 17), 0);
    assert_int_equal(from(PB_IPV4(20, 5, 0, 1), 18), NF_DROP);
}

static void lan_and_non_ipv4_pass(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    struct pb_spec out = pb_ipv4(NF_PROTO_UDP, PB_IPV4(10, 0, 0, 1), PB_IPV4(20, 1, 1, 1), 1, 2);
    for (int i = 0; i < 10; i++)
        assert_int_equal(harness_send_spec(&out, 0, (uint64_t)i), 1);
    struct pb_spec v6 = pb_ipv4(NF_PROTO_UDP, 0, 0, 1, 2);
    v6.ip_version = 6;
    for (int i = 0; i < 10; i++)
        assert_int_equal(harness_send_spec(&v6, 1, (uint64_t)i), 0);
}

/* Port 1 sharded by source /8 (the catalogue's plan): the sequential verdicts
 * on 4 cores. Sharding by the whole source address splits the /8, /16 and /24
 * counts over cores and is not. */
static int core_plan(const struct pb_view *v, uint16_t port, int cores)
{
    uint32_t h = port == 1 ? harness_mix(v->src_ip >> 24) : harness_mix(v->src_ip);
    return (int)(h % (uint32_t)cores);
}

static int core_wrong(const struct pb_view *v, uint16_t port, int cores)
{
    (void)port;
    return (int)(harness_mix(v->src_ip) % (uint32_t)cores);
}

static const struct harness_workload workload = {
    .seed = 9, .lan_hosts = 8, .wan_hosts = 90, .port1_percent = 80, .reply_percent = 0,
    .sports = 16, .dports = 4, .step_ns = 1 * MS,
};

static void sharded_plan_matches_sequential(void **state)
{
    (void)state;
    static struct harness_packet packets[2000];
    harness_workload_fill(&workload, packets, 2000);
    const char *const settings[] = {
        "threshold_8=40", "threshold_16=15", "threshold_24=9", "threshold_32=4",
        "window_ms=300", NULL,
    };
    struct harness_result r;
    assert_int_equal(harness_sharded_run(settings, packets, 2000, 4,
                                         NULL, core_plan, 0, true, &r), 0);
    assert_int_equal(r.mismatches, 0);
    assert_int_equal(r.violations, 0);
    assert_true(r.forwarded > 600 && r.dropped > 200);     /* the workload bites */
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
        cmocka_unit_test(host_threshold_trips_exactly),
        cmocka_unit_test(prefix_thresholds_trip),
        cmocka_unit_test(lan_and_non_ipv4_pass),
        cmocka_unit_test(sharded_plan_matches_sequential),
        cmocka_unit_test(survives_malformed_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
