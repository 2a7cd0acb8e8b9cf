/*
 * test_nf_sbridge.c - the static bridge forwards by its configured table
 * only, and never learns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "nf_harness.h"
#include "rsskey/nf.h"

static const char *const table[] = {
    "static_entries=2",
    "mac0=0x02000000aa01", "port0=0",
    "mac1=0x02000000bb01", "port1=1",
    NULL,
};

static struct pb_spec frame_to(const uint8_t dst[6], const uint8_t src[6])
{
    struct pb_spec s = pb_ipv4(NF_PROTO_UDP, PB_IPV4(10, 0, 0, 1), PB_IPV4(10, 0, 0, 2), 1, 2);
    memcpy(s.eth_dst, dst, 6);
    memcpy(s.eth_src, src, 6);
    return s;
}

static const uint8_t host_a[6] = {0x02, 0, 0, 0, 0xaa, 0x01};   /* port 0 */
static const uint8_t host_b[6] = {0x02, 0, 0, 0, 0xbb, 0x01};   /* port 1 */
static const uint8_t stranger[6] = {0x02, 0, 0, 0, 0xcc, 0x01};
static const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void forwards_by_static_table(void **state)
{
    (void)state;
    assert_int_equal(harness_init(table), 0);
    struct pb_spec to_a = frame_to(host_a, host_b);
    struct pb_spec to_b = frame_to(host_b, host_a);
    assert_int_equal(harness_send_spec(&to_a, 1, 0), 0);
    assert_int_equal(harness_send_spec(&to_b, 0, 0), 1);
    /* Destination on the input segment: filtered. */
    assert_int_equal(harness_send_spec(&to_a, 0, 0), NF_DROP);
    assert_int_equal(harness_send_spec(&to_b, 1, 0), NF_DROP);
}

static void floods_unknown_and_broadcast(void **state)
{
    (void)state;
    assert_int_equal(harness_init(table), 0);
    struct pb_spec unknown = frame_to(stranger, host_a);
    struct pb_spec bcast = frame_to(broadcast, host_a);
    assert_int_equal(harness_send_spec(&unknown, 0, 0), 1);
    assert_int_equal(harness_send_spec(&unknown, 1, 0), 0);
    assert_int_equal(harness_send_spec(&bcast, 0, 0), 1);
    assert_int_equal(harness_send_spec(&bcast, 1, 0), 0);
}

static void never_learns(void **state)
{
    (void)state;
    assert_int_equal(harness_init(table), 0);
    /* The stranger speaks from port 0; a learning bridge would now filter
     * port-0 frames to it. The static bridge still floods them. */
    struct pb_spec from_stranger = frame_to(host_b, stranger);
    assert_int_equal(harness_send_spec(&from_stranger, 0, 0), 1);
    struct pb_spec to_stranger = frame_to(stranger, host_a);
    assert_int_equal(harness_send_spec(&to_stranger, 0, 1), 1);
}

static void default_table(void **state)
{
    (void)state;
    assert_int_equal(harness_init(NULL), 0);
    const uint8_t first[6] = {0x02, 0, 0, 0, 0, 0x01};      /* default: port 0 */
    const uint8_t second[6] = {0x02, 0, 0, 0, 0, 0x02};     /* default: port 1 */
    struct pb_spec to_first = frame_to(first, second);
    struct pb_spec to_second = frame_to(second, first);
    assert_int_equal(harness_send_spec(&to_first, 0, 0), NF_DROP);
    assert_int_equal(harness_send_spec(&to_first, 1, 0), 0);
    assert_int_equal(harness_send_spec(&to_second, 0, 0), 1);
}

static void rejects_bad_port(void **state)
{
    (void)state;
    const char *const bad[] = {"static_entries=1", "mac0=0x020000000001", "port0=5", NULL};
    assert_int_not_equal(harness_init(bad), 0);
}

/* The table replicated on 4 cores, packets anywhere: the sequential verdicts,
 * and no core ever writes the table. */
static int core_any(const struct pb_view *v, uint16_t port, int cores)
{
    return (int)(harness_mix(v->src_ip ^ v->sport ^ port) % (uint32_t)cores);
}

static const struct harness_mode table_replicated[] = {
    {"sbridge_static_table", RT_REPLICATED}, {NULL, RT_SHARDED},
};

static const struct harness_workload workload = {
    .seed = 17, .lan_hosts = 8, .wan_hosts = 8, .port1_percent = 50, .reply_percent = 30,
    .same_side_percent = 20,
    .sports = 16, .dports = 4, .step_ns = 1 * MS,
};

static void replicated_plan_matches_sequential(void **state)
{
    (void)state;
    static struct harness_packet packets[2000];
    harness_workload_fill(&workload, packets, 2000);
    const char *const settings[] = {
        "static_entries=3", "mac0=0x02000a000001", "port0=0", "mac1=0x02000a000002", "port1=1",
        "mac2=0x020014000001", "port2=0", NULL,
    };
    struct harness_result r;
    assert_int_equal(harness_sharded_run(settings, packets, 2000, 4,
                                         table_replicated, core_any, 0, true, &r), 0);
    assert_int_equal(r.mismatches, 0);
    assert_int_equal(r.violations, 0);
    assert_true(r.forwarded > 100 && r.dropped > 100);     /* the workload bites */
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
        cmocka_unit_test(forwards_by_static_table),
        cmocka_unit_test(floods_unknown_and_broadcast),
        cmocka_unit_test(never_learns),
        cmocka_unit_test(default_table),
        cmocka_unit_test(rejects_bad_port),
        cmocka_unit_test(replicated_plan_matches_sequential),
        cmocka_unit_test(survives_malformed_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
