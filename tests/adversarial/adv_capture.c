/*
 * adv_capture.c - crafts the captures that exercise the adversarial NFs
 * (tests/adversarial/README.md). A test utility, not part of the rsskey CLI.
 *
 *   adv-capture KIND -o FILE [--seed S] [--salt N]
 *
 * KIND (LAN hosts are in 10.0.0.0/8: split with --lan 10.0.0.0/8,fd00::/8):
 *   colliding-sources  16 WAN sources that share one hashidx_mul bucket, each
 *                      in its own /12, and 4 x 4 sources sharing 4
 *                      hashidx_salt buckets (salt --salt, default the NF's
 *                      0x00054321), each bucket over two /12s that differ in
 *                      their top bits (63.240/12 and 64.0/12); none in 10/8;
 *                      40 packets per source, 1,280 over 2 s
 *   fragments          IPv4 and IPv6 TCP/UDP flows, both directions, whose
 *                      datagrams go whole or as 2-3 fragments (first fragment
 *                      carries the ports; some fragments out of order)
 *   canonical          both directions of east-west connections (both ends in
 *                      10/8: one port), some between two ports of one host
 *   dns                DNS queries from LAN clients with transaction ids, the
 *                      answers, some answers nobody asked for
 *   tcp-handshakes     SYN / SYN-ACK / ACK / data / FIN across two ports, plus
 *                      retransmitted SYNs, RSTs and unsolicited SYN-ACKs; 30%
 *                      of the data segments go as 2-3 IPv4 fragments
 *   nat-replies        LAN flows, and WAN replies sent to the NAT address and
 *                      port a single nat_wrong_host instance allocates
 *                      (198.51.100.1, 20000 + flow number)
 *
 * Frames are Ethernet with valid IPv4 header and TCP/UDP checksums (over the
 * whole datagram for fragments), nanosecond timestamps, written with
 * pcap_dump to a temporary file that is renamed into place at the end.
 * The same KIND and seed give the same bytes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#define START_NS 1704067200000000000ull         /* 2024-01-01T00:00:00Z */
#define MUL_CONSTANT 2654435761u                /* hashidx_mul's multiplier */
#define DEFAULT_SALT 0x00054321u                /* hashidx_salt's default salt */

/* ---- Random numbers (splitmix64) ------------------------------------------ */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t below(uint32_t n)
{
    return n ? (uint32_t)(rnd() % n) : 0;
}

/* ---- Output ------------------------------------------------------------------ */

struct writer {
    const char *path;
    char tmp[4096];
    pcap_t *dead;
    pcap_dumper_t *dumper;
    uint64_t now_ns;
    unsigned long packets;
};

static int writer_open(struct writer *w, const char *path)
{
    memset(w, 0, sizeof *w);
    w->path = path;
    w->now_ns = START_NS;
    if (snprintf(w->tmp, sizeof w->tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof w->tmp) {
        fprintf(stderr, "adv-capture: output path too long\n");
        return -1;
    }
    int fd = mkstemp(w->tmp);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        fprintf(stderr, "adv-capture: cannot create a temporary file beside '%s'\n", path);
        if (fd >= 0) {
            close(fd);
            unlink(w->tmp);
        }
        return -1;
    }
    if (fchmod(fd, 0644) != 0)
        fprintf(stderr, "adv-capture: warning: cannot set the permissions of '%s'\n", w->tmp);
    w->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535,
                                                   PCAP_TSTAMP_PRECISION_NANO);
    w->dumper = w->dead ? pcap_dump_fopen(w->dead, f) : NULL;
    if (!w->dumper) {
        fprintf(stderr, "adv-capture: cannot start a pcap in '%s'\n", w->tmp);
        fclose(f);
        unlink(w->tmp);
        if (w->dead)
            pcap_close(w->dead);
        return -1;
    }
    return 0;
}

