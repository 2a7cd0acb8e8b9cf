/*
 * report_internal.h - what report.c (Markdown, the shared facts), html.c
 * (HTML page) and svg.c (pictures) share inside report/. Not for other
 * modules: report/report.h is the public interface.
 */
#ifndef RSSKEY_REPORT_INTERNAL_H
#define RSSKEY_REPORT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "report/report.h"

/* A growable text buffer; out_of_memory sticks once set. */
struct text {
    char *buf;
    size_t len, cap;
    int out_of_memory;
};

void report_addf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s with &, <, >, " escaped (HTML text and attribute values). */
void report_add_html(struct text *t, const char *s);

/* Reading `rsskey sim --json`: 0 / "-" when the member is absent. */
double report_num(const struct util_jvalue *obj, const char *key);
const char *report_str(const struct util_jvalue *obj, const char *key);
const struct util_jvalue *report_array(const struct util_jvalue *obj, const char *key);

#define REPORT_MAX_NOTES 48
#define REPORT_NOTE_MAX 512

/* The verdict both renderings open with: the facts a reviewer needs first. */
struct report_verdict {
    bool sound;                 /* the independent re-check accepted the plan */
    char check_error[2048];     /* why not, when !sound (util_error.msg) */
    unsigned check_packets;
    int sharded, replicated, shared;
    char kind[96];              /* shared-nothing / locks / mixed */
    bool verify_unsound;        /* a verify result was given and says unsound */
    char verify[REPORT_NOTE_MAX];   /* the verify result in one line, "" without one */
    char capacity[REPORT_NOTE_MAX]; /* the capacity answer from the sim, "" without one */
    int n_warnings;             /* the plan's warnings, then the report's own */
    char warnings[REPORT_MAX_NOTES][REPORT_NOTE_MAX];
};

void report_verdict_compute(const struct report_input *in, struct report_verdict *v);

/* Provenance rows (label, value) shared by both renderings; returns count. */
int report_provenance_rows(const struct report_input *in, const char *labels[],
                           char values[][REPORT_NOTE_MAX], int max);

/* ---- A runner's --verify result (verify.c) ---- */

/* The verify result in one sentence into out; returns whether it is unsound. */
bool report_verify_line(const struct report_input *in, char *out, size_t n);
/* The Verify section (nothing without in->verify). */
void report_verify_markdown(struct text *t, const struct report_input *in);
void report_verify_html(struct text *t, const struct report_input *in);

/* ---- Pictures (svg.c): each appends one <svg> element, or nothing. ---- */

/* Ports on the left, objects on the right, one edge per port and object
 * labelled with R/W and the key; coloured by decision; legend below. */
void svg_state_graph(struct text *t, const struct rss_plan *plan);
/* One bar per core: its share of the packets and how busy it was. */
void svg_load_bars(struct text *t, const struct util_jvalue *sim);
/* Cycles per packet per core, stacked by cause. */
void svg_cycle_bars(struct text *t, const struct util_jvalue *sim);
/* MLFFR against cores from the sim's "scaling" table, with the linear target. */
void svg_scaling(struct text *t, const struct util_jvalue *sim);

/* Colours of the decisions (CSS colours), shared by the graph and the page. */
const char *report_decision_colour(enum deps_decision d);

#endif /* RSSKEY_REPORT_INTERNAL_H */
