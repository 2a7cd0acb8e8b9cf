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

/* ---- rss_hf flags (the values of DPDK 22.11's RTE_ETH_RSS_*) --------------- */

#define RSS_HF_IPV4              (1ULL << 2)
#define RSS_HF_FRAG_IPV4         (1ULL << 3)
#define RSS_HF_NONFRAG_IPV4_TCP  (1ULL << 4)
#define RSS_HF_NONFRAG_IPV4_UDP  (1ULL << 5)
#define RSS_HF_NONFRAG_IPV4_OTHER (1ULL << 7)
#define RSS_HF_IPV6              (1ULL << 8)
#define RSS_HF_FRAG_IPV6         (1ULL << 9)
#define RSS_HF_NONFRAG_IPV6_TCP  (1ULL << 10)
#define RSS_HF_NONFRAG_IPV6_UDP  (1ULL << 11)
#define RSS_HF_NONFRAG_IPV6_OTHER (1ULL << 13)
#define RSS_HF_L4_DST_ONLY       (1ULL << 60)
#define RSS_HF_L4_SRC_ONLY       (1ULL << 61)
#define RSS_HF_L3_DST_ONLY       (1ULL << 62)
#define RSS_HF_L3_SRC_ONLY       (1ULL << 63)

/* Writes the DPDK names of the bits set in hf ("RTE_ETH_RSS_IPV4", ...) into
 * names[] (at most max); returns how many. Unknown bits are skipped. */
int rss_hf_names(uint64_t hf, const char **names, int max);
/* The bit of one DPDK name, or 0 when unknown. */
uint64_t rss_hf_from_name(const char *name);

/* ---- Toeplitz: fast paths ---------------------------------------------------- */

/* Longest input the fast paths take: IPv6 + ports (36 bytes). */
#define RSS_INPUT_MAX 36

/* A key prepared once for fast hashing: per input byte position a 256-entry
 * table of 32-bit contributions, and the 8x8 GF(2) matrices of the GFNI path.
 * The tables cover inputs of up to max_len bytes (key_len - 4, at most 36);
 * longer inputs take the bit-by-bit reference. */
struct rss_toeplitz {
    int max_len;
    int key_len;
    uint8_t key[RSS_KEY_MAX];   /* for inputs longer than max_len (reference path) */
    bool gfni;                  /* the CPU has GFNI + AVX-512 F/BW/VL/VBMI */
    uint32_t table[RSS_INPUT_MAX][256];
    uint64_t matrix[RSS_INPUT_MAX + 8];
};

void rss_toeplitz_init(struct rss_toeplitz *t, const uint8_t *key, size_t key_len);
/* One hash through the lookup tables (the reference beyond max_len). */
uint32_t rss_toeplitz_hash(const struct rss_toeplitz *t, const uint8_t *input, size_t len);
/* n inputs of len bytes each, stored back to back; out[i] = hash of input i.
 * Uses whichever of the two paths below bench_toeplitz found faster for the
 * length (tables for IPv4 inputs, GFNI when available for IPv6 ones). */
void rss_toeplitz_bulk(const struct rss_toeplitz *t, const uint8_t *inputs, size_t len,
                       size_t n, uint32_t *out);
/* The two bulk implementations, for tests and benchmarks; the GFNI one may
 * only be called when t->gfni is true. */
void rss_toeplitz_bulk_tables(const struct rss_toeplitz *t, const uint8_t *inputs,
                              size_t len, size_t n, uint32_t *out);
void rss_toeplitz_bulk_gfni(const struct rss_toeplitz *t, const uint8_t *inputs,
                            size_t len, size_t n, uint32_t *out);
/* True when this CPU runs the GFNI path. */
bool rss_cpu_has_gfni(void);

/* ---- Hash inputs ----------------------------------------------------------- */

/* One header field inside a Toeplitz input, at a bit offset from its start. */
struct rss_input_field {
    enum ir_field_id id;
    int bit_offset;
    int bits;
};

/* What the NIC hashes for one kind of packet under an rss_hf: the fields in
 * input order (src, dst, sport, dport, minus those a selector leaves out). */
struct rss_layout {
    int version;                /* 4 or 6 */
    bool l4;                    /* TCP/UDP non-fragment with ports hashed */
    int n_fields;
    struct rss_input_field fields[4];
    int bytes;
};

/* Fills the layout hf gives packets of IP version `version` that are L4
 * (non-fragment TCP/UDP whose type hf enables) or L3-hashed. Returns false
 * when hf hashes no such packet. */
bool rss_layout_of(uint64_t hf, int version, bool l4, struct rss_layout *out);
/* The Toeplitz input of a packet under hf, as rss_hash_tuple sees it: fills
 * out (RSS_INPUT_MAX bytes) and returns its length, 0 when not hashed. */
