/*
 * deps_rules.c - deps_plan_build's decision rules on hand-built struct ir_nf
 * values (no bitcode): replicated, sharded, cross-port correspondence,
 * incompatible keys -> a mixed plan, unhashable keys -> shared, every issue
 * kind -> shared with its line, the NAT guard present and absent, prefixes ->
 * a balance warning, the load balancer's chash, counters, the JSON form and
 * the text and DOT dumps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "deps/deps.h"

/* ---- Building an ir_nf by hand ----------------------------------------------- */

#define MAX_ITEMS 64

struct fake_nf {
    struct ir_nf nf;
    struct ir_object objects[MAX_ITEMS];
    struct ir_access accesses[MAX_ITEMS];
    struct ir_header_write writes[MAX_ITEMS];
    struct ir_issue issues[MAX_ITEMS];
    struct ir_record_write record_writes[MAX_ITEMS];
};

static struct fake_nf *fake_new(int ports)
{
    struct fake_nf *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->nf.path, sizeof f->nf.path, "test.bc");
    f->nf.n_ports = ports;
    f->nf.objects = f->objects;
    f->nf.accesses = f->accesses;
    f->nf.writes = f->writes;
    f->nf.issues = f->issues;
    f->nf.record_writes = f->record_writes;
    return f;
}

static int obj(struct fake_nf *f, const char *name, enum ir_object_kind kind)
{
    struct ir_object *o = &f->objects[f->nf.n_objects];
    snprintf(o->name, sizeof o->name, "%s", name);
    o->kind = kind;
    o->capacity = 1024;
    return f->nf.n_objects++;
}

/* Key parts: header field, prefixed field, state from an access, constant. */
static struct ir_key_part F(enum ir_field_id id)
{
    struct ir_key_part p = {.field = {id, 0}, .from_access = -1, .bits = 32};
    return p;
}

static struct ir_key_part FP(enum ir_field_id id, uint8_t prefix)
{
    struct ir_key_part p = F(id);
    p.field.prefix = prefix;
    return p;
}

static struct ir_key_part S(int from_access)
{
    struct ir_key_part p = {.field = {IR_FIELD_STATE, 0}, .from_access = from_access,
                            .bits = 32};
    return p;
}

static struct ir_key_part C(int64_t value)
{
    struct ir_key_part p = {.field = {IR_FIELD_CONSTANT, 0}, .from_access = -1,
                            .bits = 8, .constant = value};
    return p;
}

static struct ir_key key_of(int n, const struct ir_key_part *parts)
{
    struct ir_key k;
    memset(&k, 0, sizeof k);
    k.count = n;
    for (int i = 0; i < n; i++)
        k.parts[i] = parts[i];
    return k;
}

#define KEY(...) key_of((int)(sizeof((struct ir_key_part[]){__VA_ARGS__}) /        \
                              sizeof(struct ir_key_part)),                           \
                        (struct ir_key_part[]){__VA_ARGS__})
#define NOKEY key_of(0, NULL)

static int acc(struct fake_nf *f, int object, enum ir_api api, int port, struct ir_key key,
               int line)
{
    struct ir_access *a = &f->accesses[f->nf.n_accesses];
    a->object = object;
    a->api = api;
    a->port = port;
    a->key = key;
    a->related[0] = a->related[1] = -1;
    a->guarded_by = -1;
    /* Unless a test says otherwise: an IPv4 packet proven not a fragment. */
    a->packets = IR_PKT_IPV4 | IR_PKT_NOT_FRAGMENT;
    snprintf(a->where.file, sizeof a->where.file, "/src/nfs/test.c");
    a->where.line = line;
    snprintf(a->where.function, sizeof a->where.function, "nf_process");
    return f->nf.n_accesses++;
}

static int expire(struct fake_nf *f, int alloc, int map, int vec, int port, int line)
{
    int i = acc(f, alloc, IR_API_ALLOC_EXPIRE, port, NOKEY, line);
    f->accesses[i].related[0] = map;
    f->accesses[i].related[1] = vec;
    return i;
}

static void issue(struct fake_nf *f, enum ir_issue_kind kind, int object, int port, int line)
{
    struct ir_issue *is = &f->issues[f->nf.n_issues++];
    is->kind = kind;
    is->object = object;
    is->port = port;
    snprintf(is->detail, sizeof is->detail, "detail %d", line);
    snprintf(is->where.file, sizeof is->where.file, "/src/nfs/test.c");
    is->where.line = line;
}

/* A flow table on `port`: map(key) -> index into alloc + keys vector + values
 * vector; returns the map object and fills the others. */
struct flow_table { int map, alloc, keys, values; };

static struct flow_table flow_table(struct fake_nf *f, const char *prefix, int port,
                                    struct ir_key key, int line)
{
    char name[64];
    struct flow_table t;
    snprintf(name, sizeof name, "%s_table", prefix);
    t.map = obj(f, name, IR_OBJ_MAP);
    snprintf(name, sizeof name, "%s_entries", prefix);
    t.alloc = obj(f, name, IR_OBJ_ALLOC);
    snprintf(name, sizeof name, "%s_keys", prefix);
    t.keys = obj(f, name, IR_OBJ_VECTOR);
    snprintf(name, sizeof name, "%s_values", prefix);
    t.values = obj(f, name, IR_OBJ_VECTOR);
    expire(f, t.alloc, t.map, t.keys, port, line);
    int get = acc(f, t.map, IR_API_MAP_GET, port, key, line + 1);
    acc(f, t.alloc, IR_API_ALLOC_REFRESH, port, KEY(S(get)), line + 2);
    acc(f, t.values, IR_API_VECTOR_WRITE, port, KEY(S(get)), line + 3);
    int nw = acc(f, t.alloc, IR_API_ALLOC_NEW, port, NOKEY, line + 4);
    acc(f, t.keys, IR_API_VECTOR_WRITE, port, KEY(S(nw)), line + 5);
    acc(f, t.values, IR_API_VECTOR_WRITE, port, KEY(S(nw)), line + 6);
    acc(f, t.map, IR_API_MAP_PUT, port, key, line + 7);
    return t;
}

static struct deps_plan *plan_of(struct fake_nf *f)
{
    struct deps_plan *plan = calloc(1, sizeof *plan);
    struct util_error err;
    assert_non_null(plan);
    int rc = deps_plan_build(&f->nf, NULL, plan, &err);
    if (rc != 0)
        fail_msg("deps_plan_build: %s", err.msg);
    return plan;
}

