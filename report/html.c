/*
 * html.c - the report as one self-contained HTML page: inline CSS and SVG
 * (svg.c), no scripts, no fonts or images fetched, A4 print layout. Same
 * facts as the Markdown rendering (facts.c computes the verdict and the
 * provenance for both), plus the pictures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_internal.h"

#define addf report_addf
#define esc report_add_html
#define num report_num

static const char *const CSS =
    "body{font-family:'DejaVu Sans',Arial,sans-serif;font-size:14px;line-height:1.4;"
    "color:#111;max-width:1100px;margin:16px auto;padding:0 16px}\n"
    "h1{font-size:22px;margin:4px 0 12px}h2{font-size:18px;margin:26px 0 8px;"
    "border-bottom:2px solid #ccc;padding-bottom:3px}h3{font-size:15px;margin:14px 0 6px}\n"
    "table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}\n"
    "th,td{border:1px solid #bbb;padding:3px 7px;text-align:left;vertical-align:top}\n"
    "th{background:#eef1f4}td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "table.prov th{white-space:nowrap}\n"
    "code,.mono{font-family:'DejaVu Sans Mono',monospace;font-size:12px;"
    "overflow-wrap:anywhere}\n"
    ".verdict{border:3px solid;border-radius:8px;padding:10px 16px;margin:8px 0 16px}\n"
    ".verdict.ok{border-color:#2e7d32;background:#f1f8e9}"
    ".verdict.bad{border-color:#c62828;background:#ffebee}\n"
    ".verdict .head{font-size:18px;font-weight:bold;margin-bottom:6px}\n"
    ".verdict ul{margin:4px 0 0 0;padding-left:20px}.warn{color:#8a4b00}\n"
    "b.bad{color:#c62828}b.good{color:#2e7d32}\n"
    ".dec{display:inline-block;padding:0 6px;border-radius:4px;color:#fff;font-weight:bold}\n"
    "pre.file{font-family:'DejaVu Sans Mono',monospace;font-size:11px;background:#f6f7f8;"
    "border:1px solid #ddd;padding:6px 8px;white-space:pre-wrap;overflow-wrap:anywhere}\n"
    "pre.file i{color:#666}\n"
    "figure{margin:8px 0 14px}figcaption{font-size:12px;color:#444}\n"
    "svg{display:block;max-width:100%;height:auto}\n"
    "@page{size:A4;margin:12mm}\n"
    "@media print{body{max-width:none;margin:0;padding:0;font-size:10pt}"
    "h2{break-after:avoid}figure,.verdict,tr{break-inside:avoid}"
    "table{font-size:8.5pt}}\n";

static void td_text(struct text *t, const char *s)
{
    addf(t, "<td>");
    esc(t, s);
    addf(t, "</td>");
}

static void decision_badge(struct text *t, enum deps_decision d)
{
    addf(t, "<span class=\"dec\" style=\"background:%s\">%s</span>",
         report_decision_colour(d), deps_decision_name(d));
}

static void section_verdict(struct text *t, const struct report_input *in,
                            const struct report_verdict *v)
{
    const struct rss_plan *p = in->plan;
    bool ok = v->sound && !v->verify_unsound;
    addf(t, "<div class=\"verdict %s\" id=\"verdict\">\n<div class=\"head\">", ok ? "ok"
                                                                                : "bad");
    if (ok)
        addf(t, "Verdict: sound. The independent re-check finds that packets sharing state "
                "meet on one core.");
    else if (v->sound)
        addf(t, "Verdict: NOT sound. The independent re-check accepted the plan, but the "
                "runner's --verify found it changes what the NF does on the verified traffic.");
    else {
        addf(t, "Verdict: NOT sound. The independent re-check rejected the plan: ");
        esc(t, v->check_error);
    }
    addf(t, "</div>\n<div>%d state object(s): <b>%d sharded</b>, <b>%d replicated</b>, "
            "<b>%d shared</b>; %s. NIC %s, %d cores, %d input port(s).</div>\n",
         p->deps.n_objects, v->sharded, v->replicated, v->shared, v->kind, p->nic, p->cores,
         p->deps.n_ports);
    if (v->verify[0]) {
        addf(t, "<div><b>Verify:</b> ");
        esc(t, v->verify);
        addf(t, "</div>\n");
    }
    addf(t, "<div><b>Capacity:</b> ");
    esc(t, v->capacity[0] ? v->capacity
                          : "no simulation given (rsskey sim --plan PLAN TRACE --json "
                            "--scaling, then rsskey report PLAN --sim SIM.json).");
    addf(t, "</div>\n");
    if (v->n_warnings) {
        addf(t, "<div class=\"warn\"><b>Warnings (%d)</b><ul>\n", v->n_warnings);
        for (int i = 0; i < v->n_warnings; i++) {
            addf(t, "<li>");
            esc(t, v->warnings[i]);
            addf(t, "</li>\n");
        }
        addf(t, "</ul></div>\n");
    } else {
        addf(t, "<div>No warnings.</div>\n");
    }
    addf(t, "</div>\n");
}

static void section_objects(struct text *t, const struct rss_plan *p)
{
    const struct deps_plan *d = &p->deps;
    addf(t, "<h2>State graph</h2>\n<figure>\n");
    svg_state_graph(t, p);
    addf(t, "<figcaption>Each edge is one input port reaching one object: R/W and the key "
            "(for sharded objects, the fields RSS must keep on one core).</figcaption>\n"
            "</figure>\n");
    if (d->n_objects == 0)
        return;
    addf(t, "<table><tr><th>object</th><th>kind</th><th>group</th><th>decision</th>"
            "<th>why</th></tr>\n");
    for (int i = 0; i < d->n_objects; i++) {
        const struct deps_object *o = &d->objects[i];
        addf(t, "<tr>");
        td_text(t, o->name);
        td_text(t, deps_kind_name(o->kind));
        addf(t, "<td class=\"n\">%d</td><td>", o->group);
        decision_badge(t, o->decision);
        addf(t, "</td>");
        /* Objects of one group share the reason: say it once. */
        if (i > 0 && d->objects[i - 1].group == o->group &&
            strcmp(d->objects[i - 1].reason, o->reason) == 0)
            addf(t, "<td>as above (group %d)</td>", o->group);
        else
            td_text(t, o->reason[0] ? o->reason : "(no reason recorded)");
        addf(t, "</tr>\n");
    }
    addf(t, "</table>\n");
}

