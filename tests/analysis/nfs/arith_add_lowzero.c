/* arith_add_lowzero.c - rule: additions keep a bit only where no carry can
 * reach it. by_net: (ntohl(src) >> 16) + 0x10000 has a known-zero bit in one
 * operand at every position (the constant's low 16 bits, the shifted
 * address's high 16), so no carry at all: the key is ipv4.src/16 and a
 * constant. by_dst: ntohl(dst) + 0x100 keeps the low 8 bits and bit 8
 * (flipped); the carry out of bit 8 reaches the other 23, which become
 * unknown (computed from ipv4.dst by the addition at line 32). deps: by_net
 * sharded by ipv4.src/16, by_dst shared. */
#include "rsskey/nf.h"

static struct nf_map *by_net;
static struct nf_map *by_dst;

int nf_init(void)
{
    by_net = nf_map_create("al_by_net", 4, 1024);
    by_dst = nf_map_create("al_by_dst", 4, 1024);
    return by_net && by_dst ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (!ip)
        return NF_DROP;
    uint32_t net = (__builtin_bswap32(ip->src) >> 16) + 0x10000u;
    int32_t seen;
    if (!nf_map_get(by_net, &net, &seen))
        nf_map_put(by_net, &net, 1);
    if (pkt->port == 1)
        return 0;
    uint32_t dst = __builtin_bswap32(ip->dst) + 0x100u;
    nf_map_put(by_dst, &dst, 1);
    return 1;
}
