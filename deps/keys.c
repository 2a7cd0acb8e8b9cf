/*
 * keys.c - the first half of building a plan: small text helpers, groups of
 * objects partitioned together (union-find over "an index one object hands
 * out is used by another"), each access's key resolved into packet terms
 * through state-feeds-key edges, per-group facts, and ir's issues. Rules:
 * docs/analysis.md ("Decision rules").
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deps/build_internal.h"

/* ---- Small helpers ----------------------------------------------------------- */

void text_append(char *buf, size_t size, const char *fmt, ...)
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
void set_text(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, size, fmt, ap);
    va_end(ap);
}

void add_warning(struct builder *b, const char *fmt, ...)
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
const char *location_text(const struct ir_location *loc, char *buf, size_t size)
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

const char *field_text(struct ir_field f, char *buf, size_t size)
{
    return ir_field_format(f, buf, (unsigned)size);
}

uint8_t normal_prefix(struct ir_field f)
{
    unsigned bits = ir_field_bits(f.id);
    return f.prefix == 0 || f.prefix >= bits ? 0 : f.prefix;
}

/* The coarser of two prefixes (0 = whole field). */
uint8_t coarser(uint8_t a, uint8_t b)
{
    if (a == 0)
        return b;
    if (b == 0)
        return a;
    return a < b ? a : b;
}

bool api_writes(enum ir_api api)
{
    switch (api) {
    case IR_API_MAP_PUT: case IR_API_MAP_ERASE: case IR_API_VECTOR_WRITE:
    case IR_API_ALLOC_NEW: case IR_API_ALLOC_REFRESH: case IR_API_ALLOC_FREE:
    case IR_API_ALLOC_EXPIRE: case IR_API_SKETCH_ADD: case IR_API_SKETCH_RESET:
    case IR_API_COUNTER_ADD: case IR_API_TSKETCH_ADD: case IR_API_TSKETCH_TOUCH:
    case IR_API_TSKETCH_EXPIRE:
        return true;
    default:
        return false;
    }
}

/* APIs whose key is an index handed out by a map value or an allocator. */
bool api_indexed(enum ir_api api)
{
    switch (api) {
    case IR_API_VECTOR_READ: case IR_API_VECTOR_WRITE: case IR_API_ALLOC_REFRESH:
    case IR_API_ALLOC_IS_ALLOCATED: case IR_API_ALLOC_FREE:
        return true;
    default:
        return false;
    }
}

const char *api_name(enum ir_api api)
{
    static const char *const names[] = {
        "nf_map_get", "nf_map_put", "nf_map_erase", "nf_vector_read", "nf_vector_write",
        "nf_alloc_new", "nf_alloc_refresh", "nf_alloc_is_allocated", "nf_alloc_free",
        "nf_alloc_expire", "nf_sketch_add", "nf_sketch_estimate", "nf_sketch_reset",
        "nf_chash_lookup", "nf_counter_add", "nf_counter_read", "nf_tsketch_add",
        "nf_tsketch_touch", "nf_tsketch_estimate", "nf_tsketch_expire"};
    return (unsigned)api < sizeof names / sizeof names[0] ? names[api] : "a state call";
}

bool api_expires(enum ir_api api)
{
    return api == IR_API_ALLOC_EXPIRE || api == IR_API_TSKETCH_EXPIRE;
}

enum deps_op api_op(enum ir_api api)
{
    switch (api) {
    case IR_API_ALLOC_NEW: return DEPS_OP_ALLOCATE;
    case IR_API_ALLOC_REFRESH: return DEPS_OP_REFRESH;
    case IR_API_ALLOC_FREE: return DEPS_OP_FREE;
    case IR_API_ALLOC_EXPIRE: case IR_API_TSKETCH_EXPIRE: return DEPS_OP_EXPIRE;
    default: return api_writes(api) ? DEPS_OP_WRITE : DEPS_OP_READ;
    }
}

enum deps_object_kind object_kind(enum ir_object_kind k)
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

bool valid_object(const struct ir_nf *nf, int o)
{
    return o >= 0 && o < nf->n_objects;
}

bool valid_access(const struct ir_nf *nf, int a)
{
    return a >= 0 && a < nf->n_accesses;
}

