/*
 * test_sim_target.c - `rsskey sim --target RATE` against the scaling table
 * and direct runs (issue 12): on fw's plan (synthesised here from its
 * bitcode) and a generated two-port trace, under the even and bits pacing
 * models, the answer k carries RATE with no drop, k - 1 drops with the cause
 * named, the scaling table's MLFFR is at or above RATE at k and below it at
 * k - 1, and direct runs at RATE on k and k - 1 cores show the same. The
 * same on ../shared/traces/real-mix-104k.pcap at 40 Gbps wire when present,
 * and with --fold synth (the RETA re-derived per core count as synth would).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim/sim.h"

static char dir[] = "/tmp/rsskey-sim-target-XXXXXX";
static char plan_path[256], trained_path[256], trace_path[256], out_path[256];
static const char *plan = plan_path;        /* the plan sim_json runs */

#define REAL_TRACE RSSKEY_SHARED_DIR "/traces/real-mix-104k.pcap"
#define REAL_LAN "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"

static int group_setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(plan_path, sizeof plan_path, "%s/fw.json", dir);
    snprintf(trace_path, sizeof trace_path, "%s/g.pcap", dir);
    snprintf(out_path, sizeof out_path, "%s/out.txt", dir);
    snprintf(trained_path, sizeof trained_path, "%s/fw-trained.json", dir);
    struct trace_gen_options g;
    trace_gen_defaults(&g);
    g.seed = 5;
    g.flows = 4000;
    g.packets = 60000;
    g.pps = 1e6;
    g.two_port = true;
    struct util_error err;
    if (trace_gen_check(&g, &err) || trace_gen_write(&g, trace_path, NULL, &err))
        return -1;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s synth %s/fw.O2.bc -o %s >/dev/null 2>&1", RSSKEY,
             NF_BITCODE_DIR, plan_path);
    if (system(cmd) != 0)
        return -1;
    /* A plan whose RETA synth tuned on the trace (for --fold synth). */
    snprintf(cmd, sizeof cmd, "%s synth %s/fw.O2.bc --trace %s --lan 10.0.0.0/8 -o %s "
             ">/dev/null 2>&1", RSSKEY, NF_BITCODE_DIR, trace_path, trained_path);
    return system(cmd) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* `rsskey sim --plan PLAN ARGS --json` into out_path; its JSON. */
static struct util_jvalue *sim_json(const char *fmt, ...)
{
    char args[1024], cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "%s sim --plan %s --json %s >%s 2>%s.err", RSSKEY, plan, args,
             out_path, out_path);
    int st = system(cmd);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("rsskey sim %s failed", args);
    size_t len;
    struct util_error err;
    char *text = util_read_file(out_path, &len, &err);
    assert_non_null(text);
    struct util_jvalue *v = util_json_parse(text, len, out_path, &err);
    if (!v)
        fail_msg("not JSON: %s", err.msg);
    free(text);
    return v;
}

static const struct util_jvalue *get(const struct util_jvalue *o, const char *key)
{
    const struct util_jvalue *v = util_jobject_get(o, key);
    if (!v)
        fail_msg("no '%s' in the output", key);
    return v;
}

static double num(const struct util_jvalue *o, const char *key)
{
    const struct util_jvalue *v = get(o, key);
    assert_int_equal(v->type, UTIL_JNUMBER);
    return v->number;
}

/* --target, the scaling table and direct runs agree for `rate` (text for
 * --target, pps its value) on trace with `common` options. */
static void agree(const char *common, const char *trace, const char *rate, double pps,
                  const char *pace, int max_cores)
{
    struct util_jvalue *v = sim_json("%s --pace %s --target %s --cores %d --scaling %s",
                                     common, pace, rate, max_cores, trace);
    const struct util_jvalue *t = get(v, "target");
    assert_true(fabs(num(t, "mpps") * 1e6 - pps) < 1e-6 * pps);
    assert_int_equal(get(t, "cores")->type, UTIL_JNUMBER);
    int k = (int)num(t, "cores");
    if (k < 2)
        fail_msg("%s at %s: answer %d core(s); the test needs a rate one core cannot carry",
                 trace, rate, k);
    const struct util_jvalue *tried = get(t, "tried");
    assert_int_equal((int)tried->count, k);
    assert_true(get(&tried->items[k - 1], "loss_free")->boolean);
    const struct util_jvalue *below = &tried->items[k - 2];
    assert_false(get(below, "loss_free")->boolean);
    const char *cause = get(below, "cause")->string;
    assert_string_not_equal(cause, "none");
    assert_true(strlen(get(below, "why")->string) > 10);
    /* The scaling table: at or above the rate at k (within the MLFFR's 0.5%
     * bracket), below it at k - 1. */
    const struct util_jvalue *sc = get(v, "scaling");
    assert_true((int)sc->count >= k);
    double mk = num(&sc->items[k - 1], "mlffr_mpps") * 1e6;
    double mb = num(&sc->items[k - 2], "mlffr_mpps") * 1e6;
    if (!(mk >= 0.995 * pps && mb < pps))
        fail_msg("%s %s pacing: --target says %d cores for %.0f pps, scaling has %.0f at %d "
                 "and %.0f at %d", trace, pace, k, pps, mk, k, mb, k - 1);
    /* The target's own run at k is the answer's. */
    assert_true(num(get(v, "totals"), "drops") == 0);
    char cause_below[32];
    snprintf(cause_below, sizeof cause_below, "%s", cause);
    util_jvalue_free(v);
    /* Direct runs at the rate. */
    v = sim_json("%s --pace %s --pps %.17g --cores %d %s", common, pace, pps, k, trace);
    assert_true(num(get(v, "totals"), "drops") == 0);
    util_jvalue_free(v);
    v = sim_json("%s --pace %s --pps %.17g --cores %d %s", common, pace, pps, k - 1, trace);
    const struct util_jvalue *tot = get(v, "totals");
    assert_true(num(tot, "drops") > 0);
    assert_true(strncmp(get(tot, "bottleneck")->string, "ring overflow on core ", 22) == 0);
    assert_string_equal(get(tot, "cause")->string, cause_below);
    util_jvalue_free(v);
}

