/*
 * source.c - a trace_source: one or more trace files merged in timestamp
 * order, each packet given an input port by the policy in traces.h (fixed
 * port per file, or LAN prefixes on the source address, or port 0).
 *
 * Each input keeps its own libpcap buffer, so holding one pending packet per
 * input needs no copy: an input is only advanced after its pending packet was
 * handed out.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "traces/traces.h"

struct source_input {
    struct trace_reader *reader;
    int port;                   /* -1: LAN policy */
    bool has_pending;           /* pending holds the next packet */
    bool done;
    struct trace_packet pending;
};

struct trace_source {
    struct source_input inputs[TRACE_MAX_INPUTS];
    size_t n_inputs;
    struct trace_prefix lan[TRACE_MAX_LAN];
    size_t n_lan;
    int last;                   /* input whose packet was handed out last, or -1 */
};

/* ---- Options ------------------------------------------------------------- */

static int add_input(struct trace_source_options *o, const char *path, int port,
                     struct util_error *err)
{
    if (o->n_inputs >= TRACE_MAX_INPUTS) {
        util_error_set(err, "too many trace files (at most %d)", TRACE_MAX_INPUTS);
        return -1;
    }
    if (!path || !*path) {
        util_error_set(err, "empty trace file name");
        return -1;
    }
    o->inputs[o->n_inputs].path = path;
    o->inputs[o->n_inputs].port = port;
    o->n_inputs++;
    return 0;
}

int trace_options_add_file(struct trace_source_options *o, const char *path,
                           struct util_error *err)
{
    return add_input(o, path, -1, err);
}

int trace_options_add_port_file(struct trace_source_options *o, const char *spec,
                                struct util_error *err)
{
    char *end;
    unsigned long port = strtoul(spec, &end, 10);
    if (end == spec || *end != '=' || port > 65535 || end[1] == '\0') {
        util_error_set(err, "bad --port '%s': expected N=FILE with N a port number 0..65535, "
                       "e.g. 0=lan.pcap", spec);
        return -1;
    }
    return add_input(o, end + 1, (int)port, err);
}

int trace_prefix_parse(const char *text, struct trace_prefix *out, struct util_error *err)
{
    char buf[128];
    size_t n = strlen(text);
    if (n == 0 || n >= sizeof buf) {
        util_error_set(err, "bad prefix '%s': expected ADDRESS/LENGTH, e.g. 10.0.0.0/8", text);
        return -1;
    }
    memcpy(buf, text, n + 1);
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    memset(out, 0, sizeof *out);
    int max_len;
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->version = 4;
        max_len = 32;
    } else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->version = 6;
        max_len = 128;
    } else {
        util_error_set(err, "bad prefix '%s': '%s' is not an IPv4 or IPv6 address", text, buf);
        return -1;
    }
    long len = max_len;
    if (slash) {
        char *end;
        len = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end || len < 0 || len > max_len) {
            util_error_set(err, "bad prefix '%s': length must be 0..%d", text, max_len);
            return -1;
        }
    }
    out->len = (uint8_t)len;
    for (int bit = (int)len; bit < 128; bit++)      /* clear host bits */
        out->addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
    return 0;
}

