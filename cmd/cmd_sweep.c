/*
 * cmd_sweep.c - `rsskey sweep`: the cartesian product of NFs, NIC profiles,
 * core counts, traces and rates, each an independent job (`rsskey sweep
 * --job`: synth the plan once, sim it), run here with --jobs N or printed for
 * an existing engine (--emit-jobs: GNU parallel, a Slurm array), and merged
 * into one table (--merge). Argument parsing and orchestration only; the work
 * is in sweep/ and in the rsskey synth and rsskey sim it runs.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "sweep/sweep.h"

static void usage(FILE *out)
{
    fprintf(out,
        "usage: rsskey sweep --nf A.bc[,B.bc] --nic N[,N] --cores C[,C] --trace T[,T]\n"
        "                    [--rate R[,R]] [--lan CIDRS] [--spec FILE] [--dir DIR]\n"
        "                    [--jobs N] [--json]\n"
        "       rsskey sweep ... --emit-jobs [--dir DIR]    one command line per job\n"
        "       rsskey sweep --merge DIR [--json]            the table of a finished sweep\n"
        "\n"
        "Run every combination of the lists as an independent job: synthesise the plan for\n"
        "(nf, nic, cores) once ('rsskey synth', cached in DIR/plans/), simulate it on the\n"
        "trace at the rate ('rsskey sim --mlffr --json'), keep the key numbers in\n"
        "DIR/results/KEY.json, and merge one table (DIR/table.csv, DIR/table.json; also\n"
        "printed). Rows are in list order (nf, nic, cores, trace, rate), whatever order\n"
        "the jobs finish in. Lists are comma-separated; options may repeat.\n"
        "\n"
        "  --nf LIST         NF bitcode files\n"
        "  --nic LIST        NIC profiles ('rsskey nics')\n"
        "  --cores LIST      core counts\n"
        "  --trace LIST      pcap traces\n"
        "  --rate LIST       offered loads (default x1): 'trace' or xS (the trace's own\n"
        "                    timestamps, S times faster), R[k|M|G]pps (evenly spaced),\n"
        "                    Ggbps (G wire Gbit/s, evenly spaced)\n"
        "  --lan CIDRS       passed to synth and sim: these sources on port 0, others port 1\n"
        "  --limit N         simulate only the first N packets of each trace\n"
        "  --no-mlffr        skip the MLFFR search (faster; mlffr columns empty)\n"
        "  --spec FILE       read the lists from FILE: 'nf = a.bc, b.bc' lines, fields nf,\n"
        "                    nic, cores, trace, rate, lan, limit, mlffr (yes/no); '#'\n"
        "                    comments; options given on the command line add to it\n"
        "  --dir DIR         where plans, results, logs and the table go (default sweep-out)\n"
        "  -j, --jobs N      run N jobs at once here (default 1)\n"
        "  --emit-jobs       check the spec, write DIR/sweep.conf, DIR/jobs.txt and a Slurm\n"
        "                    array script DIR/sweep.sbatch, print one self-contained command\n"
        "                    per job and run nothing; then 'rsskey sweep --merge DIR'\n"
        "  --merge DIR       read DIR/sweep.conf and DIR/results/, write and print the table\n"
        "  --rsskey PATH     the rsskey the emitted commands run (default: this one)\n"
        "  --json            print the table as JSON instead of CSV\n"
        "  -q, --quiet       no progress lines on stderr\n"
        "  --job             run exactly one job (what the emitted lines call)\n"
        "  -h, --help        this help\n"
        "\n"
        "Clusters: docs/sweeps.md (GNU parallel over ssh, Slurm job arrays).\n"
        "Exit codes: 0 ok, 1 a job failed, 2 usage, 3 bad input (missing NF/trace,\n"
        "bad result file), 4 I/O.\n");
}

enum mode { MODE_RUN, MODE_EMIT, MODE_MERGE, MODE_JOB };

struct sweep_args {
    enum mode mode;
    struct sweep_spec spec;
    const char *dir, *rsskey;
    int jobs;
    bool json, quiet;
};

static int parse_args(int argc, char **argv, struct sweep_args *a)
{
    enum { OPT_NF = 256, OPT_NIC, OPT_CORES, OPT_TRACE, OPT_RATE, OPT_LAN, OPT_LIMIT,
           OPT_NO_MLFFR, OPT_SPEC, OPT_DIR, OPT_EMIT, OPT_MERGE, OPT_RSSKEY, OPT_JSON, OPT_JOB };
    static const struct option longs[] = {
        {"help", no_argument, NULL, 'h'},         {"jobs", required_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},        {"nf", required_argument, NULL, OPT_NF},
        {"nic", required_argument, NULL, OPT_NIC}, {"cores", required_argument, NULL, OPT_CORES},
        {"trace", required_argument, NULL, OPT_TRACE},
        {"rate", required_argument, NULL, OPT_RATE}, {"lan", required_argument, NULL, OPT_LAN},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"no-mlffr", no_argument, NULL, OPT_NO_MLFFR},
        {"spec", required_argument, NULL, OPT_SPEC}, {"dir", required_argument, NULL, OPT_DIR},
        {"emit-jobs", no_argument, NULL, OPT_EMIT},
        {"merge", required_argument, NULL, OPT_MERGE},
        {"rsskey", required_argument, NULL, OPT_RSSKEY},
        {"json", no_argument, NULL, OPT_JSON},    {"job", no_argument, NULL, OPT_JOB},
        {NULL, 0, NULL, 0}};
    static const char *const fields[] = {"nf", "nic", "cores", "trace", "rate", "lan", "limit"};
    memset(a, 0, sizeof *a);
    sweep_spec_init(&a->spec);
    a->dir = "sweep-out";
    a->jobs = 1;
    bool emit = false, job = false;
    const char *merge = NULL;
    struct util_error err;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":hj:q", longs, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case 'h':
            usage(stdout);
            return -1;
        case 'j': {
            char *end;
            errno = 0;
            long n = strtol(optarg, &end, 10);
            if (!*optarg || *end || errno || n < 1 || n > 1024) {
                cmd_error("sweep", "--jobs needs a whole number in 1..1024, got '%s'", optarg);
                return UTIL_EXIT_USAGE;
            }
            a->jobs = (int)n;
            break;
        }
        case 'q': a->quiet = true; break;
        case OPT_NF: case OPT_NIC: case OPT_CORES: case OPT_TRACE: case OPT_RATE: case OPT_LAN:
        case OPT_LIMIT:
            rc = sweep_spec_set(&a->spec, fields[c - OPT_NF], optarg, &err);
            break;
        case OPT_NO_MLFFR: a->spec.mlffr = false; break;
        case OPT_SPEC:
            rc = sweep_spec_read(&a->spec, optarg, &err);
            break;
        case OPT_DIR: a->dir = optarg; break;
        case OPT_EMIT: emit = true; break;
        case OPT_MERGE: merge = optarg; break;
        case OPT_RSSKEY: a->rsskey = optarg; break;
        case OPT_JSON: a->json = true; break;
        case OPT_JOB: job = true; break;
        case ':':
            cmd_error("sweep", "%s needs a value (see 'rsskey sweep --help')", argv[optind - 1]);
            return UTIL_EXIT_USAGE;
        default:
            cmd_error("sweep", "unknown option '%s' (see 'rsskey sweep --help')",
                      argv[optind - 1]);
            return UTIL_EXIT_USAGE;
        }
        if (rc) {
            cmd_error("sweep", "%s", err.msg);
            return rc;
        }
    }
    if (optind < argc) {
        cmd_error("sweep", "unexpected argument '%s'; lists go in --nf, --trace, ... "
                  "(see 'rsskey sweep --help')", argv[optind]);
        return UTIL_EXIT_USAGE;
    }
    if (emit + job + (merge != NULL) > 1) {
        cmd_error("sweep", "give at most one of --emit-jobs, --merge, --job");
        return UTIL_EXIT_USAGE;
    }
    a->mode = emit ? MODE_EMIT : job ? MODE_JOB : merge ? MODE_MERGE : MODE_RUN;
    if (merge) {
        a->dir = merge;
        struct sweep_spec empty;
        sweep_spec_init(&empty);
        if (memcmp(&empty, &a->spec, sizeof empty) != 0) {
            cmd_error("sweep", "--merge reads the lists from %s/sweep.conf; give no --nf, "
                      "--trace, ... with it", merge);
            return UTIL_EXIT_USAGE;
        }
        return 0;
    }
    int rc = sweep_spec_check(&a->spec, &err);
    if (rc) {
        cmd_error("sweep", "%s", err.msg);
        return rc;
    }
    if (job && a->spec.n_nfs * a->spec.n_nics * a->spec.n_cores * a->spec.n_traces *
               a->spec.n_rates != 1) {
        cmd_error("sweep", "--job runs one job: give exactly one nf, nic, cores, trace, rate");
        return UTIL_EXIT_USAGE;
    }
    return 0;
}

static int path_join(char *out, size_t size, const char *dir, const char *a, const char *b,
                     const char *ext)
{
    if ((size_t)snprintf(out, size, "%s/%s%s%s%s", dir, a, b ? "/" : "", b ? b : "", ext) >=
        size) {
        cmd_error("sweep", "path too long under %s", dir);
        return -1;
    }
    return 0;
}

/* The sweep's folders, made once the spec is known good. */
static int make_dirs(const char *dir)
{
    static const char *const subs[] = {"plans", "results", "logs", "raw"};
    struct util_error err;
    char path[SWEEP_PATH_MAX];
    for (int i = 0; i < 4; i++) {
        if (path_join(path, sizeof path, dir, subs[i], NULL, ""))
            return UTIL_EXIT_USAGE;
        if (sweep_mkdirs(path, &err)) {
            cmd_error("sweep", "%s", err.msg);
            return UTIL_EXIT_IO;
        }
    }
    return 0;
}

