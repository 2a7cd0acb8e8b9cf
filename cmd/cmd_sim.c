/*
 * cmd_sim.c - `rsskey sim`: replay traces through a plan on a simulated
 * multi-core machine (sim/), print per-core load and costs, MLFFR, scaling;
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
        "                        folded (entry -> plan core %% N) unless --fold rr\n"
        "  --fold plan|rr        RETA for other core counts: the plan's folded, or\n"
        "                        round-robin (entry %% N, also used above the plan's)\n"
        "  --pps R | --gbps G | --speedup X\n"
        "                        offered load: R packets/s evenly spaced, G Gbit/s of\n"
        "                        wire bytes back to back, or the trace's own timestamps\n"
        "                        X times faster (default: --speedup 1)\n"
        "  --costs FILE          cost model (default: built-in, see sim/costs/default.conf)\n"
        "  --ring N              RX descriptors per core (overrides the costs file)\n"
        "  --nic-gbps G          NIC line rate per port (overrides the costs file)\n"
        "  --pcie-gbps G         PCIe bandwidth (overrides the costs file)\n"
        "  --mlffr               search the maximum loss-free forwarding rate\n"
        "  --scaling             MLFFR for 1..N cores (N = --cores or the plan's)\n"
        "  --writes first|all    inserts (map put, allocate, ...) on a key's first packet\n"
        "                        only (default), or every access on every packet\n"
        "  --rss-only            hash + RETA + per-core packet counts only (fast)\n"
        "  --limit N             replay only the first N packets\n"
        "  --threads 1|2         host threads: 2 reads and hashes packets in a second\n"
        "                        thread (default when the host has 2 CPUs); same results\n"
        "  --json                print JSON: {\"cores\": [...], \"totals\": {...}, ...}\n"
        "  --calibrate [NF.bc]   time this machine's state operations, write a costs file\n"
        "  -o, --output FILE     where --calibrate writes (default: stdout)\n"
        "  -h, --help            this help\n"
        "\n"
        "Exit codes: 0 ok, 2 usage, 3 bad plan/trace/costs, 4 I/O.\n");
}

struct sim_args {
    const char *plan_path, *costs_path, *output, *calibrate_nf;
    bool calibrate, mlffr, scaling, json;
    int ring;
    double nic_gbps, pcie_gbps;
    struct sim_options opts;
    struct trace_source_options traces;
    int n_traces;
};

static int parse_double(const char *opt, const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !(v > 0) || !isfinite(v)) {
        cmd_error("sim", "%s needs a positive number, got '%s'", opt, s);
        return -1;
    }
    *out = v;
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
    int pacing_given = 0;
    struct util_error err;
    enum { OPT_PLAN = 256, OPT_LAN, OPT_PORT, OPT_CORES, OPT_FOLD, OPT_PPS, OPT_GBPS,
           OPT_SPEEDUP, OPT_WRITES, OPT_COSTS, OPT_RING, OPT_NIC_GBPS, OPT_PCIE_GBPS, OPT_LIMIT,
           OPT_THREADS, OPT_MLFFR, OPT_SCALING, OPT_RSS_ONLY, OPT_JSON, OPT_CALIBRATE };
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
            else {
                cmd_error("sim", "--fold is 'plan' or 'rr', got '%s'", val);
                return UTIL_EXIT_USAGE;
            }
            break;
        case OPT_PPS: case OPT_GBPS: case OPT_SPEEDUP: {
            const char *name = c == OPT_PPS ? "--pps" : c == OPT_GBPS ? "--gbps" : "--speedup";
            if (pacing_given++) {
                cmd_error("sim", "give one of --pps, --gbps, --speedup");
                return UTIL_EXIT_USAGE;
            }
            if (parse_double(name, val, &a->opts.rate))
                return UTIL_EXIT_USAGE;
            a->opts.pacing = c == OPT_PPS ? SIM_PACE_PPS
                           : c == OPT_GBPS ? SIM_PACE_GBPS : SIM_PACE_TRACE;
            break;
        }
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
            if (parse_double("--nic-gbps", val, &a->nic_gbps))
                return UTIL_EXIT_USAGE;
            break;
        case OPT_PCIE_GBPS:
            if (parse_double("--pcie-gbps", val, &a->pcie_gbps))
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
    const char *inputs[3 + TRACE_MAX_INPUTS] = {a->plan_path, a->costs_path, a->calibrate_nf};
    for (size_t i = 0; i < a->traces.n_inputs; i++)
        inputs[3 + i] = a->traces.inputs[i].path;
    if (cmd_output_is_input("sim", a->output, inputs, 3 + (int)a->traces.n_inputs))
        return UTIL_EXIT_USAGE;
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
    if (a->opts.rss_only && (a->mlffr || a->scaling)) {
        cmd_error("sim", "--rss-only counts packets only; it cannot be combined with "
                  "--mlffr or --scaling");
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
    rc = sim_calibrate(&costs, objs, n_objs, log, &err);
    free(objs);
    if (rc) {
        cmd_error("sim", "calibration failed: %s", err.msg);
        return rc;
    }
    char header[512];
    snprintf(header, sizeof header,
             "# rsskey sim cost model, measured by 'rsskey sim --calibrate'%s%s on this\n"
             "# machine (base, per-access costs and clock; caches keep the defaults).\n"
             "# Parameters: docs/simulator.md.\n",
             a->calibrate_nf ? " " : "", a->calibrate_nf ? a->calibrate_nf : "");
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

struct scaling_row {
    int cores;
    double mlffr_pps, gbps, imbalance, cycles_per_packet, bus_per_packet;
    char bottleneck[32];
};

static double mean_wire_bits(const struct sim_result *r)
{
    return r->offered ? r->wire_bytes * 8.0 / r->offered : 0;
}

static void fill_row(struct scaling_row *row, int cores, double pps, const struct sim_result *r)
{
    row->cores = cores;
    row->mlffr_pps = pps;
    row->gbps = pps * mean_wire_bits(r) / 1e9;
    row->imbalance = r->imbalance;
    double busy = 0, bus = 0;
    for (int k = 0; k < r->cores; k++) {
        busy += r->core[k].busy_cycles;
        bus += (double)r->core[k].bus_ops;
    }
    row->cycles_per_packet = r->processed ? busy / r->processed : 0;
    row->bus_per_packet = r->processed ? bus / r->processed : 0;
    /* At the MLFFR the limit is what stopped a faster loss-free rate. */
    double nic = r->nic_limit_pps, pcie = r->pcie_limit_pps;
    if (pps >= 0.999 * nic || pps >= 0.999 * pcie)
        snprintf(row->bottleneck, sizeof row->bottleneck, "%s",
                 nic <= pcie ? "NIC line rate" : "PCIe");
    else
        snprintf(row->bottleneck, sizeof row->bottleneck, "core %d", r->busiest_core);
}

