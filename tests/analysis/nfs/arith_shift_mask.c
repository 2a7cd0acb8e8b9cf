/* arith_shift_mask.c - rule: a shift and a mask of a field keep its bits. The
 * index is (ntohl(src) >> 20) & 0xfff, the first 12 bits of the source:
 * ipv4.src/12. deps: sharded by ipv4.src/12 (with the prefix balance
 * warning). */
#include "rsskey/nf.h"

#define THRESHOLD 1000
static struct nf_vector *counters;

int nf_init(void)
{
    counters = nf_vector_create("sm_counters", 8, 4096);
    return counters ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (!ip)
        return NF_DROP;
    uint32_t idx = (__builtin_bswap32(ip->src) >> 20) & 0xfffu;
    uint64_t *count = nf_vector_write(counters, idx);
    *count += 1;
    return *count > THRESHOLD ? NF_DROP : 0;
}
