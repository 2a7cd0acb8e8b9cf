/*
 * test_rt_packet.c - header accessors on crafted frames (802.1Q, QinQ, IPv4
 * options, IPv6 extension headers, fragments), truncation at every length
 * (each prefix copied into a malloc'd buffer of exactly that length, so ASan
 * catches any read past pkt->len) and nf_checksums_update against an
 * independent checksum computation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/runtime.h"

struct frame_spec {
    int tags;           /* 0, 1 (802.1Q), 2 (QinQ outer + 802.1Q inner) */
    int ip;             /* 4 or 6, 0: ARP */
    int v4_opt_words;   /* IPv4 option words (IHL = 5 + this) */
    int v6_ext;         /* number of IPv6 extension headers (hop, route, dest, frag) */
    bool nonfirst;      /* a fragment with offset != 0 */
    bool first_frag;    /* IPv4 MF set, offset 0 */
    int l4;             /* 6, 17 or 1 (ICMP) */
    int tcp_opt_words;
    int payload;
};

struct frame {
    uint8_t buf[512];
    uint32_t len, l3_off, l4_off, l4_hdr;
};

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void build(const struct frame_spec *s, struct frame *f)
{
    memset(f, 0, sizeof *f);
    uint8_t *b = f->buf;
    for (int i = 0; i < 12; i++)
        b[i] = (uint8_t)(0x10 + i);
    uint32_t off = 12;
    if (s->tags == 2) {
        put16(b + off, NF_ETHERTYPE_QINQ);
        put16(b + off + 2, 100);
        off += 4;
    }
    if (s->tags >= 1) {
        put16(b + off, NF_ETHERTYPE_VLAN);
        put16(b + off + 2, 200);
        off += 4;
    }
    uint16_t type = s->ip == 4 ? NF_ETHERTYPE_IPV4 : s->ip == 6 ? NF_ETHERTYPE_IPV6 : 0x0806;
    put16(b + off, type);
    off += 2;
    f->l3_off = off;
    uint32_t l4_hdr = s->l4 == 6 ? 20 + 4u * (uint32_t)s->tcp_opt_words : 8;
    f->l4_hdr = l4_hdr;
    if (s->ip == 4) {
        uint32_t ihl = 20 + 4u * (uint32_t)s->v4_opt_words;
        b[off] = (uint8_t)(0x40 | (ihl / 4));
        put16(b + off + 2, (uint16_t)(ihl + l4_hdr + (uint32_t)s->payload));
        put16(b + off + 4, 0x1234);
        put16(b + off + 6, s->nonfirst ? 0x0010 : s->first_frag ? 0x2000 : 0x4000);
        b[off + 8] = 64;
        b[off + 9] = (uint8_t)s->l4;
        uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {192, 168, 7, 9};
        memcpy(b + off + 12, src, 4);
        memcpy(b + off + 16, dst, 4);
        for (uint32_t i = 20; i < ihl; i++)
            b[off + i] = 1;         /* NOP options */
        off += ihl;
    } else if (s->ip == 6) {
        b[off] = 0x60;
        const uint8_t chain[4] = {0, 43, 60, 44};
        uint8_t first = s->v6_ext ? chain[0] : (uint8_t)s->l4;
        b[off + 6] = first;
        b[off + 7] = 64;
        for (int i = 0; i < 16; i++) {
            b[off + 8 + i] = (uint8_t)(0x20 + i);
            b[off + 24 + i] = (uint8_t)(0x40 + i);
        }
        uint32_t ext_start = off + 40;
        uint32_t pos = ext_start;
        for (int e = 0; e < s->v6_ext; e++) {
            uint8_t next = e + 1 < s->v6_ext ? chain[e + 1] : (uint8_t)s->l4;
            b[pos] = next;
            if (chain[e] == 44) {
                put16(b + pos + 2, s->nonfirst ? 0x0100 : 0x0000);
                pos += 8;
            } else {
                b[pos + 1] = (uint8_t)(e & 1);     /* 8 or 16 bytes */
                pos += (b[pos + 1] + 1u) * 8;
            }
        }
        put16(b + off + 4, (uint16_t)(pos - ext_start + l4_hdr + (uint32_t)s->payload));
        off = pos;
    }
    f->l4_off = off;
    if (s->ip) {
        put16(b + off, 40000);
        put16(b + off + 2, 443);
        if (s->l4 == 6) {
            b[off + 12] = (uint8_t)((l4_hdr / 4) << 4);
            b[off + 13] = NF_TCP_FLAG_SYN;
        } else if (s->l4 == 17) {
            put16(b + off + 4, (uint16_t)(8 + s->payload));
        }
        off += l4_hdr;
        for (int i = 0; i < s->payload; i++)
            b[off + (uint32_t)i] = (uint8_t)(i * 7 + 3);
        off += (uint32_t)s->payload;
    }
    f->len = off < 60 ? 60 : off;       /* Ethernet minimum, zero padding */
}

