/*
 * facts.c - what both renderings of a report state the same way: the
 * verdict (sound or not, the decisions, the capacity answer, warnings, the
 * report's own warnings about the simulation and the RETA), the provenance
 * rows, and whether a simulation belongs to the plan at all.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "report/report_internal.h"

static void note(struct report_verdict *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void note(struct report_verdict *v, const char *fmt, ...)
{
    if (v->n_warnings >= REPORT_MAX_NOTES)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->warnings[v->n_warnings++], REPORT_NOTE_MAX, fmt, ap);
    va_end(ap);
}

static void capacity_answer(const struct util_jvalue *sim, struct report_verdict *v)
{
    const struct util_jvalue *mlffr = util_jobject_get(sim, "mlffr");
    const struct util_jvalue *scaling = report_array(sim, "scaling");
    const struct util_jvalue *totals = util_jobject_get(sim, "totals");
    int n = 0;
    if (mlffr && mlffr->type == UTIL_JOBJECT) {
        n = snprintf(v->capacity, sizeof v->capacity,
                     "MLFFR on %.0f cores: %.3f Mpps (%.2f Gbit/s wire), bottleneck %s.",
                     report_num(mlffr, "cores"), report_num(mlffr, "mlffr_mpps"),
                     report_num(mlffr, "gbps"), report_str(mlffr, "bottleneck"));
        if (scaling) {
            double one = report_num(&scaling->items[0], "mlffr_mpps");
            const struct util_jvalue *last = &scaling->items[scaling->count - 1];
            if (one > 0 && n > 0 && (size_t)n < sizeof v->capacity)
                snprintf(v->capacity + n, sizeof v->capacity - (size_t)n,
                         " 1 core: %.3f Mpps; %.0f cores reach %.2fx of it (linear: %.0fx).",
                         one, report_num(last, "cores"),
                         report_num(last, "mlffr_mpps") / one, report_num(last, "cores"));
        }
    } else if (totals) {
        snprintf(v->capacity, sizeof v->capacity,
                 "No MLFFR search in this simulation (rsskey sim --mlffr or --scaling). "
                 "Limits for this trace's packet sizes: cores %.3f Mpps, NIC %.3f Mpps, "
                 "PCIe %.3f Mpps; bottleneck %s.",
                 report_num(totals, "core_limit_mpps"), report_num(totals, "nic_limit_mpps"),
                 report_num(totals, "pcie_limit_mpps"), report_str(totals, "bottleneck"));
    }
}

/* What the report itself sees in the simulation and would not let pass. */
static void sim_warnings(const struct report_input *in, struct report_verdict *v)
{
    const struct util_jvalue *sim = in->sim;
    const struct util_jvalue *cores = report_array(sim, "cores");
    const struct util_jvalue *totals = util_jobject_get(sim, "totals");
    const char *sha = report_str(sim, "plan_sha256");
    if (strcmp(sha, "-") == 0 || !sha[0])
        note(v, "The simulation does not record its plan's SHA-256 (written by an older "
                "rsskey): it was matched to this plan by the NF path only.");
    double busiest = 0;
    for (size_t i = 0; cores && i < cores->count; i++)
        if (report_num(&cores->items[i], "busy_share") > busiest)
            busiest = report_num(&cores->items[i], "busy_share");
    if (cores && busiest < 0.01 && strcmp(report_str(sim, "pacing"), "speedup") == 0)
        note(v, "Every core is under 1%% busy: the simulation replayed the trace at its own "
                "timing (%s, %.6f Mpps offered), so the per-core figures show how packets "
                "spread, not what the cores can carry. The capacity is the MLFFR (rsskey sim "
                "--mlffr or --scaling) or a paced run (--pps, --gbps).",
             report_str(sim, "offered_load"), report_num(totals, "offered_mpps"));
    if (totals && report_num(totals, "drops") > 0)
        note(v, "%.0f of %.0f packets were dropped at the offered load (%s).",
             report_num(totals, "drops"), report_num(totals, "offered"),
             report_str(sim, "offered_load"));
    if (totals && report_num(totals, "imbalance") > 1.5)
        note(v, "Core load imbalance %.2f (max/mean packets per core) in the simulation.",
             report_num(totals, "imbalance"));
    if (totals && report_num(totals, "offered") > 0 &&
        report_num(totals, "not_hashed") > 0.01 * report_num(totals, "offered"))
        note(v, "%.0f packets (%.1f%%) were not hashed by RSS (non-IP or a flow type the "
                "plan does not enable): they all land on RETA entry 0's core.",
             report_num(totals, "not_hashed"),
             100 * report_num(totals, "not_hashed") / report_num(totals, "offered"));
    const struct util_jvalue *state = util_jobject_get(sim, "state");
    const struct util_jvalue *objs = report_array(state, "objects");
    int defaults = 0;
    for (size_t i = 0; objs && i < objs->count; i++)
        defaults += strcmp(report_str(&objs->items[i], "sizes_from"), "default") == 0;
    if (defaults)
        note(v, "%d state object(s) were simulated at the default size: the plan did not "
                "carry theirs.", defaults);
}