static void plan_done(struct deps_plan *plan, struct fake_nf *f)
{
    deps_plan_free(plan);
    free(plan);
    free(f);
}

static const struct deps_object *object_named(const struct deps_plan *plan, const char *name)
{
    for (int i = 0; i < plan->n_objects; i++)
        if (strcmp(plan->objects[i].name, name) == 0)
            return &plan->objects[i];
    fail_msg("no object %s in the plan", name);
    return NULL;
}

/* "ipv4.src,ipv4.dst" for port p of object o ("" when none). */
static const char *port_key(const struct deps_object *o, int p)
{
    static char buf[256];
    char f[48];
    buf[0] = '\0';
    for (int i = 0; i < o->ports[p].count; i++) {
        strcat(buf, i ? "," : "");
        strcat(buf, ir_field_format(o->ports[p].fields[i], f, sizeof f));
    }
    return buf;
}

static bool any_warning(const struct deps_plan *plan, const char *needle)
{
    for (int i = 0; i < plan->n_warnings; i++)
        if (strstr(plan->warnings[i], needle))
            return true;
    return false;
}

#define FIVE_TUPLE F(IR_FIELD_IPV4_SRC), F(IR_FIELD_IPV4_DST), F(IR_FIELD_L4_SPORT), \
                   F(IR_FIELD_L4_DPORT), F(IR_FIELD_IP_PROTO)
#define REVERSE_TUPLE F(IR_FIELD_IPV4_DST), F(IR_FIELD_IPV4_SRC), F(IR_FIELD_L4_DPORT), \
                      F(IR_FIELD_L4_SPORT), F(IR_FIELD_IP_PROTO)

/* ---- Tests ----------------------------------------------------------------------- */

static void test_nop_has_nothing_to_shard(void **state)
{
    (void)state;
    struct fake_nf *f = fake_new(2);
    struct deps_plan *plan = plan_of(f);
    assert_int_equal(plan->n_objects, 0);
    assert_int_equal(plan->n_ports, 2);
    assert_int_equal(plan->n_warnings, 0);
    plan_done(plan, f);
}

static void test_read_only_table_is_replicated(void **state)
{
    (void)state;
    struct fake_nf *f = fake_new(2);
    int t = obj(f, "sbridge_table", IR_OBJ_MAP);
    acc(f, t, IR_API_MAP_GET, 0, KEY(F(IR_FIELD_ETH_DST)), 10);
    acc(f, t, IR_API_MAP_GET, 1, KEY(F(IR_FIELD_ETH_DST)), 10);
    int unused = obj(f, "never_used", IR_OBJ_VECTOR);
    (void)unused;
    struct deps_plan *plan = plan_of(f);
    assert_int_equal(object_named(plan, "sbridge_table")->decision, DEPS_REPLICATED);
    assert_non_null(strstr(object_named(plan, "sbridge_table")->reason, "only read"));
    assert_int_equal(object_named(plan, "never_used")->decision, DEPS_REPLICATED);
    plan_done(plan, f);
}

static void test_mac_keys_are_shared(void **state)
{
    (void)state;
    struct fake_nf *f = fake_new(2);
    /* dbridge: learn the src MAC, look the dst MAC up */
    struct flow_table t = flow_table(f, "dbridge", 0, KEY(F(IR_FIELD_ETH_SRC)), 20);
    acc(f, t.map, IR_API_MAP_GET, 0, KEY(F(IR_FIELD_ETH_DST)), 40);
    struct deps_plan *plan = plan_of(f);
    const struct deps_object *o = object_named(plan, "dbridge_table");
    assert_int_equal(o->decision, DEPS_SHARED);
    assert_non_null(strstr(o->reason, "MAC"));
    assert_non_null(strstr(o->reason, "test.c:"));
    /* the whole flow table is one group and shares the decision */
    assert_int_equal(object_named(plan, "dbridge_values")->decision, DEPS_SHARED);
    assert_int_equal(object_named(plan, "dbridge_values")->group, o->group);
    assert_int_equal(object_named(plan, "dbridge_entries")->group, o->group);
    plan_done(plan, f);
}

static void test_policer_port1_by_dst(void **state)
{
    (void)state;
    struct fake_nf *f = fake_new(2);
    flow_table(f, "policer", 1, KEY(F(IR_FIELD_IPV4_DST)), 30);
    struct deps_plan *plan = plan_of(f);
    for (int i = 0; i < plan->n_objects; i++) {
        const struct deps_object *o = &plan->objects[i];
        assert_int_equal(o->decision, DEPS_SHARDED);
        assert_int_equal(o->group, plan->objects[0].group);
        assert_int_equal(o->ports[0].count, 0);
        assert_string_equal(port_key(o, 1), "ipv4.dst");
    }
    plan_done(plan, f);
}

static void test_firewall_cross_port_correspondence(void **state)
{
    (void)state;
    struct fake_nf *f = fake_new(2);
    struct flow_table t = flow_table(f, "fw", 0, KEY(FIVE_TUPLE), 50);
    expire(f, t.alloc, t.map, t.keys, 1, 70);
    int get = acc(f, t.map, IR_API_MAP_GET, 1, KEY(REVERSE_TUPLE), 71);
    acc(f, t.alloc, IR_API_ALLOC_REFRESH, 1, KEY(S(get)), 72);
    struct deps_plan *plan = plan_of(f);
    const struct deps_object *o = object_named(plan, "fw_table");
    assert_int_equal(o->decision, DEPS_SHARDED);
    assert_string_equal(port_key(o, 0), "ipv4.src,ipv4.dst,l4.sport,l4.dport");
    assert_string_equal(port_key(o, 1), "ipv4.dst,ipv4.src,l4.dport,l4.sport");
    assert_non_null(strstr(o->reason, "corresponds to field i"));
    /* one table for both ports: the allocator carries both keys too */
    const struct deps_object *e = object_named(plan, "fw_entries");
    assert_int_equal(e->group, o->group);
    assert_string_equal(port_key(e, 1), "ipv4.dst,ipv4.src,l4.dport,l4.sport");
    /* the values vector is only reached from port 0 */
    const struct deps_object *v = object_named(plan, "fw_values");
    assert_int_equal(v->ports[1].count, 0);
    assert_string_equal(port_key(v, 0), "ipv4.src,ipv4.dst,l4.sport,l4.dport");
    plan_done(plan, f);
}

