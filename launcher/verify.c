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
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "launcher/launcher_internal.h"

enum vclass { VC_SAME, VC_UNSOUND, VC_INTERLEAVING, VC_TRANSLATION, VC_CAPACITY, VC_ESTIMATE,
              VC_N };

static const char *const class_names[VC_N] = {"same", "unsound", "interleaving", "translation",
                                              "capacity", "estimate"};

#define OBJECT_NAME_MAX 64
#define DETAIL_MAX 120

struct verify_state {
    struct machine_run arrival;     /* A: the plan's shape, arrival order */
    bool have_arrival;
    struct machine_run sequential;  /* S: the sequential NF, arrival order */
    struct frame_tuple *seq_sent;   /* per packet: S's translation (family 0: none) */
    struct frame_tuple *reply_ref;  /* live runs: what the parallel run sent */
    size_t n;                       /* packets compared */
    uint8_t *cls;                   /* per packet: enum vclass */
    int *seq_verdict, *par_verdict; /* per packet: the sequential NF's, the parallel run's */
    const char **why;               /* per packet: what made it that class */
    uint64_t count[VC_N];
    uint64_t races;                 /* unsound: the parallel run is no serialisation */
    uint64_t replay_violations;     /* writes to replicated objects in the replays */
    int n_objects;
    char (*names)[OBJECT_NAME_MAX];
    int *group;                     /* plan group per object (-1: not in the plan) */
    uint64_t (*by_object)[VC_N];
    size_t *examples[VC_N];
    size_t n_examples[VC_N];
    char (*example_detail[VC_N])[DETAIL_MAX];    /* what differs, per example */
    char sequential_full[160];      /* the sequential NF's own table filled */
};

static void describe(const uint8_t *bytes, uint32_t len, char *buf, size_t size);

/* ---- Before the run ------------------------------------------------------------ */

