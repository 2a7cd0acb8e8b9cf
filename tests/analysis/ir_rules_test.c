/*
 * ir_rules_test.c - one crafted NF per lifting rule (tests/analysis/nfs/),
 * each compiled at -O0 (optnone kept: the lifter must undo it) and -O2; the
 * exact objects, accesses, keys, writes and issues are asserted at both.
 */
#include "ir_test_util.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#if !defined(IR_TEST_NFS_DIR) || !defined(IR_TEST_SOURCE_DIR)
#error "IR_TEST_NFS_DIR (crafted test bitcode) and IR_TEST_SOURCE_DIR must be defined"
#endif

/* Lifts the crafted NF `name` at -O0 and -O2 and runs check on each. */
static void each_level(const char *name, void (*check)(struct ir_nf nf))
{
    for (int l = 0; l < 2; l++) {
        struct ir_nf nf;
        ir_test_lift(IR_TEST_NFS_DIR, name, ir_test_levels[l], &nf);
        check(nf);
        ir_nf_free(&nf);
    }
}

static void check_struct_key(struct ir_nf nf)
{
    assert_int_equal(nf.n_ports, 2);
    assert_int_equal(nf.n_objects, 1);
    assert_string_equal(nf.objects[0].name, "flows");
    assert_int_equal(nf.objects[0].kind, IR_OBJ_MAP);
    assert_int_equal(nf.objects[0].key_size, 12);
    assert_int_equal(nf.objects[0].capacity, 1024);
    assert_int_equal(nf.n_accesses, 4);
    for (int port = 0; port < 2; port++) {
        ir_test_key_is(&nf, "flows", IR_API_MAP_GET, port, "ipv4.src,ipv4.dst,l4.sport,l4.dport");
        ir_test_key_is(&nf, "flows", IR_API_MAP_PUT, port, "ipv4.src,ipv4.dst,l4.sport,l4.dport");
    }
    const struct ir_access *a = ir_test_access(&nf, "flows", IR_API_MAP_GET, 0);
    assert_non_null(strstr(a->where.file, "struct_key.c"));
    assert_int_equal(a->where.line, 27);
    assert_int_equal(nf.n_issues, 0);
    assert_int_equal(nf.n_writes, 0);
}

static void test_struct_key(void **state)
{
    (void)state;
    each_level("struct_key", check_struct_key);
}

static void check_packed_key(struct ir_nf nf)
{
    /* ((uint64_t)src << 32) | dst, stored little-endian: dst bytes first. */
    ir_test_key_is(&nf, "pairs", IR_API_MAP_PUT, 0, "ipv4.dst,ipv4.src");
    ir_test_key_is(&nf, "pairs", IR_API_MAP_PUT, 1, "ipv4.dst,ipv4.src");
    assert_int_equal(nf.n_issues, 0);
}

static void test_packed_key(void **state)
{
    (void)state;
    each_level("packed_key", check_packed_key);
}

static void check_bswap_index(struct ir_nf nf)
{
    /* my_ntohs(dport) - 1000: a hand-written byte swap, then an offset. */
    ir_test_key_is(&nf, "slots", IR_API_VECTOR_WRITE, 0, "l4.dport-1000");
    ir_test_key_is(&nf, "slots", IR_API_VECTOR_WRITE, 1, "l4.dport-1000");
    assert_int_equal(nf.objects[0].record_size, 8);
    assert_int_equal(nf.objects[0].capacity, 4096);
    assert_int_equal(nf.n_issues, 0);
}

static void test_bswap_index(void **state)
{
    (void)state;
    each_level("bswap_index", check_bswap_index);
}

static void check_prefix_key(struct ir_nf nf)
{
    /* ntohl(src) & 0xffffff00 stored little-endian: the zero byte first. */
    ir_test_key_is(&nf, "nets", IR_API_SKETCH_ADD, 0, "const(0):8,ipv4.src/24");
    const struct ir_access *a = ir_test_access(&nf, "nets", IR_API_SKETCH_ADD, 1);
    assert_int_equal(a->key.count, 2);
    assert_int_equal(a->key.parts[1].field.id, IR_FIELD_IPV4_SRC);
    assert_int_equal(a->key.parts[1].field.prefix, 24);
    assert_int_equal(a->key.parts[1].bits, 24);
}

static void test_prefix_key(void **state)
{
    (void)state;
    each_level("prefix_key", check_prefix_key);
}

static void check_state_key_and_guard(struct ir_nf nf)
{
    for (int port = 0; port < 2; port++) {
        const struct ir_access *get = ir_test_access(&nf, "index_of", IR_API_MAP_GET, port);
        ir_test_key_is(&nf, "index_of", IR_API_MAP_GET, port, "l4.dport");
        const struct ir_access *read = ir_test_access(&nf, "records", IR_API_VECTOR_READ, port);
        int get_index = (int)(get - nf.accesses), read_index = (int)(read - nf.accesses);
        assert_int_equal(read->key.count, 1);
        assert_int_equal(read->key.parts[0].field.id, IR_FIELD_STATE);
        assert_int_equal(read->key.parts[0].from_access, get_index);
        /* r->owner != ip->src */
        assert_int_equal(read->n_guards, 1);
        assert_int_equal(read->guards[0].from_access, read_index);
        assert_int_equal(read->guards[0].stored.count, 1);
        assert_int_equal(read->guards[0].stored.parts[0].field.id, IR_FIELD_STATE);
        assert_int_equal(read->guards[0].stored.parts[0].offset, 0);
        char buf[128];
        assert_string_equal(ir_test_key(&read->guards[0].packet, buf, sizeof buf), "ipv4.src");
    }
}

