/*
 * test_rt_objects.c - nf_vector, nf_alloc (double chain with expiry),
 * nf_sketch (count-min error bounds), nf_chash (Maglev balance and minimal
 * disruption), nf_counter, nf_config and the object registry.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/runtime.h"

static int teardown(void **state)
{
    (void)state;
    rt_reset();
    return 0;
}

/* ---- vector ---- */

static void test_vector(void **state)
{
    (void)state;
    struct nf_vector *v = nf_vector_create("vec", 24, 1000);
    assert_non_null(v);
    const uint8_t zero[24] = {0};
    for (uint32_t i = 0; i < 1000; i++)
        assert_memory_equal(nf_vector_read(v, i), zero, 24);
    for (uint32_t i = 0; i < 1000; i++)
        memset(nf_vector_write(v, i), (int)(i & 0xff), 24);
    for (uint32_t i = 0; i < 1000; i++) {
        const uint8_t *r = nf_vector_read(v, i);
        assert_int_equal(r[0], i & 0xff);
        assert_int_equal(r[23], i & 0xff);
    }
    assert_null(nf_vector_read(v, 1000));
    assert_null(nf_vector_write(v, 5000));
    assert_null(nf_vector_create("bad", 0, 10));
    assert_null(nf_vector_create("bad", 10, 0));
}

/* ---- allocator ---- */

static void test_alloc_exhaust_free(void **state)
{
    (void)state;
    struct nf_alloc *a = nf_alloc_create("al", 5);
    uint32_t idx, seen = 0;
    for (int i = 0; i < 5; i++) {
        assert_true(nf_alloc_new(a, 100, &idx));
        assert_true(idx < 5);
        assert_false(seen & (1u << idx));
        seen |= 1u << idx;
        assert_true(nf_alloc_is_allocated(a, idx));
    }
    assert_false(nf_alloc_new(a, 100, &idx));      /* exhausted */
    assert_true(nf_alloc_free(a, 3));
    assert_false(nf_alloc_free(a, 3));              /* already free */
    assert_false(nf_alloc_is_allocated(a, 3));
    assert_false(nf_alloc_is_allocated(a, 99));     /* out of range */
    assert_false(nf_alloc_refresh(a, 3, 200));      /* not allocated */
    assert_true(nf_alloc_new(a, 100, &idx));
    assert_int_equal(idx, 3);
    assert_false(nf_alloc_new(a, 100, &idx));
}

static void test_alloc_expiry_boundary(void **state)
{
    (void)state;
    struct nf_alloc *a = nf_alloc_create("exp", 10);
    uint32_t i0, i1, i2, i3;
    assert_true(nf_alloc_new(a, 10, &i0));
    assert_true(nf_alloc_new(a, 20, &i1));
    assert_true(nf_alloc_new(a, 30, &i2));
    assert_true(nf_alloc_new(a, 40, &i3));
    assert_true(nf_alloc_refresh(a, i0, 35));       /* i0 now newer than i2 */
    /* limit 20: only stamps < 20 go; i1 (stamp 20 == limit) stays */
    assert_int_equal(nf_alloc_expire(a, 20, NULL, NULL), 0);
    assert_int_equal(nf_alloc_expire(a, 21, NULL, NULL), 1);
    assert_false(nf_alloc_is_allocated(a, i1));
    assert_true(nf_alloc_is_allocated(a, i0));
    /* limit 35: i2 (30) goes, i0 (35, refreshed) stays at the boundary */
    assert_int_equal(nf_alloc_expire(a, 35, NULL, NULL), 1);
    assert_false(nf_alloc_is_allocated(a, i2));
    assert_true(nf_alloc_is_allocated(a, i0));
    assert_true(nf_alloc_is_allocated(a, i3));
    assert_int_equal(nf_alloc_expire(a, 41, NULL, NULL), 2);
    assert_int_equal(nf_alloc_expire(a, 1000, NULL, NULL), 0);
}

