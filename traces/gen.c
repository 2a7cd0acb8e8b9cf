/*
 * gen.c - synthetic traces. A seeded xoshiro256** generator drives every
 * choice, so options + seed fix the output bytes. Flow slots hold 5-tuples;
 * slot i has popularity rank i+1 under Zipf(s), sampled in O(1) from an
 * alias table. Frames are built in one reusable buffer (zero payload, so
 * L4 checksums only sum headers and the pseudo-header). A datagram chosen for
 * fragmentation is built whole, kept, and handed out one fragment per call.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "traces/traces.h"

#define START_NS 1704067200000000000ull         /* 2024-01-01T00:00:00Z */
#define MAX_FRAME 65535u
#define HEADER_AREA 96u         /* bytes of g->frame that headers may occupy */
#define MAX_FRAGMENTS 3

struct rng {
    uint64_t s[4];
};

struct flow_slot {
    uint8_t version;            /* 4 or 6 */
    uint8_t proto;              /* 6 or 17 */
    bool started;               /* the client's first packet was sent */
    uint8_t ext_header;         /* with has_ext: 0 hop-by-hop or 60 destination options */
    bool has_ext;               /* an extension header precedes L4 */
    uint16_t vlan;              /* 802.1Q VLAN id, 0 = untagged */
    uint16_t client_port, server_port;
    uint16_t ip_id;
    uint32_t client_seq, server_seq;
    uint8_t client[16], server[16];
};

struct trace_gen {
    struct trace_gen_options opt;
    struct rng rng;
    struct flow_slot *slots;
    double *keep;               /* Zipf as an alias table (Vose): slot i is kept */
    uint32_t *alias;            /* with probability keep[i], else alias[i] is used */
    double churn_per_packet;    /* expected slot replacements per packet */
    double churn_credit;
    uint64_t emitted;
    /* A fragmented datagram being handed out: the whole frame, its L2 length,
     * the fragments' payload offsets (cut[0] = 0, cut[n] = IP payload). */
    uint32_t frag_l2;
    uint32_t frag_cut[MAX_FRAGMENTS + 1];
    int frag_count, frag_next;
    bool frag_reply;
    uint8_t frame[MAX_FRAME];
    uint8_t datagram[MAX_FRAME];
};

/* ---- Random numbers -------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static double rng_unit(struct rng *r)          /* [0, 1) */
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static uint64_t rng_below(struct rng *r, uint64_t n)
{
    return n ? rng_next(r) % n : 0;
}

/* ---- Options ----------------------------------------------------------------- */

void trace_gen_defaults(struct trace_gen_options *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->flows = 1000;
    o->packets = 10000;
    o->zipf = 1.0;
    o->pps = 100000;
    o->tcp_share = 0.7;
    struct util_error ignored;
    trace_size_dist_parse("imix", &o->sizes, &ignored);
}

int trace_size_dist_parse(const char *text, struct trace_size_dist *out, struct util_error *err)
{
    memset(out, 0, sizeof *out);
    if (strcmp(text, "imix") == 0)
        text = "64:7,576:4,1500:1";
    unsigned long a, b;
    int used = 0;
    if (sscanf(text, "uniform:%lu-%lu%n", &a, &b, &used) == 2 && text[used] == '\0') {
        if (a > b || b > MAX_FRAME)
            goto bad;
        out->lo[0] = (uint32_t)a;
        out->hi[0] = (uint32_t)b;
        out->weight[0] = 1;
        out->n = 1;
        return 0;
    }
    if (strncmp(text, "fixed:", 6) == 0)
        text += 6;
    const char *p = text;
    while (*p) {
        char *end;
        a = strtoul(p, &end, 10);
        if (end == p || a > MAX_FRAME || out->n == TRACE_SIZE_DIST_MAX)
            goto bad;
        double w = 1;
        if (*end == ':') {
            p = end + 1;
            w = strtod(p, &end);
            if (end == p || !(w >= 0))
                goto bad;
        }
        out->lo[out->n] = out->hi[out->n] = (uint32_t)a;
        out->weight[out->n] = w;
        out->n++;
        if (*end == ',')
            end++;
        else if (*end)
            goto bad;
        p = end;
    }
    double total = 0;
    for (size_t i = 0; i < out->n; i++)
        total += out->weight[i];
    if (out->n > 0 && total > 0)
        return 0;
bad:
    util_error_set(err, "bad size distribution '%s': use imix, fixed:N, uniform:A-B or "
                   "SIZE:WEIGHT,... with sizes up to %u bytes", text, MAX_FRAME);
    return -1;
}

