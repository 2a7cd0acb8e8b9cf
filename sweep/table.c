/*
 * table.c - a job's row: the key numbers taken from `rsskey sim --json`,
 * stored as DIR/results/KEY.json, read back and merged into one table (CSV
 * and JSON) in the spec's order. Every table is built from the result files,
 * so a local run and a run through GNU parallel or Slurm print the same bytes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep/sweep.h"

static double num(const struct util_jvalue *obj, const char *key)
{
    const struct util_jvalue *v = util_jobject_get(obj, key);
    return v && v->type == UTIL_JNUMBER ? v->number : NAN;
}

static unsigned long long count(const struct util_jvalue *obj, const char *key)
{
    uint64_t out = 0;
    const struct util_jvalue *v = util_jobject_get(obj, key);
    if (v && v->type == UTIL_JNUMBER)
        util_jnumber_u64(v->number, &out);
    return out;
}

static void str(const struct util_jvalue *obj, const char *key, char *out, size_t size)
{
    const struct util_jvalue *v = util_jobject_get(obj, key);
    snprintf(out, size, "%s", v && v->type == UTIL_JSTRING ? v->string : "");
}

int sweep_row_from_sim(const char *json, size_t len, const char *source, struct sweep_row *row,
                       struct util_error *err)
{
    struct util_jvalue *root = util_json_parse(json, len, source, err);
    if (!root)
        return UTIL_EXIT_INPUT;
    const struct util_jvalue *totals = util_jobject_get(root, "totals");
    if (!totals || totals->type != UTIL_JOBJECT) {
        util_error_set(err, "%s: no \"totals\" object; is this 'rsskey sim --json' output?",
                       source);
        util_jvalue_free(root);
        return UTIL_EXIT_INPUT;
    }
    memset(row, 0, sizeof *row);
    row->offered_mpps = num(totals, "offered_mpps");
    row->mpps = num(totals, "mpps");
    row->gbps = num(totals, "gbps");
    row->imbalance = num(totals, "imbalance");
    row->offered = count(totals, "offered");
    row->processed = count(totals, "processed");
    row->drops = count(totals, "drops");
    row->drop_share = row->offered ? (double)row->drops / (double)row->offered : NAN;
    double busiest = num(totals, "busiest_core");
    row->busiest_core = isfinite(busiest) ? (int)busiest : -1;
    str(totals, "bottleneck", row->bottleneck, sizeof row->bottleneck);
    row->max_core_load = NAN;
    const struct util_jvalue *cores = util_jobject_get(root, "cores");
    for (size_t i = 0; cores && cores->type == UTIL_JARRAY && i < cores->count; i++) {
        double share = num(&cores->items[i], "busy_share");
        if (isfinite(share) && !(row->max_core_load >= share))
            row->max_core_load = share;
    }
    const struct util_jvalue *mlffr = util_jobject_get(root, "mlffr");
    row->mlffr_mpps = mlffr ? num(mlffr, "mlffr_mpps") : NAN;
    row->mlffr_gbps = mlffr ? num(mlffr, "gbps") : NAN;
    if (mlffr)
        str(mlffr, "bottleneck", row->mlffr_bottleneck, sizeof row->mlffr_bottleneck);
    util_jvalue_free(root);
    return 0;
}

/* The row's fields in table order, shared by the result file, CSV and JSON. */
static void write_row_fields(struct util_json *w, const struct sweep_row *r)
{
    util_json_key(w, "offered_mpps");
    util_json_double(w, r->offered_mpps);
    util_json_key(w, "mpps");
    util_json_double(w, r->mpps);
    util_json_key(w, "gbps");
    util_json_double(w, r->gbps);
    util_json_key(w, "offered");
    util_json_uint(w, r->offered);
    util_json_key(w, "processed");
    util_json_uint(w, r->processed);
    util_json_key(w, "drops");
    util_json_uint(w, r->drops);
    util_json_key(w, "drop_share");
    util_json_double(w, r->drop_share);
    util_json_key(w, "max_core_load");
    util_json_double(w, r->max_core_load);
    util_json_key(w, "imbalance");
    util_json_double(w, r->imbalance);
    util_json_key(w, "busiest_core");
    util_json_int(w, r->busiest_core);
    util_json_key(w, "bottleneck");
    util_json_string(w, r->bottleneck);
    util_json_key(w, "mlffr_mpps");
    util_json_double(w, r->mlffr_mpps);
    util_json_key(w, "mlffr_gbps");
    util_json_double(w, r->mlffr_gbps);
    util_json_key(w, "mlffr_bottleneck");
    util_json_string(w, r->mlffr_bottleneck);
}

static char *take_text(struct util_json *w)
{
    size_t len;
    const char *t = util_json_text(w, &len);
    char *out = malloc(len + 2);
    if (out) {
        memcpy(out, t, len);
        out[len] = '\n';
        out[len + 1] = '\0';
    }
    util_json_free(w);
    return out;
}

char *sweep_row_format(const struct sweep_row *row, const char *key)
{
    struct util_json *w = util_json_new();
    util_json_object_begin(w);
    util_json_key(w, "key");
    util_json_string(w, key);
    write_row_fields(w, row);
    util_json_object_end(w);
    return take_text(w);
}

