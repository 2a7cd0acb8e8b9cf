/*
 * test_adv_captures.c - adv-capture writes what its comment promises: every
 * kind is reproducible, free of bad checksums (and of malformed DNS) for
 * tshark, and has the property its NF needs (colliding buckets over several
 * /12s, first/later/out-of-order fragments in both directions, both
 * directions of a connection on one port, DNS answers matching queries, TCP
 * handshakes over two ports, NAT replies to a single NAT's ports).
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

static char dir[] = "/tmp/rsskey-test-advcap-XXXXXX";

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Writes KIND into dir/KIND.pcap (twice: the bytes must match) and returns
 * the path in a static buffer. */
static const char *make(const char *kind)
{
    static char path[256];
    char again[256], cmd[2048];
    snprintf(path, sizeof path, "%s/%s.pcap", dir, kind);
    snprintf(again, sizeof again, "%s/%s.again.pcap", dir, kind);
    snprintf(cmd, sizeof cmd, "'%s' %s -o '%s' > /dev/null && '%s' %s -o '%s' > /dev/null && "
             "cmp -s '%s' '%s'", ADV_CAPTURE, kind, path, ADV_CAPTURE, kind, again, path, again);
    assert_int_equal(system(cmd), 0);
    unlink(again);
#ifdef TSHARK
    snprintf(cmd, sizeof cmd, "'%s' -n -r '%s' -o ip.defragment:TRUE -o ip.check_checksum:TRUE "
             "-o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE -Y "
             "'ip.checksum.status == \"Bad\" || tcp.checksum.status == \"Bad\" || "
             "udp.checksum.status == \"Bad\" || (_ws.malformed && dns)' 2>/dev/null | wc -l",
             TSHARK, path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    unsigned long bad = 1;
    assert_int_equal(fscanf(p, "%lu", &bad), 1);
    pclose(p);
    assert_int_equal(bad, 0);
#endif
    return path;
}

/* A source with --lan 10.0.0.0/8,fd00::/8. */
static struct trace_source *open_split(const char *path)
{
    static struct trace_source_options o;
    struct util_error err;
    memset(&o, 0, sizeof o);
    assert_int_equal(trace_options_add_file(&o, path, &err), 0);
    assert_int_equal(trace_options_add_lan(&o, "10.0.0.0/8,fd00::/8", &err), 0);
    struct trace_source *s = trace_source_open(&o, &err);
    assert_non_null(s);
    return s;
}

static void test_colliding_sources(void **state)
{
    (void)state;
    struct trace_source *s = open_split(make("colliding-sources"));
    struct trace_packet p;
    struct util_error err;
    uint32_t src[64];
    size_t n_src = 0, packets = 0;
    while (trace_source_next(s, &p, &err) == 1) {
        packets++;
        assert_int_equal(p.port, 1);            /* no source in the LAN prefix */
        uint32_t a = rd32(p.tuple.src);
        size_t i = 0;
        while (i < n_src && src[i] != a)
            i++;
        if (i == n_src) {
            assert_true(n_src < 64);
            src[n_src++] = a;
        }
    }
    trace_source_close(s);
    assert_true(packets >= 1200);
    /* Buckets shared by at least 4 sources, and the /12s each spans. */
    for (int salted = 0; salted < 2; salted++) {
        uint32_t bucket[64];
        for (size_t i = 0; i < n_src; i++)
            bucket[i] = salted ? (src[i] + 0x00054321u) >> 20 : (src[i] * 2654435761u) >> 20;
        size_t shared = 0, members_sum = 0;
        for (size_t i = 0; i < n_src; i++) {
            size_t members = 0, prefixes = 0, first = i;
            for (size_t j = 0; j < n_src; j++) {
                if (bucket[j] != bucket[i])
                    continue;
                if (j < first)
                    first = j;
                members++;
                bool new_prefix = true;
                for (size_t k = 0; k < j; k++)
                    if (bucket[k] == bucket[i] && src[k] >> 20 == src[j] >> 20)
                        new_prefix = false;
                prefixes += new_prefix;
            }
            if (first != i || members < 4)
                continue;               /* count each shared bucket once */
            printf("  %s bucket 0x%03x: %zu sources over %zu /12s\n",
                   salted ? "hashidx_salt" : "hashidx_mul", bucket[i], members, prefixes);
            assert_int_equal(prefixes, salted ? 2 : members);
            shared++;
            members_sum += members;
        }
        assert_int_equal(shared, salted ? 4 : 1);
        assert_int_equal(members_sum, 16);
    }
}

static void test_fragments(void **state)
{
    (void)state;
    struct trace_source *s = open_split(make("fragments"));
    struct trace_packet p;
    struct util_error err;
    struct { uint8_t src[16]; uint32_t id; } firsts[4096];
    size_t n_firsts = 0, first[2][2] = {{0}}, later = 0, early = 0, whole = 0;
    while (trace_source_next(s, &p, &err) == 1) {
        int v6 = p.tuple.ip_version == 6;
        if (!p.tuple.is_fragment) {
            whole++;
            continue;
        }
        const uint8_t *ip = p.data + 14;
        uint32_t id = v6 ? rd32(ip + 44) : rd16(ip + 4);
        if (p.tuple.has_ports) {
            first[v6][p.port]++;
            assert_true(n_firsts < 4096);
            memcpy(firsts[n_firsts].src, p.tuple.src, 16);
            firsts[n_firsts++].id = id;
            continue;
        }
        later++;
        bool seen = false;
        for (size_t i = 0; i < n_firsts && !seen; i++)
            seen = firsts[i].id == id && memcmp(firsts[i].src, p.tuple.src, 16) == 0;
        early += !seen;                         /* before its first fragment */
    }
    trace_source_close(s);
    printf("  first fragments v4 %zu/%zu, v6 %zu/%zu (port 0/1), %zu later (%zu early), "
           "%zu whole\n", first[0][0], first[0][1], first[1][0], first[1][1], later, early,
           whole);
    for (int v = 0; v < 2; v++)
        for (int port = 0; port < 2; port++)
            assert_true(first[v][port] > 10);
    assert_true(later > 200 && early > 20 && whole > 500);
}

static void test_canonical(void **state)
{
    (void)state;
    struct trace_source *s = open_split(make("canonical"));
    struct trace_packet p;
    struct util_error err;
    struct { struct trace_tuple t; int directions; } c[64];
    size_t n = 0, same_host = 0;
    while (trace_source_next(s, &p, &err) == 1) {
        assert_int_equal(p.port, 0);
        size_t i;
        int dir = 0;
        for (i = 0; i < n; i++) {
            const struct trace_tuple *t = &c[i].t;
            if (memcmp(t->src, p.tuple.src, 4) == 0 && memcmp(t->dst, p.tuple.dst, 4) == 0 &&
                t->sport == p.tuple.sport && t->dport == p.tuple.dport)
                break;
            if (memcmp(t->src, p.tuple.dst, 4) == 0 && memcmp(t->dst, p.tuple.src, 4) == 0 &&
                t->sport == p.tuple.dport && t->dport == p.tuple.sport) {
                dir = 1;
                break;
            }
        }
        if (i == n) {
            assert_true(n < 64);
            c[n].t = p.tuple;
            c[n].directions = 0;
            same_host += memcmp(p.tuple.src, p.tuple.dst, 4) == 0;
            n++;
        }
        c[i].directions |= 1 << dir;
    }
    trace_source_close(s);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(c[i].directions, 3);
    assert_true(n == 40 && same_host >= 4);
}

static void test_dns_tcp_nat(void **state)
{
    (void)state;
    struct trace_packet p;
    struct util_error err;
    /* DNS: queries on port 0 to 53, answers on port 1 from 53 with a txid
     * some query used. */
    struct trace_source *s = open_split(make("dns"));
    uint16_t txids[2048];
    size_t queries = 0, answered = 0, unsolicited = 0;
    while (trace_source_next(s, &p, &err) == 1) {
        uint16_t txid = rd16(p.data + 14 + 20 + 8);
        if (p.port == 0) {
            assert_int_equal(rd16((const uint8_t *)&p.tuple.dport), 53);
            txids[queries++] = txid;
            continue;
        }
        assert_int_equal(rd16((const uint8_t *)&p.tuple.sport), 53);
        bool known = false;
        for (size_t i = 0; i < queries && !known; i++)
            known = txids[i] == txid;
        answered += known;
        unsolicited += !known;
    }
    trace_source_close(s);
    assert_true(queries > 500 && answered > 300 && unsolicited > 50);

    /* TCP: SYN from inside, SYN-ACK from outside, FINs and RSTs. */
    s = open_split(make("tcp-handshakes"));
    size_t flags[2][256] = {{0}};
    size_t fragments = 0;
    while (trace_source_next(s, &p, &err) == 1) {
        if (p.tuple.is_fragment) {
            fragments++;
            if (!p.tuple.has_ports)
                continue;
        }
        assert_true(p.cap_len >= 14 + 20 + 20);
        flags[p.port][p.data[14 + 20 + 13]]++;
    }
    assert_true(fragments > 100);
    trace_source_close(s);
    assert_true(flags[0][0x02] >= 80 && flags[1][0x12] >= 80);
    assert_true(flags[0][0x11] + flags[1][0x11] >= 100);
    assert_true(flags[0][0x14] + flags[1][0x14] >= 5);

    /* NAT: replies from outside to 198.51.100.1:20000+. */
    s = open_split(make("nat-replies"));
    size_t replies = 0, highest = 0;
    while (trace_source_next(s, &p, &err) == 1) {
        if (p.port != 1)
            continue;
        assert_int_equal(rd32(p.tuple.dst), 0xC6336401);
        uint16_t port = rd16((const uint8_t *)&p.tuple.dport);
        assert_true(port >= 20000 && port < 20200);
        replies++;
        if (port - 20000u > highest)
            highest = port - 20000u;
    }
    trace_source_close(s);
    assert_true(replies > 500 && highest > 150);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_colliding_sources),
        cmocka_unit_test(test_fragments),
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_dns_tcp_nat),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return rc;
}