int trace_gen_check(struct trace_gen_options *o, struct util_error *err)
{
    if (o->duration_s < 0 || !isfinite(o->duration_s)) {
        util_error_set(err, "--duration must be a positive number of seconds");
        return -1;
    }
    if (o->duration_s > 0) {
        if (o->packets_given) {
            o->pps = (double)o->packets / o->duration_s;
        } else {
            double n = o->duration_s * o->pps;
            if (n > 1e12) {
                util_error_set(err, "--duration %g s at %g pps is too many packets",
                               o->duration_s, o->pps);
                return -1;
            }
            o->packets = (uint64_t)llround(n);
        }
    }
    if (o->flows == 0 || o->flows > 100000000) {
        util_error_set(err, "--flows must be 1..100000000 (got %llu)",
                       (unsigned long long)o->flows);
        return -1;
    }
    if (!(o->pps > 0) || !isfinite(o->pps)) {
        util_error_set(err, "--pps must be positive (got %g)", o->pps);
        return -1;
    }
    if (!(o->zipf >= 0) || o->zipf > 10) {
        util_error_set(err, "--zipf must be in 0..10 (got %g)", o->zipf);
        return -1;
    }
    if (!(o->ipv6_share >= 0 && o->ipv6_share <= 1) ||
        !(o->tcp_share >= 0 && o->tcp_share <= 1)) {
        util_error_set(err, "--ipv6-share must be in 0..1 (got %g)", o->ipv6_share);
        return -1;
    }
    const double *shares[] = {&o->frag_share, &o->vlan_share, &o->ipv6_ext_share};
    const char *names[] = {"--frag-share", "--vlan-share", "--ipv6-ext-share"};
    for (int i = 0; i < 3; i++) {
        if (!(*shares[i] >= 0 && *shares[i] <= 1)) {
            util_error_set(err, "%s must be in 0..1 (got %g)", names[i], *shares[i]);
            return -1;
        }
    }
    if (!(o->churn >= 0) || !isfinite(o->churn)) {
        util_error_set(err, "--churn must be >= 0 (fraction of flows replaced per second)");
        return -1;
    }
    if (o->sizes.n == 0) {
        util_error_set(err, "empty size distribution");
        return -1;
    }
    return 0;
}

/* ---- Flows --------------------------------------------------------------------- */

static void random_bytes(struct rng *r, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)rng_next(r);
}

static void new_flow(struct trace_gen *g, struct flow_slot *f)
{
    struct rng *r = &g->rng;
    memset(f, 0, sizeof *f);
    f->version = rng_unit(r) < g->opt.ipv6_share ? 6 : 4;
    f->proto = rng_unit(r) < g->opt.tcp_share ? 6 : 17;
    if (f->version == 4) {
        f->client[0] = 10;                          /* LAN: 10.0.0.0/8 */
        random_bytes(r, f->client + 1, 3);
        f->server[0] = (uint8_t)(20 + rng_below(r, 100));  /* WAN: 20..119.x.x.x */
        random_bytes(r, f->server + 1, 3);
    } else {
        f->client[0] = 0xfd;                        /* LAN: fd00::/8 */
        random_bytes(r, f->client + 1, 15);
        static const uint8_t doc[4] = {0x20, 0x01, 0x0d, 0xb8};    /* WAN: 2001:db8::/32 */
        memcpy(f->server, doc, 4);
        random_bytes(r, f->server + 4, 12);
    }
    f->client_port = (uint16_t)(1024 + rng_below(r, 64512));
    uint64_t pick = rng_below(r, 10);
    if (f->proto == 6)
        f->server_port = pick < 5 ? 443 : pick < 8 ? 80 : (uint16_t)(1024 + rng_below(r, 64512));
    else
        f->server_port = pick < 4 ? 53 : pick < 7 ? 443 : pick < 8 ? 123
                                                        : (uint16_t)(1024 + rng_below(r, 64512));
    f->ip_id = (uint16_t)rng_next(r);
    f->client_seq = (uint32_t)rng_next(r);
    f->server_seq = (uint32_t)rng_next(r);
    /* Draws for the optional encapsulations only when asked for. */
    if (g->opt.vlan_share > 0 && rng_unit(r) < g->opt.vlan_share)
        f->vlan = (uint16_t)(1 + rng_below(r, 4094));
    if (f->version == 6 && g->opt.ipv6_ext_share > 0 && rng_unit(r) < g->opt.ipv6_ext_share) {
        f->has_ext = true;
        f->ext_header = rng_below(r, 2) ? 60 : 0;
    }
}

