/*
 * cmd_sim.c - `rsskey sim`: replay traces through a plan on a simulated
 * multi-core machine (sim/), print per-core load and costs, MLFFR, scaling;
 * `--target RATE` the smallest core count carrying a rate; rates read with
 * util_parse_rate, Gbps as wire bits unless --units frame;
 * `rsskey sim --calibrate` measures this machine and writes a costs file.
 * Argument parsing and printing only; the work is in sim/.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "ir/ir.h"
#include "sim/sim.h"

static void usage(FILE *out)
{
    fprintf(out,
        "usage: rsskey sim --plan PLAN.json [options] TRACE...\n"
        "       rsskey sim --calibrate [NF.bc] [-o COSTS] [--costs BASE]\n"
        "\n"
        "Replay captures through a plan on a simulated machine: the NIC's Toeplitz hash\n"
        "and RETA, an RX ring per core, and each core running the plan's state accesses\n"
        "against private L1/L2, a shared LLC, coherence and per-core read locks.\n"
        "\n"
        "  --plan FILE           plan.json written by 'rsskey synth'\n"
        "  --lan CIDR[,CIDR...]  packets from these source prefixes on port 0, rest port 1\n"
        "  --port N=FILE         every packet of FILE on input port N (repeatable)\n"
        "  --cores N             simulate N cores (default: the plan's); the RETA is\n"
        "                        re-derived for N as --fold says\n"
        "  --fold synth|plan|rr  RETA for other core counts (--cores, --scaling,\n"
        "                        --target): as 'rsskey synth --cores N' would make it\n"
        "                        (default; balanced on this trace's buckets when the\n"
        "                        plan's was trained, else round-robin), the plan's\n"
        "                        folded (entry -> plan core %% N, round-robin above the\n"
        "                        plan's count), or round-robin (entry %% N)\n"
        "  --pps R | --gbps G | --speedup X\n"
        "                        offered load: R packets/s, or G Gbit/s (wire bits unless\n"
        "                        --units frame; converted to packets/s with this trace's\n"
        "                        mean packet), offered as --pace says; or the trace's own\n"
        "                        timestamps X times faster (default: --speedup 1)\n"
        "                        Rates take k/M/G: --pps 12.05M, --gbps 40, --gbps 400M\n"
        "  --pace even|trace|bits  how a rate is offered (default even): evenly spaced\n"
        "                        packets; the trace's timing scaled to the rate (its\n"
        "                        bursts kept); or back to back in wire bits\n"
        "  --units wire|frame    Gbps read and printed as wire bits (default: frame + FCS\n"
        "                        + preamble + gap, 84 bytes minimum) or frame bits (the\n"
        "                        capture's lengths)\n"
        "  --target RATE         smallest core count (up to --cores, default 64) carrying\n"
        "                        RATE loss-free under --pace, e.g. 40Gbps or 12Mpps, and\n"
        "                        what stops one core fewer\n"
        "  --costs FILE          cost model (default: built-in, see sim/costs/default.conf)\n"
        "  --ring N              RX descriptors per core (overrides the costs file)\n"
        "  --nic-gbps G          NIC line rate per port, wire bits (overrides costs file)\n"
        "  --pcie-gbps G         PCIe bandwidth (overrides the costs file)\n"
        "  --mlffr               search the maximum loss-free rate (paced as --pace says)\n"
        "  --scaling             MLFFR for 1..N cores (N = --cores or the plan's)\n"
        "  --writes first|all    inserts (map put, allocate, ...) on a key's first packet\n"
        "                        only (default), or every access on every packet\n"
        "  --rss-only            hash + RETA + per-core packet counts only (fast)\n"
        "  --limit N             replay only the first N packets\n"
        "  --threads 1|2         host threads: 2 reads and hashes packets in a second\n"
        "                        thread (default when the host has 2 CPUs); same results\n"
        "  --json                print JSON: {\"cores\": [...], \"totals\": {...}, ...}\n"
        "  --calibrate [NF.bc]   time this machine's state operations, write a costs file\n"
        "  --driver-from RUN     --calibrate: the DPDK driver's share of base_cycles as\n"
        "                        measured: RUN is `rsskey-run-nop --measure --json\n"
        "                        --replay TRACE` output (default: 80 cycles assumed)\n"
        "  -o, --output FILE     where --calibrate writes (default: stdout)\n"
        "  -h, --help            this help\n"
        "\n"
        "Exit codes: 0 ok, 2 usage, 3 bad plan/trace/costs, 4 I/O.\n");
}

/* A rate option as given: packets/s, Gbit/s (in --units), or a speedup. */
enum rate_kind { RATE_NONE, RATE_PPS, RATE_GBPS, RATE_SPEEDUP };

struct sim_args {
    const char *plan_path, *costs_path, *output, *calibrate_nf;
    const char *driver_from;        /* --calibrate: the nop runner's --measure --json */
    bool calibrate, mlffr, scaling, json;
    enum rate_kind rate_kind;
    double rate_value;
    bool pace_given, frame_units;
    enum rate_kind target_kind;         /* RATE_NONE: no --target */
    double target_value;
    const char *target_text;
    int ring;
    double nic_gbps, pcie_gbps;
    struct sim_options opts;
    struct trace_source_options traces;
    int n_traces;
    const char *lan_given[TRACE_MAX_LAN];   /* each --lan value as given (argv) */
    int n_lan_given;
};

/* The port policy the run used: "lan", every CIDR of every --lan as given
 * (the comma lists split; [] without --lan), and
 * "port_files", the --port N=FILE assignments in order ([] without). */
