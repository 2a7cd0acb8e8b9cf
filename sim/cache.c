/*
 * cache.c - one set-associative cache of 64-byte lines with true LRU
 * replacement (the policy cachegrind simulates), write-allocate: a miss of a
 * read or a write inserts the line. Each way has a tag and a last-use stamp;
 * the victim is an empty way, else the smallest stamp.
 */
#include <stdlib.h>

#include "sim/sim_internal.h"

#define NO_LINE UINT64_MAX

struct sim_cache {
    uint32_t sets, ways;
    uint32_t set_mask;
    uint64_t clock;
    uint64_t *tags;             /* sets * ways */
    uint64_t *stamps;
};

struct sim_cache *sim_cache_new(uint64_t bytes, uint32_t ways)
{
    if (ways == 0 || bytes < 64ull * ways)
        return NULL;
    uint64_t sets = bytes / 64 / ways;
    if (sets & (sets - 1))
        return NULL;            /* set count must be a power of two */
    struct sim_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->sets = (uint32_t)sets;
    c->ways = ways;
    c->set_mask = (uint32_t)sets - 1;
    c->tags = malloc(sets * ways * sizeof *c->tags);
    c->stamps = calloc(sets * ways, sizeof *c->stamps);
    if (!c->tags || !c->stamps) {
        sim_cache_free(c);
        return NULL;
    }
    for (uint64_t i = 0; i < sets * ways; i++)
        c->tags[i] = NO_LINE;
    return c;
}

void sim_cache_free(struct sim_cache *c)
{
    if (!c)
        return;
    free(c->tags);
    free(c->stamps);
    free(c);
}

bool sim_cache_access(struct sim_cache *c, uint64_t line)
{
    uint64_t base = (uint64_t)(line & c->set_mask) * c->ways;
    uint64_t *tags = c->tags + base, *stamps = c->stamps + base;
    uint32_t victim = 0;
    for (uint32_t w = 0; w < c->ways; w++) {
        if (tags[w] == line) {
            stamps[w] = ++c->clock;
            return true;
        }
        if (stamps[w] < stamps[victim])
            victim = w;
    }
    tags[victim] = line;
    stamps[victim] = ++c->clock;
    return false;
}

bool sim_cache_probe(const struct sim_cache *c, uint64_t line)
{
    const uint64_t *tags = c->tags + (uint64_t)(line & c->set_mask) * c->ways;
    for (uint32_t w = 0; w < c->ways; w++)
        if (tags[w] == line)
            return true;
    return false;
}

bool sim_cache_invalidate(struct sim_cache *c, uint64_t line)
{
    uint64_t base = (uint64_t)(line & c->set_mask) * c->ways;
    for (uint32_t w = 0; w < c->ways; w++) {
        if (c->tags[base + w] == line) {
            c->tags[base + w] = NO_LINE;
            c->stamps[base + w] = 0;    /* empty ways are chosen first */
            return true;
        }
    }
    return false;
}