/* Vose's alias method for P(slot i) proportional to (i+1)^-zipf: O(1) per
 * sample (one uniform slot, one coin), unlike a binary search of a CDF. */
static int build_alias_table(struct trace_gen *g, struct trace_gen_options opt)
{
    uint64_t n = opt.flows;
    uint32_t *small = malloc(n * sizeof *small), *large = malloc(n * sizeof *large);
    if (!small || !large) {
        free(small);
        free(large);
        return -1;
    }
    double total = 0;
    for (uint64_t i = 0; i < n; i++)
        total += pow((double)(i + 1), -opt.zipf);
    uint64_t n_small = 0, n_large = 0;
    for (uint64_t i = 0; i < n; i++) {
        g->keep[i] = pow((double)(i + 1), -opt.zipf) * (double)n / total;    /* scaled: mean 1 */
        g->alias[i] = (uint32_t)i;
        if (g->keep[i] < 1.0)
            small[n_small++] = (uint32_t)i;
        else
            large[n_large++] = (uint32_t)i;
    }
    while (n_small > 0 && n_large > 0) {
        uint32_t s = small[--n_small], l = large[n_large - 1];
        g->alias[s] = l;                        /* s's leftover mass comes from l */
        g->keep[l] -= 1.0 - g->keep[s];
        if (g->keep[l] < 1.0) {
            n_large--;
            small[n_small++] = l;
        }
    }
    while (n_large > 0)                         /* rounding leftovers: exactly 1 */
        g->keep[large[--n_large]] = 1.0;
    while (n_small > 0)
        g->keep[small[--n_small]] = 1.0;
    free(small);
    free(large);
    return 0;
}

struct trace_gen *trace_gen_new(const struct trace_gen_options *o, struct util_error *err)
{
    struct trace_gen_options opt = *o;
    if (trace_gen_check(&opt, err) != 0)
        return NULL;
    struct trace_gen *g = calloc(1, sizeof *g);
    if (g) {
        g->slots = malloc(opt.flows * sizeof *g->slots);
        g->keep = malloc(opt.flows * sizeof *g->keep);
        g->alias = malloc(opt.flows * sizeof *g->alias);
    }
    if (!g || !g->slots || !g->keep || !g->alias || build_alias_table(g, opt) != 0) {
        trace_gen_free(g);
        util_error_set(err, "out of memory for %llu flows", (unsigned long long)opt.flows);
        return NULL;
    }
    g->opt = opt;
    rng_seed(&g->rng, opt.seed);
    for (uint64_t i = 0; i < opt.flows; i++)
        new_flow(g, &g->slots[i]);
    g->churn_per_packet = opt.churn * (double)opt.flows / opt.pps;
    return g;
}

void trace_gen_free(struct trace_gen *g)
{
    if (!g)
        return;
    free(g->slots);
    free(g->keep);
    free(g->alias);
    free(g);
}

static uint64_t pick_slot(struct trace_gen *g)
{
    uint64_t i = rng_below(&g->rng, g->opt.flows);
    return rng_unit(&g->rng) < g->keep[i] ? i : g->alias[i];
}

