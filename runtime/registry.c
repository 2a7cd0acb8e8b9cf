/*
 * registry.c - the process-wide runtime: the object registry, per-core
 * instances, the read-token locks and the statistics.
 *
 * The NF API has no context argument, so this file keeps one process-wide
 * `struct runtime` (static), created lazily by the first object creation
 * (or rt_instantiate, rt_packet_begin, ...) and freed by rt_reset. The only
 * per-thread state is rt_tls_core, the calling thread's core.
 *
 * Locking (SMP Click / Maestro): core c owns a cache-line-aligned token. A
 * reader packet takes its own token; a packet that may write shared state
 * takes every token in core order, which excludes every reader and, because
 * the order is fixed, other writers without deadlock. rt_packet_end releases
 * what was taken. A core's token has a cache line of its own (writers on
 * other cores take it); what the packet holds and the statistics sit on the
 * next line, written only by that core's thread.
 */
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "runtime/rt_internal.h"

_Thread_local int rt_tls_core;

enum held { HELD_NONE, HELD_READ, HELD_ALL };

/* The token has a cache line of its own (writers on other cores take it);
 * what only this core's thread writes sits on the next line. */
struct core_state {
    _Alignas(64) atomic_int token;  /* 1 while taken */
    _Alignas(64) int held;           /* what this core's packet holds */
    uint64_t packets, write_packets, violations, unlocked_reads;
    struct rt_touched touched;       /* tracking: this core's current packet */
};

struct runtime {
    struct rt_object **objects;
    size_t nobjects, objects_cap;
    int cores;                      /* 1 until rt_instantiate */
    bool instantiated;
    bool abort_on_violation;
    bool tracking;                  /* rt_set_tracking */
    bool any_shared;                /* an object runs shared: tokens are needed */
    uint64_t *full_events;          /* per object, grown with the registry */
    struct core_state core[RT_MAX_CORES];
};

static struct runtime *the_runtime;

static struct runtime *runtime_get(void)
{
    if (!the_runtime) {
        the_runtime = aligned_alloc(64, sizeof *the_runtime);
        if (!the_runtime) {
            fprintf(stderr, "rsskey runtime: out of memory creating the runtime\n");
            abort();
        }
        memset(the_runtime, 0, sizeof *the_runtime);
        the_runtime->cores = 1;
#ifdef NDEBUG
        the_runtime->abort_on_violation = false;
#else
        the_runtime->abort_on_violation = true;
#endif
    }
    return the_runtime;
}

/* ---- registry ----------------------------------------------------------- */

void *rt_register(size_t handle_size, const char *name, enum rt_kind kind,
                  const struct rt_kind_ops *ops, void *inst)
{
    struct runtime *rt = runtime_get();
    if (!name || !*name) {
        fprintf(stderr, "rsskey runtime: a %s was created without a name; give every "
                "object a string-literal name\n", rt_kind_name(kind));
        return NULL;
    }
    if (rt->instantiated) {
        fprintf(stderr, "rsskey runtime: %s '%s' created after rt_instantiate; objects are "
                "created only in nf_init\n", rt_kind_name(kind), name);
        return NULL;
    }
    if (rt_object_find(name) >= 0) {
        fprintf(stderr, "rsskey runtime: two objects are called '%s'; names identify objects "
                "in plans, make them unique (or call rt_reset before nf_init again)\n", name);
        return NULL;
    }
    if (rt->nobjects == rt->objects_cap) {
        size_t cap = rt->objects_cap ? rt->objects_cap * 2 : 16;
        struct rt_object **o = realloc(rt->objects, cap * sizeof *o);
        if (!o)
            return NULL;
        rt->objects = o;
        uint64_t *full = realloc(rt->full_events, cap * sizeof *full);
        if (!full)
            return NULL;
        rt->full_events = full;
        rt->objects_cap = cap;
    }
    struct rt_object *obj = calloc(1, handle_size);
    char *copy = strdup(name);
    if (!obj || !copy) {
        free(obj);
        free(copy);
        return NULL;
    }
    obj->name = copy;
    obj->index = (int)rt->nobjects;
    obj->kind = kind;
    obj->mode = RT_SHARDED;
    obj->guard = rt->tracking ? RT_GUARD_TRACK : RT_GUARD_NONE;
    rt->full_events[rt->nobjects] = 0;
    obj->ops = ops;
    for (int c = 0; c < RT_MAX_CORES; c++)
        obj->inst[c] = inst;
    rt->objects[rt->nobjects++] = obj;
    return obj;
}

size_t rt_objects(void)
{
    return the_runtime ? the_runtime->nobjects : 0;
}

