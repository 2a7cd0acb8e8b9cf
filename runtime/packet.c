/*
 * packet.c - header accessors and checksum rewriting of nf.h.
 *
 * Every accessor parses the frame from the start (a few bounds-checked steps,
 * no state kept between calls) and never reads a byte at or past pkt->len:
 *  - Ethernet: 14 bytes; 802.1Q (0x8100) and QinQ (0x88A8) tags of 4 bytes
 *    each are skipped (any number, as long as they fit).
 *  - IPv4: version 4, IHL >= 5, the IHL*4 bytes (options included) in len.
 *  - IPv6: version 6 and 40 bytes; hop-by-hop (0), routing (43), fragment
 *    (44), destination options (60) and AH (51) extension headers skipped;
 *    a fragment header with a non-zero offset means no L4.
 *  - L4: only for TCP and UDP, never for non-first IPv4/IPv6 fragments.
 *    nf_l4 needs the 4 port bytes, nf_udp 8 bytes, nf_tcp its data offset
 *    (>= 5) times 4 bytes, options included, all inside the IP packet: before
 *    the end its length field states (IPv4 total length when >= IHL*4, IPv6
 *    payload length when not 0) as well as before len. Bytes after the IP
 *    packet (Ethernet padding) are never taken for ports: traces/parse.c,
 *    whose tuple RSS hashes, does not take them either.
 */
#include <string.h>

#include "runtime/rt_internal.h"

enum { L3_NONE, L3_IPV4, L3_IPV6 };

struct layout {
    int l3;             /* L3_* */
    uint32_t l3_off;
    uint8_t l4_proto;   /* 0 when not IP or unknown (truncated IPv6 chain) */
    bool has_l4;        /* l4_off valid: a first fragment whose L4 may start there */
    uint32_t l4_off;
    uint32_t l4_len;    /* L4 bytes the IP header claims (0 when unknown) */
    uint32_t l4_end;    /* L4 headers must end by here: IP packet end, at most len */
};

static inline uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static void parse(const struct nf_packet *pkt, struct layout *out)
{
    memset(out, 0, sizeof *out);
    const uint8_t *d = pkt->data;
    uint32_t len = pkt->len;
    if (!d || len < 14)
        return;
    uint32_t off = 12;
    uint16_t type = rd16(d + off);
    while (type == NF_ETHERTYPE_VLAN || type == NF_ETHERTYPE_QINQ) {
        if (off + 6 > len)
            return;
        off += 4;
        type = rd16(d + off);
    }
    off += 2;
    if (type == NF_ETHERTYPE_IPV4) {
        if (off + 20 > len || (d[off] >> 4) != 4)
            return;
        uint32_t ihl = (d[off] & 0x0f) * 4u;
        if (ihl < 20 || off + ihl > len)
            return;
        out->l3 = L3_IPV4;
        out->l3_off = off;
        out->l4_proto = d[off + 9];
        uint16_t frag = rd16(d + off + 6);
        if ((frag & 0x1fff) != 0)
            return;
        out->has_l4 = true;
        out->l4_off = off + ihl;
        uint16_t total = rd16(d + off + 2);
        out->l4_len = total > ihl ? total - ihl : 0;
        out->l4_end = total >= ihl && off + total < len ? off + total : len;
        return;
    }
    if (type != NF_ETHERTYPE_IPV6)
        return;
    if (off + 40 > len || (d[off] >> 4) != 6)
        return;
    out->l3 = L3_IPV6;
    out->l3_off = off;
    uint32_t payload = rd16(d + off + 4);
    uint8_t next = d[off + 6];
    uint32_t pos = off + 40;
    for (int hops = 0; hops < 16; hops++) {
        uint32_t ext;
        bool non_first_fragment = false;
        if (next == 0 || next == 43 || next == 60) {
            if (pos + 2 > len)
                return;
            ext = (d[pos + 1] + 1u) * 8;
        } else if (next == 51) {
            if (pos + 2 > len)
                return;
            ext = (d[pos + 1] + 2u) * 4;
        } else if (next == 44) {
            if (pos + 8 > len)
                return;
            ext = 8;
            non_first_fragment = (rd16(d + pos + 2) & 0xfff8) != 0;
        } else {
            out->l4_proto = next;
            out->has_l4 = true;
            out->l4_off = pos;
            uint32_t used = pos - (off + 40);
            out->l4_len = payload > used ? payload - used : 0;
            out->l4_end = payload && off + 40 + payload < len ? off + 40 + payload : len;
            return;
        }
        if (pos + ext > len)
            return;
        next = d[pos];
        pos += ext;
        if (non_first_fragment) {
            out->l4_proto = next;
            return;
        }
    }
}

struct nf_eth_hdr *nf_eth(struct nf_packet *pkt)
{
    return pkt->data && pkt->len >= 14 ? (struct nf_eth_hdr *)pkt->data : NULL;
}

struct nf_ipv4_hdr *nf_ipv4(struct nf_packet *pkt)
{
    struct layout l;
    parse(pkt, &l);
    return l.l3 == L3_IPV4 ? (struct nf_ipv4_hdr *)(pkt->data + l.l3_off) : NULL;
}

