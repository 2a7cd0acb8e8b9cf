/*
 * src_dst_counters.c - fan-out / fan-in limiter on traffic leaving the inside
 * (port 0): each IPv4 source may send `src_limit` packets and each
 * destination may receive `dst_limit`; a packet over either limit is dropped
 * (and not counted). Port 1 traffic passes untouched.
 *
 * Configuration: src_limit (default 50), dst_limit (default 80),
 * hosts (default 16384) per table.
 * State: by_src (source address -> packets), by_dst (destination address ->
 * packets); the map's value is the count itself.
 *
 * Adversarial point: one port writes two objects with different keys. RSS
 * can hash a packet one way only, so by_src and by_dst cannot BOTH be
 * sharded (unless every packet goes to one core). Sound: at most one of them
 * sharded, the other shared (a mixed plan), or both shared.
 */
#include <stdint.h>

#include "rsskey/nf.h"

static struct nf_map *by_src, *by_dst;
static int32_t src_limit, dst_limit;

int nf_init(void)
{
    uint32_t hosts = (uint32_t)nf_config("hosts", 16384);
    src_limit = (int32_t)nf_config("src_limit", 50);
    dst_limit = (int32_t)nf_config("dst_limit", 80);
    by_src = nf_map_create("by_src", 4, hosts);
    by_dst = nf_map_create("by_dst", 4, hosts);
    return (by_src && by_dst) ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    if (pkt->port != 0)
        return 0;
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (!ip)
        return 1;
    uint32_t src = ip->src, dst = ip->dst;
    int32_t sent = 0, received = 0;
    nf_map_get(by_src, &src, &sent);
    nf_map_get(by_dst, &dst, &received);
    if (sent >= src_limit || received >= dst_limit)
        return NF_DROP;
    if (!nf_map_put(by_src, &src, sent + 1) || !nf_map_put(by_dst, &dst, received + 1))
        return NF_DROP;
    return 1;
}