static void test_generated(void **state)
{
    (void)state;
    /* A rate half again one core's MLFFR. */
    struct util_jvalue *v = sim_json("--lan 10.0.0.0/8 --ring 256 --cores 1 --mlffr %s",
                                     trace_path);
    double one = num(get(v, "mlffr"), "mlffr_mpps") * 1e6;
    util_jvalue_free(v);
    assert_true(one > 0);
    char rate[64];
    double pps = round(1.5 * one);
    snprintf(rate, sizeof rate, "%.0fpps", pps);
    agree("--lan 10.0.0.0/8 --ring 256", trace_path, rate, pps, "even", 6);
    agree("--lan 10.0.0.0/8 --ring 256", trace_path, rate, pps, "bits", 6);
}

/* --fold synth: the RETA synth would make for each core count (balanced on
 * the trace for a trained plan, round-robin for an untrained one); the
 * scaling table's row k is the direct --cores k run's split, and --target,
 * scaling and direct runs agree with it too. */
static void test_fold_synth(void **state)
{
    (void)state;
    plan = trained_path;
    struct util_jvalue *v = sim_json("--lan 10.0.0.0/8 --fold synth --cores 3 --pps 100k %s",
                                     trace_path);
    const struct util_jvalue *tot = get(v, "totals");
    assert_true(get(tot, "reta_balanced")->boolean);
    assert_false(get(tot, "reta_round_robin")->boolean);
    assert_true(num(tot, "drops") == 0);
    double direct = num(tot, "imbalance");
    util_jvalue_free(v);
    v = sim_json("--lan 10.0.0.0/8 --fold synth --cores 3 --scaling %s", trace_path);
    assert_true(num(&get(v, "scaling")->items[2], "imbalance") == direct);
    util_jvalue_free(v);
    /* Balanced for 3 cores beats the plan's 4-core table folded onto 3. */
    v = sim_json("--lan 10.0.0.0/8 --fold plan --cores 3 --pps 100k %s", trace_path);
    assert_true(direct <= num(get(v, "totals"), "imbalance"));
    util_jvalue_free(v);
    v = sim_json("--lan 10.0.0.0/8 --ring 256 --cores 1 --mlffr %s", trace_path);
    double one = num(get(v, "mlffr"), "mlffr_mpps") * 1e6;
    util_jvalue_free(v);
    char rate[64];
    double pps = round(1.5 * one);
    snprintf(rate, sizeof rate, "%.0fpps", pps);
    agree("--lan 10.0.0.0/8 --ring 256 --fold synth", trace_path, rate, pps, "even", 6);
    /* Untrained: round-robin, as synth without a trace. */
    plan = plan_path;
    v = sim_json("--lan 10.0.0.0/8 --fold synth --cores 3 --pps 100k %s", trace_path);
    assert_true(get(get(v, "totals"), "reta_round_robin")->boolean);
    util_jvalue_free(v);
}

/* No --fold: the default is synth's re-derivation (issue 12 item 4), so a
 * direct --cores 3 run and scaling row 3 get the table balanced for 3 cores,
 * exactly as --fold synth does, and JSON names the fold. */
