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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(threshold_trips_exactly),
        cmocka_unit_test(repeated_ports_count_once),
        cmocka_unit_test(window_resets),
        cmocka_unit_test(other_frames_pass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
