/*
 * flowquota.c - the example NF of docs/nf-api.md: each LAN flow may send
 * `quota` packets; later packets of the flow are dropped until it has been
 * idle for `expiry_ms` and is forgotten. WAN traffic passes untouched.
 */
#include "rsskey/nf.h"

struct flow_key {                  /* built from header fields, padding explicit */
    uint32_t src_ip, dst_ip;
    uint16_t src_port, dst_port;
    uint8_t proto, pad[3];
};

struct flow_count {
    uint64_t packets;
};

/* Handles to state objects: written in nf_init only. */
static struct nf_map *flow_table;      /* 5-tuple -> index */
static struct nf_alloc *flow_entries;  /* indexes, stamped at each packet */
static struct nf_vector *flow_keys;    /* index -> 5-tuple, for expiry */
static struct nf_vector *flow_counts;  /* index -> packets so far */
static uint64_t quota, expiry_ns;      /* configuration, read-only later */

int nf_init(void)
{
    uint32_t capacity = (uint32_t)nf_config("capacity", 65536);
    quota = nf_config("quota", 1000);
    expiry_ns = nf_config("expiry_ms", 10000) * 1000000ULL;
    flow_table = nf_map_create("flowquota_table", sizeof(struct flow_key), capacity);
    flow_entries = nf_alloc_create("flowquota_entries", capacity);
    flow_keys = nf_vector_create("flowquota_keys", sizeof(struct flow_key), capacity);
    flow_counts = nf_vector_create("flowquota_counts", sizeof(struct flow_count), capacity);
    return flow_table && flow_entries && flow_keys && flow_counts ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    if (pkt->port == 1)
        return 0;                       /* WAN -> LAN: not limited */
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    struct nf_l4_ports *l4 = nf_l4(pkt);
    if (ip == NULL || l4 == NULL || (ip->proto != NF_PROTO_TCP && ip->proto != NF_PROTO_UDP))
        return NF_DROP;                 /* only IPv4 TCP/UDP leaves the LAN */

    uint64_t now = pkt->time_ns;
    nf_alloc_expire(flow_entries, now > expiry_ns ? now - expiry_ns : 0,
                    flow_table, flow_keys);

    struct flow_key key = {
        .src_ip = ip->src, .dst_ip = ip->dst,
        .src_port = l4->sport, .dst_port = l4->dport,
        .proto = ip->proto, .pad = {0, 0, 0},
    };
    int32_t found;
    uint32_t index;
    if (nf_map_get(flow_table, &key, &found)) {
        index = (uint32_t)found;
        nf_alloc_refresh(flow_entries, index, now);
    } else {
        if (!nf_alloc_new(flow_entries, now, &index))
            return NF_DROP;             /* table full */
        struct flow_key *stored = nf_vector_write(flow_keys, index);
        *stored = key;
        struct flow_count *fresh = nf_vector_write(flow_counts, index);
        fresh->packets = 0;
        nf_map_put(flow_table, &key, (int32_t)index);
    }

    struct flow_count *count = nf_vector_write(flow_counts, index);
    count->packets += 1;
    return count->packets > quota ? NF_DROP : 1;
}
