/*
 * report.c - renders a plan (and an optional simulation) as a Markdown
 * design-review report: what runs how and why, the RSS configuration per
 * port, its quality, an independent re-check, and the predicted scaling.
 */
#include "report/report_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Named addf here: the Markdown sections below were written with it. */
#define addf report_addf

void report_addf(struct text *t, const char *fmt, ...)
{
    if (t->out_of_memory)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->out_of_memory = 1;
            return;
        }
        if (t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap * 2 : 8192;
        while (cap <= t->len + (size_t)n)
            cap *= 2;
        char *b = realloc(t->buf, cap);
        if (!b) {
            t->out_of_memory = 1;
            return;
        }
        t->buf = b;
        t->cap = cap;
    }
}

void report_add_html(struct text *t, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': addf(t, "&amp;"); break;
        case '<': addf(t, "&lt;"); break;
        case '>': addf(t, "&gt;"); break;
        case '"': addf(t, "&quot;"); break;
        default: addf(t, "%c", *s);
        }
    }
}

double report_num(const struct util_jvalue *obj, const char *key)
{
    const struct util_jvalue *v = obj ? util_jobject_get(obj, key) : NULL;
    return v && v->type == UTIL_JNUMBER ? v->number : 0;
}

const char *report_str(const struct util_jvalue *obj, const char *key)
{
    const struct util_jvalue *v = obj ? util_jobject_get(obj, key) : NULL;
    return v && v->type == UTIL_JSTRING ? v->string : "-";
}

const struct util_jvalue *report_array(const struct util_jvalue *obj, const char *key)
{
    const struct util_jvalue *v = obj ? util_jobject_get(obj, key) : NULL;
    return v && v->type == UTIL_JARRAY && v->count > 0 ? v : NULL;
}

/* Markdown table cells must not contain '|' or newlines. */
static void add_cell(struct text *t, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            addf(t, "\\|");
        else
            addf(t, "%c", *s == '\n' ? ' ' : *s);
    }
}

static void add_key(struct text *t, const struct deps_key *k)
{
    char buf[DEPS_MAX_KEY_FIELDS * 24];
    addf(t, "%s", k->count ? deps_key_format(k, buf, sizeof buf) : "-");
}

static void section_summary(struct text *t, const struct report_input *in,
                            const struct report_verdict *v)
{
    const struct rss_plan *p = in->plan;
    const struct deps_plan *d = &p->deps;
    addf(t, "# rsskey plan review: %s\n\n", d->nf[0] ? d->nf : in->plan_path);
    if (v->sound && v->verify_unsound)
        addf(t, "## Verdict\n\n**NOT sound: the independent re-check accepted the plan, but the "
                "runner's --verify found it changes what the NF does on the verified "
                "traffic.**\n\n");
    else
        addf(t, "## Verdict\n\n**%s**%s%s\n\n",
             v->sound ? "Sound: the independent re-check finds that packets sharing state meet "
                        "on one core."
                      : "NOT sound: the independent re-check rejected the plan",
             v->sound ? "" : ": ", v->sound ? "" : v->check_error);
    if (v->verify[0])
        addf(t, "Verify: %s (section Verify)\n\n", v->verify);
    addf(t, "| | |\n| --- | --- |\n");
    addf(t, "| plan | `%s` |\n", in->plan_path);
    addf(t, "| NIC profile | %s |\n", p->nic);
    addf(t, "| cores | %d |\n", p->cores);
    addf(t, "| input ports | %d |\n", d->n_ports);
    addf(t, "| state objects | %d: %d sharded, %d replicated, %d shared |\n", d->n_objects,
         v->sharded, v->replicated, v->shared);
    addf(t, "| plan kind | %s |\n", v->kind);
    if (v->capacity[0]) {
        addf(t, "| capacity | ");
        add_cell(t, v->capacity);
        addf(t, " |\n");
    }
    addf(t, "\n");
    if (v->n_warnings > 0) {
        addf(t, "**Warnings**\n\n");
        for (int i = 0; i < v->n_warnings; i++)
            addf(t, "- %s\n", v->warnings[i]);
        addf(t, "\n");
    }
}

