/*
 * nat_script.h - a scripted NAT workload for multi-core equivalence tests.
 *
 * A NAT's WAN side can only be exercised with replies addressed to the
 * external port the NAT chose in THAT run (which port a flow gets depends on
 * the allocator and differs between a sequential and a sharded run). The
 * script is a list of steps: a LAN packet of one of NAT_SCRIPT_FLOWS flows, or
 * a WAN reply to a live flow from its remote host (or, one step in five, from
 * another host); each run turns steps into frames using its own translations.
 */
#ifndef RSSKEY_TESTS_NAT_SCRIPT_H
#define RSSKEY_TESTS_NAT_SCRIPT_H

#include <stdbool.h>
#include <stdint.h>

#include "nf_harness.h"

#define NAT_SCRIPT_STEPS 2000
#define NAT_SCRIPT_FLOWS 96
#define NAT_SCRIPT_EXTERNAL PB_IPV4(203, 0, 113, 7)

struct nat_script_flow {
    uint32_t inside, remote;
    uint16_t sport, dport;
    uint8_t proto;
};

struct nat_script_step {
    int flow;
    bool reply;
    bool spoofed;
    uint64_t time_ns;
};

struct nat_script {
    struct nat_script_flow flows[NAT_SCRIPT_FLOWS];
    struct nat_script_step steps[NAT_SCRIPT_STEPS];
};

/* What one run did: verdicts, and the bytes of forwarded replies. */
struct nat_script_outcome {
    int verdict[NAT_SCRIPT_STEPS];
    uint8_t reply[NAT_SCRIPT_STEPS][128];
};

/* The settings the script assumes (external_ip, base_port, expiry_ms). */
extern const char *const nat_script_settings[];

void nat_script_make(struct nat_script *s, uint32_t seed);

/* Runs the script through the linked NAT: cores == 0 sequentially, else on
 * `cores` sharded instances (every object RT_SHARDED) with core_of choosing
 * each packet's core under that core's read token only. Returns 0, or -1
 * when nf_init or rt_instantiate fails. */
int nat_script_run(const struct nat_script *s, int cores, harness_frame_core_fn core_of,
                   void *ctx, struct nat_script_outcome *out);

/* Steps whose verdict (or reply bytes) differ; counts a's verdicts. */
int nat_script_differences(const struct nat_script_outcome *a,
                           const struct nat_script_outcome *b, int *forwarded, int *dropped);

#endif /* RSSKEY_TESTS_NAT_SCRIPT_H */
