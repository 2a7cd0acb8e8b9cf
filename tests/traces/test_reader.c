/*
 * test_reader.c - the reader, the multi-file source with its port policy, and
 * the statistics, on captures the test writes itself: micro- and nanosecond
 * pcap, a hand-built pcapng, several link types, broken files.
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
#include <pcap/pcap.h>

#include "traces/traces.h"
#include "frames.h"

struct tmpdir {
    char path[64];
};

static void make_tmpdir(struct tmpdir *d)
{
    snprintf(d->path, sizeof d->path, "/tmp/rsskey-test-reader-XXXXXX");
    assert_non_null(mkdtemp(d->path));
}

static void remove_tmpdir(struct tmpdir *d)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->path);
    assert_int_equal(system(cmd), 0);
}

/* Writes frames with the given timestamps (ns) as a pcap of that precision. */
static void write_pcap(const char *path, int linktype, int precision, const struct frame *frames,
                       const uint64_t *times_ns, size_t n)
{
    pcap_t *dead = pcap_open_dead_with_tstamp_precision(linktype, 65535, precision);
    assert_non_null(dead);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    assert_non_null(d);
    for (size_t i = 0; i < n; i++) {
        struct pcap_pkthdr h;
        h.ts.tv_sec = (time_t)(times_ns[i] / 1000000000u);
        uint64_t frac = times_ns[i] % 1000000000u;
        h.ts.tv_usec = (suseconds_t)(precision == PCAP_TSTAMP_PRECISION_NANO ? frac : frac / 1000);
        h.caplen = h.len = frames[i].len;
        pcap_dump((u_char *)d, &h, frames[i].b);
    }
    pcap_dump_close(d);
    pcap_close(dead);
}

static struct frame udp4_frame(const uint8_t src[4], uint16_t sport, uint16_t dport)
{
    struct frame f = {0};
    put_eth(&f, 0x0800);
    put_ipv4(&f, 17, 0, 0, 12);
    memcpy(f.b + 14 + 12, src, 4);
    put_udp(&f, sport, dport);
    return f;
}

static struct frame udp6_frame(uint16_t sport, uint16_t dport)
{
    struct frame f = {0};
    put_eth(&f, 0x86DD);
    put_ipv6(&f, 17, 12);
    put_udp(&f, sport, dport);
    return f;
}

static struct frame arp_frame(void)
{
    struct frame f = {0};
    put_eth(&f, 0x0806);
    for (int i = 0; i < 28; i++)
        put8(&f, 0);
    return f;
}

static int read_all(const char *path, struct trace_packet *out, size_t max, struct util_error *err)
{
    struct trace_reader *r = trace_open(path, err);
    if (!r)
        return -1;
    int n = 0, rc;
    struct trace_packet p;
    while ((rc = trace_next(r, &p, err)) == 1) {
        if ((size_t)n < max)
            out[n] = p;
        n++;
    }
    trace_close(r);
    return rc < 0 ? -1 : n;
}

static void test_micro_and_nano_timestamps(void **state)
{
    (void)state;
    struct tmpdir d;
    make_tmpdir(&d);
    char path[128];
    struct frame frames[2] = {udp4_frame(V4_SRC, 1, 2), udp6_frame(3, 4)};
    uint64_t times[2] = {1700000000123456789ull, 1700000001000000001ull};
    struct trace_packet p[2] = {0};
    struct util_error err;

    snprintf(path, sizeof path, "%s/micro.pcap", d.path);
    write_pcap(path, DLT_EN10MB, PCAP_TSTAMP_PRECISION_MICRO, frames, times, 2);
    assert_int_equal(read_all(path, p, 2, &err), 2);
    assert_int_equal(p[0].time_ns, 1700000000123456000ull);    /* microseconds, scaled */
    assert_int_equal(p[1].time_ns, 1700000001000000000ull);

    snprintf(path, sizeof path, "%s/nano.pcap", d.path);
    write_pcap(path, DLT_EN10MB, PCAP_TSTAMP_PRECISION_NANO, frames, times, 2);
    assert_int_equal(read_all(path, p, 2, &err), 2);
    assert_int_equal(p[0].time_ns, times[0]);
    assert_int_equal(p[1].time_ns, times[1]);
    assert_int_equal(p[0].tuple.ip_version, 4);
    assert_int_equal(p[1].tuple.ip_version, 6);
    assert_int_equal(p[1].cap_len, frames[1].len);
    assert_int_equal(p[1].wire_len, frames[1].len);
    remove_tmpdir(&d);
}

