/*
 * test_nf_fw.c - the firewall lets the WAN answer only flows the LAN opened,
 * and forgets flows after the expiry time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "nf_harness.h"
#include "rsskey/nf.h"

static const char *const config[] = {"capacity=2", "expiry_ms=1000", NULL};

static const uint32_t inside = PB_IPV4(192, 168, 1, 10);
static const uint32_t outside = PB_IPV4(93, 184, 216, 34);

static struct pb_spec lan_packet(uint16_t sport)
{
    return pb_ipv4(NF_PROTO_TCP, inside, outside, sport, 443);
}

static struct pb_spec wan_reply(uint16_t dport)
{
    return pb_ipv4(NF_PROTO_TCP, outside, inside, 443, dport);
}

static void unsolicited_wan_dropped_reply_passes(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    struct pb_spec lan = lan_packet(40000), reply = wan_reply(40000);
    assert_int_equal(harness_send_spec(&reply, 1, 0), NF_DROP);
    assert_int_equal(harness_send_spec(&lan, 0, 1 * MS), 1);
    assert_int_equal(harness_send_spec(&reply, 1, 2 * MS), 0);
    /* Not the reversed tuple: other port, other protocol, other host. */
    struct pb_spec wrong_port = wan_reply(40001);
    assert_int_equal(harness_send_spec(&wrong_port, 1, 3 * MS), NF_DROP);
    struct pb_spec wrong_proto = pb_ipv4(NF_PROTO_UDP, outside, inside, 443, 40000);
    assert_int_equal(harness_send_spec(&wrong_proto, 1, 3 * MS), NF_DROP);
    struct pb_spec wrong_host = pb_ipv4(NF_PROTO_TCP, PB_IPV4(93, 184, 216, 35), inside,
                                        443, 40000);
    assert_int_equal(harness_send_spec(&wrong_host, 1, 3 * MS), NF_DROP);
    /* The LAN packet itself arriving on the WAN side is not a reply. */
    assert_int_equal(harness_send_spec(&lan, 1, 4 * MS), NF_DROP);
}

static void reply_dropped_after_expiry(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    struct pb_spec lan = lan_packet(40000), reply = wan_reply(40000);
    assert_int_equal(harness_send_spec(&lan, 0, 0), 1);
    assert_int_equal(harness_send_spec(&reply, 1, 1000 * MS), 0);      /* refreshes */
    assert_int_equal(harness_send_spec(&reply, 1, 2000 * MS), 0);
    assert_int_equal(harness_send_spec(&reply, 1, 3000 * MS + 1), NF_DROP);
    /* A new LAN packet opens the flow again. */
    assert_int_equal(harness_send_spec(&lan, 0, 3001 * MS), 1);
    assert_int_equal(harness_send_spec(&reply, 1, 3002 * MS), 0);
}

static void full_table_drops_new_flows(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    struct pb_spec f1 = lan_packet(1), f2 = lan_packet(2), f3 = lan_packet(3);
    assert_int_equal(harness_send_spec(&f1, 0, 0), 1);
    assert_int_equal(harness_send_spec(&f2, 0, 0), 1);
    assert_int_equal(harness_send_spec(&f3, 0, 0), NF_DROP);
    assert_int_equal(harness_send_spec(&f1, 0, 1), 1);              /* known flows pass */
    struct pb_spec r3 = wan_reply(3);
    assert_int_equal(harness_send_spec(&r3, 1, 2), NF_DROP);
}

static void non_tcp_udp_dropped(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    struct pb_spec icmp = pb_ipv4(1, inside, outside, 0, 0);
    assert_int_equal(harness_send_spec(&icmp, 0, 0), NF_DROP);
    struct pb_spec v6 = pb_ipv4(NF_PROTO_TCP, 0, 0, 1, 2);
    v6.ip_version = 6;
    assert_int_equal(harness_send_spec(&v6, 0, 0), NF_DROP);
    struct pb_spec arp = pb_ipv4(0, 0, 0, 0, 0);
    arp.ip_version = 0;
    arp.ethertype = 0x0806;
    assert_int_equal(harness_send_spec(&arp, 1, 0), NF_DROP);
}

