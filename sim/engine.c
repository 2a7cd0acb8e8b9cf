/*
 * engine.c - the event-driven replay. Arrivals (paced by the trace's clock or
 * a fixed rate) and core service starts are handled in global time order:
 * an arriving packet is hashed (Toeplitz with its port's key and rss_hf),
 * looked up in the RETA and appended to that core's RX ring, or dropped when
 * the ring is full; a core takes the head of its ring when it is free and runs
 * the packet's state accesses against the caches, the coherence directory and
 * the locks, which gives the packet's cycle cost and so its completion time.
 * All times are in core cycles (double).
 *
 * Reading, hashing and pacing packets (the front end) can run in a second
 * host thread, feeding the event loop batches in arrival order; see "The
 * front end" below and docs/simulator.md.
 *
 * Address layout: shared objects and the lock tokens first (the "shared area",
 * which the coherence directory covers), then one region per core of every
 * sharded or replicated object. An access's entry index is a hash of the key
 * fields' bytes modulo the object's capacity.
 */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/sim_internal.h"

#define LINE 64
#define REGION_ALIGN 4096

/* One part of a key: `len` bytes of the tuple at `offset` (masked: /prefix),
 * or the packet's flow identity; `need` are the HAS_* bits the packet must
 * have, else the access is skipped. */
enum { HAS_V4 = 1, HAS_V6 = 2, HAS_IP = 4, HAS_PORTS = 8 };
struct key_op {
    uint8_t offset, len, need;
    bool flow;
    uint64_t mask;              /* applied to the little-endian load */
};

/* One key value as load_values reads it from the tuple: the 8 bytes at
 * `window`, shifted right by `shift` bits, masked. A field near the tuple's
 * end is read with the window ending where the field ends. */
struct key_load {
    uint8_t window, shift;
    uint64_t mask;
};

/* Key values are numbered per port: 0 is the flow identity, 1.. the loads. */
#define FLOW_VALUE 0

struct access_rt {
    int object;
    enum deps_op op;
    bool write;                 /* any op but a read */
    bool once_per_key;          /* insert-like: on the first packet of its key only
                                   (unless opts.writes_every_packet) */
    bool flow_keyed;            /* no key fields: an index from state, per flow */
    struct deps_key key;
    /* The key compiled to loads from struct trace_tuple (engine_init). */
    int n_ops;
    struct key_op ops[2 * DEPS_MAX_KEY_FIELDS + 1];
    uint64_t seed;              /* the object's seed with constant parts mixed in */
    /* The same key as the hot loop uses it (share_loads): the HAS_* bits of
     * every op, and per op the number of its value (FLOW_VALUE or 1 + the
     * index of its load in the port's loads). */
    uint8_t need;
    uint16_t part[2 * DEPS_MAX_KEY_FIELDS + 1];
    double op_cycles;           /* op_cycles() of op, fixed for the run */
    const struct object_rt *ob; /* &engine.objects[object] (after engine_init) */
    bool fixed;                 /* no key ops: every packet's hash is fixed_hash */
    uint64_t fixed_hash;
    int same_as;                /* an earlier access of the port to the same object
                                   with the same key (so the same hash), or -1 */
};

struct object_rt {
    enum deps_object_kind kind;
    bool per_core;              /* sharded or replicated: one region per core */
    int lock;                   /* shared: index into locks, else -1 */
    uint64_t capacity;
    uint32_t entry_bytes;
    uint32_t rows;              /* sketch rows, else 1 */
    uint64_t base;              /* byte address; per-core: core 0's region */
    uint64_t stride;            /* bytes between per-core regions; 0 when shared */
    uint64_t row_bytes;         /* capacity x entry_bytes */
};

/* The coherence directory's entry for one line of the shared area (sharers
 * and owner together: one host line fetch per simulated line). */
struct dir_entry {
    uint64_t sharers;           /* cores that may hold the line */
    int32_t owner;              /* core holding it modified, or -1 */
};

struct lock_rt {
    uint64_t token_line;        /* core 0's token line; core k's is +k */
    double writer_end;
    double reader_end[SIM_MAX_CORES];
};

/* How many arrivals ahead of the event loop the host prefetches of a
 * packet's state are issued, so they land before the packet is used. */
#define LOOKAHEAD 16
/* A key hash of 0 marks an access whose fields the packet lacks. */
#define NO_KEY 0

/* A packet waiting in a ring: what processing needs, with its key hashes
 * computed when it was read (one per access of its port). Variable size:
 * rings hold them at engine.pending_bytes strides. */
struct pending {
    double arrival;
    uint64_t flow;              /* flow identity (flows count, state keys) */
    uint32_t wire_len;
    uint16_t port_index;
    uint16_t core;
    uint64_t hash[];            /* per access of the port; NO_KEY = skipped */
};

struct core_rt {
    struct sim_cache *l1, *l2;
    unsigned char *ring;        /* ring_size pendings of pending_bytes */
    uint32_t head, count;
    double free_at;
};

struct port_rt {
    int port;
    struct rss_port_hasher *hasher; /* rss/'s per-byte Toeplitz tables for this port */
    uint32_t reta_mask;
    uint16_t reta[RSS_RETA_MAX];
    int n_accesses;
    struct access_rt *accesses;
    /* The distinct key ops of all accesses of the port: each packet loads
     * each once (key_hashes), and every access combines the values it names. */
    int n_loads;
    struct key_op *load_ops;    /* the distinct header ops ... */
    struct key_load *loads;     /* ... and how each is read */
};

/* A set of nonzero 64-bit keys (open addressing, linear probing). The keys
 * are hash outputs already (flow identities, mixed state keys), so a key's
 * home slot is simply its top bits: no second hash per lookup. */
struct flow_set {
    uint64_t *slots;
    uint64_t cap, used;
    unsigned shift;             /* 64 - log2(cap) */
};

struct engine {
    /* Set up by engine_init and only read afterwards: the front end's thread
     * reads these while the event loop runs. */
    const struct sim_costs *c;
    int cores;
    bool rss_only;
    bool reta_round_robin;      /* the RETA was re-derived round-robin */
    bool reta_balanced;         /* ... or balanced as synth would (--fold synth) */
    int n_ports;
    struct port_rt ports[DEPS_MAX_PORTS];
    size_t pending_bytes;       /* sizeof(struct pending) + hashes, 8-aligned */
    size_t record_bytes;        /* a raw batch's record: a pending, then the tuple */
    int max_loads;              /* the most loads of a port */
    int n_objects;
    struct object_rt *objects;
    int n_locks;
    struct lock_rt *locks;
    uint64_t shared_lines;      /* lines [0, shared_lines) are the shared area */
    struct sim_trace_sink *sink;
    struct sim_windows *windows;    /* the busiest window's largest flow */
    struct sim_result *res;
    /* The event loop's state, written per packet: on host lines of its own,
     * so the front end's reads above never share a line with its writes. */
    _Alignas(64) struct core_rt core[SIM_MAX_CORES];
    double ready[SIM_MAX_CORES]; /* when each core can start its ring's head;
                                   INFINITY while its ring is empty */
    uint8_t *held;              /* per lock, this packet: 0, 1 read, 2 write */
    struct dir_entry *dir;      /* coherence directory, per line of the shared area */
    struct sim_cache *llc;
    struct flow_set flows;
    struct flow_set seen;       /* keys inserted so far (the path model) */
    uint64_t *lines;            /* prefetch_pending's scratch: first lines of accesses */
    uint64_t *values;           /* key_hashes' scratch for raw batches */
    uint64_t arrived;           /* arrivals handled so far (the first drop's number) */
};

static struct pending *ring_slot(const struct engine *e, const struct core_rt *cr,
                                 uint32_t i)
{
    return (struct pending *)(cr->ring + (size_t)i * e->pending_bytes);
}

/* ---- Small helpers ---------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

uint64_t sim_hash_bytes(const void *data, size_t len, uint64_t seed)
{
    const uint8_t *p = data;
    uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ULL);
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        h = (h ^ mix64(v)) * 0x9e3779b97f4a7c15ULL;
        p += 8;
        len -= 8;
    }
    uint64_t v = 0;
    memcpy(&v, p, len);
    h = (h ^ mix64(v ^ 0xa5)) * 0x9e3779b97f4a7c15ULL;
    return mix64(h);
}

/* Hash combining, one 64-bit word at a time (keys are hashed field by field
 * straight from the tuple: no byte buffer, no store-to-load stalls). */
