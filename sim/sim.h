/*
 * sim.h - the multi-core cache and lock simulator (docs/simulator.md).
 *
 * Replays packets through a deployed plan: the NIC's Toeplitz hash with the
 * port's key and rss_hf, the RETA, a finite RX ring per core, and each core
 * running the packet's state accesses (from the plan, for the packet's input
 * port) against a cost model: private L1/L2 per core, a shared LLC, coherence
 * traffic, per-core read/write locks for shared objects. Events are handled in
 * global time order. Results per core and overall (throughput, imbalance,
 * drops, bottleneck), plus an MLFFR search and a scaling table.
 *
 * Ownership: the caller owns every struct it passes in; struct sim_result
 * holds no pointers to heap memory (copy it freely). No global state.
 */
#ifndef RSSKEY_SIM_H
#define RSSKEY_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "rss/rss.h"
#include "traces/traces.h"
#include "util/util.h"

#define SIM_MAX_CORES 64
#define SIM_MAX_OVERRIDES 64

/* ---- Cost model (sim/costs/default.conf documents each parameter) ------- */

struct sim_object_override {
    char name[DEPS_NAME_MAX];
    uint64_t capacity;          /* entries; 0 = keep the default */
    uint32_t entry_bytes;       /* bytes per entry; 0 = keep the default */
};

struct sim_costs {
    double ghz;                 /* core clock */
    /* caches: sizes in bytes, lines are 64 bytes; l2_bytes 0 = no L2 */
    uint64_t l1_bytes, l2_bytes, llc_bytes;
    uint32_t l1_ways, l2_ways, llc_ways;
    /* load-to-use latency, cycles, of a hit at each level and of DRAM */
    double l1_cycles, l2_cycles, llc_cycles, dram_cycles;
    double transfer_cycles;     /* a line owned (modified) by another core */
    double invalidate_cycles;   /* a write to a line other cores hold */
    /* per packet and per state access (L1 hit included) */
    double base_cycles;
    double read_cycles, write_cycles, alloc_cycles, expire_cycles;
    /* locks of shared objects: per-core read tokens, writer takes all */
    double lock_read_cycles;    /* take and release the own core's token */
    double lock_write_cycles;   /* per token a writer takes */
    /* machine around the cores */
    uint32_t ring_size;         /* RX descriptors per core */
    double nic_gbps;            /* line rate, per port */
    double pcie_gbps;           /* usable PCIe bandwidth, all ports */
    uint32_t pcie_overhead_bytes;  /* descriptors and TLP headers per packet */
    /* state layout defaults (an object's table: capacity x entry bytes) */
    uint64_t default_capacity;
    uint32_t default_entry_bytes;
    uint32_t sketch_rows;       /* lines a count-min sketch access touches */
    int n_overrides;
    struct sim_object_override overrides[SIM_MAX_OVERRIDES];
};

/* Defaults for a current server (3 GHz, 32 KiB L1, 1 MiB L2, 32 MiB LLC). */
void sim_costs_default(struct sim_costs *c);
/* Reads "name = value" lines (# comments) over the defaults already in c.
 * Returns 0, or UTIL_EXIT_INPUT / UTIL_EXIT_IO with err naming the line. */
int sim_costs_read(const char *path, struct sim_costs *c, struct util_error *err);
/* The file form of c, a malloc'd string (caller frees). */
char *sim_costs_format(const struct sim_costs *c, const char *header_comment);

/* ---- Packets --------------------------------------------------------------- */

/* Where packets come from: next returns 1 (got one), 0 (end), -1 (error);
 * rewind restarts from the first packet (MLFFR and scaling replay many
 * times). size/offset, when set, drive the progress bar. During a run, next
 * and offset may be called from a second thread (sim_options.threads), never
 * from two at once; a packet's data pointer is not used after next returns. */
struct sim_source {
    void *ctx;
    int (*next)(void *ctx, struct trace_packet *pkt, struct util_error *err);
    int (*rewind)(void *ctx, struct util_error *err);
    uint64_t (*size)(void *ctx);
    uint64_t (*offset)(void *ctx);
};

