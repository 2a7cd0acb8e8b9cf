/*
 * nf_harness.c - see nf_harness.h.
 */
#include "nf_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsskey/nf.h"
#include "runtime/runtime.h"

int harness_init(const char *const *settings)
{
    rt_reset();
    for (size_t i = 0; settings != NULL && settings[i] != NULL; i++) {
        struct util_error err;
        if (rt_config_parse(settings[i], &err) != 0) {
            fprintf(stderr, "harness: %s\n", err.msg);
            return -1;
        }
    }
    return nf_init();
}

int harness_send(uint8_t *frame, size_t len, uint16_t port, uint64_t time_ns)
{
    struct nf_packet pkt = {
        .data = frame, .len = (uint32_t)len, .port = port, .time_ns = time_ns,
    };
    return nf_process(&pkt);
}

int harness_send_spec(const struct pb_spec *spec, uint16_t port, uint64_t time_ns)
{
    uint8_t frame[PB_MAX_FRAME];
    size_t len = pb_build(spec, frame, sizeof frame);
    if (len == 0)
        return -100;            /* a test bug: the spec does not fit */
    return harness_send(frame, len, port, time_ns);
}

/* ---- Multi-core equivalence ---------------------------------------------- */

static uint32_t next_random(uint32_t *state)
{
    /* xorshift32: deterministic across platforms. */
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

static uint32_t lan_ip(unsigned i)
{
    return PB_IPV4(10, 0, i / 8, 1 + i % 8);
}

static uint32_t wan_ip(unsigned i)
{
    return PB_IPV4(20 + i % 5, (i / 5) % 3, (i / 15) % 2, 1 + i / 30);
}

static void mac_of(uint32_t ip, uint8_t mac[6])
{
    mac[0] = 0x02;
    mac[1] = 0x00;
    mac[2] = (uint8_t)(ip >> 24);
    mac[3] = (uint8_t)(ip >> 16);
    mac[4] = (uint8_t)(ip >> 8);
    mac[5] = (uint8_t)ip;
}

void harness_workload_fill(const struct harness_workload *w, struct harness_packet *packets,
                           size_t n)
{
    uint32_t rnd = w->seed ? w->seed : 1;
    static const uint16_t service[] = {80, 443, 53, 22, 25, 8080, 3306, 5432};
    for (size_t i = 0; i < n; i++) {
        struct harness_packet *p = &packets[i];
        bool from_wan = next_random(&rnd) % 100 < w->port1_percent;
        struct pb_view earlier;
        bool reply = false;
        if (from_wan && i > 0 && next_random(&rnd) % 100 < w->reply_percent) {
            /* Reverse an earlier packet if it was a LAN one. */
            const struct harness_packet *e = &packets[next_random(&rnd) % i];
            reply = e->port == 0 && pb_parse(e->data, e->len, &earlier);
        }
        struct pb_spec s;
        if (reply) {
            s = pb_ipv4(earlier.proto, earlier.dst_ip, earlier.src_ip, earlier.dport,
                        earlier.sport);
        } else {
            uint32_t lan = lan_ip(next_random(&rnd) % w->lan_hosts);
            uint32_t wan = wan_ip(next_random(&rnd) % w->wan_hosts);
            if (!from_wan && next_random(&rnd) % 100 < w->same_side_percent)
                wan = lan_ip(next_random(&rnd) % w->lan_hosts);
            uint16_t sport = (uint16_t)(1024 + next_random(&rnd) % w->sports);
            uint16_t dport = w->dports <= 8 ? service[next_random(&rnd) % w->dports]
                                            : (uint16_t)(1 + next_random(&rnd) % w->dports);
            uint8_t proto = next_random(&rnd) % 4 == 0 ? 17 : 6;
            if (from_wan)
                s = pb_ipv4(proto, wan, lan, dport, sport);
            else
                s = pb_ipv4(proto, lan, wan, sport, dport);
        }
        mac_of(s.src_ip, s.eth_src);
        mac_of(s.dst_ip, s.eth_dst);
        s.payload_len = (uint16_t)(next_random(&rnd) % 40);
        p->len = pb_build(&s, p->data, sizeof p->data);
        p->port = from_wan ? 1 : 0;
        p->time_ns = (uint64_t)i * w->step_ns;
    }
}

uint32_t harness_mix(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

struct outcome {
    int verdict;
    uint8_t data[128];
};

/* Adapts a harness_core_fn (parsed view) to a harness_frame_core_fn. */
static int core_from_view(const uint8_t *frame, size_t len, uint16_t port, int cores,
                          void *ctx)
{
    harness_core_fn const *fn = ctx;
    struct pb_view v;
    pb_parse(frame, len, &v);
    return (*fn)(&v, port, cores);
}

int harness_sharded_run(const char *const *settings, const struct harness_packet *packets,
                        size_t n, int cores, const struct harness_mode *modes,
                        harness_core_fn core_of, unsigned writer_ports, bool compare_bytes,
                        struct harness_result *result)
{
    return harness_sharded_run_with(settings, packets, n, cores, modes, core_from_view,
                                    &core_of, writer_ports, compare_bytes, result);
}

int harness_sharded_run_with(const char *const *settings, const struct harness_packet *packets,
                             size_t n, int cores, const struct harness_mode *modes,
                             harness_frame_core_fn core_of, void *ctx, unsigned writer_ports,
                             bool compare_bytes, struct harness_result *result)
{
    memset(result, 0, sizeof *result);
    struct outcome *sequential = calloc(n ? n : 1, sizeof *sequential);
    if (sequential == NULL || harness_init(settings) != 0) {
        free(sequential);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(sequential[i].data, packets[i].data, packets[i].len);
        sequential[i].verdict = harness_send(sequential[i].data, packets[i].len,
                                             packets[i].port, packets[i].time_ns);
        if (sequential[i].verdict == NF_DROP)
            result->dropped++;
        else
            result->forwarded++;
    }

    int status = -1;
    enum rt_mode mode_of[256];
    if (harness_init(settings) != 0 || rt_objects() > 256)
        goto out;
    size_t objects = rt_objects();
    for (size_t i = 0; i < objects; i++)
        mode_of[i] = RT_SHARDED;
    for (size_t m = 0; modes != NULL && modes[m].name != NULL; m++) {
        int index = rt_object_find(modes[m].name);
        if (index < 0) {
            fprintf(stderr, "harness: no object named '%s'\n", modes[m].name);
            goto out;
        }
        mode_of[index] = modes[m].mode;
    }
    struct util_error err;
    rt_set_abort_on_violation(false);
    if (rt_instantiate(cores, mode_of, &err) != 0) {
        fprintf(stderr, "harness: %s\n", err.msg);
        goto out;
    }

    status = 0;
    int mismatches = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t frame[128];
        memcpy(frame, packets[i].data, packets[i].len);
        int core = core_of(frame, packets[i].len, packets[i].port, cores, ctx);
        rt_packet_begin(core, (writer_ports >> packets[i].port) & 1);
        int verdict = harness_send(frame, packets[i].len, packets[i].port, packets[i].time_ns);
        rt_packet_end(core);
        bool same = verdict == sequential[i].verdict &&
                    (!compare_bytes || verdict == NF_DROP ||
                     memcmp(frame, sequential[i].data, packets[i].len) == 0);
        if (!same && mismatches++ < 5)
            fprintf(stderr, "harness: packet %zu (port %u, core %d): sequential verdict %d, "
                    "%d cores: %d%s\n", i, packets[i].port, core, sequential[i].verdict, cores,
                    verdict, verdict == sequential[i].verdict ? " (bytes differ)" : "");
    }
    struct rt_stats stats;
    rt_stats(&stats);
    result->violations = stats.plan_violations;
    result->mismatches = mismatches;
    fprintf(stderr, "harness: %zu packets (sequential: %zu forwarded, %zu dropped) on %d "
            "cores: %d differ, %llu plan violations\n", n, result->forwarded,
            result->dropped, cores, mismatches, (unsigned long long)result->violations);
out:
    free(sequential);
    return status;
}

size_t harness_fuzz(uint32_t seed, size_t n)
{
    struct harness_workload w = {
        .seed = seed, .lan_hosts = 8, .wan_hosts = 16, .port1_percent = 50,
        .reply_percent = 30, .same_side_percent = 10, .sports = 8, .dports = 4,
        .step_ns = 1000,
    };
    struct harness_packet *packets = calloc(n ? n : 1, sizeof *packets);
    if (packets == NULL)
        return n;
    harness_workload_fill(&w, packets, n);
    uint32_t rnd = seed * 2654435761u + 1;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        struct harness_packet *p = &packets[i];
        int flips = (int)(next_random(&rnd) % 4);
        for (int f = 0; f < flips && p->len > 0; f++) {
            size_t at = next_random(&rnd) % p->len;
            /* Favour the type, length and offset fields of the headers. */
            static const size_t hot[] = {12, 13, 14, 16, 17, 20, 21, 23};
            size_t hot_at = hot[next_random(&rnd) % 8];
            if (next_random(&rnd) % 2 && hot_at < p->len)
                at = hot_at;
            p->data[at] = (uint8_t)next_random(&rnd);
        }
        if (next_random(&rnd) % 3 == 0)
            p->len = next_random(&rnd) % (p->len + 1);
        /* A heap copy of exactly len bytes, so ASan sees any overread. */
        uint8_t *frame = malloc(p->len ? p->len : 1);
        if (frame == NULL)
            break;
        memcpy(frame, p->data, p->len);
        int verdict = harness_send(frame, p->len, (uint16_t)(next_random(&rnd) % 2),
                                   p->time_ns);
        free(frame);
        if (verdict != NF_DROP && verdict != 0 && verdict != 1)
            bad++;
    }
    free(packets);
    return bad;
}
