/*
 * plan_json.c - plan.json (schema "rsskey-plan/1", docs/plan-format.md):
 * the per-port keys, rss_hf and RETA, the analysis members written by
 * deps/, and the quality figures; written atomically and read back.
 */
#include "rss/rss_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void write_hex(struct util_json *w, const uint8_t *b, int n)
{
    char buf[2 * RSS_KEY_MAX + 1];
    for (int i = 0; i < n; i++)
        snprintf(buf + 2 * i, 3, "%02x", b[i]);
    buf[2 * n] = '\0';
    util_json_string(w, buf);
}

static void write_quality(const struct rss_plan *plan, struct util_json *w)
{
    char name[48];
    util_json_key(w, "quality");
    util_json_object_begin(w);
    util_json_key(w, "ports");
    util_json_array_begin(w);
    for (int p = 0; p < plan->n_ports; p++) {
        const struct rss_port_quality *q = &plan->quality.ports[p];
        util_json_object_begin(w);
        util_json_key(w, "port");
        util_json_int(w, p);
        util_json_key(w, "fields");
        util_json_array_begin(w);
        for (int i = 0; i < q->n_fields; i++) {
            const struct rss_field_quality *f = &q->fields[i];
            util_json_object_begin(w);
            util_json_key(w, "field");
            util_json_string(w, rss_field_name(f->field, name, sizeof name));
            util_json_key(w, "rank");
            util_json_int(w, f->rank);
            util_json_key(w, "best_rank");
            util_json_int(w, f->best);
            /* The field's 8 lowest bits alone (e.g. the last octet of an address). */
            util_json_key(w, "rank_low8");
            util_json_int(w, f->rank_low8);
            util_json_key(w, "best_rank_low8");
            util_json_int(w, f->best_low8);
            /* Sweeping the field's 16 low bits reaches 2^rank buckets evenly. */
            util_json_key(w, "bucket_coverage");
            util_json_double(w, ldexp(1.0, f->rank) / plan->ports[p].reta_size);
            util_json_key(w, "max_mean");
            util_json_double(w, plan->ports[p].reta_size / ldexp(1.0, f->rank));
            util_json_object_end(w);
        }
        util_json_array_end(w);
        util_json_object_end(w);
    }
    util_json_array_end(w);
    const struct rss_reta_quality *r = &plan->quality.reta;
    util_json_key(w, "reta");
    util_json_object_begin(w);
    util_json_key(w, "tuned_on_trace");
    util_json_bool(w, r->trained);
    if (r->trained) {
        util_json_key(w, "train_packets");
        util_json_uint(w, r->train_packets);
        util_json_key(w, "test_packets");
        util_json_uint(w, r->test_packets);
        util_json_key(w, "unhashed_packets");
        util_json_uint(w, r->unhashed_packets);
        util_json_key(w, "train_max_mean");
        util_json_double(w, r->train_max_mean);
        util_json_key(w, "max_mean");
        util_json_double(w, r->tuned_max_mean);
        util_json_key(w, "default_max_mean");
        util_json_double(w, r->default_max_mean);
        util_json_key(w, "lower_bound_max_mean");
        util_json_double(w, r->lower_bound_max_mean);
        /* Which table the ports' "reta" holds: "round-robin" when the tuned
         * one was worse on the held-back packets (max_mean > default_max_mean). */
        util_json_key(w, "kept");
        util_json_string(w, r->kept_round_robin ? "round-robin" : "tuned");
    }
    util_json_object_end(w);
    util_json_key(w, "solver_rounds");
    util_json_int(w, plan->quality.solver_rounds);
    util_json_key(w, "seconds");
    util_json_double(w, plan->quality.seconds);
    util_json_object_end(w);
}

void rss_plan_write_json(const struct rss_plan *plan, struct util_json *w)
{
    util_json_object_begin(w);
    util_json_key(w, "schema");
    util_json_string(w, "rsskey-plan/1");
    util_json_key(w, "rsskey_version");     /* rsskey build refuses a plan of another */
    util_json_string(w, RSSKEY_VERSION);
    util_json_key(w, "nic");
    util_json_string(w, plan->nic);
    if (plan->nf_sha256[0]) {
        util_json_key(w, "nf_sha256");
        util_json_string(w, plan->nf_sha256);
    }
    util_json_key(w, "cores");
    util_json_int(w, plan->cores);
    util_json_key(w, "ports");
    util_json_array_begin(w);
    for (int p = 0; p < plan->n_ports; p++) {
        const struct rss_port_config *c = &plan->ports[p];
        util_json_object_begin(w);
        util_json_key(w, "port");
        util_json_int(w, c->port);
        util_json_key(w, "rss_key");
        write_hex(w, c->key, c->key_len);
        util_json_key(w, "rss_hf");
        util_json_array_begin(w);
        const char *names[24];
        int n = rss_hf_names(c->rss_hf, names, 24);
        for (int i = 0; i < n; i++)
            util_json_string(w, names[i]);
        util_json_array_end(w);
        util_json_key(w, "rss_hf_value");
        util_json_uint(w, c->rss_hf);
        util_json_key(w, "reta_size");
        util_json_uint(w, c->reta_size);
        util_json_key(w, "reta");
        util_json_array_begin_compact(w);
        for (uint32_t i = 0; i < c->reta_size; i++)
            util_json_int(w, c->reta[i]);
        util_json_array_end(w);
        util_json_object_end(w);
    }
    util_json_array_end(w);
    deps_plan_write_json(&plan->deps, w);
    write_quality(plan, w);
    util_json_object_end(w);
}

