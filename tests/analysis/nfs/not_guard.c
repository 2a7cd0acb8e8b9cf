/* not_guard.c - rule: a comparison of a stored value with the packet whose
 * result is only recorded (not deciding anything) is not a guard. */
#include "rsskey/nf.h"

struct rec { uint32_t owner; };
static struct nf_vector *recs, *flags;

int nf_init(void)
{
    recs = nf_vector_create("recs", sizeof(struct rec), 256);
    flags = nf_vector_create("flags", 1, 256);
    return recs && flags ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (!ip)
        return NF_DROP;
    uint32_t i = ip->ttl;
    const struct rec *r = nf_vector_read(recs, i);
    uint8_t *f = nf_vector_write(flags, i);
    *f = r->owner == ip->src;
    return 1;
}
