/*
 * packet_builder.h - crafted frames for the NF behavioural tests:
 * Ethernet (optionally 802.1Q-tagged) carrying IPv4 or IPv6 with TCP or UDP
 * (or a raw ethertype), checksums valid; and an independent parser and
 * checksum verifier to check what an NF rewrote. Every integer in a spec and
 * a view is in host byte order.
 */
#ifndef RSSKEY_TESTS_PACKET_BUILDER_H
#define RSSKEY_TESTS_PACKET_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PB_IPV4(a, b, c, d) \
    (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))
#define PB_MAX_FRAME 2048

struct pb_spec {
    uint8_t eth_src[6];
    uint8_t eth_dst[6];
    uint16_t vlan_id;           /* 0: untagged; else one 802.1Q tag */
    int ip_version;             /* 4 or 6; 0: no IP, `ethertype` and payload only */
    uint16_t ethertype;         /* used when ip_version == 0 */
    uint32_t src_ip, dst_ip;    /* IPv4 */
    uint8_t src_ip6[16], dst_ip6[16];
    uint8_t proto;              /* 6 TCP, 17 UDP, anything else: raw payload */
    uint16_t sport, dport;
    uint8_t tcp_flags;
    uint16_t payload_len;       /* bytes after the L4 header, pattern-filled */
};

/* A spec for an untagged IPv4 TCP or UDP packet between fixed test MACs. */
struct pb_spec pb_ipv4(uint8_t proto, uint32_t src_ip, uint32_t dst_ip, uint16_t sport,
                       uint16_t dport);

/* Writes the frame into buf; returns its length, 0 if cap is too small. */
size_t pb_build(const struct pb_spec *spec, uint8_t *buf, size_t cap);

/* What a test reads back from a frame. */
struct pb_view {
    size_t l3_offset;           /* after the Ethernet header and tags */
    int ip_version;             /* 4, 6 or 0 */
    uint32_t src_ip, dst_ip;    /* IPv4 */
    uint8_t proto;
    bool has_ports;
    uint16_t sport, dport;
};

/* Parses a frame; returns false if it is truncated. */
bool pb_parse(const uint8_t *frame, size_t len, struct pb_view *view);

/* True when the IPv4 header checksum and the TCP/UDP checksum (IPv4 or IPv6
 * pseudo-header) of the frame are correct; absent headers count as correct.
 * Computed here, independently of the runtime's nf_checksums_update. */
bool pb_checksums_valid(const uint8_t *frame, size_t len);

#endif /* RSSKEY_TESTS_PACKET_BUILDER_H */