static void section_keys(struct text *t, const struct rss_plan *p,
                         const struct report_verdict *v)
{
    addf(t, "<h2>RSS configuration and key quality</h2>\n");
    for (int i = 0; i < p->n_ports; i++) {
        const struct rss_port_config *c = &p->ports[i];
        const char *names[32];
        int n = rss_hf_names(c->rss_hf, names, 32);
        addf(t, "<h3>Port %d</h3>\n<table><tr><th>key (%d bytes)</th><td class=\"mono\">",
             c->port, c->key_len);
        for (int k = 0; k < c->key_len; k++)
            addf(t, "%02x%s", c->key[k], k + 1 < c->key_len ? " " : "");
        addf(t, "</td></tr>\n<tr><th>rss_hf</th><td class=\"mono\">");
        for (int k = 0; k < n; k++)
            addf(t, "%s%s", k ? " | " : "", names[k]);
        unsigned per_core[RSS_RETA_MAX] = {0};
        for (uint32_t e = 0; e < c->reta_size; e++)
            if (c->reta[e] < RSS_RETA_MAX)
                per_core[c->reta[e]]++;
        addf(t, "</td></tr>\n<tr><th>RETA</th><td>%u entries; buckets per core:", c->reta_size);
        for (int core = 0; core < p->cores && core < RSS_RETA_MAX; core++)
            addf(t, " %d: %u%s", core, per_core[core], core + 1 < p->cores ? "," : "");
        addf(t, "</td></tr></table>\n");
        const struct rss_port_quality *pq = &p->quality.ports[i];
        if (pq->n_fields == 0)
            continue;
        addf(t, "<table><tr><th>hashed field</th><th>rank, 16 low bits</th><th>best</th>"
                "<th>rank, 8 low bits</th><th>best</th></tr>\n");
        for (int f = 0; f < pq->n_fields; f++) {
            const struct rss_field_quality *fq = &pq->fields[f];
            char buf[64];
            ir_field_format(fq->field, buf, sizeof buf);
            addf(t, "<tr><td><code>");
            esc(t, buf);
            addf(t, "</code>%s</td><td class=\"n\">%d</td><td class=\"n\">%d</td>"
                    "<td class=\"n\">%d</td><td class=\"n\">%d</td></tr>\n",
                 fq->version == 4 ? " (IPv4)" : fq->version == 6 ? " (IPv6)" : "", fq->rank,
                 fq->best, fq->rank_low8, fq->best_low8);
        }
        addf(t, "</table>\n");
    }
    addf(t, "<p>Spread: rank over GF(2) of the map from each hashed field's low bits to the "
            "RETA index bits; full rank means traffic varying only those bits still reaches "
            "every bucket it can.</p>\n");
    const struct rss_reta_quality *r = &p->quality.reta;
    if (r->trained) {
        bool worse = r->tuned_max_mean > r->default_max_mean + 1e-9;
        addf(t, "<table><tr><th>RETA balance on %llu held-back packets (tuned on %llu)</th>"
                "<th>max/mean core load</th></tr>\n"
                "<tr><td>tuned table (in the plan)</td><td class=\"n\">%.3f%s</td></tr>\n"
                "<tr><td>round-robin table</td><td class=\"n\">%.3f</td></tr>\n"
                "<tr><td>best any table could reach</td><td class=\"n\">%.3f</td></tr>"
                "</table>\n",
             (unsigned long long)r->test_packets, (unsigned long long)r->train_packets,
             r->tuned_max_mean, worse ? " <b class=\"warn\">worse than round-robin</b>" : "",
             r->default_max_mean, r->lower_bound_max_mean);
    } else {
        addf(t, "<p>RETA: round-robin (no trace given to tune it).</p>\n");
    }
    addf(t, "<p>Independent re-check (GF(2) algebra over every key bit and %u random packet "
            "pairs per object and port pair, no Z3): <b>%s</b></p>\n", v->check_packets,
         v->sound ? "passed" : "FAILED");
}

