/*
 * test_rt_map.c - nf_map: full table, erase and re-insert, collision-heavy
 * small tables, and randomised operations against a simple reference model
 * for many key sizes (seeded, so failures reproduce).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

static void key_of(uint8_t *key, uint32_t key_size, uint32_t n)
{
    memset(key, 0, key_size);
    for (uint32_t i = 0; i < key_size && i < 4; i++)
        key[key_size - 1 - i] = (uint8_t)(n >> (8 * i));
}

static void test_full_table(void **state)
{
    (void)state;
    struct nf_map *m = nf_map_create("full", 13, 100);
    assert_non_null(m);
    uint8_t key[13];
    for (uint32_t i = 0; i < 100; i++) {
        key_of(key, 13, i);
        assert_true(nf_map_put(m, key, (int32_t)i));
    }
    key_of(key, 13, 100);
    assert_false(nf_map_put(m, key, 100));          /* at capacity */
    key_of(key, 13, 7);
    assert_true(nf_map_put(m, key, -7));            /* overwrite still works */
    int32_t v;
    assert_true(nf_map_get(m, key, &v));
    assert_int_equal(v, -7);
    assert_true(nf_map_erase(m, key));
    key_of(key, 13, 100);
    assert_true(nf_map_put(m, key, 100));           /* room again */
    assert_true(nf_map_get(m, key, &v));
    assert_int_equal(v, 100);
    key_of(key, 13, 101);
    assert_false(nf_map_put(m, key, 101));
}

static void test_erase_reinsert(void **state)
{
    (void)state;
    struct nf_map *m = nf_map_create("er", 5, 16);
    uint8_t key[5];
    int32_t v;
    for (int round = 0; round < 50; round++) {
        for (uint32_t i = 0; i < 16; i++) {
            key_of(key, 5, i * 7919 + (uint32_t)round);
            assert_true(nf_map_put(m, key, (int32_t)(i + round)));
        }
        for (uint32_t i = 0; i < 16; i++) {
            key_of(key, 5, i * 7919 + (uint32_t)round);
            assert_true(nf_map_get(m, key, &v));
            assert_int_equal(v, (int32_t)(i + round));
            assert_true(nf_map_erase(m, key));
            assert_false(nf_map_erase(m, key));
            assert_false(nf_map_get(m, key, &v));
        }
    }
}

/* Key size 1: 256 possible keys in a table that is full: every probe chain
 * is long and erase shifts runs across many home slots. */
static void test_collisions_tiny_keys(void **state)
{
    (void)state;
    struct nf_map *m = nf_map_create("tiny", 1, 256);
    uint8_t key;
    int32_t v;
    for (int i = 0; i < 256; i++) {
        key = (uint8_t)i;
        assert_true(nf_map_put(m, &key, i));
    }
    for (int i = 0; i < 256; i += 3) {
        key = (uint8_t)i;
        assert_true(nf_map_erase(m, &key));
    }
    for (int i = 0; i < 256; i++) {
        key = (uint8_t)i;
        bool present = nf_map_get(m, &key, &v);
        assert_int_equal(present, i % 3 != 0);
        if (present)
            assert_int_equal(v, i);
    }
}

/* Randomised operations vs a direct-indexed reference over a small universe. */
static void model_run(uint32_t key_size, uint32_t capacity, uint32_t universe, uint32_t ops,
                      uint32_t seed)
{
    struct nf_map *m = nf_map_create("model", key_size, capacity);
    assert_non_null(m);
    int32_t *ref = malloc(universe * sizeof *ref);
    bool *has = calloc(universe, 1);
    uint8_t *key = malloc(key_size);
    uint32_t count = 0;
    srand(seed);
    for (uint32_t op = 0; op < ops; op++) {
        uint32_t k = (uint32_t)rand() % universe;
        /* spread the key bytes so every byte position matters */
        memset(key, 0, key_size);
        for (uint32_t i = 0; i < key_size; i++)
            key[i] = (uint8_t)((k * 2654435761u) >> ((i % 4) * 8)) ^ (uint8_t)(i * 17);
        key_of(key, key_size < 4 ? key_size : 4, k);
        int32_t v = rand();
        int32_t got;
        switch (rand() % 3) {
        case 0: {
            bool ok = nf_map_put(m, key, v);
            bool expect = has[k] || count < capacity;
            assert_int_equal(ok, expect);
            if (ok) {
                count += !has[k];
                has[k] = true;
                ref[k] = v;
            }
            break;
        }
        case 1:
            assert_int_equal(nf_map_erase(m, key), has[k]);
            count -= has[k];
            has[k] = false;
            break;
        default:
            assert_int_equal(nf_map_get(m, key, &got), has[k]);
            if (has[k])
                assert_int_equal(got, ref[k]);
        }
    }
    free(ref);
    free(has);
    free(key);
    rt_reset();
}

