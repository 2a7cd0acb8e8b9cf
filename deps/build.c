/*
 * build.c - from the lifted NF (struct ir_nf) to the per-object plan
 * (struct deps_plan): groups of objects partitioned together (union-find),
 * each access's key resolved through state-feeds-key edges, one decision per
 * group, then one NF-wide check that the sharded groups' keys agree (groups
 * that do not fit are shared: a mixed plan). The rules and why each is sound
 * are in docs/analysis.md ("Decision rules", "Soundness").
 */
#include "deps/deps.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RKEY_MAX 32         /* resolved parts of one key (after inheritance) */
#define MAX_COLUMNS 16

/* ---- Resolved keys -------------------------------------------------------- */

enum key_class {
    KEY_FREE,       /* no entry chosen by the packet: alloc new/expire, a fresh index */
    KEY_WHOLE,      /* the whole object: counters, sketch reset, constant keys */
    KEY_PARTS       /* an entry chosen by the parts below */
};

/* One part of a key after inheritance: a header field RSS can hash, or
 * something it cannot (described in `what`). */
struct rpart {
    bool hashable;
    struct ir_field field;
    char what[256];
};

struct rkey {
    enum key_class cls;
    int keyspace;           /* object whose key space this is (after inheritance) */
    int count;
    struct rpart parts[RKEY_MAX];
};

/* A candidate sharding column: the field at one key position on each port
 * (position i on port p corresponds to position i on port q). */
struct column {
    bool has[DEPS_MAX_PORTS];
    enum ir_field_id id[DEPS_MAX_PORTS];
    uint8_t prefix;         /* 0 = whole field, else leading bits (coarsest wins) */
};

struct group {
    int root;               /* union-find root object */
    int n_objects;
    bool accessed, written, only_counters;
    bool counter_read;      /* some counter of the group is read per packet */
    bool written_on[DEPS_MAX_PORTS];
    bool keyed_on[DEPS_MAX_PORTS];
    int n_keyed;            /* keyed accesses (priority in the NF-wide merge) */
    int whole_write, whole_read;    /* an access index, or -1 */
    int first_write;        /* an access index, or -1 */
    /* decision */
    bool decided;
    enum deps_decision decision;
    char reason[DEPS_REASON_MAX];
    int n_columns;
    struct column columns[MAX_COLUMNS];
};

/* Everything the build works on; freed at the end of deps_plan_build. */
struct builder {
    const struct ir_nf *nf;
    struct deps_options opts;
    int n_ports;
    int *parent;            /* union-find over objects */
    int *group_of;          /* object -> index into groups */
    struct group *groups;
    int n_groups;
    struct rkey *keys;      /* per access */
    int *resolving;         /* per access: 0 new, 1 in progress, 2 done */
    bool *index_map;        /* per object: a map an allocator's expire cleans */
    int *group_first;       /* group g's accesses are group_accesses[group_first[g] .. */
    int *group_accesses;    /*   group_first[g + 1] - 1], in access order */
    char **warnings;
    int n_warnings;
};

/* ---- Small helpers ----------------------------------------------------------- */

static void append(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t size, const char *fmt, ...)
{
    size_t len = strlen(buf);
    if (len + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, size - len, fmt, ap);
    va_end(ap);
}

/* snprintf that truncates silently: reasons and descriptions have fixed room. */
static void set_text(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_text(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, size, fmt, ap);
    va_end(ap);
}

