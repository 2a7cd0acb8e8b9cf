/*
 * test_tshark.c - trace statistics agree with Wireshark's tools on the same
 * files: packets, wire bytes and duration with capinfos; distinct directional
 * TCP/UDP 5-tuples with tshark, counted here from `tshark -T fields`.
 *
 * The tshark reference uses the outermost IP layer: in frame.protocols, the
 * first "ip" or "ipv6", then (past IPv6 extension headers and AH) "tcp" or
 * "udp" must follow directly, and the first occurrence of each address and
 * port field is taken. So ICMP errors quoting a UDP header, and tunnels
 * (IP-in-IP, GRE), count as no flow, as in traces/stats.c.
 *
 * Always checks generated traces; with SHARED_TRACES defined (the CMake file
 * sets it when ../shared/traces exists) also the shared real captures.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <pcap/pcap.h>

#include "traces/traces.h"
#include "frames.h"

struct reference {
    uint64_t packets;
    uint64_t bytes;
    double duration_s;
    size_t flows;
};

static void capinfos_reference(const char *path, struct reference *ref)
{
    char cmd[1024];
    assert_null(strchr(path, '\''));
    snprintf(cmd, sizeof cmd, "'%s' -T -r -M -c -d -u '%s' 2>/dev/null", CAPINFOS, path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[2048];
    assert_non_null(fgets(line, sizeof line, p));
    assert_int_equal(pclose(p), 0);
    /* path \t packets \t data bytes \t duration */
    char *tab = strchr(line, '\t');
    assert_non_null(tab);
    unsigned long long packets, bytes;
    assert_int_equal(sscanf(tab + 1, "%llu\t%llu\t%lf", &packets, &bytes, &ref->duration_s), 3);
    ref->packets = packets;
    ref->bytes = bytes;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The outermost IP layer's transport, or NULL: see the file comment. */
static const char *outer_transport(char *protocols)
{
    bool seen_ip = false;
    for (char *tok = strtok(protocols, ":"); tok; tok = strtok(NULL, ":")) {
        if (!seen_ip) {
            seen_ip = strcmp(tok, "ip") == 0 || strcmp(tok, "ipv6") == 0;
            continue;
        }
        if (strncmp(tok, "ipv6.", 5) == 0 || strcmp(tok, "ah") == 0)
            continue;
        if (strcmp(tok, "tcp") == 0)
            return "tcp";
        if (strcmp(tok, "udp") == 0)
            return "udp";
        return NULL;
    }
    return NULL;
}

static void tshark_reference(const char *path, struct reference *ref)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "'%s' -n -r '%s' -T fields -E occurrence=f -E separator='|' -e frame.protocols "
             "-e ip.src -e ip.dst -e ipv6.src -e ipv6.dst -e tcp.srcport -e tcp.dstport "
             "-e udp.srcport -e udp.dstport 2>/dev/null",
             TSHARK, path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char *line = NULL;
    size_t cap = 0, n_keys = 0, max_keys = 0;
    char **keys = NULL;
    while (getline(&line, &cap, p) > 0) {
        line[strcspn(line, "\n")] = '\0';
        char *f[9];
        char *rest = line;
        for (int i = 0; i < 9; i++)
            f[i] = strsep(&rest, "|");
        assert_non_null(f[8]);
        char protocols[1024];
        snprintf(protocols, sizeof protocols, "%s", f[0]);
        const char *l4 = outer_transport(protocols);
        if (!l4)
            continue;
        bool v4 = f[1][0] != '\0';
        const char *src = v4 ? f[1] : f[3], *dst = v4 ? f[2] : f[4];
        const char *sport = l4[0] == 't' ? f[5] : f[7], *dport = l4[0] == 't' ? f[6] : f[8];
        if (!*src || !*dst || !*sport || !*dport)
            continue;           /* ports not captured */
        if (n_keys == max_keys) {
            max_keys = max_keys ? 2 * max_keys : 1024;
            keys = realloc(keys, max_keys * sizeof *keys);
            assert_non_null(keys);
        }
        char key[256];
        snprintf(key, sizeof key, "%s|%s|%s|%s|%s", src, dst, sport, dport, l4);
        keys[n_keys] = strdup(key);
        assert_non_null(keys[n_keys]);
        n_keys++;
    }
    free(line);
    assert_int_equal(pclose(p), 0);
    qsort(keys, n_keys, sizeof *keys, compare_strings);
    ref->flows = 0;
    for (size_t i = 0; i < n_keys; i++)
        if (i == 0 || strcmp(keys[i], keys[i - 1]) != 0)
            ref->flows++;
    for (size_t i = 0; i < n_keys; i++)
        free(keys[i]);
    free(keys);
}

