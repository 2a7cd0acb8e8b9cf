/*
 * manifest.c - manifest.json read back (schema rsskey-manifest/1), and the
 * test that a manifest was made from a given plan: what `rsskey report
 * --manifest` shows and refuses.
 */
#include "deploy/deploy_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const struct util_jvalue *member(const struct util_jvalue *obj, const char *key,
                                        enum util_jtype type, const char *path,
                                        const char *where, struct util_error *err)
{
    const struct util_jvalue *v = util_jobject_get(obj, key);
    if (!v || v->type != type) {
        util_error_set(err, "%s: %s: member \"%s\" is missing or has the wrong type; "
                       "regenerate the folder with 'rsskey deploy'", path, where, key);
        return NULL;
    }
    return v;
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int read_port(const struct util_jvalue *v, int index, const char *path,
                     struct deploy_manifest_port *out, struct util_error *err)
{
    char where[32];
    snprintf(where, sizeof where, "ports[%d]", index);
    const struct util_jvalue *port = member(v, "port", UTIL_JNUMBER, path, where, err);
    const struct util_jvalue *queues = port ? member(v, "queues", UTIL_JNUMBER, path, where, err) : NULL;
    const struct util_jvalue *key = queues ? member(v, "rss_key", UTIL_JSTRING, path, where, err) : NULL;
    const struct util_jvalue *hf = key ? member(v, "rss_hf", UTIL_JARRAY, path, where, err) : NULL;
    const struct util_jvalue *reta = hf ? member(v, "reta", UTIL_JARRAY, path, where, err) : NULL;
    if (!reta)
        return -1;
    out->port = util_jnumber_int(port->number);
    out->queues = util_jnumber_int(queues->number);
    const struct util_jvalue *dev = util_jobject_get(v, "dev");
    if (dev && dev->type == UTIL_JSTRING)
        snprintf(out->dev, sizeof out->dev, "%s", dev->string);
    size_t n = strlen(key->string);
    if (n != 80 && n != 104) {
        util_error_set(err, "%s: %s.rss_key has %zu hex digits, not 80 or 104", path, where, n);
        return -1;
    }
    out->rss.key_len = (int)n / 2;
    for (int i = 0; i < out->rss.key_len; i++) {
        int hi = hex_digit(key->string[2 * i]), lo = hex_digit(key->string[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            util_error_set(err, "%s: %s.rss_key: byte %d is not lower-case hex", path, where, i);
            return -1;
        }
        out->rss.key[i] = (uint8_t)(hi << 4 | lo);
    }
    for (size_t i = 0; i < hf->count; i++) {
        uint64_t bit = hf->items[i].type == UTIL_JSTRING ? rss_hf_from_name(hf->items[i].string) : 0;
        if (!bit) {
            util_error_set(err, "%s: %s.rss_hf[%zu] is not a DPDK RSS flag name", path, where, i);
            return -1;
        }
        out->rss.rss_hf |= bit;
    }
    size_t size = reta->count;
    if (size < 1 || size > RSS_RETA_MAX) {
        util_error_set(err, "%s: %s.reta has %zu entries (1..%d)", path, where, size, RSS_RETA_MAX);
        return -1;
    }
    out->rss.reta_size = (uint32_t)size;
    for (size_t i = 0; i < size; i++) {
        const struct util_jvalue *e = &reta->items[i];
        if (e->type != UTIL_JNUMBER || e->number < 0 || e->number > 65535) {
            util_error_set(err, "%s: %s.reta[%zu] is not a queue number", path, where, i);
            return -1;
        }
        out->rss.reta[i] = (uint16_t)e->number;
    }
    out->rss.port = out->port;
    return 0;
}

static void copy_string(char *dst, size_t size, const struct util_jvalue *obj, const char *key)
{
    const struct util_jvalue *v = util_jobject_get(obj, key);
    snprintf(dst, size, "%s", v && v->type == UTIL_JSTRING ? v->string : "");
}

int deploy_manifest_read(const char *path_in, struct deploy_manifest *m, struct util_error *err)
{
    memset(m, 0, sizeof *m);
    struct stat st;
    if (stat(path_in, &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(m->path, sizeof m->path, "%s/%s", path_in, DEPLOY_MANIFEST_FILE);
    else
        snprintf(m->path, sizeof m->path, "%s", path_in);
    const char *path = m->path;
    size_t len;
    char *text = util_read_file(path, &len, err);
    if (!text)
        return UTIL_EXIT_IO;
    struct util_jvalue *root = util_json_parse(text, len, path, err);
    free(text);
    if (!root)
        return UTIL_EXIT_INPUT;
    int rc = UTIL_EXIT_INPUT;
    const struct util_jvalue *schema = member(root, "schema", UTIL_JSTRING, path, "manifest", err);
    if (!schema)
        goto out;
    if (strcmp(schema->string, DEPLOY_MANIFEST_SCHEMA) != 0) {
        util_error_set(err, "%s: schema is \"%s\", expected \"%s\" (is this a manifest.json "
                       "written by 'rsskey deploy'?)", path, schema->string, DEPLOY_MANIFEST_SCHEMA);
        goto out;
    }
    const struct util_jvalue *plan = member(root, "plan", UTIL_JOBJECT, path, "manifest", err);
    const struct util_jvalue *nf = plan ? member(root, "nf", UTIL_JOBJECT, path, "manifest", err) : NULL;
    const struct util_jvalue *nic = nf ? member(root, "nic", UTIL_JOBJECT, path, "manifest", err) : NULL;
    const struct util_jvalue *cores = nic ? member(root, "cores", UTIL_JNUMBER, path, "manifest", err) : NULL;
    const struct util_jvalue *ports = cores ? member(root, "ports", UTIL_JARRAY, path, "manifest", err) : NULL;
    const struct util_jvalue *sha = ports ? member(plan, "sha256", UTIL_JSTRING, path, "plan", err) : NULL;
    if (!sha)
        goto out;
    copy_string(m->rsskey_version, sizeof m->rsskey_version, root, "rsskey_version");
    copy_string(m->plan_path, sizeof m->plan_path, plan, "path");
    snprintf(m->plan_sha256, sizeof m->plan_sha256, "%s", sha->string);
    copy_string(m->nf, sizeof m->nf, nf, "name");
    copy_string(m->nf_sha256, sizeof m->nf_sha256, nf, "bitcode_sha256");
    copy_string(m->nic, sizeof m->nic, nic, "profile");
    m->cores = util_jnumber_int(cores->number);
    if (ports->count < 1 || ports->count > DEPS_MAX_PORTS || m->cores < 1) {
        util_error_set(err, "%s: needs cores >= 1 and 1..%d ports", path, DEPS_MAX_PORTS);
        goto out;
    }
    m->n_ports = (int)ports->count;
    for (int p = 0; p < m->n_ports; p++)
        if (read_port(&ports->items[p], p, path, &m->ports[p], err))
            goto out;
    const struct util_jvalue *files = util_jobject_get(root, "files");
    for (size_t i = 0; files && files->type == UTIL_JARRAY && i < files->count &&
                       m->n_files < DEPLOY_MAX_FILES; i++)
        if (files->items[i].type == UTIL_JSTRING)
            snprintf(m->files[m->n_files++], sizeof m->files[0], "%s", files->items[i].string);
    const struct util_jvalue *checks = util_jobject_get(root, "checks");
    const struct util_jvalue *re = checks ? util_jobject_get(checks, "independent_recheck") : NULL;
    const struct util_jvalue *passed = re ? util_jobject_get(re, "passed") : NULL;
    m->recheck_passed = passed && passed->type == UTIL_JBOOL && passed->boolean;
    const struct util_jvalue *limits = util_jobject_get(root, "limits");
    const struct util_jvalue *tp = limits ? util_jobject_get(limits, "testpmd_sets_rss_hf") : NULL;
    m->testpmd_sets_rss_hf = tp && tp->type == UTIL_JBOOL && tp->boolean;
    rc = UTIL_EXIT_OK;
out:
    util_jvalue_free(root);
    return rc;
}

int deploy_manifest_matches(const struct deploy_manifest *m, const struct rss_plan *plan,
                            const char *plan_sha256, struct util_error *err)
{
    if (strcmp(m->plan_sha256, plan_sha256) != 0) {
        util_error_set(err, "%s was made from another plan (%s, sha256 %.16s...), not this one "
                       "(sha256 %.16s...): deploy this plan with 'rsskey deploy', or report on "
                       "the plan the manifest names", m->path, m->plan_path, m->plan_sha256,
                       plan_sha256);
        return UTIL_EXIT_INPUT;
    }
    if (m->n_ports != plan->n_ports || m->cores != plan->cores) {
        util_error_set(err, "%s: %d ports and %d cores, the plan %d and %d", m->path,
                       m->n_ports, m->cores, plan->n_ports, plan->cores);
        return UTIL_EXIT_INPUT;
    }
    for (int p = 0; p < plan->n_ports; p++) {
        const struct rss_port_config *a = &m->ports[p].rss, *b = &plan->ports[p];
        if (a->key_len != b->key_len || memcmp(a->key, b->key, (size_t)a->key_len) != 0 ||
            a->rss_hf != b->rss_hf || a->reta_size != b->reta_size ||
            memcmp(a->reta, b->reta, sizeof a->reta[0] * a->reta_size) != 0) {
            util_error_set(err, "%s: port %d's key, rss_hf or RETA differs from the plan's "
                           "(the manifest was edited?): regenerate it with 'rsskey deploy'",
                           m->path, p);
            return UTIL_EXIT_INPUT;
        }
    }
    return UTIL_EXIT_OK;
}
