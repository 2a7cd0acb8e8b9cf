/*
 * capacity.c - what rate a plan carries and why not more: the trace profile
 * that converts between pps, Gbps wire and Gbps frame; the pacing models
 * (even, trace timing scaled, back-to-back bits) that offer a mean rate; the
 * loss-free test; the cause of a loss (what lost packets first, and why);
 * the MLFFR bisection; and --target's smallest core count for a rate.
 * docs/simulator.md, "Capacity".
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_internal.h"

/* Limits are computed in floating point from the same run: a rate equal to
 * one (the MLFFR at the NIC's rate) must count as within it. */
#define TOLERANCE (1 + 1e-9)

const char *sim_pace_model_name(enum sim_pace_model m)
{
    return m == SIM_MODEL_TRACE ? "trace" : m == SIM_MODEL_BITS ? "bits" : "even";
}

const char *sim_cause_name(enum sim_cause c)
{
    switch (c) {
    case SIM_CAUSE_CYCLES: return "core cycles";
    case SIM_CAUSE_RING_BURSTS: return "ring bursts";
    case SIM_CAUSE_LOCKS: return "lock hand-offs";
    case SIM_CAUSE_NIC: return "NIC line rate";
    case SIM_CAUSE_PCIE: return "PCIe";
    default: return "none";
    }
}

int sim_profile_source(struct sim_source *src, uint64_t limit, struct sim_profile *p,
                       struct util_error *err)
{
    memset(p, 0, sizeof *p);
    int rc = src->rewind(src->ctx, err);
    if (rc)
        return rc;
    struct trace_packet pkt;
    uint64_t t0 = 0, t1 = 0;
    int got;
    while ((!limit || p->packets < limit) && (got = src->next(src->ctx, &pkt, err)) == 1) {
        if (p->packets++ == 0)
            t0 = pkt.time_ns;
        if (pkt.time_ns > t1)
            t1 = pkt.time_ns;
        p->wire_bits += sim_wire_bits(pkt.wire_len);
        p->frame_bits += pkt.wire_len * 8.0;
    }
    if (got < 0)
        return UTIL_EXIT_INPUT;
    p->span_s = t1 > t0 ? (double)(t1 - t0) * 1e-9 : 0;
    return src->rewind(src->ctx, err);
}

double sim_profile_trace_pps(const struct sim_profile *p)
{
    return p->span_s > 0 && p->packets > 1 ? (p->packets - 1) / p->span_s : 0;
}

int sim_pace_at(const struct sim_profile *p, enum sim_pace_model m, double pps,
                struct sim_options *o, struct util_error *err)
{
    switch (m) {
    case SIM_MODEL_TRACE: {
        double natural = sim_profile_trace_pps(p);
        if (natural <= 0) {
            util_error_set(err, "the trace's timestamps span no time, so its timing cannot "
                           "be scaled to a rate: use --pace even or bits");
            return UTIL_EXIT_USAGE;
        }
        o->pacing = SIM_PACE_TRACE;
        o->rate = pps / natural;
        return 0;
    }
    case SIM_MODEL_BITS:
        o->pacing = SIM_PACE_GBPS;
        o->rate = p->packets ? pps * (p->wire_bits / p->packets) / 1e9 : pps * 672 / 1e9;
        return 0;
    default:
        o->pacing = SIM_PACE_PPS;
        o->rate = pps;
        return 0;
    }
}

bool sim_loss_free(const struct sim_result *r, double rate)
{
    return r->drops == 0 && rate <= r->core_limit_pps * TOLERANCE &&
           rate <= r->nic_limit_pps * TOLERANCE && rate <= r->pcie_limit_pps * TOLERANCE;
}

/* The core whose own capacity limits the cores' rate (core_limit_pps). */
static int limiting_core(const struct sim_result *r)
{
    int best = r->busiest_core;
    double lim = INFINITY;
    for (int k = 0; k < r->cores; k++) {
        const struct sim_core_stats *st = &r->core[k];
        if (!st->packets || st->busy_cycles <= 0)
            continue;
        double l = r->processed / st->busy_cycles;   /* per cycle; the clock cancels */
        if (l < lim) {
            lim = l;
            best = k;
        }
    }
    return best;
}

