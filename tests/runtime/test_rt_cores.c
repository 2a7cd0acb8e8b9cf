/*
 * test_rt_cores.c - rt_instantiate and the locking protocol: sharded
 * instances are independent, allocators hand out disjoint global ranges,
 * nf_init state is copied per core, replicated and shared writes outside the
 * protocol are counted as plan violations, two threads writing a shared
 * object under rt_packet_begin(c, true) stay consistent, readers never see a
 * half-done write, and rt_reset lets nf_init run again.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/runtime.h"

/* The "NF" of this test: its handles live in globals, like a real NF's. */
static struct nf_map *flows;
static struct nf_alloc *ports;
static struct nf_vector *keys;
static struct nf_counter *packets;
static struct nf_map *static_table;

int nf_init(void)
{
    flows = nf_map_create("flows", 13, 100);
    ports = nf_alloc_create("ports", 10);
    keys = nf_vector_create("keys", 16, 10);
    packets = nf_counter_create("packets");
    static_table = nf_map_create("static_table", 4, 8);
    uint32_t k = 42;
    if (!flows || !ports || !keys || !packets || !static_table ||
        !nf_map_put(static_table, &k, 7))
        return -1;
    return 0;
}

int nf_process(struct nf_packet *pkt)
{
    (void)pkt;
    nf_counter_add(packets, 1);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    rt_set_abort_on_violation(false);
    return nf_init();
}

static int teardown(void **state)
{
    (void)state;
    rt_reset();
    return 0;
}

static void test_sharded_independent(void **state)
{
    (void)state;
    struct util_error err;
    assert_int_equal(rt_instantiate(4, NULL, &err), 0);
    assert_int_equal(rt_cores(), 4);
    /* allocator: core c owns [3c, min(3c+3, 10)) */
    uint32_t owned[4] = {0};
    for (int c = 0; c < 4; c++) {
        rt_set_core(c);
        uint32_t idx;
        while (nf_alloc_new(ports, 0, &idx)) {
            assert_true(idx >= 3u * (uint32_t)c && idx < 3u * (uint32_t)c + 3 && idx < 10);
            assert_false(owned[c] & (1u << (idx - 3u * (uint32_t)c)));
            owned[c] |= 1u << (idx - 3u * (uint32_t)c);
        }
        assert_true(nf_alloc_is_allocated(ports, 3u * (uint32_t)c));
        /* another core's index is not ours */
        assert_false(nf_alloc_is_allocated(ports, (3u * (uint32_t)c + 3) % 10));
        assert_false(nf_alloc_free(ports, (3u * (uint32_t)c + 3) % 10));
    }
    assert_int_equal(owned[0], 7);
    assert_int_equal(owned[1], 7);
    assert_int_equal(owned[2], 7);
    assert_int_equal(owned[3], 1);      /* only index 9 */
    /* map: capacity 100 / 4 = 25 per core, independent contents */
    uint8_t key[13] = {0};
    rt_set_core(1);
    for (int i = 0; i < 25; i++) {
        key[0] = (uint8_t)i;
        assert_true(nf_map_put(flows, key, i));
    }
    key[0] = 200;
    assert_false(nf_map_put(flows, key, 0));
    rt_set_core(2);
    int32_t v;
    key[0] = 3;
    assert_false(nf_map_get(flows, key, &v));
    assert_true(nf_map_put(flows, key, 33));
    rt_set_core(1);
    assert_true(nf_map_get(flows, key, &v));
    assert_int_equal(v, 3);
    /* nf_init contents were copied to every core */
    uint32_t k = 42;
    for (int c = 0; c < 4; c++) {
        rt_set_core(c);
        assert_true(nf_map_get(static_table, &k, &v));
        assert_int_equal(v, 7);
        nf_counter_add(packets, (uint64_t)c + 1);
    }
    for (int c = 0; c < 4; c++) {
        rt_set_core(c);
        assert_int_equal(nf_counter_read(packets), (uint64_t)c + 1);
    }
    struct rt_object_info info;
    assert_true(rt_object_info((size_t)rt_object_find("flows"), &info));
    assert_int_equal(info.mode, RT_SHARDED);
    struct rt_stats st;
    rt_stats(&st);
    assert_int_equal(st.plan_violations, 0);
    rt_set_core(0);
}

static void test_expire_on_shard_uses_core_instances(void **state)
{
    (void)state;
    struct util_error err;
    assert_int_equal(rt_instantiate(2, NULL, &err), 0);
    rt_set_core(1);
    uint32_t idx;
    uint8_t key[13] = {9};
    assert_true(nf_alloc_new(ports, 5, &idx));
    assert_int_equal(idx, 5);           /* core 1 owns [5, 10) */
    memcpy(nf_vector_write(keys, idx), key, 13);
    assert_true(nf_map_put(flows, key, (int32_t)idx));
    rt_set_core(0);
    assert_int_equal(nf_alloc_expire(ports, 100, flows, keys), 0);
    rt_set_core(1);
    assert_int_equal(nf_alloc_expire(ports, 100, flows, keys), 1);
    int32_t v;
    assert_false(nf_map_get(flows, key, &v));
    rt_set_core(0);
}

