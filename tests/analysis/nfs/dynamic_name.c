/* dynamic_name.c - error: an object name that is not a string literal. */
#include "rsskey/nf.h"

static struct nf_counter *c;
char name_buffer[16];

int nf_init(void)
{
    c = nf_counter_create(name_buffer);
    return c ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    nf_counter_add(c, 1);
    return pkt->port;
}
