/*
 * spec.c - a sweep's spec: the lists (from options or a spec file), their
 * checks, the cartesian product in table order, each job's key, and the
 * self-contained command line that runs one job.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rss/rss.h"
#include "sweep/sweep.h"

#define SWEEP_CORES_MAX 64          /* rsskey sim's SIM_MAX_CORES */

void sweep_spec_init(struct sweep_spec *s)
{
    memset(s, 0, sizeof *s);
    s->mlffr = true;
}

static char *next_item(char **cursor)
{
    while (**cursor == ',' || isspace((unsigned char)**cursor))
        (*cursor)++;
    if (!**cursor)
        return NULL;
    char *start = *cursor;
    char *comma = strchr(start, ',');
    if (comma) {
        *comma = '\0';
        *cursor = comma + 1;
    } else {
        *cursor = start + strlen(start);
    }
    return util_trim(start);
}

static int parse_suffixed(const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || errno || !isfinite(v) || !(v > 0))
        return -1;
    if (*end == 'k' || *end == 'K')
        v *= 1e3, end++;
    else if (*end == 'M')
        v *= 1e6, end++;
    else if (*end == 'G')
        v *= 1e9, end++;
    if (*end)
        return -1;
    *out = v;
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

int sweep_rate_parse(const char *text, struct sweep_rate *out, struct util_error *err)
{
    char buf[64];
    memset(out, 0, sizeof *out);
    if (strlen(text) >= sizeof buf)
        goto bad;
    snprintf(buf, sizeof buf, "%s", text);
    if (strcasecmp(buf, "trace") == 0) {
        out->pacing = SWEEP_PACE_SPEEDUP;
        out->value = 1;
    } else if (buf[0] == 'x' || buf[0] == 'X') {
        char *end;
        errno = 0;
        out->value = strtod(buf + 1, &end);
        if (end == buf + 1 || *end || errno || !(out->value > 0) || !isfinite(out->value))
            goto bad;
        out->pacing = SWEEP_PACE_SPEEDUP;
    } else if (ends_with(buf, "gbps")) {
        buf[strlen(buf) - 4] = '\0';
        char *end;
        errno = 0;
        out->value = strtod(buf, &end);
        if (end == buf || *end || errno || !(out->value > 0) || !isfinite(out->value))
            goto bad;
        out->pacing = SWEEP_PACE_GBPS;
    } else {
        if (ends_with(buf, "pps"))
            buf[strlen(buf) - 3] = '\0';
        if (parse_suffixed(buf, &out->value))
            goto bad;
        out->pacing = SWEEP_PACE_PPS;
    }
    double v = out->value;
    if (out->pacing == SWEEP_PACE_SPEEDUP)
        snprintf(out->label, sizeof out->label, "x%.10g", v);
    else if (out->pacing == SWEEP_PACE_GBPS)
        snprintf(out->label, sizeof out->label, "%.10ggbps", v);
    else if (v >= 1e6)
        snprintf(out->label, sizeof out->label, "%.10gMpps", v / 1e6);
    else if (v >= 1e3)
        snprintf(out->label, sizeof out->label, "%.10gkpps", v / 1e3);
    else
        snprintf(out->label, sizeof out->label, "%.10gpps", v);
    return 0;
bad:
    util_error_set(err, "--rate: '%s' is not a rate; use 'trace' or xS (trace timestamps S "
                   "times faster), R[k|M|G]pps (evenly spaced packets), or Ggbps", text);
    return UTIL_EXIT_USAGE;
}

static int add_path(char (*list)[SWEEP_PATH_MAX], int *n, const char *field, const char *item,
                    struct util_error *err)
{
    if (*n >= SWEEP_MAX_ITEMS) {
        util_error_set(err, "--%s: at most %d items", field, SWEEP_MAX_ITEMS);
        return UTIL_EXIT_USAGE;
    }
    if (strlen(item) >= SWEEP_PATH_MAX) {
        util_error_set(err, "--%s: path too long: '%.60s...'", field, item);
        return UTIL_EXIT_USAGE;
    }
    snprintf(list[(*n)++], SWEEP_PATH_MAX, "%s", item);
    return 0;
}

