/*
 * vlan_acl.c - per-VLAN host registry: an inside host (port 0) becomes
 * reachable from outside (port 1) on the VLAN it was seen on. Outside packets
 * pass only to a (VLAN, destination) that has sent from inside.
 *
 * Configuration: hosts (default 8192).
 * State: seen, a map (VLAN id, IPv4 address) -> 1.
 *
 * The VLAN id is the low 12 bits of the 802.1Q TCI, read from the tag bytes
 * right after the Ethernet addresses (0 for an untagged frame).
 *
 * Adversarial point: the key mixes L2 bits (the TCI, not hashable) with
 * ipv4.src on port 0 / ipv4.dst on port 1. Packets with equal keys have equal
 * addresses, so sharding by the address alone (port 0 src == port 1 dst) is
 * sound; the VLAN id must simply be ignored, not make the object shared, and
 * not be mistaken for a hashable field.
 */
#include <stdint.h>
#include <string.h>

#include "rsskey/nf.h"

struct host_key {
    uint16_t vlan;
    uint16_t pad;
    uint32_t addr;
};

static struct nf_map *seen;

int nf_init(void)
{
    seen = nf_map_create("seen", sizeof(struct host_key), (uint32_t)nf_config("hosts", 8192));
    return seen == NULL;
}

static uint16_t vlan_of(struct nf_packet *pkt)
{
    struct nf_eth_hdr *eth = nf_eth(pkt);
    if (eth == NULL || pkt->len < 18)
        return 0;
    if (eth->ethertype != __builtin_bswap16(NF_ETHERTYPE_VLAN))
        return 0;
    const uint8_t *tci = (const uint8_t *)(eth + 1);
    return (uint16_t)(((tci[0] << 8) | tci[1]) & 0x0fff);
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (!ip)
        return NF_DROP;
    struct host_key k;
    memset(&k, 0, sizeof k);
    k.vlan = vlan_of(pkt);
    if (pkt->port == 0) {
        k.addr = ip->src;
        nf_map_put(seen, &k, 1);
        return 1;
    }
    k.addr = ip->dst;
    int32_t v;
    return nf_map_get(seen, &k, &v) ? 0 : NF_DROP;
}
