/*
 * lb.c - Maglev-style load balancer. Clients on port 0 reach a virtual
 * service; each flow is pinned to one of the live backends behind port 1.
 *
 * Configuration:
 *   backends            backend slots (default 32)
 *   chash_size          consistent-hash table entries, a prime well above
 *                       `backends` (default 4099)
 *   backend_timeout_ms  a backend with no heartbeat for this long is dead
 *                       (default 1000)
 *   capacity            flows tracked (default 65536)
 *   expiry_ms           a flow idle for this long is forgotten (default 10000)
 *
 * State: backend_table (backend IP -> slot), backends_alive (allocator of
 * slots, stamped with the last heartbeat), backend_keys (slot -> IP, for
 * expiry), backend_info (slot -> the backend's IP), backend_chash (Maglev
 * table over the slots); flow_table (5-tuple -> index), flow_entries
 * (allocator stamped with the flow's last packet), flow_keys, flow_backends
 * (index -> the slot and IP of the flow's backend).
 *
 * Port 1 (backends): every IPv4 frame is a heartbeat from the backend with
 * its source IP. It first expires the backends whose last heartbeat is older
 * than backend_timeout_ms, then registers its backend (taking a free slot;
 * none free: ignored) or refreshes it, and is consumed (dropped). Non-IPv4:
 * dropped. Liveness changes only at heartbeats, like a control plane's health
 * checks: a dead backend is noticed at the next heartbeat of any backend, and
 * the client path never writes backend state (it only reads it, so a lock
 * plan runs clients under a core's read token). If every backend stops
 * beating, clients keep going to the last live set.
 * Port 0 (clients): IPv4 TCP/UDP packets. A live flow keeps its backend while
 * that backend is alive; a new flow, or one whose backend died (slot freed or
 * taken by another backend since), gets the consistent-hash choice among the
 * live backends. The destination IP is rewritten to the backend's, checksums
 * fixed, and the packet goes to port 1. No live backend, a full flow table or
 * a frame that is not an unfragmented IPv4 TCP/UDP packet: dropped.
 */
#include "flow_key.h"

struct backend_key {
    uint32_t ip;
};

struct backend_record {
    uint32_t ip;
};

struct flow_backend {
    uint32_t slot;
    uint32_t ip;                /* the backend's IP when the flow was pinned */
};

static struct nf_map *backend_table;
static struct nf_alloc *backends_alive;
static struct nf_vector *backend_keys;
static struct nf_vector *backend_info;
static struct nf_chash *backend_chash;
static struct nf_map *flow_table;
static struct nf_alloc *flow_entries;
static struct nf_vector *flow_keys;
static struct nf_vector *flow_backends;
static uint64_t backend_timeout_ns;
static uint64_t expiry_ns;

int nf_init(void)
{
    uint64_t backends = nf_config("backends", 32);
    uint64_t chash_size = nf_config("chash_size", 4099);
    uint64_t capacity = nf_config("capacity", 65536);
    backend_timeout_ns = nf_config("backend_timeout_ms", 1000) * 1000000ULL;
    expiry_ns = nf_config("expiry_ms", 10000) * 1000000ULL;
    if (backends == 0 || backends > 65536 || chash_size < backends ||
        chash_size > UINT32_MAX || capacity == 0 || capacity > UINT32_MAX)
        return -1;
    backend_table = nf_map_create("lb_backend_table", sizeof(struct backend_key),
                                  (uint32_t)backends);
    backends_alive = nf_alloc_create("lb_backends_alive", (uint32_t)backends);
    backend_keys = nf_vector_create("lb_backend_keys", sizeof(struct backend_key),
                                    (uint32_t)backends);
    backend_info = nf_vector_create("lb_backend_info", sizeof(struct backend_record),
                                    (uint32_t)backends);
    backend_chash = nf_chash_create("lb_backend_chash", (uint32_t)backends,
                                    (uint32_t)chash_size);
    flow_table = nf_map_create("lb_flow_table", sizeof(struct flow_key), (uint32_t)capacity);
    flow_entries = nf_alloc_create("lb_flow_entries", (uint32_t)capacity);
    flow_keys = nf_vector_create("lb_flow_keys", sizeof(struct flow_key), (uint32_t)capacity);
    flow_backends = nf_vector_create("lb_flow_backends", sizeof(struct flow_backend),
                                     (uint32_t)capacity);
    if (backend_table == NULL || backends_alive == NULL || backend_keys == NULL ||
        backend_info == NULL || backend_chash == NULL || flow_table == NULL ||
        flow_entries == NULL || flow_keys == NULL || flow_backends == NULL)
        return -1;
    return 0;
}