static void json_row(struct util_json *w, const struct scaling_row *row)
{
    util_json_object_begin(w);
    util_json_key(w, "cores");
    util_json_int(w, row->cores);
    util_json_key(w, "mlffr_mpps");
    util_json_double(w, row->mlffr_pps / 1e6);
    util_json_key(w, "gbps");
    util_json_double(w, row->gbps);
    util_json_key(w, "imbalance");
    util_json_double(w, row->imbalance);
    util_json_key(w, "cycles_per_packet");
    util_json_double(w, row->cycles_per_packet);
    util_json_key(w, "bus_ops_per_packet");
    util_json_double(w, row->bus_per_packet);
    util_json_key(w, "bottleneck");
    util_json_string(w, row->bottleneck);
    util_json_object_end(w);
}

static const char *pacing_text(const struct sim_options *o, char *buf, size_t n)
{
    if (o->pacing == SIM_PACE_PPS)
        snprintf(buf, n, "%.4g pps evenly spaced", o->rate);
    else if (o->pacing == SIM_PACE_GBPS)
        snprintf(buf, n, "%.4g Gbit/s back to back", o->rate);
    else
        snprintf(buf, n, "trace timestamps x%.4g", o->rate);
    return buf;
}

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
    struct sim_result *res = calloc(2, sizeof *res);
    struct scaling_row *rows = calloc((size_t)cores + 1, sizeof *rows);
    double mlffr = 0;
    if (!res || !rows) {
        cmd_error("sim", "out of memory");
        rc = UTIL_EXIT_FAILURE;
        goto out;
    }
    a.opts.progress = true;
    if ((rc = sim_run(&plan, &costs, &a.opts, &src, &res[0], &err))) {
        cmd_error("sim", "%s", err.msg);
        goto out;
    }
    a.opts.progress = false;
    struct util_progress prog;
    if (a.mlffr || a.scaling) {
        util_progress_start(&prog, "MLFFR search", a.scaling ? (uint64_t)cores + 1 : 1);
        if ((rc = sim_mlffr(&plan, &costs, &a.opts, &src, &mlffr, &res[1], &err))) {
            util_progress_finish(&prog);
            cmd_error("sim", "%s", err.msg);
            goto out;
        }
        util_progress_update(&prog, 1);
    }
    if (a.scaling) {
        for (int k = 1; k <= cores; k++) {
            struct sim_options o = a.opts;
            o.cores = k;
            double pps;
            static struct sim_result at;
            if ((rc = sim_mlffr(&plan, &costs, &o, &src, &pps, &at, &err))) {
                util_progress_finish(&prog);
                cmd_error("sim", "%s", err.msg);
                goto out;
            }
            fill_row(&rows[k - 1], k, pps, &at);
            util_progress_update(&prog, (uint64_t)k + 1);
        }
    }
    if (a.mlffr || a.scaling)
        util_progress_finish(&prog);

    char pace[64];
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
        util_json_key(w, "offered_load");
        util_json_string(w, pacing_text(&a.opts, pace, sizeof pace));
        util_json_key(w, "pacing");
        util_json_string(w, a.opts.pacing == SIM_PACE_PPS ? "pps"
                            : a.opts.pacing == SIM_PACE_GBPS ? "gbps" : "speedup");
        util_json_key(w, "rate");
        util_json_double(w, a.opts.rate);
        util_json_key(w, "writes");
        util_json_string(w, a.opts.writes_every_packet ? "all" : "first");
        util_json_key(w, "costs");
        util_json_string(w, a.costs_path ? a.costs_path : "built-in defaults");
        util_json_key(w, "rss_only");
        util_json_bool(w, a.opts.rss_only);
        sim_state_write_json(&plan, &costs, cores, w);
        sim_result_write_json(&res[0], &costs, w);
        if (a.mlffr || a.scaling) {
            struct scaling_row row;
            fill_row(&row, cores, mlffr, &res[1]);
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
        printf("plan %s (%s, NIC %s), %d cores; offered: %s\n", a.plan_path,
               plan.deps.nf[0] ? plan.deps.nf : "?", plan.nic, cores,
               pacing_text(&a.opts, pace, sizeof pace));
        printf("cost model: %s (%.1f GHz, L1 %llu KiB, L2 %llu KiB, LLC %llu MiB, ring %u)\n\n",
               a.costs_path ? a.costs_path : "built-in defaults", costs.ghz,
               (unsigned long long)costs.l1_bytes >> 10,
               (unsigned long long)costs.l2_bytes >> 10,
               (unsigned long long)costs.llc_bytes >> 20, costs.ring_size);
        if (!a.opts.rss_only)
            sim_print_state(stdout, &plan, &costs, cores);
        sim_print_result(stdout, &res[0], &costs);
        if (a.mlffr || a.scaling) {
            struct scaling_row row;
            fill_row(&row, cores, mlffr, &res[1]);
            printf("\nMLFFR on %d cores: %.3f Mpps, %.2f Gbps (bottleneck: %s)\n", cores,
                   row.mlffr_pps / 1e6, row.gbps, row.bottleneck);
        }
        if (a.scaling) {
            printf("\nscaling (MLFFR per core count, RETA %s):\n",
                   a.opts.fold == SIM_FOLD_PLAN ? "folded from the plan's" : "round-robin");
            printf("%5s %10s %8s %8s %9s %9s %8s  %s\n", "cores", "MLFFR Mpps", "Gbps",
                   "speedup", "imbalance", "cyc/pkt", "bus/pkt", "bottleneck");
            for (int k = 0; k < cores; k++) {
                const struct scaling_row *r = &rows[k];
                printf("%5d %10.3f %8.2f %8.2f %9.2f %9.1f %8.2f  %s\n", r->cores,
                       r->mlffr_pps / 1e6, r->gbps,
                       rows[0].mlffr_pps > 0 ? r->mlffr_pps / rows[0].mlffr_pps : 0.0,
                       r->imbalance, r->cycles_per_packet, r->bus_per_packet, r->bottleneck);
            }
        }
    }
out:
    free(res);
    free(rows);
    sim_file_source_close(&src);
    rss_plan_free(&plan);
    return rc;
}
