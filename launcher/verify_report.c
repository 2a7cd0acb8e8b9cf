/*
 * verify_report.c - --verify's results as text and JSON: counts per class
 * and object, and the examples verify.c described when it found them.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>

#include "launcher/launcher_internal.h"

static const char *const class_names[VC_N] = {"same", "unsound", "interleaving", "translation",
                                              "capacity", "estimate"};

uint64_t verify_unsound(const struct launcher *l)
{
    const struct verify_state *vs = l->verify;
    return vs ? vs->count[VC_UNSOUND] + vs->replay_violations : 0;
}

void verify_describe_packet(const uint8_t *bytes, uint32_t len, char *buf, size_t size)
{
    struct trace_tuple t;
    if (!trace_parse(LINKTYPE_ETHERNET, bytes, len, &t) ||
        (t.ip_version != 4 && t.ip_version != 6)) {
        snprintf(buf, size, "%u-byte non-IP frame", len);
        return;
    }
    char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
    int af = t.ip_version == 4 ? AF_INET : AF_INET6;
    inet_ntop(af, t.src, src, sizeof src);
    inet_ntop(af, t.dst, dst, sizeof dst);
    const char *proto = t.proto == 6 ? "tcp" : t.proto == 17 ? "udp" : NULL;
    char pname[16];
    if (!proto) {
        snprintf(pname, sizeof pname, "proto %u", t.proto);
        proto = pname;
    }
    if (t.has_ports)
        snprintf(buf, size, "%s %s:%u -> %s:%u%s", proto, src, ntohs(t.sport), dst,
                 ntohs(t.dport), t.is_fragment ? " (fragment)" : "");
    else
        snprintf(buf, size, "%s %s -> %s%s", proto, src, dst, t.is_fragment ? " (fragment)" : "");
}

static void verdict_text(int verdict, char *buf, size_t size)
{
    if (verdict < 0)
        snprintf(buf, size, "drop");
    else
        snprintf(buf, size, "port %d", verdict);
}

void verify_describe_difference(const struct vpacket *v, const uint8_t *seq_out,
                                const uint8_t *other, char *buf, size_t size)
{
    static const char *const names[4] = {"source address", "destination address",
                                         "source port", "destination port"};
    struct frame_tuple a, b;
    buf[0] = 0;
    if (frame_tuple_of(seq_out, v->len, &a) && frame_tuple_of(other, v->len, &b) &&
        a.family == b.family) {
        for (int f = 0; f < 4; f++) {
            if (tuple_field_equal(&a, &b, f))
                continue;
            char x[INET6_ADDRSTRLEN], y[INET6_ADDRSTRLEN];
            if (f < 2) {
                int af = a.family == 4 ? AF_INET : AF_INET6;
                inet_ntop(af, f == 0 ? a.src : a.dst, x, sizeof x);
                inet_ntop(af, f == 0 ? b.src : b.dst, y, sizeof y);
            } else {
                snprintf(x, sizeof x, "%u", ntohs(f == 2 ? a.sport : a.dport));
                snprintf(y, sizeof y, "%u", ntohs(f == 2 ? b.sport : b.dport));
            }
            snprintf(buf, size, "%s %s sequentially, %s here", names[f], x, y);
            return;
        }
    }
    for (uint32_t k = 0; k < v->len; k++)
        if (seq_out[k] != other[k]) {
            snprintf(buf, size, "byte %u: 0x%02x sequentially, 0x%02x here", k, seq_out[k],
                     other[k]);
            return;
        }
}

/* "fw_flow_table (fw.c:45)" for each object a packet on `port` touched. */
void verify_describe_objects(const struct launcher *l, uint16_t port, uint64_t t, char *buf,
                             size_t size)
{
    const struct verify_state *vs = l->verify;
    size_t used = 0;
    buf[0] = 0;
    for (int o = 0; o < vs->n_objects && o < RT_TRACK_OBJECTS && used + 1 < size; o++) {
        if (!(t >> o & 1))
            continue;
        const char *file = "", *slash;
        int line = 0;
        for (int a = 0; a < l->plan.deps.n_accesses; a++) {
            const struct deps_access *acc = &l->plan.deps.accesses[a];
            if (acc->port == port && acc->object >= 0 &&
                acc->object < l->plan.deps.n_objects &&
                strcmp(l->plan.deps.objects[acc->object].name, vs->names[o]) == 0 && acc->line) {
                file = acc->file;
                line = acc->line;
                break;
            }
        }
        if ((slash = strrchr(file, '/')))
            file = slash + 1;
        int w = line ? snprintf(buf + used, size - used, "%s%s (%s:%d)", used ? ", " : "",
                                vs->names[o], file, line)
                     : snprintf(buf + used, size - used, "%s%s", used ? ", " : "", vs->names[o]);
        if (w < 0 || (size_t)w >= size - used)
            break;
        used += (size_t)w;
    }
    if (!used)
        snprintf(buf, size, "no state");
}