static void test_coarser_common_subset(void **state)
{
    (void)state;
    /* psd / cl: one group keyed on (src, dport), another on src only. */
    struct fake_nf *f = fake_new(2);
    flow_table(f, "pairs", 1, KEY(F(IR_FIELD_IPV4_SRC), F(IR_FIELD_L4_DPORT)), 10);
    flow_table(f, "sources", 1, KEY(F(IR_FIELD_IPV4_SRC)), 30);
    struct deps_plan *plan = plan_of(f);
    for (int i = 0; i < plan->n_objects; i++) {
        assert_int_equal(plan->objects[i].decision, DEPS_SHARDED);
        assert_string_equal(port_key(&plan->objects[i], 1), "ipv4.src");
    }
    assert_int_not_equal(object_named(plan, "pairs_table")->group,
                         object_named(plan, "sources_table")->group);
    plan_done(plan, f);
}

static void test_incompatible_keys_make_a_mixed_plan(void **state)
{
    (void)state;
    struct fake_nf *f = fake_new(2);
    flow_table(f, "by_src", 0, KEY(F(IR_FIELD_IPV4_SRC)), 10);
    int dst = obj(f, "by_dst", IR_OBJ_MAP);
    acc(f, dst, IR_API_MAP_PUT, 0, KEY(F(IR_FIELD_IPV4_DST)), 40);
    struct deps_plan *plan = plan_of(f);
    assert_int_equal(object_named(plan, "by_src_table")->decision, DEPS_SHARDED);
    assert_string_equal(port_key(object_named(plan, "by_src_table"), 0), "ipv4.src");
    const struct deps_object *o = object_named(plan, "by_dst");
    assert_int_equal(o->decision, DEPS_SHARED);
    assert_non_null(strstr(o->reason, "mixed"));
    assert_non_null(strstr(o->reason, "ipv4.dst"));
    assert_true(any_warning(plan, "mixed plan"));
    plan_done(plan, f);
}

static void test_same_port_different_fields_is_shared(void **state)
{
    (void)state;
    struct fake_nf *f = fake_new(1);
    int m = obj(f, "learn", IR_OBJ_MAP);
    acc(f, m, IR_API_MAP_PUT, 0, KEY(F(IR_FIELD_IPV4_SRC)), 10);
    acc(f, m, IR_API_MAP_GET, 0, KEY(F(IR_FIELD_IPV4_DST)), 11);
    struct deps_plan *plan = plan_of(f);
    assert_int_equal(plan->objects[0].decision, DEPS_SHARED);
    assert_non_null(strstr(plan->objects[0].reason, "test.c:10"));
    assert_non_null(strstr(plan->objects[0].reason, "test.c:11"));
    plan_done(plan, f);
}

static void test_swapped_fields_on_one_port_need_a_symmetric_key(void **state)
{
    (void)state;
    /* One port inserts (src, dst, sport) and looks up the reverse (dst, src,
     * sport): packets that share an entry agree on sport and on {src, dst} as
     * a set, so the key is all three, symmetric in src and dst. */
    struct fake_nf *f = fake_new(1);
    int m = obj(f, "pairs", IR_OBJ_MAP);
    acc(f, m, IR_API_MAP_PUT, 0, KEY(F(IR_FIELD_IPV4_SRC), F(IR_FIELD_IPV4_DST),
                                     F(IR_FIELD_L4_SPORT)), 10);
    acc(f, m, IR_API_MAP_GET, 0, KEY(F(IR_FIELD_IPV4_DST), F(IR_FIELD_IPV4_SRC),
                                     F(IR_FIELD_L4_SPORT)), 11);
    struct deps_plan *plan = plan_of(f);
    const struct deps_object *o = &plan->objects[0];
    assert_int_equal(o->decision, DEPS_SHARDED);
    assert_string_equal(port_key(o, 0), "ipv4.src,ipv4.dst,l4.sport");
    assert_int_equal(o->ports[0].swaps_with[0], 2);
    assert_int_equal(o->ports[0].swaps_with[1], 1);
    assert_int_equal(o->ports[0].swaps_with[2], 0);
    assert_non_null(strstr(o->reason, "symmetric in them"));
    plan_done(plan, f);

    /* Fields that trade places but are not pairs of one width (src with
     * sport): no symmetric hash helps, neither counts, and with nothing
     * common left the state is shared. */
    f = fake_new(1);
    m = obj(f, "pairs", IR_OBJ_MAP);
    acc(f, m, IR_API_MAP_PUT, 0, KEY(F(IR_FIELD_IPV4_SRC), F(IR_FIELD_L4_SPORT)), 10);
    acc(f, m, IR_API_MAP_GET, 0, KEY(F(IR_FIELD_L4_SPORT), F(IR_FIELD_IPV4_SRC)), 11);
    plan = plan_of(f);
    assert_int_equal(plan->objects[0].decision, DEPS_SHARED);
    assert_non_null(strstr(plan->objects[0].reason, "trade places"));
    plan_done(plan, f);

    /* A pair, plus a position that differs without a partner: not a swap. */
    f = fake_new(1);
    m = obj(f, "pairs", IR_OBJ_MAP);
    acc(f, m, IR_API_MAP_PUT, 0, KEY(F(IR_FIELD_IPV4_SRC), F(IR_FIELD_IPV4_DST),
                                     F(IR_FIELD_L4_SPORT)), 10);
    acc(f, m, IR_API_MAP_GET, 0, KEY(F(IR_FIELD_IPV4_DST), F(IR_FIELD_IPV4_SRC),
                                     F(IR_FIELD_L4_DPORT)), 11);
    plan = plan_of(f);
    assert_int_equal(plan->objects[0].decision, DEPS_SHARED);
    plan_done(plan, f);
}

static void test_map_value_shared_by_keys_is_not_inherited(void **state)
{
    (void)state;
    /* dport -> counter slot, filled in nf_init (several ports may share a
     * slot); the slot's counter is written per packet. */
    struct fake_nf *f = fake_new(1);
    int slots = obj(f, "slot_of_port", IR_OBJ_MAP);
    int counts = obj(f, "slot_counts", IR_OBJ_VECTOR);
    int get = acc(f, slots, IR_API_MAP_GET, 0, KEY(F(IR_FIELD_L4_DPORT)), 10);
    acc(f, counts, IR_API_VECTOR_READ, 0, KEY(S(get)), 11);
    acc(f, counts, IR_API_VECTOR_WRITE, 0, KEY(S(get)), 12);
    struct deps_plan *plan = plan_of(f);
    const struct deps_object *o = object_named(plan, "slot_counts");
    assert_int_equal(o->decision, DEPS_SHARED);
    assert_non_null(strstr(o->reason, "cannot tie to one key"));
    plan_done(plan, f);
}

