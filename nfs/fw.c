/*
 * fw.c - stateful firewall: LAN hosts open flows, the WAN may only answer.
 *
 * Configuration:
 *   capacity    flows tracked (default 65536)
 *   expiry_ms   a flow idle for this long is forgotten (default 10000)
 *
 * State: flow_table (LAN-side 5-tuple -> index), flow_entries (allocator
 * stamped with the flow's last packet), flow_keys (index -> 5-tuple, for
 * expiry). One table serves both ports.
 *
 * Port 0 (LAN): an IPv4 TCP/UDP packet creates or refreshes its flow, keyed
 * (src, dst, sport, dport, proto), and goes to port 1; when the table is full
 * a new flow's packet is dropped (it could never be answered).
 * Port 1 (WAN): an IPv4 TCP/UDP packet passes to port 0 only if the reversed
 * tuple (dst, src, dport, sport, proto) is a live flow, which it refreshes;
 * anything else is dropped.
 * Non-IPv4 and non-TCP/UDP frames, and IPv4 fragments (only the first would
 * carry the ports), are dropped on both ports.
 */
#include "flow_key.h"

static struct nf_map *flow_table;
static struct nf_alloc *flow_entries;
static struct nf_vector *flow_keys;
static uint64_t expiry_ns;

int nf_init(void)
{
    uint64_t capacity = nf_config("capacity", 65536);
    expiry_ns = nf_config("expiry_ms", 10000) * 1000000ULL;
    if (capacity == 0 || capacity > UINT32_MAX)
        return -1;
    flow_table = nf_map_create("fw_flow_table", sizeof(struct flow_key), (uint32_t)capacity);
    flow_entries = nf_alloc_create("fw_flow_entries", (uint32_t)capacity);
    flow_keys = nf_vector_create("fw_flow_keys", sizeof(struct flow_key), (uint32_t)capacity);
    if (flow_table == NULL || flow_entries == NULL || flow_keys == NULL)
        return -1;
    return 0;
}

static int from_lan(struct nf_packet *pkt, const struct flow_key *key)
{
    int32_t index;
    if (nf_map_get(flow_table, key, &index)) {
        nf_alloc_refresh(flow_entries, (uint32_t)index, pkt->time_ns);
        return 1;
    }
    uint32_t fresh;
    if (!nf_alloc_new(flow_entries, pkt->time_ns, &fresh))
        return NF_DROP;                 /* table full */
    struct flow_key *stored_key = nf_vector_write(flow_keys, fresh);
    *stored_key = *key;
    nf_map_put(flow_table, key, (int32_t)fresh);
    return 1;
}

static int from_wan(struct nf_packet *pkt, const struct flow_key *key)
{
    struct flow_key lan_side;
    flow_key_reverse(key, &lan_side);
    int32_t index;
    if (!nf_map_get(flow_table, &lan_side, &index))
        return NF_DROP;                 /* nobody inside asked for this */
    nf_alloc_refresh(flow_entries, (uint32_t)index, pkt->time_ns);
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
