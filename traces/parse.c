/*
 * parse.c - turns the bytes of one captured frame into a trace_tuple.
 *
 * Link layers: Ethernet (with any stack of 802.1Q / 802.1ad 0x88A8 / 0x9100
 * / 0x9200 tags, PPPoE sessions, MPLS label stacks), raw IP (DLT_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6), Linux cooked
 * capture v1 and v2, BSD loopback (DLT_NULL, DLT_LOOP). Network layers: IPv4
 * (options, fragments) and IPv6 (hop-by-hop, routing, fragment, destination
 * options and AH extension headers; ESP and no-next-header end the chain).
 * Only the first fragment of a fragmented datagram carries ports.
 *
 * Invariant: every read is checked against cap_len first, so a truncated
 * frame of any length is safe; the tuple then says how far the parse got.
 */
#include <string.h>

#include <pcap/pcap.h>

#include "traces/traces.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86DD
#define ETHERTYPE_PPPOE_SESSION 0x8864
#define ETHERTYPE_MPLS 0x8847
#define ETHERTYPE_MPLS_MULTICAST 0x8848
#define PPP_IPV4 0x0021
#define PPP_IPV6 0x0057

#define PROTO_HOPOPTS 0
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ROUTING 43
#define PROTO_FRAGMENT 44
#define PROTO_ESP 50
#define PROTO_AH 51
#define PROTO_NONEXT 59
#define PROTO_DSTOPTS 60

#define MAX_IPV6_EXT_HEADERS 16

/* A read cursor over the captured bytes. */
struct cursor {
    const uint8_t *data;
    uint32_t len;
};

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Reads the L4 ports at offset off of an L4 header that ends the IP packet
 * at l4_end (the smaller of capture and IP length). */
static void parse_ports(struct cursor c, uint32_t off, uint32_t l4_end, struct trace_tuple *t)
{
    if (t->proto != PROTO_TCP && t->proto != PROTO_UDP)
        return;
    if (off + 4 > l4_end) {
        if (off + 4 > c.len)
            t->truncated = true;
        return;
    }
    memcpy(&t->sport, c.data + off, 2);
    memcpy(&t->dport, c.data + off + 2, 2);
    t->has_ports = true;
}

/* End of the IP packet: its stated length, bounded by what was captured. */
static uint32_t packet_end(struct cursor c, uint32_t ip_off, uint32_t stated_len)
{
    uint64_t end = (uint64_t)ip_off + stated_len;
    return end < c.len ? (uint32_t)end : c.len;
}

static bool parse_ipv4(struct cursor c, uint32_t off, struct trace_tuple *t)
{
    if (off + 20 > c.len) {
        t->truncated = true;
        return false;
    }
    const uint8_t *h = c.data + off;
    if (h[0] >> 4 != 4)
        return false;
    uint32_t ihl = (uint32_t)(h[0] & 0x0f) * 4;
    if (ihl < 20)
        return false;
    t->ip_version = 4;
    t->proto = h[9];
    memcpy(t->src, h + 12, 4);
    memcpy(t->dst, h + 16, 4);
    uint16_t frag = be16(h + 6);
    uint16_t frag_offset = frag & 0x1fff;
    bool more_fragments = frag & 0x2000;
    t->is_fragment = more_fragments || frag_offset != 0;
    if (frag_offset != 0)
        return true;            /* only the first fragment has ports */
    uint16_t total_len = be16(h + 2);
    uint32_t end = packet_end(c, off, total_len >= ihl ? total_len : c.len - off);
    uint32_t l4 = off + ihl;
    if (t->proto == PROTO_AH) {
        if (l4 + 2 > c.len) {
            t->truncated = true;
            return true;
        }
        t->proto = c.data[l4];
        l4 += ((uint32_t)c.data[l4 + 1] + 2) * 4;
    }
    if (l4 > c.len)
        t->truncated = true;
    else
        parse_ports(c, l4, end, t);
    return true;
}

