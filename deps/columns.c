/*
 * columns.c - the fields one group of objects can be sharded by, port by
 * port: the hashable fields common to every keyed access on a port, linked
 * across ports by equal key layouts or by a guard whose stored bytes were
 * written from a field of the other port (the NAT). Rules and why they are
 * sound: docs/analysis.md ("Decision rules", "Soundness").
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deps/build_internal.h"

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
        text_append(buf, size, "%s%s", i ? ", " : "",
               key->parts[i].hashable ? field_text(key->parts[i].field, f, sizeof f)
                                      : key->parts[i].what);
}

static void unhashable_list_text(const struct rkey *key, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = 0, n = 0; i < key->count; i++)
        if (!key->parts[i].hashable)
            text_append(buf, size, "%s%s", n++ ? ", " : "", key->parts[i].what);
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
/* The field at each position of key k on port p, with every pair the group
 * found trading places on p (1b) put in one order: under a hash symmetric in
 * the pair, (x, y) and (y, x) are the same key. */
static void ordered_fields(const struct group *g, int p, const struct rkey *k,
                           enum ir_field_id *ids)
{
    for (int i = 0; i < k->count; i++)
        ids[i] = k->parts[i].field.id;
    for (int t = 0; t < g->n_swaps[p]; t++) {
        int at_second = -1, at_first = -1;
        for (int i = 0; i < k->count; i++) {
            if (ids[i] == g->swaps[p][t][1] && at_second < 0)
                at_second = i;
            else if (ids[i] == g->swaps[p][t][0] && at_second >= 0 && at_first < 0)
                at_first = i;
        }
        if (at_second >= 0 && at_first >= 0) {
            ids[at_second] = g->swaps[p][t][0];
            ids[at_first] = g->swaps[p][t][1];
        }
    }
}

static void link_by_keyspace(const struct builder *b, int group, int r, int q,
                             struct port_map *m)
{
    const struct ir_nf *nf = b->nf;
    const struct group *g = &b->groups[group];
    enum ir_field_id ids_r[RKEY_MAX], ids_q[RKEY_MAX];
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
            ordered_fields(g, r, ki, ids_r);
            ordered_fields(g, q, kj, ids_q);
            for (int k = 0; k < ki->count; k++)
                if (ki->parts[k].hashable && kj->parts[k].hashable)
                    map_add(m, ids_r[k], ids_q[k],
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
        location_text(&rw->where, loc, sizeof loc);
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
                        location_text(&a->where, loc, sizeof loc);
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
    location_text(&nf->accesses[guard_access].where, gloc, sizeof gloc);
    for (int xi = b->group_first[group]; xi < b->group_first[group + 1]; xi++) {
        int i = b->group_accesses[xi];
        const struct ir_access *a = &nf->accesses[i];
        if (i == guard_access || a->port != q || group_of_access(b, i) != group ||
            !api_writes(a->api) || api_expires(a->api) || a->api == IR_API_ALLOC_NEW)
            continue;
        if (a->guarded_by == guard_access)
            continue;
        location_text(&a->where, loc, sizeof loc);
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
            location_text(&hw->where, loc, sizeof loc);
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
 * coming back. Returns the write's index or -1; *own_field is the field of
 * port q's packets that carries the value. */
static int find_own_value_key(const struct builder *b, int group, int q, int *key_access,
                              enum ir_field_id *own_field)
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
                    *own_field = key->parts[k].field.id;
                    return w;
                }
        }
    }
    return -1;
}

/* Does a header write on port q take its value from `own` (the field that
 * carries an index nf_process allocated), copied or computed? Per-core
 * allocators hand out other indexes than the sequential NF, so such a
 * rewrite would differ (a NAT that answers host `stored + (index & 1)`).
 * Writing state the index selects is fine: that is the entry itself. */
