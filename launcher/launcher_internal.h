/*
 * launcher_internal.h - PRIVATE to launcher/: what its files share. Not a
 * public header (a runner includes launcher/launcher.h only).
 *
 * Files: launcher.c (the plan deployed on the runtime, the run, the summary,
 * launcher_main), options.c (command line), ports.c (DPDK ports, hardware
 * RSS), dataplane.c (workers, dispatch, replay), replay_set.c (a capture held
 * in memory for --verify), machine.c (the NF replayed on one thread under a
 * chosen shape), verify.c (--verify: references, classes, report).
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
};

/* Carried in each mbuf from RX to its worker. */
struct packet_meta {
    uint64_t time_ns;
    uint64_t seq;           /* arrival order (replay: position in the capture) */
    uint16_t in_port;
};

/* One processed packet, as --verify needs it. */
struct outcome {
    uint64_t seq;
    uint64_t commit;        /* taken while the packet held its lock tokens */
    uint64_t time_ns;
    uint16_t port;
    int core;
    int verdict;
    uint32_t len;
    uint8_t *bytes_in;      /* owned; NULL when replaying (the set holds them) */
    uint8_t *bytes_out;     /* owned; after nf_process; NULL when dropped, or when
                               replaying and the NF left the frame unchanged */
};

/* A capture held in memory for --verify, in arrival order (replay_set.c). */
struct vpacket {
    uint8_t *bytes;         /* as captured; owned by the set */
    uint32_t len;
    uint16_t port;
    uint64_t time_ns;
    int core;               /* where the plan's RSS sends it as captured */
};

struct replay_set {
    struct vpacket *packets;
    size_t n, cap;
    uint64_t skipped_port;  /* packets for ports the plan lacks */
    uint64_t skipped_long;  /* frames longer than MAX_FRAME */
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
    struct outcome *log;            /* --verify */
    size_t n_log, cap_log;
    bool out_of_memory;
};

struct verify_state;

struct launcher {
    struct options opt;
    struct rss_plan plan;
    char embedded_name[300];        /* opt.plan_path of a built-in plan */
    int n_ports;
    int cores;
    bool hardware_rss;
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
    struct replay_set *set;         /* --verify --replay: the capture in memory */
    struct verify_state *verify;    /* --verify: references and results */
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
bool launcher_port_can_hash(const struct launcher *l, uint16_t port, char *why, size_t whylen);
int launcher_setup_port(struct launcher *l, uint16_t port, struct util_error *err);
bool launcher_rss_readback_matches(const struct launcher *l, uint16_t port, FILE *out);

/* dataplane.c */
int launcher_setup_dataplane(struct launcher *l, struct util_error *err);
int launcher_worker_loop(void *arg);
void launcher_drain_tx(struct launcher *l);
void launcher_dispatch_from_ports(struct launcher *l);
int launcher_dispatch_from_replay(struct launcher *l, struct util_error *err);
void launcher_dispatch_from_set(struct launcher *l);
void launcher_wait_hardware_idle(struct launcher *l);
void launcher_wait_workers(struct launcher *l);

/* replay_set.c */
int replay_set_load(struct launcher *l, struct replay_set *set, struct util_error *err);
void replay_set_free(struct replay_set *set);

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

struct machine_spec {
    const char *name;           /* for messages: "sequential", ... */
    bool sequential;            /* one instance of every object: the NF as written */
    bool full_capacity;         /* plan shape: every core gets the whole capacity */
    bool sketches_single;       /* plan shape: sharded sketches run as one instance */
    const size_t *order;        /* packet order; NULL = arrival */
    /* Fixed inputs and cores per packet (no network model); NULL = the set's
     * packets and cores, replies re-addressed by the model. */
    const uint8_t *const *inputs;
    const int *cores;
    /* The tuple the network knows each packet's flow by (the model's key);
     * NULL = the packet as captured. */
    const struct frame_tuple *reply_ref;
    /* A second tuple the network may know packet i's flow by: what the
     * sequential NF sent (family 0: none). A capture recorded where one
     * instance of the NF ran addresses replies to that instance's
     * translations; each replay re-addresses them to its own. */
    const struct frame_tuple *seq_sent;
};

struct machine_run {
    size_t n;
    int n_objects;
    int *verdict;
    uint8_t **out;              /* owned: the frame after nf_process when it was
                                   forwarded changed; else NULL (machine_output) */
    uint8_t **in;               /* owned: the input when the model rewrote it, else NULL */
    const uint8_t **input;      /* the input packet i was given (borrowed or in[i]) */
    int *core;
    struct rt_touched *touched;
    size_t *first_full;         /* per object: first packet an insert/allocation failed */
    uint64_t plan_violations;
};
int machine_run(struct launcher *l, const struct machine_spec *spec, struct machine_run *r,
                struct util_error *err);
void machine_run_free(struct machine_run *r);
/* The frame packet i left as (its input when the NF did not change it). */
const uint8_t *machine_output(const struct machine_run *r, size_t i);

/* relate.c: a replay's packet against the sequential NF's, per flow. */
enum relation { REL_EQUAL, REL_TRANSLATED, REL_DIFFERENT };
struct flows {
    int64_t *id;            /* per packet: its tuple's flow (-1: not IP) */
    int64_t *reverse;       /* per packet: the flow it answers */
    int64_t count;
};

/* The bytes packet i was given in run r. */
const uint8_t *run_input(const struct launcher *l, const struct machine_run *r, size_t i);
/* Field f (0 src, 1 dst, 2 sport, 3 dport) of two tuples is equal. */
bool tuple_field_equal(const struct frame_tuple *a, const struct frame_tuple *b, int f);
enum relation relate(const struct launcher *l, const struct machine_run *s,
                     const struct machine_run *x, size_t i, const char **why);
/* Each packet's flow and the flow it answers (seq_sent: S's translations). */
int flows_of(const struct launcher *l, const struct frame_tuple *seq_sent, struct flows *f);
void flows_free(struct flows *f);
/* A forward packet's output tuple when run r translated it, else false. */
bool translated_tuple(const struct launcher *l, const struct machine_run *r, size_t i,
                      struct frame_tuple *out);
/* rel[i] for every packet of x against s, translations checked per flow. */
int relate_all(const struct launcher *l, const struct machine_run *s,
               const struct machine_run *x, bool injective, const struct flows *fl,
               enum relation *rel, const char **why);

/* verify.c: before the run (replay: the plan's replay in arrival order gives
 * the parallel run its inputs), after it (references, classes), output. */
int verify_prepare(struct launcher *l, struct util_error *err);
/* The bytes the parallel run gets for packet i of the set, and its core. */
const uint8_t *verify_input(const struct launcher *l, size_t i, int *core);
int verify_finish(struct launcher *l, struct util_error *err);
void verify_print(const struct launcher *l, FILE *out);
void verify_json(const struct launcher *l, struct util_json *w);
uint64_t verify_unsound(const struct launcher *l);
void verify_free(struct launcher *l);

#endif /* RSSKEY_LAUNCHER_INTERNAL_H */
