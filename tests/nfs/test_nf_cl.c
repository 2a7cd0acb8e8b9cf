/*
 * test_nf_cl.c - the connection limiter admits `limit` new connections per
 * (client, server) pair and drops the next one, while existing connections
 * keep passing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "nf_harness.h"
#include "rsskey/nf.h"

static const char *const config[] = {"limit=3", "capacity=64", "expiry_ms=1000", NULL};

static const uint32_t client = PB_IPV4(10, 0, 0, 1);
static const uint32_t server = PB_IPV4(172, 16, 0, 1);

static int connect_from(uint32_t src, uint32_t dst, uint16_t sport, uint64_t t)
{
    struct pb_spec s = pb_ipv4(NF_PROTO_TCP, src, dst, sport, 443);
    return harness_send_spec(&s, 0, t);
}

static void limit_trips_exactly(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    for (uint16_t i = 1; i <= 3; i++)
        assert_int_equal(connect_from(client, server, i, i), 1);
    assert_int_equal(connect_from(client, server, 4, 10), NF_DROP);
    assert_int_equal(connect_from(client, server, 5, 11), NF_DROP);
    /* Established connections keep passing. */
    for (uint16_t i = 1; i <= 3; i++)
        assert_int_equal(connect_from(client, server, i, 20), 1);
    /* Other pairs have their own count, and ports do not matter. */
    assert_int_equal(connect_from(client, PB_IPV4(172, 16, 0, 2), 4, 30), 1);
    assert_int_equal(connect_from(PB_IPV4(10, 0, 0, 2), server, 4, 31), 1);
}

static void counts_do_not_decay(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    for (uint16_t i = 1; i <= 3; i++)
        assert_int_equal(connect_from(client, server, i, 0), 1);
    /* After the flows expired, the same tuples are new connections, and the
     * pair has used its allowance. */
    assert_int_equal(connect_from(client, server, 1, 5000 * MS), NF_DROP);
}

static void other_traffic_passes(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    struct pb_spec icmp = pb_ipv4(1, client, server, 0, 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(harness_send_spec(&icmp, 0, (uint64_t)i), 1);
    /* Server side is never limited. */
    for (uint16_t i = 0; i < 10; i++) {
        struct pb_spec reply = pb_ipv4(NF_PROTO_TCP, server, client, 443, i);
        assert_int_equal(harness_send_spec(&reply, 1, i), 0);
    }
    /* ICMP and replies used none of the allowance. */
    for (uint16_t i = 1; i <= 3; i++)
        assert_int_equal(connect_from(client, server, i, 100), 1);
}

/* Port 0 sharded by (client, server) (the catalogue's plan), ports ignored:
 * the sequential verdicts on 4 cores. Sharding by the whole 5-tuple splits a
 * pair's count over cores and is not. */
static int core_plan(const struct pb_view *v, uint16_t port, int cores)
{
    uint32_t h = port == 0 ? harness_mix(v->src_ip * 31u + v->dst_ip) : harness_mix(v->sport);
    return (int)(h % (uint32_t)cores);
}

static int core_wrong(const struct pb_view *v, uint16_t port, int cores)
{
    (void)port;
    uint32_t h = harness_mix(v->src_ip * 31u + v->dst_ip) ^ harness_mix(v->sport);
    return (int)(h % (uint32_t)cores);
}

static const struct harness_workload workload = {
    .seed = 3, .lan_hosts = 4, .wan_hosts = 6, .port1_percent = 20, .reply_percent = 0,
    .sports = 64, .dports = 4, .step_ns = 1 * MS,
};

static void sharded_plan_matches_sequential(void **state)
{
    (void)state;
    static struct harness_packet packets[2000];
    harness_workload_fill(&workload, packets, 2000);
    const char *const settings[] = {"limit=12", "expiry_ms=100", NULL};
    struct harness_result r;
    assert_int_equal(harness_sharded_run(settings, packets, 2000, 4,
                                         NULL, core_plan, 0, true, &r), 0);
    assert_int_equal(r.mismatches, 0);
    assert_int_equal(r.violations, 0);
    assert_true(r.forwarded > 300 && r.dropped > 300);     /* the workload bites */
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
        cmocka_unit_test(limit_trips_exactly),
        cmocka_unit_test(counts_do_not_decay),
        cmocka_unit_test(other_traffic_passes),
        cmocka_unit_test(sharded_plan_matches_sequential),
        cmocka_unit_test(survives_malformed_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
