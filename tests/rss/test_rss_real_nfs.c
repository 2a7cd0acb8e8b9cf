/*
 * test_rss_real_nfs.c - the whole pipeline on the reference NFs' -O2 bitcode:
 * analysis (ir/, deps/), then synthesis on every NIC profile; the checker
 * (GF(2) and 3k more random packet pairs per object and port pair) accepts every
 * plan, no object the analysis sharded is lost without a reason, and
 * plan.json reads back to the same keys.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "deps/deps.h"
#include "ir/ir.h"
#include "rss/rss.h"

static const char *const nfs[] = {"nop", "sbridge", "dbridge", "policer", "fw",
                                  "nat", "cl", "psd", "lb", "hhh"};

/* The real firewall plan: (s,d,sp,dp) on port 0 and (d,s,dp,sp) on port 1
 * meet on one core. */
static void check_fw_symmetry(const struct rss_plan *plan)
{
    uint64_t x = 0x1234567;
    for (int i = 0; i < 200000; i++) {
        struct trace_tuple a = {.ip_version = 4, .proto = 6, .has_ports = true}, b;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        memcpy(a.src, &x, 4);
        memcpy(a.dst, (uint8_t *)&x + 4, 4);
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        a.sport = (uint16_t)x;
        a.dport = (uint16_t)(x >> 16);
        a.proto = (x >> 40) & 1 ? 6 : 17;
        b = a;
        memcpy(b.src, a.dst, 4);
        memcpy(b.dst, a.src, 4);
        b.sport = a.dport;
        b.dport = a.sport;
        assert_int_equal(rss_core_of(&plan->ports[0], &a), rss_core_of(&plan->ports[1], &b));
    }
}

static void test_pipeline(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof nfs / sizeof nfs[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s.O2.bc", NF_BITCODE_DIR, nfs[i]);
        struct ir_nf nf;
        memset(&nf, 0, sizeof nf);
        struct util_error err = {{0}};
        struct ir_options io = {0};
        if (ir_analyze_file(path, &io, &nf, &err)) {
            print_error("%s: %s\n", nfs[i], err.msg);
            fail();
        }
        struct deps_plan analysis;
        assert_int_equal(deps_plan_build(&nf, NULL, &analysis, &err), 0);
        ir_nf_free(&nf);
        for (int k = 0; k < rss_nic_count(); k++) {
            struct rss_synth_options o;
            rss_synth_options_init(&o);
            o.nic = *rss_nic_at(k);
            o.cores = 8;
            struct rss_plan plan;
            int rc = rss_synthesize(&analysis, &o, &plan, &err);
            if (rc)
                print_error("%s on %s: %s\n", nfs[i], o.nic.name, err.msg);
            assert_int_equal(rc, 0);
            assert_int_equal(rss_plan_check(&plan, 1234, 3000, &err), 0);
            for (int ob = 0; ob < analysis.n_objects; ob++)
                if (analysis.objects[ob].decision == DEPS_SHARDED &&
                    plan.deps.objects[ob].decision != DEPS_SHARDED)
                    assert_true(strlen(plan.deps.objects[ob].reason) > 0);
            if (!strcmp(nfs[i], "fw"))
                check_fw_symmetry(&plan);
            if (k == 0) {
                char out[] = "/tmp/rsskey-real-XXXXXX";
                int fd = mkstemp(out);
                close(fd);
                assert_int_equal(rss_plan_write(&plan, out, &err), 0);
                struct rss_plan back;
                assert_int_equal(rss_plan_read(out, &back, &err), 0);
                assert_memory_equal(back.ports[0].key, plan.ports[0].key, plan.ports[0].key_len);
                assert_int_equal(back.deps.n_objects, plan.deps.n_objects);
                assert_int_equal(rss_plan_check(&back, 1, 2000, &err), 0);
                rss_plan_free(&back);
                unlink(out);
            }
            rss_plan_free(&plan);
        }
        deps_plan_free(&analysis);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_pipeline)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