static struct nf_packet packet(uint8_t *data, uint32_t len)
{
    struct nf_packet p = {data, len, 0, 0};
    return p;
}

static void test_full_frames(void **state)
{
    (void)state;
    struct frame f;
    struct frame_spec s = {.tags = 2, .ip = 4, .v4_opt_words = 3, .l4 = 6, .payload = 10};
    build(&s, &f);
    struct nf_packet p = packet(f.buf, f.len);
    assert_ptr_equal(nf_eth(&p), f.buf);
    assert_int_equal(f.l3_off, 22);
    assert_ptr_equal(nf_ipv4(&p), f.buf + 22);
    assert_null(nf_ipv6(&p));
    assert_ptr_equal(nf_tcp(&p), f.buf + 22 + 32);
    assert_ptr_equal(nf_l4(&p), f.buf + 22 + 32);
    assert_null(nf_udp(&p));
    assert_int_equal(nf_l4_proto(&p), NF_PROTO_TCP);
    assert_int_equal(nf_l4(&p)->dport, __builtin_bswap16(443));

    struct frame_spec s6 = {.tags = 1, .ip = 6, .v6_ext = 4, .l4 = 17, .payload = 5};
    build(&s6, &f);
    p = packet(f.buf, f.len);
    assert_null(nf_ipv4(&p));
    assert_ptr_equal(nf_ipv6(&p), f.buf + 18);
    assert_ptr_equal(nf_udp(&p), f.buf + f.l4_off);
    assert_true(f.l4_off > 18 + 40 + 24);
    assert_int_equal(nf_l4_proto(&p), NF_PROTO_UDP);

    s6.nonfirst = true;
    build(&s6, &f);
    p = packet(f.buf, f.len);
    assert_non_null(nf_ipv6(&p));
    assert_null(nf_l4(&p));
    assert_null(nf_udp(&p));

    s.nonfirst = true;
    build(&s, &f);
    p = packet(f.buf, f.len);
    assert_non_null(nf_ipv4(&p));
    assert_null(nf_l4(&p));
    assert_null(nf_tcp(&p));
    assert_int_equal(nf_l4_proto(&p), NF_PROTO_TCP);

    struct frame_spec icmp = {.ip = 4, .l4 = 1, .payload = 8};
    build(&icmp, &f);
    p = packet(f.buf, f.len);
    assert_null(nf_l4(&p));
    assert_int_equal(nf_l4_proto(&p), 1);

    struct frame_spec arp = {.ip = 0};
    build(&arp, &f);
    p = packet(f.buf, f.len);
    assert_non_null(nf_eth(&p));
    assert_null(nf_ipv4(&p));
    assert_null(nf_ipv6(&p));
    assert_int_equal(nf_l4_proto(&p), 0);

    /* IPv6 + AH (length in 4-byte units, minus 2) + TCP */
    {
        uint8_t b[14 + 40 + 24 + 20] = {0};
        put16(b + 12, NF_ETHERTYPE_IPV6);
        b[14] = 0x60;
        put16(b + 18, 24 + 20);
        b[20] = 51;
        b[54] = NF_PROTO_TCP;
        b[55] = 4;                      /* (4 + 2) * 4 = 24 bytes */
        b[78 + 12] = 5 << 4;
        struct nf_packet q = packet(b, sizeof b);
        assert_ptr_equal(nf_tcp(&q), b + 78);
        assert_int_equal(nf_l4_proto(&q), NF_PROTO_TCP);
        q.len = sizeof b - 1;
        assert_null(nf_tcp(&q));
        assert_non_null(nf_l4(&q));
    }

    /* bad IPv4 version / IHL */
    build(&s, &f);
    p = packet(f.buf, f.len);
    f.buf[22] = 0x44;
    assert_null(nf_ipv4(&p));
    f.buf[22] = 0x65;
    assert_null(nf_ipv4(&p));
}

/* Every prefix of every frame: each accessor non-NULL exactly when its header
 * fits, and no read past the prefix (ASan; exact-length heap buffers). */
