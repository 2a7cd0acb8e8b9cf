/*
 * alloc.c - nf_alloc: index allocator with expiry, like Vigor's double chain.
 *
 * Each instance owns the global index range [base, base + count). Allocated
 * indexes form a doubly linked list in stamp order (oldest at head, a new or
 * refreshed index goes to the tail), free ones a singly linked stack, so
 * allocate, free and refresh are O(1) and expiry walks from the oldest until
 * it meets a stamp that is not strictly before the limit. This needs arrival
 * times that do not decrease (nf_packet.time_ns guarantees it).
 *
 * The sequential allocator (and core 0's share) hands out 0, 1, 2, ... first;
 * a freed index is reused first (LIFO).
 */
#include <stdlib.h>

#include "runtime/rt_internal.h"

#define NIL UINT32_MAX

struct alloc_cell {
    uint64_t stamp;
    uint32_t prev, next;    /* used list, or next on the free stack */
};

struct alloc_inst {
    uint32_t base, count;   /* global range [base, base + count) */
    uint32_t used_head, used_tail, free_head;
    uint32_t used;
    struct alloc_cell *cells;
    uint8_t *allocated;     /* one byte per index: cheap membership tests */
};

static struct alloc_inst *alloc_inst_new(uint32_t base, uint32_t count)
{
    struct alloc_inst *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->base = base;
    a->count = count;
    a->cells = calloc(count ? count : 1, sizeof *a->cells);
    a->allocated = calloc(count ? count : 1, 1);
    if (!a->cells || !a->allocated) {
        free(a->cells);
        free(a->allocated);
        free(a);
        return NULL;
    }
    a->used_head = a->used_tail = NIL;
    for (uint32_t i = 0; i < count; i++)
        a->cells[i].next = i + 1 < count ? i + 1 : NIL;
    a->free_head = count ? 0 : NIL;
    return a;
}

static void alloc_inst_free(void *inst)
{
    struct alloc_inst *a = inst;
    if (!a)
        return;
    free(a->cells);
    free(a->allocated);
    free(a);
}

static void used_unlink(struct alloc_inst *a, uint32_t i)
{
    struct alloc_cell *c = &a->cells[i];
    if (c->prev != NIL)
        a->cells[c->prev].next = c->next;
    else
        a->used_head = c->next;
    if (c->next != NIL)
        a->cells[c->next].prev = c->prev;
    else
        a->used_tail = c->prev;
}

static void used_append(struct alloc_inst *a, uint32_t i, uint64_t stamp)
{
    struct alloc_cell *c = &a->cells[i];
    c->stamp = stamp;
    c->next = NIL;
    c->prev = a->used_tail;
    if (a->used_tail != NIL)
        a->cells[a->used_tail].next = i;
    else
        a->used_head = i;
    a->used_tail = i;
}

static bool alloc_inst_new_index(struct alloc_inst *a, uint64_t now, uint32_t *index)
{
    uint32_t i = a->free_head;
    if (i == NIL)
        return false;
    a->free_head = a->cells[i].next;
    a->allocated[i] = 1;
    a->used++;
    used_append(a, i, now);
    *index = a->base + i;
    return true;
}

/* Local index of a global one, or NIL when outside this instance's range. */
static inline uint32_t local_index(const struct alloc_inst *a, uint32_t index)
{
    uint32_t i = index - a->base;
    return i < a->count ? i : NIL;
}

bool rt_alloc_inst_is_allocated(const void *inst, uint32_t index)
{
    const struct alloc_inst *a = inst;
    uint32_t i = local_index(a, index);
    return i != NIL && a->allocated[i];
}

static void release(struct alloc_inst *a, uint32_t i)
{
    used_unlink(a, i);
    a->allocated[i] = 0;
    a->used--;
    a->cells[i].next = a->free_head;
    a->free_head = i;
}

/* ---- nf.h --------------------------------------------------------------- */

struct nf_alloc *nf_alloc_create(const char *name, uint32_t capacity)
{
    if (capacity == 0 || capacity >= NIL)
        return NULL;
    struct alloc_inst *a = alloc_inst_new(0, capacity);
    if (!a)
        return NULL;
    struct nf_alloc *h = rt_register(sizeof *h, name, RT_ALLOC, &rt_alloc_ops, a);
    if (!h) {
        alloc_inst_free(a);
        return NULL;
    }
    h->obj.capacity = capacity;
    return h;
}

