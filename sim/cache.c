/*
 * cache.c - one set-associative cache of 64-byte lines with true LRU
 * replacement (the policy cachegrind simulates), write-allocate: a miss of a
 * read or a write inserts the line.
 *
 * Layout for speed: a set is its ways' 32-bit tags followed by their 32-bit
 * last-use stamps, contiguous (a 16-way set is two host cache lines). The
 * victim is an empty way (stamp 0), else the smallest stamp. When the 32-bit
 * clock would wrap (after 4 billion accesses to one cache) every stamp is
 * reset, losing the LRU order once; documented in docs/simulator.md.
 * 16-way and 8-way sets are searched with AVX-512 / AVX2 when the CPU has
 * them; every path picks the same victim (lowest index among the oldest).
 * Line numbers must fit in 32 bits (256 GiB of simulated addresses).
 */
#include <stdlib.h>
#include <string.h>

#include "sim/sim_internal.h"

#define NO_LINE UINT32_MAX

struct sim_cache {
    uint32_t sets, ways;
    uint32_t set_mask;
    uint32_t clock;
    /* The lookup for this geometry and CPU, chosen once (sim_cache_new):
     * AVX-512 for 16 ways, AVX2 for 8, else scalar. */
    bool (*lookup)(struct sim_cache *c, uint32_t *tags, uint32_t tag);
    uint32_t *data;             /* per set: ways tags, then ways stamps */
};

static bool access_scalar(struct sim_cache *c, uint32_t *tags, uint32_t tag);
#if defined(__x86_64__)
static bool access16_avx512(struct sim_cache *c, uint32_t *tags, uint32_t tag);
static bool access8_avx2(struct sim_cache *c, uint32_t *tags, uint32_t tag);
#endif

struct sim_cache *sim_cache_new(uint64_t bytes, uint32_t ways)
{
    if (ways == 0 || ways > 64 || bytes < 64ull * ways)
        return NULL;
    uint64_t sets = bytes / 64 / ways;
    if ((sets & (sets - 1)) || sets > (1ull << 30))
        return NULL;            /* set count must be a power of two */
    struct sim_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->sets = (uint32_t)sets;
    c->ways = ways;
    c->set_mask = (uint32_t)sets - 1;
    c->lookup = access_scalar;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (ways == 16 && __builtin_cpu_supports("avx512f"))
        c->lookup = access16_avx512;
    else if (ways == 8 && __builtin_cpu_supports("avx2"))
        c->lookup = access8_avx2;
#endif
    c->data = sim_table_alloc(sets * ways * 2 * sizeof *c->data);
    if (!c->data) {
        free(c);
        return NULL;
    }
    for (uint64_t s = 0; s < sets; s++) {
        uint32_t *set = c->data + s * ways * 2;
        for (uint32_t w = 0; w < ways; w++) {
            set[w] = NO_LINE;
            set[ways + w] = 0;
        }
    }
    return c;
}

void sim_cache_free(struct sim_cache *c)
{
    if (!c)
        return;
    free(c->data);
    free(c);
}

static void restart_clock(struct sim_cache *c)
{
    for (uint64_t s = 0; s < c->sets; s++) {
        uint32_t *set = c->data + s * c->ways * 2;
        for (uint32_t w = 0; w < c->ways; w++)
            set[c->ways + w] = set[w] == NO_LINE ? 0 : 1;
    }
    c->clock = 1;
}

static uint32_t *set_of(const struct sim_cache *c, uint64_t line)
{
    return c->data + (uint64_t)((uint32_t)line & c->set_mask) * c->ways * 2;
}

/* The portable lookup: one pass over the ways finds the line or the victim
 * (the first empty way, else the first way with the smallest stamp). */
static bool access_scalar(struct sim_cache *c, uint32_t *tags, uint32_t tag)
{
    uint32_t ways = c->ways, *stamps = tags + ways, victim = 0;
    for (uint32_t w = 0; w < ways; w++) {
        if (tags[w] == tag) {
            stamps[w] = ++c->clock;
            return true;
        }
        if (stamps[w] < stamps[victim])
            victim = w;
    }
    tags[victim] = tag;
    stamps[victim] = ++c->clock;
    return false;
}

#if defined(__x86_64__)
#include <immintrin.h>

/* The same choices, 16 ways at once (AVX-512F). */
__attribute__((target("avx512f")))
static bool access16_avx512(struct sim_cache *c, uint32_t *tags, uint32_t tag)
{
    uint32_t *stamps = tags + 16;
    __mmask16 hit = _mm512_cmpeq_epi32_mask(_mm512_load_si512(tags), _mm512_set1_epi32((int)tag));
    if (hit) {
        stamps[__builtin_ctz(hit)] = ++c->clock;
        return true;
    }
    __m512i s = _mm512_load_si512(stamps);
    uint32_t min = _mm512_reduce_min_epu32(s);
    int victim = __builtin_ctz(_mm512_cmpeq_epi32_mask(s, _mm512_set1_epi32((int)min)));
    tags[victim] = tag;
    stamps[victim] = ++c->clock;
    return false;
}

/* 8 ways at once (AVX2). */
__attribute__((target("avx2")))
static bool access8_avx2(struct sim_cache *c, uint32_t *tags, uint32_t tag)
{
    uint32_t *stamps = tags + 8;
    __m256i eq = _mm256_cmpeq_epi32(_mm256_load_si256((const __m256i *)tags),
                                    _mm256_set1_epi32((int)tag));
    int hit = _mm256_movemask_ps(_mm256_castsi256_ps(eq));
    if (hit) {
        stamps[__builtin_ctz(hit)] = ++c->clock;
        return true;
    }
    __m256i s = _mm256_load_si256((const __m256i *)stamps);
    __m256i m = _mm256_min_epu32(s, _mm256_permute2x128_si256(s, s, 1));
    m = _mm256_min_epu32(m, _mm256_shuffle_epi32(m, 0x4e));
    m = _mm256_min_epu32(m, _mm256_shuffle_epi32(m, 0xb1));
    int lowest = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(s, m)));
    int victim = __builtin_ctz(lowest);
    tags[victim] = tag;
    stamps[victim] = ++c->clock;
    return false;
}
#endif

bool sim_cache_access(struct sim_cache *c, uint64_t line)
{
    if (c->clock == UINT32_MAX)
        restart_clock(c);
    return c->lookup(c, set_of(c, line), (uint32_t)line);
}

bool sim_cache_probe(const struct sim_cache *c, uint64_t line)
{
    const uint32_t *tags = set_of(c, line);
    for (uint32_t w = 0; w < c->ways; w++)
        if (tags[w] == (uint32_t)line)
            return true;
    return false;
}

bool sim_cache_invalidate(struct sim_cache *c, uint64_t line)
{
    uint32_t *tags = set_of(c, line);
    for (uint32_t w = 0; w < c->ways; w++) {
        if (tags[w] == (uint32_t)line) {
            tags[w] = NO_LINE;
            tags[c->ways + w] = 0;      /* empty ways are chosen first */
            return true;
        }
    }
    return false;
}

void sim_cache_prefetch(const struct sim_cache *c, const uint64_t *lines, int n)
{
    for (int i = 0; i < n; i++) {
        const uint32_t *set = set_of(c, lines[i]);
        __builtin_prefetch(set);
        if (c->ways > 8)
            __builtin_prefetch(set + c->ways);     /* the stamps' host line */
    }
}