static uint64_t combine(uint64_t h, uint64_t v)
{
    return (((h << 5) | (h >> 59)) ^ v) * 0x9e3779b97f4a7c15ULL;  /* FxHash's step */
}

/* h mapped onto [0, n) without a division (multiply-high). */
static uint64_t reduce(uint64_t h, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)h * n) >> 64);
}

static uint64_t load64(const void *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint64_t flow_id(const struct trace_tuple *t)
{
    uint64_t h = 0x51f10e;
    if (t->ip_version == 0) {       /* non-IP: the MAC pair */
        uint64_t a = 0, b = 0;
        memcpy(&a, t->src_mac, 6);
        memcpy(&b, t->dst_mac, 6);
        return mix64(combine(combine(h, a), b));
    }
    h = combine(h, load64(t->src));
    h = combine(h, load64(t->src + 8));
    h = combine(h, load64(t->dst));
    h = combine(h, load64(t->dst + 8));
    h = combine(h, (uint64_t)t->sport << 32 | (uint64_t)t->dport << 16 |
                   (uint64_t)t->proto << 8 | t->ip_version);
    return mix64(h);
}

static uint64_t flow_set_home(const struct flow_set *s, uint64_t key)
{
    return key >> s->shift;
}

/* Grows the set to twice its capacity (4096 slots at first). Not inlined:
 * it runs rarely, and keeping it out lets flow_set_add inline. */
__attribute__((noinline)) static int flow_set_grow(struct flow_set *s)
{
    uint64_t ncap = s->cap ? s->cap * 2 : 4096;
    unsigned nshift = 64 - (unsigned)__builtin_ctzll(ncap);
    uint64_t *ns = sim_table_alloc(ncap * sizeof *ns);
    if (!ns)
        return -1;
    for (uint64_t i = 0; i < s->cap; i++) {
        uint64_t k = s->slots[i];
        if (!k)
            continue;
        uint64_t j = k >> nshift;
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = k;
    }
    free(s->slots);
    s->slots = ns;
    s->cap = ncap;
    s->shift = nshift;
    return 0;
}

/* Adds key: 1 when it is new, 0 when it was there, -1 out of memory. */
static inline int flow_set_add(struct flow_set *s, uint64_t key)
{
    if ((s->used + 1) * 2 > s->cap && flow_set_grow(s))
        return -1;
    uint64_t j = flow_set_home(s, key);
    while (s->slots[j]) {
        if (s->slots[j] == key)
            return 0;
        j = (j + 1) & (s->cap - 1);
    }
    s->slots[j] = key;
    s->used++;
    return 1;
}

static double op_cycles(const struct sim_costs *c, enum deps_op op)
{
    switch (op) {
    case DEPS_OP_READ: return c->read_cycles;
    case DEPS_OP_WRITE: return c->write_cycles;
    case DEPS_OP_EXPIRE: return c->expire_cycles;
    default: return c->alloc_cycles;
    }
}

/* ---- Setup -------------------------------------------------------------------- */

void sim_object_table(const struct sim_costs *c, const struct deps_object *d, int cores,
                      struct sim_table *out)
{
    uint64_t capacity = c->default_capacity;
    uint32_t entry_bytes = c->default_entry_bytes, rows = 1;
    enum sim_size_source source = SIM_SIZE_DEFAULT;
    /* A sharded map or allocator is split across the cores' instances
     * (runtime: map_shard, alloc_shard); vectors and sketches are copied. */
    uint64_t share = d->decision == DEPS_SHARDED && cores > 1
                   ? ((uint64_t)d->capacity + cores - 1) / cores : d->capacity;
    switch (d->kind) {
    case DEPS_KIND_MAP:
        /* runtime/map.c: a power-of-two slot count above entries x 1.25 (at
         * least 8), slots of a 32-bit tag, a 32-bit value and the key,
         * rounded up to 8 bytes */
        if (share) {
            uint64_t want = share + share / 4 + 1, slots = 8;
            while (slots < want)
                slots <<= 1;
            capacity = slots;
            source = SIM_SIZE_PLAN;
        }
        if (d->key_size)
            entry_bytes = (8 + d->key_size + 7) & ~7u;
        break;
    case DEPS_KIND_VECTOR:
        if (d->capacity) {
            capacity = d->capacity;
            source = SIM_SIZE_PLAN;
        }
        if (d->record_size)
            entry_bytes = d->record_size;
        break;
    case DEPS_KIND_COUNTER:
        capacity = 1;
        entry_bytes = 8;
        source = SIM_SIZE_PLAN;     /* a counter is one word whatever the plan says */
        break;
    case DEPS_KIND_ALLOC:
        if (share) {
            capacity = share;
            source = SIM_SIZE_PLAN;
        }
        entry_bytes = 16;           /* links and a timestamp per index */
        break;
    case DEPS_KIND_SKETCH:
        if (d->width) {
            capacity = d->width;
            source = SIM_SIZE_PLAN;
        }
        entry_bytes = 4;            /* one 32-bit counter per column */
        rows = d->depth ? d->depth : c->sketch_rows ? c->sketch_rows : 1;
        break;
    case DEPS_KIND_CHASH:
        if (d->width) {
            capacity = d->width;
            source = SIM_SIZE_PLAN;
        }
        entry_bytes = 4;            /* backend index per slot */
        break;
    }
    for (int i = 0; i < c->n_overrides; i++) {
        if (strcmp(c->overrides[i].name, d->name) != 0)
            continue;
        if (c->overrides[i].capacity) {
            capacity = c->overrides[i].capacity;
            source = SIM_SIZE_COSTS;
        }
        if (c->overrides[i].entry_bytes)
            entry_bytes = c->overrides[i].entry_bytes;
    }
    out->entries = capacity;
    out->entry_bytes = entry_bytes;
    out->rows = rows;
    out->per_core = d->decision != DEPS_SHARED;
    out->source = source;
}

/* A byte mask keeping the first `prefix` bits of a `len`-byte network-order
 * field, as it reads from a little-endian load (0 = whole field). */
static uint64_t prefix_mask(int len, int prefix)
{
    uint64_t m = 0;
    for (int i = 0; i < len; i++) {
        int keep = prefix == 0 ? 8 : prefix < 0 ? 0 : prefix - 8 * i;
        uint64_t b = keep >= 8 ? 0xff : keep <= 0 ? 0 : (0xff << (8 - keep)) & 0xff;
        m |= b << (8 * i);
    }
    return m;
}

static void add_op(struct access_rt *ar, size_t offset, int len, int need, int prefix)
{
    struct key_op *op = &ar->ops[ar->n_ops++];
    op->offset = (uint8_t)offset;
    op->len = (uint8_t)len;
    op->need = (uint8_t)need;
    op->flow = false;
    op->mask = prefix_mask(len, prefix);
}

/* Compiles an access's key fields into loads. Constant parts (the input
 * port, constants, time, other header bytes) are folded into the seed. */
static void compile_key(struct access_rt *ar, uint64_t object_seed, int port)
{
    ar->n_ops = 0;
    ar->seed = object_seed;
    if (ar->flow_keyed)
        ar->ops[ar->n_ops++] = (struct key_op){.flow = true};
    for (int i = 0; i < ar->key.count; i++) {
        struct ir_field f = ar->key.fields[i];
        int pre = f.prefix;
        switch (f.id) {
        case IR_FIELD_ETH_SRC: add_op(ar, offsetof(struct trace_tuple, src_mac), 6, 0, pre); break;
        case IR_FIELD_ETH_DST: add_op(ar, offsetof(struct trace_tuple, dst_mac), 6, 0, pre); break;
        case IR_FIELD_IPV4_SRC: add_op(ar, offsetof(struct trace_tuple, src), 4, HAS_V4, pre); break;
        case IR_FIELD_IPV4_DST: add_op(ar, offsetof(struct trace_tuple, dst), 4, HAS_V4, pre); break;
        case IR_FIELD_IPV6_SRC:
        case IR_FIELD_IPV6_DST: {
            size_t off = f.id == IR_FIELD_IPV6_SRC ? offsetof(struct trace_tuple, src)
                                                   : offsetof(struct trace_tuple, dst);
            add_op(ar, off, 8, HAS_V6, pre > 64 ? 0 : pre);
            add_op(ar, off + 8, 8, HAS_V6, pre == 0 ? 0 : pre > 64 ? pre - 64 : -1);
            break;
        }
        case IR_FIELD_IP_PROTO: add_op(ar, offsetof(struct trace_tuple, proto), 1, HAS_IP, 0); break;
        case IR_FIELD_L4_SPORT:
            add_op(ar, offsetof(struct trace_tuple, sport), 2, HAS_PORTS, pre);
            break;
        case IR_FIELD_L4_DPORT:
            add_op(ar, offsetof(struct trace_tuple, dport), 2, HAS_PORTS, pre);
            break;
        case IR_FIELD_STATE:
        case IR_FIELD_UNKNOWN:
            ar->ops[ar->n_ops++] = (struct key_op){.flow = true};
            break;
        case IR_FIELD_INPUT_PORT:
            ar->seed = mix64(ar->seed ^ (uint64_t)(port + 1));
            break;
        default:
            break;              /* constants, time, other header bytes */
        }
    }
}

static bool key_has_header_field(const struct deps_key *k)
{
    for (int i = 0; i < k->count; i++)
        if (k->fields[i].id <= IR_FIELD_L4_DPORT)
            return true;
    return false;
}

/* The hash of access ac's key for this packet from its port's loaded values,
 * or NO_KEY when the packet lacks one of the key's fields. */
static uint64_t access_hash(const struct access_rt *ac, const uint64_t *values, unsigned has)
{
    if (ac->need & ~has)
        return NO_KEY;
    uint64_t x = ac->seed;
    for (int i = 0; i < ac->n_ops; i++)
        x = combine(x, values[ac->part[i]]);
    x = mix64(x);
    return x == NO_KEY ? 1 : x;
}

static bool same_op(const struct key_op *a, const struct key_op *b)
{
    return a->offset == b->offset && a->len == b->len && a->mask == b->mask;
}

/* How a header op's field is read with one 8-byte load inside the tuple. */
static struct key_load load_of(const struct key_op *op)
{
    struct key_load ld = {.window = op->offset, .shift = 0, .mask = op->mask};
    if ((size_t)op->offset + 8 > sizeof(struct trace_tuple)) {
        ld.window = (uint8_t)(op->offset + op->len - 8);
        ld.shift = (uint8_t)(8 * (8 - op->len));
    }
    return ld;
}

/* Gives port p its distinct header key ops (p->load_ops, read as p->loads)
 * and each access the numbers of its ops' values: keys of one port mostly use
 * the same fields (the 5-tuple), so a packet loads each field once instead of
 * once per access. Combining the shared values in each key's own order gives
 * the same hashes as combining fresh loads. Also finds accesses whose hash is
 * fixed or repeats an earlier one's. Returns false when out of memory. */
static bool share_loads(struct port_rt *p)
{
    int total = 0;
    for (int a = 0; a < p->n_accesses; a++)
        total += p->accesses[a].n_ops;
    p->load_ops = calloc(total ? total : 1, sizeof *p->load_ops);
    p->loads = calloc(total ? total : 1, sizeof *p->loads);
    if (!p->load_ops || !p->loads)
        return false;
    for (int a = 0; a < p->n_accesses; a++) {
        struct access_rt *ar = &p->accesses[a];
        ar->need = 0;
        for (int i = 0; i < ar->n_ops; i++) {
            const struct key_op *op = &ar->ops[i];
            if (op->flow) {
                ar->part[i] = FLOW_VALUE;
                continue;
            }
            int j = 0;
            while (j < p->n_loads && !same_op(&p->load_ops[j], op))
                j++;
            if (j == p->n_loads) {
                p->load_ops[j] = *op;
                p->loads[j] = load_of(op);
                p->n_loads++;
            }
            ar->part[i] = (uint16_t)(1 + j);
            ar->need |= op->need;
        }
        ar->fixed = ar->n_ops == 0;
        ar->fixed_hash = ar->fixed ? access_hash(ar, NULL, 0) : NO_KEY;
        ar->same_as = -1;
        for (int b = 0; b < a && ar->same_as < 0; b++) {
            const struct access_rt *br = &p->accesses[b];
            if (br->object == ar->object && br->seed == ar->seed && br->n_ops == ar->n_ops &&
                memcmp(br->part, ar->part, (size_t)ar->n_ops * sizeof ar->part[0]) == 0)
                ar->same_as = b;
        }
    }
    return true;
}

/* The path model (docs/simulator.md): the plan lists every access a port can
 * reach, not which path a packet takes. Reads, refreshes, expiry sweeps,
 * sketch and counter updates and writes of header-keyed vector records happen
 * on every packet; inserts (map put/erase, allocate, free, writes of records
 * indexed from state) on the first packet of their key only. */
static void classify_access(struct access_rt *ar, enum deps_object_kind kind, bool all)
{
    ar->write = ar->op != DEPS_OP_READ;
    ar->flow_keyed = ar->key.count == 0 && kind != DEPS_KIND_COUNTER &&
                     ar->op != DEPS_OP_EXPIRE;
    bool per_packet = ar->op == DEPS_OP_READ || ar->op == DEPS_OP_REFRESH ||
                      ar->op == DEPS_OP_EXPIRE || kind == DEPS_KIND_SKETCH ||
                      kind == DEPS_KIND_COUNTER ||
                      (kind == DEPS_KIND_VECTOR && key_has_header_field(&ar->key));
    ar->once_per_key = !all && !per_packet;
}

static uint64_t align_up(uint64_t x, uint64_t a)
{
    return (x + a - 1) / a * a;
}

static void engine_free(struct engine *e)
{
    for (int i = 0; i < e->n_ports; i++) {
        free(e->ports[i].hasher);
        free(e->ports[i].accesses);
        free(e->ports[i].load_ops);
        free(e->ports[i].loads);
    }
    for (int i = 0; i < e->cores; i++) {
        sim_cache_free(e->core[i].l1);
        sim_cache_free(e->core[i].l2);
        free(e->core[i].ring);
    }
    sim_cache_free(e->llc);
    free(e->objects);
    free(e->locks);
    free(e->held);
    free(e->dir);
    free(e->lines);
    free(e->values);
    free(e->flows.slots);
    free(e->seen.slots);
    sim_windows_free(e->windows);
}

static int engine_init(struct engine *e, const struct rss_plan *plan,
                       const struct sim_costs *c, const struct sim_options *o,
                       const uint16_t *synth_reta, bool balanced, struct util_error *err)
{
    memset(e, 0, sizeof *e);
    e->c = c;
    e->rss_only = o->rss_only;
    e->cores = o->cores > 0 ? o->cores : plan->cores > 0 ? plan->cores : 1;
    if (e->cores > SIM_MAX_CORES) {
        util_error_set(err, "%d cores asked; the simulator handles at most %d",
                       e->cores, SIM_MAX_CORES);
        return UTIL_EXIT_USAGE;
    }
    if (plan->n_ports <= 0 || plan->n_ports > DEPS_MAX_PORTS) {
        util_error_set(err, "the plan configures %d ports; it needs 1..%d "
                       "(re-run 'rsskey synth')", plan->n_ports, DEPS_MAX_PORTS);
        return UTIL_EXIT_INPUT;
    }
    /* Ports: hasher, RETA re-derived for this many cores, accesses. */
    for (int i = 0; i < plan->n_ports; i++) {
        const struct rss_port_config *pc = &plan->ports[i];
        struct port_rt *p = &e->ports[i];
        e->n_ports = i + 1;
        p->port = pc->port;
        if (pc->reta_size == 0 || pc->reta_size > RSS_RETA_MAX ||
            (pc->reta_size & (pc->reta_size - 1))) {
            util_error_set(err, "port %d: RETA size %u is not a power of two in 1..%d",
                           pc->port, pc->reta_size, RSS_RETA_MAX);
            return UTIL_EXIT_INPUT;
        }
        p->reta_mask = pc->reta_size - 1;
        bool same = plan->cores == e->cores;
        /* Folding cannot reach more cores than the plan has: round-robin then
         * (one table for every port, as the plan's, so still sound). */
        bool rr = !synth_reta && (o->fold == SIM_FOLD_ROUND_ROBIN || e->cores > plan->cores);
        e->reta_round_robin = rr || (synth_reta && !balanced);
        e->reta_balanced = synth_reta && balanced;
        uint32_t synth_mask = plan->ports[0].reta_size - 1;
        for (uint32_t k = 0; k < pc->reta_size; k++) {
            uint32_t core = synth_reta ? synth_reta[k & synth_mask]
                          : rr ? k % e->cores
                          : same ? pc->reta[k] : pc->reta[k] % e->cores;
            if (core >= (uint32_t)e->cores) {
                util_error_set(err, "port %d: RETA entry %u names core %u, but the plan "
                               "has %d cores", pc->port, k, core, e->cores);
                return UTIL_EXIT_INPUT;
            }
            p->reta[k] = (uint16_t)core;
        }
        p->hasher = malloc(sizeof *p->hasher);
        if (!p->hasher)
            goto oom;
        rss_port_hasher_init(p->hasher, pc);    /* pc lives as long as the run */
        int n = 0;
        for (int a = 0; a < plan->deps.n_accesses; a++)
            n += plan->deps.accesses[a].port == pc->port;
        p->accesses = calloc(n ? n : 1, sizeof *p->accesses);
        if (!p->accesses)
            goto oom;
        for (int a = 0; a < plan->deps.n_accesses; a++) {
            const struct deps_access *da = &plan->deps.accesses[a];
            if (da->port != pc->port)
                continue;
            if (da->object < 0 || da->object >= plan->deps.n_objects) {
                util_error_set(err, "plan access %d (%s:%d) names object %d; the plan has %d",
                               a, da->file, da->line, da->object, plan->deps.n_objects);
                return UTIL_EXIT_INPUT;
            }
            struct access_rt *ar = &p->accesses[p->n_accesses++];
            ar->object = da->object;
            ar->op = da->op;
            ar->key = da->key;
            if (ar->key.count > DEPS_MAX_KEY_FIELDS)
                ar->key.count = DEPS_MAX_KEY_FIELDS;
            const struct deps_object *dob = &plan->deps.objects[da->object];
            classify_access(ar, dob->kind, o->writes_every_packet);
            compile_key(ar, sim_hash_bytes(dob->name, strlen(dob->name), 0x0b1ec7), pc->port);
            ar->op_cycles = op_cycles(c, ar->op);
        }
        if (!share_loads(p))
            goto oom;
        if (p->n_loads > e->max_loads)
            e->max_loads = p->n_loads;
    }
    int max_accesses = 0;
    for (int i = 0; i < e->n_ports; i++)
        if (e->ports[i].n_accesses > max_accesses)
            max_accesses = e->ports[i].n_accesses;
    e->pending_bytes = sizeof(struct pending) + (size_t)max_accesses * sizeof(uint64_t);
    e->record_bytes = e->pending_bytes + (sizeof(struct trace_tuple) + 7) / 8 * 8;
    e->values = calloc(1 + (size_t)e->max_loads, sizeof *e->values);
    if (!e->values)
        goto oom;
    e->lines = calloc(max_accesses ? max_accesses : 1, sizeof *e->lines);
    if (!e->lines)
        goto oom;
    for (int k = 0; k < e->cores; k++)
        e->ready[k] = INFINITY;
    if (e->rss_only)
        return 0;

    /* Objects: shared ones and their lock tokens first, then per-core regions. */
    e->n_objects = plan->deps.n_objects;
    e->objects = calloc(e->n_objects ? e->n_objects : 1, sizeof *e->objects);
    e->locks = calloc(e->n_objects ? e->n_objects : 1, sizeof *e->locks);
    e->held = calloc(e->n_objects ? e->n_objects : 1, 1);
    e->windows = sim_windows_new(e->cores);
    if (!e->objects || !e->locks || !e->held || !e->windows)
        goto oom;
    uint64_t addr = 0;
    for (int i = 0; i < e->n_objects; i++) {
        const struct deps_object *d = &plan->deps.objects[i];
        struct object_rt *ob = &e->objects[i];
        ob->kind = d->kind;
        ob->per_core = d->decision != DEPS_SHARED;
        ob->lock = -1;
        struct sim_table t;
        sim_object_table(c, d, e->cores, &t);
        ob->capacity = t.entries;
        ob->entry_bytes = t.entry_bytes;
        ob->rows = t.rows;
        ob->row_bytes = ob->capacity * ob->entry_bytes;
        if (ob->per_core)
            continue;
        ob->base = addr;
        addr = align_up(addr + ob->capacity * ob->entry_bytes * ob->rows, REGION_ALIGN);
        /* One lock per group of shared objects (the plan partitions them). */
        for (int j = 0; j < i && ob->lock < 0; j++)
            if (!e->objects[j].per_core && plan->deps.objects[j].group == d->group)
                ob->lock = e->objects[j].lock;
        if (ob->lock < 0)
            ob->lock = e->n_locks++;
    }
    for (int l = 0; l < e->n_locks; l++) {
        e->locks[l].token_line = addr / LINE;
        addr = align_up(addr + (uint64_t)e->cores * LINE, REGION_ALIGN);
    }
    e->shared_lines = addr / LINE;
    for (int i = 0; i < e->n_objects; i++) {
        struct object_rt *ob = &e->objects[i];
        if (!ob->per_core)
            continue;
        ob->stride = align_up(ob->capacity * ob->entry_bytes * ob->rows, REGION_ALIGN);
        ob->base = addr;
        addr += ob->stride * e->cores;
    }
    for (int i = 0; i < e->n_ports; i++)
        for (int a = 0; a < e->ports[i].n_accesses; a++)
            e->ports[i].accesses[a].ob = &e->objects[e->ports[i].accesses[a].object];
    if (addr / LINE >= UINT32_MAX) {
        util_error_set(err, "the state objects need %llu MiB of simulated memory; the model "
                       "handles up to 256 GiB (lower capacities in the costs file)",
                       (unsigned long long)(addr >> 20));
        return UTIL_EXIT_INPUT;
    }
    if (e->cores > 1 && e->shared_lines) {
        e->dir = sim_table_alloc(e->shared_lines * sizeof *e->dir);
        if (!e->dir)
            goto oom;
        for (uint64_t i = 0; i < e->shared_lines; i++)
            e->dir[i].owner = -1;
    }
    e->llc = sim_cache_new(c->llc_bytes, c->llc_ways);
    if (!e->llc) {
        util_error_set(err, "LLC of %llu bytes, %u ways: the set count must be a power of "
                       "two (fix llc_bytes/llc_ways in the costs file)",
                       (unsigned long long)c->llc_bytes, c->llc_ways);
        return UTIL_EXIT_INPUT;
    }
    for (int k = 0; k < e->cores; k++) {
        e->core[k].l1 = sim_cache_new(c->l1_bytes, c->l1_ways);
        e->core[k].l2 = c->l2_bytes ? sim_cache_new(c->l2_bytes, c->l2_ways) : NULL;
        e->core[k].ring = malloc((size_t)c->ring_size * e->pending_bytes);
        if (!e->core[k].l1 || (c->l2_bytes && !e->core[k].l2)) {
            util_error_set(err, "L1 %llu bytes/%u ways or L2 %llu bytes/%u ways: the set "
                           "count must be a power of two (fix the costs file)",
                           (unsigned long long)c->l1_bytes, c->l1_ways,
                           (unsigned long long)c->l2_bytes, c->l2_ways);
            return UTIL_EXIT_INPUT;
        }
        if (!e->core[k].ring)
            goto oom;
    }
    return 0;
oom:
    util_error_set(err, "out of memory setting up the simulation");
    return UTIL_EXIT_FAILURE;
}

/* ---- The memory system --------------------------------------------------------- */

static void sink_record(struct sim_trace_sink *s, uint64_t addr, bool write)
{
    if (s->count == s->cap) {
        uint64_t ncap = s->cap ? s->cap * 2 : 4096;
        uint64_t *na = realloc(s->addrs, ncap * sizeof *na);
        if (!na)
            return;
        s->addrs = na;
        uint8_t *nw = realloc(s->is_write, ncap);
        if (!nw)
            return;
        s->is_write = nw;
        s->cap = ncap;
    }
    s->addrs[s->count] = addr;
    s->is_write[s->count++] = write;
}

/* One line access by core k; returns the cycles beyond an L1 hit. */
static inline double touch(struct engine *e, int k, uint64_t line, bool write,
                    struct sim_core_stats *st)
{
    const struct sim_costs *c = e->c;
    struct core_rt *cr = &e->core[k];
    struct dir_entry *d = e->dir && line < e->shared_lines ? &e->dir[line] : NULL;
    double cycles = 0;
    if (e->sink)
        sink_record(e->sink, line * LINE, write);
    st->line_accesses++;
    if (!sim_cache_access(cr->l1, line)) {
        st->l1_misses++;
        if (cr->l2 && sim_cache_access(cr->l2, line)) {
            st->cycles_l2 += c->l2_cycles;
            cycles += c->l2_cycles;
        } else {
            st->l2_misses++;
            st->bus_ops++;
            int owner = d ? d->owner : -1;
            bool llc_hit = sim_cache_access(e->llc, line);
            if (owner >= 0 && owner != k &&
                (sim_cache_probe(e->core[owner].l1, line) ||
                 (e->core[owner].l2 && sim_cache_probe(e->core[owner].l2, line)))) {
                st->transfers++;
                st->cycles_coherence += c->transfer_cycles;
                cycles += c->transfer_cycles;
                d->owner = -1;
            } else if (llc_hit) {
                st->cycles_llc += c->llc_cycles;
                cycles += c->llc_cycles;
            } else {
                st->llc_misses++;
                st->cycles_dram += c->dram_cycles;
                cycles += c->dram_cycles;
            }
        }
    }
    if (d) {
        uint64_t me = 1ull << k;
        if (write) {
            uint64_t others = d->sharers & ~me;
            bool found = false;
            while (others) {
                int o = __builtin_ctzll(others);
                others &= others - 1;
                found |= sim_cache_invalidate(e->core[o].l1, line);
                if (e->core[o].l2)
                    found |= sim_cache_invalidate(e->core[o].l2, line);
            }
            if (found) {
                st->invalidations++;
                st->bus_ops++;
                st->cycles_coherence += c->invalidate_cycles;
                cycles += c->invalidate_cycles;
            }
            d->sharers = me;
            d->owner = k;
        } else {
            d->sharers |= me;
        }
    }
    return cycles;
}

/* ---- Keys ------------------------------------------------------------------------- */

/* The HAS_* bits of a tuple. */
static unsigned tuple_has(const struct trace_tuple *t)
{
    return (t->ip_version == 4 ? HAS_V4 | HAS_IP : 0) |
           (t->ip_version == 6 ? HAS_V6 | HAS_IP : 0) | (t->has_ports ? HAS_PORTS : 0);
}

/* Loads the values of port p's keys from the packet, each once. A load's
 * mask keeps only its field's bytes: the value is the field read as a
 * little-endian number, as the key ops define it. */
static void load_values(const struct port_rt *p, const struct trace_tuple *t, uint64_t flow,
                        uint64_t *values)
{
    const uint8_t *base = (const uint8_t *)t;
    values[FLOW_VALUE] = flow;
    for (int i = 0; i < p->n_loads; i++) {
        const struct key_load *ld = &p->loads[i];
        values[1 + i] = (load64(base + ld->window) >> ld->shift) & ld->mask;
    }
}

/* The first line an access touches on core k. */
static uint64_t access_line(const struct object_rt *ob, int k, uint64_t h)
{
    uint64_t base = ob->base + ob->stride * k;
    return (base + reduce(h, ob->capacity) * ob->entry_bytes) / LINE;
}

/* The path model's identity of an inserted key (per core when per-core). */
static uint64_t seen_key(const struct object_rt *ob, int k, uint64_t h)
{
    return mix64(h + (ob->per_core ? (uint64_t)k + 1 : 0)) | 1;
}

static uint64_t flow_key(uint64_t flow, int k)
{
    return (flow & ~63ull) | 64 | (uint64_t)k;
}

/* Hashes a packet's keys when it is read (the front end): one hash per
 * access of its port, NO_KEY where the packet lacks a key field. values is
 * the caller's scratch of 1 + the port's loads. */
static void key_hashes(const struct engine *e, struct pending *pk, const struct trace_tuple *t,
                       uint64_t *values)
{
    const struct port_rt *p = &e->ports[pk->port_index];
    unsigned has = tuple_has(t);
    load_values(p, t, pk->flow, values);
    for (int a = 0; a < p->n_accesses; a++) {
        const struct access_rt *ac = &p->accesses[a];
        pk->hash[a] = ac->same_as >= 0 ? pk->hash[ac->same_as]
                    : ac->fixed ? ac->fixed_hash : access_hash(ac, values, has);
    }
}

/* Asks the host to fetch what processing pk will read: its flow-set and
 * path-model slots, directory entries and the simulated L2's and LLC's sets
 * (issued a few arrivals ahead, so the fetches land in time). */
static void prefetch_pending(struct engine *e, const struct pending *pk)
{
    const struct port_rt *p = &e->ports[pk->port_index];
    int k = pk->core;
    if (e->flows.cap)
        __builtin_prefetch(&e->flows.slots[flow_set_home(&e->flows, flow_key(pk->flow, k))]);
    int n_lines = 0;
    for (int a = 0; a < p->n_accesses; a++) {
        const struct access_rt *ac = &p->accesses[a];
        if (pk->hash[a] == NO_KEY)
            continue;
        const struct object_rt *ob = ac->ob;
        if (ac->once_per_key && e->seen.cap)
            __builtin_prefetch(&e->seen.slots[flow_set_home(&e->seen,
                                                            seen_key(ob, k, pk->hash[a]))]);
        /* A repeated key's lines are the earlier access's; a fixed key's line
         * is touched by every packet of the core, so it stays in the
         * simulated L1, whose sets need no prefetch. */
        if (ac->same_as >= 0 || ac->fixed)
            continue;
        uint64_t line = access_line(ob, k, pk->hash[a]);
        e->lines[n_lines++] = line;
        if (e->dir && line < e->shared_lines)
            __builtin_prefetch(&e->dir[line]);
    }
    /* Not the L1's sets: a simulated L1 is a few host KiB (prefetching them
     * too measured no faster). */
    if (e->core[k].l2)
        sim_cache_prefetch(e->core[k].l2, e->lines, n_lines);
    sim_cache_prefetch(e->llc, e->lines, n_lines);
}

/* ---- Processing one packet ----------------------------------------------------------- */

static double lock_take(struct engine *e, int k, int l, bool write, double now,
                        struct sim_core_stats *st)
{
    const struct sim_costs *c = e->c;
    struct lock_rt *lk = &e->locks[l];
    double cycles = 0, ready = lk->writer_end;
    if (write) {
        for (int o = 0; o < e->cores; o++)
            if (o != k && lk->reader_end[o] > ready)
                ready = lk->reader_end[o];
    }
    if (ready > now) {
        st->cycles_lock_wait += ready - now;
        cycles += ready - now;
    }
    if (!write) {
        st->cycles_lock += c->lock_read_cycles;
        cycles += c->lock_read_cycles;
        cycles += touch(e, k, lk->token_line + k, true, st);
    } else {
        for (int o = 0; o < e->cores; o++) {
            st->cycles_lock += c->lock_write_cycles;
            cycles += c->lock_write_cycles;
            cycles += touch(e, k, lk->token_line + o, true, st);
        }
    }
    e->held[l] = write ? 2 : 1;
    return cycles;
}

static void process(struct engine *e, int k, const struct pending *pk, double start)
{
    const struct sim_costs *c = e->c;
    struct sim_core_stats *st = &e->res->core[k];
    const struct port_rt *p = &e->ports[pk->port_index];
    double cycles = c->base_cycles;
    st->cycles_base += c->base_cycles;
    uint64_t flow = pk->flow;
    for (int a = 0; a < p->n_accesses; a++) {
        const struct access_rt *ac = &p->accesses[a];
        const struct object_rt *ob = ac->ob;
        uint64_t h = pk->hash[a];
        if (h == NO_KEY) {
            e->res->skipped_accesses++;
            continue;
        }
        if (ac->once_per_key &&
            flow_set_add(&e->seen, seen_key(ob, k, h)) == 0) {
            e->res->path_skipped++;
            continue;           /* the key exists: this packet takes the other path */
        }
        bool write = ac->write;
        if (ob->lock >= 0 && e->held[ob->lock] < (write ? 2 : 1))
            cycles += lock_take(e, k, ob->lock, write, start + cycles, st);
        st->accesses++;
        st->cycles_state += ac->op_cycles;
        cycles += ac->op_cycles;
        uint64_t row = ob->base + ob->stride * k;     /* row r's first byte */
        for (uint32_t r = 0; r < ob->rows; r++, row += ob->row_bytes) {
            uint64_t entry = row + reduce(r ? mix64(h + r) : h, ob->capacity) * ob->entry_bytes;
            uint64_t last = (entry + ob->entry_bytes - 1) / LINE;
            for (uint64_t line = entry / LINE; line <= last; line++)
                cycles += touch(e, k, line, write, st);
        }
    }
    double end = start + cycles;
    bool wrote = false;
    for (int l = 0; l < e->n_locks; l++) {
        if (!e->held[l])
            continue;
        e->locks[l].reader_end[k] = end;
        if (e->held[l] == 2) {
            e->locks[l].writer_end = end;
            wrote = true;
        }
        e->held[l] = 0;
    }
    st->shared_writes += wrote;
    if (e->windows)
        sim_windows_add(e->windows, k, flow, pk->arrival);
    e->core[k].free_at = end;
    st->busy_cycles += cycles;
    st->packets++;
    st->bytes += pk->wire_len;
    st->wire_bits += sim_wire_bits(pk->wire_len);
    if (flow_set_add(&e->flows, flow_key(flow, k)) == 1)
        st->flows++;
    if (end > e->res->last_done_s)
        e->res->last_done_s = end;     /* in cycles until finish() converts */
}

/* ---- The replay loop ------------------------------------------------------------------ */

/* Recomputes when core k can start the head of its ring (after the ring or
 * the core's free time changed), so picking the next core to run reads one
 * number per core. */
static void update_ready(struct engine *e, int k)
{
    const struct core_rt *cr = &e->core[k];
    if (!cr->count) {
        e->ready[k] = INFINITY;
        return;
    }
    double a = ring_slot(e, cr, cr->head)->arrival;
    e->ready[k] = cr->free_at > a ? cr->free_at : a;
}

static int port_index(const struct engine *e, uint16_t port)
{
    for (int i = 0; i < e->n_ports; i++)
        if (e->ports[i].port == port)
            return i;
    return -1;
}

/* The core that can start its ring's head first (the lowest index on a tie),
 * or -1 when every ring is empty. */
static void pick_core(const struct engine *e, int *best, double *best_t)
{
    *best = -1;
    *best_t = INFINITY;
    for (int k = 0; k < e->cores; k++) {
        /* Without a branch: which core is next is data, not a pattern the
         * host's branch predictor could learn. */
        double r = e->ready[k];
        bool earlier = r < *best_t;
        *best = earlier ? k : *best;
        *best_t = earlier ? r : *best_t;
    }
}

static void finish(struct engine *e, const struct sim_options *o, double port_bits[],
                   double pcie_bytes)
{
    struct sim_result *r = e->res;
    const struct sim_costs *c = e->c;
    double hz = c->ghz * 1e9;
    r->cores = e->cores;
    r->reta_round_robin = e->reta_round_robin;
    r->reta_balanced = e->reta_balanced;
    uint64_t maxp = 0;
    double max_busy = -1;
    for (int k = 0; k < e->cores; k++) {
        struct sim_core_stats *st = &r->core[k];
        r->processed += st->packets;
        r->drops += st->drops;
        if (st->packets > maxp)
            maxp = st->packets;
        if (st->busy_cycles > max_busy) {
            max_busy = st->busy_cycles;
            r->busiest_core = k;
        }
    }
    double mean = (double)r->processed / e->cores;
    r->imbalance = mean > 0 ? maxp / mean : 0;
    r->busiest_share = r->processed ? (double)maxp / r->processed : 0;
    for (int k = 0; k < e->cores; k++)
        r->shared_writes += r->core[k].shared_writes;
    r->shared_write_share = r->processed ? (double)r->shared_writes / r->processed : 0;
    r->window_core = -1;
    if (e->windows)
        sim_windows_finish(e->windows, r);
    if (!e->rss_only) {
        r->last_done_s /= hz;
        r->duration_s = r->last_done_s - r->first_arrival_s;
        r->offered_pps = r->last_arrival_s > r->first_arrival_s
                       ? (r->offered - 1) / (r->last_arrival_s - r->first_arrival_s) : 0;
        uint64_t bytes = 0;
        double bits = 0;
        for (int k = 0; k < e->cores; k++) {
            bytes += r->core[k].bytes;
            bits += r->core[k].wire_bits;
        }
        if (r->duration_s > 0) {
            r->mpps = r->processed / r->duration_s / 1e6;
            r->gbps = bytes * 8.0 / r->duration_s / 1e9;
            r->gbps_wire = bits / r->duration_s / 1e9;
        }
        r->core_limit_pps = INFINITY;
        for (int k = 0; k < e->cores; k++) {
            const struct sim_core_stats *st = &r->core[k];
            if (!st->packets)
                continue;
            double per_core = hz / (st->busy_cycles / st->packets);
            double limit = per_core * r->processed / st->packets;
            if (limit < r->core_limit_pps)
                r->core_limit_pps = limit;
        }
    }
    double max_port_bits = 0;
    for (int i = 0; i < DEPS_MAX_PORTS; i++)
        if (port_bits[i] > max_port_bits)
            max_port_bits = port_bits[i];
    r->nic_limit_pps = max_port_bits > 0 ? c->nic_gbps * 1e9 / (max_port_bits / r->offered)
                                         : INFINITY;
    r->pcie_limit_pps = pcie_bytes > 0 ? c->pcie_gbps * 1e9 / (pcie_bytes * 8 / r->offered)
                                       : INFINITY;
    r->wire_bits = 0;
    for (int i = 0; i < DEPS_MAX_PORTS; i++)
        r->wire_bits += port_bits[i];
    r->first_drop_s = r->first_drop_packet ? r->first_drop_s / hz - r->first_arrival_s : 0;
    if (e->rss_only) {
        r->bottleneck = "n/a (--rss-only)";
        return;
    }
    /* The drops first (what lost packets), the limits only without them. */
    r->cause = sim_explain(r, c, r->offered_pps, &r->cause_core, r->bottleneck_buf,
                           sizeof r->bottleneck_buf);
    r->bottleneck = r->bottleneck_buf;
    (void)o;
}

/* ---- The front end: reading, hashing, pacing ------------------------------------------- */

/* The front end reads packets from the source, assigns each its port's RSS
 * core, its arrival time and its key hashes, and hands them to the event
 * loop in batches, in arrival order. It touches nothing the event loop
 * writes, so on a host with two or more CPUs it runs in a thread of its own
 * (a pipeline: the next batch is read while this one is simulated); results
 * are the same either way.
 *
 * Balance: when the event loop is waiting for packets (few batches queued),
 * the front end sends "raw" batches, which carry each packet's tuple instead
 * of its flow identity and key hashes; the event loop computes those itself
 * (arrivals_hash). Either thread computing them gives the same values, so
 * the split only moves work to whichever side has time for it. */
#define BATCH_PACKETS 256
#define QUEUE_BATCHES 16

struct batch {
    _Alignas(64) unsigned char *records;    /* BATCH_PACKETS records of record_bytes */
    uint32_t count;
    bool last;                  /* no batch follows (end of trace or error) */
    bool raw;                   /* records carry tuples, not flow ids and key hashes */
};

struct front {
    _Alignas(64) const struct engine *e;    /* read only: ports, RETAs, pending_bytes */
    const struct sim_options *o;
    const struct sim_costs *c;
    struct sim_source *src;
    uint64_t *values;           /* key_hashes' scratch */
    bool progress;
    struct util_progress prog;
    /* pacing */
    uint64_t nread, t0_ns;
    double bits_so_far, last_arrival;
    /* what the NIC saw, merged into the result by finish */
    uint64_t offered, wire_bytes, no_hash;
    double port_bits[DEPS_MAX_PORTS], pcie_bytes;
    double first_arrival_s, last_arrival_s;
    /* --rss-only: the per-core counts, no records */
    uint64_t rss_packets[SIM_MAX_CORES], rss_bytes[SIM_MAX_CORES];
    bool done;
    int rc;
    struct util_error err;
};

/* The tuple a raw batch's record carries after its pending. */
static struct trace_tuple *record_tuple(const struct engine *e, struct pending *pk)
{
    return (struct trace_tuple *)((unsigned char *)pk + e->pending_bytes);
}

/* Reads the next packet into pk (unless --rss-only): hashed, or with its
 * tuple stored for the event loop to hash when raw. Returns 1, 0 at the
 * end, or -1 with f->rc and f->err set. */
static int front_next(struct front *f, struct pending *pk, bool raw)
{
    const struct engine *e = f->e;
    const struct sim_options *o = f->o;
    if (o->limit && f->nread >= o->limit)
        return 0;
    struct trace_packet pkt;
    int got = f->src->next(f->src->ctx, &pkt, &f->err);
    if (got <= 0) {
        if (got < 0)
            f->rc = UTIL_EXIT_INPUT;
        return got;
    }
    int pi = port_index(e, pkt.port);
    if (pi < 0) {
        util_error_set(&f->err, "packet %llu arrives on port %u, but the plan configures "
                       "only %d port(s) (assign ports with --lan or --port N=FILE)",
                       (unsigned long long)f->nread + 1, pkt.port, e->n_ports);
        f->rc = UTIL_EXIT_INPUT;
        return -1;
    }
    uint32_t h = rss_port_hasher_hash(e->ports[pi].hasher, &pkt.tuple);
    if (!h)
        f->no_hash++;
    int core = e->ports[pi].reta[h & e->ports[pi].reta_mask];
    f->offered++;
    f->wire_bytes += pkt.wire_len;
    f->port_bits[pi] += sim_wire_bits(pkt.wire_len);
    f->pcie_bytes += pkt.wire_len + f->c->pcie_overhead_bytes;
    f->nread++;
    if (f->progress && f->src->offset && (f->nread & 0xffff) == 0)
        util_progress_update(&f->prog, f->src->offset(f->src->ctx));
    if (e->rss_only) {
        f->rss_packets[core]++;
        f->rss_bytes[core] += pkt.wire_len;
        return 1;
    }
    double t;
    if (f->nread == 1)
        f->t0_ns = pkt.time_ns;
    if (o->pacing == SIM_PACE_PPS) {
        t = (f->nread - 1) / o->rate;
    } else if (o->pacing == SIM_PACE_GBPS) {
        t = f->bits_so_far / (o->rate * 1e9);
        f->bits_so_far += sim_wire_bits(pkt.wire_len);
    } else {
        double ns = pkt.time_ns >= f->t0_ns ? (double)(pkt.time_ns - f->t0_ns) : 0;
        t = ns * 1e-9 / (o->rate > 0 ? o->rate : 1);
    }
    if (t < f->last_arrival)
        t = f->last_arrival;
    f->last_arrival = t;
    if (f->nread == 1)
        f->first_arrival_s = t;
    f->last_arrival_s = t;
    pk->arrival = t * (f->c->ghz * 1e9);   /* cycles */
    pk->wire_len = pkt.wire_len;
    pk->port_index = (uint16_t)pi;
    pk->core = (uint16_t)core;
    if (raw) {
        *record_tuple(e, pk) = pkt.tuple;
        return 1;
    }
    pk->flow = flow_id(&pkt.tuple);
    key_hashes(e, pk, &pkt.tuple, f->values);
    return 1;
}

/* Fills b with the next packets (raw: not hashed); marks it last at the end
 * or on an error. */
static void front_fill(struct front *f, struct batch *b, bool raw)
{
    uint32_t count = 0;         /* b's fields are written once, at the end */
    size_t bytes = raw ? f->e->record_bytes : f->e->pending_bytes;
    bool keep = !f->e->rss_only;
    while (!f->done && count < BATCH_PACKETS) {
        struct pending *pk = (struct pending *)(b->records + count * bytes);
        /* The event loop's core read these lines last: ask for them early. */
        if (count + 4 < BATCH_PACKETS)
            __builtin_prefetch(b->records + (count + 4) * bytes, 1);
        if (front_next(f, pk, raw) <= 0)
            f->done = true;
        else
            count += keep;
    }
    b->count = count;
    b->last = f->done;
    b->raw = raw;
}

/* Batches between the front end and the event loop: a single-producer,
 * single-consumer ring. `filled` and `emptied` count batches; each side
 * writes only its own counter (release) and reads the other's (acquire). */
struct pipeline {
    struct batch batches[QUEUE_BATCHES];
    _Alignas(64) _Atomic uint64_t filled;       /* each counter on a line of its own */
    _Alignas(64) _Atomic uint64_t emptied;
    _Alignas(64) struct front *front;
    bool threaded;
    pthread_t thread;
};

/* Waits for the other side: spins briefly (a batch takes microseconds),
 * then yields the CPU, so a host busy with other work is not starved. */
static void pipeline_wait(unsigned *spins)
{
    if (++*spins < 2000) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
        return;
    }
    sched_yield();
}