bool valid_port(const struct builder *b, int p)
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
void build_groups(struct builder *b)
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
bool index_group_accesses(struct builder *b)
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

int group_of_access(const struct builder *b, int access)
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
                     "it)", buf, also, d->op, location_text(&d->where, loc, sizeof loc),
                     also[0] ? "one field" : "the field");
            break;
        }
        set_text(out->what, sizeof out->what, "a value the analysis could not describe");
        break;
    }
}

/* Why an L4 port of access a's key cannot be hashed, or NULL when it can.
 * A first fragment carries its ports (nf_l4 returns them) while NICs hash
 * every fragment on its addresses only, so ports key sharded state only for
 * packets proven not to be fragments; and in a key without addresses, only
 * for packets proven of one IP version (IPv4 and IPv6 packets with the same
 * ports are hashed on different inputs). docs/analysis.md, "Fragments". */
static const char *port_unhashable(const struct ir_access *a)
{
    if (!(a->packets & IR_PKT_NOT_FRAGMENT))
        return "first fragments carry it; NICs hash fragments without ports";
    bool address = false;
    for (int k = 0; k < a->key.count && k < IR_KEY_MAX_PARTS; k++) {
        enum ir_field_id id = a->key.parts[k].field.id;
        address |= id == IR_FIELD_IPV4_SRC || id == IR_FIELD_IPV4_DST ||
                   id == IR_FIELD_IPV6_SRC || id == IR_FIELD_IPV6_DST;
    }
    bool one_family = (a->packets & (IR_PKT_IPV4 | IR_PKT_IPV6)) == IR_PKT_IPV4 ||
                      (a->packets & (IR_PKT_IPV4 | IR_PKT_IPV6)) == IR_PKT_IPV6;
    if (!address && !one_family)
        return "IPv4 and IPv6 packets reach it; NICs hash the two apart";
    return NULL;
}

static void push_part(struct rkey *key, const struct rpart *part)
{
    if (key->count < RKEY_MAX)
        key->parts[key->count++] = *part;
}

const struct rkey *key_resolve(struct builder *b, int i);

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
    case IR_API_TSKETCH_EXPIRE:     /* per core, by time: like an allocator's expiry */
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
        const char *port_why = part->field.id == IR_FIELD_L4_SPORT ||
                                       part->field.id == IR_FIELD_L4_DPORT
                                   ? port_unhashable(a) : NULL;
        if (port_why) {
            char buf[48];
            rp.field = part->field;
            set_text(rp.what, sizeof rp.what, "%s (%s)", field_text(part->field, buf, sizeof buf),
                     port_why);
            push_part(out, &rp);
            continue;
        }
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
                                        ? NULL : key_resolve(b, part->from_access);
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
            set_text(rp.what, sizeof rp.what, "a value of %s (an index the analysis cannot "
                     "tie to one key: it trusts map values only when nf_alloc_expire(alloc, "
                     "time, %s, keys) frees each index with its key, the flow-table pattern "
                     "of docs/nf-api.md)",
                     nf->objects[nf->accesses[part->from_access].object].name,
                     nf->objects[nf->accesses[part->from_access].object].name);
        push_part(out, &rp);
    }
    if (out->count == 0)
        out->cls = fresh ? KEY_FREE : KEY_WHOLE;
    else if (fresh)
        out->keyspace = a->object;
}

const struct rkey *key_resolve(struct builder *b, int i)
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

void gather_facts(struct builder *b)
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
            if (g->first_write < 0 || (api_expires(nf->accesses[g->first_write].api) &&
                                       !api_expires(a->api)))
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
            text_append(ports, sizeof ports, "%s%d", n_ports++ ? ", " : "", nf->issues[j].port);
        }
        location_text(&is->where, loc, sizeof loc);
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
void apply_issues(struct builder *b)
{
    const struct ir_nf *nf = b->nf;
    char loc[160];
    int *hits = calloc((size_t)(nf->n_issues ? nf->n_issues : 1), sizeof *hits);
    if (!hits)
        return;
    for (int i = 0; i < nf->n_issues; i++) {
        const struct ir_issue *is = &nf->issues[i];
        location_text(&is->where, loc, sizeof loc);
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
