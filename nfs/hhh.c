/*
 * hhh.c - hierarchical heavy hitters: counts WAN packets per source prefix at
 * /8, /16, /24 and /32 in fixed windows, and drops the packets of a source
 * while any of its prefixes is over that level's threshold.
 *
 * Configuration:
 *   threshold_8, threshold_16, threshold_24, threshold_32
 *                  packets allowed per window per prefix of that length
 *                  (defaults 1000000, 100000, 10000, 1000)
 *   window_ms      a prefix's window opens with its first packet and lasts
 *                  this long; its count then starts over (default 1000)
 *   capacity       prefixes tracked per level (default 65536)
 *
 * State, one set per level L in {8, 16, 24, 32}: hhh_table_L (masked src IP
 * -> index), hhh_entries_L (allocator stamped when the prefix's window
 * opened; never refreshed), hhh_keys_L (index -> masked IP, for expiry),
 * hhh_counts_L (index -> packets in the window). Separate objects per level
 * let a plan treat the coarse levels differently from the fine ones.
 *
 * Port 1 (WAN -> LAN): every IPv4 packet is counted at all four levels
 * (dropped packets count too: the counts measure offered load), then dropped
 * if some level's count is above its threshold, else forwarded to port 0.
 * A prefix that finds its level's table full is not counted at that level.
 * Non-IPv4 frames on port 1 pass uncounted.
 * Port 0 (LAN -> WAN): every frame passes to port 1, uncounted.
 */
#include "flow_key.h"

struct prefix_key {
    uint32_t masked_ip;         /* network order, host bits zero */
};

struct prefix_count {
    uint64_t packets;
};

static struct nf_map *table_8, *table_16, *table_24, *table_32;
static struct nf_alloc *entries_8, *entries_16, *entries_24, *entries_32;
static struct nf_vector *keys_8, *keys_16, *keys_24, *keys_32;
static struct nf_vector *counts_8, *counts_16, *counts_24, *counts_32;
static uint64_t threshold_8, threshold_16, threshold_24, threshold_32;
static uint64_t window_ns;

static int create_level(const char *table_name, const char *entries_name,
                        const char *keys_name, const char *counts_name, uint32_t capacity,
                        struct nf_map **table, struct nf_alloc **entries,
                        struct nf_vector **keys, struct nf_vector **counts)
{
    *table = nf_map_create(table_name, sizeof(struct prefix_key), capacity);
    *entries = nf_alloc_create(entries_name, capacity);
    *keys = nf_vector_create(keys_name, sizeof(struct prefix_key), capacity);
    *counts = nf_vector_create(counts_name, sizeof(struct prefix_count), capacity);
    return *table && *entries && *keys && *counts ? 0 : -1;
}

int nf_init(void)
{
    uint64_t capacity = nf_config("capacity", 65536);
    threshold_8 = nf_config("threshold_8", 1000000);
    threshold_16 = nf_config("threshold_16", 100000);
    threshold_24 = nf_config("threshold_24", 10000);
    threshold_32 = nf_config("threshold_32", 1000);
    window_ns = nf_config("window_ms", 1000) * 1000000ULL;
    if (capacity == 0 || capacity > UINT32_MAX)
        return -1;
    uint32_t cap = (uint32_t)capacity;
    if (create_level("hhh_table_8", "hhh_entries_8", "hhh_keys_8", "hhh_counts_8", cap,
                     &table_8, &entries_8, &keys_8, &counts_8) ||
        create_level("hhh_table_16", "hhh_entries_16", "hhh_keys_16", "hhh_counts_16", cap,
                     &table_16, &entries_16, &keys_16, &counts_16) ||
        create_level("hhh_table_24", "hhh_entries_24", "hhh_keys_24", "hhh_counts_24", cap,
                     &table_24, &entries_24, &keys_24, &counts_24) ||
        create_level("hhh_table_32", "hhh_entries_32", "hhh_keys_32", "hhh_counts_32", cap,
                     &table_32, &entries_32, &keys_32, &counts_32))
        return -1;
    return 0;
}

/* Counts one packet for `key` at one level; returns the prefix's count in its
 * window, 0 when the level's table is full. */
static uint64_t count_prefix(struct nf_packet *pkt, const struct prefix_key *key,
                             struct nf_map *table, struct nf_alloc *entries,
                             struct nf_vector *keys, struct nf_vector *counts)
{
    nf_alloc_expire(entries, expiry_cutoff(pkt->time_ns, window_ns), table, keys);
    int32_t found;
    uint32_t index;
    if (nf_map_get(table, key, &found)) {
        index = (uint32_t)found;
    } else {
        if (!nf_alloc_new(entries, pkt->time_ns, &index))
            return 0;
        struct prefix_key *stored_key = nf_vector_write(keys, index);
        *stored_key = *key;
        struct prefix_count *fresh = nf_vector_write(counts, index);
        fresh->packets = 0;
        nf_map_put(table, key, (int32_t)index);
    }
    struct prefix_count *count = nf_vector_write(counts, index);
    count->packets += 1;
    return count->packets;
}

int nf_process(struct nf_packet *pkt)
{
    if (pkt->port == 0)
        return 1;
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (ip == NULL)
        return 0;
    uint32_t src = ip->src;     /* network order: the first octet is the low byte */
    struct prefix_key k8 = { .masked_ip = src & NFS_HTONL(0xFF000000u) };
    struct prefix_key k16 = { .masked_ip = src & NFS_HTONL(0xFFFF0000u) };
    struct prefix_key k24 = { .masked_ip = src & NFS_HTONL(0xFFFFFF00u) };
    struct prefix_key k32 = { .masked_ip = src };

    uint64_t c8 = count_prefix(pkt, &k8, table_8, entries_8, keys_8, counts_8);
    uint64_t c16 = count_prefix(pkt, &k16, table_16, entries_16, keys_16, counts_16);
    uint64_t c24 = count_prefix(pkt, &k24, table_24, entries_24, keys_24, counts_24);
    uint64_t c32 = count_prefix(pkt, &k32, table_32, entries_32, keys_32, counts_32);
    if (c8 > threshold_8 || c16 > threshold_16 || c24 > threshold_24 || c32 > threshold_32)
        return NF_DROP;
    return 0;
}
