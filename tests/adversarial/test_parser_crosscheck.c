/*
 * test_parser_crosscheck.c - does RSS hash what the NF keys on?
 *
 * RSS (rss/, the launcher's software RSS, the simulator) hashes the tuple
 * traces/parse.c's trace_parse makes of a packet: the L4 hash for a TCP/UDP
 * non-fragment with ports, else the L3 hash of the addresses. The NF reads
 * the same bytes through runtime/packet.c's accessors. If the NF gets
 * addresses or ports that the tuple does not hold, packets that share state
 * may be hashed to different cores. For every packet of every capture this
 * test compares, on the bytes the launcher hands the NF:
 *   nf_ipv4 / nf_ipv6 (presence, addresses)  vs  ip_version, src, dst
 *   nf_l4 (presence, ports)                  vs  has_ports, sport, dport
 *   nf_l4 gives ports                        =>  the tuple has those ports
 *                                                (non-fragment) or is_fragment
 * plus the IPv4 fragment bits and the L4 protocol. Every kind of disagreement
 * is counted and printed with file and packet index (the first few of each
 * kind per file); the test fails on the kinds that can break soundness
 * ("unsound" below). The others are printed for the record.
 *
 * Captures: generated ones (the new --frag-share, --vlan-share,
 * --ipv6-ext-share options, with and without snaplen) always; with
 * SHARED_DIR defined (CMake sets it when ../shared exists) also
 * ../shared/traces/ *.pcap and every file of ../shared/corpus/tcpdump-tests.
 * A file libpcap cannot open, or whose link type traces/ refuses (so the
 * launcher cannot replay it), is counted and listed, never skipped silently.
 * Non-Ethernet link types are compared too (the launcher hands their bytes
 * to the NF as they are, and the runtime reads every frame as Ethernet), but
 * reported apart.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "rsskey/nf.h"
#include "traces/traces.h"

enum kind {
    RT_V4_TUPLE_NOT_V4,         /* NF gets IPv4 addresses, RSS hashes no IPv4 */
    RT_V4_ADDR_DIFFER,
    RT_V6_TUPLE_NOT_V6,
    RT_V6_ADDR_DIFFER,
    RT_PORTS_TUPLE_NO_PORTS,    /* NF gets ports, tuple: not a fragment, no ports */
    RT_PORTS_DIFFER,
    RT_PORTS_ON_FRAGMENT,       /* NF gets ports of a first fragment (L3 hash) */
    TUPLE_V4_RT_NONE,           /* RSS hashes IPv4, the NF sees no IPv4 */
    TUPLE_V6_RT_NONE,
    TUPLE_PORTS_RT_NONE,        /* RSS hashes ports the NF does not see */
    FRAGMENT_STATUS_DIFFER,     /* IPv4: the header's MF/offset vs is_fragment */
    PROTO_DIFFER,               /* nf_l4_proto vs tuple proto (both IP) */
    N_KINDS
};

static const struct {
    const char *name;
    bool unsound;
} kinds[N_KINDS] = {
    {"runtime IPv4, tuple not IPv4", true},
    {"IPv4 addresses differ", true},
    {"runtime IPv6, tuple not IPv6", true},
    {"IPv6 addresses differ", true},
    {"runtime ports, tuple neither ports nor fragment", true},
    {"ports differ", true},
    {"runtime ports on a first fragment (tuple is_fragment: L3 hash)", false},
    {"tuple IPv4, runtime none", false},
    {"tuple IPv6, runtime none", false},
    {"tuple ports, runtime none", false},
    {"IPv4 fragment status differs", false},
    {"L4 protocol differs", false},
};

#define EXAMPLES_PER_FILE 3

struct tally {
    unsigned long count[2][N_KINDS];    /* [non-Ethernet][kind] */
    unsigned long files, packets, eth_packets, other_packets;
    unsigned long unopenable, refused_linktype, read_errors;
};