/* An in-memory source over an array (tests, benches). */
struct sim_array_source {
    const struct trace_packet *packets;
    uint64_t count;
    uint64_t next_index;
};
void sim_array_source_init(struct sim_source *src, struct sim_array_source *ctx,
                           const struct trace_packet *packets, uint64_t count);

/* Pcap files through traces/' port policy (--lan, --port N=FILE); the
 * options are copied, their path strings must outlive the source. Returns 0
 * or a UTIL_EXIT_* code with err set. */
int sim_file_source_open(struct sim_source *src, const struct trace_source_options *opts,
                         struct util_error *err);
void sim_file_source_close(struct sim_source *src);

/* ---- Running ------------------------------------------------------------- */

enum sim_pacing {
    SIM_PACE_TRACE,             /* the trace's timestamps divided by speedup */
    SIM_PACE_PPS,               /* evenly spaced at rate packets per second */
    SIM_PACE_GBPS               /* back to back at rate Gbit/s of wire bits */
};

/* Bits a frame occupies on the wire: the capture's frame length (pcap's
 * "len": destination MAC to the end of the payload, no FCS), plus the 4-byte
 * FCS, padded to the 64-byte minimum, plus 8 bytes of preamble and SFD and
 * 12 of inter-frame gap. "Gbps wire" everywhere is these bits; "Gbps frame"
 * is the capture's frame length x 8. */
static inline double sim_wire_bits(uint32_t frame_len)
{
    uint32_t frame = frame_len + 4 < 64 ? 64 : frame_len + 4;
    return (frame + 20) * 8.0;
}

/* How a mean rate R (packets per second) is offered, for MLFFR searches,
 * scaling tables, --target and direct runs alike (sim_pace_at):
 *   EVEN   packets evenly spaced at R (SIM_PACE_PPS);
 *   TRACE  the trace's own timestamps, compressed or stretched so that the
 *          mean rate is R (SIM_PACE_TRACE with speedup R / the trace's rate):
 *          the capture's bursts are kept;
 *   BITS   back to back at R x the mean wire bits per packet (SIM_PACE_GBPS):
 *          small packets behind big ones arrive closer together. */
enum sim_pace_model { SIM_MODEL_EVEN, SIM_MODEL_TRACE, SIM_MODEL_BITS };
const char *sim_pace_model_name(enum sim_pace_model m);     /* "even", "trace", "bits" */

enum sim_reta_fold {
    SIM_FOLD_PLAN,              /* entry -> plan core % k (k <= plan cores;
                                   round-robin above) */
    SIM_FOLD_ROUND_ROBIN,       /* entry -> entry % k */
    SIM_FOLD_SYNTH              /* as 'rsskey synth --cores k' would make it: the
                                   plan's RETA was trained on a trace -> balanced
                                   (rss_reta_balance) on this trace's bucket
                                   loads for k cores; else round-robin */
};

struct sim_options {
    int cores;                  /* 0 = the plan's core count */
    enum sim_pacing pacing;
    double rate;                /* pps, Gbps or speedup (by pacing) */
    enum sim_reta_fold fold;    /* how the RETA is re-derived when cores differ */
    bool rss_only;              /* hash + RETA + per-core counts only */
    bool progress;              /* progress bar (drawn only on a terminal) */
    uint64_t limit;             /* stop after this many packets; 0 = all */
    bool writes_every_packet;   /* path model off: every packet makes every
                                   access of its port (an upper bound) */
    int threads;                /* 1: one host thread; 2: read and hash packets
                                   in a second thread; 0: 2 when the host has
                                   two CPUs. Results are the same either way. */
    enum sim_pace_model model;  /* how sim_mlffr and sim_target offer a rate
                                   (default EVEN); sim_run uses pacing/rate */
};

void sim_options_default(struct sim_options *o);

