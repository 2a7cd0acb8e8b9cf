/*
 * launcher_internal.h - PRIVATE to launcher/: what its files share. Not a
 * public header (a runner includes launcher/launcher.h only).
 *
 * Files: launcher.c (the plan deployed on the runtime, the run, the summary,
 * launcher_main), options.c (command line), ports.c (DPDK ports, hardware
 * RSS), dataplane.c (workers, dispatch, replay), spill.c (record streams in
 * temporary files), replay_set.c (the packets --verify compares), outcomes.c
 * (the workers' logs), machine.c (the NF replayed on one thread under a chosen
 * shape), relate.c (a replay's packet against the sequential NF's), verify.c
 * (--verify: references, classes), verify_report.c (its output).
 */
#ifndef RSSKEY_LAUNCHER_INTERNAL_H
#define RSSKEY_LAUNCHER_INTERNAL_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "rss/rss.h"
#include "runtime/runtime.h"
#include "traces/traces.h"

#define BURST 32
#define MAX_PORTS DEPS_MAX_PORTS
#define MAX_CONFIGS 64
#define RX_DESCRIPTORS 1024
#define TX_DESCRIPTORS 1024
#define LINKTYPE_ETHERNET 1
/* Frames up to this many bytes are replayed (an mbuf's buffer size is 16
 * bits, headroom included); longer ones are counted and reported, never
 * dropped silently. */
#define MAX_FRAME (UINT16_MAX - RTE_PKTMBUF_HEADROOM)

struct options {
    const char *plan_path;
    const char *configs[MAX_CONFIGS];
    int n_configs;
    bool verify;
    bool json;
    bool software_rss;      /* never program hardware RSS */
    bool configure_only;    /* program the ports, read back, exit */
    struct trace_source_options replay;   /* --replay/--lan/--port: read captures */
    bool replaying;
    unsigned idle_exit_ms;  /* stop after this long without packets (0: never) */
    unsigned ring_size;
    unsigned examples;      /* --verify: examples shown per class */
    bool measure;           /* --measure: time the NF at full speed (measure.c) */
    double seconds;         /* --measure: how long (default 2 s) */
};

/* Carried in each mbuf from RX to its worker. */
struct packet_meta {
    uint64_t time_ns;
    uint64_t seq;           /* arrival order (replay: position in the capture) */
    uint16_t in_port;
};

/* spill.c: a stream of records in an unlinked temporary file, written once,
 * read sequentially by any number of readers. */
struct spill {
    bool open;
    int fd;
    uint8_t *wbuf;          /* pending writes */
    size_t wlen;
    uint64_t size;          /* bytes written, pending ones included */
    bool failed;            /* a write failed (errno in error) */
    int error;
    char what[48];          /* for messages: "the sequential replay" */
};
struct spill_reader {
    const struct spill *s;
    uint64_t off;
    uint8_t *buf;
    size_t len, pos;
};
int spill_open(struct spill *s, const char *what, struct util_error *err);
bool spill_write(struct spill *s, const void *p, size_t n);
/* Flushes; reports a failed write. Call before reading. */
int spill_finish(struct spill *s, struct util_error *err);
void spill_close(struct spill *s);
int spill_reader_open(struct spill_reader *r, const struct spill *s);
/* n bytes, or false at the end of the stream. */
bool spill_read(struct spill_reader *r, void *p, size_t n);
void spill_reader_close(struct spill_reader *r);

/* One packet of the set, in arrival order (replay_set.c). */
struct vpacket {
    const uint8_t *bytes;   /* as captured; valid until the reader's next call */
    uint32_t len;
    uint16_t port;
    uint64_t time_ns;
    int core;               /* where the plan's RSS sends it as captured */
};

/* The packets --verify compares, in arrival order, as a stream. */
struct replay_set {
    struct spill stream;
    size_t n;
    uint64_t skipped_port;  /* packets for ports the plan lacks */
    uint64_t skipped_long;  /* frames longer than MAX_FRAME */
};
struct packet_reader {
    struct spill_reader r;
    uint8_t *buf;
    struct vpacket v;
    size_t index;           /* of the packet last returned */
};

