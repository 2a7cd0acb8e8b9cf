/*
 * verify.c - --verify: does the plan change what the NF does on this traffic?
 *
 * The reference is the definition of soundness: the sequential NF, one
 * instance, fed the packets in arrival order (capture order, the same ports
 * and times, as `rsskey sim` orders them). Every packet's verdict and output
 * bytes are compared with it, and every difference gets one class:
 *
 *  unsound       a difference the plan cannot excuse. Always a failure.
 *  interleaving  the parallel run ordered the accesses of other cores to a
 *                shared object differently from arrival order; allowed.
 *  translation   a forward packet's rewritten addresses/ports differ (a NAT's
 *                external port comes from a per-core range), and the
 *                translation is a consistent bijection whose replies come
 *                back where the sequential NF's go.
 *  capacity      a per-core share of a table filled where the whole did not
 *                (or the sequential table filled first).
 *  estimate      a sharded count-min sketch estimated differently.
 *
 * How (docs/launcher.md says what each step proves): deterministic replays
 * on one thread (machine.c) separate the freedoms a plan takes, one at a time.
 *   S  the sequential NF in arrival order. It runs first: the network model
 *      (machine.c) re-addresses replies sent to its translations.
 *   A  the plan's shape in arrival order (per-core instances, each packet on
 *      the core the plan's RSS gives it). With captures it runs before the
 *      parallel run and gives it its inputs (replies re-addressed).
 *   S vs A differs only through sharding. Where they differ, the replay B
 *      (full capacity per core, sketches whole) decides: B equal to S means
 *      capacity or estimate (two more replays tell which), else unsound.
 *   The parallel run P must equal C, the plan's shape replayed in P's own
 *      lock-commit order (any other outcome is a race: unsound). C and A
 *      differ only in how packets of different cores were interleaved, which
 *      matters only through shared objects: interleaving.
 * Every class but interleaving comes from deterministic replays, so the
 * verdict does not depend on the lcore layout, scheduling or run.
 *
 * Memory does not grow with the trace: the packets, every replay's results
 * and the workers' logs are streams in temporary files (spill.c), compared
 * in passes that read them side by side in arrival order. What stays in
 * memory grows with flows (the network model, flow identities,
 * translations), plus one bit per packet for races.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "launcher/launcher_internal.h"

/* ---- Before the run ------------------------------------------------------------ */

/* S, then A, whose model re-addresses replies to S's translations too. */
static int run_references(struct launcher *l, struct util_error *err)
{
    struct verify_state *vs = l->verify;
    const struct spill *ref = vs->have_reply_ref ? &vs->reply_ref : NULL;
    struct machine_spec spec_s = {.name = "sequential", .sequential = true, .reply_ref = ref};
    int rc = machine_run(l, &spec_s, &vs->sequential, err);
    if (rc)
        return rc;
    struct machine_spec a = {.name = "plan (arrival order)", .reply_ref = ref,
                             .sequential_results = &vs->sequential};
    rc = machine_run(l, &a, &vs->arrival, err);
    vs->have_arrival = rc == 0;
    return rc;
}

