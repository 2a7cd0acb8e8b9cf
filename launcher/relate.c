/*
 * relate.c - how a replay's packet relates to the sequential NF's (equal,
 * translated, different), and whether each flow's translation is a
 * consistent bijection (verify.c's translation class; docs/launcher.md).
 */
#include <stdlib.h>
#include <string.h>

#include "launcher/launcher_internal.h"

/* ---- Comparing two replays' packet -------------------------------------------- */

const uint8_t *replay_input(const struct vpacket *p, const struct replay_view *r)
{
    return r->in ? r->in : p->bytes;
}

const uint8_t *replay_output(const struct vpacket *p, const struct replay_view *r)
{
    return r->out ? r->out : replay_input(p, r);
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

/* Packet p in replay x against the sequential s. A forward packet whose
 * outputs differ only in addresses/ports both replays rewrote (and the
 * checksums over them) is TRANSLATED; a reply re-addressed by the model must
 * come out byte for byte as the sequential NF's. */
enum relation relate(const struct vpacket *v, const struct replay_view *s,
                     const struct replay_view *x, const char **why)
{
    if (s->verdict != x->verdict) {
        *why = "verdict";
        return REL_DIFFERENT;
    }
    const uint8_t *so = replay_output(v, s), *xo = replay_output(v, x);
    if (s->verdict < 0 || memcmp(so, xo, v->len) == 0)
        return REL_EQUAL;
    *why = "bytes";
    if (s->in || x->in)
        return REL_DIFFERENT;           /* a reply: translated back differently */
    struct frame_tuple tin, ts, tx;
    if (!frame_tuple_of(v->bytes, v->len, &tin) || !frame_tuple_of(so, v->len, &ts) ||
        !frame_tuple_of(xo, v->len, &tx) || ts.family != tx.family ||
        ts.has_ports != tx.has_ports || ts.l3_off != tx.l3_off || ts.l4_off != tx.l4_off)
        return REL_DIFFERENT;
    /* Fields the two outputs disagree on must be ones the NF rewrites (one
     * run may pick the original value by chance). */
    for (int f = 0; f < 4; f++)
        if (!tuple_field_equal(&ts, &tx, f) && tuple_field_equal(&ts, &tin, f) &&
            tuple_field_equal(&tx, &tin, f)) {
            *why = "a field neither of them rewrote";
            return REL_DIFFERENT;
        }
    if (frame_checksums_current(so, v->len) != frame_checksums_current(xo, v->len)) {
        *why = "checksums";
        return REL_DIFFERENT;
    }
    uint8_t *norm = malloc(v->len ? v->len : 1);
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

int flow_walk(struct flow_walker *w, const struct vpacket *p, const struct frame_tuple *seq_sent,
              int64_t *id, int64_t *reverse)
{
    struct frame_tuple t, r;
    *id = *reverse = -1;
    if (!frame_tuple_of(p->bytes, p->len, &t))
        return 0;
    frame_tuple_reverse(&t, &r);
    *id = flow_id(&w->ids, &t, &w->count);
    const struct tuple_entry *to_seq = tuple_map_get(&w->sent, &r);
    *reverse = to_seq ? to_seq->id : flow_id(&w->ids, &r, &w->count);
    if (*id < -1 || *reverse < -1)
        return -1;
    /* The latest flow S translated to a tuple owns the replies to it. */
    if (seq_sent && seq_sent->family) {
        struct tuple_entry *e = tuple_map_put(&w->sent, seq_sent);
        if (!e)
            return -1;
        e->id = *id;
    }
    return 0;
}

void flow_walker_free(struct flow_walker *w)
{
    tuple_map_free(&w->ids);
    tuple_map_free(&w->sent);
    memset(w, 0, sizeof *w);
}

struct flow_check {
    bool invalid;
    bool has[4];
    uint8_t last_x[4][16];
};

/* A forward packet's output tuple when replay r translated it (it left with
 * other addresses or ports than it came with), else false. */
bool translated_tuple(const struct vpacket *p, const struct replay_view *r,
                      struct frame_tuple *out)
{
    struct frame_tuple tin;
    return !r->in && r->verdict >= 0 && r->out && frame_tuple_of(p->bytes, p->len, &tin) &&
           frame_tuple_of(r->out, p->len, out) && !frame_tuple_same_flow_fields(&tin, out);
}

/* Who holds each translated tuple in a replay, packet by packet: the flow
 * whose latest translation (a packet that allocated) sent it. Records p;
 * returns -1 when out of memory. */
static int owners_note(struct tuple_map *own, const struct vpacket *p,
                       const struct replay_view *r, int64_t flow)
{
    struct frame_tuple t;
    if (!translated_tuple(p, r, &t))
        return 0;
    struct tuple_entry *e = tuple_map_get(own, &t);
    if (!e && !(e = tuple_map_put(own, &t)))
        return -1;
    if (r->touched.allocated || !e->to.family) {
        e->id = flow;
        e->to.family = 1;
    }
    return 0;
}

/* Reply p (re-addressed by the model in r) reaches a translation the NF has
 * since given to another flow: the capture's reply came too late. */
static bool stale_reply(const struct tuple_map *own, const struct vpacket *p,
                        const struct replay_view *r, int64_t forward_flow)
{
    struct frame_tuple in, target;
    if (!r->in || !frame_tuple_of(r->in, p->len, &in))
        return false;
    frame_tuple_reverse(&in, &target);
    const struct tuple_entry *e = tuple_map_get(own, &target);
    return e && e->to.family && e->id != forward_flow;
}

void translation_check_init(struct translation_check *tc, bool injective)
{
    memset(tc, 0, sizeof *tc);
    tc->injective = injective;
}

static struct flow_check *flow_slot(struct translation_check *tc, int64_t f)
{
    if ((size_t)f >= tc->cap) {
        size_t cap = tc->cap ? tc->cap : 1024;
        while (cap <= (size_t)f)
            cap *= 2;
        struct flow_check *bigger = realloc(tc->fc, cap * sizeof *bigger);
        if (!bigger)
            return NULL;
        memset(bigger + tc->cap, 0, (cap - tc->cap) * sizeof *bigger);
        tc->fc = bigger;
        tc->cap = cap;
    }
    return &tc->fc[f];
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
int translation_check_packet(struct translation_check *tc, const struct vpacket *v,
                             const struct replay_view *s, const struct replay_view *x,
                             int64_t f, int64_t back, enum relation *rel, const char **why)
{
    struct flow_check *fb, *ff;
    if ((x->in || s->in) && back >= 0) {
        bool stale = stale_reply(&tc->own_s, v, s, back) || stale_reply(&tc->own_x, v, x, back);
        if (stale && *rel == REL_DIFFERENT) {
            *rel = REL_TRANSLATED;
            *why = "a reply to a translation since given to another flow";
        }
        struct frame_tuple want, got;
        if (!stale && x->in && x->verdict >= 0 && s->verdict >= 0 &&
            (!frame_tuple_of(replay_output(v, s), v->len, &want) ||
             !frame_tuple_of(replay_output(v, x), v->len, &got) ||
             !frame_tuple_same_flow_fields(&want, &got))) {
            if (!(fb = flow_slot(tc, back)))
                return -1;
            fb->invalid = true;
        }
    }
    if (f >= 0 && (owners_note(&tc->own_s, v, s, f) != 0 || owners_note(&tc->own_x, v, x, f) != 0))
        return -1;
    if (*rel != REL_TRANSLATED || f < 0 || x->in || s->in)
        return 0;
    if (!(ff = flow_slot(tc, f)))
        return -1;
    bool alloc_x = x->touched.allocated != 0;
    if (alloc_x != (s->touched.allocated != 0))
        ff->invalid = true;             /* a new translation in one run only */
    struct frame_tuple tx;
    frame_tuple_of(replay_output(v, x), v->len, &tx);
    for (int k = 0; k < 4; k++) {
        uint8_t vx[16];
        field_value(&tx, k, vx);
        if (ff->has[k] && !alloc_x && memcmp(vx, ff->last_x[k], 16) != 0)
            ff->invalid = true;         /* changed without a new translation */
        ff->has[k] = true;
        memcpy(ff->last_x[k], vx, 16);
    }
    /* Two flows on one output tuple are indistinguishable to the peer: only
     * the flow of the latest translation may send it. */
    const struct tuple_entry *e = tuple_map_get(&tc->own_x, &tx);
    if (tc->injective && e && e->id != f) {
        struct flow_check *other = flow_slot(tc, e->id);
        if (!other)
            return -1;
        other->invalid = true;
        tc->fc[f].invalid = true;       /* flow_slot may have moved fc */
    }
    return 0;
}

bool translation_check_invalid(const struct translation_check *tc, int64_t flow)
{
    return flow >= 0 && (size_t)flow < tc->cap && tc->fc[flow].invalid;
}

bool translation_check_any_invalid(const struct translation_check *tc)
{
    for (size_t f = 0; f < tc->cap; f++)
        if (tc->fc[f].invalid)
            return true;
    return false;
}

void translation_check_free(struct translation_check *tc)
{
    free(tc->fc);
    tuple_map_free(&tc->own_s);
    tuple_map_free(&tc->own_x);
    memset(tc, 0, sizeof *tc);
}
