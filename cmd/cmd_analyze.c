/*
 * cmd_analyze.c - `rsskey analyze nf.bc`: lift the NF (ir/), build the
 * state-dependency graph and per-object plan (deps/), print it for a person,
 * as JSON (--json) or as Graphviz (--dot). Parsing and printing only.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "deps/deps.h"
#include "ir/ir.h"
#include "util/util.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rsskey analyze [options] NF.bc\n"
            "\n"
            "Find the state an NF touches per packet and decide, object by object, how it\n"
            "runs on many cores: sharded by RSS (with the key fields per input port),\n"
            "replicated read-only, or shared under per-core read locks - with the reason.\n"
            "\n"
            "  --ports N        input ports to analyse (default: the NF's nf_config(\"ports\"),\n"
            "                   else 2; at most %d)\n"
            "  --config NAME=VALUE  analyse with this nf_config value instead of the NF's\n"
            "                   default (repeatable). nf_config defaults count as constants:\n"
            "                   the plan holds for the values it lists under \"config\"\n"
            "  --json           print JSON (schema rsskey-analysis/1, docs/plan-format.md)\n"
            "  --dot            print the dependency graph for Graphviz (dot -Tsvg)\n"
            "  -o, --output F   write to F (atomically) instead of standard output\n"
            "  -h, --help       this help\n"
            "\n"
            "Exit codes: 0 ok, 2 usage, 3 bad bitcode, 4 cannot write the output.\n",
            DEPS_MAX_PORTS);
}

static int terminal_width(void)
{
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 60)
        return ws.ws_col < 100 ? ws.ws_col : 100;
    return 100;
}

static void write_issues_json(const struct ir_nf *nf, struct util_json *w)
{
    static const char *const kinds[] = {"unknown_call", "indirect_call", "inline_asm",
                                        "global_write", "borrow_write", "unknown_object",
                                        "api_misuse"};
    util_json_key(w, "issues");
    util_json_array_begin(w);
    for (int i = 0; i < nf->n_issues; i++) {
        const struct ir_issue *is = &nf->issues[i];
        util_json_object_begin(w);
        util_json_key(w, "kind");
        util_json_string(w, (unsigned)is->kind < sizeof kinds / sizeof kinds[0]
                                ? kinds[is->kind] : "issue");
        util_json_key(w, "object");
        if (is->object >= 0 && is->object < nf->n_objects)
            util_json_string(w, nf->objects[is->object].name);
        else
            util_json_null(w);
        util_json_key(w, "port");
        util_json_int(w, is->port);
        util_json_key(w, "detail");
        util_json_string(w, is->detail);
        util_json_key(w, "file");
        util_json_string(w, is->where.file);
        util_json_key(w, "line");
        util_json_int(w, is->where.line);
        util_json_object_end(w);
    }
    util_json_array_end(w);
}

static char *json_text(const struct deps_plan *plan, const struct ir_nf *nf)
{
    struct util_json *w = util_json_new();
    if (!w)
        return NULL;
    util_json_object_begin(w);
    util_json_key(w, "schema");
    util_json_string(w, "rsskey-analysis/1");
    util_json_key(w, "ports");          /* = input_ports, for readers of the brief's name */
    util_json_int(w, plan->n_ports);
    deps_plan_write_json(plan, w);
    write_issues_json(nf, w);
    util_json_object_end(w);
    size_t len;
    const char *text = util_json_text(w, &len);
    char *copy = malloc(len + 2);
    if (copy) {
        memcpy(copy, text, len);
        copy[len] = '\n';
        copy[len + 1] = '\0';
    }
    util_json_free(w);
    return copy;
}

int cmd_analyze(int argc, char **argv)
{
    const char *input = NULL, *output = "-";
    bool json = false, dot = false;
    int ports = 0, n_config = 0;
    struct ir_config_value config[IR_MAX_CONFIG];
    enum { OPT_JSON = 256, OPT_DOT, OPT_PORTS, OPT_CONFIG };
    static const struct option longs[] = {
        {"help", no_argument, NULL, 'h'},      {"output", required_argument, NULL, 'o'},
        {"json", no_argument, NULL, OPT_JSON}, {"dot", no_argument, NULL, OPT_DOT},
        {"ports", required_argument, NULL, OPT_PORTS},
        {"config", required_argument, NULL, OPT_CONFIG},
        {NULL, 0, NULL, 0}};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":ho:", longs, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return UTIL_EXIT_OK;
        case 'o': output = optarg; break;
        case OPT_JSON: json = true; break;
        case OPT_DOT: dot = true; break;
        case OPT_PORTS: {
            char *end = NULL;
            long n = strtol(optarg, &end, 10);
            if (*end != '\0' || end == optarg || n < 1 || n > DEPS_MAX_PORTS) {
                cmd_error("analyze", "--ports needs a number from 1 to %d (got '%s')",
                          DEPS_MAX_PORTS, optarg);
                return UTIL_EXIT_USAGE;
            }
            ports = (int)n;
            break;
        }
        case OPT_CONFIG:
            if (cmd_config_option("analyze", optarg, config, &n_config, IR_MAX_CONFIG) != 0)
                return UTIL_EXIT_USAGE;
            break;
        case ':':
            cmd_error("analyze", "%s needs a value; see 'rsskey analyze --help'",
                      argv[optind - 1]);
            return UTIL_EXIT_USAGE;
        default:
            cmd_error("analyze", "unknown option '%s'; see 'rsskey analyze --help'",
                      argv[optind - 1]);
            return UTIL_EXIT_USAGE;
        }
    }
    for (int i = optind; i < argc; i++) {
        if (input) {
            cmd_error("analyze", "one NF at a time (got '%s' and '%s')", input, argv[i]);
            return UTIL_EXIT_USAGE;
        }
        input = argv[i];
    }
    if (!input) {
        cmd_error("analyze", "no bitcode given; usage: rsskey analyze [options] NF.bc");
        return UTIL_EXIT_USAGE;
    }
    if (json && dot) {
        cmd_error("analyze", "--json and --dot are exclusive; pick one");
        return UTIL_EXIT_USAGE;
    }

    if (cmd_output_is_input("analyze", output, &input, 1))
        return UTIL_EXIT_USAGE;
    struct util_error err;
    struct ir_nf nf;
    memset(&nf, 0, sizeof nf);
    struct ir_options ir_opts = {.ports = ports, .n_config = n_config, .config = config};
    int rc = ir_analyze_file(input, &ir_opts, &nf, &err);
    if (rc != 0) {
        cmd_error("analyze", "%s", err.msg);
        ir_nf_free(&nf);
        return rc;
    }
    struct deps_options opts;
    deps_options_default(&opts);
    opts.ports = ports;
    struct deps_plan plan;
    rc = deps_plan_build(&nf, &opts, &plan, &err);
    if (rc != 0) {
        cmd_error("analyze", "%s", err.msg);
        deps_plan_free(&plan);
        ir_nf_free(&nf);
        return rc;
    }

    char *text = json ? json_text(&plan, &nf)
               : dot ? deps_graph_dot(&nf, &plan)
                     : deps_plan_format_text(&plan, &nf, terminal_width());
    if (!text) {
        cmd_error("analyze", "out of memory formatting the plan");
        rc = UTIL_EXIT_FAILURE;
    } else if (util_write_file_atomic(output, text, strlen(text), &err) != 0) {
        cmd_error("analyze", "%s", err.msg);
        rc = UTIL_EXIT_IO;
    }
    free(text);
    deps_plan_free(&plan);
    ir_nf_free(&nf);
    return rc;
}
