/* deps_ports_only.c - rule: keys holding L4 ports, one port each.
 * Port 0: a counter per destination port reached by IPv4 and IPv6 packets,
 *   fragments included: shared (first fragments carry ports NICs never hash).
 * Port 1: the same counter for IPv4 packets proven not fragments (MF and
 *   offset tested 0): sharded by l4.dport.
 * Port 2: IPv6 flows whose fixed header's next header is TCP or UDP (so no
 *   fragment header): sharded by (ipv6.src, l4.sport).
 * Port 3: a counter per destination port after a fragment check but with no
 *   check of the IP version (IPv4 MF or IPv6 next header): IPv4 and IPv6
 *   packets with equal ports are hashed apart: shared. */
#include "rsskey/nf.h"

struct v6_key {
    uint8_t src[16];
    uint16_t sport;
    uint16_t pad;
};

static struct nf_vector *any_ports, *v4_ports, *mixed_ports;
static struct nf_map *v6_flows;

int nf_init(void)
{
    nf_config("ports", 4);
    any_ports = nf_vector_create("po_any", 8, 65536);
    v4_ports = nf_vector_create("po_v4", 8, 65536);
    mixed_ports = nf_vector_create("po_mixed", 8, 65536);
    v6_flows = nf_map_create("po_v6", sizeof(struct v6_key), 4096);
    return any_ports && v4_ports && mixed_ports && v6_flows ? 0 : -1;
}

static int count(struct nf_vector *v, uint16_t port_be)
{
    uint64_t *n = nf_vector_write(v, __builtin_bswap16(port_be));
    return n && ++*n > 100 ? NF_DROP : 0;
}

static int not_fragment(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (ip)
        return !(ip->frag_off & __builtin_bswap16(0x3fff));
    struct nf_ipv6_hdr *ip6 = nf_ipv6(pkt);
    return ip6 && (ip6->next_header == NF_PROTO_TCP || ip6->next_header == NF_PROTO_UDP);
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_l4_ports *l4 = nf_l4(pkt);
    if (!l4)
        return NF_DROP;
    if (pkt->port == 0)
        return count(any_ports, l4->dport);
    if (pkt->port == 1) {
        struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
        if (!ip || (ip->frag_off & __builtin_bswap16(0x3fff)))
            return NF_DROP;
        return count(v4_ports, l4->dport);
    }
    if (pkt->port == 2) {
        struct nf_ipv6_hdr *ip6 = nf_ipv6(pkt);
        if (!ip6 || (ip6->next_header != NF_PROTO_TCP && ip6->next_header != NF_PROTO_UDP))
            return NF_DROP;
        struct v6_key k = {.sport = l4->sport, .pad = 0};
        __builtin_memcpy(k.src, ip6->src, 16);
        return nf_map_put(v6_flows, &k, 1) ? 0 : NF_DROP;
    }
    if (!not_fragment(pkt))
        return NF_DROP;
    return count(mixed_ports, l4->dport);
}
