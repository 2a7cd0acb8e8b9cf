/* struct_key.c - rule: a map keyed by a struct filled from header fields. */
#include <string.h>
#include "rsskey/nf.h"

struct key { uint32_t src, dst; uint16_t sport, dport; };
static struct nf_map *flows;

int nf_init(void)
{
    flows = nf_map_create("flows", sizeof(struct key), 1024);
    return flows ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    struct nf_l4_ports *l4 = nf_l4(pkt);
    if (!ip || !l4)
        return NF_DROP;
    struct key k;
    memset(&k, 0, sizeof k);
    k.src = ip->src;
    k.dst = ip->dst;
    k.sport = l4->sport;
    k.dport = l4->dport;
    int32_t v;
    if (!nf_map_get(flows, &k, &v))
        nf_map_put(flows, &k, 1);
    return 1 - pkt->port;
}
