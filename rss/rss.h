/*
 * rss.h - Toeplitz RSS hashing, NIC profiles, and the synthesis of per-port
 * RSS keys, hash-field sets and indirection tables (RETA) from a deps plan.
 *
 * CONTRACT (used by sim/, report/, cmd/): the Toeplitz functions, struct
 * rss_plan and its JSON form (docs/plan-format.md). Extend, don't break.
 */
#ifndef RSSKEY_RSS_H
#define RSSKEY_RSS_H

#include <stdint.h>
#include <stddef.h>

#include "deps/deps.h"
#include "traces/traces.h"
#include "util/util.h"

#define RSS_KEY_MAX 52
#define RSS_RETA_MAX 2048

/* ---- Toeplitz ------------------------------------------------------------ */

/* Bit-by-bit reference: the hash of `len` input bytes (network order) under a
 * key of key_len bytes (key_len*8 >= len*8 + 32). */
uint32_t rss_toeplitz_reference(const uint8_t *key, size_t key_len,
                                const uint8_t *input, size_t len);

/* ---- Plans ----------------------------------------------------------------- */

/* rss_hf bits: DPDK's RTE_ETH_RSS_* values, so plans map 1:1 to DPDK. */
struct rss_port_config {
    int port;
    uint8_t key[RSS_KEY_MAX];
    int key_len;                /* 40 or 52 */
    uint64_t rss_hf;            /* RTE_ETH_RSS_* flags */
    uint32_t reta_size;         /* power of two */
    uint16_t reta[RSS_RETA_MAX];   /* RETA entry -> core */
};

/* The synthesis result: everything plan.json holds. Owner: whoever filled it
 * calls rss_plan_free. */
struct rss_plan {
    char nic[32];
    int cores;
    int n_ports;
    struct rss_port_config ports[DEPS_MAX_PORTS];
    struct deps_plan deps;      /* objects, accesses, warnings of the analysis */
};

/* The 32-bit hash the NIC computes for a packet under a port's key and
 * rss_hf (0 when the packet's flow type is not enabled, as NICs do). */
uint32_t rss_hash_tuple(const struct rss_port_config *cfg, const struct trace_tuple *t);
/* The core a packet lands on: reta[hash & (reta_size - 1)]. */
int rss_core_of(const struct rss_port_config *cfg, const struct trace_tuple *t);

int rss_plan_read(const char *path, struct rss_plan *plan, struct util_error *err);
void rss_plan_free(struct rss_plan *plan);

#endif /* RSSKEY_RSS_H */
