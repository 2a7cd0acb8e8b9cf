/*
 * test_rss_toeplitz.c - rsskey's Toeplitz paths against DPDK 22.11's
 * rte_softrss (the oracle) on the datasheet golden vectors and on 1M random
 * inputs per layout (8, 12, 32, 36 bytes) and key length (40, 52), and the
 * per-packet layout rss_hash_tuple picks from rss_hf.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <rte_ethdev.h>
#include <rte_thash.h>

#include "rss/rss.h"

static const uint8_t ms_key[40] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

struct golden {
    uint8_t src[4], dst[4];
    uint16_t sport, dport;
    uint32_t l3, l4;
};

static const struct golden goldens[] = {
    {{66, 9, 149, 187}, {161, 142, 100, 80}, 2794, 1766, 0x323e8fc2, 0x51ccc178},
    {{199, 92, 111, 2}, {65, 69, 140, 83}, 14230, 4739, 0xd718262a, 0xc626b0ea},
    {{24, 19, 198, 95}, {12, 22, 207, 184}, 12898, 38024, 0xd2d0a5de, 0x5c2b394a},
    {{38, 27, 205, 30}, {209, 142, 163, 6}, 48228, 2217, 0x82989176, 0xafc7327f},
    {{153, 39, 163, 191}, {202, 188, 127, 2}, 44251, 1303, 0x5d1809c5, 0x10e828a2},
};

static uint64_t rng_state = 42;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint32_t dpdk_hash(const uint8_t *input, size_t len, const uint8_t *key)
{
    uint32_t words[RSS_INPUT_MAX / 4];
    for (size_t i = 0; i < len / 4; i++) {
        uint32_t be;
        memcpy(&be, input + 4 * i, 4);
        words[i] = ntohl(be);
    }
    return rte_softrss(words, (uint32_t)(len / 4), key);
}

static void golden_input(const struct golden *g, uint8_t *in)
{
    memcpy(in, g->src, 4);
    memcpy(in + 4, g->dst, 4);
    in[8] = (uint8_t)(g->sport >> 8);
    in[9] = (uint8_t)g->sport;
    in[10] = (uint8_t)(g->dport >> 8);
    in[11] = (uint8_t)g->dport;
}

static void test_golden_vectors(void **state)
{
    (void)state;
    struct rss_toeplitz t;
    rss_toeplitz_init(&t, ms_key, 40);
    for (size_t i = 0; i < sizeof goldens / sizeof goldens[0]; i++) {
        uint8_t in[12];
        golden_input(&goldens[i], in);
        assert_int_equal(rss_toeplitz_reference(ms_key, 40, in, 8), goldens[i].l3);
        assert_int_equal(rss_toeplitz_reference(ms_key, 40, in, 12), goldens[i].l4);
        assert_int_equal(rss_toeplitz_hash(&t, in, 8), goldens[i].l3);
        assert_int_equal(rss_toeplitz_hash(&t, in, 12), goldens[i].l4);
        assert_int_equal(dpdk_hash(in, 12, ms_key), goldens[i].l4);
        uint32_t out[2];
        rss_toeplitz_bulk_tables(&t, in, 12, 1, out);
        assert_int_equal(out[0], goldens[i].l4);
        if (t.gfni) {
            rss_toeplitz_bulk_gfni(&t, in, 12, 1, out);
            assert_int_equal(out[0], goldens[i].l4);
        }
        /* rss_hash_tuple on the same packet, L4 and L3-only. */
        struct trace_tuple tup = {.ip_version = 4, .proto = 6, .has_ports = true};
        memcpy(tup.src, goldens[i].src, 4);
        memcpy(tup.dst, goldens[i].dst, 4);
        tup.sport = htons(goldens[i].sport);
        tup.dport = htons(goldens[i].dport);
        struct rss_port_config cfg = {.key_len = 40, .reta_size = 128,
                                      .rss_hf = RSS_HF_IPV4 | RSS_HF_NONFRAG_IPV4_TCP};
        memcpy(cfg.key, ms_key, 40);
        assert_int_equal(rss_hash_tuple(&cfg, &tup), goldens[i].l4);
        cfg.rss_hf = RSS_HF_IPV4;
        assert_int_equal(rss_hash_tuple(&cfg, &tup), goldens[i].l3);
        cfg.rss_hf = RSS_HF_NONFRAG_IPV4_UDP;      /* TCP not enabled, no L3 type: 0 */
        assert_int_equal(rss_hash_tuple(&cfg, &tup), 0);
    }
}