static void add_warning(struct builder *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void add_warning(struct builder *b, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    char **grown = realloc(b->warnings, (size_t)(b->n_warnings + 1) * sizeof *grown);
    if (!grown)
        return;
    b->warnings = grown;
    b->warnings[b->n_warnings] = strdup(text);
    if (b->warnings[b->n_warnings])
        b->n_warnings++;
}

/* "fw.c:42" or "nf_process" or "an unknown line". */
static const char *where_text(const struct ir_location *loc, char *buf, size_t size)
{
    if (loc->file[0] && loc->line > 0) {
        const char *base = strrchr(loc->file, '/');
        set_text(buf, size, "%s:%d", base ? base + 1 : loc->file, loc->line);
    } else if (loc->function[0]) {
        set_text(buf, size, "%s (no line information)", loc->function);
    } else {
        set_text(buf, size, "an unknown line");
    }
    return buf;
}

static const char *field_text(struct ir_field f, char *buf, size_t size)
{
    return ir_field_format(f, buf, (unsigned)size);
}

static uint8_t normal_prefix(struct ir_field f)
{
    unsigned bits = ir_field_bits(f.id);
    return f.prefix == 0 || f.prefix >= bits ? 0 : f.prefix;
}

/* The coarser of two prefixes (0 = whole field). */
static uint8_t coarser(uint8_t a, uint8_t b)
{
    if (a == 0)
        return b;
    if (b == 0)
        return a;
    return a < b ? a : b;
}

static bool api_writes(enum ir_api api)
{
    switch (api) {
    case IR_API_MAP_PUT: case IR_API_MAP_ERASE: case IR_API_VECTOR_WRITE:
    case IR_API_ALLOC_NEW: case IR_API_ALLOC_REFRESH: case IR_API_ALLOC_FREE:
    case IR_API_ALLOC_EXPIRE: case IR_API_SKETCH_ADD: case IR_API_SKETCH_RESET:
    case IR_API_COUNTER_ADD:
        return true;
    default:
        return false;
    }
}

/* APIs whose key is an index handed out by a map value or an allocator. */
static bool api_indexed(enum ir_api api)
{
    switch (api) {
    case IR_API_VECTOR_READ: case IR_API_VECTOR_WRITE: case IR_API_ALLOC_REFRESH:
    case IR_API_ALLOC_IS_ALLOCATED: case IR_API_ALLOC_FREE:
        return true;
    default:
        return false;
    }
}

static const char *api_name(enum ir_api api)
{
    static const char *const names[] = {
        "nf_map_get", "nf_map_put", "nf_map_erase", "nf_vector_read", "nf_vector_write",
        "nf_alloc_new", "nf_alloc_refresh", "nf_alloc_is_allocated", "nf_alloc_free",
        "nf_alloc_expire", "nf_sketch_add", "nf_sketch_estimate", "nf_sketch_reset",
        "nf_chash_lookup", "nf_counter_add", "nf_counter_read"};
    return (unsigned)api < sizeof names / sizeof names[0] ? names[api] : "a state call";
}

static enum deps_op api_op(enum ir_api api)
{
    switch (api) {
    case IR_API_ALLOC_NEW: return DEPS_OP_ALLOCATE;
    case IR_API_ALLOC_REFRESH: return DEPS_OP_REFRESH;
    case IR_API_ALLOC_FREE: return DEPS_OP_FREE;
    case IR_API_ALLOC_EXPIRE: return DEPS_OP_EXPIRE;
    default: return api_writes(api) ? DEPS_OP_WRITE : DEPS_OP_READ;
    }
}

static enum deps_object_kind object_kind(enum ir_object_kind k)
{
    switch (k) {
    case IR_OBJ_MAP: return DEPS_KIND_MAP;
    case IR_OBJ_VECTOR: return DEPS_KIND_VECTOR;
    case IR_OBJ_ALLOC: return DEPS_KIND_ALLOC;
    case IR_OBJ_SKETCH: return DEPS_KIND_SKETCH;
    case IR_OBJ_CHASH: return DEPS_KIND_CHASH;
    default: return DEPS_KIND_COUNTER;
    }
}

static bool valid_object(const struct ir_nf *nf, int o)
{
    return o >= 0 && o < nf->n_objects;
}

static bool valid_access(const struct ir_nf *nf, int a)
{
    return a >= 0 && a < nf->n_accesses;
}

static bool valid_port(const struct builder *b, int p)
{
    return p >= 0 && p < b->n_ports;
}

/* ---- Groups (union-find) -------------------------------------------------- */

static int find_root(int *parent, int x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

static void unite(int *parent, int a, int b)
{
    int ra = find_root(parent, a), rb = find_root(parent, b);
    if (ra == rb)
        return;
    if (ra < rb)
        parent[rb] = ra;
    else
        parent[ra] = rb;
}

/* Objects partitioned together: an index handed out by one object (a map
 * value, an allocated index) used as the index of another, and an
 * allocator's expire with the map and key vector it cleans. A chash's alive
 * allocator is NOT joined: the lookup reads it whole (see decide_group). */
static void build_groups(struct builder *b)
{
    const struct ir_nf *nf = b->nf;
    for (int i = 0; i < nf->n_objects; i++)
        b->parent[i] = i;
    for (int i = 0; i < nf->n_accesses; i++) {
        const struct ir_access *a = &nf->accesses[i];
        if (!valid_object(nf, a->object))
            continue;
        if (a->api == IR_API_ALLOC_EXPIRE)
            for (int r = 0; r < 2; r++)
                if (valid_object(nf, a->related[r]))
                    unite(b->parent, a->object, a->related[r]);
        if (!api_indexed(a->api))
            continue;
        for (int k = 0; k < a->key.count && k < IR_KEY_MAX_PARTS; k++) {
            const struct ir_key_part *part = &a->key.parts[k];
            if (part->field.id != IR_FIELD_STATE || !valid_access(nf, part->from_access))
                continue;
            const struct ir_access *src = &nf->accesses[part->from_access];
            if ((src->api == IR_API_MAP_GET || src->api == IR_API_ALLOC_NEW) &&
                valid_object(nf, src->object))
                unite(b->parent, a->object, src->object);
        }
    }
    b->n_groups = 0;
    for (int i = 0; i < nf->n_objects; i++) {
        int root = find_root(b->parent, i);
        if (root == i) {
            struct group *g = &b->groups[b->n_groups];
            memset(g, 0, sizeof *g);
            g->root = i;
            g->whole_write = g->whole_read = g->first_write = -1;
            g->only_counters = true;
            b->group_of[i] = b->n_groups++;
        } else {
            b->group_of[i] = b->group_of[root];
        }
        struct group *g = &b->groups[b->group_of[i]];
        g->n_objects++;
        if (nf->objects[i].kind != IR_OBJ_COUNTER)
            g->only_counters = false;
    }
}

/* Per-group access lists, so group-level passes are not quadratic in the
 * whole NF. Returns false when out of memory. */
static bool index_group_accesses(struct builder *b)
{
    const struct ir_nf *nf = b->nf;
    b->group_first = calloc((size_t)b->n_groups + 1, sizeof *b->group_first);
    b->group_accesses = calloc((size_t)(nf->n_accesses ? nf->n_accesses : 1),
                               sizeof *b->group_accesses);
    if (!b->group_first || !b->group_accesses)
        return false;
    for (int i = 0; i < nf->n_accesses; i++)
        b->group_first[b->group_of[nf->accesses[i].object] + 1]++;
    for (int g = 0; g < b->n_groups; g++)
        b->group_first[g + 1] += b->group_first[g];
    int *fill = calloc((size_t)b->n_groups + 1, sizeof *fill);
    if (!fill)
        return false;
    for (int i = 0; i < nf->n_accesses; i++) {
        int g = b->group_of[nf->accesses[i].object];
        b->group_accesses[b->group_first[g] + fill[g]++] = i;
    }
    free(fill);
    return true;
}

static int group_of_access(const struct builder *b, int access)
{
    int o = b->nf->accesses[access].object;
    return valid_object(b->nf, o) ? b->group_of[o] : -1;
}

/* ---- Resolving keys --------------------------------------------------------- */

static void describe_unhashable(const struct builder *b, const struct ir_key_part *part,
                                struct rpart *out)
{
    char buf[48];
    out->hashable = false;
    out->field = part->field;
    switch (part->field.id) {
    case IR_FIELD_ETH_SRC: case IR_FIELD_ETH_DST:
        set_text(out->what, sizeof out->what, "%s (a MAC address)",
                 field_text(part->field, buf, sizeof buf));
        break;
    case IR_FIELD_IP_PROTO:
        set_text(out->what, sizeof out->what, "ip.proto");
        break;
    case IR_FIELD_OTHER_HEADER:
        set_text(out->what, sizeof out->what, "L%u header bytes at offset %u",
                 (unsigned)part->layer, (unsigned)part->offset);
        break;
    case IR_FIELD_INPUT_PORT:
        set_text(out->what, sizeof out->what, "the input port");
        break;
    case IR_FIELD_TIME:
        set_text(out->what, sizeof out->what, "the arrival time");
        break;
    case IR_FIELD_STATE:
        if (valid_access(b->nf, part->from_access) &&
            valid_object(b->nf, b->nf->accesses[part->from_access].object))
            set_text(out->what, sizeof out->what, "a value read from %s",
                     b->nf->objects[b->nf->accesses[part->from_access].object].name);
        else
            set_text(out->what, sizeof out->what, "a value read from state");
        break;
    default:
        /* Header bits lost to arithmetic: which field, where, and what to do. */
        if (part->field.id == IR_FIELD_UNKNOWN && part->derived > 0 &&
            part->derived <= b->nf->n_derivations) {
            const struct ir_derivation *d = &b->nf->derivations[part->derived - 1];
            char loc[160], also[56] = "";
            if (d->field.id == IR_FIELD_OTHER_HEADER)
                set_text(buf, sizeof buf, "L%u header bytes at offset %u", (unsigned)d->layer,
                         (unsigned)d->offset);
            else
                field_text(d->field, buf, sizeof buf);
            if (d->also.id == IR_FIELD_OTHER_HEADER)
                set_text(also, sizeof also, " and other header bytes");
            else if (d->also.id != IR_FIELD_UNKNOWN)
                set_text(also, sizeof also, " and %s", field_text(d->also, loc, sizeof loc));
            set_text(out->what, sizeof out->what, "a value computed from %s%s by %s at %s "
                     "(its bits are not bits of %s: no RSS key sends the packets that share an "
                     "entry to one core; to shard it, key it by the field or a mask/shift of "
                     "it)", buf, also, d->op, where_text(&d->where, loc, sizeof loc),
                     also[0] ? "one field" : "the field");
            break;
        }
        set_text(out->what, sizeof out->what, "a value the analysis could not describe");
        break;
    }
}

static void push_part(struct rkey *key, const struct rpart *part)
{
    if (key->count < RKEY_MAX)
        key->parts[key->count++] = *part;
}

static const struct rkey *resolve(struct builder *b, int i);

/* The key of access i in terms of packet fields: header fields as they are, a
 * value read from the same group replaced by the key of the access that read
 * it (vector index = map value inherits the map key), a freshly allocated
 * index makes the access KEY_FREE, a value from another group is a part RSS
 * cannot hash. */
static void resolve_into(struct builder *b, int i, struct rkey *out)
{
    const struct ir_nf *nf = b->nf;
    const struct ir_access *a = &nf->accesses[i];
    memset(out, 0, sizeof *out);
    out->keyspace = a->object;
    switch (a->api) {
    case IR_API_ALLOC_NEW: case IR_API_ALLOC_EXPIRE:
        out->cls = KEY_FREE;
        return;
    case IR_API_SKETCH_RESET: case IR_API_COUNTER_ADD: case IR_API_COUNTER_READ:
        out->cls = KEY_WHOLE;
        return;
    default:
        break;
    }
    out->cls = KEY_PARTS;
    int my_group = group_of_access(b, i);
    bool fresh = false;
    for (int k = 0; k < a->key.count && k < IR_KEY_MAX_PARTS; k++) {
        const struct ir_key_part *part = &a->key.parts[k];
        struct rpart rp;
        memset(&rp, 0, sizeof rp);
        if (part->field.id == IR_FIELD_CONSTANT)
            continue;
        if (ir_field_hashable(part->field.id)) {
            rp.hashable = true;
            rp.field = part->field;
            rp.field.prefix = normal_prefix(part->field);
            push_part(out, &rp);
            continue;
        }
        if (part->field.id == IR_FIELD_STATE && valid_access(nf, part->from_access) &&
            part->from_access != i && group_of_access(b, part->from_access) == my_group) {
            const struct ir_access *src = &nf->accesses[part->from_access];
            if (src->api == IR_API_ALLOC_NEW) {
                fresh = true;
                continue;
            }
            /* A map's value names one entry per key only in the allocator
             * pattern (expire cleans the map: map[keys[i]] == i); otherwise
             * several keys may share a value, and so an entry. */
            const struct rkey *up = src->api == IR_API_MAP_GET && !b->index_map[src->object]
                                        ? NULL : resolve(b, part->from_access);
            if (up && up->cls == KEY_PARTS) {
                for (int j = 0; j < up->count; j++)
                    push_part(out, &up->parts[j]);
                out->keyspace = up->keyspace;
                continue;
            }
            if (up && up->cls == KEY_FREE) {
                fresh = true;
                continue;
            }
        }
        describe_unhashable(b, part, &rp);
        if (part->field.id == IR_FIELD_STATE && valid_access(nf, part->from_access) &&
            nf->accesses[part->from_access].api == IR_API_MAP_GET &&
            !b->index_map[nf->accesses[part->from_access].object])
            set_text(rp.what, sizeof rp.what, "a value of %s (not one index per key)",
                     nf->objects[nf->accesses[part->from_access].object].name);
        push_part(out, &rp);
    }
    if (out->count == 0)
        out->cls = fresh ? KEY_FREE : KEY_WHOLE;
    else if (fresh)
        out->keyspace = a->object;
}

static const struct rkey *resolve(struct builder *b, int i)
{
    if (b->resolving[i] == 2)
        return &b->keys[i];
    if (b->resolving[i] == 1)
        return NULL;            /* a cycle: the caller treats the part as unknown */
    b->resolving[i] = 1;
    struct rkey tmp;
    resolve_into(b, i, &tmp);
    b->keys[i] = tmp;
    b->resolving[i] = 2;
    return &b->keys[i];
}

/* ---- Per-group facts -------------------------------------------------------- */

static void gather_facts(struct builder *b)
{
    const struct ir_nf *nf = b->nf;
    for (int i = 0; i < nf->n_accesses; i++) {
        const struct ir_access *a = &nf->accesses[i];
        if (!valid_object(nf, a->object))
            continue;
        struct group *g = &b->groups[b->group_of[a->object]];
        const struct rkey *key = &b->keys[i];
        bool port_ok = valid_port(b, a->port);
        g->accessed = true;
        if (a->api == IR_API_COUNTER_READ)
            g->counter_read = true;
        if (api_writes(a->api)) {
            g->written = true;
            if (port_ok)
                g->written_on[a->port] = true;
            /* prefer a write the packet asks for over a periodic expiry */
            if (g->first_write < 0 || (nf->accesses[g->first_write].api == IR_API_ALLOC_EXPIRE &&
                                       a->api != IR_API_ALLOC_EXPIRE))
                g->first_write = i;
        }
        if (key->cls == KEY_WHOLE) {
            if (api_writes(a->api) && g->whole_write < 0)
                g->whole_write = i;
            if (!api_writes(a->api) && g->whole_read < 0)
                g->whole_read = i;
        } else if (key->cls == KEY_PARTS && port_ok) {
            g->keyed_on[a->port] = true;
            g->n_keyed++;
        }
        /* A chash lookup reads its whole alive allocator. */
        if (a->api == IR_API_CHASH_LOOKUP && valid_object(nf, a->related[0])) {
            struct group *alive = &b->groups[b->group_of[a->related[0]]];
            alive->accessed = true;
            if (alive->whole_read < 0)
                alive->whole_read = i;
        }
    }
}

/* ---- Issues ------------------------------------------------------------------ */

static const char *issue_text(enum ir_issue_kind kind)
{
    switch (kind) {
    case IR_ISSUE_UNKNOWN_CALL: return "a call to a function the analysis cannot see into";
    case IR_ISSUE_INDIRECT_CALL: return "an indirect call";
    case IR_ISSUE_INLINE_ASM: return "inline assembly";
    case IR_ISSUE_GLOBAL_WRITE: return "a write to a plain global";
    case IR_ISSUE_BORROW_WRITE: return "a write through a read-only state pointer";
    case IR_ISSUE_UNKNOWN_OBJECT: return "a state call on an object the analysis cannot name";
    default: return "a misuse of the NF API";
    }
}

static bool same_issue_site(const struct ir_issue *a, const struct ir_issue *c)
{
    return a->kind == c->kind && a->where.line == c->where.line &&
           strcmp(a->where.file, c->where.file) == 0 && strcmp(a->detail, c->detail) == 0 &&
           (a->object < 0) == (c->object < 0);
}

/* One warning per issue site that could touch any object (ir reports it once
 * per input port). */
static void warn_unattributed_issues(struct builder *b, const int *hits)
{
    const struct ir_nf *nf = b->nf;
    char loc[160], ports[64];
    for (int i = 0; i < nf->n_issues; i++) {
        const struct ir_issue *is = &nf->issues[i];
        if (is->object >= 0 && valid_object(nf, is->object))
            continue;
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = same_issue_site(&nf->issues[j], is);
        if (seen)
            continue;
        int total = 0, n_ports = 0;
        ports[0] = '\0';
        for (int j = i; j < nf->n_issues; j++) {
            if (!same_issue_site(&nf->issues[j], is))
                continue;
            total += hits[j];
            append(ports, sizeof ports, "%s%d", n_ports++ ? ", " : "", nf->issues[j].port);
        }
        where_text(&is->where, loc, sizeof loc);
        char effect[160];
        if (total > 0)
            set_text(effect, sizeof effect, "%d object group(s) written there are shared "
                     "because of it", total);
        else
            set_text(effect, sizeof effect, "no object is written there, so no decision "
                     "changes");
        if (is->kind == IR_ISSUE_GLOBAL_WRITE)
            add_warning(b, "%s at %s (%s), port%s %s: that global is state outside every "
                           "object, which no lock of this plan covers; %s, but the NF is only "
                           "safe on many cores once that state is an nf_* object",
                        issue_text(is->kind), loc, is->detail, n_ports > 1 ? "s" : "", ports,
                        effect);
        else
            add_warning(b, "%s at %s (%s), port%s %s: the analysis cannot tell what it does; "
                           "%s", issue_text(is->kind), loc, is->detail, n_ports > 1 ? "s" : "",
                        ports, effect);
    }
}

/* Every issue makes the state it touches shared: the named object's group,
 * or (object == -1) every group written on the issue's port. */
static void apply_issues(struct builder *b)
{
    const struct ir_nf *nf = b->nf;
    char loc[160];
    int *hits = calloc((size_t)(nf->n_issues ? nf->n_issues : 1), sizeof *hits);
    if (!hits)
        return;
    for (int i = 0; i < nf->n_issues; i++) {
        const struct ir_issue *is = &nf->issues[i];
        where_text(&is->where, loc, sizeof loc);
        if (is->object < 0 || !valid_object(nf, is->object)) {
            for (int g = 0; g < b->n_groups; g++) {
                struct group *grp = &b->groups[g];
                bool touched = is->port < 0 || !valid_port(b, is->port)
                                   ? grp->written : grp->written_on[is->port];
                if (!touched || grp->decided)
                    continue;
                grp->decided = true;
                grp->decision = DEPS_SHARED;
                set_text(grp->reason, sizeof grp->reason,
                         "nf_process has %s at %s (%s) on port %d; it could touch any state "
                         "written on that port, so this state is shared under the lock",
                         issue_text(is->kind), loc, is->detail, is->port);
                hits[i]++;
            }
            continue;
        }
        struct group *grp = &b->groups[b->group_of[is->object]];
        if (grp->decided)
            continue;
        grp->decided = true;
        grp->decision = DEPS_SHARED;
        set_text(grp->reason, sizeof grp->reason,
                 "%s touches %s at %s (%s); the analysis cannot prove sharding it safe, so it "
                 "is shared under the lock",
                 issue_text(is->kind), nf->objects[is->object].name, loc, is->detail);
    }
    warn_unattributed_issues(b, hits);
    free(hits);
}

/* ---- Columns: the fields a group can be sharded by ---------------------------- */

struct fieldset {
    int count;
    enum ir_field_id id[RKEY_MAX];
    uint8_t prefix[RKEY_MAX];
};

static int fieldset_find(const struct fieldset *s, enum ir_field_id id)
{
    for (int i = 0; i < s->count; i++)
        if (s->id[i] == id)
            return i;
    return -1;
}

static void key_fieldset(const struct rkey *key, struct fieldset *out)
{
    out->count = 0;
    for (int i = 0; i < key->count; i++) {
        if (!key->parts[i].hashable)
            continue;
        int at = fieldset_find(out, key->parts[i].field.id);
        if (at >= 0) {
            out->prefix[at] = coarser(out->prefix[at], key->parts[i].field.prefix);
        } else if (out->count < RKEY_MAX) {
            out->id[out->count] = key->parts[i].field.id;
            out->prefix[out->count++] = key->parts[i].field.prefix;
        }
    }
}

static void fieldset_remove(struct fieldset *s, enum ir_field_id id)
{
    int at = fieldset_find(s, id);
    if (at < 0)
        return;
    s->count--;
    for (int i = at; i < s->count; i++) {
        s->id[i] = s->id[i + 1];
        s->prefix[i] = s->prefix[i + 1];
    }
}

/* Keeps in s only the fields also in t (coarser prefix). */
static void fieldset_intersect(struct fieldset *s, const struct fieldset *t)
{
    int n = 0;
    for (int i = 0; i < s->count; i++) {
        int at = fieldset_find(t, s->id[i]);
        if (at < 0)
            continue;
        s->id[n] = s->id[i];
        s->prefix[n++] = coarser(s->prefix[i], t->prefix[at]);
    }
    s->count = n;
}

static void key_list_text(const struct rkey *key, char *buf, size_t size)
{
    char f[48];
    buf[0] = '\0';
    for (int i = 0; i < key->count; i++)
        append(buf, size, "%s%s", i ? ", " : "",
               key->parts[i].hashable ? field_text(key->parts[i].field, f, sizeof f)
                                      : key->parts[i].what);
}

static void unhashable_list_text(const struct rkey *key, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = 0, n = 0; i < key->count; i++)
        if (!key->parts[i].hashable)
            append(buf, size, "%s%s", n++ ? ", " : "", key->parts[i].what);
}

static enum ir_field_id mirror_field(enum ir_field_id id)
{
    switch (id) {
    case IR_FIELD_IPV4_SRC: return IR_FIELD_IPV4_DST;
    case IR_FIELD_IPV4_DST: return IR_FIELD_IPV4_SRC;
    case IR_FIELD_IPV6_SRC: return IR_FIELD_IPV6_DST;
    case IR_FIELD_IPV6_DST: return IR_FIELD_IPV6_SRC;
    case IR_FIELD_L4_SPORT: return IR_FIELD_L4_DPORT;
    case IR_FIELD_L4_DPORT: return IR_FIELD_L4_SPORT;
    default: return id;
    }
}

/* Mapping from the reference port's fields to port q's, for one group. */
struct port_map {
    int count;
    enum ir_field_id from[RKEY_MAX], to[RKEY_MAX];
    bool conflict[RKEY_MAX];
    uint8_t prefix[RKEY_MAX];
};

static void map_add(struct port_map *m, enum ir_field_id from, enum ir_field_id to,
                    uint8_t prefix)
{
    for (int i = 0; i < m->count; i++) {
        if (m->from[i] != from)
            continue;
        if (m->to[i] != to)
            m->conflict[i] = true;
        m->prefix[i] = coarser(m->prefix[i], prefix);
        return;
    }
    if (m->count >= RKEY_MAX)
        return;
    m->from[m->count] = from;
    m->to[m->count] = to;
    m->prefix[m->count] = prefix;
    m->conflict[m->count++] = false;
}

static int map_find(const struct port_map *m, enum ir_field_id from)
{
    for (int i = 0; i < m->count; i++)
        if (m->from[i] == from && !m->conflict[i])
            return i;
    return -1;
}

/* Links from position-by-position equal keys: accesses to the same key space
 * on port r and port q with the same layout. */
static void link_by_keyspace(const struct builder *b, int group, int r, int q,
                             struct port_map *m)
{
    const struct ir_nf *nf = b->nf;
    m->count = 0;
    for (int xi = b->group_first[group]; xi < b->group_first[group + 1]; xi++) {
        int i = b->group_accesses[xi];
        const struct rkey *ki = &b->keys[i];
        if (nf->accesses[i].port != r || ki->cls != KEY_PARTS || group_of_access(b, i) != group)
            continue;
        for (int xj = b->group_first[group]; xj < b->group_first[group + 1]; xj++) {
            int j = b->group_accesses[xj];
            const struct rkey *kj = &b->keys[j];
            if (nf->accesses[j].port != q || kj->cls != KEY_PARTS ||
                group_of_access(b, j) != group || kj->keyspace != ki->keyspace ||
                kj->count != ki->count)
                continue;
            for (int k = 0; k < ki->count; k++)
                if (ki->parts[k].hashable && kj->parts[k].hashable)
                    map_add(m, ki->parts[k].field.id, kj->parts[k].field.id,
                            coarser(ki->parts[k].field.prefix, kj->parts[k].field.prefix));
        }
    }
}

/* Where the bytes [offset, offset + bits/8) of vector `vec`'s records come
 * from, checked against every record write ir reports: they must all be
 * written on port `ref` from one and the same whole header field (a guard's
 * stored part then holds that field of the port-`ref` packet that wrote the
 * record). Returns the field, or IR_FIELD_UNKNOWN with `why` saying which
 * write breaks it (file:line); *write_at is a write that stores the field. */
static enum ir_field_id record_source(const struct builder *b, int vec, int ref, int offset,
                                      int bits, uint8_t prefix, int *write_at, char *why,
                                      size_t why_size)
{
    const struct ir_nf *nf = b->nf;
    const char *name = nf->objects[vec].name;
    char loc[160], part[64];
    enum ir_field_id found = IR_FIELD_UNKNOWN;
    *write_at = -1;
    for (int w = 0; w < nf->n_record_writes; w++) {
        const struct ir_record_write *rw = &nf->record_writes[w];
        if (rw->object != vec)
            continue;
        where_text(&rw->where, loc, sizeof loc);
        if (rw->offset_unknown) {
            set_text(why, why_size, "%s is written at an offset or length ir cannot tell (%s), "
                     "which may overwrite the stored bytes", name, loc);
            return IR_FIELD_UNKNOWN;
        }
        if (rw->offset + rw->bits / 8 <= offset || offset + bits / 8 <= rw->offset)
            continue;
        if (rw->port != ref) {
            set_text(why, why_size, "%s[%d..%d] is also written on port %d (%s), not only "
                     "from the port-%d packet that creates the entry", name, offset,
                     offset + bits / 8 - 1, rw->port, loc, ref);
            return IR_FIELD_UNKNOWN;
        }
        /* the part of the written value that starts at `offset` */
        const struct ir_key_part *p = NULL;
        int at = rw->offset * 8;
        for (int k = 0; k < rw->value.count && at <= offset * 8; k++) {
            if (at == offset * 8)
                p = &rw->value.parts[k];
            at += rw->value.parts[k].bits;
        }
        if (rw->transformed) {
            set_text(why, why_size, "%s[%d..%d] is written from a value computed from header "
                     "fields (%s), not a copy of one", name, offset, offset + bits / 8 - 1, loc);
            return IR_FIELD_UNKNOWN;
        }
        if (!p || p->bits != bits || !ir_field_hashable(p->field.id) ||
            normal_prefix(p->field) != prefix) {
            if (p)
                ir_key_part_format(p, part, sizeof part);
            set_text(why, why_size, "%s[%d..%d] is written from %s (%s), not from the whole "
                     "header field the guard compares it with", name, offset,
                     offset + bits / 8 - 1, p ? part : "bytes that straddle the stored value",
                     loc);
            return IR_FIELD_UNKNOWN;
        }
        if (found != IR_FIELD_UNKNOWN && found != p->field.id) {
            set_text(why, why_size, "%s[%d..%d] is written from different fields (%s is one)",
                     name, offset, offset + bits / 8 - 1, loc);
            return IR_FIELD_UNKNOWN;
        }
        found = p->field.id;
        if (*write_at < 0)
            *write_at = w;
    }
    if (found == IR_FIELD_UNKNOWN)
        set_text(why, why_size, "ir reports no write to %s[%d..%d] on port %d, so nothing says "
                 "what it holds", name, offset, offset + bits / 8 - 1, ref);
    return found;
}

/* The guard rule (the NAT's WAN side): port q reaches the group's entries by
 * something that is not the reference port's key, but an access on q checks
 * a stored value from this group against packet fields before using it. A
 * guard column "stored record bytes == packet field f" links f on port q to
 * the header field the record bytes were written from on the reference port
 * (ir's record writes); a column whose stored bytes cannot be traced to one
 * field of the port-`ref` packet is not used, and the first such column is
 * explained in `why_not` (with file:line). Only the first access whose guard
 * links a column contributes (port q's writes must be under that guard).
 * Returns the number of links found
 * and sets *guard_access (the access carrying the guard) and *write_at (a
 * record write that stores a linked field, -1 if none). */
static int link_by_guard(const struct builder *b, int group, int ref, int q, struct port_map *m,
                         int *guard_access, int *write_at, char *why_not, size_t why_size)
{
    const struct ir_nf *nf = b->nf;
    char loc[160], f1[48];
    m->count = 0;
    *guard_access = -1;
    *write_at = -1;
    why_not[0] = '\0';
    for (int xi = b->group_first[group]; xi < b->group_first[group + 1]; xi++) {
        int i = b->group_accesses[xi];
        const struct ir_access *a = &nf->accesses[i];
        /* columns from one guarded access only: the dominance check is made
         * against that access's guard */
        if (a->port != q || group_of_access(b, i) != group ||
            (*guard_access >= 0 && i != *guard_access))
            continue;
        for (int gi = 0; gi < a->n_guards && gi < IR_MAX_GUARDS; gi++) {
            const struct ir_guard *gd = &a->guards[gi];
            if (!valid_access(nf, gd->from_access) ||
                group_of_access(b, gd->from_access) != group)
                continue;
            const struct ir_access *rd = &nf->accesses[gd->from_access];
            for (int k = 0; k < gd->packet.count && k < IR_KEY_MAX_PARTS; k++) {
                const struct ir_key_part *pp = &gd->packet.parts[k];
                if (!ir_field_hashable(pp->field.id))
                    continue;
                char why[400] = "";
                int w = -1;
                enum ir_field_id from = IR_FIELD_UNKNOWN;
                const struct ir_key_part *sp = k < gd->stored.count ? &gd->stored.parts[k] : NULL;
                if (gd->transformed) {
                    set_text(why, sizeof why, "the guard compares values computed from the "
                             "fields (arithmetic), not the fields themselves");
                } else if (!sp || sp->field.id != IR_FIELD_STATE ||
                           sp->from_access != gd->from_access || rd->api != IR_API_VECTOR_READ) {
                    set_text(why, sizeof why, "the value compared with packet %s is not bytes "
                             "of a vector record", field_text(pp->field, f1, sizeof f1));
                } else if (sp->bits != pp->bits) {
                    set_text(why, sizeof why, "the stored value compared with packet %s is %u "
                             "bits wide, the packet part %u", field_text(pp->field, f1, sizeof f1),
                             sp->bits, pp->bits);
                } else {
                    from = record_source(b, rd->object, ref, sp->offset, sp->bits,
                                         normal_prefix(pp->field), &w, why, sizeof why);
                }
                if (from == IR_FIELD_UNKNOWN) {
                    if (!why_not[0]) {
                        where_text(&a->where, loc, sizeof loc);
                        set_text(why_not, why_size, "the guard at %s compares packet %s with "
                                 "a stored value that does not correspond to a field of the "
                                 "port-%d packet: %s", loc, field_text(pp->field, f1, sizeof f1),
                                 ref, why);
                    }
                    continue;
                }
                map_add(m, from, pp->field.id, normal_prefix(pp->field));
                if (*guard_access < 0)
                    *guard_access = i;
                if (*write_at < 0)
                    *write_at = w;
            }
        }
    }
    return m->count;
}

/* With port q sharded through the guard carried by access `guard_access`:
 * every port-q access to the group that writes and picks an entry (refresh,
 * vector write, free, map put/erase; not expire, not alloc_new, which choose
 * no entry by the packet) and every port-q header write made from the
 * group's state must run only when that guard holds (ir's guarded_by).
 * Returns true, or false with `why` naming the first one that need not. */
static bool writes_under_guard(const struct builder *b, int group, int q, int guard_access,
                               char *why, size_t why_size)
{
    const struct ir_nf *nf = b->nf;
    char loc[160], gloc[160], f1[48];
    where_text(&nf->accesses[guard_access].where, gloc, sizeof gloc);
    for (int xi = b->group_first[group]; xi < b->group_first[group + 1]; xi++) {
        int i = b->group_accesses[xi];
        const struct ir_access *a = &nf->accesses[i];
        if (i == guard_access || a->port != q || group_of_access(b, i) != group ||
            !api_writes(a->api) || a->api == IR_API_ALLOC_EXPIRE || a->api == IR_API_ALLOC_NEW)
            continue;
        if (a->guarded_by == guard_access)
            continue;
        where_text(&a->where, loc, sizeof loc);
        set_text(why, why_size, "port %d's %s on %s at %s can run before the guard at %s holds "
                 "(ir finds no path to it that always passes the guard's comparisons), so a "
                 "packet that fails the guard still changes the entry, on whichever core it "
                 "lands", q, api_name(a->api), nf->objects[a->object].name, loc, gloc);
        return false;
    }
    for (int w = 0; w < nf->n_writes; w++) {
        const struct ir_header_write *hw = &nf->writes[w];
        if (hw->port != q || hw->guarded_by == guard_access)
            continue;
        for (int k = 0; k < hw->value.count && k < IR_KEY_MAX_PARTS; k++) {
            const struct ir_key_part *p = &hw->value.parts[k];
            if (p->field.id != IR_FIELD_STATE || !valid_access(nf, p->from_access) ||
                group_of_access(b, p->from_access) != group)
                continue;
            where_text(&hw->where, loc, sizeof loc);
            set_text(why, why_size, "port %d rewrites %s from the group's state at %s before "
                     "the guard at %s holds (ir finds no path to it that always passes the "
                     "guard's comparisons)", q, field_text(hw->field, f1, sizeof f1), loc, gloc);
            return false;
        }
    }
    return true;
}

/* True when access i indexes a vector or allocator straight from packet
 * fields while the entries of that object are handed out by the NF (an
 * allocator's new index, a map's value): equal packet fields then say
 * nothing about which entry, or which core, a packet reaches. */
static bool raw_into_allocated(const struct builder *b, int group, int i)
{
    const struct ir_nf *nf = b->nf;
    const struct ir_access *a = &nf->accesses[i];
    const struct rkey *key = &b->keys[i];
    if (!api_indexed(a->api) || key->cls != KEY_PARTS || key->keyspace != a->object)
        return false;
    for (int xj = b->group_first[group]; xj < b->group_first[group + 1]; xj++) {
        int j = b->group_accesses[xj];
        if (nf->accesses[j].object != a->object)
            continue;
        if (nf->accesses[j].api == IR_API_ALLOC_NEW)
            return true;
        if (api_indexed(nf->accesses[j].api) &&
            (b->keys[j].cls == KEY_FREE ||
             (b->keys[j].cls == KEY_PARTS && b->keys[j].keyspace != a->object)))
            return true;
    }
    return false;
}

/* An access on port q carrying a guard on this group's state, or -1. */
static int first_guarded_access(const struct builder *b, int group, int q)
{
    const struct ir_nf *nf = b->nf;
    for (int xi = b->group_first[group]; xi < b->group_first[group + 1]; xi++) {
        int i = b->group_accesses[xi];
        const struct ir_access *a = &nf->accesses[i];
        if (a->port != q)
            continue;
        for (int k = 0; k < a->n_guards && k < IR_MAX_GUARDS; k++)
            if (valid_access(nf, a->guards[k].from_access) &&
                group_of_access(b, a->guards[k].from_access) == group)
                return i;
    }
    return -1;
}

/* A header write on another port whose value is this group's state, and whose
 * field (or its mirror) port q uses as a key: the NF's own allocated value
 * coming back. Returns the write's index or -1. */
static int find_own_value_key(const struct builder *b, int group, int q, int *key_access)
{
    const struct ir_nf *nf = b->nf;
    for (int w = 0; w < nf->n_writes; w++) {
        const struct ir_header_write *hw = &nf->writes[w];
        if (hw->port == q)
            continue;
        bool from_group = false;
        for (int k = 0; k < hw->value.count && k < IR_KEY_MAX_PARTS; k++)
            if (hw->value.parts[k].field.id == IR_FIELD_STATE &&
                valid_access(nf, hw->value.parts[k].from_access) &&
                group_of_access(b, hw->value.parts[k].from_access) == group)
                from_group = true;
        if (!from_group)
            continue;
        for (int xi = b->group_first[group]; xi < b->group_first[group + 1]; xi++) {
            int i = b->group_accesses[xi];
            const struct rkey *key = &b->keys[i];
            if (nf->accesses[i].port != q || group_of_access(b, i) != group ||
                key->cls != KEY_PARTS)
                continue;
            for (int k = 0; k < key->count; k++)
                if (key->parts[k].hashable &&
                    (key->parts[k].field.id == hw->field.id ||
                     key->parts[k].field.id == mirror_field(hw->field.id))) {
                    *key_access = i;
                    return w;
                }
        }
    }
    return -1;
}

static int first_keyed_access(const struct builder *b, int group, int port)
{
    for (int xi = b->group_first[group]; xi < b->group_first[group + 1]; xi++) {
        int i = b->group_accesses[xi];
        if (b->nf->accesses[i].port == port && group_of_access(b, i) == group &&
            b->keys[i].cls == KEY_PARTS)
            return i;
    }
    return -1;
}

static void access_where(const struct builder *b, int i, char *buf, size_t size)
{
    where_text(&b->nf->accesses[i].where, buf, size);
}

/* Sets g->columns, or fills g->reason and returns false. */
static bool group_columns(struct builder *b, int gi, char *why_sharded, size_t why_size)
{
    struct group *g = &b->groups[gi];
    const struct ir_nf *nf = b->nf;
    char loc[160], loc2[160], text[640], f1[48];
    struct fieldset per_port[DEPS_MAX_PORTS];
    int ref = -1;

    /* 1. Per port: the hashable fields common to every keyed access. An index
     * taken straight from the packet into entries that were allocated or
     * handed out by a map (the NAT's WAN side) is not a key: set aside. */
    int raw_first[DEPS_MAX_PORTS];
    bool keyed_for_real[DEPS_MAX_PORTS];
    memset(per_port, 0, sizeof per_port);
    for (int p = 0; p < DEPS_MAX_PORTS; p++) {
        raw_first[p] = -1;
        keyed_for_real[p] = false;
    }
    for (int p = 0; p < b->n_ports; p++) {
        if (!g->keyed_on[p])
            continue;
        bool first = true;
        int first_access = -1;
        for (int xi = b->group_first[gi]; xi < b->group_first[gi + 1]; xi++) {
            int i = b->group_accesses[xi];
            const struct rkey *key = &b->keys[i];
            if (nf->accesses[i].port != p || group_of_access(b, i) != gi ||
                key->cls != KEY_PARTS)
                continue;
            struct fieldset fs;
            key_fieldset(key, &fs);
            if (fs.count == 0) {
                unhashable_list_text(key, text, sizeof text);
                access_where(b, i, loc, sizeof loc);
                set_text(g->reason, sizeof g->reason,
                         "%s %s on port %d at %s by %s, which RSS cannot hash; written per "
                         "packet, so it is shared under the lock",
                         nf->objects[nf->accesses[i].object].name,
                         api_writes(nf->accesses[i].api) ? "is written" : "is read", p, loc,
                         text);
                return false;
            }
            if (raw_into_allocated(b, gi, i)) {
                if (raw_first[p] < 0)
                    raw_first[p] = i;
                continue;
            }
            keyed_for_real[p] = true;
            if (first) {
                per_port[p] = fs;
                first = false;
                first_access = i;
            } else {
                fieldset_intersect(&per_port[p], &fs);
                if (per_port[p].count == 0) {
                    char k1[256], k2[256];
                    key_list_text(&b->keys[first_access], k1, sizeof k1);
                    key_list_text(key, k2, sizeof k2);
                    access_where(b, first_access, loc, sizeof loc);
                    access_where(b, i, loc2, sizeof loc2);
                    set_text(g->reason, sizeof g->reason,
                             "port %d reaches this state by (%s) at %s and by (%s) at %s: no "
                             "field is common to both, so no RSS hash sends the packets that "
                             "share an entry to one core; shared under the lock",
                             p, k1, loc, k2, loc2);
                    return false;
                }
            }
        }
    }
    for (int p = 0; p < b->n_ports && ref < 0; p++)
        if (keyed_for_real[p])
            ref = p;
    if (ref < 0) {
        for (int p = 0; p < b->n_ports; p++) {
            if (raw_first[p] < 0)
                continue;
            key_list_text(&b->keys[raw_first[p]], text, sizeof text);
            access_where(b, raw_first[p], loc, sizeof loc);
            set_text(g->reason, sizeof g->reason,
                     "port %d indexes %s by (%s) at %s, but its entries are allocated without "
                     "a packet key on any port, so nothing says which core holds them; shared "
                     "under the lock", p, nf->objects[nf->accesses[raw_first[p]].object].name,
                     text, loc);
            return false;
        }
    }

    if (ref >= 0 && raw_first[ref] >= 0) {
        key_list_text(&b->keys[raw_first[ref]], text, sizeof text);
        access_where(b, raw_first[ref], loc, sizeof loc);
        set_text(g->reason, sizeof g->reason,
                 "port %d indexes %s by (%s) at %s, straight from the packet, while the same "
                 "port hands its entries out by key: equal fields do not mean the same entry, "
                 "so no RSS hash keeps the packets that share one on one core; shared under "
                 "the lock", ref, nf->objects[nf->accesses[raw_first[ref]].object].name, text,
                 loc);
        return false;
    }

    /* 1b. Same key space, same port, fields swapped between positions (a
     * lookup of the reverse flow on the port that inserted it): only a
     * symmetric hash would keep both on one core, so neither field counts. */
    for (int p = 0; p < b->n_ports; p++) {
        if (!g->keyed_on[p])
            continue;
        int before = per_port[p].count, sa = -1, sb = -1;
        for (int xi = b->group_first[gi]; xi < b->group_first[gi + 1]; xi++) {
            int i = b->group_accesses[xi];
            const struct rkey *ki = &b->keys[i];
            if (nf->accesses[i].port != p || group_of_access(b, i) != gi ||
                ki->cls != KEY_PARTS || raw_into_allocated(b, gi, i))
                continue;
            for (int xj = xi + 1; xj < b->group_first[gi + 1]; xj++) {
                int j = b->group_accesses[xj];
                const struct rkey *kj = &b->keys[j];
                if (nf->accesses[j].port != p || group_of_access(b, j) != gi ||
                    kj->cls != KEY_PARTS || kj->keyspace != ki->keyspace ||
                    kj->count != ki->count)
                    continue;
                for (int k = 0; k < ki->count; k++) {
                    if (!ki->parts[k].hashable || !kj->parts[k].hashable ||
                        ki->parts[k].field.id == kj->parts[k].field.id)
                        continue;
                    fieldset_remove(&per_port[p], ki->parts[k].field.id);
                    fieldset_remove(&per_port[p], kj->parts[k].field.id);
                    if (sa < 0) {
                        sa = i;
                        sb = j;
                    }
                }
            }
        }
        if (per_port[p].count == 0 && before > 0) {
            char k1[256], k2[256];
            key_list_text(&b->keys[sa], k1, sizeof k1);
            key_list_text(&b->keys[sb], k2, sizeof k2);
            access_where(b, sa, loc, sizeof loc);
            access_where(b, sb, loc2, sizeof loc2);
            set_text(g->reason, sizeof g->reason,
                     "port %d reaches the same entries by (%s) at %s and by (%s) at %s: the "
                     "fields trade places, which only a symmetric hash could keep on one core; "
                     "shared under the lock", p, k1, loc, k2, loc2);
            return false;
        }
    }
    if (ref < 0) {
        g->n_columns = 0;
        return true;        /* no keyed access: any core will do */
    }

    /* 2. Candidate columns from the reference port. */
    g->n_columns = 0;
    for (int k = 0; k < per_port[ref].count && g->n_columns < MAX_COLUMNS; k++) {
        struct column *c = &g->columns[g->n_columns++];
        memset(c, 0, sizeof *c);
        c->has[ref] = true;
        c->id[ref] = per_port[ref].id[k];
        c->prefix = per_port[ref].prefix[k];
    }

    /* 3. Link every other keyed port to the reference port: by equal keys
     * of one key space, else (or when the port indexes allocated entries
     * straight from the packet) by a guard. */
    for (int q = 0; q < b->n_ports; q++) {
        if (!g->keyed_on[q] || q == ref)
            continue;
        struct port_map m;
        bool by_guard = false;
        char unmatched[700] = "";
        int write_at = -1;
        bool raw = raw_first[q] >= 0;
        /* the guard's fields must also be in the port's other keys */
        bool need_in_q = keyed_for_real[q];
        int guard_access = -1;
        link_by_keyspace(b, gi, ref, q, &m);
        int kept = 0;
        for (int pass = raw ? 1 : 0; pass < 2 && kept == 0; pass++) {
            if (pass == 1) {
                if (link_by_guard(b, gi, ref, q, &m, &guard_access, &write_at, unmatched,
                                  sizeof unmatched) == 0)
                    break;
                by_guard = true;
            }
            kept = 0;
            for (int c = 0; c < g->n_columns; c++) {
                int at = map_find(&m, g->columns[c].id[ref]);
                if (at < 0)
                    continue;
                if ((!by_guard || need_in_q) && fieldset_find(&per_port[q], m.to[at]) < 0)
                    continue;
                kept++;
            }
        }
        if (kept == 0) {
            /* Say which guard is missing, or why the one there cannot be used. */
            char guard_text[760];
            int ga = first_guarded_access(b, gi, q);
            if (unmatched[0]) {
                set_text(guard_text, sizeof guard_text, "%s", unmatched);
            } else if (ga >= 0) {
                char gloc[160];
                access_where(b, ga, gloc, sizeof gloc);
                set_text(guard_text, sizeof guard_text,
                         "the guard at %s compares only fields RSS cannot hash or that port %d's "
                         "key does not hold, so it cannot replace the key", gloc, ref);
            } else {
                set_text(guard_text, sizeof guard_text,
                         "no guard on port %d compares a stored value with the packet's fields "
                         "(e.g. stored remote ip/port == packet source) to shard by instead", q);
            }
            int key_access = -1;
            int w = find_own_value_key(b, gi, q, &key_access);
            int qa = raw ? raw_first[q] : first_keyed_access(b, gi, q);
            access_where(b, qa, loc, sizeof loc);
            key_list_text(&b->keys[qa], text, sizeof text);
            if (w >= 0) {
                const struct ir_header_write *hw = &nf->writes[w];
                where_text(&hw->where, loc2, sizeof loc2);
                key_list_text(&b->keys[key_access], text, sizeof text);
                access_where(b, key_access, loc, sizeof loc);
                set_text(g->reason, sizeof g->reason,
                         "port %d reaches this state by %s (at %s), a value nf_process itself "
                         "allocated and wrote into %s on port %d (at %s): no RSS hash maps it "
                         "to the core that allocated it, and %s; shared under the lock",
                         q, text, loc, field_text(hw->field, f1, sizeof f1), hw->port, loc2,
                         guard_text);
            } else {
                set_text(g->reason, sizeof g->reason,
                         "port %d reaches this state by (%s) at %s, which cannot be matched "
                         "field by field with how port %d reaches it, and %s; shared under the "
                         "lock", q, text, loc, ref, guard_text);
            }
            return false;
        }
        int n = 0;
        for (int c = 0; c < g->n_columns; c++) {
            struct column col = g->columns[c];
            int at = map_find(&m, col.id[ref]);
            if (at < 0)
                continue;
            int in_q = fieldset_find(&per_port[q], m.to[at]);
            if ((!by_guard || need_in_q) && in_q < 0)
                continue;
            col.has[q] = true;
            col.id[q] = m.to[at];
            col.prefix = coarser(col.prefix, m.prefix[at]);
            if (in_q >= 0 && (!by_guard || need_in_q))
                col.prefix = coarser(col.prefix, per_port[q].prefix[in_q]);
            g->columns[n++] = col;
        }
        g->n_columns = n;
        if (by_guard) {
            char why[600];
            if (!writes_under_guard(b, gi, q, guard_access, why, sizeof why)) {
                set_text(g->reason, sizeof g->reason, "port %d would be sharded through its "
                         "guard, but %s; shared under the lock", q, why);
                return false;
            }
        }
        if (by_guard) {
            int key_access = -1;
            int w = find_own_value_key(b, gi, q, &key_access);
            char pairs[256] = "", f2[48];
            for (int c = 0; c < g->n_columns; c++) {
                struct ir_field a = {g->columns[c].id[ref], g->columns[c].prefix};
                struct ir_field z = {g->columns[c].id[q], g->columns[c].prefix};
                append(pairs, sizeof pairs, "%sstored %s == packet %s", c ? ", " : "",
                       field_text(a, f1, sizeof f1), field_text(z, f2, sizeof f2));
            }
            access_where(b, guard_access, loc, sizeof loc);
            char loc3[160] = "an unknown line";
            if (write_at >= 0)
                where_text(&nf->record_writes[write_at].where, loc3, sizeof loc3);
            if (w >= 0) {
                char kt[128];
                key_list_text(&b->keys[key_access], kt, sizeof kt);
                where_text(&nf->writes[w].where, loc2, sizeof loc2);
                append(why_sharded, why_size, "Port %d finds entries by %s, the index "
                       "nf_process wrote into %s on port %d (%s); ", q, kt,
                       field_text(nf->writes[w].field, f1, sizeof f1), nf->writes[w].port,
                       loc2);
            } else {
                append(why_sharded, why_size, "Port %d finds entries by an index, not by the "
                       "port-%d key; ", q, ref);
            }
            append(why_sharded, why_size,
                   "no hash maps that to the core that allocated it, so port %d is sharded by "
                   "the packet fields checked in the guard at %s (%s; the stored values are "
                   "written from those port-%d fields, first at %s; and port %d's writes to this "
                   "state run only after the guard holds). This relies on "
                   "per-core allocators with disjoint index ranges (allocated values stay "
                   "globally unique) and on a port-%d packet whose guard fails being dropped "
                   "on any core.",
                   q, loc, pairs, ref, loc3, q, q);
            if (unmatched[0])
                append(why_sharded, why_size, " Not used: %s.", unmatched);
        }
    }
    return true;
}

/* ---- Decisions ------------------------------------------------------------- */

static const char *object_names(const struct builder *b, int gi, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int o = 0, n = 0; o < b->nf->n_objects; o++)
        if (b->group_of[o] == gi)
            append(buf, size, "%s%s", n++ ? ", " : "", b->nf->objects[o].name);
    return buf;
}

