/*
 * cmd_deploy.c - `rsskey deploy PLAN.json -o DIR [--dev eth0,eth1]`: check a
 * plan against the NIC profile it names and write a deployment folder
 * (deploy/) atomically. Parsing and printing only.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "deploy/deploy.h"
#include "rss/rss.h"
#include "util/util.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rsskey deploy PLAN.json -o DIR [--dev IF0,IF1,...] [--json] [--force]\n"
            "\n"
            "Check a plan written by 'rsskey synth' against the NIC profile it names (key\n"
            "length, RETA size, hash types), re-check it independently, and write the folder\n"
            "DIR that puts it on NICs (docs/deploy.md):\n"
            "  manifest.json   what is deployed: NF and bitcode hash, plan hash, NIC, per port\n"
            "                  key, rss_hf, RETA and queues, objects, checks (schema\n"
            "                  rsskey-manifest/1, docs/plan-format.md)\n"
            "  ethtool.sh      for kernel drivers: channels, key, RETA, rx-flow-hash per type\n"
            "  testpmd.txt     for dpdk-testpmd --cmdline-file: queues, key, RETA per port\n"
            "  rsskey_plan.h   the plan as C constants; rsskey_plan.c programs a DPDK port\n"
            "  rsskey_plan.c   with them and reads it back\n"
            "DIR is built beside itself and renamed at the end: never half-written.\n"
            "\n"
            "  -o, --output DIR  the folder to write (required; must be new or empty)\n"
            "  --dev IF0,IF1     kernel interface of plan port 0, 1, ... for ethtool.sh\n"
            "                    (default: placeholders ETH0, ETH1 that the script refuses)\n"
            "  --nic-file FILE   the NIC profile file the plan was made with (--nic-file)\n"
            "  --force           replace a folder an earlier 'rsskey deploy' wrote\n"
            "  --json            print the summary as JSON\n"
            "  -h, --help        this help\n"
            "\n"
            "Exit codes: 0 ok, 1 the independent re-check rejected the plan, 2 usage, 3 bad\n"
            "plan (schema, fields, a key or RETA that does not fit its NIC), 4 I/O.\n");
}

/* --dev eth0,eth1 into o->devs. */
static int parse_devs(const char *list, struct deploy_options *o)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *d = strtok_r(buf, ",", &save); d; d = strtok_r(NULL, ",", &save)) {
        size_t n = strlen(d);
        bool ok = n > 0 && n < 16;
        for (size_t i = 0; ok && i < n; i++)
            ok = d[i] > ' ' && d[i] != '/' && d[i] != '\'' && d[i] != '"' && d[i] != '$' &&
                 d[i] != '`' && d[i] != '\\' && d[i] != ';' && (unsigned char)d[i] < 0x7f;
        if (!ok) {
            cmd_error("deploy", "--dev: '%s' is not an interface name (1..15 characters, no "
                      "spaces, quotes or '/')", d);
            return -1;
        }
        if (o->n_devs >= DEPS_MAX_PORTS) {
            cmd_error("deploy", "--dev: at most %d interfaces", DEPS_MAX_PORTS);
            return -1;
        }
        snprintf(o->devs[o->n_devs++], DEPLOY_DEV_MAX, "%s", d);
    }
    if (o->n_devs == 0) {
        cmd_error("deploy", "--dev needs interface names: --dev eth0,eth1");
        return -1;
    }
    return 0;
}

/* True (error printed) when an input file lies inside the folder to write. */
static bool input_inside(const char *dir, const char *input)
{
    char *rdir = realpath(dir, NULL), *rin = input ? realpath(input, NULL) : NULL;
    bool inside = false;
    if (rdir && rin) {
        size_t n = strlen(rdir);
        inside = strcmp(rdir, rin) == 0 ||
                 (strncmp(rdir, rin, n) == 0 && (rin[n] == '/' || strcmp(rdir, "/") == 0));
    }
    if (inside)
        cmd_error("deploy", "-o %s holds the input %s; rsskey never overwrites what it reads: "
                  "write the folder elsewhere", dir, input);
    free(rdir);
    free(rin);
    return inside;
}