static void test_unhashable_keys_are_shared(void **state)
{
    (void)state;
    static const enum ir_field_id bad[] = {IR_FIELD_TIME, IR_FIELD_UNKNOWN,
                                           IR_FIELD_INPUT_PORT, IR_FIELD_OTHER_HEADER,
                                           IR_FIELD_IP_PROTO};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct fake_nf *f = fake_new(1);
        int m = obj(f, "m", IR_OBJ_MAP);
        acc(f, m, IR_API_MAP_PUT, 0, KEY(F(bad[i]), C(7)), 15);
        struct deps_plan *plan = plan_of(f);
        assert_int_equal(plan->objects[0].decision, DEPS_SHARED);
        assert_non_null(strstr(plan->objects[0].reason, "cannot hash"));
        plan_done(plan, f);
    }
    /* A key that is a value read from another group. */
    struct fake_nf *f = fake_new(1);
    int cfg = obj(f, "config", IR_OBJ_VECTOR);
    int m = obj(f, "stats", IR_OBJ_MAP);
    int r = acc(f, cfg, IR_API_VECTOR_READ, 0, KEY(C(0)), 5);
    acc(f, m, IR_API_MAP_PUT, 0, KEY(S(r)), 6);
    struct deps_plan *plan = plan_of(f);
    assert_int_equal(object_named(plan, "config")->decision, DEPS_REPLICATED);
    assert_int_equal(object_named(plan, "stats")->decision, DEPS_SHARED);
    assert_non_null(strstr(object_named(plan, "stats")->reason, "a value read from config"));
    plan_done(plan, f);
}

static void test_every_issue_kind_makes_state_shared(void **state)
{
    (void)state;
    static const enum ir_issue_kind kinds[] = {
        IR_ISSUE_UNKNOWN_CALL, IR_ISSUE_INDIRECT_CALL, IR_ISSUE_INLINE_ASM,
        IR_ISSUE_GLOBAL_WRITE, IR_ISSUE_BORROW_WRITE, IR_ISSUE_UNKNOWN_OBJECT,
        IR_ISSUE_API_MISUSE};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        for (int whole = 0; whole < 2; whole++) {
            struct fake_nf *f = fake_new(2);
            struct flow_table t = flow_table(f, "flows", 0, KEY(F(IR_FIELD_IPV4_SRC)), 10);
            int ro = obj(f, "static_table", IR_OBJ_MAP);
            acc(f, ro, IR_API_MAP_GET, 0, KEY(F(IR_FIELD_ETH_DST)), 30);
            struct flow_table other = flow_table(f, "other", 1, KEY(F(IR_FIELD_IPV4_DST)), 40);
            issue(f, kinds[k], whole ? -1 : t.values, 0, 123);
            struct deps_plan *plan = plan_of(f);
            const struct deps_object *o = object_named(plan, "flows_values");
            assert_int_equal(o->decision, DEPS_SHARED);
            assert_non_null(strstr(o->reason, "test.c:123"));
            assert_int_equal(object_named(plan, "flows_table")->decision, DEPS_SHARED);
            /* state written only on another port, and read-only state, stay as they were */
            assert_int_equal(object_named(plan, "static_table")->decision, DEPS_REPLICATED);
            assert_int_equal(object_named(plan, "other_table")->decision, DEPS_SHARDED);
            (void)other;
            if (whole)
                assert_true(any_warning(plan, "test.c:123"));
            plan_done(plan, f);
        }
    }
}

/* A record write on port 0 into vector `vec` (through vector write access
 * `via`) at byte `offset`, of the value `value`. */
static struct ir_record_write *record_write(struct fake_nf *f, int vec, int via, int offset,
                                            struct ir_key_part value, int line)
{
    struct ir_record_write *rw = &f->record_writes[f->nf.n_record_writes++];
    rw->object = vec;
    rw->port = 0;
    rw->access = via;
    rw->offset = (uint16_t)offset;
    rw->bits = value.bits;
    rw->value = key_of(1, &value);
    rw->guarded_by = -1;
    snprintf(rw->where.file, sizeof rw->where.file, "nat.c");
    rw->where.line = line;
    return rw;
}

/* A header-field part of `bits` bits. */
static struct ir_key_part FB(enum ir_field_id id, uint16_t bits)
{
    struct ir_key_part p = F(id);
    p.bits = bits;
    return p;
}

static struct ir_key_part SB(int from_access, uint16_t offset, uint16_t bits)
{
    struct ir_key_part p = S(from_access);
    p.offset = offset;
    p.bits = bits;
    return p;
}

/* The NAT: port 0 by 5-tuple allocating an index written into l4.sport, and
 * the remote host (ipv4.dst at record offset 4, l4.dport at 10) written into
 * the values record; port 1 by l4.dport (the index), with or without the guard
 * (remote ip/port/proto == packet source) on its read, which dominates the
 * refresh. */
