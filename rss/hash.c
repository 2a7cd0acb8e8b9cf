/*
 * hash.c - what a NIC hashes for a packet: the rss_hf flag names, the input
 * layout an rss_hf gives each kind of packet, and the per-packet hash and
 * core (rss_hash_tuple / rss_core_of and the faster rss_port_hasher).
 *
 * rss_hf semantics (docs/rss.md): a non-fragment TCP/UDP packet is hashed on
 * addresses and ports when its NONFRAG_*_TCP/UDP type is enabled; otherwise
 * on addresses when RTE_ETH_RSS_IPV4/IPV6 (or the FRAG_ or _OTHER type that
 * matches it) is enabled; otherwise not at all (hash 0). The L3_/L4_ *_ONLY
 * selectors drop the other address or port from the input.
 */
#include "rss/rss.h"

#include <stddef.h>
#include <string.h>

struct hf_name {
    uint64_t bit;
    const char *name;
};

static const struct hf_name hf_names[] = {
    {RSS_HF_IPV4, "RTE_ETH_RSS_IPV4"},
    {RSS_HF_FRAG_IPV4, "RTE_ETH_RSS_FRAG_IPV4"},
    {RSS_HF_NONFRAG_IPV4_TCP, "RTE_ETH_RSS_NONFRAG_IPV4_TCP"},
    {RSS_HF_NONFRAG_IPV4_UDP, "RTE_ETH_RSS_NONFRAG_IPV4_UDP"},
    {RSS_HF_NONFRAG_IPV4_OTHER, "RTE_ETH_RSS_NONFRAG_IPV4_OTHER"},
    {RSS_HF_IPV6, "RTE_ETH_RSS_IPV6"},
    {RSS_HF_FRAG_IPV6, "RTE_ETH_RSS_FRAG_IPV6"},
    {RSS_HF_NONFRAG_IPV6_TCP, "RTE_ETH_RSS_NONFRAG_IPV6_TCP"},
    {RSS_HF_NONFRAG_IPV6_UDP, "RTE_ETH_RSS_NONFRAG_IPV6_UDP"},
    {RSS_HF_NONFRAG_IPV6_OTHER, "RTE_ETH_RSS_NONFRAG_IPV6_OTHER"},
    {RSS_HF_L3_SRC_ONLY, "RTE_ETH_RSS_L3_SRC_ONLY"},
    {RSS_HF_L3_DST_ONLY, "RTE_ETH_RSS_L3_DST_ONLY"},
    {RSS_HF_L4_SRC_ONLY, "RTE_ETH_RSS_L4_SRC_ONLY"},
    {RSS_HF_L4_DST_ONLY, "RTE_ETH_RSS_L4_DST_ONLY"},
};

#define N_HF_NAMES ((int)(sizeof hf_names / sizeof hf_names[0]))

int rss_hf_names(uint64_t hf, const char **names, int max)
{
    int n = 0;
    for (int i = 0; i < N_HF_NAMES && n < max; i++)
        if (hf & hf_names[i].bit)
            names[n++] = hf_names[i].name;
    return n;
}

uint64_t rss_hf_from_name(const char *name)
{
    for (int i = 0; i < N_HF_NAMES; i++)
        if (strcmp(hf_names[i].name, name) == 0 || strcmp(hf_names[i].name + 12, name) == 0)
            return hf_names[i].bit;
    return 0;
}

/* ---- Layouts ------------------------------------------------------------------- */

static uint64_t l4_types(int version)
{
    return version == 4 ? RSS_HF_NONFRAG_IPV4_TCP | RSS_HF_NONFRAG_IPV4_UDP
                        : RSS_HF_NONFRAG_IPV6_TCP | RSS_HF_NONFRAG_IPV6_UDP;
}

static uint64_t l3_types(int version)
{
    return version == 4 ? RSS_HF_IPV4 | RSS_HF_FRAG_IPV4 | RSS_HF_NONFRAG_IPV4_OTHER
                        : RSS_HF_IPV6 | RSS_HF_FRAG_IPV6 | RSS_HF_NONFRAG_IPV6_OTHER;
}

/* A selector pair: both or neither set means both fields. */
static bool keeps_first(uint64_t hf, uint64_t first_only, uint64_t second_only)
{
    return !(hf & second_only) || (hf & first_only);
}

static void add_field(struct rss_layout *l, enum ir_field_id id, int bits)
{
    struct rss_input_field *f = &l->fields[l->n_fields++];
    f->id = id;
    f->bit_offset = l->bytes * 8;
    f->bits = bits;
    l->bytes += bits / 8;
}

