/*
 * sketch.c - nf_sketch (count-min sketch) and nf_chash (Maglev consistent
 * hashing).
 *
 * Sketch: depth rows of width saturating 32-bit counters. Row r uses its own
 * seed for rt_hash, so the rows' hashes are independent; adding increments
 * one counter per row and the estimate is the row minimum, which is never
 * below the true total (until a counter saturates at 2^32-1).
 *
 * Maglev (Eisenbud et al., NSDI'16), table of M = table_size slots:
 *  - backend b's permutation is slot_j = (offset_b + j * skip_b) mod M with
 *    offset_b = h1(b) mod M and skip_b = h2(b) mod (M-1) + 1, moved up to the
 *    next value coprime with M, so it visits every slot (M need not be
 *    prime); h1, h2 are rt_hash of the 4-byte backend id with two seeds;
 *  - populate: backends take turns (0, 1, ..., N-1, 0, ...) claiming the next
 *    still-empty slot of their permutation until the table is full, so each
 *    backend gets floor(M/N) or ceil(M/N) slots.
 * Lookup rule for key k (documented in runtime/README.md):
 *    s0 = rt_reduce(hash(k), M); step = a key-derived stride coprime with M;
 *    visit slots s_i = (s0 + i * step) mod M for i = 0 .. M-1 and return the
 *    first table[s_i] that is alive (allocated in `alive`, or any backend when
 *    alive is NULL); -1 when no backend is alive.
 * So a key whose table backend is alive never moves, and the keys of a dead
 * backend spread over the live ones in proportion to their table shares.
 */
#include <stdlib.h>

#include "runtime/rt_internal.h"

/* ---- sketch ------------------------------------------------------------- */

struct sketch_inst {
    uint32_t key_size, width, depth;
    uint32_t *counters;     /* depth rows of width */
};

static struct sketch_inst *sketch_inst_new(uint32_t key_size, uint32_t width, uint32_t depth)
{
    struct sketch_inst *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->counters = calloc((size_t)width * depth, sizeof *s->counters);
    if (!s->counters) {
        free(s);
        return NULL;
    }
    s->key_size = key_size;
    s->width = width;
    s->depth = depth;
    return s;
}

static void sketch_inst_free(void *inst)
{
    struct sketch_inst *s = inst;
    if (s)
        free(s->counters);
    free(s);
}

static inline uint32_t *sketch_cell(const struct sketch_inst *s, const void *key, uint32_t row)
{
    return &s->counters[rt_sketch_cell(key, s->key_size, s->width, row)];
}

struct nf_sketch *nf_sketch_create(const char *name, uint32_t key_size, uint32_t width,
                                   uint32_t depth)
{
    if (key_size == 0 || key_size > 4096 || width == 0 || depth == 0 || depth > 64 ||
        (uint64_t)width * depth > (1ULL << 32))
        return NULL;
    struct sketch_inst *s = sketch_inst_new(key_size, width, depth);
    if (!s)
        return NULL;
    struct nf_sketch *h = rt_register(sizeof *h, name, RT_SKETCH, &rt_sketch_ops, s);
    if (!h) {
        sketch_inst_free(s);
        return NULL;
    }
    h->obj.key_size = key_size;
    h->obj.width = width;
    h->obj.depth = depth;
    h->obj.capacity = (uint32_t)((uint64_t)width * depth > UINT32_MAX ? UINT32_MAX
                                                                      : width * depth);
    return h;
}

void nf_sketch_add(struct nf_sketch *sketch, const void *key, uint32_t count)
{
    rt_guard_write(&sketch->obj, "nf_sketch_add");
    struct sketch_inst *s = rt_inst(&sketch->obj);
    for (uint32_t r = 0; r < s->depth; r++) {
        uint32_t *c = sketch_cell(s, key, r);
        *c = *c > UINT32_MAX - count ? UINT32_MAX : *c + count;
    }
}

uint32_t nf_sketch_estimate(struct nf_sketch *sketch, const void *key)
{
    rt_guard_read(&sketch->obj, "nf_sketch_estimate");
    const struct sketch_inst *s = rt_inst(&sketch->obj);
    uint32_t best = UINT32_MAX;
    for (uint32_t r = 0; r < s->depth; r++) {
        uint32_t c = *sketch_cell(s, key, r);
        if (c < best)
            best = c;
    }
    return best;
}

void nf_sketch_reset(struct nf_sketch *sketch)
{
    rt_guard_write(&sketch->obj, "nf_sketch_reset");
    struct sketch_inst *s = rt_inst(&sketch->obj);
    memset(s->counters, 0, (size_t)s->width * s->depth * sizeof *s->counters);
}

static void *sketch_shard(const struct rt_object *o, const void *src, int core, int cores,
                          struct util_error *err)
{
    (void)core;
    (void)cores;
    const struct sketch_inst *from = src;
    struct sketch_inst *s = sketch_inst_new(from->key_size, from->width, from->depth);
    if (!s) {
        util_error_set(err, "sketch '%s': out of memory for a per-core instance", o->name);
        return NULL;
    }
    memcpy(s->counters, from->counters, (size_t)from->width * from->depth * sizeof *s->counters);
    return s;
}

static size_t sketch_bytes(const void *inst)
{
    const struct sketch_inst *s = inst;
    return sizeof *s + (size_t)s->width * s->depth * sizeof *s->counters;
}

const struct rt_kind_ops rt_sketch_ops = {sketch_shard, sketch_inst_free, sketch_bytes};