size_t rss_tuple_input(uint64_t hf, const struct trace_tuple *t, uint8_t *out);

/* A port's configuration with its key prepared for fast hashing (the
 * simulator's per-packet path). Holds a pointer to cfg: keep cfg alive. */
struct rss_port_hasher {
    const struct rss_port_config *cfg;
    struct rss_toeplitz tz;
    /* The four layouts of cfg->rss_hf, worked out once ([IPv6][L4]), as the
     * byte offsets inside struct trace_tuple that form the hash input. */
    bool has_layout[2][2];
    bool ipv4_l4_full;          /* IPv4 L4 layout is src|dst|sport|dport */
    uint8_t n_bytes[2][2];
    uint8_t tuple_offset[2][2][RSS_INPUT_MAX];
};
void rss_port_hasher_init(struct rss_port_hasher *h, const struct rss_port_config *cfg);
uint32_t rss_port_hasher_hash(const struct rss_port_hasher *h, const struct trace_tuple *t);
int rss_port_hasher_core(const struct rss_port_hasher *h, const struct trace_tuple *t);

/* ---- NIC profiles -------------------------------------------------------------- */

struct rss_nic {
    char name[32];              /* what --nic takes: "x710" */
    char model[64];             /* "Intel X710/XL710" */
    char driver[16];            /* DPDK driver: "i40e" */
    int key_len;                /* bytes: 40 or 52 */
    uint32_t reta_size;         /* entries, power of two */
    uint64_t hf_supported;      /* RSS_HF_* the driver accepts (types and selectors) */
    bool l3_hashes_l4;          /* RTE_ETH_RSS_IPV4 alone hashes TCP/UDP packets on
                                   their addresses (false: those need NONFRAG_*) */
    char source[160];           /* where the figures come from */
};

int rss_nic_count(void);
const struct rss_nic *rss_nic_at(int i);
/* A built-in profile by name (case-insensitive), or NULL. */
const struct rss_nic *rss_nic_find(const char *name);
/* Reads a profile file (format: docs/rss.md, "NIC profile files"). Returns a
 * UTIL_EXIT_* code; err names the file, line and what to fix. */
int rss_nic_read_file(const char *path, struct rss_nic *out, struct util_error *err);

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

/* How well a port's RETA index spreads one field: the rank over GF(2) of the
 * map from the field's (up to) 16 low-order kept bits to the index bits. */
struct rss_field_quality {
    struct ir_field field;
    int version;                /* layout the field was measured in: 4 or 6 */
    int rank;
    int best;                   /* min(index bits, kept bits, 16) */
    int rank_low8;              /* the same for the field's 8 lowest bits alone */
    int best_low8;              /* min(index bits, 8) */
};

#define RSS_MAX_QUALITY_FIELDS 8

struct rss_port_quality {
    int n_fields;
    struct rss_field_quality fields[RSS_MAX_QUALITY_FIELDS];
};

/* RETA balance: max/mean core load (1.0 = perfect) on the trace's held-back
 * part for the tuned table and the default round-robin one, and the best any
 * table could reach there (bucket granularity). trained = false: no trace.
 * kept_round_robin: the tuned table balanced the held-back part worse than
 * round-robin, so the plan's RETA is round-robin (with a warning); the figures
 * still describe both tables. */
struct rss_reta_quality {
    bool trained;
    bool kept_round_robin;
    uint64_t train_packets, test_packets, unhashed_packets;
    double train_max_mean;
    double tuned_max_mean, default_max_mean, lower_bound_max_mean;
};

struct rss_quality {
    struct rss_port_quality ports[DEPS_MAX_PORTS];
    struct rss_reta_quality reta;
    int solver_rounds;          /* Z3 calls (1 + objects made shared) */
    double seconds;             /* synthesis wall time */
};

/* The synthesis result: everything plan.json holds. Owner: whoever filled it
 * calls rss_plan_free. */
struct rss_plan {
    char nic[32];
    /* Extension: SHA-256 of the NF bitcode the plan was made from, 64 hex
     * digits ("" when unknown: a plan from --plan-in, or written before). */
    char nf_sha256[65];
    /* The rsskey version that wrote the plan ("" in plans written before
     * plans recorded it). */
    char rsskey_version[32];
    int cores;
    int n_ports;
    struct rss_port_config ports[DEPS_MAX_PORTS];
    struct deps_plan deps;      /* objects, accesses, warnings of the analysis */
    struct rss_quality quality; /* extension: filled by synthesis (and read back) */
};

/* The 32-bit hash the NIC computes for a packet under a port's key and
 * rss_hf (0 when the packet's flow type is not enabled, as NICs do). */
