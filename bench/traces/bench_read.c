/*
 * bench_read.c - how fast traces/ reads, parses, summarises and generates,
 * each against a baseline measured in the same run:
 *   1. generate: 10M packets to /tmp with trace_gen_write vs pcap_dump of one
 *      fixed frame 10M times (pure write cost);
 *   2. read: a raw libpcap loop (pcap_next_ex only) vs trace_next (with
 *      parsing), trace_source_next (LAN policy) and trace_next + stats, over
 *      the same file (the shared real-mix-104k.pcap, best of 5 interleaved passes, or the
 *      generated trace when it is absent);
 *   3. memory: peak RSS of a child reading 1M vs 10M packets of that trace
 *      (raw libpcap, trace_next, trace_next + stats): flat means the 10M/1M
 *      ratio stays near 1 except for per-flow state.
 * Temporary files go to /tmp and are removed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "traces/traces.h"

#ifndef SHARED_TRACE
#define SHARED_TRACE "/work/shared/traces/real-mix-104k.pcap"
#endif
#define BIG_PACKETS 10000000ull
#define SMALL_PACKETS 1000000ull

enum mode { RAW, PARSE, SOURCE, STATS };
static const char *const mode_names[] = {"raw pcap_next_ex", "trace_next (parse)",
                                         "trace_source_next (--lan)", "trace_next + stats"};

/* Reads up to limit packets (0 = all) of path once in the given mode;
 * returns the packet count (a checksum keeps the loop honest). */
static uint64_t read_once(const char *path, enum mode mode, uint64_t limit, uint64_t *check)
{
    struct util_error err;
    uint64_t n = 0;
    if (mode == RAW) {
        char errbuf[PCAP_ERRBUF_SIZE];
        pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO,
                                                            errbuf);
        if (!p) {
            fprintf(stderr, "bench_read: %s\n", errbuf);
            exit(1);
        }
        struct pcap_pkthdr *h;
        const u_char *d;
        while ((!limit || n < limit) && pcap_next_ex(p, &h, &d) == 1) {
            *check += h->caplen + d[0];
            n++;
        }
        pcap_close(p);
        return n;
    }
    struct trace_source_options o;
    memset(&o, 0, sizeof o);
    trace_options_add_file(&o, path, &err);
    if (mode == SOURCE)
        trace_options_add_lan(&o, "10.0.0.0/8,192.168.0.0/16,fd00::/8", &err);
    struct trace_source *s = trace_source_open(&o, &err);
    if (!s) {
        fprintf(stderr, "bench_read: %s\n", err.msg);
        exit(1);
    }
    struct trace_stats st;
    trace_stats_init(&st);
    struct trace_packet pkt;
    while ((!limit || n < limit) && trace_source_next(s, &pkt, &err) == 1) {
        *check += pkt.cap_len + pkt.tuple.sport + pkt.port;
        if (mode == STATS)
            trace_stats_add(&st, &pkt, &err);
        n++;
    }
    *check += st.n_flows;
    trace_stats_free(&st);
    trace_source_close(s);
    return n;
}

/* Passes interleave the loops and each loop keeps its best pass, so a busy
 * machine (other processes) disturbs the ratios as little as possible. */
static void bench_read_speed(const char *path, int passes, uint64_t limit)
{
    printf("2. read speed: %s, best of %d passes, loops interleaved\n", path, passes);
    printf("   %-28s %10s %10s %8s\n", "loop", "packets", "Mpps", "ratio");
    double best[STATS + 1];
    uint64_t packets[STATS + 1] = {0}, check = 0;
    for (int m = RAW; m <= STATS; m++)
        best[m] = 1e30;
    for (int i = 0; i < passes; i++) {
        for (int m = RAW; m <= STATS; m++) {
            double t0 = util_now_seconds();
            packets[m] = read_once(path, (enum mode)m, limit, &check);
            double t = util_now_seconds() - t0;
            if (t < best[m])
                best[m] = t;
        }
    }
    double base = (double)packets[RAW] / best[RAW] / 1e6;
    for (int m = RAW; m <= STATS; m++) {
        double mpps = (double)packets[m] / best[m] / 1e6;
        printf("   %-28s %10llu %10.2f %7.2fx\n", mode_names[m], (unsigned long long)packets[m],
               mpps, mpps / base);
    }
    if (check == 0)
        printf("   (nothing read)\n");
    printf("   (ratio = speed / raw libpcap loop; below 1 is the cost of parsing)\n\n");
}