struct sim_core_stats {
    uint64_t packets;           /* processed */
    uint64_t drops;             /* RX ring overflows */
    uint64_t flows;             /* distinct 5-tuples processed */
    uint64_t bytes;             /* frame bytes processed (the capture's lengths) */
    double wire_bits;           /* the same packets' wire bits (sim_wire_bits) */
    uint64_t accesses;          /* state accesses made */
    uint64_t shared_writes;     /* packets that wrote shared state (took a
                                   lock's write tokens) */
    double busy_cycles;
    /* breakdown of busy_cycles */
    double cycles_base, cycles_state, cycles_l2, cycles_llc, cycles_dram;
    double cycles_coherence, cycles_lock, cycles_lock_wait;
    /* cache events (line accesses) */
    uint64_t line_accesses, l1_misses, l2_misses, llc_misses;
    uint64_t bus_ops;           /* private-cache misses + invalidating writes */
    uint64_t invalidations, transfers;
};

/* What stops a rate from being carried loss-free (sim_explain). */
enum sim_cause {
    SIM_CAUSE_NONE,             /* carried */
    SIM_CAUSE_CYCLES,           /* a core is asked for more cycles than it has */
    SIM_CAUSE_RING_BURSTS,      /* a core has the cycles on average, but bursts
                                   of its packets outrun its ring */
    SIM_CAUSE_LOCKS,            /* a core's ring overflowed while a quarter or
                                   more of its cycles went to tokens and waits */
    SIM_CAUSE_NIC,              /* the busiest port's line rate */
    SIM_CAUSE_PCIE              /* the PCIe bandwidth */
};
const char *sim_cause_name(enum sim_cause c);  /* "core cycles", "ring bursts", ... */

struct sim_result {
    int cores;
    bool reta_round_robin;      /* RETA re-derived as entry % cores (--fold rr,
                                   or more cores than the plan's) */
    bool reta_balanced;         /* RETA re-derived by --fold synth's balancing */
    uint64_t offered;           /* packets the NIC received */
    uint64_t processed;
    uint64_t drops;
    uint64_t no_hash;           /* packets the NIC did not hash (hash 0) */
    uint64_t skipped_accesses;  /* accesses skipped: key fields absent */
    uint64_t path_skipped;      /* inserts skipped: key already present */
    uint64_t wire_bytes;        /* offered, frame bytes (the capture's lengths) */
    double wire_bits;           /* offered, bits on the wire (sim_wire_bits) */
    double first_arrival_s, last_arrival_s, last_done_s;
    double duration_s;          /* first arrival .. last completion */
    double offered_pps;
    double mpps, gbps;          /* processed per duration; gbps: frame bits */
    double gbps_wire;           /* processed per duration, wire bits */
    double imbalance;           /* max/mean of per-core packets */
    int busiest_core;           /* by busy cycles */
    double nic_limit_pps;       /* line rate, at this trace's mean size */
    double pcie_limit_pps;
    double core_limit_pps;      /* cores, all busy at their measured cost */
    /* The first packet lost: its 1-based arrival number (0: no drop), the
     * core whose ring was full, and when (seconds from the first arrival). */
    uint64_t first_drop_packet;
    int first_drop_core;
    double first_drop_s;
    double first_drop_busy;     /* that core's busy cycles until then */
    uint64_t first_drop_done;   /* and the packets it had started */
    /* Without drops: the smallest limit, "core N", "NIC line rate" or "PCIe".
     * With drops: "ring overflow on core K at t=... s (packet N); cause: ..."
     * (sim_explain). cause / cause_core: why, as sim_cause names it. */
    const char *bottleneck;
    enum sim_cause cause;
    int cause_core;
    char bottleneck_buf[256];
    /* Why a scaling row is flat: the share of processed packets that wrote
     * shared state, the busiest core's share of packets, and the largest
     * flow's packets in the busiest window (window.c: SIM_WINDOW_PACKETS
     * consecutive packets of one core, the fastest-arriving such window). */
    uint64_t shared_writes;
    double shared_write_share;
    double busiest_share;       /* most packets on one core / processed */
    int window_core;            /* -1: no window */
    uint64_t window_packets, window_top_flow;
    struct sim_core_stats core[SIM_MAX_CORES];
};
#define SIM_WINDOW_PACKETS 1024