static void test_state_key_and_guard(void **state)
{
    (void)state;
    each_level("state_key", check_state_key_and_guard);
}

static void check_unknown_call(struct ir_nf nf)
{
    for (int port = 0; port < 2; port++) {
        assert_int_equal(ir_test_issues(&nf, IR_ISSUE_UNKNOWN_CALL, port), 1);
        assert_int_equal(ir_test_count(&nf, "seen", IR_API_COUNTER_ADD, port), 1);
    }
    assert_int_equal(nf.n_issues, 2);
    assert_non_null(strstr(nf.issues[0].detail, "mystery"));
    assert_int_equal(nf.issues[0].object, -1);
    assert_int_equal(nf.issues[0].where.line, 16);
}

static void test_unknown_call(void **state)
{
    (void)state;
    each_level("unknown_call", check_unknown_call);
}

static void check_global_write(struct ir_nf nf)
{
    assert_int_equal(ir_test_issues(&nf, IR_ISSUE_GLOBAL_WRITE, 0), 1);
    assert_int_equal(ir_test_issues(&nf, IR_ISSUE_GLOBAL_WRITE, 1), 1);
    assert_int_equal(nf.n_issues, 2);
    assert_non_null(strstr(nf.issues[0].detail, "packets"));
    assert_int_equal(nf.issues[0].where.line, 15);
}

static void test_global_write(void **state)
{
    (void)state;
    each_level("global_write", check_global_write);
}

static void check_indirect_call(struct ir_nf nf)
{
    assert_int_equal(ir_test_issues(&nf, IR_ISSUE_INDIRECT_CALL, 0), 1);
    assert_int_equal(ir_test_issues(&nf, IR_ISSUE_INDIRECT_CALL, 1), 1);
    assert_int_equal(nf.n_issues, 2);
}

static void test_indirect_call(void **state)
{
    (void)state;
    each_level("indirect_call", check_indirect_call);
}

static void check_inline_asm(struct ir_nf nf)
{
    assert_int_equal(ir_test_issues(&nf, IR_ISSUE_INLINE_ASM, 0), 1);
    assert_int_equal(ir_test_issues(&nf, IR_ISSUE_INLINE_ASM, 1), 1);
    assert_int_equal(nf.n_issues, 2);
}

static void test_inline_asm(void **state)
{
    (void)state;
    each_level("inline_asm", check_inline_asm);
}

static void check_per_port(struct ir_nf nf)
{
    /* Specialisation removes the other port's branch entirely. */
    assert_int_equal(nf.n_accesses, 2);
    ir_test_key_is(&nf, "hosts", IR_API_MAP_PUT, 0, "ipv4.src");
    ir_test_key_is(&nf, "hosts", IR_API_MAP_GET, 1, "ipv4.dst");
    assert_int_equal(ir_test_count(&nf, "hosts", IR_API_MAP_GET, 0), 0);
    assert_int_equal(ir_test_count(&nf, "hosts", IR_API_MAP_PUT, 1), 0);
    /* Port 1 writes the destination MAC (all ones). */
    assert_int_equal(nf.n_writes, 1);
    assert_int_equal(nf.writes[0].port, 1);
    assert_int_equal(nf.writes[0].field.id, IR_FIELD_ETH_DST);
    assert_int_equal(nf.writes[0].bits, 48);
    assert_int_equal(nf.writes[0].value.count, 1);
    assert_int_equal(nf.writes[0].value.parts[0].field.id, IR_FIELD_CONSTANT);
    assert_int_equal(nf.writes[0].value.parts[0].constant, 0xffffffffffffLL);
}

static void test_per_port(void **state)
{
    (void)state;
    each_level("per_port", check_per_port);
}

static void check_borrow_write(struct ir_nf nf)
{
    for (int port = 0; port < 2; port++) {
        assert_int_equal(ir_test_issues(&nf, IR_ISSUE_BORROW_WRITE, port), 1);
        const struct ir_access *a = ir_test_access(&nf, "counts", IR_API_VECTOR_READ, port);
        /* The index is pkt->port: a constant once specialised. */
        assert_int_equal(a->key.count, 1);
        assert_int_equal(a->key.parts[0].field.id, IR_FIELD_CONSTANT);
        assert_int_equal(a->key.parts[0].constant, port);
    }
    assert_int_equal(nf.issues[0].object, 0);
}

static void test_borrow_write(void **state)
{
    (void)state;
    each_level("borrow_write", check_borrow_write);
}

