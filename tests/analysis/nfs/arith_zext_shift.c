/* arith_zext_shift.c - rule: zext16(x) + (y << 16) is x | y << 16 (every
 * position has a known-zero operand bit: no carry), so the key is both ports,
 * exactly. (LLVM usually proves the same and turns the add into an or.)
 * deps: sharded by (l4.sport, l4.dport). */
#include "rsskey/nf.h"

static struct nf_map *pairs;

int nf_init(void)
{
    pairs = nf_map_create("zs_pairs", 4, 1024);
    return pairs ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_l4_ports *l4 = nf_l4(pkt); struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (!l4 || !ip || (ip->frag_off & __builtin_bswap16(0x3fff)))   /* IPv4, unfragmented */
        return NF_DROP;
    uint32_t key = (uint32_t)__builtin_bswap16(l4->sport) +
                   ((uint32_t)__builtin_bswap16(l4->dport) << 16);
    int32_t seen;
    if (!nf_map_get(pairs, &key, &seen))
        nf_map_put(pairs, &key, 1);
    return 0;
}
