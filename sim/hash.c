/*
 * hash.c - the NIC's Toeplitz hash, fast: per input byte position a 256-entry
 * table of the XOR of key windows its set bits select, so a 12-byte IPv4 L4
 * input costs 12 table loads. Which fields are hashed follows the port's
 * rss_hf (DPDK's RTE_ETH_RSS_* bits, defined locally so this library needs no
 * DPDK headers; tests/sim checks the values against rte_ethdev.h), with the
 * rules of rss/hash.c: a non-fragment TCP/UDP packet with ports is hashed on
 * addresses and ports when its NONFRAG_*_TCP/UDP type is on, else on
 * addresses when IPV4/IPV6 is on; any other IP packet on addresses when
 * IPV4/IPV6 or its FRAG_/NONFRAG_*_OTHER type is on; else not at all.
 */
#include <stdlib.h>
#include <string.h>

#include "sim/sim_internal.h"

#define MAX_INPUT 36            /* IPv6 src|dst|sport|dport */

struct sim_hasher {
    uint64_t rss_hf;
    bool ipv4_l4_fast;          /* no selectors and a key long enough */
    int n_bytes;                /* input bytes the tables cover */
    uint32_t table[MAX_INPUT][256];
};

static uint32_t key_window(const uint8_t *key, int key_len, int bit)
{
    uint32_t w = 0;
    for (int j = 0; j < 32; j++) {
        int b = bit + j;
        uint32_t v = b < key_len * 8 ? (key[b / 8] >> (7 - b % 8)) & 1u : 0u;
        w = (w << 1) | v;
    }
    return w;
}

struct sim_hasher *sim_hasher_new(const struct rss_port_config *cfg)
{
    struct sim_hasher *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->rss_hf = cfg->rss_hf;
    int key_len = cfg->key_len > 0 && cfg->key_len <= RSS_KEY_MAX ? cfg->key_len : 40;
    h->n_bytes = key_len - 4 < MAX_INPUT ? key_len - 4 : MAX_INPUT;
    h->ipv4_l4_fast = h->n_bytes >= 12 &&
                      !(cfg->rss_hf & (SIM_RSS_L3_SRC_ONLY | SIM_RSS_L3_DST_ONLY |
                                       SIM_RSS_L4_SRC_ONLY | SIM_RSS_L4_DST_ONLY));
    for (int i = 0; i < h->n_bytes; i++) {
        uint32_t win[8];
        for (int j = 0; j < 8; j++)
            win[j] = key_window(cfg->key, key_len, i * 8 + j);
        for (int v = 0; v < 256; v++) {
            uint32_t x = 0;
            for (int j = 0; j < 8; j++)
                if (v & (0x80 >> j))
                    x ^= win[j];
            h->table[i][v] = x;
        }
    }
    return h;
}

void sim_hasher_free(struct sim_hasher *h)
{
    free(h);
}

/* Appends the selected halves of a src/dst pair: both unless exactly one of
 * the *_ONLY selectors is set. */
static int put_pair(uint8_t *buf, int n, const uint8_t *src, const uint8_t *dst, int len,
                    bool src_only, bool dst_only)
{
    bool want_src = !dst_only || src_only;
    bool want_dst = !src_only || dst_only;
    if (want_src) {
        memcpy(buf + n, src, len);
        n += len;
    }
    if (want_dst) {
        memcpy(buf + n, dst, len);
        n += len;
    }
    return n;
}

int sim_rss_input(uint64_t hf, const struct trace_tuple *t, uint8_t *buf)
{
    bool v4 = t->ip_version == 4, v6 = t->ip_version == 6;
    if (!v4 && !v6)
        return 0;
    uint64_t f_l3 = v4 ? SIM_RSS_IPV4 : SIM_RSS_IPV6;
    uint64_t f_frag = v4 ? SIM_RSS_FRAG_IPV4 : SIM_RSS_FRAG_IPV6;
    uint64_t f_tcp = v4 ? SIM_RSS_NONFRAG_IPV4_TCP : SIM_RSS_NONFRAG_IPV6_TCP;
    uint64_t f_udp = v4 ? SIM_RSS_NONFRAG_IPV4_UDP : SIM_RSS_NONFRAG_IPV6_UDP;
    uint64_t f_other = v4 ? SIM_RSS_NONFRAG_IPV4_OTHER : SIM_RSS_NONFRAG_IPV6_OTHER;
    bool tcp = t->proto == 6, udp = t->proto == 17;
    bool l4 = false, l3;
    if (!t->is_fragment && t->has_ports && (tcp || udp)) {
        l4 = (hf & (tcp ? f_tcp : f_udp)) != 0;
        l3 = l4 || (hf & f_l3);
    } else {
        l3 = (hf & (f_l3 | (t->is_fragment ? f_frag : f_other))) != 0;
    }
    if (!l3)
        return 0;
    int alen = v4 ? 4 : 16;
    int n = put_pair(buf, 0, t->src, t->dst, alen, hf & SIM_RSS_L3_SRC_ONLY,
                     hf & SIM_RSS_L3_DST_ONLY);
    if (l4)
        n = put_pair(buf, n, (const uint8_t *)&t->sport, (const uint8_t *)&t->dport, 2,
                     hf & SIM_RSS_L4_SRC_ONLY, hf & SIM_RSS_L4_DST_ONLY);
    return n;
}

/* The common case without building the input: IPv4 TCP/UDP on the 4-tuple,
 * no field selectors. */
static uint32_t hash_ipv4_l4(const struct sim_hasher *h, const struct trace_tuple *t)
{
    const uint8_t *sp = (const uint8_t *)&t->sport, *dp = (const uint8_t *)&t->dport;
    return h->table[0][t->src[0]] ^ h->table[1][t->src[1]] ^ h->table[2][t->src[2]] ^
           h->table[3][t->src[3]] ^ h->table[4][t->dst[0]] ^ h->table[5][t->dst[1]] ^
           h->table[6][t->dst[2]] ^ h->table[7][t->dst[3]] ^ h->table[8][sp[0]] ^
           h->table[9][sp[1]] ^ h->table[10][dp[0]] ^ h->table[11][dp[1]];
}

uint32_t sim_hasher_hash(const struct sim_hasher *h, const struct trace_tuple *t)
{
    if (h->ipv4_l4_fast && t->ip_version == 4 && t->has_ports && !t->is_fragment &&
        ((t->proto == 6 && (h->rss_hf & SIM_RSS_NONFRAG_IPV4_TCP)) ||
         (t->proto == 17 && (h->rss_hf & SIM_RSS_NONFRAG_IPV4_UDP))))
        return hash_ipv4_l4(h, t);
    uint8_t in[MAX_INPUT];
    int n = sim_rss_input(h->rss_hf, t, in);
    if (n > h->n_bytes)
        n = h->n_bytes;     /* key too short for the input: hash what it covers */
    uint32_t x = 0;
    for (int i = 0; i < n; i++)
        x ^= h->table[i][in[i]];
    return x;
}