/* The decision for one group on its own. Sharded candidates keep their
 * columns for the NF-wide check. why_sharded collects extra explanation. */
static void decide_group(struct builder *b, int gi, char *why_sharded, size_t why_size)
{
    struct group *g = &b->groups[gi];
    const struct ir_nf *nf = b->nf;
    char loc[160], loc2[160];
    why_sharded[0] = '\0';
    if (g->decided)
        return;     /* an issue made it shared */
    g->decided = true;
    if (!g->accessed) {
        g->decision = DEPS_REPLICATED;
        set_text(g->reason, sizeof g->reason,
                 "nf_process never touches it: one read-only copy per core");
        return;
    }
    if (!g->written) {
        g->decision = DEPS_REPLICATED;
        set_text(g->reason, sizeof g->reason,
                 "only read per packet (filled in nf_init): one read-only copy per core, "
                 "no lock");
        return;
    }
    if (g->whole_write >= 0) {
        access_where(b, g->whole_write, loc, sizeof loc);
        const struct ir_access *a = &nf->accesses[g->whole_write];
        if (g->only_counters && !g->counter_read && b->opts.counters_as_partial_sums) {
            g->decision = DEPS_SHARDED;
            g->n_columns = 0;
            set_text(g->reason, sizeof g->reason,
                     "a counter added to per packet (at %s) and never read by nf_process: "
                     "each core keeps a partial sum, the total is the sum over cores; any "
                     "key will do", loc);
            return;
        }
        g->decision = DEPS_SHARED;
        set_text(g->reason, sizeof g->reason,
                 "port %d writes %s as a whole per packet (%s at %s): there is no key to "
                 "shard by%s; shared under the lock",
                 a->port, nf->objects[a->object].name, api_name(a->api), loc,
                 g->counter_read ? " and nf_process reads the total" : "");
        return;
    }
    if (g->whole_read >= 0) {
        const struct ir_access *r = &nf->accesses[g->whole_read];
        access_where(b, g->whole_read, loc, sizeof loc);
        int wa = g->first_write;
        int wp = nf->accesses[wa].port;
        access_where(b, wa, loc2, sizeof loc2);
        g->decision = DEPS_SHARED;
        if (r->api == IR_API_CHASH_LOOKUP)
            set_text(g->reason, sizeof g->reason,
                     "read whole by every new flow on port %d (%s at %s, with a key unrelated "
                     "to this state) and written by packets on port %d (%s at %s, e.g. "
                     "heartbeats): it cannot be sharded; shared read-mostly under per-core "
                     "read locks, the writer takes all",
                     r->port, api_name(r->api), loc, wp, api_name(nf->accesses[wa].api),
                     loc2);
        else
            set_text(g->reason, sizeof g->reason,
                     "read as a whole on port %d (%s at %s) and written per packet on port %d "
                     "(%s at %s): every packet needs every core's writes; shared under "
                     "per-core read locks, the writer takes all",
                     r->port, api_name(r->api), loc, wp, api_name(nf->accesses[wa].api),
                     loc2);
        return;
    }
    if (!group_columns(b, gi, why_sharded, why_size)) {
        g->decision = DEPS_SHARED;
        return;
    }
    g->decision = DEPS_SHARDED;
}

