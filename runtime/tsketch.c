/*
 * tsketch.c - nf_tsketch: a count-min sketch whose buckets age one by one.
 *
 * depth rows of width buckets; a bucket holds a saturating 32-bit count and
 * the time it was last added to or touched. Rows hash keys as nf_sketch's
 * do (rt_sketch_cell), so a key's buckets are independent across rows. A
 * bucket becomes live on the first add that reaches it and stays live until
 * nf_tsketch_expire frees it; at most `capacity` buckets are live at once,
 * and an add that would need more changes nothing and fails (checked for
 * every row before any is changed).
 *
 * Per core (a sharded plan), each core gets ceil(capacity / cores) live
 * buckets and its own counts and stamps: a bucket two cores' keys share
 * sequentially is two buckets in parallel, which lowers estimates (never
 * below the true count of the keys one core sees) and can free a bucket
 * earlier - the "estimate" and "capacity" classes of --verify.
 */
#include <stdlib.h>

#include "runtime/rt_internal.h"

struct tsketch_inst {
    uint32_t key_size, width, depth, capacity, live;
    uint32_t *count;        /* depth rows of width */
    uint64_t *stamp;        /* same layout: last add/touch, valid while live */
    uint8_t *is_live;       /* same layout: 1 = live */
};

static void tsketch_inst_free(void *inst)
{
    struct tsketch_inst *s = inst;
    if (s) {
        free(s->count);
        free(s->stamp);
        free(s->is_live);
    }
    free(s);
}

static struct tsketch_inst *tsketch_inst_new(uint32_t key_size, uint32_t width, uint32_t depth,
                                             uint32_t capacity)
{
    struct tsketch_inst *s = calloc(1, sizeof *s);
    size_t cells = (size_t)width * depth;
    if (!s)
        return NULL;
    s->count = calloc(cells, sizeof *s->count);
    s->stamp = calloc(cells, sizeof *s->stamp);
    s->is_live = calloc(cells, 1);
    if (!s->count || !s->stamp || !s->is_live) {
        tsketch_inst_free(s);
        return NULL;
    }
    s->key_size = key_size;
    s->width = width;
    s->depth = depth;
    s->capacity = capacity;
    return s;
}

struct nf_tsketch *nf_tsketch_create(const char *name, uint32_t key_size, uint32_t width,
                                     uint32_t depth, uint32_t capacity)
{
    if (key_size == 0 || key_size > 4096 || width == 0 || depth == 0 || depth > 64 ||
        (uint64_t)width * depth > UINT32_MAX)
        return NULL;
    uint32_t cells = width * depth;
    if (capacity == 0 || capacity > cells)
        capacity = cells;
    struct tsketch_inst *s = tsketch_inst_new(key_size, width, depth, capacity);
    if (!s)
        return NULL;
    struct nf_tsketch *h = rt_register(sizeof *h, name, RT_SKETCH, &rt_tsketch_ops, s);
    if (!h) {
        tsketch_inst_free(s);
        return NULL;
    }
    h->obj.key_size = key_size;
    h->obj.width = width;
    h->obj.depth = depth;
    h->obj.capacity = capacity;
    return h;
}

bool nf_tsketch_add(struct nf_tsketch *sketch, const void *key, uint32_t count,
                    uint64_t now_ns)
{
    rt_guard_write(&sketch->obj, "nf_tsketch_add");
    struct tsketch_inst *s = rt_inst(&sketch->obj);
    size_t cell[64];
    uint32_t needed = 0;
    for (uint32_t r = 0; r < s->depth; r++) {
        cell[r] = rt_sketch_cell(key, s->key_size, s->width, r);
        needed += !s->is_live[cell[r]];
    }
    if (needed > s->capacity - s->live) {
        rt_note_full(&sketch->obj);
        return false;
    }
    for (uint32_t r = 0; r < s->depth; r++) {
        size_t c = cell[r];
        if (!s->is_live[c]) {
            s->is_live[c] = 1;
            s->count[c] = 0;
            s->stamp[c] = now_ns;
            s->live++;
        } else if (now_ns > s->stamp[c]) {
            s->stamp[c] = now_ns;
        }
        s->count[c] = s->count[c] > UINT32_MAX - count ? UINT32_MAX : s->count[c] + count;
    }
    return true;
}

void nf_tsketch_touch(struct nf_tsketch *sketch, const void *key, uint64_t now_ns)
{
    rt_guard_write(&sketch->obj, "nf_tsketch_touch");
    struct tsketch_inst *s = rt_inst(&sketch->obj);
    for (uint32_t r = 0; r < s->depth; r++) {
        size_t c = rt_sketch_cell(key, s->key_size, s->width, r);
        if (s->is_live[c] && now_ns > s->stamp[c])
            s->stamp[c] = now_ns;
    }
}

uint32_t nf_tsketch_estimate(struct nf_tsketch *sketch, const void *key)
{
    rt_guard_read(&sketch->obj, "nf_tsketch_estimate");
    const struct tsketch_inst *s = rt_inst(&sketch->obj);
    uint32_t best = UINT32_MAX;
    for (uint32_t r = 0; r < s->depth; r++) {
        size_t c = rt_sketch_cell(key, s->key_size, s->width, r);
        uint32_t v = s->is_live[c] ? s->count[c] : 0;
        if (v < best)
            best = v;
    }
    return best;
}

uint32_t nf_tsketch_expire(struct nf_tsketch *sketch, uint64_t older_than_ns)
{
    rt_guard_write(&sketch->obj, "nf_tsketch_expire");
    struct tsketch_inst *s = rt_inst(&sketch->obj);
    uint32_t freed = 0;
    size_t cells = (size_t)s->width * s->depth;
    for (size_t c = 0; c < cells && s->live > 0; c++)
        if (s->is_live[c] && s->stamp[c] < older_than_ns) {
            s->is_live[c] = 0;
            s->count[c] = 0;
            s->live--;
            freed++;
        }
    return freed;
}

static void *tsketch_shard(const struct rt_object *o, const void *src, int core, int cores,
                           struct util_error *err)
{
    (void)core;
    const struct tsketch_inst *from = src;
    uint32_t share = (uint32_t)(((uint64_t)from->capacity + (uint32_t)cores - 1) /
                                (uint32_t)cores);
    struct tsketch_inst *s = tsketch_inst_new(from->key_size, from->width, from->depth, share);
    if (!s) {
        util_error_set(err, "tsketch '%s': out of memory for a per-core instance", o->name);
        return NULL;
    }
    if (from->live > share) {
        util_error_set(err, "tsketch '%s': nf_init left %u live buckets, more than a per-core "
                       "share of %u (capacity %u / %d cores); raise its capacity",
                       o->name, from->live, share, from->capacity, cores);
        tsketch_inst_free(s);
        return NULL;
    }
    size_t cells = (size_t)from->width * from->depth;
    memcpy(s->count, from->count, cells * sizeof *s->count);
    memcpy(s->stamp, from->stamp, cells * sizeof *s->stamp);
    memcpy(s->is_live, from->is_live, cells);
    s->live = from->live;
    return s;
}

static size_t tsketch_bytes(const void *inst)
{
    const struct tsketch_inst *s = inst;
    return sizeof *s + (size_t)s->width * s->depth * (sizeof *s->count + sizeof *s->stamp + 1);
}

const struct rt_kind_ops rt_tsketch_ops = {tsketch_shard, tsketch_inst_free, tsketch_bytes};
