/*
 * cmd_report.c - `rsskey report PLAN.json [--sim SIM.json] [-o FILE]`: a
 * Markdown design-review report of a plan, re-checked independently.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "report/report.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rsskey report PLAN.json [--sim SIM.json] [--manifest DIR|MANIFEST] [-o FILE]\n"
            "\n"
            "Render a plan written by 'rsskey synth' as a Markdown report for a design\n"
            "review: the decision and reason for every state object, each port's RSS key,\n"
            "hash fields and RETA, the spread of every hashed field, an independent re-check\n"
            "of the keys (no Z3), and, with --sim, the simulator's per-core load and scaling.\n"
            "\n"
            "  --sim FILE        output of 'rsskey sim --json' (add --scaling there for the\n"
            "                    scaling table)\n"
            "  --manifest PATH   a deployment of this plan ('rsskey deploy -o DIR': DIR or\n"
            "                    DIR/manifest.json): adds a Deployment section; a manifest\n"
            "                    made from another plan is refused (exit 3)\n"
            "  -o, --output FILE where to write (default: standard output)\n"
            "  -h, --help        this help\n"
            "\n"
            "Exit codes: 0 ok, 1 the re-check rejected the plan (report still written),\n"
            "2 usage, 3 bad plan, simulation file or manifest, 4 I/O.\n");
}

int cmd_report(int argc, char **argv)
{
    static const struct option longs[] = {
        {"sim", required_argument, NULL, 's'},
        {"manifest", required_argument, NULL, 'm'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *sim_path = NULL, *out_path = "-", *manifest_path = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", longs, NULL)) != -1) {
        switch (c) {
        case 's': sim_path = optarg; break;
        case 'm': manifest_path = optarg; break;
        case 'o': out_path = optarg; break;
        case 'h': usage(stdout); return UTIL_EXIT_OK;
        default: usage(stderr); return UTIL_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        cmd_error("report", "give exactly one plan (made by 'rsskey synth -o PLAN.json')");
        return UTIL_EXIT_USAGE;
    }
    const char *plan_path = argv[optind];
    const char *inputs[3] = {plan_path, sim_path, manifest_path};
    if (cmd_output_is_input("report", out_path, inputs, 3))
        return UTIL_EXIT_USAGE;
    struct util_error err = {{0}};
    struct rss_plan plan;
    int rc = rss_plan_read(plan_path, &plan, &err);
    if (rc != 0) {
        cmd_error("report", "%s", err.msg);
        return rc;
    }
    struct util_jvalue *sim = NULL;
    if (sim_path) {
        size_t len;
        char *text = util_read_file(sim_path, &len, &err);
        bool read_ok = text != NULL;
        sim = text ? util_json_parse(text, len, sim_path, &err) : NULL;
        free(text);
        if (!sim || !util_jobject_get(sim, "cores")) {
            if (sim)
                util_error_set(&err, "%s: no \"cores\" member; is this 'rsskey sim --json' "
                                     "output?", sim_path);
            cmd_error("report", "%s", err.msg);
            util_jvalue_free(sim);
            rss_plan_free(&plan);
            return read_ok ? UTIL_EXIT_INPUT : UTIL_EXIT_IO;
        }
    }
    struct deploy_manifest *manifest = NULL;
    if (manifest_path) {
        char plan_sha[65];
        manifest = malloc(sizeof *manifest);
        rc = !manifest ? UTIL_EXIT_FAILURE
             : util_sha256_file(plan_path, plan_sha, &err) != 0 ? UTIL_EXIT_IO
             : deploy_manifest_read(manifest_path, manifest, &err);
        if (rc == UTIL_EXIT_OK)
            rc = deploy_manifest_matches(manifest, &plan, plan_sha, &err);
        if (rc != UTIL_EXIT_OK) {
            cmd_error("report", "%s", manifest ? err.msg : "out of memory");
            free(manifest);
            util_jvalue_free(sim);
            rss_plan_free(&plan);
            return rc;
        }
    }
    struct report_input in = {plan_path, &plan, sim, sim_path, 0, manifest};
    size_t len = 0;
    int sound = 0;
    char *md = report_markdown(&in, &len, &sound);
    rc = UTIL_EXIT_OK;
    if (!md) {
        cmd_error("report", "out of memory");
        rc = UTIL_EXIT_FAILURE;
    } else if (util_write_file_atomic(out_path, md, len, &err) != 0) {
        cmd_error("report", "%s", err.msg);
        rc = UTIL_EXIT_IO;
    } else if (!sound) {
        cmd_error("report", "the independent re-check rejected %s (see the report)", plan_path);
        rc = UTIL_EXIT_FAILURE;
    }
    free(md);
    free(manifest);
    util_jvalue_free(sim);
    rss_plan_free(&plan);
    return rc;
}