/* One processed packet of the parallel run (a worker's log record), as
 * --verify reads it back (outcomes.c). */
struct outcome {
    uint64_t seq;           /* arrival order (hardware RSS: UINT64_MAX, then time) */
    uint64_t commit;        /* taken while the packet held its lock tokens */
    uint64_t time_ns;
    uint16_t port;
    int core;
    int verdict;
    uint32_t len;
    const uint8_t *bytes_in;    /* the input */
    const uint8_t *bytes_out;   /* after nf_process when forwarded changed, else NULL */
};

struct launcher;

struct worker {
    struct launcher *l;
    int core;
    struct rte_ring *rx_ring;       /* software RSS: main lcore -> this core */
    /* software RSS: this core -> the main lcore, per output port. One
     * producer each: a multi-producer ring stalls every producer while one
     * that reserved a slot is descheduled (more lcores than CPUs). */
    struct rte_ring *tx_ring[MAX_PORTS];
    uint64_t packets, forwarded, dropped;
    uint64_t sent, send_failed;     /* per-queue TX (launcher_poll_queues) */
    struct spill log;               /* --verify: one outcome record per packet */
    uint64_t n_log;
    bool log_failed;
    uint8_t *log_input;             /* the input of the packet being processed */
};

struct verify_state;
struct measure;

struct launcher {
    struct options opt;
    struct rss_plan plan;
    char embedded_name[300];        /* opt.plan_path of a built-in plan */
    int n_ports;
    int cores;
    bool hardware_rss;              /* the plan's RSS programmed into the ports */
    bool measure_devices;           /* --measure made the ports (measure.c) */
    bool per_queue;                 /* each worker polls its own queue of every port
                                       (hardware RSS or --measure's devices) */
    double ns_per_tsc;
    char why_software[256];
    bool may_write_shared[MAX_PORTS];
    struct rss_port_hasher hashers[MAX_PORTS];
    struct rte_mempool *pool;
    struct rte_mempool *jumbo_pool; /* frames that do not fit a standard mbuf */
    int meta_offset;
    struct worker workers[RT_MAX_CORES];
    atomic_int rx_done;
    atomic_int workers_done;
    atomic_uint_fast64_t commit_counter;
    uint64_t rx_packets[MAX_PORTS], tx_packets[MAX_PORTS], tx_failed[MAX_PORTS];
    uint64_t start_tsc;
    uint64_t replay_skipped_port;   /* packets for ports the plan lacks */
    uint64_t replay_skipped_long;   /* frames longer than MAX_FRAME */
    struct replay_set *set;         /* --verify --replay: the capture as a stream */
    struct verify_state *verify;    /* --verify: references and results */
    struct measure *measure;        /* --measure: packets and timings */
};

/* Set by SIGINT/SIGTERM (launcher.c). */
extern volatile sig_atomic_t launcher_stop_requested;

/* options.c: parses argv up to "--"; *eal_start = index of "--" (or argc).
 * embedded: the name of the plan built into the runner, NULL when there is
 * none (then --plan is required). Returns 0, -1 after --help, or
 * UTIL_EXIT_USAGE. */
int launcher_parse_options(int argc, char **argv, const char *embedded, struct options *o,
                           int *eal_start);

/* launcher.c */
int launcher_apply_configs(const struct options *o, struct util_error *err);
/* The runtime mode of each registered object from the plan (objects the
 * plan does not name: shared, with a warning when `warn`). Caller frees. */
enum rt_mode *launcher_plan_modes(const struct launcher *l, bool warn, struct util_error *err);

/* ports.c */
const struct rss_port_config *launcher_port_config(const struct launcher *l, int port);
/* The core the plan's RSS gives a packet of `port` with these header fields
 * (the NIC's Toeplitz hash and RETA; core 0 for a RETA entry out of range). */
