/*
 * check.c - is this plan made for this NF? Before a runner is built, the plan
 * is read as the launcher reads it (schema rsskey-plan/1), its rsskey version
 * compared when it records one, and the bitcode analysed (ir/, deps/) with
 * the configuration the plan was made for: the analysis must find exactly
 * the plan's objects, each of the same kind, and each object the plan shards
 * keyed on the same fields per port. The launcher checks names and kinds at
 * run time; the keys are checked here too because only the analysis knows
 * them, and a plan whose keys hash other fields would run unsoundly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deps/deps.h"
#include "ir/ir.h"
#include "nfbuild/nfbuild.h"
#include "rss/rss.h"

#ifndef RSSKEY_VERSION
#define RSSKEY_VERSION "unknown"
#endif

static const struct deps_object *find_object(const struct deps_plan *p, const char *name)
{
    for (int i = 0; i < p->n_objects; i++)
        if (strcmp(p->objects[i].name, name) == 0)
            return &p->objects[i];
    return NULL;
}

/* "name kind, name kind" of a plan's objects, cut to size. */
static void list_objects(const struct deps_plan *p, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = 0; i < p->n_objects; i++) {
        size_t at = strlen(buf);
        if (at + 2 >= size)
            break;
        snprintf(buf + at, size - at, "%s%s %s", i ? ", " : "", p->objects[i].name,
                 deps_kind_name(p->objects[i].kind));
    }
    if (!buf[0])
        snprintf(buf, size, "nothing");
}

/* The first difference between the plan's objects and the analysis's, in
 * words; "" when they agree. */
static void compare_objects(const struct deps_plan *plan, const struct deps_plan *mine,
                            char *why, size_t size)
{
    why[0] = '\0';
    for (int i = 0; i < mine->n_objects && !why[0]; i++) {
        const struct deps_object *m = &mine->objects[i];
        const struct deps_object *p = find_object(plan, m->name);
        if (!p)
            snprintf(why, size, "the plan has no object '%s'", m->name);
        else if (p->kind != m->kind)
            snprintf(why, size, "'%s' is a %s in the plan but a %s in the bitcode", m->name,
                     deps_kind_name(p->kind), deps_kind_name(m->kind));
    }
    for (int i = 0; i < plan->n_objects && !why[0]; i++)
        if (!find_object(mine, plan->objects[i].name))
            snprintf(why, size, "the bitcode has no object '%s'", plan->objects[i].name);
    if (why[0])
        return;
    if (plan->n_ports != mine->n_ports) {
        snprintf(why, size, "the plan has %d input ports, the bitcode's analysis %d",
                 plan->n_ports, mine->n_ports);
        return;
    }
    for (int i = 0; i < plan->n_objects && !why[0]; i++) {
        const struct deps_object *p = &plan->objects[i];
        const struct deps_object *m = find_object(mine, p->name);
        if (p->decision != DEPS_SHARDED)
            continue;   /* shared or replicated objects impose no key on RSS */
        for (int port = 0; port < plan->n_ports && port < DEPS_MAX_PORTS; port++) {
            if (deps_key_equal(&p->ports[port], &m->ports[port]))
                continue;
            char a[256], b[256];
            deps_key_format(&p->ports[port], a, sizeof a);
            deps_key_format(&m->ports[port], b, sizeof b);
            snprintf(why, size, "'%s' is keyed on port %d by (%s) in the plan but by (%s) in "
                     "the bitcode", p->name, port, a[0] ? a : "nothing", b[0] ? b : "nothing");
            break;
        }
    }
}

/* This rsskey's analysis of the bitcode, with the configuration values the
 * plan was made for (those given to synth with --config; defaults are the
 * NF's own). */
static int analyse(const char *bitcode, const struct deps_plan *plan, struct deps_plan *out,
                   struct util_error *err)
{
    struct ir_config_value config[IR_MAX_CONFIG];
    int n_config = 0;
    for (int i = 0; i < plan->n_config && n_config < IR_MAX_CONFIG; i++) {
        if (!plan->config[i].from_user)
            continue;
        struct ir_config_value *c = &config[n_config++];
        memset(c, 0, sizeof *c);
        snprintf(c->name, sizeof c->name, "%s", plan->config[i].name);
        c->value = plan->config[i].value;
        c->from_user = true;
    }
    struct ir_nf nf;
    memset(&nf, 0, sizeof nf);
    memset(out, 0, sizeof *out);
    struct ir_options opts = {.ports = plan->n_ports, .n_config = n_config, .config = config};
    int rc = ir_analyze_file(bitcode, &opts, &nf, err);
    if (rc == 0) {
        struct deps_options dopts;
        deps_options_default(&dopts);
        dopts.ports = plan->n_ports;
        rc = deps_plan_build(&nf, &dopts, out, err);
    }
    ir_nf_free(&nf);
    return rc;
}

int nfbuild_check_plan(const char *bitcode, const char *plan_path, const char *text,
                       size_t len, struct util_error *err)
{
    struct rss_plan plan;
    int rc = rss_plan_parse(text, len, plan_path, &plan, err);
    if (rc)
        return rc;
    rc = rss_plan_check_version(&plan, plan_path, "build", err);
    if (rc) {
        rss_plan_free(&plan);
        return rc;
    }
    struct deps_plan mine;
    rc = analyse(bitcode, &plan.deps, &mine, err);
    if (rc == 0) {
        char why[1000];
        compare_objects(&plan.deps, &mine, why, sizeof why);
        if (why[0]) {
            char theirs[600], ours[600];
            list_objects(&plan.deps, theirs, sizeof theirs);
            list_objects(&mine, ours, sizeof ours);
            util_error_set(err, "%s is not a plan for %s: %s. The plan was made from %s, "
                           "whose state is %s; %s's state is %s. Make the plan from this "
                           "bitcode (rsskey synth %s -o PLAN.json) and build with it",
                           plan_path, bitcode, why, plan.deps.nf[0] ? plan.deps.nf : "another NF",
                           theirs, bitcode, ours, bitcode);
            rc = UTIL_EXIT_INPUT;
        }
    }
    deps_plan_free(&mine);
    rss_plan_free(&plan);
    return rc;
}
