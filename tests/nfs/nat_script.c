/*
 * nat_script.c - see nat_script.h.
 */
#include "nat_script.h"

#include <string.h>

#include "rsskey/nf.h"
#include "runtime/runtime.h"

#define EXPIRY_MS 150

const char *const nat_script_settings[] = {
    "external_ip=0xCB007107", "base_port=2000", "expiry_ms=150", NULL,
};

static uint32_t step_random(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

void nat_script_make(struct nat_script *s, uint32_t seed)
{
    uint32_t rnd = seed ? seed : 1;
    for (int f = 0; f < NAT_SCRIPT_FLOWS; f++) {
        struct nat_script_flow *flow = &s->flows[f];
        flow->inside = PB_IPV4(10, 0, 0, 1 + step_random(&rnd) % 12);
        /* Remote hosts from several networks, as on the Internet. */
        flow->remote = PB_IPV4(198, 51, step_random(&rnd) % 8, 1 + step_random(&rnd) % 20);
        flow->sport = (uint16_t)(1024 + step_random(&rnd) % 16);
        flow->dport = step_random(&rnd) % 2 ? 443 : 53;
        flow->proto = flow->dport == 53 ? NF_PROTO_UDP : NF_PROTO_TCP;
    }
    for (int i = 0; i < NAT_SCRIPT_STEPS; i++) {
        s->steps[i].flow = (int)(step_random(&rnd) % NAT_SCRIPT_FLOWS);
        s->steps[i].reply = step_random(&rnd) % 2;
        s->steps[i].spoofed = step_random(&rnd) % 5 == 0;
        s->steps[i].time_ns = (uint64_t)i * MS;
    }
}

int nat_script_run(const struct nat_script *s, int cores, harness_frame_core_fn core_of,
                   void *ctx, struct nat_script_outcome *out)
{
    if (harness_init(nat_script_settings) != 0)
        return -1;
    if (cores > 0) {
        struct util_error err;
        rt_set_abort_on_violation(false);
        if (rt_instantiate(cores, NULL, &err) != 0)
            return -1;
    }
    uint16_t external_port[NAT_SCRIPT_FLOWS] = {0};
    uint64_t last_active[NAT_SCRIPT_FLOWS] = {0};
    for (int i = 0; i < NAT_SCRIPT_STEPS; i++) {
        int fi = s->steps[i].flow;
        const struct nat_script_flow *f = &s->flows[fi];
        uint64_t now = s->steps[i].time_ns;
        /* A reply needs a live flow (the script's model of the NAT's expiry);
         * otherwise its old port may belong to another flow, and which one
         * depends on allocation order. Such steps send a LAN packet instead. */
        bool alive = external_port[fi] != 0 && last_active[fi] + EXPIRY_MS * MS >= now;
        struct pb_spec spec;
        uint16_t port;
        if (!s->steps[i].reply || !alive) {
            spec = pb_ipv4(f->proto, f->inside, f->remote, f->sport, f->dport);
            port = 0;
        } else {
            uint32_t from = s->steps[i].spoofed ? f->remote + 100 : f->remote;   /* .101+ */
            spec = pb_ipv4(f->proto, from, NAT_SCRIPT_EXTERNAL, f->dport, external_port[fi]);
            port = 1;
        }
        uint8_t frame[128];
        size_t len = pb_build(&spec, frame, sizeof frame);
        int core = cores > 0 ? core_of(frame, len, port, cores, ctx) : 0;
        if (cores > 0)
            rt_packet_begin(core, false);
        out->verdict[i] = harness_send(frame, len, port, now);
        if (cores > 0)
            rt_packet_end(core);
        struct pb_view v;
        pb_parse(frame, len, &v);
        if (out->verdict[i] != NF_DROP)
            last_active[fi] = now;
        if (port == 0 && out->verdict[i] == 1)
            external_port[fi] = v.sport;
        memset(out->reply[i], 0, sizeof out->reply[i]);
        if (port == 1 && out->verdict[i] == 0)
            memcpy(out->reply[i], frame, len);
    }
    return 0;
}

int nat_script_differences(const struct nat_script_outcome *a,
                           const struct nat_script_outcome *b, int *forwarded, int *dropped)
{
    int differ = 0;
    *forwarded = *dropped = 0;
    for (int i = 0; i < NAT_SCRIPT_STEPS; i++) {
        *forwarded += a->verdict[i] != NF_DROP;
        *dropped += a->verdict[i] == NF_DROP;
        differ += a->verdict[i] != b->verdict[i] ||
                  memcmp(a->reply[i], b->reply[i], sizeof a->reply[i]) != 0;
    }
    return differ;
}