bool rss_layout_of(uint64_t hf, int version, bool l4, struct rss_layout *out)
{
    memset(out, 0, sizeof *out);
    out->version = version;
    out->l4 = l4;
    if (!(hf & (l4 ? l4_types(version) : l3_types(version))))
        return false;
    int abits = version == 4 ? 32 : 128;
    if (keeps_first(hf, RSS_HF_L3_SRC_ONLY, RSS_HF_L3_DST_ONLY))
        add_field(out, version == 4 ? IR_FIELD_IPV4_SRC : IR_FIELD_IPV6_SRC, abits);
    if (keeps_first(hf, RSS_HF_L3_DST_ONLY, RSS_HF_L3_SRC_ONLY))
        add_field(out, version == 4 ? IR_FIELD_IPV4_DST : IR_FIELD_IPV6_DST, abits);
    if (l4) {
        if (keeps_first(hf, RSS_HF_L4_SRC_ONLY, RSS_HF_L4_DST_ONLY))
            add_field(out, IR_FIELD_L4_SPORT, 16);
        if (keeps_first(hf, RSS_HF_L4_DST_ONLY, RSS_HF_L4_SRC_ONLY))
            add_field(out, IR_FIELD_L4_DPORT, 16);
    }
    return true;
}

/* Which layout (if any) a packet gets: 1 = L4, 0 = L3, -1 = not hashed. */
static int packet_kind(uint64_t hf, const struct trace_tuple *t)
{
    int v = t->ip_version;
    if (v != 4 && v != 6)
        return -1;
    bool tcp = t->proto == 6, udp = t->proto == 17;
    if (!t->is_fragment && t->has_ports && (tcp || udp)) {
        uint64_t type = v == 4 ? (tcp ? RSS_HF_NONFRAG_IPV4_TCP : RSS_HF_NONFRAG_IPV4_UDP)
                               : (tcp ? RSS_HF_NONFRAG_IPV6_TCP : RSS_HF_NONFRAG_IPV6_UDP);
        if (hf & type)
            return 1;
        return (hf & (v == 4 ? RSS_HF_IPV4 : RSS_HF_IPV6)) ? 0 : -1;
    }
    uint64_t l3 = v == 4 ? RSS_HF_IPV4 : RSS_HF_IPV6;
    if (t->is_fragment)
        l3 |= v == 4 ? RSS_HF_FRAG_IPV4 : RSS_HF_FRAG_IPV6;
    else
        l3 |= v == 4 ? RSS_HF_NONFRAG_IPV4_OTHER : RSS_HF_NONFRAG_IPV6_OTHER;
    return (hf & l3) ? 0 : -1;
}

size_t rss_tuple_input(uint64_t hf, const struct trace_tuple *t, uint8_t *out)
{
    int kind = packet_kind(hf, t);
    if (kind < 0)
        return 0;
    struct rss_layout l;
    if (!rss_layout_of(hf, t->ip_version, kind == 1, &l))
        return 0;
    size_t n = 0;
    for (int i = 0; i < l.n_fields; i++) {
        const struct rss_input_field *f = &l.fields[i];
        const uint8_t *src;
        switch (f->id) {
        case IR_FIELD_IPV4_SRC: case IR_FIELD_IPV6_SRC: src = t->src; break;
        case IR_FIELD_IPV4_DST: case IR_FIELD_IPV6_DST: src = t->dst; break;
        case IR_FIELD_L4_SPORT: src = (const uint8_t *)&t->sport; break;
        default: src = (const uint8_t *)&t->dport; break;
        }
        memcpy(out + n, src, (size_t)f->bits / 8);
        n += (size_t)f->bits / 8;
    }
    return n;
}

/* ---- Per-packet hash and core ------------------------------------------------ */

uint32_t rss_hash_tuple(const struct rss_port_config *cfg, const struct trace_tuple *t)
{
    uint8_t in[RSS_INPUT_MAX];
    size_t n = rss_tuple_input(cfg->rss_hf, t, in);
    if (n == 0)
        return 0;
    /* A 64-bit window slides over the key: one shift per input bit. */
    uint32_t hash = 0;
    uint64_t window = 0;
    size_t key_len = (size_t)cfg->key_len;
    for (size_t b = 0; b < 8; b++)
        window = (window << 8) | (b < key_len ? cfg->key[b] : 0);
    size_t next = 8;
    for (size_t p = 0; p < n; p++) {
        uint8_t byte = in[p];
        for (int b = 0; b < 8; b++)
            if (byte & (0x80 >> b))
                hash ^= (uint32_t)(window >> (32 - b));
        window = (window << 8) | (next < key_len ? cfg->key[next] : 0);
        next++;
    }
    return hash;
}

