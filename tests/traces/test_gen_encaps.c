/*
 * test_gen_encaps.c - the generator's encapsulation options: --frag-share
 * (IPv4 datagrams as 2-3 fragments), --vlan-share (802.1Q tags, one VLAN id
 * per flow) and --ipv6-ext-share (hop-by-hop / destination options before
 * L4). Each is counted three ways: from the frame bytes here, with the
 * project's trace stats / parser, and with tshark run by the test. Also:
 * same seed same bytes, fragments reassemble into datagrams with valid
 * checksums, bad shares are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "traces/traces.h"

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void tmp_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "/tmp/rsskey-test-encaps-%d-%s", (int)getpid(), name);
}

static void write_trace(const struct trace_gen_options *o, const char *path)
{
    struct util_error err;
    if (trace_gen_write(o, path, NULL, &err) != 0)
        fail_msg("%s", err.msg);
}

/* Number of frames of path that tshark's display filter matches. */
static unsigned long tshark_count(const char *path, const char *options, const char *filter)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' -n -r '%s' %s -Y '%s' -T fields -e frame.number "
             "2>/dev/null | wc -l", TSHARK, path, options, filter);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    unsigned long n = 0;
    assert_int_equal(fscanf(p, "%lu", &n), 1);
    assert_int_equal(pclose(p), 0);
    return n;
}

static void stats_of(const char *path, struct trace_stats *s)
{
    struct util_error err;
    struct trace_reader *r = trace_open(path, &err);
    if (!r)
        fail_msg("%s", err.msg);
    trace_stats_init(s);
    struct trace_packet p;
    int rc;
    while ((rc = trace_next(r, &p, &err)) == 1)
        assert_int_equal(trace_stats_add(s, &p, &err), 0);
    assert_int_equal(rc, 0);
    trace_close(r);
}

static void base_options(struct trace_gen_options *o)
{
    trace_gen_defaults(o);
    o->seed = 7;
    o->packets = 6000;
    o->flows = 300;
    o->two_port = true;
    o->ipv6_share = 0.3;
    o->tcp_share = 0.6;
}

/* One fragmented datagram being followed: its fragments must arrive in order
 * (the generator sends them back to back), offsets contiguous. */
struct datagram {
    bool open;
    uint8_t src[4], dst[4];
    uint16_t id;
    uint32_t next_offset;       /* bytes of IP payload seen so far */
    int pieces;
};

static void test_fragments(void **state)
{
    (void)state;
    struct trace_gen_options o;
    base_options(&o);
    o.frag_share = 0.25;
    char path[128];
    tmp_path(path, sizeof path, "frag.pcap");
    write_trace(&o, path);

    struct util_error err;
    struct trace_reader *r = trace_open(path, &err);
    assert_non_null(r);
    struct trace_packet p;
    struct datagram d = {0};
    struct trace_tuple firsts[1024];     /* tuples of first fragments */
    size_t n_firsts = 0, also_whole = 0;
    unsigned long fragments = 0, first = 0, datagrams_v4 = 0, fragmented = 0;
    unsigned long by_pieces[4] = {0};
    while (trace_next(r, &p, &err) == 1) {
        if (p.tuple.ip_version != 4)
            continue;
        const uint8_t *ip = p.data + 14;
        uint16_t frag = be16(ip + 6);
        uint32_t offset = (uint32_t)(frag & 0x1fff) * 8, payload = be16(ip + 2) - 20u;
        bool more = frag & 0x2000;
        if (!p.tuple.is_fragment) {
            assert_false(d.open);
            assert_true(frag & 0x4000);                 /* unfragmented: DF */
            assert_true(p.tuple.has_ports);
            datagrams_v4++;
            for (size_t i = 0; i < n_firsts; i++) {
                if (memcmp(firsts[i].src, p.tuple.src, 4) == 0 &&
                    memcmp(firsts[i].dst, p.tuple.dst, 4) == 0 &&
                    firsts[i].sport == p.tuple.sport && firsts[i].dport == p.tuple.dport) {
                    also_whole++;
                    firsts[i] = firsts[--n_firsts];     /* count each flow once */
                    break;
                }
            }
            continue;
        }
        fragments++;
        assert_false(frag & 0x4000);
        if (offset == 0) {
            assert_false(d.open);
            assert_true(more);
            assert_true(p.tuple.has_ports);             /* the first carries L4 */
            assert_true(payload >= (p.tuple.proto == 6 ? 20u : 8u));
            first++;
            datagrams_v4++;
            if (n_firsts < 1024)
                firsts[n_firsts++] = p.tuple;
            fragmented++;
            d = (struct datagram){true, {0}, {0}, be16(ip + 4), 0, 0};
            memcpy(d.src, ip + 12, 4);
            memcpy(d.dst, ip + 16, 4);
        } else {
            assert_true(d.open);
            assert_false(p.tuple.has_ports);
            assert_int_equal(be16(ip + 4), d.id);
            assert_memory_equal(ip + 12, d.src, 4);
            assert_memory_equal(ip + 16, d.dst, 4);
        }
        assert_int_equal(offset, d.next_offset);
        if (more)
            assert_int_equal(payload % 8, 0);
        d.next_offset += payload;
        d.pieces++;
        if (!more) {
            assert_true(d.pieces >= 2 && d.pieces <= 3);
            by_pieces[d.pieces]++;
            d.open = false;
        }
    }
    trace_close(r);
    printf("  %lu IPv4 datagrams, %lu fragmented (%lu in 2, %lu in 3), %lu fragments\n",
           datagrams_v4, fragmented, by_pieces[2], by_pieces[3], fragments);
    assert_true(by_pieces[2] > 0 && by_pieces[3] > 0);
    assert_true(also_whole > 10);       /* flows send fragmented and whole datagrams */
    /* A quarter of the datagrams that are long enough to split: 64-byte TCP
     * frames (10 payload bytes) are not. */
    double share = (double)fragmented / (double)datagrams_v4;
    assert_true(share > 0.12 && share < 0.3);

    /* The project's statistics and tshark count the same fragments. */
    struct trace_stats s;
    stats_of(path, &s);
    assert_int_equal(s.fragments, fragments);
    trace_stats_free(&s);
    assert_int_equal(tshark_count(path, "-o ip.defragment:FALSE",
                                  "ip.flags.mf == 1 || ip.frag_offset > 0"), fragments);
    assert_int_equal(tshark_count(path, "-o ip.defragment:FALSE",
                                  "ip.flags.mf == 1 && ip.frag_offset == 0"), first);
    /* Reassembled by tshark, every datagram's TCP/UDP checksum holds, and so
     * does every fragment's IPv4 header checksum. */
    const char *checks = "-o ip.defragment:TRUE -o ip.check_checksum:TRUE "
                         "-o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE";
    assert_int_equal(tshark_count(path, checks, "ip.checksum.status == \"Bad\" || "
                                  "tcp.checksum.status == \"Bad\" || "
                                  "udp.checksum.status == \"Bad\""), 0);
    assert_int_equal(tshark_count(path, checks, "ip.flags.mf == 0 && ip.frag_offset > 0 && "
                                  "(tcp.checksum.status == \"Good\" || "
                                  "udp.checksum.status == \"Good\")"), fragmented);
    unlink(path);
}

