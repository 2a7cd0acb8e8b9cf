/*
 * canon_monitor.c - a tap-side connection monitor: a mirror port (port 0)
 * delivers BOTH directions of every connection. Each IPv4 TCP/UDP connection
 * may carry `max_packets` packets (both directions together); later packets
 * are dropped. Everything goes out on port 1.
 *
 * Configuration: max_packets (default 64), conns (default 16384).
 * State: mon_conns (canonical connection -> slot), mon_slots (allocator),
 * mon_counts (slot -> packets).
 *
 * The connection key puts the two endpoints in a canonical order: the
 * endpoint with the smaller (address, port) comes first, so A->B and B->A give
 * the same key.
 *
 * Sound plan: sharded with a hash that is symmetric on port 0 itself
 * (H(s,d,sp,dp) == H(d,s,dp,sp)), or shared. A plan sharded by an
 * asymmetric 4-tuple splits the two directions.
 */
#include <stdint.h>
#include <string.h>

#include "rsskey/nf.h"

struct endpoint {
    uint32_t ip;        /* host order */
    uint16_t port;
};

struct canon_key {
    uint32_t lo_ip, hi_ip;
    uint16_t lo_port, hi_port;
    uint32_t proto;
};

static struct nf_map *mon_conns;
static struct nf_alloc *mon_slots;
static struct nf_vector *mon_counts;
static uint32_t max_packets;

int nf_init(void)
{
    uint32_t n = (uint32_t)nf_config("conns", 16384);
    max_packets = (uint32_t)nf_config("max_packets", 64);
    mon_conns = nf_map_create("mon_conns", sizeof(struct canon_key), n);
    mon_slots = nf_alloc_create("mon_slots", n);
    mon_counts = nf_vector_create("mon_counts", sizeof(uint32_t), n);
    return mon_conns && mon_slots && mon_counts ? 0 : -1;
}

static uint32_t swap32(uint32_t v)
{
    return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
}

static uint16_t swap16(uint16_t v)
{
    return (uint16_t)((v >> 8) | (v << 8));
}

static int endpoint_less(struct endpoint a, struct endpoint b)
{
    return a.ip < b.ip || (a.ip == b.ip && a.port < b.port);
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    struct nf_l4_ports *l4 = nf_l4(pkt);
    if (!ip || !l4)
        return 1;
    struct endpoint a = {swap32(ip->src), swap16(l4->sport)};
    struct endpoint b = {swap32(ip->dst), swap16(l4->dport)};
    if (endpoint_less(b, a)) {
        struct endpoint t = a;
        a = b;
        b = t;
    }
    struct canon_key key = {a.ip, b.ip, a.port, b.port, ip->proto};

    int32_t slot;
    uint32_t index;
    if (nf_map_get(mon_conns, &key, &slot)) {
        index = (uint32_t)slot;
    } else {
        if (!nf_alloc_new(mon_slots, pkt->time_ns, &index))
            return 1;                   /* table full: not monitored */
        *(uint32_t *)nf_vector_write(mon_counts, index) = 0;
        nf_map_put(mon_conns, &key, (int32_t)index);
    }
    uint32_t *count = nf_vector_write(mon_counts, index);
    *count += 1;
    return *count > max_packets ? NF_DROP : 1;
}
