/*
 * test_nf_psd.c - the port-scan detector blocks a WAN source at its
 * (threshold + 1)-th distinct port in a window, until the window ends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "nf_harness.h"
#include "rsskey/nf.h"

static const char *const config[] = {"threshold=3", "window_ms=1000", "capacity=16",
                                     "port_capacity=64", NULL};

static const uint32_t scanner = PB_IPV4(198, 51, 100, 66);
static const uint32_t victim = PB_IPV4(10, 0, 0, 1);

static int probe(uint32_t src, uint16_t dport, uint64_t t)
{
    struct pb_spec s = pb_ipv4(NF_PROTO_TCP, src, victim, 40000, dport);
    return harness_send_spec(&s, 1, t);
}

static void threshold_trips_exactly(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    for (uint16_t p = 1; p <= 3; p++)
        assert_int_equal(probe(scanner, p, p), 0);
    assert_int_equal(probe(scanner, 4, 10), NF_DROP);
    /* Blocked: even a port it used before. */
    assert_int_equal(probe(scanner, 1, 11), NF_DROP);
    /* Another source is unaffected. */
    assert_int_equal(probe(PB_IPV4(198, 51, 100, 67), 4, 12), 0);
    /* LAN -> WAN is not inspected. */
    struct pb_spec out = pb_ipv4(NF_PROTO_TCP, victim, scanner, 4, 40000);
    assert_int_equal(harness_send_spec(&out, 0, 13), 1);
}

static void repeated_ports_count_once(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    for (int i = 0; i < 20; i++)
        assert_int_equal(probe(scanner, (uint16_t)(1 + i % 3), (uint64_t)i), 0);
}

static void window_resets(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    for (uint16_t p = 1; p <= 4; p++)
        probe(scanner, p, 0);
    assert_int_equal(probe(scanner, 1, 999 * MS), NF_DROP);
    /* The window opened at 0 ends after 1000 ms: a new one starts. Port 1's
     * pair entry (refreshed at 999 ms) survives but counts again. */
    assert_int_equal(probe(scanner, 1, 1000 * MS + 1), 0);
    assert_int_equal(probe(scanner, 2, 1000 * MS + 2), 0);
    assert_int_equal(probe(scanner, 3, 1000 * MS + 3), 0);
    assert_int_equal(probe(scanner, 1, 1000 * MS + 4), 0);
    assert_int_equal(probe(scanner, 5, 1000 * MS + 5), NF_DROP);
}

static void other_frames_pass(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    struct pb_spec icmp = pb_ipv4(1, scanner, victim, 0, 0);
    assert_int_equal(harness_send_spec(&icmp, 1, 0), 0);
    struct pb_spec v6 = pb_ipv4(NF_PROTO_TCP, 0, 0, 1, 2);
    v6.ip_version = 6;
    assert_int_equal(harness_send_spec(&v6, 1, 0), 0);
}

/* Port 1 sharded by source IP (the catalogue's plan): the sequential verdicts
 * on 4 cores. Sharding by destination IP is not. */
static int core_plan(const struct pb_view *v, uint16_t port, int cores)
{
    uint32_t h = port == 1 ? harness_mix(v->src_ip) : harness_mix(v->dst_ip ^ v->dport);
    return (int)(h % (uint32_t)cores);
}

static int core_wrong(const struct pb_view *v, uint16_t port, int cores)
{
    (void)port;
    return (int)(harness_mix(v->dst_ip ^ v->dport) % (uint32_t)cores);
}

static const struct harness_workload workload = {
    .seed = 5, .lan_hosts = 6, .wan_hosts = 12, .port1_percent = 70, .reply_percent = 0,
    .sports = 16, .dports = 60, .step_ns = 1 * MS,
};

static void sharded_plan_matches_sequential(void **state)
{
    (void)state;
    static struct harness_packet packets[2000];
    harness_workload_fill(&workload, packets, 2000);
    const char *const settings[] = {"threshold=10", "window_ms=300", NULL};
    struct harness_result r;
    assert_int_equal(harness_sharded_run(settings, packets, 2000, 4,
                                         NULL, core_plan, 0, true, &r), 0);
    assert_int_equal(r.mismatches, 0);
    assert_int_equal(r.violations, 0);
    assert_true(r.forwarded > 400 && r.dropped > 200);     /* the workload bites */
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
        cmocka_unit_test(threshold_trips_exactly),
        cmocka_unit_test(repeated_ports_count_once),
        cmocka_unit_test(window_resets),
        cmocka_unit_test(other_frames_pass),
        cmocka_unit_test(sharded_plan_matches_sequential),
        cmocka_unit_test(survives_malformed_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