int cmd_deploy(int argc, char **argv)
{
    enum { OPT_DEV = 256, OPT_JSON, OPT_FORCE, OPT_NIC_FILE };
    static const struct option longs[] = {
        {"output", required_argument, NULL, 'o'}, {"dev", required_argument, NULL, OPT_DEV},
        {"json", no_argument, NULL, OPT_JSON},    {"force", no_argument, NULL, OPT_FORCE},
        {"nic-file", required_argument, NULL, OPT_NIC_FILE},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    struct deploy_options o;
    memset(&o, 0, sizeof o);
    o.version = RSSKEY_VERSION;
    const char *dir = NULL, *nic_file = NULL;
    bool json = false, force = false;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":ho:", longs, NULL)) != -1) {
        switch (c) {
        case 'o': dir = optarg; break;
        case OPT_DEV:
            if (parse_devs(optarg, &o) != 0)
                return UTIL_EXIT_USAGE;
            break;
        case OPT_JSON: json = true; break;
        case OPT_FORCE: force = true; break;
        case OPT_NIC_FILE: nic_file = optarg; break;
        case 'h': usage(stdout); return UTIL_EXIT_OK;
        case ':':
            cmd_error("deploy", "%s needs a value; see 'rsskey deploy --help'", argv[optind - 1]);
            return UTIL_EXIT_USAGE;
        default:
            cmd_error("deploy", "unknown option '%s'; see 'rsskey deploy --help'", argv[optind - 1]);
            return UTIL_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        cmd_error("deploy", "give exactly one plan: rsskey deploy PLAN.json -o DIR");
        return UTIL_EXIT_USAGE;
    }
    if (!dir || !dir[0]) {
        cmd_error("deploy", "no folder given: rsskey deploy PLAN.json -o DIR");
        return UTIL_EXIT_USAGE;
    }
    o.plan_path = argv[optind];
    const char *inputs[2] = {o.plan_path, nic_file};
    if (cmd_output_is_input("deploy", dir, inputs, 2) || input_inside(dir, o.plan_path) ||
        input_inside(dir, nic_file))
        return UTIL_EXIT_USAGE;

    struct util_error err = {{0}};
    size_t len;
    char *bytes = util_read_file(o.plan_path, &len, &err);
    if (!bytes) {
        cmd_error("deploy", "%s", err.msg);
        return UTIL_EXIT_IO;
    }
    util_sha256_hex(bytes, len, o.plan_sha256);
    free(bytes);
    struct rss_plan *plan = calloc(1, sizeof *plan);
    if (!plan) {
        cmd_error("deploy", "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    int rc = rss_plan_read(o.plan_path, plan, &err);
    if (rc != 0) {
        cmd_error("deploy", "%s", err.msg);
        free(plan);
        return rc;
    }
    if (nic_file) {
        rc = rss_nic_read_file(nic_file, &o.nic, &err);
    } else {
        const struct rss_nic *nic = rss_nic_find(plan->nic);
        if (nic) {
            o.nic = *nic;
        } else {
            util_error_set(&err, "%s names the NIC profile '%s', which rsskey does not know "
                           "('rsskey nics' lists them): give its profile with --nic-file",
                           o.plan_path, plan->nic);
            rc = UTIL_EXIT_INPUT;
        }
    }
    struct deploy_bundle bundle;
    memset(&bundle, 0, sizeof bundle);
    if (rc == 0)
        rc = deploy_generate(plan, &o, &bundle, &err);
    if (rc == 0)
        rc = util_write_dir_atomic(dir, bundle.files, bundle.n_files, DEPLOY_MANIFEST_FILE,
                                   force, &err);
    if (rc != 0) {
        cmd_error("deploy", "%s", err.msg);
    } else if (json) {
        struct util_json *w = util_json_new();
        if (w) {
            deploy_summary_json(plan, &o, &bundle, dir, w);
            size_t n;
            const char *text = util_json_text(w, &n);
            fwrite(text, 1, n, stdout);
            util_json_free(w);
        }
    } else {
        deploy_print_summary(plan, &o, &bundle, dir, stdout);
    }
    deploy_bundle_free(&bundle);
    rss_plan_free(plan);
    free(plan);
    return rc;
}