static int heartbeat(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (ip == NULL)
        return NF_DROP;
    nf_alloc_expire(backends_alive, expiry_cutoff(pkt->time_ns, backend_timeout_ns),
                    backend_table, backend_keys);
    struct backend_key key = { .ip = ip->src };
    int32_t found;
    if (nf_map_get(backend_table, &key, &found)) {
        nf_alloc_refresh(backends_alive, (uint32_t)found, pkt->time_ns);
        return NF_DROP;
    }
    uint32_t slot;
    if (!nf_alloc_new(backends_alive, pkt->time_ns, &slot))
        return NF_DROP;                 /* no free slot: ignore this backend */
    struct backend_key *stored_key = nf_vector_write(backend_keys, slot);
    *stored_key = key;
    struct backend_record *rec = nf_vector_write(backend_info, slot);
    rec->ip = key.ip;
    nf_map_put(backend_table, &key, (int32_t)slot);
    return NF_DROP;                     /* heartbeats are consumed */
}

/* True when the flow's pinned backend still holds its slot. */
static bool backend_still_alive(const struct flow_backend *pinned)
{
    if (!nf_alloc_is_allocated(backends_alive, pinned->slot))
        return false;
    const struct backend_record *now_in_slot = nf_vector_read(backend_info, pinned->slot);
    return now_in_slot->ip == pinned->ip;
}

static int client_packet(struct nf_packet *pkt, const struct flow_key *key)
{
    nf_alloc_expire(flow_entries, expiry_cutoff(pkt->time_ns, expiry_ns), flow_table,
                    flow_keys);
    int32_t found;
    uint32_t index;
    bool known = nf_map_get(flow_table, key, &found);
    if (known) {
        index = (uint32_t)found;
        nf_alloc_refresh(flow_entries, index, pkt->time_ns);
        const struct flow_backend *pinned = nf_vector_read(flow_backends, index);
        if (!backend_still_alive(pinned))
            known = false;              /* pick again below */
    } else {
        if (!nf_alloc_new(flow_entries, pkt->time_ns, &index))
            return NF_DROP;             /* flow table full */
        struct flow_key *stored_key = nf_vector_write(flow_keys, index);
        *stored_key = *key;
        nf_map_put(flow_table, key, (int32_t)index);
    }

    if (!known) {
        int32_t slot = nf_chash_lookup(backend_chash, key, sizeof *key, backends_alive);
        if (slot < 0) {
            nf_alloc_free(flow_entries, index);
            nf_map_erase(flow_table, key);
            return NF_DROP;             /* no live backend */
        }
        const struct backend_record *chosen = nf_vector_read(backend_info, (uint32_t)slot);
        uint32_t chosen_ip = chosen->ip;
        struct flow_backend *pin = nf_vector_write(flow_backends, index);
        pin->slot = (uint32_t)slot;
        pin->ip = chosen_ip;
    }

    const struct flow_backend *pinned = nf_vector_read(flow_backends, index);
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    ip->dst = pinned->ip;
    nf_checksums_update(pkt);
    return 1;
}

int nf_process(struct nf_packet *pkt)
{
    if (pkt->port == 1)
        return heartbeat(pkt);
    struct flow_key key;
    if (!flow_key_from_packet(pkt, &key))
        return NF_DROP;
    return client_packet(pkt, &key);
}
