/*
 * deploy.c - a plan checked against its NIC profile and the interfaces it
 * goes to, the deployment folder's files generated (manifest.json here; the
 * scripts in scripts.c, the C stubs in stubs.c), and the summary printed.
 */
#include "deploy/deploy_internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RECHECK_SEED 12345

void deploy_addf(struct deploy_text *t, const char *fmt, ...)
{
    if (t->out_of_memory)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->out_of_memory = true;
            return;
        }
        if (t->buf && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap * 2 : 16384;
        while (cap <= t->len + (size_t)n)
            cap *= 2;
        char *b = realloc(t->buf, cap);
        if (!b) {
            t->out_of_memory = true;
            return;
        }
        t->buf = b;
        t->cap = cap;
    }
}

uint32_t deploy_per_core_capacity(const struct deps_object *o, int cores)
{
    if (o->decision == DEPS_SHARDED && cores > 0 &&
        (o->kind == DEPS_KIND_MAP || o->kind == DEPS_KIND_ALLOC))
        return (uint32_t)(((uint64_t)o->capacity + (uint64_t)cores - 1) / (uint64_t)cores);
    return o->capacity;
}

const char *deploy_dev_name(const struct deploy_options *o, int p, char *buf, size_t size)
{
    if (p < o->n_devs)
        snprintf(buf, size, "%s", o->devs[p]);
    else
        snprintf(buf, size, "ETH%d", p);
    return buf;
}

static bool round_robin(const struct rss_port_config *c, int cores)
{
    for (uint32_t i = 0; i < c->reta_size; i++)
        if (c->reta[i] != i % (uint32_t)cores)
            return false;
    return true;
}

int deploy_check(const struct rss_plan *plan, const struct deploy_options *o,
                 struct deploy_facts *facts, struct util_error *err)
{
    memset(facts, 0, sizeof *facts);
    const char *path = o->plan_path;
    int rc = rss_plan_check_version(plan, path, "deploy", err);
    if (rc)
        return rc;
    if (strcasecmp(plan->nic, o->nic.name) != 0) {
        util_error_set(err, "%s was made for the NIC profile '%s', the profile given is '%s': "
                       "deploy with the plan's own profile, or synthesise a plan for this one "
                       "(rsskey synth --nic %s)", path, plan->nic, o->nic.name, o->nic.name);
        return UTIL_EXIT_INPUT;
    }
    for (int p = 0; p < plan->n_ports; p++) {
        const struct rss_port_config *c = &plan->ports[p];
        if (c->key_len != o->nic.key_len) {
            util_error_set(err, "%s: ports[%d].rss_key has %d bytes but the NIC profile '%s' "
                           "(%s) takes %d-byte keys: the plan does not fit the NIC it names; "
                           "regenerate it with 'rsskey synth --nic %s'", path, p, c->key_len,
                           o->nic.name, o->nic.model, o->nic.key_len, o->nic.name);
            return UTIL_EXIT_INPUT;
        }
        if (c->reta_size != o->nic.reta_size) {
            util_error_set(err, "%s: ports[%d].reta has %u entries but the NIC profile '%s' "
                           "(%s) has a %u-entry RETA: the plan does not fit the NIC it names; "
                           "regenerate it with 'rsskey synth --nic %s'", path, p, c->reta_size,
                           o->nic.name, o->nic.model, o->nic.reta_size, o->nic.name);
            return UTIL_EXIT_INPUT;
        }
        uint64_t extra = c->rss_hf & ~o->nic.hf_supported;
        if (extra) {
            const char *names[24];
            int n = rss_hf_names(extra, names, 24);
            util_error_set(err, "%s: ports[%d].rss_hf asks for %s (0x%llx), which the NIC "
                           "profile '%s' cannot hash; regenerate the plan with 'rsskey synth "
                           "--nic %s'", path, p, n ? names[0] : "unknown bits",
                           (unsigned long long)extra, o->nic.name, o->nic.name);
            return UTIL_EXIT_INPUT;
        }
        facts->reta_round_robin[p] = round_robin(c, plan->cores);
    }
    if (plan->cores > (int)o->nic.reta_size) {
        util_error_set(err, "%s: %d cores but the RETA has %u entries; use at most %u cores",
                       path, plan->cores, o->nic.reta_size, o->nic.reta_size);
        return UTIL_EXIT_INPUT;
    }
    if (o->n_devs && o->n_devs != plan->n_ports) {
        util_error_set(err, "--dev names %d interface%s but %s has %d port%s: give one "
                       "interface per plan port, in port order (--dev eth0,eth1)", o->n_devs,
                       o->n_devs == 1 ? "" : "s", path, plan->n_ports,
                       plan->n_ports == 1 ? "" : "s");
        return UTIL_EXIT_USAGE;
    }
    struct util_error cerr = {{0}};
    unsigned packets = o->check_packets ? o->check_packets : 10000;
    facts->recheck_passed = rss_plan_check(plan, RECHECK_SEED, (int)packets, &cerr) == 0;
    if (!facts->recheck_passed) {
        util_error_set(err, "%s: the independent re-check rejects the plan, so it is not "
                       "deployed: %s", path, cerr.msg);
        return UTIL_EXIT_FAILURE;
    }
    return UTIL_EXIT_OK;
}