int launcher_steer(const struct launcher *l, uint16_t port, const struct trace_tuple *t);
bool launcher_port_can_hash(const struct launcher *l, uint16_t port, char *why, size_t whylen);
int launcher_setup_port(struct launcher *l, uint16_t port, struct util_error *err);
bool launcher_rss_readback_matches(const struct launcher *l, uint16_t port, FILE *out);

/* dataplane.c */
int launcher_setup_dataplane(struct launcher *l, struct util_error *err);
int launcher_worker_loop(void *arg);
unsigned launcher_poll_queues(struct worker *w);
void launcher_drain_tx(struct launcher *l);
void launcher_dispatch_from_ports(struct launcher *l);
int launcher_dispatch_from_replay(struct launcher *l, struct util_error *err);
int launcher_dispatch_from_set(struct launcher *l, struct util_error *err);

/* measure.c: --measure. With --replay: loads the captures into memory,
 * steers each packet by the plan's hash and makes one ring device per port
 * with a queue per core (before the ports are counted); without: times the
 * ports' own queues (hardware RSS). Workers then run at full speed for
 * --seconds, timing every polling round with the TSC. */
int measure_prepare(struct launcher *l, struct util_error *err);
int measure_worker_loop(void *arg);
/* The main lcore while workers measure: sleeps, so it takes no CPU from them. */
void measure_wait(struct launcher *l);
void measure_print(const struct launcher *l, FILE *out);
void measure_json(const struct launcher *l, struct util_json *w);
void measure_free(struct launcher *l);
void launcher_wait_hardware_idle(struct launcher *l);
void launcher_wait_workers(struct launcher *l);

/* replay_set.c */
int replay_set_open(struct replay_set *set, struct util_error *err);
int replay_set_add(struct replay_set *set, const uint8_t *bytes, uint32_t len, uint16_t port,
                   uint64_t time_ns, int core);
int replay_set_load(struct launcher *l, struct replay_set *set, struct util_error *err);
void replay_set_free(struct replay_set *set);
int packet_reader_open(struct packet_reader *r, const struct replay_set *set);
/* The next packet, or NULL at the end. */
const struct vpacket *packet_reader_next(struct packet_reader *r);
void packet_reader_close(struct packet_reader *r);

/* outcomes.c: the workers' logs. */
int outcome_log_open(struct worker *w, struct util_error *err);
bool outcome_log_write(struct worker *w, uint64_t seq, uint64_t commit, uint64_t time_ns,
                       uint16_t port, int verdict, const uint8_t *in, const uint8_t *out,
                       uint32_t len);
/* Every worker's log merged into one order: arrival (seq, then time, then
 * commit) or commit. */
struct outcome_merge {
    struct spill_reader r[RT_MAX_CORES];
    uint8_t *in[RT_MAX_CORES], *out[RT_MAX_CORES];
    struct outcome head[RT_MAX_CORES];
    bool have[RT_MAX_CORES];
    int n, last;
    bool by_commit;
};
int outcome_merge_open(struct outcome_merge *m, const struct launcher *l, bool by_commit);
/* The next outcome (valid until the next call), or NULL at the end. */
const struct outcome *outcome_merge_next(struct outcome_merge *m);
void outcome_merge_close(struct outcome_merge *m);

/* machine.c: the NF replayed on one thread (see its header comment). */

/* The addresses and ports the NF sees in a frame (runtime accessors). */
struct frame_tuple {
    uint8_t family;             /* 4 or 6; 0 = not IP */
    uint8_t proto;
    bool has_ports;
    uint8_t src[16], dst[16];   /* IPv4: first 4 bytes */
    uint16_t sport, dport;      /* network order */
    uint32_t l3_off, l4_off;    /* UINT32_MAX when absent */
};
bool frame_tuple_of(const uint8_t *bytes, uint32_t len, struct frame_tuple *t);
bool frame_tuple_same_flow_fields(const struct frame_tuple *a, const struct frame_tuple *b);
void frame_tuple_reverse(const struct frame_tuple *in, struct frame_tuple *out);
bool frame_checksums_current(const uint8_t *bytes, uint32_t len);