static void check_truncations(const struct frame_spec *s)
{
    struct frame f;
    build(s, &f);
    uint32_t ihl = 20 + 4u * (uint32_t)s->v4_opt_words;
    bool l4ok = s->ip && !s->nonfirst && (s->l4 == 6 || s->l4 == 17);
    for (uint32_t len = 0; len <= f.len; len++) {
        uint8_t *data = malloc(len ? len : 1);
        memcpy(data, f.buf, len);
        struct nf_packet p = packet(data, len);
        assert_int_equal(nf_eth(&p) != NULL, len >= 14);
        assert_int_equal(nf_ipv4(&p) != NULL, s->ip == 4 && len >= f.l3_off + ihl);
        assert_int_equal(nf_ipv6(&p) != NULL, s->ip == 6 && len >= f.l3_off + 40);
        assert_int_equal(nf_l4(&p) != NULL, l4ok && len >= f.l4_off + 4);
        assert_int_equal(nf_tcp(&p) != NULL, l4ok && s->l4 == 6 && len >= f.l4_off + f.l4_hdr);
        assert_int_equal(nf_udp(&p) != NULL, l4ok && s->l4 == 17 && len >= f.l4_off + 8);
        uint8_t proto = nf_l4_proto(&p);
        if (s->ip == 4)
            assert_int_equal(proto, len >= f.l3_off + ihl ? s->l4 : 0);
        else if (s->ip == 6)
            assert_int_equal(proto, len >= f.l4_off ? s->l4 : 0);
        nf_checksums_update(&p);    /* must not touch bytes past len */
        free(data);
    }
}

static void test_truncation_every_length(void **state)
{
    (void)state;
    for (int tags = 0; tags <= 2; tags++) {
        for (int l4i = 0; l4i < 3; l4i++) {
            int l4 = l4i == 0 ? 6 : l4i == 1 ? 17 : 1;
            for (int opt = 0; opt <= 10; opt += 5) {
                struct frame_spec s = {.tags = tags, .ip = 4, .v4_opt_words = opt, .l4 = l4,
                                       .tcp_opt_words = opt / 5, .payload = 3};
                check_truncations(&s);
                s.nonfirst = true;
                check_truncations(&s);
            }
            for (int ext = 0; ext <= 4; ext++) {
                struct frame_spec s = {.tags = tags, .ip = 6, .v6_ext = ext, .l4 = l4,
                                       .tcp_opt_words = 1, .payload = 7};
                check_truncations(&s);
                if (ext == 4) {
                    s.nonfirst = true;
                    check_truncations(&s);
                }
            }
        }
    }
    struct frame_spec arp = {.tags = 1, .ip = 0};
    check_truncations(&arp);
}

/* ---- checksums: an independent computation ---- */

/* RFC 1071 over a contiguous buffer, summing little-endian-loaded words and
 * swapping at the end (byte-order independence), unlike the runtime. */
