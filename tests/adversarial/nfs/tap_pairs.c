/*
 * tap_pairs.c - a tap-port monitor written the plain way: one port (0) sees
 * both directions of every conversation; packets are counted per IPv4
 * address pair, the pair put in canonical order (smaller address first), and
 * a pair's packets beyond `limit` are dropped. Everything else is forwarded
 * to port 1.
 *
 * A pair idle for `idle_ms` is forgotten.
 *
 * Configuration: limit (default 40), pairs (default 8192), idle_ms (default
 * 2000).
 * State: tap_pairs (pair -> slot), tap_slots (allocator), tap_keys (slot ->
 * pair), tap_counts (slot -> packets).
 *
 * Sound plan: sharded by {ipv4.src, ipv4.dst} with a hash symmetric in the
 * two on port 0 (A->B and B->A share a counter), or shared.
 */
#include <stdint.h>

#include "rsskey/nf.h"

struct pair {
    uint32_t lo, hi;
    uint8_t proto, pad[3];
};

static struct nf_map *tap_pairs;
static struct nf_alloc *tap_slots;
static struct nf_vector *tap_keys;
static struct nf_vector *tap_counts;
static uint32_t limit;
static uint64_t idle_ns;

int nf_init(void)
{
    uint32_t n = (uint32_t)nf_config("pairs", 8192);
    limit = (uint32_t)nf_config("limit", 40);
    idle_ns = nf_config("idle_ms", 2000) * 1000000ull;
    tap_pairs = nf_map_create("tap_pairs", sizeof(struct pair), n);
    tap_slots = nf_alloc_create("tap_slots", n);
    tap_keys = nf_vector_create("tap_keys", sizeof(struct pair), n);
    tap_counts = nf_vector_create("tap_counts", sizeof(uint32_t), n);
    return tap_pairs && tap_slots && tap_keys && tap_counts ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (!ip)
        return 1;
    struct pair key = {0, 0, ip->proto, {0, 0, 0}};
    if (ip->src < ip->dst) {
        key.lo = ip->src;
        key.hi = ip->dst;
    } else {
        key.lo = ip->dst;
        key.hi = ip->src;
    }
    uint64_t now = pkt->time_ns;
    nf_alloc_expire(tap_slots, now > idle_ns ? now - idle_ns : 0, tap_pairs, tap_keys);
    int32_t slot;
    uint32_t index;
    if (nf_map_get(tap_pairs, &key, &slot)) {
        index = (uint32_t)slot;
        nf_alloc_refresh(tap_slots, index, now);
    } else {
        if (!nf_alloc_new(tap_slots, now, &index))
            return 1;
        *(struct pair *)nf_vector_write(tap_keys, index) = key;
        *(uint32_t *)nf_vector_write(tap_counts, index) = 0;
        nf_map_put(tap_pairs, &key, (int32_t)index);
    }
    uint32_t *count = nf_vector_write(tap_counts, index);
    *count += 1;
    return *count > limit ? NF_DROP : 1;
}