/* ---- manifest.json ---------------------------------------------------------------- */

static void json_hex(struct util_json *w, const uint8_t *b, int n)
{
    char buf[2 * RSS_KEY_MAX + 1];
    for (int i = 0; i < n; i++)
        snprintf(buf + 2 * i, 3, "%02x", b[i]);
    buf[2 * n] = '\0';
    util_json_string(w, buf);
}

static void json_ports(const struct rss_plan *plan, const struct deploy_options *o,
                       const struct deploy_facts *f, struct util_json *w)
{
    util_json_key(w, "ports");
    util_json_array_begin(w);
    for (int p = 0; p < plan->n_ports; p++) {
        const struct rss_port_config *c = &plan->ports[p];
        util_json_object_begin(w);
        util_json_key(w, "port");
        util_json_int(w, c->port);
        util_json_key(w, "dev");
        if (p < o->n_devs)
            util_json_string(w, o->devs[p]);
        else
            util_json_null(w);
        util_json_key(w, "queues");
        util_json_int(w, plan->cores);
        util_json_key(w, "rss_key");
        json_hex(w, c->key, c->key_len);
        util_json_key(w, "rss_hf");
        util_json_array_begin(w);
        const char *names[24];
        int n = rss_hf_names(c->rss_hf, names, 24);
        for (int i = 0; i < n; i++)
            util_json_string(w, names[i]);
        util_json_array_end(w);
        char hex[24];
        snprintf(hex, sizeof hex, "0x%llx", (unsigned long long)c->rss_hf);
        util_json_key(w, "rss_hf_value");
        util_json_string(w, hex);
        util_json_key(w, "reta_size");
        util_json_uint(w, c->reta_size);
        util_json_key(w, "reta_round_robin");
        util_json_bool(w, f->reta_round_robin[p]);
        util_json_key(w, "reta");
        util_json_array_begin_compact(w);
        for (uint32_t i = 0; i < c->reta_size; i++)
            util_json_int(w, c->reta[i]);
        util_json_array_end(w);
        util_json_object_end(w);
    }
    util_json_array_end(w);
}

static void json_objects(const struct rss_plan *plan, struct util_json *w)
{
    util_json_key(w, "objects");
    util_json_array_begin(w);
    for (int i = 0; i < plan->deps.n_objects; i++) {
        const struct deps_object *obj = &plan->deps.objects[i];
        util_json_object_begin(w);
        util_json_key(w, "name");
        util_json_string(w, obj->name);
        util_json_key(w, "kind");
        util_json_string(w, deps_kind_name(obj->kind));
        util_json_key(w, "group");
        util_json_int(w, obj->group);
        util_json_key(w, "decision");
        util_json_string(w, deps_decision_name(obj->decision));
        util_json_key(w, "locked");
        util_json_bool(w, obj->decision == DEPS_SHARED);
        util_json_key(w, "capacity");
        util_json_uint(w, obj->capacity);
        util_json_key(w, "per_core_capacity");
        util_json_uint(w, deploy_per_core_capacity(obj, plan->cores));
        util_json_key(w, "reason");
        util_json_string(w, obj->reason);
        util_json_object_end(w);
    }
    util_json_array_end(w);
}