static void test_model_many_sizes(void **state)
{
    (void)state;
    /* universe sizes fit the key size so keys stay distinct */
    const uint32_t sizes[] = {2, 3, 4, 5, 7, 8, 12, 13, 16, 17, 24, 33};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        model_run(sizes[i], 500, 1000, 40000, 1000u + (uint32_t)i);
        model_run(sizes[i], 1000, 1000, 20000, 2000u + (uint32_t)i);   /* can fill up */
    }
}

static void test_many_keys(void **state)
{
    (void)state;
    const uint32_t n = 200000;
    struct nf_map *m = nf_map_create("many", 13, n);
    uint8_t key[13];
    int32_t v;
    for (uint32_t i = 0; i < n; i++) {
        key_of(key, 13, i * 2654435761u);
        assert_true(nf_map_put(m, key, (int32_t)i));
    }
    for (uint32_t i = 0; i < n; i++) {
        key_of(key, 13, i * 2654435761u);
        assert_true(nf_map_get(m, key, &v));
        assert_int_equal(v, (int32_t)i);
    }
    for (uint32_t i = 0; i < n; i += 2) {
        key_of(key, 13, i * 2654435761u);
        assert_true(nf_map_erase(m, key));
    }
    for (uint32_t i = 0; i < n; i++) {
        key_of(key, 13, i * 2654435761u);
        assert_int_equal(nf_map_get(m, key, &v), i % 2 == 1);
    }
}

static void test_bulk_matches_single(void **state)
{
    (void)state;
    struct nf_map *m = nf_map_create("bulk", 13, 5000);
    uint8_t keys[100][13];
    const void *ptrs[RT_MAP_BULK_MAX];
    for (uint32_t i = 0; i < 100; i++) {
        key_of(keys[i], 13, i * 31 + 7);
        if (i % 3 != 0)
            assert_true(nf_map_put(m, keys[i], (int32_t)i * 10));
    }
    for (uint32_t start = 0; start + RT_MAP_BULK_MAX <= 100; start += 36) {
        int32_t values[RT_MAP_BULK_MAX];
        for (uint32_t j = 0; j < RT_MAP_BULK_MAX; j++)
            ptrs[j] = keys[start + j];
        uint64_t found = rt_map_get_bulk(m, ptrs, RT_MAP_BULK_MAX, values);
        for (uint32_t j = 0; j < RT_MAP_BULK_MAX; j++) {
            int32_t v;
            bool one = nf_map_get(m, keys[start + j], &v);
            assert_int_equal((found >> j) & 1, one);
            if (one)
                assert_int_equal(values[j], v);
        }
    }
}

static void test_bad_sizes(void **state)
{
    (void)state;
    assert_null(nf_map_create("k0", 0, 10));
    assert_null(nf_map_create("c0", 4, 0));
    assert_non_null(nf_map_create("ok", 4, 1));
    assert_null(nf_map_create("ok", 4, 1));     /* duplicate name */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_full_table, teardown),
        cmocka_unit_test_teardown(test_erase_reinsert, teardown),
        cmocka_unit_test_teardown(test_collisions_tiny_keys, teardown),
        cmocka_unit_test_teardown(test_model_many_sizes, teardown),
        cmocka_unit_test_teardown(test_many_keys, teardown),
        cmocka_unit_test_teardown(test_bulk_matches_single, teardown),
        cmocka_unit_test_teardown(test_bad_sizes, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
