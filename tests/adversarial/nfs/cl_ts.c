/*
 * cl_ts.c - a connection limiter written the way other NF suites write it
 * (Vigor/Maestro's CL): each (client, server) pair may open at most `limit`
 * connections among those seen recently. Connections are counted in a
 * time-stamped count-min sketch keyed by the pair: a new connection adds 1
 * to the pair's buckets, every packet of a known connection touches them so
 * they stay, and buckets idle for `expiry_ms` are freed one by one. The flow
 * table expires connections after the same time. Port 0 is the inside;
 * replies from port 1 pass when their connection is known.
 *
 * Configuration: limit (default 4), capacity (default 16384), sketch_width
 * (default 1024), sketch_depth (default 3), expiry_ms (default 200).
 * State: ts_pairs (tsketch), ts_flows (5-tuple -> slot), ts_slots, ts_keys.
 *
 * Sound plan: sharded by (client, server) addresses, cross-port mirrored
 * (replies carry them swapped); per-core sketches estimate lower than one
 * sketch where pairs of different cores collide: the `estimate` class.
 */
#include <stdbool.h>
#include <stdint.h>

#include "rsskey/nf.h"

struct conn {
    uint32_t client, server;
    uint16_t cport, sport;
    uint8_t proto, pad[3];
};

struct pair {
    uint32_t client, server;
};

static struct nf_tsketch *ts_pairs;
static struct nf_map *ts_flows;
static struct nf_alloc *ts_slots;
static struct nf_vector *ts_keys;
static uint32_t limit;
static uint64_t expiry_ns;

int nf_init(void)
{
    uint32_t capacity = (uint32_t)nf_config("capacity", 16384);
    uint32_t width = (uint32_t)nf_config("sketch_width", 1024);
    uint32_t depth = (uint32_t)nf_config("sketch_depth", 3);
    limit = (uint32_t)nf_config("limit", 4);
    expiry_ns = nf_config("expiry_ms", 200) * 1000000ull;
    ts_pairs = nf_tsketch_create("ts_pairs", sizeof(struct pair), width, depth, 0);
    ts_flows = nf_map_create("ts_flows", sizeof(struct conn), capacity);
    ts_slots = nf_alloc_create("ts_slots", capacity);
    ts_keys = nf_vector_create("ts_keys", sizeof(struct conn), capacity);
    return ts_pairs && ts_flows && ts_slots && ts_keys ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (!ip || (ip->frag_off & __builtin_bswap16(0x3fff)))    /* fragments: dropped */
        return NF_DROP;
    struct nf_l4_ports *l4 = nf_l4(pkt);
    if (!l4)
        return NF_DROP;
    uint64_t now = pkt->time_ns;
    uint64_t cutoff = now > expiry_ns ? now - expiry_ns : 0;
    nf_alloc_expire(ts_slots, cutoff, ts_flows, ts_keys);
    nf_tsketch_expire(ts_pairs, cutoff);

    bool inside = pkt->port == 0;
    struct conn c = {0, 0, 0, 0, ip->proto, {0, 0, 0}};
    if (inside) {
        c.client = ip->src, c.server = ip->dst, c.cport = l4->sport, c.sport = l4->dport;
    } else {
        c.client = ip->dst, c.server = ip->src, c.cport = l4->dport, c.sport = l4->sport;
    }
    struct pair p = {c.client, c.server};
    int32_t slot;
    if (nf_map_get(ts_flows, &c, &slot)) {
        nf_alloc_refresh(ts_slots, (uint32_t)slot, now);
        nf_tsketch_touch(ts_pairs, &p, now);
        return inside ? 1 : 0;
    }
    if (!inside)
        return NF_DROP;
    if (nf_tsketch_estimate(ts_pairs, &p) >= limit)
        return NF_DROP;
    uint32_t index;
    if (!nf_tsketch_add(ts_pairs, &p, 1, now) || !nf_alloc_new(ts_slots, now, &index))
        return NF_DROP;
    *(struct conn *)nf_vector_write(ts_keys, index) = c;
    nf_map_put(ts_flows, &c, (int32_t)index);
    return 1;
}