/* Sends spec as an IPv4 fragment: frag_off (host order) OR-ed in. */
static int send_fragment(const struct pb_spec *spec, uint16_t frag_off, uint16_t port,
                         uint64_t time_ns)
{
    uint8_t frame[PB_MAX_FRAME];
    size_t len = pb_build(spec, frame, sizeof frame);
    assert_true(len > 0);
    frame[14 + 6] |= (uint8_t)(frag_off >> 8);
    frame[14 + 7] |= (uint8_t)frag_off;
    return harness_send(frame, len, port, time_ns);
}

/* IPv4 fragments carry no whole flow key (only the first has the ports): the
 * firewall drops them all, and a first fragment opens no flow. */
static void fragments_dropped(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    struct pb_spec lan = lan_packet(6000), reply = wan_reply(6000);
    assert_int_equal(send_fragment(&lan, 0x2000, 0, 0), NF_DROP);        /* first, MF set */
    assert_int_equal(send_fragment(&lan, 0x0010, 0, 0), NF_DROP);        /* last, offset */
    assert_int_equal(harness_send_spec(&reply, 1, 1), NF_DROP);         /* no flow opened */
    assert_int_equal(harness_send_spec(&lan, 0, 2), 1);
    assert_int_equal(send_fragment(&reply, 0x2000, 1, 3), NF_DROP);
    assert_int_equal(harness_send_spec(&reply, 1, 4), 0);
    /* Don't-fragment is not a fragment. */
    assert_int_equal(send_fragment(&lan, 0x4000, 0, 5), 1);
}

static void vlan_tagged_flow(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    struct pb_spec lan = lan_packet(5555), reply = wan_reply(5555);
    lan.vlan_id = 10;
    reply.vlan_id = 20;
    assert_int_equal(harness_send_spec(&lan, 0, 0), 1);
    assert_int_equal(harness_send_spec(&reply, 1, 1), 0);
}

/* Sharding by a symmetric hash of the 5-tuple (the catalogue's plan) gives
 * the sequential verdicts on 4 cores; sharding by source IP does not. */
static int core_symmetric(const struct pb_view *v, uint16_t port, int cores)
{
    (void)port;
    uint32_t h = harness_mix(v->src_ip ^ v->dst_ip) ^
                 harness_mix(((uint32_t)(v->sport ^ v->dport) << 8) | v->proto);
    return (int)(h % (uint32_t)cores);
}

static int core_by_source(const struct pb_view *v, uint16_t port, int cores)
{
    (void)port;
    return (int)(harness_mix(v->src_ip) % (uint32_t)cores);
}

static const struct harness_workload workload = {
    .seed = 7, .lan_hosts = 16, .wan_hosts = 40, .port1_percent = 50, .reply_percent = 70,
    .sports = 64, .dports = 4, .step_ns = 1 * MS,
};

static void sharded_plan_matches_sequential(void **state)
{
    (void)state;
    static struct harness_packet packets[2000];
    harness_workload_fill(&workload, packets, 2000);
    const char *const settings[] = {"expiry_ms=200", NULL};
    struct harness_result r;
    assert_int_equal(harness_sharded_run(settings, packets, 2000, 4, NULL, core_symmetric, 0,
                                         true, &r), 0);
    assert_int_equal(r.mismatches, 0);
    assert_int_equal(r.violations, 0);
    assert_true(r.forwarded > 500 && r.dropped > 200);     /* the workload bites */
    assert_int_equal(harness_sharded_run(settings, packets, 2000, 4, NULL, core_by_source, 0,
                                         true, &r), 0);
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
        cmocka_unit_test(unsolicited_wan_dropped_reply_passes),
        cmocka_unit_test(reply_dropped_after_expiry),
        cmocka_unit_test(full_table_drops_new_flows),
        cmocka_unit_test(non_tcp_udp_dropped),
        cmocka_unit_test(vlan_tagged_flow),
        cmocka_unit_test(fragments_dropped),
        cmocka_unit_test(sharded_plan_matches_sequential),
        cmocka_unit_test(survives_malformed_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