static void check_byte_array_keys(struct ir_nf nf)
{
    for (int port = 0; port < 2; port++) {
        ir_test_key_is(&nf, "macs", IR_API_MAP_PUT, port, "eth.src");
        ir_test_key_is(&nf, "v6", IR_API_MAP_PUT, port, "ipv6.src");
    }
}

static void test_byte_array_keys(void **state)
{
    (void)state;
    each_level("mac_ipv6", check_byte_array_keys);
}

static void check_untraced_handle(struct ir_nf nf)
{
    assert_int_equal(nf.n_objects, 3);
    for (int port = 0; port < 2; port++) {
        /* `never` was never created: untraceable. */
        assert_int_equal(ir_test_issues(&nf, IR_ISSUE_UNKNOWN_OBJECT, port), 1);
        ir_test_key_is(&nf, "created", IR_API_MAP_GET, port, "ipv4.dst");
        /* c0-or-c1 chosen per packet: an access on each. */
        assert_int_equal(ir_test_count(&nf, "c0", IR_API_COUNTER_ADD, port), 1);
        assert_int_equal(ir_test_count(&nf, "c1", IR_API_COUNTER_ADD, port), 1);
    }
    assert_int_equal(nf.n_accesses, 6);
    assert_int_equal(nf.issues[0].object, -1);
}

static void test_untraced_handle(void **state)
{
    (void)state;
    each_level("untraced_handle", check_untraced_handle);
}

static void check_loop_key(struct ir_nf nf)
{
    for (int port = 0; port < 2; port++) {
        const struct ir_access *a = ir_test_access(&nf, "prefixes", IR_API_MAP_PUT, port);
        bool unknown = false;
        for (int i = 0; i < a->key.count; i++)
            unknown |= a->key.parts[i].field.id == IR_FIELD_UNKNOWN;
        assert_true(unknown);
    }
}

static void test_loop_key(void **state)
{
    (void)state;
    each_level("loop_key", check_loop_key);
}

static void check_three_ports(struct ir_nf nf)
{
    assert_int_equal(nf.n_ports, 3);
    ir_test_key_is(&nf, "table", IR_API_MAP_PUT, 0, "ipv4.src,const(0):32");
    ir_test_key_is(&nf, "table", IR_API_MAP_PUT, 1, "ipv4.dst,const(0):32");
    /* time_ns >> 30: the time's top 34 bits, then 30 zero bits. */
    ir_test_key_is(&nf, "table", IR_API_MAP_PUT, 2, "pkt.time:34,const(0):30");
    assert_int_equal(nf.n_accesses, 3);
}

static void test_three_ports(void **state)
{
    (void)state;
    each_level("three_ports", check_three_ports);
}

static void test_json_dump(void **state)
{
    (void)state;
    struct ir_nf nf;
    ir_test_lift(IR_TEST_NFS_DIR, "state_key", "O2", &nf);
    struct util_json *w = util_json_new();
    util_json_object_begin(w);
    ir_nf_write_json(&nf, w);
    util_json_object_end(w);
    size_t len;
    const char *text = util_json_text(w, &len);
    struct util_error err;
    struct util_jvalue *root = util_json_parse(text, len, "ir json", &err);
    if (!root)
        fail_msg("%s", err.msg);
    const struct util_jvalue *acc = util_jobject_get(root, "accesses");
    assert_non_null(acc);
    assert_int_equal(acc->count, 4);
    const struct util_jvalue *read = &acc->items[1];
    assert_string_equal(util_jobject_get(read, "api")->string, "nf_vector_read");
    assert_string_equal(util_jobject_get(read, "object")->string, "records");
    const struct util_jvalue *guards = util_jobject_get(read, "guards");
    assert_int_equal(guards->count, 1);
    assert_string_equal(util_jobject_get(&guards->items[0], "packet")->items[0].string,
                        "ipv4.src");
    assert_int_equal((int)util_jobject_get(root, "ports")->number, 2);
    assert_non_null(util_jobject_get(read, "guarded_by"));
    assert_non_null(util_jobject_get(&guards->items[0], "transformed"));
    assert_non_null(util_jobject_get(root, "record_writes"));
    util_jvalue_free(root);
    util_json_free(w);
    ir_nf_free(&nf);
}

static void check_canonical_pair(struct ir_nf nf);     /* below, with symmetric_key */

static void test_other_levels(void **state)
{
    (void)state;
    static const char *const levels[] = {"O1", "O3", "Os"};
    for (int l = 0; l < 3; l++) {
        struct ir_nf nf;
        ir_test_lift(IR_TEST_NFS_DIR, "per_port", levels[l], &nf);
        check_per_port(nf);
        ir_nf_free(&nf);
        ir_test_lift(IR_TEST_NFS_DIR, "state_key", levels[l], &nf);
        check_state_key_and_guard(nf);
        ir_nf_free(&nf);
        ir_test_lift(IR_TEST_NFS_DIR, "canonical_pair", levels[l], &nf);
        check_canonical_pair(nf);
        ir_nf_free(&nf);
    }
}