/* The kinds one packet shows (bit mask). */
static unsigned compare(int linktype, const uint8_t *data, uint32_t len)
{
    struct trace_tuple t;
    trace_parse(linktype, data, len, &t);
    struct nf_packet pkt = {(uint8_t *)data, len, 0, 0};
    struct nf_ipv4_hdr *ip4 = nf_ipv4(&pkt);
    struct nf_ipv6_hdr *ip6 = nf_ipv6(&pkt);
    struct nf_l4_ports *l4 = nf_l4(&pkt);
    unsigned k = 0;
    if (ip4) {
        if (t.ip_version != 4)
            k |= 1u << RT_V4_TUPLE_NOT_V4;
        else if (memcmp(&ip4->src, t.src, 4) || memcmp(&ip4->dst, t.dst, 4))
            k |= 1u << RT_V4_ADDR_DIFFER;
        else {
            uint16_t frag = (uint16_t)(((const uint8_t *)ip4)[6] << 8 |
                                       ((const uint8_t *)ip4)[7]);
            if (((frag & 0x3fff) != 0) != t.is_fragment)
                k |= 1u << FRAGMENT_STATUS_DIFFER;
        }
    } else if (t.ip_version == 4) {
        k |= 1u << TUPLE_V4_RT_NONE;
    }
    if (ip6) {
        if (t.ip_version != 6)
            k |= 1u << RT_V6_TUPLE_NOT_V6;
        else if (memcmp(ip6->src, t.src, 16) || memcmp(ip6->dst, t.dst, 16))
            k |= 1u << RT_V6_ADDR_DIFFER;
    } else if (t.ip_version == 6) {
        k |= 1u << TUPLE_V6_RT_NONE;
    }
    if ((ip4 || ip6) && t.ip_version && nf_l4_proto(&pkt) != t.proto)
        k |= 1u << PROTO_DIFFER;
    if (l4) {
        if (t.has_ports) {
            if (l4->sport != t.sport || l4->dport != t.dport)
                k |= 1u << RT_PORTS_DIFFER;
            else if (t.is_fragment)
                k |= 1u << RT_PORTS_ON_FRAGMENT;
        } else if (!t.is_fragment) {
            k |= 1u << RT_PORTS_TUPLE_NO_PORTS;
        } else {
            k |= 1u << RT_PORTS_ON_FRAGMENT;
        }
    } else if (t.has_ports) {
        k |= 1u << TUPLE_PORTS_RT_NONE;
    }
    return k;
}

/* Accounts one packet; prints the first examples of each kind of a file. */
static void account(struct tally *y, const char *name, int linktype, unsigned long index,
                    const uint8_t *data, uint32_t len, unsigned long shown[N_KINDS])
{
    bool other = linktype != DLT_EN10MB;
    y->packets++;
    if (other)
        y->other_packets++;
    else
        y->eth_packets++;
    unsigned k = compare(linktype, data, len);
    for (int i = 0; i < N_KINDS; i++) {
        if (!(k & (1u << i)))
            continue;
        y->count[other][i]++;
        if (shown[i]++ < EXAMPLES_PER_FILE)
            printf("    %s%s: %s packet %lu (%u bytes)\n", kinds[i].unsound ? "UNSOUND " : "",
                   kinds[i].name, name, index, len);
    }
}

static __attribute__((unused)) void check_file(struct tally *y, const char *path)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO,
                                                       errbuf);
    if (!p) {
        y->unopenable++;
        printf("  libpcap cannot open %s: %s\n", name, errbuf);
        return;
    }
    int linktype = pcap_datalink(p);
    if (!trace_linktype_supported(linktype)) {
        y->refused_linktype++;
        pcap_close(p);
        return;
    }
    y->files++;
    unsigned long shown[N_KINDS] = {0}, index = 0;
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &data)) == 1)
        account(y, name, linktype, index++, data, h->caplen, shown);
    if (rc == PCAP_ERROR) {
        y->read_errors++;
        printf("  %s: read error after %lu packets: %s\n", name, index, pcap_geterr(p));
    }
    pcap_close(p);
}

static void check_generated(struct tally *y, const char *name,
                            const struct trace_gen_options *o)
{
    struct util_error err;
    struct trace_gen *g = trace_gen_new(o, &err);
    if (!g)
        fail_msg("%s", err.msg);
    struct trace_packet p;
    unsigned long shown[N_KINDS] = {0}, index = 0;
    y->files++;
    while (trace_gen_next(g, &p) == 1)
        account(y, name, DLT_EN10MB, index++, p.data, p.cap_len, shown);
    trace_gen_free(g);
}

static void report(const struct tally *y)
{
    printf("  %lu files (%lu packets: %lu Ethernet, %lu other link types); %lu files libpcap "
           "cannot open, %lu with a link type traces/ refuses, %lu cut short\n",
           y->files, y->packets, y->eth_packets, y->other_packets, y->unopenable,
           y->refused_linktype, y->read_errors);
    for (int other = 0; other < 2; other++)
        for (int i = 0; i < N_KINDS; i++)
            if (y->count[other][i])
                printf("  %s%s%s: %lu packets\n", other ? "[non-Ethernet] " : "",
                       kinds[i].unsound ? "UNSOUND " : "", kinds[i].name, y->count[other][i]);
}