static void json_port_policy(struct util_json *w, const struct sim_args *a)
{
    util_json_key(w, "lan");
    util_json_array_begin(w);
    for (int i = 0; i < a->n_lan_given; i++) {
        const char *p = a->lan_given[i];
        while (*p) {
            size_t n = strcspn(p, ",");
            if (n > 0) {
                char cidr[128];
                snprintf(cidr, sizeof cidr, "%.*s", (int)n, p);
                util_json_string(w, cidr);
            }
            p += n + (p[n] == ',');
        }
    }
    util_json_array_end(w);
    util_json_key(w, "port_files");
    util_json_array_begin(w);
    for (size_t i = 0; i < a->traces.n_inputs; i++) {
        if (a->traces.inputs[i].port < 0)
            continue;
        util_json_object_begin(w);
        util_json_key(w, "port");
        util_json_int(w, a->traces.inputs[i].port);
        util_json_key(w, "trace");
        util_json_string(w, a->traces.inputs[i].path);
        util_json_object_end(w);
    }
    util_json_array_end(w);
}

/* A rate option through util_parse_rate: --pps takes packets/s, the Gbps
 * options Gbit/s (a bare number) or bits/s (with k/M/G or "bps"), --target
 * either with its unit, --speedup a bare factor. */
static int parse_rate_option(const char *opt, const char *s, enum rate_kind want,
                             enum rate_kind *kind, double *out)
{
    struct util_rate r;
    struct util_error err;
    if (util_parse_rate(opt, s, &r, &err)) {
        cmd_error("sim", "%s", err.msg);
        return -1;
    }
    if (want == RATE_PPS && r.unit == UTIL_RATE_BPS) {
        cmd_error("sim", "%s takes packets per second; '%s' is bits per second (use --gbps)",
                  opt, s);
        return -1;
    }
    if (want == RATE_GBPS && r.unit == UTIL_RATE_PPS) {
        cmd_error("sim", "%s takes bits per second; '%s' is packets per second%s", opt, s,
                  strcmp(opt, "--gbps") == 0 ? " (use --pps)" : "");
        return -1;
    }
    if (want == RATE_SPEEDUP && (r.unit != UTIL_RATE_NUMBER)) {
        cmd_error("sim", "%s is a factor on the trace's timing, not a rate: got '%s'", opt, s);
        return -1;
    }
    if (want == RATE_NONE && r.unit == UTIL_RATE_NUMBER) {
        cmd_error("sim", "%s needs a unit: e.g. 40Gbps (wire bits unless --units frame) or "
                  "12Mpps, got '%s'", opt, s);
        return -1;
    }
    enum rate_kind k = want == RATE_NONE ? (r.unit == UTIL_RATE_PPS ? RATE_PPS : RATE_GBPS)
                                         : want;
    /* Gbps options: a bare number is Gbit/s; with a multiplier or a unit it
     * is bits/s ("400M" = 0.4 Gbit/s). */
    *out = k == RATE_GBPS && (r.scaled || r.unit == UTIL_RATE_BPS) ? r.value / 1e9 : r.value;
    if (kind)
        *kind = k;
    return 0;
}