void report_verdict_compute(const struct report_input *in, struct report_verdict *v)
{
    const struct rss_plan *p = in->plan;
    const struct deps_plan *d = &p->deps;
    struct util_error err = {{0}};
    memset(v, 0, sizeof *v);
    v->check_packets = in->check_packets ? in->check_packets : 10000;
    v->sound = rss_plan_check(p, 12345, (int)v->check_packets, &err) == 0;
    if (!v->sound)
        snprintf(v->check_error, sizeof v->check_error, "%s", err.msg);
    for (int i = 0; i < d->n_objects; i++) {
        v->sharded += d->objects[i].decision == DEPS_SHARDED;
        v->replicated += d->objects[i].decision == DEPS_REPLICATED;
        v->shared += d->objects[i].decision == DEPS_SHARED;
    }
    snprintf(v->kind, sizeof v->kind, "%s",
             v->shared == 0                     ? "shared-nothing (no locks)"
             : v->sharded + v->replicated == 0 ? "every object under per-core read locks"
                                                : "mixed: some objects per core, the rest "
                                                  "under read locks");
    for (int i = 0; i < d->n_warnings; i++)
        note(v, "%s", d->warnings[i]);
    const struct rss_reta_quality *r = &p->quality.reta;
    if (r->trained && r->tuned_max_mean > r->default_max_mean + 1e-9)
        note(v, "The tuned RETA is worse than round-robin on the %llu held-back packets "
                "(max/mean core load %.3f tuned, %.3f round-robin): prefer the round-robin "
                "table (ethtool -X equal) or re-run synth on a longer trace.",
             (unsigned long long)r->test_packets, r->tuned_max_mean, r->default_max_mean);
    if (in->verify)
        v->verify_unsound = report_verify_line(in, v->verify, sizeof v->verify);
    if (in->sim) {
        capacity_answer(in->sim, v);
        sim_warnings(in, v);
    }
}