static void *front_thread(void *arg)
{
    struct pipeline *pl = arg;
    for (bool last = false; !last;) {
        uint64_t n = atomic_load_explicit(&pl->filled, memory_order_relaxed);
        uint64_t queued;
        unsigned spins = 0;
        while ((queued = n - atomic_load_explicit(&pl->emptied, memory_order_acquire)) ==
               QUEUE_BATCHES)
            pipeline_wait(&spins);
        struct batch *b = &pl->batches[n % QUEUE_BATCHES];
        /* The event loop is about to wait for packets: leave it the hashing. */
        front_fill(pl->front, b, queued <= QUEUE_BATCHES / 4);
        last = b->last;
        atomic_store_explicit(&pl->filled, n + 1, memory_order_release);
    }
    return NULL;
}

/* The next batch for the event loop (the previous one is done with). */
static struct batch *pipeline_next(struct pipeline *pl)
{
    uint64_t n = atomic_load_explicit(&pl->emptied, memory_order_relaxed);
    struct batch *b = &pl->batches[n % QUEUE_BATCHES];
    if (!pl->threaded) {
        front_fill(pl->front, b, false);
        return b;
    }
    unsigned spins = 0;
    while (atomic_load_explicit(&pl->filled, memory_order_acquire) == n)
        pipeline_wait(&spins);
    return b;
}

