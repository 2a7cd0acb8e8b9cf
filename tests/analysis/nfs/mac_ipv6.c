/* mac_ipv6.c - rule: byte-array keys memcpy'd from the header (MAC, IPv6). */
#include <string.h>
#include "rsskey/nf.h"

static struct nf_map *macs;
static struct nf_map *v6;

int nf_init(void)
{
    macs = nf_map_create("macs", 6, 1024);
    v6 = nf_map_create("v6", 16, 1024);
    return macs && v6 ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_eth_hdr *eth = nf_eth(pkt);
    if (!eth)
        return NF_DROP;
    uint8_t mac[6];
    memcpy(mac, eth->src, 6);
    nf_map_put(macs, mac, 1);
    struct nf_ipv6_hdr *ip6 = nf_ipv6(pkt);
    if (ip6) {
        uint8_t addr[16];
        memcpy(addr, ip6->src, 16);
        nf_map_put(v6, addr, 2);
    }
    return 0;
}