int rt_object_find(const char *name)
{
    struct runtime *rt = the_runtime;
    if (!rt || !name)
        return -1;
    for (size_t i = 0; i < rt->nobjects; i++)
        if (strcmp(rt->objects[i]->name, name) == 0)
            return (int)i;
    return -1;
}

/* Distinct instances of o: inst[0..n) when sharded, else just inst[0]. */
static int distinct_instances(const struct runtime *rt, const struct rt_object *o)
{
    return rt->instantiated && o->mode == RT_SHARDED ? rt->cores : 1;
}

bool rt_object_info(size_t i, struct rt_object_info *info)
{
    struct runtime *rt = the_runtime;
    if (!rt || i >= rt->nobjects || !info)
        return false;
    const struct rt_object *o = rt->objects[i];
    memset(info, 0, sizeof *info);
    info->name = o->name;
    info->kind = o->kind;
    info->mode = o->mode;
    info->key_size = o->key_size;
    info->record_size = o->record_size;
    info->capacity = o->capacity;
    info->width = o->width;
    info->depth = o->depth;
    info->backends = o->backends;
    info->table_size = o->table_size;
    for (int c = 0; c < distinct_instances(rt, o); c++)
        info->bytes += o->ops->bytes(o->inst[c]);
    return true;
}

void rt_objects_json(struct util_json *w)
{
    util_json_array_begin(w);
    for (size_t i = 0; i < rt_objects(); i++) {
        struct rt_object_info info;
        rt_object_info(i, &info);
        util_json_object_begin(w);
        util_json_key(w, "name");
        util_json_string(w, info.name);
        util_json_key(w, "kind");
        util_json_string(w, rt_kind_name(info.kind));
        util_json_key(w, "mode");
        util_json_string(w, rt_mode_name(info.mode));
        if (info.key_size) {
            util_json_key(w, "key_size");
            util_json_uint(w, info.key_size);
        }
        if (info.record_size) {
            util_json_key(w, "record_size");
            util_json_uint(w, info.record_size);
        }
        if (info.kind == RT_SKETCH) {
            util_json_key(w, "width");
            util_json_uint(w, info.width);
            util_json_key(w, "depth");
            util_json_uint(w, info.depth);
        }
        if (info.kind == RT_CHASH) {
            util_json_key(w, "backends");
            util_json_uint(w, info.backends);
            util_json_key(w, "table_size");
            util_json_uint(w, info.table_size);
        }
        util_json_key(w, "capacity");
        util_json_uint(w, info.capacity);
        util_json_key(w, "bytes");
        util_json_uint(w, info.bytes);
        util_json_object_end(w);
    }
    util_json_array_end(w);
}

const char *rt_kind_name(enum rt_kind kind)
{
    switch (kind) {
    case RT_MAP: return "map";
    case RT_VECTOR: return "vector";
    case RT_ALLOC: return "alloc";
    case RT_SKETCH: return "sketch";
    case RT_CHASH: return "chash";
    case RT_COUNTER: return "counter";
    }
    return "?";
}

const char *rt_mode_name(enum rt_mode mode)
{
    switch (mode) {
    case RT_SHARDED: return "sharded";
    case RT_REPLICATED: return "replicated";
    case RT_SHARED: return "shared";
    }
    return "?";
}

/* ---- instances ---------------------------------------------------------- */

int rt_instantiate(int cores, const enum rt_mode *modes, struct util_error *err)
{
    return rt_instantiate_with(cores, modes, NULL, err);
}

