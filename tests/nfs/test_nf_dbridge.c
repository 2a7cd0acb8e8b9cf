/*
 * test_nf_dbridge.c - the learning bridge learns source MACs per port,
 * forgets them after the expiry time, follows a host that moves, and learns
 * nothing once full.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "nf_harness.h"
#include "rsskey/nf.h"

static const char *const config[] = {"capacity=4", "expiry_ms=100", NULL};

static struct pb_spec frame(uint8_t dst_id, uint8_t src_id)
{
    struct pb_spec s = pb_ipv4(NF_PROTO_UDP, PB_IPV4(10, 0, 0, 1), PB_IPV4(10, 0, 0, 2), 1, 2);
    const uint8_t base[6] = {0x02, 0, 0, 0, 0, 0};
    memcpy(s.eth_dst, base, 6);
    memcpy(s.eth_src, base, 6);
    s.eth_dst[5] = dst_id;
    s.eth_src[5] = src_id;
    return s;
}

enum { A = 0xa, B = 0xb, C = 0xc, NOBODY = 0xee };

static void learns_and_filters(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    struct pb_spec a_to_b = frame(B, A), b_to_a = frame(A, B);
    /* B unknown: flooded. A is learned on port 0. */
    assert_int_equal(harness_send_spec(&a_to_b, 0, 0), 1);
    /* B answers from port 1: A is known on port 0. */
    assert_int_equal(harness_send_spec(&b_to_a, 1, 1 * MS), 0);
    /* Now both are known: A -> B goes to port 1; a frame to A arriving on
     * A's own segment is filtered. */
    assert_int_equal(harness_send_spec(&a_to_b, 0, 2 * MS), 1);
    struct pb_spec c_to_a = frame(A, C);
    assert_int_equal(harness_send_spec(&c_to_a, 0, 3 * MS), NF_DROP);
    /* Unknown destination: flooded to the other port. */
    struct pb_spec to_nobody = frame(NOBODY, C);
    assert_int_equal(harness_send_spec(&to_nobody, 1, 4 * MS), 0);
}

static void forgets_after_expiry(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    struct pb_spec a_speaks = frame(NOBODY, A);
    assert_int_equal(harness_send_spec(&a_speaks, 0, 0), 1);
    struct pb_spec c_to_a = frame(A, C);
    /* Exactly expiry_ms later A is still known (filtered on port 0)... */
    assert_int_equal(harness_send_spec(&c_to_a, 0, 100 * MS), NF_DROP);
    /* ... one nanosecond later it is forgotten and the frame is flooded. */
    assert_int_equal(harness_send_spec(&c_to_a, 0, 100 * MS + 1), 1);
}

static void traffic_refreshes(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    struct pb_spec a_speaks = frame(NOBODY, A);
    assert_int_equal(harness_send_spec(&a_speaks, 0, 0), 1);
    assert_int_equal(harness_send_spec(&a_speaks, 0, 80 * MS), 1);
    struct pb_spec c_to_a = frame(A, C);
    assert_int_equal(harness_send_spec(&c_to_a, 0, 150 * MS), NF_DROP);
}

static void follows_a_moved_host(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    struct pb_spec a_speaks = frame(NOBODY, A);
    assert_int_equal(harness_send_spec(&a_speaks, 0, 0), 1);
    assert_int_equal(harness_send_spec(&a_speaks, 1, 1 * MS), 0);     /* A moved */
    struct pb_spec b_to_a = frame(A, B);
    assert_int_equal(harness_send_spec(&b_to_a, 0, 2 * MS), 1);
    assert_int_equal(harness_send_spec(&b_to_a, 1, 3 * MS), NF_DROP);
}

static void full_table_learns_nothing(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    for (uint8_t id = 1; id <= 4; id++) {
        struct pb_spec s = frame(NOBODY, id);
        assert_int_equal(harness_send_spec(&s, 0, id), 1);
    }
    struct pb_spec fifth = frame(NOBODY, 5);
    assert_int_equal(harness_send_spec(&fifth, 0, 10), 1);
    /* Host 4 was learned on port 0 (filtered), host 5 was not (flooded). */
    struct pb_spec to_4 = frame(4, A), to_5 = frame(5, A);
    assert_int_equal(harness_send_spec(&to_4, 0, 20), NF_DROP);
    assert_int_equal(harness_send_spec(&to_5, 0, 21), 1);
}

static void group_source_not_learned(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    struct pb_spec s = frame(NOBODY, 0);
    s.eth_src[0] = 0x03;            /* multicast bit set */
    assert_int_equal(harness_send_spec(&s, 0, 0), 1);
    struct pb_spec to_group = frame(NOBODY, A);
    memcpy(to_group.eth_dst, s.eth_src, 6);
    assert_int_equal(harness_send_spec(&to_group, 0, 1), 1);
}

/* Every object shared on 4 cores, packets anywhere: the sequential verdicts.
 * Sharding by source MAC (here derived from the source IP) is not sound:
 * a MAC is learned on one core and looked up on another. */
static int core_any(const struct pb_view *v, uint16_t port, int cores)
{
    return (int)(harness_mix(v->src_ip ^ v->sport ^ port) % (uint32_t)cores);
}

static int core_by_source(const struct pb_view *v, uint16_t port, int cores)
{
    (void)port;
    return (int)(harness_mix(v->src_ip) % (uint32_t)cores);
}

static const struct harness_mode all_shared[] = {
    {"dbridge_mac_table", RT_SHARED}, {"dbridge_mac_entries", RT_SHARED},
    {"dbridge_mac_keys", RT_SHARED}, {"dbridge_mac_ports", RT_SHARED}, {NULL, RT_SHARDED},
};

static const struct harness_workload workload = {
    .seed = 19, .lan_hosts = 8, .wan_hosts = 8, .port1_percent = 50, .reply_percent = 30,
    .same_side_percent = 30,
    .sports = 16, .dports = 4, .step_ns = 1 * MS,
};

static void shared_plan_matches_sequential(void **state)
{
    (void)state;
    static struct harness_packet packets[2000];
    harness_workload_fill(&workload, packets, 2000);
    const char *const settings[] = {"expiry_ms=20", NULL};
    struct harness_result r;
    assert_int_equal(harness_sharded_run(settings, packets, 2000, 4,
                                         all_shared, core_any, 0x3, true, &r), 0);
    assert_int_equal(r.mismatches, 0);
    assert_int_equal(r.violations, 0);
    assert_true(r.forwarded > 100 && r.dropped > 50);     /* the workload bites */
    assert_int_equal(harness_sharded_run(settings, packets, 2000, 4,
                                         NULL, core_by_source, 0x3, true, &r), 0);
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
        cmocka_unit_test(learns_and_filters),
        cmocka_unit_test(forgets_after_expiry),
        cmocka_unit_test(traffic_refreshes),
        cmocka_unit_test(follows_a_moved_host),
        cmocka_unit_test(full_table_learns_nothing),
        cmocka_unit_test(group_source_not_learned),
        cmocka_unit_test(shared_plan_matches_sequential),
        cmocka_unit_test(survives_malformed_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
