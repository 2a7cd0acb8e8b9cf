/* symmetric_key.c - rule: a direction-free flow key (the smaller address
 * first) is one key per outcome of the comparison, not an unknown key. */
#include "rsskey/nf.h"

struct key { uint32_t a, b; uint16_t pa, pb; };
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
    if (ip->src < ip->dst) {
        k.a = ip->src;
        k.b = ip->dst;
        k.pa = l4->sport;
        k.pb = l4->dport;
    } else {
        k.a = ip->dst;
        k.b = ip->src;
        k.pa = l4->dport;
        k.pb = l4->sport;
    }
    int32_t v;
    if (!nf_map_get(flows, &k, &v))
        nf_map_put(flows, &k, 1);
    return 1 - pkt->port;
}
