/*
 * options.c - the runner's command line: everything before "--" is ours
 * (getopt_long, so --opt=value works), everything after it is the EAL's.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "launcher/launcher_internal.h"

static void usage(FILE *out, const char *prog, const char *embedded)
{
    if (embedded)
        fprintf(out, "usage: %s [--plan plan.json] [options] -- EAL-ARGS\n\n"
                     "This runner carries the plan made from %s (rsskey build --plan);\n"
                     "--plan FILE runs under another plan for the same NF instead.\n\n",
                prog, embedded);
    else
        fprintf(out, "usage: %s --plan plan.json [options] -- EAL-ARGS\n\n", prog);
    fprintf(out,
            "Runs this NF on DPDK ports under an rsskey plan: one worker lcore per plan core\n"
            "(the main lcore dispatches and transmits), per-core state, read-token locks for\n"
            "shared objects, the plan's RSS key, hash fields and RETA in hardware when every\n"
            "port supports them, software RSS otherwise. DPDK port i is the NF's port i.\n"
            "\n"
            "Options:\n"
            "  --plan FILE        plan.json from 'rsskey synth' (required unless the\n"
            "                     runner carries one: 'rsskey build --plan')\n"
            "  --config NAME=VAL  answer nf_config(NAME) (repeatable)\n"
            "  --verify           check the plan on this traffic: compare every packet's\n"
            "                     verdict and bytes with the sequential NF fed the same\n"
            "                     packets in arrival order, classify each difference\n"
            "                     (unsound, interleaving, translation, capacity, estimate)\n"
            "                     and exit 1 when any is unsound (docs/launcher.md)\n"
            "  --examples N       --verify: examples printed per class (default 3)\n"
            "  --replay FILE      read packets from a capture (repeatable) instead of the\n"
            "                     ports, in timestamp order with capture times; the ports\n"
            "                     then only transmit\n"
            "  --lan CIDR[,...]   with --replay: sources inside go to port 0, others to 1\n"
            "  --port N=FILE      replay FILE as arriving on port N (repeatable)\n"
            "  --software-rss     never program hardware RSS\n"
            "  --idle-exit-ms N   stop after N ms without packets (default 0: run until\n"
            "                     SIGINT, or until the replay ends)\n"
            "  --ring-size N      per-core dispatch ring (power of two, default 4096)\n"
            "  --configure-only   program the ports, read RSS back, compare, exit\n"
            "  --measure          time the NF at full speed with the TSC: cycles per\n"
            "                     packet per core and the rate the cores carry. With\n"
            "                     --replay the packets come from memory, steered by the\n"
            "                     plan's hash into one queue per core of devices the\n"
            "                     runner makes (give no --vdev); without, the ports' own\n"
            "                     queues are timed (docs/launcher.md, \"Measuring\")\n"
            "  --seconds S        --measure: how long to run (default 2)\n"
            "  --json             print the summary as JSON\n"
            "  -h, --help         this text\n"
            "\n"
            "Example (no NIC, no hugepages):\n"
            "  %s --plan fw-plan.json --verify --replay trace.pcap --lan 10.0.0.0/8 -- \\\n"
            "     --no-huge -m 512 --no-pci --lcores 0@0,1@0,2@1 --file-prefix fw \\\n"
            "     --vdev net_null0 --vdev net_null1\n",
            prog);
}

int launcher_parse_options(int argc, char **argv, const char *embedded, struct options *o,
                           int *eal_start)
{
    static const struct option longs[] = {
        {"plan", required_argument, NULL, 'p'},
        {"config", required_argument, NULL, 'c'},
        {"verify", no_argument, NULL, 'v'},
        {"software-rss", no_argument, NULL, 's'},
        {"replay", required_argument, NULL, 'R'},
        {"lan", required_argument, NULL, 'L'},
        {"port", required_argument, NULL, 'P'},
        {"idle-exit-ms", required_argument, NULL, 'i'},
        {"ring-size", required_argument, NULL, 'r'},
        {"configure-only", no_argument, NULL, 'C'},
        {"json", no_argument, NULL, 'j'},
        {"examples", required_argument, NULL, 'e'},
        {"measure", no_argument, NULL, 'm'},
        {"seconds", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct util_error err;
    memset(o, 0, sizeof *o);
    o->ring_size = 4096;
    o->examples = 3;
    o->seconds = 2;
    /* Options end at "--"; what follows is for the EAL. */
    int split = argc;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--") == 0) {
            split = i;
            break;
        }
    optind = 1;
    int c;
    char *end;
    while ((c = getopt_long(split, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case 'p': o->plan_path = optarg; break;
        case 'c':
            if (o->n_configs == MAX_CONFIGS) {
                fprintf(stderr, "%s: error: at most %d --config options\n", argv[0], MAX_CONFIGS);
                return UTIL_EXIT_USAGE;
            }
            o->configs[o->n_configs++] = optarg;
            break;
        case 'v': o->verify = true; break;
        case 's': o->software_rss = true; break;
        case 'R':
        case 'L':
        case 'P':
            if ((c == 'R' && trace_options_add_file(&o->replay, optarg, &err) != 0) ||
                (c == 'L' && trace_options_add_lan(&o->replay, optarg, &err) != 0) ||
                (c == 'P' && trace_options_add_port_file(&o->replay, optarg, &err) != 0)) {
                fprintf(stderr, "%s: error: %s\n", argv[0], err.msg);
                return UTIL_EXIT_USAGE;
            }
            o->replaying = c != 'L' || o->replaying;
            break;
        case 'i':
            o->idle_exit_ms = (unsigned)strtoul(optarg, &end, 10);
            if (*end) {
                fprintf(stderr, "%s: error: --idle-exit-ms wants milliseconds, got '%s'\n",
                        argv[0], optarg);
                return UTIL_EXIT_USAGE;
            }
            break;
        case 'r':
            o->ring_size = (unsigned)strtoul(optarg, &end, 10);
            if (*end || o->ring_size < 64 || (o->ring_size & (o->ring_size - 1))) {
                fprintf(stderr, "%s: error: --ring-size wants a power of two >= 64, got '%s'\n",
                        argv[0], optarg);
                return UTIL_EXIT_USAGE;
            }
            break;
        case 'e':
            o->examples = (unsigned)strtoul(optarg, &end, 10);
            if (*end || o->examples > 1000) {
                fprintf(stderr, "%s: error: --examples wants a count up to 1000, got '%s'\n",
                        argv[0], optarg);
                return UTIL_EXIT_USAGE;
            }
            break;
        case 'C': o->configure_only = true; break;
        case 'm': o->measure = true; break;
        case 'S':
            o->seconds = strtod(optarg, &end);
            if (*end || !(o->seconds > 0 && o->seconds <= 3600)) {
                fprintf(stderr, "%s: error: --seconds wants a duration in seconds (0 < S <= "
                                "3600), got '%s'\n", argv[0], optarg);
                return UTIL_EXIT_USAGE;
            }
            break;
        case 'j': o->json = true; break;
        case 'h': usage(stdout, argv[0], embedded); return -1;
        default: usage(stderr, argv[0], embedded); return UTIL_EXIT_USAGE;
        }
    }
    if (optind < split) {
        fprintf(stderr, "%s: error: unexpected argument '%s' (EAL arguments go after '--')\n",
                argv[0], argv[optind]);
        return UTIL_EXIT_USAGE;
    }
    if (o->replay.n_lan > 0 && !o->replaying) {
        fprintf(stderr, "%s: error: --lan splits replayed captures: add --replay FILE\n",
                argv[0]);
        return UTIL_EXIT_USAGE;
    }
    if (o->measure && o->verify) {
        fprintf(stderr, "%s: error: --measure and --verify do not go together: --verify logs "
                        "every packet, which is not the NF's speed; run them apart\n",
                argv[0]);
        return UTIL_EXIT_USAGE;
    }
    if (!o->plan_path && !embedded) {
        fprintf(stderr, "%s: error: --plan FILE is required (make one with 'rsskey synth')\n",
                argv[0]);
        return UTIL_EXIT_USAGE;
    }
    *eal_start = split;
    return 0;
}