int rss_plan_write(const struct rss_plan *plan, const char *path, struct util_error *err)
{
    struct util_json *w = util_json_new();
    if (!w) {
        util_error_set(err, "out of memory writing the plan");
        return UTIL_EXIT_FAILURE;
    }
    rss_plan_write_json(plan, w);
    size_t len;
    const char *text = util_json_text(w, &len);     /* ends with a newline */
    int rc = util_write_file_atomic(path, text, len, err) ? UTIL_EXIT_IO : UTIL_EXIT_OK;
    util_json_free(w);
    return rc;
}

/* ---- Reading ------------------------------------------------------------------------------ */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static const struct util_jvalue *need(const struct util_jvalue *obj, const char *key,
                                      enum util_jtype type, const char *path, const char *where,
                                      struct util_error *err)
{
    const struct util_jvalue *v = util_jobject_get(obj, key);
    if (!v || v->type != type) {
        util_error_set(err, "%s: %s: member \"%s\" is missing or has the wrong type; "
                       "regenerate the plan with 'rsskey synth'", path, where, key);
        return NULL;
    }
    return v;
}

static int read_port(const struct util_jvalue *v, int index, const char *path,
                     struct rss_port_config *c, struct util_error *err)
{
    char where[32];
    snprintf(where, sizeof where, "ports[%d]", index);
    if (v->type != UTIL_JOBJECT) {
        util_error_set(err, "%s: %s is not an object", path, where);
        return -1;
    }
    const struct util_jvalue *port = need(v, "port", UTIL_JNUMBER, path, where, err);
    const struct util_jvalue *key = port ? need(v, "rss_key", UTIL_JSTRING, path, where, err) : NULL;
    const struct util_jvalue *hf = key ? need(v, "rss_hf_value", UTIL_JNUMBER, path, where, err) : NULL;
    const struct util_jvalue *reta = hf ? need(v, "reta", UTIL_JARRAY, path, where, err) : NULL;
    if (!reta)
        return -1;
    c->port = util_jnumber_int(port->number);
    size_t n = strlen(key->string);
    if ((n != 80 && n != 104)) {
        util_error_set(err, "%s: %s.rss_key has %zu hex digits; a key is 40 or 52 bytes "
                       "(80 or 104 digits)", path, where, n);
        return -1;
    }
    c->key_len = (int)n / 2;
    for (int i = 0; i < c->key_len; i++) {
        int hi = hex_value(key->string[2 * i]), lo = hex_value(key->string[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            util_error_set(err, "%s: %s.rss_key: '%c%c' at byte %d is not hex", path, where,
                           key->string[2 * i], key->string[2 * i + 1], i);
            return -1;
        }
        c->key[i] = (uint8_t)(hi << 4 | lo);
    }
    /* rss_hf_value is exact up to 2^53; the flag names carry bits 60..63. */
    if (!util_jnumber_u64(hf->number, &c->rss_hf)) {
        util_error_set(err, "%s: %s.rss_hf_value must be a whole number from 0 to 2^64-1",
                       path, where);
        return -1;
    }
    const struct util_jvalue *names = util_jobject_get(v, "rss_hf");
    if (names && names->type == UTIL_JARRAY) {
        c->rss_hf = 0;
        for (size_t i = 0; i < names->count; i++)
            if (names->items[i].type == UTIL_JSTRING)
                c->rss_hf |= rss_hf_from_name(names->items[i].string);
    }
    size_t size = reta->count;
    if (size < 1 || size > RSS_RETA_MAX || (size & (size - 1))) {
        util_error_set(err, "%s: %s.reta has %zu entries; it must be a power of two up to %d",
                       path, where, size, RSS_RETA_MAX);
        return -1;
    }
    c->reta_size = (uint32_t)size;
    for (size_t i = 0; i < size; i++) {
        const struct util_jvalue *e = &reta->items[i];
        if (e->type != UTIL_JNUMBER || e->number < 0 || e->number > 65535) {
            util_error_set(err, "%s: %s.reta[%zu] is not a core number", path, where, i);
            return -1;
        }
        c->reta[i] = (uint16_t)e->number;
    }
    return 0;
}

static void read_quality(const struct util_jvalue *root, struct rss_plan *plan)
{
    const struct util_jvalue *q = util_jobject_get(root, "quality");
    if (!q)
        return;
    const struct util_jvalue *ports = util_jobject_get(q, "ports");
    for (size_t p = 0; ports && ports->type == UTIL_JARRAY && p < ports->count &&
                       p < DEPS_MAX_PORTS; p++) {
        const struct util_jvalue *fields = util_jobject_get(&ports->items[p], "fields");
        struct rss_port_quality *pq = &plan->quality.ports[p];
        for (size_t i = 0; fields && fields->type == UTIL_JARRAY && i < fields->count &&
                           pq->n_fields < RSS_MAX_QUALITY_FIELDS; i++) {
            const struct util_jvalue *f = &fields->items[i];
            const struct util_jvalue *name = util_jobject_get(f, "field");
            const struct util_jvalue *rank = util_jobject_get(f, "rank");
            const struct util_jvalue *best = util_jobject_get(f, "best_rank");
            if (!name || name->type != UTIL_JSTRING || !rank || !best)
                continue;
            struct rss_field_quality *fq = &pq->fields[pq->n_fields];
            if (ir_field_parse(name->string, &fq->field))
                continue;
            fq->version = rss_field_version(fq->field.id);
            fq->rank = util_jnumber_int(rank->number);
            fq->best = util_jnumber_int(best->number);
            const struct util_jvalue *rank8 = util_jobject_get(f, "rank_low8");
            const struct util_jvalue *best8 = util_jobject_get(f, "best_rank_low8");
            fq->rank_low8 = rank8 && rank8->type == UTIL_JNUMBER ? util_jnumber_int(rank8->number) : 0;
            fq->best_low8 = best8 && best8->type == UTIL_JNUMBER ? util_jnumber_int(best8->number) : 0;
            pq->n_fields++;
        }
    }
    /* Read back so that a plan re-written is the plan read. */
    const struct util_jvalue *rounds = util_jobject_get(q, "solver_rounds");
    if (rounds && rounds->type == UTIL_JNUMBER)
        plan->quality.solver_rounds = util_jnumber_int(rounds->number);
    const struct util_jvalue *secs = util_jobject_get(q, "seconds");
    if (secs && secs->type == UTIL_JNUMBER)
        plan->quality.seconds = secs->number;
    const struct util_jvalue *r = util_jobject_get(q, "reta");
    const struct util_jvalue *t = r ? util_jobject_get(r, "tuned_on_trace") : NULL;
    if (t && t->type == UTIL_JBOOL && t->boolean) {
        struct rss_reta_quality *rq = &plan->quality.reta;
        rq->trained = true;
#define NUM(field, key) do { const struct util_jvalue *x = util_jobject_get(r, key); \
        if (x && x->type == UTIL_JNUMBER) rq->field = x->number; } while (0)
        NUM(train_packets, "train_packets");
        NUM(test_packets, "test_packets");
        NUM(unhashed_packets, "unhashed_packets");
        NUM(train_max_mean, "train_max_mean");
        NUM(tuned_max_mean, "max_mean");
        NUM(default_max_mean, "default_max_mean");
        NUM(lower_bound_max_mean, "lower_bound_max_mean");
#undef NUM
        const struct util_jvalue *kept = util_jobject_get(r, "kept");
        rq->kept_round_robin = kept && kept->type == UTIL_JSTRING &&
                               strcmp(kept->string, "round-robin") == 0;
    }
}