static int write_fixed_frames(const char *path, uint64_t packets)
{
    pcap_t *dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 64,
                                                        PCAP_TSTAMP_PRECISION_NANO);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    if (!d)
        return -1;
    uint8_t frame[64] = {0};
    struct pcap_pkthdr h = {.caplen = 64, .len = 64};
    for (uint64_t i = 0; i < packets; i++) {
        h.ts.tv_usec = (suseconds_t)(i % 1000000000);
        pcap_dump((u_char *)d, &h, frame);
    }
    pcap_dump_close(d);
    pcap_close(dead);
    return 0;
}

static void bench_generate(const char *big)
{
    printf("1. generate %llu packets (100k flows, zipf 1, imix sizes, snaplen 64) to /tmp\n",
           (unsigned long long)BIG_PACKETS);
    char fixed[128];
    snprintf(fixed, sizeof fixed, "/tmp/rsskey-bench-fixed-%d.pcap", (int)getpid());
    double t0 = util_now_seconds();
    if (write_fixed_frames(fixed, BIG_PACKETS) != 0) {
        fprintf(stderr, "bench_read: cannot write %s\n", fixed);
        exit(1);
    }
    double base_s = util_now_seconds() - t0;
    unlink(fixed);

    struct trace_gen_options o;
    trace_gen_defaults(&o);
    o.packets = BIG_PACKETS;
    o.flows = 100000;
    o.pps = 10e6;
    o.snaplen = 64;
    o.ipv6_share = 0.2;
    o.two_port = true;
    struct util_error err;
    t0 = util_now_seconds();
    if (trace_gen_write(&o, big, NULL, &err) != 0) {
        fprintf(stderr, "bench_read: %s\n", err.msg);
        exit(1);
    }
    double gen_s = util_now_seconds() - t0;

    /* The same packets built in memory only (what a simulator could consume). */
    struct trace_gen *g = trace_gen_new(&o, &err);
    if (!g) {
        fprintf(stderr, "bench_read: %s\n", err.msg);
        exit(1);
    }
    struct trace_packet pkt;
    uint64_t check = 0;
    t0 = util_now_seconds();
    while (trace_gen_next(g, &pkt) == 1)
        check += pkt.cap_len;
    double mem_s = util_now_seconds() - t0;
    trace_gen_free(g);
    printf("   %-28s %10s %10s %8s\n", "writer", "seconds", "Mpps", "ratio");
    printf("   %-28s %10.2f %10.2f %7.2fx\n", "pcap_dump fixed frame", base_s,
           (double)BIG_PACKETS / base_s / 1e6, 1.0);
    printf("   %-28s %10.2f %10.2f %7.2fx\n", "trace_gen_write", gen_s,
           (double)BIG_PACKETS / gen_s / 1e6, base_s / gen_s);
    printf("   %-28s %10.2f %10.2f %7.2fx\n", "trace_gen_next (no file)", mem_s,
           (double)BIG_PACKETS / mem_s / 1e6, base_s / mem_s);
    if (check == 0)
        printf("   (nothing generated)\n");
    printf("   (ratio = speed / plain writing speed)\n\n");
}

/* Peak RSS in MB of a child that reads limit packets of path in mode. */
static double child_peak_rss_mb(const char *path, enum mode mode, uint64_t limit)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        uint64_t check = 0;
        read_once(path, mode, limit, &check);
        _exit(check == 1 ? 1 : 0);
    }
    int status;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status)) {
        fprintf(stderr, "bench_read: reader child failed\n");
        exit(1);
    }
    return (double)ru.ru_maxrss / 1024.0;
}

static void bench_memory(const char *big)
{
    printf("3. peak RSS reading the generated trace (flat = 10M/1M ratio near 1)\n");
    printf("   %-28s %10s %10s %8s\n", "loop", "1M MB", "10M MB", "ratio");
    for (int m = RAW; m <= STATS; m += (m == PARSE ? 2 : 1)) {
        double small = child_peak_rss_mb(big, (enum mode)m, SMALL_PACKETS);
        double large = child_peak_rss_mb(big, (enum mode)m, 0);
        printf("   %-28s %10.1f %10.1f %7.2fx\n", mode_names[m], small, large, large / small);
    }
    printf("   (stats adds per-flow state: ~200k directional flows, a 512k-slot table)\n");
}

int main(void)
{
    char big[128];
    snprintf(big, sizeof big, "/tmp/rsskey-bench-10m-%d.pcap", (int)getpid());
    bench_generate(big);
    if (access(SHARED_TRACE, R_OK) == 0) {
        bench_read_speed(SHARED_TRACE, 5, 0);
    } else {
        printf("(%s absent: reading the first 1M packets of the generated trace)\n",
               SHARED_TRACE);
        bench_read_speed(big, 3, SMALL_PACKETS);
    }
    bench_memory(big);
    unlink(big);
    return 0;
}