static void test_alloc_expire_erases_map_keys(void **state)
{
    (void)state;
    struct nf_map *flows = nf_map_create("flows", 13, 100);
    struct nf_vector *keys = nf_vector_create("flow_keys", 16, 100);   /* key + padding */
    struct nf_alloc *a = nf_alloc_create("flow_alloc", 100);
    for (uint32_t n = 0; n < 50; n++) {
        uint8_t key[13] = {0};
        key[0] = (uint8_t)n;
        key[12] = 0xab;
        uint32_t idx;
        assert_true(nf_alloc_new(a, n, &idx));
        assert_true(nf_map_put(flows, key, (int32_t)idx));
        memcpy(nf_vector_write(keys, idx), key, 13);
    }
    /* stamps 0..49; expire < 20 frees 20 and erases their keys */
    assert_int_equal(nf_alloc_expire(a, 20, flows, keys), 20);
    for (uint32_t n = 0; n < 50; n++) {
        uint8_t key[13] = {0};
        key[0] = (uint8_t)n;
        key[12] = 0xab;
        int32_t v;
        assert_int_equal(nf_map_get(flows, key, &v), n >= 20);
    }
}

static void test_alloc_model(void **state)
{
    (void)state;
    /* random ops vs a stamp array; expiry checked against "strictly before" */
    enum { N = 64 };
    struct nf_alloc *a = nf_alloc_create("model", N);
    uint64_t stamp[N];
    bool used[N] = {false};
    uint64_t now = 0;
    srand(7);
    for (int op = 0; op < 20000; op++) {
        now += (uint64_t)(rand() % 3);
        int what = rand() % 4;
        uint32_t i = (uint32_t)rand() % N;
        if (what == 0) {
            uint32_t idx;
            bool any_free = false;
            for (int j = 0; j < N; j++)
                any_free |= !used[j];
            assert_int_equal(nf_alloc_new(a, now, &idx), any_free);
            if (any_free) {
                assert_false(used[idx]);
                used[idx] = true;
                stamp[idx] = now;
            }
        } else if (what == 1) {
            assert_int_equal(nf_alloc_refresh(a, i, now), used[i]);
            if (used[i])
                stamp[i] = now;
        } else if (what == 2) {
            assert_int_equal(nf_alloc_free(a, i), used[i]);
            used[i] = false;
        } else {
            uint64_t limit = now > 20 ? now - 20 : 0;
            uint32_t expect = 0;
            for (int j = 0; j < N; j++) {
                if (used[j] && stamp[j] < limit) {
                    used[j] = false;
                    expect++;
                }
            }
            assert_int_equal(nf_alloc_expire(a, limit, NULL, NULL), expect);
        }
        for (uint32_t j = 0; j < N; j++)
            assert_int_equal(nf_alloc_is_allocated(a, j), used[j]);
    }
}

/* ---- sketch ---- */

static void test_sketch_bounds(void **state)
{
    (void)state;
    const uint32_t width = 272, depth = 4, keys = 5000;
    struct nf_sketch *s = nf_sketch_create("cms", 8, width, depth);
    assert_non_null(s);
    uint32_t *truth = calloc(keys, sizeof *truth);
    uint64_t total = 0;
    srand(11);
    for (uint32_t k = 0; k < keys; k++) {
        /* skewed counts: a few heavy keys, many light ones */
        truth[k] = k < 20 ? 200 + (uint32_t)(rand() % 300) : 1 + (uint32_t)(rand() % 4);
        uint64_t key = (uint64_t)k * 0x9e3779b97f4a7c15ULL;
        for (uint32_t c = truth[k]; c > 0; c -= c > 3 ? 3 : c)
            nf_sketch_add(s, &key, c > 3 ? 3 : c);
        total += truth[k];
    }
    double bound = exp(1.0) * (double)total / width;
    uint32_t within = 0;
    for (uint32_t k = 0; k < keys; k++) {
        uint64_t key = (uint64_t)k * 0x9e3779b97f4a7c15ULL;
        uint32_t est = nf_sketch_estimate(s, &key);
        assert_true(est >= truth[k]);
        within += (double)(est - truth[k]) <= bound;
    }
    double fraction = (double)within / keys;
    print_message("sketch: N=%llu w=%u d=%u bound=%.1f within=%.4f (need >= %.4f)\n",
                  (unsigned long long)total, width, depth, bound, fraction, 1 - exp(-(double)depth));
    assert_true(fraction >= 1 - exp(-(double)depth));
    nf_sketch_reset(s);
    uint64_t key = 0;
    assert_int_equal(nf_sketch_estimate(s, &key), 0);
    free(truth);
    assert_null(nf_sketch_create("bad", 8, 0, 4));
    assert_null(nf_sketch_create("bad", 8, 10, 0));
}