static struct fake_nf *nat(bool with_guard)
{
    struct fake_nf *f = fake_new(2);
    struct flow_table t = flow_table(f, "nat", 0, KEY(FIVE_TUPLE), 60);
    /* l4.sport := allocated index (access 4 is the alloc_new of flow_table) */
    int alloc_new = -1;
    for (int i = 0; i < f->nf.n_accesses; i++)
        if (f->accesses[i].api == IR_API_ALLOC_NEW)
            alloc_new = i;
    struct ir_header_write *w = &f->writes[f->nf.n_writes++];
    w->port = 0;
    w->field.id = IR_FIELD_L4_SPORT;
    w->value = KEY(S(alloc_new), C(1024));
    snprintf(w->where.file, sizeof w->where.file, "nat.c");
    w->where.line = 96;
    expire(f, t.alloc, t.map, t.keys, 1, 100);
    acc(f, t.alloc, IR_API_ALLOC_IS_ALLOCATED, 1, KEY(F(IR_FIELD_L4_DPORT), C(1024)), 101);
    int rd = acc(f, t.values, IR_API_VECTOR_READ, 1, KEY(F(IR_FIELD_L4_DPORT), C(1024)), 102);
    int refresh = acc(f, t.alloc, IR_API_ALLOC_REFRESH, 1, KEY(F(IR_FIELD_L4_DPORT)), 104);
    int vw = -1;
    for (int i = 0; i < f->nf.n_accesses; i++)
        if (f->accesses[i].api == IR_API_VECTOR_WRITE && f->accesses[i].object == t.values &&
            f->accesses[i].key.parts[0].from_access == alloc_new)
            vw = i;
    record_write(f, t.values, vw, 0, FB(IR_FIELD_IPV4_SRC, 32), 84);
    record_write(f, t.values, vw, 4, FB(IR_FIELD_IPV4_DST, 32), 85);
    record_write(f, t.values, vw, 8, FB(IR_FIELD_L4_SPORT, 16), 86);
    record_write(f, t.values, vw, 10, FB(IR_FIELD_L4_DPORT, 16), 87);
    record_write(f, t.values, vw, 12, FB(IR_FIELD_IP_PROTO, 8), 88);
    if (with_guard) {
        struct ir_guard *g = &f->accesses[rd].guards[f->accesses[rd].n_guards++];
        g->from_access = rd;
        g->stored = KEY(SB(rd, 4, 32), SB(rd, 10, 16), SB(rd, 12, 8));
        g->packet = KEY(FB(IR_FIELD_IPV4_SRC, 32), FB(IR_FIELD_L4_SPORT, 16),
                        FB(IR_FIELD_IP_PROTO, 8));
        f->accesses[refresh].guarded_by = rd;
    }
    return f;
}

static const struct deps_object *nat_values_of(struct fake_nf *f, struct deps_plan **plan)
{
    *plan = plan_of(f);
    return object_named(*plan, "nat_values");
}

static int nat_access(struct fake_nf *f, enum ir_api api, int port)
{
    for (int i = 0; i < f->nf.n_accesses; i++)
        if (f->accesses[i].api == api && f->accesses[i].port == port)
            return i;
    return -1;
}

static void test_nat_guard_checks_record_writes(void **state)
{
    (void)state;
    struct deps_plan *plan;
    /* the stored remote ip is written from port 0's SOURCE: ipv4.src <-> ipv4.src */
    struct fake_nf *f = nat(true);
    f->record_writes[1].value.parts[0].field.id = IR_FIELD_IPV4_SRC;
    f->record_writes[3].value.parts[0].field.id = IR_FIELD_L4_SPORT;
    const struct deps_object *o = nat_values_of(f, &plan);
    assert_int_equal(o->decision, DEPS_SHARDED);
    assert_string_equal(port_key(o, 0), "ipv4.src,l4.sport");
    assert_string_equal(port_key(o, 1), "ipv4.src,l4.sport");
    plan_done(plan, f);

    /* written from the protocol (not a field of the same width) -> shared */
    f = nat(true);
    f->record_writes[1].value.parts[0] = FB(IR_FIELD_IP_PROTO, 32);
    f->record_writes[3].value.parts[0] = C(53);
    f->record_writes[3].value.parts[0].bits = 16;
    o = nat_values_of(f, &plan);
    assert_int_equal(o->decision, DEPS_SHARED);
    assert_non_null(strstr(o->reason, "does not correspond"));
    assert_non_null(strstr(o->reason, "nat_values[4..7] is written from ip.proto:32 (nat.c:85)"));
    plan_done(plan, f);

    /* the port field from a constant only: the ip column is enough */
    f = nat(true);
    f->record_writes[3].value.parts[0] = C(53);
    f->record_writes[3].value.parts[0].bits = 16;
    o = nat_values_of(f, &plan);
    assert_int_equal(o->decision, DEPS_SHARDED);
    assert_string_equal(port_key(o, 0), "ipv4.dst");
    assert_string_equal(port_key(o, 1), "ipv4.src");
    assert_non_null(strstr(o->reason, "Not used: the guard at test.c:102 compares packet "
                                      "l4.sport"));
    plan_done(plan, f);

    /* no record write at all: nothing says what the record holds */
    f = nat(true);
    f->nf.n_record_writes = 0;
    o = nat_values_of(f, &plan);
    assert_int_equal(o->decision, DEPS_SHARED);
    assert_non_null(strstr(o->reason, "ir reports no write to nat_values[4..7]"));
    plan_done(plan, f);

    /* also written on port 1, or at an offset ir cannot tell, or computed */
    f = nat(true);
    f->record_writes[1].port = 1;
    o = nat_values_of(f, &plan);
    assert_int_equal(o->decision, DEPS_SHARDED);     /* by the port column alone */
    assert_string_equal(port_key(o, 1), "l4.sport");
    assert_non_null(strstr(o->reason, "also written on port 1 (nat.c:85)"));
    plan_done(plan, f);
    f = nat(true);
    f->record_writes[1].port = 1;
    f->record_writes[3].port = 1;
    o = nat_values_of(f, &plan);
    assert_int_equal(o->decision, DEPS_SHARED);
    assert_non_null(strstr(o->reason, "also written on port 1 (nat.c:85)"));
    plan_done(plan, f);
    f = nat(true);
    f->record_writes[0].offset_unknown = true;
    o = nat_values_of(f, &plan);
    assert_int_equal(o->decision, DEPS_SHARED);
    assert_non_null(strstr(o->reason, "offset or length ir cannot tell (nat.c:84)"));
    plan_done(plan, f);
    f = nat(true);
    f->record_writes[1].transformed = true;
    f->record_writes[3].transformed = true;
    o = nat_values_of(f, &plan);
    assert_int_equal(o->decision, DEPS_SHARED);
    assert_non_null(strstr(o->reason, "computed from header fields (nat.c:85)"));
    plan_done(plan, f);

    /* a transformed comparison links nothing */
    f = nat(true);
    f->accesses[nat_access(f, IR_API_VECTOR_READ, 1)].guards[0].transformed = true;
    o = nat_values_of(f, &plan);
    assert_int_equal(o->decision, DEPS_SHARED);
    assert_non_null(strstr(o->reason, "computed from the fields"));
    plan_done(plan, f);
}

