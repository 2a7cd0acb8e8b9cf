/*
 * test_rss_cli.c - `rsskey synth` and `rsskey nics` as a user runs them: exit
 * codes for good and bad input, --help, --json, plan.json written whole (and
 * not at all on error), --plan-in, --trace tuning, --seed reproducibility.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "rss/rss.h"
#include "tests/rss/nf_plans.h"

static char dir[] = "/tmp/rsskey-cli-XXXXXX";

static int run(const char *fmt, ...)
{
    char args[2048], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd %s && %s %s > out.txt 2> err.txt", dir, RSSKEY_BIN, args);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct util_error err;
    return util_read_file(path, NULL, &err);
}

static bool exists(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0;
}

static void write_analysis(const char *nf, const char *name)
{
    struct deps_plan p;
    assert_int_equal(nf_plan_build(nf, &p), 0);
    struct util_json *w = util_json_new();
    util_json_object_begin(w);
    util_json_key(w, "schema");
    util_json_string(w, "rsskey-analysis/1");
    deps_plan_write_json(&p, w);
    util_json_object_end(w);
    size_t len;
    const char *text = util_json_text(w, &len);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct util_error err;
    assert_int_equal(util_write_file_atomic(path, text, len, &err), 0);
    util_json_free(w);
    deps_plan_free(&p);
}

static void test_nics(void **state)
{
    (void)state;
    assert_int_equal(run("nics"), 0);
    char *out = slurp("out.txt");
    assert_non_null(strstr(out, "x710"));
    assert_non_null(strstr(out, "virtio"));
    free(out);
    assert_int_equal(run("nics --json"), 0);
    out = slurp("out.txt");
    struct util_error err;
    struct util_jvalue *v = util_json_parse(out, strlen(out), "nics", &err);
    assert_non_null(v);
    assert_int_equal(util_jobject_get(v, "nics")->count, 8);
    util_jvalue_free(v);
    free(out);
    assert_int_equal(run("nics --bogus"), UTIL_EXIT_USAGE);
    assert_int_equal(run("help nics"), 0);
}

static void test_synth_usage_errors(void **state)
{
    (void)state;
    assert_int_equal(run("synth --help"), 0);
    assert_int_equal(run("synth"), UTIL_EXIT_USAGE);
    write_analysis("fw", "fw.json");
    assert_int_equal(run("synth --plan-in fw.json --nic bogus -o p.json"), UTIL_EXIT_USAGE);
    char *err = slurp("err.txt");
    assert_non_null(strstr(err, "rsskey nics"));
    free(err);
    assert_int_equal(run("synth --plan-in fw.json --cores 0 -o p.json"), UTIL_EXIT_USAGE);
    assert_int_equal(run("synth --plan-in fw.json --cores 9999 -o p.json"), UTIL_EXIT_USAGE);
    assert_int_equal(run("synth --plan-in missing.json -o p.json"), UTIL_EXIT_IO);
    FILE *f = fopen("/dev/null", "r");
    fclose(f);
    char path[512];
    snprintf(path, sizeof path, "%s/bad.nic", dir);
    f = fopen(path, "w");
    fputs("key_len = 40\nreta_size = 100\nrss_hf = IPV4\n", f);
    fclose(f);
    assert_int_equal(run("synth --plan-in fw.json --nic-file bad.nic -o p.json"), UTIL_EXIT_INPUT);
    err = slurp("err.txt");
    assert_non_null(strstr(err, "bad.nic:2"));
    free(err);
    assert_false(exists("p.json"));   /* nothing written on error */
}

static void test_synth_writes_plan(void **state)
{
    (void)state;
    write_analysis("fw", "fw.json");
    assert_int_equal(run("synth --plan-in fw.json --nic cx5 --cores 6 --seed 9 -o p.json"), 0);
    char *out = slurp("out.txt");
    assert_non_null(strstr(out, "wrote p.json"));
    assert_non_null(strstr(out, "cx5"));
    /* The summary fits a terminal. */
    for (char *line = out, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl)
            break;
        assert_true(nl - line <= 100);
    }
    free(out);
    struct rss_plan plan;
    struct util_error err;
    char path[512];
    snprintf(path, sizeof path, "%s/p.json", dir);
    assert_int_equal(rss_plan_read(path, &plan, &err), 0);
    assert_int_equal(plan.cores, 6);
    assert_int_equal(plan.ports[0].key_len, 40);
    assert_int_equal(rss_plan_check(&plan, 3, 2000, &err), 0);
    /* Same seed, same keys; --json prints the same plan. */
    assert_int_equal(run("synth --plan-in fw.json --nic cx5 --cores 6 --seed 9 -o q.json --json"), 0);
    struct rss_plan again;
    snprintf(path, sizeof path, "%s/q.json", dir);
    assert_int_equal(rss_plan_read(path, &again, &err), 0);
    assert_memory_equal(plan.ports[1].key, again.ports[1].key, 40);
    out = slurp("out.txt");
    assert_non_null(strstr(out, "\"schema\": \"rsskey-plan/1\""));
    free(out);
    rss_plan_free(&again);
    rss_plan_free(&plan);
    /* No temporary files left behind. */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "test $(ls -a %s | grep -c '^\\.p\\.json\\|tmp') -eq 0", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_synth_trace(void **state)
{
    (void)state;
    const char *trace = RSSKEY_SHARED_DIR "/traces/web-v4.pcap";
    if (access(trace, R_OK) != 0) {
        print_message("no %s: skipped\n", trace);
        return;
    }
    write_analysis("cl", "cl.json");
    assert_int_equal(run("synth --plan-in cl.json --trace %s --lan 10.0.0.0/8,192.168.0.0/16 "
                         "--train-fraction 0.6 -o t.json", trace), 0);
    struct rss_plan plan;
    struct util_error err;
    char path[512];
    snprintf(path, sizeof path, "%s/t.json", dir);
    assert_int_equal(rss_plan_read(path, &plan, &err), 0);
    assert_true(plan.quality.reta.trained);
    assert_true(plan.quality.reta.train_packets > 0 && plan.quality.reta.test_packets > 0);
    assert_true(plan.quality.reta.lower_bound_max_mean <= plan.quality.reta.tuned_max_mean + 1e-9);
    assert_memory_equal(plan.ports[0].reta, plan.ports[1].reta, 512 * sizeof(uint16_t));
    rss_plan_free(&plan);
    assert_int_equal(run("synth --plan-in cl.json --lan 10.0.0.0/8 -o t2.json"), UTIL_EXIT_USAGE);
    assert_int_equal(run("synth --plan-in cl.json --trace nope.pcap -o t2.json"), UTIL_EXIT_INPUT);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nics),
        cmocka_unit_test(test_synth_usage_errors),
        cmocka_unit_test(test_synth_writes_plan),
        cmocka_unit_test(test_synth_trace),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