static uint16_t ref_checksum(const uint8_t *b, size_t n)
{
    uint32_t sum = 0;
    size_t i;
    for (i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)b[i] | ((uint32_t)b[i + 1] << 8);
    if (i < n)
        sum += b[i];
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    uint16_t le = (uint16_t)~sum;
    return (uint16_t)((le >> 8) | (le << 8));
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

/* Expected L4 checksum: pseudo-header + segment (checksum field zeroed). */
static uint16_t ref_l4(const struct frame *f, int ip, int l4)
{
    uint8_t tmp[600];
    size_t n = 0;
    const uint8_t *ipb = f->buf + f->l3_off;
    uint32_t seg;
    if (ip == 4) {
        seg = get16(ipb + 2) - (ipb[0] & 15u) * 4;
        memcpy(tmp, ipb + 12, 8);
        tmp[8] = 0;
        tmp[9] = (uint8_t)l4;
        put16(tmp + 10, (uint16_t)seg);
        n = 12;
    } else {
        seg = get16(ipb + 4) - (f->l4_off - f->l3_off - 40);
        memcpy(tmp, ipb + 8, 32);
        memset(tmp + 32, 0, 8);
        put16(tmp + 34, (uint16_t)seg);
        tmp[39] = (uint8_t)l4;
        n = 40;
    }
    memcpy(tmp + n, f->buf + f->l4_off, seg);
    memset(tmp + n + (l4 == 6 ? 16 : 6), 0, 2);
    uint16_t c = ref_checksum(tmp, n + seg);
    return c == 0 && l4 == 17 ? 0xffff : c;
}

static void test_ipv4_header_known_vector(void **state)
{
    (void)state;
    /* a classic example header: checksum 0xb861 */
    uint8_t frame[60] = {0};
    frame[12] = 0x08;
    const uint8_t hdr[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                             0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    memcpy(frame + 14, hdr, 20);
    struct nf_packet p = packet(frame, sizeof frame);
    nf_checksums_update(&p);
    assert_int_equal(get16(frame + 24), 0xb861);
}

static void test_checksums(void **state)
{
    (void)state;
    for (int ip = 4; ip <= 6; ip += 2) {
        for (int l4 = 6; l4 <= 17; l4 += 11) {
            for (int payload = 0; payload < 40; payload += 3) {
                struct frame_spec s = {.tags = payload % 3, .ip = ip,
                                       .v4_opt_words = payload % 2, .v6_ext = payload % 5,
                                       .l4 = l4, .tcp_opt_words = payload % 2,
                                       .payload = payload};
                struct frame f;
                build(&s, &f);
                uint32_t cks_at = f.l4_off + (l4 == 6 ? 16 : 6);
                f.buf[cks_at] = 0x12;          /* stale, non-zero */
                f.buf[cks_at + 1] = 0x34;
                if (ip == 4)
                    put16(f.buf + f.l3_off + 10, 0xdead);
                struct nf_packet p = packet(f.buf, f.len);
                nf_checksums_update(&p);
                if (ip == 4) {
                    uint32_t ihl = (f.buf[f.l3_off] & 15u) * 4;
                    uint8_t h[60];
                    memcpy(h, f.buf + f.l3_off, ihl);
                    h[10] = h[11] = 0;
                    assert_int_equal(get16(f.buf + f.l3_off + 10), ref_checksum(h, ihl));
                }
                assert_int_equal(get16(f.buf + cks_at), ref_l4(&f, ip, l4));
            }
        }
    }
}

static void test_udp_zero_rules(void **state)
{
    (void)state;
    struct frame f;
    struct frame_spec s4 = {.ip = 4, .l4 = 17, .payload = 12};
    build(&s4, &f);
    struct nf_packet p = packet(f.buf, f.len);
    nf_checksums_update(&p);            /* IPv4 UDP checksum 0: "none", stays 0 */
    assert_int_equal(get16(f.buf + f.l4_off + 6), 0);

    struct frame_spec s6 = {.ip = 6, .l4 = 17, .payload = 12};
    build(&s6, &f);
    p = packet(f.buf, f.len);
    nf_checksums_update(&p);            /* IPv6: mandatory, computed from 0 */
    uint16_t c = get16(f.buf + f.l4_off + 6);
    assert_int_not_equal(c, 0);
    assert_int_equal(c, ref_l4(&f, 6, 17));
    /* make the true sum come out as 0: put c into a payload word */
    uint32_t word = f.l4_off + 8 + 10;
    assert_int_equal(get16(f.buf + word), (uint16_t)(((10 * 7 + 3) << 8) | (11 * 7 + 3)));
    put16(f.buf + word, 0);
    put16(f.buf + f.l4_off + 6, 0);
    nf_checksums_update(&p);
    uint16_t c0 = get16(f.buf + f.l4_off + 6);
    put16(f.buf + word, c0);
    nf_checksums_update(&p);
    assert_int_equal(get16(f.buf + f.l4_off + 6), 0xffff);
}

static void test_fragment_checksum_untouched(void **state)
{
    (void)state;
    struct frame f;
    struct frame_spec s = {.ip = 4, .l4 = 6, .first_frag = true, .payload = 20};
    build(&s, &f);
    put16(f.buf + f.l4_off + 16, 0x5555);
    struct nf_packet p = packet(f.buf, f.len);
    nf_checksums_update(&p);
    assert_int_equal(get16(f.buf + f.l4_off + 16), 0x5555);   /* covers absent bytes */
    assert_int_not_equal(get16(f.buf + f.l3_off + 10), 0);     /* IP header still done */
}

/* The IP packet's stated length bounds the L4 headers: bytes after it are
 * Ethernet padding, not ports (traces/parse.c, whose tuple RSS hashes, agrees;
 * tests/adversarial/test_parser_crosscheck.c compares the two). A zero length
 * (TSO capture, IPv6 jumbogram) means "up to the captured end". */
static void test_ip_length_bounds_l4(void **state)
{
    (void)state;
    for (int ip = 4; ip <= 6; ip += 2) {
        for (int l4 = 6; l4 <= 17; l4 += 11) {
            struct frame f;
            struct frame_spec s = {.ip = ip, .l4 = l4, .v6_ext = ip == 6 ? 1 : 0};
            build(&s, &f);
            f.len += 16;                        /* padding behind the IP packet */
            /* IPv4 total length, or IPv6 payload length (after 40 bytes) */
            uint32_t stated_at = f.l3_off + (ip == 4 ? 2 : 4);
            uint16_t ports_end = (uint16_t)(f.l4_off + 4 - f.l3_off - (ip == 4 ? 0 : 40));
            struct nf_packet p = packet(f.buf, f.len);
            /* Whole L4 header inside the stated length: every accessor. */
            assert_non_null(nf_l4(&p));
            assert_non_null(l4 == 6 ? (void *)nf_tcp(&p) : (void *)nf_udp(&p));
            /* Ports inside, the rest of the header not: nf_l4 only. */
            put16(f.buf + stated_at, ports_end);
            assert_non_null(nf_l4(&p));
            assert_null(nf_tcp(&p));
            assert_null(nf_udp(&p));
            /* The stated length ends inside the ports: no L4 at all. */
            put16(f.buf + stated_at, (uint16_t)(ports_end - 2));
            assert_null(nf_l4(&p));
            assert_null(nf_tcp(&p));
            assert_null(nf_udp(&p));
            assert_non_null(ip == 4 ? (void *)nf_ipv4(&p) : (void *)nf_ipv6(&p));
            /* Zero: up to what was captured. */
            put16(f.buf + stated_at, 0);
            assert_non_null(nf_l4(&p));
            assert_non_null(l4 == 6 ? (void *)nf_tcp(&p) : (void *)nf_udp(&p));
        }
    }
}

/* Random frames (valid Ethernet + IP prefixes with random bytes after): any
 * pointer an accessor returns lies wholly inside the frame, and checksum
 * updates stay inside it (ASan, exact-length buffers). */
static void test_random_frames(void **state)
{
    (void)state;
    uint64_t seed = 99;
    uint32_t seen_v4 = 0, seen_v6 = 0, seen_tcp = 0, seen_udp = 0;
    for (int iter = 0; iter < 20000; iter++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        uint32_t len = (uint32_t)(seed >> 33) % 140;
        uint8_t *d = malloc(len ? len : 1);
        uint64_t x = seed;
        for (uint32_t i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            d[i] = (uint8_t)x;
        }
        /* steer towards interesting parses */
        static const uint16_t types[] = {0x0800, 0x86dd, 0x8100, 0x88a8};
        uint32_t off = 12;
        for (int t = 0; t < (int)(seed % 3) && off + 2 <= len; t++, off += 4)
            put16(d + off, types[2 + (seed >> 7) % 2]);
        if (off + 2 <= len)
            put16(d + off, types[(seed >> 9) % 2]);
        if (off + 3 <= len)
            d[off + 2] = (seed >> 9) % 2 ? 0x60 : (uint8_t)(0x45 + (seed >> 11) % 3);
        if (off + 10 <= len && (seed >> 9) % 2)
            d[off + 8] = (uint8_t)((const uint8_t[]){0, 43, 44, 60, 51, 6, 17}[(seed >> 13) % 7]);
        struct nf_packet p = packet(d, len);
        const uint8_t *end = d + len;
        const uint8_t *q;
        if ((q = (const uint8_t *)nf_eth(&p)))
            assert_true(q + 14 <= end);
        if ((q = (const uint8_t *)nf_ipv4(&p))) {
            assert_true(q + (q[0] & 15) * 4 <= end && q >= d + 14);
            seen_v4++;
        }
        if ((q = (const uint8_t *)nf_ipv6(&p))) {
            assert_true(q + 40 <= end && q >= d + 14);
            seen_v6++;
        }
        seen_tcp += nf_tcp(&p) != NULL;
        seen_udp += nf_udp(&p) != NULL;
        if ((q = (const uint8_t *)nf_l4(&p)))
            assert_true(q + 4 <= end);
        if ((q = (const uint8_t *)nf_udp(&p)))
            assert_true(q + 8 <= end);
        if ((q = (const uint8_t *)nf_tcp(&p)))
            assert_true(q + (q[12] >> 4) * 4 <= end && q + 20 <= end);
        (void)nf_l4_proto(&p);
        nf_checksums_update(&p);
        free(d);
    }
    print_message("random frames: %u IPv4, %u IPv6, %u TCP, %u UDP\n", seen_v4, seen_v6,
                  seen_tcp, seen_udp);
    assert_true(seen_v4 > 1000 && seen_v6 > 1000 && seen_tcp > 50 && seen_udp > 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_frames),
        cmocka_unit_test(test_truncation_every_length),
        cmocka_unit_test(test_ipv4_header_known_vector),
        cmocka_unit_test(test_checksums),
        cmocka_unit_test(test_udp_zero_rules),
        cmocka_unit_test(test_fragment_checksum_untouched),
        cmocka_unit_test(test_ip_length_bounds_l4),
        cmocka_unit_test(test_random_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