static void put_le32(FILE *f, uint32_t v)
{
    fwrite(&v, 4, 1, f);    /* the test host is little-endian (x86-64) */
}

static void test_pcapng(void **state)
{
    (void)state;
    struct tmpdir d;
    make_tmpdir(&d);
    char path[128];
    snprintf(path, sizeof path, "%s/t.pcapng", d.path);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    /* Section header block. */
    put_le32(f, 0x0A0D0D0A);
    put_le32(f, 28);
    put_le32(f, 0x1A2B3C4D);
    put_le32(f, 0x00000001);            /* version 1.0 */
    put_le32(f, 0xffffffff);            /* section length unknown */
    put_le32(f, 0xffffffff);
    put_le32(f, 28);
    /* Interface description block: Ethernet, default microsecond resolution. */
    put_le32(f, 1);
    put_le32(f, 20);
    put_le32(f, 1);                     /* linktype 1, reserved 0 */
    put_le32(f, 65535);
    put_le32(f, 20);
    /* Enhanced packet block. */
    struct frame fr = udp4_frame(V4_SRC, 7, 8);
    uint32_t padded = (fr.len + 3) & ~3u;
    uint64_t ts_us = 1700000000000001ull;
    put_le32(f, 6);
    put_le32(f, 32 + padded);
    put_le32(f, 0);
    put_le32(f, (uint32_t)(ts_us >> 32));
    put_le32(f, (uint32_t)ts_us);
    put_le32(f, fr.len);
    put_le32(f, fr.len);
    fwrite(fr.b, 1, fr.len, f);
    for (uint32_t i = fr.len; i < padded; i++)
        fputc(0, f);
    put_le32(f, 32 + padded);
    fclose(f);

    struct trace_packet p = {0};
    struct util_error err;
    assert_int_equal(read_all(path, &p, 1, &err), 1);
    assert_int_equal(p.time_ns, ts_us * 1000);
    assert_true(p.tuple.has_ports);
    remove_tmpdir(&d);
}

static void test_clear_errors(void **state)
{
    (void)state;
    struct tmpdir d;
    make_tmpdir(&d);
    char path[128];
    struct util_error err;

    snprintf(path, sizeof path, "%s/missing.pcap", d.path);
    assert_null(trace_open(path, &err));
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "No such file"));

    snprintf(path, sizeof path, "%s/text.pcap", d.path);
    FILE *f = fopen(path, "w");
    fputs("this is not a capture, just some text\n", f);
    fclose(f);
    assert_null(trace_open(path, &err));
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "not a readable pcap"));

    snprintf(path, sizeof path, "%s/wifi.pcap", d.path);
    struct frame fr = arp_frame();
    uint64_t t = 1;
    write_pcap(path, DLT_IEEE802_11, PCAP_TSTAMP_PRECISION_MICRO, &fr, &t, 1);
    assert_null(trace_open(path, &err));
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "IEEE802_11"));
    assert_non_null(strstr(err.msg, "link type 105"));

    /* A file cut in the middle of its second packet record. */
    snprintf(path, sizeof path, "%s/cut.pcap", d.path);
    struct frame frames[2] = {udp4_frame(V4_SRC, 1, 2), udp4_frame(V4_SRC, 3, 4)};
    uint64_t times[2] = {1, 2};
    write_pcap(path, DLT_EN10MB, PCAP_TSTAMP_PRECISION_MICRO, frames, times, 2);
    assert_int_equal(truncate(path, 24 + 16 + frames[0].len + 16 + 10), 0);
    struct trace_packet p[2] = {0};
    assert_int_equal(read_all(path, p, 2, &err), -1);
    assert_non_null(strstr(err.msg, "packet 2"));
    assert_non_null(strstr(err.msg, path));
    remove_tmpdir(&d);
}

