/* packed_key.c - rule: a 64-bit integer key packing two addresses. */
#include "rsskey/nf.h"

static struct nf_map *pairs;

int nf_init(void)
{
    pairs = nf_map_create("pairs", sizeof(uint64_t), 1024);
    return pairs ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (!ip)
        return NF_DROP;
    uint64_t key = ((uint64_t)ip->src << 32) | ip->dst;
    nf_map_put(pairs, &key, 7);
    return 0;
}