static void pipeline_release(struct pipeline *pl)
{
    atomic_fetch_add_explicit(&pl->emptied, 1, memory_order_release);
}

/* Whether to run the front end in its own thread: asked for, or (0) when
 * the host has a second CPU. */
static bool use_thread(const struct sim_options *o)
{
    if (o->threads == 1 || o->rss_only)
        return false;
    if (o->threads >= 2)
        return true;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus >= 2;
}

/* ---- The event loop ----------------------------------------------------------------------- */

/* The arrivals, in order, from the pipeline's batches. */
struct arrivals {
    struct pipeline *pl;
    struct batch *b;            /* current batch, or NULL at the end */
    unsigned char *records;     /* b's, and its count and flags */
    size_t stride;              /* record_bytes when raw, else pending_bytes */
    uint32_t index, count;
    bool last, raw;
};

static struct pending *arrival_at(const struct arrivals *a, uint32_t i)
{
    return (struct pending *)(a->records + (size_t)i * a->stride);
}

/* Readies arrival i for processing, a few arrivals ahead of its use: its
 * flow identity and key hashes when its batch came raw, then the host
 * prefetches of what it will touch. */
static void arrival_prepare(struct engine *e, const struct arrivals *a, uint32_t i)
{
    struct pending *pk = arrival_at(a, i);
    if (a->raw) {
        const struct trace_tuple *t = record_tuple(e, pk);
        pk->flow = flow_id(t);
        key_hashes(e, pk, t, e->values);
    }
    prefetch_pending(e, pk);
}