static void section_objects(struct text *t, const struct deps_plan *d)
{
    addf(t, "## State objects\n\n");
    if (d->n_objects == 0) {
        addf(t, "The NF keeps no state: any RSS key and table preserve what it does.\n\n");
        return;
    }
    addf(t, "| object | kind | group | decision |");
    for (int p = 0; p < d->n_ports; p++)
        addf(t, " key on port %d |", p);
    addf(t, "\n| --- | --- | --- | --- |");
    for (int p = 0; p < d->n_ports; p++)
        addf(t, " --- |");
    addf(t, "\n");
    for (int i = 0; i < d->n_objects; i++) {
        const struct deps_object *o = &d->objects[i];
        addf(t, "| %s | %s | %d | **%s** |", o->name, deps_kind_name(o->kind), o->group,
             deps_decision_name(o->decision));
        for (int p = 0; p < d->n_ports && p < DEPS_MAX_PORTS; p++) {
            addf(t, " ");
            add_key(t, &o->ports[p]);
            addf(t, " |");
        }
        addf(t, "\n");
    }
    addf(t, "\nWhy, group by group (position i of one port's key corresponds to position i "
            "of another's):\n\n");
    for (int i = 0; i < d->n_objects; i++) {
        const struct deps_object *o = &d->objects[i];
        bool first_of_group = true;
        for (int j = 0; j < i; j++)
            if (d->objects[j].group == o->group)
                first_of_group = false;
        if (!first_of_group)
            continue;
        addf(t, "- group %d (%s", o->group, o->name);
        for (int j = i + 1; j < d->n_objects; j++)
            if (d->objects[j].group == o->group)
                addf(t, ", %s", d->objects[j].name);
        addf(t, "): ");
        add_cell(t, o->reason[0] ? o->reason : "(no reason recorded)");
        addf(t, "\n");
    }
    addf(t, "\n");
}

static void section_rss(struct text *t, const struct rss_plan *p)
{
    addf(t, "## RSS configuration\n\n");
    for (int i = 0; i < p->n_ports; i++) {
        const struct rss_port_config *c = &p->ports[i];
        const char *names[32];
        int n = rss_hf_names(c->rss_hf, names, 32);
        addf(t, "**Port %d**: %d-byte key, %u-entry RETA, rss_hf ", c->port, c->key_len,
             c->reta_size);
        for (int k = 0; k < n; k++)
            addf(t, "%s`%s`", k ? " \\| " : "", names[k]);
        addf(t, "\n\n```\n");
        for (int k = 0; k < c->key_len; k++)
            addf(t, "%02x%s", c->key[k], (k + 1) % 26 == 0 || k + 1 == c->key_len ? "\n" : " ");
        addf(t, "```\n\n");
        /* Buckets per core, so a reviewer sees the table's balance. */
        unsigned per_core[RSS_RETA_MAX] = {0};
        for (uint32_t e = 0; e < c->reta_size; e++)
            if (c->reta[e] < RSS_RETA_MAX)
                per_core[c->reta[e]]++;
        addf(t, "RETA buckets per core:");
        for (int core = 0; core < p->cores; core++)
            addf(t, " %d: %u%s", core, per_core[core], core + 1 < p->cores ? "," : "\n\n");
    }
    bool same = true;
    for (int i = 1; i < p->n_ports; i++)
        same = same && memcmp(p->ports[i].reta, p->ports[0].reta,
                              sizeof(uint16_t) * p->ports[0].reta_size) == 0;
    if (p->n_ports > 1)
        addf(t, "%s\n\n", same ? "All ports share one RETA, so ports whose hashes must agree "
                                 "also agree on the core."
                               : "The ports' RETAs differ: only ports with no common state may "
                                 "do this.");
}

