/*
 * cmd_report.c - `rsskey report PLAN.json [--sim SIM.json] [--html] [-o FILE]`:
 * a design-review report of a plan, re-checked independently, as Markdown or
 * as one self-contained HTML page. A simulation, verify result or manifest
 * made from another plan is refused (exit 3). The command gathers the provenance (date, hashes, its
 * command line) and hands everything to report/.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "report/report.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rsskey report PLAN.json [--sim SIM.json] [--verify RUN.json]\n"
            "                     [--manifest DIR|MANIFEST] [--html] [-o FILE]\n"
            "\n"
            "Render a plan written by 'rsskey synth' as a report for a design review: a\n"
            "verdict, the decision and reason for every state object, each port's RSS key,\n"
            "hash fields and RETA, the spread of every hashed field, an independent re-check\n"
            "of the keys (no Z3), with --sim the simulator's per-core load, cycles, misses\n"
            "and scaling, and the provenance (version, date, hashes, trace, pacing, costs).\n"
            "\n"
            "  --sim FILE        output of 'rsskey sim --json' for this plan (add --scaling\n"
            "                    there for the scaling curve); one made from another plan is\n"
            "                    refused (exit 3)\n"
            "  --verify FILE     a runner's '--verify --json' output for this plan\n"
            "                    (rsskey-run-NF --plan PLAN --verify --json ...): adds a\n"
            "                    Verify section; an unsound result makes the verdict not\n"
            "                    sound; one made with another plan is refused (exit 3)\n"
            "  --html            one self-contained HTML page (inline CSS and SVG pictures:\n"
            "                    state graph, load bars, cycles, scaling; prints on A4)\n"
            "                    instead of Markdown\n"
            "  --manifest PATH   a deployment of this plan ('rsskey deploy -o DIR': DIR or\n"
            "                    DIR/manifest.json): adds a Deployment section; a manifest\n"
            "                    made from another plan is refused (exit 3)\n"
            "  -o, --output FILE where to write (default: standard output)\n"
            "  -h, --help        this help\n"
            "\n"
            "Exit codes: 0 ok, 1 the re-check rejected the plan or the verify result is\n"
            "unsound (report still written), 2 usage, 3 bad plan, simulation file, verify\n"
            "result or manifest, 4 I/O.\n");
}

static const char *report_str_of(const struct util_jvalue *obj, const char *key)
{
    const struct util_jvalue *v = obj ? util_jobject_get(obj, key) : NULL;
    return v && v->type == UTIL_JSTRING ? v->string : "";
}

/* A runner's --verify --json output, refused (exit 3) unless made with this
 * plan; exit 4 when unreadable. */
static int read_verify(const char *path, const char *plan_path, const char *plan_sha,
                       struct util_jvalue **out)
{
    struct util_error err = {{0}};
    size_t len;
    char *text = util_read_file(path, &len, &err);
    if (!text) {
        cmd_error("report", "%s", err.msg);
        return UTIL_EXIT_IO;
    }
    struct util_jvalue *run = util_json_parse(text, len, path, &err);
    free(text);
    if (!run || report_verify_matches(run, path, plan_path, plan_sha, &err) != 0) {
        cmd_error("report", "%s", err.msg);
        util_jvalue_free(run);
        return UTIL_EXIT_INPUT;
    }
    *out = run;
    return UTIL_EXIT_OK;
}