/* 1M random inputs of one length under one key: every path == rte_softrss. */
static void compare_random(size_t len, size_t key_len, size_t n)
{
    uint8_t key[52];
    for (size_t i = 0; i < key_len; i++)
        key[i] = (uint8_t)rnd();
    struct rss_toeplitz t;
    rss_toeplitz_init(&t, key, key_len);
    enum { BATCH = 1024 };
    static uint8_t inputs[BATCH * RSS_INPUT_MAX];
    uint32_t bulk[BATCH], gfni[BATCH];
    for (size_t done = 0; done < n; done += BATCH) {
        for (size_t i = 0; i < BATCH * len; i++)
            inputs[i] = (uint8_t)rnd();
        rss_toeplitz_bulk_tables(&t, inputs, len, BATCH, bulk);
        if (t.gfni)
            rss_toeplitz_bulk_gfni(&t, inputs, len, BATCH, gfni);
        for (size_t i = 0; i < BATCH; i++) {
            const uint8_t *in = inputs + i * len;
            uint32_t want = dpdk_hash(in, len, key);
            assert_int_equal(rss_toeplitz_hash(&t, in, len), want);
            assert_int_equal(bulk[i], want);
            if (t.gfni)
                assert_int_equal(gfni[i], want);
            if (i < 8)   /* the slow reference on a sample of every batch */
                assert_int_equal(rss_toeplitz_reference(key, key_len, in, len), want);
        }
    }
}

static void test_random_all_layouts(void **state)
{
    (void)state;
    static const size_t lens[] = {8, 12, 32, 36};
    static const size_t keys[] = {40, 52};
    for (size_t k = 0; k < 2; k++)
        for (size_t l = 0; l < 4; l++)
            compare_random(lens[l], keys[k], 1u << 20);
}

static void test_bulk_odd_counts(void **state)
{
    (void)state;
    uint8_t key[40], in[7 * 36];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)rnd();
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)rnd();
    struct rss_toeplitz t;
    rss_toeplitz_init(&t, key, 40);
    for (size_t n = 0; n <= 7; n++) {
        uint32_t out[8] = {0}, out2[8] = {0};
        rss_toeplitz_bulk(&t, in, 36, n, out);
        rss_toeplitz_bulk_tables(&t, in, 36, n, out2);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(out[i], dpdk_hash(in + 36 * i, 36, key));
            assert_int_equal(out2[i], out[i]);
        }
    }
}

/* rss_hash_tuple: the layout per packet kind and selector, against rte_softrss
 * on the bytes a NIC would hash. */
