/*
 * runtime.h - the runtime's own API, next to the NF API it implements
 * (include/rsskey/nf.h).
 *
 * Users: tests, the simulator's calibration and the DPDK launcher. The
 * lifecycle is
 *
 *     rt_config_set / rt_config_parse ...   configuration nf_config answers
 *     nf_init()                              creates and registers objects
 *     rt_objects / rt_object_info ...        list what nf_init created
 *     rt_instantiate(cores, modes)           per-core instances (optional)
 *     per packet, on the thread of core c:
 *         rt_packet_begin(c, may_write_shared); nf_process(pkt); rt_packet_end(c);
 *     rt_reset()                             destroy everything, start again
 *
 * Process-wide state. The NF API has no context argument, so the object
 * registry, the configuration and the lock tokens are one process-wide
 * runtime (created lazily, destroyed by rt_reset). The only per-thread state
 * is the current core id (rt_set_core / rt_packet_begin), which picks the
 * instance an object handle dispatches to.
 *
 * Not thread-safe: configuration, object creation, rt_instantiate and
 * rt_reset (call them from one thread, before or after packet processing).
 * Thread-safe: packet processing on distinct cores after rt_instantiate.
 */
#ifndef RSSKEY_RUNTIME_H
#define RSSKEY_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rsskey/nf.h"
#include "util/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Highest number of cores rt_instantiate accepts. */
#define RT_MAX_CORES 64

/* ---- Configuration (what nf_config answers) ----------------------------- */

/* Sets name to value (overwrites). Returns 0, or -1 with err filled when the
 * name is empty or too long (RT_CONFIG_NAME_MAX - 1 bytes at most). */
#define RT_CONFIG_NAME_MAX 64
int rt_config_set(const char *name, uint64_t value, struct util_error *err);
/* Parses "name=value" (value decimal, 0x hex or 0 octal, optional k/M/G
 * suffix = *1000, *10^6, *10^9) and sets it. Returns 0 or -1 with err. */
int rt_config_parse(const char *assignment, struct util_error *err);
/* Reads a configuration file: one name=value per line, blank lines and
 * lines starting with '#' ignored, spaces around name and value allowed.
 * Returns 0, or -1 with err naming the file and line (settings before the
 * bad line stay set). */
int rt_config_load_file(const char *path, struct util_error *err);
/* True and *value when name is configured. */
bool rt_config_get(const char *name, uint64_t *value);

/* ---- Object registry ----------------------------------------------------- */

enum rt_kind { RT_MAP, RT_VECTOR, RT_ALLOC, RT_SKETCH, RT_CHASH, RT_COUNTER };

/* How an object runs on many cores (see rt_instantiate). */
enum rt_mode {
    RT_SHARDED,     /* one independent instance per core */
    RT_REPLICATED,  /* one read-only instance seen by every core */
    RT_SHARED,      /* one instance under per-core read tokens */
};

struct rt_object_info {
    const char *name;       /* owned by the runtime; valid until rt_reset */
    enum rt_kind kind;
    enum rt_mode mode;      /* RT_SHARDED until rt_instantiate says otherwise */
    uint32_t key_size;      /* map, sketch; 0 otherwise */
    uint32_t record_size;   /* vector; 0 otherwise */
    uint32_t capacity;      /* map, vector, alloc: entries; sketch: width*depth;
                               chash: table size; counter: 1 */
    uint32_t width, depth;  /* sketch */
    uint32_t backends;      /* chash */
    uint32_t table_size;    /* chash */
    size_t bytes;           /* memory held by all its instances */
};

/* Number of registered objects, in creation order. */
size_t rt_objects(void);
/* Fills *info for object i (0 <= i < rt_objects()). Returns false otherwise. */
bool rt_object_info(size_t i, struct rt_object_info *info);
/* Index of the object called name, or -1. */
int rt_object_find(const char *name);

/* Appends the registry as a JSON array of objects {name, kind, mode, the
 * sizes that apply to the kind, capacity, bytes}, in registry order. */
void rt_objects_json(struct util_json *w);

const char *rt_kind_name(enum rt_kind kind);   /* "map", "vector", ... */
const char *rt_mode_name(enum rt_mode mode);   /* "sharded", ... */

/* ---- Batched map lookups ------------------------------------------------- */

/* Looks up n keys (n <= RT_MAP_BULK_MAX) of map in the current core's
 * instance: hashes them all and prefetches their home slots before probing,
 * so the cache misses overlap. values[i] is set when keys[i] is present.
 * Returns a bit mask of the keys found (bit i for keys[i]). A read, like
 * nf_map_get; for callers that hold several keys at once (launchers,
 * benchmarks), not for NFs, which see one packet at a time. */
