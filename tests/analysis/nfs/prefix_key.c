/* prefix_key.c - rule: a map keyed by ntohl(src) & 0xffffff00 (a /24). */
#include "rsskey/nf.h"

static struct nf_sketch *nets;

int nf_init(void)
{
    nets = nf_sketch_create("nets", 4, 1024, 4);
    return nets ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (!ip)
        return NF_DROP;
    uint32_t net = __builtin_bswap32(ip->src) & 0xffffff00u;
    nf_sketch_add(nets, &net, 1);
    return 0;
}