/* An open-addressing map keyed by a tuple's addresses, protocol and ports. */
struct tuple_entry {
    bool used;
    struct frame_tuple key;
    struct frame_tuple to;      /* the network model: where to address it */
    int64_t id;                 /* a number the user keeps (flow identity, owner) */
    int port;                   /* the network model: the port replies arrive on */
};
struct tuple_map {
    struct tuple_entry *slots;
    size_t cap, count;
};
/* The entry for key, created (zeroed, key set) when absent; NULL when out of memory. */
struct tuple_entry *tuple_map_put(struct tuple_map *m, const struct frame_tuple *key);
struct tuple_entry *tuple_map_get(const struct tuple_map *m, const struct frame_tuple *key);
void tuple_map_free(struct tuple_map *m);

struct machine_run;
struct machine_spec {
    const char *name;           /* for messages: "sequential", ... */
    bool sequential;            /* one instance of every object: the NF as written */
    bool full_capacity;         /* plan shape: every core gets the whole capacity */
    bool sketches_single;       /* plan shape: sharded sketches run as one instance */
    /* The parallel run's packets in its lock-commit order, with its inputs
     * and cores (no network model); false = the set in arrival order, each
     * packet on the core the plan's RSS gives it, replies re-addressed. */
    bool commit_order;
    /* Per packet, the tuple the network knows its flow by (struct
     * frame_tuple records; live runs: what the parallel run sent); NULL = the
     * packet as captured. */
    const struct spill *reply_ref;
    /* The sequential replay's results: a capture recorded where one instance
     * of the NF ran addresses replies to that instance's translations; each
     * replay re-addresses them to its own. NULL: none. */
    const struct machine_run *sequential_results;
};

/* One packet's result in a replay, as written to and read from its stream. */
struct replay_view {
    int verdict;
    int core;
    uint32_t len;
    const uint8_t *in;          /* the input when the model rewrote it, else NULL */
    const uint8_t *out;         /* after nf_process when forwarded changed, else NULL */
    struct rt_touched touched;
};

struct machine_run {
    struct spill results;       /* one replay_view record per packet, in the order run */
    size_t n;
    int n_objects;
    size_t *first_full;         /* per object: first packet an insert/allocation failed */
    uint64_t plan_violations;
};
int machine_run(struct launcher *l, const struct machine_spec *spec, struct machine_run *r,
                struct util_error *err);
void machine_run_free(struct machine_run *r);

struct replay_reader {
    struct spill_reader r;
    uint8_t *in, *out;
    struct replay_view v;
};
int replay_reader_open(struct replay_reader *rr, const struct machine_run *run);
/* The next packet's result, or NULL at the end. */
const struct replay_view *replay_reader_next(struct replay_reader *rr);
void replay_reader_close(struct replay_reader *rr);

/* relate.c: a replay's packet against the sequential NF's, per flow. */
enum relation { REL_EQUAL, REL_TRANSLATED, REL_DIFFERENT };

/* The bytes packet p was given in a replay, and what it left as. */
const uint8_t *replay_input(const struct vpacket *p, const struct replay_view *r);
const uint8_t *replay_output(const struct vpacket *p, const struct replay_view *r);
/* Field f (0 src, 1 dst, 2 sport, 3 dport) of two tuples is equal. */
bool tuple_field_equal(const struct frame_tuple *a, const struct frame_tuple *b, int f);
enum relation relate(const struct vpacket *p, const struct replay_view *s,
                     const struct replay_view *x, const char **why);
/* A forward packet's output tuple when the replay translated it, else false. */
bool translated_tuple(const struct vpacket *p, const struct replay_view *r,
                      struct frame_tuple *out);

/* Each packet's flow and the flow it answers, packet by packet. */
struct flow_walker {
    struct tuple_map ids, sent;
    int64_t count;
};
/* seq_sent: what the sequential NF sent for p (family 0: not translated). */
int flow_walk(struct flow_walker *w, const struct vpacket *p, const struct frame_tuple *seq_sent,
              int64_t *id, int64_t *reverse);
void flow_walker_free(struct flow_walker *w);

