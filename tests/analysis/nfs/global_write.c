/* global_write.c - rule: nf_process writes a plain global. */
#include "rsskey/nf.h"

static struct nf_counter *seen;
uint64_t packets;

int nf_init(void)
{
    seen = nf_counter_create("seen");
    return seen ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    packets++;
    nf_counter_add(seen, 1);
    return pkt->len > 100 ? 0 : 1;
}
