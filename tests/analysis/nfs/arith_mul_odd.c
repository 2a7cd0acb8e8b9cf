/* arith_mul_odd.c - rule: multiplication by an odd constant. The product is
 * injective in the address, but bit by bit only bit 0 is kept (it is the
 * address's bit 0); bit i > 0 depends on bits 0..i through the carries. The
 * index keeps the product's low 12 bits: ir: unknown:11 (from ipv4.dst by the
 * multiplication at line 21) and L3[19]:1; deps: shared. */
#include "rsskey/nf.h"

static struct nf_vector *slots;

int nf_init(void)
{
    slots = nf_vector_create("mo_slots", 8, 4096);
    return slots ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (!ip)
        return NF_DROP;
    uint32_t idx = (__builtin_bswap32(ip->dst) * 40503u) & 4095u;
    uint64_t *slot = nf_vector_write(slots, idx);
    *slot += 1;
    return 0;
}