static void check_not_guard(struct ir_nf nf)
{
    for (int port = 0; port < 2; port++) {
        const struct ir_access *a = ir_test_access(&nf, "recs", IR_API_VECTOR_READ, port);
        assert_int_equal(a->n_guards, 0);
        /* The index is the TTL: other header bytes (L3 offset 8). */
        ir_test_key_is(&nf, "recs", IR_API_VECTOR_READ, port, "L3[8]:8");
    }
}

static void test_not_guard(void **state)
{
    (void)state;
    each_level("not_guard", check_not_guard);
}

static void check_symmetric_key(struct ir_nf nf)
{
    for (int port = 0; port < 2; port++) {
        /* One access per outcome of `src < dst`, each with an exact key. */
        assert_int_equal(ir_test_count(&nf, "flows", IR_API_MAP_GET, port), 2);
        char keys[2][256];
        int n = 0;
        for (int i = 0; i < nf.n_accesses; i++)
            if (nf.accesses[i].port == port && nf.accesses[i].api == IR_API_MAP_GET)
                ir_test_key(&nf.accesses[i].key, keys[n++], sizeof keys[0]);
        bool forward = strcmp(keys[0], "ipv4.src,ipv4.dst,l4.sport,l4.dport") == 0 ||
                       strcmp(keys[1], "ipv4.src,ipv4.dst,l4.sport,l4.dport") == 0;
        bool reverse = strcmp(keys[0], "ipv4.dst,ipv4.src,l4.dport,l4.sport") == 0 ||
                       strcmp(keys[1], "ipv4.dst,ipv4.src,l4.dport,l4.sport") == 0;
        assert_true(forward && reverse);
    }
}

static void test_symmetric_key(void **state)
{
    (void)state;
    each_level("symmetric_key", check_symmetric_key);
}

/* The keys of the accesses matching (object, api, port), in access order. */
static int keys_of(const struct ir_nf *nf, const char *object, enum ir_api api, int port,
                   char keys[][256], int max)
{
    int n = 0;
    for (int i = 0; i < nf->n_accesses && n < max; i++) {
        const struct ir_access *a = &nf->accesses[i];
        if (strcmp(nf->objects[a->object].name, object) == 0 && a->api == api &&
            a->port == port)
            ir_test_key(&a->key, keys[n++], sizeof keys[0]);
    }
    return n;
}

static void check_canonical_pair(struct ir_nf nf)
{
    static const enum ir_api apis[] = {IR_API_MAP_GET, IR_API_MAP_PUT};
    for (int port = 0; port < 2; port++)
        for (int i = 0; i < 2; i++) {
            /* (address, port) order with a port tie-break: several branches
             * into one join, one exact key per predecessor (the duplicate
             * outcomes merged), the endpoints trading places whole. */
            char keys[4][256];
            assert_int_equal(keys_of(&nf, "conns", apis[i], port, keys, 4), 2);
            const char *forward = "ipv4.src,ipv4.dst,l4.sport,l4.dport";
            const char *reverse = "ipv4.dst,ipv4.src,l4.dport,l4.sport";
            bool fwd_first = strcmp(keys[0], forward) == 0 && strcmp(keys[1], reverse) == 0;
            bool rev_first = strcmp(keys[0], reverse) == 0 && strcmp(keys[1], forward) == 0;
            if (!fwd_first && !rev_first)
                fail_msg("%s: %s port %d: keys (%s) and (%s)", nf.path, ir_api_name(apis[i]),
                         port, keys[0], keys[1]);
        }
    assert_int_equal(nf.n_accesses, 8);
    assert_int_equal(nf.n_issues, 0);
}

static void test_canonical_pair(void **state)
{
    (void)state;
    each_level("canonical_pair", check_canonical_pair);
}

/* The NAT variants of the guard checks (deps_nat_*.c): what each stores in the
 * flow record, and which WAN accesses the guard dominates. */
static const struct ir_access *wan_read(const struct ir_nf *nf, const char *flows)
{
    return ir_test_access(nf, flows, IR_API_VECTOR_READ, 1);
}

static void check_nat_source(struct ir_nf nf)
{
    /* the "remote" fields hold the LAN packet's source */
    ir_test_record_is(&nf, "ns_flows", 0, 4, 32, "ipv4.src");
    ir_test_record_is(&nf, "ns_flows", 0, 10, 16, "l4.sport");
    ir_test_record_is(&nf, "ns_flows", 0, 0, 32, "ipv4.src");
    ir_test_record_is(&nf, "ns_flows", 0, 8, 16, "l4.sport");
    ir_test_record_is(&nf, "ns_keys", 0, 0, 96, "ipv4.src,ipv4.dst,l4.sport,l4.dport");
    const struct ir_access *rd = wan_read(&nf, "ns_flows");
    assert_int_equal(rd->n_guards, 1);
    assert_int_equal(ir_test_access(&nf, "ns_entries", IR_API_ALLOC_REFRESH, 1)->guarded_by,
                     (int)(rd - nf.accesses));
}

static void test_nat_source(void **state)
{
    (void)state;
    each_level("deps_nat_source", check_nat_source);
}