static int header_write_from_own_value(const struct builder *b, int q, enum ir_field_id own,
                                       int *derivation)
{
    const struct ir_nf *nf = b->nf;
    for (int w = 0; w < nf->n_writes; w++) {
        const struct ir_header_write *hw = &nf->writes[w];
        if (hw->port != q)
            continue;
        for (int k = 0; k < hw->value.count && k < IR_KEY_MAX_PARTS; k++) {
            const struct ir_key_part *p = &hw->value.parts[k];
            *derivation = -1;
            if (p->field.id == own)
                return w;
            if (p->field.id == IR_FIELD_UNKNOWN && p->derived > 0 &&
                p->derived <= nf->n_derivations) {
                const struct ir_derivation *d = &nf->derivations[p->derived - 1];
                if (d->field.id == own || d->also.id == own) {
                    *derivation = p->derived - 1;
                    return w;
                }
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

void access_where(const struct builder *b, int i, char *buf, size_t size)
{
    location_text(&b->nf->accesses[i].where, buf, size);
}

/* Two keys of one key space on one port whose hashable differing positions
 * are pairs of equal-width fields that trade places (ki has x at k and y at
 * k2, kj has y at k and x at k2): records the pairs on the group and returns
 * true. Positions RSS cannot hash do not count (they are not in the key). */
static bool note_swaps(struct group *g, int p, const struct rkey *ki, const struct rkey *kj)
{
    enum ir_field_id found[4][2];
    int n = 0;
    for (int k = 0; k < ki->count; k++) {
        const struct rpart *a = &ki->parts[k], *c = &kj->parts[k];
        if (!a->hashable || !c->hashable || a->field.id == c->field.id)
            continue;
        int k2 = -1;
        for (int t = 0; t < ki->count && k2 < 0; t++)
            if (t != k && ki->parts[t].hashable && kj->parts[t].hashable &&
                ki->parts[t].field.id == c->field.id && kj->parts[t].field.id == a->field.id)
                k2 = t;
        if (k2 < 0 || ir_field_bits(a->field.id) != ir_field_bits(c->field.id) ||
            a->field.prefix != c->field.prefix || ki->parts[k2].field.prefix != a->field.prefix)
            return false;
        if (k2 < k)
            continue;                   /* the pair was noted at k2 */
        if (n == 4)
            return false;
        found[n][0] = a->field.id;
        found[n][1] = c->field.id;
        n++;
    }
    if (n == 0)
        return false;
    for (int i = 0; i < n; i++) {
        bool known = false;
        for (int t = 0; t < g->n_swaps[p] && !known; t++)
            known = (g->swaps[p][t][0] == found[i][0] && g->swaps[p][t][1] == found[i][1]) ||
                    (g->swaps[p][t][0] == found[i][1] && g->swaps[p][t][1] == found[i][0]);
        if (known)
            continue;
        if (g->n_swaps[p] == 4)
            return false;
        g->swaps[p][g->n_swaps[p]][0] = found[i][0];
        g->swaps[p][g->n_swaps[p]][1] = found[i][1];
        g->n_swaps[p]++;
    }
    return true;
}

static int column_on(const struct group *g, int p, enum ir_field_id id)
{
    for (int c = 0; c < g->n_columns; c++)
        if (g->columns[c].has[p] && g->columns[c].id[p] == id)
            return c;
    return -1;
}

/* After the columns are set: each pair of fields that trade places on a
 * port becomes a pair of twin columns (one prefix, the coarser). A pair
 * whose other half did not survive as a column is no key at all: that half
 * goes too, and with no column left the group is shared. */
static bool group_swaps(struct builder *b, int gi)
{
    struct group *g = &b->groups[gi];
    int before = g->n_columns;
    for (bool removed = true; removed;) {
        removed = false;
        for (int p = 0; p < b->n_ports && !removed; p++)
            for (int t = 0; t < g->n_swaps[p] && !removed; t++) {
                int x = column_on(g, p, g->swaps[p][t][0]);
                int y = column_on(g, p, g->swaps[p][t][1]);
                if ((x >= 0) == (y >= 0))
                    continue;
                int lone = x >= 0 ? x : y;
                g->columns[lone] = g->columns[--g->n_columns];
                removed = true;
            }
    }
    memset(g->twin, 0, sizeof g->twin);
    for (int p = 0; p < b->n_ports; p++)
        for (int t = 0; t < g->n_swaps[p]; t++) {
            int x = column_on(g, p, g->swaps[p][t][0]), y = column_on(g, p, g->swaps[p][t][1]);
            if (x < 0 || y < 0)
                continue;
            uint8_t pre = coarser(g->columns[x].prefix, g->columns[y].prefix);
            g->columns[x].prefix = g->columns[y].prefix = pre;
            g->twin[x][p] = (uint8_t)(y + 1);
            g->twin[y][p] = (uint8_t)(x + 1);
        }
    if (g->n_columns == 0 && before > 0) {
        set_text(g->reason, sizeof g->reason,
                 "its key holds fields that trade places between accesses (a key put in "
                 "canonical order), and only one field of such a pair can key the plan; a "
                 "symmetric hash needs both: shared under the lock");
        return false;
    }
    return true;
}

static bool group_columns_of(struct builder *b, int gi, char *why_sharded, size_t why_size);

/* Sets g->columns (and twin columns), or fills g->reason and returns false. */
bool group_columns(struct builder *b, int gi, char *why_sharded, size_t why_size)
{
    struct group *g = &b->groups[gi];
    memset(g->n_swaps, 0, sizeof g->n_swaps);
    if (!group_columns_of(b, gi, why_sharded, why_size))
        return false;
    return group_swaps(b, gi);
}

static bool group_columns_of(struct builder *b, int gi, char *why_sharded, size_t why_size)
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
     * lookup of the reverse flow on the port that inserted it, or a key put
     * in canonical order): when the differing positions are pairs of fields
     * that trade places, a hash symmetric in each pair keeps both orders on
     * one core (group_swaps); otherwise neither field counts. */
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
                if (note_swaps(g, p, ki, kj))
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
                     "fields trade places, but not as whole pairs of equal width that a "
                     "symmetric hash could keep on one core; shared under the lock",
                     p, k1, loc, k2, loc2);
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
            enum ir_field_id own = IR_FIELD_UNKNOWN;
            int w = find_own_value_key(b, gi, q, &key_access, &own);
            int qa = raw ? raw_first[q] : first_keyed_access(b, gi, q);
            access_where(b, qa, loc, sizeof loc);
            key_list_text(&b->keys[qa], text, sizeof text);
            if (w >= 0) {
                const struct ir_header_write *hw = &nf->writes[w];
                location_text(&hw->where, loc2, sizeof loc2);
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
            enum ir_field_id own = IR_FIELD_UNKNOWN;
            int w = find_own_value_key(b, gi, q, &key_access, &own);
            int derivation = -1;
            int leak = w >= 0 ? header_write_from_own_value(b, q, own, &derivation) : -1;
            if (leak >= 0) {
                const struct ir_header_write *hw = &nf->writes[leak];
                char f2[48], how[200] = "a copy";
                location_text(&hw->where, loc, sizeof loc);
                location_text(&nf->writes[w].where, loc2, sizeof loc2);
                if (derivation >= 0) {
                    const struct ir_derivation *d = &nf->derivations[derivation];
                    char dl[160];
                    location_text(&d->where, dl, sizeof dl);
                    set_text(how, sizeof how, "computed by %s at %s", d->op, dl);
                }
                struct ir_field of = {own, 0};
                set_text(g->reason, sizeof g->reason,
                         "port %d rewrites %s (at %s) from %s (%s), which carries the index "
                         "nf_process allocated and wrote into %s on port %d (at %s): per-core "
                         "allocators hand out other indexes than one instance does, so the "
                         "rewritten bytes would change with the plan; shared under the lock",
                         q, field_text(hw->field, f1, sizeof f1), loc,
                         field_text(of, f2, sizeof f2), how,
                         field_text(nf->writes[w].field, text, sizeof text),
                         nf->writes[w].port, loc2);
                return false;
            }
            char pairs[256] = "", f2[48];
            for (int c = 0; c < g->n_columns; c++) {
                struct ir_field a = {g->columns[c].id[ref], g->columns[c].prefix};
                struct ir_field z = {g->columns[c].id[q], g->columns[c].prefix};
                text_append(pairs, sizeof pairs, "%sstored %s == packet %s", c ? ", " : "",
                       field_text(a, f1, sizeof f1), field_text(z, f2, sizeof f2));
            }
            access_where(b, guard_access, loc, sizeof loc);
            char loc3[160] = "an unknown line";
            if (write_at >= 0)
                location_text(&nf->record_writes[write_at].where, loc3, sizeof loc3);
            if (w >= 0) {
                char kt[128];
                key_list_text(&b->keys[key_access], kt, sizeof kt);
                location_text(&nf->writes[w].where, loc2, sizeof loc2);
                text_append(why_sharded, why_size, "Port %d finds entries by %s, the index "
                       "nf_process wrote into %s on port %d (%s); ", q, kt,
                       field_text(nf->writes[w].field, f1, sizeof f1), nf->writes[w].port,
                       loc2);
            } else {
                text_append(why_sharded, why_size, "Port %d finds entries by an index, not by the "
                       "port-%d key; ", q, ref);
            }
            text_append(why_sharded, why_size,
                   "no hash maps that to the core that allocated it, so port %d is sharded by "
                   "the packet fields checked in the guard at %s (%s; the stored values are "
                   "written from those port-%d fields, first at %s; and port %d's writes to this "
                   "state run only after the guard holds). This relies on "
                   "per-core allocators with disjoint index ranges (allocated values stay "
                   "globally unique) and on a port-%d packet whose guard fails being dropped "
                   "on any core.",
                   q, loc, pairs, ref, loc3, q, q);
            if (unmatched[0])
                text_append(why_sharded, why_size, " Not used: %s.", unmatched);
        }
    }
    return true;
}
