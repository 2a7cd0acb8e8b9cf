/* inline_asm.c - rule: inline assembly in nf_process. */
#include "rsskey/nf.h"

int nf_init(void)
{
    return 0;
}

int nf_process(struct nf_packet *pkt)
{
    uint32_t len = pkt->len;
    __asm__ volatile("" : "+r"(len) : : "memory");
    return len > 64 ? 0 : 1;
}
