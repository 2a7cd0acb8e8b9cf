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

/* A result's record: this header, then the rewritten input when has_in, then
 * the output when has_out. */
struct replay_record {
    struct rt_touched touched;
    uint32_t len;
    int32_t verdict;
    int32_t core;
    uint8_t has_in, has_out;
    uint8_t pad[2];
};

void machine_run_free(struct machine_run *r)
{
    spill_close(&r->results);
    free(r->first_full);
    memset(r, 0, sizeof *r);
}

int replay_reader_open(struct replay_reader *rr, const struct machine_run *run)
{
    memset(rr, 0, sizeof *rr);
    rr->in = malloc(MAX_FRAME);
    rr->out = malloc(MAX_FRAME);
    if (!rr->in || !rr->out || spill_reader_open(&rr->r, &run->results) != 0) {
        replay_reader_close(rr);
        return -1;
    }
    return 0;
}

const struct replay_view *replay_reader_next(struct replay_reader *rr)
{
    struct replay_record rec;
    if (!spill_read(&rr->r, &rec, sizeof rec) || rec.len > MAX_FRAME ||
        (rec.has_in && !spill_read(&rr->r, rr->in, rec.len)) ||
        (rec.has_out && !spill_read(&rr->r, rr->out, rec.len)))
        return NULL;
    rr->v = (struct replay_view){rec.verdict, rec.core, rec.len, rec.has_in ? rr->in : NULL,
                                 rec.has_out ? rr->out : NULL, rec.touched};
    return &rr->v;
}