static void json_checks(const struct rss_plan *plan, const struct deploy_options *o,
                        const struct deploy_facts *f, struct util_json *w)
{
    util_json_key(w, "checks");
    util_json_object_begin(w);
    util_json_key(w, "independent_recheck");
    util_json_object_begin(w);
    util_json_key(w, "passed");
    util_json_bool(w, f->recheck_passed);
    util_json_key(w, "random_pairs");
    util_json_uint(w, o->check_packets ? o->check_packets : 10000);
    util_json_key(w, "seed");
    util_json_int(w, RECHECK_SEED);
    util_json_object_end(w);
    util_json_key(w, "nic_profile");
    util_json_object_begin(w);
    util_json_key(w, "key_len_matches");
    util_json_bool(w, true);
    util_json_key(w, "reta_size_matches");
    util_json_bool(w, true);
    util_json_key(w, "rss_hf_supported");
    util_json_bool(w, true);
    util_json_object_end(w);
    /* What plan.json records of its own checks and quality. */
    util_json_key(w, "spread");
    util_json_array_begin(w);
    for (int p = 0; p < plan->n_ports; p++)
        for (int i = 0; i < plan->quality.ports[p].n_fields; i++) {
            const struct rss_field_quality *q = &plan->quality.ports[p].fields[i];
            char name[48];
            util_json_object_begin(w);
            util_json_key(w, "port");
            util_json_int(w, p);
            util_json_key(w, "field");
            util_json_string(w, ir_field_format(q->field, name, sizeof name));
            util_json_key(w, "rank");
            util_json_int(w, q->rank);
            util_json_key(w, "best_rank");
            util_json_int(w, q->best);
            util_json_object_end(w);
        }
    util_json_array_end(w);
    const struct rss_reta_quality *r = &plan->quality.reta;
    util_json_key(w, "reta");
    util_json_object_begin(w);
    util_json_key(w, "tuned_on_trace");
    util_json_bool(w, r->trained);
    if (r->trained) {
        util_json_key(w, "max_mean");
        util_json_double(w, r->tuned_max_mean);
        util_json_key(w, "default_max_mean");
        util_json_double(w, r->default_max_mean);
    }
    util_json_object_end(w);
    util_json_key(w, "solver_rounds");
    util_json_int(w, plan->quality.solver_rounds);
    util_json_key(w, "warnings");
    util_json_array_begin(w);
    for (int i = 0; i < plan->deps.n_warnings; i++)
        util_json_string(w, plan->deps.warnings[i]);
    util_json_array_end(w);
    util_json_object_end(w);
}

static void write_manifest(const struct rss_plan *plan, const struct deploy_options *o,
                           const struct deploy_bundle *b, struct util_json *w)
{
    const struct deploy_facts *f = &b->facts;
    util_json_object_begin(w);
    util_json_key(w, "schema");
    util_json_string(w, DEPLOY_MANIFEST_SCHEMA);
    util_json_key(w, "rsskey_version");
    util_json_string(w, o->version);
    util_json_key(w, "plan");
    util_json_object_begin(w);
    util_json_key(w, "path");
    util_json_string(w, o->plan_path);
    util_json_key(w, "sha256");
    util_json_string(w, o->plan_sha256);
    util_json_object_end(w);
    util_json_key(w, "nf");
    util_json_object_begin(w);
    util_json_key(w, "name");
    util_json_string(w, plan->deps.nf);
    util_json_key(w, "bitcode_sha256");
    if (plan->nf_sha256[0])
        util_json_string(w, plan->nf_sha256);
    else
        util_json_null(w);
    util_json_object_end(w);
    util_json_key(w, "nic");
    util_json_object_begin(w);
    util_json_key(w, "profile");
    util_json_string(w, o->nic.name);
    util_json_key(w, "model");
    util_json_string(w, o->nic.model);
    util_json_key(w, "driver");
    util_json_string(w, o->nic.driver);
    util_json_key(w, "key_len");
    util_json_int(w, o->nic.key_len);
    util_json_key(w, "reta_size");
    util_json_uint(w, o->nic.reta_size);
    util_json_object_end(w);
    util_json_key(w, "cores");
    util_json_int(w, plan->cores);
    json_ports(plan, o, f, w);
    json_objects(plan, w);
    json_checks(plan, o, f, w);
    util_json_key(w, "files");
    util_json_array_begin(w);
    util_json_string(w, DEPLOY_MANIFEST_FILE);
    for (int i = 0; i < b->n_files; i++)
        util_json_string(w, b->files[i].name);
    util_json_array_end(w);
    util_json_key(w, "limits");
    util_json_object_begin(w);
    util_json_key(w, "dev_placeholders");
    util_json_bool(w, o->n_devs == 0);
    util_json_key(w, "testpmd_sets_rss_hf");
    util_json_bool(w, f->testpmd_sets_rss_hf);
    util_json_key(w, "ethtool_notes");
    util_json_int(w, f->ethtool_notes);
    util_json_object_end(w);
    util_json_object_end(w);
}

