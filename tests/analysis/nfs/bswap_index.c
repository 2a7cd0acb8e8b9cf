/* bswap_index.c - rule: a vector index computed from ntohs(dport) - base. */
#include "rsskey/nf.h"

#define BASE 1000
static struct nf_vector *slots;

int nf_init(void)
{
    slots = nf_vector_create("slots", 8, 4096);
    return slots ? 0 : -1;
}

static uint16_t my_ntohs(uint16_t x)
{
    return (uint16_t)((x >> 8) | (x << 8));
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_udp_hdr *udp = nf_udp(pkt);
    if (!udp)
        return NF_DROP;
    uint32_t port = my_ntohs(udp->dport);
    if (port < BASE || port >= BASE + 4096)
        return NF_DROP;
    uint64_t *slot = nf_vector_write(slots, port - BASE);
    *slot += 1;
    return 0;
}