void replay_reader_close(struct replay_reader *rr)
{
    spill_reader_close(&rr->r);
    free(rr->in);
    free(rr->out);
    memset(rr, 0, sizeof *rr);
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

/* Where a replay's packets come from: the set in arrival order (with the
 * streams the network model reads) or the parallel run's log in commit
 * order. */
struct machine_source {
    struct packet_reader packets;
    struct replay_reader sequential;
    struct spill_reader reply_ref;
    struct outcome_merge commits;
    bool commit_order, have_sequential, have_reply_ref;
    uint8_t *rewritten;             /* the model's copy of an input */
};

/* One packet to replay. */
struct machine_packet {
    struct vpacket v;               /* bytes: the input as captured or logged */
    const uint8_t *input;           /* what the NF is given */
    bool rewritten;                 /* input is the model's re-addressed copy */
    int core;
    bool have_ref;                  /* the tuple the network knows the flow by */
    struct frame_tuple ref;
    struct frame_tuple seq_sent;    /* what the sequential NF sent (family 0: none) */
};

static int source_open(struct machine_source *src, const struct launcher *l,
                       const struct machine_spec *spec)
{
    memset(src, 0, sizeof *src);
    src->commit_order = spec->commit_order;
    src->rewritten = malloc(MAX_FRAME);
    if (!src->rewritten)
        return -1;
    if (spec->commit_order)
        return outcome_merge_open(&src->commits, l, true);
    if (packet_reader_open(&src->packets, l->set) != 0)
        return -1;
    if (spec->sequential_results) {
        src->have_sequential = true;
        if (replay_reader_open(&src->sequential, spec->sequential_results) != 0)
            return -1;
    }
    if (spec->reply_ref) {
        src->have_reply_ref = true;
        if (spill_reader_open(&src->reply_ref, spec->reply_ref) != 0)
            return -1;
    }
    return 0;
}

static void source_close(struct machine_source *src)
{
    if (src->commit_order)
        outcome_merge_close(&src->commits);
    packet_reader_close(&src->packets);
    replay_reader_close(&src->sequential);
    spill_reader_close(&src->reply_ref);
    free(src->rewritten);
}

/* The next packet (1), the end (0), or a broken stream (-1). In arrival
 * order a reply the model knows is re-addressed (checksums that were valid
 * stay valid) and goes to the core the plan's RSS gives the new bytes. */
static int source_next(struct machine_source *src, struct launcher *l,
                       const struct tuple_map *model, struct machine_packet *mp)
{
    memset(mp, 0, sizeof *mp);
    if (src->commit_order) {
        const struct outcome *o = outcome_merge_next(&src->commits);
        if (!o)
            return 0;
        mp->v = (struct vpacket){o->bytes_in, o->len, o->port, o->time_ns, o->core};
        mp->input = o->bytes_in;
        mp->core = o->core;
        return 1;
    }
    const struct vpacket *v = packet_reader_next(&src->packets);
    if (!v)
        return 0;
    mp->v = *v;
    mp->input = v->bytes;
    mp->core = v->core;
    if (src->have_sequential) {
        const struct replay_view *s = replay_reader_next(&src->sequential);
        if (!s)
            return -1;
        if (!translated_tuple(v, s, &mp->seq_sent))
            mp->seq_sent.family = 0;
    }
    if (src->have_reply_ref) {
        if (!spill_read(&src->reply_ref, &mp->ref, sizeof mp->ref))
            return -1;
        mp->have_ref = mp->ref.family != 0;
    } else {
        mp->have_ref = frame_tuple_of(v->bytes, v->len, &mp->ref);
    }
    struct frame_tuple t;
    const struct tuple_entry *to;
    if (!frame_tuple_of(v->bytes, v->len, &t) || !(to = tuple_map_get(model, &t)) ||
        to->port != v->port)
        return 1;
    memcpy(src->rewritten, v->bytes, v->len);
    frame_rewrite(src->rewritten, v->len, &to->to);
    struct trace_tuple parsed;
    if (!trace_parse(LINKTYPE_ETHERNET, src->rewritten, v->len, &parsed))
        memset(&parsed, 0, sizeof parsed);
    mp->core = launcher_steer(l, v->port, &parsed);
    mp->input = src->rewritten;
    mp->rewritten = true;
    return 1;
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

/* Writes one packet's result to the run's stream. */
static bool put_result(struct machine_run *r, const struct machine_packet *mp, int verdict,
                       const struct rt_touched *touched, const uint8_t *out)
{
    uint32_t len = mp->v.len;
    bool has_out = verdict >= 0 && memcmp(out, mp->input, len) != 0;
    struct replay_record rec = {*touched, len, verdict, mp->core, mp->rewritten, has_out, {0}};
    return spill_write(&r->results, &rec, sizeof rec) &&
           (!mp->rewritten || spill_write(&r->results, mp->input, len)) &&
           (!has_out || spill_write(&r->results, out, len));
}

static int replay_packets(struct launcher *l, const struct machine_spec *spec,
                          struct machine_run *r, struct machine_source *src, uint8_t *buf,
                          struct util_error *err)
{
    struct tuple_map model = {0};
    struct machine_packet mp;
    int got, rc = 0;
    while (rc == 0 && (got = source_next(src, l, &model, &mp)) == 1) {
        size_t i = r->n;
        int core = spec->sequential ? 0 : mp.core;
        mp.core = core;
        memcpy(buf, mp.input, mp.v.len);
        struct nf_packet pkt = {buf, mp.v.len, mp.v.port, mp.v.time_ns};
        struct rt_touched touched;
        rt_packet_begin(core, true);
        int verdict = nf_process(&pkt);
        rt_packet_touched(core, &touched);
        rt_packet_end(core);
        if (!put_result(r, &mp, verdict, &touched, buf))
            break;                      /* spill_finish says why */
        for (int o = 0; touched.full && o < r->n_objects && o < RT_TRACK_OBJECTS; o++)
            if ((touched.full >> o & 1) && r->first_full[o] == SIZE_MAX)
                r->first_full[o] = i;
        r->n++;
        if (!spec->commit_order && !mp.rewritten && verdict >= 0 && mp.have_ref &&
            learn(&model, &mp.ref, spec->sequential_results ? &mp.seq_sent : NULL, mp.input,
                  buf, mp.v.len, verdict) != 0) {
            util_error_set(err, "out of memory in the %s replay", spec->name);
            rc = UTIL_EXIT_FAILURE;
        }
    }
    if (rc == 0 && got < 0) {
        util_error_set(err, "--verify could not read back a temporary file (%s replay)",
                       spec->name);
        rc = UTIL_EXIT_FAILURE;
    }
    tuple_map_free(&model);
    return rc;
}

int machine_run(struct launcher *l, const struct machine_spec *spec, struct machine_run *r,
                struct util_error *err)
{
    memset(r, 0, sizeof *r);
    int rc = start_nf(l, spec, err);
    if (rc) {
        rt_reset();
        return rc;
    }
    char what[96];
    snprintf(what, sizeof what, "%s replay", spec->name);
    r->n_objects = (int)rt_objects();
    r->first_full = malloc(((size_t)r->n_objects + 1) * sizeof *r->first_full);
    uint8_t *buf = malloc(MAX_FRAME);
    struct machine_source src;
    memset(&src, 0, sizeof src);
    bool ready = r->first_full && buf && source_open(&src, l, spec) == 0;
    if (!ready) {
        util_error_set(err, "out of memory for the %s replay", spec->name);
        rc = UTIL_EXIT_FAILURE;
    } else if ((rc = spill_open(&r->results, what, err)) == 0) {
        for (int o = 0; o < r->n_objects; o++)
            r->first_full[o] = SIZE_MAX;
        rc = replay_packets(l, spec, r, &src, buf, err);
        if (rc == 0)
            rc = spill_finish(&r->results, err);
    }
    source_close(&src);
    struct rt_stats st;
    rt_stats(&st);
    r->plan_violations = st.plan_violations;
    free(buf);
    rt_reset();
    if (rc)
        machine_run_free(r);
    return rc;
}
