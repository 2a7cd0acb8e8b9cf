/*
 * nat.c - Vigor-style NAT: LAN flows share one external IPv4 address, each
 * flow getting external port base_port + its allocated index.
 *
 * Configuration:
 *   external_ip   the NAT's WAN address as a host-order integer
 *                 (default 0xC0000201, 192.0.2.1)
 *   base_port     first external port (default 1024)
 *   capacity      flows, which is also the number of external ports;
 *                 base_port + capacity <= 65536 (default 32768)
 *   expiry_ms     a flow idle for this long is freed (default 10000)
 *
 * State: flow_table (LAN 5-tuple -> index), flow_entries (allocator stamped
 * with the flow's last packet; index i owns external port base_port + i),
 * flow_keys (index -> LAN 5-tuple, for expiry), flows (index -> the flow's
 * internal ip/port, remote ip/port and protocol).
 *
 * Port 0 (LAN): IPv4 TCP/UDP. Look the 5-tuple up; on a miss allocate an index
 * and record the flow (table full: drop). Refresh, rewrite the source to
 * external_ip : base_port + index, fix checksums, send to port 1.
 * Port 1 (WAN): IPv4 TCP/UDP to external_ip. index = dport - base_port (out of
 * range: drop); the index must be allocated and its flow's stored remote
 * ip/port and protocol must equal the packet's source and protocol (the
 * guard: only the host the LAN flow talks to may answer). Then refresh,
 * rewrite the destination to the internal ip/port, fix checksums, send to
 * port 0. Anything else is dropped.
 * Non-IPv4, non-TCP/UDP frames and IPv4 fragments are dropped on both ports.
 */
#include "flow_key.h"

struct flow_record {
    uint32_t internal_ip;       /* network order, as in the packet */
    uint32_t remote_ip;
    uint16_t internal_port;
    uint16_t remote_port;
    uint8_t proto;
    uint8_t pad[3];
};

static struct nf_map *flow_table;
static struct nf_alloc *flow_entries;
static struct nf_vector *flow_keys;
static struct nf_vector *flows;
static uint32_t external_ip;        /* network order */
static uint32_t base_port;
static uint32_t capacity;
static uint64_t expiry_ns;

int nf_init(void)
{
    uint64_t ip = nf_config("external_ip", 0xC0000201);
    uint64_t base = nf_config("base_port", 1024);
    uint64_t cap = nf_config("capacity", 32768);
    expiry_ns = nf_config("expiry_ms", 10000) * 1000000ULL;
    if (ip > UINT32_MAX || base == 0 || cap == 0 || base + cap > 65536)
        return -1;
    external_ip = NFS_HTONL((uint32_t)ip);
    base_port = (uint32_t)base;
    capacity = (uint32_t)cap;

    flow_table = nf_map_create("nat_flow_table", sizeof(struct flow_key), capacity);
    flow_entries = nf_alloc_create("nat_flow_entries", capacity);
    flow_keys = nf_vector_create("nat_flow_keys", sizeof(struct flow_key), capacity);
    flows = nf_vector_create("nat_flows", sizeof(struct flow_record), capacity);
    if (flow_table == NULL || flow_entries == NULL || flow_keys == NULL || flows == NULL)
        return -1;
    return 0;
}

static int from_lan(struct nf_packet *pkt, const struct flow_key *key)
{
    int32_t found;
    uint32_t index;
    if (nf_map_get(flow_table, key, &found)) {
        index = (uint32_t)found;
        nf_alloc_refresh(flow_entries, index, pkt->time_ns);
    } else {
        if (!nf_alloc_new(flow_entries, pkt->time_ns, &index))
            return NF_DROP;             /* every external port in use */
        struct flow_key *stored_key = nf_vector_write(flow_keys, index);
        *stored_key = *key;
        struct flow_record *rec = nf_vector_write(flows, index);
        rec->internal_ip = key->src_ip;
        rec->internal_port = key->src_port;
        rec->remote_ip = key->dst_ip;
        rec->remote_port = key->dst_port;
        rec->proto = key->proto;
        rec->pad[0] = rec->pad[1] = rec->pad[2] = 0;
        nf_map_put(flow_table, key, (int32_t)index);
    }

    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    struct nf_l4_ports *l4 = nf_l4(pkt);
    ip->src = external_ip;
    l4->sport = NFS_HTONS((uint16_t)(base_port + index));
    nf_checksums_update(pkt);
    return 1;
}

static int from_wan(struct nf_packet *pkt, const struct flow_key *key)
{
    if (key->dst_ip != external_ip)
        return NF_DROP;
    uint32_t external_port = NFS_NTOHS(key->dst_port);
    if (external_port < base_port || external_port - base_port >= capacity)
        return NF_DROP;
    uint32_t index = external_port - base_port;
    if (!nf_alloc_is_allocated(flow_entries, index))
        return NF_DROP;
    const struct flow_record *rec = nf_vector_read(flows, index);
    if (rec->remote_ip != key->src_ip || rec->remote_port != key->src_port ||
        rec->proto != key->proto)
        return NF_DROP;                 /* not the host this flow talks to */
    uint32_t internal_ip = rec->internal_ip;
    uint16_t internal_port = rec->internal_port;
    nf_alloc_refresh(flow_entries, index, pkt->time_ns);

    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    struct nf_l4_ports *l4 = nf_l4(pkt);
    ip->dst = internal_ip;
    l4->dport = internal_port;
    nf_checksums_update(pkt);
    return 0;
}

int nf_process(struct nf_packet *pkt)
{
    struct flow_key key;
    if (!flow_key_from_packet(pkt, &key))
        return NF_DROP;
    nf_alloc_expire(flow_entries, expiry_cutoff(pkt->time_ns, expiry_ns), flow_table,
                    flow_keys);
    if (pkt->port == 0)
        return from_lan(pkt, &key);
    return from_wan(pkt, &key);
}
