/*
 * relate.c - how a replay's packet relates to the sequential NF's (equal,
 * translated, different), and whether each flow's translation is a
 * consistent bijection (verify.c's translation class; docs/launcher.md).
 */
#include <stdlib.h>
#include <string.h>

#include "launcher/launcher_internal.h"

/* ---- Comparing two replays' packet -------------------------------------------- */

const uint8_t *run_input(const struct launcher *l, const struct machine_run *r, size_t i)
{
    return r->in[i] ? r->in[i] : l->set->packets[i].bytes;
}

bool tuple_field_equal(const struct frame_tuple *a, const struct frame_tuple *b, int f)
{
    switch (f) {
    case 0: return memcmp(a->src, b->src, 16) == 0;
    case 1: return memcmp(a->dst, b->dst, 16) == 0;
    case 2: return a->sport == b->sport;
    default: return a->dport == b->dport;
    }
}

static void field_value(const struct frame_tuple *t, int f, uint8_t out[16])
{
    memset(out, 0, 16);
    if (f == 0)
        memcpy(out, t->src, 16);
    else if (f == 1)
        memcpy(out, t->dst, 16);
    else
        memcpy(out, f == 2 ? &t->sport : &t->dport, 2);
}

static void copy_checksums(uint8_t *to, const uint8_t *from, uint32_t len,
                           const struct frame_tuple *t)
{
    if (t->family == 4 && t->l3_off + 12 <= len)
        memcpy(to + t->l3_off + 10, from + t->l3_off + 10, 2);
    if (t->has_ports) {
        uint32_t at = t->l4_off + (t->proto == NF_PROTO_TCP ? 16 : 6);
        if ((t->proto == NF_PROTO_TCP || t->proto == NF_PROTO_UDP) && at + 2 <= len)
            memcpy(to + at, from + at, 2);
    }
}

/* Writes t's addresses and ports over the frame's (same layout). */
static void put_tuple(uint8_t *frame, const struct frame_tuple *layout,
                      const struct frame_tuple *t)
{
    int n = layout->family == 4 ? 4 : 16;
    int at = layout->family == 4 ? 12 : 8;
    memcpy(frame + layout->l3_off + at, t->src, (size_t)n);
    memcpy(frame + layout->l3_off + at + n, t->dst, (size_t)n);
    if (layout->has_ports) {
        memcpy(frame + layout->l4_off, &t->sport, 2);
        memcpy(frame + layout->l4_off + 2, &t->dport, 2);
    }
}

/* Packet i of replay x against the sequential s. A forward packet whose
 * outputs differ only in addresses/ports both replays rewrote (and the
 * checksums over them) is TRANSLATED; a reply re-addressed by the model must
 * come out byte for byte as the sequential NF's. */
enum relation relate(const struct launcher *l, const struct machine_run *s,
                            const struct machine_run *x, size_t i, const char **why)
{
    const struct vpacket *v = &l->set->packets[i];
    if (s->verdict[i] != x->verdict[i]) {
        *why = "verdict";
        return REL_DIFFERENT;
    }
    const uint8_t *so = machine_output(s, i), *xo = machine_output(x, i);
    if (s->verdict[i] < 0 || memcmp(so, xo, v->len) == 0)
        return REL_EQUAL;
    *why = "bytes";
    if (s->in[i] || x->in[i])
        return REL_DIFFERENT;           /* a reply: translated back differently */
    struct frame_tuple tin, ts, tx;
    if (!frame_tuple_of(v->bytes, v->len, &tin) || !frame_tuple_of(so, v->len, &ts) ||
        !frame_tuple_of(xo, v->len, &tx) || ts.family != tx.family ||
        ts.has_ports != tx.has_ports || ts.l3_off != tx.l3_off || ts.l4_off != tx.l4_off)
        return REL_DIFFERENT;
    /* Fields the two outputs disagree on must be ones the NF rewrites (one
     * run may pick the original value by chance). */
    for (int f = 0; f < 4; f++)
        if (!tuple_field_equal(&ts, &tx, f) && tuple_field_equal(&ts, &tin, f) && tuple_field_equal(&tx, &tin, f)) {
            *why = "a field neither of them rewrote";
            return REL_DIFFERENT;
        }
    if (frame_checksums_current(so, v->len) != frame_checksums_current(xo, v->len)) {
        *why = "checksums";
        return REL_DIFFERENT;
    }
    uint8_t *norm = malloc(v->len);
    if (!norm)
        return REL_DIFFERENT;
    memcpy(norm, xo, v->len);
    put_tuple(norm, &tx, &ts);
    copy_checksums(norm, so, v->len, &tx);
    bool same = memcmp(norm, so, v->len) == 0;
    free(norm);
    if (!same)
        return REL_DIFFERENT;
    *why = "translation";
    return REL_TRANSLATED;
}