/* ---- time-stamped sketch ---- */

static void test_tsketch_boundaries(void **state)
{
    (void)state;
    uint64_t a = 1, b = 2;
    /* One row of 1024: distinct keys almost surely take distinct buckets;
     * the test only relies on a and b not sharing one (checked). */
    struct nf_tsketch *s = nf_tsketch_create("ts", 8, 1024, 1, 2);
    assert_non_null(s);
    assert_int_equal(nf_tsketch_estimate(s, &a), 0);
    assert_true(nf_tsketch_add(s, &a, 3, 100));
    assert_true(nf_tsketch_add(s, &b, 5, 150));
    assert_int_equal(nf_tsketch_estimate(s, &a), 3);
    assert_int_equal(nf_tsketch_estimate(s, &b), 5);
    /* capacity 2: a third key needs a third bucket and fails, changing nothing */
    uint64_t c = 3;
    for (uint64_t k = 3; k < 64; k++) {
        c = k;
        if (nf_tsketch_estimate(s, &c) == 0)
            break;
    }
    assert_false(nf_tsketch_add(s, &c, 1, 160));
    assert_int_equal(nf_tsketch_estimate(s, &c), 0);
    assert_int_equal(rt_object_full_events(0), 1);
    /* a live bucket still takes adds when full */
    assert_true(nf_tsketch_add(s, &a, 1, 170));
    assert_int_equal(nf_tsketch_estimate(s, &a), 4);
    /* expire is strict: stamped at 170, kept by older_than 170, freed by 171 */
    assert_int_equal(nf_tsketch_expire(s, 150), 0);           /* b stamped 150: kept */
    assert_int_equal(nf_tsketch_expire(s, 151), 1);           /* b freed */
    assert_int_equal(nf_tsketch_estimate(s, &b), 0);
    /* touching rejuvenates a live bucket, never a free one, never backwards */
    nf_tsketch_touch(s, &a, 300);
    nf_tsketch_touch(s, &a, 200);
    nf_tsketch_touch(s, &b, 400);
    assert_int_equal(nf_tsketch_expire(s, 300), 0);           /* a stamped 300 */
    assert_int_equal(nf_tsketch_estimate(s, &b), 0);          /* b was not revived */
    assert_int_equal(nf_tsketch_expire(s, 301), 1);
    assert_int_equal(nf_tsketch_estimate(s, &a), 0);
    /* freed buckets are capacity again; a re-added key counts from 0 */
    assert_true(nf_tsketch_add(s, &c, 1, 500));
    assert_true(nf_tsketch_add(s, &a, 2, 500));
    assert_int_equal(nf_tsketch_estimate(s, &a), 2);
    /* saturation */
    assert_true(nf_tsketch_add(s, &a, UINT32_MAX, 600));
    assert_int_equal(nf_tsketch_estimate(s, &a), UINT32_MAX);
    /* bad sizes; capacity 0 or above the buckets means every bucket */
    assert_null(nf_tsketch_create("bad", 0, 16, 1, 0));
    assert_null(nf_tsketch_create("bad", 8, 0, 1, 0));
    assert_null(nf_tsketch_create("bad", 8, 16, 65, 0));
    struct nf_tsketch *all = nf_tsketch_create("all", 4, 8, 2, 0);
    assert_non_null(all);
    struct rt_object_info info;
    rt_object_info(1, &info);
    assert_int_equal(info.capacity, 16);
    assert_int_equal(info.kind, RT_SKETCH);
}