static void assert_sound(const struct tally *y)
{
    for (int i = 0; i < N_KINDS; i++)
        if (kinds[i].unsound && y->count[0][i])
            fail_msg("%lu Ethernet packets: %s", y->count[0][i], kinds[i].name);
}

static void test_generated(void **state)
{
    (void)state;
    struct tally y = {0};
    struct trace_gen_options o;
    trace_gen_defaults(&o);
    o.packets = 20000;
    o.flows = 500;
    o.two_port = true;
    o.ipv6_share = 0.4;
    o.frag_share = 0.3;
    o.vlan_share = 0.3;
    o.ipv6_ext_share = 0.5;
    check_generated(&y, "gen(frag,vlan,ext)", &o);
    /* Cut inside the headers: every truncation point of these frames. */
    for (uint32_t snap = 14; snap <= 90; snap += 2) {
        o.seed = snap;
        o.packets = 400;
        o.snaplen = snap;
        char name[64];
        snprintf(name, sizeof name, "gen(snaplen %u)", snap);
        check_generated(&y, name, &o);
    }
    report(&y);
    assert_int_equal(y.count[0][RT_V4_ADDR_DIFFER] + y.count[0][TUPLE_V4_RT_NONE], 0);
    assert_true(y.count[0][RT_PORTS_ON_FRAGMENT] > 1000);   /* first fragments were there */
    assert_sound(&y);
}

/* ---- Crafted edge cases ------------------------------------------------------ */

struct crafted {
    uint8_t b[128];
    uint32_t len;
};

static void put(struct crafted *f, const void *p, uint32_t n)
{
    memcpy(f->b + f->len, p, n);
    f->len += n;
}

static void put16(struct crafted *f, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(f, b, 2);
}

static void eth(struct crafted *f, uint16_t type)
{
    static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
    f->len = 0;
    put(f, macs, 12);
    put16(f, type);
}

/* IPv4 header with the given total length, fragment field and protocol. */
static void ipv4(struct crafted *f, uint16_t total, uint16_t frag, uint8_t proto)
{
    uint8_t h[20] = {0x45, 0, 0, 0, 0, 1, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 192, 0, 2, 7};
    h[2] = (uint8_t)(total >> 8), h[3] = (uint8_t)total;
    h[6] = (uint8_t)(frag >> 8), h[7] = (uint8_t)frag;
    put(f, h, 20);
}

static void ipv6(struct crafted *f, uint16_t payload, uint8_t next)
{
    uint8_t h[40] = {0x60, 0, 0, 0, 0, 0, next, 64, 0xfd};
    h[4] = (uint8_t)(payload >> 8), h[5] = (uint8_t)payload;
    h[23] = 1;
    h[24] = 0x20, h[25] = 0x01, h[26] = 0x0d, h[27] = 0xb8, h[39] = 2;
    put(f, h, 40);
}

static void udp(struct crafted *f)
{
    static const uint8_t h[8] = {0x30, 0x39, 0x00, 0x35, 0, 8, 0, 0};     /* 12345 -> 53 */
    put(f, h, 8);
}

/* Non-zero bytes up to 60 (what a NIC pads with is not always zero). */
static void pad(struct crafted *f)
{
    while (f->len < 60)
        f->b[f->len++] = 0xa5;
}

