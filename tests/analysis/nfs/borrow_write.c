/* borrow_write.c - rule: a write through the read-only pointer nf_vector_read returns. */
#include "rsskey/nf.h"

struct rec { uint64_t count; };
static struct nf_vector *counts;

int nf_init(void)
{
    counts = nf_vector_create("counts", sizeof(struct rec), 16);
    return counts ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    struct rec *r = (struct rec *)nf_vector_read(counts, pkt->port);
    r->count++;
    return 0;
}