static void section_quality(struct text *t, const struct rss_plan *p, int sound,
                            const char *check_error, unsigned packets)
{
    const struct rss_quality *q = &p->quality;
    addf(t, "## Quality and checks\n\n");
    addf(t, "- Independent re-check (GF(2) algebra over every key bit and %u random packet "
            "pairs per object and port pair, no Z3): **%s**%s%s\n", packets,
         sound ? "the plan keeps packets that share state on one core" : "FAILED",
         sound ? "" : ": ", sound ? "" : check_error);
    addf(t, "- Spread: rank over GF(2) of the map from each hashed field's 16 low bits, and "
            "from its 8 lowest bits alone, to the RETA index bits (full rank = traffic varying "
            "only those bits still reaches every bucket it can):\n\n");
    addf(t, "| port | field | rank (16 low bits) | best | rank (8 low bits) | best |\n"
            "| --- | --- | --- | --- | --- | --- |\n");
    for (int i = 0; i < p->n_ports; i++) {
        const struct rss_port_quality *pq = &q->ports[i];
        for (int f = 0; f < pq->n_fields; f++) {
            char buf[48];
            int v = pq->fields[f].version;
            const struct rss_field_quality *fq = &pq->fields[f];
            addf(t, "| %d | %s%s | %d | %d | %d | %d |\n", p->ports[i].port,
                 ir_field_format(fq->field, buf, sizeof buf),
                 v == 4 ? " (IPv4 packets)" : v == 6 ? " (IPv6 packets)" : "",
                 fq->rank, fq->best, fq->rank_low8, fq->best_low8);
        }
    }
    addf(t, "\n");
    if (q->reta.trained)
        addf(t, "- RETA tuned on %llu packets, measured on %llu held-back packets: max/mean "
                "core load %.3f tuned, %.3f with the default round-robin table, %.3f the best "
                "any table could reach at bucket granularity.\n",
             (unsigned long long)q->reta.train_packets, (unsigned long long)q->reta.test_packets,
             q->reta.tuned_max_mean, q->reta.default_max_mean, q->reta.lower_bound_max_mean);
    else
        addf(t, "- RETA: round-robin (no trace given to tune it).\n");
    addf(t, "\n");
}

#define num report_num
#define str report_str