int rt_instantiate_with(int cores, const enum rt_mode *modes,
                        const struct rt_instance_options *opts, struct util_error *err)
{
    struct runtime *rt = runtime_get();
    bool full = opts && opts->full_capacity;
    if (rt->instantiated) {
        util_error_set(err, "rt_instantiate called twice; call rt_reset and nf_init first");
        return -1;
    }
    if (cores < 1 || cores > RT_MAX_CORES) {
        util_error_set(err, "rt_instantiate: %d cores; use 1 to %d", cores, RT_MAX_CORES);
        return -1;
    }
    for (size_t i = 0; modes && i < rt->nobjects; i++) {
        if (modes[i] != RT_SHARDED && modes[i] != RT_REPLICATED && modes[i] != RT_SHARED) {
            util_error_set(err, "rt_instantiate: object %zu ('%s') has unknown mode %d", i,
                           rt->objects[i]->name, (int)modes[i]);
            return -1;
        }
    }
    /* Build every sharded instance first, so a failure changes nothing. */
    void **built = calloc(rt->nobjects * (size_t)cores + 1, sizeof *built);
    if (!built) {
        util_error_set(err, "rt_instantiate: out of memory");
        return -1;
    }
    for (size_t i = 0; i < rt->nobjects; i++) {
        struct rt_object *o = rt->objects[i];
        if ((modes ? modes[i] : RT_SHARDED) != RT_SHARDED)
            continue;
        for (int c = 0; c < cores; c++) {
            /* Full capacity: every core gets what a one-core plan would. */
            void *inst = full ? o->ops->shard(o, o->inst[0], 0, 1, err)
                              : o->ops->shard(o, o->inst[0], c, cores, err);
            if (!inst) {
                for (size_t j = 0; j < rt->nobjects * (size_t)cores; j++)
                    if (built[j])
                        rt->objects[j / (size_t)cores]->ops->destroy(built[j]);
                free(built);
                return -1;
            }
            built[i * (size_t)cores + (size_t)c] = inst;
        }
    }
    for (size_t i = 0; i < rt->nobjects; i++) {
        struct rt_object *o = rt->objects[i];
        o->mode = modes ? modes[i] : RT_SHARDED;
        if (o->mode == RT_SHARDED) {
            o->ops->destroy(o->inst[0]);
            for (int c = 0; c < RT_MAX_CORES; c++)
                o->inst[c] = c < cores ? built[i * (size_t)cores + (size_t)c] : NULL;
            o->guard = RT_GUARD_NONE;
        } else {
            o->guard = o->mode == RT_SHARED ? RT_GUARD_SHARED : RT_GUARD_REPLICATED;
        }
        if (rt->tracking)
            o->guard |= RT_GUARD_TRACK;
    }
    free(built);
    rt->any_shared = false;
    for (size_t i = 0; i < rt->nobjects; i++)
        rt->any_shared = rt->any_shared || rt->objects[i]->mode == RT_SHARED;
    rt->cores = cores;
    rt->instantiated = true;
    return 0;
}

int rt_cores(void)
{
    return the_runtime ? the_runtime->cores : 1;
}

void rt_set_core(int core)
{
    int limit = the_runtime && the_runtime->instantiated ? the_runtime->cores : RT_MAX_CORES;
    if (core < 0 || core >= limit) {
        fprintf(stderr, "rsskey runtime: rt_set_core(%d) outside 0..%d (rt_instantiate "
                "decides the number of cores)\n", core, limit - 1);
        abort();
    }
    rt_tls_core = core;
}