/* S, then A, whose model re-addresses replies to S's translations too. */
static int run_references(struct launcher *l, struct util_error *err)
{
    struct verify_state *vs = l->verify;
    struct machine_spec spec_s = {.name = "sequential", .sequential = true,
                                  .reply_ref = vs->reply_ref};
    int rc = machine_run(l, &spec_s, &vs->sequential, err);
    if (rc)
        return rc;
    vs->seq_sent = calloc(l->set->n + 1, sizeof *vs->seq_sent);
    if (!vs->seq_sent) {
        util_error_set(err, "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    for (size_t i = 0; i < l->set->n; i++)
        if (!translated_tuple(l, &vs->sequential, i, &vs->seq_sent[i]))
            vs->seq_sent[i].family = 0;
    struct machine_spec a = {.name = "plan (arrival order)", .reply_ref = vs->reply_ref,
                             .seq_sent = vs->seq_sent};
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

const uint8_t *verify_input(const struct launcher *l, size_t i, int *core)
{
    const struct machine_run *a = &l->verify->arrival;
    *core = a->core[i];
    return run_input(l, a, i);
}

/* ---- After the run -------------------------------------------------------------- */

/* The parallel run's outcome of every packet, by arrival position. Live runs
 * first become a set (arrival order: dispatch order, or time with hardware
 * RSS), owning the logged inputs. */
static struct outcome **parallel_outcomes(struct launcher *l, struct util_error *err)
{
    size_t total = 0;
    for (int c = 0; c < l->cores; c++) {
        if (l->workers[c].out_of_memory) {
            util_error_set(err, "--verify ran out of memory logging packets; replay a "
                                "shorter capture");
            return NULL;
        }
        total += l->workers[c].n_log;
    }
    struct outcome **by = calloc(total + 1, sizeof *by);
    if (!by) {
        util_error_set(err, "out of memory");
        return NULL;
    }
    size_t k = 0;
    for (int c = 0; c < l->cores; c++)
        for (size_t i = 0; i < l->workers[c].n_log; i++)
            by[k++] = &l->workers[c].log[i];
    if (l->set) {
        if (total != l->set->n) {
            util_error_set(err, "the parallel run processed %zu of %zu packets (stopped?)",
                           total, l->set->n);
            free(by);
            return NULL;
        }
        struct outcome **sorted = calloc(total + 1, sizeof *sorted);
        for (size_t i = 0; sorted && i < total; i++)
            sorted[by[i]->seq] = by[i];
        free(by);
        if (!sorted)
            util_error_set(err, "out of memory");
        return sorted;
    }
    return by;
}

static int compare_arrival(const void *a, const void *b)
{
    const struct outcome *x = *(const struct outcome *const *)a;
    const struct outcome *y = *(const struct outcome *const *)b;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    if (x->time_ns != y->time_ns)
        return x->time_ns < y->time_ns ? -1 : 1;
    return x->commit < y->commit ? -1 : x->commit > y->commit;
}

/* Live ports: the logged packets become the set, in arrival order. */
static int set_from_log(struct launcher *l, struct outcome **by, size_t total,
                        struct util_error *err)
{
    qsort(by, total, sizeof *by, compare_arrival);
    l->set = calloc(1, sizeof *l->set);
    struct replay_set *set = l->set;
    if (set)
        set->packets = calloc(total + 1, sizeof *set->packets);
    l->verify->reply_ref = calloc(total + 1, sizeof *l->verify->reply_ref);
    if (!set || !set->packets || !l->verify->reply_ref) {
        util_error_set(err, "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    for (size_t i = 0; i < total; i++) {
        struct outcome *o = by[i];
        set->packets[i] = (struct vpacket){o->bytes_in, o->len, o->port, o->time_ns, o->core};
        o->bytes_in = NULL;
        o->seq = i;
        /* The network addresses replies to what the parallel run sent. */
        if (o->verdict < 0 || !frame_tuple_of(o->bytes_out, o->len, &l->verify->reply_ref[i]))
            l->verify->reply_ref[i].family = 0;
    }
    set->n = set->cap = total;
    return 0;
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

static void classify(struct verify_state *vs, size_t i, enum vclass c, const char *why,
                     uint64_t touched, size_t max_examples)
{
    if (vs->cls[i] != VC_SAME)
        return;
    vs->cls[i] = (uint8_t)c;
    vs->why[i] = why;
    vs->count[c]++;
    for (int o = 0; o < vs->n_objects && o < RT_TRACK_OBJECTS && vs->by_object; o++)
        if (touched >> o & 1)
            vs->by_object[o][c]++;
    if (vs->n_examples[c] < max_examples)
        vs->examples[c][vs->n_examples[c]++] = i;
}

static uint64_t touched_any(const struct rt_touched *t)
{
    return t->read | t->write;
}

/* The sequential NF's own tables filled at some packet: from there on a
 * difference on a packet that touched that table's group is capacity. */
static bool after_sequential_full(const struct verify_state *vs, const struct machine_run *s,
                                  size_t i, uint64_t touched)
{
    for (int o = 0; o < vs->n_objects && o < RT_TRACK_OBJECTS; o++) {
        if (s->first_full[o] == SIZE_MAX || s->first_full[o] > i)
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

/* Packets where A differs from S: unsound unless the replay with full
 * capacity and whole sketches (B) agrees with S. */
static int explain_sharding(struct launcher *l, const struct machine_run *s,
                            const enum relation *rel, const char **why,
                            const struct flows *fl, struct util_error *err)
{
    struct verify_state *vs = l->verify;
    size_t n = l->set->n, max = l->opt.examples;
    struct machine_spec spec_b = {.name = "plan (full capacity, whole sketches)",
                                  .full_capacity = true, .sketches_single = true,
                                  .reply_ref = vs->reply_ref, .seq_sent = vs->seq_sent};
    struct machine_run b;
    int rc = machine_run(l, &spec_b, &b, err);
    if (rc)
        return rc;
    enum relation *rel_b = malloc((n + 1) * sizeof *rel_b);
    const char **why_b = malloc((n + 1) * sizeof *why_b);
    /* B's allocators repeat indexes across cores: no injectivity check. */
    if (!rel_b || !why_b || relate_all(l, s, &b, false, fl, rel_b, why_b) != 0) {
        free(rel_b);
        free(why_b);
        machine_run_free(&b);
        util_error_set(err, "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    vs->replay_violations += b.plan_violations;
    /* Capacity or estimate? Only worth two more replays with a sketch. */
    struct machine_run cap_only = {0}, sketch_only = {0};
    bool split = plan_has_sharded_sketch(l);
    if (split) {
        struct machine_spec full = {.name = "plan (full capacity)", .full_capacity = true,
                                    .reply_ref = vs->reply_ref, .seq_sent = vs->seq_sent};
        struct machine_spec whole = {.name = "plan (whole sketches)", .sketches_single = true,
                                     .reply_ref = vs->reply_ref, .seq_sent = vs->seq_sent};
        rc = machine_run(l, &full, &cap_only, err);
        if (rc == 0)
            rc = machine_run(l, &whole, &sketch_only, err);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (rel[i] != REL_DIFFERENT)
            continue;
        uint64_t touched = touched_any(&s->touched[i]) | touched_any(&vs->arrival.touched[i]) |
                           touched_any(&b.touched[i]);
        if (rel_b[i] == REL_DIFFERENT) {
            if (after_sequential_full(vs, s, i, touched))
                classify(vs, i, VC_CAPACITY, "the sequential NF's table was full", touched, max);
            else
                classify(vs, i, VC_UNSOUND, why_b[i] ? why_b[i] : why[i], touched, max);
            continue;
        }
        /* B agrees: per-core capacity or sketches made the difference. Capacity
         * needs a table that really filled; without one, what differs is the
         * per-core index ranges, which the NF must not depend on. */
        bool filled = false;
        for (int o = 0; o < vs->n_objects && o < RT_TRACK_OBJECTS; o++)
            filled |= vs->arrival.first_full[o] <= i || s->first_full[o] <= i;
        /* Which toggle alone removes the difference: full capacity (with
         * per-core sketches), or whole sketches (with per-core capacity)? */
        bool by_capacity = false, by_sketch = false;
        const char *w;
        if (split) {
            by_capacity = relate(l, s, &cap_only, i, &w) != REL_DIFFERENT;
            by_sketch = relate(l, s, &sketch_only, i, &w) != REL_DIFFERENT;
        }
        if (by_sketch && (!by_capacity || !filled))
            classify(vs, i, VC_ESTIMATE, "a per-core sketch estimated differently", touched, max);
        else if (filled)
            classify(vs, i, VC_CAPACITY, "a per-core share of a table filled", touched, max);
        else
            classify(vs, i, VC_UNSOUND, "the per-core index ranges of a sharded allocator "
                                        "change the outcome although no table filled",
                     touched, max);
    }
    free(rel_b);
    free(why_b);
    machine_run_free(&b);
    machine_run_free(&cap_only);
    machine_run_free(&sketch_only);
    return rc;
}

/* The parallel run's outcome of packet i against a replay's (whose input
 * was the same). */
static bool same_outcome(const struct machine_run *r, size_t i, const struct outcome *o)
{
    if (r->verdict[i] != o->verdict)
        return false;
    if (o->verdict < 0)
        return true;
    const uint8_t *p_out = o->bytes_out ? o->bytes_out : r->input[i];
    return memcmp(machine_output(r, i), p_out, o->len) == 0;
}

/* C: the plan's shape replayed in the parallel run's commit order, on its
 * inputs and cores. The parallel run must be exactly that: anything else is
 * a race (unsound). */
static int replay_commit_order(struct launcher *l, struct outcome **by, struct machine_run *c,
                               struct util_error *err)
{
    struct verify_state *vs = l->verify;
    size_t n = l->set->n;
    size_t *order = malloc((n + 1) * sizeof *order);
    const uint8_t **inputs = malloc((n + 1) * sizeof *inputs);
    int *cores = malloc((n + 1) * sizeof *cores);
    int rc = UTIL_EXIT_FAILURE;
    if (!order || !inputs || !cores) {
        util_error_set(err, "out of memory");
        goto out;
    }
    /* Commit numbers are 0..n-1, one per packet. */
    for (size_t i = 0; i < n; i++)
        order[i] = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        inputs[i] = run_input(l, &vs->arrival, i);
        cores[i] = by[i]->core;
        if (by[i]->commit >= n || order[by[i]->commit] != SIZE_MAX) {
            util_error_set(err, "--verify: commit number %" PRIu64 " of packet %zu is out of "
                                "place (internal error)", by[i]->commit, i);
            goto out;
        }
        order[by[i]->commit] = i;
    }
    struct machine_spec spec = {.name = "plan (commit order)", .order = order,
                                .inputs = inputs, .cores = cores};
    rc = machine_run(l, &spec, c, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct outcome *o = by[i];
        if (same_outcome(c, i, o))
            continue;
        vs->races++;
        classify(vs, i, VC_UNSOUND,
                 "the parallel run is not its own lock-commit serialisation (a race)",
                 touched_any(&c->touched[i]), l->opt.examples);
    }
    if (rc == 0)
        vs->replay_violations += c->plan_violations;
out:
    free(order);
    free(inputs);
    free(cores);
    return rc;
}

/* What A (arrival order) and the parallel run disagree on is how packets of
 * different cores were interleaved. */
static void classify_interleaving(struct launcher *l, struct outcome **by,
                                  const struct machine_run *c)
{
    struct verify_state *vs = l->verify;
    for (size_t i = 0; i < l->set->n; i++) {
        const struct outcome *o = by[i];
        if (same_outcome(&vs->arrival, i, o))
            continue;
        classify(vs, i, VC_INTERLEAVING, "shared state accessed in another order",
                 touched_any(&c->touched[i]), l->opt.examples);
    }
}

/* The first thing that differs between the sequential output and another
 * run's, for an example line: a field's two values, or a byte. */
static void describe_difference(const struct launcher *l, size_t i, const uint8_t *seq_out,
                                const uint8_t *other, char *buf, size_t size)
{
    static const char *const names[4] = {"source address", "destination address",
                                         "source port", "destination port"};
    const struct vpacket *v = &l->set->packets[i];
    struct frame_tuple a, b;
    buf[0] = 0;
    if (frame_tuple_of(seq_out, v->len, &a) && frame_tuple_of(other, v->len, &b) &&
        a.family == b.family) {
        for (int f = 0; f < 4; f++) {
            if (tuple_field_equal(&a, &b, f))
                continue;
            char x[INET6_ADDRSTRLEN], y[INET6_ADDRSTRLEN];
            if (f < 2) {
                int af = a.family == 4 ? AF_INET : AF_INET6;
                inet_ntop(af, f == 0 ? a.src : a.dst, x, sizeof x);
                inet_ntop(af, f == 0 ? b.src : b.dst, y, sizeof y);
            } else {
                snprintf(x, sizeof x, "%u", ntohs(f == 2 ? a.sport : a.dport));
                snprintf(y, sizeof y, "%u", ntohs(f == 2 ? b.sport : b.dport));
            }
            snprintf(buf, size, "%s %s sequentially, %s here", names[f], x, y);
            return;
        }
    }
    for (uint32_t k = 0; k < v->len; k++)
        if (seq_out[k] != other[k]) {
            snprintf(buf, size, "byte %u: 0x%02x sequentially, 0x%02x here", k, seq_out[k],
                     other[k]);
            return;
        }
}

/* Fills the detail of every example: against A (deterministic classes) or
 * the parallel run (interleaving, races). */
static void describe_examples(struct launcher *l, const struct machine_run *s,
                              struct outcome **by)
{
    struct verify_state *vs = l->verify;
    for (int c = 1; c < VC_N; c++)
        for (size_t k = 0; vs->example_detail[c] && k < vs->n_examples[c]; k++) {
            size_t i = vs->examples[c][k];
            const uint8_t *other = machine_output(&vs->arrival, i);
            if (c == VC_INTERLEAVING || !same_outcome(&vs->arrival, i, by[i]))
                other = by[i]->bytes_out ? by[i]->bytes_out : vs->arrival.input[i];
            if (s->verdict[i] >= 0 && by[i]->verdict >= 0)
                describe_difference(l, i, machine_output(s, i), other,
                                    vs->example_detail[c][k], DETAIL_MAX);
        }
}

int verify_finish(struct launcher *l, struct util_error *err)
{
    struct verify_state *vs = l->verify;
    remember_objects(vs, l);
    struct outcome **by = parallel_outcomes(l, err);
    if (!by)
        return UTIL_EXIT_FAILURE;
    int rc = 0;
    if (!l->set) {
        size_t total = 0;
        for (int c = 0; c < l->cores; c++)
            total += l->workers[c].n_log;
        rc = set_from_log(l, by, total, err);
        if (rc == 0)
            rc = run_references(l, err);
    }
    size_t n = l->set ? l->set->n : 0;
    vs->n = n;
    vs->cls = calloc(n + 1, 1);
    vs->why = calloc(n + 1, sizeof *vs->why);
    vs->seq_verdict = calloc(n + 1, sizeof *vs->seq_verdict);
    vs->par_verdict = calloc(n + 1, sizeof *vs->par_verdict);
    for (int c = 0; c < VC_N; c++) {
        vs->examples[c] = calloc((size_t)l->opt.examples + 1, sizeof *vs->examples[c]);
        vs->example_detail[c] = calloc((size_t)l->opt.examples + 1,
                                       sizeof *vs->example_detail[c]);
    }
    enum relation *rel = malloc((n + 1) * sizeof *rel);
    const char **why = malloc((n + 1) * sizeof *why);
    struct flows fl = {0};
    bool flows_ok = rc == 0 && flows_of(l, vs->seq_sent, &fl) == 0;
    struct machine_run *s = &vs->sequential, c = {0};
    if (rc == 0 && (!vs->cls || !vs->why || !vs->seq_verdict || !vs->par_verdict || !rel ||
                    !why || !flows_ok)) {
        util_error_set(err, "out of memory");
        rc = UTIL_EXIT_FAILURE;
    }
    if (rc == 0)
        vs->replay_violations += vs->arrival.plan_violations;
    /* Races first: they are unsound whatever else the packet shows. */
    if (rc == 0)
        rc = replay_commit_order(l, by, &c, err);
    /* How A relates to S. */
    if (rc == 0 && relate_all(l, s, &vs->arrival, true, &fl, rel, why) != 0) {
        util_error_set(err, "out of memory");
        rc = UTIL_EXIT_FAILURE;
    }
    bool any_different = false;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        any_different |= rel[i] == REL_DIFFERENT;
        vs->seq_verdict[i] = s->verdict[i];
        vs->par_verdict[i] = by[i]->verdict;
    }
    if (rc == 0 && any_different)
        rc = explain_sharding(l, s, rel, why, &fl, err);
    for (int o = 0; rc == 0 && o < vs->n_objects && o < RT_TRACK_OBJECTS; o++)
        if (s->first_full[o] != SIZE_MAX && !vs->sequential_full[0])
            snprintf(vs->sequential_full, sizeof vs->sequential_full,
                     "the sequential NF's '%s' was full at packet %zu", vs->names[o],
                     s->first_full[o]);
    if (rc == 0)
        classify_interleaving(l, by, &c);
    /* What is left that differs from S is a translation. */
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (rel[i] == REL_TRANSLATED)
            classify(vs, i, VC_TRANSLATION, why[i],
                     touched_any(&s->touched[i]) | touched_any(&vs->arrival.touched[i]),
                     l->opt.examples);
    if (rc == 0)
        describe_examples(l, s, by);
    machine_run_free(&c);
    free(rel);
    free(why);
    flows_free(&fl);
    free(by);
    return rc;
}

/* ---- Output ---------------------------------------------------------------------- */

uint64_t verify_unsound(const struct launcher *l)
{
    const struct verify_state *vs = l->verify;
    return vs ? vs->count[VC_UNSOUND] + vs->replay_violations : 0;
}

static void describe(const uint8_t *bytes, uint32_t len, char *buf, size_t size)
{
    struct trace_tuple t;
    if (!trace_parse(LINKTYPE_ETHERNET, bytes, len, &t) ||
        (t.ip_version != 4 && t.ip_version != 6)) {
        snprintf(buf, size, "%u-byte non-IP frame", len);
        return;
    }
    char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
    int af = t.ip_version == 4 ? AF_INET : AF_INET6;
    inet_ntop(af, t.src, src, sizeof src);
    inet_ntop(af, t.dst, dst, sizeof dst);
    const char *proto = t.proto == 6 ? "tcp" : t.proto == 17 ? "udp" : NULL;
    char pname[16];
    if (!proto) {
        snprintf(pname, sizeof pname, "proto %u", t.proto);
        proto = pname;
    }
    if (t.has_ports)
        snprintf(buf, size, "%s %s:%u -> %s:%u%s", proto, src, ntohs(t.sport), dst,
                 ntohs(t.dport), t.is_fragment ? " (fragment)" : "");
    else
        snprintf(buf, size, "%s %s -> %s%s", proto, src, dst, t.is_fragment ? " (fragment)" : "");
}

static void verdict_text(int verdict, char *buf, size_t size)
{
    if (verdict < 0)
        snprintf(buf, size, "drop");
    else
        snprintf(buf, size, "port %d", verdict);
}

/* "fw_flow_table (fw.c:45)" for each object packet i's replays touched. */
static void objects_text(const struct launcher *l, size_t i, char *buf, size_t size)
{
    const struct verify_state *vs = l->verify;
    uint64_t t = touched_any(&vs->arrival.touched[i]);
    size_t used = 0;
    buf[0] = 0;
    for (int o = 0; o < vs->n_objects && o < RT_TRACK_OBJECTS && used + 1 < size; o++) {
        if (!(t >> o & 1))
            continue;
        const char *file = "", *slash;
        int line = 0;
        for (int a = 0; a < l->plan.deps.n_accesses; a++) {
            const struct deps_access *acc = &l->plan.deps.accesses[a];
            if (acc->port == l->set->packets[i].port && acc->object >= 0 &&
                acc->object < l->plan.deps.n_objects &&
                strcmp(l->plan.deps.objects[acc->object].name, vs->names[o]) == 0 && acc->line) {
                file = acc->file;
                line = acc->line;
                break;
            }
        }
        if ((slash = strrchr(file, '/')))
            file = slash + 1;
        int w = line ? snprintf(buf + used, size - used, "%s%s (%s:%d)", used ? ", " : "",
                                vs->names[o], file, line)
                     : snprintf(buf + used, size - used, "%s%s", used ? ", " : "", vs->names[o]);
        if (w < 0 || (size_t)w >= size - used)
            break;
        used += (size_t)w;
    }
    if (!used)
        snprintf(buf, size, "no state");
}

static void example_text(const struct launcher *l, int c, size_t k, char *buf, size_t size)
{
    const struct verify_state *vs = l->verify;
    size_t i = vs->examples[c][k];
    const char *detail = vs->example_detail[c] ? vs->example_detail[c][k] : "";
    const struct vpacket *v = &l->set->packets[i];
    char what[160], seq[24], par[24], objects[400];
    describe(v->bytes, v->len, what, sizeof what);
    verdict_text(vs->seq_verdict[i], seq, sizeof seq);
    verdict_text(vs->par_verdict[i], par, sizeof par);
    objects_text(l, i, objects, sizeof objects);
    snprintf(buf, size, "packet %zu, port %u, core %d, %s: sequential %s, parallel %s (%s%s%s); "
                        "objects: %s", i + 1, v->port, vs->arrival.core[i], what, seq, par,
             vs->why[i] ? vs->why[i] : "", detail[0] ? ": " : "", detail, objects);
}

void verify_print(const struct launcher *l, FILE *out)
{
    const struct verify_state *vs = l->verify;
    if (!vs)
        return;
    uint64_t total = 0;
    for (int c = 1; c < VC_N; c++)
        total += vs->count[c];
    fprintf(out, "verify: %zu packets compared with the sequential NF in arrival order, "
                 "%" PRIu64 " differ\n", vs->n, total);
    if (l->replay_skipped_port || l->replay_skipped_long)
        fprintf(out, "  not replayed: %" PRIu64 " packets for ports the plan lacks, %" PRIu64
                     " frames longer than %u bytes\n", l->replay_skipped_port,
                l->replay_skipped_long, (unsigned)MAX_FRAME);
    for (int c = 1; c < VC_N; c++) {
        fprintf(out, "  %-13s %9" PRIu64, class_names[c], vs->count[c]);
        bool first = true;
        for (int o = 0; vs->by_object && o < vs->n_objects; o++)
            if (vs->by_object[o][c]) {
                fprintf(out, "%s%s %" PRIu64, first ? "   " : ", ", vs->names[o],
                        vs->by_object[o][c]);
                first = false;
            }
        fprintf(out, "\n");
    }
    if (vs->sequential_full[0])
        fprintf(out, "  note: %s\n", vs->sequential_full);
    for (int c = 1; c < VC_N; c++)
        for (size_t k = 0; k < vs->n_examples[c]; k++) {
            char text[800];
            example_text(l, c, k, text, sizeof text);
            fprintf(out, "  %s %s\n", class_names[c], text);
        }
    if (vs->replay_violations)
        fprintf(out, "  %" PRIu64 " writes to objects the plan replicates (read-only)\n",
                vs->replay_violations);
    fprintf(out, "verify: %s\n", verify_unsound(l)
                                     ? "UNSOUND: the plan changes what the NF does"
                                     : "sound on this traffic (no unsound difference)");
}

void verify_json(const struct launcher *l, struct util_json *w)
{
    const struct verify_state *vs = l->verify;
    if (!vs)
        return;
    util_json_key(w, "verify");
    util_json_object_begin(w);
    util_json_key(w, "packets");
    util_json_uint(w, vs->n);
    util_json_key(w, "differences");
    util_json_object_begin(w);
    for (int c = 1; c < VC_N; c++) {
        util_json_key(w, class_names[c]);
        util_json_uint(w, vs->count[c]);
    }
    util_json_object_end(w);
    util_json_key(w, "races");
    util_json_uint(w, vs->races);
    util_json_key(w, "by_object");
    util_json_array_begin(w);
    for (int o = 0; vs->by_object && o < vs->n_objects; o++) {
        util_json_object_begin(w);
        util_json_key(w, "object");
        util_json_string(w, vs->names[o]);
        for (int c = 1; c < VC_N; c++) {
            util_json_key(w, class_names[c]);
            util_json_uint(w, vs->by_object[o][c]);
        }
        util_json_object_end(w);
    }
    util_json_array_end(w);
    util_json_key(w, "examples");
    util_json_array_begin(w);
    for (int c = 1; c < VC_N; c++)
        for (size_t k = 0; k < vs->n_examples[c]; k++) {
            size_t i = vs->examples[c][k];
            char text[160], objects[400];
            util_json_object_begin(w);
            util_json_key(w, "class");
            util_json_string(w, class_names[c]);
            util_json_key(w, "packet");
            util_json_uint(w, i + 1);
            util_json_key(w, "port");
            util_json_uint(w, l->set->packets[i].port);
            describe(l->set->packets[i].bytes, l->set->packets[i].len, text, sizeof text);
            util_json_key(w, "tuple");
            util_json_string(w, text);
            util_json_key(w, "core");
            util_json_int(w, vs->arrival.core[i]);
            util_json_key(w, "sequential_verdict");
            util_json_int(w, vs->seq_verdict[i]);
            util_json_key(w, "parallel_verdict");
            util_json_int(w, vs->par_verdict[i]);
            util_json_key(w, "what");
            util_json_string(w, vs->why[i] ? vs->why[i] : "");
            util_json_key(w, "detail");
            util_json_string(w, vs->example_detail[c] ? vs->example_detail[c][k] : "");
            objects_text(l, i, objects, sizeof objects);
            util_json_key(w, "objects");
            util_json_string(w, objects);
            util_json_object_end(w);
        }
    util_json_array_end(w);
    if (vs->sequential_full[0]) {
        util_json_key(w, "note");
        util_json_string(w, vs->sequential_full);
    }
    util_json_key(w, "replicated_writes");
    util_json_uint(w, vs->replay_violations);
    util_json_key(w, "result");
    util_json_string(w, verify_unsound(l) ? "unsound" : "sound");
    util_json_object_end(w);
}

void verify_free(struct launcher *l)
{
    struct verify_state *vs = l->verify;
    if (!vs)
        return;
    machine_run_free(&vs->arrival);
    machine_run_free(&vs->sequential);
    free(vs->seq_sent);
    free(vs->reply_ref);
    free(vs->cls);
    free(vs->why);
    free(vs->seq_verdict);
    free(vs->par_verdict);
    free(vs->names);
    free(vs->group);
    free(vs->by_object);
    for (int c = 0; c < VC_N; c++) {
        free(vs->examples[c]);
        free(vs->example_detail[c]);
    }
    free(vs);
    l->verify = NULL;
}
