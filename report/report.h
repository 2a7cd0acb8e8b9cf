/*
 * report.h - design-review reports: a plan (and, optionally, what the
 * simulator predicted for it) rendered as Markdown for a person to read and
 * attach to a review. The report re-runs the independent plan checker itself,
 * so a reviewer does not have to trust the file.
 */
#ifndef RSSKEY_REPORT_H
#define RSSKEY_REPORT_H

#include <stddef.h>

#include "deploy/deploy.h"
#include "rss/rss.h"
#include "util/util.h"

struct report_input {
    const char *plan_path;          /* shown in the report */
    const struct rss_plan *plan;
    const struct util_jvalue *sim;  /* `rsskey sim --json` output, or NULL */
    const char *sim_path;           /* shown when sim is given */
    unsigned check_packets;         /* random packet pairs per check (0: 10000) */
    /* A deployment made from this plan (deploy_manifest_matches passed), or
     * NULL: rendered as a "Deployment" section. */
    const struct deploy_manifest *manifest;
};

/* Renders the report. Returns a malloc'd NUL-terminated Markdown text the
 * caller frees, and its length in *len; NULL when out of memory. *plan_sound
 * tells whether the independent checker accepted the plan (the report says
 * so either way). */
char *report_markdown(const struct report_input *in, size_t *len, int *plan_sound);

#endif /* RSSKEY_REPORT_H */
