/*
 * frames.h - a tiny builder of crafted frames shared by the traces tests:
 * Ethernet, IPv4 (options, fragment field), IPv6 and extension headers, UDP,
 * TCP, with fixed documentation addresses.
 */
#ifndef RSSKEY_TESTS_TRACES_FRAMES_H
#define RSSKEY_TESTS_TRACES_FRAMES_H

#include <stdint.h>
#include <string.h>

struct frame {
    uint8_t b[512];
    uint32_t len;
};

static inline void put(struct frame *f, const void *p, uint32_t n)
{
    memcpy(f->b + f->len, p, n);
    f->len += n;
}

static inline void put8(struct frame *f, uint8_t v)
{
    f->b[f->len++] = v;
}

static inline void put16(struct frame *f, uint16_t v)
{
    put8(f, (uint8_t)(v >> 8));
    put8(f, (uint8_t)v);
}

static const uint8_t MAC_DST[6] = {0x02, 0, 0, 0, 0, 0xd1};
static const uint8_t MAC_SRC[6] = {0x02, 0, 0, 0, 0, 0x51};
static const uint8_t V4_SRC[4] = {10, 1, 2, 3};
static const uint8_t V4_DST[4] = {192, 0, 2, 9};
static const uint8_t V6_SRC[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t V6_DST[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

static inline void put_eth(struct frame *f, uint16_t ethertype)
{
    put(f, MAC_DST, 6);
    put(f, MAC_SRC, 6);
    put16(f, ethertype);
}

/* IPv4 header with n_option_words of NOP options; frag = flags|offset field. */
static inline void put_ipv4(struct frame *f, uint8_t proto, uint16_t frag, int n_option_words,
                     uint16_t payload_len)
{
    uint8_t ihl = (uint8_t)(5 + n_option_words);
    put8(f, (uint8_t)(0x40 | ihl));
    put8(f, 0);
    put16(f, (uint16_t)(ihl * 4 + payload_len));
    put16(f, 0x1234);
    put16(f, frag);
    put8(f, 64);
    put8(f, proto);
    put16(f, 0);
    put(f, V4_SRC, 4);
    put(f, V4_DST, 4);
    for (int i = 0; i < n_option_words * 4; i++)
        put8(f, 1);
}

static inline void put_ipv6(struct frame *f, uint8_t next, uint16_t payload_len)
{
    put8(f, 0x60);
    put8(f, 0);
    put16(f, 0);
    put16(f, payload_len);
    put8(f, next);
    put8(f, 64);
    put(f, V6_SRC, 16);
    put(f, V6_DST, 16);
}

/* An 8-byte-unit extension header (hop-by-hop, routing, dstopts). */
static inline void put_ext(struct frame *f, uint8_t next, uint8_t units_minus_one)
{
    put8(f, next);
    put8(f, units_minus_one);
    for (int i = 0; i < 6 + 8 * units_minus_one; i++)
        put8(f, 0);
}

static inline void put_udp(struct frame *f, uint16_t sport, uint16_t dport)
{
    put16(f, sport);
    put16(f, dport);
    put16(f, 8 + 4);
    put16(f, 0);
    put(f, "data", 4);
}

static inline void put_tcp(struct frame *f, uint16_t sport, uint16_t dport)
{
    put16(f, sport);
    put16(f, dport);
    for (int i = 0; i < 16; i++)
        put8(f, i == 8 ? 0x50 : 0);
}

#endif
