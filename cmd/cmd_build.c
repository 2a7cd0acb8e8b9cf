/*
 * cmd_build.c - `rsskey build NF.bc [--plan plan.json] -o RUNNER`: the NF's
 * DPDK runner from its bitcode, carrying the plan (nfbuild/). Parsing and
 * printing only.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "nfbuild/nfbuild.h"
#include "util/util.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rsskey build NF.bc [--plan plan.json] -o RUNNER\n"
            "\n"
            "Build the NF's DPDK runner from its bitcode: NF.bc compiled with clang-19 and\n"
            "linked with rsskey's launcher and runtime into one executable, written\n"
            "atomically. With --plan the plan is built in, so the runner needs no plan file\n"
            "(its own --plan FILE still overrides it); the plan is first checked against\n"
            "the bitcode (schema, rsskey version, and the analysis of NF.bc must find the\n"
            "plan's objects, kinds and keys), and a plan for another NF is refused.\n"
            "Run the result as 'RUNNER [--verify] [--replay T ...] -- EAL-ARGS'\n"
            "(docs/launcher.md).\n"
            "\n"
            "  --plan FILE         plan.json from 'rsskey synth NF.bc' to build in\n"
            "  -o, --output FILE   the runner to write (required; never one of the inputs)\n"
            "  --clang PATH        the clang-19 to compile the bitcode with (default: the one\n"
            "                      found when rsskey was configured, else clang-19 on PATH)\n"
            "  -v, --verbose       print every command run\n"
            "  -h, --help          this help\n"
            "\n"
            "The libraries come from rsskey-uninstalled.pc beside rsskey (build tree) or\n"
            "<prefix>/lib/pkgconfig/rsskey.pc (installed); see docs/nf-api.md.\n"
            "Exit codes: 0 ok, 1 a tool is missing, 2 usage, 3 bad input (a plan for another\n"
            "NF or rsskey version, bitcode that does not compile or link), 4 I/O.\n");
}

int cmd_build(int argc, char **argv)
{
    struct nfbuild_options o = {0};
    const char *clang = NULL;
    enum { OPT_PLAN = 256, OPT_CLANG };
    static const struct option longs[] = {
        {"help", no_argument, NULL, 'h'},
        {"output", required_argument, NULL, 'o'},
        {"verbose", no_argument, NULL, 'v'},
        {"plan", required_argument, NULL, OPT_PLAN},
        {"clang", required_argument, NULL, OPT_CLANG},
        {NULL, 0, NULL, 0}};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":ho:v", longs, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return UTIL_EXIT_OK;
        case 'o': o.output = optarg; break;
        case 'v': o.verbose = true; break;
        case OPT_PLAN: o.plan = optarg; break;
        case OPT_CLANG: clang = optarg; break;
        case ':':
            cmd_error("build", "%s needs a value; see 'rsskey build --help'", argv[optind - 1]);
            return UTIL_EXIT_USAGE;
        default:
            cmd_error("build", "unknown option '%s'; see 'rsskey build --help'",
                      argv[optind - 1]);
            return UTIL_EXIT_USAGE;
        }
    }
    for (int i = optind; i < argc; i++) {
        if (o.bitcode) {
            cmd_error("build", "more than one NF given ('%s' and '%s')", o.bitcode, argv[i]);
            return UTIL_EXIT_USAGE;
        }
        o.bitcode = argv[i];
    }
    if (!o.bitcode) {
        cmd_error("build", "no NF given; usage: rsskey build NF.bc [--plan plan.json] -o RUNNER");
        return UTIL_EXIT_USAGE;
    }
    if (!o.output || strcmp(o.output, "-") == 0) {
        cmd_error("build", "-o RUNNER is required (an executable cannot go to standard "
                  "output)");
        return UTIL_EXIT_USAGE;
    }
    const char *inputs[] = {o.bitcode, o.plan};
    if (cmd_output_is_input("build", o.output, inputs, 2))
        return UTIL_EXIT_USAGE;

    struct util_error err = {{0}};
    struct nfbuild_toolchain tc;
    int rc = nfbuild_find_toolchain(NULL, clang, &tc, &err);
    if (rc == 0)
        rc = nfbuild_build(&o, &tc, &err);
    if (rc) {
        cmd_error("build", "%s; nothing written", err.msg);
        return rc;
    }
    printf("wrote %s: %s's runner%s%s%s (libraries from the %s, %s/%s.pc)\n", o.output,
           o.bitcode, o.plan ? " carrying " : ", give it --plan FILE",
           o.plan ? o.plan : "", o.plan ? "" : " when run", tc.layout, tc.pc_dir, tc.package);
    return UTIL_EXIT_OK;
}
