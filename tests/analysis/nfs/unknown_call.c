/* unknown_call.c - rule: a call to an external function the analysis does not know. */
#include "rsskey/nf.h"

int mystery(uint32_t x);
static struct nf_counter *seen;

int nf_init(void)
{
    seen = nf_counter_create("seen");
    return seen ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    nf_counter_add(seen, 1);
    return mystery(pkt->len) ? 0 : 1;
}
