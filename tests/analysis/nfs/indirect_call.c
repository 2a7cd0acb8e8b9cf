/* indirect_call.c - rule: a call through a function pointer. */
#include "rsskey/nf.h"

typedef int handler(struct nf_packet *pkt);
extern handler *handlers[4];

int nf_init(void)
{
    return 0;
}

int nf_process(struct nf_packet *pkt)
{
    return handlers[pkt->len & 3](pkt);
}