/* Replays src through plan on opts->cores cores. Returns 0, or a UTIL_EXIT_*
 * code with err set. The source is read from its current position (with
 * SIM_FOLD_SYNTH on another core count than the plan's and a trained plan,
 * it is read once more first, and rewound, for the bucket loads). */
int sim_run(const struct rss_plan *plan, const struct sim_costs *costs,
            const struct sim_options *opts, struct sim_source *src,
            struct sim_result *out, struct util_error *err);

/* Maximum loss-free forwarding rate: bisection over rates offered as
 * opts->model says, rewinding src each time, until the bracket is within
 * 0.5%. Fills *at with the result of the fastest loss-free run. */
int sim_mlffr(const struct rss_plan *plan, const struct sim_costs *costs,
              const struct sim_options *opts, struct sim_source *src,
              double *mlffr_pps, struct sim_result *at, struct util_error *err);

/* The same search, also saying what stops a faster rate: the cause at the
 * lossy end of the final bracket (sim_explain of that run), or the NIC or
 * PCIe when the MLFFR is their limit. */
struct sim_mlffr_result {
    double pps;                 /* the MLFFR */
    struct sim_result at;       /* the run at it */
    double above_pps;           /* the lowest lossy rate tried (0: none) */
    enum sim_cause cause;
    int cause_core;
    char why[256];
};
int sim_mlffr_explained(const struct rss_plan *plan, const struct sim_costs *costs,
                        const struct sim_options *opts, struct sim_source *src,
                        struct sim_mlffr_result *m, struct util_error *err);

/* ---- Capacity: rates, pacing models, loss-free, --target (capacity.c) ------ */

/* One pass over a source (rewound before and after; at most limit packets,
 * 0 = all): what converting between pps, Gbps wire and Gbps frame, and
 * scaling the trace's timing, need. */
struct sim_profile {
    uint64_t packets;
    double wire_bits, frame_bits;   /* totals */
    double span_s;                  /* last timestamp - first */
};
int sim_profile_source(struct sim_source *src, uint64_t limit, struct sim_profile *p,
                       struct util_error *err);
/* Packets per second of the trace's own timing, 0 when it has no span. */
double sim_profile_trace_pps(const struct sim_profile *p);

/* Sets o->pacing and o->rate so that model m offers pps packets per second
 * on average. Returns 0, or UTIL_EXIT_USAGE (TRACE on a trace without a
 * time span) with err set. */
int sim_pace_at(const struct sim_profile *p, enum sim_pace_model m, double pps,
                struct sim_options *o, struct util_error *err);

/* The rate carried loss-free: no ring overflowed, and rate (pps) is within
 * the cores', the NIC's and PCIe's limits (the last two are not queued). */
bool sim_loss_free(const struct sim_result *r, double rate);
/* Why rate is not carried by run r (SIM_CAUSE_NONE when it is); *core is
 * the core concerned (-1 for NIC and PCIe). Writes a sentence into buf. */
enum sim_cause sim_explain(const struct sim_result *r, const struct sim_costs *c,
                           double rate, int *core, char *buf, size_t n);

/* The smallest core count that carries rate loss-free under opts->model:
 * runs 1, 2, ... max_cores cores (RETA as sim_run derives it for each) and
 * stops at the first loss-free one. */
struct sim_target_try {
    int cores;
    uint64_t drops;
    bool loss_free;
    enum sim_cause cause;
    int cause_core;
    char why[256];
};
struct sim_target_result {
    double pps;                     /* the target, packets per second */
    int cores;                      /* the answer; 0: none up to max_cores */
    int n_tried;
    struct sim_target_try tried[SIM_MAX_CORES];
    struct sim_result at;           /* the run at the answer (or at max_cores) */
};
int sim_target(const struct rss_plan *plan, const struct sim_costs *costs,
               const struct sim_options *opts, struct sim_source *src, double pps,
               int max_cores, struct sim_target_result *t, struct util_error *err);

/* ---- Pieces exposed for tests and benches ---------------------------------- */

/* One set-associative LRU cache of 64-byte lines (for the cachegrind check). */
struct sim_cache;
struct sim_cache *sim_cache_new(uint64_t bytes, uint32_t ways);
/* Looks line (address / 64) up; on a miss inserts it, evicting the LRU way.
 * Returns true on a hit. */