static void test_tuple_layouts(void **state)
{
    (void)state;
    struct rss_port_config cfg = {.key_len = 52, .reta_size = 512};
    for (int i = 0; i < 52; i++)
        cfg.key[i] = (uint8_t)rnd();
    for (int r = 0; r < 2000; r++) {
        struct trace_tuple t = {0};
        uint64_t x = rnd();
        t.ip_version = (x & 1) ? 6 : 4;
        int alen = t.ip_version == 4 ? 4 : 16;
        for (int i = 0; i < alen; i++) {
            t.src[i] = (uint8_t)rnd();
            t.dst[i] = (uint8_t)rnd();
        }
        t.sport = (uint16_t)rnd();
        t.dport = (uint16_t)rnd();
        t.proto = (x & 2) ? 6 : 17;
        t.has_ports = true;
        t.is_fragment = (x & 12) == 12;
        uint64_t v4l4 = RSS_HF_NONFRAG_IPV4_TCP | RSS_HF_NONFRAG_IPV4_UDP;
        uint64_t v6l4 = RSS_HF_NONFRAG_IPV6_TCP | RSS_HF_NONFRAG_IPV6_UDP;
        uint8_t in[36];
        size_t n = 0;
        /* Full L4 hashing. */
        cfg.rss_hf = RSS_HF_IPV4 | RSS_HF_IPV6 | v4l4 | v6l4;
        memcpy(in, t.src, (size_t)alen);
        memcpy(in + alen, t.dst, (size_t)alen);
        n = 2 * (size_t)alen;
        if (!t.is_fragment) {
            memcpy(in + n, &t.sport, 2);
            memcpy(in + n + 2, &t.dport, 2);
            n += 4;
        }
        assert_int_equal(rss_hash_tuple(&cfg, &t), dpdk_hash(in, n, cfg.key));
        /* L3 only: ports ignored for everyone. */
        cfg.rss_hf = RSS_HF_IPV4 | RSS_HF_IPV6;
        assert_int_equal(rss_hash_tuple(&cfg, &t), dpdk_hash(in, 2 * (size_t)alen, cfg.key));
        /* Source address only (and source port for L4 packets). */
        cfg.rss_hf = RSS_HF_IPV4 | RSS_HF_IPV6 | v4l4 | v6l4 | RSS_HF_L3_SRC_ONLY |
                     RSS_HF_L4_SRC_ONLY;
        uint8_t sel[20];
        memcpy(sel, t.src, (size_t)alen);
        size_t sn = (size_t)alen;
        if (!t.is_fragment) {
            memcpy(sel + sn, &t.sport, 2);
            sel[sn + 2] = sel[sn + 3] = 0;   /* padding to whole words: zero bytes add nothing */
            sn += 4;
        }
        assert_int_equal(rss_hash_tuple(&cfg, &t), dpdk_hash(sel, sn, cfg.key));
        /* Disabled version: hash 0. */
        cfg.rss_hf = t.ip_version == 4 ? RSS_HF_IPV6 | v6l4 : RSS_HF_IPV4 | v4l4;
        assert_int_equal(rss_hash_tuple(&cfg, &t), 0);
        /* Fast hasher agrees with the slow one. */
        cfg.rss_hf = RSS_HF_IPV4 | RSS_HF_IPV6 | v4l4 | v6l4 | RSS_HF_L3_DST_ONLY;
        struct rss_port_hasher h;
        rss_port_hasher_init(&h, &cfg);
        assert_int_equal(rss_port_hasher_hash(&h, &t), rss_hash_tuple(&cfg, &t));
    }
    struct trace_tuple non_ip = {0};
    cfg.rss_hf = ~0ULL;
    assert_int_equal(rss_hash_tuple(&cfg, &non_ip), 0);
    cfg.reta[0] = 3;
    assert_int_equal(rss_core_of(&cfg, &non_ip), 3);
}

static void test_hf_names(void **state)
{
    (void)state;
    const char *names[8];
    int n = rss_hf_names(RSS_HF_IPV4 | RSS_HF_L3_SRC_ONLY, names, 8);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "RTE_ETH_RSS_IPV4");
    assert_string_equal(names[1], "RTE_ETH_RSS_L3_SRC_ONLY");
    assert_true(rss_hf_from_name("RTE_ETH_RSS_NONFRAG_IPV6_UDP") == RTE_ETH_RSS_NONFRAG_IPV6_UDP);
    assert_true(RSS_HF_L4_DST_ONLY == RTE_ETH_RSS_L4_DST_ONLY);
    assert_true(RSS_HF_NONFRAG_IPV4_OTHER == RTE_ETH_RSS_NONFRAG_IPV4_OTHER);
    assert_true(rss_hf_from_name("nonsense") == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_vectors),
        cmocka_unit_test(test_hf_names),
        cmocka_unit_test(test_bulk_odd_counts),
        cmocka_unit_test(test_tuple_layouts),
        cmocka_unit_test(test_random_all_layouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