int rss_core_of(const struct rss_port_config *cfg, const struct trace_tuple *t)
{
    uint32_t size = cfg->reta_size ? cfg->reta_size : 1;
    return cfg->reta[rss_hash_tuple(cfg, t) & (size - 1)];
}

void rss_port_hasher_init(struct rss_port_hasher *h, const struct rss_port_config *cfg)
{
    h->cfg = cfg;
    rss_toeplitz_init(&h->tz, cfg->key, (size_t)cfg->key_len);
    for (int v6 = 0; v6 < 2; v6++)
        for (int l4 = 0; l4 < 2; l4++) {
            struct rss_layout l;
            h->has_layout[v6][l4] = rss_layout_of(cfg->rss_hf, v6 ? 6 : 4, l4, &l);
            int n = 0;
            for (int i = 0; h->has_layout[v6][l4] && i < l.n_fields; i++) {
                size_t base;
                switch (l.fields[i].id) {
                case IR_FIELD_IPV4_SRC: case IR_FIELD_IPV6_SRC:
                    base = offsetof(struct trace_tuple, src); break;
                case IR_FIELD_IPV4_DST: case IR_FIELD_IPV6_DST:
                    base = offsetof(struct trace_tuple, dst); break;
                case IR_FIELD_L4_SPORT: base = offsetof(struct trace_tuple, sport); break;
                default: base = offsetof(struct trace_tuple, dport); break;
                }
                for (int b = 0; b < l.fields[i].bits / 8; b++)
                    h->tuple_offset[v6][l4][n++] = (uint8_t)(base + (size_t)b);
            }
            h->n_bytes[v6][l4] = (uint8_t)n;
            if (!v6 && l4)
                h->ipv4_l4_full = h->has_layout[0][1] && l.n_fields == 4 && n == 12 &&
                                  n <= h->tz.max_len;
        }
}

/* The most common input, unrolled: 12 independent table loads. */
static uint32_t hash_ipv4_l4(const struct rss_toeplitz *tz, const struct trace_tuple *t)
{
    const uint8_t *sp = (const uint8_t *)&t->sport, *dp = (const uint8_t *)&t->dport;
    return tz->table[0][t->src[0]] ^ tz->table[1][t->src[1]] ^ tz->table[2][t->src[2]] ^
           tz->table[3][t->src[3]] ^ tz->table[4][t->dst[0]] ^ tz->table[5][t->dst[1]] ^
           tz->table[6][t->dst[2]] ^ tz->table[7][t->dst[3]] ^ tz->table[8][sp[0]] ^
           tz->table[9][sp[1]] ^ tz->table[10][dp[0]] ^ tz->table[11][dp[1]];
}

/* The per-packet path of the simulator and the launcher: the layout was
 * turned into tuple byte offsets once, so a packet costs one table load per
 * input byte and no input buffer. */
uint32_t rss_port_hasher_hash(const struct rss_port_hasher *h, const struct trace_tuple *t)
{
    int kind = packet_kind(h->cfg->rss_hf, t);
    if (kind < 0)
        return 0;
    int v6 = t->ip_version == 6;
    if (!h->has_layout[v6][kind])
        return 0;
    if (!v6 && kind == 1 && h->ipv4_l4_full)
        return hash_ipv4_l4(&h->tz, t);
    int n = h->n_bytes[v6][kind];
    if (n > h->tz.max_len) {                /* key too short for the tables */
        uint8_t in[RSS_INPUT_MAX];
        size_t len = rss_tuple_input(h->cfg->rss_hf, t, in);
        return len ? rss_toeplitz_hash(&h->tz, in, len) : 0;
    }
    const uint8_t *bytes = (const uint8_t *)t;
    const uint8_t *offset = h->tuple_offset[v6][kind];
    uint32_t hash = 0;
    for (int p = 0; p < n; p++)
        hash ^= h->tz.table[p][bytes[offset[p]]];
    return hash;
}

int rss_port_hasher_core(const struct rss_port_hasher *h, const struct trace_tuple *t)
{
    uint32_t size = h->cfg->reta_size ? h->cfg->reta_size : 1;
    return h->cfg->reta[rss_port_hasher_hash(h, t) & (size - 1)];
}