/* Sharded on 2 cores, capacity 3 becomes ceil(3 / 2) = 2 live buckets per
 * core, each core with its own counts; full capacity gives each all 3. */
static void test_tsketch_per_core(void **state)
{
    (void)state;
    for (int full = 0; full < 2; full++) {
        struct nf_tsketch *s = nf_tsketch_create("tsc", 8, 1024, 1, 3);
        assert_non_null(s);
        struct util_error err;
        struct rt_instance_options io = {full != 0};
        assert_int_equal(rt_instantiate_with(2, NULL, &io, &err), 0);
        uint64_t keys[8];
        int n = 0;
        rt_set_core(0);
        for (uint64_t k = 1; n < 8 && k < 1000; k++) {
            /* keys with buckets of their own on core 0 */
            if (nf_tsketch_estimate(s, &k) == 0 && nf_tsketch_add(s, &k, 1, 10))
                keys[n++] = k;
        }
        assert_int_equal(n, full ? 3 : 2);
        rt_set_core(1);
        assert_int_equal(nf_tsketch_estimate(s, &keys[0]), 0);   /* its own counts */
        assert_true(nf_tsketch_add(s, &keys[0], 7, 10));
        assert_int_equal(nf_tsketch_estimate(s, &keys[0]), 7);
        rt_set_core(0);
        assert_int_equal(nf_tsketch_estimate(s, &keys[0]), 1);
        rt_reset();
    }
}

/* The estimate never falls below the true count of keys added since their
 * buckets were last freed, with several rows and collisions. */
static void test_tsketch_model(void **state)
{
    (void)state;
    enum { KEYS = 400 };
    struct nf_tsketch *s = nf_tsketch_create("tsm", 4, 64, 3, 0);
    assert_non_null(s);
    uint32_t truth[KEYS] = {0};
    uint64_t last[KEYS] = {0};
    srand(5);
    uint64_t now = 1000;
    for (int step = 0; step < 20000; step++) {
        uint32_t k = (uint32_t)rand() % KEYS;
        now += (uint64_t)(rand() % 7);
        if (rand() % 3) {
            assert_true(nf_tsketch_add(s, &k, 1, now));
            truth[k]++;
            last[k] = now;
        } else {
            nf_tsketch_touch(s, &k, now);
            if (truth[k])
                last[k] = now;
        }
        if (step % 500 == 499) {
            uint64_t cut = now - 300;
            nf_tsketch_expire(s, cut);
            /* a key seen at or after the cut keeps every bucket (each was
             * stamped at least that late), so its estimate stays >= truth */
            for (int j = 0; j < KEYS; j++)
                if (last[j] < cut)
                    truth[j] = 0;      /* some of its buckets may be gone */
        }
        assert_true(nf_tsketch_estimate(s, &k) >= truth[k]);
    }
}

/* ---- chash ---- */

#define CH_KEYS 60000

static void test_chash_balance(void **state)
{
    (void)state;
    const uint32_t backends = 10;
    struct nf_chash *c = nf_chash_create("maglev", backends, 65537);
    assert_non_null(c);
    uint32_t hits[10] = {0};
    for (uint32_t k = 0; k < CH_KEYS; k++) {
        int32_t b = nf_chash_lookup(c, &k, 4, NULL);
        assert_true(b >= 0 && b < (int32_t)backends);
        hits[b]++;
    }
    for (uint32_t b = 0; b < backends; b++) {
        double share = (double)hits[b] / CH_KEYS;
        assert_true(share > 0.085 && share < 0.115);   /* 10% +- 1.5 points */
    }
    /* a non-prime table still covers every backend */
    struct nf_chash *c2 = nf_chash_create("maglev_even", 7, 1024);
    uint32_t hits2[7] = {0};
    for (uint32_t k = 0; k < 7000; k++)
        hits2[nf_chash_lookup(c2, &k, 4, NULL)]++;
    for (int b = 0; b < 7; b++)
        assert_true(hits2[b] > 700 && hits2[b] < 1300);
    assert_null(nf_chash_create("bad", 10, 5));
}