/* ---- The NF-wide check: sharded groups must agree ------------------------- */

/* Which packets a column can say anything about: 1 IPv4, 2 IPv6, 3 both (a
 * column of L4 ports). An IPv6 packet never hashes IPv4 fields. */
static int column_family(const struct column *c, int n_ports)
{
    for (int p = 0; p < n_ports; p++) {
        if (!c->has[p])
            continue;
        if (c->id[p] == IR_FIELD_IPV4_SRC || c->id[p] == IR_FIELD_IPV4_DST)
            return 1;
        if (c->id[p] == IR_FIELD_IPV6_SRC || c->id[p] == IR_FIELD_IPV6_DST)
            return 2;
    }
    return 3;
}

/* True when both columns speak about the same packets: a common port and a
 * common IP version. */
static bool column_overlaps(const struct column *a, const struct column *c, int n_ports)
{
    if ((column_family(a, n_ports) & column_family(c, n_ports)) == 0)
        return false;
    for (int p = 0; p < n_ports; p++)
        if (a->has[p] && c->has[p])
            return true;
    return false;
}

static bool column_agrees(const struct column *a, const struct column *c, int n_ports)
{
    bool common = false;
    for (int p = 0; p < n_ports; p++) {
        if (!a->has[p] || !c->has[p])
            continue;
        if (a->id[p] != c->id[p])
            return false;
        common = true;
    }
    return common;
}