static void test_nat_guard_must_dominate_writes(void **state)
{
    (void)state;
    struct deps_plan *plan;
    /* the refresh is not under the guard */
    struct fake_nf *f = nat(true);
    f->accesses[nat_access(f, IR_API_ALLOC_REFRESH, 1)].guarded_by = -1;
    const struct deps_object *o = nat_values_of(f, &plan);
    assert_int_equal(o->decision, DEPS_SHARED);
    assert_non_null(strstr(o->reason, "nf_alloc_refresh on nat_entries at test.c:104 can run "
                                      "before the guard at test.c:102"));
    plan_done(plan, f);

    /* the packet rewritten from the record before the guard holds */
    f = nat(true);
    struct ir_header_write *w = &f->writes[f->nf.n_writes++];
    w->port = 1;
    w->field.id = IR_FIELD_IPV4_DST;
    w->value = KEY(SB(nat_access(f, IR_API_VECTOR_READ, 1), 0, 32));
    w->guarded_by = -1;
    snprintf(w->where.file, sizeof w->where.file, "nat.c");
    w->where.line = 120;
    o = nat_values_of(f, &plan);
    assert_int_equal(o->decision, DEPS_SHARED);
    assert_non_null(strstr(o->reason, "rewrites ipv4.dst from the group's state at nat.c:120"));
    plan_done(plan, f);
    /* ... and after it: fine */
    f = nat(true);
    w = &f->writes[f->nf.n_writes++];
    w->port = 1;
    w->field.id = IR_FIELD_IPV4_DST;
    w->value = KEY(SB(nat_access(f, IR_API_VECTOR_READ, 1), 0, 32));
    w->guarded_by = nat_access(f, IR_API_VECTOR_READ, 1);
    o = nat_values_of(f, &plan);
    assert_int_equal(o->decision, DEPS_SHARDED);
    plan_done(plan, f);

    /* reads before the guard (is_allocated) and the expire need no guard */
    f = nat(true);
    assert_int_equal(f->accesses[nat_access(f, IR_API_ALLOC_IS_ALLOCATED, 1)].guarded_by, -1);
    assert_int_equal(f->accesses[nat_access(f, IR_API_ALLOC_EXPIRE, 1)].guarded_by, -1);
    o = nat_values_of(f, &plan);
    assert_int_equal(o->decision, DEPS_SHARDED);
    assert_non_null(strstr(o->reason, "run only after the guard holds"));
    plan_done(plan, f);
}

static void test_nat_guard_shards_by_remote_host(void **state)
{
    (void)state;
    struct fake_nf *f = nat(true);
    struct deps_plan *plan = plan_of(f);
    const struct deps_object *o = object_named(plan, "nat_values");
    assert_int_equal(o->decision, DEPS_SHARDED);
    assert_string_equal(port_key(o, 0), "ipv4.dst,l4.dport");
    assert_string_equal(port_key(o, 1), "ipv4.src,l4.sport");
    assert_non_null(strstr(o->reason, "disjoint index ranges"));
    assert_non_null(strstr(o->reason, "dropped on any core"));
    assert_non_null(strstr(o->reason, "nat.c:96"));
    assert_non_null(strstr(o->reason, "written from those port-0 fields, first at nat.c:85"));
    for (int i = 0; i < plan->n_objects; i++)
        assert_int_equal(plan->objects[i].decision, DEPS_SHARDED);
    plan_done(plan, f);
}

static void test_nat_without_guard_is_shared(void **state)
{
    (void)state;
    struct fake_nf *f = nat(false);
    struct deps_plan *plan = plan_of(f);
    const struct deps_object *o = object_named(plan, "nat_table");
    assert_int_equal(o->decision, DEPS_SHARED);
    assert_non_null(strstr(o->reason, "no guard"));
    assert_non_null(strstr(o->reason, "l4.sport"));
    assert_non_null(strstr(o->reason, "nat.c:96"));
    plan_done(plan, f);
}

static void test_raw_index_into_allocated_entries_is_not_a_key(void **state)
{
    (void)state;
    /* fw-like, but port 1 also reads the values vector at l4.dport, unguarded */
    struct fake_nf *f = fake_new(2);
    struct flow_table t = flow_table(f, "fw", 0, KEY(FIVE_TUPLE), 50);
    acc(f, t.map, IR_API_MAP_GET, 1, KEY(REVERSE_TUPLE), 71);
    acc(f, t.values, IR_API_VECTOR_READ, 1, KEY(F(IR_FIELD_L4_DPORT)), 73);
    struct deps_plan *plan = plan_of(f);
    const struct deps_object *o = object_named(plan, "fw_values");
    assert_int_equal(o->decision, DEPS_SHARED);
    assert_non_null(strstr(o->reason, "l4.dport"));
    assert_non_null(strstr(o->reason, "test.c:73"));
    plan_done(plan, f);

    /* the same port that allocates by key also indexes by a packet field */
    f = fake_new(1);
    t = flow_table(f, "src", 0, KEY(F(IR_FIELD_IPV4_SRC)), 10);
    acc(f, t.values, IR_API_VECTOR_WRITE, 0, KEY(F(IR_FIELD_IPV4_SRC)), 30);
    plan = plan_of(f);
    assert_int_equal(object_named(plan, "src_values")->decision, DEPS_SHARED);
    assert_non_null(strstr(object_named(plan, "src_values")->reason, "straight from the packet"));
    plan_done(plan, f);

    /* a vector indexed only by a packet field is an ordinary key */
    f = fake_new(2);
    int slots = obj(f, "slots", IR_OBJ_VECTOR);
    acc(f, slots, IR_API_VECTOR_WRITE, 0, KEY(F(IR_FIELD_L4_DPORT), C(1000)), 10);
    acc(f, slots, IR_API_VECTOR_READ, 1, KEY(F(IR_FIELD_L4_DPORT), C(1000)), 11);
    plan = plan_of(f);
    assert_int_equal(plan->objects[0].decision, DEPS_SHARDED);
    assert_string_equal(port_key(&plan->objects[0], 1), "l4.dport");
    plan_done(plan, f);
}

static void test_nat_guard_on_unhashable_fields_is_shared(void **state)
{
    (void)state;
    struct fake_nf *f = nat(false);
    int rd = -1;
    for (int i = 0; i < f->nf.n_accesses; i++)
        if (f->accesses[i].api == IR_API_VECTOR_READ && f->accesses[i].port == 1)
            rd = i;
    struct ir_guard *g = &f->accesses[rd].guards[f->accesses[rd].n_guards++];
    g->from_access = rd;
    g->stored = KEY(S(rd));
    g->packet = KEY(F(IR_FIELD_IP_PROTO));
    struct deps_plan *plan = plan_of(f);
    const struct deps_object *o = object_named(plan, "nat_values");
    assert_int_equal(o->decision, DEPS_SHARED);
    assert_non_null(strstr(o->reason, "the guard at test.c:102"));
    plan_done(plan, f);
}

