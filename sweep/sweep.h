/*
 * sweep.h - parameter sweeps over rsskey synth + rsskey sim (`rsskey sweep`).
 * A spec lists NFs, NIC profiles, core counts, traces and offered rates; its
 * cartesian product is a list of independent jobs, each one shell command
 * (`rsskey sweep --job ...`) that synthesises the (nf, nic, cores) plan once
 * into DIR/plans/ and simulates it on one trace at one rate, writing
 * DIR/results/KEY.json. The jobs run here (bounded fork/exec pool) or on any
 * existing engine (GNU parallel, a Slurm array); the table is merged from the
 * result files in the spec's order, so it does not depend on completion
 * order. sweep/ never links the simulator: it runs the rsskey binary.
 */
#ifndef RSSKEY_SWEEP_H
#define RSSKEY_SWEEP_H

#include <stdbool.h>
#include <stddef.h>

#include "util/util.h"

#define SWEEP_MAX_ITEMS 64          /* per list */
#define SWEEP_PATH_MAX 1024

/* One offered load, as `rsskey sim` takes it. */
enum sweep_pacing { SWEEP_PACE_SPEEDUP, SWEEP_PACE_PPS, SWEEP_PACE_GBPS };

struct sweep_rate {
    enum sweep_pacing pacing;
    double value;                   /* speedup factor, packets/s or Gbit/s */
    char label[32];                 /* canonical: "x1", "2Mpps", "10gbps" */
};

/* What the user asked for. Paths are kept as given (they label the table) and
 * absolute (what the jobs run with). */
struct sweep_spec {
    int n_nfs, n_nics, n_cores, n_traces, n_rates;
    char nf[SWEEP_MAX_ITEMS][SWEEP_PATH_MAX];
    char nf_abs[SWEEP_MAX_ITEMS][SWEEP_PATH_MAX];
    char nic[SWEEP_MAX_ITEMS][32];
    int cores[SWEEP_MAX_ITEMS];
    char trace[SWEEP_MAX_ITEMS][SWEEP_PATH_MAX];
    char trace_abs[SWEEP_MAX_ITEMS][SWEEP_PATH_MAX];
    struct sweep_rate rate[SWEEP_MAX_ITEMS];
    char lan[256];                  /* --lan for synth and sim; "" = none */
    unsigned long limit;            /* sim --limit; 0 = whole trace */
    bool mlffr;                     /* sim --mlffr (default true) */
};

/* One job of the product. Indices into the spec's lists. */
struct sweep_job {
    int nf, nic, cores, trace, rate;
    char key[256];                  /* DIR/results/KEY.json */
    char plan_key[192];             /* DIR/plans/PLAN_KEY.json */
};

/* ---- Spec (spec.c) --------------------------------------------------------- */

void sweep_spec_init(struct sweep_spec *s);
/* Appends a comma-separated list to one field: field is "nf", "nic", "cores",
 * "trace", "rate", "lan", "limit" or "mlffr". Returns 0, or UTIL_EXIT_USAGE
 * with err ("--cores: '0' is not in 1..64"). */
int sweep_spec_set(struct sweep_spec *s, const char *field, const char *list,
                   struct util_error *err);
/* Reads "field = a, b, c" lines (# comments) from path. Returns 0 or a
 * UTIL_EXIT_* code with err naming the file and line. */
int sweep_spec_read(struct sweep_spec *s, const char *path, struct util_error *err);
/* Checks the whole spec before anything runs: every list non-empty, NIC
 * names known ('rsskey nics'), NF and trace files readable, keys unique.
 * Fills the absolute paths. Returns 0, UTIL_EXIT_USAGE or UTIL_EXIT_INPUT. */
int sweep_spec_check(struct sweep_spec *s, struct util_error *err);
/* Parses one rate: "x2" / "trace" (timestamps x1), "2M" / "2Mpps" / "500kpps"
 * (evenly spaced packets/s), "10gbps" / "10G" + "bps". */
int sweep_rate_parse(const char *text, struct sweep_rate *out, struct util_error *err);

/* The product in table order (nf, nic, cores, trace, rate; last varies
 * fastest). *jobs is malloc'd (caller frees); returns the count, -1 on OOM. */
int sweep_expand(const struct sweep_spec *s, struct sweep_job **jobs);

/* The spec as a spec file (absolute paths, labels kept), malloc'd text;
 * sweep_spec_read of it gives the same spec. */
char *sweep_spec_format(const struct sweep_spec *s);

/* ---- Commands (spec.c) ----------------------------------------------------- */

/* The argv of `rsskey sweep --job` for job j (NULL-terminated, strings point
 * into buf of buf_size). rsskey is the binary's absolute path. Returns argc,
 * or -1 when buf is too small. */
int sweep_job_argv(const struct sweep_spec *s, const struct sweep_job *j, const char *rsskey,
                   const char *dir, char *buf, size_t buf_size, char **argv, int max_argv);
/* The same as one shell-quoted line (no newline), malloc'd. */
char *sweep_job_command(const struct sweep_spec *s, const struct sweep_job *j,
                        const char *rsskey, const char *dir);

/* ---- Running (run.c) ------------------------------------------------------- */

/* Runs argv, stdout captured into *out (malloc'd, NUL-terminated, caller
 * frees), stderr appended to log_path (or inherited when NULL). Returns the
 * exit status (0..255), 128+signal, or -1 with err when it cannot start. */
int sweep_run_capture(char *const argv[], const char *log_path, char **out, size_t *out_len,
                      struct util_error *err);

/* Runs n commands (argvs[i], stderr to logs[i]) with at most `jobs` at once;
 * status[i] gets each exit status. on_done (may be NULL) is called in the
 * parent after each one finishes, in completion order. Returns 0, or -1 with
 * err when a process cannot be started (those started are waited for). */
typedef void (*sweep_done_fn)(void *ctx, int index, int status, double seconds);
int sweep_run_pool(char **const *argvs, const char *const *logs, int n, int jobs, int *status,
                   sweep_done_fn on_done, void *ctx, struct util_error *err);

/* Makes dir and its parents (mode 0777 & ~umask). 0, or -1 with err. */
int sweep_mkdirs(const char *dir, struct util_error *err);

/* ---- Results (table.c) ----------------------------------------------------- */

/* The numbers one job contributes, taken from `rsskey sim --json`. NaN when
 * the simulator did not report a field. */
struct sweep_row {
    double offered_mpps, mpps, gbps, drop_share, max_core_load, imbalance;
    double mlffr_mpps, mlffr_gbps;
    unsigned long long offered, processed, drops;
    int busiest_core;
    char bottleneck[64], mlffr_bottleneck[64];
};

/* Extracts a row from sim's JSON text. 0, or UTIL_EXIT_INPUT with err. */
int sweep_row_from_sim(const char *json, size_t len, const char *source, struct sweep_row *row,
                       struct util_error *err);
/* A row as the result file's JSON text (malloc'd), and back. */
char *sweep_row_format(const struct sweep_row *row, const char *key);
int sweep_row_read(const char *path, const char *key, struct sweep_row *row,
                   struct util_error *err);

/* The table of n jobs as CSV or JSON text (malloc'd). */
char *sweep_table_csv(const struct sweep_spec *s, const struct sweep_job *jobs,
                      const struct sweep_row *rows, int n);
char *sweep_table_json(const struct sweep_spec *s, const struct sweep_job *jobs,
                       const struct sweep_row *rows, int n);

#endif /* RSSKEY_SWEEP_H */