/* Why core k's ring overflowed at rate. */
static enum sim_cause core_cause(const struct sim_result *r, const struct sim_costs *c,
                                 double rate, int k, char *buf, size_t n)
{
    const struct sim_core_stats *st = &r->core[k];
    double hz = c->ghz * 1e9;
    double busy = st->busy_cycles;
    double locks = st->cycles_lock + st->cycles_lock_wait;
    double share = r->offered ? (double)(st->packets + st->drops) / r->offered : 0;
    double cpp = st->packets ? busy / st->packets : 0;
    double can = cpp > 0 ? hz / cpp : INFINITY;
    double span = r->duration_s * hz;
    if (busy > 0 && locks >= 0.25 * busy) {
        snprintf(buf, n, "lock hand-offs (%.0f%% of core %d's cycles are read tokens, "
                 "writers' tokens and waits)", 100 * locks / busy, k);
        return SIM_CAUSE_LOCKS;
    }
    if (rate * share > can) {
        snprintf(buf, n, "core cycles (core %d gets %.1f%% of the packets, %.3f Mpps at "
                 "%.0f cycles each; it can do %.3f Mpps)", k, 100 * share,
                 rate * share / 1e6, cpp, can / 1e6);
        return SIM_CAUSE_CYCLES;
    }
    /* Until the first drop: the packets that reached core k (started, plus
     * a full ring) over the time so far, at the cost so far. */
    if (k == r->first_drop_core && r->first_drop_done && r->first_drop_s > 0) {
        double cpp0 = r->first_drop_busy / r->first_drop_done;
        double rate0 = (r->first_drop_done + c->ring_size) / r->first_drop_s;
        if (cpp0 > 1.1 * cpp && rate0 * cpp0 > hz) {
            snprintf(buf, n, "core cycles while warming up (core %d's first %llu packets "
                     "cost %.0f cycles each, the run's %.0f: cold caches and new flows; "
                     "it can do %.3f Mpps then, was sent %.3f)", k,
                     (unsigned long long)r->first_drop_done, cpp0, cpp, hz / cpp0 / 1e6,
                     rate0 / 1e6);
            return SIM_CAUSE_CYCLES;
        }
    }
    snprintf(buf, n, "ring bursts (core %d has the cycles on average, %.0f%% busy, but "
             "bursts of its packets outrun its %u-descriptor ring)", k,
             span > 0 ? 100 * busy / span : 0.0, c->ring_size);
    return SIM_CAUSE_RING_BURSTS;
}

enum sim_cause sim_explain(const struct sim_result *r, const struct sim_costs *c,
                           double rate, int *core, char *buf, size_t n)
{
    *core = -1;
    if (r->drops) {
        int k = r->first_drop_core;
        int dropping = 0;
        for (int i = 0; i < r->cores; i++)
            dropping += r->core[i].drops > 0;
        char why[192];
        enum sim_cause cause = core_cause(r, c, rate, k, why, sizeof why);
        /* The NIC and PCIe are not queued: above them the rings still lose
         * first, but the rate could not be carried anyway. */
        if (rate > r->nic_limit_pps * TOLERANCE) {
            cause = SIM_CAUSE_NIC;
            snprintf(why, sizeof why, "NIC line rate (offered above its %.3f Mpps)",
                     r->nic_limit_pps / 1e6);
        } else if (rate > r->pcie_limit_pps * TOLERANCE) {
            cause = SIM_CAUSE_PCIE;
            snprintf(why, sizeof why, "PCIe (offered above its %.3f Mpps)",
                     r->pcie_limit_pps / 1e6);
        } else {
            *core = k;
        }
        int len = snprintf(buf, n, "ring overflow on core %d at t=%.6f s (packet %llu; %llu "
                           "drops on %d core%s); cause: %s", k, r->first_drop_s,
                           (unsigned long long)r->first_drop_packet,
                           (unsigned long long)r->drops, dropping, dropping == 1 ? "" : "s",
                           why);
        if (len >= (int)n && n > 4)
            memcpy(buf + n - 4, "...", 4);      /* a cut sentence says so */
        return cause;
    }
    if (rate > r->nic_limit_pps * TOLERANCE) {
        snprintf(buf, n, "NIC line rate (offered %.3f Mpps, above its %.3f Mpps)",
                 rate / 1e6, r->nic_limit_pps / 1e6);
        return SIM_CAUSE_NIC;
    }
    if (rate > r->pcie_limit_pps * TOLERANCE) {
        snprintf(buf, n, "PCIe (offered %.3f Mpps, above its %.3f Mpps)", rate / 1e6,
                 r->pcie_limit_pps / 1e6);
        return SIM_CAUSE_PCIE;
    }
    if (rate > r->core_limit_pps * TOLERANCE) {
        /* No ring overflowed (the trace is shorter than the rings can
         * absorb), but a core is asked for more than it can do. */
        int k = limiting_core(r);
        *core = k;
        core_cause(r, c, rate, k, buf, n);
        return SIM_CAUSE_CYCLES;
    }
    /* Carried: the limits, the smallest first. */
    double best = r->core_limit_pps;
    snprintf(buf, n, "core %d", r->busiest_core);
    if (r->nic_limit_pps < best) {
        best = r->nic_limit_pps;
        snprintf(buf, n, "NIC line rate");
    }
    if (r->pcie_limit_pps < best)
        snprintf(buf, n, "PCIe");
    return SIM_CAUSE_NONE;
}