static void test_prefix_parsing(void **state)
{
    (void)state;
    struct trace_prefix p;
    struct util_error err;
    assert_int_equal(trace_prefix_parse("10.1.2.3/12", &p, &err), 0);
    assert_int_equal(p.version, 4);
    assert_int_equal(p.len, 12);
    assert_int_equal(p.addr[0], 10);
    assert_int_equal(p.addr[1], 0);             /* host bits cleared */
    assert_int_equal(trace_prefix_parse("fd00::1", &p, &err), 0);
    assert_int_equal(p.len, 128);
    assert_int_equal(trace_prefix_parse("10.0.0.0/33", &p, &err), -1);
    assert_non_null(strstr(err.msg, "0..32"));
    assert_int_equal(trace_prefix_parse("lan/8", &p, &err), -1);
    assert_non_null(strstr(err.msg, "lan"));

    struct trace_source_options o;
    memset(&o, 0, sizeof o);
    assert_int_equal(trace_options_add_lan(&o, "10.0.0.0/8,fd00::/8,192.168.0.0/16", &err), 0);
    assert_int_equal(o.n_lan, 3);
    assert_int_equal(trace_options_add_lan(&o, "10.0.0.0/8,,", &err), -1);
    assert_int_equal(trace_options_add_port_file(&o, "x.pcap", &err), -1);
    assert_int_equal(trace_options_add_port_file(&o, "70000=x.pcap", &err), -1);
    assert_int_equal(trace_options_add_port_file(&o, "1=", &err), -1);
    assert_int_equal(trace_options_add_port_file(&o, "1=x.pcap", &err), 0);
    assert_int_equal(o.inputs[0].port, 1);
    assert_string_equal(o.inputs[0].path, "x.pcap");

    /* Prefix matching on a non-byte boundary. */
    struct trace_tuple t = {0};
    t.ip_version = 4;
    uint8_t in[4] = {10, 15, 0, 1}, out[4] = {10, 16, 0, 1};
    assert_int_equal(trace_prefix_parse("10.0.0.0/12", &p, &err), 0);
    memcpy(t.src, in, 4);
    assert_true(trace_prefix_contains_src(&p, &t));
    memcpy(t.src, out, 4);
    assert_false(trace_prefix_contains_src(&p, &t));
    t.ip_version = 6;
    assert_false(trace_prefix_contains_src(&p, &t));
}

/* Prefix matching equals a bit-by-bit reference for every prefix length of
 * both families, on random addresses and on addresses one bit away. */