static void core_tables(struct text *t, const struct util_jvalue *cores)
{
    addf(t, "<table><tr><th>core</th><th>packets</th><th>flows</th><th>busy</th>"
            "<th>cycles/packet</th><th>drops</th><th>L1 misses/pkt</th><th>L2 misses/pkt</th>"
            "<th>LLC misses/pkt</th><th>bus ops/pkt</th><th>invalidations/pkt</th>"
            "<th>transfers/pkt</th></tr>\n");
    for (size_t i = 0; i < cores->count; i++) {
        const struct util_jvalue *c = &cores->items[i];
        const struct util_jvalue *m = util_jobject_get(c, "misses_per_packet");
        addf(t, "<tr><td class=\"n\">%.0f</td><td class=\"n\">%.0f</td><td class=\"n\">%.0f"
                "</td><td class=\"n\">%.1f%%</td><td class=\"n\">%.1f</td><td class=\"n\">%.0f"
                "</td><td class=\"n\">%.3f</td><td class=\"n\">%.3f</td><td class=\"n\">%.3f"
                "</td><td class=\"n\">%.3f</td><td class=\"n\">%.3f</td><td class=\"n\">%.3f"
                "</td></tr>\n", num(c, "core"), num(c, "packets"), num(c, "flows"),
             100 * num(c, "busy_share"), num(c, "cycles_per_packet"), num(c, "drops"),
             num(m, "l1"), num(m, "l2"), num(m, "llc"), num(c, "bus_ops_per_packet"),
             num(c, "invalidations_per_packet"), num(c, "transfers_per_packet"));
    }
    addf(t, "</table>\n");
    static const char *keys[] = {"base", "state", "l2_hit", "llc_hit", "dram",
                                 "coherence", "lock", "lock_wait"};
    addf(t, "<table><tr><th>core</th><th>base</th><th>state</th><th>L2 hit</th>"
            "<th>LLC hit</th><th>DRAM</th><th>coherence</th><th>lock</th><th>lock wait</th>"
            "<th>total cycles/packet</th></tr>\n");
    for (size_t i = 0; i < cores->count; i++) {
        const struct util_jvalue *c = &cores->items[i];
        const struct util_jvalue *b = util_jobject_get(c, "cycles_breakdown");
        addf(t, "<tr><td class=\"n\">%.0f</td>", num(c, "core"));
        for (int k = 0; k < 8; k++)
            addf(t, "<td class=\"n\">%.1f</td>", num(b, keys[k]));
        addf(t, "<td class=\"n\">%.1f</td></tr>\n", num(c, "cycles_per_packet"));
    }
    addf(t, "</table>\n");
}

