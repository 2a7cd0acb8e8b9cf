/*
 * cmd_trace.c - `rsskey trace stats` (summarise captures) and `rsskey trace
 * gen` (write a synthetic capture). Argument parsing and printing only; the
 * work is in traces/.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "traces/traces.h"

#define DEFAULT_TOP 10
#define MAX_TOP 10000

static void usage_trace(FILE *out)
{
    fprintf(out,
            "usage: rsskey trace stats [options] TRACE...\n"
            "       rsskey trace gen -o FILE [options]\n"
            "\n"
            "  stats   summarise pcap/pcapng captures: packets, bytes, duration, rates,\n"
            "          protocol mix, distinct directional 5-tuple flows, top flows\n"
            "  gen     write a synthetic capture (seeded, Zipf flow popularity)\n"
            "\n"
            "'rsskey trace stats --help' and 'rsskey trace gen --help' for options.\n");
}

static void usage_stats(FILE *out)
{
    fprintf(out,
            "usage: rsskey trace stats [options] [TRACE...]\n"
            "\n"
            "Summarise captures (pcap or pcapng; Ethernet, raw IP, Linux SLL/SLL2).\n"
            "Several traces, or --port N=FILE inputs, are merged in timestamp order.\n"
            "\n"
            "  --lan CIDR[,CIDR...]  packets from these source prefixes on port 0, rest port 1\n"
            "  --port N=FILE         every packet of FILE on input port N (repeatable)\n"
            "  --top N               list the N largest flows by packets (default %d)\n"
            "  --json                print JSON (packets, bytes, duration_s, flows, ...)\n"
            "  -h, --help            this help\n"
            "\n"
            "bytes are wire bytes (original lengths, like capinfos' data size); a flow is\n"
            "a directional (src, dst, sport, dport, proto) of TCP/UDP packets whose ports\n"
            "were captured (first fragments count, later fragments do not).\n",
            DEFAULT_TOP);
}

static void usage_gen(FILE *out)
{
    fprintf(out,
            "usage: rsskey trace gen -o FILE [options]\n"
            "\n"
            "Write a synthetic Ethernet pcap (nanosecond timestamps, valid checksums).\n"
            "\n"
            "  -o, --output FILE     where to write (through a temporary file + rename)\n"
            "  --seed S              random seed (default 1); same options+seed, same bytes\n"
            "  --flows N             active flows (default 1000)\n"
            "  --packets N           packets (default 10000)\n"
            "  --zipf S              flow popularity skew, 0 = uniform (default 1.0)\n"
            "  --pps R               packet rate (default 100000)\n"
            "  --duration SEC        trace length: packets = SEC*pps, or with --packets,\n"
            "                        pps = packets/SEC\n"
            "  --size-dist D         imix (default; 64:7,576:4,1500:1), fixed:N,\n"
            "                        uniform:A-B, or SIZE:WEIGHT,...  (frame bytes)\n"
            "  --ipv6-share F        fraction of IPv6 flows (default 0)\n"
            "  --tcp-share F         fraction of TCP flows, rest UDP (default 0.7)\n"
            "  --churn F             fraction of flows replaced by new ones per second\n"
            "  --two-port            servers reply (LAN clients 10.0.0.0/8 and fd00::/8;\n"
            "                        split with --lan 10.0.0.0/8,fd00::/8)\n"
            "  --snaplen N           capture at most N bytes per packet (default: all)\n"
            "  --frag-share F        fraction of IPv4 datagrams sent as 2-3 fragments (the\n"
            "                        first carries the L4 header; default 0)\n"
            "  --vlan-share F        fraction of flows with an 802.1Q tag, one VLAN id per\n"
            "                        flow (default 0)\n"
            "  --ipv6-ext-share F    fraction of IPv6 flows with a hop-by-hop or destination\n"
            "                        options header before TCP/UDP (default 0)\n"
            "  --json                print a JSON summary of what was written\n"
            "  -h, --help            this help\n");
}

/* ---- Small parsing helpers ---------------------------------------------------- */