static void test_prefix_all_lengths(void **state)
{
    (void)state;
    uint64_t s = 0x9e3779b97f4a7c15ULL;
    for (int version = 4; version <= 6; version += 2) {
        int bits = version == 4 ? 32 : 128;
        for (int len = 0; len <= bits; len++) {
            for (int trial = 0; trial < 64; trial++) {
                struct trace_prefix p = {.version = (uint8_t)version, .len = (uint8_t)len};
                struct trace_tuple t = {0};
                t.ip_version = (uint8_t)version;
                for (int i = 0; i < bits / 8; i++) {
                    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
                    t.src[i] = (uint8_t)s;
                    p.addr[i] = (uint8_t)(s >> 8);
                }
                if (trial % 2) {        /* equal on the prefix, maybe one bit off */
                    memcpy(p.addr, t.src, 16);
                    if (len > 0 && trial % 4 == 1) {
                        int flip = (int)((s >> 20) % (uint64_t)len);
                        p.addr[flip / 8] ^= (uint8_t)(0x80 >> (flip % 8));
                    }
                }
                for (int b = len; b < bits; b++)     /* host bits cleared */
                    p.addr[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
                bool expect = true;
                for (int b = 0; b < len; b++) {
                    int mask = 0x80 >> (b % 8);
                    if ((t.src[b / 8] & mask) != (p.addr[b / 8] & mask))
                        expect = false;
                }
                assert_int_equal(trace_prefix_contains_src(&p, &t), expect);
            }
        }
    }
}

static void test_lan_policy(void **state)
{
    (void)state;
    struct tmpdir d;
    make_tmpdir(&d);
    char path[128];
    snprintf(path, sizeof path, "%s/mixed.pcap", d.path);
    const uint8_t lan4[4] = {10, 9, 8, 7}, wan4[4] = {8, 8, 8, 8};
    struct frame frames[4] = {udp4_frame(lan4, 1, 2), udp4_frame(wan4, 2, 1), udp6_frame(5, 6),
                              arp_frame()};
    uint64_t times[4] = {10, 20, 30, 40};
    write_pcap(path, DLT_EN10MB, PCAP_TSTAMP_PRECISION_NANO, frames, times, 4);

    struct trace_source_options o;
    memset(&o, 0, sizeof o);
    struct util_error err;
    assert_int_equal(trace_options_add_file(&o, path, &err), 0);
    /* No prefixes: everything on port 0. */
    struct trace_source *s = trace_source_open(&o, &err);
    assert_non_null(s);
    struct trace_packet p;
    int n = 0;
    while (trace_source_next(s, &p, &err) == 1) {
        assert_int_equal(p.port, 0);
        n++;
    }
    assert_int_equal(n, 4);
    trace_source_close(s);

    /* 10.0.0.0/8 and fd00::/8 are the LAN: V6_SRC is fd00::1. */
    assert_int_equal(trace_options_add_lan(&o, "10.0.0.0/8,fd00::/8", &err), 0);
    s = trace_source_open(&o, &err);
    assert_non_null(s);
    const uint16_t expect[4] = {0, 1, 0, 1};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(trace_source_next(s, &p, &err), 1);
        assert_int_equal(p.time_ns, times[i]);
        assert_int_equal(p.port, expect[i]);
    }
    assert_int_equal(trace_source_next(s, &p, &err), 0);
    trace_source_close(s);
    remove_tmpdir(&d);
}

static void test_port_files_merge_in_time_order(void **state)
{
    (void)state;
    struct tmpdir d;
    make_tmpdir(&d);
    char a[128], b[128], spec_a[140], spec_b[140];
    snprintf(a, sizeof a, "%s/a.pcap", d.path);
    snprintf(b, sizeof b, "%s/b.pcap", d.path);
    struct frame fa[3] = {udp4_frame(V4_SRC, 100, 1), udp4_frame(V4_SRC, 101, 1),
                          udp4_frame(V4_SRC, 102, 1)};
    struct frame fb[3] = {udp6_frame(200, 2), udp6_frame(201, 2), udp6_frame(202, 2)};
    uint64_t ta[3] = {5, 30, 30}, tb[3] = {10, 30, 99};
    write_pcap(a, DLT_EN10MB, PCAP_TSTAMP_PRECISION_NANO, fa, ta, 3);
    write_pcap(b, DLT_EN10MB, PCAP_TSTAMP_PRECISION_NANO, fb, tb, 3);
    snprintf(spec_a, sizeof spec_a, "0=%s", a);
    snprintf(spec_b, sizeof spec_b, "1=%s", b);
    struct trace_source_options o;
    memset(&o, 0, sizeof o);
    struct util_error err;
    assert_int_equal(trace_options_add_port_file(&o, spec_a, &err), 0);
    assert_int_equal(trace_options_add_port_file(&o, spec_b, &err), 0);
    struct trace_source *s = trace_source_open(&o, &err);
    assert_non_null(s);
    assert_true(trace_source_size(s) > 0);
    /* By time; equal times: the file given first. */
    const uint16_t want_sport[6] = {100, 200, 101, 102, 201, 202};
    const uint16_t want_port[6] = {0, 1, 0, 0, 1, 1};
    struct trace_packet p;
    for (int i = 0; i < 6; i++) {
        assert_int_equal(trace_source_next(s, &p, &err), 1);
        assert_int_equal(p.port, want_port[i]);
        assert_int_equal(p.tuple.sport, htons(want_sport[i]));
        /* data must still be this packet's bytes */
        assert_int_equal(p.data[12], want_port[i] == 0 ? 0x08 : 0x86);
    }
    assert_int_equal(trace_source_next(s, &p, &err), 0);
    assert_int_equal(trace_source_next(s, &p, &err), 0);
    trace_source_close(s);

    /* All or nothing: one missing file fails the open, naming it. */
    char spec_c[160];
    snprintf(spec_c, sizeof spec_c, "2=%s/none.pcap", d.path);
    assert_int_equal(trace_options_add_port_file(&o, spec_c, &err), 0);
    assert_null(trace_source_open(&o, &err));
    assert_non_null(strstr(err.msg, "none.pcap"));
    remove_tmpdir(&d);
}