static void sim_trace_list(const struct report_input *in, char *out, size_t n)
{
    const struct util_jvalue *traces = report_array(in->sim, "traces");
    out[0] = 0;
    size_t used = 0;
    for (size_t i = 0; traces && i < traces->count && used < n; i++) {
        const struct util_jvalue *tr = &traces->items[i];
        const char *sha = i < REPORT_MAX_TRACES && in->prov ? in->prov->trace_sha256[i] : NULL;
        int w = snprintf(out + used, n - used, "%s%s (sha256 %s)", i ? "; " : "",
                         tr->type == UTIL_JSTRING ? tr->string : "?",
                         sha && sha[0] ? sha : "not readable now");
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

static const char *or_none(const char *s)
{
    return s && s[0] ? s : "not recorded";
}

int report_provenance_rows(const struct report_input *in, const char *labels[],
                           char values[][REPORT_NOTE_MAX], int max)
{
    const struct report_provenance *pv = in->prov;
    const struct rss_plan *p = in->plan;
    const struct util_jvalue *sim = in->sim;
    int n = 0;
#define ROW(label, ...)                                                          \
    do {                                                                         \
        if (n < max) {                                                           \
            labels[n] = label;                                                   \
            snprintf(values[n++], REPORT_NOTE_MAX, __VA_ARGS__);                 \
        }                                                                        \
    } while (0)
    ROW("report by", "rsskey %s on %s", or_none(pv ? pv->rsskey_version : NULL),
        or_none(pv ? pv->date : NULL));
    ROW("command line", "%s", or_none(pv ? pv->command_line : NULL));
    ROW("plan", "%s (sha256 %s), written by rsskey %s", in->plan_path,
        or_none(pv ? pv->plan_sha256 : NULL), or_none(p->rsskey_version));
    ROW("bitcode", "%s (sha256 %s)", or_none(p->deps.nf), or_none(p->nf_sha256));
    ROW("NIC and cores", "%s, %d cores", p->nic, p->cores);
    if (p->quality.reta.trained)
        ROW("RETA tuned on", "%llu packets, measured on %llu held back",
            (unsigned long long)p->quality.reta.train_packets,
            (unsigned long long)p->quality.reta.test_packets);
    if (!sim)
        return n;
    char traces[REPORT_NOTE_MAX];
    sim_trace_list(in, traces, sizeof traces);
    ROW("simulation", "%s (of plan %s)", or_none(in->sim_path), or_none(report_str(sim, "plan")));
    ROW("trace", "%s", or_none(traces));
    const char *lan = report_str(sim, "lan");
    ROW("port policy (--lan)", "%s", strcmp(lan, "-") ? lan
                                      : "not recorded in the simulation JSON (see its "
                                        "command line)");
    ROW("pacing", "%s", report_str(sim, "offered_load"));
    ROW("path model (--writes)", "%s", report_str(sim, "writes"));
    if (report_num(sim, "ghz") > 0)
        ROW("cost model", "%s: %.2f GHz, base %.0f, read %.0f, write %.0f, alloc %.0f, lock "
            "read %.0f, lock write %.0f cycles", report_str(sim, "costs"),
            report_num(sim, "ghz"), report_num(sim, "base_cycles"),
            report_num(sim, "read_cycles"), report_num(sim, "write_cycles"),
            report_num(sim, "alloc_cycles"), report_num(sim, "lock_read_cycles"),
            report_num(sim, "lock_write_cycles"));
    else
        ROW("cost model", "%s (parameters: docs/simulator.md, or the file named)",
            report_str(sim, "costs"));
#undef ROW
    return n;
}

int report_sim_matches(const struct util_jvalue *sim, const char *sim_path,
                       const struct rss_plan *plan, const char *plan_path,
                       const char *plan_sha256, struct util_error *err)
{
    const char *sha = report_str(sim, "plan_sha256");
    if (strcmp(sha, "-") != 0 && sha[0]) {
        if (plan_sha256 && strcmp(sha, plan_sha256) == 0)
            return 0;
        util_error_set(err, "%s was simulated from another plan: its plan_sha256 is %.16s..., "
                            "%s's is %.16s... (the simulation names plan %s, NF %s); re-run "
                            "'rsskey sim --plan %s TRACE --json'", sim_path, sha, plan_path,
                       plan_sha256 ? plan_sha256 : "?", report_str(sim, "plan"),
                       report_str(sim, "nf"), plan_path);
        return -1;
    }
    const char *nf = report_str(sim, "nf");
    if (strcmp(nf, plan->deps.nf) == 0)
        return 0;
    util_error_set(err, "%s was simulated for NF %s, but %s is a plan for %s; re-run "
                        "'rsskey sim --plan %s TRACE --json'", sim_path, nf, plan_path,
                   plan->deps.nf[0] ? plan->deps.nf : "?", plan_path);
    return -1;
}