/* Is each flow's translation in a replay x a consistent bijection (against
 * the sequential s)? Fed packet by packet in arrival order. */
struct translation_check {
    bool injective;             /* per-core ranges are disjoint */
    struct flow_check *fc;      /* per flow */
    size_t cap;
    struct tuple_map own_s, own_x;
};
void translation_check_init(struct translation_check *tc, bool injective);
/* Packet p, related as *rel (a stale reply may become REL_TRANSLATED). */
int translation_check_packet(struct translation_check *tc, const struct vpacket *p,
                             const struct replay_view *s, const struct replay_view *x,
                             int64_t flow, int64_t back, enum relation *rel, const char **why);
/* After every packet: the flow's translation is not a consistent bijection. */
bool translation_check_invalid(const struct translation_check *tc, int64_t flow);
bool translation_check_any_invalid(const struct translation_check *tc);
void translation_check_free(struct translation_check *tc);

/* --verify's results (verify.c computes them, verify_report.c prints them). */
enum vclass { VC_SAME, VC_UNSOUND, VC_INTERLEAVING, VC_TRANSLATION, VC_CAPACITY, VC_ESTIMATE,
              VC_N };
#define OBJECT_NAME_MAX 64
#define DETAIL_MAX 120

/* One example of a class, described when it is found. */
struct verify_example {
    size_t packet;              /* arrival position, from 0 */
    uint16_t port;
    int core;                   /* the plan's core */
    int seq_verdict, par_verdict;
    const char *why;            /* a constant string */
    char tuple[160];            /* the packet as captured */
    char detail[DETAIL_MAX];    /* what differs */
    char objects[400];          /* objects touched, with file:line */
};

struct verify_state {
    struct machine_run sequential;  /* S: the sequential NF, arrival order */
    struct machine_run arrival;     /* A: the plan's shape, arrival order */
    bool have_arrival;
    struct spill reply_ref;         /* live runs: what the parallel run sent, per packet */
    bool have_reply_ref;
    size_t n;                       /* packets compared */
    uint64_t count[VC_N];
    uint64_t races;                 /* unsound: the parallel run is no serialisation */
    uint64_t replay_violations;     /* writes to replicated objects in the replays */
    int n_objects;
    char (*names)[OBJECT_NAME_MAX];
    int *group;                     /* plan group per object (-1: not in the plan) */
    uint64_t (*by_object)[VC_N];
    struct verify_example *examples[VC_N];
    size_t n_examples[VC_N];
    char sequential_full[160];      /* the sequential NF's own table filled */
};

/* verify_report.c: describing packets and objects for examples. */
void verify_describe_packet(const uint8_t *bytes, uint32_t len, char *buf, size_t size);
void verify_describe_difference(const struct vpacket *p, const uint8_t *seq_out,
                                const uint8_t *other, char *buf, size_t size);
void verify_describe_objects(const struct launcher *l, uint16_t port, uint64_t touched,
                             char *buf, size_t size);

/* verify.c: before the run (replay: the plan's replay in arrival order gives
 * the parallel run its inputs), after it (references, classes), output. */
int verify_prepare(struct launcher *l, struct util_error *err);
/* The parallel run's inputs: the set's packets as the plan's replay in
 * arrival order gave them (replies re-addressed), each with its core. */
struct verify_inputs {
    struct packet_reader packets;
    struct replay_reader arrival;
};
int verify_inputs_open(struct verify_inputs *in, const struct launcher *l);
/* The next input, its packet (port, time) and core; NULL at the end. */
const uint8_t *verify_inputs_next(struct verify_inputs *in, const struct vpacket **p, int *core);
void verify_inputs_close(struct verify_inputs *in);
int verify_finish(struct launcher *l, struct util_error *err);
void verify_print(const struct launcher *l, FILE *out);
void verify_json(const struct launcher *l, struct util_json *w);
uint64_t verify_unsound(const struct launcher *l);
void verify_free(struct launcher *l);

#endif /* RSSKEY_LAUNCHER_INTERNAL_H */
