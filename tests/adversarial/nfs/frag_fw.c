/*
 * frag_fw.c - a stateful IPv4 firewall as another team wrote it: inside hosts
 * (port 0) open connections, outside hosts (port 1) may only answer them.
 *
 * Configuration: max_conns (default 16384), idle_ms (default 30000).
 * State: conn_index (connection -> slot), conn_slots (slots stamped with the
 * last packet seen), conn_ids (slot -> connection, so idle ones are erased).
 *
 * Port 0: TCP/UDP opens or refreshes its connection, goes out on port 1.
 * Port 1: TCP/UDP passes to port 0 if the mirrored connection is open.
 * A fragment that does not carry the L4 header cannot be checked and is let
 * through both ways, as is non-IPv4 traffic from the inside.
 *
 * Adversarial point: ports come from nf_l4, which returns them for the FIRST
 * fragment of a datagram too (MF set, offset 0). RSS hashes fragments by the
 * addresses only (L3), and unfragmented packets of the same connection by the
 * 4-tuple (L4): a plan sharded by the 4-tuple sends a connection's first
 * fragments and its other packets to different cores. Sound: shard by the
 * address pair only (symmetric across ports) or share the table.
 */
#include <stdint.h>
#include <string.h>

#include "rsskey/nf.h"

struct conn {
    uint32_t inside, outside;
    uint16_t inside_port, outside_port;
    uint8_t proto;
    uint8_t zero[3];
};

static struct nf_map *conn_index;
static struct nf_alloc *conn_slots;
static struct nf_vector *conn_ids;
static uint64_t idle_ns;

int nf_init(void)
{
    uint32_t max_conns = (uint32_t)nf_config("max_conns", 16384);
    idle_ns = nf_config("idle_ms", 30000) * 1000000ull;
    conn_index = nf_map_create("conn_index", sizeof(struct conn), max_conns);
    conn_slots = nf_alloc_create("conn_slots", max_conns);
    conn_ids = nf_vector_create("conn_ids", sizeof(struct conn), max_conns);
    if (!conn_index || !conn_slots || !conn_ids)
        return -1;
    return 0;
}

/* The connection as seen from inside; false when the packet has no ports. */
static int describe(struct nf_packet *pkt, struct nf_ipv4_hdr *ip, struct conn *c)
{
    struct nf_l4_ports *ports = nf_l4(pkt);
    if (ports == NULL)
        return 0;
    memset(c, 0, sizeof *c);
    c->proto = ip->proto;
    if (pkt->port == 0) {
        c->inside = ip->src;
        c->outside = ip->dst;
        c->inside_port = ports->sport;
        c->outside_port = ports->dport;
    } else {
        c->inside = ip->dst;
        c->outside = ip->src;
        c->inside_port = ports->dport;
        c->outside_port = ports->sport;
    }
    return 1;
}

int nf_process(struct nf_packet *pkt)
{
    int out = pkt->port == 0 ? 1 : 0;
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (ip == NULL)
        return pkt->port == 0 ? 1 : NF_DROP;
    if (ip->proto != NF_PROTO_TCP && ip->proto != NF_PROTO_UDP)
        return NF_DROP;
    struct conn c;
    if (!describe(pkt, ip, &c))
        return out;                     /* a later fragment: nothing to check */

    uint64_t now = pkt->time_ns;
    nf_alloc_expire(conn_slots, now > idle_ns ? now - idle_ns : 0, conn_index, conn_ids);
    int32_t slot;
    if (nf_map_get(conn_index, &c, &slot)) {
        nf_alloc_refresh(conn_slots, (uint32_t)slot, now);
        return out;
    }
    if (pkt->port != 0)
        return NF_DROP;
    uint32_t fresh;
    if (!nf_alloc_new(conn_slots, now, &fresh))
        return NF_DROP;
    memcpy(nf_vector_write(conn_ids, fresh), &c, sizeof c);
    nf_map_put(conn_index, &c, (int32_t)fresh);
    return out;
}
