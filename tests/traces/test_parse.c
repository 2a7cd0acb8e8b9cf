/*
 * test_parse.c - trace_parse on crafted frames: every supported link type,
 * VLAN / QinQ / PPPoE / MPLS encapsulations, IPv4 options and fragments,
 * IPv6 extension header chains, and every truncation length of each frame
 * (each cut copied into an exact-size heap buffer, so ASan catches any read
 * past cap_len).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "traces/traces.h"
#include "frames.h"

/* ---- Checks ------------------------------------------------------------------ */

static void parse_ok(int linktype, const struct frame *f, struct trace_tuple *t)
{
    assert_true(trace_parse(linktype, f->b, f->len, t));
    assert_false(t->truncated);
}

static void assert_ports(const struct trace_tuple *t, uint16_t sport, uint16_t dport)
{
    assert_true(t->has_ports);
    assert_int_equal(((const uint8_t *)&t->sport)[0] << 8 | ((const uint8_t *)&t->sport)[1],
                     sport);
    assert_int_equal(((const uint8_t *)&t->dport)[0] << 8 | ((const uint8_t *)&t->dport)[1],
                     dport);
}

static void assert_v4_addrs(const struct trace_tuple *t)
{
    assert_int_equal(t->ip_version, 4);
    assert_memory_equal(t->src, V4_SRC, 4);
    assert_memory_equal(t->dst, V4_DST, 4);
}

static void assert_v6_addrs(const struct trace_tuple *t)
{
    assert_int_equal(t->ip_version, 6);
    assert_memory_equal(t->src, V6_SRC, 16);
    assert_memory_equal(t->dst, V6_DST, 16);
}

/* Parses every prefix of f from an exact-size heap copy. A prefix never has
 * more than the full frame: ports appear only once both are captured, and
 * the full-length parse equals `full`. */
static void check_all_truncations(int linktype, const struct frame *f,
                                  const struct trace_tuple *full)
{
    for (uint32_t cut = 0; cut <= f->len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        assert_non_null(copy);
        memcpy(copy, f->b, cut);
        struct trace_tuple t;
        bool ok = trace_parse(linktype, cut ? copy : NULL, cut, &t);
        if (cut == f->len) {
            assert_true(ok);
            assert_memory_equal(&t, full, sizeof t);
        } else {
            if (t.has_ports) {      /* then everything up to the ports was captured */
                assert_true(full->has_ports);
                assert_int_equal(t.sport, full->sport);
                assert_int_equal(t.dport, full->dport);
            }
            if (ok)
                assert_int_equal(t.ip_version, full->ip_version);
        }
        free(copy);
    }
}

/* ---- Tests ------------------------------------------------------------------- */

static void test_ethernet_ipv4_udp(void **state)
{
    (void)state;
    struct frame f = {0};
    put_eth(&f, 0x0800);
    put_ipv4(&f, 17, 0x4000, 0, 12);
    put_udp(&f, 5353, 53);
    struct trace_tuple t;
    parse_ok(DLT_EN10MB, &f, &t);
    assert_v4_addrs(&t);
    assert_int_equal(t.proto, 17);
    assert_false(t.is_fragment);
    assert_ports(&t, 5353, 53);
    assert_memory_equal(t.src_mac, MAC_SRC, 6);
    assert_memory_equal(t.dst_mac, MAC_DST, 6);
    check_all_truncations(DLT_EN10MB, &f, &t);
}

static void test_vlan_and_qinq(void **state)
{
    (void)state;
    static const uint16_t outer[] = {0x8100, 0x88A8, 0x9100};
    for (int i = 0; i < 3; i++) {
        struct frame f = {0};
        put_eth(&f, outer[i]);
        put16(&f, 100);                 /* TCI */
        put16(&f, 0x8100);              /* inner tag */
        put16(&f, 200);
        put16(&f, 0x0800);
        put_ipv4(&f, 6, 0, 0, 24);
        put_tcp(&f, 40000, 443);
        struct trace_tuple t;
        parse_ok(DLT_EN10MB, &f, &t);
        assert_v4_addrs(&t);
        assert_ports(&t, 40000, 443);
        check_all_truncations(DLT_EN10MB, &f, &t);
    }
}

