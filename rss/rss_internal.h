/*
 * rss_internal.h - helpers shared by the files of rss/ (not a contract):
 * field widths, the seeded generator, plan copies.
 */
#ifndef RSSKEY_RSS_INTERNAL_H
#define RSSKEY_RSS_INTERNAL_H

#include <stdio.h>

#include "rss/rss.h"

/* Width in bits of a hashable field (0 for the others). */
static inline int rss_field_width(enum ir_field_id id)
{
    switch (id) {
    case IR_FIELD_IPV4_SRC: case IR_FIELD_IPV4_DST: return 32;
    case IR_FIELD_IPV6_SRC: case IR_FIELD_IPV6_DST: return 128;
    case IR_FIELD_L4_SPORT: case IR_FIELD_L4_DPORT: return 16;
    default: return 0;
    }
}

/* Leading bits of the field a key keeps (the whole field without prefix). */
static inline int rss_field_kept(struct ir_field f)
{
    int w = rss_field_width(f.id);
    return f.prefix && f.prefix < w ? f.prefix : w;
}

/* 4 or 6 for address fields, 0 for ports and the rest. */
static inline int rss_field_version(enum ir_field_id id)
{
    if (id == IR_FIELD_IPV4_SRC || id == IR_FIELD_IPV4_DST)
        return 4;
    if (id == IR_FIELD_IPV6_SRC || id == IR_FIELD_IPV6_DST)
        return 6;
    return 0;
}

static inline const char *rss_field_name(struct ir_field f, char *buf, size_t n)
{
    static const char *const names[] = {"eth.src", "eth.dst", "ipv4.src", "ipv4.dst",
                                        "ipv6.src", "ipv6.dst", "ip.proto", "l4.sport",
                                        "l4.dport"};
    const char *name = (unsigned)f.id < 9 ? names[f.id] : "a non-header value";
    if (f.prefix && f.prefix < rss_field_width(f.id))
        snprintf(buf, n, "%s/%u", name, f.prefix);
    else
        snprintf(buf, n, "%s", name);
    return buf;
}

/* splitmix64: a small seeded generator; state advanced by the caller. */
static inline uint64_t rss_rand_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline int rss_index_bits(uint32_t reta_size)
{
    int m = 0;
    while ((1u << m) < reta_size)
        m++;
    return m;
}

/* Deep copy of the analysis into dst; free it with deps_plan_free. Returns 0,
 * -1 when out of memory. */
int rss_deps_copy(struct deps_plan *dst, const struct deps_plan *src);
/* Appends a warning (printf-style). */
void rss_deps_warn(struct deps_plan *plan, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* RSSKEY_RSS_INTERNAL_H */
