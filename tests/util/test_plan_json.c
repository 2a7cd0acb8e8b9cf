/*
 * test_plan_json.c - the shared contracts: field names and the deps plan's
 * JSON form survive a write/read round trip, and bad plans are rejected with
 * a message naming the place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "deps/deps.h"

static void test_field_names_round_trip(void **state)
{
    (void)state;
    const char *names[] = {"eth.src", "eth.dst", "ipv4.src", "ipv4.dst", "ipv6.src",
                           "ipv6.dst", "ip.proto", "l4.sport", "l4.dport", "ipv4.src/24",
                           "ipv6.dst/64", "l4.dport/8"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        struct ir_field f;
        char buf[32];
        assert_int_equal(ir_field_parse(names[i], &f), 0);
        assert_string_equal(ir_field_format(f, buf, sizeof buf), names[i]);
    }
    struct ir_field f;
    assert_int_equal(ir_field_parse("ipv4.src/32", &f), 0);   /* full width == no mask */
    assert_int_equal(f.prefix, 0);
    assert_int_equal(ir_field_parse("ipv4.src/33", &f), -1);
    assert_int_equal(ir_field_parse("ipv4.src/0", &f), -1);
    assert_int_equal(ir_field_parse("ipv4.srcx", &f), -1);
    assert_int_equal(ir_field_parse("tcp.flags", &f), -1);
    assert_true(ir_field_hashable(IR_FIELD_IPV4_SRC));
    assert_true(ir_field_hashable(IR_FIELD_L4_DPORT));
    assert_false(ir_field_hashable(IR_FIELD_ETH_SRC));
    assert_false(ir_field_hashable(IR_FIELD_STATE));
    assert_int_equal(ir_field_bits(IR_FIELD_IPV6_SRC), 128);
}

static struct deps_key key_of(const char *a, const char *b)
{
    struct deps_key k = {0};
    if (a)
        ir_field_parse(a, &k.fields[k.count++]);
    if (b)
        ir_field_parse(b, &k.fields[k.count++]);
    return k;
}

static void test_plan_round_trip(void **state)
{
    (void)state;
    struct deps_plan plan = {0};
    strcpy(plan.nf, "fw.bc");
    plan.n_ports = 2;
    plan.n_objects = 2;
    plan.objects = calloc(2, sizeof *plan.objects);
    strcpy(plan.objects[0].name, "flows");
    plan.objects[0].kind = DEPS_KIND_MAP;
    plan.objects[0].decision = DEPS_SHARDED;
    strcpy(plan.objects[0].reason, "keyed on the \"5-tuple\"");
    plan.objects[0].ports[0] = key_of("ipv4.src", "ipv4.dst");
    plan.objects[0].ports[1] = key_of("ipv4.dst", "ipv4.src");
    plan.objects[0].key_size = 13;
    plan.objects[0].capacity = 4000000000u;
    strcpy(plan.objects[1].name, "stats");
    plan.objects[1].kind = DEPS_KIND_COUNTER;
    plan.objects[1].group = 1;
    plan.objects[1].decision = DEPS_SHARED;
    plan.n_accesses = 1;
    plan.accesses = calloc(1, sizeof *plan.accesses);
    plan.accesses[0].object = 0;
    plan.accesses[0].op = DEPS_OP_WRITE;
    plan.accesses[0].port = 1;
    plan.accesses[0].key = key_of("ipv4.dst/24", NULL);
    strcpy(plan.accesses[0].file, "fw.c");
    plan.accesses[0].line = 42;
    plan.n_config = 3;
    plan.config[0] = (struct deps_config_value){"wan_port", 1, false, true};
    plan.config[1] = (struct deps_config_value){"capacity", 65536, true, false};
    plan.config[2] = (struct deps_config_value){"salt", UINT64_MAX - 1, false, true};
    plan.n_warnings = 1;
    plan.warnings = calloc(1, sizeof(char *));
    plan.warnings[0] = strdup("balance is poor");

    struct util_json *w = util_json_new();
    util_json_object_begin(w);
    deps_plan_write_json(&plan, w);
    util_json_object_end(w);
    size_t len;
    const char *text = util_json_text(w, &len);
    struct util_error err;
    struct util_jvalue *root = util_json_parse(text, len, "plan", &err);
    assert_non_null(root);

    struct deps_plan back;
    assert_int_equal(deps_plan_read_json(root, &back, &err), 0);
    assert_string_equal(back.nf, "fw.bc");
    assert_int_equal(back.n_ports, 2);
    assert_int_equal(back.n_objects, 2);
    assert_string_equal(back.objects[0].name, "flows");
    assert_int_equal(back.objects[0].decision, DEPS_SHARDED);
    assert_string_equal(back.objects[0].reason, "keyed on the \"5-tuple\"");
    assert_int_equal(back.objects[0].ports[1].count, 2);
    assert_int_equal(back.objects[0].ports[1].fields[0].id, IR_FIELD_IPV4_DST);
    assert_int_equal(back.objects[0].ports[1].fields[1].id, IR_FIELD_IPV4_SRC);
    assert_int_equal(back.objects[0].key_size, 13);
    assert_int_equal(back.objects[0].capacity, 4000000000u);
    assert_int_equal(back.objects[0].record_size + back.objects[0].width +
                     back.objects[0].depth, 0);
    assert_int_equal(back.objects[1].capacity, 0);     /* unknown stays unknown */
    assert_int_equal(back.objects[1].kind, DEPS_KIND_COUNTER);
    assert_int_equal(back.objects[1].group, 1);
    assert_int_equal(back.objects[1].decision, DEPS_SHARED);
    assert_int_equal(back.objects[1].ports[0].count, 0);
    assert_int_equal(back.n_accesses, 1);
    assert_int_equal(back.accesses[0].op, DEPS_OP_WRITE);
    assert_int_equal(back.accesses[0].key.fields[0].prefix, 24);
    assert_int_equal(back.accesses[0].line, 42);
    assert_int_equal(back.n_warnings, 1);
    assert_string_equal(back.warnings[0], "balance is poor");
    assert_int_equal(back.n_config, 3);
    assert_string_equal(back.config[0].name, "wan_port");
    assert_true(back.config[0].value == 1 && !back.config[0].from_user &&
                back.config[0].affects_plan);
    assert_true(back.config[1].value == 65536 && back.config[1].from_user &&
                !back.config[1].affects_plan);
    assert_true(back.config[2].value == UINT64_MAX - 1);   /* above 2^53: a string */
    assert_non_null(strstr(text, "\"18446744073709551614\""));

    deps_plan_free(&back);
    util_jvalue_free(root);
    util_json_free(w);
    deps_plan_free(&plan);
}

