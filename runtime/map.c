/*
 * map.c - nf_map: exact-match map from fixed-size keys to int32 values.
 *
 * Open addressing with robin-hood linear probing. A slot holds a 32-bit tag
 * (the high half of the key's 64-bit hash, never 0; 0 marks an empty slot),
 * the value and the key inline, so a lookup usually touches one cache line.
 * The tag also gives the slot's home position (tag & mask), so probe
 * distances need no rehash. Robin hood keeps probe sequences short and lets a
 * miss stop as soon as it meets a slot closer to its home than the probe is;
 * erase shifts the following run back one slot (no tombstones).
 *
 * Invariants: slots is a power of two > capacity (load <= 80%); count <=
 * capacity; no per-operation allocation (the insert carry buffer is part of
 * the instance).
 */
#include <stdlib.h>

#include "runtime/rt_internal.h"

struct map_inst {
    uint8_t *slots;         /* nslots * stride bytes */
    uint32_t mask;          /* nslots - 1 */
    uint32_t stride;        /* bytes per slot: 8 + key_size, rounded to 8 */
    uint32_t key_size;
    uint32_t capacity;
    uint32_t count;
    uint8_t *carry;         /* one slot's worth: the entry being placed */
};

struct slot_head {
    uint32_t tag;
    int32_t value;
};

static inline uint8_t *slot_at(const struct map_inst *m, uint32_t pos)
{
    return m->slots + (size_t)pos * m->stride;
}

static inline uint32_t slot_tag(const uint8_t *slot)
{
    uint32_t t;
    memcpy(&t, slot, 4);
    return t;
}

static inline uint32_t key_tag(const struct map_inst *m, const void *key)
{
    uint32_t tag = (uint32_t)(rt_hash(key, m->key_size, 0) >> 32);
    return tag + (tag == 0);
}

static struct map_inst *map_inst_new(uint32_t key_size, uint32_t capacity)
{
    uint64_t want = (uint64_t)capacity + capacity / 4 + 1;
    uint64_t nslots = 8;
    while (nslots < want)
        nslots <<= 1;
    if (nslots > (1ULL << 31))
        return NULL;
    struct map_inst *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->key_size = key_size;
    m->capacity = capacity;
    m->stride = (8 + key_size + 7) & ~7u;
    m->mask = (uint32_t)nslots - 1;
    m->slots = calloc(nslots, m->stride);
    m->carry = malloc(m->stride);
    if (!m->slots || !m->carry) {
        free(m->slots);
        free(m->carry);
        free(m);
        return NULL;
    }
    return m;
}

static void map_inst_free(void *inst)
{
    struct map_inst *m = inst;
    if (!m)
        return;
    free(m->slots);
    free(m->carry);
    free(m);
}

/* Position of key, or -1. */
static inline int64_t map_find(const struct map_inst *m, const void *key, uint32_t tag)
{
    uint32_t pos = tag & m->mask;
    for (uint32_t dist = 0;; dist++) {
        const uint8_t *s = slot_at(m, pos);
        uint32_t st = slot_tag(s);
        if (st == 0 || ((pos - st) & m->mask) < dist)
            return -1;
        if (st == tag && rt_key_equal(s + 8, key, m->key_size))
            return pos;
        pos = (pos + 1) & m->mask;
    }
}

static bool map_inst_get(const struct map_inst *m, const void *key, int32_t *value)
{
    int64_t pos = map_find(m, key, key_tag(m, key));
    if (pos < 0)
        return false;
    if (value)
        memcpy(value, slot_at(m, (uint32_t)pos) + 4, 4);
    return true;
}

static bool map_inst_put(struct map_inst *m, const void *key, int32_t value)
{
    uint32_t tag = key_tag(m, key);
    uint32_t pos = tag & m->mask;
    uint32_t dist = 0;
    uint8_t *s;
    /* Walk until the key, an empty slot, or a slot richer than us. */
    for (;; dist++, pos = (pos + 1) & m->mask) {
        s = slot_at(m, pos);
        uint32_t st = slot_tag(s);
        if (st == 0 || ((pos - st) & m->mask) < dist)
            break;
        if (st == tag && rt_key_equal(s + 8, key, m->key_size)) {
            memcpy(s + 4, &value, 4);
            return true;
        }
    }
    if (m->count >= m->capacity)
        return false;
    m->count++;
    /* Place the new entry here; carry the displaced ones forward. */
    struct slot_head head = {tag, value};
    uint8_t *carry = m->carry;
    memcpy(carry, &head, 8);
    memcpy(carry + 8, key, m->key_size);
    for (;; dist++, pos = (pos + 1) & m->mask) {
        s = slot_at(m, pos);
        uint32_t st = slot_tag(s);
        if (st == 0) {
            memcpy(s, carry, m->stride);
            return true;
        }
        uint32_t sdist = (pos - st) & m->mask;
        if (sdist < dist) {
            /* swap carry and slot, continue with the displaced entry */
            for (uint32_t i = 0; i < m->stride; i += 8) {
                uint64_t a = rt_load64(carry + i), b = rt_load64(s + i);
                memcpy(carry + i, &b, 8);
                memcpy(s + i, &a, 8);
            }
            dist = sdist;
        }
    }
}

