/*
 * test_util.c - util/: JSON writer and reader, atomic file writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/util.h"

static void test_writer_builds_valid_nested_json(void **state)
{
    (void)state;
    struct util_json *w = util_json_new();
    util_json_object_begin(w);
    util_json_key(w, "name");
    util_json_string(w, "quote \" and \\ and\nnewline");
    util_json_key(w, "list");
    util_json_array_begin(w);
    util_json_int(w, -3);
    util_json_uint(w, 18446744073709551615ull);
    util_json_double(w, 0.5);
    util_json_bool(w, true);
    util_json_null(w);
    util_json_array_end(w);
    util_json_key(w, "empty");
    util_json_object_begin(w);
    util_json_object_end(w);
    util_json_key(w, "nan");
    util_json_double(w, 0.0 / 0.0);
    util_json_object_end(w);

    size_t len;
    const char *text = util_json_text(w, &len);
    struct util_error err;
    struct util_jvalue *v = util_json_parse(text, len, "test", &err);
    assert_non_null(v);
    assert_int_equal(v->type, UTIL_JOBJECT);
    assert_string_equal(util_jobject_get(v, "name")->string, "quote \" and \\ and\nnewline");
    const struct util_jvalue *list = util_jobject_get(v, "list");
    assert_int_equal(list->count, 5);
    assert_true(list->items[0].number == -3);
    assert_true(list->items[2].number == 0.5);
    assert_int_equal(list->items[3].type, UTIL_JBOOL);
    assert_true(list->items[3].boolean);
    assert_int_equal(list->items[4].type, UTIL_JNULL);
    assert_int_equal(util_jobject_get(v, "empty")->count, 0);
    assert_int_equal(util_jobject_get(v, "nan")->type, UTIL_JNULL);
    assert_null(util_jobject_get(v, "missing"));
    util_jvalue_free(v);
    util_json_free(w);
}

static void test_compact_arrays_stay_on_one_line(void **state)
{
    (void)state;
    struct util_json *w = util_json_new();
    util_json_object_begin(w);
    util_json_key(w, "reta");
    util_json_array_begin_compact(w);
    for (int i = 0; i < 4; i++)
        util_json_int(w, i % 2);
    util_json_array_end(w);
    util_json_key(w, "after");
    util_json_array_begin(w);
    util_json_int(w, 7);
    util_json_array_end(w);
    util_json_object_end(w);
    assert_string_equal(util_json_text(w, NULL),
                        "{\n  \"reta\": [0, 1, 0, 1],\n  \"after\": [\n    7\n  ]\n}\n");
    util_json_free(w);
}

static void test_reader_decodes_unicode_escapes(void **state)
{
    (void)state;
    const char *text = "[\"\\u00e9\\ud83d\\ude00\\/\"]";
    struct util_error err;
    struct util_jvalue *v = util_json_parse(text, strlen(text), "t", &err);
    assert_non_null(v);
    assert_string_equal(v->items[0].string, "\xc3\xa9\xf0\x9f\x98\x80/");
    util_jvalue_free(v);
}

static void test_reader_reports_line_and_column(void **state)
{
    (void)state;
    const char *cases[][2] = {
        {"{\n  \"a\": 1,\n  \"b\" 2\n}", "plan.json:3:7"},
        {"[1, 2", "plan.json:1:6"},
        {"{\"a\": tru}", "plan.json:1:7"},
        {"[1] x", "plan.json:1:5"},
        {"\"unterminated", "plan.json:1:"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct util_error err = {{0}};
        struct util_jvalue *v = util_json_parse(cases[i][0], strlen(cases[i][0]), "plan.json", &err);
        assert_null(v);
        if (strstr(err.msg, cases[i][1]) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i][1]);
        assert_non_null(strstr(err.msg, "invalid JSON"));
    }
}

static void test_kv_reader_counts_every_line(void **state)
{
    (void)state;
    char text[] = "# a profile\n\n  name = x710  # trailing comment\n\nkey_len=52\n\n\nno equals\n";
    struct util_kv_reader r;
    struct util_error err = {{0}};
    char *name, *value;
    util_kv_begin(&r, text);
    assert_int_equal(util_kv_next(&r, "nic.conf", &name, &value, &err), 1);
    assert_string_equal(name, "name");
    assert_string_equal(value, "x710");
    assert_int_equal(r.line, 3);
    assert_int_equal(util_kv_next(&r, "nic.conf", &name, &value, &err), 1);
    assert_string_equal(name, "key_len");
    assert_string_equal(value, "52");
    assert_int_equal(r.line, 5);
    /* Blank lines still count: the bad line is line 8. */
    assert_int_equal(util_kv_next(&r, "nic.conf", &name, &value, &err), -1);
    assert_string_equal(err.msg, "nic.conf:8: expected 'name = value', got 'no equals'");
    assert_int_equal(util_kv_next(&r, "nic.conf", &name, &value, &err), 0);
}

