/*
 * expiry_heavy.c - a flow table whose entries live only `ttl_ms` (default
 * 50 ms) after their last packet: inside flows (port 0) create and refresh
 * entries, outside packets (port 1) pass and refresh only while their flow's
 * entry is alive. IPv4 TCP/UDP only; the rest is dropped.
 *
 * Configuration: ttl_ms (default 50), entries (default 8192).
 * State: eh_map (inside 5-tuple -> entry), eh_alloc (stamped at every packet
 * of the flow, either side), eh_keys (entry -> 5-tuple).
 *
 * Sound plan: sharded like fw (cross-port symmetric 5-tuple). With such a
 * short lifetime, whether an outside packet finds its flow depends on time
 * differences of a few ms, so a verifier that replays packets out of capture
 * order (for example in lock-commit order across cores) sees entries expire
 * early or late: differences that are not the plan's.
 */
#include <stdint.h>
#include <string.h>

#include "rsskey/nf.h"

struct eh_key {
    uint32_t lan_ip, wan_ip;
    uint16_t lan_port, wan_port;
    uint32_t proto;
};

static struct nf_map *eh_map;
static struct nf_alloc *eh_alloc;
static struct nf_vector *eh_keys;
static uint64_t ttl;

int nf_init(void)
{
    uint32_t entries = (uint32_t)nf_config("entries", 8192);
    ttl = nf_config("ttl_ms", 50) * 1000000ull;
    eh_map = nf_map_create("eh_map", sizeof(struct eh_key), entries);
    eh_alloc = nf_alloc_create("eh_alloc", entries);
    eh_keys = nf_vector_create("eh_keys", sizeof(struct eh_key), entries);
    return eh_map && eh_alloc && eh_keys ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    struct nf_l4_ports *l4 = nf_l4(pkt);
    if (!ip || !l4)
        return NF_DROP;
    struct eh_key k;
    memset(&k, 0, sizeof k);
    k.proto = ip->proto;
    if (pkt->port == 0) {
        k.lan_ip = ip->src, k.wan_ip = ip->dst, k.lan_port = l4->sport, k.wan_port = l4->dport;
    } else {
        k.lan_ip = ip->dst, k.wan_ip = ip->src, k.lan_port = l4->dport, k.wan_port = l4->sport;
    }
    uint64_t now = pkt->time_ns;
    nf_alloc_expire(eh_alloc, now < ttl ? 0 : now - ttl, eh_map, eh_keys);
    int32_t e;
    if (nf_map_get(eh_map, &k, &e)) {
        nf_alloc_refresh(eh_alloc, (uint32_t)e, now);
        return pkt->port == 0 ? 1 : 0;
    }
    if (pkt->port != 0)
        return NF_DROP;
    uint32_t fresh;
    if (!nf_alloc_new(eh_alloc, now, &fresh))
        return NF_DROP;
    memcpy(nf_vector_write(eh_keys, fresh), &k, sizeof k);
    nf_map_put(eh_map, &k, (int32_t)fresh);
    return 1;
}
