/*
 * sim_internal.h - what the files of sim/ share and nothing outside sim/ may
 * use: DPDK's rss_hf bit values, the RSS input builder, the cache probe and
 * invalidate operations the coherence model needs.
 */
#ifndef RSSKEY_SIM_INTERNAL_H
#define RSSKEY_SIM_INTERNAL_H

#include "sim/sim.h"

/* RTE_ETH_RSS_* of DPDK 22.11's rte_ethdev.h (checked in tests/sim). */
#define SIM_RSS_IPV4               (1ULL << 2)
#define SIM_RSS_FRAG_IPV4          (1ULL << 3)
#define SIM_RSS_NONFRAG_IPV4_TCP   (1ULL << 4)
#define SIM_RSS_NONFRAG_IPV4_UDP   (1ULL << 5)
#define SIM_RSS_NONFRAG_IPV4_OTHER (1ULL << 7)
#define SIM_RSS_IPV6               (1ULL << 8)
#define SIM_RSS_FRAG_IPV6          (1ULL << 9)
#define SIM_RSS_NONFRAG_IPV6_TCP   (1ULL << 10)
#define SIM_RSS_NONFRAG_IPV6_UDP   (1ULL << 11)
#define SIM_RSS_NONFRAG_IPV6_OTHER (1ULL << 13)
#define SIM_RSS_IPV6_EX            (1ULL << 15)
#define SIM_RSS_L3_SRC_ONLY        (1ULL << 63)
#define SIM_RSS_L3_DST_ONLY        (1ULL << 62)
#define SIM_RSS_L4_SRC_ONLY        (1ULL << 61)
#define SIM_RSS_L4_DST_ONLY        (1ULL << 60)

/* Writes the bytes the NIC hashes for t under rss_hf into buf (at most 36);
 * returns their count, 0 when the NIC would not hash the packet. */
int sim_rss_input(uint64_t rss_hf, const struct trace_tuple *t, uint8_t *buf);

/* True when line is cached, without touching the LRU order. */
bool sim_cache_probe(const struct sim_cache *c, uint64_t line);
/* Asks the host to fetch the sets the n lines map to (a hint; changes
 * nothing). */
void sim_cache_prefetch(const struct sim_cache *c, const uint64_t *lines, int n);
/* Drops line if cached; true when it was. */
bool sim_cache_invalidate(struct sim_cache *c, uint64_t line);

/* Zeroed, 64-byte aligned memory for a big, randomly accessed table: 2 MiB
 * aligned and offered to transparent huge pages from 2 MiB up (memory.c).
 * Released with free(). */
void *sim_table_alloc(size_t bytes);

/* 64-bit mix of a byte string (state indexes, flow identities). */
uint64_t sim_hash_bytes(const void *data, size_t len, uint64_t seed);

/* The RETA SIM_FOLD_SYNTH gives plan on `cores` cores (capacity.c): the
 * balanced table of rss_reta_balance over src's bucket loads (src read to
 * its end, or limit packets, and rewound) when the plan's RETA was trained,
 * else round-robin. *balanced says which. Returns 0 or a UTIL_EXIT_* code. */
int sim_synth_reta(const struct rss_plan *plan, struct sim_source *src, uint64_t limit,
                   int cores, uint16_t *reta, bool *balanced, struct util_error *err);

/* Per-core windows of processed packets and the largest flow's share of the
 * busiest one (window.c). */
struct sim_windows;
struct sim_windows *sim_windows_new(int cores);     /* NULL: out of memory */
void sim_windows_free(struct sim_windows *s);
/* Packet of flow processed on core k, arrived at `arrival` (any time unit). */
void sim_windows_add(struct sim_windows *s, int k, uint64_t flow, double arrival);
/* Sets r's window_core, window_packets and window_top_flow. */
void sim_windows_finish(struct sim_windows *s, struct sim_result *r);

#endif /* RSSKEY_SIM_INTERNAL_H */
