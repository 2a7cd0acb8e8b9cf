/*
 * machine.c - the NF replayed on one thread, deterministically, in a chosen
 * shape: the sequential NF (one instance of every object: the definition of
 * what the NF does) or the plan's shape (sharded objects one instance per
 * core, each packet run on the core the plan's RSS gives it), optionally with
 * full capacity per core or sketches kept whole. --verify compares these
 * replays with each other and with the parallel run (verify.c).
 *
 * The network model: a capture's reply to a flow the NF translated (rewrote
 * its addresses or ports, as a NAT does) is addressed to the original
 * endpoints, which the translated flow's peer never saw. Each replay
 * therefore re-addresses such replies to what that replay's NF sent (the
 * reverse of its output tuple), as the network would; checksums that were
 * valid stay valid. A capture recorded behind one running instance of the NF
 * addresses replies to that instance's translations instead: given what the
 * sequential NF sent (machine_spec.seq_sent), those are re-addressed too.
 */
#include <stdlib.h>
#include <string.h>

#include "launcher/launcher_internal.h"

/* ---- Tuples through the runtime's own accessors ---------------------------- */

bool frame_tuple_of(const uint8_t *bytes, uint32_t len, struct frame_tuple *t)
{
    memset(t, 0, sizeof *t);
    t->l3_off = t->l4_off = UINT32_MAX;
    struct nf_packet pkt = {(uint8_t *)bytes, len, 0, 0};
    struct nf_ipv4_hdr *v4 = nf_ipv4(&pkt);
    struct nf_ipv6_hdr *v6 = v4 ? NULL : nf_ipv6(&pkt);
    if (v4) {
        t->family = 4;
        memcpy(t->src, &v4->src, 4);
        memcpy(t->dst, &v4->dst, 4);
        t->l3_off = (uint32_t)((uint8_t *)v4 - pkt.data);
    } else if (v6) {
        t->family = 6;
        memcpy(t->src, v6->src, 16);
        memcpy(t->dst, v6->dst, 16);
        t->l3_off = (uint32_t)((uint8_t *)v6 - pkt.data);
    } else {
        return false;
    }
    t->proto = nf_l4_proto(&pkt);
    struct nf_l4_ports *l4 = nf_l4(&pkt);
    if (l4) {
        t->has_ports = true;
        t->sport = l4->sport;
        t->dport = l4->dport;
        t->l4_off = (uint32_t)((uint8_t *)l4 - pkt.data);
    }
    return true;
}

bool frame_tuple_same_flow_fields(const struct frame_tuple *a, const struct frame_tuple *b)
{
    return a->family == b->family && a->proto == b->proto && a->has_ports == b->has_ports &&
           memcmp(a->src, b->src, 16) == 0 && memcmp(a->dst, b->dst, 16) == 0 &&
           a->sport == b->sport && a->dport == b->dport;
}

void frame_tuple_reverse(const struct frame_tuple *in, struct frame_tuple *out)
{
    *out = *in;
    memcpy(out->src, in->dst, 16);
    memcpy(out->dst, in->src, 16);
    out->sport = in->dport;
    out->dport = in->sport;
}

/* True when the frame's checksums are what nf_checksums_update would write. */
bool frame_checksums_current(const uint8_t *bytes, uint32_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return false;
    memcpy(copy, bytes, len);
    struct nf_packet pkt = {copy, len, 0, 0};
    nf_checksums_update(&pkt);
    bool same = memcmp(copy, bytes, len) == 0;
    free(copy);
    return same;
}

/* Writes t's addresses and ports into the frame (which must have the same
 * layout); recomputes checksums when they were current before. */
static void frame_rewrite(uint8_t *bytes, uint32_t len, const struct frame_tuple *t)
{
    bool current = frame_checksums_current(bytes, len);
    struct nf_packet pkt = {bytes, len, 0, 0};
    if (t->family == 4) {
        struct nf_ipv4_hdr *v4 = nf_ipv4(&pkt);
        memcpy(&v4->src, t->src, 4);
        memcpy(&v4->dst, t->dst, 4);
    } else {
        struct nf_ipv6_hdr *v6 = nf_ipv6(&pkt);
        memcpy(v6->src, t->src, 16);
        memcpy(v6->dst, t->dst, 16);
    }
    if (t->has_ports) {
        struct nf_l4_ports *l4 = nf_l4(&pkt);
        l4->sport = t->sport;
        l4->dport = t->dport;
    }
    if (current)
        nf_checksums_update(&pkt);
}

/* ---- Maps keyed by a tuple (the network model; flow identities) ------------ */

static uint64_t tuple_hash(const struct frame_tuple *t)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)t->family << 8 | t->proto);
    const uint8_t *parts[2] = {t->src, t->dst};
    for (int p = 0; p < 2; p++)
        for (int i = 0; i < 16; i++) {
            h ^= parts[p][i];
            h *= 0x100000001b3ULL;
        }
    h ^= (uint64_t)t->sport << 16 | t->dport;
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 33);
}

