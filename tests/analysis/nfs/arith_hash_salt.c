/* arith_hash_salt.c - rule: an index made by adding a configured salt. 4096
 * counters indexed by the top 12 bits of ntohl(src) + salt, salt read from
 * nf_config in nf_init. The carry out of the low 20 bits changes the top 12:
 * sources with equal top 12 bits may use different counters and sources with
 * different ones the same counter. ir: unknown, computed from ipv4.src by the
 * addition at line 25; deps: shared, saying so. */
#include "rsskey/nf.h"

#define THRESHOLD 1000
static struct nf_vector *counters;
static uint32_t salt;

int nf_init(void)
{
    salt = (uint32_t)nf_config("salt", 0x9e3779b9);
    counters = nf_vector_create("hs_counters", 8, 4096);
    return counters ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (!ip)
        return NF_DROP;
    uint32_t idx = (__builtin_bswap32(ip->src) + salt) >> 20;
    uint64_t *count = nf_vector_write(counters, idx);
    *count += 1;
    return *count > THRESHOLD ? NF_DROP : 0;
}