bool sim_cache_access(struct sim_cache *c, uint64_t line);
void sim_cache_free(struct sim_cache *c);

/* Records every line address the cost model touches, in order, on one core
 * (used to check the model against cachegrind). */
struct sim_trace_sink {
    uint64_t *addrs;            /* byte addresses */
    uint8_t *is_write;
    uint64_t count, cap;
};
int sim_export_stream(const struct rss_plan *plan, const struct sim_costs *costs,
                      struct sim_source *src, struct sim_trace_sink *sink,
                      struct util_error *err);
void sim_trace_sink_free(struct sim_trace_sink *s);

/* ---- State layout -------------------------------------------------------------- */

/* Where a size came from. */
enum sim_size_source {
    SIM_SIZE_DEFAULT,           /* the costs file's default_capacity / entry_bytes */
    SIM_SIZE_PLAN,              /* the NF's create call, carried by the plan */
    SIM_SIZE_COSTS              /* an object.NAME.* line of the costs file */
};

/* The table one object occupies in the model: rows x entries x entry_bytes,
 * once per core when per_core (sharded, replicated), else once (shared). */
struct sim_table {
    uint64_t entries;
    uint32_t entry_bytes, rows;
    bool per_core;
    enum sim_size_source source;    /* of entries (the table's length) */
};

/* d's table on `cores` cores, laid out as runtime/ lays it out
 * (docs/simulator.md, "its address"). */
void sim_object_table(const struct sim_costs *c, const struct deps_object *d, int cores,
                      struct sim_table *out);

/* Every object's table (a line each) with per-core and shared totals, and
 * its JSON form: a "state" member {"objects": [...], "per_core_bytes",
 * "shared_bytes"}. */
void sim_print_state(FILE *out, const struct rss_plan *plan, const struct sim_costs *c,
                     int cores);
void sim_state_write_json(const struct rss_plan *plan, const struct sim_costs *c, int cores,
                          struct util_json *w);

/* ---- Reports ---------------------------------------------------------------- */

/* Human tables (fit 100 columns) and JSON members. Gbps are printed as
 * wire bits, or frame bits with frame_units (labelled either way); JSON has
 * both: "gbps" is wire bits (frame bits before issue 12), "gbps_frame". */
void sim_print_result(FILE *out, const struct sim_result *r, const struct sim_costs *c);
void sim_print_result_units(FILE *out, const struct sim_result *r, const struct sim_costs *c,
                            bool frame_units);
/* first, then text's words wrapped at 100 columns, continuation lines
 * indented by indent spaces; a newline at the end. */
void sim_print_wrapped(FILE *out, const char *first, int indent, const char *text);
void sim_result_write_json(const struct sim_result *r, const struct sim_costs *c,
                           struct util_json *w);

/* Calibration: times the runtime's state operations, its token locks and a
 * packet parse on this machine, and fills c's clock, per-access, lock and
 * base costs (docs/simulator.md says exactly what). objs (may be NULL): the
 * NF's objects, whose map lookups are also timed at their real size for the
 * log (their sizes reach simulations through the plan). Resets the runtime
 * (rt_reset) before and after. Returns 0 or a UTIL_EXIT_* code. */
struct sim_calib_object {
    char name[DEPS_NAME_MAX];
    enum deps_object_kind kind;
    uint32_t key_size, record_size, capacity;
};
/* driver_cycles: the DPDK RX/TX share of base_cycles as measured (see
 * sim_read_measured_driver); 0 assumes 80 cycles. */
int sim_calibrate(struct sim_costs *c, const struct sim_calib_object *objs, int n_objs,
                  double driver_cycles, FILE *log, struct util_error *err);
/* Reads a runner's `--measure --json` output of the nop NF (packets from
 * memory, no state objects) and gives its cycles per packet: the driver
 * share. Returns 0, or a UTIL_EXIT_* code with err saying what is wrong. */
int sim_read_measured_driver(const char *path, double *cycles, struct util_error *err);

#endif /* RSSKEY_SIM_H */