static struct trace_packet packet_of(const struct frame *f, uint64_t t, uint32_t wire_len)
{
    struct trace_packet p;
    memset(&p, 0, sizeof p);
    p.time_ns = t;
    p.cap_len = f->len;
    p.wire_len = wire_len;
    p.data = f->b;
    trace_parse(DLT_EN10MB, f->b, f->len, &p.tuple);
    return p;
}

static void test_stats_flows(void **state)
{
    (void)state;
    struct trace_stats s;
    trace_stats_init(&s);
    struct util_error err;
    /* 3000 flows: flow i has (i % 3) + 1 packets; the reverse direction of
     * flow 0 is a distinct flow; an ARP frame and a later fragment count in
     * totals only. Times run backwards once to test min/max. */
    uint64_t t = 1000;
    for (int i = 0; i < 3000; i++) {
        struct frame f = udp4_frame(V4_SRC, (uint16_t)(1000 + i), 53);
        for (int k = 0; k <= i % 3; k++) {
            struct trace_packet p = packet_of(&f, t++, f.len + 100);
            assert_int_equal(trace_stats_add(&s, &p, &err), 0);
        }
    }
    struct frame rev = {0};
    put_eth(&rev, 0x0800);
    put_ipv4(&rev, 17, 0, 0, 12);
    memcpy(rev.b + 14 + 12, V4_DST, 4);
    memcpy(rev.b + 14 + 16, V4_SRC, 4);
    put_udp(&rev, 53, 1000);
    struct frame arp = arp_frame();
    struct frame frag = {0};
    put_eth(&frag, 0x0800);
    put_ipv4(&frag, 17, 0x0010, 0, 12);
    put_udp(&frag, 1, 1);
    struct trace_packet extra[3] = {packet_of(&rev, 500, rev.len), packet_of(&arp, t, arp.len),
                                    packet_of(&frag, t, frag.len)};
    for (int i = 0; i < 3; i++)
        assert_int_equal(trace_stats_add(&s, &extra[i], &err), 0);

    assert_int_equal(s.packets, 6000 + 3);
    assert_int_equal(s.n_flows, 3001);
    assert_int_equal(s.flow_packets, 6001);
    assert_int_equal(s.non_ip, 1);
    assert_int_equal(s.fragments, 1);
    assert_int_equal(s.udp, 6002);
    assert_int_equal(s.truncated, 6000);
    assert_int_equal(s.first_ns, 500);
    assert_int_equal(s.last_ns, t);
    assert_int_equal(s.wire_bytes - s.cap_bytes, 6000 * 100);

    const double pct[4] = {0, 50, 90, 100};
    uint64_t out[4];
    assert_int_equal(trace_stats_flow_percentiles(&s, pct, 4, out, &err), 0);
    assert_int_equal(out[0], 1);
    assert_int_equal(out[1], 2);
    assert_int_equal(out[2], 3);
    assert_int_equal(out[3], 3);

    struct trace_flow top[5];
    assert_int_equal(trace_stats_top_flows(&s, top, 5), 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(top[i].packets, 3);
    char text[128];
    trace_flow_format(&top[0].key, text, sizeof text);
    assert_non_null(strstr(text, "10.1.2.3:"));
    assert_non_null(strstr(text, "> 192.0.2.9:53 udp"));
    trace_stats_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_micro_and_nano_timestamps),
        cmocka_unit_test(test_pcapng),
        cmocka_unit_test(test_clear_errors),
        cmocka_unit_test(test_prefix_parsing),
        cmocka_unit_test(test_prefix_all_lengths),
        cmocka_unit_test(test_lan_policy),
        cmocka_unit_test(test_port_files_merge_in_time_order),
        cmocka_unit_test(test_stats_flows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