static int add_file(struct deploy_bundle *b, const char *name, struct deploy_text *t,
                    bool executable)
{
    if (t->out_of_memory || !t->buf) {
        free(t->buf);
        return -1;
    }
    b->texts[b->n_files] = t->buf;
    b->files[b->n_files] = (struct util_dir_file){name, t->buf, t->len, executable};
    b->n_files++;
    return 0;
}

int deploy_generate(const struct rss_plan *plan, const struct deploy_options *o,
                    struct deploy_bundle *out, struct util_error *err)
{
    struct deploy_bundle b;
    memset(&b, 0, sizeof b);
    int rc = deploy_check(plan, o, &b.facts, err);
    if (rc != UTIL_EXIT_OK)
        return rc;
    struct deploy_text eth = {0}, tp = {0}, hdr = {0}, src = {0};
    deploy_ethtool_sh(plan, o, &eth, &b.facts.ethtool_notes);
    deploy_testpmd_txt(plan, o, &tp, &b.facts.testpmd_sets_rss_hf);
    deploy_stub_header(plan, o, &hdr);
    deploy_stub_source(plan, o, &src);
    int bad = add_file(&b, "ethtool.sh", &eth, true);
    bad |= add_file(&b, "testpmd.txt", &tp, false);
    bad |= add_file(&b, "rsskey_plan.h", &hdr, false);
    bad |= add_file(&b, "rsskey_plan.c", &src, false);
    struct util_json *w = bad ? NULL : util_json_new();
    if (!w) {
        deploy_bundle_free(&b);
        util_error_set(err, "out of memory generating the deployment");
        return UTIL_EXIT_FAILURE;
    }
    write_manifest(plan, o, &b, w);
    size_t len;
    const char *text = util_json_text(w, &len);
    char *copy = malloc(len + 1);
    if (copy)
        memcpy(copy, text, len + 1);
    util_json_free(w);
    if (!copy) {
        deploy_bundle_free(&b);
        util_error_set(err, "out of memory generating the deployment");
        return UTIL_EXIT_FAILURE;
    }
    /* The manifest goes first in the folder listing. */
    for (int i = b.n_files; i > 0; i--) {
        b.files[i] = b.files[i - 1];
        b.texts[i] = b.texts[i - 1];
    }
    b.files[0] = (struct util_dir_file){DEPLOY_MANIFEST_FILE, copy, len, false};
    b.texts[0] = copy;
    b.n_files++;
    *out = b;
    return UTIL_EXIT_OK;
}

void deploy_bundle_free(struct deploy_bundle *b)
{
    for (int i = 0; i < b->n_files; i++)
        free(b->texts[i]);
    b->n_files = 0;
}

/* ---- Summary ------------------------------------------------------------------------ */

