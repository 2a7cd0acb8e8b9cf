/*
 * srccount.c - the NF the install test writes for itself (not one of nfs/):
 * each LAN source may send `limit` packets per `window_ms` of activity, later
 * ones are dropped; WAN packets pass. A per-source counter table: a map from
 * ipv4.src to a slot, the slot allocator (idle sources expire) and two
 * vectors (the slot's source, for expiry, and its count).
 */
#include "rsskey/nf.h"

static struct nf_map *sources;      /* ipv4.src -> slot */
static struct nf_alloc *slots;      /* stamped at each packet */
static struct nf_vector *keys;      /* slot -> ipv4.src */
static struct nf_vector *counts;    /* slot -> packets so far */
static uint64_t limit, window_ns;

int nf_init(void)
{
    limit = nf_config("limit", 20);
    window_ns = nf_config("window_ms", 1000) * 1000000ULL;
    sources = nf_map_create("src_index", sizeof(uint32_t), 4096);
    slots = nf_alloc_create("src_slots", 4096);
    keys = nf_vector_create("src_keys", sizeof(uint32_t), 4096);
    counts = nf_vector_create("src_counts", sizeof(uint64_t), 4096);
    return sources && slots && keys && counts ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    if (pkt->port != 0)
        return 0;
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (ip == NULL)
        return NF_DROP;
    uint64_t now = pkt->time_ns;
    nf_alloc_expire(slots, now > window_ns ? now - window_ns : 0, sources, keys);
    uint32_t src = ip->src;
    int32_t found;
    uint32_t slot;
    if (nf_map_get(sources, &src, &found)) {
        slot = (uint32_t)found;
        nf_alloc_refresh(slots, slot, now);
    } else {
        if (!nf_alloc_new(slots, now, &slot))
            return NF_DROP;             /* table full */
        uint32_t *stored = nf_vector_write(keys, slot);
        *stored = src;
        uint64_t *fresh = nf_vector_write(counts, slot);
        *fresh = 0;
        nf_map_put(sources, &src, (int32_t)slot);
    }
    uint64_t *sent = nf_vector_write(counts, slot);
    *sent += 1;
    return *sent > limit ? NF_DROP : 1;
}