static struct tuple_entry *tuple_slot(const struct tuple_map *m, const struct frame_tuple *key)
{
    size_t i = (size_t)tuple_hash(key) & (m->cap - 1);
    while (m->slots[i].used && !frame_tuple_same_flow_fields(&m->slots[i].key, key))
        i = (i + 1) & (m->cap - 1);
    return &m->slots[i];
}

struct tuple_entry *tuple_map_put(struct tuple_map *m, const struct frame_tuple *key)
{
    if ((m->count + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        struct tuple_map bigger = {calloc(cap, sizeof *bigger.slots), cap, 0};
        if (!bigger.slots)
            return NULL;
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots[i].used) {
                *tuple_slot(&bigger, &m->slots[i].key) = m->slots[i];
                bigger.count++;
            }
        free(m->slots);
        *m = bigger;
    }
    struct tuple_entry *e = tuple_slot(m, key);
    if (!e->used) {
        memset(e, 0, sizeof *e);
        e->used = true;
        e->key = *key;
        m->count++;
    }
    return e;
}

struct tuple_entry *tuple_map_get(const struct tuple_map *m, const struct frame_tuple *key)
{
    if (m->cap == 0)
        return NULL;
    struct tuple_entry *e = tuple_slot(m, key);
    return e->used ? e : NULL;
}

void tuple_map_free(struct tuple_map *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}

/* ---- Replays ----------------------------------------------------------------- */

void machine_run_free(struct machine_run *r)
{
    for (size_t i = 0; r->out && i < r->n; i++)
        free(r->out[i]);
    for (size_t i = 0; r->in && i < r->n; i++)
        free(r->in[i]);
    free(r->out);
    free(r->in);
    free(r->input);
    free(r->verdict);
    free(r->core);
    free(r->touched);
    free(r->first_full);
    memset(r, 0, sizeof *r);
}

static int start_nf(struct launcher *l, const struct machine_spec *spec, struct util_error *err)
{
    rt_reset();
    int rc = launcher_apply_configs(&l->opt, err);
    if (rc)
        return rc;
    if (nf_init() != 0) {
        util_error_set(err, "nf_init failed when re-creating the NF for --verify (%s replay)",
                       spec->name);
        return UTIL_EXIT_FAILURE;
    }
    if (spec->sequential) {
        rt_set_tracking(true);
        return 0;
    }
    enum rt_mode *modes = launcher_plan_modes(l, false, err);
    if (!modes)
        return UTIL_EXIT_FAILURE;
    for (size_t i = 0; spec->sketches_single && i < rt_objects(); i++) {
        struct rt_object_info info;
        rt_object_info(i, &info);
        if (info.kind == RT_SKETCH && modes[i] == RT_SHARDED)
            modes[i] = RT_SHARED;
    }
    struct rt_instance_options io = {spec->full_capacity};
    rc = rt_instantiate_with(l->cores, modes, &io, err) == 0 ? 0 : UTIL_EXIT_FAILURE;
    free(modes);
    rt_set_tracking(true);
    /* One thread holds every token: no packet here can break the lock plan,
     * but a write to a replicated object is still reported. */
    rt_set_abort_on_violation(false);
    return rc;
}

static int alloc_run(struct machine_run *r, size_t n, int n_objects)
{
    memset(r, 0, sizeof *r);
    r->n = n;
    r->n_objects = n_objects;
    r->verdict = calloc(n + 1, sizeof *r->verdict);
    r->out = calloc(n + 1, sizeof *r->out);
    r->in = calloc(n + 1, sizeof *r->in);
    r->input = calloc(n + 1, sizeof *r->input);
    r->core = calloc(n + 1, sizeof *r->core);
    r->touched = calloc(n + 1, sizeof *r->touched);
    r->first_full = malloc(((size_t)n_objects + 1) * sizeof *r->first_full);
    if (!r->verdict || !r->out || !r->in || !r->input || !r->core || !r->touched ||
        !r->first_full)
        return -1;
    for (int o = 0; o < n_objects; o++)
        r->first_full[o] = SIZE_MAX;
    return 0;
}

/* Packet i's input for this replay: fixed, or as captured unless the model
 * re-addresses it (then a rewritten copy is kept in r->in[i]). */
static const uint8_t *input_of(struct launcher *l, const struct machine_spec *spec,
                               const struct tuple_map *m, struct machine_run *r, size_t i,
                               int *core, struct util_error *err)
{
    const struct vpacket *v = &l->set->packets[i];
    if (spec->inputs) {
        *core = spec->cores[i];
        return spec->inputs[i];
    }
    *core = v->core;
    struct frame_tuple t;
    const struct tuple_entry *to;
    if (!frame_tuple_of(v->bytes, v->len, &t) || !(to = tuple_map_get(m, &t)) ||
        to->port != v->port)
        return v->bytes;
    r->in[i] = malloc(v->len);
    if (!r->in[i]) {
        util_error_set(err, "out of memory in the %s replay", spec->name);
        return NULL;
    }
    memcpy(r->in[i], v->bytes, v->len);
    frame_rewrite(r->in[i], v->len, &to->to);
    struct trace_tuple parsed;
    if (!trace_parse(LINKTYPE_ETHERNET, r->in[i], v->len, &parsed))
        memset(&parsed, 0, sizeof parsed);
    *core = rss_port_hasher_core(&l->hashers[v->port], &parsed);
    if (*core < 0 || *core >= l->cores)
        *core = 0;
    return r->in[i];
}