/* Moves to the next non-empty batch (or the end), prefetching its first
 * packets' state. */
static void arrivals_next_batch(struct engine *e, struct arrivals *a)
{
    for (;;) {
        struct batch *b = pipeline_next(a->pl);
        a->b = b;
        a->records = b->records;
        a->count = b->count;
        a->last = b->last;
        a->raw = b->raw;
        a->stride = b->raw ? e->record_bytes : e->pending_bytes;
        a->index = 0;
        if (a->count) {
            for (uint32_t i = 0; i < a->count && i < LOOKAHEAD; i++)
                arrival_prepare(e, a, i);
            return;
        }
        pipeline_release(a->pl);
        if (a->last) {
            a->b = NULL;
            return;
        }
    }
}

static const struct pending *arrivals_peek(const struct arrivals *a)
{
    return a->b ? arrival_at(a, a->index) : NULL;
}

static void arrivals_pop(struct engine *e, struct arrivals *a)
{
    if (a->index + LOOKAHEAD < a->count)
        arrival_prepare(e, a, a->index + LOOKAHEAD);
    if (++a->index < a->count)
        return;
    pipeline_release(a->pl);
    if (a->last)
        a->b = NULL;
    else
        arrivals_next_batch(e, a);
}

/* Runs arrivals and core services in global time order until both end. */
static void event_loop(struct engine *e, struct arrivals *in)
{
    const struct sim_costs *c = e->c;
    /* The core that starts its next packet first: kept across arrivals,
     * which change at most one core's start time; searched again after a
     * core ran a packet. */
    int best = -1;
    double best_t = INFINITY;
    bool rescan = true;
    for (;;) {
        if (rescan) {
            pick_core(e, &best, &best_t);
            rescan = false;
        }
        const struct pending *next = arrivals_peek(in);
        if (next && (best < 0 || next->arrival <= best_t)) {
            struct core_rt *cr = &e->core[next->core];
            e->arrived++;
            if (cr->count == c->ring_size) {
                e->res->core[next->core].drops++;
                if (!e->res->first_drop_packet) {
                    /* seconds once finish() knows the first arrival */
                    e->res->first_drop_packet = e->arrived;
                    e->res->first_drop_core = next->core;
                    e->res->first_drop_s = next->arrival;
                    /* What the core had done by then: its cost so far (cold
                     * caches, new flows) against the run's tells a warm-up
                     * from a burst (sim_explain). */
                    e->res->first_drop_busy = e->res->core[next->core].busy_cycles;
                    e->res->first_drop_done = e->res->core[next->core].packets;
                }
            } else {
                uint32_t tail = cr->head + cr->count;
                if (tail >= c->ring_size)
                    tail -= c->ring_size;
                memcpy(ring_slot(e, cr, tail), next, e->pending_bytes);
                if (cr->count++ == 0) {
                    /* Only this core's start time changed (it was idle):
                     * it becomes the next core if it starts first. */
                    int k = next->core;
                    update_ready(e, k);
                    if (e->ready[k] < best_t || (e->ready[k] == best_t && k < best)) {
                        best = k;
                        best_t = e->ready[k];
                    }
                }
            }
            arrivals_pop(e, in);
        } else if (best >= 0) {
            struct core_rt *cr = &e->core[best];
            const struct pending *pk = ring_slot(e, cr, cr->head);
            if (++cr->head == c->ring_size)
                cr->head = 0;
            cr->count--;
            process(e, best, pk, best_t);
            update_ready(e, best);
            rescan = true;
        } else {
            break;
        }
    }
}