static void test_atomic_write_replaces_whole_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/rsskey-util-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/out.json", dir);
    struct util_error err;
    assert_int_equal(util_write_file_atomic(path, "first", 5, &err), 0);
    assert_int_equal(util_write_file_atomic(path, "second!", 7, &err), 0);
    size_t len;
    char *back = util_read_file(path, &len, &err);
    assert_non_null(back);
    assert_int_equal(len, 7);
    assert_string_equal(back, "second!");
    free(back);
    /* No temporary file is left beside it. */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 1", dir);
    assert_int_equal(system(cmd), 0);
    unlink(path);
    rmdir(dir);
}

static void test_atomic_write_to_missing_dir_fails_cleanly(void **state)
{
    (void)state;
    struct util_error err = {{0}};
    assert_int_not_equal(util_write_file_atomic("/nonexistent-dir/x.json", "x", 1, &err), 0);
    assert_non_null(strstr(err.msg, "/nonexistent-dir/x.json"));
    assert_null(util_read_file("/nonexistent-dir/x.json", NULL, &err));
    assert_non_null(strstr(err.msg, "cannot open"));
}

/* FIPS 180-2 appendix B vectors, and lengths around the 55/56/64-byte padding
 * edges checked against each other through the one-block/two-block paths. */
static void test_sha256_known_vectors(void **state)
{
    (void)state;
    char hex[65];
    util_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    util_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    util_sha256_hex(two, strlen(two), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *million = malloc(1000000);
    assert_non_null(million);
    memset(million, 'a', 1000000);
    util_sha256_hex(million, 1000000, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(million);
}

static int count_entries(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "exit $(ls -A %s | wc -l)", dir);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_write_dir_atomic(void **state)
{
    (void)state;
    char base[] = "/tmp/rsskey-dir-XXXXXX";
    assert_non_null(mkdtemp(base));
    char dir[300], path[400];
    snprintf(dir, sizeof dir, "%s/out", base);
    struct util_error err = {{0}};
    struct util_dir_file one[2] = {{"manifest.json", "{}\n", 3, false}, {"run.sh", "exit 0\n", 7, true}};
    assert_int_equal(util_write_dir_atomic(dir, one, 2, "manifest.json", false, &err), UTIL_EXIT_OK);
    assert_int_equal(count_entries(dir), 2);
    snprintf(path, sizeof path, "%s/run.sh", dir);
    assert_int_equal(access(path, X_OK), 0);
    /* Not over a non-empty folder without replace; with it, swapped whole. */
    struct util_dir_file two[1] = {{"manifest.json", "[]\n", 3, false}};
    assert_int_equal(util_write_dir_atomic(dir, two, 1, "manifest.json", false, &err), UTIL_EXIT_USAGE);
    assert_non_null(strstr(err.msg, "--force"));
    assert_int_equal(util_write_dir_atomic(dir, two, 1, "manifest.json", true, &err), UTIL_EXIT_OK);
    assert_int_equal(count_entries(dir), 1);
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    char *back = util_read_file(path, NULL, &err);
    assert_non_null(back);
    assert_string_equal(back, "[]\n");
    free(back);
    /* A folder without the marker is never replaced; nothing left beside it. */
    unlink(path);
    snprintf(path, sizeof path, "%s/mine.txt", dir);
    assert_int_equal(util_write_file_atomic(path, "x", 1, &err), 0);
    assert_int_equal(util_write_dir_atomic(dir, two, 1, "manifest.json", true, &err), UTIL_EXIT_USAGE);
    assert_int_equal(count_entries(dir), 1);
    assert_int_equal(count_entries(base), 1);
    unlink(path);
    rmdir(dir);
    rmdir(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer_builds_valid_nested_json),
        cmocka_unit_test(test_compact_arrays_stay_on_one_line),
        cmocka_unit_test(test_reader_decodes_unicode_escapes),
        cmocka_unit_test(test_reader_reports_line_and_column),
        cmocka_unit_test(test_kv_reader_counts_every_line),
        cmocka_unit_test(test_atomic_write_replaces_whole_file),
        cmocka_unit_test(test_atomic_write_to_missing_dir_fails_cleanly),
        cmocka_unit_test(test_sha256_known_vectors),
        cmocka_unit_test(test_write_dir_atomic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