#define RT_MAP_BULK_MAX 64
uint64_t rt_map_get_bulk(struct nf_map *map, const void *const *keys, uint32_t n,
                         int32_t *values);

/* ---- Multi-core instances ------------------------------------------------ */

/*
 * Turns every registered object into per-core instances for `cores` cores
 * (1..RT_MAX_CORES). modes[i] is the mode of object i (registry order);
 * modes NULL means every object RT_SHARDED. Call once, after nf_init.
 *
 *  RT_SHARDED: core c gets its own instance, a copy of the state nf_init
 *    left. Maps and sketches keep their sizes per core except map capacity,
 *    which becomes ceil(capacity / cores). An allocator of capacity n gives
 *    core c the DISJOINT index range [c*s, min((c+1)*s, n)) with
 *    s = ceil(n / cores), so indexes stay globally unique. Vectors keep their
 *    full index range on every core (indexes from a sharded allocator are
 *    global), costing address space, not touched memory.
 *  RT_REPLICATED: the nf_init instance, read by every core. A write is a plan
 *    violation.
 *  RT_SHARED: the nf_init instance, used under the token protocol of
 *    rt_packet_begin. A write while not holding every token is a plan
 *    violation.
 *
 * A plan violation is counted (rt_stats) and reported on stderr once per
 * object; the runtime then aborts when rt_set_abort_on_violation(true), the
 * default in builds without NDEBUG. Returns 0, or -1 with err (then nothing
 * changed).
 */
int rt_instantiate(int cores, const enum rt_mode *modes, struct util_error *err);
/* Variants of rt_instantiate for replays that explain a difference (the
 * launcher's --verify): full_capacity gives every core of a sharded object
 * what a one-core plan would (a map's whole capacity, an allocator's whole
 * index range, so indexes repeat across cores). */
struct rt_instance_options {
    bool full_capacity;
};
int rt_instantiate_with(int cores, const enum rt_mode *modes,
                        const struct rt_instance_options *opts, struct util_error *err);

/* 1 before rt_instantiate, else its `cores`. */
int rt_cores(void);

/* Selects the calling thread's core: object handles dispatch to this core's
 * instances. The one piece of per-thread state (thread-local, default 0). */
void rt_set_core(int core);
int rt_current_core(void);

/*
 * Packet-level locking (SMP Click / Maestro scheme). Each core has one
 * cache-line-aligned read token. rt_packet_begin(c, false) takes core c's
 * token; rt_packet_begin(c, true) takes every core's token in core order
 * (a writer excludes all readers and writers). rt_packet_end(c) releases what
 * rt_packet_begin(c, ...) took. Both also set the current core to c. Tokens
 * are taken even when no object is RT_SHARED (uncontended: a few ns).
 */
void rt_packet_begin(int core, bool may_write_shared);
void rt_packet_end(int core);

void rt_set_abort_on_violation(bool abort_on_violation);

/*
 * Tracking, for replays that must say which objects a packet used: while on,
 * every state call records its object in the calling core's masks, cleared by
 * rt_packet_begin. Bit i is object i (registry order); objects from
 * RT_TRACK_OBJECTS - 1 on share the last bit. `full` marks objects where an
 * insert (nf_map_put) or allocation (nf_alloc_new) failed for lack of room,
 * `allocated` allocators that handed out an index.
 * Off by default: tracking costs a call per state access.
 */
#define RT_TRACK_OBJECTS 64
struct rt_touched {
    uint64_t read, write, full, allocated;
};
void rt_set_tracking(bool on);
/* What core's current (or last) packet touched. */
void rt_packet_touched(int core, struct rt_touched *out);
/* How often object i's insert or allocation failed for lack of room (any core). */
uint64_t rt_object_full_events(size_t i);

struct rt_stats {
    uint64_t packets;               /* rt_packet_begin calls */
    uint64_t write_packets;         /* ... with may_write_shared */
    uint64_t plan_violations;       /* writes to RT_SHARED objects without all
                                       tokens, writes to RT_REPLICATED ones */
    uint64_t unlocked_shared_reads; /* RT_SHARED reads without any token */
};
/* Sums of the per-core counters (read them once the cores are idle). */
void rt_stats(struct rt_stats *out);
/* The same counters for one core (zeros for a core out of range). */
void rt_core_stats(int core, struct rt_stats *out);

/* Destroys every object, the configuration, instances and statistics. The
 * handles nf_init stored become dangling: run nf_init again. */
void rt_reset(void);

#ifdef __cplusplus
}
#endif
#endif /* RSSKEY_RUNTIME_H */