static int run(const struct rss_plan *plan, const struct sim_costs *costs,
               const struct sim_options *o, struct sim_source *src, struct sim_result *out,
               struct sim_trace_sink *sink, struct util_error *err)
{
    memset(out, 0, sizeof *out);
    /* --fold synth on another core count: the RETA synth would make. */
    uint16_t synth_reta[RSS_RETA_MAX];
    bool balanced = false, synth = false;
    int cores = o->cores ? o->cores : plan->cores;
    if (o->fold == SIM_FOLD_SYNTH && cores != plan->cores && plan->n_ports > 0 &&
        cores >= 1 && cores <= SIM_MAX_CORES) {
        int rc = sim_synth_reta(plan, src, o->limit, cores, synth_reta, &balanced, err);
        if (rc)
            return rc;
        synth = true;
    }
    struct engine e;
    int rc = engine_init(&e, plan, costs, o, synth ? synth_reta : NULL, balanced, err);
    if (rc) {
        engine_free(&e);
        return rc;
    }
    e.res = out;
    e.sink = sink;
    /* Line-aligned: the two threads write them (struct front, the
     * pipeline's counters) and must not share a line by accident. */
    struct front *f = sim_table_alloc(sizeof *f);
    struct pipeline *pl = sim_table_alloc(sizeof *pl);
    unsigned char *records = malloc(QUEUE_BATCHES * BATCH_PACKETS * e.record_bytes);
    uint64_t *values = calloc(1 + (size_t)e.max_loads, sizeof *values);
    if (!f || !pl || !records || !values) {
        util_error_set(err, "out of memory");
        rc = UTIL_EXIT_FAILURE;
        goto out;
    }
    f->e = &e;
    f->o = o;
    f->c = costs;
    f->src = src;
    f->values = values;
    f->progress = o->progress && src->size;
    if (f->progress)
        util_progress_start(&f->prog, o->rss_only ? "rss replay" : "simulating",
                            src->size(src->ctx));
    for (int i = 0; i < QUEUE_BATCHES; i++)
        pl->batches[i].records = records + (size_t)i * BATCH_PACKETS * e.record_bytes;
    atomic_init(&pl->filled, 0);
    atomic_init(&pl->emptied, 0);
    pl->front = f;
    pl->threaded = use_thread(o) && pthread_create(&pl->thread, NULL, front_thread, pl) == 0;
    if (e.rss_only) {
        while (!f->done)
            front_fill(f, &pl->batches[0], false);
    } else {
        struct arrivals in = {.pl = pl};
        arrivals_next_batch(&e, &in);
        event_loop(&e, &in);
    }
    if (pl->threaded)
        pthread_join(pl->thread, NULL);
    if (f->progress)
        util_progress_finish(&f->prog);
    rc = f->rc;
    if (rc) {
        *err = f->err;
        goto out;
    }
    out->offered = f->offered;
    out->wire_bytes = f->wire_bytes;
    out->no_hash = f->no_hash;
    out->first_arrival_s = f->first_arrival_s;
    out->last_arrival_s = f->last_arrival_s;
    if (e.rss_only) {
        for (int k = 0; k < e.cores; k++) {
            out->core[k].packets = f->rss_packets[k];
            out->core[k].bytes = f->rss_bytes[k];
        }
    }
    finish(&e, o, f->port_bits, f->pcie_bytes);
out:
    free(values);
    free(records);
    free(pl);
    free(f);
    engine_free(&e);
    return rc;
}

