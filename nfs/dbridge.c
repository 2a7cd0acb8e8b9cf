/*
 * dbridge.c - MAC-learning bridge: learns source MAC -> input port with
 * expiry, forwards by destination MAC.
 *
 * Configuration:
 *   capacity    learned entries (default 65536)
 *   expiry_ms   an entry not refreshed for this long is forgotten (default 300000)
 *
 * State: mac_table (MAC -> index), mac_entries (index allocator stamped with
 * the time the MAC was last seen), mac_keys (index -> MAC, for expiry),
 * mac_ports (index -> learned port).
 *
 * Per packet: expire stale entries; learn or refresh the source MAC (a known
 * MAC that moved gets its new port; a full table learns nothing); look up the
 * destination MAC: known on the other port -> forward there, known on the
 * input port -> drop, unknown or group address -> flood (the other port).
 * Every ethertype is bridged; a frame too short for Ethernet is dropped.
 */
#include <string.h>

#include "rsskey/nf.h"

struct mac_key {
    uint8_t addr[6];
    uint8_t pad[2];
};

struct port_record {
    uint32_t port;
};

static struct nf_map *mac_table;
static struct nf_alloc *mac_entries;
static struct nf_vector *mac_keys;
static struct nf_vector *mac_ports;
static uint64_t expiry_ns;

int nf_init(void)
{
    uint64_t capacity = nf_config("capacity", 65536);
    expiry_ns = nf_config("expiry_ms", 300000) * 1000000ULL;
    if (capacity == 0 || capacity > UINT32_MAX)
        return -1;
    mac_table = nf_map_create("dbridge_mac_table", sizeof(struct mac_key), (uint32_t)capacity);
    mac_entries = nf_alloc_create("dbridge_mac_entries", (uint32_t)capacity);
    mac_keys = nf_vector_create("dbridge_mac_keys", sizeof(struct mac_key), (uint32_t)capacity);
    mac_ports = nf_vector_create("dbridge_mac_ports", sizeof(struct port_record),
                                 (uint32_t)capacity);
    if (mac_table == NULL || mac_entries == NULL || mac_keys == NULL || mac_ports == NULL)
        return -1;
    return 0;
}

static void learn_source(struct nf_packet *pkt, const struct mac_key *src)
{
    int32_t index;
    if (nf_map_get(mac_table, src, &index)) {
        nf_alloc_refresh(mac_entries, (uint32_t)index, pkt->time_ns);
        const struct port_record *learned = nf_vector_read(mac_ports, (uint32_t)index);
        if (learned->port != pkt->port) {
            struct port_record *moved = nf_vector_write(mac_ports, (uint32_t)index);
            moved->port = pkt->port;
        }
        return;
    }
    uint32_t fresh;
    if (!nf_alloc_new(mac_entries, pkt->time_ns, &fresh))
        return;                         /* table full: forward without learning */
    struct mac_key *stored_key = nf_vector_write(mac_keys, fresh);
    *stored_key = *src;
    struct port_record *record = nf_vector_write(mac_ports, fresh);
    record->port = pkt->port;
    nf_map_put(mac_table, src, (int32_t)fresh);
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_eth_hdr *eth = nf_eth(pkt);
    if (eth == NULL)
        return NF_DROP;
    int other_port = pkt->port == 0 ? 1 : 0;
    uint64_t cutoff = pkt->time_ns > expiry_ns ? pkt->time_ns - expiry_ns : 0;
    nf_alloc_expire(mac_entries, cutoff, mac_table, mac_keys);

    struct mac_key src, dst;
    memcpy(src.addr, eth->src, 6);
    src.pad[0] = 0;
    src.pad[1] = 0;
    memcpy(dst.addr, eth->dst, 6);
    dst.pad[0] = 0;
    dst.pad[1] = 0;

    if ((src.addr[0] & 1) == 0)         /* never learn a group address */
        learn_source(pkt, &src);

    int32_t index;
    if (!nf_map_get(mac_table, &dst, &index))
        return other_port;              /* unknown destination: flood */
    const struct port_record *record = nf_vector_read(mac_ports, (uint32_t)index);
    if (record->port == pkt->port)
        return NF_DROP;                 /* destination is on the input segment */
    return (int)record->port;
}
