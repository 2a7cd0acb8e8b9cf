/*
 * test_trace_cli.c - `rsskey trace` end to end through the built binary:
 * --help, gen then stats --json (keys and values), --lan splitting a
 * two-port trace, exit codes for bad usage, bad input and unwritable output,
 * and no output file left behind on failure.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/util.h"

/* Runs `rsskey ARGS`, returns its exit status; stdout into out (malloc'd). */
static int run(const char *args, char **out)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' %s 2>/dev/null", RSSKEY_BIN, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    buf[len] = '\0';
    int status = pclose(p);
    if (out)
        *out = buf;
    else
        free(buf);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static double json_number(const struct util_jvalue *root, const char *key)
{
    const struct util_jvalue *v = util_jobject_get(root, key);
    assert_non_null(v);
    assert_int_equal(v->type, UTIL_JNUMBER);
    return v->number;
}

static void test_help(void **state)
{
    (void)state;
    char *out;
    assert_int_equal(run("trace --help", &out), UTIL_EXIT_OK);
    assert_non_null(strstr(out, "stats"));
    free(out);
    assert_int_equal(run("trace stats --help", &out), UTIL_EXIT_OK);
    assert_non_null(strstr(out, "--lan"));
    free(out);
    assert_int_equal(run("trace gen --help", &out), UTIL_EXIT_OK);
    assert_non_null(strstr(out, "--zipf"));
    free(out);
}

static void test_gen_then_stats(void **state)
{
    (void)state;
    char dir[] = "/tmp/rsskey-test-cli-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char args[512], *out;
    snprintf(args, sizeof args,
             "trace gen -o %s/t.pcap --seed 3 --flows 50 --packets 3000 --pps 1000 "
             "--two-port --size-dist fixed:100",
             dir);
    assert_int_equal(run(args, NULL), UTIL_EXIT_OK);

    snprintf(args, sizeof args, "trace stats --json --top 3 --lan 10.0.0.0/8 %s/t.pcap", dir);
    assert_int_equal(run(args, &out), UTIL_EXIT_OK);
    struct util_error err;
    struct util_jvalue *root = util_json_parse(out, strlen(out), "stats", &err);
    assert_non_null(root);
    assert_true(json_number(root, "packets") == 3000);
    assert_true(json_number(root, "bytes") == 300000);
    assert_true(json_number(root, "duration_ns") == 2999000000.0);
    assert_true(fabs(json_number(root, "duration_s") - 2.999) < 1e-9);
    assert_true(json_number(root, "flows") > 50);       /* requests plus replies */
    const struct util_jvalue *ports = util_jobject_get(root, "port_packets");
    assert_non_null(ports);
    assert_true(ports->items[0].number + ports->items[1].number == 3000);
    assert_true(ports->items[1].number > 1000);         /* replies on the WAN port */
    const struct util_jvalue *top = util_jobject_get(root, "top_flows");
    assert_non_null(top);
    assert_int_equal(top->count, 3);
    util_jvalue_free(root);
    free(out);

    /* Text output mentions the same counts. */
    snprintf(args, sizeof args, "trace stats %s/t.pcap", dir);
    assert_int_equal(run(args, &out), UTIL_EXIT_OK);
    assert_non_null(strstr(out, "3,000"));
    free(out);

    snprintf(args, sizeof args, "rm -rf '%s'", dir);
    assert_int_equal(system(args), 0);
}

static void test_exit_codes(void **state)
{
    (void)state;
    char dir[] = "/tmp/rsskey-test-cli-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char args[512];
    assert_int_equal(run("trace", NULL), UTIL_EXIT_USAGE);
    assert_int_equal(run("trace frobnicate", NULL), UTIL_EXIT_USAGE);
    assert_int_equal(run("trace stats", NULL), UTIL_EXIT_USAGE);
    assert_int_equal(run("trace stats --bogus x.pcap", NULL), UTIL_EXIT_USAGE);
    assert_int_equal(run("trace stats --lan 10.0.0.0/99 x.pcap", NULL), UTIL_EXIT_USAGE);
    assert_int_equal(run("trace gen --flows 0 -o x.pcap", NULL), UTIL_EXIT_USAGE);
    assert_int_equal(run("trace gen --packets 5 --pps 5 --duration 3 -o x.pcap", NULL),
                     UTIL_EXIT_USAGE);
    snprintf(args, sizeof args, "trace stats %s/missing.pcap", dir);
    assert_int_equal(run(args, NULL), UTIL_EXIT_INPUT);
    snprintf(args, sizeof args, "%s/text.pcap", dir);
    FILE *f = fopen(args, "w");
    fputs("not a capture\n", f);
    fclose(f);
    snprintf(args, sizeof args, "trace stats %s/text.pcap", dir);
    assert_int_equal(run(args, NULL), UTIL_EXIT_INPUT);
    snprintf(args, sizeof args, "trace gen -o %s/no/such/dir/t.pcap", dir);
    assert_int_equal(run(args, NULL), UTIL_EXIT_IO);

    /* Nothing but the text file is left in the directory. */
    snprintf(args, sizeof args, "test \"$(ls -A '%s')\" = text.pcap", dir);
    assert_int_equal(system(args), 0);
    snprintf(args, sizeof args, "rm -rf '%s'", dir);
    assert_int_equal(system(args), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_gen_then_stats),
        cmocka_unit_test(test_exit_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