static bool parse_ipv6(struct cursor c, uint32_t off, struct trace_tuple *t)
{
    if (off + 40 > c.len) {
        t->truncated = true;
        return false;
    }
    const uint8_t *h = c.data + off;
    if (h[0] >> 4 != 6)
        return false;
    t->ip_version = 6;
    memcpy(t->src, h + 8, 16);
    memcpy(t->dst, h + 24, 16);
    uint16_t payload_len = be16(h + 4);    /* 0: jumbogram or TSO capture */
    uint32_t end = payload_len ? packet_end(c, off, 40u + payload_len) : c.len;
    uint8_t next = h[6];
    uint32_t pos = off + 40;
    for (int i = 0; i < MAX_IPV6_EXT_HEADERS; i++) {
        t->proto = next;
        if (next != PROTO_HOPOPTS && next != PROTO_ROUTING && next != PROTO_DSTOPTS &&
            next != PROTO_FRAGMENT && next != PROTO_AH)
            break;              /* upper layer, ESP or no-next-header: the chain ends */
        if (pos + 8 > c.len) {
            t->truncated = true;
            return true;
        }
        const uint8_t *e = c.data + pos;
        next = e[0];
        if (t->proto == PROTO_FRAGMENT) {
            t->is_fragment = true;
            if ((be16(e + 2) >> 3) != 0) {
                t->proto = next;
                return true;    /* not the first fragment: no ports */
            }
            pos += 8;
        } else if (t->proto == PROTO_AH) {
            pos += ((uint32_t)e[1] + 2) * 4;
        } else {
            pos += ((uint32_t)e[1] + 1) * 8;
        }
    }
    if (pos > c.len)
        t->truncated = true;
    else
        parse_ports(c, pos, end, t);
    return true;
}

static bool parse_ip_by_version(struct cursor c, uint32_t off, struct trace_tuple *t)
{
    if (off + 1 > c.len) {
        t->truncated = true;
        return false;
    }
    uint8_t version = c.data[off] >> 4;
    if (version == 4)
        return parse_ipv4(c, off, t);
    if (version == 6)
        return parse_ipv6(c, off, t);
    return false;
}

/* Parses what follows an ethertype at off: IP directly, or inside a PPPoE
 * session (PPP protocol 0x0021 / 0x0057), or under an MPLS label stack
 * (the payload's version nibble picks IPv4 or IPv6, as Wireshark does). */
static bool parse_ip_by_ethertype(struct cursor c, uint32_t off, uint16_t ethertype,
                                  struct trace_tuple *t)
{
    if (ethertype == ETHERTYPE_IPV4)
        return parse_ipv4(c, off, t);
    if (ethertype == ETHERTYPE_IPV6)
        return parse_ipv6(c, off, t);
    if (ethertype == ETHERTYPE_PPPOE_SESSION) {
        if (off + 8 > c.len) {
            t->truncated = true;
            return false;
        }
        uint16_t ppp = be16(c.data + off + 6);
        if (ppp == PPP_IPV4)
            return parse_ipv4(c, off + 8, t);
        if (ppp == PPP_IPV6)
            return parse_ipv6(c, off + 8, t);
        return false;
    }
    if (ethertype == ETHERTYPE_MPLS || ethertype == ETHERTYPE_MPLS_MULTICAST) {
        for (;; off += 4) {
            if (off + 4 > c.len) {
                t->truncated = true;
                return false;
            }
            if (c.data[off + 2] & 1)        /* bottom of stack */
                return parse_ip_by_version(c, off + 4, t);
        }
    }
    return false;
}

/* Skips VLAN tags starting with the ethertype at offset type_off; returns
 * false when the frame ends inside the tags. */
static bool skip_vlan_tags(struct cursor c, uint32_t *type_off, uint16_t *ethertype)
{
    for (;;) {
        if (*type_off + 2 > c.len)
            return false;
        *ethertype = be16(c.data + *type_off);
        if (*ethertype != 0x8100 && *ethertype != 0x88A8 && *ethertype != 0x9100 &&
            *ethertype != 0x9200)
            return true;
        *type_off += 4;         /* TPID is followed by a 2-byte TCI, then the next type */
    }
}

static bool parse_ethernet(struct cursor c, struct trace_tuple *t)
{
    if (c.len < 14) {
        t->truncated = true;
        if (c.len >= 12) {
            memcpy(t->dst_mac, c.data, 6);
            memcpy(t->src_mac, c.data + 6, 6);
        }
        return false;
    }
    memcpy(t->dst_mac, c.data, 6);
    memcpy(t->src_mac, c.data + 6, 6);
    uint32_t type_off = 12;
    uint16_t ethertype;
    if (!skip_vlan_tags(c, &type_off, &ethertype)) {
        t->truncated = true;
        return false;
    }
    return parse_ip_by_ethertype(c, type_off + 2, ethertype, t);
}