int sweep_row_read(const char *path, const char *key, struct sweep_row *row,
                   struct util_error *err)
{
    size_t len;
    char *text = util_read_file(path, &len, err);
    if (!text)
        return UTIL_EXIT_IO;
    struct util_jvalue *root = util_json_parse(text, len, path, err);
    free(text);
    if (!root)
        return UTIL_EXIT_INPUT;
    char got[256];
    str(root, "key", got, sizeof got);
    if (strcmp(got, key) != 0) {
        util_error_set(err, "%s: holds job '%s', expected '%s'", path, got, key);
        util_jvalue_free(root);
        return UTIL_EXIT_INPUT;
    }
    memset(row, 0, sizeof *row);
    row->offered_mpps = num(root, "offered_mpps");
    row->mpps = num(root, "mpps");
    row->gbps = num(root, "gbps");
    row->offered = count(root, "offered");
    row->processed = count(root, "processed");
    row->drops = count(root, "drops");
    row->drop_share = num(root, "drop_share");
    row->max_core_load = num(root, "max_core_load");
    row->imbalance = num(root, "imbalance");
    double busiest = num(root, "busiest_core");
    row->busiest_core = isfinite(busiest) ? (int)busiest : -1;
    str(root, "bottleneck", row->bottleneck, sizeof row->bottleneck);
    row->mlffr_mpps = num(root, "mlffr_mpps");
    row->mlffr_gbps = num(root, "mlffr_gbps");
    str(root, "mlffr_bottleneck", row->mlffr_bottleneck, sizeof row->mlffr_bottleneck);
    util_jvalue_free(root);
    return 0;
}

/* ---- Table ------------------------------------------------------------------ */

struct text {
    char *buf;
    size_t len, cap;
    bool oom;
};

static void put(struct text *t, const char *s)
{
    size_t n = strlen(s);
    if (t->oom)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->cap + n + 1) * 2;
        char *b = realloc(t->buf, cap);
        if (!b) {
            t->oom = true;
            return;
        }
        t->buf = b;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, s, n + 1);
    t->len += n;
}

static void put_csv_string(struct text *t, const char *s)
{
    if (!strpbrk(s, ",\"\n")) {
        put(t, s);
        return;
    }
    put(t, "\"");
    for (const char *p = s; *p; p++)
        put(t, *p == '"' ? "\"\"" : (char[2]){*p, '\0'});
    put(t, "\"");
}

static void put_csv_double(struct text *t, const char *fmt, double v)
{
    char b[64] = "";
    if (isfinite(v))
        snprintf(b, sizeof b, fmt, v);
    put(t, b);
}

char *sweep_table_csv(const struct sweep_spec *s, const struct sweep_job *jobs,
                      const struct sweep_row *rows, int n)
{
    struct text t = {0};
    put(&t, "nf,nic,cores,trace,rate,offered_mpps,mpps,gbps,offered,drops,drop_pct,"
            "max_core_load_pct,imbalance,busiest_core,bottleneck,mlffr_mpps,mlffr_gbps,"
            "mlffr_bottleneck\n");
    for (int i = 0; i < n; i++) {
        const struct sweep_job *j = &jobs[i];
        const struct sweep_row *r = &rows[i];
        char b[64];
        put_csv_string(&t, s->nf[j->nf]);
        put(&t, ",");
        put_csv_string(&t, s->nic[j->nic]);
        snprintf(b, sizeof b, ",%d,", s->cores[j->cores]);
        put(&t, b);
        put_csv_string(&t, s->trace[j->trace]);
        put(&t, ",");
        put_csv_string(&t, s->rate[j->rate].label);
        put(&t, ",");
        put_csv_double(&t, "%.6f", r->offered_mpps);
        put(&t, ",");
        put_csv_double(&t, "%.6f", r->mpps);
        put(&t, ",");
        put_csv_double(&t, "%.4f", r->gbps);
        snprintf(b, sizeof b, ",%llu,%llu,", r->offered, r->drops);
        put(&t, b);
        put_csv_double(&t, "%.3f", r->drop_share * 100);
        put(&t, ",");
        put_csv_double(&t, "%.2f", r->max_core_load * 100);
        put(&t, ",");
        put_csv_double(&t, "%.3f", r->imbalance);
        snprintf(b, sizeof b, ",%d,", r->busiest_core);
        put(&t, b);
        put_csv_string(&t, r->bottleneck);
        put(&t, ",");
        put_csv_double(&t, "%.4f", r->mlffr_mpps);
        put(&t, ",");
        put_csv_double(&t, "%.3f", r->mlffr_gbps);
        put(&t, ",");
        put_csv_string(&t, r->mlffr_bottleneck);
        put(&t, "\n");
    }
    if (t.oom) {
        free(t.buf);
        return NULL;
    }
    return t.buf;
}

char *sweep_table_json(const struct sweep_spec *s, const struct sweep_job *jobs,
                       const struct sweep_row *rows, int n)
{
    struct util_json *w = util_json_new();
    util_json_object_begin(w);
    util_json_key(w, "rows");
    util_json_array_begin(w);
    for (int i = 0; i < n; i++) {
        const struct sweep_job *j = &jobs[i];
        util_json_object_begin(w);
        util_json_key(w, "key");
        util_json_string(w, j->key);
        util_json_key(w, "nf");
        util_json_string(w, s->nf[j->nf]);
        util_json_key(w, "nic");
        util_json_string(w, s->nic[j->nic]);
        util_json_key(w, "cores");
        util_json_int(w, s->cores[j->cores]);
        util_json_key(w, "trace");
        util_json_string(w, s->trace[j->trace]);
        util_json_key(w, "rate");
        util_json_string(w, s->rate[j->rate].label);
        write_row_fields(w, &rows[i]);
        util_json_object_end(w);
    }
    util_json_array_end(w);
    util_json_object_end(w);
    return take_text(w);
}