int cmd_report(int argc, char **argv)
{
    static const struct option longs[] = {
        {"sim", required_argument, NULL, 's'},
        {"manifest", required_argument, NULL, 'm'},
        {"verify", required_argument, NULL, 'v'},
        {"output", required_argument, NULL, 'o'},
        {"html", no_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *sim_path = NULL, *out_path = "-", *manifest_path = NULL, *verify_path = NULL;
    bool html = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", longs, NULL)) != -1) {
        switch (c) {
        case 's': sim_path = optarg; break;
        case 'm': manifest_path = optarg; break;
        case 'v': verify_path = optarg; break;
        case 'o': out_path = optarg; break;
        case 'H': html = true; break;
        case 'h': usage(stdout); return UTIL_EXIT_OK;
        default: usage(stderr); return UTIL_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        cmd_error("report", "give exactly one plan (made by 'rsskey synth -o PLAN.json')");
        return UTIL_EXIT_USAGE;
    }
    const char *plan_path = argv[optind];
    const char *inputs[4] = {plan_path, sim_path, manifest_path, verify_path};
    if (cmd_output_is_input("report", out_path, inputs, 4))
        return UTIL_EXIT_USAGE;
    struct util_error err = {{0}};
    struct rss_plan plan;
    int rc = rss_plan_read(plan_path, &plan, &err);
    if (rc != 0) {
        cmd_error("report", "%s", err.msg);
        return rc;
    }
    char plan_sha[65] = "";
    if (util_sha256_file(plan_path, plan_sha, &err) != 0) {
        cmd_error("report", "%s", err.msg);
        rss_plan_free(&plan);
        return UTIL_EXIT_IO;
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
        if (report_sim_matches(sim, sim_path, &plan, plan_path, plan_sha, &err) != 0) {
            cmd_error("report", "%s", err.msg);
            util_jvalue_free(sim);
            rss_plan_free(&plan);
            return UTIL_EXIT_INPUT;
        }
    }
    struct util_jvalue *verify = NULL;
    if (verify_path) {
        rc = read_verify(verify_path, plan_path, plan_sha, &verify);
        if (rc != UTIL_EXIT_OK) {
            util_jvalue_free(sim);
            rss_plan_free(&plan);
            return rc;
        }
    }
    struct deploy_manifest *manifest = NULL;
    if (manifest_path) {
        manifest = malloc(sizeof *manifest);
        rc = !manifest ? UTIL_EXIT_FAILURE : deploy_manifest_read(manifest_path, manifest, &err);
        if (rc == UTIL_EXIT_OK)
            rc = deploy_manifest_matches(manifest, &plan, plan_sha, &err);
        if (rc != UTIL_EXIT_OK) {
            cmd_error("report", "%s", manifest ? err.msg : "out of memory");
            free(manifest);
            util_jvalue_free(verify);
            util_jvalue_free(sim);
            rss_plan_free(&plan);
            return rc;
        }
    }
    /* The deployment's command files, from the folder holding manifest.json. */
    char *deploy_text[2] = {NULL, NULL};
    if (manifest) {
        static const char *const names[2] = {"ethtool.sh", "testpmd.txt"};
        char dir[sizeof manifest->path], file[sizeof manifest->path + 16];
        snprintf(dir, sizeof dir, "%s", manifest->path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = 0;
        for (int i = 0; i < 2; i++) {
            struct util_error ignored = {{0}};
            size_t flen;
            snprintf(file, sizeof file, "%s/%s", slash ? dir : ".", names[i]);
            deploy_text[i] = util_read_file(file, &flen, &ignored);
        }
    }
    /* Provenance: when, with what, from which files. */
    struct report_provenance prov = {RSSKEY_VERSION, NULL, plan_sha, NULL, {NULL}};
    char date[32], cmdline[1024], trace_sha[REPORT_MAX_TRACES][65];
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm) && strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm))
        prov.date = date;
    size_t used = (size_t)snprintf(cmdline, sizeof cmdline, "rsskey report");
    for (int i = 1; i < argc && used < sizeof cmdline; i++)
        used += (size_t)snprintf(cmdline + used, sizeof cmdline - used, " %s", argv[i]);
    prov.command_line = cmdline;
    const struct util_jvalue *traces = sim ? util_jobject_get(sim, "traces") : NULL;
    for (size_t i = 0; traces && traces->type == UTIL_JARRAY && i < traces->count &&
                       i < REPORT_MAX_TRACES; i++) {
        struct util_error ignored = {{0}};
        const struct util_jvalue *tr = &traces->items[i];
        trace_sha[i][0] = 0;
        if (tr->type == UTIL_JSTRING && util_sha256_file(tr->string, trace_sha[i], &ignored))
            trace_sha[i][0] = 0;
        prov.trace_sha256[i] = trace_sha[i];
    }
    struct report_input in = {plan_path, &plan,  sim,         sim_path,      0,
                              manifest,  &prov, verify,      verify_path,   deploy_text[0],
                              deploy_text[1]};
    size_t len = 0;
    int sound = 0;
    char *md = html ? report_html(&in, &len, &sound) : report_markdown(&in, &len, &sound);
    rc = UTIL_EXIT_OK;
    if (!md) {
        cmd_error("report", "out of memory");
        rc = UTIL_EXIT_FAILURE;
    } else if (util_write_file_atomic(out_path, md, len, &err) != 0) {
        cmd_error("report", "%s", err.msg);
        rc = UTIL_EXIT_IO;
    } else if (!sound) {
        const char *result = report_str_of(util_jobject_get(verify, "verify"), "result");
        if (verify && strcmp(result, "sound") != 0)
            cmd_error("report", "%s says %s is unsound on its traffic (see the report)",
                      verify_path, plan_path);
        else
            cmd_error("report", "the independent re-check rejected %s (see the report)",
                      plan_path);
        rc = UTIL_EXIT_FAILURE;
    }
    free(md);
    free(deploy_text[0]);
    free(deploy_text[1]);
    free(manifest);
    util_jvalue_free(verify);
    util_jvalue_free(sim);
    rss_plan_free(&plan);
    return rc;
}