uint32_t rss_hash_tuple(const struct rss_port_config *cfg, const struct trace_tuple *t);
/* The core a packet lands on: reta[hash & (reta_size - 1)]. */
int rss_core_of(const struct rss_port_config *cfg, const struct trace_tuple *t);

/* ---- Synthesis (extensions of the plan) ------------------------------------ */

struct rss_synth_options {
    struct rss_nic nic;
    int cores;                          /* 1 .. reta_size */
    uint64_t seed;                      /* free key bits and tie-breaks */
    const struct trace_source_options *trace;   /* NULL: round-robin RETA */
    double train_fraction;              /* first part of the trace used to tune */
    double reta_seconds;                /* local-search budget for the RETA */
};

/* Fills defaults: x710, 4 cores, seed 1, no trace, 0.5, 0.2 s. */
void rss_synth_options_init(struct rss_synth_options *o);

/* Synthesises one key, rss_hf and RETA per port for the sharded objects of
 * `analysis` (copied into out->deps; objects whose requirements conflict are
 * made shared there, with the reason and a warning). The result has passed
 * rss_plan_check. Returns a UTIL_EXIT_* code; out is filled only on success
 * (free with rss_plan_free). */
int rss_synthesize(const struct deps_plan *analysis, const struct rss_synth_options *o,
                   struct rss_plan *out, struct util_error *err);

/* The independent checker (no Z3): GF(2) contributions of every input bit to
 * the RETA index, and n_random random packet pairs per object and port pair,
 * against every sharded object of plan->deps. 0 = sound, else -1 with err
 * naming the object, ports and field. */
int rss_plan_check(const struct rss_plan *plan, uint64_t seed, int n_random,
                   struct util_error *err);
/* Fills plan->quality.ports from the keys (rank per hashed field). */
void rss_plan_measure(struct rss_plan *plan);
/* GF(2) contribution of input bit i (0 = MSB of byte 0) to the low
 * index_bits of the hash under key. */
uint32_t rss_bit_contribution(const uint8_t *key, int key_len, int input_bit, int index_bits);

/* ---- RETA ---------------------------------------------------------------------- */

void rss_reta_round_robin(uint16_t *reta, uint32_t size, int cores);
/* How much worse (max/mean) than round-robin on the held-back packets the
 * tuned table may be before the plan falls back to round-robin. */
#define RSS_RETA_WORSE_EPS 1e-9
/* Buckets to cores minimising the most loaded core: longest-processing-time
 * first, then moves and swaps off the most loaded core for up to `seconds`. */
void rss_reta_balance(const uint64_t *bucket_load, uint32_t size, int cores,
                      double seconds, uint16_t *reta);
/* max/mean of the per-core load the table gives (1.0 when load is zero). */
double rss_reta_max_mean(const uint64_t *bucket_load, uint32_t size,
                         const uint16_t *reta, int cores);
/* The smallest max/mean any table can reach: buckets cannot be split. */
double rss_reta_lower_bound(const uint64_t *bucket_load, uint32_t size, int cores);
/* Tunes the plan's shared RETA from packets (tuples[i] arrives on ports[i]):
 * the first train_fraction tune, the rest measure; fills quality.reta. */
void rss_reta_train_tuples(struct rss_plan *plan, const struct trace_tuple *tuples,
                           const uint16_t *ports, size_t n, double train_fraction,
                           double seconds);
/* Same from a trace source (reads it once). Returns a UTIL_EXIT_* code. */
int rss_reta_train_trace(struct rss_plan *plan, const struct trace_source_options *src,
                         double train_fraction, double seconds, struct util_error *err);

/* ---- plan.json ------------------------------------------------------------------ */

/* Writes the whole plan as one JSON object (schema rsskey-plan/1). */
void rss_plan_write_json(const struct rss_plan *plan, struct util_json *w);
/* Writes plan.json through util_write_file_atomic. Returns a UTIL_EXIT_* code. */
int rss_plan_write(const struct rss_plan *plan, const char *path, struct util_error *err);

int rss_plan_read(const char *path, struct rss_plan *plan, struct util_error *err);
/* A plan that names the rsskey that wrote it must come from this one: the
 * analysis and runtime behind a plan change between versions. `doing` says
 * what the user was doing ("build", "deploy") for the advice. Returns 0 or
 * UTIL_EXIT_INPUT with the message in err. */
int rss_plan_check_version(const struct rss_plan *plan, const char *path, const char *doing,
                           struct util_error *err);
/* The same from plan.json's text held in memory (len bytes); `path` names it
 * in messages. Returns a UTIL_EXIT_* code (UTIL_EXIT_INPUT when malformed). */
int rss_plan_parse(const char *text, size_t len, const char *path, struct rss_plan *plan,
                   struct util_error *err);
void rss_plan_free(struct rss_plan *plan);

#endif /* RSSKEY_RSS_H */
