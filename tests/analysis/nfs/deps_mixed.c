/* deps_mixed.c - deps rule: two tables written on the same port, one keyed
 * by source address and one by destination address. RSS hashes one field set
 * per port, so only one can be sharded; the other is shared (a mixed plan),
 * and a read-only table filled in nf_init stays replicated. */
#include "rsskey/nf.h"

static struct nf_map *by_src;
static struct nf_map *by_dst;
static struct nf_map *allowed;

int nf_init(void)
{
    by_src = nf_map_create("mx_by_src", 4, 1024);
    by_dst = nf_map_create("mx_by_dst", 4, 1024);
    allowed = nf_map_create("mx_allowed", 2, 64);
    if (!by_src || !by_dst || !allowed)
        return -1;
    uint16_t http = __builtin_bswap16(80);
    nf_map_put(allowed, &http, 1);
    return 0;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    struct nf_l4_ports *l4 = nf_l4(pkt);
    if (!ip || !l4)
        return NF_DROP;
    int32_t hits = 0, ok;
    if (!nf_map_get(allowed, &l4->dport, &ok))
        return NF_DROP;
    uint32_t src = ip->src, dst = ip->dst;
    if (nf_map_get(by_src, &src, &hits))
        nf_map_put(by_src, &src, hits + 1);
    else
        nf_map_put(by_src, &src, 1);
    if (nf_map_get(by_dst, &dst, &hits) && hits > 100)
        return NF_DROP;
    nf_map_put(by_dst, &dst, hits + 1);
    return pkt->port == 0 ? 1 : 0;
}