int trace_options_add_lan(struct trace_source_options *o, const char *cidrs,
                          struct util_error *err)
{
    const char *p = cidrs;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char item[128];
        if (n == 0 || n >= sizeof item) {
            util_error_set(err, "bad --lan '%s': expected CIDR[,CIDR...], e.g. 10.0.0.0/8",
                           cidrs);
            return -1;
        }
        if (o->n_lan >= TRACE_MAX_LAN) {
            util_error_set(err, "too many LAN prefixes (at most %d)", TRACE_MAX_LAN);
            return -1;
        }
        memcpy(item, p, n);
        item[n] = '\0';
        if (trace_prefix_parse(item, &o->lan[o->n_lan], err) != 0)
            return -1;
        o->n_lan++;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

/* Compared as two 64-bit big-endian words under the prefix's mask (this
 * runs per packet in replays with --lan). */
bool trace_prefix_contains_src(const struct trace_prefix *p, const struct trace_tuple *t)
{
    if (t->ip_version != p->version)
        return false;
    unsigned len = p->len;
    for (int half = 0; half < 2 && len; half++) {
        unsigned bits = len > 64 ? 64 : len;
        uint64_t a, b;
        memcpy(&a, t->src + 8 * half, 8);
        memcpy(&b, p->addr + 8 * half, 8);
        uint64_t mask = bits == 64 ? ~0ull : ~(~0ull >> bits);
        if ((__builtin_bswap64(a ^ b) & mask) != 0)
            return false;
        len -= bits;
    }
    return true;
}

uint16_t trace_lan_port(const struct trace_prefix *lan, size_t n_lan,
                        const struct trace_tuple *t)
{
    if (n_lan == 0)
        return 0;
    for (size_t i = 0; i < n_lan; i++)
        if (trace_prefix_contains_src(&lan[i], t))
            return 0;
    return 1;
}

/* ---- Source -------------------------------------------------------------- */

struct trace_source *trace_source_open(const struct trace_source_options *o,
                                       struct util_error *err)
{
    if (o->n_inputs == 0) {
        util_error_set(err, "no trace file given");
        return NULL;
    }
    struct trace_source *s = calloc(1, sizeof *s);
    if (!s) {
        util_error_set(err, "out of memory opening traces");
        return NULL;
    }
    s->last = -1;
    memcpy(s->lan, o->lan, o->n_lan * sizeof o->lan[0]);
    s->n_lan = o->n_lan;
    for (size_t i = 0; i < o->n_inputs; i++) {
        s->inputs[i].reader = trace_open(o->inputs[i].path, err);
        if (!s->inputs[i].reader) {
            trace_source_close(s);
            return NULL;
        }
        s->inputs[i].port = o->inputs[i].port;
        s->n_inputs = i + 1;
    }
    return s;
}

static int fill_pending(struct source_input *in, struct util_error *err)
{
    if (in->has_pending || in->done)
        return 0;
    int rc = trace_next(in->reader, &in->pending, err);
    if (rc < 0)
        return -1;
    if (rc == 0)
        in->done = true;
    else
        in->has_pending = true;
    return 0;
}

int trace_source_next(struct trace_source *s, struct trace_packet *pkt, struct util_error *err)
{
    /* The input handed out last may now reuse its buffer. */
    if (s->last >= 0)
        s->inputs[s->last].has_pending = false;
    int best = -1;
    for (size_t i = 0; i < s->n_inputs; i++) {
        struct source_input *in = &s->inputs[i];
        if (fill_pending(in, err) != 0)
            return -1;
        if (in->has_pending &&
            (best < 0 || in->pending.time_ns < s->inputs[best].pending.time_ns))
            best = (int)i;
    }
    s->last = best;
    if (best < 0)
        return 0;
    struct source_input *in = &s->inputs[best];
    *pkt = in->pending;
    pkt->port = in->port >= 0 ? (uint16_t)in->port
                              : trace_lan_port(s->lan, s->n_lan, &pkt->tuple);
    return 1;
}

uint64_t trace_source_size(const struct trace_source *s)
{
    uint64_t total = 0;
    for (size_t i = 0; i < s->n_inputs; i++)
        total += trace_file_size(s->inputs[i].reader);
    return total;
}

uint64_t trace_source_offset(const struct trace_source *s)
{
    uint64_t total = 0;
    for (size_t i = 0; i < s->n_inputs; i++)
        total += trace_file_offset(s->inputs[i].reader);
    return total;
}

void trace_source_close(struct trace_source *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_inputs; i++)
        trace_close(s->inputs[i].reader);
    free(s);
}
