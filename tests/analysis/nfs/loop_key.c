/* loop_key.c - rule: a key filled by a loop whose trip count depends on the
 * packet: its bytes are unknown (sound), not silently taken as constants. */
#include "rsskey/nf.h"

static struct nf_map *prefixes;

int nf_init(void)
{
    prefixes = nf_map_create("prefixes", 8, 1024);
    return prefixes ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_eth_hdr *eth = nf_eth(pkt);
    if (!eth)
        return NF_DROP;
    uint8_t key[8] = {0};
    for (uint32_t i = 0; i < (pkt->len & 7); i++)
        key[i] = eth->src[i % 6];
    nf_map_put(prefixes, key, 1);
    return 0;
}
