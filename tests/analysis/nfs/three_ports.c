/* three_ports.c - rule: the NF's nf_config("ports", 3) sets the number of
 * ports; each port keys one map differently (port 2 by arrival-time bucket). */
#include "rsskey/nf.h"

static struct nf_map *table;
static uint64_t ports;

int nf_init(void)
{
    ports = nf_config("ports", 3);
    table = nf_map_create("table", 8, 1024);
    return table ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (!ip)
        return NF_DROP;
    uint64_t key;
    switch (pkt->port) {
    case 0:
        key = ip->src;
        break;
    case 1:
        key = ip->dst;
        break;
    default:
        key = pkt->time_ns >> 30;
        break;
    }
    nf_map_put(table, &key, 1);
    return (pkt->port + 1) % (int)ports;
}