/* Writes a frame stamped `gap_us` microseconds after the previous one. */
static void emit(struct writer *w, const uint8_t *frame, uint32_t len, uint32_t gap_us)
{
    w->now_ns += (uint64_t)gap_us * 1000;
    struct pcap_pkthdr h;
    h.ts.tv_sec = (time_t)(w->now_ns / 1000000000ull);
    h.ts.tv_usec = (suseconds_t)(w->now_ns % 1000000000ull);       /* nanoseconds */
    h.caplen = h.len = len;
    pcap_dump((u_char *)w->dumper, &h, frame);
    w->packets++;
}

static int writer_close(struct writer *w)
{
    int rc = pcap_dump_flush(w->dumper) == 0 ? 0 : -1;
    pcap_dump_close(w->dumper);
    pcap_close(w->dead);
    if (rc == 0 && rename(w->tmp, w->path) == 0)
        return 0;
    fprintf(stderr, "adv-capture: cannot write '%s'\n", w->path);
    unlink(w->tmp);
    return -1;
}

/* ---- Frames ------------------------------------------------------------------ */

struct host {
    uint8_t version;            /* 4 or 6 */
    uint8_t addr[16];           /* IPv4 in the first 4 bytes */
    uint16_t port;
};

struct frame {
    uint8_t b[2048];
    uint32_t len;
};

static void wr16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    wr16(p, v >> 16);
    wr16(p + 2, v);
}