int sim_synth_reta(const struct rss_plan *plan, struct sim_source *src, uint64_t limit,
                   int cores, uint16_t *reta, bool *balanced, struct util_error *err)
{
    uint32_t size = plan->ports[0].reta_size;
    *balanced = false;
    if (size == 0 || size > RSS_RETA_MAX || (size & (size - 1))) {
        util_error_set(err, "port %d: RETA size %u is not a power of two in 1..%d",
                       plan->ports[0].port, size, RSS_RETA_MAX);
        return UTIL_EXIT_INPUT;
    }
    if (!plan->quality.reta.trained) {      /* synth without a trace */
        rss_reta_round_robin(reta, size, cores);
        return 0;
    }
    uint64_t *load = calloc(size, sizeof *load);
    struct rss_port_hasher *h = calloc((size_t)plan->n_ports, sizeof *h);
    if (!load || !h) {
        free(load), free(h);
        util_error_set(err, "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    for (int p = 0; p < plan->n_ports; p++)
        rss_port_hasher_init(&h[p], &plan->ports[p]);
    /* As synth trains: each packet's bucket under its own port's key, one
     * table for every port. */
    struct trace_packet pkt;
    uint64_t n = 0;
    int got = 0;
    while ((!limit || n < limit) && (got = src->next(src->ctx, &pkt, err)) == 1) {
        n++;
        int pi = 0;
        for (int p = 0; p < plan->n_ports; p++)
            if (plan->ports[p].port == pkt.port)
                pi = p;
        load[rss_port_hasher_hash(&h[pi], &pkt.tuple) & (size - 1)]++;
    }
    int rc = got < 0 ? UTIL_EXIT_INPUT : src->rewind(src->ctx, err);
    if (!rc) {
        /* synth's default local-search budget (rss/synth.c reta_seconds) */
        rss_reta_balance(load, size, cores, 0.2, reta);
        *balanced = true;
    }
    free(load);
    free(h);
    return rc;
}

/* *dst = *src, with the bottleneck text pointing into dst's own buffer. */
static void copy_result(struct sim_result *dst, const struct sim_result *src)
{
    *dst = *src;
    if (src->bottleneck == src->bottleneck_buf)
        dst->bottleneck = dst->bottleneck_buf;
}

/* Rewinds src and runs o at pps under o->model. */
static int run_at(const struct rss_plan *plan, const struct sim_costs *costs,
                  struct sim_options *o, struct sim_source *src, const struct sim_profile *p,
                  double pps, struct sim_result *r, struct util_error *err)
{
    int rc = sim_pace_at(p, o->model, pps, o, err);
    if (!rc)
        rc = src->rewind(src->ctx, err);
    if (!rc)
        rc = sim_run(plan, costs, o, src, r, err);
    return rc;
}

int sim_mlffr_explained(const struct rss_plan *plan, const struct sim_costs *costs,
                        const struct sim_options *opts, struct sim_source *src,
                        struct sim_mlffr_result *m, struct util_error *err)
{
    memset(m, 0, sizeof *m);
    struct sim_options o = *opts;
    o.rss_only = false;
    o.progress = false;
    struct sim_profile prof;
    struct sim_result *r = malloc(sizeof *r);
    if (!r) {
        util_error_set(err, "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    int rc = sim_profile_source(src, o.limit, &prof, err);
    if (rc)
        goto out;
    /* First run far above anything: gives the limits and a bracket. */
    if ((rc = run_at(plan, costs, &o, src, &prof, 1e12, r, err)))
        goto out;
    double hi = r->nic_limit_pps < r->pcie_limit_pps ? r->nic_limit_pps : r->pcie_limit_pps;
    if (!isfinite(hi) || hi <= 0) {
        copy_result(&m->at, r);
        snprintf(m->why, sizeof m->why, "no packets");
        goto out;
    }
    double lo = 0;
    if ((rc = run_at(plan, costs, &o, src, &prof, hi, r, err)))
        goto out;
    if (sim_loss_free(r, hi)) {        /* the machine around the cores limits */
        m->pps = hi;
        copy_result(&m->at, r);
        m->cause = r->nic_limit_pps <= r->pcie_limit_pps ? SIM_CAUSE_NIC : SIM_CAUSE_PCIE;
        m->cause_core = -1;
        snprintf(m->why, sizeof m->why, "%s", sim_cause_name(m->cause));
        goto out;
    }
    m->above_pps = hi;
    m->cause = sim_explain(r, costs, hi, &m->cause_core, m->why, sizeof m->why);
    for (int iter = 0; iter < 40 && (hi - lo) > 0.005 * hi; iter++) {
        double mid = lo > 0 ? (lo + hi) / 2 : hi / 2;
        if ((rc = run_at(plan, costs, &o, src, &prof, mid, r, err)))
            goto out;
        if (sim_loss_free(r, mid)) {
            lo = mid;
            copy_result(&m->at, r);
        } else {
            hi = mid;
            m->above_pps = mid;
            m->cause = sim_explain(r, costs, mid, &m->cause_core, m->why, sizeof m->why);
        }
    }
    m->pps = lo;
    if (lo == 0)
        copy_result(&m->at, r);
out:
    free(r);
    return rc;
}

int sim_mlffr(const struct rss_plan *plan, const struct sim_costs *costs,
              const struct sim_options *opts, struct sim_source *src,
              double *mlffr_pps, struct sim_result *at, struct util_error *err)
{
    struct sim_mlffr_result *m = malloc(sizeof *m);
    if (!m) {
        util_error_set(err, "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    int rc = sim_mlffr_explained(plan, costs, opts, src, m, err);
    if (!rc) {
        *mlffr_pps = m->pps;
        copy_result(at, &m->at);
    }
    free(m);
    return rc;
}

int sim_target(const struct rss_plan *plan, const struct sim_costs *costs,
               const struct sim_options *opts, struct sim_source *src, double pps,
               int max_cores, struct sim_target_result *t, struct util_error *err)
{
    memset(t, 0, sizeof *t);
    t->pps = pps;
    if (max_cores < 1 || max_cores > SIM_MAX_CORES) {
        util_error_set(err, "--target searches 1..%d cores, not %d", SIM_MAX_CORES, max_cores);
        return UTIL_EXIT_USAGE;
    }
    struct sim_options o = *opts;
    o.rss_only = false;
    o.progress = false;
    struct sim_profile prof;
    int rc = sim_profile_source(src, o.limit, &prof, err);
    if (rc)
        return rc;
    for (int k = 1; k <= max_cores; k++) {
        o.cores = k;
        if ((rc = run_at(plan, costs, &o, src, &prof, pps, &t->at, err)))
            return rc;
        t->at.bottleneck = t->at.bottleneck_buf;
        struct sim_target_try *y = &t->tried[t->n_tried++];
        y->cores = k;
        y->drops = t->at.drops;
        y->loss_free = sim_loss_free(&t->at, pps);
        y->cause = sim_explain(&t->at, costs, pps, &y->cause_core, y->why, sizeof y->why);
        if (y->loss_free) {
            t->cores = k;
            y->cause = SIM_CAUSE_NONE;
            break;
        }
        if (y->cause == SIM_CAUSE_NIC || y->cause == SIM_CAUSE_PCIE)
            break;                      /* more cores cannot help */
    }
    return 0;
}