static void test_prefix_keys_shard_by_coarsest_with_warning(void **state)
{
    (void)state;
    struct fake_nf *f = fake_new(2);
    static const uint8_t prefixes[] = {8, 16, 24, 0};
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "hhh%d", i);
        flow_table(f, name, 0, KEY(FP(IR_FIELD_IPV4_SRC, prefixes[i]), C(prefixes[i])),
                   10 + 10 * i);
    }
    struct deps_plan *plan = plan_of(f);
    for (int i = 0; i < plan->n_objects; i++) {
        assert_int_equal(plan->objects[i].decision, DEPS_SHARDED);
        assert_string_equal(port_key(&plan->objects[i], 0), "ipv4.src/8");
    }
    assert_true(any_warning(plan, "balance"));
    plan_done(plan, f);
}

static void test_load_balancer_mixed_plan(void **state)
{
    (void)state;
    struct fake_nf *f = fake_new(2);
    /* Backends: heartbeats on port 1 keyed by src IP; expired on every packet. */
    struct flow_table be = flow_table(f, "backend", 1, KEY(F(IR_FIELD_IPV4_SRC)), 90);
    expire(f, be.alloc, be.map, be.keys, 0, 160);
    int chash = obj(f, "chash", IR_OBJ_CHASH);
    struct flow_table fl = flow_table(f, "flow", 0, KEY(FIVE_TUPLE), 120);
    int pinned = acc(f, fl.values, IR_API_VECTOR_READ, 0, KEY(S(f->nf.n_accesses - 7)), 130);
    acc(f, be.alloc, IR_API_ALLOC_IS_ALLOCATED, 0, KEY(S(pinned)), 114);
    int look = acc(f, chash, IR_API_CHASH_LOOKUP, 0, KEY(FIVE_TUPLE), 142);
    f->accesses[look].related[0] = be.alloc;
    acc(f, be.values, IR_API_VECTOR_READ, 0, KEY(S(look)), 148);
    struct deps_plan *plan = plan_of(f);
    const struct deps_object *alive = object_named(plan, "backend_entries");
    assert_int_equal(alive->decision, DEPS_SHARED);
    assert_non_null(strstr(alive->reason, "every new flow"));
    assert_non_null(strstr(alive->reason, "port 1"));
    assert_int_equal(object_named(plan, "backend_table")->decision, DEPS_SHARED);
    assert_int_equal(object_named(plan, "chash")->decision, DEPS_REPLICATED);
    const struct deps_object *flows = object_named(plan, "flow_table");
    assert_int_equal(flows->decision, DEPS_SHARDED);
    assert_string_equal(port_key(flows, 0), "ipv4.src,ipv4.dst,l4.sport,l4.dport");
    assert_true(any_warning(plan, "mixed plan"));
    /* the implied read of the alive allocator is in the accesses */
    const struct deps_access *last = &plan->accesses[plan->n_accesses - 1];
    assert_int_equal(last->object, be.alloc);
    assert_int_equal(last->op, DEPS_OP_READ);
    plan_done(plan, f);
}

static void test_counters(void **state)
{
    (void)state;
    struct fake_nf *f = fake_new(2);
    int only_added = obj(f, "packets", IR_OBJ_COUNTER);
    int read_back = obj(f, "budget", IR_OBJ_COUNTER);
    acc(f, only_added, IR_API_COUNTER_ADD, 0, NOKEY, 10);
    acc(f, read_back, IR_API_COUNTER_ADD, 1, NOKEY, 11);
    acc(f, read_back, IR_API_COUNTER_READ, 1, NOKEY, 12);
    struct deps_plan *plan = plan_of(f);
    const struct deps_object *a = object_named(plan, "packets");
    assert_int_equal(a->decision, DEPS_SHARDED);
    assert_non_null(strstr(a->reason, "partial sum"));
    assert_int_equal(a->ports[0].count, 0);
    const struct deps_object *b = object_named(plan, "budget");
    assert_int_equal(b->decision, DEPS_SHARED);
    assert_non_null(strstr(b->reason, "test.c:11"));
    deps_plan_free(plan);
    struct deps_options opts;
    deps_options_default(&opts);
    opts.counters_as_partial_sums = false;
    struct util_error err;
    assert_int_equal(deps_plan_build(&f->nf, &opts, plan, &err), 0);
    assert_int_equal(object_named(plan, "packets")->decision, DEPS_SHARED);
    plan_done(plan, f);
}

static void test_unconstrained_groups_do_not_disturb_keys(void **state)
{
    (void)state;
    /* a partial-sum counter and an allocator used only fresh, beside a keyed table */
    struct fake_nf *f = fake_new(2);
    flow_table(f, "flows", 0, KEY(FIVE_TUPLE), 10);
    int c = obj(f, "packets", IR_OBJ_COUNTER);
    acc(f, c, IR_API_COUNTER_ADD, 0, NOKEY, 30);
    int pool = obj(f, "pool", IR_OBJ_ALLOC);
    acc(f, pool, IR_API_ALLOC_NEW, 1, NOKEY, 31);
    struct deps_plan *plan = plan_of(f);
    for (int i = 0; i < plan->n_objects; i++)
        assert_int_equal(plan->objects[i].decision, DEPS_SHARDED);
    assert_string_equal(port_key(object_named(plan, "flows_table"), 0),
                        "ipv4.src,ipv4.dst,l4.sport,l4.dport");
    assert_int_equal(object_named(plan, "pool")->ports[1].count, 0);
    assert_false(any_warning(plan, "mixed"));
    plan_done(plan, f);
}