static uint32_t sum16(const uint8_t *p, uint32_t n, uint32_t sum)
{
    for (uint32_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static struct host v4(uint32_t addr, uint16_t port)
{
    struct host h = {4, {0}, port};
    wr32(h.addr, addr);
    return h;
}

static struct host v6(uint16_t prefix, uint64_t low, uint16_t port)
{
    struct host h = {6, {0}, port};
    wr16(h.addr, prefix);
    for (int i = 0; i < 8; i++)
        h.addr[8 + i] = (uint8_t)(low >> (56 - 8 * i));
    return h;
}

/* A TCP or UDP datagram (header + `payload` bytes) from a to b, checksummed. */
struct segment {
    uint8_t proto;
    uint8_t tcp_flags;
    uint32_t seq, ack;
    const uint8_t *payload;     /* NULL: zeros */
    uint32_t payload_len;
};

static uint32_t build_l4(uint8_t *out, const struct host *a, const struct host *b,
                         const struct segment *s)
{
    uint32_t hdr = s->proto == 6 ? 20 : 8, len = hdr + s->payload_len;
    memset(out, 0, hdr);
    wr16(out, a->port);
    wr16(out + 2, b->port);
    if (s->proto == 6) {
        wr32(out + 4, s->seq);
        wr32(out + 8, s->ack);
        out[12] = 5 << 4;
        out[13] = s->tcp_flags;
        wr16(out + 14, 65535);
    } else {
        wr16(out + 4, len);
    }
    if (s->payload)
        memcpy(out + hdr, s->payload, s->payload_len);
    else
        memset(out + hdr, 0, s->payload_len);
    uint32_t alen = a->version == 4 ? 4 : 16;
    uint32_t pseudo = sum16(a->addr, alen, 0) + sum16(b->addr, alen, 0) + s->proto + len;
    uint16_t c = fold(sum16(out, len, pseudo));
    if (s->proto == 17 && c == 0)
        c = 0xffff;
    wr16(out + (s->proto == 6 ? 16 : 6), c);
    return len;
}

static uint32_t put_ethernet(uint8_t *b, const struct host *a, const struct host *dst,
                             uint16_t ethertype)
{
    static const uint8_t oui[2] = {0x02, 0x00};
    memcpy(b, oui, 2);
    memcpy(b + 2, dst->addr + (dst->version == 4 ? 0 : 12), 4);
    memcpy(b + 6, oui, 2);
    memcpy(b + 8, a->addr + (a->version == 4 ? 0 : 12), 4);
    wr16(b + 12, ethertype);
    return 14;
}

/* One IPv4 packet carrying bytes [from, to) of the datagram `l4` (length
 * l4_len) as a fragment when (from, to) is not the whole datagram. */
static void ipv4_packet(struct frame *f, const struct host *a, const struct host *b,
                        uint8_t proto, uint16_t id, const uint8_t *l4, uint32_t l4_len,
                        uint32_t from, uint32_t to)
{
    uint32_t o = put_ethernet(f->b, a, b, 0x0800);
    uint8_t *ip = f->b + o;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    wr16(ip + 2, 20 + (to - from));
    wr16(ip + 4, id);
    bool whole = from == 0 && to == l4_len;
    wr16(ip + 6, whole ? 0x4000 : (from / 8) | (to < l4_len ? 0x2000 : 0));
    ip[8] = 64;
    ip[9] = proto;
    memcpy(ip + 12, a->addr, 4);
    memcpy(ip + 16, b->addr, 4);
    wr16(ip + 10, fold(sum16(ip, 20, 0)));
    memcpy(ip + 20, l4 + from, to - from);
    f->len = o + 20 + (to - from);
}

/* One IPv6 packet; with a fragment header when (from, to) is not the whole
 * datagram. */
static void ipv6_packet(struct frame *f, const struct host *a, const struct host *b,
                        uint8_t proto, uint32_t id, const uint8_t *l4, uint32_t l4_len,
                        uint32_t from, uint32_t to)
{
    uint32_t o = put_ethernet(f->b, a, b, 0x86DD);
    uint8_t *ip = f->b + o;
    bool whole = from == 0 && to == l4_len;
    uint32_t frag = whole ? 0 : 8;
    memset(ip, 0, 40 + frag);
    ip[0] = 0x60;
    wr16(ip + 4, frag + (to - from));
    ip[6] = whole ? proto : 44;
    ip[7] = 64;
    memcpy(ip + 8, a->addr, 16);
    memcpy(ip + 24, b->addr, 16);
    if (!whole) {
        ip[40] = proto;
        wr16(ip + 42, from | (to < l4_len ? 1 : 0));   /* offset in 8-byte units << 3, M */
        wr32(ip + 44, id);
    }
    memcpy(ip + 40 + frag, l4 + from, to - from);
    f->len = o + 40 + frag + (to - from);
}

/* Sends one datagram from a to b, whole or as `pieces` fragments (2 or 3); with
 * `shuffle` the fragments go out in a scrambled order (the first not first). */
static void send_datagram(struct writer *w, const struct host *a, const struct host *b,
                          const struct segment *s, uint16_t id, int pieces, bool shuffle)
{
    static uint8_t l4[1600];
    struct frame f;
    uint32_t len = build_l4(l4, a, b, s);
    uint32_t cut[4] = {0, len, len, len};
    uint32_t hdr8 = s->proto == 6 ? 24 : 8;
    if (pieces > 1 && len > hdr8 + 8) {
        cut[1] = ((len / (uint32_t)pieces) & ~7u) < hdr8 ? hdr8 : (len / (uint32_t)pieces) & ~7u;
        if (pieces == 3 && cut[1] + 16 < len)
            cut[2] = cut[1] + (((len - cut[1]) / 2) & ~7u);
        else
            pieces = 2, cut[2] = len;
    } else {
        pieces = 1;
    }
    int order[3] = {0, 1, 2};
    if (shuffle && pieces > 1) {
        order[0] = pieces - 1;
        order[pieces - 1] = 0;
    }
    for (int k = 0; k < pieces; k++) {
        int i = order[k];
        if (a->version == 4)
            ipv4_packet(&f, a, b, s->proto, id, l4, len, cut[i], cut[i + 1]);
        else
            ipv6_packet(&f, a, b, s->proto, id, l4, len, cut[i], cut[i + 1]);
        emit(w, f.b, f.len, k == 0 ? 200 + below(800) : 5);
    }
}

static void send_simple(struct writer *w, const struct host *a, const struct host *b,
                        uint8_t proto, uint8_t tcp_flags, uint32_t payload_len, uint32_t gap_us)
{
    static uint8_t l4[1600];
    struct segment s = {proto, tcp_flags, 1, 1, NULL, payload_len};
    struct frame f;
    uint32_t len = build_l4(l4, a, b, &s);
    if (a->version == 4)
        ipv4_packet(&f, a, b, proto, (uint16_t)rnd(), l4, len, 0, len);
    else
        ipv6_packet(&f, a, b, proto, 0, l4, len, 0, len);
    emit(w, f.b, f.len, gap_us);
}

/* ---- Captures ---------------------------------------------------------------- */

/* Multiplicative inverse of an odd number modulo 2^32 (Newton's iteration). */
static uint32_t inverse_mod_2_32(uint32_t a)
{
    uint32_t x = a;
    for (int i = 0; i < 5; i++)
        x *= 2 - a * x;
    return x;
}

static bool usable_wan_source(uint32_t addr)
{
    uint32_t first = addr >> 24;
    return first != 0 && first != 10 && first != 127 && first < 224;
}

/* Sources of one group and how many packets each sends. */
#define GROUP 16
#define PER_SOURCE 40

static int colliding_sources(struct writer *w, uint32_t salt)
{
    uint32_t src[2 * GROUP];
    uint32_t inv = inverse_mod_2_32(MUL_CONSTANT);
    /* hashidx_mul: (s * C) >> 20 == bucket for s = inv * (bucket << 20 | r). */
    uint32_t bucket = 0x5a5;
    for (int i = 0; i < GROUP;) {
        uint32_t s = inv * (bucket << 20 | below(1u << 20));
        bool fresh = usable_wan_source(s);
        for (int j = 0; j < i && fresh; j++)
            fresh = (src[j] >> 20) != (s >> 20);        /* every one in its own /12 */
        if (fresh)
            src[i++] = s;
    }
    /* hashidx_salt: (s + salt) >> 20 == bucket for s = bucket<<20 - salt + r,
     * r < 2^20. The carry of the salt's low 20 bits splits that range over two
     * /12s (when they are not zero): r below them gives the lower /12. Four
     * buckets of four sources, two in each /12; the buckets are chosen where
     * the carry crosses a /6 boundary (63.240/12 and 64.0/12 share bucket
     * 0x400), so the two /12s differ in their top bits as well, which is all
     * a plan keyed on ipv4.src/12 may use to pick one of a few cores. */
    static const uint32_t salt_buckets[4] = {0x400, 0x600, 0xa00, 0xc00};
    uint32_t split = salt & 0xfffff;
    for (int i = 0; i < GROUP; i++) {
        uint32_t base = (salt_buckets[i / 4] << 20) - salt;
        uint32_t r = i % 2 == 0 && split > 0 ? below(split) : split + below(0x100000 - split);
        src[GROUP + i] = base + r;
    }
    /* Interleave: each source sends PER_SOURCE packets, in random order, over
     * about 2 s, to LAN hosts. */
    int left[2 * GROUP];
    for (int i = 0; i < 2 * GROUP; i++)
        left[i] = PER_SOURCE;
    int remaining = 2 * GROUP * PER_SOURCE;
    while (remaining > 0) {
        int i = (int)below(2 * GROUP);
        if (left[i] == 0)
            continue;
        left[i]--;
        remaining--;
        struct host a = v4(src[i], (uint16_t)(1024 + below(60000)));
        struct host b = v4(0x0a000000 | below(1u << 24), 53);
        send_simple(w, &a, &b, 17, 0, 32, 1000 + below(1000));
    }
    return 0;
}

static struct host lan_host(int version)
{
    uint16_t port = (uint16_t)(1024 + below(60000));
    return version == 4 ? v4(0x0a000000 | below(1u << 24), port)
                        : v6(0xfd00, rnd(), port);
}

static struct host wan_host(int version, uint16_t port)
{
    return version == 4 ? v4((uint32_t)(20 + below(100)) << 24 | below(1u << 24), port)
                        : v6(0x2001, rnd(), port);
}

static int fragments(struct writer *w)
{
    enum { FLOWS = 60 };
    struct { struct host lan, wan; uint8_t proto; uint32_t sent; } fl[FLOWS];
    for (int i = 0; i < FLOWS; i++) {
        int version = i % 4 == 3 ? 6 : 4;
        fl[i].lan = lan_host(version);
        fl[i].proto = i % 2 ? 17 : 6;
        fl[i].wan = wan_host(version, fl[i].proto == 17 ? 53 : 443);
        fl[i].sent = 0;
    }
    for (int n = 0; n < 1500; n++) {
        int i = (int)below(FLOWS);
        bool reply = fl[i].sent > 0 && below(2);
        const struct host *a = reply ? &fl[i].wan : &fl[i].lan;
        const struct host *b = reply ? &fl[i].lan : &fl[i].wan;
        struct segment s = {fl[i].proto, 0x18, fl[i].sent, 1, NULL, 100 + below(1300)};
        if (fl[i].proto == 6 && fl[i].sent == 0)
            s.tcp_flags = 0x02;
        uint32_t pick = below(10);        /* 40% fragmented, a quarter of those shuffled */
        int pieces = pick < 6 ? 1 : pick < 8 ? 2 : 3;
        send_datagram(w, a, b, &s, (uint16_t)rnd(), pieces, pieces > 1 && below(4) == 0);
        fl[i].sent++;
    }
    return 0;
}

static int canonical(struct writer *w)
{
    enum { CONNS = 40 };
    struct { struct host a, b; uint8_t proto; } c[CONNS];
    for (int i = 0; i < CONNS; i++) {
        c[i].a = v4(0x0a000000 | below(1u << 24), (uint16_t)(1024 + below(60000)));
        if (i % 8 == 7) {                       /* two ports of one host */
            c[i].b = c[i].a;
            c[i].b.port = (uint16_t)(1024 + below(60000));
        } else {
            c[i].b = v4(0x0a000000 | below(1u << 24), i % 2 ? 8080 : 5432);
        }
        c[i].proto = i % 3 ? 6 : 17;
    }
    for (int n = 0; n < 2400; n++) {
        int i = (int)below(CONNS);
        bool back = below(2);
        send_simple(w, back ? &c[i].b : &c[i].a, back ? &c[i].a : &c[i].b, c[i].proto, 0x10,
                    below(400), 300 + below(700));
    }
    return 0;
}

static void dns_message(struct writer *w, const struct host *a, const struct host *b,
                        uint16_t txid, bool answer)
{
    uint8_t msg[64] = {0};
    wr16(msg, txid);
    wr16(msg + 2, answer ? 0x8180 : 0x0100);
    wr16(msg + 4, 1);
    if (answer)
        wr16(msg + 6, 1);
    static const uint8_t name[] = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
                                   0, 1, 0, 1};
    memcpy(msg + 12, name, sizeof name);
    uint32_t len = 12 + sizeof name;
    if (answer) {       /* example.com (a pointer to the question) A 192.0.2.80, TTL 300 */
        static const uint8_t record[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4,
                                         192, 0, 2, 80};
        memcpy(msg + len, record, sizeof record);
        len += sizeof record;
    }
    uint8_t l4[96];
    struct segment s = {17, 0, 0, 0, msg, len};
    len = build_l4(l4, a, b, &s);
    struct frame f;
    ipv4_packet(&f, a, b, 17, (uint16_t)rnd(), l4, len, 0, len);
    emit(w, f.b, f.len, 100 + below(900));
}

static int dns(struct writer *w)
{
    enum { CLIENTS = 30, RESOLVERS = 3 };
    struct host client[CLIENTS], resolver[RESOLVERS];
    for (int i = 0; i < CLIENTS; i++)
        client[i] = v4(0x0a000000 | below(1u << 24), 0);
    for (int i = 0; i < RESOLVERS; i++)
        resolver[i] = v4(0x08080800 | (uint32_t)(i + 1), 53);
    struct { int client, resolver; uint16_t port, txid; } pending[64];
    int n_pending = 0;
    for (int n = 0; n < 1200; n++) {
        uint32_t what = below(10);
        if (n_pending > 0 && (what < 4 || n_pending == 64)) {          /* an answer */
            int k = (int)below((uint32_t)n_pending);
            struct host c = client[pending[k].client];
            c.port = pending[k].port;
            dns_message(w, &resolver[pending[k].resolver], &c, pending[k].txid, true);
            pending[k] = pending[--n_pending];
        } else if (what == 4) {                 /* an answer nobody asked for */
            struct host c = client[below(CLIENTS)];
            c.port = (uint16_t)(1024 + below(60000));
            dns_message(w, &resolver[below(RESOLVERS)], &c, (uint16_t)rnd(), true);
        } else {                                /* a query; txids repeat across clients */
            int ci = (int)below(CLIENTS), ri = (int)below(RESOLVERS);
            uint16_t txid = (uint16_t)(below(4) == 0 ? 0x1234 : rnd());
            struct host c = client[ci];
            c.port = (uint16_t)(1024 + below(60000));
            dns_message(w, &c, &resolver[ri], txid, false);
            pending[n_pending].client = ci;
            pending[n_pending].resolver = ri;
            pending[n_pending].port = c.port;
            pending[n_pending].txid = txid;
            n_pending++;
        }
    }
    return 0;
}

static int tcp_handshakes(struct writer *w)
{
    enum { CONNS = 80 };
    struct { struct host in, out; int step, data; } c[CONNS];
    for (int i = 0; i < CONNS; i++) {
        c[i].in = lan_host(4);
        c[i].out = wan_host(4, i % 3 ? 443 : 80);
        c[i].step = 0;
        c[i].data = 2 + (int)below(10);
    }
    int done = 0;
    while (done < CONNS) {
        int i = (int)below(CONNS);
        uint32_t gap = 200 + below(2000);
        const struct host *in = &c[i].in, *out = &c[i].out;
        switch (c[i].step) {
        case 0:                                 /* SYN, sometimes retransmitted */
            send_simple(w, in, out, 6, 0x02, 0, gap);
            if (below(5) == 0)
                break;
            c[i].step = 1;
            break;
        case 1:                                 /* SYN-ACK */
            send_simple(w, out, in, 6, 0x12, 0, gap);
            c[i].step = 2;
            break;
        case 2:                                 /* ACK */
            send_simple(w, in, out, 6, 0x10, 0, gap);
            c[i].step = 3;
            break;
        case 3: {                               /* data both ways, some fragmented */
            bool from_inside = below(2);
            const struct host *a = from_inside ? in : out, *b = from_inside ? out : in;
            uint32_t size = 100 + below(from_inside ? 500 : 1000);
            if (below(10) < 3) {
                struct segment s = {6, 0x18, 1, 1, NULL, size};
                send_datagram(w, a, b, &s, (uint16_t)rnd(), 2 + (int)below(2), false);
            } else {
                send_simple(w, a, b, 6, 0x18, size, gap);
            }
            if (--c[i].data == 0)
                c[i].step = i % 10 == 9 ? 6 : 4;
            break;
        }
        case 4:                                 /* FIN from one side */
            if (i % 2)
                send_simple(w, in, out, 6, 0x11, 0, gap);
            else
                send_simple(w, out, in, 6, 0x11, 0, gap);
            c[i].step = 5;
            break;
        case 5:                                 /* FIN from the other, then the last ACK */
            if (i % 2)
                send_simple(w, out, in, 6, 0x11, 0, gap);
            else
                send_simple(w, in, out, 6, 0x11, 0, gap);
            send_simple(w, i % 2 ? in : out, i % 2 ? out : in, 6, 0x10, 0, 50);
            c[i].step = 7;
            done++;
            break;
        case 6: {                               /* RST instead of FINs, either side */
            bool from_inside = below(2);
            send_simple(w, from_inside ? in : out, from_inside ? out : in, 6, 0x14, 0, gap);
            c[i].step = 7;
            done++;
            break;
        }
        default:                        /* closed: a stray ACK or an unsolicited SYN-ACK */
            if (below(4) == 0) {
                struct host stranger = wan_host(4, 443);
                send_simple(w, &stranger, in, 6, 0x12, 0, gap);
            } else {
                send_simple(w, in, out, 6, 0x10, 0, gap);
            }
            break;
        }
    }
    return 0;
}

static int nat_replies(struct writer *w)
{
    enum { FLOWS = 200 };
    const uint32_t public_ip = 0xC6336401, first_port = 20000;
    struct host lan[FLOWS], wan[FLOWS];
    uint8_t proto[FLOWS];
    int started = 0;
    for (int n = 0; n < 2000; n++) {
        if (started < FLOWS && (started == 0 || below(4) == 0)) {
            int i = started++;
            proto[i] = below(3) ? 6 : 17;
            lan[i] = lan_host(4);
            wan[i] = wan_host(4, proto[i] == 6 ? 443 : 7777);
            send_simple(w, &lan[i], &wan[i], proto[i], 0x02, 40, 300 + below(700));
            continue;
        }
        int i = (int)below((uint32_t)started);
        if (below(2)) {
            send_simple(w, &lan[i], &wan[i], proto[i], 0x18, below(600), 300 + below(700));
        } else {        /* the reply goes to the i-th translation of a single NAT */
            struct host nat = v4(public_ip, (uint16_t)(first_port + (uint32_t)i));
            send_simple(w, &wan[i], &nat, proto[i], 0x18, below(1200), 300 + below(700));
        }
    }
    return 0;
}

/* ---- Command line ------------------------------------------------------------ */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: adv-capture KIND -o FILE [--seed S] [--salt N]\n"
            "\n"
            "KIND: colliding-sources, fragments, canonical, dns, tcp-handshakes, nat-replies\n"
            "(see the comment at the top of tests/adversarial/adv_capture.c).\n"
            "  -o FILE     the pcap to write (temporary file + rename)\n"
            "  --seed S    random seed (default 1): same KIND and seed, same bytes\n"
            "  --salt N    colliding-sources: hashidx_salt's salt (default 0x%x)\n",
            DEFAULT_SALT);
}

