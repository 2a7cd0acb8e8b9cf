/* arith_divmod.c - rule: division and remainder by a non-power of two mix
 * every bit of the dividend. by_rem: ntohl(src) % 4093; by_div: the top 11
 * bits of ntohl(dst) / 1000. ir: unknown (the remainder at line 23, the
 * division at line 26); deps: both shared. */
#include "rsskey/nf.h"

static struct nf_vector *by_rem;
static struct nf_vector *by_div;

int nf_init(void)
{
    by_rem = nf_vector_create("dm_by_rem", 8, 4096);
    by_div = nf_vector_create("dm_by_div", 8, 4096);
    return by_rem && by_div ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (!ip)
        return NF_DROP;
    uint64_t *slot;
    slot = nf_vector_write(by_rem, __builtin_bswap32(ip->src) % 4093u);
    *slot += 1;
    if (pkt->port == 0) {
        slot = nf_vector_write(by_div, (__builtin_bswap32(ip->dst) / 1000u) >> 11);
        *slot += 1;
    }
    return 0;
}