static bool map_inst_erase(struct map_inst *m, const void *key)
{
    int64_t found = map_find(m, key, key_tag(m, key));
    if (found < 0)
        return false;
    uint32_t pos = (uint32_t)found;
    for (;;) {
        uint32_t next = (pos + 1) & m->mask;
        uint8_t *ns = slot_at(m, next);
        uint32_t nt = slot_tag(ns);
        if (nt == 0 || ((next - nt) & m->mask) == 0)
            break;
        memcpy(slot_at(m, pos), ns, m->stride);
        pos = next;
    }
    memset(slot_at(m, pos), 0, m->stride);
    m->count--;
    return true;
}

/* ---- nf.h --------------------------------------------------------------- */

struct nf_map *nf_map_create(const char *name, uint32_t key_size, uint32_t capacity)
{
    if (key_size == 0 || key_size > 4096 || capacity == 0 || capacity > (1u << 30))
        return NULL;
    struct map_inst *m = map_inst_new(key_size, capacity);
    if (!m)
        return NULL;
    struct nf_map *h = rt_register(sizeof *h, name, RT_MAP, &rt_map_ops, m);
    if (!h) {
        map_inst_free(m);
        return NULL;
    }
    h->obj.key_size = key_size;
    h->obj.capacity = capacity;
    return h;
}

bool nf_map_get(struct nf_map *map, const void *key, int32_t *value)
{
    rt_guard_read(&map->obj, "nf_map_get");
    return map_inst_get(rt_inst(&map->obj), key, value);
}

bool nf_map_put(struct nf_map *map, const void *key, int32_t value)
{
    rt_guard_write(&map->obj, "nf_map_put");
    bool ok = map_inst_put(rt_inst(&map->obj), key, value);
    if (!ok)
        rt_note_full(&map->obj);
    return ok;
}

bool nf_map_erase(struct nf_map *map, const void *key)
{
    rt_guard_write(&map->obj, "nf_map_erase");
    return map_inst_erase(rt_inst(&map->obj), key);
}

uint64_t rt_map_get_bulk(struct nf_map *map, const void *const *keys, uint32_t n,
                         int32_t *values)
{
    rt_guard_read(&map->obj, "rt_map_get_bulk");
    const struct map_inst *m = rt_inst(&map->obj);
    uint32_t tags[RT_MAP_BULK_MAX];
    if (n > RT_MAP_BULK_MAX)
        n = RT_MAP_BULK_MAX;
    for (uint32_t i = 0; i < n; i++) {
        tags[i] = key_tag(m, keys[i]);
        __builtin_prefetch(slot_at(m, tags[i] & m->mask));
    }
    uint64_t found = 0;
    for (uint32_t i = 0; i < n; i++) {
        int64_t pos = map_find(m, keys[i], tags[i]);
        if (pos >= 0) {
            memcpy(&values[i], slot_at(m, (uint32_t)pos) + 4, 4);
            found |= 1ULL << i;
        }
    }
    return found;
}

/* ---- registry operations ------------------------------------------------ */

static void *map_shard(const struct rt_object *o, const void *src, int core, int cores,
                       struct util_error *err)
{
    (void)core;
    const struct map_inst *from = src;
    uint32_t share = (uint32_t)(((uint64_t)o->capacity + (uint32_t)cores - 1) / (uint32_t)cores);
    struct map_inst *m = map_inst_new(o->key_size, share);
    if (!m) {
        util_error_set(err, "map '%s': out of memory for a per-core instance of %u entries",
                       o->name, share);
        return NULL;
    }
    for (uint32_t pos = 0; pos <= from->mask; pos++) {
        const uint8_t *s = slot_at(from, pos);
        if (slot_tag(s) == 0)
            continue;
        int32_t v;
        memcpy(&v, s + 4, 4);
        if (!map_inst_put(m, s + 8, v)) {
            util_error_set(err,
                           "map '%s': nf_init left %u entries, more than a per-core share of "
                           "%u entries (capacity %u / %d cores); make it replicated or shared, "
                           "or raise its capacity",
                           o->name, from->count, share, o->capacity, cores);
            map_inst_free(m);
            return NULL;
        }
    }
    return m;
}

static size_t map_bytes(const void *inst)
{
    const struct map_inst *m = inst;
    return sizeof *m + ((size_t)m->mask + 1) * m->stride + m->stride;
}

const struct rt_kind_ops rt_map_ops = {map_shard, map_inst_free, map_bytes};