static void section_sim(struct text *t, const struct report_input *in)
{
    const struct util_jvalue *sim = in->sim;
    if (!sim)
        return;
    addf(t, "<h2>Predicted behaviour</h2>\n<p>Simulation <code>");
    esc(t, in->sim_path ? in->sim_path : "-");
    addf(t, "</code>, offered load: ");
    esc(t, report_str(sim, "offered_load"));
    const struct util_jvalue *totals = util_jobject_get(sim, "totals");
    if (totals) {
        addf(t, ". Replay: %.0f packets, %.0f dropped, %.3f Mpps over %.3f s, imbalance "
                "%.2f (max/mean), bottleneck ", num(totals, "processed"), num(totals, "drops"),
             num(totals, "mpps"), num(totals, "duration_s"), num(totals, "imbalance"));
        esc(t, report_str(totals, "bottleneck"));
    }
    addf(t, ".</p>\n");
    const struct util_jvalue *cores = report_array(sim, "cores");
    if (cores) {
        addf(t, "<h3>Per-core load</h3>\n<figure>\n");
        svg_load_bars(t, sim);
        addf(t, "<figcaption>Bar: the core's packets (dashed line: the mean); busy: the share "
                "of the replay the core spent working.</figcaption></figure>\n");
        addf(t, "<h3>Cycles per packet by cause</h3>\n<figure>\n");
        svg_cycle_bars(t, sim);
        addf(t, "</figure>\n");
        core_tables(t, cores);
    }
    const struct util_jvalue *state = util_jobject_get(sim, "state");
    if (state && state->type == UTIL_JOBJECT)
        addf(t, "<p>State as simulated: %.1f KiB per core plus %.1f KiB shared.</p>\n",
             num(state, "per_core_bytes") / 1024, num(state, "shared_bytes") / 1024);
    const struct util_jvalue *scaling = report_array(sim, "scaling");
    addf(t, "<h3>Scaling</h3>\n");
    if (!scaling) {
        addf(t, "<p>No scaling table in this simulation (rsskey sim --scaling).</p>\n");
        return;
    }
    addf(t, "<figure>\n");
    svg_scaling(t, sim);
    addf(t, "</figure>\n<table><tr><th>cores</th><th>MLFFR (Mpps)</th><th>Gbit/s wire</th>"
            "<th>speedup</th><th>imbalance</th><th>cycles/packet</th><th>bus ops/packet</th>"
            "<th>bottleneck</th></tr>\n");
    double one = num(&scaling->items[0], "mlffr_mpps");
    for (size_t i = 0; i < scaling->count; i++) {
        const struct util_jvalue *s = &scaling->items[i];
        addf(t, "<tr><td class=\"n\">%.0f</td><td class=\"n\">%.3f</td><td class=\"n\">%.2f"
                "</td><td class=\"n\">%.2f</td><td class=\"n\">%.2f</td><td class=\"n\">%.1f"
                "</td><td class=\"n\">%.2f</td>", num(s, "cores"), num(s, "mlffr_mpps"),
             num(s, "gbps"), one > 0 ? num(s, "mlffr_mpps") / one : 0, num(s, "imbalance"),
             num(s, "cycles_per_packet"), num(s, "bus_ops_per_packet"));
        td_text(t, report_str(s, "bottleneck"));
        addf(t, "</tr>\n");
    }
    addf(t, "</table>\n<p>The simulator's model and limits: docs/simulator.md.</p>\n");
}

/* Shown of a deployment file: lines up to this long, runs of long lines that
 * start alike (a RETA over many commands) up to RUN_SHOWN lines, at most
 * LINES_SHOWN lines in all; each cut says what it left out. */
#define LINE_SHOWN 200
#define RUN_SHOWN 2
#define LINES_SHOWN 120
#define RUN_MIN 80          /* only lines longer than this form runs */

/* Length of a line's command head: its first four words ("port config 0
 * rss", "\"$RETA_SET\" ETH0 0,1,..." gives three). */
static size_t line_head(const char *s, size_t len)
{
    size_t i = 0;
    for (int words = 0; i < len && words < 4; words++) {
        while (i < len && s[i] != ' ')
            i++;
        while (i < len && s[i] == ' ')
            i++;
    }
    return i;
}

static void deploy_file(struct text *t, const char *name, const char *body)
{
    if (!body)
        return;
    addf(t, "<h3><code>%s</code></h3>\n<pre class=\"file\">", name);
    const char *s = body;
    int shown = 0, run = 0, omitted = 0;
    const char *prev = NULL;
    size_t prev_head = 0;
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        size_t head = line_head(s, len);
        bool same = prev && len > RUN_MIN && head > 0 && head == prev_head && s[0] != '#' &&
                    memcmp(prev, s, head) == 0;
        run = same ? run + 1 : 0;
        if (!same && omitted) {
            addf(t, "<i>... %d more line(s) like the one above: see %s</i>\n", omitted, name);
            omitted = 0;
        }
        prev = s;
        prev_head = head;
        if (run >= RUN_SHOWN) {
            omitted++;
        } else if (shown >= LINES_SHOWN) {
            addf(t, "<i>... the rest of %s is left out here: see the file</i>\n", name);
            break;
        } else {
            char line[LINE_SHOWN + 1];
            size_t n = len < LINE_SHOWN ? len : LINE_SHOWN;
            memcpy(line, s, n);
            line[n] = 0;
            esc(t, line);
            if (len > LINE_SHOWN)
                addf(t, "<i> ... (%zu more characters)</i>", len - LINE_SHOWN);
            addf(t, "\n");
            shown++;
        }
        s = nl ? nl + 1 : s + len;
    }
    if (omitted)
        addf(t, "<i>... %d more line(s) like the one above: see %s</i>\n", omitted, name);
    addf(t, "</pre>\n");
}