static int parse_u64(const char *opt, const char *text, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (end == text || *end || errno || text[0] == '-' || v > max) {
        cmd_error("trace", "%s expects a whole number up to %" PRIu64 ", got '%s'", opt, max,
                  text);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_double(const char *opt, const char *text, double *out)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end || !isfinite(v)) {
        cmd_error("trace", "%s expects a number, got '%s'", opt, text);
        return -1;
    }
    *out = v;
    return 0;
}

/* ---- stats ---------------------------------------------------------------------- */

static void print_count(FILE *out, uint64_t v)
{
    char digits[32], grouped[48];
    int n = snprintf(digits, sizeof digits, "%" PRIu64, v);
    int o = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            grouped[o++] = ',';
        grouped[o++] = digits[i];
    }
    grouped[o] = '\0';
    fputs(grouped, out);
}

static double percent(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void human_rate(char *buf, size_t size, double v, const char *unit)
{
    const char *prefix[] = {"", "k", "M", "G", "T"};
    int p = 0;
    while (fabs(v) >= 1000 && p < 4) {
        v /= 1000;
        p++;
    }
    snprintf(buf, size, "%.3g %s%s", v, prefix[p], unit);
}

static const double percentiles[] = {50, 90, 99, 100};
#define N_PERCENTILES (sizeof percentiles / sizeof percentiles[0])

static void print_stats_text(const struct trace_stats *s, const struct trace_flow *top,
                             size_t n_top, const uint64_t *pct, bool show_ports)
{
    double dur = trace_stats_duration_s(s);
    char pps[32], bps[32];
    human_rate(pps, sizeof pps, dur > 0 ? (double)s->packets / dur : 0, "pps");
    human_rate(bps, sizeof bps, dur > 0 ? 8.0 * (double)s->wire_bytes / dur : 0, "bit/s");
    printf("packets     ");
    print_count(stdout, s->packets);
    printf(" (%" PRIu64 " truncated by snaplen)\n", s->truncated);
    printf("bytes       ");
    print_count(stdout, s->wire_bytes);
    printf(" on the wire, ");
    print_count(stdout, s->cap_bytes);
    printf(" captured\n");
    printf("duration    %.6f s\n", dur);
    printf("rate        %s, %s\n", pps, bps);
    printf("network     IPv4 %.1f%%, IPv6 %.1f%%, other %.1f%%\n", percent(s->ipv4, s->packets),
           percent(s->ipv6, s->packets), percent(s->non_ip, s->packets));
    uint64_t ip = s->ipv4 + s->ipv6;
    printf("transport   TCP %.1f%%, UDP %.1f%%, other %.1f%% of IP; %" PRIu64 " fragments\n",
           percent(s->tcp, ip), percent(s->udp, ip), percent(s->other_l4, ip), s->fragments);
    if (show_ports) {
        printf("ports      ");
        for (int p = 0; p < TRACE_STATS_PORTS; p++)
            if (s->port_packets[p])
                printf(" %d: %" PRIu64, p, s->port_packets[p]);
        printf("\n");
    }
    printf("flows       ");
    print_count(stdout, s->n_flows);
    printf(" directional TCP/UDP 5-tuples holding ");
    print_count(stdout, s->flow_packets);
    printf(" packets\n");
    printf("flow size   packets per flow: p50 %" PRIu64 ", p90 %" PRIu64 ", p99 %" PRIu64
           ", max %" PRIu64 "\n", pct[0], pct[1], pct[2], pct[3]);
    if (n_top == 0)
        return;
    printf("top flows by packets:\n   packets  share  bytes          flow\n");
    for (size_t i = 0; i < n_top; i++) {
        char flow[128];
        trace_flow_format(&top[i].key, flow, sizeof flow);
        printf("  %8" PRIu64 " %5.1f%%  %-13" PRIu64 "  %s\n", top[i].packets,
               percent(top[i].packets, s->packets), top[i].wire_bytes, flow);
    }
}

static void print_stats_json(const struct trace_stats *s, const struct trace_flow *top,
                             size_t n_top, const uint64_t *pct, struct util_json *w)
{
    double dur = trace_stats_duration_s(s);
    util_json_object_begin(w);
    util_json_key(w, "packets");
    util_json_uint(w, s->packets);
    util_json_key(w, "bytes");
    util_json_uint(w, s->wire_bytes);
    util_json_key(w, "captured_bytes");
    util_json_uint(w, s->cap_bytes);
    util_json_key(w, "truncated_packets");
    util_json_uint(w, s->truncated);
    util_json_key(w, "first_ns");
    util_json_uint(w, s->first_ns);
    util_json_key(w, "last_ns");
    util_json_uint(w, s->last_ns);
    util_json_key(w, "duration_s");
    util_json_double(w, dur);
    util_json_key(w, "duration_ns");        /* exact: the double above has 6 digits */
    util_json_uint(w, s->packets ? s->last_ns - s->first_ns : 0);
    util_json_key(w, "pps");
    util_json_double(w, dur > 0 ? (double)s->packets / dur : 0);
    util_json_key(w, "bps");
    util_json_double(w, dur > 0 ? 8.0 * (double)s->wire_bytes / dur : 0);
    util_json_key(w, "ipv4");
    util_json_uint(w, s->ipv4);
    util_json_key(w, "ipv6");
    util_json_uint(w, s->ipv6);
    util_json_key(w, "non_ip");
    util_json_uint(w, s->non_ip);
    util_json_key(w, "tcp");
    util_json_uint(w, s->tcp);
    util_json_key(w, "udp");
    util_json_uint(w, s->udp);
    util_json_key(w, "other_l4");
    util_json_uint(w, s->other_l4);
    util_json_key(w, "fragments");
    util_json_uint(w, s->fragments);
    util_json_key(w, "port_packets");
    util_json_array_begin(w);
    for (int p = 0; p < TRACE_STATS_PORTS; p++)
        util_json_uint(w, s->port_packets[p]);
    util_json_array_end(w);
    util_json_key(w, "flows");
    util_json_uint(w, s->n_flows);
    util_json_key(w, "flow_packets");
    util_json_uint(w, s->flow_packets);
    util_json_key(w, "flow_size_percentiles");
    util_json_object_begin(w);
    const char *names[N_PERCENTILES] = {"p50", "p90", "p99", "max"};
    for (size_t i = 0; i < N_PERCENTILES; i++) {
        util_json_key(w, names[i]);
        util_json_uint(w, pct[i]);
    }
    util_json_object_end(w);
    util_json_key(w, "top_flows");
    util_json_array_begin(w);
    for (size_t i = 0; i < n_top; i++) {
        char flow[128];
        trace_flow_format(&top[i].key, flow, sizeof flow);
        char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
        int af = top[i].key.ip_version == 4 ? AF_INET : AF_INET6;
        inet_ntop(af, top[i].key.src, src, sizeof src);
        inet_ntop(af, top[i].key.dst, dst, sizeof dst);
        util_json_object_begin(w);
        util_json_key(w, "flow");
        util_json_string(w, flow);
        util_json_key(w, "src");
        util_json_string(w, src);
        util_json_key(w, "dst");
        util_json_string(w, dst);
        util_json_key(w, "sport");
        util_json_uint(w, ntohs(top[i].key.sport));
        util_json_key(w, "dport");
        util_json_uint(w, ntohs(top[i].key.dport));
        util_json_key(w, "proto");
        util_json_uint(w, top[i].key.proto);
        util_json_key(w, "packets");
        util_json_uint(w, top[i].packets);
        util_json_key(w, "bytes");
        util_json_uint(w, top[i].wire_bytes);
        util_json_object_end(w);
    }
    util_json_array_end(w);
    util_json_object_end(w);
}

static int run_stats(int argc, char **argv)
{
    struct trace_source_options opt;
    memset(&opt, 0, sizeof opt);
    struct util_error err;
    bool json = false, show_ports = false;
    uint64_t top_n = DEFAULT_TOP;
    enum { OPT_JSON = 256, OPT_LAN, OPT_PORT, OPT_TOP };
    static const struct option longs[] = {
        {"help", no_argument, NULL, 'h'}, {"json", no_argument, NULL, OPT_JSON},
        {"lan", required_argument, NULL, OPT_LAN}, {"port", required_argument, NULL, OPT_PORT},
        {"top", required_argument, NULL, OPT_TOP}, {NULL, 0, NULL, 0}};
    opterr = 0;
    optind = 1;
    int c;
    /* "-" first: operands come back in order, among --port files. */
    while ((c = getopt_long(argc, argv, "-:h", longs, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage_stats(stdout);
            return UTIL_EXIT_OK;
        case OPT_JSON: json = true; break;
        case OPT_LAN:
            if (trace_options_add_lan(&opt, optarg, &err) != 0) {
                cmd_error("trace", "%s", err.msg);
                return UTIL_EXIT_USAGE;
            }
            show_ports = true;
            break;
        case OPT_PORT:
            if (trace_options_add_port_file(&opt, optarg, &err) != 0) {
                cmd_error("trace", "%s", err.msg);
                return UTIL_EXIT_USAGE;
            }
            show_ports = true;
            break;
        case OPT_TOP:
            if (parse_u64("--top", optarg, MAX_TOP, &top_n) != 0)
                return UTIL_EXIT_USAGE;
            break;
        case 1:
            if (trace_options_add_file(&opt, optarg, &err) != 0) {
                cmd_error("trace", "%s", err.msg);
                return UTIL_EXIT_USAGE;
            }
            break;
        case ':':
            cmd_error("trace", "%s needs a value; see 'rsskey trace stats --help'",
                      argv[optind - 1]);
            return UTIL_EXIT_USAGE;
        default:
            cmd_error("trace", "unknown option '%s' for stats; see 'rsskey trace stats --help'",
                      argv[optind - 1]);
            return UTIL_EXIT_USAGE;
        }
    }
    if (opt.n_inputs == 0) {
        cmd_error("trace", "stats needs a trace file; see 'rsskey trace stats --help'");
        return UTIL_EXIT_USAGE;
    }
    struct trace_source *src = trace_source_open(&opt, &err);
    if (!src) {
        cmd_error("trace", "%s", err.msg);
        return UTIL_EXIT_INPUT;
    }
    struct trace_stats s;
    trace_stats_init(&s);
    struct util_progress progress;
    util_progress_start(&progress, "reading", trace_source_size(src));
    struct trace_packet pkt;
    int rc;
    while ((rc = trace_source_next(src, &pkt, &err)) == 1) {
        if (trace_stats_add(&s, &pkt, &err) != 0) {
            rc = -1;
            break;
        }
        if ((s.packets & 0x3fff) == 0)
            util_progress_update(&progress, trace_source_offset(src));
    }
    util_progress_finish(&progress);
    trace_source_close(src);
    int exit_code = UTIL_EXIT_OK;
    struct trace_flow *top = calloc(top_n ? top_n : 1, sizeof *top);
    uint64_t pct[N_PERCENTILES];
    if (rc < 0) {
        cmd_error("trace", "%s", err.msg);
        exit_code = UTIL_EXIT_INPUT;
    } else if (!top || trace_stats_flow_percentiles(&s, percentiles, N_PERCENTILES, pct,
                                                    &err) != 0) {
        cmd_error("trace", "out of memory summarising %zu flows", s.n_flows);
        exit_code = UTIL_EXIT_FAILURE;
    } else {
        size_t n_top = trace_stats_top_flows(&s, top, top_n);
        if (json) {
            struct util_json *w = util_json_new();
            print_stats_json(&s, top, n_top, pct, w);
            size_t len;
            const char *text = util_json_text(w, &len);
            fwrite(text, 1, len, stdout);     /* ends with a newline */
            util_json_free(w);
        } else {
            print_stats_text(&s, top, n_top, pct, show_ports);
        }
    }
    free(top);
    trace_stats_free(&s);
    return exit_code;
}

/* ---- gen ------------------------------------------------------------------------ */

static int run_gen(int argc, char **argv)
{
    struct trace_gen_options o;
    trace_gen_defaults(&o);
    struct util_error err;
    const char *output = NULL;
    bool json = false, pps_given = false;
    enum { OPT_JSON = 256, OPT_TWO_PORT, OPT_SEED, OPT_FLOWS, OPT_PACKETS, OPT_ZIPF, OPT_PPS,
           OPT_DURATION, OPT_SIZE_DIST, OPT_IPV6, OPT_TCP, OPT_CHURN, OPT_SNAPLEN, OPT_FRAG,
           OPT_VLAN, OPT_IPV6_EXT };
    static const struct option longs[] = {
        {"help", no_argument, NULL, 'h'},        {"output", required_argument, NULL, 'o'},
        {"json", no_argument, NULL, OPT_JSON},   {"two-port", no_argument, NULL, OPT_TWO_PORT},
        {"seed", required_argument, NULL, OPT_SEED},
        {"flows", required_argument, NULL, OPT_FLOWS},
        {"packets", required_argument, NULL, OPT_PACKETS},
        {"zipf", required_argument, NULL, OPT_ZIPF}, {"pps", required_argument, NULL, OPT_PPS},
        {"duration", required_argument, NULL, OPT_DURATION},
        {"size-dist", required_argument, NULL, OPT_SIZE_DIST},
        {"ipv6-share", required_argument, NULL, OPT_IPV6},
        {"tcp-share", required_argument, NULL, OPT_TCP},
        {"churn", required_argument, NULL, OPT_CHURN},
        {"snaplen", required_argument, NULL, OPT_SNAPLEN},
        {"frag-share", required_argument, NULL, OPT_FRAG},
        {"vlan-share", required_argument, NULL, OPT_VLAN},
        {"ipv6-ext-share", required_argument, NULL, OPT_IPV6_EXT},
        {NULL, 0, NULL, 0}};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "-:ho:", longs, NULL)) != -1) {
        const char *v = optarg;
        uint64_t u;
        int bad = 0;
        switch (c) {
        case 'h':
            usage_gen(stdout);
            return UTIL_EXIT_OK;
        case OPT_JSON: json = true; break;
        case OPT_TWO_PORT: o.two_port = true; break;
        case 'o': output = v; break;
        case OPT_SEED: bad = parse_u64("--seed", v, UINT64_MAX, &o.seed); break;
        case OPT_FLOWS: bad = parse_u64("--flows", v, 100000000, &o.flows); break;
        case OPT_PACKETS:
            bad = parse_u64("--packets", v, UINT64_C(1000000000000), &o.packets);
            o.packets_given = true;
            break;
        case OPT_ZIPF: bad = parse_double("--zipf", v, &o.zipf); break;
        case OPT_PPS:
            bad = parse_double("--pps", v, &o.pps);
            pps_given = true;
            break;
        case OPT_DURATION: bad = parse_double("--duration", v, &o.duration_s); break;
        case OPT_IPV6: bad = parse_double("--ipv6-share", v, &o.ipv6_share); break;
        case OPT_TCP: bad = parse_double("--tcp-share", v, &o.tcp_share); break;
        case OPT_CHURN: bad = parse_double("--churn", v, &o.churn); break;
        case OPT_FRAG: bad = parse_double("--frag-share", v, &o.frag_share); break;
        case OPT_VLAN: bad = parse_double("--vlan-share", v, &o.vlan_share); break;
        case OPT_IPV6_EXT: bad = parse_double("--ipv6-ext-share", v, &o.ipv6_ext_share); break;
        case OPT_SNAPLEN:
            bad = parse_u64("--snaplen", v, 65535, &u);
            o.snaplen = (uint32_t)u;
            break;
        case OPT_SIZE_DIST:
            if (trace_size_dist_parse(v, &o.sizes, &err) != 0) {
                cmd_error("trace", "%s", err.msg);
                return UTIL_EXIT_USAGE;
            }
            break;
        case 1:
            cmd_error("trace", "unexpected argument '%s'; gen writes to -o FILE", v);
            return UTIL_EXIT_USAGE;
        case ':':
            cmd_error("trace", "%s needs a value; see 'rsskey trace gen --help'",
                      argv[optind - 1]);
            return UTIL_EXIT_USAGE;
        default:
            cmd_error("trace", "unknown option '%s' for gen; see 'rsskey trace gen --help'",
                      argv[optind - 1]);
            return UTIL_EXIT_USAGE;
        }
        if (bad)
            return UTIL_EXIT_USAGE;
    }
    if (!output) {
        cmd_error("trace", "gen needs -o FILE; see 'rsskey trace gen --help'");
        return UTIL_EXIT_USAGE;
    }
    if (pps_given && o.packets_given && o.duration_s > 0) {
        cmd_error("trace", "give at most two of --packets, --pps and --duration (the third "
                  "follows from them)");
        return UTIL_EXIT_USAGE;
    }
    if (trace_gen_check(&o, &err) != 0) {
        cmd_error("trace", "%s", err.msg);
        return UTIL_EXIT_USAGE;
    }
    struct util_progress progress;
    util_progress_start(&progress, "generating", o.packets);
    int rc = trace_gen_write(&o, output, &progress, &err);
    util_progress_finish(&progress);
    if (rc != 0) {
        cmd_error("trace", "%s", err.msg);
        return UTIL_EXIT_IO;
    }
    if (json) {
        struct util_json *w = util_json_new();
        util_json_object_begin(w);
        util_json_key(w, "output");
        util_json_string(w, output);
        util_json_key(w, "packets");
        util_json_uint(w, o.packets);
        util_json_key(w, "flows");
        util_json_uint(w, o.flows);
        util_json_key(w, "pps");
        util_json_double(w, o.pps);
        util_json_key(w, "seed");
        util_json_uint(w, o.seed);
        util_json_object_end(w);
        size_t len;
        const char *text = util_json_text(w, &len);
        fwrite(text, 1, len, stdout);         /* ends with a newline */
        util_json_free(w);
    } else {
        printf("wrote %s: %" PRIu64 " packets, %" PRIu64 " flow slots, %.6g s at %g pps%s\n",
               output, o.packets, o.flows, (double)o.packets / o.pps, o.pps,
               !o.two_port ? "" : o.ipv6_share > 0 ? ", two-port (--lan 10.0.0.0/8,fd00::/8)"
                                                   : ", two-port (--lan 10.0.0.0/8)");
    }
    return UTIL_EXIT_OK;
}

int cmd_trace(int argc, char **argv)
{
    if (argc < 2) {
        usage_trace(stderr);
        return UTIL_EXIT_USAGE;
    }
    const char *verb = argv[1];
    if (strcmp(verb, "-h") == 0 || strcmp(verb, "--help") == 0 || strcmp(verb, "help") == 0) {
        usage_trace(stdout);
        return UTIL_EXIT_OK;
    }
    if (strcmp(verb, "stats") == 0)
        return run_stats(argc - 1, argv + 1);
    if (strcmp(verb, "gen") == 0)
        return run_gen(argc - 1, argv + 1);
    cmd_error("trace", "unknown verb '%s'; expected stats or gen (see 'rsskey trace --help')",
              verb);
    return UTIL_EXIT_USAGE;
}