static uint32_t pick_size(struct trace_gen *g)
{
    const struct trace_size_dist *d = &g->opt.sizes;
    double total = 0;
    for (size_t i = 0; i < d->n; i++)
        total += d->weight[i];
    double u = rng_unit(&g->rng) * total;
    size_t i = 0;
    while (i + 1 < d->n && u >= d->weight[i]) {
        u -= d->weight[i];
        i++;
    }
    return d->lo[i] + (uint32_t)rng_below(&g->rng, (uint64_t)d->hi[i] - d->lo[i] + 1);
}

/* ---- Frames ---------------------------------------------------------------------- */

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
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

static uint32_t l2_len(const struct flow_slot *f)
{
    return f->vlan ? 18 : 14;
}

/* Bytes between the fixed IP header and L4: the IPv6 extension header. */
static uint32_t ext_len(const struct flow_slot *f)
{
    return f->has_ext ? 8 : 0;
}

/* Builds one frame of frame_len bytes into g->frame (payload zero). */
static void build_frame(struct trace_gen *g, struct flow_slot *f, bool reply, uint32_t frame_len)
{
    uint8_t *b = g->frame;
    size_t addr_len = f->version == 4 ? 4 : 16;
    const uint8_t *src = reply ? f->server : f->client;
    const uint8_t *dst = reply ? f->client : f->server;
    uint16_t sport = reply ? f->server_port : f->client_port;
    uint16_t dport = reply ? f->client_port : f->server_port;

    /* Ethernet: locally administered MACs derived from the hosts' addresses. */
    uint8_t client_mac[6] = {0x02, 0x00}, server_mac[6] = {0x02, 0x01};
    memcpy(client_mac + 2, f->client + addr_len - 4, 4);
    memcpy(server_mac + 2, f->server + addr_len - 4, 4);
    memcpy(b, reply ? client_mac : server_mac, 6);
    memcpy(b + 6, reply ? server_mac : client_mac, 6);
    uint32_t l2 = l2_len(f);
    if (f->vlan) {
        put16(b + 12, 0x8100);
        put16(b + 14, f->vlan);                 /* priority 0, DEI 0 */
    }
    put16(b + l2 - 2, f->version == 4 ? 0x0800 : 0x86DD);

    uint8_t *ip = b + l2;
    uint32_t ip_len = frame_len - l2;
    uint32_t ip_hdr = f->version == 4 ? 20 : 40;
    uint32_t ext = ext_len(f);
    uint32_t l4_len = ip_len - ip_hdr - ext;
    /* Headers end by byte 90; beyond HEADER_AREA the buffer is never written
     * with anything but zeros, so only the header area needs clearing. */
    memset(ip, 0, (frame_len < HEADER_AREA ? frame_len : HEADER_AREA) - l2);
    uint32_t pseudo = 0;
    if (f->version == 4) {
        ip[0] = 0x45;
        put16(ip + 2, ip_len);
        put16(ip + 4, f->ip_id++);
        ip[6] = 0x40;                   /* don't fragment */
        ip[8] = 64;
        ip[9] = f->proto;
        memcpy(ip + 12, src, 4);
        memcpy(ip + 16, dst, 4);
        put16(ip + 10, fold(sum16(ip, 20, 0)));
        pseudo = sum16(ip + 12, 8, 0);
    } else {
        ip[0] = 0x60;
        put16(ip + 4, ext + l4_len);
        ip[6] = f->has_ext ? f->ext_header : f->proto;
        ip[7] = 64;
        memcpy(ip + 8, src, 16);
        memcpy(ip + 24, dst, 16);
        pseudo = sum16(ip + 8, 32, 0);
        if (f->has_ext) {       /* next header, length 0 (8 bytes), PadN of 4 */
            uint8_t *e = ip + ip_hdr;
            e[0] = f->proto;
            e[1] = 0;
            e[2] = 1;
            e[3] = 4;
        }
    }
    pseudo += f->proto + (l4_len & 0xffff) + (l4_len >> 16);

    uint8_t *l4 = ip + ip_hdr + ext;
    put16(l4, sport);
    put16(l4 + 2, dport);
    uint32_t hdr_len;
    int csum_off;
    if (f->proto == 6) {
        hdr_len = 20;
        uint32_t payload = l4_len - hdr_len;
        uint32_t *seq = reply ? &f->server_seq : &f->client_seq;
        uint32_t *ack = reply ? &f->client_seq : &f->server_seq;
        put16(l4 + 4, *seq >> 16);
        put16(l4 + 6, *seq);
        put16(l4 + 8, *ack >> 16);
        put16(l4 + 10, *ack);
        *seq += payload;
        l4[12] = 5 << 4;
        l4[13] = f->started ? (payload ? 0x18 : 0x10) : 0x02;   /* PSH|ACK, ACK, SYN */
        put16(l4 + 14, 65535);
        csum_off = 16;
    } else {
        hdr_len = 8;
        put16(l4 + 4, l4_len);
        csum_off = 6;
    }
    uint16_t csum = fold(sum16(l4, hdr_len, pseudo));     /* payload is zero */
    if (f->proto == 17 && csum == 0)
        csum = 0xffff;
    put16(l4 + csum_off, csum);
}