static void test_plan_errors_name_the_place(void **state)
{
    (void)state;
    const char *cases[][2] = {
        {"{\"objects\": []}", "input_ports"},
        {"{\"input_ports\": 2, \"objects\": [{\"name\": \"m\", \"decision\": \"maybe\"}]}",
         "decision \"maybe\""},
        {"{\"input_ports\": 2, \"objects\": [{\"name\": \"m\", \"decision\": \"shared\", "
         "\"ports\": {\"0\": [\"ipv4.sauce\"]}}]}", "\"ipv4.sauce\" is not a field"},
        {"{\"input_ports\": 2, \"objects\": [], \"accesses\": [{\"object\": \"ghost\", "
         "\"op\": \"read\", \"port\": 0}]}", "\"ghost\" is not in"},
        {"{\"input_ports\": 2, \"objects\": [{\"name\": \"m\", \"decision\": \"shared\", "
         "\"size\": {\"capacity\": -5}}]}", "objects[0] (m): size.capacity must be a whole"},
        {"{\"input_ports\": 2, \"objects\": [{\"name\": \"m\", \"decision\": \"shared\", "
         "\"size\": 12}]}", "\"size\" must be an object"},
        {"{\"input_ports\": 2, \"objects\": [], \"config\": [{\"name\": \"x\", "
         "\"value\": -1}]}", "config[0] needs"},
        {"{\"input_ports\": 2, \"objects\": [], \"config\": [{\"name\": \"x\", "
         "\"value\": 1.5}]}", "config[0] needs"},
        {"{\"input_ports\": 2, \"objects\": [], \"config\": [{\"value\": 3}]}",
         "config[0] needs"},
        {"{\"input_ports\": 2, \"objects\": [], \"config\": {}}", "\"config\" must be"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct util_error err = {{0}};
        struct util_jvalue *root = util_json_parse(cases[i][0], strlen(cases[i][0]), "p", &err);
        assert_non_null(root);
        struct deps_plan plan;
        assert_int_equal(deps_plan_read_json(root, &plan, &err), -1);
        if (!strstr(err.msg, cases[i][1]))
            fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i][1]);
        assert_int_equal(plan.n_objects, 0);
        util_jvalue_free(root);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field_names_round_trip),
        cmocka_unit_test(test_plan_round_trip),
        cmocka_unit_test(test_plan_errors_name_the_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