static void column_join(struct column *into, const struct column *c, int n_ports)
{
    for (int p = 0; p < n_ports; p++)
        if (c->has[p]) {
            into->has[p] = true;
            into->id[p] = c->id[p];
        }
    into->prefix = coarser(into->prefix, c->prefix);
}

struct colset {
    int count;
    struct column cols[MAX_COLUMNS];
};

static void colset_add(struct colset *s, const struct column *c, int n_ports)
{
    for (int i = 0; i < s->count; i++) {
        bool same = true;
        for (int p = 0; p < n_ports; p++)
            if (s->cols[i].has[p] != c->has[p] || (c->has[p] && s->cols[i].id[p] != c->id[p]))
                same = false;
        if (same) {
            s->cols[i].prefix = coarser(s->cols[i].prefix, c->prefix);
            return;
        }
    }
    if (s->count < MAX_COLUMNS)
        s->cols[s->count++] = *c;
}

/* The NF-wide columns after adding group g to acc. Returns how many of acc's
 * columns did not survive (when none is lost, every group acc covered is
 * still covered: a joined column keeps its fields and only gains ports). */
static int colset_merge(const struct colset *acc, const struct group *g, int n_ports,
                        struct colset *out)
{
    int lost = 0;
    out->count = 0;
    for (int i = 0; i < acc->count; i++) {
        const struct column *a = &acc->cols[i];
        bool overlaps = false;
        for (int j = 0; j < g->n_columns; j++) {
            if (column_overlaps(a, &g->columns[j], n_ports))
                overlaps = true;
            if (column_agrees(a, &g->columns[j], n_ports)) {
                struct column joined = *a;
                column_join(&joined, &g->columns[j], n_ports);
                colset_add(out, &joined, n_ports);
            }
        }
        bool joined = false;
        for (int j = 0; j < g->n_columns && !joined; j++)
            joined = column_agrees(a, &g->columns[j], n_ports);
        if (!overlaps)      /* g says nothing about a's packets: keep a */
            colset_add(out, a, n_ports);
        else if (!joined)
            lost++;
    }
    for (int j = 0; j < g->n_columns; j++) {
        bool meets = false;
        for (int i = 0; i < acc->count; i++)
            if (column_overlaps(&acc->cols[i], &g->columns[j], n_ports))
                meets = true;
        if (!meets)
            colset_add(out, &g->columns[j], n_ports);
    }
    return lost;
}