/* Replies addressed to the reverse of `ref` arriving on `port` go to `to`. */
static int learn_key(struct tuple_map *m, const struct frame_tuple *ref,
                     const struct frame_tuple *to, int port)
{
    struct frame_tuple key;
    frame_tuple_reverse(ref, &key);
    if (frame_tuple_same_flow_fields(&key, to))
        return 0;
    struct tuple_entry *e = tuple_map_put(m, &key);
    if (!e)
        return -1;
    e->to = *to;
    e->port = port;
    return 0;
}

/* After packet i: a forward packet the NF translated and sent out of port
 * `out_port` teaches the model where the capture's replies to it, arriving
 * on that port, must go. `ref` is the tuple the network addressed the flow by
 * (as captured; in a live run, what the parallel run sent); `seq_sent`, when
 * not NULL, what the sequential NF sent for it (replies recorded behind one
 * instance of the NF are addressed to that). */
static int learn(struct tuple_map *m, const struct frame_tuple *ref,
                 const struct frame_tuple *seq_sent, const uint8_t *in, const uint8_t *out,
                 uint32_t len, int out_port)
{
    struct frame_tuple tin, tout;
    if (!frame_tuple_of(in, len, &tin) || !frame_tuple_of(out, len, &tout) ||
        tin.family != tout.family || tin.has_ports != tout.has_ports ||
        frame_tuple_same_flow_fields(&tin, &tout))
        return 0;
    struct frame_tuple to;
    frame_tuple_reverse(&tout, &to);
    if (learn_key(m, ref, &to, out_port) != 0)
        return -1;
    if (seq_sent && seq_sent->family == tout.family &&
        !frame_tuple_same_flow_fields(seq_sent, ref))
        return learn_key(m, seq_sent, &to, out_port);
    return 0;
}

const uint8_t *machine_output(const struct machine_run *r, size_t i)
{
    return r->out[i] ? r->out[i] : r->input[i];
}

int machine_run(struct launcher *l, const struct machine_spec *spec, struct machine_run *r,
                struct util_error *err)
{
    size_t n = l->set->n;
    int rc = start_nf(l, spec, err);
    if (rc) {
        rt_reset();
        return rc;
    }
    int n_objects = (int)rt_objects();
    struct tuple_map model = {0};
    uint8_t *buf = malloc(MAX_FRAME);
    if (alloc_run(r, n, n_objects) != 0 || !buf) {
        free(buf);
        machine_run_free(r);
        rt_reset();
        util_error_set(err, "out of memory for the %s replay of %zu packets", spec->name, n);
        return UTIL_EXIT_FAILURE;
    }
    for (size_t k = 0; k < n; k++) {
        size_t i = spec->order ? spec->order[k] : k;
        const struct vpacket *v = &l->set->packets[i];
        int core;
        const uint8_t *in = input_of(l, spec, &model, r, i, &core, err);
        if (!in) {
            rc = UTIL_EXIT_FAILURE;
            break;
        }
        if (spec->sequential)
            core = 0;
        memcpy(buf, in, v->len);
        struct nf_packet pkt = {buf, v->len, v->port, v->time_ns};
        rt_packet_begin(core, true);
        r->verdict[i] = nf_process(&pkt);
        rt_packet_touched(core, &r->touched[i]);
        rt_packet_end(core);
        r->core[i] = core;
        r->input[i] = in;
        /* Most frames leave as they came: keep a copy only of the others. */
        if (r->verdict[i] >= 0 && memcmp(buf, in, v->len) != 0) {
            r->out[i] = malloc(v->len);
            if (!r->out[i]) {
                util_error_set(err, "out of memory in the %s replay", spec->name);
                rc = UTIL_EXIT_FAILURE;
                break;
            }
            memcpy(r->out[i], buf, v->len);
        }
        for (int o = 0; r->touched[i].full && o < n_objects && o < RT_TRACK_OBJECTS; o++)
            if ((r->touched[i].full >> o & 1) && r->first_full[o] == SIZE_MAX)
                r->first_full[o] = i;
        if (!spec->inputs && !r->in[i] && r->verdict[i] >= 0) {
            struct frame_tuple ref;
            bool have_ref = spec->reply_ref ? (ref = spec->reply_ref[i], ref.family != 0)
                                            : frame_tuple_of(v->bytes, v->len, &ref);
            const struct frame_tuple *seq_sent = spec->seq_sent ? &spec->seq_sent[i] : NULL;
            if (have_ref && learn(&model, &ref, seq_sent, in, buf, v->len, r->verdict[i]) != 0) {
                util_error_set(err, "out of memory in the %s replay", spec->name);
                rc = UTIL_EXIT_FAILURE;
                break;
            }
        }
    }
    struct rt_stats st;
    rt_stats(&st);
    r->plan_violations = st.plan_violations;
    free(buf);
    tuple_map_free(&model);
    rt_reset();
    if (rc)
        machine_run_free(r);
    return rc;
}