static void test_crafted(void **state)
{
    (void)state;
    struct crafted f;
    const unsigned sound = 0;
    const unsigned first_frag = 1u << RT_PORTS_ON_FRAGMENT;
    const unsigned unseen_ports = 1u << TUPLE_PORTS_RT_NONE;
    struct {
        const char *what;
        unsigned expect;
    } cases[16];
    struct crafted frames[16];
    int n = 0;
#define CASE(what_, expect_) (frames[n] = f, cases[n].what = (what_), cases[n++].expect = (expect_))

    eth(&f, 0x0800), ipv4(&f, 28, 0x4000, 17), udp(&f), pad(&f);
    CASE("IPv4 UDP, padded to 60", sound);
    eth(&f, 0x0800), ipv4(&f, 22, 0x4000, 17), udp(&f), pad(&f);
    CASE("IPv4 total length ends inside the UDP ports, padding behind", sound);
    eth(&f, 0x0800), ipv4(&f, 20, 0x4000, 17), udp(&f), pad(&f);
    CASE("IPv4 total length = header only, UDP bytes behind", sound);
    eth(&f, 0x0800), ipv4(&f, 0, 0x4000, 17), udp(&f), pad(&f);
    CASE("IPv4 total length 0 (TSO capture)", sound);
    eth(&f, 0x0800), ipv4(&f, 28, 0x2000, 17), udp(&f), pad(&f);
    CASE("IPv4 first fragment", first_frag);
    eth(&f, 0x86DD), ipv6(&f, 8, 17), udp(&f);
    CASE("IPv6 UDP", sound);
    eth(&f, 0x86DD), ipv6(&f, 2, 17), udp(&f), pad(&f);
    CASE("IPv6 payload length ends inside the UDP ports", sound);
    eth(&f, 0x86DD), ipv6(&f, 0, 17), udp(&f);
    CASE("IPv6 payload length 0 (jumbogram / TSO)", sound);
    static const uint8_t hop[8] = {17, 0, 1, 4, 0, 0, 0, 0};
    eth(&f, 0x86DD), ipv6(&f, 10, 0), put(&f, hop, 8), udp(&f);
    CASE("IPv6 hop-by-hop, payload length ends inside the UDP ports", sound);
    static const uint8_t frag6[8] = {17, 0, 0, 1, 0, 0, 0, 9};
    eth(&f, 0x86DD), ipv6(&f, 16, 44), put(&f, frag6, 8), udp(&f);
    CASE("IPv6 first fragment", first_frag);
    eth(&f, 0x9100), put16(&f, 5), put16(&f, 0x0800), ipv4(&f, 28, 0, 17), udp(&f), pad(&f);
    CASE("0x9100 tag (traces/ skips it, the runtime does not)",
         unseen_ports | 1u << TUPLE_V4_RT_NONE);
    static const uint8_t ah[12] = {17, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1};
    eth(&f, 0x0800), ipv4(&f, 40, 0, 51), put(&f, ah, 12), udp(&f);
    CASE("IPv4 AH then UDP", unseen_ports | 1u << PROTO_DIFFER);
#undef CASE
    unsigned long failures = 0;
    for (int i = 0; i < n; i++) {
        unsigned got = compare(DLT_EN10MB, frames[i].b, frames[i].len);
        printf("  %-62s %s\n", cases[i].what, got == cases[i].expect ? "as expected" : "DIFFERS");
        for (int k = 0; k < N_KINDS; k++)
            if ((got ^ cases[i].expect) & (1u << k))
                printf("      %s %s\n", got & (1u << k) ? "unexpected:" : "missing:",
                       kinds[k].name);
        failures += got != cases[i].expect;
        /* Every truncation of each frame: never an unsound disagreement. */
        unsigned long bad_cuts = 0;
        uint32_t first_bad = 0;
        for (uint32_t len = 0; len < frames[i].len; len++) {
            unsigned cut = compare(DLT_EN10MB, frames[i].b, len);
            for (int k = 0; k < N_KINDS; k++)
                if (kinds[k].unsound && (cut & (1u << k)) && bad_cuts++ == 0)
                    first_bad = len;
        }
        if (bad_cuts)
            printf("      %lu unsound disagreements when cut short, the first at %u bytes\n",
                   bad_cuts, first_bad);
        failures += bad_cuts;
    }
    assert_int_equal(failures, 0);
}

#ifdef SHARED_DIR
static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir whose name ends with one of the suffixes. */
static void check_directory(struct tally *y, const char *dir, const char *const *suffixes)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        bool match = false;
        for (int s = 0; suffixes[s]; s++) {
            size_t sl = strlen(suffixes[s]);
            match = match || (len > sl && strcmp(e->d_name + len - sl, suffixes[s]) == 0);
        }
        if (!match)
            continue;
        names = realloc(names, (n + 1) * sizeof *names);
        assert_non_null(names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, compare_names);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        check_file(y, path);
        free(names[i]);
    }
    free(names);
}

static void test_shared_traces(void **state)
{
    (void)state;
    struct tally y = {0};
    static const char *const pcap[] = {".pcap", NULL};
    check_directory(&y, SHARED_DIR "/traces", pcap);
    report(&y);
    assert_true(y.files >= 4 && y.packets > 100000);
    assert_int_equal(y.unopenable + y.read_errors, 0);
    assert_sound(&y);
}

static void test_tcpdump_corpus(void **state)
{
    (void)state;
    struct tally y = {0};
    static const char *const any[] = {".pcap", ".pcapng", NULL};
    check_directory(&y, SHARED_DIR "/corpus/tcpdump-tests", any);
    report(&y);
    assert_true(y.files + y.unopenable + y.refused_linktype >= 800);
    assert_sound(&y);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crafted),
        cmocka_unit_test(test_generated),
#ifdef SHARED_DIR
        cmocka_unit_test(test_shared_traces),
        cmocka_unit_test(test_tcpdump_corpus),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