/* The NF-wide column that carries group column c, or -1. */
static int covering_column(const struct colset *s, const struct column *c, int n_ports)
{
    for (int i = 0; i < s->count; i++) {
        bool ok = true;
        for (int p = 0; p < n_ports && ok; p++)
            if (c->has[p] && (!s->cols[i].has[p] || s->cols[i].id[p] != c->id[p]))
                ok = false;
        if (ok)
            return i;
    }
    return -1;
}

static bool group_covered(const struct colset *s, const struct group *g, int n_ports)
{
    if (g->n_columns == 0)
        return true;
    for (int j = 0; j < g->n_columns; j++)
        if (covering_column(s, &g->columns[j], n_ports) >= 0)
            return true;
    return false;
}

static void group_key_text(const struct builder *b, const struct group *g, char *buf,
                           size_t size)
{
    char f[48];
    buf[0] = '\0';
    for (int p = 0; p < b->n_ports; p++) {
        bool any = false;
        for (int j = 0; j < g->n_columns; j++) {
            if (!g->columns[j].has[p])
                continue;
            struct ir_field fld = {g->columns[j].id[p], g->columns[j].prefix};
            append(buf, size, "%s%s", any ? ", " : (buf[0] ? "; port " : "port "), "");
            if (!any)
                append(buf, size, "%d (", p);
            append(buf, size, "%s", field_text(fld, f, sizeof f));
            any = true;
        }
        if (any)
            append(buf, size, ")");
    }
}

