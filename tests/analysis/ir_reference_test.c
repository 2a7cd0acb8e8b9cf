/*
 * ir_reference_test.c - the ten reference NFs (nfs/) lift without error at
 * -O0 and -O2, with no soundness issues, and the facts the plans rest on
 * hold: fw's WAN side reads the reversed tuple, nat's WAN side reads the
 * flow by external port under the remote-host guard, hhh keys by prefixes.
 */
#include "ir_test_util.h"

#ifndef IR_REF_NFS_DIR
#error "IR_REF_NFS_DIR must name the directory of the reference NF bitcode"
#endif

static const char *const reference_nfs[] = {
    "nop", "sbridge", "dbridge", "policer", "fw", "nat", "cl", "psd", "lb", "hhh",
};

static void test_all_lift(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof reference_nfs / sizeof reference_nfs[0]; i++)
        for (int l = 0; l < 2; l++) {
            struct ir_nf nf;
            ir_test_lift(IR_REF_NFS_DIR, reference_nfs[i], ir_test_levels[l], &nf);
            assert_int_equal(nf.n_ports, 2);
            if (nf.n_issues != 0)
                fail_msg("%s: unexpected issue: %s", nf.path, nf.issues[0].detail);
            for (int a = 0; a < nf.n_accesses; a++) {
                assert_true(nf.accesses[a].object >= 0 && nf.accesses[a].object < nf.n_objects);
                assert_true(nf.accesses[a].where.line > 0);
                for (int p = 0; p < nf.accesses[a].key.count; p++)
                    if (nf.accesses[a].key.parts[p].field.id == IR_FIELD_UNKNOWN)
                        fail_msg("%s: access %d has an unknown key part", nf.path, a);
            }
            if (i == 0)
                assert_int_equal(nf.n_accesses, 0);
            ir_nf_free(&nf);
        }
}

static void test_fw_reversed_tuple(void **state)
{
    (void)state;
    for (int l = 0; l < 2; l++) {
        struct ir_nf nf;
        ir_test_lift(IR_REF_NFS_DIR, "fw", ir_test_levels[l], &nf);
        ir_test_key_is(&nf, "fw_flow_table", IR_API_MAP_PUT, 0,
                       "ipv4.src,ipv4.dst,l4.sport,l4.dport,ip.proto,const(0):24");
        ir_test_key_is(&nf, "fw_flow_table", IR_API_MAP_GET, 1,
                       "ipv4.dst,ipv4.src,l4.dport,l4.sport,ip.proto,const(0):24");
        assert_int_equal(ir_test_count(&nf, "fw_flow_table", IR_API_MAP_PUT, 1), 0);
        const struct ir_access *exp = ir_test_access(&nf, "fw_flow_entries",
                                                     IR_API_ALLOC_EXPIRE, 1);
        assert_int_equal(exp->related[0], ir_test_object(&nf, "fw_flow_table"));
        assert_int_equal(exp->related[1], ir_test_object(&nf, "fw_flow_keys"));
        ir_nf_free(&nf);
    }
}