static void check_nat_early_refresh(struct ir_nf nf)
{
    ir_test_record_is(&nf, "ne_flows", 0, 4, 32, "ipv4.dst");
    ir_test_record_is(&nf, "ne_flows", 0, 10, 16, "l4.dport");
    const struct ir_access *rd = wan_read(&nf, "ne_flows");
    int at = (int)(rd - nf.accesses);
    assert_int_equal(rd->n_guards, 1);
    /* the refresh comes before the guard: not dominated; the rewrites after it are */
    assert_int_equal(ir_test_access(&nf, "ne_entries", IR_API_ALLOC_REFRESH, 1)->guarded_by, -1);
    int rewrites = 0;
    for (int i = 0; i < nf.n_writes; i++)
        if (nf.writes[i].port == 1) {
            assert_int_equal(nf.writes[i].guarded_by, at);
            rewrites++;
        }
    assert_int_equal(rewrites, 2);
}

static void test_nat_early_refresh(void **state)
{
    (void)state;
    each_level("deps_nat_early_refresh", check_nat_early_refresh);
}

static void check_nat_ip_only(struct ir_nf nf)
{
    ir_test_record_is(&nf, "ni_flows", 0, 4, 32, "ipv4.dst");
    ir_test_record_is(&nf, "ni_flows", 0, 10, 16, "const(13568):16");   /* htons(53) */
    const struct ir_access *rd = wan_read(&nf, "ni_flows");
    char buf[128];
    assert_int_equal(rd->n_guards, 1);
    assert_string_equal(ir_test_key(&rd->guards[0].packet, buf, sizeof buf), "ipv4.src");
    assert_string_equal(ir_test_key(&rd->guards[0].stored, buf, sizeof buf), "state#10+4:32");
    assert_int_equal(ir_test_access(&nf, "ni_entries", IR_API_ALLOC_REFRESH, 1)->guarded_by,
                     (int)(rd - nf.accesses));
}

static void test_nat_ip_only(void **state)
{
    (void)state;
    each_level("deps_nat_ip_only", check_nat_ip_only);
}

static void check_nat_xor(struct ir_nf nf)
{
    /* dst ^ C is described by dst's bits, but marked as not a copy */
    const struct ir_record_write *ip = ir_test_record_is(&nf, "nx_flows", 0, 4, 32, "ipv4.dst");
    const struct ir_record_write *port =
        ir_test_record_is(&nf, "nx_flows", 0, 10, 16, "l4.dport");
    assert_true(ip->transformed);
    assert_true(port->transformed);
    assert_false(ir_test_record_is(&nf, "nx_flows", 0, 0, 32, "ipv4.src")->transformed);
    assert_false(wan_read(&nf, "nx_flows")->guards[0].transformed);
}

static void test_nat_xor(void **state)
{
    (void)state;
    each_level("deps_nat_xor", check_nat_xor);
}

/* ---- Arithmetic: which bits survive the carries (arith_*.c) ---------------- */

/* Part `part` of the access's key is unknown and says it was computed from
 * `field` (and `also`, or NULL) by an operation named `op` at `line`. */
static void expect_derived(const struct ir_nf *nf, const struct ir_access *a, int part,
                           enum ir_field_id field, const char *also, const char *op, int line)
{
    assert_true(part < a->key.count);
    const struct ir_key_part *p = &a->key.parts[part];
    assert_int_equal(p->field.id, IR_FIELD_UNKNOWN);
    if (p->derived == 0 || p->derived > nf->n_derivations)
        fail_msg("%s: part %d of the key at line %d names no derivation", nf->path, part,
                 a->where.line);
    const struct ir_derivation *d = &nf->derivations[p->derived - 1];
    assert_int_equal(d->field.id, field);
    if (also) {
        char buf[48];
        assert_string_equal(ir_field_format(d->also, buf, sizeof buf), also);
    } else {
        assert_int_equal(d->also.id, IR_FIELD_UNKNOWN);
    }
    if (!strstr(d->op, op))
        fail_msg("%s: derivation op \"%s\", expected \"%s\"", nf->path, d->op, op);
    assert_int_equal(d->where.line, line);
    assert_non_null(strstr(d->where.file, "arith_"));
}

static void check_arith_hash_mul(struct ir_nf nf)
{
    for (int port = 0; port < 2; port++) {
        ir_test_key_is(&nf, "hm_counters", IR_API_VECTOR_WRITE, port, "unknown:12");
        expect_derived(&nf, ir_test_access(&nf, "hm_counters", IR_API_VECTOR_WRITE, port), 0,
                       IR_FIELD_IPV4_SRC, NULL, "multiplication", 25);
    }
    assert_int_equal(nf.n_issues, 0);
}

static void test_arith_hash_mul(void **state)
{
    (void)state;
    each_level("arith_hash_mul", check_arith_hash_mul);
}

static void check_arith_hash_salt(struct ir_nf nf)
{
    for (int port = 0; port < 2; port++) {
        ir_test_key_is(&nf, "hs_counters", IR_API_VECTOR_WRITE, port, "unknown:12");
        expect_derived(&nf, ir_test_access(&nf, "hs_counters", IR_API_VECTOR_WRITE, port), 0,
                       IR_FIELD_IPV4_SRC, NULL, "addition", 25);
    }
}