struct nf_ipv6_hdr *nf_ipv6(struct nf_packet *pkt)
{
    struct layout l;
    parse(pkt, &l);
    return l.l3 == L3_IPV6 ? (struct nf_ipv6_hdr *)(pkt->data + l.l3_off) : NULL;
}

/* Bytes of a TCP header (options included) when they fit, else 0. */
static uint32_t tcp_header_len(const struct nf_packet *pkt, const struct layout *l)
{
    if (l->l4_off + 20 > l->l4_end)
        return 0;
    uint32_t hl = (pkt->data[l->l4_off + 12] >> 4) * 4u;
    return hl >= 20 && l->l4_off + hl <= l->l4_end ? hl : 0;
}

struct nf_l4_ports *nf_l4(struct nf_packet *pkt)
{
    struct layout l;
    parse(pkt, &l);
    if (!l.has_l4 || (l.l4_proto != NF_PROTO_TCP && l.l4_proto != NF_PROTO_UDP) ||
        l.l4_off + 4 > l.l4_end)
        return NULL;
    return (struct nf_l4_ports *)(pkt->data + l.l4_off);
}

struct nf_tcp_hdr *nf_tcp(struct nf_packet *pkt)
{
    struct layout l;
    parse(pkt, &l);
    if (!l.has_l4 || l.l4_proto != NF_PROTO_TCP || !tcp_header_len(pkt, &l))
        return NULL;
    return (struct nf_tcp_hdr *)(pkt->data + l.l4_off);
}

struct nf_udp_hdr *nf_udp(struct nf_packet *pkt)
{
    struct layout l;
    parse(pkt, &l);
    if (!l.has_l4 || l.l4_proto != NF_PROTO_UDP || l.l4_off + 8 > l.l4_end)
        return NULL;
    return (struct nf_udp_hdr *)(pkt->data + l.l4_off);
}

uint8_t nf_l4_proto(struct nf_packet *pkt)
{
    struct layout l;
    parse(pkt, &l);
    return l.l4_proto;
}

/* ---- checksums ---------------------------------------------------------- */

/* One's-complement sum of n bytes (big-endian 16-bit words) added to sum. */
static uint64_t sum_bytes(uint64_t sum, const uint8_t *p, uint32_t n)
{
    while (n >= 2) {
        sum += rd16(p);
        p += 2;
        n -= 2;
    }
    if (n)
        sum += (uint32_t)p[0] << 8;
    return sum;
}

static uint16_t fold(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/*
 * IPv4: the header checksum over IHL*4 bytes. TCP/UDP: the checksum over the
 * pseudo-header and the L4 length the IP header claims, only when all of it
 * was captured and the packet is not a fragment (a fragment's checksum covers
 * bytes that are not here). UDP over IPv4 with checksum 0 means "none" and
 * stays 0; a computed 0 is sent as 0xFFFF (UDP; IPv6 must always have one).
 */
void nf_checksums_update(struct nf_packet *pkt)
{
    struct layout l;
    parse(pkt, &l);
    uint8_t *d = pkt->data;
    if (l.l3 == L3_NONE)
        return;
    uint64_t pseudo = 0;
    if (l.l3 == L3_IPV4) {
        uint8_t *ip = d + l.l3_off;
        uint32_t ihl = (ip[0] & 0x0f) * 4u;
        wr16(ip + 10, 0);
        wr16(ip + 10, fold(sum_bytes(0, ip, ihl)));
        if (rd16(ip + 6) & 0x2000)      /* more fragments: first fragment */
            return;
        pseudo = sum_bytes(pseudo, ip + 12, 8);
    } else {
        uint8_t *ip = d + l.l3_off;
        pseudo = sum_bytes(pseudo, ip + 8, 32);
        /* a fragment (offset or M flag set) means L4 is not all here; an
         * atomic fragment header (both zero) holds the whole datagram */
        uint8_t next = ip[6];
        uint32_t pos = l.l3_off + 40;
        while (pos < l.l4_off) {
            if (next == 44 && (rd16(d + pos + 2) & 0xfff9) != 0)
                return;
            uint32_t ext = next == 44   ? 8
                           : next == 51 ? (d[pos + 1] + 2u) * 4
                                        : (d[pos + 1] + 1u) * 8;
            next = d[pos];
            pos += ext;
        }
    }
    if (!l.has_l4 || l.l4_len == 0 || l.l4_off + l.l4_len > pkt->len)
        return;
    uint8_t *l4 = d + l.l4_off;
    uint32_t n = l.l4_len;
    uint32_t cks_at;
    if (l.l4_proto == NF_PROTO_TCP) {
        if (n < 20)
            return;
        cks_at = 16;
    } else if (l.l4_proto == NF_PROTO_UDP) {
        if (n < 8)
            return;
        uint16_t udp_len = rd16(l4 + 4);
        if (udp_len >= 8 && udp_len <= n)
            n = udp_len;
        if (l.l3 == L3_IPV4 && rd16(l4 + 6) == 0)
            return;
        cks_at = 6;
    } else {
        return;
    }
    pseudo += l.l4_proto;
    pseudo += n;
    wr16(l4 + cks_at, 0);
    uint16_t cks = fold(sum_bytes(pseudo, l4, n));
    if (cks == 0 && l.l4_proto == NF_PROTO_UDP)
        cks = 0xffff;
    wr16(l4 + cks_at, cks);
}
