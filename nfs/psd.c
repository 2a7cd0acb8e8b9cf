/*
 * psd.c - port-scan detector: a WAN source that touches more than
 * `threshold` distinct destination ports within one window is blocked until
 * its window ends.
 *
 * Configuration:
 *   threshold      distinct ports allowed per window (default 64)
 *   window_ms      length of a source's window (default 10000)
 *   capacity       sources tracked (default 65536)
 *   port_capacity  (source, port) pairs tracked (default 262144)
 *
 * State: source_table (src IP -> index), source_entries (allocator stamped
 * when the source's window opened; never refreshed, so the entry expires when
 * the window ends), source_keys, sources (index -> {distinct ports, window
 * start}); port_table ((src IP, dst port) -> index), port_entries (stamped at
 * the pair's last packet), port_keys, ports (index -> the window start the
 * pair was last counted in, so a pair left over from an earlier window counts
 * again).
 *
 * Port 1 (WAN -> LAN): IPv4 TCP/UDP packets are inspected; the packet that
 * takes its source over the threshold and every later packet of that source
 * in the same window are dropped. A packet that finds a table full passes
 * uncounted. Other frames on port 1 (IPv4 fragments included) pass.
 * Port 0 (LAN -> WAN): every frame passes to port 1, uninspected.
 */
#include "flow_key.h"

struct source_key {
    uint32_t src_ip;
};

struct source_record {
    uint64_t window_start_ns;
    uint32_t distinct_ports;
    uint32_t pad;
};

struct port_key {
    uint32_t src_ip;
    uint16_t dst_port;
    uint16_t pad;
};

struct port_record {
    uint64_t window_start_ns;
};

static struct nf_map *source_table;
static struct nf_alloc *source_entries;
static struct nf_vector *source_keys;
static struct nf_vector *sources;
static struct nf_map *port_table;
static struct nf_alloc *port_entries;
static struct nf_vector *port_keys;
static struct nf_vector *ports;
static uint64_t threshold;
static uint64_t window_ns;

int nf_init(void)
{
    uint64_t capacity = nf_config("capacity", 65536);
    uint64_t port_capacity = nf_config("port_capacity", 262144);
    threshold = nf_config("threshold", 64);
    window_ns = nf_config("window_ms", 10000) * 1000000ULL;
    if (capacity == 0 || capacity > UINT32_MAX || port_capacity == 0 ||
        port_capacity > UINT32_MAX)
        return -1;
    source_table = nf_map_create("psd_source_table", sizeof(struct source_key),
                                 (uint32_t)capacity);
    source_entries = nf_alloc_create("psd_source_entries", (uint32_t)capacity);
    source_keys = nf_vector_create("psd_source_keys", sizeof(struct source_key),
                                   (uint32_t)capacity);
    sources = nf_vector_create("psd_sources", sizeof(struct source_record), (uint32_t)capacity);
    port_table = nf_map_create("psd_port_table", sizeof(struct port_key),
                               (uint32_t)port_capacity);
    port_entries = nf_alloc_create("psd_port_entries", (uint32_t)port_capacity);
    port_keys = nf_vector_create("psd_port_keys", sizeof(struct port_key),
                                 (uint32_t)port_capacity);
    ports = nf_vector_create("psd_ports", sizeof(struct port_record), (uint32_t)port_capacity);
    if (source_table == NULL || source_entries == NULL || source_keys == NULL ||
        sources == NULL || port_table == NULL || port_entries == NULL || port_keys == NULL ||
        ports == NULL)
        return -1;
    return 0;
}

/* Counts (src, dport) for the source at `source_index` if it is new in the
 * source's current window. */
static void count_port(struct nf_packet *pkt, uint32_t source_index, const struct port_key *key)
{
    const struct source_record *src = nf_vector_read(sources, source_index);
    uint64_t window_start = src->window_start_ns;
    int32_t found;
    if (nf_map_get(port_table, key, &found)) {
        uint32_t index = (uint32_t)found;
        nf_alloc_refresh(port_entries, index, pkt->time_ns);
        const struct port_record *seen = nf_vector_read(ports, index);
        if (seen->window_start_ns == window_start)
            return;                     /* already counted in this window */
        struct port_record *rec = nf_vector_write(ports, index);
        rec->window_start_ns = window_start;
    } else {
        uint32_t index;
        if (!nf_alloc_new(port_entries, pkt->time_ns, &index))
            return;                     /* pair table full: not counted */
        struct port_key *stored_key = nf_vector_write(port_keys, index);
        *stored_key = *key;
        struct port_record *rec = nf_vector_write(ports, index);
        rec->window_start_ns = window_start;
        nf_map_put(port_table, key, (int32_t)index);
    }
    struct source_record *counted = nf_vector_write(sources, source_index);
    counted->distinct_ports += 1;
}

int nf_process(struct nf_packet *pkt)
{
    if (pkt->port == 0)
        return 1;
    struct flow_key flow;
    if (!flow_key_from_packet(pkt, &flow))
        return 0;
    uint64_t cutoff = expiry_cutoff(pkt->time_ns, window_ns);
    nf_alloc_expire(source_entries, cutoff, source_table, source_keys);
    nf_alloc_expire(port_entries, cutoff, port_table, port_keys);

    struct source_key skey = { .src_ip = flow.src_ip };
    int32_t found;
    uint32_t source_index;
    if (nf_map_get(source_table, &skey, &found)) {
        source_index = (uint32_t)found;
    } else {
        if (!nf_alloc_new(source_entries, pkt->time_ns, &source_index))
            return 0;                   /* source table full: not inspected */
        struct source_key *stored_key = nf_vector_write(source_keys, source_index);
        *stored_key = skey;
        struct source_record *rec = nf_vector_write(sources, source_index);
        rec->window_start_ns = pkt->time_ns;
        rec->distinct_ports = 0;
        rec->pad = 0;
        nf_map_put(source_table, &skey, (int32_t)source_index);
    }

    struct port_key pkey = { .src_ip = flow.src_ip, .dst_port = flow.dst_port, .pad = 0 };
    count_port(pkt, source_index, &pkey);

    const struct source_record *src = nf_vector_read(sources, source_index);
    if (src->distinct_ports > threshold)
        return NF_DROP;
    return 0;
}