static void test_arith_hash_salt(void **state)
{
    (void)state;
    each_level("arith_hash_salt", check_arith_hash_salt);
}

static void check_arith_add_lowzero(struct ir_nf nf)
{
    /* No carry anywhere: the /16 prefix and the constant, little-endian. */
    for (int port = 0; port < 2; port++) {
        ir_test_key_is(&nf, "al_by_net", IR_API_MAP_GET, port, "ipv4.src/16,const(1):16");
        ir_test_key_is(&nf, "al_by_net", IR_API_MAP_PUT, port, "ipv4.src/16,const(1):16");
    }
    /* + 0x100: the low 8 bits and bit 8 (the last byte of ipv4.dst and one
     * bit of the byte before), then 23 bits the carry reaches. */
    ir_test_key_is(&nf, "al_by_dst", IR_API_MAP_PUT, 0, "L3[18]:9,unknown:23");
    const struct ir_access *a = ir_test_access(&nf, "al_by_dst", IR_API_MAP_PUT, 0);
    assert_int_equal(a->key.parts[0].layer, 3);
    expect_derived(&nf, a, 1, IR_FIELD_IPV4_DST, NULL, "addition", 32);
    assert_int_equal(ir_test_count(&nf, "al_by_dst", IR_API_MAP_PUT, 1), 0);
}

static void test_arith_add_lowzero(void **state)
{
    (void)state;
    each_level("arith_add_lowzero", check_arith_add_lowzero);
}

static void check_arith_zext_shift(struct ir_nf nf)
{
    for (int port = 0; port < 2; port++)
        ir_test_key_is(&nf, "zs_pairs", IR_API_MAP_PUT, port, "l4.sport,l4.dport");
}

static void test_arith_zext_shift(void **state)
{
    (void)state;
    each_level("arith_zext_shift", check_arith_zext_shift);
}

static void check_arith_mul_odd(struct ir_nf nf)
{
    /* Bit 0 of dst * 40503 is dst's bit 0 (the last bit of L3 byte 19). */
    for (int port = 0; port < 2; port++) {
        ir_test_key_is(&nf, "mo_slots", IR_API_VECTOR_WRITE, port, "unknown:11,L3[19]:1");
        expect_derived(&nf, ir_test_access(&nf, "mo_slots", IR_API_VECTOR_WRITE, port), 0,
                       IR_FIELD_IPV4_DST, NULL, "multiplication", 21);
    }
}

static void test_arith_mul_odd(void **state)
{
    (void)state;
    each_level("arith_mul_odd", check_arith_mul_odd);
}

static void check_arith_mul_pow2(struct ir_nf nf)
{
    for (int port = 0; port < 2; port++)
        ir_test_key_is(&nf, "mp_slots", IR_API_VECTOR_WRITE, port, "ipv4.src/8,const(0):4");
}

static void test_arith_mul_pow2(void **state)
{
    (void)state;
    each_level("arith_mul_pow2", check_arith_mul_pow2);
}

static void check_arith_sub_base(struct ir_nf nf)
{
    for (int port = 0; port < 2; port++) {
        /* ntohs(dport) - base: injective, described by the port; base is
         * nf_config("base", 5000), a constant for the analysis (its default). */
        ir_test_key_is(&nf, "sb_by_port", IR_API_VECTOR_WRITE, port, "l4.dport-5000");
        assert_int_equal(ir_test_access(&nf, "sb_by_port", IR_API_VECTOR_WRITE, port)
                             ->key.parts[0].constant, -5000);
        /* (ntohs(dport) - base) >> 4: not the whole value, so the borrows count. */
        ir_test_key_is(&nf, "sb_by_group", IR_API_VECTOR_WRITE, port, "unknown:28");
        expect_derived(&nf, ir_test_access(&nf, "sb_by_group", IR_API_VECTOR_WRITE, port), 0,
                       IR_FIELD_L4_DPORT, NULL, "subtraction", 33);
    }
}

static void test_arith_sub_base(void **state)
{
    (void)state;
    each_level("arith_sub_base", check_arith_sub_base);
}

static void check_arith_xor_fields(struct ir_nf nf)
{
    for (int port = 0; port < 2; port++) {
        ir_test_key_is(&nf, "xf_slots", IR_API_VECTOR_WRITE, port, "unknown:12");
        expect_derived(&nf, ir_test_access(&nf, "xf_slots", IR_API_VECTOR_WRITE, port), 0,
                       IR_FIELD_IPV4_SRC, "ipv4.dst", "xor", 20);
    }
}

static void test_arith_xor_fields(void **state)
{
    (void)state;
    each_level("arith_xor_fields", check_arith_xor_fields);
}

static void check_arith_divmod(struct ir_nf nf)
{
    for (int port = 0; port < 2; port++) {
        ir_test_key_is(&nf, "dm_by_rem", IR_API_VECTOR_WRITE, port, "unknown:32");
        expect_derived(&nf, ir_test_access(&nf, "dm_by_rem", IR_API_VECTOR_WRITE, port), 0,
                       IR_FIELD_IPV4_SRC, NULL, "remainder", 23);
    }
    ir_test_key_is(&nf, "dm_by_div", IR_API_VECTOR_WRITE, 0, "unknown:21");
    expect_derived(&nf, ir_test_access(&nf, "dm_by_div", IR_API_VECTOR_WRITE, 0), 0,
                   IR_FIELD_IPV4_DST, NULL, "division", 26);
}