static void check_against_wireshark(const char *path)
{
    struct util_error err;
    struct trace_reader *r = trace_open(path, &err);
    if (!r)
        fail_msg("%s", err.msg);
    struct trace_stats s;
    trace_stats_init(&s);
    struct trace_packet p;
    int rc;
    while ((rc = trace_next(r, &p, &err)) == 1)
        assert_int_equal(trace_stats_add(&s, &p, &err), 0);
    assert_int_equal(rc, 0);
    trace_close(r);

    struct reference ref;
    capinfos_reference(path, &ref);
    tshark_reference(path, &ref);
    printf("  %s: %llu packets, %llu bytes, %.6f s, %zu flows (tshark %zu)\n", path,
           (unsigned long long)s.packets, (unsigned long long)s.wire_bytes,
           trace_stats_duration_s(&s), s.n_flows, ref.flows);
    assert_int_equal(s.packets, ref.packets);
    assert_int_equal(s.wire_bytes, ref.bytes);
    assert_true(fabs(trace_stats_duration_s(&s) - ref.duration_s) < 2e-6);
    assert_int_equal(s.n_flows, ref.flows);
    trace_stats_free(&s);
}

static void generate(const char *path, const struct trace_gen_options *o)
{
    struct util_error err;
    if (trace_gen_write(o, path, NULL, &err) != 0)
        fail_msg("%s", err.msg);
}

