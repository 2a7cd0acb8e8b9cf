/*
 * nop.c - the no-op NF: forwards port 0 -> 1 and 1 -> 0, every frame, with no
 * state. The baseline for the analysis (no objects, any RSS key is fine) and
 * for the simulator (the cost of the runtime alone).
 */
#include "rsskey/nf.h"

int nf_init(void)
{
    return 0;
}

int nf_process(struct nf_packet *pkt)
{
    return pkt->port == 0 ? 1 : 0;
}