/* Indexes nf_init allocated stay allocated, on the core whose range holds
 * them, with their stamps (expiry still sees them). */
static void test_shard_keeps_init_allocations(void **state)
{
    (void)state;
    uint32_t idx;
    for (int i = 0; i < 7; i++)
        assert_true(nf_alloc_new(ports, 100 + (uint64_t)i, &idx));   /* 0..6 */
    struct util_error err;
    assert_int_equal(rt_instantiate(2, NULL, &err), 0);             /* [0,5) [5,10) */
    rt_set_core(0);
    for (uint32_t i = 0; i < 5; i++)
        assert_true(nf_alloc_is_allocated(ports, i));
    assert_false(nf_alloc_new(ports, 200, &idx));                    /* core 0 full */
    rt_set_core(1);
    assert_true(nf_alloc_is_allocated(ports, 5));
    assert_true(nf_alloc_is_allocated(ports, 6));
    assert_false(nf_alloc_is_allocated(ports, 7));
    assert_true(nf_alloc_new(ports, 200, &idx));
    assert_true(idx >= 7 && idx < 10);
    assert_int_equal(nf_alloc_expire(ports, 106, NULL, NULL), 1);    /* index 5 (stamp 105) */
    assert_false(nf_alloc_is_allocated(ports, 5));
    assert_true(nf_alloc_is_allocated(ports, 6));
    rt_set_core(0);
    assert_int_equal(nf_alloc_expire(ports, 103, NULL, NULL), 3);    /* stamps 100..102 */
    rt_set_core(0);
}

static void test_instantiate_errors(void **state)
{
    (void)state;
    struct util_error err;
    assert_int_equal(rt_instantiate(0, NULL, &err), -1);
    assert_int_equal(rt_instantiate(RT_MAX_CORES + 1, NULL, &err), -1);
    /* fill the map so a 4-way share (25) cannot hold it */
    uint8_t key[13] = {0};
    for (int i = 0; i < 30; i++) {
        key[0] = (uint8_t)i;
        assert_true(nf_map_put(flows, key, i));
    }
    assert_int_equal(rt_instantiate(4, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "flows"));
    assert_int_equal(rt_cores(), 1);            /* nothing changed */
    int32_t v;
    key[0] = 29;
    assert_true(nf_map_get(flows, key, &v));
    enum rt_mode modes[5] = {RT_SHARED, RT_SHARDED, RT_SHARDED, RT_SHARDED, RT_REPLICATED};
    assert_int_equal(rt_instantiate(4, modes, &err), 0);
    assert_int_equal(rt_instantiate(4, modes, &err), -1);       /* twice */
    rt_set_core(3);
    rt_packet_begin(3, false);
    assert_true(nf_map_get(flows, key, &v));    /* shared: one instance */
    rt_packet_end(3);
    rt_set_core(0);
}

static void test_violations_counted(void **state)
{
    (void)state;
    struct util_error err;
    enum rt_mode modes[5] = {RT_SHARED, RT_SHARDED, RT_SHARDED, RT_SHARED, RT_REPLICATED};
    assert_int_equal(rt_instantiate(2, modes, &err), 0);
    struct rt_stats st;
    uint8_t key[13] = {1};
    int32_t v;

    rt_packet_begin(1, true);                   /* holds every token: fine */
    assert_true(nf_map_put(flows, key, 1));
    nf_counter_add(packets, 1);
    rt_packet_end(1);
    rt_stats(&st);
    assert_int_equal(st.plan_violations, 0);
    assert_int_equal(st.packets, 1);
    assert_int_equal(st.write_packets, 1);

    rt_packet_begin(0, false);                  /* read token only */
    assert_true(nf_map_get(flows, key, &v));    /* reads are fine */
    nf_map_put(flows, key, 2);                  /* violation */
    nf_counter_add(packets, 1);                 /* violation */
    rt_packet_end(0);
    rt_stats(&st);
    assert_int_equal(st.plan_violations, 2);
    rt_core_stats(0, &st);
    assert_int_equal(st.plan_violations, 2);
    assert_int_equal(st.packets, 1);
    rt_core_stats(1, &st);
    assert_int_equal(st.plan_violations, 0);
    assert_int_equal(st.write_packets, 1);

    rt_packet_begin(0, true);
    uint32_t k = 42;
    nf_map_put(static_table, &k, 8);            /* replicated: always a violation */
    rt_packet_end(0);
    rt_stats(&st);
    assert_int_equal(st.plan_violations, 3);
    assert_int_equal(st.unlocked_shared_reads, 0);
    rt_set_core(0);
    (void)nf_map_get(flows, key, &v);           /* shared read outside a packet */
    rt_stats(&st);
    assert_int_equal(st.unlocked_shared_reads, 1);
}