int verify_prepare(struct launcher *l, struct util_error *err)
{
    l->verify = calloc(1, sizeof *l->verify);
    if (!l->verify) {
        util_error_set(err, "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    if (!l->set)
        return 0;                       /* live ports: everything happens afterwards */
    return run_references(l, err);
}

int verify_inputs_open(struct verify_inputs *in, const struct launcher *l)
{
    memset(in, 0, sizeof *in);
    if (packet_reader_open(&in->packets, l->set) != 0 ||
        replay_reader_open(&in->arrival, &l->verify->arrival) != 0)
        return -1;
    return 0;
}

const uint8_t *verify_inputs_next(struct verify_inputs *in, const struct vpacket **p, int *core)
{
    const struct vpacket *v = packet_reader_next(&in->packets);
    const struct replay_view *a = v ? replay_reader_next(&in->arrival) : NULL;
    if (!a)
        return NULL;
    *p = v;
    *core = a->core;
    return replay_input(v, a);
}

void verify_inputs_close(struct verify_inputs *in)
{
    packet_reader_close(&in->packets);
    replay_reader_close(&in->arrival);
}

/* ---- After the run -------------------------------------------------------------- */

/* The workers' logs, flushed; the number of packets they hold. */
static int finish_logs(struct launcher *l, size_t *total, struct util_error *err)
{
    *total = 0;
    for (int c = 0; c < l->cores; c++) {
        int rc = spill_finish(&l->workers[c].log, err);
        if (rc)
            return rc;
        *total += l->workers[c].n_log;
    }
    return 0;
}

/* Live ports: the logged packets become the set, in arrival order, and what
 * the parallel run sent is the tuple the network knows each flow by. */
static int set_from_log(struct launcher *l, struct util_error *err)
{
    struct verify_state *vs = l->verify;
    l->set = calloc(1, sizeof *l->set);
    if (!l->set) {
        util_error_set(err, "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    int rc = replay_set_open(l->set, err);
    if (rc == 0 && (rc = spill_open(&vs->reply_ref, "tuples sent", err)) == 0)
        vs->have_reply_ref = true;
    struct outcome_merge m;
    if (rc == 0 && outcome_merge_open(&m, l, false) != 0) {
        outcome_merge_close(&m);
        util_error_set(err, "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    if (rc)
        return rc;
    const struct outcome *o;
    while ((o = outcome_merge_next(&m))) {
        struct frame_tuple sent;
        const uint8_t *out = o->bytes_out ? o->bytes_out : o->bytes_in;
        if (o->verdict < 0 || !frame_tuple_of(out, o->len, &sent))
            memset(&sent, 0, sizeof sent);
        if (replay_set_add(l->set, o->bytes_in, o->len, o->port, o->time_ns, o->core) != 0 ||
            !spill_write(&vs->reply_ref, &sent, sizeof sent))
            break;
    }
    outcome_merge_close(&m);
    rc = spill_finish(&l->set->stream, err);
    return rc ? rc : spill_finish(&vs->reply_ref, err);
}

static void remember_objects(struct verify_state *vs, const struct launcher *l)
{
    vs->n_objects = (int)rt_objects();
    vs->names = calloc((size_t)vs->n_objects + 1, sizeof *vs->names);
    vs->group = calloc((size_t)vs->n_objects + 1, sizeof *vs->group);
    vs->by_object = calloc((size_t)vs->n_objects + 1, sizeof *vs->by_object);
    for (int o = 0; vs->names && vs->group && o < vs->n_objects; o++) {
        struct rt_object_info info;
        rt_object_info((size_t)o, &info);
        snprintf(vs->names[o], OBJECT_NAME_MAX, "%s", info.name);
        vs->group[o] = -1;
        for (int p = 0; p < l->plan.deps.n_objects; p++)
            if (strcmp(l->plan.deps.objects[p].name, info.name) == 0)
                vs->group[o] = l->plan.deps.objects[p].group;
    }
}

static uint64_t touched_any(const struct rt_touched *t)
{
    return t->read | t->write;
}

/* The parallel run's outcome of a packet against a replay's (whose input
 * was the same). */
static bool same_outcome(const struct vpacket *v, const struct replay_view *r,
                         const struct outcome *o)
{
    if (r->verdict != o->verdict)
        return false;
    if (o->verdict < 0)
        return true;
    const uint8_t *p_out = o->bytes_out ? o->bytes_out : o->bytes_in;
    return r->len == o->len && memcmp(replay_output(v, r), p_out, o->len) == 0;
}

/* C: the plan's shape replayed in the parallel run's commit order, on its
 * inputs and cores. The parallel run must be exactly that: anything else is
 * a race (unsound). Marks each racing packet's commit number in `races`. */
static int replay_commit_order(struct launcher *l, size_t n, uint8_t *races,
                               struct util_error *err)
{
    struct verify_state *vs = l->verify;
    struct machine_spec spec = {.name = "plan (commit order)", .commit_order = true};
    struct machine_run c;
    int rc = machine_run(l, &spec, &c, err);
    if (rc)
        return rc;
    vs->replay_violations += c.plan_violations;
    struct outcome_merge m;
    struct replay_reader cr;
    memset(&cr, 0, sizeof cr);
    if (outcome_merge_open(&m, l, true) != 0 || replay_reader_open(&cr, &c) != 0) {
        util_error_set(err, "out of memory");
        rc = UTIL_EXIT_FAILURE;
    }
    const struct outcome *o;
    const struct replay_view *cv;
    for (uint64_t k = 0; rc == 0 && (o = outcome_merge_next(&m)); k++) {
        /* Commit numbers are 0..n-1, one per packet. */
        if (o->commit != k || k >= n || !(cv = replay_reader_next(&cr))) {
            util_error_set(err, "--verify: commit number %" PRIu64 " is out of place "
                                "(internal error)", o->commit);
            rc = UTIL_EXIT_FAILURE;
            break;
        }
        struct vpacket v = {o->bytes_in, o->len, o->port, o->time_ns, o->core};
        if (!same_outcome(&v, cv, o))
            races[k / 8] |= (uint8_t)(1u << (k % 8));
    }
    outcome_merge_close(&m);
    replay_reader_close(&cr);
    machine_run_free(&c);
    return rc;
}

/* The sequential NF's own tables filled at some packet: from there on a
 * difference on a packet that touched that table's group is capacity. */
static bool after_sequential_full(const struct verify_state *vs, size_t i, uint64_t touched)
{
    const size_t *first_full = vs->sequential.first_full;
    for (int o = 0; o < vs->n_objects && o < RT_TRACK_OBJECTS; o++) {
        if (first_full[o] == SIZE_MAX || first_full[o] > i)
            continue;
        for (int t = 0; t < vs->n_objects && t < RT_TRACK_OBJECTS; t++)
            if ((touched >> t & 1) &&
                (t == o || (vs->group[t] >= 0 && vs->group[t] == vs->group[o])))
                return true;
    }
    return false;
}

static bool plan_has_sharded_sketch(const struct launcher *l)
{
    for (int i = 0; i < l->plan.deps.n_objects; i++)
        if (l->plan.deps.objects[i].kind == DEPS_KIND_SKETCH &&
            l->plan.deps.objects[i].decision == DEPS_SHARDED)
            return true;
    return false;
}

/* The replays that explain a difference between A and S: B (full capacity,
 * whole sketches) and, with a sharded sketch, each toggle alone. */
struct explainers {
    struct machine_run b, cap_only, sketch_only;
    bool have_b, split;
};

static void explainers_free(struct explainers *e)
{
    machine_run_free(&e->b);
    machine_run_free(&e->cap_only);
    machine_run_free(&e->sketch_only);
}

/* One packet of every stream a pass reads, side by side. */
struct pass {
    struct packet_reader packets;
    struct replay_reader s, a, b, cap_only, sketch_only;
    struct outcome_merge parallel;
    bool with_b, with_split, with_parallel;
    struct flow_walker flows;
};

struct pass_packet {
    const struct vpacket *v;
    const struct replay_view *s, *a, *b, *cap_only, *sketch_only;
    const struct outcome *o;
    int64_t flow, back;
};

static int pass_open(struct pass *p, const struct launcher *l, const struct machine_run *x,
                     const struct explainers *e, bool with_parallel)
{
    memset(p, 0, sizeof *p);
    const struct verify_state *vs = l->verify;
    p->with_b = e && e->have_b;
    p->with_split = e && e->split;
    p->with_parallel = with_parallel;
    if (packet_reader_open(&p->packets, l->set) != 0 ||
        replay_reader_open(&p->s, &vs->sequential) != 0 || replay_reader_open(&p->a, x) != 0)
        return -1;
    if (p->with_b && replay_reader_open(&p->b, &e->b) != 0)
        return -1;
    if (p->with_split && (replay_reader_open(&p->cap_only, &e->cap_only) != 0 ||
                          replay_reader_open(&p->sketch_only, &e->sketch_only) != 0))
        return -1;
    if (with_parallel && outcome_merge_open(&p->parallel, l, false) != 0)
        return -1;
    return 0;
}

static void pass_close(struct pass *p)
{
    packet_reader_close(&p->packets);
    replay_reader_close(&p->s);
    replay_reader_close(&p->a);
    replay_reader_close(&p->b);
    replay_reader_close(&p->cap_only);
    replay_reader_close(&p->sketch_only);
    if (p->with_parallel)
        outcome_merge_close(&p->parallel);
    flow_walker_free(&p->flows);
}

/* The next packet of every stream (1), the end (0), streams that disagree
 * or no memory (-1). */
static int pass_next(struct pass *p, struct pass_packet *pp)
{
    memset(pp, 0, sizeof *pp);
    if (!(pp->v = packet_reader_next(&p->packets)))
        return 0;
    if (!(pp->s = replay_reader_next(&p->s)) || !(pp->a = replay_reader_next(&p->a)) ||
        (p->with_b && !(pp->b = replay_reader_next(&p->b))) ||
        (p->with_split && (!(pp->cap_only = replay_reader_next(&p->cap_only)) ||
                           !(pp->sketch_only = replay_reader_next(&p->sketch_only)))) ||
        (p->with_parallel && !(pp->o = outcome_merge_next(&p->parallel))))
        return -1;
    struct frame_tuple seq_sent;
    if (!translated_tuple(pp->v, pp->s, &seq_sent))
        seq_sent.family = 0;
    return flow_walk(&p->flows, pp->v, &seq_sent, &pp->flow, &pp->back) == 0 ? 1 : -1;
}

/* How x relates to S at this packet, before the final verdict on flows. */
static int relate_packet(struct translation_check *tc, const struct pass_packet *pp,
                         const struct replay_view *x, enum relation *rel, const char **why)
{
    *why = NULL;
    *rel = relate(pp->v, pp->s, x, why);
    return translation_check_packet(tc, pp->v, pp->s, x, pp->flow, pp->back, rel, why);
}

/* The first pass over S and replay x: which flows' translations are not a
 * consistent bijection (tc), and whether any packet differs. */
static int check_flows(struct launcher *l, const struct machine_run *x, bool injective,
                       struct translation_check *tc, bool *any_different,
                       struct util_error *err)
{
    struct pass p;
    struct pass_packet pp;
    int got = pass_open(&p, l, x, NULL, false) == 0 ? 1 : -1;
    translation_check_init(tc, injective);
    *any_different = false;
    while (got == 1 && (got = pass_next(&p, &pp)) == 1) {
        enum relation rel;
        const char *why;
        if (relate_packet(tc, &pp, pp.a, &rel, &why) != 0)
            got = -1;
        *any_different |= rel == REL_DIFFERENT;
    }
    pass_close(&p);
    *any_different |= translation_check_any_invalid(tc);
    if (got < 0) {
        util_error_set(err, "--verify ran out of memory or could not read back a temporary "
                            "file");
        return UTIL_EXIT_FAILURE;
    }
    return 0;
}

static int run_explainers(struct launcher *l, struct explainers *e, struct util_error *err)
{
    struct verify_state *vs = l->verify;
    const struct spill *ref = vs->have_reply_ref ? &vs->reply_ref : NULL;
    struct machine_spec spec_b = {.name = "plan (full capacity, whole sketches)",
                                  .full_capacity = true, .sketches_single = true,
                                  .reply_ref = ref, .sequential_results = &vs->sequential};
    int rc = machine_run(l, &spec_b, &e->b, err);
    if (rc)
        return rc;
    e->have_b = true;
    vs->replay_violations += e->b.plan_violations;
    /* Capacity or estimate? Only worth two more replays with a sketch. */
    if (!plan_has_sharded_sketch(l))
        return 0;
    struct machine_spec full = {.name = "plan (full capacity)", .full_capacity = true,
                                .reply_ref = ref, .sequential_results = &vs->sequential};
    struct machine_spec whole = {.name = "plan (whole sketches)", .sketches_single = true,
                                 .reply_ref = ref, .sequential_results = &vs->sequential};
    rc = machine_run(l, &full, &e->cap_only, err);
    if (rc == 0)
        rc = machine_run(l, &whole, &e->sketch_only, err);
    e->split = rc == 0;
    return rc;
}

/* Records packet i's class (the first one given wins) and, while examples
 * are wanted, describes it. */
struct classifier {
    struct launcher *l;
    const struct pass_packet *pp;
    size_t i;
    enum vclass cls;
};

static void classify(struct classifier *k, enum vclass c, const char *why, uint64_t touched)
{
    struct verify_state *vs = k->l->verify;
    if (k->cls != VC_SAME)
        return;
    k->cls = c;
    vs->count[c]++;
    for (int o = 0; o < vs->n_objects && o < RT_TRACK_OBJECTS && vs->by_object; o++)
        if (touched >> o & 1)
            vs->by_object[o][c]++;
    if (vs->n_examples[c] >= k->l->opt.examples || !vs->examples[c])
        return;
    const struct pass_packet *pp = k->pp;
    struct verify_example *e = &vs->examples[c][vs->n_examples[c]++];
    memset(e, 0, sizeof *e);
    e->packet = k->i;
    e->port = pp->v->port;
    e->core = pp->a->core;
    e->seq_verdict = pp->s->verdict;
    e->par_verdict = pp->o->verdict;
    e->why = why;
    verify_describe_packet(pp->v->bytes, pp->v->len, e->tuple, sizeof e->tuple);
    verify_describe_objects(k->l, pp->v->port, touched_any(&pp->a->touched), e->objects,
                            sizeof e->objects);
    /* What differs: against A (deterministic classes) or the parallel run
     * (interleaving, races). */
    const uint8_t *other = replay_output(pp->v, pp->a);
    if (c == VC_INTERLEAVING || !same_outcome(pp->v, pp->a, pp->o))
        other = pp->o->bytes_out ? pp->o->bytes_out : pp->o->bytes_in;
    if (pp->s->verdict >= 0 && pp->o->verdict >= 0)
        verify_describe_difference(pp->v, replay_output(pp->v, pp->s), other, e->detail,
                                   sizeof e->detail);
}

/* A differs from S at this packet: unsound unless the replay with full
 * capacity and whole sketches (B) agrees with S. */
static void explain_sharding(struct classifier *k, const struct explainers *e,
                             enum relation rel_b, const char *why_b, const char *why)
{
    const struct verify_state *vs = k->l->verify;
    const struct pass_packet *pp = k->pp;
    size_t i = k->i;
    uint64_t touched = touched_any(&pp->s->touched) | touched_any(&pp->a->touched) |
                       touched_any(&pp->b->touched);
    if (rel_b == REL_DIFFERENT) {
        if (after_sequential_full(vs, i, touched))
            classify(k, VC_CAPACITY, "the sequential NF's table was full", touched);
        else
            classify(k, VC_UNSOUND, why_b ? why_b : why, touched);
        return;
    }
    /* B agrees: per-core capacity or sketches made the difference. Capacity
     * needs a table that really filled; without one, what differs is the
     * per-core index ranges, which the NF must not depend on. */
    bool filled = false;
    for (int o = 0; o < vs->n_objects && o < RT_TRACK_OBJECTS; o++)
        filled |= vs->arrival.first_full[o] <= i || vs->sequential.first_full[o] <= i;
    /* Which toggle alone removes the difference: full capacity (with
     * per-core sketches), or whole sketches (with per-core capacity)? */
    bool by_capacity = false, by_sketch = false;
    const char *w;
    if (e->split) {
        by_capacity = relate(pp->v, pp->s, pp->cap_only, &w) != REL_DIFFERENT;
        by_sketch = relate(pp->v, pp->s, pp->sketch_only, &w) != REL_DIFFERENT;
    }
    if (by_sketch && (!by_capacity || !filled))
        classify(k, VC_ESTIMATE, "a per-core sketch estimated differently", touched);
    else if (filled)
        classify(k, VC_CAPACITY, "a per-core share of a table filled", touched);
    else
        classify(k, VC_UNSOUND, "the per-core index ranges of a sharded allocator change the "
                                "outcome although no table filled", touched);
}

static const char *const not_bijection =
    "a translation that is not a consistent bijection back to the original endpoints";

/* The last pass: every packet's class, in arrival order. Races first (they
 * are unsound whatever else the packet shows), then what sharding explains,
 * then interleaving, then translations. */
static int classify_all(struct launcher *l, const struct explainers *e,
                        const struct translation_check *flows_a,
                        const struct translation_check *flows_b, const uint8_t *races,
                        struct util_error *err)
{
    struct verify_state *vs = l->verify;
    struct pass p;
    struct pass_packet pp;
    struct translation_check tc_a, tc_b;
    translation_check_init(&tc_a, true);
    translation_check_init(&tc_b, false);  /* B's allocators repeat indexes across cores */
    int got = pass_open(&p, l, &vs->arrival, e, true) == 0 ? 1 : -1;
    size_t i = 0;
    while (got == 1 && (got = pass_next(&p, &pp)) == 1) {
        struct classifier k = {l, &pp, i, VC_SAME};
        enum relation rel, rel_b = REL_EQUAL;
        const char *why, *why_b = NULL;
        if (relate_packet(&tc_a, &pp, pp.a, &rel, &why) != 0 ||
            (e->have_b && relate_packet(&tc_b, &pp, pp.b, &rel_b, &why_b) != 0)) {
            got = -1;
            break;
        }
        if (rel == REL_TRANSLATED && translation_check_invalid(flows_a, pp.flow)) {
            rel = REL_DIFFERENT;
            why = not_bijection;
        }
        if (rel_b == REL_TRANSLATED && translation_check_invalid(flows_b, pp.flow)) {
            rel_b = REL_DIFFERENT;
            why_b = not_bijection;
        }
        if (l->opt.replaying && pp.o->seq != i) {
            got = -1;
            break;
        }
        if (races[pp.o->commit / 8] >> (pp.o->commit % 8) & 1) {
            vs->races++;
            classify(&k, VC_UNSOUND, "the parallel run is not its own lock-commit "
                                     "serialisation (a race)", touched_any(&pp.a->touched));
        }
        if (rel == REL_DIFFERENT) {
            if (e->have_b)
                explain_sharding(&k, e, rel_b, why_b, why);
            else        /* the first pass saw no difference: cannot happen */
                classify(&k, VC_UNSOUND, why, touched_any(&pp.a->touched));
        }
        if (!same_outcome(pp.v, pp.a, pp.o))
            classify(&k, VC_INTERLEAVING, "shared state accessed in another order",
                     touched_any(&pp.a->touched));
        if (rel == REL_TRANSLATED)
            classify(&k, VC_TRANSLATION, why,
                     touched_any(&pp.s->touched) | touched_any(&pp.a->touched));
        i++;
    }
    pass_close(&p);
    translation_check_free(&tc_a);
    translation_check_free(&tc_b);
    if (got < 0 || i != vs->n) {
        util_error_set(err, "--verify ran out of memory or could not read back a temporary "
                            "file (%zu of %zu packets compared)", i, vs->n);
        return UTIL_EXIT_FAILURE;
    }
    return 0;
}

int verify_finish(struct launcher *l, struct util_error *err)
{
    struct verify_state *vs = l->verify;
    remember_objects(vs, l);
    size_t total;
    int rc = finish_logs(l, &total, err);
    if (rc)
        return rc;
    if (!l->set) {
        rc = set_from_log(l, err);
        if (rc == 0)
            rc = run_references(l, err);
        if (rc)
            return rc;
    } else if (total != l->set->n) {
        util_error_set(err, "the parallel run processed %zu of %zu packets (stopped?)", total,
                       l->set->n);
        return UTIL_EXIT_FAILURE;
    }
    size_t n = l->set->n;
    vs->n = n;
    for (int c = 0; c < VC_N; c++)
        vs->examples[c] = calloc((size_t)l->opt.examples + 1, sizeof *vs->examples[c]);
    uint8_t *races = calloc(n / 8 + 1, 1);
    if (!races || !vs->names || !vs->group || !vs->by_object) {
        free(races);
        util_error_set(err, "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    vs->replay_violations += vs->arrival.plan_violations;
    struct translation_check flows_a = {0}, flows_b = {0};
    struct explainers e;
    memset(&e, 0, sizeof e);
    bool different = false, different_b;
    rc = replay_commit_order(l, n, races, err);
    if (rc == 0)
        rc = check_flows(l, &vs->arrival, true, &flows_a, &different, err);
    if (rc == 0 && different) {
        rc = run_explainers(l, &e, err);
        if (rc == 0)
            rc = check_flows(l, &e.b, false, &flows_b, &different_b, err);
    }
    if (rc == 0)
        rc = classify_all(l, &e, &flows_a, &flows_b, races, err);
    for (int o = 0; rc == 0 && o < vs->n_objects && o < RT_TRACK_OBJECTS; o++)
        if (vs->sequential.first_full[o] != SIZE_MAX && !vs->sequential_full[0])
            snprintf(vs->sequential_full, sizeof vs->sequential_full,
                     "the sequential NF's '%s' was full at packet %zu", vs->names[o],
                     vs->sequential.first_full[o]);
    translation_check_free(&flows_a);
    translation_check_free(&flows_b);
    explainers_free(&e);
    free(races);
    return rc;
}

void verify_free(struct launcher *l)
{
    struct verify_state *vs = l->verify;
    if (!vs)
        return;
    machine_run_free(&vs->arrival);
    machine_run_free(&vs->sequential);
    spill_close(&vs->reply_ref);
    free(vs->names);
    free(vs->group);
    free(vs->by_object);
    for (int c = 0; c < VC_N; c++)
        free(vs->examples[c]);
    free(vs);
    l->verify = NULL;
}
