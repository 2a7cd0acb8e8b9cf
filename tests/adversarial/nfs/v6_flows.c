/*
 * v6_flows.c - an IPv6-only connection table: inside hosts (port 0) open
 * flows, outside hosts (port 1) may only reply to open ones; flows idle for
 * `timeout_ms` are forgotten. IPv4 and anything without ports is dropped.
 *
 * Configuration: slots (default 8192), timeout_ms (default 5000).
 * State: v6_table (flow -> slot), v6_live (slots stamped at each packet),
 * v6_keys (slot -> flow, for expiry).
 *
 * A flow is (inside addr, outside addr, inside port, outside port, proto):
 * port 0 builds it from (src, dst, sport, dport), port 1 from
 * (dst, src, dport, sport). Ports are reached through nf_l4, which walks
 * extension headers and returns ports for a first fragment.
 *
 * Sound plan: the three objects sharded with a cross-port symmetric IPv6
 * hash (port 0 src/dst/sport/dport == port 1 dst/src/dport/sport); first
 * fragments (hashed by addresses only) break a plan that also hashes ports.
 */
#include <stdint.h>
#include <string.h>

#include "rsskey/nf.h"

struct v6_flow {
    uint8_t inside[16];
    uint8_t outside[16];
    uint16_t inside_port;
    uint16_t outside_port;
    uint8_t proto;
    uint8_t unused[3];
};

static struct nf_map *v6_table;
static struct nf_alloc *v6_live;
static struct nf_vector *v6_keys;
static uint64_t timeout;

int nf_init(void)
{
    uint32_t slots = (uint32_t)nf_config("slots", 8192);
    timeout = nf_config("timeout_ms", 5000) * 1000000ull;
    v6_table = nf_map_create("v6_table", sizeof(struct v6_flow), slots);
    v6_live = nf_alloc_create("v6_live", slots);
    v6_keys = nf_vector_create("v6_keys", sizeof(struct v6_flow), slots);
    return v6_table && v6_live && v6_keys ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_ipv6_hdr *ip6 = nf_ipv6(pkt);
    struct nf_l4_ports *l4 = nf_l4(pkt);
    uint8_t proto = nf_l4_proto(pkt);
    if (!ip6 || !l4 || (proto != NF_PROTO_TCP && proto != NF_PROTO_UDP))
        return NF_DROP;

    struct v6_flow f;
    memset(&f, 0, sizeof f);
    f.proto = proto;
    if (pkt->port == 0) {
        memcpy(f.inside, ip6->src, 16);
        memcpy(f.outside, ip6->dst, 16);
        f.inside_port = l4->sport;
        f.outside_port = l4->dport;
    } else {
        memcpy(f.inside, ip6->dst, 16);
        memcpy(f.outside, ip6->src, 16);
        f.inside_port = l4->dport;
        f.outside_port = l4->sport;
    }

    uint64_t now = pkt->time_ns;
    if (now > timeout)
        nf_alloc_expire(v6_live, now - timeout, v6_table, v6_keys);
    int32_t slot;
    if (nf_map_get(v6_table, &f, &slot)) {
        nf_alloc_refresh(v6_live, (uint32_t)slot, now);
        return pkt->port == 0 ? 1 : 0;
    }
    if (pkt->port == 1)
        return NF_DROP;
    uint32_t s;
    if (!nf_alloc_new(v6_live, now, &s))
        return NF_DROP;
    memcpy(nf_vector_write(v6_keys, s), &f, sizeof f);
    nf_map_put(v6_table, &f, (int32_t)s);
    return 1;
}
