/* arith_xor_fields.c - rule: xor of two fields. Each index bit is
 * src_i ^ dst_i: a function of two fields' bits, which no key on either
 * field describes (two variable bits mix). ir: unknown (the xor at line 20);
 * deps: shared. */
#include "rsskey/nf.h"

static struct nf_vector *slots;

int nf_init(void)
{
    slots = nf_vector_create("xf_slots", 8, 4096);
    return slots ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (!ip)
        return NF_DROP;
    uint32_t idx = (__builtin_bswap32(ip->src) ^ __builtin_bswap32(ip->dst)) >> 20;
    uint64_t *slot = nf_vector_write(slots, idx);
    *slot += 1;
    return 0;
}
