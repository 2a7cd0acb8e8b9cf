/* canonical_pair.c - rule: a connection key with its endpoints in canonical
 * order (the smaller (address, port) first, the port breaking a tie of
 * addresses) is one exact key per outcome of the order, not an unknown key.
 * The order is a compound condition (several branches into one join at
 * every -O level), the endpoints are host-order copies (ntohl/ntohs: byte
 * swaps) and the key is filled through pointers to the chosen endpoints. */
#include <arpa/inet.h>
#include <stdbool.h>

#include "rsskey/nf.h"

struct endpoint { uint32_t addr; uint16_t port; };
struct pair_key { uint32_t lo_addr, hi_addr; uint16_t lo_port, hi_port; };
static struct nf_map *conns;

int nf_init(void)
{
    conns = nf_map_create("conns", sizeof(struct pair_key), 1024);
    return conns ? 0 : -1;
}

static bool endpoint_before(const struct endpoint *x, const struct endpoint *y)
{
    if (x->addr != y->addr)
        return x->addr < y->addr;
    return x->port < y->port;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    struct nf_l4_ports *l4 = nf_l4(pkt);
    if (!ip || !l4)
        return NF_DROP;
    struct endpoint src = {ntohl(ip->src), ntohs(l4->sport)};
    struct endpoint dst = {ntohl(ip->dst), ntohs(l4->dport)};
    const struct endpoint *lo = &src, *hi = &dst;
    if (endpoint_before(&dst, &src)) {
        lo = &dst;
        hi = &src;
    }
    struct pair_key k = {lo->addr, hi->addr, lo->port, hi->port};
    int32_t seen;
    if (!nf_map_get(conns, &k, &seen))
        nf_map_put(conns, &k, 1);
    return 1 - pkt->port;
}
