/*
 * cmd_synth.c - `rsskey synth nf.bc`: analyse the NF (ir/, deps/), then
 * synthesise one RSS key, rss_hf and a shared RETA per port (rss/), check
 * them, and write plan.json. Parsing and printing only.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "deps/deps.h"
#include "ir/ir.h"
#include "rss/rss.h"
#include "util/util.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rsskey synth [options] NF.bc\n"
            "       rsskey synth [options] --plan-in ANALYSIS.json\n"
            "\n"
            "Analyse the NF and synthesise, for every input port, a Toeplitz RSS key, the\n"
            "rss_hf hash fields and one shared indirection table (RETA), so that packets\n"
            "sharing state meet on one core and load spreads. Keys are solved with Z3 and\n"
            "verified by an independent GF(2) and random-packet checker before writing.\n"
            "\n"
            "  --nic NAME          NIC profile (default x710; 'rsskey nics' lists them)\n"
            "  --nic-file FILE     NIC profile file (format: docs/rss.md)\n"
            "  --cores C           cores to spread over (default 4)\n"
            "  --trace T           tune the RETA on a pcap/pcapng trace (repeatable)\n"
            "  --lan CIDR[,CIDR]   packets from these sources arrive on port 0, others on 1\n"
            "                      (default: every trace packet on port 0)\n"
            "  --train-fraction F  leading part of the trace used for tuning (default 0.5);\n"
            "                      the rest measures the tuned and default tables\n"
            "  --reta-seconds S    local-search budget for the RETA (default 0.2)\n"
            "  --seed S            seed for the free key bits (default 1): same seed, same keys\n"
            "  --ports N           input ports to analyse (default: the NF's own, else 2)\n"
            "  --config NAME=VALUE analyse with this nf_config value instead of the NF's\n"
            "                      default (repeatable; the plan records what it assumed)\n"
            "  --plan-in FILE      take the analysis from 'rsskey analyze --json' output\n"
            "  -o, --output FILE   where to write the plan (default plan.json; - = stdout)\n"
            "  --json              print the plan JSON on standard output too\n"
            "  --strict            fail (exit 1, no plan written) when any object would run\n"
            "                      shared under locks, listing why\n"
            "  -h, --help          this help\n"
            "\n"
            "Exit codes: 0 ok, 1 checker rejected, 2 usage, 3 bad input, 4 I/O.\n");
}

static int parse_number(const char *opt, const char *v, double lo, double hi, double *out)
{
    char *end;
    if (!v) {
        cmd_error("synth", "%s needs a value", opt);
        return -1;
    }
    double d = strtod(v, &end);
    if (*end || end == v || d < lo || d > hi) {
        cmd_error("synth", "%s '%s': expected a number in %g..%g", opt, v, lo, hi);
        return -1;
    }
    *out = d;
    return 0;
}

static int load_analysis(const char *bitcode, const char *plan_in, int ports,
                         const struct ir_config_value *config, int n_config,
                         struct deps_plan *plan, struct util_error *err)
{
    memset(plan, 0, sizeof *plan);
    if (plan_in) {
        size_t len;
        char *text = util_read_file(plan_in, &len, err);
        if (!text)
            return UTIL_EXIT_IO;
        struct util_jvalue *root = util_json_parse(text, len, plan_in, err);
        free(text);
        if (!root)
            return UTIL_EXIT_INPUT;
        struct util_error derr;
        int rc = deps_plan_read_json(root, plan, &derr);
        util_jvalue_free(root);
        if (rc) {
            util_error_set(err, "%s: %s (expected the output of 'rsskey analyze --json')",
                           plan_in, derr.msg);
            return UTIL_EXIT_INPUT;
        }
        return UTIL_EXIT_OK;
    }
    struct ir_nf nf;
    memset(&nf, 0, sizeof nf);
    struct ir_options ir_opts = {.ports = ports, .n_config = n_config, .config = config};
    int rc = ir_analyze_file(bitcode, &ir_opts, &nf, err);
    if (rc == 0) {
        struct deps_options opts;
        deps_options_default(&opts);
        opts.ports = ports;
        rc = deps_plan_build(&nf, &opts, plan, err);
        if (rc)
            deps_plan_free(plan);
    }
    ir_nf_free(&nf);
    return rc;
}

/* Prints prefix + text, wrapped at 96 columns with a hanging indent. */
static void print_wrapped(const char *prefix, const char *text)
{
    int indent = (int)strlen(prefix), col = printf("%s", prefix);
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        int w = (int)strcspn(p, " ");
        if (w == 0)
            break;
        if (col > indent && col + 1 + w > 96)
            col = printf("\n%*s", indent + 2, "") - 1;
        else if (col > indent)
            col += printf(" ");
        col += printf("%.*s", w, p);
        p += w;
    }
    printf("\n");
}