/* Plans the fragments of an IPv4 datagram whose IP payload is `payload`
 * bytes, starting with an L4 header of `l4_hdr` bytes: 2 or 3 pieces, every
 * one but the last a multiple of 8 bytes, the first holding the whole L4
 * header. Returns the number of pieces, 0 when the payload is too short. */
static int plan_fragments(struct trace_gen *g, uint32_t payload, uint32_t l4_hdr)
{
    uint32_t first_min = (l4_hdr + 7) & ~7u;
    if (payload <= first_min)
        return 0;
    int n = 2 + (int)rng_below(&g->rng, 2);
    uint32_t first = (payload / (uint32_t)n) & ~7u;
    g->frag_cut[0] = 0;
    g->frag_cut[1] = first > first_min ? first : first_min;
    if (n == 3) {
        uint32_t second = g->frag_cut[1] + (((payload - g->frag_cut[1]) / 2) & ~7u);
        if (second > g->frag_cut[1] && second < payload)
            g->frag_cut[2] = second;
        else
            n = 2;
    }
    g->frag_cut[n] = payload;
    return n;
}

/* Writes fragment g->frag_next of the kept datagram into g->frame; returns
 * its length. Same IP ID as the datagram, DF cleared, MF on all but the last. */
static uint32_t build_fragment(struct trace_gen *g)
{
    int i = g->frag_next;
    uint32_t l2 = g->frag_l2, from = g->frag_cut[i], to = g->frag_cut[i + 1];
    uint32_t len = l2 + 20 + (to - from);
    memcpy(g->frame, g->datagram, l2 + 20);
    memcpy(g->frame + l2 + 20, g->datagram + l2 + 20 + from, to - from);
    uint8_t *ip = g->frame + l2;
    put16(ip + 2, 20 + (to - from));
    put16(ip + 6, (from / 8) | (i + 1 < g->frag_count ? 0x2000 : 0));
    put16(ip + 10, 0);
    put16(ip + 10, fold(sum16(ip, 20, 0)));
    return len;
}