int rt_current_core(void)
{
    return rt_tls_core;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Spins briefly, then yields: with more threads than CPUs the holder may be
 * waiting for this very CPU, and spinning would only burn its time slice. */
static void token_take(atomic_int *token)
{
    unsigned spins = 0;
    for (;;) {
        int expected = 0;
        if (atomic_compare_exchange_weak_explicit(token, &expected, 1, memory_order_acquire,
                                                  memory_order_relaxed))
            return;
        while (atomic_load_explicit(token, memory_order_relaxed)) {
            if (++spins < 256)
                cpu_relax();
            else
                sched_yield();
        }
    }
}

static void token_give(atomic_int *token)
{
    atomic_store_explicit(token, 0, memory_order_release);
}

void rt_packet_begin(int core, bool may_write_shared)
{
    struct runtime *rt = runtime_get();
    if (core < 0 || core >= rt->cores) {
        fprintf(stderr, "rsskey runtime: rt_packet_begin on core %d, but the runtime has %d "
                "core(s) (rt_instantiate)\n", core, rt->cores);
        abort();
    }
    struct core_state *cs = &rt->core[core];
    if (cs->held != HELD_NONE) {
        fprintf(stderr, "rsskey runtime: rt_packet_begin on core %d twice without "
                "rt_packet_end\n", core);
        abort();
    }
    rt_tls_core = core;
    cs->packets++;
    memset(&cs->touched, 0, sizeof cs->touched);
    if (may_write_shared)
        cs->write_packets++;
    /* Tokens guard shared objects only: with none, every object a packet can
     * touch is its core's own instance (or read-only), and taking a token
     * would cost an atomic operation per packet for nothing. */
    if (!rt->any_shared) {
        cs->held = may_write_shared ? HELD_ALL : HELD_READ;
        return;
    }
    if (may_write_shared) {
        for (int c = 0; c < rt->cores; c++)
            token_take(&rt->core[c].token);
        cs->held = HELD_ALL;
    } else {
        token_take(&cs->token);
        cs->held = HELD_READ;
    }
}

void rt_packet_end(int core)
{
    struct runtime *rt = runtime_get();
    if (core < 0 || core >= rt->cores)
        return;
    struct core_state *cs = &rt->core[core];
    if (!rt->any_shared) {
        cs->held = HELD_NONE;           /* no tokens were taken (rt_packet_begin) */
        return;
    }
    if (cs->held == HELD_ALL) {
        for (int c = rt->cores; c-- > 0;)
            token_give(&rt->core[c].token);
    } else if (cs->held == HELD_READ) {
        token_give(&cs->token);
    }
    cs->held = HELD_NONE;
}

void rt_set_abort_on_violation(bool abort_on_violation)
{
    runtime_get()->abort_on_violation = abort_on_violation;
}

static uint64_t object_bit(const struct rt_object *o)
{
    return 1ULL << (o->index < RT_TRACK_OBJECTS - 1 ? o->index : RT_TRACK_OBJECTS - 1);
}

void rt_guard_write_slow(struct rt_object *o, const char *op)
{
    struct runtime *rt = runtime_get();
    struct core_state *cs = &rt->core[rt_tls_core];
    if (o->guard & RT_GUARD_TRACK)
        cs->touched.write |= object_bit(o);
    int guard = o->guard & ~RT_GUARD_TRACK;
    if (guard == RT_GUARD_NONE || (guard == RT_GUARD_SHARED && cs->held == HELD_ALL))
        return;
    cs->violations++;
    if (!o->violation_reported || rt->abort_on_violation) {
        o->violation_reported = true;
        if (guard == RT_GUARD_SHARED)
            fprintf(stderr, "rsskey runtime: plan violation: %s on shared %s '%s' from core %d "
                    "while holding %s; a packet that writes shared state must start with "
                    "rt_packet_begin(core, true)\n", op, rt_kind_name(o->kind), o->name,
                    rt_tls_core, cs->held == HELD_READ ? "only its read token" : "no token");
        else
            fprintf(stderr, "rsskey runtime: plan violation: %s writes replicated (read-only) "
                    "%s '%s' from core %d; the plan must shard or share it\n", op,
                    rt_kind_name(o->kind), o->name, rt_tls_core);
    }
    if (rt->abort_on_violation)
        abort();
}

void rt_guard_read_slow(struct rt_object *o, const char *op)
{
    (void)op;
    struct core_state *cs = &runtime_get()->core[rt_tls_core];
    if (o->guard & RT_GUARD_TRACK)
        cs->touched.read |= object_bit(o);
    if ((o->guard & ~RT_GUARD_TRACK) == RT_GUARD_SHARED && cs->held == HELD_NONE)
        cs->unlocked_reads++;
}

void rt_note_full(struct rt_object *o)
{
    struct runtime *rt = runtime_get();
    rt->full_events[o->index]++;
    rt->core[rt_tls_core].touched.full |= object_bit(o);
}

void rt_note_allocated(struct rt_object *o)
{
    runtime_get()->core[rt_tls_core].touched.allocated |= object_bit(o);
}

void rt_set_tracking(bool on)
{
    struct runtime *rt = runtime_get();
    rt->tracking = on;
    for (size_t i = 0; i < rt->nobjects; i++) {
        struct rt_object *o = rt->objects[i];
        o->guard = on ? o->guard | RT_GUARD_TRACK : o->guard & ~RT_GUARD_TRACK;
    }
}

void rt_packet_touched(int core, struct rt_touched *out)
{
    if (!the_runtime || core < 0 || core >= RT_MAX_CORES)
        memset(out, 0, sizeof *out);
    else
        *out = the_runtime->core[core].touched;
}

uint64_t rt_object_full_events(size_t i)
{
    return the_runtime && i < the_runtime->nobjects ? the_runtime->full_events[i] : 0;
}

static void stats_sum(int from, int to, struct rt_stats *out)
{
    memset(out, 0, sizeof *out);
    struct runtime *rt = the_runtime;
    if (!rt)
        return;
    for (int c = from; c < to; c++) {
        out->packets += rt->core[c].packets;
        out->write_packets += rt->core[c].write_packets;
        out->plan_violations += rt->core[c].violations;
        out->unlocked_shared_reads += rt->core[c].unlocked_reads;
    }
}

void rt_stats(struct rt_stats *out)
{
    stats_sum(0, RT_MAX_CORES, out);
}

void rt_core_stats(int core, struct rt_stats *out)
{
    if (core < 0 || core >= RT_MAX_CORES)
        memset(out, 0, sizeof *out);
    else
        stats_sum(core, core + 1, out);
}

void rt_reset(void)
{
    rt_config_clear();
    struct runtime *rt = the_runtime;
    if (!rt)
        return;
    for (size_t i = 0; i < rt->nobjects; i++) {
        struct rt_object *o = rt->objects[i];
        for (int c = 0; c < distinct_instances(rt, o); c++)
            o->ops->destroy(o->inst[c]);
        free(o->name);
        free(o);
    }
    free(rt->objects);
    free(rt->full_events);
    free(rt);
    the_runtime = NULL;
    rt_tls_core = 0;
}