/* ---- Is each flow's translation a consistent bijection? ---------------------- */

/* A NAT translates each direction of a connection on its own, so a flow here
 * is directional: the packet's tuple as captured. A reply's flow is the one
 * of its reverse tuple, or, when the reply is addressed to a translation the
 * sequential NF sent (a capture taken behind one instance), the flow that
 * translation belongs to. */

static int64_t flow_id(struct tuple_map *ids, const struct frame_tuple *t, int64_t *count)
{
    struct tuple_entry *e = tuple_map_get(ids, t);
    if (!e) {
        e = tuple_map_put(ids, t);
        if (!e)
            return -2;
        e->id = (*count)++;
    }
    return e->id;
}

int flows_of(const struct launcher *l, const struct frame_tuple *seq_sent,
                    struct flows *f)
{
    struct tuple_map ids = {0}, sent = {0};
    size_t n = l->set->n;
    f->count = 0;
    f->id = malloc((n + 1) * sizeof *f->id);
    f->reverse = malloc((n + 1) * sizeof *f->reverse);
    int rc = f->id && f->reverse ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct frame_tuple t, r;
        f->id[i] = f->reverse[i] = -1;
        if (!frame_tuple_of(l->set->packets[i].bytes, l->set->packets[i].len, &t))
            continue;
        frame_tuple_reverse(&t, &r);
        f->id[i] = flow_id(&ids, &t, &f->count);
        const struct tuple_entry *to_seq = tuple_map_get(&sent, &r);
        f->reverse[i] = to_seq ? to_seq->id : flow_id(&ids, &r, &f->count);
        if (f->id[i] < -1 || f->reverse[i] < -1)
            rc = -1;
        /* The latest flow S translated to a tuple owns the replies to it. */
        struct tuple_entry *e;
        if (rc == 0 && seq_sent && seq_sent[i].family) {
            if (!(e = tuple_map_put(&sent, &seq_sent[i])))
                rc = -1;
            else
                e->id = f->id[i];
        }
    }
    tuple_map_free(&ids);
    tuple_map_free(&sent);
    return rc;
}

void flows_free(struct flows *f)
{
    free(f->id);
    free(f->reverse);
}

struct flow_check {
    bool invalid;
    bool has[4];
    uint8_t last_x[4][16];
};

/* A forward packet's output tuple when run r translated it (it left with
 * other addresses or ports than it came with), else false. */
bool translated_tuple(const struct launcher *l, const struct machine_run *r, size_t i,
                             struct frame_tuple *out)
{
    const struct vpacket *v = &l->set->packets[i];
    struct frame_tuple tin;
    return !r->in[i] && r->verdict[i] >= 0 && r->out[i] && frame_tuple_of(r->input[i], v->len, &tin) &&
           frame_tuple_of(r->out[i], v->len, out) && !frame_tuple_same_flow_fields(&tin, out);
}

/* Who holds each translated tuple in run r, packet by packet: the flow whose
 * latest translation (a packet that allocated) sent it. */
struct owners {
    struct tuple_map map;
};

/* Records packet i of r; returns -1 when out of memory. */
static int owners_note(struct owners *o, const struct launcher *l, const struct machine_run *r,
                       size_t i, int64_t flow)
{
    struct frame_tuple t;
    if (!translated_tuple(l, r, i, &t))
        return 0;
    struct tuple_entry *e = tuple_map_get(&o->map, &t);
    if (!e && !(e = tuple_map_put(&o->map, &t)))
        return -1;
    if (r->touched[i].allocated || !e->to.family) {
        e->id = flow;
        e->to.family = 1;
    }
    return 0;
}

/* Reply i of r (re-addressed by the model) reaches a translation the NF has
 * since given to another flow: the capture's reply came too late. */
static bool stale_reply(const struct owners *o, const struct launcher *l,
                        const struct machine_run *r, size_t i, int64_t forward_flow)
{
    struct frame_tuple in, target;
    if (!r->in[i] || !frame_tuple_of(r->in[i], l->set->packets[i].len, &in))
        return false;
    frame_tuple_reverse(&in, &target);
    const struct tuple_entry *e = tuple_map_get(&o->map, &target);
    return e && e->to.family && e->id != forward_flow;
}