static int parse_count(const char *opt, const char *s, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < 1 || v > max) {
        cmd_error("sim", "%s needs a whole number in 1..%ld, got '%s'", opt, max, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, struct sim_args *a)
{
    memset(a, 0, sizeof *a);
    sim_options_default(&a->opts);
    /* Other core counts get the RETA synth would make for them (issue 12
     * item 4); --fold plan / --fold rr keep the old derivations. */
    a->opts.fold = SIM_FOLD_SYNTH;
    int pacing_given = 0;
    struct util_error err;
    enum { OPT_PLAN = 256, OPT_LAN, OPT_PORT, OPT_CORES, OPT_FOLD, OPT_PPS, OPT_GBPS,
           OPT_SPEEDUP, OPT_WRITES, OPT_COSTS, OPT_RING, OPT_NIC_GBPS, OPT_PCIE_GBPS, OPT_LIMIT,
           OPT_THREADS, OPT_MLFFR, OPT_SCALING, OPT_RSS_ONLY, OPT_JSON, OPT_CALIBRATE,
           OPT_PACE, OPT_UNITS, OPT_TARGET, OPT_DRIVER_FROM };
    static const struct option longs[] = {
        {"help", no_argument, NULL, 'h'},          {"output", required_argument, NULL, 'o'},
        {"plan", required_argument, NULL, OPT_PLAN}, {"lan", required_argument, NULL, OPT_LAN},
        {"port", required_argument, NULL, OPT_PORT},
        {"cores", required_argument, NULL, OPT_CORES},
        {"fold", required_argument, NULL, OPT_FOLD}, {"pps", required_argument, NULL, OPT_PPS},
        {"gbps", required_argument, NULL, OPT_GBPS},
        {"speedup", required_argument, NULL, OPT_SPEEDUP},
        {"writes", required_argument, NULL, OPT_WRITES},
        {"costs", required_argument, NULL, OPT_COSTS},
        {"ring", required_argument, NULL, OPT_RING},
        {"nic-gbps", required_argument, NULL, OPT_NIC_GBPS},
        {"pcie-gbps", required_argument, NULL, OPT_PCIE_GBPS},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"mlffr", no_argument, NULL, OPT_MLFFR},   {"scaling", no_argument, NULL, OPT_SCALING},
        {"rss-only", no_argument, NULL, OPT_RSS_ONLY}, {"json", no_argument, NULL, OPT_JSON},
        {"calibrate", optional_argument, NULL, OPT_CALIBRATE},
        {"pace", required_argument, NULL, OPT_PACE},
        {"units", required_argument, NULL, OPT_UNITS},
        {"target", required_argument, NULL, OPT_TARGET},
        {"driver-from", required_argument, NULL, OPT_DRIVER_FROM},
        {NULL, 0, NULL, 0}};
    opterr = 0;
    optind = 1;
    int c;
    bool after_calibrate = false;   /* `--calibrate NF.bc`: the next operand is the NF */
    /* "-" first: operands come back in order (as option 1), so traces keep
     * their order among --port files. */
    while ((c = getopt_long(argc, argv, "-:ho:", longs, NULL)) != -1) {
        const char *val = optarg;
        bool was_calibrate = after_calibrate;
        after_calibrate = false;
        long n;
        switch (c) {
        case 'h':
            usage(stdout);
            return -1;
        case OPT_PLAN: a->plan_path = val; break;
        case OPT_LAN:
            if (trace_options_add_lan(&a->traces, val, &err)) {
                cmd_error("sim", "--lan: %s", err.msg);
                return UTIL_EXIT_USAGE;
            }
            /* Each --lan adds at least one prefix, so this cannot overflow. */
            if (a->n_lan_given < TRACE_MAX_LAN)
                a->lan_given[a->n_lan_given++] = val;
            break;
        case OPT_PORT:
            if (trace_options_add_port_file(&a->traces, val, &err)) {
                cmd_error("sim", "--port: %s", err.msg);
                return UTIL_EXIT_USAGE;
            }
            a->n_traces++;
            break;
        case OPT_CORES:
            if (parse_count("--cores", val, SIM_MAX_CORES, &n))
                return UTIL_EXIT_USAGE;
            a->opts.cores = (int)n;
            break;
        case OPT_FOLD:
            if (strcmp(val, "plan") == 0)
                a->opts.fold = SIM_FOLD_PLAN;
            else if (strcmp(val, "rr") == 0)
                a->opts.fold = SIM_FOLD_ROUND_ROBIN;
            else if (strcmp(val, "synth") == 0)
                a->opts.fold = SIM_FOLD_SYNTH;
            else {
                cmd_error("sim", "--fold is 'plan', 'rr' or 'synth', got '%s'", val);
                return UTIL_EXIT_USAGE;
            }
            break;
        case OPT_PPS: case OPT_GBPS: case OPT_SPEEDUP: {
            const char *name = c == OPT_PPS ? "--pps" : c == OPT_GBPS ? "--gbps" : "--speedup";
            if (pacing_given++) {
                cmd_error("sim", "give one of --pps, --gbps, --speedup");
                return UTIL_EXIT_USAGE;
            }
            a->rate_kind = c == OPT_PPS ? RATE_PPS : c == OPT_GBPS ? RATE_GBPS : RATE_SPEEDUP;
            if (parse_rate_option(name, val, a->rate_kind, NULL, &a->rate_value))
                return UTIL_EXIT_USAGE;
            break;
        }
        case OPT_PACE:
            a->pace_given = true;
            if (strcmp(val, "even") == 0)
                a->opts.model = SIM_MODEL_EVEN;
            else if (strcmp(val, "trace") == 0)
                a->opts.model = SIM_MODEL_TRACE;
            else if (strcmp(val, "bits") == 0)
                a->opts.model = SIM_MODEL_BITS;
            else {
                cmd_error("sim", "--pace is 'even', 'trace' or 'bits', got '%s'", val);
                return UTIL_EXIT_USAGE;
            }
            break;
        case OPT_UNITS:
            if (strcmp(val, "wire") == 0 || strcmp(val, "frame") == 0)
                a->frame_units = val[0] == 'f';
            else {
                cmd_error("sim", "--units is 'wire' or 'frame', got '%s'", val);
                return UTIL_EXIT_USAGE;
            }
            break;
        case OPT_TARGET:
            if (parse_rate_option("--target", val, RATE_NONE, &a->target_kind,
                                  &a->target_value))
                return UTIL_EXIT_USAGE;
            a->target_text = val;
            break;
        case OPT_WRITES:
            if (strcmp(val, "first") == 0)
                a->opts.writes_every_packet = false;
            else if (strcmp(val, "all") == 0)
                a->opts.writes_every_packet = true;
            else {
                cmd_error("sim", "--writes is 'first' or 'all', got '%s'", val);
                return UTIL_EXIT_USAGE;
            }
            break;
        case OPT_COSTS: a->costs_path = val; break;
        case OPT_RING:
            if (parse_count("--ring", val, 1L << 24, &n))
                return UTIL_EXIT_USAGE;
            a->ring = (int)n;
            break;
        case OPT_NIC_GBPS:
            if (parse_rate_option("--nic-gbps", val, RATE_GBPS, NULL, &a->nic_gbps))
                return UTIL_EXIT_USAGE;
            break;
        case OPT_PCIE_GBPS:
            if (parse_rate_option("--pcie-gbps", val, RATE_GBPS, NULL, &a->pcie_gbps))
                return UTIL_EXIT_USAGE;
            break;
        case OPT_LIMIT:
            if (parse_count("--limit", val, 0x7fffffffffffffffL, &n))
                return UTIL_EXIT_USAGE;
            a->opts.limit = (uint64_t)n;
            break;
        case OPT_THREADS:
            if (parse_count("--threads", val, 2, &n))
                return UTIL_EXIT_USAGE;
            a->opts.threads = (int)n;
            break;
        case 'o': a->output = val; break;
        case OPT_MLFFR: a->mlffr = true; break;
        case OPT_SCALING: a->scaling = true; break;
        case OPT_RSS_ONLY: a->opts.rss_only = true; break;
        case OPT_JSON: a->json = true; break;
        case OPT_DRIVER_FROM: a->driver_from = val; break;
        case OPT_CALIBRATE:
            a->calibrate = true;
            if (val)
                a->calibrate_nf = val;
            else
                after_calibrate = true;
            break;
        case 1:                         /* an operand: a trace, or the NF to calibrate */
            if (was_calibrate && !a->calibrate_nf) {
                a->calibrate_nf = val;
                break;
            }
            if (trace_options_add_file(&a->traces, val, &err)) {
                cmd_error("sim", "%s", err.msg);
                return UTIL_EXIT_USAGE;
            }
            a->n_traces++;
            break;
        case ':':
            cmd_error("sim", "%s needs a value (see 'rsskey sim --help')", argv[optind - 1]);
            return UTIL_EXIT_USAGE;
        default:
            cmd_error("sim", "unknown option '%s' (see 'rsskey sim --help')", argv[optind - 1]);
            return UTIL_EXIT_USAGE;
        }
    }
    const char *inputs[4 + TRACE_MAX_INPUTS] = {a->plan_path, a->costs_path, a->calibrate_nf,
                                                a->driver_from};
    for (size_t i = 0; i < a->traces.n_inputs; i++)
        inputs[4 + i] = a->traces.inputs[i].path;
    if (cmd_output_is_input("sim", a->output, inputs, 4 + (int)a->traces.n_inputs))
        return UTIL_EXIT_USAGE;
    if (a->driver_from && !a->calibrate) {
        cmd_error("sim", "--driver-from goes with --calibrate");
        return UTIL_EXIT_USAGE;
    }
    if (a->calibrate)
        return 0;
    if (!a->plan_path) {
        cmd_error("sim", "--plan PLAN.json is required (write one with 'rsskey synth')");
        return UTIL_EXIT_USAGE;
    }
    if (a->n_traces == 0) {
        cmd_error("sim", "no trace given: name pcap files, or --port N=FILE");
        return UTIL_EXIT_USAGE;
    }
    if (a->opts.rss_only && (a->mlffr || a->scaling || a->target_kind)) {
        cmd_error("sim", "--rss-only counts packets only; it cannot be combined with "
                  "--mlffr, --scaling or --target");
        return UTIL_EXIT_USAGE;
    }
    if (a->target_kind && a->rate_kind) {
        cmd_error("sim", "--target sets the offered rate itself: drop --pps, --gbps or "
                  "--speedup (choose the pacing with --pace)");
        return UTIL_EXIT_USAGE;
    }
    if (a->rate_kind == RATE_SPEEDUP && a->pace_given && a->opts.model != SIM_MODEL_TRACE) {
        cmd_error("sim", "--speedup scales the trace's own timing: it goes with --pace trace "
                  "only (or give --pps/--gbps)");
        return UTIL_EXIT_USAGE;
    }
    if (a->pace_given && a->opts.model != SIM_MODEL_TRACE && !a->rate_kind &&
        !a->target_kind && !a->mlffr && !a->scaling) {
        cmd_error("sim", "--pace %s needs a rate: give --pps or --gbps",
                  sim_pace_model_name(a->opts.model));
        return UTIL_EXIT_USAGE;
    }
    return 0;
}

