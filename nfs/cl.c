/*
 * cl.c - connection limiter: at most `limit` new connections from one client
 * to one server, counted in a count-min sketch keyed (client IP, server IP).
 *
 * Configuration:
 *   limit          connections allowed per (client, server) (default 100)
 *   sketch_width   counters per sketch row (default 4096)
 *   sketch_depth   sketch rows (default 4)
 *   capacity       flows tracked (default 65536)
 *   expiry_ms      a flow idle for this long is forgotten (default 10000)
 *
 * State: conn_sketch (client/server pair -> connections opened, over the
 * NF's lifetime: counts never decay), flow_table (5-tuple -> index),
 * flow_entries (allocator stamped with the flow's last packet), flow_keys.
 *
 * Port 0 (clients): an IPv4 TCP/UDP packet of a live flow refreshes it and
 * passes to port 1. A packet of a new flow is a new connection: if the
 * sketch's estimate for (src IP, dst IP) has reached `limit`, it is dropped;
 * otherwise the pair is counted, the flow recorded (if the table has room)
 * and the packet passes. Other frames from port 0 (IPv4 fragments included)
 * pass uncounted.
 * Port 1 (servers): every frame passes to port 0 (answers need no limit).
 */
#include "flow_key.h"

struct pair_key {
    uint32_t client_ip;
    uint32_t server_ip;
};

static struct nf_sketch *conn_sketch;
static struct nf_map *flow_table;
static struct nf_alloc *flow_entries;
static struct nf_vector *flow_keys;
static uint64_t limit;
static uint64_t expiry_ns;

int nf_init(void)
{
    uint64_t capacity = nf_config("capacity", 65536);
    uint64_t width = nf_config("sketch_width", 4096);
    uint64_t depth = nf_config("sketch_depth", 4);
    limit = nf_config("limit", 100);
    expiry_ns = nf_config("expiry_ms", 10000) * 1000000ULL;
    if (capacity == 0 || capacity > UINT32_MAX || width == 0 || width > UINT32_MAX ||
        depth == 0 || depth > 64)
        return -1;
    conn_sketch = nf_sketch_create("cl_conn_sketch", sizeof(struct pair_key),
                                   (uint32_t)width, (uint32_t)depth);
    flow_table = nf_map_create("cl_flow_table", sizeof(struct flow_key), (uint32_t)capacity);
    flow_entries = nf_alloc_create("cl_flow_entries", (uint32_t)capacity);
    flow_keys = nf_vector_create("cl_flow_keys", sizeof(struct flow_key), (uint32_t)capacity);
    if (conn_sketch == NULL || flow_table == NULL || flow_entries == NULL || flow_keys == NULL)
        return -1;
    return 0;
}

static int new_connection(struct nf_packet *pkt, const struct flow_key *key)
{
    struct pair_key pair = { .client_ip = key->src_ip, .server_ip = key->dst_ip };
    if (nf_sketch_estimate(conn_sketch, &pair) >= limit)
        return NF_DROP;
    nf_sketch_add(conn_sketch, &pair, 1);
    uint32_t fresh;
    if (nf_alloc_new(flow_entries, pkt->time_ns, &fresh)) {
        struct flow_key *stored_key = nf_vector_write(flow_keys, fresh);
        *stored_key = *key;
        nf_map_put(flow_table, key, (int32_t)fresh);
    }
    return 1;
}

int nf_process(struct nf_packet *pkt)
{
    if (pkt->port != 0)
        return 0;
    struct flow_key key;
    if (!flow_key_from_packet(pkt, &key))
        return 1;
    nf_alloc_expire(flow_entries, expiry_cutoff(pkt->time_ns, expiry_ns), flow_table,
                    flow_keys);
    int32_t index;
    if (nf_map_get(flow_table, &key, &index)) {
        nf_alloc_refresh(flow_entries, (uint32_t)index, pkt->time_ns);
        return 1;
    }
    return new_connection(pkt, &key);
}
