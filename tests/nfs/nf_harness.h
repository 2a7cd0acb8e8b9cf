/*
 * nf_harness.h - runs the NF linked into a test executable: reset the
 * runtime, configure, nf_init, then feed frames one by one.
 */
#ifndef RSSKEY_TESTS_NF_HARNESS_H
#define RSSKEY_TESTS_NF_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet_builder.h"
#include "runtime/runtime.h"

#define MS 1000000ULL           /* nanoseconds per millisecond */

/* rt_reset(), then each "name=value" of the NULL-terminated `settings`
 * (NULL: none), then nf_init(). Returns nf_init's result (-1 also when a
 * setting is rejected). */
int harness_init(const char *const *settings);

/* Calls nf_process on `frame` (modified in place) as if it arrived on `port`
 * at `time_ns`; returns the verdict. */
int harness_send(uint8_t *frame, size_t len, uint16_t port, uint64_t time_ns);

/* Builds `spec` into a scratch buffer, sends it, returns the verdict. */
int harness_send_spec(const struct pb_spec *spec, uint16_t port, uint64_t time_ns);

/* ---- Multi-core equivalence ------------------------------------------- */

struct harness_packet {
    uint8_t data[128];
    size_t len;
    uint16_t port;
    uint64_t time_ns;
};

/* A deterministic random workload of IPv4 TCP/UDP packets: port-0 packets go
 * from one of `lan_hosts` LAN hosts (10.0.x.y) to one of `wan_hosts` WAN
 * hosts (spread over several /8s, /16s and /24s), port-1 packets come back,
 * `reply_percent` of them as the reversed tuple of an earlier port-0 packet;
 * `same_side_percent` of the port-0 packets go to another LAN host.
 * Source and destination MACs are derived from the IPs. */
struct harness_workload {
    uint32_t seed;
    unsigned lan_hosts, wan_hosts;  /* 1..254, 1..1500 */
    unsigned port1_percent;
    unsigned reply_percent;
    unsigned same_side_percent;     /* port-0 packets to another LAN host */
    unsigned sports, dports;        /* distinct source / destination ports */
    uint64_t step_ns;               /* time between packets */
};

/* Fills packets[0..n). */
void harness_workload_fill(const struct harness_workload *w, struct harness_packet *packets,
                           size_t n);

/* Picks the core of a packet on `port` from its parsed headers. */
typedef int (*harness_core_fn)(const struct pb_view *v, uint16_t port, int cores);
/* The same from the raw frame, with caller context (e.g. an RSS plan). */
typedef int (*harness_frame_core_fn)(const uint8_t *frame, size_t len, uint16_t port,
                                     int cores, void *ctx);

/* Mode override for one object, by name; objects not listed are sharded. */
struct harness_mode {
    const char *name;
    enum rt_mode mode;
};

struct harness_result {
    int mismatches;             /* packets whose verdict or bytes differ */
    uint64_t violations;        /* the runtime's plan-violation count */
    size_t forwarded, dropped;  /* sequential verdicts, to see the workload bites */
};

/* Runs the packets through the NF on one core, then again (after rt_reset
 * and nf_init) on `cores` per-core instances with `modes`, each packet on
 * core_of's core: under every core's token when its input port's bit is set
 * in `writer_ports` (a packet that may write shared state), else under its
 * core's read token only (a write to a shared object is then a plan
 * violation). Compares verdicts (and, when
 * compare_bytes, the output bytes of forwarded packets). Returns 0, or -1 on
 * a setup error. Prints the first few differences. */
int harness_sharded_run(const char *const *settings, const struct harness_packet *packets,
                        size_t n, int cores, const struct harness_mode *modes,
                        harness_core_fn core_of, unsigned writer_ports, bool compare_bytes,
                        struct harness_result *result);

/* Robustness: sends `n` frames made from a workload by truncating them at a
 * random length and flipping random bytes (VLAN tags, IPv4 options, fragment
 * offsets, lengths, IPv6 headers included), on random ports, to the NF as
 * nf_init left it. Returns how many verdicts were neither NF_DROP, 0 nor 1
 * (0 for a sound NF; crashes and overreads show up under ASan). */
size_t harness_fuzz(uint32_t seed, size_t n);

/* harness_sharded_run with a frame-level core function and its context. */
int harness_sharded_run_with(const char *const *settings, const struct harness_packet *packets,
                             size_t n, int cores, const struct harness_mode *modes,
                             harness_frame_core_fn core_of, void *ctx, unsigned writer_ports,
                             bool compare_bytes, struct harness_result *result);

/* A well-mixed 32-bit hash, for core functions. */
uint32_t harness_mix(uint32_t x);

#endif /* RSSKEY_TESTS_NF_HARNESS_H */
