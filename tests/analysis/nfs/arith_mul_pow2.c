/* arith_mul_pow2.c - rule: multiplication by a power of two is a shift. The
 * index is the first 8 bits of the source times 16: ipv4.src/8 and 4 zero
 * bits. deps: sharded by ipv4.src/8. */
#include "rsskey/nf.h"

static struct nf_vector *slots;

int nf_init(void)
{
    slots = nf_vector_create("mp_slots", 8, 4096);
    return slots ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (!ip)
        return NF_DROP;
    uint32_t idx = (__builtin_bswap32(ip->src) >> 24) * 16u;
    uint64_t *slot = nf_vector_write(slots, idx);
    *slot += 1;
    return 0;
}