static int shared_objects(const struct deps_plan *d)
{
    int n = 0;
    for (int o = 0; o < d->n_objects; o++)
        n += d->objects[o].decision == DEPS_SHARED;
    return n;
}

/* Shared objects cost every writer all cores' locks: say why, once per group
 * (the reason names the line and, where there is one, what to write instead). */
static void print_shared(const struct deps_plan *d)
{
    int shared = shared_objects(d);
    if (shared == 0)
        return;
    char line[160];
    snprintf(line, sizeof line, "%d of %d objects shared under locks%s; why, per group:",
             shared, d->n_objects,
             shared == d->n_objects ? " (every packet that writes state serialises the "
                                      "cores)" : "");
    print_wrapped("  ", line);
    for (int o = 0; o < d->n_objects; o++) {
        const struct deps_object *obj = &d->objects[o];
        bool first_of_group = obj->decision == DEPS_SHARED;
        for (int k = 0; k < o && first_of_group; k++)
            if (d->objects[k].group == obj->group && d->objects[k].decision == DEPS_SHARED)
                first_of_group = false;
        if (!first_of_group)
            continue;
        char head[96];
        snprintf(head, sizeof head, "    %s: ", obj->name);
        print_wrapped(head, obj->reason);
    }
}

static void print_summary(const struct rss_plan *plan, const struct rss_nic *nic,
                          const char *output)
{
    printf("%s on %s (%d-byte key, %u-entry RETA), %d cores: %.2f s, %d solver round%s\n",
           plan->deps.nf, nic->name, nic->key_len, nic->reta_size, plan->cores,
           plan->quality.seconds, plan->quality.solver_rounds,
           plan->quality.solver_rounds == 1 ? "" : "s");
    for (int p = 0; p < plan->n_ports; p++) {
        const struct rss_port_config *c = &plan->ports[p];
        const char *names[24];
        int n = rss_hf_names(c->rss_hf, names, 24);
        printf("  port %d  rss_hf", p);
        int col = 15;
        for (int i = 0; i < n; i++) {
            int w = (int)strlen(names[i]) - 12 + 1;
            if (col + w > 96) {
                printf("\n               ");
                col = 15;
            }
            printf(" %s", names[i] + 12);
            col += w;
        }
        printf("\n          key ");
        for (int i = 0; i < c->key_len; i++) {
            if (i == 26)
                printf("\n              ");
            printf("%02x", c->key[i]);
        }
        printf("\n          spread (rank of 16/8 low bits -> %d index bits):",
               plan->quality.ports[p].n_fields ? plan->quality.ports[p].fields[0].best : 0);
        for (int i = 0; i < plan->quality.ports[p].n_fields; i++) {
            const struct rss_field_quality *f = &plan->quality.ports[p].fields[i];
            char name[48];
            printf("%s %s %d/%d", i % 4 == 0 ? "\n           " : "",
                   ir_field_format(f->field, name, sizeof name), f->rank, f->rank_low8);
        }
        printf("\n");
    }
    for (int o = 0; o < plan->deps.n_objects; o++) {
        const struct deps_object *obj = &plan->deps.objects[o];
        int col = printf("  object %-16s %s", obj->name, deps_decision_name(obj->decision));
        for (int p = 0; p < plan->n_ports; p++) {
            if (obj->ports[p].count == 0 || obj->decision != DEPS_SHARDED)
                continue;
            char key[256];
            int used = snprintf(key, sizeof key, "  port %d:", p);
            for (int i = 0; i < obj->ports[p].count && used < (int)sizeof key; i++) {
                char name[48];
                used += snprintf(key + used, sizeof key - (size_t)used, "%s%s", i ? "," : " ",
                                 ir_field_format(obj->ports[p].fields[i], name, sizeof name));
            }
            for (int i = 0; i < obj->ports[p].count; i++)
                if (obj->ports[p].swaps_with[i] && used < (int)sizeof key) {
                    used += snprintf(key + used, sizeof key - (size_t)used, " (symmetric)");
                    break;
                }
            if (col + used > 96)
                col = printf("\n%27s", "") - 1;
            col += printf("%s", key);
        }
        printf("\n");
    }
    print_shared(&plan->deps);
    const struct rss_reta_quality *r = &plan->quality.reta;
    if (r->trained && r->kept_round_robin)
        printf("  RETA round-robin kept: the table tuned on %llu packets was worse on the %llu "
               "held back (max/mean %.3f, round-robin %.3f, best possible %.3f)\n",
               (unsigned long long)r->train_packets, (unsigned long long)r->test_packets,
               r->tuned_max_mean, r->default_max_mean, r->lower_bound_max_mean);
    else if (r->trained)
        printf("  RETA tuned on %llu packets; on the %llu held back: max/mean %.3f "
               "(round-robin %.3f, best possible %.3f)\n",
               (unsigned long long)r->train_packets, (unsigned long long)r->test_packets,
               r->tuned_max_mean, r->default_max_mean, r->lower_bound_max_mean);
    else
        printf("  RETA round-robin over %d cores, one table for every port\n", plan->cores);
    for (int i = 0; i < plan->deps.n_warnings; i++)
        print_wrapped("  warning: ", plan->deps.warnings[i]);
    /* The configuration the decisions depend on: the launcher refuses others. */
    char assumed[512] = "";
    size_t at = 0;
    for (int i = 0; i < plan->deps.n_config && at < sizeof assumed; i++) {
        const struct deps_config_value *c = &plan->deps.config[i];
        if (c->affects_plan)
            at += (size_t)snprintf(assumed + at, sizeof assumed - at, "%s%s=%llu%s",
                                   at ? ", " : "", c->name, (unsigned long long)c->value,
                                   c->from_user ? "" : " (default)");
    }
    if (assumed[0]) {
        char line[640];
        snprintf(line, sizeof line, "%s; the runner refuses other values (rsskey synth "
                 "--config NAME=VALUE makes a plan for them)", assumed);
        print_wrapped("  made for: ", line);
    }
    if (output && strcmp(output, "-") != 0)
        printf("wrote %s\n", output);
}