bool nf_alloc_new(struct nf_alloc *alloc, uint64_t now_ns, uint32_t *index)
{
    rt_guard_write(&alloc->obj, "nf_alloc_new");
    bool ok = alloc_inst_new_index(rt_inst(&alloc->obj), now_ns, index);
    if (!ok)
        rt_note_full(&alloc->obj);
    else if (alloc->obj.guard & RT_GUARD_TRACK)
        rt_note_allocated(&alloc->obj);
    return ok;
}

bool nf_alloc_refresh(struct nf_alloc *alloc, uint32_t index, uint64_t now_ns)
{
    rt_guard_write(&alloc->obj, "nf_alloc_refresh");
    struct alloc_inst *a = rt_inst(&alloc->obj);
    uint32_t i = local_index(a, index);
    if (i == NIL || !a->allocated[i])
        return false;
    used_unlink(a, i);
    used_append(a, i, now_ns);
    return true;
}

bool nf_alloc_is_allocated(struct nf_alloc *alloc, uint32_t index)
{
    rt_guard_read(&alloc->obj, "nf_alloc_is_allocated");
    return rt_alloc_inst_is_allocated(rt_inst(&alloc->obj), index);
}

bool nf_alloc_free(struct nf_alloc *alloc, uint32_t index)
{
    rt_guard_write(&alloc->obj, "nf_alloc_free");
    struct alloc_inst *a = rt_inst(&alloc->obj);
    uint32_t i = local_index(a, index);
    if (i == NIL || !a->allocated[i])
        return false;
    release(a, i);
    return true;
}

uint32_t nf_alloc_expire(struct nf_alloc *alloc, uint64_t older_than_ns, struct nf_map *map,
                         struct nf_vector *keys)
{
    rt_guard_write(&alloc->obj, "nf_alloc_expire");
    struct alloc_inst *a = rt_inst(&alloc->obj);
    bool erase = map && keys && keys->obj.record_size >= map->obj.key_size;
    uint32_t freed = 0;
    while (a->used_head != NIL && a->cells[a->used_head].stamp < older_than_ns) {
        uint32_t i = a->used_head;
        if (erase) {
            const void *key = nf_vector_read(keys, a->base + i);
            if (key)
                nf_map_erase(map, key);
        }
        release(a, i);
        freed++;
    }
    return freed;
}

/* ---- registry operations ------------------------------------------------ */

/* Core `core`'s share: [core*s, min((core+1)*s, n)), s = ceil(n / cores).
 * Indexes nf_init allocated inside that range stay allocated, in stamp order. */
static void *alloc_shard(const struct rt_object *o, const void *src, int core, int cores,
                         struct util_error *err)
{
    const struct alloc_inst *from = src;
    uint64_t n = from->count;
    uint64_t share = (n + (uint64_t)cores - 1) / (uint64_t)cores;
    uint64_t lo = share * (uint64_t)core, hi = lo + share;
    if (lo > n)
        lo = n;
    if (hi > n)
        hi = n;
    struct alloc_inst *a = alloc_inst_new((uint32_t)lo, (uint32_t)(hi - lo));
    if (!a) {
        util_error_set(err, "allocator '%s': out of memory for core %d's share", o->name, core);
        return NULL;
    }
    /* Rebuild: take the allocated ones (oldest first) out of the free stack. */
    for (uint32_t g = from->used_head; g != NIL; g = from->cells[g].next) {
        uint32_t i = local_index(a, g);
        if (i == NIL)
            continue;
        a->allocated[i] = 1;
        a->used++;
        used_append(a, i, from->cells[g].stamp);
    }
    a->free_head = NIL;
    for (uint32_t i = a->count; i-- > 0;) {
        if (a->allocated[i])
            continue;
        a->cells[i].next = a->free_head;
        a->free_head = i;
    }
    return a;
}

static size_t alloc_bytes(const void *inst)
{
    const struct alloc_inst *a = inst;
    return sizeof *a + (size_t)a->count * (sizeof(struct alloc_cell) + 1);
}

const struct rt_kind_ops rt_alloc_ops = {alloc_shard, alloc_inst_free, alloc_bytes};