int rss_plan_read(const char *path, struct rss_plan *plan, struct util_error *err)
{
    memset(plan, 0, sizeof *plan);
    size_t len;
    char *text = util_read_file(path, &len, err);
    if (!text)
        return UTIL_EXIT_IO;
    int rc = rss_plan_parse(text, len, path, plan, err);
    free(text);
    return rc;
}

int rss_plan_parse(const char *text, size_t len, const char *path, struct rss_plan *plan,
                   struct util_error *err)
{
    memset(plan, 0, sizeof *plan);
    struct util_jvalue *root = util_json_parse(text, len, path, err);
    if (!root)
        return UTIL_EXIT_INPUT;
    int rc = UTIL_EXIT_INPUT;
    const struct util_jvalue *schema = need(root, "schema", UTIL_JSTRING, path, "plan", err);
    if (!schema)
        goto out;
    if (strcmp(schema->string, "rsskey-plan/1") != 0) {
        util_error_set(err, "%s: schema is \"%s\", expected \"rsskey-plan/1\" (is this a "
                       "plan.json written by 'rsskey synth'?)", path, schema->string);
        goto out;
    }
    const struct util_jvalue *nic = need(root, "nic", UTIL_JSTRING, path, "plan", err);
    const struct util_jvalue *cores = nic ? need(root, "cores", UTIL_JNUMBER, path, "plan", err) : NULL;
    const struct util_jvalue *ports = cores ? need(root, "ports", UTIL_JARRAY, path, "plan", err) : NULL;
    if (!ports)
        goto out;
    snprintf(plan->nic, sizeof plan->nic, "%s", nic->string);
    const struct util_jvalue *sha = util_jobject_get(root, "nf_sha256");
    if (sha) {
        bool hex = sha->type == UTIL_JSTRING && strlen(sha->string) == 64;
        for (int i = 0; hex && i < 64; i++)
            hex = hex_value(sha->string[i]) >= 0;
        if (!hex) {
            util_error_set(err, "%s: plan: \"nf_sha256\" must be 64 hex digits (the SHA-256 "
                           "of the NF bitcode); regenerate the plan with 'rsskey synth'", path);
            goto out;
        }
        snprintf(plan->nf_sha256, sizeof plan->nf_sha256, "%s", sha->string);
    }
    const struct util_jvalue *version = util_jobject_get(root, "rsskey_version");
    if (version && version->type != UTIL_JSTRING) {
        util_error_set(err, "%s: plan: \"rsskey_version\" must be a string (the rsskey that "
                       "wrote the plan); regenerate the plan with 'rsskey synth'", path);
        goto out;
    }
    if (version)
        snprintf(plan->rsskey_version, sizeof plan->rsskey_version, "%s", version->string);
    plan->cores = util_jnumber_int(cores->number);
    if (plan->cores < 1 || ports->count < 1 || ports->count > DEPS_MAX_PORTS) {
        util_error_set(err, "%s: needs cores >= 1 and 1..%d ports (has %d cores, %zu ports)",
                       path, DEPS_MAX_PORTS, plan->cores, ports->count);
        goto out;
    }
    plan->n_ports = (int)ports->count;
    for (int p = 0; p < plan->n_ports; p++)
        if (read_port(&ports->items[p], p, path, &plan->ports[p], err))
            goto out;
    /* Readers look a port's configuration up by its number (the launcher's
     * port p is DPDK port p): a plan of n ports numbers them 0..n-1, each
     * once, as synth writes them. */
    bool seen[DEPS_MAX_PORTS] = {false};
    for (int p = 0; p < plan->n_ports; p++) {
        int number = plan->ports[p].port;
        if (number < 0 || number >= plan->n_ports || seen[number]) {
            util_error_set(err, "%s: ports[%d].port is %d; a plan of %d ports numbers them "
                           "0 to %d, each once (as rsskey synth writes them): fix the number "
                           "or make the plan again", path, p, number, plan->n_ports,
                           plan->n_ports - 1);
            goto out;
        }
        seen[number] = true;
    }
    for (int p = 0; p < plan->n_ports; p++)
        for (uint32_t i = 0; i < plan->ports[p].reta_size; i++)
            if (plan->ports[p].reta[i] >= plan->cores) {
                util_error_set(err, "%s: ports[%d].reta[%u] = %u but the plan has %d cores",
                               path, p, i, plan->ports[p].reta[i], plan->cores);
                goto out;
            }
    struct util_error derr;
    if (deps_plan_read_json(root, &plan->deps, &derr)) {
        util_error_set(err, "%s: %s", path, derr.msg);
        goto out;
    }
    read_quality(root, plan);
    rc = UTIL_EXIT_OK;
out:
    util_jvalue_free(root);
    if (rc != UTIL_EXIT_OK)
        memset(plan, 0, sizeof *plan);
    return rc;
}

void rss_plan_free(struct rss_plan *plan)
{
    if (!plan)
        return;
    deps_plan_free(&plan->deps);
}

int rss_plan_check_version(const struct rss_plan *plan, const char *path, const char *doing,
                           struct util_error *err)
{
    if (!plan->rsskey_version[0] || strcmp(plan->rsskey_version, RSSKEY_VERSION) == 0)
        return 0;
    util_error_set(err, "%s was made by rsskey %s; this is rsskey %s. Make the plan again with "
                   "this rsskey (rsskey synth NF.bc -o %s), or %s with the rsskey that made it",
                   path, plan->rsskey_version, RSSKEY_VERSION, path, doing);
    return UTIL_EXIT_INPUT;
}