/* Accepts sharded groups one by one (most keyed accesses first); a group
 * whose fields cannot agree with those already accepted is shared. */
static void merge_groups(struct builder *b, struct colset *final_cols)
{
    int *order = malloc((size_t)(b->n_groups ? b->n_groups : 1) * sizeof *order);
    bool *accepted = calloc((size_t)(b->n_groups ? b->n_groups : 1), sizeof *accepted);
    struct colset *trial = malloc(sizeof *trial);
    final_cols->count = 0;
    if (!order || !accepted || !trial) {
        free(order);
        free(accepted);
        free(trial);
        return;
    }
    int n = 0;
    for (int gi = 0; gi < b->n_groups; gi++)
        if (b->groups[gi].decision == DEPS_SHARDED)
            order[n++] = gi;
    for (int i = 1; i < n; i++)         /* insertion sort: n_keyed desc, then index */
        for (int j = i; j > 0 && b->groups[order[j]].n_keyed > b->groups[order[j - 1]].n_keyed;
             j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (int i = 0; i < n; i++) {
        struct group *g = &b->groups[order[i]];
        int lost = colset_merge(final_cols, g, b->n_ports, trial);
        bool ok = group_covered(trial, g, b->n_ports);
        for (int k = 0; k < i && ok && lost > 0; k++)
            if (accepted[order[k]] && !group_covered(trial, &b->groups[order[k]], b->n_ports))
                ok = false;
        if (ok) {
            *final_cols = *trial;
            accepted[order[i]] = true;
            continue;
        }
        /* Incompatible: shard what can be sharded, share this one. */
        char mine[256], names[256], theirs[512] = "";
        group_key_text(b, g, mine, sizeof mine);
        for (int k = 0; k < i; k++) {
            if (!accepted[order[k]])
                continue;
            char key[256], nm[256];
            group_key_text(b, &b->groups[order[k]], key, sizeof key);
            append(theirs, sizeof theirs, "%s%s by %s", theirs[0] ? "; " : "",
                   object_names(b, order[k], nm, sizeof nm), key);
        }
        g->decision = DEPS_SHARED;
        set_text(g->reason, sizeof g->reason,
                 "its own key would be %s, but that cannot agree with the sharding already "
                 "chosen (%s): RSS hashes one set of fields per port. Shared under the lock "
                 "(a mixed plan: the rest stays sharded)", mine, theirs);
        add_warning(b, "mixed plan: %s shared because its key %s conflicts with the sharded "
                       "state", object_names(b, order[i], names, sizeof names), mine);
    }
    free(order);
    free(accepted);
    free(trial);
}

/* ---- Filling the plan -------------------------------------------------------- */

static void fill_accesses(struct builder *b, struct deps_plan *out)
{
    const struct ir_nf *nf = b->nf;
    int n = 0;
    for (int i = 0; i < nf->n_accesses; i++) {
        const struct ir_access *a = &nf->accesses[i];
        struct deps_access *d = &out->accesses[n++];
        d->object = valid_object(nf, a->object) ? a->object : -1;
        d->op = api_op(a->api);
        d->port = a->port;
        set_text(d->file, sizeof d->file, "%s", a->where.file);
        d->line = a->where.line;
        const struct rkey *key = &b->keys[i];
        d->key.count = 0;
        if (key->cls != KEY_PARTS)
            continue;
        for (int k = 0; k < key->count && d->key.count < DEPS_MAX_KEY_FIELDS; k++)
            d->key.fields[d->key.count++] = key->parts[k].field;
    }
    for (int i = 0; i < nf->n_accesses; i++) {
        const struct ir_access *a = &nf->accesses[i];
        if (a->api != IR_API_CHASH_LOOKUP || !valid_object(nf, a->related[0]))
            continue;
        struct deps_access *d = &out->accesses[n++];
        d->object = a->related[0];
        d->op = DEPS_OP_READ;
        d->port = a->port;
        d->key.count = 0;
        set_text(d->file, sizeof d->file, "%s", a->where.file);
        d->line = a->where.line;
    }
    out->n_accesses = n;
}

static void fill_objects(struct builder *b, const struct colset *final_cols,
                         struct deps_plan *out)
{
    const struct ir_nf *nf = b->nf;
    int *number = malloc((size_t)(b->n_groups ? b->n_groups : 1) * sizeof *number);
    if (!number)
        return;
    for (int gi = 0; gi < b->n_groups; gi++)
        number[gi] = -1;
    int next = 0;
    for (int o = 0; o < nf->n_objects; o++) {
        struct deps_object *d = &out->objects[o];
        int gi = b->group_of[o];
        const struct group *g = &b->groups[gi];
        if (number[gi] < 0)
            number[gi] = next++;
        set_text(d->name, sizeof d->name, "%s", nf->objects[o].name);
        d->kind = object_kind(nf->objects[o].kind);
        d->key_size = nf->objects[o].key_size;
        d->record_size = nf->objects[o].record_size;
        d->capacity = nf->objects[o].capacity;
        d->width = nf->objects[o].width;
        d->depth = nf->objects[o].depth;
        d->group = number[gi];
        d->decision = g->decision;
        set_text(d->reason, sizeof d->reason, "%s", g->reason);
        if (g->decision != DEPS_SHARDED)
            continue;
        bool reached[DEPS_MAX_PORTS] = {false};
        for (int i = 0; i < nf->n_accesses; i++)
            if (nf->accesses[i].object == o && valid_port(b, nf->accesses[i].port))
                reached[nf->accesses[i].port] = true;
        for (int p = 0; p < b->n_ports; p++) {
            struct deps_key *key = &d->ports[p];
            key->count = 0;
            if (!reached[p])
                continue;
            for (int j = 0; j < g->n_columns && key->count < DEPS_MAX_KEY_FIELDS; j++) {
                if (!g->columns[j].has[p])
                    continue;
                int at = covering_column(final_cols, &g->columns[j], b->n_ports);
                if (at < 0)
                    continue;
                struct ir_field f = {g->columns[j].id[p], final_cols->cols[at].prefix};
                f.prefix = normal_prefix(f);
                key->fields[key->count++] = f;
            }
        }
    }
    free(number);
}

/* Sharded reasons are written last, from the final keys. */
static void explain_sharded(struct builder *b, int gi, const struct deps_plan *out,
                            const struct colset *final_cols, const char *why)
{
    struct group *g = &b->groups[gi];
    const struct ir_nf *nf = b->nf;
    char f[48];
    if (g->decision != DEPS_SHARDED || g->reason[0])
        return;
    char key[300] = "";
    bool cross_port = false, any = false;
    for (int p = 0; p < b->n_ports; p++) {
        /* the group's key on p: the widest of its objects' keys */
        const struct deps_key *best = NULL;
        for (int o = 0; o < nf->n_objects; o++)
            if (b->group_of[o] == gi && out->objects[o].ports[p].count > 0 &&
                (!best || out->objects[o].ports[p].count > best->count))
                best = &out->objects[o].ports[p];
        if (!best)
            continue;
        append(key, sizeof key, "%sport %d (", any ? ", " : "", p);
        for (int k = 0; k < best->count; k++)
            append(key, sizeof key, "%s%s", k ? ", " : "",
                   field_text(best->fields[k], f, sizeof f));
        append(key, sizeof key, ")");
        if (any)
            cross_port = true;
        any = true;
    }
    if (!any) {
        set_text(g->reason, sizeof g->reason,
                 "written per packet but never chosen by a packet field (fresh allocations, "
                 "expiry): each core keeps its own copy; any key will do");
        return;
    }
    bool sketch = false;
    for (int o = 0; o < nf->n_objects; o++)
        if (b->group_of[o] == gi && nf->objects[o].kind == IR_OBJ_SKETCH)
            sketch = true;
    set_text(g->reason, sizeof g->reason,
             "sharded by %s: packets that share an entry agree on these fields, so RSS "
             "sends them to one core; one copy per core, no lock.%s%s%s%s",
             key,
             cross_port ? " Field i on one port corresponds to field i on the other." : "",
             why[0] ? " " : "", why,
             sketch ? " A per-core sketch over-counts only from collisions on its own core: "
                      "estimates may be lower than sequentially, never below the true count."
                    : "");
    /* Say when the NF-wide check made the key coarser than the group's own. */
    for (int j = 0; j < g->n_columns; j++) {
        int at = covering_column(final_cols, &g->columns[j], b->n_ports);
        if (at < 0 || final_cols->cols[at].prefix == g->columns[j].prefix)
            continue;
        for (int p = 0; p < b->n_ports; p++) {
            if (!g->columns[j].has[p])
                continue;
            struct ir_field own = {g->columns[j].id[p], g->columns[j].prefix};
            append(g->reason, sizeof g->reason, " Its own key has %s; coarsened to agree with "
                   "the other sharded state.", field_text(own, f, sizeof f));
            break;
        }
        break;
    }
}

static void prefix_warnings(struct builder *b, const struct deps_plan *out)
{
    char f[48];
    for (int o = 0; o < out->n_objects; o++) {
        const struct deps_object *d = &out->objects[o];
        if (d->decision != DEPS_SHARDED)
            continue;
        for (int p = 0; p < out->n_ports; p++)
            for (int k = 0; k < d->ports[p].count; k++) {
                struct ir_field fl = d->ports[p].fields[k];
                if (fl.prefix == 0)
                    continue;
                add_warning(b, "%s is sharded by %s on port %d: only the top %u bits of the "
                               "field decide the core, so the load balance is poor when "
                               "traffic comes from few /%u networks",
                            d->name, field_text(fl, f, sizeof f), p, fl.prefix, fl.prefix);
                return;     /* once per NF is enough */
            }
    }
}

static void mixed_warning(struct builder *b, const struct deps_plan *out)
{
    int sharded = 0, shared = 0;
    char names[512] = "";
    for (int o = 0; o < out->n_objects; o++) {
        if (out->objects[o].decision == DEPS_SHARDED)
            sharded++;
        if (out->objects[o].decision == DEPS_SHARED) {
            shared++;
            append(names, sizeof names, "%s%s", names[0] ? ", " : "", out->objects[o].name);
        }
    }
    for (int i = 0; i < b->n_warnings; i++)
        if (strncmp(b->warnings[i], "mixed plan", 10) == 0)
            return;     /* the NF-wide check already explained it */
    if (sharded > 0 && shared > 0)
        add_warning(b, "mixed plan: %d object(s) sharded, %d shared under per-core read locks "
                       "(%s)", sharded, shared, names);
}

void deps_options_default(struct deps_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->counters_as_partial_sums = true;
}

static int check_input(const struct ir_nf *nf, int n_ports, struct util_error *err)
{
    if (n_ports < 1 || n_ports > DEPS_MAX_PORTS) {
        util_error_set(err, "%s: %d input ports; rsskey plans for 1 to %d ports "
                            "(use --ports N)", nf->path, n_ports, DEPS_MAX_PORTS);
        return UTIL_EXIT_USAGE;
    }
    if (nf->n_objects < 0 || nf->n_accesses < 0 || nf->n_writes < 0 || nf->n_issues < 0 ||
        (nf->n_objects > 0 && !nf->objects) || (nf->n_accesses > 0 && !nf->accesses) ||
        (nf->n_writes > 0 && !nf->writes) || (nf->n_issues > 0 && !nf->issues)) {
        util_error_set(err, "%s: the lifted NF is inconsistent (negative counts or missing "
                            "arrays); this is a bug in ir/", nf->path);
        return UTIL_EXIT_INPUT;
    }
    for (int i = 0; i < nf->n_accesses; i++)
        if (!valid_object(nf, nf->accesses[i].object)) {
            util_error_set(err, "%s: access %d names object %d of %d; this is a bug in ir/",
                           nf->path, i, nf->accesses[i].object, nf->n_objects);
            return UTIL_EXIT_INPUT;
        }
    return 0;
}

int deps_plan_build(const struct ir_nf *nf, const struct deps_options *opts,
                    struct deps_plan *out, struct util_error *err)
{
    memset(out, 0, sizeof *out);
    struct builder b;
    memset(&b, 0, sizeof b);
    b.nf = nf;
    if (opts)
        b.opts = *opts;
    else
        deps_options_default(&b.opts);
    b.n_ports = b.opts.ports > 0 ? b.opts.ports : nf->n_ports;
    int rc = check_input(nf, b.n_ports, err);
    if (rc != 0)
        return rc;

    size_t no = (size_t)(nf->n_objects ? nf->n_objects : 1);
    size_t na = (size_t)(nf->n_accesses ? nf->n_accesses : 1);
    size_t n_chash = 0;
    for (int i = 0; i < nf->n_accesses; i++)
        if (nf->accesses[i].api == IR_API_CHASH_LOOKUP)
            n_chash++;
    b.parent = calloc(no, sizeof *b.parent);
    b.group_of = calloc(no, sizeof *b.group_of);
    b.groups = calloc(no, sizeof *b.groups);
    b.keys = calloc(na, sizeof *b.keys);
    b.resolving = calloc(na, sizeof *b.resolving);
    out->objects = calloc(no, sizeof *out->objects);
    out->accesses = calloc(na + n_chash, sizeof *out->accesses);
    struct colset *final_cols = calloc(1, sizeof *final_cols);
    char (*why)[DEPS_REASON_MAX] = calloc(no, sizeof *why);
    rc = 0;
    if (!b.parent || !b.group_of || !b.groups || !b.keys || !b.resolving || !out->objects ||
        !out->accesses || !final_cols || !why) {
        util_error_set(err, "out of memory building the plan for %s", nf->path);
        rc = UTIL_EXIT_FAILURE;
        goto done;
    }
    set_text(out->nf, sizeof out->nf, "%s", nf->path);
    out->n_ports = b.n_ports;
    out->n_objects = nf->n_objects;

    b.index_map = calloc(no, sizeof *b.index_map);
    if (!b.index_map) {
        util_error_set(err, "out of memory building the plan for %s", nf->path);
        rc = UTIL_EXIT_FAILURE;
        goto done;
    }
    for (int i = 0; i < nf->n_accesses; i++) {
        const struct ir_access *a = &nf->accesses[i];
        if (a->api == IR_API_ALLOC_EXPIRE && valid_object(nf, a->related[0]))
            b.index_map[a->related[0]] = true;
    }
    build_groups(&b);
    if (!index_group_accesses(&b)) {
        util_error_set(err, "out of memory building the plan for %s", nf->path);
        rc = UTIL_EXIT_FAILURE;
        goto done;
    }
    for (int i = 0; i < nf->n_accesses; i++)
        resolve(&b, i);
    gather_facts(&b);
    apply_issues(&b);
    for (int gi = 0; gi < b.n_groups; gi++)
        decide_group(&b, gi, why[gi], sizeof why[gi]);
    merge_groups(&b, final_cols);
    fill_accesses(&b, out);
    fill_objects(&b, final_cols, out);
    for (int gi = 0; gi < b.n_groups; gi++) {
        explain_sharded(&b, gi, out, final_cols, why[gi]);
        for (int o = 0; o < nf->n_objects; o++)
            if (b.group_of[o] == gi)
                set_text(out->objects[o].reason, sizeof out->objects[o].reason, "%s",
                         b.groups[gi].reason);
    }
    prefix_warnings(&b, out);
    mixed_warning(&b, out);
    out->warnings = b.warnings;
    out->n_warnings = b.n_warnings;
    b.warnings = NULL;
    b.n_warnings = 0;
done:
    for (int i = 0; i < b.n_warnings; i++)
        free(b.warnings[i]);
    free(b.warnings);
    free(b.parent);
    free(b.group_of);
    free(b.groups);
    free(b.keys);
    free(b.resolving);
    free(b.index_map);
    free(b.group_first);
    free(b.group_accesses);
    free(final_cols);
    free(why);
    return rc;
}
