/*
 * test_nf_flowquota.c - the docs/nf-api.md example NF behaves as documented.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "nf_harness.h"
#include "rsskey/nf.h"

static const char *const config[] = {"quota=2", "capacity=8", "expiry_ms=100", NULL};

static void quota_then_drop_then_expire(void **state)
{
    (void)state;
    assert_int_equal(harness_init(config), 0);
    struct pb_spec s = pb_ipv4(NF_PROTO_TCP, PB_IPV4(10, 0, 0, 1), PB_IPV4(1, 1, 1, 1), 9, 80);
    assert_int_equal(harness_send_spec(&s, 0, 0), 1);
    assert_int_equal(harness_send_spec(&s, 0, 1), 1);
    assert_int_equal(harness_send_spec(&s, 0, 2), NF_DROP);
    assert_int_equal(harness_send_spec(&s, 1, 3), 0);            /* WAN: unlimited */
    assert_int_equal(harness_send_spec(&s, 0, 102 * MS + 1), 1); /* forgotten */
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
        cmocka_unit_test(quota_then_drop_then_expire),
        cmocka_unit_test(survives_malformed_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