int trace_gen_next(struct trace_gen *g, struct trace_packet *pkt)
{
    if (g->emitted >= g->opt.packets)
        return 0;
    uint32_t len;
    bool reply;
    if (g->frag_next < g->frag_count) {         /* the rest of a fragmented datagram */
        reply = g->frag_reply;
        len = build_fragment(g);
        g->frag_next++;
    } else {
        g->churn_credit += g->churn_per_packet;
        while (g->churn_credit >= 1.0) {
            new_flow(g, &g->slots[rng_below(&g->rng, g->opt.flows)]);
            g->churn_credit -= 1.0;
        }
        struct flow_slot *f = &g->slots[pick_slot(g)];
        reply = g->opt.two_port && f->started && (rng_next(&g->rng) >> 63);
        uint32_t l4_hdr = f->proto == 6 ? 20 : 8;
        uint32_t min_len = l2_len(f) + (f->version == 4 ? 20 : 40) + ext_len(f) + l4_hdr;
        len = pick_size(g);
        if (len < min_len)
            len = min_len;
        build_frame(g, f, reply, len);
        f->started = true;
        g->frag_count = g->frag_next = 0;
        if (f->version == 4 && g->opt.frag_share > 0 &&
            rng_unit(&g->rng) < g->opt.frag_share &&
            (g->frag_count = plan_fragments(g, len - l2_len(f) - 20, l4_hdr)) > 0) {
            g->frag_l2 = l2_len(f);
            g->frag_reply = reply;
            memcpy(g->datagram, g->frame, len);
            len = build_fragment(g);
            g->frag_next = 1;
        }
    }

    memset(pkt, 0, sizeof *pkt);
    pkt->time_ns = START_NS + (uint64_t)((double)g->emitted * 1e9 / g->opt.pps);
    pkt->wire_len = len;
    pkt->cap_len = g->opt.snaplen && g->opt.snaplen < len ? g->opt.snaplen : len;
    pkt->data = g->frame;
    pkt->port = reply ? 1 : 0;
    trace_parse(DLT_EN10MB, pkt->data, pkt->cap_len, &pkt->tuple);
    g->emitted++;
    return 1;
}

/* ---- Writing ----------------------------------------------------------------------- */

int trace_gen_write(const struct trace_gen_options *o, const char *path,
                    struct util_progress *progress, struct util_error *err)
{
    struct trace_gen *g = trace_gen_new(o, err);
    if (!g)
        return -1;
    size_t n = strlen(path);
    char *tmp = malloc(n + 16);
    pcap_t *dead = pcap_open_dead_with_tstamp_precision(
        DLT_EN10MB, (int)(o->snaplen ? o->snaplen : MAX_FRAME), PCAP_TSTAMP_PRECISION_NANO);
    int fd = -1;
    FILE *file = NULL;
    pcap_dumper_t *dumper = NULL;
    int rc = -1;
    if (!tmp || !dead) {
        util_error_set(err, "out of memory writing '%s'", path);
        goto out;
    }
    snprintf(tmp, n + 16, "%s.tmp.XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0 || !(file = fdopen(fd, "wb"))) {
        util_error_set(err, "cannot create a temporary file beside '%s': %m; check that the "
                       "directory exists and is writable", path);
        if (fd >= 0)
            close(fd);
        fd = -1;
        goto out;
    }
    mode_t mask = umask(0);     /* mkstemp made it 0600: use the usual permissions */
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0) {
        util_error_set(err, "cannot set permissions of '%s': %m", tmp);
        fclose(file);
        goto out;
    }
    setvbuf(file, NULL, _IOFBF, 1 << 20);
    dumper = pcap_dump_fopen(dead, file);
    if (!dumper) {
        util_error_set(err, "cannot write pcap '%s': %s", tmp, pcap_geterr(dead));
        fclose(file);
        goto out;
    }
    struct trace_packet pkt;
    uint64_t done = 0;
    while (trace_gen_next(g, &pkt) == 1) {
        struct pcap_pkthdr h;
        h.ts.tv_sec = (time_t)(pkt.time_ns / 1000000000ull);
        h.ts.tv_usec = (suseconds_t)(pkt.time_ns % 1000000000ull);   /* ns: nano file */
        h.caplen = pkt.cap_len;
        h.len = pkt.wire_len;
        pcap_dump((u_char *)dumper, &h, pkt.data);
        if (progress && (++done & 0xffff) == 0)
            util_progress_update(progress, done);
    }
    if (pcap_dump_flush(dumper) != 0 || ferror(file)) {
        util_error_set(err, "cannot write '%s': disk full or I/O error", tmp);
        pcap_dump_close(dumper);
        goto out;
    }
    pcap_dump_close(dumper);
    if (rename(tmp, path) != 0) {
        util_error_set(err, "cannot rename '%s' to '%s': %m", tmp, path);
        goto out;
    }
    rc = 0;
out:
    if (rc != 0 && tmp && fd >= 0)
        unlink(tmp);
    if (dead)
        pcap_close(dead);
    free(tmp);
    trace_gen_free(g);
    return rc;
}
