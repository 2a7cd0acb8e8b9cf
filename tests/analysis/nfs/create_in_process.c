/* create_in_process.c - error: a state object created in nf_process. */
#include "rsskey/nf.h"

static struct nf_counter *late;

int nf_init(void)
{
    return 0;
}

int nf_process(struct nf_packet *pkt)
{
    if (!late)
        late = nf_counter_create("late");
    return pkt->port;
}