/* ---- Maglev consistent hashing ------------------------------------------ */

#define CHASH_SEED_OFFSET 0x4d61676c65763031ULL   /* "Maglev01" */
#define CHASH_SEED_SKIP 0x4d61676c65763032ULL
#define CHASH_SEED_KEY 0x4d61676c65763033ULL

struct chash_inst {
    uint32_t backends, size;
    int32_t *table;         /* size slots -> backend */
};

static uint32_t gcd32(uint32_t a, uint32_t b)
{
    while (b) {
        uint32_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* A value in [1, m-1] (1 when m < 3) coprime with m, derived from h. */
static uint32_t coprime_step(uint64_t h, uint32_t m)
{
    if (m < 3)
        return 1;
    uint32_t step = (uint32_t)(h % (m - 1)) + 1;
    while (gcd32(step, m) != 1)
        step = step % (m - 1) + 1;
    return step;
}

static void chash_populate(struct chash_inst *c)
{
    uint32_t m = c->size, n = c->backends;
    for (uint32_t i = 0; i < m; i++)
        c->table[i] = -1;
    if (n == 0)
        return;
    uint32_t *offset = malloc(n * sizeof *offset);
    uint32_t *skip = malloc(n * sizeof *skip);
    uint64_t *next = calloc(n, sizeof *next);
    if (!offset || !skip || !next) {
        free(offset);
        free(skip);
        free(next);
        return;
    }
    for (uint32_t b = 0; b < n; b++) {
        offset[b] = (uint32_t)(rt_hash(&b, 4, CHASH_SEED_OFFSET) % m);
        skip[b] = coprime_step(rt_hash(&b, 4, CHASH_SEED_SKIP), m);
    }
    uint32_t filled = 0;
    while (filled < m) {
        for (uint32_t b = 0; b < n && filled < m; b++) {
            uint32_t slot;
            do {
                slot = (uint32_t)((offset[b] + next[b] * skip[b]) % m);
                next[b]++;
            } while (c->table[slot] >= 0);
            c->table[slot] = (int32_t)b;
            filled++;
        }
    }
    free(offset);
    free(skip);
    free(next);
}

static void chash_inst_free(void *inst)
{
    struct chash_inst *c = inst;
    if (c)
        free(c->table);
    free(c);
}

static struct chash_inst *chash_inst_new(uint32_t backends, uint32_t size)
{
    struct chash_inst *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->table = malloc((size_t)size * sizeof *c->table);
    if (!c->table) {
        free(c);
        return NULL;
    }
    c->backends = backends;
    c->size = size;
    return c;
}

struct nf_chash *nf_chash_create(const char *name, uint32_t backends, uint32_t table_size)
{
    if (backends == 0 || backends > INT32_MAX || table_size < backends ||
        table_size > (1u << 28))
        return NULL;
    struct chash_inst *c = chash_inst_new(backends, table_size);
    if (!c)
        return NULL;
    chash_populate(c);
    if (c->table[0] < 0) {
        chash_inst_free(c);
        return NULL;
    }
    struct nf_chash *h = rt_register(sizeof *h, name, RT_CHASH, &rt_chash_ops, c);
    if (!h) {
        chash_inst_free(c);
        return NULL;
    }
    h->obj.backends = backends;
    h->obj.table_size = table_size;
    h->obj.capacity = table_size;
    return h;
}

int32_t nf_chash_lookup(struct nf_chash *chash, const void *key, uint32_t key_size,
                        struct nf_alloc *alive)
{
    rt_guard_read(&chash->obj, "nf_chash_lookup");
    const struct chash_inst *c = rt_inst(&chash->obj);
    const void *alive_inst = NULL;
    if (alive) {
        rt_guard_read(&alive->obj, "nf_chash_lookup");
        alive_inst = rt_inst(&alive->obj);
    }
    uint64_t h = rt_hash(key, key_size, CHASH_SEED_KEY);
    uint32_t slot = rt_reduce((uint32_t)h, c->size);
    int32_t b = c->table[slot];
    if (!alive_inst || rt_alloc_inst_is_allocated(alive_inst, (uint32_t)b))
        return b;
    /* The table's backend is dead: is any alive at all? */
    bool any = false;
    for (uint32_t i = 0; i < c->backends && !any; i++)
        any = rt_alloc_inst_is_allocated(alive_inst, i);
    if (!any)
        return -1;
    uint32_t step = coprime_step(h >> 32, c->size);
    for (uint32_t i = 1; i < c->size; i++) {
        slot += step;
        if (slot >= c->size)
            slot -= c->size;
        b = c->table[slot];
        if (rt_alloc_inst_is_allocated(alive_inst, (uint32_t)b))
            return b;
    }
    return -1;
}

static void *chash_shard(const struct rt_object *o, const void *src, int core, int cores,
                         struct util_error *err)
{
    (void)core;
    (void)cores;
    const struct chash_inst *from = src;
    struct chash_inst *c = chash_inst_new(from->backends, from->size);
    if (!c) {
        util_error_set(err, "chash '%s': out of memory for a per-core instance", o->name);
        return NULL;
    }
    memcpy(c->table, from->table, (size_t)from->size * sizeof *c->table);
    return c;
}

static size_t chash_bytes(const void *inst)
{
    const struct chash_inst *c = inst;
    return sizeof *c + (size_t)c->size * sizeof *c->table;
}

const struct rt_kind_ops rt_chash_ops = {chash_shard, chash_inst_free, chash_bytes};