static int write_file(const char *path, const char *text)
{
    struct util_error err;
    if (!text) {
        cmd_error("sweep", "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    if (util_write_file_atomic(path, text, strlen(text), &err)) {
        cmd_error("sweep", "%s", err.msg);
        return UTIL_EXIT_IO;
    }
    return 0;
}

static int self_path(const struct sweep_args *a, char *out, size_t size)
{
    if (a->rsskey) {
        snprintf(out, size, "%s", a->rsskey);
        return 0;
    }
    ssize_t n = readlink("/proc/self/exe", out, size - 1);
    if (n <= 0) {
        cmd_error("sweep", "cannot find this rsskey's path (%s); give --rsskey PATH",
                  strerror(errno));
        return UTIL_EXIT_FAILURE;
    }
    out[n] = '\0';
    return 0;
}

/* A folder given relative is made absolute, so emitted lines run anywhere. */
static int absolute_dir(const char *dir, char *out, size_t size)
{
    char cwd[SWEEP_PATH_MAX];
    if (dir[0] == '/' || !getcwd(cwd, sizeof cwd))
        snprintf(out, size, "%s", dir);
    else if ((size_t)snprintf(out, size, "%s/%s", cwd, dir) >= size) {
        cmd_error("sweep", "--dir: path too long");
        return UTIL_EXIT_USAGE;
    }
    return 0;
}

/* ---- One job ------------------------------------------------------------------ */

static int run_job(const struct sweep_args *a)
{
    const struct sweep_spec *s = &a->spec;
    struct sweep_job *jobs;
    if (sweep_expand(s, &jobs) != 1) {
        cmd_error("sweep", "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    const struct sweep_job *j = &jobs[0];
    char self[SWEEP_PATH_MAX], plan[SWEEP_PATH_MAX], result[SWEEP_PATH_MAX], raw[SWEEP_PATH_MAX];
    int rc = self_path(a, self, sizeof self);
    if (!rc)
        rc = make_dirs(a->dir);
    if (!rc && (path_join(plan, sizeof plan, a->dir, "plans", j->plan_key, ".json") ||
                path_join(result, sizeof result, a->dir, "results", j->key, ".json") ||
                path_join(raw, sizeof raw, a->dir, "raw", j->key, ".sim.json")))
        rc = UTIL_EXIT_USAGE;
    if (rc)
        goto out;
    unlink(result);                     /* a failed rerun leaves no stale row */
    struct util_error err;
    char *out = NULL;
    size_t len = 0;
    char cores[16], limit[32], rate[64];
    snprintf(cores, sizeof cores, "%d", s->cores[j->cores]);
    snprintf(limit, sizeof limit, "%lu", s->limit);
    if (access(plan, R_OK) != 0) {
        /* Synthesised once per (nf, nic, cores); written by synth atomically,
         * so jobs racing on one plan each leave a whole file. */
        char *argv[16] = {self, "synth", (char *)s->nf_abs[j->nf], "--nic", (char *)s->nic[j->nic],
                          "--cores", cores, "-o", plan, NULL};
        /* No --trace (nor --lan): the plan depends on (nf, nic, cores) only,
         * with synth's default RETA, so every trace of the sweep shares it. */
        int st = sweep_run_capture(argv, NULL, &out, &len, &err);
        free(out);
        out = NULL;
        if (st != 0) {
            if (st < 0)
                cmd_error("sweep", "%s", err.msg);
            else
                cmd_error("sweep", "job %s: rsskey synth exited with %d (its message is "
                          "above)", j->key, st);
            rc = st > 0 && st < 6 ? st : UTIL_EXIT_FAILURE;
            goto out;
        }
    }
    const struct sweep_rate *r = &s->rate[j->rate];
    snprintf(rate, sizeof rate, "%.17g", r->value);
    char *argv[24] = {self, "sim", "--plan", plan, "--json",
                      r->pacing == SWEEP_PACE_PPS ? "--pps"
                      : r->pacing == SWEEP_PACE_GBPS ? "--gbps" : "--speedup", rate};
    int n = 7;
    if (s->lan[0]) {
        argv[n++] = "--lan";
        argv[n++] = (char *)s->lan;
    }
    if (s->limit) {
        argv[n++] = "--limit";
        argv[n++] = limit;
    }
    if (s->mlffr)
        argv[n++] = "--mlffr";
    argv[n++] = (char *)s->trace_abs[j->trace];
    argv[n] = NULL;
    int st = sweep_run_capture(argv, NULL, &out, &len, &err);
    if (st != 0) {
        if (st < 0)
            cmd_error("sweep", "%s", err.msg);
        else
            cmd_error("sweep", "job %s: rsskey sim exited with %d (its message is above)",
                      j->key, st);
        rc = st > 0 && st < 6 ? st : UTIL_EXIT_FAILURE;
        goto out;
    }
    struct sweep_row row;
    if ((rc = sweep_row_from_sim(out, len, "rsskey sim --json", &row, &err))) {
        cmd_error("sweep", "job %s: %s", j->key, err.msg);
        goto out;
    }
    char *text = sweep_row_format(&row, j->key);
    if (!(rc = write_file(raw, out)))
        rc = write_file(result, text);
    free(text);
out:
    free(out);
    free(jobs);
    return rc;
}

/* ---- Table -------------------------------------------------------------------- */

/* Reads every job's result; the table is written only when all are there. */
static int merge_table(const struct sweep_args *a, const struct sweep_spec *s,
                       const struct sweep_job *jobs, int n)
{
    struct sweep_row *rows = calloc(n ? (size_t)n : 1, sizeof *rows);
    if (!rows) {
        cmd_error("sweep", "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    int missing = 0, rc = 0;
    for (int i = 0; i < n; i++) {
        char path[SWEEP_PATH_MAX];
        struct util_error err;
        if (path_join(path, sizeof path, a->dir, "results", jobs[i].key, ".json")) {
            rc = UTIL_EXIT_USAGE;
            break;
        }
        if (access(path, F_OK) != 0) {
            if (missing++ < 10)
                fprintf(stderr, "rsskey sweep: no result for job %s (%s; log: %s/logs/%s.log)\n",
                        jobs[i].key, path, a->dir, jobs[i].key);
            continue;
        }
        if ((rc = sweep_row_read(path, jobs[i].key, &rows[i], &err))) {
            cmd_error("sweep", "%s", err.msg);
            break;
        }
    }
    if (!rc && missing) {
        cmd_error("sweep", "%d of %d jobs have no result in %s/results; rerun those jobs "
                  "(their lines are in %s/jobs.txt), then 'rsskey sweep --merge %s'; no table "
                  "written", missing, n, a->dir, a->dir, a->dir);
        rc = UTIL_EXIT_FAILURE;
    }
    char *csv = NULL, *json = NULL, path[SWEEP_PATH_MAX];
    if (!rc) {
        csv = sweep_table_csv(s, jobs, rows, n);
        json = sweep_table_json(s, jobs, rows, n);
        if (path_join(path, sizeof path, a->dir, "table.csv", NULL, ""))
            rc = UTIL_EXIT_USAGE;
        else
            rc = write_file(path, csv);
        if (!rc && path_join(path, sizeof path, a->dir, "table.json", NULL, ""))
            rc = UTIL_EXIT_USAGE;
        else if (!rc)
            rc = write_file(path, json);
    }
    if (!rc) {
        fputs(a->json ? json : csv, stdout);
        if (!a->quiet)
            fprintf(stderr, "rsskey sweep: %d rows in %s/table.csv and %s/table.json\n", n,
                    a->dir, a->dir);
    }
    free(csv);
    free(json);
    free(rows);
    return rc;
}

static int run_merge(struct sweep_args *a)
{
    char conf[SWEEP_PATH_MAX];
    struct util_error err;
    if (path_join(conf, sizeof conf, a->dir, "sweep.conf", NULL, ""))
        return UTIL_EXIT_USAGE;
    if (access(conf, R_OK) != 0) {
        cmd_error("sweep", "%s: %s; --merge takes the --dir of 'rsskey sweep --emit-jobs' or "
                  "of a local sweep", conf, strerror(errno));
        return UTIL_EXIT_INPUT;
    }
    int rc = sweep_spec_read(&a->spec, conf, &err);
    if (rc) {
        cmd_error("sweep", "%s", err.msg);
        return rc;
    }
    struct sweep_job *jobs;
    int n = sweep_expand(&a->spec, &jobs);
    if (n < 0) {
        cmd_error("sweep", "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    rc = merge_table(a, &a->spec, jobs, n);
    free(jobs);
    return rc;
}

/* ---- Emit and run ------------------------------------------------------------- */

static int write_conf(const struct sweep_args *a)
{
    char path[SWEEP_PATH_MAX];
    if (path_join(path, sizeof path, a->dir, "sweep.conf", NULL, ""))
        return UTIL_EXIT_USAGE;
    char *text = sweep_spec_format(&a->spec);
    int rc = write_file(path, text);
    free(text);
    return rc;
}

/* DIR/sweep.conf, DIR/jobs.txt (one command per job) and DIR/sweep.sbatch;
 * the lines are returned in *out (caller frees) when out is not NULL. */
static int write_job_files(const struct sweep_args *a, const struct sweep_job *jobs, int n,
                           const char *self, char **out)
{
    int rc = make_dirs(a->dir);
    if (!rc)
        rc = write_conf(a);
    char *lines = NULL;
    size_t len = 0;
    for (int i = 0; !rc && i < n; i++) {
        char *cmd = sweep_job_command(&a->spec, &jobs[i], self, a->dir);
        char *grown = cmd ? realloc(lines, len + strlen(cmd) + 2) : NULL;
        if (!grown) {
            free(cmd);
            cmd_error("sweep", "out of memory");
            rc = UTIL_EXIT_FAILURE;
            break;
        }
        lines = grown;
        len += (size_t)sprintf(lines + len, "%s\n", cmd);
        free(cmd);
    }
    char path[SWEEP_PATH_MAX], script[3 * SWEEP_PATH_MAX];
    if (!rc && !path_join(path, sizeof path, a->dir, "jobs.txt", NULL, ""))
        rc = write_file(path, lines ? lines : "");
    if (!rc) {
        /* A Slurm array: task i runs line i of jobs.txt. */
        snprintf(script, sizeof script,
                 "#!/bin/bash\n"
                 "# rsskey sweep as a Slurm job array: task i runs line i of jobs.txt.\n"
                 "# Submit: sbatch %s/sweep.sbatch; when all tasks are done:\n"
                 "#   rsskey sweep --merge %s\n"
                 "#SBATCH --job-name=rsskey-sweep\n"
                 "#SBATCH --array=1-%d\n"
                 "#SBATCH --cpus-per-task=2\n"
                 "#SBATCH --output=%s/logs/slurm-%%A_%%a.log\n"
                 "set -euo pipefail\n"
                 "line=$(sed -n \"${SLURM_ARRAY_TASK_ID}p\" '%s/jobs.txt')\n"
                 "exec bash -c \"$line\"\n",
                 a->dir, a->dir, n, a->dir, a->dir);
        if (!path_join(path, sizeof path, a->dir, "sweep.sbatch", NULL, ""))
            rc = write_file(path, script);
    }
    if (!rc && out) {
        *out = lines;
        lines = NULL;
    }
    free(lines);
    return rc;
}

static int run_emit(const struct sweep_args *a, const struct sweep_job *jobs, int n,
                    const char *self)
{
    char *lines = NULL;
    int rc = write_job_files(a, jobs, n, self, &lines);
    if (!rc)
        fputs(lines ? lines : "", stdout);
    if (!rc && !a->quiet)
        fprintf(stderr, "rsskey sweep: %d jobs; also in %s/jobs.txt and the Slurm array "
                "%s/sweep.sbatch; then 'rsskey sweep --merge %s'\n", n, a->dir, a->dir, a->dir);
    free(lines);
    return rc;
}

struct progress_ctx {
    const char *stage;
    const char *const *names;
    int n, done;
    bool quiet;
};

static void on_done(void *ctx, int index, int status, double seconds)
{
    struct progress_ctx *p = ctx;
    p->done++;
    if (!p->quiet || status != 0)
        fprintf(stderr, "rsskey sweep: %s %d/%d %s %s (%.1f s)\n", p->stage, p->done, p->n,
                p->names[index], status == 0 ? "done" : "FAILED", seconds);
}

/* The distinct plans first (each synthesised once, in parallel), then the
 * jobs; both through the same bounded pool of `rsskey` children. */
static int run_local(const struct sweep_args *a, const struct sweep_job *jobs, int n,
                     const char *self)
{
    int rc = write_job_files(a, jobs, n, self, NULL);
    if (rc)
        return rc;
    char (*bufs)[8 * SWEEP_PATH_MAX] = calloc((size_t)n, sizeof *bufs);
    char *(*argvs_store)[32] = calloc((size_t)n, sizeof *argvs_store);
    char **argvs[n ? n : 1];
    char (*logs_store)[SWEEP_PATH_MAX] = calloc((size_t)n, sizeof *logs_store);
    const char *logs[n ? n : 1], *names[n ? n : 1];
    int *status = calloc((size_t)n, sizeof *status), *plan_of = calloc((size_t)n, sizeof(int));
    struct util_error err;
    if (!bufs || !argvs_store || !logs_store || !status || !plan_of) {
        cmd_error("sweep", "out of memory");
        rc = UTIL_EXIT_FAILURE;
        goto out;
    }
    /* Stage 1: one job per distinct plan not yet cached runs with the plan
     * missing, i.e. synthesises it; others wait for stage 2. */
    int m = 0;
    for (int i = 0; i < n; i++) {
        char plan[SWEEP_PATH_MAX];
        bool first = true;
        for (int k = 0; k < i && first; k++)
            if (strcmp(jobs[k].plan_key, jobs[i].plan_key) == 0)
                first = false;
        if (path_join(plan, sizeof plan, a->dir, "plans", jobs[i].plan_key, ".json")) {
            rc = UTIL_EXIT_USAGE;
            goto out;
        }
        plan_of[i] = first && access(plan, R_OK) != 0;
    }
    for (int stage = 0; stage < 2 && !rc; stage++) {
        m = 0;
        for (int i = 0; i < n; i++) {
            if ((stage == 0) != (plan_of[i] == 1))
                continue;
            if (sweep_job_argv(&a->spec, &jobs[i], self, a->dir, bufs[m], sizeof bufs[m],
                               argvs_store[m], 32) < 0 ||
                path_join(logs_store[m], SWEEP_PATH_MAX, a->dir, "logs", jobs[i].key, ".log")) {
                cmd_error("sweep", "job %s: command too long", jobs[i].key);
                rc = UTIL_EXIT_USAGE;
                goto out;
            }
            unlink(logs_store[m]);
            argvs[m] = argvs_store[m];
            logs[m] = logs_store[m];
            names[m] = jobs[i].key;
            m++;
        }
        struct progress_ctx p = {stage == 0 ? "plan+job" : "job", names, m, 0, a->quiet};
        if (!a->quiet && m)
            fprintf(stderr, "rsskey sweep: %s %d %s, %d at once\n",
                    stage == 0 ? "synthesising" : "running", m,
                    stage == 0 ? "plans (with their first job)" : "jobs", a->jobs);
        if (sweep_run_pool(argvs, logs, m, a->jobs, status, on_done, &p, &err)) {
            cmd_error("sweep", "%s", err.msg);
            rc = UTIL_EXIT_FAILURE;
        }
        int failed = 0;
        for (int k = 0; k < m; k++)
            if (status[k] != 0 && failed++ < 10)
                fprintf(stderr, "rsskey sweep: job %s failed (exit %d); log: %s\n",
                        names[k], status[k], logs[k]);
    }
    if (!rc)
        rc = merge_table(a, &a->spec, jobs, n);
out:
    free(bufs);
    free(argvs_store);
    free(logs_store);
    free(status);
    free(plan_of);
    return rc;
}

int cmd_sweep(int argc, char **argv)
{
    struct sweep_args *a = calloc(1, sizeof *a);   /* the spec is ~300 KB */
    if (!a) {
        cmd_error("sweep", "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    int rc = parse_args(argc, argv, a);
    if (rc) {
        free(a);
        return rc < 0 ? UTIL_EXIT_OK : rc;
    }
    char dir[SWEEP_PATH_MAX], self[SWEEP_PATH_MAX];
    if ((rc = absolute_dir(a->dir, dir, sizeof dir)))
        goto out;
    a->dir = dir;
    if (a->mode == MODE_MERGE) {
        rc = run_merge(a);
        goto out;
    }
    if (a->mode == MODE_JOB) {
        rc = run_job(a);
        goto out;
    }
    if ((rc = self_path(a, self, sizeof self)))
        goto out;
    struct sweep_job *jobs;
    int n = sweep_expand(&a->spec, &jobs);
    if (n < 0) {
        cmd_error("sweep", "out of memory");
        rc = UTIL_EXIT_FAILURE;
        goto out;
    }
    rc = a->mode == MODE_EMIT ? run_emit(a, jobs, n, self) : run_local(a, jobs, n, self);
    free(jobs);
out:
    free(a);
    return rc;
}
