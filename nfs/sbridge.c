/*
 * sbridge.c - static bridge: a MAC -> port table filled once in nf_init from
 * configuration and only read per packet.
 *
 * Configuration:
 *   static_entries   number of table entries (default 2)
 *   macN, portN      entry N: the MAC as a 48-bit integer (0x020000000001 is
 *                    02:00:00:00:00:01) and its port (0 or 1)
 *   capacity         table capacity (default 1024)
 * Defaults: 02:00:00:00:00:01 on port 0 and 02:00:00:00:00:02 on port 1.
 *
 * Per packet: the destination MAC is looked up. Known and on the other port:
 * forward there. Known and on the input port: drop (the frame stays on its
 * segment). Unknown, broadcast or multicast: flood, which with two ports is
 * the other port. Every frame is handled, whatever its ethertype; a frame too
 * short for an Ethernet header is dropped.
 */
#include <stdio.h>
#include <string.h>

#include "rsskey/nf.h"

struct mac_key {
    uint8_t addr[6];
    uint8_t pad[2];
};

static struct nf_map *static_table;

static void mac_key_from_u64(uint64_t mac, struct mac_key *key)
{
    for (int i = 0; i < 6; i++)
        key->addr[i] = (uint8_t)(mac >> (8 * (5 - i)));
    key->pad[0] = 0;
    key->pad[1] = 0;
}

int nf_init(void)
{
    uint64_t capacity = nf_config("capacity", 1024);
    uint64_t entries = nf_config("static_entries", 2);
    if (capacity == 0 || capacity > UINT32_MAX || entries > capacity)
        return -1;
    static_table = nf_map_create("sbridge_static_table", sizeof(struct mac_key),
                                 (uint32_t)capacity);
    if (static_table == NULL)
        return -1;
    for (uint64_t i = 0; i < entries; i++) {
        char mac_name[32], port_name[32];
        snprintf(mac_name, sizeof mac_name, "mac%llu", (unsigned long long)i);
        snprintf(port_name, sizeof port_name, "port%llu", (unsigned long long)i);
        uint64_t mac = nf_config(mac_name, 0x020000000001ULL + i);
        uint64_t port = nf_config(port_name, i % 2);
        if (port > 1)
            return -1;
        struct mac_key key;
        mac_key_from_u64(mac, &key);
        if (!nf_map_put(static_table, &key, (int32_t)port))
            return -1;
    }
    return 0;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_eth_hdr *eth = nf_eth(pkt);
    if (eth == NULL)
        return NF_DROP;
    int other_port = pkt->port == 0 ? 1 : 0;

    struct mac_key dst;
    memcpy(dst.addr, eth->dst, 6);
    dst.pad[0] = 0;
    dst.pad[1] = 0;

    int32_t out_port;
    if (!nf_map_get(static_table, &dst, &out_port))
        return other_port;              /* unknown or group address: flood */
    if (out_port == (int32_t)pkt->port)
        return NF_DROP;                 /* destination is on the input segment */
    return out_port;
}