static void test_ipv4_and_ipv6_tables_shard_independently(void **state)
{
    (void)state;
    struct fake_nf *f = fake_new(1);
    flow_table(f, "v4", 0, KEY(F(IR_FIELD_IPV4_SRC)), 10);
    flow_table(f, "v6", 0, KEY(F(IR_FIELD_IPV6_DST)), 30);
    struct deps_plan *plan = plan_of(f);
    assert_int_equal(object_named(plan, "v4_table")->decision, DEPS_SHARDED);
    assert_string_equal(port_key(object_named(plan, "v4_table"), 0), "ipv4.src");
    assert_int_equal(object_named(plan, "v6_table")->decision, DEPS_SHARDED);
    assert_string_equal(port_key(object_named(plan, "v6_table"), 0), "ipv6.dst");
    plan_done(plan, f);
    /* but two IPv4 tables on different addresses still conflict */
    f = fake_new(1);
    flow_table(f, "a", 0, KEY(F(IR_FIELD_IPV4_SRC)), 10);
    flow_table(f, "b", 0, KEY(F(IR_FIELD_IPV4_DST)), 30);
    plan = plan_of(f);
    assert_int_equal(object_named(plan, "b_table")->decision, DEPS_SHARED);
    plan_done(plan, f);
}

static void test_sketch_with_flow_table(void **state)
{
    (void)state;
    /* cl: sketch keyed (src, dst) + a flow table keyed by the 5-tuple. */
    struct fake_nf *f = fake_new(2);
    int sk = obj(f, "cl_sketch", IR_OBJ_SKETCH);
    flow_table(f, "cl_flows", 0, KEY(FIVE_TUPLE), 20);
    acc(f, sk, IR_API_SKETCH_ESTIMATE, 0, KEY(F(IR_FIELD_IPV4_SRC), F(IR_FIELD_IPV4_DST)), 40);
    acc(f, sk, IR_API_SKETCH_ADD, 0, KEY(F(IR_FIELD_IPV4_SRC), F(IR_FIELD_IPV4_DST)), 41);
    struct deps_plan *plan = plan_of(f);
    for (int i = 0; i < plan->n_objects; i++) {
        assert_int_equal(plan->objects[i].decision, DEPS_SHARDED);
        assert_string_equal(port_key(&plan->objects[i], 0), "ipv4.src,ipv4.dst");
    }
    assert_non_null(strstr(object_named(plan, "cl_sketch")->reason, "sketch"));
    plan_done(plan, f);
}

static void test_json_text_and_dot(void **state)
{
    (void)state;
    struct fake_nf *f = nat(true);
    struct deps_plan *plan = plan_of(f);
    struct util_json *w = util_json_new();
    util_json_object_begin(w);
    deps_plan_write_json(plan, w);
    util_json_object_end(w);
    size_t len;
    const char *text = util_json_text(w, &len);
    struct util_error err;
    struct util_jvalue *root = util_json_parse(text, len, "plan", &err);
    assert_non_null(root);
    struct deps_plan back;
    assert_int_equal(deps_plan_read_json(root, &back, &err), 0);
    assert_int_equal(back.n_objects, plan->n_objects);
    assert_int_equal(back.n_accesses, plan->n_accesses);
    assert_string_equal(port_key(object_named(&back, "nat_values"), 1), "ipv4.src,l4.sport");
    deps_plan_free(&back);
    util_jvalue_free(root);
    util_json_free(w);

    char *human = deps_plan_format_text(plan, &f->nf, 100);
    assert_non_null(human);
    assert_non_null(strstr(human, "nat_table"));
    assert_non_null(strstr(human, "key on port 1: ipv4.src, l4.sport"));
    for (char *line = human; *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        assert_true(n <= 100);
        line += n + (nl ? 1 : 0);
    }
    free(human);

    char *dot = deps_graph_dot(&f->nf, plan);
    assert_non_null(dot);
    assert_non_null(strstr(dot, "digraph"));
    assert_non_null(strstr(dot, "subgraph cluster_g0"));
    assert_non_null(strstr(dot, "style=dashed"));
    assert_non_null(strstr(dot, "port1 -> o"));
    free(dot);
    plan_done(plan, f);
}

static void test_bad_input_is_rejected(void **state)
{
    (void)state;
    struct fake_nf *f = fake_new(2);
    int m = obj(f, "m", IR_OBJ_MAP);
    acc(f, m, IR_API_MAP_GET, 0, KEY(F(IR_FIELD_IPV4_SRC)), 1);
    f->accesses[0].object = 7;
    struct deps_plan plan;
    struct util_error err;
    assert_int_equal(deps_plan_build(&f->nf, NULL, &plan, &err), UTIL_EXIT_INPUT);
    assert_non_null(strstr(err.msg, "object 7"));
    deps_plan_free(&plan);
    f->accesses[0].object = 0;
    f->nf.n_ports = 99;
    assert_int_equal(deps_plan_build(&f->nf, NULL, &plan, &err), UTIL_EXIT_USAGE);
    deps_plan_free(&plan);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nop_has_nothing_to_shard),
        cmocka_unit_test(test_read_only_table_is_replicated),
        cmocka_unit_test(test_mac_keys_are_shared),
        cmocka_unit_test(test_policer_port1_by_dst),
        cmocka_unit_test(test_firewall_cross_port_correspondence),
        cmocka_unit_test(test_coarser_common_subset),
        cmocka_unit_test(test_incompatible_keys_make_a_mixed_plan),
        cmocka_unit_test(test_same_port_different_fields_is_shared),
        cmocka_unit_test(test_swapped_fields_on_one_port_need_a_symmetric_key),
        cmocka_unit_test(test_map_value_shared_by_keys_is_not_inherited),
        cmocka_unit_test(test_unhashable_keys_are_shared),
        cmocka_unit_test(test_every_issue_kind_makes_state_shared),
        cmocka_unit_test(test_nat_guard_shards_by_remote_host),
        cmocka_unit_test(test_nat_without_guard_is_shared),
        cmocka_unit_test(test_nat_guard_checks_record_writes),
        cmocka_unit_test(test_nat_guard_must_dominate_writes),
        cmocka_unit_test(test_raw_index_into_allocated_entries_is_not_a_key),
        cmocka_unit_test(test_nat_guard_on_unhashable_fields_is_shared),
        cmocka_unit_test(test_prefix_keys_shard_by_coarsest_with_warning),
        cmocka_unit_test(test_load_balancer_mixed_plan),
        cmocka_unit_test(test_counters),
        cmocka_unit_test(test_unconstrained_groups_do_not_disturb_keys),
        cmocka_unit_test(test_ipv4_and_ipv6_tables_shard_independently),
        cmocka_unit_test(test_sketch_with_flow_table),
        cmocka_unit_test(test_json_text_and_dot),
        cmocka_unit_test(test_bad_input_is_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