static void test_ipv4_options(void **state)
{
    (void)state;
    for (int words = 1; words <= 10; words++) {
        struct frame f = {0};
        put_eth(&f, 0x0800);
        put_ipv4(&f, 6, 0, words, 20);
        put_tcp(&f, 1111, 2222);
        struct trace_tuple t;
        parse_ok(DLT_EN10MB, &f, &t);
        assert_ports(&t, 1111, 2222);
        check_all_truncations(DLT_EN10MB, &f, &t);
    }
}

static void test_ipv4_fragments(void **state)
{
    (void)state;
    struct frame first = {0};
    put_eth(&first, 0x0800);
    put_ipv4(&first, 17, 0x2000, 0, 12);    /* MF, offset 0 */
    put_udp(&first, 1000, 2000);
    struct trace_tuple t;
    parse_ok(DLT_EN10MB, &first, &t);
    assert_true(t.is_fragment);
    assert_ports(&t, 1000, 2000);
    check_all_truncations(DLT_EN10MB, &first, &t);

    struct frame later = {0};
    put_eth(&later, 0x0800);
    put_ipv4(&later, 17, 0x0002, 0, 12);    /* offset 16 bytes, last fragment */
    put_udp(&later, 1000, 2000);            /* payload bytes, not a header */
    parse_ok(DLT_EN10MB, &later, &t);
    assert_true(t.is_fragment);
    assert_false(t.has_ports);
    assert_int_equal(t.proto, 17);
    check_all_truncations(DLT_EN10MB, &later, &t);
}

static void test_ipv6_extension_chain(void **state)
{
    (void)state;
    struct frame f = {0};
    put_eth(&f, 0x86DD);
    put_ipv6(&f, 0, 8 + 16 + 8 + 20);
    put_ext(&f, 43, 0);                     /* hop-by-hop -> routing */
    put_ext(&f, 60, 1);                     /* routing (16 bytes) -> dstopts */
    put_ext(&f, 6, 0);                      /* dstopts -> TCP */
    put_tcp(&f, 50000, 80);
    struct trace_tuple t;
    parse_ok(DLT_EN10MB, &f, &t);
    assert_v6_addrs(&t);
    assert_int_equal(t.proto, 6);
    assert_ports(&t, 50000, 80);
    check_all_truncations(DLT_EN10MB, &f, &t);
}

static void test_ipv6_fragment_and_ah(void **state)
{
    (void)state;
    /* First fragment, then AH (length field 4 -> 24 bytes), then UDP. */
    struct frame f = {0};
    put_eth(&f, 0x86DD);
    put_ipv6(&f, 44, 8 + 24 + 12);
    put8(&f, 51);
    put8(&f, 0);
    put16(&f, 0x0001);                      /* offset 0, M */
    put(&f, "\0\0\0\7", 4);
    put8(&f, 17);                           /* AH: next = UDP */
    put8(&f, 4);
    for (int i = 0; i < 22; i++)
        put8(&f, 0);
    put_udp(&f, 4500, 4501);
    struct trace_tuple t;
    parse_ok(DLT_EN10MB, &f, &t);
    assert_true(t.is_fragment);
    assert_int_equal(t.proto, 17);
    assert_ports(&t, 4500, 4501);
    check_all_truncations(DLT_EN10MB, &f, &t);

    struct frame later = {0};
    put_eth(&later, 0x86DD);
    put_ipv6(&later, 44, 8 + 12);
    put8(&later, 17);
    put8(&later, 0);
    put16(&later, 0x00a8);                  /* offset 21*8 */
    put(&later, "\0\0\0\7", 4);
    put_udp(&later, 1, 2);
    parse_ok(DLT_EN10MB, &later, &t);
    assert_true(t.is_fragment);
    assert_false(t.has_ports);
    assert_int_equal(t.proto, 17);
    check_all_truncations(DLT_EN10MB, &later, &t);
}

