/* per_port.c - rule: branches on the input port; port 0 keys by source,
 * port 1 by destination, and port 1 rewrites the destination MAC. */
#include <string.h>
#include "rsskey/nf.h"

static struct nf_map *hosts;

int nf_init(void)
{
    hosts = nf_map_create("hosts", 4, 1024);
    return hosts ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (!ip)
        return NF_DROP;
    uint32_t host = pkt->port == 0 ? ip->src : ip->dst;
    int32_t v;
    if (pkt->port == 0) {
        nf_map_put(hosts, &host, 1);
        return 1;
    }
    if (!nf_map_get(hosts, &host, &v))
        return NF_DROP;
    struct nf_eth_hdr *eth = nf_eth(pkt);
    memset(eth->dst, 0xff, 6);
    return 0;
}
