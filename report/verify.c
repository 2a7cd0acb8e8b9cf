/*
 * verify.c - a runner's `--verify --json` result in the report: whether it
 * belongs to the plan (its "plan_sha256"), the line the verdict carries, and
 * the Verify section in both renderings (result, differences per class and
 * per object, the first examples). The run JSON's layout: docs/launcher.md.
 */
#include <stdio.h>
#include <string.h>

#include "report/report_internal.h"

#define addf report_addf
#define esc report_add_html
#define num report_num
#define str report_str

/* Examples shown per report (the runner keeps a few per class). */
#define VERIFY_EXAMPLES_SHOWN 8

static const char *const class_meaning[][2] = {
    {"unsound", "a difference the plan cannot excuse"},
    {"interleaving", "shared-object accesses ordered otherwise than arrival (allowed)"},
    {"translation", "a consistent address/port translation per core (allowed)"},
    {"capacity", "a per-core share of a table filled (allowed)"},
    {"estimate", "a sharded sketch estimated differently (allowed)"},
};

static const char *meaning(const char *cls)
{
    for (size_t i = 0; i < sizeof class_meaning / sizeof class_meaning[0]; i++)
        if (strcmp(cls, class_meaning[i][0]) == 0)
            return class_meaning[i][1];
    return "";
}

int report_verify_matches(const struct util_jvalue *run, const char *run_path,
                          const char *plan_path, const char *plan_sha256,
                          struct util_error *err)
{
    const struct util_jvalue *v = util_jobject_get(run, "verify");
    if (!v || v->type != UTIL_JOBJECT) {
        util_error_set(err, "%s: no \"verify\" object; is this the output of a runner's "
                            "'--verify --json' (rsskey-run-NF --plan %s --verify --json ...)?",
                       run_path, plan_path);
        return -1;
    }
    const char *sha = str(run, "plan_sha256");
    if (strcmp(sha, "-") == 0 || !sha[0]) {
        util_error_set(err, "%s does not record its plan's SHA-256 (a runner built before "
                            "it did), so it cannot be tied to %s; re-run the runner with "
                            "'--plan %s --verify --json'", run_path, plan_path, plan_path);
        return -1;
    }
    if (plan_sha256 && strcmp(sha, plan_sha256) == 0)
        return 0;
    util_error_set(err, "%s was verified with another plan: its plan_sha256 is %.16s..., %s's "
                        "is %.16s... (the run names plan %s); re-run the runner with '--plan "
                        "%s --verify --json'", run_path, sha, plan_path,
                   plan_sha256 ? plan_sha256 : "?", str(run, "plan"), plan_path);
    return -1;
}

bool report_verify_line(const struct report_input *in, char *out, size_t n)
{
    const struct util_jvalue *v = util_jobject_get(in->verify, "verify");
    const struct util_jvalue *d = util_jobject_get(v, "differences");
    bool unsound = strcmp(str(v, "result"), "sound") != 0;
    double allowed = 0;
    for (size_t i = 0; d && d->type == UTIL_JOBJECT && i < d->count; i++)
        if (strcmp(d->keys[i], "unsound") != 0 && d->items[i].type == UTIL_JNUMBER)
            allowed += d->items[i].number;
    if (unsound)
        snprintf(out, n, "The runner's --verify found the plan UNSOUND on this traffic: %.0f "
                         "unsound difference(s) from the sequential NF and %.0f race(s) in "
                         "%.0f packets (result \"%s\").", num(d, "unsound"), num(v, "races"),
                 num(v, "packets"), str(v, "result"));
    else
        snprintf(out, n, "The runner's --verify found no unsound difference from the "
                         "sequential NF in %.0f packets (%.0f allowed difference(s)).",
                 num(v, "packets"), allowed);
    return unsound;
}

/* Markdown table cells: no '|' or newlines. */
static void md_cell(struct text *t, const char *s)
{
    for (; s && *s; s++)
        addf(t, "%s", *s == '|' ? "\\|" : *s == '\n' ? " " : (char[2]){*s, 0});
}

static void summary_facts(const struct util_jvalue *run, char *out, size_t n)
{
    const struct util_jvalue *v = util_jobject_get(run, "verify");
    const struct util_jvalue *nr = util_jobject_get(run, "not_replayed");
    snprintf(out, n, "%.0f packets replayed with %s RSS on %zu core(s); races %.0f, writes to "
                     "replicated state %.0f, plan violations %.0f; not replayed: %.0f for ports "
                     "the plan lacks, %.0f too long.", num(v, "packets"), str(run, "rss"),
             report_array(run, "cores") ? report_array(run, "cores")->count : 0,
             num(v, "races"), num(v, "replicated_writes"), num(run, "plan_violations"),
             num(nr, "no_such_port"), num(nr, "too_long"));
}

