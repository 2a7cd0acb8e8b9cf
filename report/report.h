/*
 * report.h - design-review reports: a plan (and, optionally, what the
 * simulator predicted for it) rendered for a person to read and attach to a
 * review, as Markdown (text only) or as one self-contained HTML page (inline
 * CSS and SVG pictures, no scripts, prints on A4). Both open with the same
 * verdict and carry the same tables and provenance. The report re-runs the
 * independent plan checker itself, so a reviewer does not have to trust the
 * file. Data flows in through struct report_input; report/ reads no other
 * module's files.
 */
#ifndef RSSKEY_REPORT_H
#define RSSKEY_REPORT_H

#include <stddef.h>

#include "deploy/deploy.h"
#include "rss/rss.h"
#include "util/util.h"

/* Where the inputs came from; any member may be NULL ("not recorded"). */
#define REPORT_MAX_TRACES 8
struct report_provenance {
    const char *rsskey_version;     /* the rsskey writing the report */
    const char *date;               /* when, ISO 8601 UTC */
    const char *plan_sha256;        /* of the plan file, 64 hex digits */
    const char *command_line;       /* the report's own command line */
    /* SHA-256 of the sim's traces as they are on disk now (same order as the
     * sim JSON's "traces"; NULL or "" when unreadable). */
    const char *trace_sha256[REPORT_MAX_TRACES];
};

struct report_input {
    const char *plan_path;          /* shown in the report */
    const struct rss_plan *plan;
    const struct util_jvalue *sim;  /* `rsskey sim --json` output, or NULL */
    const char *sim_path;           /* shown when sim is given */
    unsigned check_packets;         /* random packet pairs per check (0: 10000) */
    /* A deployment made from this plan (deploy_manifest_matches passed), or
     * NULL: rendered as a "Deployment" section. */
    const struct deploy_manifest *manifest;
    const struct report_provenance *prov;   /* or NULL */
    /* A runner's `--verify --json` output for this plan (report_verify_matches
     * passed), or NULL: a Verify section, and the verdict takes it in. */
    const struct util_jvalue *verify;
    const char *verify_path;        /* shown when verify is given */
    /* The deployment folder's ethtool.sh and testpmd.txt as text (read by the
     * caller from beside the manifest), or NULL: shown in the HTML
     * Deployment section, long lines and RETA runs shortened. */
    const char *ethtool_sh;
    const char *testpmd_txt;
};

/* Renders the report. Returns a malloc'd NUL-terminated Markdown text the
 * caller frees, and its length in *len; NULL when out of memory. *plan_sound
 * tells whether the verdict is sound: the independent checker accepted the
 * plan and a verify result, when given, is not unsound (the report says so
 * either way). */
char *report_markdown(const struct report_input *in, size_t *len, int *plan_sound);

/* The same report as one self-contained HTML page (UTF-8): a verdict box,
 * the state graph, per-core load, cycles and scaling as inline SVG, the
 * tables, provenance; @media print lays it out on A4. Same ownership and
 * results as report_markdown. */
char *report_html(const struct report_input *in, size_t *len, int *plan_sound);

/* Whether a simulation (`rsskey sim --json` output) was made from this plan:
 * 0 when its "plan_sha256" equals plan_sha256 (or, for a sim written before
 * it carried that member, when its "nf" names the plan's bitcode); -1 with
 * err saying which plan each came from and what to re-run. */
int report_sim_matches(const struct util_jvalue *sim, const char *sim_path,
                       const struct rss_plan *plan, const char *plan_path,
                       const char *plan_sha256, struct util_error *err);

/* Whether a runner's `--verify --json` output (docs/launcher.md) was made
 * with this plan: 0 when it has a "verify" object and its "plan_sha256"
 * equals plan_sha256; -1 with err saying why not and what to re-run (also
 * when it records no hash: nothing else ties it to the plan). */
int report_verify_matches(const struct util_jvalue *run, const char *run_path,
                          const char *plan_path, const char *plan_sha256,
                          struct util_error *err);

#endif /* RSSKEY_REPORT_H */