void sim_options_default(struct sim_options *o)
{
    memset(o, 0, sizeof *o);
    o->pacing = SIM_PACE_TRACE;
    o->rate = 1;
    o->fold = SIM_FOLD_PLAN;
}

int sim_run(const struct rss_plan *plan, const struct sim_costs *costs,
            const struct sim_options *opts, struct sim_source *src,
            struct sim_result *out, struct util_error *err)
{
    return run(plan, costs, opts, src, out, NULL, err);
}

int sim_export_stream(const struct rss_plan *plan, const struct sim_costs *costs,
                      struct sim_source *src, struct sim_trace_sink *sink,
                      struct util_error *err)
{
    struct sim_options o;
    sim_options_default(&o);
    o.cores = 1;
    struct sim_result *r = malloc(sizeof *r);
    if (!r) {
        util_error_set(err, "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    int rc = run(plan, costs, &o, src, r, sink, err);
    free(r);
    return rc;
}

void sim_trace_sink_free(struct sim_trace_sink *s)
{
    free(s->addrs);
    free(s->is_write);
    memset(s, 0, sizeof *s);
}

/* ---- In-memory source ---------------------------------------------------------------------- */

static int array_next(void *ctx, struct trace_packet *pkt, struct util_error *err)
{
    (void)err;
    struct sim_array_source *a = ctx;
    if (a->next_index >= a->count)
        return 0;
    *pkt = a->packets[a->next_index++];
    return 1;
}

static int array_rewind(void *ctx, struct util_error *err)
{
    (void)err;
    ((struct sim_array_source *)ctx)->next_index = 0;
    return 0;
}

void sim_array_source_init(struct sim_source *src, struct sim_array_source *ctx,
                           const struct trace_packet *packets, uint64_t count)
{
    ctx->packets = packets;
    ctx->count = count;
    ctx->next_index = 0;
    memset(src, 0, sizeof *src);
    src->ctx = ctx;
    src->next = array_next;
    src->rewind = array_rewind;
}