static int set_scalar(struct sweep_spec *s, const char *field, char *value,
                      struct util_error *err)
{
    value = util_trim(value);
    if (strcmp(field, "lan") == 0) {
        if (strlen(value) >= sizeof s->lan) {
            util_error_set(err, "--lan: too long (at most %zu characters)", sizeof s->lan - 1);
            return UTIL_EXIT_USAGE;
        }
        snprintf(s->lan, sizeof s->lan, "%s", value);
        return 0;
    }
    if (strcmp(field, "mlffr") == 0) {
        if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0)
            s->mlffr = true;
        else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0)
            s->mlffr = false;
        else {
            util_error_set(err, "mlffr is 'yes' or 'no', got '%s'", value);
            return UTIL_EXIT_USAGE;
        }
        return 0;
    }
    /* limit */
    char *end;
    errno = 0;
    unsigned long v = strtoul(value, &end, 10);
    if (!*value || *end || errno || v == 0 || value[0] == '-') {
        util_error_set(err, "--limit needs a packet count >= 1, got '%s'", value);
        return UTIL_EXIT_USAGE;
    }
    s->limit = v;
    return 0;
}

int sweep_spec_set(struct sweep_spec *s, const char *field, const char *list,
                   struct util_error *err)
{
    size_t len = strlen(list);
    char *copy = malloc(len + 1);
    if (!copy) {
        util_error_set(err, "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    memcpy(copy, list, len + 1);
    int rc = 0;
    if (strcmp(field, "lan") == 0 || strcmp(field, "limit") == 0 ||
        strcmp(field, "mlffr") == 0) {
        rc = set_scalar(s, field, copy, err);
        free(copy);
        return rc;
    }
    char *cursor = copy, *item;
    int before = s->n_nfs + s->n_nics + s->n_cores + s->n_traces + s->n_rates;
    while (!rc && (item = next_item(&cursor))) {
        if (strcmp(field, "nf") == 0) {
            rc = add_path(s->nf, &s->n_nfs, field, item, err);
        } else if (strcmp(field, "trace") == 0) {
            rc = add_path(s->trace, &s->n_traces, field, item, err);
        } else if (strcmp(field, "nic") == 0) {
            if (s->n_nics >= SWEEP_MAX_ITEMS || strlen(item) >= sizeof s->nic[0]) {
                util_error_set(err, "--nic: '%s': too many NICs or too long a name", item);
                rc = UTIL_EXIT_USAGE;
            } else {
                snprintf(s->nic[s->n_nics++], sizeof s->nic[0], "%s", item);
            }
        } else if (strcmp(field, "cores") == 0) {
            char *end;
            errno = 0;
            long v = strtol(item, &end, 10);
            if (*end || errno || v < 1 || v > SWEEP_CORES_MAX || s->n_cores >= SWEEP_MAX_ITEMS) {
                util_error_set(err, "--cores: '%s' is not a core count in 1..%d", item,
                               SWEEP_CORES_MAX);
                rc = UTIL_EXIT_USAGE;
            } else {
                s->cores[s->n_cores++] = (int)v;
            }
        } else if (strcmp(field, "rate") == 0) {
            if (s->n_rates >= SWEEP_MAX_ITEMS) {
                util_error_set(err, "--rate: at most %d rates", SWEEP_MAX_ITEMS);
                rc = UTIL_EXIT_USAGE;
            } else {
                rc = sweep_rate_parse(item, &s->rate[s->n_rates], err);
                if (!rc)
                    s->n_rates++;
            }
        } else {
            util_error_set(err, "unknown field '%s' (nf, nic, cores, trace, rate, lan, limit, "
                           "mlffr)", field);
            rc = UTIL_EXIT_USAGE;
        }
    }
    if (!rc && before == s->n_nfs + s->n_nics + s->n_cores + s->n_traces + s->n_rates) {
        util_error_set(err, "--%s: empty list", field);
        rc = UTIL_EXIT_USAGE;
    }
    free(copy);
    return rc;
}

int sweep_spec_read(struct sweep_spec *s, const char *path, struct util_error *err)
{
    size_t len;
    char *text = util_read_file(path, &len, err);
    if (!text)
        return UTIL_EXIT_IO;
    struct util_kv_reader r;
    util_kv_begin(&r, text);
    char *name, *value;
    int got, rc = 0;
    while ((got = util_kv_next(&r, path, &name, &value, err)) == 1) {
        struct util_error e;
        /* Paths the sweep wrote for its jobs: absolute, beside the labels. */
        if (strcmp(name, "nf_path") == 0 || strcmp(name, "trace_path") == 0) {
            bool nf = name[0] == 'n';
            int i = nf ? s->n_nfs - 1 : s->n_traces - 1;
            if (i < 0 || strlen(value) >= SWEEP_PATH_MAX) {
                util_error_set(err, "%s:%d: %s before its label", path, r.line, name);
                rc = UTIL_EXIT_INPUT;
                break;
            }
            snprintf(nf ? s->nf_abs[i] : s->trace_abs[i], SWEEP_PATH_MAX, "%s", value);
            continue;
        }
        if ((rc = sweep_spec_set(s, name, value, &e))) {
            util_error_set(err, "%s:%d: %s", path, r.line, e.msg);
            rc = UTIL_EXIT_INPUT;
            break;
        }
    }
    if (got < 0)
        rc = UTIL_EXIT_INPUT;
    free(text);
    return rc;
}

/* The file name without its folder and last extension: "nfs/fw.O2.bc" -> "fw.O2". */
static void stem(const char *path, char *out, size_t size)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(out, size, "%s", base);
    char *dot = strrchr(out, '.');
    if (dot && dot != out)
        *dot = '\0';
    for (char *p = out; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '+')
            *p = '-';
}

static int check_files(char (*list)[SWEEP_PATH_MAX], char (*abs)[SWEEP_PATH_MAX], int n,
                       const char *what, struct util_error *err)
{
    char cwd[SWEEP_PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        cwd[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (access(list[i], R_OK) != 0) {
            util_error_set(err, "%s '%s' cannot be read (%s); check the path in --%s or the "
                           "spec file", what, list[i], strerror(errno), what);
            return UTIL_EXIT_INPUT;
        }
        if (list[i][0] == '/')
            snprintf(abs[i], SWEEP_PATH_MAX, "%s", list[i]);
        else if ((size_t)snprintf(abs[i], SWEEP_PATH_MAX, "%s/%s", cwd, list[i]) >=
                 SWEEP_PATH_MAX) {
            util_error_set(err, "%s '%s': absolute path too long", what, list[i]);
            return UTIL_EXIT_USAGE;
        }
        char a[256], b[256];
        stem(list[i], a, sizeof a);
        for (int j = 0; j < i; j++) {
            stem(list[j], b, sizeof b);
            if (strcmp(a, b) == 0) {
                util_error_set(err, "%s '%s' and '%s' have the same name '%s', which names "
                               "the result files; give each a different file name", what,
                               list[j], list[i], a);
                return UTIL_EXIT_USAGE;
            }
        }
    }
    return 0;
}

int sweep_spec_check(struct sweep_spec *s, struct util_error *err)
{
    static const char *const need[] = {"nf (--nf A.bc,B.bc)", "nic (--nic e810,x550)",
                                       "cores (--cores 1,2,4)", "trace (--trace T.pcap)"};
    int counts[] = {s->n_nfs, s->n_nics, s->n_cores, s->n_traces};
    for (int i = 0; i < 4; i++)
        if (counts[i] == 0) {
            util_error_set(err, "no %s given", need[i]);
            return UTIL_EXIT_USAGE;
        }
    if (s->n_rates == 0) {
        s->rate[0] = (struct sweep_rate){SWEEP_PACE_SPEEDUP, 1, "x1"};
        s->n_rates = 1;
    }
    for (int i = 0; i < s->n_nics; i++) {
        if (!rss_nic_find(s->nic[i])) {
            char known[512] = "";
            for (int k = 0; k < rss_nic_count(); k++) {
                size_t used = strlen(known);
                snprintf(known + used, sizeof known - used, "%s%s", k ? ", " : "",
                         rss_nic_at(k)->name);
            }
            util_error_set(err, "unknown NIC '%s'; known profiles: %s ('rsskey nics')",
                           s->nic[i], known);
            return UTIL_EXIT_USAGE;
        }
        for (int j = 0; j < i; j++)
            if (strcmp(s->nic[i], s->nic[j]) == 0) {
                util_error_set(err, "NIC '%s' listed twice", s->nic[i]);
                return UTIL_EXIT_USAGE;
            }
    }
    for (int i = 0; i < s->n_cores; i++)
        for (int j = 0; j < i; j++)
            if (s->cores[i] == s->cores[j]) {
                util_error_set(err, "core count %d listed twice", s->cores[i]);
                return UTIL_EXIT_USAGE;
            }
    for (int i = 0; i < s->n_rates; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(s->rate[i].label, s->rate[j].label) == 0) {
                util_error_set(err, "rate %s listed twice", s->rate[i].label);
                return UTIL_EXIT_USAGE;
            }
    int rc = check_files(s->nf, s->nf_abs, s->n_nfs, "nf", err);
    if (!rc)
        rc = check_files(s->trace, s->trace_abs, s->n_traces, "trace", err);
    return rc;
}

int sweep_expand(const struct sweep_spec *s, struct sweep_job **jobs)
{
    int n = s->n_nfs * s->n_nics * s->n_cores * s->n_traces * s->n_rates;
    struct sweep_job *out = calloc(n ? (size_t)n : 1, sizeof *out);
    if (!out)
        return -1;
    int k = 0;
    for (int a = 0; a < s->n_nfs; a++)
        for (int b = 0; b < s->n_nics; b++)
            for (int c = 0; c < s->n_cores; c++)
                for (int d = 0; d < s->n_traces; d++)
                    for (int e = 0; e < s->n_rates; e++) {
                        struct sweep_job *j = &out[k++];
                        *j = (struct sweep_job){a, b, c, d, e, "", ""};
                        char nf[96], tr[96];
                        stem(s->nf[a], nf, sizeof nf);
                        stem(s->trace[d], tr, sizeof tr);
                        snprintf(j->plan_key, sizeof j->plan_key, "%s_%s_c%d", nf, s->nic[b],
                                 s->cores[c]);
                        snprintf(j->key, sizeof j->key, "%s_%s_%s", j->plan_key, tr,
                                 s->rate[e].label);
                    }
    *jobs = out;
    return n;
}

static bool append(char **buf, size_t *len, size_t *cap, const char *text)
{
    size_t n = strlen(text);
    if (*len + n + 1 > *cap) {
        size_t cap2 = (*cap + n + 1) * 2;
        char *b = realloc(*buf, cap2);
        if (!b)
            return false;
        *buf = b;
        *cap = cap2;
    }
    memcpy(*buf + *len, text, n + 1);
    *len += n;
    return true;
}

char *sweep_spec_format(const struct sweep_spec *s)
{
    char *buf = NULL, line[2 * SWEEP_PATH_MAX + 32];
    size_t len = 0, cap = 0;
    bool ok = append(&buf, &len, &cap, "# rsskey sweep spec (written by rsskey sweep; "
                                       "'rsskey sweep --merge' reads it)\n");
    for (int i = 0; ok && i < s->n_nfs; i++) {
        snprintf(line, sizeof line, "nf = %s\nnf_path = %s\n", s->nf[i], s->nf_abs[i]);
        ok = append(&buf, &len, &cap, line);
    }
    for (int i = 0; ok && i < s->n_nics; i++) {
        snprintf(line, sizeof line, "nic = %s\n", s->nic[i]);
        ok = append(&buf, &len, &cap, line);
    }
    for (int i = 0; ok && i < s->n_cores; i++) {
        snprintf(line, sizeof line, "cores = %d\n", s->cores[i]);
        ok = append(&buf, &len, &cap, line);
    }
    for (int i = 0; ok && i < s->n_traces; i++) {
        snprintf(line, sizeof line, "trace = %s\ntrace_path = %s\n", s->trace[i],
                 s->trace_abs[i]);
        ok = append(&buf, &len, &cap, line);
    }
    for (int i = 0; ok && i < s->n_rates; i++) {
        snprintf(line, sizeof line, "rate = %s\n", s->rate[i].label);
        ok = append(&buf, &len, &cap, line);
    }
    if (ok && s->lan[0]) {
        snprintf(line, sizeof line, "lan = %s\n", s->lan);
        ok = append(&buf, &len, &cap, line);
    }
    if (ok && s->limit) {
        snprintf(line, sizeof line, "limit = %lu\n", s->limit);
        ok = append(&buf, &len, &cap, line);
    }
    if (ok)
        ok = append(&buf, &len, &cap, s->mlffr ? "mlffr = yes\n" : "mlffr = no\n");
    if (!ok) {
        free(buf);
        return NULL;
    }
    return buf;
}

int sweep_job_argv(const struct sweep_spec *s, const struct sweep_job *j, const char *rsskey,
                   const char *dir, char *buf, size_t buf_size, char **argv, int max_argv)
{
    const char *items[24];
    char cores[16], limit[32];
    int n = 0;
    items[n++] = rsskey;
    items[n++] = "sweep";
    items[n++] = "--job";
    items[n++] = "--dir";
    items[n++] = dir;
    items[n++] = "--nf";
    items[n++] = s->nf_abs[j->nf];
    items[n++] = "--nic";
    items[n++] = s->nic[j->nic];
    items[n++] = "--cores";
    snprintf(cores, sizeof cores, "%d", s->cores[j->cores]);
    items[n++] = cores;
    items[n++] = "--trace";
    items[n++] = s->trace_abs[j->trace];
    items[n++] = "--rate";
    items[n++] = s->rate[j->rate].label;
    if (s->lan[0]) {
        items[n++] = "--lan";
        items[n++] = s->lan;
    }
    if (s->limit) {
        snprintf(limit, sizeof limit, "%lu", s->limit);
        items[n++] = "--limit";
        items[n++] = limit;
    }
    if (!s->mlffr)
        items[n++] = "--no-mlffr";
    if (n + 1 > max_argv)
        return -1;
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(items[i]) + 1;
        if (used + len > buf_size)
            return -1;
        memcpy(buf + used, items[i], len);
        argv[i] = buf + used;
        used += len;
    }
    argv[n] = NULL;
    return n;
}

char *sweep_job_command(const struct sweep_spec *s, const struct sweep_job *j,
                        const char *rsskey, const char *dir)
{
    char buf[8 * SWEEP_PATH_MAX], *argv[32];
    int argc = sweep_job_argv(s, j, rsskey, dir, buf, sizeof buf, argv, 32);
    if (argc < 0)
        return NULL;
    char *out = NULL;
    size_t len = 0, cap = 0;
    for (int i = 0; i < argc; i++) {
        /* Single quotes, ' as '\'' : safe for sh, ssh and Slurm alike. */
        bool plain = argv[i][0] != '\0';
        for (const char *p = argv[i]; *p; p++)
            if (!isalnum((unsigned char)*p) && !strchr("/._-+,=:", *p))
                plain = false;
        if ((i && !append(&out, &len, &cap, " ")) || (!plain && !append(&out, &len, &cap, "'")))
            goto oom;
        for (const char *p = argv[i]; *p; p++) {
            char one[2] = {*p, '\0'};
            if (!append(&out, &len, &cap, *p == '\'' ? "'\\''" : one))
                goto oom;
        }
        if (!plain && !append(&out, &len, &cap, "'"))
            goto oom;
    }
    return out;
oom:
    free(out);
    return NULL;
}
