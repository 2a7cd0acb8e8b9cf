/* arith_sub_base.c - rule: the whole-value exception for indexes. by_port is
 * indexed by ntohs(dport) - base (base configured): the borrows lose the bits,
 * but the 16-bit port minus a per-run constant, in 32 bits, is injective:
 * equal index <=> equal port, so the index is described as l4.dport and deps
 * shards by it. by_group is indexed by (ntohs(dport) - base) >> 4: 16 ports
 * per slot, grouped by where base falls, which no prefix of the port
 * describes: unknown (the subtraction at line 33), shared. */
#include "rsskey/nf.h"

#define SLOTS 4096
static struct nf_vector *by_port;
static struct nf_vector *by_group;
static uint32_t base;

int nf_init(void)
{
    base = (uint32_t)nf_config("base", 5000);
    by_port = nf_vector_create("sb_by_port", 8, SLOTS);
    by_group = nf_vector_create("sb_by_group", 8, SLOTS);
    return by_port && by_group ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_l4_ports *l4 = nf_l4(pkt); struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (!l4 || !ip || (ip->frag_off & __builtin_bswap16(0x3fff)))   /* IPv4, unfragmented */
        return NF_DROP;
    uint32_t port = __builtin_bswap16(l4->dport);
    if (port < base || port - base >= SLOTS)
        return NF_DROP;
    uint64_t *hits = nf_vector_write(by_port, port - base);
    *hits += 1;
    uint64_t *group = nf_vector_write(by_group, (port - base) >> 4);
    *group += 1;
    return 0;
}
