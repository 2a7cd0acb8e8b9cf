/*
 * rt_internal.h - what the runtime's source files share; not a public header
 * (users include runtime/runtime.h and include/rsskey/nf.h).
 *
 * An NF holds handles (struct nf_map *, ...). A handle is a struct rt_object:
 * the object's name, kind, sizes, mode, and one instance pointer per core.
 * Until rt_instantiate every slot points at the nf_init instance; afterwards
 * sharded objects have one instance per core and the others keep the single
 * one in every slot, so dispatch is always inst[current core] with no branch.
 */
#ifndef RSSKEY_RT_INTERNAL_H
#define RSSKEY_RT_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "runtime/runtime.h"

/* What a write/read to an object must be checked against. RT_GUARD_TRACK is
 * a flag on top of the others (rt_set_tracking): every access then takes the
 * slow path, which records it. The values are chosen so that the inline read
 * check is one comparison (>= RT_GUARD_SHARED: shared or tracked). */
enum rt_guard {
    RT_GUARD_NONE = 0, RT_GUARD_REPLICATED = 1, RT_GUARD_SHARED = 2, RT_GUARD_TRACK = 4
};

struct rt_object;

/* Per-kind operations the registry needs for rt_instantiate and rt_reset. */
struct rt_kind_ops {
    /* A new instance for `core` of `cores`: a copy of src's state fitted to
     * the core's share. NULL with err filled when it cannot be made. */
    void *(*shard)(const struct rt_object *o, const void *src, int core, int cores,
                   struct util_error *err);
    void (*destroy)(void *inst);
    size_t (*bytes)(const void *inst);
};

struct rt_object {
    char *name;
    int index;                  /* registry position */
    enum rt_kind kind;
    enum rt_mode mode;
    int guard;                  /* enum rt_guard bits */
    bool violation_reported;
    uint32_t key_size, record_size, capacity, width, depth, backends, table_size;
    const struct rt_kind_ops *ops;
    void *inst[RT_MAX_CORES];
};

/* The handle types of nf.h are rt_objects. */
struct nf_map { struct rt_object obj; };
struct nf_vector { struct rt_object obj; };
struct nf_alloc { struct rt_object obj; };
struct nf_sketch { struct rt_object obj; };
struct nf_tsketch { struct rt_object obj; };
struct nf_chash { struct rt_object obj; };
struct nf_counter { struct rt_object obj; };

/* The calling thread's core (registry.c). */
extern _Thread_local int rt_tls_core;

static inline void *rt_inst(const struct rt_object *o)
{
    return o->inst[rt_tls_core];
}

/* Registers a new object around its nf_init instance. Returns a zeroed handle
 * of handle_size bytes whose first member is the rt_object, or NULL (bad or
 * duplicate name, out of memory: a message on stderr says which); the caller
 * then destroys inst. */
void *rt_register(size_t handle_size, const char *name, enum rt_kind kind,
                  const struct rt_kind_ops *ops, void *inst);

void rt_guard_write_slow(struct rt_object *o, const char *op);
void rt_guard_read_slow(struct rt_object *o, const char *op);
/* An insert or allocation failed because the core's instance is full. */
void rt_note_full(struct rt_object *o);
/* An allocator handed out an index (recorded while tracking). */
void rt_note_allocated(struct rt_object *o);

static inline void rt_guard_write(struct rt_object *o, const char *op)
{
    if (o->guard != RT_GUARD_NONE)
        rt_guard_write_slow(o, op);
}

static inline void rt_guard_read(struct rt_object *o, const char *op)
{
    if (o->guard >= RT_GUARD_SHARED)
        rt_guard_read_slow(o, op);
}

extern const struct rt_kind_ops rt_map_ops, rt_vector_ops, rt_alloc_ops, rt_sketch_ops,
    rt_tsketch_ops, rt_chash_ops, rt_counter_ops;

/* ---- Hashing (map, sketch, chash) -------------------------------------- */

static inline uint64_t rt_load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint32_t rt_load32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* 64x64 -> 128 multiply, folded: the mixing step of wyhash-style hashes. */
static inline uint64_t rt_mum(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

#define RT_HASH_K0 0xa0761d6478bd642fULL
#define RT_HASH_K1 0xe7037ed1a0b428dbULL
#define RT_HASH_K2 0x8ebc6af09c88c6e3ULL

/* A fast seeded hash of n key bytes. Keys of 4..16 bytes are read with two
 * overlapping loads (never past the key), so odd sizes such as 13 cost the
 * same as 16. */
static inline uint64_t rt_hash(const void *key, uint32_t n, uint64_t seed)
{
    const uint8_t *p = key;
    uint64_t a, b;
    seed ^= RT_HASH_K0 ^ ((uint64_t)n << 32);
    if (n <= 16) {
        if (n >= 8) {
            a = rt_load64(p);
            b = rt_load64(p + n - 8);
        } else if (n >= 4) {
            a = rt_load32(p);
            b = rt_load32(p + n - 4);
        } else if (n > 0) {
            a = ((uint64_t)p[0] << 16) | ((uint64_t)p[n >> 1] << 8) | p[n - 1];
            b = 0;
        } else {
            a = b = 0;
        }
    } else {
        uint32_t left = n;
        while (left > 16) {
            seed = rt_mum(rt_load64(p) ^ RT_HASH_K1, rt_load64(p + 8) ^ seed);
            p += 16;
            left -= 16;
        }
        a = rt_load64(p + left - 16);
        b = rt_load64(p + left - 8);
    }
    return rt_mum(RT_HASH_K1 ^ n, rt_mum(a ^ RT_HASH_K1, b ^ seed) ^ RT_HASH_K2);
}

/* Equality of n key bytes; overlapping loads for 4..16 bytes. */
static inline bool rt_key_equal(const uint8_t *a, const uint8_t *b, uint32_t n)
{
    if (n >= 8 && n <= 16)
        return ((rt_load64(a) ^ rt_load64(b)) |
                (rt_load64(a + n - 8) ^ rt_load64(b + n - 8))) == 0;
    if (n >= 4 && n < 8)
        return ((rt_load32(a) ^ rt_load32(b)) | (rt_load32(a + n - 4) ^ rt_load32(b + n - 4))) ==
               0;
    return memcmp(a, b, n) == 0;
}

/* Maps a 32-bit hash uniformly onto [0, n) without a division. */
static inline uint32_t rt_reduce(uint32_t h, uint32_t n)
{
    return (uint32_t)(((uint64_t)h * n) >> 32);
}

/* Where row `row` of a count-min sketch of `width` columns keeps key's
 * counter, as an index into its depth x width cells. Each row hashes with
 * its own seed (splitmix64 of the row number: fixed, distinct, well mixed),
 * so rows are independent. nf_sketch and nf_tsketch share it. */
static inline size_t rt_sketch_cell(const void *key, uint32_t key_size, uint32_t width,
                                    uint32_t row)
{
    uint64_t z = (uint64_t)row * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    uint32_t h = (uint32_t)rt_hash(key, key_size, z ^ (z >> 31));
    return (size_t)row * width + rt_reduce(h, width);
}

/* ---- Cross-file internals ---------------------------------------------- */

/* Forgets every configuration value (config.c; rt_reset calls it). */
void rt_config_clear(void);

/* Allocator membership without guards (chash reads the alive allocator). */
bool rt_alloc_inst_is_allocated(const void *alloc_inst, uint32_t index);

#endif /* RSSKEY_RT_INTERNAL_H */