/* With abort on (the default without NDEBUG) a violation kills the process:
 * run it in a child and expect SIGABRT. */
static void test_violation_aborts(void **state)
{
    (void)state;
    struct util_error err;
    enum rt_mode modes[5] = {RT_SHARED, RT_SHARDED, RT_SHARDED, RT_SHARDED, RT_REPLICATED};
    assert_int_equal(rt_instantiate(2, modes, &err), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        rt_set_abort_on_violation(true);
        rt_packet_begin(1, false);
        uint8_t key[13] = {0};
        nf_map_put(flows, key, 1);          /* read token only: must abort */
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

/* ---- two threads ---- */

enum { ROUNDS = 20000 };

struct worker {
    int core;
    bool writer;
    uint64_t torn;      /* reader: times a record's two halves disagreed */
};

/* Writers bump a shared counter, a shared map entry per (core, i % 40), and
 * keep record 0 of a shared vector with two equal halves. Readers check the
 * halves under their read token. */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    rt_set_core(w->core);
    for (uint32_t i = 0; i < ROUNDS; i++) {
        rt_packet_begin(w->core, w->writer);
        if (w->writer) {
            nf_counter_add(packets, 1);
            uint8_t key[13] = {0};
            key[0] = (uint8_t)w->core;
            key[1] = (uint8_t)(i % 40);
            int32_t v = 0;
            (void)nf_map_get(flows, key, &v);
            (void)nf_map_put(flows, key, v + 1);
            uint64_t *rec = nf_vector_write(keys, 0);
            rec[0]++;
            for (volatile int spin = 0; spin < 10; spin++)
                ;
            rec[1]++;
        } else {
            const uint64_t *rec = nf_vector_read(keys, 0);
            uint64_t a = rec[0];
            for (volatile int spin = 0; spin < 10; spin++)
                ;
            if (a != rec[1])
                w->torn++;
        }
        rt_packet_end(w->core);
    }
    return NULL;
}

static void run_threads(struct worker *w, int n)
{
    pthread_t t[4];
    for (int i = 0; i < n; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
}

static void test_shared_two_writers(void **state)
{
    (void)state;
    struct util_error err;
    rt_set_abort_on_violation(true);            /* any violation fails the test */
    enum rt_mode modes[5] = {RT_SHARED, RT_SHARDED, RT_SHARED, RT_SHARED, RT_REPLICATED};
    assert_int_equal(rt_instantiate(2, modes, &err), 0);
    struct worker w[2] = {{0, true, 0}, {1, true, 0}};
    run_threads(w, 2);
    rt_set_core(0);
    rt_packet_begin(0, false);
    assert_int_equal(nf_counter_read(packets), 2 * ROUNDS);
    for (int c = 0; c < 2; c++) {
        for (int i = 0; i < 40; i++) {
            uint8_t key[13] = {0};
            key[0] = (uint8_t)c;
            key[1] = (uint8_t)i;
            int32_t v = -5;
            bool found = nf_map_get(flows, key, &v);
            if (!found)
                print_message("missing c=%d i=%d\n", c, i);
            assert_true(found);
            assert_int_equal(v, ROUNDS / 40 + (i < ROUNDS % 40));
        }
    }
    const uint64_t *rec = nf_vector_read(keys, 0);
    assert_int_equal(rec[0], 2 * ROUNDS);
    assert_int_equal(rec[1], 2 * ROUNDS);
    rt_packet_end(0);
    struct rt_stats st;
    rt_stats(&st);
    assert_int_equal(st.plan_violations, 0);
    assert_int_equal(st.packets, 2 * ROUNDS + 1);
}

static void test_shared_reader_never_sees_half_write(void **state)
{
    (void)state;
    struct util_error err;
    rt_set_abort_on_violation(true);
    enum rt_mode modes[5] = {RT_SHARED, RT_SHARDED, RT_SHARED, RT_SHARED, RT_REPLICATED};
    assert_int_equal(rt_instantiate(2, modes, &err), 0);
    struct worker w[2] = {{0, true, 0}, {1, false, 0}};
    run_threads(w, 2);
    assert_int_equal(w[1].torn, 0);
    rt_set_core(0);
    rt_packet_begin(0, false);
    assert_int_equal(nf_counter_read(packets), ROUNDS);
    rt_packet_end(0);
}

static void test_reset_and_init_again(void **state)
{
    (void)state;
    assert_int_equal(rt_objects(), 5);
    rt_reset();
    assert_int_equal(rt_objects(), 0);
    assert_int_equal(nf_init(), 0);
    assert_int_equal(rt_objects(), 5);
    assert_int_equal(nf_init(), -1);    /* duplicate names without a reset */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sharded_independent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expire_on_shard_uses_core_instances, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_shard_keeps_init_allocations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_instantiate_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_violations_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_violation_aborts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_two_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_reader_never_sees_half_write, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reset_and_init_again, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
