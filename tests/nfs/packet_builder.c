/*
 * packet_builder.c - builds test frames with valid checksums and checks the
 * checksums of frames an NF rewrote (RFC 791, 793, 768, 8200 sums).
 */
#include "packet_builder.h"

#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return ((uint32_t)get16(p) << 16) | get16(p + 2);
}

/* One's-complement sum of 16-bit big-endian words, not yet folded. */
static uint32_t sum_words(const uint8_t *p, size_t len, uint32_t sum)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += get16(p + i);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)sum;
}

/* Sum of the pseudo-header for an L4 segment of `l4_len` bytes. */
static uint32_t pseudo_sum(const uint8_t *l3, int ip_version, uint8_t proto, size_t l4_len)
{
    uint32_t sum = 0;
    if (ip_version == 4)
        sum = sum_words(l3 + 12, 8, 0);
    else
        sum = sum_words(l3 + 8, 32, 0);
    sum += proto;
    sum += (uint32_t)(l4_len & 0xFFFF) + (uint32_t)(l4_len >> 16);
    return sum;
}

struct pb_spec pb_ipv4(uint8_t proto, uint32_t src_ip, uint32_t dst_ip, uint16_t sport,
                       uint16_t dport)
{
    struct pb_spec s;
    memset(&s, 0, sizeof s);
    const uint8_t src_mac[6] = {0x02, 0, 0, 0, 0x0a, 0x01};
    const uint8_t dst_mac[6] = {0x02, 0, 0, 0, 0x0b, 0x02};
    memcpy(s.eth_src, src_mac, 6);
    memcpy(s.eth_dst, dst_mac, 6);
    s.ip_version = 4;
    s.src_ip = src_ip;
    s.dst_ip = dst_ip;
    s.proto = proto;
    s.sport = sport;
    s.dport = dport;
    s.tcp_flags = 0x02;         /* SYN */
    s.payload_len = 18;
    return s;
}

size_t pb_build(const struct pb_spec *s, uint8_t *buf, size_t cap)
{
    size_t l2 = 14 + (s->vlan_id ? 4 : 0);
    size_t l3 = s->ip_version == 4 ? 20 : s->ip_version == 6 ? 40 : 0;
    size_t l4 = 0;
    if (s->ip_version != 0)
        l4 = s->proto == 6 ? 20 : s->proto == 17 ? 8 : 0;
    size_t total = l2 + l3 + l4 + s->payload_len;
    if (total > cap)
        return 0;
    memset(buf, 0, total);

    memcpy(buf, s->eth_dst, 6);
    memcpy(buf + 6, s->eth_src, 6);
    uint16_t type = s->ip_version == 4 ? 0x0800 : s->ip_version == 6 ? 0x86DD : s->ethertype;
    if (s->vlan_id) {
        put16(buf + 12, 0x8100);
        put16(buf + 14, s->vlan_id & 0x0FFF);
        put16(buf + 16, type);
    } else {
        put16(buf + 12, type);
    }

    uint8_t *ip = buf + l2;
    uint8_t *seg = ip + l3;
    for (size_t i = 0; i < s->payload_len; i++)
        seg[l4 + i] = (uint8_t)(0xA0 + i);
    if (s->ip_version == 0)
        return total;

    if (s->ip_version == 4) {
        ip[0] = 0x45;
        put16(ip + 2, (uint16_t)(l3 + l4 + s->payload_len));
        put16(ip + 4, 0x1234);
        ip[8] = 64;
        ip[9] = s->proto;
        put32(ip + 12, s->src_ip);
        put32(ip + 16, s->dst_ip);
        put16(ip + 10, (uint16_t)~fold(sum_words(ip, 20, 0)));
    } else {
        put32(ip, 0x60000000);
        put16(ip + 4, (uint16_t)(l4 + s->payload_len));
        ip[6] = s->proto;
        ip[7] = 64;
        memcpy(ip + 8, s->src_ip6, 16);
        memcpy(ip + 24, s->dst_ip6, 16);
    }

    size_t seg_len = l4 + s->payload_len;
    if (s->proto == 6) {
        put16(seg, s->sport);
        put16(seg + 2, s->dport);
        put32(seg + 4, 1000);
        seg[12] = 5 << 4;
        seg[13] = s->tcp_flags;
        put16(seg + 14, 65535);
        uint32_t sum = sum_words(seg, seg_len, pseudo_sum(ip, s->ip_version, 6, seg_len));
        put16(seg + 16, (uint16_t)~fold(sum));
    } else if (s->proto == 17) {
        put16(seg, s->sport);
        put16(seg + 2, s->dport);
        put16(seg + 4, (uint16_t)seg_len);
        uint32_t sum = sum_words(seg, seg_len, pseudo_sum(ip, s->ip_version, 17, seg_len));
        uint16_t csum = (uint16_t)~fold(sum);
        put16(seg + 6, csum == 0 ? 0xFFFF : csum);
    }
    return total;
}

bool pb_parse(const uint8_t *frame, size_t len, struct pb_view *v)
{
    memset(v, 0, sizeof *v);
    if (len < 14)
        return false;
    size_t off = 12;
    uint16_t type = get16(frame + off);
    while (type == 0x8100 || type == 0x88A8) {
        off += 4;
        if (off + 2 > len)
            return false;
        type = get16(frame + off);
    }
    off += 2;
    v->l3_offset = off;
    const uint8_t *ip = frame + off;
    size_t l4_offset;
    if (type == 0x0800) {
        if (off + 20 > len)
            return false;
        v->ip_version = 4;
        v->src_ip = get32(ip + 12);
        v->dst_ip = get32(ip + 16);
        v->proto = ip[9];
        l4_offset = off + (size_t)(ip[0] & 0x0F) * 4;
    } else if (type == 0x86DD) {
        if (off + 40 > len)
            return false;
        v->ip_version = 6;
        v->proto = ip[6];
        l4_offset = off + 40;
    } else {
        return true;
    }
    if ((v->proto == 6 || v->proto == 17) && l4_offset + 4 <= len) {
        v->has_ports = true;
        v->sport = get16(frame + l4_offset);
        v->dport = get16(frame + l4_offset + 2);
    }
    return true;
}

bool pb_checksums_valid(const uint8_t *frame, size_t len)
{
    struct pb_view v;
    if (!pb_parse(frame, len, &v))
        return false;
    const uint8_t *ip = frame + v.l3_offset;
    size_t seg_off, seg_len;
    if (v.ip_version == 4) {
        size_t ihl = (size_t)(ip[0] & 0x0F) * 4;
        if (v.l3_offset + ihl > len || fold(sum_words(ip, ihl, 0)) != 0xFFFF)
            return false;
        size_t total = get16(ip + 2);
        if (v.l3_offset + total > len || total < ihl)
            return false;
        seg_off = v.l3_offset + ihl;
        seg_len = total - ihl;
    } else if (v.ip_version == 6) {
        seg_off = v.l3_offset + 40;
        seg_len = get16(ip + 4);
        if (seg_off + seg_len > len)
            return false;
    } else {
        return true;
    }
    const uint8_t *seg = frame + seg_off;
    if (v.proto == 17 && seg_len >= 8 && get16(seg + 6) == 0 && v.ip_version == 4)
        return true;            /* IPv4 UDP without a checksum */
    if ((v.proto == 6 && seg_len >= 20) || (v.proto == 17 && seg_len >= 8)) {
        uint32_t sum = sum_words(seg, seg_len, pseudo_sum(ip, v.ip_version, v.proto, seg_len));
        return fold(sum) == 0xFFFF;
    }
    return true;
}