/* Returns the VLAN id of a tagged frame, -1 for an untagged one. */
static int vlan_of(const struct trace_packet *p)
{
    if (p->cap_len < 18 || be16(p->data + 12) != 0x8100)
        return -1;
    return be16(p->data + 14) & 0x0fff;
}

static void test_vlan_tags(void **state)
{
    (void)state;
    struct trace_gen_options o;
    base_options(&o);
    o.vlan_share = 0.4;
    char path[128];
    tmp_path(path, sizeof path, "vlan.pcap");
    write_trace(&o, path);

    /* Each flow (either direction) keeps one VLAN id, or none. */
    struct util_error err;
    struct trace_reader *r = trace_open(path, &err);
    assert_non_null(r);
    struct trace_stats s;
    trace_stats_init(&s);
    struct trace_packet p;
    unsigned long tagged = 0;
    while (trace_next(r, &p, &err) == 1) {
        assert_int_equal(trace_stats_add(&s, &p, &err), 0);
        int vlan = vlan_of(&p);
        if (vlan >= 0) {
            tagged++;
            assert_true(vlan >= 1 && vlan <= 4094);
        }
        /* The tag is skipped: addresses and ports are parsed behind it. */
        assert_true(p.tuple.ip_version == 4 || p.tuple.ip_version == 6);
        assert_true(p.tuple.has_ports);
    }
    trace_close(r);
    assert_int_equal(s.non_ip, 0);
    assert_int_equal(s.flow_packets, s.packets);

    /* Per directional flow, the tag is constant; both directions agree. */
    r = trace_open(path, &err);
    assert_non_null(r);
    struct { struct trace_tuple t; int vlan; } seen[2048];
    size_t n_seen = 0, flows_tagged = 0;
    while (trace_next(r, &p, &err) == 1) {
        size_t i;
        for (i = 0; i < n_seen; i++) {
            const struct trace_tuple *t = &seen[i].t;
            bool same = memcmp(t->src, p.tuple.src, 16) == 0 && memcmp(t->dst, p.tuple.dst, 16) == 0 &&
                        t->sport == p.tuple.sport && t->dport == p.tuple.dport;
            bool reverse = memcmp(t->src, p.tuple.dst, 16) == 0 &&
                           memcmp(t->dst, p.tuple.src, 16) == 0 &&
                           t->sport == p.tuple.dport && t->dport == p.tuple.sport;
            if (same || reverse)
                break;
        }
        if (i == n_seen) {
            assert_true(n_seen < 2048);
            seen[n_seen].t = p.tuple;
            seen[n_seen].vlan = vlan_of(&p);
            flows_tagged += seen[n_seen].vlan >= 0;
            n_seen++;
        } else {
            assert_int_equal(seen[i].vlan, vlan_of(&p));
        }
    }
    trace_close(r);
    double share = (double)flows_tagged / (double)n_seen;
    printf("  %lu tagged frames; %zu of %zu connections tagged\n", tagged, flows_tagged, n_seen);
    assert_true(share > 0.3 && share < 0.5);

    assert_int_equal(tshark_count(path, "", "vlan"), tagged);
    assert_int_equal(tshark_count(path, "-o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE "
                                  "-o udp.check_checksum:TRUE",
                                  "vlan && (tcp.checksum.status == \"Good\" || "
                                  "udp.checksum.status == \"Good\")"), tagged);
    trace_stats_free(&s);
    unlink(path);
}