static void section_sim(struct text *t, const struct report_input *in)
{
    const struct util_jvalue *sim = in->sim;
    if (!sim)
        return;
    addf(t, "## Predicted behaviour (`%s`)\n\n", in->sim_path ? in->sim_path : "simulation");
    const struct util_jvalue *cores = util_jobject_get(sim, "cores");
    if (cores && cores->type == UTIL_JARRAY) {
        addf(t, "| core | packets | flows | busy | cycles/packet | bus ops/packet | drops |\n"
                "| --- | --- | --- | --- | --- | --- | --- |\n");
        for (size_t i = 0; i < cores->count; i++) {
            const struct util_jvalue *c = &cores->items[i];
            addf(t, "| %.0f | %.0f | %.0f | %.1f%% | %.1f | %.2f | %.0f |\n", num(c, "core"),
                 num(c, "packets"), num(c, "flows"), 100 * num(c, "busy_share"),
                 num(c, "cycles_per_packet"), num(c, "bus_ops_per_packet"), num(c, "drops"));
        }
        addf(t, "\nCycles per packet by cause:\n\n| core | base | state | L2 hit | LLC hit "
                "| DRAM | coherence | lock | lock wait | total |\n"
                "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
        for (size_t i = 0; i < cores->count; i++) {
            const struct util_jvalue *c = &cores->items[i];
            const struct util_jvalue *b = util_jobject_get(c, "cycles_breakdown");
            addf(t, "| %.0f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n",
                 num(c, "core"), num(b, "base"), num(b, "state"), num(b, "l2_hit"),
                 num(b, "llc_hit"), num(b, "dram"), num(b, "coherence"), num(b, "lock"),
                 num(b, "lock_wait"), num(c, "cycles_per_packet"));
        }
        addf(t, "\nMisses and bus operations per packet (SMP Click's figures):\n\n"
                "| core | L1 misses | L2 misses | LLC misses | bus ops | invalidations "
                "| transfers |\n| --- | --- | --- | --- | --- | --- | --- |\n");
        for (size_t i = 0; i < cores->count; i++) {
            const struct util_jvalue *c = &cores->items[i];
            const struct util_jvalue *m = util_jobject_get(c, "misses_per_packet");
            addf(t, "| %.0f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |\n", num(c, "core"),
                 num(m, "l1"), num(m, "l2"), num(m, "llc"), num(c, "bus_ops_per_packet"),
                 num(c, "invalidations_per_packet"), num(c, "transfers_per_packet"));
        }
        addf(t, "\n");
    }
    const struct util_jvalue *state = util_jobject_get(sim, "state");
    if (state && state->type == UTIL_JOBJECT) {
        const struct util_jvalue *objs = util_jobject_get(state, "objects");
        int defaults = 0;
        for (size_t i = 0; objs && objs->type == UTIL_JARRAY && i < objs->count; i++)
            defaults += strcmp(str(&objs->items[i], "sizes_from"), "default") == 0;
        addf(t, "State as simulated: %.1f KiB per core plus %.1f KiB shared",
             num(state, "per_core_bytes") / 1024, num(state, "shared_bytes") / 1024);
        if (defaults)
            addf(t, " (%d object(s) at the simulator's default size: the plan did not carry "
                    "theirs)", defaults);
        addf(t, ".\n\n");
    }
    const struct util_jvalue *totals = util_jobject_get(sim, "totals");
    if (totals)
        addf(t, "Replay: %.0f packets, %.0f dropped, imbalance %.2f (max/mean), bottleneck %s.\n\n",
             num(totals, "processed"), num(totals, "drops"), num(totals, "imbalance"),
             str(totals, "bottleneck"));
    const struct util_jvalue *scaling = util_jobject_get(sim, "scaling");
    if (scaling && scaling->type == UTIL_JARRAY && scaling->count > 0) {
        addf(t, "| cores | MLFFR (Mpps) | Gbps wire | imbalance | cycles/packet | bottleneck |\n"
                "| --- | --- | --- | --- | --- | --- |\n");
        for (size_t i = 0; i < scaling->count; i++) {
            const struct util_jvalue *s = &scaling->items[i];
            addf(t, "| %.0f | %.3f | %.2f | %.2f | %.1f | %s |\n", num(s, "cores"),
                 num(s, "mlffr_mpps"), num(s, "gbps"), num(s, "imbalance"),
                 num(s, "cycles_per_packet"), str(s, "bottleneck"));
        }
        addf(t, "\nThe simulator's model and limits: docs/simulator.md.\n\n");
    }
}

static void section_deployment(struct text *t, const struct report_input *in)
{
    const struct deploy_manifest *m = in->manifest;
    if (!m)
        return;
    addf(t, "## Deployment (`%s`)\n\n", m->path);
    addf(t, "Made by rsskey %s from this plan (sha256 `%.16s...`); bitcode sha256 %s%s%s.\n\n",
         m->rsskey_version, m->plan_sha256, m->nf_sha256[0] ? "`" : "",
         m->nf_sha256[0] ? m->nf_sha256 : "not recorded", m->nf_sha256[0] ? "`" : "");
    addf(t, "| plan port | interface | queues | RETA |\n| --- | --- | --- | --- |\n");
    for (int p = 0; p < m->n_ports; p++) {
        const struct rss_port_config *c = &m->ports[p].rss;
        bool rr = true;
        for (uint32_t i = 0; i < c->reta_size && rr; i++)
            rr = c->reta[i] == i % (uint32_t)m->cores;
        addf(t, "| %d | %s | %d | %u entries, %s |\n", p,
             m->ports[p].dev[0] ? m->ports[p].dev : "(placeholder)", m->ports[p].queues,
             c->reta_size, rr ? "round-robin: `ethtool -X equal`"
                              : "tuned: set by `rsskey-reta-set` (ioctl)");
    }
    addf(t, "\nFiles:");
    for (int i = 0; i < m->n_files; i++)
        addf(t, " `%s`", m->files[i]);
    addf(t, ". Independent re-check at deployment: %s.%s\n\n",
         m->recheck_passed ? "passed" : "FAILED",
         m->testpmd_sets_rss_hf ? ""
                                : " testpmd.txt sets queues, keys and RETAs but not rss_hf "
                                  "(testpmd takes one RSS type per command); the C stubs set "
                                  "all three.");
}

static void section_provenance(struct text *t, const struct report_input *in)
{
    char values[24][REPORT_NOTE_MAX];
    const char *labels[24];
    int n = report_provenance_rows(in, labels, values, 24);
    addf(t, "## Provenance\n\n| | |\n| --- | --- |\n");
    for (int i = 0; i < n; i++) {
        addf(t, "| %s | ", labels[i]);
        add_cell(t, values[i]);
        addf(t, " |\n");
    }
    addf(t, "\n");
}

char *report_markdown(const struct report_input *in, size_t *len, int *plan_sound)
{
    struct text t = {0};
    struct report_verdict v;
    report_verdict_compute(in, &v);
    section_summary(&t, in, &v);
    section_objects(&t, &in->plan->deps);
    section_rss(&t, in->plan);
    section_quality(&t, in->plan, v.sound, v.check_error, v.check_packets);
    section_sim(&t, in);
    report_verify_markdown(&t, in);
    section_deployment(&t, in);
    section_provenance(&t, in);
    addf(&t, "---\nGenerated by `rsskey report`.\n");
    if (t.out_of_memory) {
        free(t.buf);
        return NULL;
    }
    if (len)
        *len = t.len;
    if (plan_sound)
        *plan_sound = v.sound && !v.verify_unsound;
    return t.buf;
}
