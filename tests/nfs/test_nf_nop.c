/*
 * test_nf_nop.c - nop forwards every frame to the other port, unchanged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "nf_harness.h"
#include "rsskey/nf.h"

static void forwards_both_ways_unchanged(void **state)
{
    (void)state;
    assert_int_equal(harness_init(NULL), 0);
    struct pb_spec spec = pb_ipv4(NF_PROTO_TCP, PB_IPV4(10, 0, 0, 1), PB_IPV4(10, 0, 0, 2),
                                  1000, 80);
    uint8_t frame[PB_MAX_FRAME], copy[PB_MAX_FRAME];
    size_t len = pb_build(&spec, frame, sizeof frame);
    memcpy(copy, frame, len);
    assert_int_equal(harness_send(frame, len, 0, 0), 1);
    assert_int_equal(harness_send(frame, len, 1, 1), 0);
    assert_memory_equal(frame, copy, len);
}

static void forwards_non_ip_and_ipv6(void **state)
{
    (void)state;
    assert_int_equal(harness_init(NULL), 0);
    struct pb_spec arp = pb_ipv4(0, 0, 0, 0, 0);
    arp.ip_version = 0;
    arp.ethertype = 0x0806;
    assert_int_equal(harness_send_spec(&arp, 0, 0), 1);
    struct pb_spec v6 = pb_ipv4(NF_PROTO_UDP, 0, 0, 53, 53);
    v6.ip_version = 6;
    v6.vlan_id = 7;
    assert_int_equal(harness_send_spec(&v6, 1, 0), 0);
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
        cmocka_unit_test(forwards_both_ways_unchanged),
        cmocka_unit_test(forwards_non_ip_and_ipv6),
        cmocka_unit_test(survives_malformed_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