static void test_ipv6_esp_and_no_next_stop(void **state)
{
    (void)state;
    static const uint8_t stops[] = {50, 59};
    for (int i = 0; i < 2; i++) {
        struct frame f = {0};
        put_eth(&f, 0x86DD);
        put_ipv6(&f, 0, 8 + 20);
        put_ext(&f, stops[i], 0);
        put_tcp(&f, 7, 7);                  /* not a TCP header: must not be read */
        struct trace_tuple t;
        parse_ok(DLT_EN10MB, &f, &t);
        assert_int_equal(t.proto, stops[i]);
        assert_false(t.has_ports);
        check_all_truncations(DLT_EN10MB, &f, &t);
    }
}

static void test_raw_ip_link_types(void **state)
{
    (void)state;
    struct frame v4 = {0}, v6 = {0};
    put_ipv4(&v4, 17, 0, 0, 12);
    put_udp(&v4, 67, 68);
    put_ipv6(&v6, 6, 20);
    put_tcp(&v6, 22, 60000);
    struct trace_tuple t;
    static const int raw_types[] = {DLT_RAW, 101};
    for (int i = 0; i < 2; i++) {
        parse_ok(raw_types[i], &v4, &t);
        assert_v4_addrs(&t);
        assert_ports(&t, 67, 68);
        check_all_truncations(raw_types[i], &v4, &t);
        parse_ok(raw_types[i], &v6, &t);
        assert_v6_addrs(&t);
        assert_ports(&t, 22, 60000);
        check_all_truncations(raw_types[i], &v6, &t);
    }
    parse_ok(DLT_IPV4, &v4, &t);
    assert_ports(&t, 67, 68);
    check_all_truncations(DLT_IPV4, &v4, &t);
    parse_ok(DLT_IPV6, &v6, &t);
    assert_ports(&t, 22, 60000);
    check_all_truncations(DLT_IPV6, &v6, &t);
    assert_false(trace_parse(DLT_IPV4, v6.b, v6.len, &t));   /* wrong version */
}

static void test_linux_cooked_v1_v2(void **state)
{
    (void)state;
    struct frame sll = {0};
    put16(&sll, 0);                         /* packet type: to us */
    put16(&sll, 1);                         /* ARPHRD_ETHER */
    put16(&sll, 6);                         /* address length */
    put(&sll, MAC_SRC, 6);
    put16(&sll, 0);                         /* address padding */
    put16(&sll, 0x86DD);
    put_ipv6(&sll, 17, 12);
    put_udp(&sll, 546, 547);
    struct trace_tuple t;
    parse_ok(DLT_LINUX_SLL, &sll, &t);
    assert_v6_addrs(&t);
    assert_ports(&t, 546, 547);
    assert_memory_equal(t.src_mac, MAC_SRC, 6);
    check_all_truncations(DLT_LINUX_SLL, &sll, &t);

    struct frame sll2 = {0};
    put16(&sll2, 0x0800);                   /* protocol */
    put16(&sll2, 0);                        /* reserved */
    put(&sll2, "\0\0\0\2", 4);              /* interface index */
    put16(&sll2, 1);                        /* ARPHRD_ETHER */
    put8(&sll2, 4);                         /* packet type: outgoing */
    put8(&sll2, 6);                         /* address length */
    put(&sll2, MAC_SRC, 6);
    put16(&sll2, 0);
    put_ipv4(&sll2, 6, 0, 0, 20);
    put_tcp(&sll2, 12345, 25);
    parse_ok(DLT_LINUX_SLL2, &sll2, &t);
    assert_v4_addrs(&t);
    assert_ports(&t, 12345, 25);
    assert_memory_equal(t.src_mac, MAC_SRC, 6);
    check_all_truncations(DLT_LINUX_SLL2, &sll2, &t);
}