static void test_chash_kill_backend(void **state)
{
    (void)state;
    struct nf_chash *c = nf_chash_create("lb_table", 8, 4099);
    struct nf_alloc *alive = nf_alloc_create("backends", 8);
    uint32_t idx;
    for (int i = 0; i < 8; i++)
        assert_true(nf_alloc_new(alive, 0, &idx));
    int32_t *before = malloc(CH_KEYS * sizeof *before);
    for (uint32_t k = 0; k < CH_KEYS; k++) {
        before[k] = nf_chash_lookup(c, &k, 4, alive);
        assert_int_equal(before[k], nf_chash_lookup(c, &k, 4, NULL));
    }
    assert_true(nf_alloc_free(alive, 3));
    uint32_t moved_to[8] = {0};
    for (uint32_t k = 0; k < CH_KEYS; k++) {
        int32_t b = nf_chash_lookup(c, &k, 4, alive);
        assert_true(b >= 0 && b != 3);
        if (before[k] != 3)
            assert_int_equal(b, before[k]);     /* live backends' keys stay */
        else
            moved_to[b]++;
        assert_int_equal(b, nf_chash_lookup(c, &k, 4, alive));   /* deterministic */
    }
    /* the dead backend's keys spread over several live ones */
    int receivers = 0;
    for (int b = 0; b < 8; b++)
        receivers += moved_to[b] > 0;
    assert_true(receivers >= 5);
    for (uint32_t i = 0; i < 8; i++)
        nf_alloc_free(alive, i);
    for (uint32_t k = 0; k < 100; k++)
        assert_int_equal(nf_chash_lookup(c, &k, 4, alive), -1);
    assert_true(nf_alloc_new(alive, 0, &idx));
    for (uint32_t k = 0; k < 100; k++)
        assert_int_equal(nf_chash_lookup(c, &k, 4, alive), (int32_t)idx);
    free(before);
}

/* ---- counter, config, registry ---- */

static void test_counter(void **state)
{
    (void)state;
    struct nf_counter *c = nf_counter_create("pkts");
    assert_int_equal(nf_counter_read(c), 0);
    nf_counter_add(c, 5);
    nf_counter_add(c, 1ULL << 40);
    assert_true(nf_counter_read(c) == 5 + (1ULL << 40));
}

static void test_config(void **state)
{
    (void)state;
    struct util_error err;
    assert_int_equal(nf_config("capacity", 42), 42);
    assert_int_equal(rt_config_set("capacity", 7, &err), 0);
    assert_int_equal(nf_config("capacity", 42), 7);
    assert_int_equal(rt_config_parse("capacity=0x10", &err), 0);
    assert_int_equal(nf_config("capacity", 42), 16);
    assert_int_equal(rt_config_parse("expiry_ns=10M", &err), 0);
    assert_int_equal(nf_config("expiry_ns", 0), 10000000);
    assert_int_equal(rt_config_parse("nonsense", &err), -1);
    assert_non_null(strstr(err.msg, "name=value"));
    assert_int_equal(rt_config_parse("x=12abc", &err), -1);
    assert_int_equal(rt_config_parse("x=-1", &err), -1);
    assert_int_equal(rt_config_parse("=5", &err), -1);
    assert_int_equal(rt_config_set("", 5, &err), -1);
    assert_int_equal(nf_config("x", 3), 3);
    rt_reset();
    assert_int_equal(nf_config("capacity", 42), 42);

    const char *path = "test_rt_config.conf";
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("# flow table\n\n flow_capacity = 64k \nexpiry_ns=0x100\r\n", f);
    fclose(f);
    assert_int_equal(rt_config_load_file(path, &err), 0);
    assert_int_equal(nf_config("flow_capacity", 1), 64000);
    assert_int_equal(nf_config("expiry_ns", 1), 256);
    f = fopen(path, "w");
    fputs("a=1\nb=oops\n", f);
    fclose(f);
    assert_int_equal(rt_config_load_file(path, &err), -1);
    assert_non_null(strstr(err.msg, "test_rt_config.conf:2"));
    remove(path);
    assert_int_equal(rt_config_load_file("/nonexistent/rt.conf", &err), -1);
}