static void test_nat_guard_and_writes(void **state)
{
    (void)state;
    for (int l = 0; l < 2; l++) {
        struct ir_nf nf;
        char buf[256];
        ir_test_lift(IR_REF_NFS_DIR, "nat", ir_test_levels[l], &nf);
        assert_int_equal(nf.objects[ir_test_object(&nf, "nat_flows")].capacity, 32768);
        /* WAN: index = ntohs(dport) - base_port; the flow's stored remote
         * ip/port/proto must equal the packet's source ip/port/proto. */
        ir_test_key_is(&nf, "nat_flows", IR_API_VECTOR_READ, 1, "l4.dport");
        const struct ir_access *read = ir_test_access(&nf, "nat_flows", IR_API_VECTOR_READ, 1);
        assert_int_equal(read->n_guards, 1);
        const struct ir_guard *g = &read->guards[0];
        assert_int_equal(g->from_access, (int)(read - nf.accesses));
        assert_string_equal(ir_test_key(&g->packet, buf, sizeof buf), "ipv4.src,l4.sport,ip.proto");
        assert_int_equal(g->stored.count, 3);
        assert_int_equal(g->stored.parts[0].field.id, IR_FIELD_STATE);
        assert_int_equal(g->stored.parts[0].offset, 4);     /* remote_ip */
        assert_int_equal(g->stored.parts[1].offset, 10);    /* remote_port */
        assert_int_equal(g->stored.parts[2].offset, 12);    /* proto */
        /* LAN side keys by the 5-tuple; WAN side never touches the table. */
        ir_test_key_is(&nf, "nat_flow_table", IR_API_MAP_GET, 0,
                       "ipv4.src,ipv4.dst,l4.sport,l4.dport,ip.proto,const(0):24");
        assert_int_equal(ir_test_count(&nf, "nat_flow_table", IR_API_MAP_GET, 1), 0);
        /* Header writes: port 0 rewrites the source, port 1 the destination. */
        int src_ip = 0, sport = 0, dst_ip = 0, dport = 0;
        for (int i = 0; i < nf.n_writes; i++) {
            const struct ir_header_write *w = &nf.writes[i];
            src_ip += w->port == 0 && w->field.id == IR_FIELD_IPV4_SRC;
            dst_ip += w->port == 1 && w->field.id == IR_FIELD_IPV4_DST;
            dport += w->port == 1 && w->field.id == IR_FIELD_L4_DPORT;
            if (w->port == 0 && w->field.id == IR_FIELD_L4_SPORT) {
                sport++;
                /* base_port + the allocated (or found) index: from state. */
                assert_int_equal(w->value.parts[0].field.id, IR_FIELD_STATE);
            }
        }
        assert_int_equal(src_ip, 1);
        assert_int_equal(sport, 2);     /* one per origin of the index */
        assert_int_equal(dst_ip, 1);
        assert_int_equal(dport, 1);
        /* Record writes: port 0 fills the flow record from its packet (the
         * remote host is the LAN packet's destination), indexed by the new
         * index; nothing writes it on port 1. */
        const struct ir_record_write *rw =
            ir_test_record_is(&nf, "nat_flows", 0, 4, 32, "ipv4.dst");
        assert_string_equal(ir_test_key(&rw->index, buf, sizeof buf), "state#3+0:32");
        assert_false(rw->transformed);
        assert_int_equal(rw->guarded_by, -1);
        assert_true(strstr(rw->where.file, "nat.c") != NULL);
        assert_int_equal(rw->where.line, 85);
        ir_test_record_is(&nf, "nat_flows", 0, 0, 32, "ipv4.src");
        ir_test_record_is(&nf, "nat_flows", 0, 8, 16, "l4.sport");
        ir_test_record_is(&nf, "nat_flows", 0, 10, 16, "l4.dport");
        ir_test_record_is(&nf, "nat_flows", 0, 12, 8, "ip.proto");
        ir_test_record_is(&nf, "nat_flow_keys", 0, 0, 128,
                          "ipv4.src,ipv4.dst,l4.sport,l4.dport,ip.proto,const(0):24");
        for (int i = 0; i < nf.n_record_writes; i++)
            assert_int_equal(nf.record_writes[i].port, 0);
        /* Dominance: the WAN refresh and the rewrite run only when the guard
         * on the read holds; the is_allocated check and the expire before it,
         * and the read itself, do not. */
        int read_at = (int)(read - nf.accesses);
        assert_int_equal(ir_test_access(&nf, "nat_flow_entries", IR_API_ALLOC_REFRESH, 1)
                             ->guarded_by, read_at);
        assert_int_equal(ir_test_access(&nf, "nat_flow_entries", IR_API_ALLOC_IS_ALLOCATED, 1)
                             ->guarded_by, -1);
        assert_int_equal(ir_test_access(&nf, "nat_flow_entries", IR_API_ALLOC_EXPIRE, 1)
                             ->guarded_by, -1);
        assert_int_equal(read->guarded_by, -1);
        assert_false(g->transformed);
        for (int i = 0; i < nf.n_writes; i++)
            assert_int_equal(nf.writes[i].guarded_by, nf.writes[i].port == 1 ? read_at : -1);
        for (int i = 0; i < nf.n_accesses; i++)
            if (nf.accesses[i].port == 0)
                assert_int_equal(nf.accesses[i].guarded_by, -1);
        ir_nf_free(&nf);
    }
}

static void test_hhh_prefixes(void **state)
{
    (void)state;
    for (int l = 0; l < 2; l++) {
        struct ir_nf nf;
        ir_test_lift(IR_REF_NFS_DIR, "hhh", ir_test_levels[l], &nf);
        assert_int_equal(nf.n_objects, 16);
        ir_test_key_is(&nf, "hhh_table_8", IR_API_MAP_GET, 1, "ipv4.src/8,const(0):24");
        ir_test_key_is(&nf, "hhh_table_16", IR_API_MAP_GET, 1, "ipv4.src/16,const(0):16");
        ir_test_key_is(&nf, "hhh_table_24", IR_API_MAP_GET, 1, "ipv4.src/24,const(0):8");
        ir_test_key_is(&nf, "hhh_table_32", IR_API_MAP_GET, 1, "ipv4.src");
        assert_int_equal(ir_test_count(&nf, "hhh_table_8", IR_API_MAP_GET, 0), 0);
        ir_nf_free(&nf);
    }
}

static void test_lb_chash_and_bridges(void **state)
{
    (void)state;
    for (int l = 0; l < 2; l++) {
        struct ir_nf nf;
        ir_test_lift(IR_REF_NFS_DIR, "lb", ir_test_levels[l], &nf);
        const struct ir_access *a = ir_test_access(&nf, "lb_backend_chash", IR_API_CHASH_LOOKUP, 0);
        assert_int_equal(a->related[0], ir_test_object(&nf, "lb_backends_alive"));
        ir_test_key_is(&nf, "lb_backend_table", IR_API_MAP_GET, 1, "ipv4.src");
        ir_nf_free(&nf);

        ir_test_lift(IR_REF_NFS_DIR, "dbridge", ir_test_levels[l], &nf);
        ir_test_key_is(&nf, "dbridge_mac_table", IR_API_MAP_PUT, 0, "eth.src,const(0):16");
        ir_nf_free(&nf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_lift),
        cmocka_unit_test(test_fw_reversed_tuple),
        cmocka_unit_test(test_nat_guard_and_writes),
        cmocka_unit_test(test_hhh_prefixes),
        cmocka_unit_test(test_lb_chash_and_bridges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