static void test_default_fold_is_synth(void **state)
{
    (void)state;
    plan = trained_path;
    struct util_jvalue *v = sim_json("--lan 10.0.0.0/8 --cores 3 --pps 100k %s", trace_path);
    const struct util_jvalue *tot = get(v, "totals");
    assert_true(get(tot, "reta_balanced")->boolean);
    assert_false(get(tot, "reta_round_robin")->boolean);
    double dflt = num(tot, "imbalance");
    util_jvalue_free(v);
    v = sim_json("--lan 10.0.0.0/8 --fold synth --cores 3 --pps 100k %s", trace_path);
    assert_true(num(get(v, "totals"), "imbalance") == dflt);
    util_jvalue_free(v);
    v = sim_json("--lan 10.0.0.0/8 --cores 3 --scaling %s", trace_path);
    assert_string_equal(get(v, "fold")->string, "synth");
    assert_true(num(&get(v, "scaling")->items[2], "imbalance") == dflt);
    util_jvalue_free(v);
    /* --fold plan still folds: a different table, so different imbalance. */
    v = sim_json("--lan 10.0.0.0/8 --fold plan --cores 3 --pps 100k %s", trace_path);
    assert_false(get(get(v, "totals"), "reta_balanced")->boolean);
    util_jvalue_free(v);
    plan = plan_path;
}

/* A generated trace (seed, flows, Zipf skew) at path. */
static void gen_trace(const char *path, uint64_t flows, double zipf)
{
    struct trace_gen_options g;
    trace_gen_defaults(&g);
    g.seed = 11;
    g.flows = flows;
    g.zipf = zipf;
    g.packets = 20000;
    g.pps = 1e6;
    g.two_port = true;
    struct util_error err;
    assert_int_equal(trace_gen_check(&g, &err), 0);
    assert_int_equal(trace_gen_write(&g, path, NULL, &err), 0);
}

/* Each scaling row says why it is flat or falls: dbridge writes its shared
 * table on every packet (share 1 on every row, and "shared writes" named);
 * fw shards everything (share 0); with 50 flows at Zipf 3 one flow fills most
 * of a core's busiest window, and a flat row names that flow. */
static void test_scaling_rows_explain(void **state)
{
    (void)state;
    char elephant[300], dbridge[300], cmd[1024];
    snprintf(elephant, sizeof elephant, "%s/elephant.pcap", dir);
    snprintf(dbridge, sizeof dbridge, "%s/dbridge.json", dir);
    gen_trace(elephant, 50, 3.0);
    snprintf(cmd, sizeof cmd, "%s synth %s/dbridge.O2.bc -o %s >/dev/null 2>&1", RSSKEY,
             NF_BITCODE_DIR, dbridge);
    assert_int_equal(system(cmd), 0);

    plan = dbridge;
    struct util_jvalue *v = sim_json("--lan 10.0.0.0/8 --cores 3 --scaling %s", trace_path);
    const struct util_jvalue *rows = get(v, "scaling");
    assert_int_equal((int)rows->count, 3);
    bool named = false;
    for (size_t i = 0; i < rows->count; i++) {
        assert_true(fabs(num(&rows->items[i], "shared_write_share") - 1.0) < 1e-9);
        const struct util_jvalue *why = get(&rows->items[i], "flat_why");
        if (get(&rows->items[i], "flat")->boolean) {
            assert_true(why->type == UTIL_JSTRING);
            named = named || strstr(why->string, "shared writes") != NULL;
        }
    }
    assert_true(named);             /* dbridge does not scale, and says why */
    util_jvalue_free(v);

    plan = plan_path;
    v = sim_json("--lan 10.0.0.0/8 --cores 4 --scaling %s", elephant);
    rows = get(v, "scaling");
    double top = 0;
    bool flow_named = false;
    for (size_t i = 0; i < rows->count; i++) {
        const struct util_jvalue *r = &rows->items[i];
        assert_true(num(r, "shared_write_share") == 0);
        double share = num(r, "top_flow_share");
        assert_true(share >= 0 && share <= 1);
        assert_true(num(r, "window_packets") > 0);
        top = share > top ? share : top;
        const struct util_jvalue *why = get(r, "flat_why");
        if (get(r, "flat")->boolean && why->type == UTIL_JSTRING)
            flow_named = flow_named || strstr(why->string, "one flow") != NULL ||
                         strstr(why->string, "imbalance") != NULL;
    }
    assert_true(top > 0.5);         /* 50 flows at Zipf 3: the top one dominates */
    assert_true(flow_named);
    util_jvalue_free(v);
}

static void test_real_mix_40g(void **state)
{
    (void)state;
    if (access(REAL_TRACE, R_OK) != 0)
        skip();
    /* 40 Gbps wire in pps: the trace's mean wire bits a packet. */
    struct sim_source src;
    struct trace_source_options to;
    memset(&to, 0, sizeof to);
    struct util_error err;
    assert_int_equal(trace_options_add_file(&to, REAL_TRACE, &err), 0);
    assert_int_equal(sim_file_source_open(&src, &to, &err), 0);
    struct sim_profile prof;
    assert_int_equal(sim_profile_source(&src, 0, &prof, &err), 0);
    sim_file_source_close(&src);
    double pps = 40e9 / (prof.wire_bits / prof.packets);
    agree("--lan " REAL_LAN, REAL_TRACE, "40Gbps", pps, "even", 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated),
        cmocka_unit_test(test_fold_synth),
        cmocka_unit_test(test_default_fold_is_synth),
        cmocka_unit_test(test_scaling_rows_explain),
        cmocka_unit_test(test_real_mix_40g),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
