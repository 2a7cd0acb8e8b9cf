/*
 * cfg_ports_fw.c - a firewall whose outside port is configurable, for boxes
 * wired the other way round: packets from the inside open flows, packets from
 * the outside pass only as replies to open flows.
 *
 * Configuration: wan_port (default 1; the other port is the inside),
 * capacity (default 16384), expiry_ms (default 10000).
 * State: cf_table (inside-view 5-tuple -> slot), cf_alloc, cf_keys.
 *
 * Adversarial point: which port is which is a configuration value, not a
 * constant, so per-port specialisation cannot decide it. A plan that assumes
 * wan_port = 1 is wrong when the operator sets wan_port = 0. Sound: a plan
 * valid for either assignment (one table, every port may see the forward
 * and the reversed key: symmetric hashing on both ports), or shared.
 */
#include <stdbool.h>
#include <stdint.h>

#include "rsskey/nf.h"

struct tuple5 {
    uint32_t a, b;
    uint16_t pa, pb;
    uint8_t proto, pad0, pad1, pad2;
};

static struct nf_map *cf_table;
static struct nf_alloc *cf_alloc;
static struct nf_vector *cf_keys;
#ifdef CFG_CONSTANT_WAN_PORT     /* cfg_ports_fw_const.c: the port written as a constant */
#define WAN_PORT CFG_CONSTANT_WAN_PORT
#else
static uint16_t wan_port;
#define WAN_PORT wan_port
#endif
static uint64_t expiry;

int nf_init(void)
{
    uint32_t capacity = (uint32_t)nf_config("capacity", 16384);
#ifndef CFG_CONSTANT_WAN_PORT
    wan_port = (uint16_t)nf_config("wan_port", 1);
    if (wan_port > 1)
        return -1;
#endif
    expiry = nf_config("expiry_ms", 10000) * 1000000ull;
    cf_table = nf_map_create("cf_table", sizeof(struct tuple5), capacity);
    cf_alloc = nf_alloc_create("cf_alloc", capacity);
    cf_keys = nf_vector_create("cf_keys", sizeof(struct tuple5), capacity);
    return cf_table && cf_alloc && cf_keys ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    bool outside = pkt->port == WAN_PORT;
    uint16_t lan_port = WAN_PORT == 1 ? 0 : 1;
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    struct nf_l4_ports *l4 = nf_l4(pkt);
    if (!ip || !l4)
        return NF_DROP;
    struct tuple5 t = {0};
    t.proto = ip->proto;
    if (!outside) {
        t.a = ip->src, t.b = ip->dst, t.pa = l4->sport, t.pb = l4->dport;
    } else {
        t.a = ip->dst, t.b = ip->src, t.pa = l4->dport, t.pb = l4->sport;
    }
    uint64_t now = pkt->time_ns;
    nf_alloc_expire(cf_alloc, now >= expiry ? now - expiry : 0, cf_table, cf_keys);

    int32_t idx;
    if (nf_map_get(cf_table, &t, &idx)) {
        nf_alloc_refresh(cf_alloc, (uint32_t)idx, now);
        return outside ? lan_port : WAN_PORT;
    }
    if (outside)
        return NF_DROP;
    uint32_t n;
    if (!nf_alloc_new(cf_alloc, now, &n))
        return NF_DROP;
    *(struct tuple5 *)nf_vector_write(cf_keys, n) = t;
    nf_map_put(cf_table, &t, (int32_t)n);
    return WAN_PORT;
}
