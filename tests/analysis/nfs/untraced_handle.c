/* untraced_handle.c - rule: a handle the analysis cannot trace (a global never
 * assigned: an issue) and a handle chosen per packet among two objects (an
 * access on each). */
#include "rsskey/nf.h"

static struct nf_map *created, *never;
static struct nf_counter *c0, *c1;

int nf_init(void)
{
    created = nf_map_create("created", 4, 16);
    c0 = nf_counter_create("c0");
    c1 = nf_counter_create("c1");
    return created && c0 && c1 ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (!ip)
        return NF_DROP;
    int32_t v;
    if (nf_map_get(never, &ip->src, &v))
        return 0;
    nf_counter_add(ip->ttl & 1 ? c0 : c1, 1);
    return nf_map_get(created, &ip->dst, &v) ? 0 : 1;
}