static int load_costs(const struct sim_args *a, struct sim_costs *costs)
{
    sim_costs_default(costs);
    struct util_error err;
    if (a->costs_path) {
        int rc = sim_costs_read(a->costs_path, costs, &err);
        if (rc) {
            cmd_error("sim", "%s", err.msg);
            return rc;
        }
    }
    if (a->ring)
        costs->ring_size = (uint32_t)a->ring;
    if (a->nic_gbps > 0)
        costs->nic_gbps = a->nic_gbps;
    if (a->pcie_gbps > 0)
        costs->pcie_gbps = a->pcie_gbps;
    return 0;
}

static int run_calibrate(const struct sim_args *a)
{
    struct sim_costs costs;
    int rc = load_costs(a, &costs);
    if (rc)
        return rc;
    struct util_error err;
    FILE *log = a->json ? NULL : stderr;
    if (log && a->calibrate_nf)
        fprintf(log, "calibrating for %s: rsskey does not run bitcode, so this times the "
                "runtime's state operations at this NF's scale (docs/simulator.md)\n",
                a->calibrate_nf);
    struct sim_calib_object *objs = NULL;
    int n_objs = 0;
    if (a->calibrate_nf) {
        /* The NF's objects and their sizes, from its bitcode. */
        struct ir_options io = {0};
        struct ir_nf nf;
        memset(&nf, 0, sizeof nf);
        rc = ir_analyze_file(a->calibrate_nf, &io, &nf, &err);
        if (rc) {
            cmd_error("sim", "%s", err.msg);
            return rc;
        }
        objs = calloc(nf.n_objects ? nf.n_objects : 1, sizeof *objs);
        for (int i = 0; objs && i < nf.n_objects; i++) {
            const struct ir_object *o = &nf.objects[i];
            struct sim_calib_object *co = &objs[n_objs++];
            snprintf(co->name, sizeof co->name, "%s", o->name);
            co->kind = (enum deps_object_kind)o->kind;   /* same order */
            co->key_size = o->key_size;
            co->record_size = o->record_size;
            co->capacity = o->capacity;
        }
        ir_nf_free(&nf);
    }
    double driver = 0;
    if (a->driver_from && (rc = sim_read_measured_driver(a->driver_from, &driver, &err)) != 0) {
        free(objs);
        cmd_error("sim", "%s", err.msg);
        return rc;
    }
    rc = sim_calibrate(&costs, objs, n_objs, driver, log, &err);
    free(objs);
    if (rc) {
        cmd_error("sim", "calibration failed: %s", err.msg);
        return rc;
    }
    char header[512];
    snprintf(header, sizeof header,
             "# rsskey sim cost model, measured by 'rsskey sim --calibrate'%s%s on this\n"
             "# machine (base, per-access costs and clock; caches keep the defaults).\n"
             "# Driver share of base_cycles: %s%s.\n"
             "# Parameters: docs/simulator.md.\n",
             a->calibrate_nf ? " " : "", a->calibrate_nf ? a->calibrate_nf : "",
             a->driver_from ? "measured, from " : "80 cycles, assumed",
             a->driver_from ? a->driver_from : "");
    char *text = sim_costs_format(&costs, header);
    if (!text) {
        cmd_error("sim", "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    if (a->json) {
        struct util_json *w = util_json_new();
        util_json_object_begin(w);
        util_json_key(w, "ghz");
        util_json_double(w, costs.ghz);
        util_json_key(w, "base_cycles");
        util_json_double(w, costs.base_cycles);
        util_json_key(w, "read_cycles");
        util_json_double(w, costs.read_cycles);
        util_json_key(w, "write_cycles");
        util_json_double(w, costs.write_cycles);
        util_json_key(w, "alloc_cycles");
        util_json_double(w, costs.alloc_cycles);
        util_json_key(w, "lock_read_cycles");
        util_json_double(w, costs.lock_read_cycles);
        util_json_key(w, "lock_write_cycles");
        util_json_double(w, costs.lock_write_cycles);
        util_json_key(w, "output");
        util_json_string(w, a->output ? a->output : "");
        util_json_object_end(w);
        size_t len;
        const char *j = util_json_text(w, &len);
        if (a->output)
            printf("%s\n", j);
        else
            fprintf(stderr, "%s\n", j);     /* stdout carries the costs file */
        util_json_free(w);
    }
    rc = util_write_file_atomic(a->output ? a->output : "-", text, strlen(text), &err);
    free(text);
    if (rc) {
        cmd_error("sim", "%s", err.msg);
        return UTIL_EXIT_IO;
    }
    return 0;
}

/* ---- Rates and units ------------------------------------------------------ */

/* What the rates of this run mean: the trace's profile (mean bits a packet,
 * timing) and the unit Gbps are read and printed in. */
struct units {
    struct sim_profile prof;
    bool have_prof, frame;
};

static double bits_per_packet(const struct units *u)
{
    if (!u->have_prof || !u->prof.packets)
        return 0;
    return (u->frame ? u->prof.frame_bits : u->prof.wire_bits) / u->prof.packets;
}

static const char *unit_name(const struct units *u)
{
    return u->frame ? "frame" : "wire";
}

/* A rate option's value in packets per second. */
static double to_pps(const struct units *u, enum rate_kind k, double v)
{
    double b = bits_per_packet(u);
    return k == RATE_PPS ? v : b > 0 ? v * 1e9 / b : 0;
}

static const char *pacing_text(const struct sim_args *a, const struct units *u, double pps,
                               char *buf, size_t n)
{
    double g = pps * bits_per_packet(u) / 1e9;
    if (a->rate_kind == RATE_NONE || a->rate_kind == RATE_SPEEDUP)
        snprintf(buf, n, "trace timestamps x%.4g", a->rate_kind ? a->rate_value : 1.0);
    else if (a->opts.model == SIM_MODEL_TRACE)
        snprintf(buf, n, "%.4f Mpps = %.3f Gbps %s, trace timing scaled to it", pps / 1e6, g,
                 unit_name(u));
    else if (a->opts.model == SIM_MODEL_BITS)
        snprintf(buf, n, "%.4f Mpps = %.3f Gbps %s, back to back in wire bits", pps / 1e6,
                 g, unit_name(u));
    else
        snprintf(buf, n, "%.4f Mpps = %.3f Gbps %s, evenly paced", pps / 1e6, g,
                 unit_name(u));
    return buf;
}

/* ---- Scaling rows ------------------------------------------------------------ */

struct scaling_row {
    int cores;
    double mlffr_pps, gbps_wire, gbps_frame, imbalance, cycles_per_packet, bus_per_packet;
    enum sim_cause cause;
    int cause_core;
    char why[256];
    /* What explains a flat or falling row (at the MLFFR). */
    double shared_write_share, busiest_share, top_flow_share;
    int window_core;
    uint64_t window_packets;
    bool flat;                  /* < 5% over the previous row, or lower */
    char flat_why[64];          /* "shared writes 38%", "one flow 62% of core 2" */
};

static void fill_row(struct scaling_row *row, int cores, const struct sim_mlffr_result *m)
{
    const struct sim_result *r = &m->at;
    memset(row, 0, sizeof *row);
    row->cores = cores;
    row->mlffr_pps = m->pps;
    row->gbps_wire = r->offered ? m->pps * r->wire_bits / r->offered / 1e9 : 0;
    row->gbps_frame = r->offered ? m->pps * r->wire_bytes * 8.0 / r->offered / 1e9 : 0;
    row->imbalance = r->imbalance;
    double busy = 0, bus = 0;
    for (int k = 0; k < r->cores; k++) {
        busy += r->core[k].busy_cycles;
        bus += (double)r->core[k].bus_ops;
    }
    row->cycles_per_packet = r->processed ? busy / r->processed : 0;
    row->bus_per_packet = r->processed ? bus / r->processed : 0;
    row->cause = m->cause;
    row->cause_core = m->cause_core;
    snprintf(row->why, sizeof row->why, "%s", m->why);
    row->shared_write_share = r->shared_write_share;
    row->busiest_share = r->busiest_share;
    row->window_core = r->window_core;
    row->window_packets = r->window_packets;
    row->top_flow_share = r->window_packets ? (double)r->window_top_flow / r->window_packets : 0;
}

/* A flat or falling row's "why" word: the NIC or PCIe when they are the
 * cause, else the strongest of shared writes (20%+ of packets), one flow
 * (half or more of its core's busiest window), imbalance (1.3+), else the
 * MLFFR search's cause. */
static void explain_row(struct scaling_row *row, const struct scaling_row *prev)
{
    row->flat = prev && row->mlffr_pps < 1.05 * prev->mlffr_pps;
    row->flat_why[0] = 0;
    if (!row->flat)
        return;
    char *b = row->flat_why;
    size_t n = sizeof row->flat_why;
    if (row->cause == SIM_CAUSE_NIC || row->cause == SIM_CAUSE_PCIE)
        snprintf(b, n, "%s", sim_cause_name(row->cause));
    else if (row->shared_write_share >= 0.2)
        snprintf(b, n, "shared writes %.0f%%", 100 * row->shared_write_share);
    else if (row->top_flow_share >= 0.5 && row->window_core >= 0)
        snprintf(b, n, "one flow %.0f%% of core %d", 100 * row->top_flow_share,
                 row->window_core);
    else if (row->imbalance >= 1.3)
        snprintf(b, n, "imbalance %.2f", row->imbalance);
    else
        snprintf(b, n, "%s", sim_cause_name(row->cause));
}

/* "core cycles (core 2)", "NIC line rate": a table cell. */
static const char *cause_cell(enum sim_cause c, int core, char *buf, size_t n)
{
    if (core >= 0)
        snprintf(buf, n, "%s (core %d)", sim_cause_name(c), core);
    else
        snprintf(buf, n, "%s", sim_cause_name(c));
    return buf;
}

static void json_row(struct util_json *w, const struct scaling_row *row)
{
    util_json_object_begin(w);
    util_json_key(w, "cores");
    util_json_int(w, row->cores);
    util_json_key(w, "mlffr_mpps");
    util_json_double(w, row->mlffr_pps / 1e6);
    util_json_key(w, "gbps");
    util_json_double(w, row->gbps_wire);
    util_json_key(w, "gbps_frame");
    util_json_double(w, row->gbps_frame);
    util_json_key(w, "imbalance");
    util_json_double(w, row->imbalance);
    util_json_key(w, "cycles_per_packet");
    util_json_double(w, row->cycles_per_packet);
    util_json_key(w, "bus_ops_per_packet");
    util_json_double(w, row->bus_per_packet);
    char cell[64];
    util_json_key(w, "bottleneck");
    util_json_string(w, cause_cell(row->cause, row->cause_core, cell, sizeof cell));
    util_json_key(w, "cause");
    util_json_string(w, sim_cause_name(row->cause));
    util_json_key(w, "cause_core");
    util_json_int(w, row->cause_core);
    util_json_key(w, "why");
    util_json_string(w, row->why);
    util_json_key(w, "shared_write_share");
    util_json_double(w, row->shared_write_share);
    util_json_key(w, "busiest_core_share");
    util_json_double(w, row->busiest_share);
    util_json_key(w, "top_flow_share");
    util_json_double(w, row->top_flow_share);
    util_json_key(w, "top_flow_core");
    util_json_int(w, row->window_core);
    util_json_key(w, "window_packets");
    util_json_uint(w, row->window_packets);
    util_json_key(w, "flat");
    util_json_bool(w, row->flat);
    util_json_key(w, "flat_why");
    util_json_string(w, row->flat_why);
    util_json_object_end(w);
}

/* ---- --target ------------------------------------------------------------------ */

static void print_target(const struct sim_args *a, const struct units *u,
                         const struct sim_target_result *t, int max_cores)
{
    double g = t->pps * bits_per_packet(u) / 1e9;
    printf("target %s = %.4f Mpps = %.3f Gbps %s (this trace: %.1f %s bits a packet), "
           "pacing: %s; cores 1..%d\n", a->target_text, t->pps / 1e6, g, unit_name(u),
           bits_per_packet(u), unit_name(u), sim_pace_model_name(a->opts.model), max_cores);
    printf("%5s %10s %9s  %s\n", "cores", "drops", "loss-free", "what loses packets");
    for (int i = 0; i < t->n_tried; i++) {
        const struct sim_target_try *y = &t->tried[i];
        char first[64];
        snprintf(first, sizeof first, "%5d %10llu %9s ", y->cores,
                 (unsigned long long)y->drops, y->loss_free ? "yes" : "no");
        sim_print_wrapped(stdout, first, 28, y->loss_free ? "-" : y->why);
    }
    if (t->cores) {
        printf("answer: %d core%s carr%s %s loss-free (%s pacing)", t->cores,
               t->cores == 1 ? "" : "s", t->cores == 1 ? "ies" : "y", a->target_text,
               sim_pace_model_name(a->opts.model));
        if (t->cores > 1) {
            const struct sim_target_try *b = &t->tried[t->cores - 2];
            printf("; at %d: %s", b->cores, sim_cause_name(b->cause));
            if (b->cause_core >= 0)
                printf(" on core %d", b->cause_core);
        }
        printf("\n\n");
    } else {
        const struct sim_target_try *b = &t->tried[t->n_tried - 1];
        char first[64];
        if (b->cause == SIM_CAUSE_NIC || b->cause == SIM_CAUSE_PCIE)
            snprintf(first, sizeof first, "answer: none at any core count (%s);",
                     sim_cause_name(b->cause));
        else
            snprintf(first, sizeof first, "answer: none up to %d cores;", b->cores);
        sim_print_wrapped(stdout, first, 8, b->why);
        printf("\n");
    }
}

static void json_target(struct util_json *w, const struct sim_args *a, const struct units *u,
                        const struct sim_target_result *t, int max_cores)
{
    util_json_key(w, "target");
    util_json_object_begin(w);
    util_json_key(w, "rate");
    util_json_string(w, a->target_text);
    util_json_key(w, "mpps");
    util_json_double(w, t->pps / 1e6);
    util_json_key(w, "gbps_wire");
    util_json_double(w, u->prof.packets ? t->pps * u->prof.wire_bits / u->prof.packets / 1e9
                                        : 0);
    util_json_key(w, "gbps_frame");
    util_json_double(w, u->prof.packets ? t->pps * u->prof.frame_bits / u->prof.packets / 1e9
                                        : 0);
    util_json_key(w, "pacing");
    util_json_string(w, sim_pace_model_name(a->opts.model));
    util_json_key(w, "max_cores");
    util_json_int(w, max_cores);
    util_json_key(w, "cores");
    if (t->cores)
        util_json_int(w, t->cores);
    else
        util_json_null(w);
    util_json_key(w, "tried");
    util_json_array_begin(w);
    for (int i = 0; i < t->n_tried; i++) {
        const struct sim_target_try *y = &t->tried[i];
        util_json_object_begin(w);
        util_json_key(w, "cores");
        util_json_int(w, y->cores);
        util_json_key(w, "drops");
        util_json_uint(w, y->drops);
        util_json_key(w, "loss_free");
        util_json_bool(w, y->loss_free);
        util_json_key(w, "cause");
        util_json_string(w, sim_cause_name(y->cause));
        util_json_key(w, "cause_core");
        util_json_int(w, y->cause_core);
        util_json_key(w, "why");
        util_json_string(w, y->loss_free ? "" : y->why);
        util_json_object_end(w);
    }
    util_json_array_end(w);
    util_json_object_end(w);
}

/* ---- The command ------------------------------------------------------------------ */

int cmd_sim(int argc, char **argv)
{
    struct sim_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc < 0 ? UTIL_EXIT_OK : rc;
    if (a.calibrate)
        return run_calibrate(&a);

    struct sim_costs costs;
    if ((rc = load_costs(&a, &costs)))
        return rc;
    struct util_error err;
    struct rss_plan plan;
    if ((rc = rss_plan_read(a.plan_path, &plan, &err))) {
        cmd_error("sim", "%s", err.msg);
        return rc;
    }
    int cores = a.opts.cores ? a.opts.cores : plan.cores;
    struct sim_source src;
    if ((rc = sim_file_source_open(&src, &a.traces, &err))) {
        cmd_error("sim", "%s", err.msg);
        rss_plan_free(&plan);
        return rc;
    }
    struct sim_result *res = calloc(1, sizeof *res);
    struct sim_mlffr_result *mres = calloc(1, sizeof *mres);
    struct sim_target_result *tres = calloc(1, sizeof *tres);
    struct scaling_row *rows = calloc(SIM_MAX_CORES + 1, sizeof *rows);
    struct units u = {.frame = a.frame_units};
    double pps = 0;
    int max_cores = a.opts.cores ? a.opts.cores : SIM_MAX_CORES;
    if (!res || !rows || !mres || !tres) {
        cmd_error("sim", "out of memory");
        rc = UTIL_EXIT_FAILURE;
        goto out;
    }
    /* The trace's mean packet and timing convert Gbps to pps and scale the
     * timing (one pass more; none for --rss-only or the trace's own time). */
    if (!a.opts.rss_only && (a.rate_kind == RATE_PPS || a.rate_kind == RATE_GBPS ||
                             a.target_kind || a.mlffr || a.scaling)) {
        if ((rc = sim_profile_source(&src, a.opts.limit, &u.prof, &err))) {
            cmd_error("sim", "%s", err.msg);
            goto out;
        }
        u.have_prof = true;
    }
    if (a.rate_kind == RATE_PPS || a.rate_kind == RATE_GBPS) {
        pps = to_pps(&u, a.rate_kind, a.rate_value);
        if (a.opts.rss_only) {
            a.opts.pacing = SIM_PACE_PPS;       /* unused: --rss-only has no time */
            a.opts.rate = 1;
        } else if (!(pps > 0)) {
            cmd_error("sim", "the trace has no packets: a rate in Gbps cannot be converted");
            rc = UTIL_EXIT_INPUT;
            goto out;
        } else if ((rc = sim_pace_at(&u.prof, a.opts.model, pps, &a.opts, &err))) {
            cmd_error("sim", "%s", err.msg);
            goto out;
        }
    } else if (a.rate_kind == RATE_SPEEDUP) {
        a.opts.pacing = SIM_PACE_TRACE;
        a.opts.rate = a.rate_value;
    }
    if (a.target_kind) {
        double tpps = to_pps(&u, a.target_kind, a.target_value);
        if (!(tpps > 0)) {
            cmd_error("sim", "the trace has no packets: --target cannot be converted");
            rc = UTIL_EXIT_INPUT;
            goto out;
        }
        if ((rc = sim_target(&plan, &costs, &a.opts, &src, tpps, max_cores, tres, &err))) {
            cmd_error("sim", "%s", err.msg);
            goto out;
        }
        *res = tres->at;
        res->bottleneck = res->bottleneck_buf;
        /* Scaling: 1..--cores, else up to the answer (at least the plan's). */
        if (!a.opts.cores && tres->at.cores > cores)
            cores = tres->at.cores;
    } else {
        a.opts.progress = true;
        if ((rc = src.rewind(src.ctx, &err)) ||
            (rc = sim_run(&plan, &costs, &a.opts, &src, res, &err))) {
            cmd_error("sim", "%s", err.msg);
            goto out;
        }
        a.opts.progress = false;
    }
    struct util_progress prog;
    if (a.mlffr || a.scaling) {
        util_progress_start(&prog, "MLFFR search", a.scaling ? (uint64_t)cores + 1 : 1);
        struct sim_options o = a.opts;
        o.cores = cores;
        if ((rc = sim_mlffr_explained(&plan, &costs, &o, &src, mres, &err))) {
            util_progress_finish(&prog);
            cmd_error("sim", "%s", err.msg);
            goto out;
        }
        util_progress_update(&prog, 1);
    }
    if (a.scaling) {
        static struct sim_mlffr_result m;
        for (int k = 1; k <= cores; k++) {
            struct sim_options o = a.opts;
            o.cores = k;
            if ((rc = sim_mlffr_explained(&plan, &costs, &o, &src, &m, &err))) {
                util_progress_finish(&prog);
                cmd_error("sim", "%s", err.msg);
                goto out;
            }
            fill_row(&rows[k - 1], k, &m);
            explain_row(&rows[k - 1], k > 1 ? &rows[k - 2] : NULL);
            util_progress_update(&prog, (uint64_t)k + 1);
        }
    }
    if (a.mlffr || a.scaling)
        util_progress_finish(&prog);

    char pace[160];
    if (a.target_kind)
        snprintf(pace, sizeof pace, "--target %s, %s pacing", a.target_text,
                 sim_pace_model_name(a.opts.model));
    else
        pacing_text(&a, &u, pps, pace, sizeof pace);
    if (a.json) {
        struct util_json *w = util_json_new();
        util_json_object_begin(w);
        util_json_key(w, "plan");
        util_json_string(w, a.plan_path);
        /* Ties this output to its plan: rsskey report refuses another plan's. */
        char plan_sha[65];
        struct util_error sha_err;
        util_json_key(w, "plan_sha256");
        util_json_string(w, util_sha256_file(a.plan_path, plan_sha, &sha_err) == 0 ? plan_sha
                                                                                   : "");
        util_json_key(w, "nf");
        util_json_string(w, plan.deps.nf);
        util_json_key(w, "traces");
        util_json_array_begin(w);
        for (size_t i = 0; i < a.traces.n_inputs; i++)
            util_json_string(w, a.traces.inputs[i].path);
        util_json_array_end(w);
        json_port_policy(w, &a);
        util_json_key(w, "offered_load");
        util_json_string(w, pace);
        util_json_key(w, "pacing");
        util_json_string(w, a.opts.pacing == SIM_PACE_PPS ? "pps"
                            : a.opts.pacing == SIM_PACE_GBPS ? "gbps" : "speedup");
        util_json_key(w, "rate");
        util_json_double(w, a.opts.rate);
        util_json_key(w, "pace_model");
        util_json_string(w, sim_pace_model_name(a.opts.model));
        util_json_key(w, "units");
        util_json_string(w, unit_name(&u));
        util_json_key(w, "fold");
        util_json_string(w, a.opts.fold == SIM_FOLD_PLAN ? "plan"
                            : a.opts.fold == SIM_FOLD_SYNTH ? "synth" : "rr");
        util_json_key(w, "writes");
        util_json_string(w, a.opts.writes_every_packet ? "all" : "first");
        util_json_key(w, "costs");
        util_json_string(w, a.costs_path ? a.costs_path : "built-in defaults");
        util_json_key(w, "rss_only");
        util_json_bool(w, a.opts.rss_only);
        if (a.target_kind)
            json_target(w, &a, &u, tres, max_cores);
        sim_state_write_json(&plan, &costs, res->cores ? res->cores : cores, w);
        sim_result_write_json(res, &costs, w);
        if (a.mlffr || a.scaling) {
            struct scaling_row row;
            fill_row(&row, cores, mres);
            util_json_key(w, "mlffr");
            json_row(w, &row);
        }
        if (a.scaling) {
            util_json_key(w, "scaling");
            util_json_array_begin(w);
            for (int k = 0; k < cores; k++)
                json_row(w, &rows[k]);
            util_json_array_end(w);
        }
        util_json_object_end(w);
        size_t len;
        printf("%s\n", util_json_text(w, &len));
        util_json_free(w);
    } else {
        int shown = res->cores ? res->cores : cores;
        printf("plan %s (%s, NIC %s), %d cores; offered: %s\n", a.plan_path,
               plan.deps.nf[0] ? plan.deps.nf : "?", plan.nic, shown, pace);
        printf("cost model: %s (%.1f GHz, L1 %llu KiB, L2 %llu KiB, LLC %llu MiB, ring %u)\n\n",
               a.costs_path ? a.costs_path : "built-in defaults", costs.ghz,
               (unsigned long long)costs.l1_bytes >> 10,
               (unsigned long long)costs.l2_bytes >> 10,
               (unsigned long long)costs.llc_bytes >> 20, costs.ring_size);
        if (a.target_kind) {
            print_target(&a, &u, tres, max_cores);
            printf("the run at %d cores:\n", shown);
        }
        if (!a.opts.rss_only)
            sim_print_state(stdout, &plan, &costs, shown);
        sim_print_result_units(stdout, res, &costs, a.frame_units);
        char cell[64];
        if (a.mlffr || a.scaling) {
            struct scaling_row row;
            fill_row(&row, cores, mres);
            printf("\nMLFFR on %d cores (%s pacing): %.3f Mpps, %.2f Gbps %s\n",
                   cores, sim_pace_model_name(a.opts.model), row.mlffr_pps / 1e6,
                   a.frame_units ? row.gbps_frame : row.gbps_wire, unit_name(&u));
            sim_print_wrapped(stdout, "  above it:", 4, row.why);
        }
        if (a.scaling) {
            printf("\nscaling (MLFFR per core count, %s pacing, RETA %s):\n",
                   sim_pace_model_name(a.opts.model),
                   a.opts.fold == SIM_FOLD_PLAN ? "folded from the plan's as --cores N folds it"
                   : a.opts.fold == SIM_FOLD_SYNTH ? "re-derived per count as synth would"
                                                   : "round-robin");
            char gh[24];
            snprintf(gh, sizeof gh, "Gbps %s", unit_name(&u));
            printf("%5s %10s %10s %8s %9s %9s %8s %7s  %s\n", "cores", "MLFFR Mpps", gh,
                   "speedup", "imbalance", "cyc/pkt", "bus/pkt", "target", "above the MLFFR");
            double tpps = a.target_kind ? tres->pps : 0;
            for (int k = 0; k < cores; k++) {
                const struct scaling_row *r = &rows[k];
                printf("%5d %10.3f %10.2f %8.2f %9.2f %9.1f %8.2f %7s  %s\n", r->cores,
                       r->mlffr_pps / 1e6, a.frame_units ? r->gbps_frame : r->gbps_wire,
                       rows[0].mlffr_pps > 0 ? r->mlffr_pps / rows[0].mlffr_pps : 0.0,
                       r->imbalance, r->cycles_per_packet, r->bus_per_packet,
                       !tpps ? "-" : r->mlffr_pps >= tpps ? "yes" : "no",
                       cause_cell(r->cause, r->cause_core, cell, sizeof cell));
                if (r->flat)
                    printf("%5s %s: %s (writes %.0f%%, busiest core %.0f%%, top flow %.0f%%"
                           " on core %d)\n", "", k && r->mlffr_pps <
                           rows[k - 1].mlffr_pps ? "falls" : "flat", r->flat_why,
                           100 * r->shared_write_share, 100 * r->busiest_share,
                           100 * r->top_flow_share, r->window_core);
            }
        }
    }
out:
    free(res);
    free(mres);
    free(tres);
    free(rows);
    sim_file_source_close(&src);
    rss_plan_free(&plan);
    return rc;
}