static void test_generated_traces(void **state)
{
    (void)state;
    char dir[] = "/tmp/rsskey-test-tshark-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    struct trace_gen_options o;

    /* IPv4 + IPv6, TCP + UDP, replies, churn. */
    trace_gen_defaults(&o);
    o.seed = 11;
    o.packets = 4000;
    o.flows = 500;
    o.ipv6_share = 0.35;
    o.two_port = true;
    o.churn = 5;
    o.pps = 2000;
    snprintf(path, sizeof path, "%s/mix.pcap", dir);
    generate(path, &o);
    check_against_wireshark(path);

    /* Truncated by snaplen 56: IPv4 ports captured, IPv6 ports not. */
    o.seed = 12;
    o.snaplen = 56;
    o.ipv6_share = 0.5;
    snprintf(path, sizeof path, "%s/snap.pcap", dir);
    generate(path, &o);
    check_against_wireshark(path);

    /* Many flows, uniform popularity, one-way, small frames. */
    trace_gen_defaults(&o);
    o.seed = 13;
    o.packets = 6000;
    o.flows = 5000;
    o.zipf = 0;
    o.pps = 1e6;
    struct util_error err;
    assert_int_equal(trace_size_dist_parse("fixed:64", &o.sizes, &err), 0);
    snprintf(path, sizeof path, "%s/uniform.pcap", dir);
    generate(path, &o);
    check_against_wireshark(path);

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* One crafted frame per encapsulation into frames (returns how many), each a
 * distinct flow by its source port base + i. */
static int crafted_frames(struct frame *frames, uint16_t base)
{
    int n = 0;
    struct frame *f;

    f = &frames[n++];                           /* plain IPv4 UDP */
    *f = (struct frame){0};
    put_eth(f, 0x0800);
    put_ipv4(f, 17, 0, 0, 12);
    put_udp(f, base, 53);
    f = &frames[n++];                           /* QinQ, IPv4 options, TCP */
    *f = (struct frame){0};
    put_eth(f, 0x88A8);
    put16(f, 10);
    put16(f, 0x8100);
    put16(f, 20);
    put16(f, 0x0800);
    put_ipv4(f, 6, 0, 3, 20);
    put_tcp(f, (uint16_t)(base + 1), 80);
    f = &frames[n++];                           /* PPPoE session */
    *f = (struct frame){0};
    put_eth(f, 0x8864);
    put16(f, 0x1100);
    put16(f, 7);
    put16(f, 2 + 20 + 12);
    put16(f, 0x0021);
    put_ipv4(f, 17, 0, 0, 12);
    put_udp(f, (uint16_t)(base + 2), 514);
    f = &frames[n++];                           /* MPLS, two labels, IPv6 */
    *f = (struct frame){0};
    put_eth(f, 0x8847);
    put(f, "\x00\x01\x00\x40\x00\x02\x01\x40", 8);
    put_ipv6(f, 17, 12);
    put_udp(f, (uint16_t)(base + 3), 4789);
    f = &frames[n++];                           /* IPv6 hop-by-hop, routing, dstopts */
    *f = (struct frame){0};
    put_eth(f, 0x86DD);
    put_ipv6(f, 0, 8 + 8 + 8 + 20);
    put_ext(f, 43, 0);
    put_ext(f, 60, 0);
    put_ext(f, 6, 0);
    put_tcp(f, (uint16_t)(base + 4), 443);
    f = &frames[n++];                           /* 802.1Q, IPv6 TCP */
    *f = (struct frame){0};
    put_eth(f, 0x8100);
    put16(f, 30);
    put16(f, 0x86DD);
    put_ipv6(f, 6, 20);
    put_tcp(f, (uint16_t)(base + 5), 22);
    f = &frames[n++];                           /* a reply: reverse of the first */
    *f = (struct frame){0};
    put_eth(f, 0x0800);
    put_ipv4(f, 17, 0, 0, 12);
    memcpy(f->b + 14 + 12, V4_DST, 4);
    memcpy(f->b + 14 + 16, V4_SRC, 4);
    put_udp(f, 53, base);
    f = &frames[n++];                           /* ARP: no flow */
    *f = (struct frame){0};
    put_eth(f, 0x0806);
    for (int i = 0; i < 28; i++)
        put8(f, 0);
    return n;
}

/* The crafted frames whole and cut at several capture lengths; each cut
 * uses its own ports, so a cut frame adds a flow only if its ports survive. */
static void test_crafted_encapsulations(void **state)
{
    (void)state;
    char dir[] = "/tmp/rsskey-test-crafted-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/crafted.pcap", dir);
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    assert_non_null(d);
    static const uint32_t cuts[] = {0, 20, 37, 40, 46, 56, 60, 66, 78, 84};   /* 0: whole */
    uint32_t t = 0;
    for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
        struct frame frames[16];
        int n = crafted_frames(frames, (uint16_t)(10000 + 100 * c));
        for (int i = 0; i < n; i++) {
            uint32_t len = frames[i].len;
            struct pcap_pkthdr h = {.caplen = cuts[c] && cuts[c] < len ? cuts[c] : len,
                                    .len = len};
            h.ts.tv_sec = 1700000000;
            h.ts.tv_usec = (suseconds_t)t++;
            pcap_dump((u_char *)d, &h, frames[i].b);
        }
    }
    pcap_dump_close(d);
    pcap_close(dead);
    check_against_wireshark(path);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

#ifdef SHARED_TRACES
static void test_shared_traces(void **state)
{
    (void)state;
    static const char *const names[] = {"web-v4.pcap", "web-tls-v4v6.pcap", "p2p-gnutella.pcap",
                                        "real-mix-104k.pcap"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", SHARED_TRACES, names[i]);
        if (access(path, R_OK) == 0)
            check_against_wireshark(path);
    }
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated_traces),
        cmocka_unit_test(test_crafted_encapsulations),
#ifdef SHARED_TRACES
        cmocka_unit_test(test_shared_traces),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
