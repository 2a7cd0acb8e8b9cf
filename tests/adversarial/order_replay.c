/*
 * order_replay.c - a second opinion for BASELINE.md: replays a capture through
 * an NF twice in ONE thread, in capture order - sequentially on one instance,
 * then on the plan's per-core instances (rt_instantiate with the plan's
 * modes, each packet on the core the plan's key and RETA pick, writers of
 * shared state under every token) - and counts packets whose verdict or
 * output bytes differ. Capture order is a valid serialisation of a parallel
 * run, so unlike a replay in lock-commit order it cannot make a sound plan
 * look unsound through packets replayed out of time order; what differs here
 * differs because of the plan (or a known limit: per-core allocator ranges,
 * per-core table capacity). Built once per adversarial NF as adv-replay-<nf>.
 *
 *   adv-replay-NF --plan plan.json --replay T [--lan CIDR] [--config N=V ...]
 *
 * Prints one line: packets, differences, plan violations, packets per core.
 * Exit: 0 no difference, 1 differences, 2 usage, 3 bad input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rss/rss.h"
#include "runtime/runtime.h"
#include "traces/traces.h"

#define MAX_CONFIGS 16

struct outcome {
    int verdict;
    uint32_t len;
    uint64_t digest;            /* FNV-1a of the output bytes */
};

static uint64_t fnv1a(const uint8_t *p, uint32_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static int start_nf(char **configs, int n_configs, struct util_error *err)
{
    rt_reset();
    for (int i = 0; i < n_configs; i++)
        if (rt_config_parse(configs[i], err) != 0)
            return -1;
    if (nf_init() != 0) {
        util_error_set(err, "nf_init failed (check the --config values)");
        return -1;
    }
    return 0;
}

static int instantiate(const struct rss_plan *plan, struct util_error *err)
{
    size_t n = rt_objects();
    enum rt_mode modes[256];
    if (n > 256) {
        util_error_set(err, "too many objects");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        struct rt_object_info info;
        rt_object_info(i, &info);
        modes[i] = RT_SHARED;                   /* not in the plan: shared */
        for (int k = 0; k < plan->deps.n_objects; k++)
            if (strcmp(plan->deps.objects[k].name, info.name) == 0)
                modes[i] = plan->deps.objects[k].decision == DEPS_SHARDED ? RT_SHARDED
                           : plan->deps.objects[k].decision == DEPS_REPLICATED ? RT_REPLICATED
                                                                                : RT_SHARED;
    }
    return rt_instantiate(plan->cores, modes, err);
}

/* Runs every packet of the source; parallel when plan is given. */
static int run(struct trace_source_options *src, const struct rss_plan *plan,
               struct outcome **out, size_t *n_out, uint64_t *per_core, struct util_error *err)
{
    struct rss_port_hasher hashers[DEPS_MAX_PORTS];
    bool writes_shared[DEPS_MAX_PORTS] = {false};
    if (plan) {
        for (int i = 0; i < plan->n_ports; i++)
            rss_port_hasher_init(&hashers[i], &plan->ports[i]);
        for (int i = 0; i < plan->deps.n_accesses; i++) {
            const struct deps_access *a = &plan->deps.accesses[i];
            if (a->object >= 0 && a->port >= 0 && a->port < DEPS_MAX_PORTS &&
                plan->deps.objects[a->object].decision == DEPS_SHARED && a->op != DEPS_OP_READ)
                writes_shared[a->port] = true;
        }
    }
    struct trace_source *s = trace_source_open(src, err);
    if (!s)
        return -1;
    static uint8_t buf[65536];
    struct trace_packet p;
    size_t cap = 0, n = 0;
    int rc;
    while ((rc = trace_source_next(s, &p, err)) == 1) {
        if (n == cap) {
            cap = cap ? 2 * cap : 4096;
            struct outcome *grown = realloc(*out, cap * sizeof **out);
            if (!grown) {
                util_error_set(err, "out of memory");
                rc = -1;
                break;
            }
            *out = grown;
        }
        memcpy(buf, p.data, p.cap_len);
        struct nf_packet pkt = {buf, p.cap_len, p.port, p.time_ns};
        int core = 0;
        if (plan) {
            int i = 0;
            while (i < plan->n_ports && plan->ports[i].port != p.port)
                i++;
            core = i < plan->n_ports ? rss_port_hasher_core(&hashers[i], &p.tuple) : 0;
            if (core < 0 || core >= plan->cores)
                core = 0;
            per_core[core]++;
            rt_packet_begin(core, p.port < DEPS_MAX_PORTS ? writes_shared[p.port] : true);
        }
        int verdict = nf_process(&pkt);
        if (plan)
            rt_packet_end(core);
        (*out)[n++] = (struct outcome){verdict, pkt.len, fnv1a(buf, pkt.len)};
    }
    trace_source_close(s);
    *n_out = n;
    return rc < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
    struct trace_source_options src;
    memset(&src, 0, sizeof src);
    const char *plan_path = NULL;
    char *configs[MAX_CONFIGS];
    int n_configs = 0;
    struct util_error err;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) {
            fprintf(stderr, "usage: %s --plan P --replay T [--lan CIDR] [--config N=V]\n",
                    argv[0]);
            return 2;
        }
        const char *v = argv[++i];
        int bad = 0;
        if (strcmp(a, "--plan") == 0)
            plan_path = v;
        else if (strcmp(a, "--replay") == 0)
            bad = trace_options_add_file(&src, v, &err);
        else if (strcmp(a, "--lan") == 0)
            bad = trace_options_add_lan(&src, v, &err);
        else if (strcmp(a, "--config") == 0 && n_configs < MAX_CONFIGS)
            configs[n_configs++] = (char *)v;
        else {
            fprintf(stderr, "%s: unknown option '%s'\n", argv[0], a);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "%s: %s\n", argv[0], err.msg);
            return 2;
        }
    }
    struct rss_plan plan;
    if (!plan_path || src.n_inputs == 0) {
        fprintf(stderr, "%s: --plan and --replay are required\n", argv[0]);
        return 2;
    }
    if (rss_plan_read(plan_path, &plan, &err) != 0) {
        fprintf(stderr, "%s: %s\n", argv[0], err.msg);
        return 3;
    }
    rt_set_abort_on_violation(false);
    struct outcome *seq = NULL, *par = NULL;
    size_t n_seq = 0, n_par = 0;
    uint64_t per_core[RT_MAX_CORES] = {0};
    int rc = 3;
    if (start_nf(configs, n_configs, &err) != 0 || run(&src, NULL, &seq, &n_seq, NULL, &err) ||
        start_nf(configs, n_configs, &err) != 0 || instantiate(&plan, &err) != 0 ||
        run(&src, &plan, &par, &n_par, per_core, &err)) {
        fprintf(stderr, "%s: %s\n", argv[0], err.msg);
    } else {
        struct rt_stats st;
        rt_stats(&st);
        size_t differ = 0;
        for (size_t i = 0; i < n_seq && i < n_par; i++)
            differ += seq[i].verdict != par[i].verdict || seq[i].len != par[i].len ||
                      seq[i].digest != par[i].digest;
        printf("packets %zu differences %zu violations %llu cores", n_seq, differ,
               (unsigned long long)st.plan_violations);
        for (int c = 0; c < plan.cores; c++)
            printf(" %llu", (unsigned long long)per_core[c]);
        printf("\n");
        rc = differ || n_seq != n_par ? 1 : 0;
    }
    free(seq);
    free(par);
    rss_plan_free(&plan);
    rt_reset();
    return rc;
}