void report_verify_markdown(struct text *t, const struct report_input *in)
{
    const struct util_jvalue *run = in->verify;
    if (!run)
        return;
    const struct util_jvalue *v = util_jobject_get(run, "verify");
    char line[REPORT_NOTE_MAX];
    bool unsound = report_verify_line(in, line, sizeof line);
    addf(t, "## Verify (`%s`)\n\n**Result: %s.** %s\n\n", in->verify_path ? in->verify_path : "-",
         unsound ? "unsound" : "sound", line);
    summary_facts(run, line, sizeof line);
    addf(t, "%s\n\n", line);
    const struct util_jvalue *d = util_jobject_get(v, "differences");
    addf(t, "| class | differences | meaning |\n| --- | --- | --- |\n");
    for (size_t i = 0; d && d->type == UTIL_JOBJECT && i < d->count; i++)
        addf(t, "| %s | %.0f | %s |\n", d->keys[i], d->items[i].number, meaning(d->keys[i]));
    addf(t, "\n");
    const struct util_jvalue *objs = report_array(v, "by_object");
    if (objs && d && d->type == UTIL_JOBJECT) {
        addf(t, "| object |");
        for (size_t k = 0; k < d->count; k++)
            addf(t, " %s |", d->keys[k]);
        addf(t, "\n| --- |");
        for (size_t k = 0; k < d->count; k++)
            addf(t, " --- |");
        addf(t, "\n");
        for (size_t i = 0; i < objs->count; i++) {
            addf(t, "| `%s` |", str(&objs->items[i], "object"));
            for (size_t k = 0; k < d->count; k++)
                addf(t, " %.0f |", num(&objs->items[i], d->keys[k]));
            addf(t, "\n");
        }
        addf(t, "\n");
    }
    const struct util_jvalue *ex = report_array(v, "examples");
    if (ex) {
        addf(t, "First examples:\n\n| class | packet | port | core | 5-tuple | verdicts (seq / "
                "par) | what | objects |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n");
        for (size_t i = 0; i < ex->count && i < VERIFY_EXAMPLES_SHOWN; i++) {
            const struct util_jvalue *e = &ex->items[i];
            addf(t, "| %s | %.0f | %.0f | %.0f | ", str(e, "class"), num(e, "packet"),
                 num(e, "port"), num(e, "core"));
            md_cell(t, str(e, "tuple"));
            addf(t, " | %.0f / %.0f | ", num(e, "sequential_verdict"),
                 num(e, "parallel_verdict"));
            md_cell(t, str(e, "what"));
            if (strcmp(str(e, "detail"), "-") && str(e, "detail")[0]) {
                addf(t, ": ");
                md_cell(t, str(e, "detail"));
            }
            addf(t, " | ");
            md_cell(t, str(e, "objects"));
            addf(t, " |\n");
        }
        addf(t, "\n");
    }
    if (strcmp(str(v, "note"), "-"))
        addf(t, "Note: %s\n\n", str(v, "note"));
}

void report_verify_html(struct text *t, const struct report_input *in)
{
    const struct util_jvalue *run = in->verify;
    if (!run)
        return;
    const struct util_jvalue *v = util_jobject_get(run, "verify");
    char line[REPORT_NOTE_MAX];
    bool unsound = report_verify_line(in, line, sizeof line);
    addf(t, "<h2 id=\"verify\">Verify</h2>\n<p>Runner result <code>");
    esc(t, in->verify_path ? in->verify_path : "-");
    addf(t, "</code>: <b class=\"%s\">%s</b>. ", unsound ? "bad" : "good",
         unsound ? "unsound" : "sound");
    esc(t, line);
    summary_facts(run, line, sizeof line);
    addf(t, " ");
    esc(t, line);
    addf(t, "</p>\n");
    const struct util_jvalue *d = util_jobject_get(v, "differences");
    if (d && d->type == UTIL_JOBJECT) {
        addf(t, "<table><tr><th>class</th><th>differences</th><th>meaning</th></tr>\n");
        for (size_t i = 0; i < d->count; i++) {
            addf(t, "<tr><td>");
            esc(t, d->keys[i]);
            addf(t, "</td><td class=\"n\">%.0f</td><td>%s</td></tr>\n", d->items[i].number,
                 meaning(d->keys[i]));
        }
        addf(t, "</table>\n");
    }
    const struct util_jvalue *objs = report_array(v, "by_object");
    if (objs && d && d->type == UTIL_JOBJECT) {
        addf(t, "<table><tr><th>object</th>");
        for (size_t k = 0; k < d->count; k++) {
            addf(t, "<th>");
            esc(t, d->keys[k]);
            addf(t, "</th>");
        }
        addf(t, "</tr>\n");
        for (size_t i = 0; i < objs->count; i++) {
            addf(t, "<tr><td><code>");
            esc(t, str(&objs->items[i], "object"));
            addf(t, "</code></td>");
            for (size_t k = 0; k < d->count; k++)
                addf(t, "<td class=\"n\">%.0f</td>", num(&objs->items[i], d->keys[k]));
            addf(t, "</tr>\n");
        }
        addf(t, "</table>\n");
    }
    const struct util_jvalue *ex = report_array(v, "examples");
    if (ex) {
        addf(t, "<h3>First examples</h3>\n<table><tr><th>class</th><th>packet</th><th>port</th>"
                "<th>core</th><th>5-tuple</th><th>verdicts (seq / par)</th><th>what</th>"
                "<th>objects</th></tr>\n");
        for (size_t i = 0; i < ex->count && i < VERIFY_EXAMPLES_SHOWN; i++) {
            const struct util_jvalue *e = &ex->items[i];
            addf(t, "<tr><td>");
            esc(t, str(e, "class"));
            addf(t, "</td><td class=\"n\">%.0f</td><td class=\"n\">%.0f</td><td class=\"n\">"
                    "%.0f</td><td class=\"mono\">", num(e, "packet"), num(e, "port"),
                 num(e, "core"));
            esc(t, str(e, "tuple"));
            addf(t, "</td><td class=\"n\">%.0f / %.0f</td><td>", num(e, "sequential_verdict"),
                 num(e, "parallel_verdict"));
            esc(t, str(e, "what"));
            if (strcmp(str(e, "detail"), "-") && str(e, "detail")[0]) {
                addf(t, ": ");
                esc(t, str(e, "detail"));
            }
            addf(t, "</td><td class=\"mono\">");
            esc(t, str(e, "objects"));
            addf(t, "</td></tr>\n");
        }
        addf(t, "</table>\n");
    }
    if (strcmp(str(v, "note"), "-")) {
        addf(t, "<p>Note: ");
        esc(t, str(v, "note"));
        addf(t, "</p>\n");
    }
}