static void test_ipv6_extension_headers(void **state)
{
    (void)state;
    struct trace_gen_options o;
    base_options(&o);
    o.ipv6_share = 0.6;
    o.ipv6_ext_share = 0.5;
    char path[128];
    tmp_path(path, sizeof path, "ext.pcap");
    write_trace(&o, path);

    struct util_error err;
    struct trace_reader *r = trace_open(path, &err);
    assert_non_null(r);
    struct trace_packet p;
    unsigned long v6 = 0, hop = 0, dst = 0;
    while (trace_next(r, &p, &err) == 1) {
        if (p.tuple.ip_version != 6)
            continue;
        v6++;
        uint8_t next = p.data[14 + 6];
        hop += next == 0;
        dst += next == 60;
        if (next == 0 || next == 60) {
            assert_int_equal(p.data[14 + 40 + 1], 0);           /* 8 bytes */
            assert_int_equal(p.data[14 + 40], p.tuple.proto);
        }
        assert_true(p.tuple.has_ports);         /* the parser walks past it */
        assert_true(p.tuple.proto == 6 || p.tuple.proto == 17);
    }
    trace_close(r);
    printf("  %lu IPv6 packets: %lu hop-by-hop, %lu destination options\n", v6, hop, dst);
    assert_true(hop > 0 && dst > 0);
    assert_true(hop + dst > v6 / 5 && hop + dst < v6 * 4 / 5);

    struct trace_stats s;
    stats_of(path, &s);
    assert_int_equal(s.ipv6, v6);
    assert_int_equal(s.flow_packets, s.packets);
    trace_stats_free(&s);
    assert_int_equal(tshark_count(path, "", "ipv6.hopopts"), hop);
    assert_int_equal(tshark_count(path, "", "ipv6.dstopts"), dst);
    assert_int_equal(tshark_count(path, "-o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE",
                                  "(ipv6.hopopts || ipv6.dstopts) && "
                                  "(tcp.checksum.status == \"Good\" || "
                                  "udp.checksum.status == \"Good\")"), hop + dst);
    unlink(path);
}

/* Same options and seed: same bytes; each option changes them; all three
 * together still reproduce; out-of-range shares are refused. */
static void test_reproducible_and_checked(void **state)
{
    (void)state;
    struct trace_gen_options o;
    base_options(&o);
    o.packets = 2000;
    o.frag_share = 0.3;
    o.vlan_share = 0.3;
    o.ipv6_ext_share = 0.3;
    char a[128], b[128], c[128];
    tmp_path(a, sizeof a, "a.pcap");
    tmp_path(b, sizeof b, "b.pcap");
    tmp_path(c, sizeof c, "c.pcap");
    write_trace(&o, a);
    write_trace(&o, b);
    struct util_error err;
    size_t la, lb, lc;
    char *da = util_read_file(a, &la, &err), *db = util_read_file(b, &lb, &err);
    assert_non_null(da);
    assert_non_null(db);
    assert_int_equal(la, lb);
    assert_memory_equal(da, db, la);

    double *shares[] = {&o.frag_share, &o.vlan_share, &o.ipv6_ext_share};
    for (int i = 0; i < 3; i++) {
        double keep = *shares[i];
        *shares[i] = 0;
        write_trace(&o, c);
        char *dc = util_read_file(c, &lc, &err);
        assert_non_null(dc);
        assert_true(lc != la || memcmp(da, dc, la) != 0);
        free(dc);
        *shares[i] = keep;
    }
    for (int i = 0; i < 3; i++) {
        double keep = *shares[i];
        *shares[i] = 1.5;
        assert_int_equal(trace_gen_check(&o, &err), -1);
        assert_non_null(strstr(err.msg, "must be in 0..1"));
        *shares[i] = keep;
    }
    free(da);
    free(db);
    unlink(a);
    unlink(b);
    unlink(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fragments),
        cmocka_unit_test(test_vlan_tags),
        cmocka_unit_test(test_ipv6_extension_headers),
        cmocka_unit_test(test_reproducible_and_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