int main(int argc, char **argv)
{
    const char *kind = NULL, *out = NULL;
    uint64_t seed = 1;
    uint32_t salt = DEFAULT_SALT;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        }
        char *end = NULL;
        if (i + 1 < argc && strcmp(argv[i], "-o") == 0)
            out = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--seed") == 0)
            seed = strtoull(argv[++i], &end, 0);
        else if (i + 1 < argc && strcmp(argv[i], "--salt") == 0)
            salt = (uint32_t)strtoul(argv[++i], &end, 0);
        else if (argv[i][0] != '-' && !kind)
            kind = argv[i];
        else {
            fprintf(stderr, "adv-capture: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
        if (end && (*end || end == argv[i])) {
            fprintf(stderr, "adv-capture: %s expects a number, got '%s'\n", argv[i - 1],
                    argv[i]);
            return 2;
        }
    }
    static const struct {
        const char *name;
        int kind;
    } kinds[] = {{"colliding-sources", 0}, {"fragments", 1}, {"canonical", 2}, {"dns", 3},
                 {"tcp-handshakes", 4}, {"nat-replies", 5}};
    int which = -1;
    for (size_t k = 0; kind && k < sizeof kinds / sizeof kinds[0]; k++)
        if (strcmp(kind, kinds[k].name) == 0)
            which = kinds[k].kind;
    if (which < 0 || !out) {
        fprintf(stderr, "adv-capture: %s\n", !kind ? "which KIND?" : !out ? "-o FILE is required"
                                                                   : "unknown KIND");
        usage(stderr);
        return 2;
    }
    rng_state = seed;
    struct writer w;
    if (writer_open(&w, out) != 0)
        return 4;
    switch (which) {
    case 0: colliding_sources(&w, salt); break;
    case 1: fragments(&w); break;
    case 2: canonical(&w); break;
    case 3: dns(&w); break;
    case 4: tcp_handshakes(&w); break;
    default: nat_replies(&w); break;
    }
    if (writer_close(&w) != 0)
        return 4;
    printf("wrote %s: %lu packets\n", out, w.packets);
    return 0;
}
