/* arith_hash_mul.c - rule: an index hashed by multiplication. 4096 counters
 * indexed by the top 12 bits of ntohl(src) * 2654435761 (Knuth's
 * multiplicative hash); a source over the threshold is dropped. The carries
 * of the multiplication mix every bit of the source into those 12 bits: two
 * sources that differ in their top 12 bits may share a counter, so no RSS key
 * on ipv4.src (nor on a prefix of it) keeps a counter on one core. ir: the
 * index is unknown, computed from ipv4.src by the multiplication at line 25;
 * deps: shared, saying so. */
#include "rsskey/nf.h"

#define THRESHOLD 1000
static struct nf_vector *counters;

int nf_init(void)
{
    counters = nf_vector_create("hm_counters", 8, 4096);
    return counters ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (!ip)
        return NF_DROP;
    uint32_t idx = (__builtin_bswap32(ip->src) * 2654435761u) >> 20;
    uint64_t *count = nf_vector_write(counters, idx);
    *count += 1;
    return *count > THRESHOLD ? NF_DROP : 0;
}