int cmd_synth(int argc, char **argv)
{
    const char *input = NULL, *plan_in = NULL, *output = "plan.json", *nic_name = NULL;
    const char *nic_file = NULL;
    bool json = false;
    int ports = 0, n_config = 0;
    bool strict = false;
    struct ir_config_value config[IR_MAX_CONFIG];
    struct rss_synth_options o;
    rss_synth_options_init(&o);
    struct trace_source_options trace;
    memset(&trace, 0, sizeof trace);
    struct util_error err = {{0}};
    enum { OPT_NIC = 256, OPT_NIC_FILE, OPT_CORES, OPT_SEED, OPT_TRAIN, OPT_RETA, OPT_PORTS,
           OPT_TRACE, OPT_LAN, OPT_CONFIG, OPT_PLAN_IN, OPT_JSON, OPT_STRICT };
    static const struct option longs[] = {
        {"help", no_argument, NULL, 'h'},          {"output", required_argument, NULL, 'o'},
        {"json", no_argument, NULL, OPT_JSON},     {"strict", no_argument, NULL, OPT_STRICT},
        {"nic", required_argument, NULL, OPT_NIC}, {"nic-file", required_argument, NULL, OPT_NIC_FILE},
        {"cores", required_argument, NULL, OPT_CORES},
        {"seed", required_argument, NULL, OPT_SEED},
        {"train-fraction", required_argument, NULL, OPT_TRAIN},
        {"reta-seconds", required_argument, NULL, OPT_RETA},
        {"ports", required_argument, NULL, OPT_PORTS},
        {"trace", required_argument, NULL, OPT_TRACE},
        {"lan", required_argument, NULL, OPT_LAN},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"plan-in", required_argument, NULL, OPT_PLAN_IN},
        {NULL, 0, NULL, 0}};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":ho:", longs, NULL)) != -1) {
        const char *v = optarg;
        double d;
        char *end;
        switch (c) {
        case 'h':
            usage(stdout);
            return UTIL_EXIT_OK;
        case 'o': output = v; break;
        case OPT_JSON: json = true; break;
        case OPT_STRICT: strict = true; break;
        case OPT_NIC: nic_name = v; break;
        case OPT_NIC_FILE: nic_file = v; break;
        case OPT_CORES:
            if (parse_number("--cores", v, 1, RSS_RETA_MAX, &d) || d != (int)d)
                return UTIL_EXIT_USAGE;
            o.cores = (int)d;
            break;
        case OPT_SEED:
            o.seed = strtoull(v, &end, 0);
            if (*end || end == v || *v == '-') {
                cmd_error("synth", "--seed '%s': expected an unsigned integer", v);
                return UTIL_EXIT_USAGE;
            }
            break;
        case OPT_TRAIN:
            if (parse_number("--train-fraction", v, 0.01, 0.99, &o.train_fraction))
                return UTIL_EXIT_USAGE;
            break;
        case OPT_RETA:
            if (parse_number("--reta-seconds", v, 0, 60, &o.reta_seconds))
                return UTIL_EXIT_USAGE;
            break;
        case OPT_PORTS:
            if (parse_number("--ports", v, 1, DEPS_MAX_PORTS, &d) || d != (int)d)
                return UTIL_EXIT_USAGE;
            ports = (int)d;
            break;
        case OPT_TRACE:
            if (trace_options_add_file(&trace, v, &err)) {
                cmd_error("synth", "--trace: %s", err.msg);
                return UTIL_EXIT_USAGE;
            }
            break;
        case OPT_LAN:
            if (trace_options_add_lan(&trace, v, &err)) {
                cmd_error("synth", "--lan: %s", err.msg);
                return UTIL_EXIT_USAGE;
            }
            break;
        case OPT_CONFIG:
            if (cmd_config_option("synth", v, config, &n_config, IR_MAX_CONFIG) != 0)
                return UTIL_EXIT_USAGE;
            break;
        case OPT_PLAN_IN: plan_in = v; break;
        case ':':
            cmd_error("synth", "%s needs a value; see 'rsskey synth --help'", argv[optind - 1]);
            return UTIL_EXIT_USAGE;
        default:
            cmd_error("synth", "unknown option '%s'; see 'rsskey synth --help'",
                      argv[optind - 1]);
            return UTIL_EXIT_USAGE;
        }
    }
    for (int i = optind; i < argc; i++) {
        if (!input) {
            input = argv[i];
        } else {
            cmd_error("synth", "more than one NF given ('%s' and '%s')", input, argv[i]);
            return UTIL_EXIT_USAGE;
        }
    }
    if (!input == !plan_in) {
        cmd_error("synth", input ? "give either NF.bc or --plan-in, not both"
                                 : "no NF given; usage: rsskey synth [options] NF.bc");
        return UTIL_EXIT_USAGE;
    }
    if (nic_name && nic_file) {
        cmd_error("synth", "--nic and --nic-file are exclusive");
        return UTIL_EXIT_USAGE;
    }
    if (nic_file) {
        int rc = rss_nic_read_file(nic_file, &o.nic, &err);
        if (rc) {
            cmd_error("synth", "%s", err.msg);
            return rc;
        }
    } else if (nic_name) {
        const struct rss_nic *nic = rss_nic_find(nic_name);
        if (!nic) {
            cmd_error("synth", "unknown NIC '%s'; 'rsskey nics' lists the profiles, or use "
                      "--nic-file", nic_name);
            return UTIL_EXIT_USAGE;
        }
        o.nic = *nic;
    }
    if (trace.n_lan && !trace.n_inputs) {
        cmd_error("synth", "--lan only makes sense with --trace");
        return UTIL_EXIT_USAGE;
    }
    if (trace.n_inputs)
        o.trace = &trace;
    const char *inputs[3 + TRACE_MAX_INPUTS] = {input, plan_in, nic_file};
    for (size_t i = 0; i < trace.n_inputs; i++)
        inputs[3 + i] = trace.inputs[i].path;
    if (cmd_output_is_input("synth", output, inputs, 3 + (int)trace.n_inputs))
        return UTIL_EXIT_USAGE;

    struct deps_plan analysis;
    if (plan_in && n_config > 0) {
        cmd_error("synth", "--config applies to the analysis; with --plan-in give it to "
                  "'rsskey analyze' instead");
        return UTIL_EXIT_USAGE;
    }
    int rc = load_analysis(input, plan_in, ports, config, n_config, &analysis, &err);
    if (rc) {
        cmd_error("synth", "%s", err.msg);
        return rc;
    }
    struct rss_plan plan;
    rc = rss_synthesize(&analysis, &o, &plan, &err);
    deps_plan_free(&analysis);
    if (rc) {
        cmd_error("synth", "%s", err.msg);
        return rc;
    }
    /* The bitcode's fingerprint: deploy and the manifest name what was analysed. */
    if (input && util_sha256_file(input, plan.nf_sha256, &err) != 0) {
        cmd_error("synth", "%s", err.msg);
        rss_plan_free(&plan);
        return UTIL_EXIT_IO;
    }
    if (strict && shared_objects(&plan.deps) > 0) {
        cmd_error("synth", "--strict: %d of %d objects would run shared under locks; no plan "
                  "written. Why:", shared_objects(&plan.deps), plan.deps.n_objects);
        for (int k = 0; k < plan.deps.n_objects; k++)
            if (plan.deps.objects[k].decision == DEPS_SHARED)
                fprintf(stderr, "  %s: %s\n", plan.deps.objects[k].name,
                        plan.deps.objects[k].reason);
        rss_plan_free(&plan);
        return UTIL_EXIT_FAILURE;
    }
    rc = rss_plan_write(&plan, output, &err);
    if (rc) {
        cmd_error("synth", "%s", err.msg);
    } else if (json && strcmp(output, "-") != 0) {
        struct util_json *w = util_json_new();
        rss_plan_write_json(&plan, w);
        size_t len;
        const char *text = util_json_text(w, &len);
        fwrite(text, 1, len, stdout);
        util_json_free(w);
    } else if (strcmp(output, "-") != 0) {     /* "-": the plan went to stdout */
        print_summary(&plan, &o.nic, output);
    }
    rss_plan_free(&plan);
    return rc;
}