static void test_pppoe_mpls_loopback(void **state)
{
    (void)state;
    struct frame pppoe = {0};
    put_eth(&pppoe, 0x8864);
    put16(&pppoe, 0x1100);                  /* version/type, code */
    put16(&pppoe, 0x3d6d);                  /* session */
    put16(&pppoe, 2 + 20 + 12);
    put16(&pppoe, 0x0021);                  /* PPP: IPv4 */
    put_ipv4(&pppoe, 17, 0, 0, 12);
    put_udp(&pppoe, 514, 514);
    struct trace_tuple t;
    parse_ok(DLT_EN10MB, &pppoe, &t);
    assert_ports(&t, 514, 514);
    check_all_truncations(DLT_EN10MB, &pppoe, &t);

    struct frame mpls = {0};
    put_eth(&mpls, 0x8847);
    put(&mpls, "\x00\x01\x00\x40", 4);      /* label, not bottom */
    put(&mpls, "\x00\x02\x01\x40", 4);      /* bottom of stack */
    put_ipv6(&mpls, 17, 12);
    put_udp(&mpls, 9, 10);
    parse_ok(DLT_EN10MB, &mpls, &t);
    assert_v6_addrs(&t);
    assert_ports(&t, 9, 10);
    check_all_truncations(DLT_EN10MB, &mpls, &t);

    struct frame loop = {0};
    put(&loop, "\0\0\0\2", 4);              /* DLT_LOOP: AF_INET, network order */
    put_ipv4(&loop, 6, 0, 0, 20);
    put_tcp(&loop, 1, 2);
    parse_ok(DLT_LOOP, &loop, &t);
    assert_ports(&t, 1, 2);
    check_all_truncations(DLT_LOOP, &loop, &t);
}

static void test_not_ip_and_unknown_link(void **state)
{
    (void)state;
    struct frame arp = {0};
    put_eth(&arp, 0x0806);
    for (int i = 0; i < 28; i++)
        put8(&arp, 0);
    struct trace_tuple t;
    assert_false(trace_parse(DLT_EN10MB, arp.b, arp.len, &t));
    assert_int_equal(t.ip_version, 0);
    assert_false(t.has_ports);
    assert_memory_equal(t.src_mac, MAC_SRC, 6);
    assert_false(trace_parse(DLT_IEEE802_11, arp.b, arp.len, &t));
    assert_false(trace_linktype_supported(DLT_IEEE802_11));
    assert_true(trace_linktype_supported(DLT_LINUX_SLL2));
}

static void test_ip_length_bounds_ports(void **state)
{
    (void)state;
    /* An IPv4 total length that ends before the ports: the trailing bytes
     * are Ethernet padding, not a TCP header. */
    struct frame f = {0};
    put_eth(&f, 0x0800);
    put_ipv4(&f, 6, 0, 0, 0);
    put_tcp(&f, 80, 80);
    struct trace_tuple t;
    assert_true(trace_parse(DLT_EN10MB, f.b, f.len, &t));
    assert_false(t.has_ports);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ethernet_ipv4_udp),
        cmocka_unit_test(test_vlan_and_qinq),
        cmocka_unit_test(test_ipv4_options),
        cmocka_unit_test(test_ipv4_fragments),
        cmocka_unit_test(test_ipv6_extension_chain),
        cmocka_unit_test(test_ipv6_fragment_and_ah),
        cmocka_unit_test(test_ipv6_esp_and_no_next_stop),
        cmocka_unit_test(test_raw_ip_link_types),
        cmocka_unit_test(test_linux_cooked_v1_v2),
        cmocka_unit_test(test_pppoe_mpls_loopback),
        cmocka_unit_test(test_not_ip_and_unknown_link),
        cmocka_unit_test(test_ip_length_bounds_ports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
