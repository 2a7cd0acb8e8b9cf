/*
 * test_sim_cli.c - `rsskey sim` end to end: a plan.json written here (the
 * 82599 key, 4 cores, a firewall-like flow table), a generated two-port
 * trace, and the command's exit codes, JSON and options; rates and their
 * units (k/M/G, pps and Gbps wire giving the same run), and the bottleneck
 * line naming the first drop.
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

static char dir[] = "/tmp/rsskey-sim-cli-XXXXXX";
static char plan_path[256], trace_path[256], out_path[256];

#define PACKETS 20000

static void write_plan(void)
{
    FILE *f = fopen(plan_path, "w");
    assert_non_null(f);
    fputs("{\n  \"schema\": \"rsskey-plan/1\",\n  \"nic\": \"test\",\n  \"cores\": 4,\n"
          "  \"ports\": [\n", f);
    for (int p = 0; p < 2; p++) {
        fprintf(f, "    {\"port\": %d, \"rss_key\": \"6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae"
                "7b30b477cb2da38030f20c6a42b73bbeac01fa\", \"rss_hf\": [\"RTE_ETH_RSS_IPV4\", "
                "\"RTE_ETH_RSS_NONFRAG_IPV4_TCP\", \"RTE_ETH_RSS_NONFRAG_IPV4_UDP\"], \"rss_hf_value\": 52, "
                "\"reta_size\": 128, \"reta\": [", p);
        for (int i = 0; i < 128; i++)
            fprintf(f, "%d%s", i % 4, i < 127 ? ", " : "");
        fprintf(f, "]}%s\n", p ? "" : ",");
    }
    fputs("  ],\n  \"nf\": \"test-fw\",\n  \"input_ports\": 2,\n  \"objects\": [\n"
          "    {\"name\": \"flows\", \"kind\": \"map\", \"group\": 0, \"decision\": \"sharded\","
          " \"reason\": \"test\", \"ports\": {\"0\": [\"ipv4.src\", \"ipv4.dst\"]}}\n  ],\n"
          "  \"accesses\": [\n"
          "    {\"object\": \"flows\", \"op\": \"read\", \"port\": 0, \"key\": [\"ipv4.src\", "
          "\"ipv4.dst\", \"l4.sport\", \"l4.dport\"], \"file\": \"fw.c\", \"line\": 10},\n"
          "    {\"object\": \"flows\", \"op\": \"write\", \"port\": 0, \"key\": [\"ipv4.src\", "
          "\"ipv4.dst\", \"l4.sport\", \"l4.dport\"], \"file\": \"fw.c\", \"line\": 11},\n"
          "    {\"object\": \"flows\", \"op\": \"read\", \"port\": 1, \"key\": [\"ipv4.dst\", "
          "\"ipv4.src\", \"l4.dport\", \"l4.sport\"], \"file\": \"fw.c\", \"line\": 20}\n"
          "  ],\n  \"warnings\": []\n}\n", f);
    fclose(f);
}

static int group_setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(plan_path, sizeof plan_path, "%s/plan.json", dir);
    snprintf(trace_path, sizeof trace_path, "%s/t.pcap", dir);
    snprintf(out_path, sizeof out_path, "%s/out.txt", dir);
    struct trace_gen_options g;
    trace_gen_defaults(&g);
    g.seed = 3;
    g.flows = 2000;
    g.packets = PACKETS;
    g.two_port = true;
    struct util_error err;
    if (trace_gen_check(&g, &err) || trace_gen_write(&g, trace_path, NULL, &err))
        return -1;
    write_plan();
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    unlink(plan_path);
    unlink(trace_path);
    unlink(out_path);
    char err_path[300];
    snprintf(err_path, sizeof err_path, "%s.err", out_path);
    unlink(err_path);
    rmdir(dir);
    return 0;
}

/* Runs `rsskey sim ARGS` with stdout to out_path; returns the exit code. */
static int run(const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s sim %s >%s 2>%s.err", RSSKEY, args, out_path, out_path);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static struct util_jvalue *output_json(void)
{
    size_t len;
    struct util_error err;
    char *text = util_read_file(out_path, &len, &err);
    assert_non_null(text);
    struct util_jvalue *v = util_json_parse(text, len, out_path, &err);
    if (!v)
        fail_msg("not JSON: %s\n%s", err.msg, text);
    free(text);
    return v;
}

static double num(const struct util_jvalue *o, const char *key)
{
    const struct util_jvalue *v = util_jobject_get(o, key);
    assert_non_null(v);
    assert_int_equal(v->type, UTIL_JNUMBER);
    return v->number;
}

static void test_usage_and_errors(void **state)
{
    (void)state;
    assert_int_equal(run("--help"), 0);
    assert_int_equal(run(trace_path), UTIL_EXIT_USAGE);             /* no --plan */
    char args[1024];
    snprintf(args, sizeof args, "--plan %s", plan_path);
    assert_int_equal(run(args), UTIL_EXIT_USAGE);                   /* no trace */
    snprintf(args, sizeof args, "--plan %s --pps 1e6 --gbps 3 %s", plan_path, trace_path);
    assert_int_equal(run(args), UTIL_EXIT_USAGE);                   /* two paces */
    snprintf(args, sizeof args, "--plan %s %s", trace_path, trace_path);
    assert_int_equal(run(args), UTIL_EXIT_INPUT);                   /* not a plan */
    snprintf(args, sizeof args, "--plan %s --costs %s %s", plan_path, plan_path, trace_path);
    assert_int_equal(run(args), UTIL_EXIT_INPUT);                   /* not a costs file */
    snprintf(args, sizeof args, "--plan %s %s/missing.pcap", plan_path, dir);
    assert_int_equal(run(args), UTIL_EXIT_IO);                      /* no such trace */
    snprintf(args, sizeof args, "--plan %s %s", plan_path, plan_path);
    assert_int_equal(run(args), UTIL_EXIT_INPUT);                   /* not a capture */
    snprintf(args, sizeof args, "--plan %s --threads 3 %s", plan_path, trace_path);
    assert_int_equal(run(args), UTIL_EXIT_USAGE);                   /* 1 or 2 threads */
    /* Port 1 packets with a plan of two ports work; port 5 does not exist. */
    snprintf(args, sizeof args, "--plan %s --port 5=%s", plan_path, trace_path);
    assert_int_equal(run(args), UTIL_EXIT_INPUT);
}

static void test_json_run(void **state)
{
    (void)state;
    char args[1024];
    snprintf(args, sizeof args, "--plan %s --lan 10.0.0.0/8 --pps 2e6 --json %s", plan_path,
             trace_path);
    assert_int_equal(run(args), 0);
    struct util_jvalue *v = output_json();
    const struct util_jvalue *cores = util_jobject_get(v, "cores");
    assert_non_null(cores);
    assert_int_equal(cores->count, 4);
    double sum = 0, drops = 0;
    for (size_t i = 0; i < cores->count; i++) {
        assert_int_equal((int)num(&cores->items[i], "core"), (int)i);
        sum += num(&cores->items[i], "packets");
        drops += num(&cores->items[i], "drops");
        assert_true(num(&cores->items[i], "cycles_per_packet") > 0);
        assert_non_null(util_jobject_get(&cores->items[i], "cycles_breakdown"));
    }
    const struct util_jvalue *totals = util_jobject_get(v, "totals");
    assert_non_null(totals);
    assert_true(num(totals, "offered") == PACKETS);
    assert_true(sum + drops == PACKETS);
    assert_true(num(totals, "mpps") > 0);
    /* The state's layout: one entry per plan object, with where its size came from. */
    const struct util_jvalue *st = util_jobject_get(v, "state");
    assert_non_null(st);
    assert_true(num(st, "per_core_bytes") + num(st, "shared_bytes") > 0);
    const struct util_jvalue *objs = util_jobject_get(st, "objects");
    assert_non_null(objs);
    assert_true(objs->count > 0);
    for (size_t i = 0; i < objs->count; i++) {
        assert_true(num(&objs->items[i], "bytes") ==
                    num(&objs->items[i], "entries") * num(&objs->items[i], "entry_bytes") *
                    num(&objs->items[i], "rows"));
        assert_non_null(util_jobject_get(&objs->items[i], "sizes_from"));
    }
    util_jvalue_free(v);

    /* RSS only: the same per-core split of offered packets. */
    snprintf(args, sizeof args, "--plan %s --lan 10.0.0.0/8 --rss-only --json %s", plan_path,
             trace_path);
    assert_int_equal(run(args), 0);
    v = output_json();
    cores = util_jobject_get(v, "cores");
    double rss_sum = 0;
    for (size_t i = 0; i < cores->count; i++)
        rss_sum += num(&cores->items[i], "packets");
    assert_true(rss_sum == PACKETS);
    util_jvalue_free(v);
}

static void assert_strings(const struct util_jvalue *v, const char *key, int n, const char **want)
{
    const struct util_jvalue *a = util_jobject_get(v, key);
    assert_non_null(a);
    assert_int_equal(a->type, UTIL_JARRAY);
    assert_int_equal(a->count, n);
    for (int i = 0; i < n; i++) {
        assert_int_equal(a->items[i].type, UTIL_JSTRING);
        assert_string_equal(a->items[i].string, want[i]);
    }
}

/* --json records the port policy: every --lan CIDR as given, and the --port files. */
static void test_json_port_policy(void **state)
{
    (void)state;
    char args[1024];
    snprintf(args, sizeof args, "--plan %s --lan 10.0.0.0/8,192.168.0.0/16 --lan fd00::/8 "
             "--lan 172.16.1.2 --rss-only --json %s", plan_path, trace_path);
    assert_int_equal(run(args), 0);
    struct util_jvalue *v = output_json();
    const char *lan[] = {"10.0.0.0/8", "192.168.0.0/16", "fd00::/8", "172.16.1.2"};
    assert_strings(v, "lan", 4, lan);
    const struct util_jvalue *pf = util_jobject_get(v, "port_files");
    assert_non_null(pf);
    assert_int_equal(pf->type, UTIL_JARRAY);
    assert_int_equal(pf->count, 0);
    util_jvalue_free(v);

    /* No policy: both lists empty. */
    snprintf(args, sizeof args, "--plan %s --rss-only --json %s", plan_path, trace_path);
    assert_int_equal(run(args), 0);
    v = output_json();
    assert_strings(v, "lan", 0, NULL);
    assert_int_equal(util_jobject_get(v, "port_files")->count, 0);
    util_jvalue_free(v);

    /* --port files: port and trace in the order given; --lan still listed. */
    snprintf(args, sizeof args, "--plan %s --lan 10.0.0.0/8 --port 1=%s --port 0=%s "
             "--rss-only --json", plan_path, trace_path, trace_path);
    assert_int_equal(run(args), 0);
    v = output_json();
    const char *lan1[] = {"10.0.0.0/8"};
    assert_strings(v, "lan", 1, lan1);
    pf = util_jobject_get(v, "port_files");
    assert_non_null(pf);
    assert_int_equal(pf->count, 2);
    assert_int_equal((int)num(&pf->items[0], "port"), 1);
    assert_int_equal((int)num(&pf->items[1], "port"), 0);
    for (int i = 0; i < 2; i++) {
        const struct util_jvalue *t = util_jobject_get(&pf->items[i], "trace");
        assert_non_null(t);
        assert_string_equal(t->string, trace_path);
    }
    util_jvalue_free(v);
}

/* --threads 1 and --threads 2 print the same bytes (MLFFR included). */
static void test_threads_same_output(void **state)
{
    (void)state;
    char args[1024], *out[2];
    size_t len[2];
    struct util_error err;
    for (int t = 0; t < 2; t++) {
        snprintf(args, sizeof args, "--plan %s --lan 10.0.0.0/8 --mlffr --threads %d --json %s",
                 plan_path, t + 1, trace_path);
        assert_int_equal(run(args), 0);
        out[t] = util_read_file(out_path, &len[t], &err);
        assert_non_null(out[t]);
    }
    assert_true(len[0] > 100 && len[0] == len[1]);
    assert_memory_equal(out[0], out[1], len[0]);
    free(out[0]);
    free(out[1]);
}

static void test_mlffr_and_scaling(void **state)
{
    (void)state;
    char args[1024];
    snprintf(args, sizeof args, "--plan %s --lan 10.0.0.0/8 --cores 2 --scaling --json %s",
             plan_path, trace_path);
    assert_int_equal(run(args), 0);
    struct util_jvalue *v = output_json();
    const struct util_jvalue *m = util_jobject_get(v, "mlffr");
    assert_non_null(m);
    assert_true(num(m, "mlffr_mpps") > 0);
    const struct util_jvalue *sc = util_jobject_get(v, "scaling");
    assert_non_null(sc);
    assert_int_equal(sc->count, 2);
    assert_true(num(&sc->items[1], "mlffr_mpps") > num(&sc->items[0], "mlffr_mpps"));
    util_jvalue_free(v);
    /* Human output fits 100 columns. */
    snprintf(args, sizeof args, "--plan %s --lan 10.0.0.0/8 --scaling %s", plan_path,
             trace_path);
    assert_int_equal(run(args), 0);
    FILE *f = fopen(out_path, "r");
    char line[1024];
    int lines = 0;
    while (fgets(line, sizeof line, f)) {
        lines++;
        if (strlen(line) > 101)
            fail_msg("line wider than 100 columns: %s", line);
    }
    fclose(f);
    assert_true(lines > 10);
}

/* Runs args and returns the output file's text (caller frees). */
static char *run_text(const char *args, int want_rc)
{
    assert_int_equal(run(args), want_rc);
    size_t len;
    struct util_error err;
    char *text = util_read_file(out_path, &len, &err);
    assert_non_null(text);
    return text;
}

static char *stderr_text(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s.err", out_path);
    size_t len;
    struct util_error err;
    char *text = util_read_file(path, &len, &err);
    assert_non_null(text);
    return text;
}

/* A bad rate is refused with a message saying what was wrong. */
static void refused(const char *opt_and_value, const char *says)
{
    char args[1024];
    snprintf(args, sizeof args, "--plan %s --lan 10.0.0.0/8 %s %s", plan_path, opt_and_value,
             trace_path);
    assert_int_equal(run(args), UTIL_EXIT_USAGE);
    char *e = stderr_text();
    if (!strstr(e, says))
        fail_msg("'%s': expected a message with '%s', got: %s", opt_and_value, says, e);
    free(e);
}

/* k/M/G on every rate option, one message for bad values, and the same
 * offered load as --pps and as --gbps (wire bits) giving the same run. */
static void test_rate_units(void **state)
{
    (void)state;
    refused("--pps 12.05X", "is not a rate");
    refused("--pps -3", "is not a rate");
    refused("--pps 0", "must be above 0");
    refused("--pps inf", "is not a rate");
    refused("--pps 40Gbps", "bits per second");
    refused("--gbps 12Mpps", "packets per second");
    refused("--nic-gbps fast", "is not a rate");
    refused("--speedup 2pps", "factor");
    refused("--target 40", "needs a unit");
    refused("--target 40Gbps --pps 1M", "--target sets the offered rate");
    refused("--units bytes --pps 1M", "--units is");
    refused("--pace burst --pps 1M", "--pace is");
    refused("--pace even", "needs a rate");

    /* Suffixes: 2M and 2000000 (and 2Mpps) are the same run, byte for byte. */
    char args[1024];
    char *ref = NULL;
    const char *forms[] = {"--pps 2000000", "--pps 2M", "--pps 2Mpps", "--pps '2000k pps'"};
    for (int i = 0; i < 4; i++) {
        snprintf(args, sizeof args, "--plan %s --lan 10.0.0.0/8 %s --json %s", plan_path,
                 forms[i], trace_path);
        char *t = run_text(args, 0);
        char *tot = strstr(t, "\"totals\"");
        assert_non_null(tot);
        if (!ref)
            ref = strdup(tot);
        else
            assert_string_equal(ref, tot);
        free(t);
    }
    free(ref);

    /* The same load in Gbps wire: the trace's mean wire bits a packet,
     * frame + FCS + preamble + gap (sim_wire_bits), as the engine counts. */
    struct sim_source src;
    struct trace_source_options to;
    memset(&to, 0, sizeof to);
    struct util_error err;
    assert_int_equal(trace_options_add_file(&to, trace_path, &err), 0);
    assert_int_equal(sim_file_source_open(&src, &to, &err), 0);
    struct sim_profile prof;
    assert_int_equal(sim_profile_source(&src, 0, &prof, &err), 0);
    sim_file_source_close(&src);
    assert_true(prof.packets == PACKETS);
    assert_true(prof.wire_bits > prof.frame_bits + PACKETS * 24 * 8 - 1);
    double pps = 3e6, gbps = pps * prof.wire_bits / prof.packets / 1e9;
    struct util_jvalue *v[2];
    snprintf(args, sizeof args, "--plan %s --lan 10.0.0.0/8 --pps 3M --ring 64 --json %s",
             plan_path, trace_path);
    assert_int_equal(run(args), 0);
    v[0] = output_json();
    snprintf(args, sizeof args, "--plan %s --lan 10.0.0.0/8 --gbps %.17g --ring 64 --json %s",
             plan_path, gbps, trace_path);
    assert_int_equal(run(args), 0);
    v[1] = output_json();
    const struct util_jvalue *t0 = util_jobject_get(v[0], "totals");
    const struct util_jvalue *t1 = util_jobject_get(v[1], "totals");
    const char *same[] = {"offered", "processed", "drops", "wire_bits", "imbalance"};
    for (int i = 0; i < 5; i++)
        assert_true(num(t0, same[i]) == num(t1, same[i]));
    const char *close[] = {"duration_s", "offered_mpps", "mpps", "gbps", "offered_gbps"};
    for (int i = 0; i < 5; i++)
        assert_true(fabs(num(t0, close[i]) - num(t1, close[i])) <= 1e-9 * num(t0, close[i]));
    assert_true(fabs(num(t0, "offered_gbps") - gbps) < 1e-6 * gbps);
    assert_true(fabs(num(t0, "offered_mpps") - 3.0) < 1e-9);
    /* "gbps" is wire bits, "gbps_frame" the capture's frame bits. */
    assert_true(num(t0, "gbps") > num(t0, "gbps_frame"));
    util_jvalue_free(v[0]);
    util_jvalue_free(v[1]);
    /* --gbps 400M is 0.4 Gbit/s; the text says "Gbps wire", or "frame" when asked. */
    snprintf(args, sizeof args, "--plan %s --lan 10.0.0.0/8 --gbps 400M %s", plan_path,
             trace_path);
    char *t = run_text(args, 0);
    assert_non_null(strstr(t, "0.400 Gbps wire, evenly paced"));
    assert_null(strstr(t, "Gbps frame"));
    free(t);
    snprintf(args, sizeof args, "--plan %s --lan 10.0.0.0/8 --gbps 0.4 --units frame --scaling "
             "--cores 2 %s", plan_path, trace_path);
    t = run_text(args, 0);
    assert_non_null(strstr(t, "0.400 Gbps frame, evenly paced"));
    assert_non_null(strstr(t, "Gbps frame"));
    assert_null(strstr(t, "Gbps wire"));
    free(t);
}

/* The bottleneck line: what lost packets first when there were drops, the
 * limits when there were none. */
static void test_bottleneck_names_drops(void **state)
{
    (void)state;
    char args[1024];
    snprintf(args, sizeof args, "--plan %s --lan 10.0.0.0/8 --gbps 400 --json %s", plan_path,
             trace_path);
    assert_int_equal(run(args), 0);
    struct util_jvalue *v = output_json();
    const struct util_jvalue *tot = util_jobject_get(v, "totals");
    assert_true(num(tot, "drops") > 0);
    const struct util_jvalue *b = util_jobject_get(tot, "bottleneck");
    assert_non_null(b);
    assert_true(strncmp(b->string, "ring overflow on core ", 22) == 0);
    assert_non_null(strstr(b->string, "cause: "));
    const struct util_jvalue *fd = util_jobject_get(tot, "first_drop");
    assert_non_null(fd);
    assert_int_equal(fd->type, UTIL_JOBJECT);
    int core = (int)num(fd, "core");
    char want[64];
    snprintf(want, sizeof want, "ring overflow on core %d at t=", core);
    assert_true(strncmp(b->string, want, strlen(want)) == 0);
    const struct util_jvalue *cores = util_jobject_get(v, "cores");
    assert_true(num(&cores->items[core], "drops") > 0);
    assert_string_not_equal(util_jobject_get(tot, "cause")->string, "none");
    util_jvalue_free(v);
    /* Text: the same line. */
    snprintf(args, sizeof args, "--plan %s --lan 10.0.0.0/8 --gbps 400 %s", plan_path,
             trace_path);
    char *t = run_text(args, 0);
    assert_non_null(strstr(t, "bottleneck: ring overflow on core"));
    free(t);
    /* No drops: the limits, and no first drop. */
    snprintf(args, sizeof args, "--plan %s --lan 10.0.0.0/8 --gbps 1 --json %s", plan_path,
             trace_path);
    assert_int_equal(run(args), 0);
    v = output_json();
    tot = util_jobject_get(v, "totals");
    assert_true(num(tot, "drops") == 0);
    assert_int_equal(util_jobject_get(tot, "first_drop")->type, UTIL_JNULL);
    assert_string_equal(util_jobject_get(tot, "cause")->string, "none");
    b = util_jobject_get(tot, "bottleneck");
    assert_true(strncmp(b->string, "core ", 5) == 0 || strcmp(b->string, "PCIe") == 0 ||
                strcmp(b->string, "NIC line rate") == 0);
    util_jvalue_free(v);
    /* --target above the NIC's line rate: no core count, the NIC named, the
     * search stopped at once. */
    snprintf(args, sizeof args, "--plan %s --lan 10.0.0.0/8 --target 1000Gbps --json %s",
             plan_path, trace_path);
    assert_int_equal(run(args), 0);
    v = output_json();
    const struct util_jvalue *tg = util_jobject_get(v, "target");
    assert_non_null(tg);
    assert_int_equal(util_jobject_get(tg, "cores")->type, UTIL_JNULL);
    const struct util_jvalue *tried = util_jobject_get(tg, "tried");
    assert_int_equal(tried->count, 1);
    assert_string_equal(util_jobject_get(&tried->items[0], "cause")->string, "NIC line rate");
    util_jvalue_free(v);
    /* and one a single core carries: the answer 1, nothing below. */
    snprintf(args, sizeof args, "--plan %s --lan 10.0.0.0/8 --target 10kpps --json %s",
             plan_path, trace_path);
    assert_int_equal(run(args), 0);
    v = output_json();
    tg = util_jobject_get(v, "target");
    assert_true(num(tg, "cores") == 1);
    assert_true(fabs(num(tg, "mpps") - 0.01) < 1e-12);
    tot = util_jobject_get(v, "totals");
    assert_true(num(tot, "drops") == 0);
    b = util_jobject_get(tot, "bottleneck");
    assert_true(strncmp(b->string, "core ", 5) == 0 || strcmp(b->string, "PCIe") == 0 ||
                strcmp(b->string, "NIC line rate") == 0);
    util_jvalue_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_and_errors),
        cmocka_unit_test(test_json_run),
        cmocka_unit_test(test_threads_same_output),
        cmocka_unit_test(test_mlffr_and_scaling),
        cmocka_unit_test(test_json_port_policy),
        cmocka_unit_test(test_rate_units),
        cmocka_unit_test(test_bottleneck_names_drops),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