static void test_arith_divmod(void **state)
{
    (void)state;
    each_level("arith_divmod", check_arith_divmod);
}

static void check_arith_shift_mask(struct ir_nf nf)
{
    for (int port = 0; port < 2; port++)
        ir_test_key_is(&nf, "sm_counters", IR_API_VECTOR_WRITE, port, "ipv4.src/12");
}

static void test_arith_shift_mask(void **state)
{
    (void)state;
    each_level("arith_shift_mask", check_arith_shift_mask);
}

/* The JSON dump names the derivation of an unknown part. */
static void test_arith_json(void **state)
{
    (void)state;
    struct ir_nf nf;
    ir_test_lift(IR_TEST_NFS_DIR, "arith_xor_fields", "O2", &nf);
    struct util_json *w = util_json_new();
    util_json_object_begin(w);
    ir_nf_write_json(&nf, w);
    util_json_object_end(w);
    size_t len;
    const char *text = util_json_text(w, &len);
    struct util_error err;
    struct util_jvalue *root = util_json_parse(text, len, "ir json", &err);
    if (!root)
        fail_msg("%s", err.msg);
    const struct util_jvalue *acc = util_jobject_get(root, "accesses");
    assert_non_null(acc);
    const struct util_jvalue *derived = util_jobject_get(&acc->items[0], "derived");
    assert_non_null(derived);
    assert_int_equal(derived->count, 1);
    const struct util_jvalue *d = &derived->items[0];
    assert_int_equal((int)util_jobject_get(d, "part")->number, 0);
    assert_string_equal(util_jobject_get(d, "field")->string, "ipv4.src");
    assert_string_equal(util_jobject_get(d, "also")->string, "ipv4.dst");
    assert_non_null(strstr(util_jobject_get(d, "op")->string, "xor"));
    assert_int_equal((int)util_jobject_get(d, "line")->number, 20);
    util_jvalue_free(root);
    util_json_free(w);
    ir_nf_free(&nf);
}

static void test_ports_option(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/per_port.O2.bc", IR_TEST_NFS_DIR);
    struct ir_options opts = {.ports = 3};
    struct ir_nf nf;
    struct util_error err;
    assert_int_equal(ir_analyze_file(path, &opts, &nf, &err), 0);
    assert_int_equal(nf.n_ports, 3);
    /* Ports 1 and 2 both take the "not port 0" branch. */
    ir_test_key_is(&nf, "hosts", IR_API_MAP_GET, 2, "ipv4.dst");
    ir_nf_free(&nf);
}

/* ---- Errors ----------------------------------------------------------------- */

static void expect_error(const char *path, int code, const char *needle)
{
    struct ir_nf nf;
    struct util_error err = {{0}};
    int rc = ir_analyze_file(path, NULL, &nf, &err);
    if (rc != code || !strstr(err.msg, needle))
        fail_msg("%s: rc %d (expected %d), message \"%s\" (expected to contain \"%s\")", path,
                 rc, code, err.msg, needle);
    assert_int_equal(nf.n_accesses, 0);
    assert_null(nf.accesses);
}

static void test_error_text_file(void **state)
{
    (void)state;
    char path[] = "/tmp/ir_test_textXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "int main;\n", 10), 10);
    close(fd);
    expect_error(path, UTIL_EXIT_INPUT, "not LLVM bitcode: bytes at offset 0 are 69 6e 74 20");
    unlink(path);
    expect_error("/nonexistent/nf.bc", UTIL_EXIT_IO, "cannot open");
}

static void test_error_truncated(void **state)
{
    (void)state;
    char src[512], path[] = "/tmp/ir_test_truncXXXXXX";
    snprintf(src, sizeof src, "%s/struct_key.O2.bc", IR_TEST_NFS_DIR);
    FILE *in = fopen(src, "rb");
    assert_non_null(in);
    char buf[600];
    size_t n = fread(buf, 1, sizeof buf, in);
    fclose(in);
    assert_int_equal(n, sizeof buf);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, sizeof buf), (ssize_t)sizeof buf);
    close(fd);
    expect_error(path, UTIL_EXIT_INPUT, "bitcode reader rejected");
    unlink(path);
}

static void test_error_corrupt_no_crash(void **state)
{
    (void)state;
    /* A fuzzed copy of a test NF that makes LLVM 19's metadata reader crash
     * (SIGSEGV): the analysis runs in a child, so this is an input error. */
    char path[512];
    snprintf(path, sizeof path, "%s/nfs/corrupt_metadata.bc", IR_TEST_SOURCE_DIR);
    struct ir_nf nf;
    struct util_error err = {{0}};
    assert_int_equal(ir_analyze_file(path, NULL, &nf, &err), UTIL_EXIT_INPUT);
    assert_true(strstr(err.msg, "corrupt LLVM bitcode") || strstr(err.msg, "rejected"));
    assert_null(nf.accesses);
}