static void section_deployment(struct text *t, const struct report_input *in)
{
    const struct deploy_manifest *m = in->manifest;
    if (!m)
        return;
    addf(t, "<h2>Deployment</h2>\n<p>Folder <code>");
    esc(t, m->path);
    addf(t, "</code>, made by rsskey ");
    esc(t, m->rsskey_version);
    addf(t, " from this plan; independent re-check at deployment: <b>%s</b>.</p>\n"
            "<table><tr><th>plan port</th><th>interface</th><th>queues</th><th>RETA</th>"
            "</tr>\n", m->recheck_passed ? "passed" : "FAILED");
    for (int p = 0; p < m->n_ports; p++) {
        const struct rss_port_config *c = &m->ports[p].rss;
        bool rr = true;
        for (uint32_t i = 0; i < c->reta_size && rr; i++)
            rr = c->reta[i] == i % (uint32_t)m->cores;
        addf(t, "<tr><td class=\"n\">%d</td>", p);
        td_text(t, m->ports[p].dev[0] ? m->ports[p].dev : "(placeholder)");
        addf(t, "<td class=\"n\">%d</td><td>%u entries, %s</td></tr>\n", m->ports[p].queues,
             c->reta_size, rr ? "round-robin: <code>ethtool -X equal</code>"
                              : "tuned: set by <code>rsskey-reta-set</code> (ioctl)");
    }
    addf(t, "</table>\n<p>Files:");
    for (int i = 0; i < m->n_files; i++) {
        addf(t, " <code>");
        esc(t, m->files[i]);
        addf(t, "</code>");
    }
    addf(t, "</p>\n");
    if (in->ethtool_sh || in->testpmd_txt)
        addf(t, "<p>The commands as written (lines over %d characters and repeated RETA "
                "commands shortened; the files have them whole):</p>\n", LINE_SHOWN);
    deploy_file(t, "ethtool.sh", in->ethtool_sh);
    deploy_file(t, "testpmd.txt", in->testpmd_txt);
}

static void section_provenance(struct text *t, const struct report_input *in)
{
    char values[24][REPORT_NOTE_MAX];
    const char *labels[24];
    int n = report_provenance_rows(in, labels, values, 24);
    addf(t, "<h2>Provenance</h2>\n<table class=\"prov\">\n");
    for (int i = 0; i < n; i++) {
        addf(t, "<tr><th>");
        esc(t, labels[i]);
        addf(t, "</th><td class=\"mono\">");
        esc(t, values[i]);
        addf(t, "</td></tr>\n");
    }
    addf(t, "</table>\n");
}

char *report_html(const struct report_input *in, size_t *len, int *plan_sound)
{
    struct text t = {0};
    struct report_verdict *v = malloc(sizeof *v);
    if (!v)
        return NULL;
    report_verdict_compute(in, v);
    const char *title = in->plan->deps.nf[0] ? in->plan->deps.nf : in->plan_path;
    addf(&t, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
             "<title>rsskey plan review: ");
    esc(&t, title);
    addf(&t, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>rsskey plan review: ", CSS);
    esc(&t, title);
    addf(&t, "</h1>\n");
    section_verdict(&t, in, v);
    section_objects(&t, in->plan);
    section_keys(&t, in->plan, v);
    section_sim(&t, in);
    report_verify_html(&t, in);
    section_deployment(&t, in);
    section_provenance(&t, in);
    addf(&t, "<hr><p>Generated by <code>rsskey report --html</code>.</p>\n</body>\n</html>\n");
    int sound = v->sound && !v->verify_unsound;
    free(v);
    if (t.out_of_memory) {
        free(t.buf);
        return NULL;
    }
    if (len)
        *len = t.len;
    if (plan_sound)
        *plan_sound = sound;
    return t.buf;
}
