/*
 * deps_e2e.c - end to end: `rsskey analyze --json NF.bc` on a reference NF's
 * bitcode must give the plan the NF catalogue expects
 * (/work/shared/notes/nf-catalogue.md, "expected plan").
 *
 * usage: deps_e2e NF OPT   (e.g. deps_e2e fw O2); deps_e2e cli (options, exit
 * codes, -o, errors on bad bitcode); deps_e2e crafted NF OPT for
 * the crafted NFs of tests/analysis/nfs (issues, per-port keys, prefixes, and
 * deps' own: a NAT without its guard, NAT variants for the guard checks, a
 * mixed plan). RSSKEY_BIN,
 * NF_BITCODE_DIR and CRAFTED_BITCODE_DIR come from CMake.
 */
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

static const char *nf_name, *opt_level, *bitcode_dir = NF_BITCODE_DIR;

/* ---- Reading the JSON ---------------------------------------------------- */

struct analysis {
    struct util_jvalue *root;
    const struct util_jvalue *objects;
    const struct util_jvalue *warnings;
};

static void run_analyze(struct analysis *out)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' analyze --json '%s/%s.%s.bc'", RSSKEY_BIN, bitcode_dir,
             nf_name, opt_level);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t n;
    while ((n = fread(text + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (len + 1 == cap) {
            cap *= 2;
            text = realloc(text, cap);
            assert_non_null(text);
        }
    }
    text[len] = '\0';
    int status = pclose(p);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("%s exited with %d", cmd, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    struct util_error err;
    out->root = util_json_parse(text, len, "rsskey analyze --json", &err);
    free(text);
    if (!out->root)
        fail_msg("%s", err.msg);
    const struct util_jvalue *schema = util_jobject_get(out->root, "schema");
    assert_non_null(schema);
    assert_string_equal(schema->string, "rsskey-analysis/1");
    out->objects = util_jobject_get(out->root, "objects");
    out->warnings = util_jobject_get(out->root, "warnings");
    assert_non_null(out->objects);
    assert_int_equal(out->objects->type, UTIL_JARRAY);
    assert_non_null(out->warnings);
}

static const char *str(const struct util_jvalue *obj, const char *key)
{
    const struct util_jvalue *v = util_jobject_get(obj, key);
    assert_non_null(v);
    assert_int_equal(v->type, UTIL_JSTRING);
    return v->string;
}

/* The port's key as "a,b,c", or "" when the object has none on that port. */
static const char *port_key(const struct util_jvalue *obj, const char *port)
{
    static char buf[512];
    buf[0] = '\0';
    const struct util_jvalue *ports = util_jobject_get(obj, "ports");
    const struct util_jvalue *key = ports ? util_jobject_get(ports, port) : NULL;
    for (size_t i = 0; key && i < key->count; i++) {
        strcat(buf, i ? "," : "");
        strcat(buf, key->items[i].string);
    }
    return buf;
}

/* A member of the object's "size" (the NF's create call), 0 when absent. */
static double size_of(const struct util_jvalue *obj, const char *key)
{
    const struct util_jvalue *size = util_jobject_get(obj, "size");
    assert_non_null(size);
    const struct util_jvalue *v = util_jobject_get(size, key);
    return v ? v->number : 0;
}

static bool warned(const struct analysis *a, const char *needle)
{
    for (size_t i = 0; i < a->warnings->count; i++)
        if (strstr(a->warnings->items[i].string, needle))
            return true;
    return false;
}

/* Every object: decision, and (sharded) the key on ports 0 and 1 where the
 * object has one ("-" = must have none; NULL = anything). */
static void expect_all(const struct analysis *a, const char *decision, const char *port0,
                       const char *port1)
{
    assert_true(a->objects->count > 0);
    for (size_t i = 0; i < a->objects->count; i++) {
        const struct util_jvalue *o = &a->objects->items[i];
        const char *name = str(o, "name");
        if (strcmp(str(o, "decision"), decision) != 0)
            fail_msg("%s: decision %s, expected %s (reason: %s)", name, str(o, "decision"),
                     decision, str(o, "reason"));
        const char *want[2] = {port0, port1};
        const char *ports[2] = {"0", "1"};
        for (int p = 0; p < 2; p++) {
            const char *got = port_key(o, ports[p]);
            if (!want[p] || (got[0] == '\0' && strcmp(want[p], "-") != 0))
                continue;       /* not reached from that port */
            if (strcmp(want[p], "-") == 0 ? got[0] != '\0' : strcmp(got, want[p]) != 0)
                fail_msg("%s: port %s key \"%s\", expected \"%s\"", name, ports[p], got,
                         want[p]);
        }
    }
}

static const struct util_jvalue *object(const struct analysis *a, const char *name)
{
    for (size_t i = 0; i < a->objects->count; i++)
        if (strcmp(str(&a->objects->items[i], "name"), name) == 0)
            return &a->objects->items[i];
    fail_msg("no object %s", name);
    return NULL;
}

/* ---- The command line ----------------------------------------------------- */

/* Runs `rsskey analyze ARGS`, returns the exit code; stderr goes to *err_text. */
static int run_cli(const char *args, char *err_text, size_t size)
{
    char cmd[2048], path[] = "/tmp/deps_e2e_err_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    snprintf(cmd, sizeof cmd, "'%s' analyze %s >/dev/null 2>'%s'", RSSKEY_BIN, args, path);
    int status = system(cmd);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(err_text, 1, size - 1, f);
    err_text[n] = '\0';
    fclose(f);
    unlink(path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_cli(void **state)
{
    (void)state;
    char err[4096], args[1024];
    assert_int_equal(run_cli("--help", err, sizeof err), 0);
    assert_int_equal(run_cli("--bogus", err, sizeof err), 2);
    assert_non_null(strstr(err, "rsskey analyze: error: unknown option"));
    assert_int_equal(run_cli("", err, sizeof err), 2);
    assert_int_equal(run_cli("--ports 99 x.bc", err, sizeof err), 2);

    /* not bitcode: exit 3 and a message naming the file */
    char bad[] = "/tmp/deps_e2e_bad_XXXXXX";
    int fd = mkstemp(bad);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not bitcode at all\n", 19), 19);
    close(fd);
    snprintf(args, sizeof args, "'%s'", bad);
    assert_int_equal(run_cli(args, err, sizeof err), 3);
    assert_non_null(strstr(err, bad));
    unlink(bad);

    /* -o writes the file atomically; --json and --dot are exclusive */
    char out[] = "/tmp/deps_e2e_out_XXXXXX";
    fd = mkstemp(out);
    assert_true(fd >= 0);
    close(fd);
    snprintf(args, sizeof args, "--dot -o '%s' '%s/fw.O2.bc'", out, NF_BITCODE_DIR);
    assert_int_equal(run_cli(args, err, sizeof err), 0);
    FILE *f = fopen(out, "r");
    assert_non_null(f);
    char head[16] = "";
    assert_non_null(fgets(head, sizeof head, f));
    fclose(f);
    unlink(out);
    assert_memory_equal(head, "digraph", 7);
    snprintf(args, sizeof args, "--json --dot '%s/fw.O2.bc'", NF_BITCODE_DIR);
    assert_int_equal(run_cli(args, err, sizeof err), 2);
}

/* The text report (not a terminal: 100 columns) must fit 100 columns. */
static void check_text_width(void)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' analyze '%s/%s.%s.bc'", RSSKEY_BIN, bitcode_dir, nf_name,
             opt_level);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[4096];
    int lines = 0;
    while (fgets(line, sizeof line, p)) {
        size_t n = strcspn(line, "\n");
        if (n > 100)
            fail_msg("%s: a %zu-column line: %s", cmd, n, line);
        lines++;
    }
    assert_int_equal(pclose(p), 0);
    assert_true(lines > 0);
}

/* ---- Arithmetic on header fields (tests/analysis/nfs/arith_*.c) ------------- */

/* The object is shared and its reason says the key was computed from
 * `fields` by `op` at `where`, and how to make it shardable. */
static void expect_hashed(const struct analysis *a, const char *name, const char *fields,
                          const char *op, const char *where)
{
    const struct util_jvalue *o = object(a, name);
    const char *why = str(o, "reason");
    if (strcmp(str(o, "decision"), "shared") != 0)
        fail_msg("%s: %s, expected shared (reason: %s)", name, str(o, "decision"), why);
    char text[256];
    snprintf(text, sizeof text, "computed from %s by %s at %s", fields, op, where);
    if (!strstr(why, text) || !strstr(why, "its bits are not bits of") ||
        !strstr(why, "key it by the field or a mask/shift of it"))
        fail_msg("%s: reason \"%s\" does not say \"%s\" and what to do", name, why, text);
}

static void expect_sharded(const struct analysis *a, const char *name, const char *key)
{
    const struct util_jvalue *o = object(a, name);
    if (strcmp(str(o, "decision"), "sharded") != 0)
        fail_msg("%s: %s, expected sharded (reason: %s)", name, str(o, "decision"),
                 str(o, "reason"));
    assert_string_equal(port_key(o, "0"), key);
}

static void check_arith(const struct analysis *a)
{
    const char *n = nf_name;
    if (strcmp(n, "arith_hash_mul") == 0) {
        /* the counters: (ntohl(src) * 2654435761) >> 20 */
        expect_hashed(a, "hm_counters", "ipv4.src", "a multiplication", "arith_hash_mul.c:25");
    } else if (strcmp(n, "arith_hash_salt") == 0) {
        expect_hashed(a, "hs_counters", "ipv4.src", "an addition with carries",
                      "arith_hash_salt.c:25");
    } else if (strcmp(n, "arith_add_lowzero") == 0) {
        expect_sharded(a, "al_by_net", "ipv4.src/16");
        expect_hashed(a, "al_by_dst", "ipv4.dst", "an addition with carries",
                      "arith_add_lowzero.c:32");
    } else if (strcmp(n, "arith_zext_shift") == 0) {
        expect_sharded(a, "zs_pairs", "l4.sport,l4.dport");
        assert_string_equal(port_key(object(a, "zs_pairs"), "1"), "l4.sport,l4.dport");
    } else if (strcmp(n, "arith_mul_odd") == 0) {
        expect_hashed(a, "mo_slots", "ipv4.dst", "a multiplication", "arith_mul_odd.c:21");
    } else if (strcmp(n, "arith_mul_pow2") == 0) {
        expect_sharded(a, "mp_slots", "ipv4.src/8");
        assert_true(warned(a, "balance"));
    } else if (strcmp(n, "arith_sub_base") == 0) {
        /* ntohs(dport) - base is injective: sharded by the port; >> 4 of it is not */
        expect_sharded(a, "sb_by_port", "l4.dport");
        expect_hashed(a, "sb_by_group", "l4.dport", "a subtraction with borrows",
                      "arith_sub_base.c:33");
    } else if (strcmp(n, "arith_xor_fields") == 0) {
        expect_hashed(a, "xf_slots", "ipv4.src and ipv4.dst", "an xor of two variables",
                      "arith_xor_fields.c:20");
    } else if (strcmp(n, "arith_divmod") == 0) {
        expect_hashed(a, "dm_by_rem", "ipv4.src", "a remainder (modulo)", "arith_divmod.c:23");
        expect_hashed(a, "dm_by_div", "ipv4.dst", "a division", "arith_divmod.c:26");
    } else if (strcmp(n, "arith_shift_mask") == 0) {
        expect_sharded(a, "sm_counters", "ipv4.src/12");
        assert_string_equal(port_key(object(a, "sm_counters"), "1"), "ipv4.src/12");
    } else {
        fail_msg("no expected plan for NF %s", n);
    }
}

/* ---- The catalogue's expected plans ---------------------------------------- */

static void test_expected_plan(void **state)
{
    (void)state;
    struct analysis a;
    run_analyze(&a);
    const char *n = nf_name;
    if (strcmp(n, "nop") == 0) {
        assert_int_equal(a.objects->count, 0);
    } else if (strcmp(n, "sbridge") == 0) {
        expect_all(&a, "replicated", "-", "-");
    } else if (strcmp(n, "dbridge") == 0) {
        expect_all(&a, "shared", "-", "-");
        assert_non_null(strstr(str(&a.objects->items[0], "reason"), "MAC"));
    } else if (strcmp(n, "policer") == 0) {
        expect_all(&a, "sharded", "-", "ipv4.dst");
    } else if (strcmp(n, "fw") == 0) {
        expect_all(&a, "sharded", "ipv4.src,ipv4.dst,l4.sport,l4.dport",
                   "ipv4.dst,ipv4.src,l4.dport,l4.sport");
        const struct util_jvalue *table = object(&a, "fw_flow_table");
        assert_string_equal(port_key(table, "1"), "ipv4.dst,ipv4.src,l4.dport,l4.sport");
        for (size_t i = 1; i < a.objects->count; i++)     /* ONE table for both ports */
            assert_true(util_jobject_get(&a.objects->items[i], "group")->number ==
                        util_jobject_get(table, "group")->number);
        /* sizes from fw.c's create calls (capacity: an nf_config default) */
        assert_true(size_of(table, "key_size") == 16 && size_of(table, "capacity") == 65536);
        const struct util_jvalue *keys = object(&a, "fw_flow_keys");
        assert_true(size_of(keys, "record_size") == 16 && size_of(keys, "capacity") == 65536);
    } else if (strcmp(n, "nat") == 0) {
        expect_all(&a, "sharded", "ipv4.dst,l4.dport", "ipv4.src,l4.sport");
        const struct util_jvalue *flows = object(&a, "nat_flows");
        assert_string_equal(port_key(flows, "1"), "ipv4.src,l4.sport");
        assert_non_null(strstr(str(flows, "reason"), "disjoint index ranges"));
        assert_non_null(strstr(str(flows, "reason"), "guard"));
        /* both assumptions are checked: the stored remote host is written from
         * port 0's destination (nat.c:85), the refresh runs after the guard */
        assert_non_null(strstr(str(flows, "reason"), "written from those port-0 fields, first "
                                                     "at nat.c:85"));
        assert_non_null(strstr(str(flows, "reason"), "run only after the guard holds"));
    } else if (strcmp(n, "cl") == 0) {
        expect_all(&a, "sharded", "ipv4.src,ipv4.dst", NULL);
        const struct util_jvalue *sketch = object(&a, "cl_conn_sketch");
        assert_true(size_of(sketch, "width") == 4096 && size_of(sketch, "depth") == 4);
        assert_true(size_of(sketch, "key_size") == 8);
    } else if (strcmp(n, "psd") == 0) {
        expect_all(&a, "sharded", "-", "ipv4.src");
    } else if (strcmp(n, "lb") == 0) {
        for (size_t i = 0; i < a.objects->count; i++) {
            const struct util_jvalue *o = &a.objects->items[i];
            const char *name = str(o, "name"), *d = str(o, "decision");
            const char *want = strncmp(name, "lb_flow_", 8) == 0 ? "sharded"
                             : strcmp(name, "lb_backend_chash") == 0 ? "replicated"
                                                                     : "shared";
            if (strcmp(d, want) != 0)
                fail_msg("%s: %s, expected %s (reason: %s)", name, d, want, str(o, "reason"));
            if (strcmp(want, "sharded") == 0)
                assert_string_equal(port_key(o, "0"), "ipv4.src,ipv4.dst,l4.sport,l4.dport");
        }
        assert_non_null(strstr(str(object(&a, "lb_backends_alive"), "reason"),
                               "every new flow"));
        const struct util_jvalue *chash = object(&a, "lb_backend_chash");
        assert_true(size_of(chash, "capacity") == 32 && size_of(chash, "width") == 4099);
        assert_true(warned(&a, "mixed plan"));
    } else if (strcmp(n, "hhh") == 0) {
        expect_all(&a, "sharded", NULL, "ipv4.src/8");
        assert_true(warned(&a, "balance"));
    } else if (strcmp(n, "unknown_call") == 0 || strcmp(n, "global_write") == 0 ||
               strcmp(n, "borrow_write") == 0) {
        /* an issue makes the state it touches shared, quoting the line */
        char file[64];
        snprintf(file, sizeof file, "%s.c:", n);
        expect_all(&a, "shared", "-", "-");
        assert_non_null(strstr(str(&a.objects->items[0], "reason"), file));
        if (strcmp(n, "global_write") == 0)
            assert_true(warned(&a, "no lock of this plan covers"));
    } else if (strcmp(n, "indirect_call") == 0 || strcmp(n, "inline_asm") == 0) {
        char file[64];
        snprintf(file, sizeof file, "%s.c:", n);
        assert_true(warned(&a, file));
    } else if (strcmp(n, "per_port") == 0) {
        expect_all(&a, "sharded", "ipv4.src", "ipv4.dst");
    } else if (strcmp(n, "prefix_key") == 0) {
        expect_all(&a, "sharded", "ipv4.src/24", "ipv4.src/24");
        assert_true(warned(&a, "balance"));
    } else if (strcmp(n, "mac_ipv6") == 0) {
        assert_string_equal(str(object(&a, "macs"), "decision"), "shared");
        assert_non_null(strstr(str(object(&a, "macs"), "reason"), "MAC"));
        assert_string_equal(str(object(&a, "v6"), "decision"), "sharded");
        assert_string_equal(port_key(object(&a, "v6"), "0"), "ipv6.src");
        assert_true(warned(&a, "mixed plan"));
    } else if (strcmp(n, "deps_nat_noguard") == 0) {
        expect_all(&a, "shared", "-", "-");
        const char *why = str(object(&a, "ng_flows"), "reason");
        assert_non_null(strstr(why, "no guard"));
        assert_non_null(strstr(why, "l4.dport"));
        assert_non_null(strstr(why, "deps_nat_noguard.c:"));
    } else if (strcmp(n, "deps_nat_source") == 0) {
        /* the record keeps port 0's SOURCE: the link follows the record writes
         * (stored ipv4.src == packet ipv4.src), never the reply's mirror image */
        expect_all(&a, "sharded", "ipv4.src,l4.sport", "ipv4.src,l4.sport");
        const char *why = str(object(&a, "ns_flows"), "reason");
        assert_non_null(strstr(why, "stored ipv4.src == packet ipv4.src"));
        assert_non_null(strstr(why, "deps_nat_source.c:54"));
        assert_null(strstr(why, "stored ipv4.dst"));
    } else if (strcmp(n, "deps_nat_early_refresh") == 0) {
        expect_all(&a, "shared", "-", "-");
        const char *why = str(object(&a, "ne_entries"), "reason");
        assert_non_null(strstr(why, "nf_alloc_refresh on ne_entries at "
                                    "deps_nat_early_refresh.c:65"));
        assert_non_null(strstr(why, "before the guard at deps_nat_early_refresh.c:66"));
    } else if (strcmp(n, "deps_nat_ip_only") == 0) {
        /* the guard checks the remote ip only (the stored port is a constant):
         * sharded by the remote host's address alone */
        expect_all(&a, "sharded", "ipv4.dst", "ipv4.src");
        assert_non_null(strstr(str(object(&a, "ni_flows"), "reason"),
                               "stored ipv4.dst == packet ipv4.src;"));
    } else if (strcmp(n, "deps_nat_xor") == 0) {
        /* stored remote = dst ^ C: not a copy of the field, so no link */
        expect_all(&a, "shared", "-", "-");
        const char *why = str(object(&a, "nx_flows"), "reason");
        assert_non_null(strstr(why, "does not correspond to a field of the port-0 packet"));
        assert_non_null(strstr(why, "deps_nat_xor.c:53"));
    } else if (strcmp(n, "deps_frag_unchecked") == 0) {
        /* first fragments carry ports NICs never hash: addresses only */
        expect_all(&a, "sharded", "ipv4.src,ipv4.dst", "ipv4.dst,ipv4.src");
        assert_non_null(strstr(str(object(&a, "fu_conns"), "reason"), "first fragments"));
    } else if (strcmp(n, "deps_frag_checked") == 0) {
        expect_all(&a, "sharded", "ipv4.src,ipv4.dst,l4.sport,l4.dport",
                   "ipv4.dst,ipv4.src,l4.dport,l4.sport");
    } else if (strcmp(n, "deps_ports_only") == 0) {
        assert_string_equal(str(object(&a, "po_any"), "decision"), "shared");
        assert_non_null(strstr(str(object(&a, "po_any"), "reason"), "first fragments"));
        assert_string_equal(str(object(&a, "po_v4"), "decision"), "sharded");
        assert_string_equal(port_key(object(&a, "po_v4"), "1"), "l4.dport");
        assert_string_equal(str(object(&a, "po_v6"), "decision"), "sharded");
        assert_string_equal(port_key(object(&a, "po_v6"), "2"), "ipv6.src,l4.sport");
        assert_string_equal(str(object(&a, "po_mixed"), "decision"), "shared");
        assert_non_null(strstr(str(object(&a, "po_mixed"), "reason"), "IPv4 and IPv6"));
    } else if (strncmp(n, "arith_", 6) == 0) {
        check_arith(&a);
    } else if (strcmp(n, "deps_mixed") == 0) {
        assert_string_equal(str(object(&a, "mx_by_src"), "decision"), "sharded");
        assert_string_equal(port_key(object(&a, "mx_by_src"), "0"), "ipv4.src");
        assert_string_equal(str(object(&a, "mx_by_dst"), "decision"), "shared");
        assert_non_null(strstr(str(object(&a, "mx_by_dst"), "reason"), "mixed plan"));
        assert_string_equal(str(object(&a, "mx_allowed"), "decision"), "replicated");
        assert_true(warned(&a, "mixed plan"));
    } else {
        fail_msg("no expected plan for NF %s", n);
    }
    util_jvalue_free(a.root);
    check_text_width();
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "cli") == 0) {
        const struct CMUnitTest cli[] = {cmocka_unit_test(test_cli)};
        return cmocka_run_group_tests(cli, NULL, NULL);
    }
    if (argc == 4 && strcmp(argv[1], "crafted") == 0) {
        bitcode_dir = CRAFTED_BITCODE_DIR;
        argv++;
        argc--;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: deps_e2e [crafted] NF O0|O2\n");
        return 2;
    }
    nf_name = argv[1];
    opt_level = argv[2];
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_expected_plan)};
    char group[64];
    snprintf(group, sizeof group, "%s.%s", nf_name, opt_level);
    return _cmocka_run_group_tests(group, tests, 1, NULL, NULL);
}
