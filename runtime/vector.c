/*
 * vector.c - nf_vector (index -> fixed-size record, zeroed at creation) and
 * nf_counter (one uint64).
 *
 * A vector is one flat calloc'd array. Out-of-range indexes return NULL
 * rather than reading outside it. A sharded vector keeps its full index range
 * on every core, because the indexes an NF uses usually come from a sharded
 * allocator and are global; calloc'd pages a core never touches cost no
 * memory. A per-core copy of nf_init contents is made only when nf_init wrote
 * the vector.
 */
#include <stdlib.h>

#include "runtime/rt_internal.h"

struct vector_inst {
    uint8_t *records;
    uint32_t record_size;
    uint32_t capacity;
    bool written;           /* nf_vector_write was called at least once */
};

static struct vector_inst *vector_inst_new(uint32_t record_size, uint32_t capacity)
{
    struct vector_inst *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->records = calloc(capacity, record_size);
    if (!v->records) {
        free(v);
        return NULL;
    }
    v->record_size = record_size;
    v->capacity = capacity;
    return v;
}

static void vector_inst_free(void *inst)
{
    struct vector_inst *v = inst;
    if (v)
        free(v->records);
    free(v);
}

struct nf_vector *nf_vector_create(const char *name, uint32_t record_size, uint32_t capacity)
{
    if (record_size == 0 || capacity == 0 || (uint64_t)record_size * capacity > (1ULL << 36))
        return NULL;
    struct vector_inst *v = vector_inst_new(record_size, capacity);
    if (!v)
        return NULL;
    struct nf_vector *h = rt_register(sizeof *h, name, RT_VECTOR, &rt_vector_ops, v);
    if (!h) {
        vector_inst_free(v);
        return NULL;
    }
    h->obj.record_size = record_size;
    h->obj.capacity = capacity;
    return h;
}

const void *nf_vector_read(struct nf_vector *vec, uint32_t index)
{
    rt_guard_read(&vec->obj, "nf_vector_read");
    const struct vector_inst *v = rt_inst(&vec->obj);
    if (index >= v->capacity)
        return NULL;
    return v->records + (size_t)index * v->record_size;
}

void *nf_vector_write(struct nf_vector *vec, uint32_t index)
{
    rt_guard_write(&vec->obj, "nf_vector_write");
    struct vector_inst *v = rt_inst(&vec->obj);
    if (index >= v->capacity)
        return NULL;
    v->written = true;
    return v->records + (size_t)index * v->record_size;
}

static void *vector_shard(const struct rt_object *o, const void *src, int core, int cores,
                          struct util_error *err)
{
    (void)core;
    (void)cores;
    const struct vector_inst *from = src;
    struct vector_inst *v = vector_inst_new(from->record_size, from->capacity);
    if (!v) {
        util_error_set(err, "vector '%s': out of memory for a per-core instance", o->name);
        return NULL;
    }
    if (from->written) {
        memcpy(v->records, from->records, (size_t)from->capacity * from->record_size);
        v->written = true;
    }
    return v;
}

static size_t vector_bytes(const void *inst)
{
    const struct vector_inst *v = inst;
    return sizeof *v + (size_t)v->capacity * v->record_size;
}

const struct rt_kind_ops rt_vector_ops = {vector_shard, vector_inst_free, vector_bytes};

/* ---- counter ------------------------------------------------------------ */

/* One cache line each, so sharded per-core counters never share a line. */
struct counter_inst {
    _Alignas(64) uint64_t value;
};

static struct counter_inst *counter_inst_new(void)
{
    struct counter_inst *c = aligned_alloc(64, sizeof *c);
    if (c)
        memset(c, 0, sizeof *c);
    return c;
}

struct nf_counter *nf_counter_create(const char *name)
{
    struct counter_inst *c = counter_inst_new();
    if (!c)
        return NULL;
    struct nf_counter *h = rt_register(sizeof *h, name, RT_COUNTER, &rt_counter_ops, c);
    if (!h) {
        free(c);
        return NULL;
    }
    h->obj.capacity = 1;
    return h;
}

void nf_counter_add(struct nf_counter *counter, uint64_t delta)
{
    rt_guard_write(&counter->obj, "nf_counter_add");
    struct counter_inst *c = rt_inst(&counter->obj);
    c->value += delta;
}

uint64_t nf_counter_read(struct nf_counter *counter)
{
    rt_guard_read(&counter->obj, "nf_counter_read");
    const struct counter_inst *c = rt_inst(&counter->obj);
    return c->value;
}

static void *counter_shard(const struct rt_object *o, const void *src, int core, int cores,
                           struct util_error *err)
{
    (void)core;
    (void)cores;
    struct counter_inst *c = counter_inst_new();
    if (!c) {
        util_error_set(err, "counter '%s': out of memory", o->name);
        return NULL;
    }
    *c = *(const struct counter_inst *)src;
    return c;
}

static void counter_free(void *inst)
{
    free(inst);
}

static size_t counter_bytes(const void *inst)
{
    (void)inst;
    return sizeof(struct counter_inst);
}

const struct rt_kind_ops rt_counter_ops = {counter_shard, counter_free, counter_bytes};