/* Marks the flows whose translation in x is not a consistent bijection. A
 * translation begins where a run allocates (an allocator hands out an index
 * on the flow's packet): x and the sequential NF must begin one at the same
 * packets (a sound plan expires and allocates at the same packets), x's
 * values may not change in between, and (`injective`: where per-core ranges
 * are disjoint) x may not send a tuple another flow's latest translation
 * took. Every reply x re-addressed must leave with the sequential NF's tuple
 * (the translation leads back where the NF sends replies), unless it came
 * after the translation was given to another flow in either run (a stale
 * reply: where it goes depends on which values were reused, REL_TRANSLATED). */
static int check_translations(const struct launcher *l, const struct machine_run *s,
                              const struct machine_run *x, enum relation *rel, const char **why,
                              bool injective, bool *flow_invalid, const struct flows *fl)
{
    struct flow_check *fc = calloc((size_t)fl->count + 1, sizeof *fc);
    struct owners own_s = {{0}}, own_x = {{0}};
    if (!fc)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < l->set->n && rc == 0; i++) {
        const struct vpacket *v = &l->set->packets[i];
        int64_t f = fl->id[i], back = fl->reverse[i];
        if ((x->in[i] || s->in[i]) && back >= 0) {
            bool stale = stale_reply(&own_s, l, s, i, back) || stale_reply(&own_x, l, x, i, back);
            if (stale && rel[i] == REL_DIFFERENT) {
                rel[i] = REL_TRANSLATED;
                why[i] = "a reply to a translation since given to another flow";
            }
            struct frame_tuple want, got;
            if (!stale && x->in[i] && x->verdict[i] >= 0 && s->verdict[i] >= 0 &&
                (!frame_tuple_of(machine_output(s, i), v->len, &want) ||
                 !frame_tuple_of(machine_output(x, i), v->len, &got) ||
                 !frame_tuple_same_flow_fields(&want, &got)))
                fc[back].invalid = true;
        }
        if (f >= 0 && (owners_note(&own_s, l, s, i, f) != 0 ||
                       owners_note(&own_x, l, x, i, f) != 0)) {
            rc = -1;
            break;
        }
        if (rel[i] != REL_TRANSLATED || f < 0 || x->in[i] || s->in[i])
            continue;
        bool alloc_x = x->touched[i].allocated != 0;
        if (alloc_x != (s->touched[i].allocated != 0))
            fc[f].invalid = true;       /* a new translation in one run only */
        struct frame_tuple tx;
        frame_tuple_of(machine_output(x, i), v->len, &tx);
        for (int k = 0; k < 4; k++) {
            uint8_t vx[16];
            field_value(&tx, k, vx);
            if (fc[f].has[k] && !alloc_x && memcmp(vx, fc[f].last_x[k], 16) != 0)
                fc[f].invalid = true;   /* changed without a new translation */
            fc[f].has[k] = true;
            memcpy(fc[f].last_x[k], vx, 16);
        }
        /* Two flows on one output tuple are indistinguishable to the peer:
         * only the flow of the latest translation may send it. */
        const struct tuple_entry *e = tuple_map_get(&own_x.map, &tx);
        if (injective && e && e->id != f) {
            fc[f].invalid = true;
            fc[e->id].invalid = true;
        }
    }
    for (int64_t f = 0; f < fl->count; f++)
        flow_invalid[f] = fc[f].invalid;
    free(fc);
    tuple_map_free(&own_s.map);
    tuple_map_free(&own_x.map);
    return rc;
}

/* rel[i] for every packet of x against s, translations checked per flow. */
int relate_all(const struct launcher *l, const struct machine_run *s,
                      const struct machine_run *x, bool injective, const struct flows *fl,
                      enum relation *rel, const char **why)
{
    for (size_t i = 0; i < l->set->n; i++) {
        why[i] = NULL;
        rel[i] = relate(l, s, x, i, &why[i]);
    }
    bool *invalid = calloc((size_t)fl->count + 1, sizeof *invalid);
    if (!invalid || check_translations(l, s, x, rel, why, injective, invalid, fl) != 0) {
        free(invalid);
        return -1;
    }
    for (size_t i = 0; i < l->set->n; i++)
        if (rel[i] == REL_TRANSLATED && fl->id[i] >= 0 && invalid[fl->id[i]]) {
            rel[i] = REL_DIFFERENT;
            why[i] = "a translation that is not a consistent bijection back to the original "
                     "endpoints";
        }
    free(invalid);
    return 0;
}
