/*
 * nat_wrong_host.c - a port-translating NAT with a translation bug that only
 * shows when flows get other external ports than a single instance would
 * give them.
 *
 * Inside (port 0) IPv4 TCP/UDP flows share the address `public_ip`; flow
 * number i (an allocator index) leaves with source port first_port + i.
 * Outside (port 1) replies to public_ip:first_port+i are accepted when slot i
 * is live and the reply comes from the flow's remote address and port; the
 * destination is then rewritten to the inside host, computed as
 *     stored inside address + (i & 1)       (the bug: should be + 0)
 * so a flow translated through an odd slot answers the wrong inside host.
 * Sequentially the slots are 0, 1, 2, ...; on several cores each core hands
 * out its own range, so the parity, hence the host, differs from the
 * sequential NF for some flows. With NAT_DETERMINISTIC_BUG defined
 * (nat_wrong_host_det.c) the host is always stored ^ 1: wrong, but the same
 * whatever slot a flow gets.
 *
 * IPv4 fragments are dropped (as nfs/nat.c drops them), so the analysis can
 * shard it by the remote end like the NAT; what remains is the slot bug.
 *
 * Configuration: public_ip (host order, default 0xC6336401 = 198.51.100.1),
 * first_port (default 20000), flows (default 4096; first_port + flows <=
 * 65536), idle_ms (default 10000).
 * State: nat_lookup (inside 5-tuple -> slot), nat_slots (allocator),
 * nat_keys (slot -> 5-tuple), nat_binding (slot -> inside and remote ends).
 */
#include <stdint.h>
#include <string.h>

#include "rsskey/nf.h"

struct five_tuple {
    uint32_t saddr, daddr;
    uint16_t sport, dport;
    uint8_t proto, pad[3];
};

struct binding {
    uint32_t inside_addr, remote_addr;
    uint16_t inside_port, remote_port;
    uint8_t proto, pad[3];
};

/* Byte order helpers (x86 is little-endian). */
static uint16_t swap16(uint16_t v)
{
    return (uint16_t)(v << 8 | v >> 8);
}

static uint32_t swap32(uint32_t v)
{
    return v << 24 | (v & 0xff00) << 8 | (v >> 8 & 0xff00) | v >> 24;
}

static struct nf_map *nat_lookup;
static struct nf_alloc *nat_slots;
static struct nf_vector *nat_keys, *nat_binding;
static uint32_t public_ip;      /* network order */
static uint32_t first_port, nflows;
static uint64_t idle_ns;

int nf_init(void)
{
    public_ip = swap32((uint32_t)nf_config("public_ip", 0xC6336401));
    first_port = (uint32_t)nf_config("first_port", 20000);
    nflows = (uint32_t)nf_config("flows", 4096);
    idle_ns = nf_config("idle_ms", 10000) * 1000000ull;
    if (nflows == 0 || first_port + nflows > 65536)
        return -1;
    nat_lookup = nf_map_create("nat_lookup", sizeof(struct five_tuple), nflows);
    nat_slots = nf_alloc_create("nat_slots", nflows);
    nat_keys = nf_vector_create("nat_keys", sizeof(struct five_tuple), nflows);
    nat_binding = nf_vector_create("nat_binding", sizeof(struct binding), nflows);
    return nat_lookup && nat_slots && nat_keys && nat_binding ? 0 : -1;
}

static uint32_t inside_host(const struct binding *b, uint32_t slot)
{
#ifdef NAT_DETERMINISTIC_BUG
    (void)slot;
    return b->inside_addr ^ swap32(1);
#else
    return swap32(swap32(b->inside_addr) + (slot & 1));
#endif
}

static int outbound(struct nf_packet *pkt, struct nf_ipv4_hdr *ip, struct nf_l4_ports *l4)
{
    struct five_tuple t;
    memset(&t, 0, sizeof t);
    t.saddr = ip->src, t.daddr = ip->dst;
    t.sport = l4->sport, t.dport = l4->dport;
    t.proto = ip->proto;
    int32_t found;
    uint32_t slot;
    if (nf_map_get(nat_lookup, &t, &found)) {
        slot = (uint32_t)found;
        nf_alloc_refresh(nat_slots, slot, pkt->time_ns);
    } else {
        if (!nf_alloc_new(nat_slots, pkt->time_ns, &slot))
            return NF_DROP;
        memcpy(nf_vector_write(nat_keys, slot), &t, sizeof t);
        struct binding *b = nf_vector_write(nat_binding, slot);
        b->inside_addr = ip->src;
        b->inside_port = l4->sport;
        b->remote_addr = ip->dst;
        b->remote_port = l4->dport;
        b->proto = ip->proto;
        b->pad[0] = b->pad[1] = b->pad[2] = 0;
        nf_map_put(nat_lookup, &t, (int32_t)slot);
    }
    ip->src = public_ip;
    l4->sport = swap16((uint16_t)(first_port + slot));
    nf_checksums_update(pkt);
    return 1;
}

static int inbound(struct nf_packet *pkt, struct nf_ipv4_hdr *ip, struct nf_l4_ports *l4)
{
    uint32_t port = swap16(l4->dport);
    if (ip->dst != public_ip || port < first_port || port - first_port >= nflows)
        return NF_DROP;
    uint32_t slot = port - first_port;
    if (!nf_alloc_is_allocated(nat_slots, slot))
        return NF_DROP;
    const struct binding *b = nf_vector_read(nat_binding, slot);
    if (b->remote_addr != ip->src || b->remote_port != l4->sport || b->proto != ip->proto)
        return NF_DROP;
    uint32_t host = inside_host(b, slot);
    uint16_t host_port = b->inside_port;
    nf_alloc_refresh(nat_slots, slot, pkt->time_ns);
    ip->dst = host;
    l4->dport = host_port;
    nf_checksums_update(pkt);
    return 0;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    struct nf_l4_ports *l4 = nf_l4(pkt);
    if (!ip || !l4 || (ip->proto != NF_PROTO_TCP && ip->proto != NF_PROTO_UDP))
        return NF_DROP;
    if (ip->frag_off & swap16(0x3fff))  /* fragments: dropped, as nfs/nat.c does */
        return NF_DROP;
    uint64_t now = pkt->time_ns;
    nf_alloc_expire(nat_slots, now > idle_ns ? now - idle_ns : 0, nat_lookup, nat_keys);
    return pkt->port == 0 ? outbound(pkt, ip, l4) : inbound(pkt, ip, l4);
}