static void example_text(const struct verify_example *e, char *buf, size_t size)
{
    char seq[24], par[24];
    verdict_text(e->seq_verdict, seq, sizeof seq);
    verdict_text(e->par_verdict, par, sizeof par);
    snprintf(buf, size, "packet %zu, port %u, core %d, %s: sequential %s, parallel %s (%s%s%s); "
                        "objects: %s", e->packet + 1, e->port, e->core, e->tuple, seq, par,
             e->why ? e->why : "", e->detail[0] ? ": " : "", e->detail, e->objects);
}

void verify_print(const struct launcher *l, FILE *out)
{
    const struct verify_state *vs = l->verify;
    if (!vs)
        return;
    uint64_t total = 0;
    for (int c = 1; c < VC_N; c++)
        total += vs->count[c];
    fprintf(out, "verify: %zu packets compared with the sequential NF in arrival order, "
                 "%" PRIu64 " differ\n", vs->n, total);
    if (l->replay_skipped_port || l->replay_skipped_long)
        fprintf(out, "  not replayed: %" PRIu64 " packets for ports the plan lacks, %" PRIu64
                     " frames longer than %u bytes\n", l->replay_skipped_port,
                l->replay_skipped_long, (unsigned)MAX_FRAME);
    for (int c = 1; c < VC_N; c++) {
        fprintf(out, "  %-13s %9" PRIu64, class_names[c], vs->count[c]);
        bool first = true;
        for (int o = 0; vs->by_object && o < vs->n_objects; o++)
            if (vs->by_object[o][c]) {
                fprintf(out, "%s%s %" PRIu64, first ? "   " : ", ", vs->names[o],
                        vs->by_object[o][c]);
                first = false;
            }
        fprintf(out, "\n");
    }
    if (vs->sequential_full[0])
        fprintf(out, "  note: %s\n", vs->sequential_full);
    for (int c = 1; c < VC_N; c++)
        for (size_t k = 0; k < vs->n_examples[c]; k++) {
            char text[1000];
            example_text(&vs->examples[c][k], text, sizeof text);
            fprintf(out, "  %s %s\n", class_names[c], text);
        }
    if (vs->replay_violations)
        fprintf(out, "  %" PRIu64 " writes to objects the plan replicates (read-only)\n",
                vs->replay_violations);
    fprintf(out, "verify: %s\n", verify_unsound(l)
                                     ? "UNSOUND: the plan changes what the NF does"
                                     : "sound on this traffic (no unsound difference)");
}

void verify_json(const struct launcher *l, struct util_json *w)
{
    const struct verify_state *vs = l->verify;
    if (!vs)
        return;
    util_json_key(w, "verify");
    util_json_object_begin(w);
    util_json_key(w, "packets");
    util_json_uint(w, vs->n);
    util_json_key(w, "differences");
    util_json_object_begin(w);
    for (int c = 1; c < VC_N; c++) {
        util_json_key(w, class_names[c]);
        util_json_uint(w, vs->count[c]);
    }
    util_json_object_end(w);
    util_json_key(w, "races");
    util_json_uint(w, vs->races);
    util_json_key(w, "by_object");
    util_json_array_begin(w);
    for (int o = 0; vs->by_object && o < vs->n_objects; o++) {
        util_json_object_begin(w);
        util_json_key(w, "object");
        util_json_string(w, vs->names[o]);
        for (int c = 1; c < VC_N; c++) {
            util_json_key(w, class_names[c]);
            util_json_uint(w, vs->by_object[o][c]);
        }
        util_json_object_end(w);
    }
    util_json_array_end(w);
    util_json_key(w, "examples");
    util_json_array_begin(w);
    for (int c = 1; c < VC_N; c++)
        for (size_t k = 0; k < vs->n_examples[c]; k++) {
            const struct verify_example *e = &vs->examples[c][k];
            util_json_object_begin(w);
            util_json_key(w, "class");
            util_json_string(w, class_names[c]);
            util_json_key(w, "packet");
            util_json_uint(w, e->packet + 1);
            util_json_key(w, "port");
            util_json_uint(w, e->port);
            util_json_key(w, "tuple");
            util_json_string(w, e->tuple);
            util_json_key(w, "core");
            util_json_int(w, e->core);
            util_json_key(w, "sequential_verdict");
            util_json_int(w, e->seq_verdict);
            util_json_key(w, "parallel_verdict");
            util_json_int(w, e->par_verdict);
            util_json_key(w, "what");
            util_json_string(w, e->why ? e->why : "");
            util_json_key(w, "detail");
            util_json_string(w, e->detail);
            util_json_key(w, "objects");
            util_json_string(w, e->objects);
            util_json_object_end(w);
        }
    util_json_array_end(w);
    if (vs->sequential_full[0]) {
        util_json_key(w, "note");
        util_json_string(w, vs->sequential_full);
    }
    util_json_key(w, "replicated_writes");
    util_json_uint(w, vs->replay_violations);
    util_json_key(w, "result");
    util_json_string(w, verify_unsound(l) ? "unsound" : "sound");
    util_json_object_end(w);
}