static void test_error_entry_points(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/no_process.O0.bc", IR_TEST_NFS_DIR);
    expect_error(path, UTIL_EXIT_INPUT, "no definition of nf_process");
    snprintf(path, sizeof path, "%s/bad_signature.O2.bc", IR_TEST_NFS_DIR);
    expect_error(path, UTIL_EXIT_INPUT, "expected i32 (ptr)");
}

static void test_error_api_misuse(void **state)
{
    (void)state;
    char path[512];
    for (int l = 0; l < 2; l++) {
        snprintf(path, sizeof path, "%s/create_in_process.%s.bc", IR_TEST_NFS_DIR, ir_test_levels[l]);
        expect_error(path, UTIL_EXIT_INPUT, "created outside nf_init");
        snprintf(path, sizeof path, "%s/dynamic_name.%s.bc", IR_TEST_NFS_DIR, ir_test_levels[l]);
        expect_error(path, UTIL_EXIT_INPUT, "not a string literal");
    }
}

static void test_wrapper_magic(void **state)
{
    (void)state;
    /* The bitcode wrapper: magic 0x0B17C0DE, version, offset, size, cpu type. */
    char src[512], path[] = "/tmp/ir_test_wrapXXXXXX";
    snprintf(src, sizeof src, "%s/struct_key.O2.bc", IR_TEST_NFS_DIR);
    size_t len;
    struct util_error err;
    char *bc = util_read_file(src, &len, &err);
    assert_non_null(bc);
    uint32_t header[5] = {0x0B17C0DE, 0, 20, (uint32_t)len, 0x01000007};
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, header, sizeof header), (ssize_t)sizeof header);
    assert_int_equal(write(fd, bc, len), (ssize_t)len);
    close(fd);
    free(bc);
    struct ir_nf nf;
    int rc = ir_analyze_file(path, NULL, &nf, &err);
    unlink(path);
    if (rc)
        fail_msg("%s", err.msg);
    ir_test_key_is(&nf, "flows", IR_API_MAP_GET, 1, "ipv4.src,ipv4.dst,l4.sport,l4.dport");
    ir_nf_free(&nf);
}

static void test_input_untouched(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/per_port.O0.bc", IR_TEST_NFS_DIR);
    size_t before_len, after_len;
    struct util_error err;
    char *before = util_read_file(path, &before_len, &err);
    assert_non_null(before);
    struct ir_nf nf;
    assert_int_equal(ir_analyze_file(path, NULL, &nf, &err), 0);
    ir_nf_free(&nf);
    char *after = util_read_file(path, &after_len, &err);
    assert_non_null(after);
    assert_int_equal(before_len, after_len);
    assert_memory_equal(before, after, before_len);
    free(before);
    free(after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_struct_key),
        cmocka_unit_test(test_nat_source),
        cmocka_unit_test(test_nat_early_refresh),
        cmocka_unit_test(test_nat_ip_only),
        cmocka_unit_test(test_nat_xor),
        cmocka_unit_test(test_packed_key),
        cmocka_unit_test(test_bswap_index),
        cmocka_unit_test(test_prefix_key),
        cmocka_unit_test(test_state_key_and_guard),
        cmocka_unit_test(test_unknown_call),
        cmocka_unit_test(test_global_write),
        cmocka_unit_test(test_indirect_call),
        cmocka_unit_test(test_inline_asm),
        cmocka_unit_test(test_per_port),
        cmocka_unit_test(test_borrow_write),
        cmocka_unit_test(test_byte_array_keys),
        cmocka_unit_test(test_untraced_handle),
        cmocka_unit_test(test_loop_key),
        cmocka_unit_test(test_three_ports),
        cmocka_unit_test(test_json_dump),
        cmocka_unit_test(test_other_levels),
        cmocka_unit_test(test_not_guard),
        cmocka_unit_test(test_symmetric_key),
        cmocka_unit_test(test_canonical_pair),
        cmocka_unit_test(test_ports_option),
        cmocka_unit_test(test_arith_hash_mul),
        cmocka_unit_test(test_arith_hash_salt),
        cmocka_unit_test(test_arith_add_lowzero),
        cmocka_unit_test(test_arith_zext_shift),
        cmocka_unit_test(test_arith_mul_odd),
        cmocka_unit_test(test_arith_mul_pow2),
        cmocka_unit_test(test_arith_sub_base),
        cmocka_unit_test(test_arith_xor_fields),
        cmocka_unit_test(test_arith_divmod),
        cmocka_unit_test(test_arith_shift_mask),
        cmocka_unit_test(test_arith_json),
        cmocka_unit_test(test_wrapper_magic),
        cmocka_unit_test(test_error_text_file),
        cmocka_unit_test(test_error_truncated),
        cmocka_unit_test(test_error_corrupt_no_crash),
        cmocka_unit_test(test_error_entry_points),
        cmocka_unit_test(test_error_api_misuse),
        cmocka_unit_test(test_input_untouched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