static void test_registry(void **state)
{
    (void)state;
    assert_int_equal(rt_objects(), 0);
    nf_map_create("flows", 13, 1000);
    nf_vector_create("records", 32, 500);
    nf_alloc_create("ids", 500);
    nf_sketch_create("cms", 8, 1024, 4);
    nf_chash_create("maglev", 4, 251);
    nf_counter_create("count");
    assert_int_equal(rt_objects(), 6);
    struct rt_object_info info;
    assert_true(rt_object_info(0, &info));
    assert_string_equal(info.name, "flows");
    assert_int_equal(info.kind, RT_MAP);
    assert_int_equal(info.key_size, 13);
    assert_int_equal(info.capacity, 1000);
    assert_true(info.bytes >= 1000 * 21);
    assert_true(rt_object_info(3, &info));
    assert_string_equal(rt_kind_name(info.kind), "sketch");
    assert_int_equal(info.width, 1024);
    assert_int_equal(info.depth, 4);
    assert_true(rt_object_info(4, &info));
    assert_int_equal(info.backends, 4);
    assert_int_equal(info.table_size, 251);
    assert_int_equal(rt_object_find("ids"), 2);
    assert_int_equal(rt_object_find("nope"), -1);
    assert_false(rt_object_info(6, &info));
    assert_string_equal(rt_mode_name(RT_SHARED), "shared");

    /* the JSON listing parses back with the same names and sizes */
    struct util_json *w = util_json_new();
    rt_objects_json(w);
    size_t len;
    const char *text = util_json_text(w, &len);
    struct util_error err;
    struct util_jvalue *v = util_json_parse(text, len, "registry", &err);
    assert_non_null(v);
    assert_int_equal(v->type, UTIL_JARRAY);
    assert_int_equal(v->count, 6);
    assert_string_equal(util_jobject_get(&v->items[0], "name")->string, "flows");
    assert_string_equal(util_jobject_get(&v->items[0], "kind")->string, "map");
    assert_int_equal((int)util_jobject_get(&v->items[0], "key_size")->number, 13);
    assert_int_equal((int)util_jobject_get(&v->items[3], "width")->number, 1024);
    assert_string_equal(util_jobject_get(&v->items[5], "mode")->string, "sharded");
    util_jvalue_free(v);
    util_json_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_vector, teardown),
        cmocka_unit_test_teardown(test_alloc_exhaust_free, teardown),
        cmocka_unit_test_teardown(test_alloc_expiry_boundary, teardown),
        cmocka_unit_test_teardown(test_alloc_expire_erases_map_keys, teardown),
        cmocka_unit_test_teardown(test_alloc_model, teardown),
        cmocka_unit_test_teardown(test_sketch_bounds, teardown),
        cmocka_unit_test_teardown(test_tsketch_boundaries, teardown),
        cmocka_unit_test_teardown(test_tsketch_model, teardown),
        cmocka_unit_test_teardown(test_tsketch_per_core, teardown),
        cmocka_unit_test_teardown(test_chash_balance, teardown),
        cmocka_unit_test_teardown(test_chash_kill_backend, teardown),
        cmocka_unit_test_teardown(test_counter, teardown),
        cmocka_unit_test_teardown(test_config, teardown),
        cmocka_unit_test_teardown(test_registry, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