static bool parse_raw_ip(struct cursor c, struct trace_tuple *t)
{
    return parse_ip_by_version(c, 0, t);
}

/* Linux cooked capture v1: 16-byte header, protocol at 14, link address at 6. */
static bool parse_sll(struct cursor c, struct trace_tuple *t)
{
    if (c.len < 16) {
        t->truncated = true;
        return false;
    }
    if (be16(c.data + 4) == 6)
        memcpy(t->src_mac, c.data + 6, 6);
    uint32_t type_off = 14;
    uint16_t ethertype;
    if (!skip_vlan_tags(c, &type_off, &ethertype)) {
        t->truncated = true;
        return false;
    }
    return parse_ip_by_ethertype(c, type_off + 2, ethertype, t);
}

/* Linux cooked capture v2: 20-byte header, protocol at 0, link address at 12. */
static bool parse_sll2(struct cursor c, struct trace_tuple *t)
{
    if (c.len < 20) {
        t->truncated = true;
        return false;
    }
    if (c.data[11] == 6)
        memcpy(t->src_mac, c.data + 12, 6);
    uint16_t ethertype = be16(c.data);
    if (ethertype == 0x8100 || ethertype == 0x88A8) {
        uint32_t type_off = 20 + 2;
        if (!skip_vlan_tags(c, &type_off, &ethertype)) {
            t->truncated = true;
            return false;
        }
        return parse_ip_by_ethertype(c, type_off + 2, ethertype, t);
    }
    return parse_ip_by_ethertype(c, 20, ethertype, t);
}

/* BSD loopback: a 4-byte address family, host order (DLT_NULL) or network
 * order (DLT_LOOP). AF_INET is 2 everywhere; AF_INET6 is 10, 24, 28 or 30. */
static bool parse_loopback(struct cursor c, bool network_order, struct trace_tuple *t)
{
    if (c.len < 4) {
        t->truncated = true;
        return false;
    }
    uint32_t family;
    if (network_order) {
        family = (uint32_t)c.data[0] << 24 | (uint32_t)c.data[1] << 16 |
                 (uint32_t)c.data[2] << 8 | c.data[3];
    } else {
        memcpy(&family, c.data, 4);
        if (family > 0xffff)    /* written on a host of the other byte order */
            family = __builtin_bswap32(family);
    }
    struct cursor ip = {c.data + 4, c.len - 4};
    if (family == 2)
        return parse_ipv4(ip, 0, t);
    if (family == 10 || family == 24 || family == 28 || family == 30)
        return parse_ipv6(ip, 0, t);
    return false;
}

bool trace_linktype_supported(int linktype)
{
    switch (linktype) {
    case DLT_EN10MB:
    case DLT_RAW:               /* 12 on most systems */
    case 14:                    /* DLT_RAW on OpenBSD / BSD/OS */
    case 101:                   /* LINKTYPE_RAW, if not mapped */
    case DLT_IPV4:
    case DLT_IPV6:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_NULL:
    case DLT_LOOP:
        return true;
    default:
        return false;
    }
}

bool trace_parse(int linktype, const uint8_t *data, uint32_t cap_len, struct trace_tuple *out)
{
    memset(out, 0, sizeof *out);
    struct cursor c = {data, data ? cap_len : 0};
    switch (linktype) {
    case DLT_EN10MB:
        return parse_ethernet(c, out);
    case DLT_RAW:
    case 14:
    case 101:
        return parse_raw_ip(c, out);
    case DLT_IPV4:
        return parse_ipv4(c, 0, out);
    case DLT_IPV6:
        return parse_ipv6(c, 0, out);
    case DLT_LINUX_SLL:
        return parse_sll(c, out);
    case DLT_LINUX_SLL2:
        return parse_sll2(c, out);
    case DLT_NULL:
        return parse_loopback(c, false, out);
    case DLT_LOOP:
        return parse_loopback(c, true, out);
    default:
        return false;
    }
}