void deploy_print_summary(const struct rss_plan *plan, const struct deploy_options *o,
                          const struct deploy_bundle *b, const char *dir, FILE *out)
{
    const struct deploy_facts *f = &b->facts;
    fprintf(out, "deployment of %s written to %s/\n", plan->deps.nf[0] ? plan->deps.nf : o->plan_path,
            dir);
    if (plan->nf_sha256[0])
        fprintf(out, "  plan %s (sha256 %.16s...), bitcode sha256 %.16s...\n", o->plan_path,
                o->plan_sha256, plan->nf_sha256);
    else
        fprintf(out, "  plan %s (sha256 %.16s...), bitcode hash not in the plan (--plan-in or "
                "an older rsskey)\n", o->plan_path, o->plan_sha256);
    fprintf(out, "  NIC %s (%s): %d-byte key, %u-entry RETA; %d cores = %d queues per port\n",
            o->nic.name, o->nic.driver, o->nic.key_len, o->nic.reta_size, plan->cores,
            plan->cores);
    for (int p = 0; p < plan->n_ports; p++) {
        char dev[DEPLOY_DEV_MAX];
        const char *names[24];
        int n = rss_hf_names(plan->ports[p].rss_hf, names, 24);
        fprintf(out, "  port %d -> %-8s rss_hf", p, deploy_dev_name(o, p, dev, sizeof dev));
        for (int i = 0; i < n; i++)
            fprintf(out, " %s", names[i] + strlen("RTE_ETH_RSS_"));
        fprintf(out, "\n%20sRETA %s\n", "", f->reta_round_robin[p]
                    ? "round-robin (ethtool -X equal)"
                    : "tuned (ethtool.sh sets it with rsskey-reta-set)");
    }
    int count[3] = {0, 0, 0};
    for (int i = 0; i < plan->deps.n_objects; i++)
        count[plan->deps.objects[i].decision]++;
    fprintf(out, "  objects: %d sharded, %d replicated, %d shared under locks\n",
            count[DEPS_SHARDED], count[DEPS_REPLICATED], count[DEPS_SHARED]);
    fprintf(out, "  independent re-check: %s\n", f->recheck_passed ? "passed" : "FAILED");
    fprintf(out, "  files:");
    for (int i = 0; i < b->n_files; i++)
        fprintf(out, " %s", b->files[i].name);
    fprintf(out, "\n");
    if (o->n_devs == 0)
        fprintf(out, "  note: no --dev given: ethtool.sh names the interfaces ETH0..ETH%d "
                "and refuses\n        to run; rerun with --dev IF0,IF1\n", plan->n_ports - 1);
    if (!f->testpmd_sets_rss_hf)
        fprintf(out, "  note: testpmd.txt sets queues, key and RETA, not rss_hf (testpmd "
                "takes one\n        RSS type per command); rsskey_plan.c sets all three\n");
    if (f->ethtool_notes)
        fprintf(out, "  note: ethtool.sh has %d comment%s on what ethtool cannot express\n",
                f->ethtool_notes, f->ethtool_notes == 1 ? "" : "s");
}

void deploy_summary_json(const struct rss_plan *plan, const struct deploy_options *o,
                         const struct deploy_bundle *b, const char *dir, struct util_json *w)
{
    util_json_object_begin(w);
    util_json_key(w, "dir");
    util_json_string(w, dir);
    util_json_key(w, "manifest");
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, DEPLOY_MANIFEST_FILE);
    util_json_string(w, path);
    util_json_key(w, "files");
    util_json_array_begin(w);
    for (int i = 0; i < b->n_files; i++)
        util_json_string(w, b->files[i].name);
    util_json_array_end(w);
    util_json_key(w, "nf");
    util_json_string(w, plan->deps.nf);
    util_json_key(w, "nic");
    util_json_string(w, o->nic.name);
    util_json_key(w, "cores");
    util_json_int(w, plan->cores);
    util_json_key(w, "ports");
    util_json_array_begin(w);
    for (int p = 0; p < plan->n_ports; p++) {
        char dev[DEPLOY_DEV_MAX];
        util_json_object_begin(w);
        util_json_key(w, "port");
        util_json_int(w, p);
        util_json_key(w, "dev");
        util_json_string(w, deploy_dev_name(o, p, dev, sizeof dev));
        util_json_key(w, "reta_round_robin");
        util_json_bool(w, b->facts.reta_round_robin[p]);
        util_json_object_end(w);
    }
    util_json_array_end(w);
    util_json_key(w, "recheck_passed");
    util_json_bool(w, b->facts.recheck_passed);
    util_json_key(w, "dev_placeholders");
    util_json_bool(w, o->n_devs == 0);
    util_json_key(w, "testpmd_sets_rss_hf");
    util_json_bool(w, b->facts.testpmd_sets_rss_hf);
    util_json_key(w, "ethtool_notes");
    util_json_int(w, b->facts.ethtool_notes);
    util_json_object_end(w);
}
