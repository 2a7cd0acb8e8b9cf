/*
 * dns_txid.c - DNS answer filter: a UDP answer from port 53 reaching the
 * inside (port 1 -> 0) must match an outstanding query, i.e. one an inside
 * client (port 0 -> 1) sent to port 53 with the same transaction id. A
 * matched answer clears the query. Other traffic is forwarded untouched.
 *
 * Configuration: pending (default 4096) outstanding queries.
 * State: outstanding, a map (client IPv4 address, DNS transaction id) -> 1.
 *
 * The transaction id is the first two bytes of the UDP payload.
 *
 * Adversarial point: half of the key is payload, which RSS cannot hash.
 * Sharding by the client address (port 0 ipv4.src == port 1 ipv4.dst) is
 * sound: equal keys have equal clients. The payload bytes sit at L4 offset 8,
 * right after the ports: they must not be mistaken for port bits.
 */
#include <stdint.h>

#include "rsskey/nf.h"

#define DNS_PORT 53

struct query_key {
    uint32_t client;
    uint16_t txid;
    uint16_t zero;
};

static struct nf_map *outstanding;

int nf_init(void)
{
    outstanding = nf_map_create("outstanding", sizeof(struct query_key),
                                (uint32_t)nf_config("pending", 4096));
    return outstanding ? 0 : -1;
}

static int read_txid(struct nf_packet *pkt, struct nf_udp_hdr *udp, uint16_t *txid)
{
    const uint8_t *payload = (const uint8_t *)(udp + 1);
    if (payload + 2 > pkt->data + pkt->len)
        return 0;
    *txid = (uint16_t)(payload[0] << 8 | payload[1]);
    return 1;
}

int nf_process(struct nf_packet *pkt)
{
    int forward = pkt->port == 0 ? 1 : 0;
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    struct nf_udp_hdr *udp = nf_udp(pkt);
    if (ip == NULL || udp == NULL)
        return forward;
    struct query_key q = {0, 0, 0};
    if (pkt->port == 0) {
        if (udp->dport != __builtin_bswap16(DNS_PORT) || !read_txid(pkt, udp, &q.txid))
            return forward;
        q.client = ip->src;
        return nf_map_put(outstanding, &q, 1) ? forward : NF_DROP;
    }
    if (udp->sport != __builtin_bswap16(DNS_PORT))
        return forward;
    if (!read_txid(pkt, udp, &q.txid))
        return NF_DROP;
    q.client = ip->dst;
    return nf_map_erase(outstanding, &q) ? forward : NF_DROP;
}
