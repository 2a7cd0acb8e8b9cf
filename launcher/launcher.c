/*
 * launcher.c - runs a natively linked NF on DPDK ports under an rsskey plan.
 *
 * Lcores: the main lcore does RX dispatch (software RSS) and TX; one worker
 * lcore per plan core runs nf_process on its own state instances. When every
 * port can hash in hardware with the plan's key length, hash fields and RETA
 * size, the plan is programmed into the ports and each worker polls its own
 * RX queue and sends on its own TX queue instead.
 *
 * --verify: each worker logs, per packet, the original bytes, the verdict and
 * the bytes after nf_process, stamped with a global commit number taken while
 * the packet still holds its lock tokens. Afterwards the NF is re-created on
 * one core and the packets are replayed in commit order; any difference in
 * verdict or bytes means the plan changed what the NF does. Commit order is a
 * valid serialisation: packets on one core commit in arrival order, a writer
 * of shared state excludes every other packet, and packets that only read
 * shared state commute.
 */
#include "launcher/launcher.h"

#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
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
#define MISMATCHES_SHOWN 5

/* Set by SIGINT/SIGTERM: a signal handler can only reach a global. */
static volatile sig_atomic_t stop_requested;

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
};

/* Carried in each mbuf from RX to its worker. */
struct packet_meta {
    uint64_t time_ns;
    uint16_t in_port;
};

/* One processed packet, as --verify needs it. */
struct outcome {
    uint64_t commit;
    uint64_t time_ns;
    uint16_t port;
    int verdict;
    uint32_t len;
    uint8_t *bytes_in;      /* owned; before nf_process */
    uint8_t *bytes_out;     /* owned; after nf_process */
};

struct launcher;

struct worker {
    struct launcher *l;
    int core;
    struct rte_ring *rx_ring;       /* software RSS: main lcore -> this core */
    uint64_t packets, forwarded, dropped;
    uint64_t unverified;            /* --verify: frames larger than one mbuf's data room */
    struct outcome *log;            /* --verify */
    size_t n_log, cap_log;
    bool out_of_memory;
};

struct launcher {
    struct options opt;
    struct rss_plan plan;
    int n_ports;
    int cores;
    bool hardware_rss;
    char why_software[256];
    bool may_write_shared[MAX_PORTS];
    struct rss_port_hasher hashers[MAX_PORTS];
    struct rte_mempool *pool;
    struct rte_ring *tx_ring[MAX_PORTS];
    int meta_offset;
    struct worker workers[RT_MAX_CORES];
    atomic_int rx_done;
    atomic_int workers_done;
    atomic_uint_fast64_t commit_counter;
    uint64_t rx_packets[MAX_PORTS], tx_packets[MAX_PORTS], tx_failed[MAX_PORTS];
    uint64_t start_tsc;
    uint64_t replay_skipped;        /* packets for ports the plan lacks, jumbos */
    uint64_t mismatches, verified;
};

static void usage(FILE *out, const char *prog)
{
    fprintf(out,
            "usage: %s --plan plan.json [options] -- EAL-ARGS\n"
            "\n"
            "Runs this NF on DPDK ports under an rsskey plan: one worker lcore per plan core\n"
            "(the main lcore dispatches and transmits), per-core state, read-token locks for\n"
            "shared objects, the plan's RSS key, hash fields and RETA in hardware when every\n"
            "port supports them, software RSS otherwise. DPDK port i is the NF's port i.\n"
            "\n"
            "Options:\n"
            "  --plan FILE        plan.json from 'rsskey synth' (required)\n"
            "  --config NAME=VAL  answer nf_config(NAME) (repeatable)\n"
            "  --verify           replay the run sequentially and compare every verdict and\n"
            "                     byte; exit 1 on any difference\n"
            "  --replay FILE      read packets from a capture (repeatable) instead of the\n"
            "                     ports, in timestamp order with capture times; the ports\n"
            "                     then only transmit\n"
            "  --lan CIDR[,...]   with --replay: sources inside go to port 0, others to 1\n"
            "  --port N=FILE      replay FILE as arriving on port N (repeatable)\n"
            "  --software-rss     never program hardware RSS\n"
            "  --idle-exit-ms N   stop after N ms without packets (default 0: run until\n"
            "                     SIGINT, or until the replay ends)\n"
            "  --ring-size N      per-core dispatch ring (power of two, default 4096)\n"
            "  --configure-only   program the ports, read RSS back, compare, exit\n"
            "  --json             print the summary as JSON\n"
            "  -h, --help         this text\n"
            "\n"
            "Example (no NIC, no hugepages):\n"
            "  %s --plan fw-plan.json --verify --replay trace.pcap --lan 10.0.0.0/8 -- \\\n"
            "     --no-huge -m 512 --no-pci --lcores 0@0,1@0,2@1 --file-prefix fw \\\n"
            "     --vdev net_null0 --vdev net_null1\n",
            prog, prog);
}

static int parse_options(int argc, char **argv, struct options *o, int *eal_start)
{
    static const struct option longs[] = {
        {"plan", required_argument, NULL, 'p'},
        {"config", required_argument, NULL, 'c'},
        {"verify", no_argument, NULL, 'v'},
        {"software-rss", no_argument, NULL, 's'},
        {"replay", required_argument, NULL, 'R'},
        {"lan", required_argument, NULL, 'L'},
        {"port", required_argument, NULL, 'P'},
        {"idle-exit-ms", required_argument, NULL, 'i'},
        {"ring-size", required_argument, NULL, 'r'},
        {"configure-only", no_argument, NULL, 'C'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct util_error err;
    memset(o, 0, sizeof *o);
    o->ring_size = 4096;
    /* Options end at "--"; what follows is for the EAL. */
    int split = argc;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--") == 0) {
            split = i;
            break;
        }
    optind = 1;
    int c;
    char *end;
    while ((c = getopt_long(split, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case 'p': o->plan_path = optarg; break;
        case 'c':
            if (o->n_configs == MAX_CONFIGS) {
                fprintf(stderr, "%s: error: at most %d --config options\n", argv[0], MAX_CONFIGS);
                return UTIL_EXIT_USAGE;
            }
            o->configs[o->n_configs++] = optarg;
            break;
        case 'v': o->verify = true; break;
        case 's': o->software_rss = true; break;
        case 'R':
        case 'L':
        case 'P':
            if ((c == 'R' && trace_options_add_file(&o->replay, optarg, &err) != 0) ||
                (c == 'L' && trace_options_add_lan(&o->replay, optarg, &err) != 0) ||
                (c == 'P' && trace_options_add_port_file(&o->replay, optarg, &err) != 0)) {
                fprintf(stderr, "%s: error: %s\n", argv[0], err.msg);
                return UTIL_EXIT_USAGE;
            }
            o->replaying = c != 'L' || o->replaying;
            break;
        case 'i':
            o->idle_exit_ms = (unsigned)strtoul(optarg, &end, 10);
            if (*end) {
                fprintf(stderr, "%s: error: --idle-exit-ms wants milliseconds, got '%s'\n",
                        argv[0], optarg);
                return UTIL_EXIT_USAGE;
            }
            break;
        case 'r':
            o->ring_size = (unsigned)strtoul(optarg, &end, 10);
            if (*end || o->ring_size < 64 || (o->ring_size & (o->ring_size - 1))) {
                fprintf(stderr, "%s: error: --ring-size wants a power of two >= 64, got '%s'\n",
                        argv[0], optarg);
                return UTIL_EXIT_USAGE;
            }
            break;
        case 'C': o->configure_only = true; break;
        case 'j': o->json = true; break;
        case 'h': usage(stdout, argv[0]); return -1;
        default: usage(stderr, argv[0]); return UTIL_EXIT_USAGE;
        }
    }
    if (optind < split) {
        fprintf(stderr, "%s: error: unexpected argument '%s' (EAL arguments go after '--')\n",
                argv[0], argv[optind]);
        return UTIL_EXIT_USAGE;
    }
    if (o->replay.n_lan > 0 && !o->replaying) {
        fprintf(stderr, "%s: error: --lan splits replayed captures: add --replay FILE\n",
                argv[0]);
        return UTIL_EXIT_USAGE;
    }
    if (!o->plan_path) {
        fprintf(stderr, "%s: error: --plan FILE is required (make one with 'rsskey synth')\n",
                argv[0]);
        return UTIL_EXIT_USAGE;
    }
    *eal_start = split;
    return 0;
}

/* ---- Plan -> runtime ----------------------------------------------------- */

static enum rt_mode mode_of(enum deps_decision d)
{
    switch (d) {
    case DEPS_SHARDED: return RT_SHARDED;
    case DEPS_REPLICATED: return RT_REPLICATED;
    default: return RT_SHARED;
    }
}

static const struct deps_object *plan_object(const struct deps_plan *p, const char *name)
{
    for (int i = 0; i < p->n_objects; i++)
        if (strcmp(p->objects[i].name, name) == 0)
            return &p->objects[i];
    return NULL;
}

static int apply_configs(const struct options *o, struct util_error *err)
{
    for (int i = 0; i < o->n_configs; i++)
        if (rt_config_parse(o->configs[i], err) != 0)
            return UTIL_EXIT_USAGE;
    return 0;
}

/* Creates the NF's state and turns it into per-core instances as the plan
 * says. Objects the plan does not name are shared (the sound default). */
static int instantiate_nf(struct launcher *l, struct util_error *err)
{
    int rc = apply_configs(&l->opt, err);
    if (rc)
        return rc;
    if (nf_init() != 0) {
        util_error_set(err, "nf_init failed (check the --config values)");
        return UTIL_EXIT_FAILURE;
    }
    size_t n = rt_objects();
    enum rt_mode *modes = calloc(n ? n : 1, sizeof *modes);
    if (!modes) {
        util_error_set(err, "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    for (size_t i = 0; i < n; i++) {
        struct rt_object_info info;
        rt_object_info(i, &info);
        const struct deps_object *po = plan_object(&l->plan.deps, info.name);
        if (!po) {
            fprintf(stderr, "warning: object '%s' is not in the plan; running it shared\n",
                    info.name);
            modes[i] = RT_SHARED;
        } else {
            modes[i] = mode_of(po->decision);
        }
    }
    rc = rt_instantiate(l->cores, modes, err) == 0 ? 0 : UTIL_EXIT_FAILURE;
    free(modes);
    return rc;
}

/* A packet may write shared state when the plan lists a non-read access to a
 * shared object on its port; such packets take every read token. Without
 * access information every port is treated as writing (sound, slower). */
static void compute_lock_modes(struct launcher *l)
{
    const struct deps_plan *p = &l->plan.deps;
    for (int port = 0; port < MAX_PORTS; port++)
        l->may_write_shared[port] = p->n_accesses == 0;
    for (int i = 0; i < p->n_accesses; i++) {
        const struct deps_access *a = &p->accesses[i];
        if (a->object < 0 || a->object >= p->n_objects || a->port < 0 || a->port >= MAX_PORTS)
            continue;
        if (p->objects[a->object].decision == DEPS_SHARED && a->op != DEPS_OP_READ)
            l->may_write_shared[a->port] = true;
    }
}

/* ---- Ports ----------------------------------------------------------------- */

static const struct rss_port_config *port_config(const struct launcher *l, int port)
{
    for (int i = 0; i < l->plan.n_ports; i++)
        if (l->plan.ports[i].port == port)
            return &l->plan.ports[i];
    return NULL;
}

/* Hardware RSS only when every port takes the plan as it is. */
static bool port_can_hash(const struct launcher *l, uint16_t port, char *why, size_t whylen)
{
    struct rte_eth_dev_info info;
    const struct rss_port_config *cfg = port_config(l, port);
    if (rte_eth_dev_info_get(port, &info) != 0 || !cfg) {
        snprintf(why, whylen, "port %u: no device info or no plan entry", port);
        return false;
    }
    if (info.max_rx_queues < l->cores || info.max_tx_queues < l->cores) {
        snprintf(why, whylen, "port %u (%s) has %u RX / %u TX queues, the plan needs %d",
                 port, info.driver_name, info.max_rx_queues, info.max_tx_queues, l->cores);
        return false;
    }
    if ((info.flow_type_rss_offloads & cfg->rss_hf) != cfg->rss_hf) {
        snprintf(why, whylen, "port %u (%s) cannot hash rss_hf 0x%" PRIx64, port,
                 info.driver_name, cfg->rss_hf);
        return false;
    }
    /* Some drivers (net_null) report no key size: the readback tells. */
    if (info.reta_size != cfg->reta_size ||
        (info.hash_key_size != 0 && info.hash_key_size != cfg->key_len)) {
        snprintf(why, whylen, "port %u (%s) has a %u-entry RETA and %u-byte key, the plan "
                 "%u and %d (synthesise for this NIC with --nic)", port, info.driver_name,
                 info.reta_size, info.hash_key_size, cfg->reta_size, cfg->key_len);
        return false;
    }
    return true;
}

static int program_rss(const struct launcher *l, uint16_t port, struct util_error *err)
{
    const struct rss_port_config *cfg = port_config(l, port);
    struct rte_eth_rss_reta_entry64 reta[RSS_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
    memset(reta, 0, sizeof reta);
    for (uint32_t i = 0; i < cfg->reta_size; i++) {
        reta[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ull << (i % RTE_ETH_RETA_GROUP_SIZE);
        reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] = cfg->reta[i];
    }
    /* The key and hash fields again after start: some drivers take them only
     * here, not from rte_eth_dev_configure. */
    uint8_t key[RSS_KEY_MAX];
    memcpy(key, cfg->key, (size_t)cfg->key_len);
    struct rte_eth_rss_conf conf = {key, (uint8_t)cfg->key_len, cfg->rss_hf};
    int rc = rte_eth_dev_rss_hash_update(port, &conf);
    if (rc != 0) {
        util_error_set(err, "port %u: RSS key update failed (%s)", port, rte_strerror(-rc));
        return UTIL_EXIT_FAILURE;
    }
    rc = rte_eth_dev_rss_reta_update(port, reta, (uint16_t)cfg->reta_size);
    if (rc != 0) {
        util_error_set(err, "port %u: RETA update failed (%s)", port, rte_strerror(-rc));
        return UTIL_EXIT_FAILURE;
    }
    return 0;
}

/* Reads the port's key and RETA back and compares them with the plan. */
static bool rss_readback_matches(const struct launcher *l, uint16_t port, FILE *out)
{
    const struct rss_port_config *cfg = port_config(l, port);
    uint8_t key[RSS_KEY_MAX] = {0};
    struct rte_eth_rss_conf conf = {.rss_key = key, .rss_key_len = (uint8_t)cfg->key_len};
    struct rte_eth_rss_reta_entry64 reta[RSS_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
    memset(reta, 0, sizeof reta);
    for (uint32_t i = 0; i < cfg->reta_size; i++)
        reta[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ull << (i % RTE_ETH_RETA_GROUP_SIZE);
    bool key_ok = rte_eth_dev_rss_hash_conf_get(port, &conf) == 0 &&
                  memcmp(key, cfg->key, (size_t)cfg->key_len) == 0;
    bool reta_ok = rte_eth_dev_rss_reta_query(port, reta, (uint16_t)cfg->reta_size) == 0;
    for (uint32_t i = 0; reta_ok && i < cfg->reta_size; i++)
        reta_ok = reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] ==
                  cfg->reta[i];
    fprintf(out, "port %u: key %s, RETA (%u entries) %s\n", port,
            key_ok ? "programmed" : "DIFFERS", cfg->reta_size, reta_ok ? "programmed" : "DIFFERS");
    return key_ok && reta_ok;
}

static int setup_port(struct launcher *l, uint16_t port, struct util_error *err)
{
    struct rte_eth_dev_info info;
    struct rte_eth_conf conf;
    const struct rss_port_config *cfg = port_config(l, port);
    uint8_t key[RSS_KEY_MAX];
    memset(&conf, 0, sizeof conf);
    if (rte_eth_dev_info_get(port, &info) != 0) {
        util_error_set(err, "port %u: cannot read device info", port);
        return UTIL_EXIT_FAILURE;
    }
    uint16_t queues = l->hardware_rss ? (uint16_t)l->cores : 1;
    if (l->hardware_rss) {
        memcpy(key, cfg->key, (size_t)cfg->key_len);
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_key = key;
        conf.rx_adv_conf.rss_conf.rss_key_len = (uint8_t)cfg->key_len;
        conf.rx_adv_conf.rss_conf.rss_hf = cfg->rss_hf;
    }
    int rc = rte_eth_dev_configure(port, queues, queues, &conf);
    if (rc != 0) {
        util_error_set(err, "port %u (%s): configure failed (%s)", port, info.driver_name,
                       rte_strerror(-rc));
        return UTIL_EXIT_FAILURE;
    }
    int socket = rte_eth_dev_socket_id(port);
    for (uint16_t q = 0; q < queues; q++) {
        rc = rte_eth_rx_queue_setup(port, q, RX_DESCRIPTORS, socket < 0 ? 0 : (unsigned)socket,
                                    NULL, l->pool);
        if (rc == 0)
            rc = rte_eth_tx_queue_setup(port, q, TX_DESCRIPTORS,
                                        socket < 0 ? 0 : (unsigned)socket, NULL);
        if (rc != 0) {
            util_error_set(err, "port %u: queue %u setup failed (%s)", port, q, rte_strerror(-rc));
            return UTIL_EXIT_FAILURE;
        }
    }
    rc = rte_eth_dev_start(port);
    if (rc != 0) {
        util_error_set(err, "port %u: start failed (%s)", port, rte_strerror(-rc));
        return UTIL_EXIT_FAILURE;
    }
    rte_eth_promiscuous_enable(port);       /* not every virtual device supports it */
    return l->hardware_rss ? program_rss(l, port, err) : 0;
}

/* ---- Packet processing ------------------------------------------------------ */

static struct packet_meta *meta_of(const struct launcher *l, struct rte_mbuf *m)
{
    return RTE_MBUF_DYNFIELD(m, l->meta_offset, struct packet_meta *);
}

/* Live ports carry no capture time: nanoseconds since the run started. */
static uint64_t arrival_time_ns(const struct launcher *l)
{
    uint64_t cycles = rte_get_tsc_cycles() - l->start_tsc;
    return (uint64_t)((double)cycles * 1e9 / (double)rte_get_tsc_hz());
}

static bool log_outcome(struct worker *w, uint64_t commit, const struct packet_meta *meta,
                        int verdict, const uint8_t *in, const uint8_t *out, uint32_t len)
{
    if (w->n_log == w->cap_log) {
        size_t cap = w->cap_log ? w->cap_log * 2 : 1024;
        struct outcome *bigger = realloc(w->log, cap * sizeof *bigger);
        if (!bigger)
            return false;
        w->log = bigger;
        w->cap_log = cap;
    }
    struct outcome *o = &w->log[w->n_log];
    o->bytes_in = malloc(len ? len : 1);
    o->bytes_out = malloc(len ? len : 1);
    if (!o->bytes_in || !o->bytes_out) {
        free(o->bytes_in);
        free(o->bytes_out);
        return false;
    }
    memcpy(o->bytes_in, in, len);
    memcpy(o->bytes_out, out, len);
    o->commit = commit;
    o->time_ns = meta->time_ns;
    o->port = meta->in_port;
    o->verdict = verdict;
    o->len = len;
    w->n_log++;
    return true;
}

/* Runs nf_process on one packet on core w->core; returns the verdict. */
static int process_packet(struct worker *w, struct rte_mbuf *m)
{
    struct launcher *l = w->l;
    struct packet_meta *meta = meta_of(l, m);
    if (rte_pktmbuf_linearize(m) != 0) {
        w->dropped++;
        return NF_DROP;
    }
    uint8_t *data = rte_pktmbuf_mtod(m, uint8_t *);
    uint32_t len = rte_pktmbuf_data_len(m);
    uint8_t original[RTE_MBUF_DEFAULT_DATAROOM];
    if (l->opt.verify)
        memcpy(original, data, len < sizeof original ? len : sizeof original);
    struct nf_packet pkt = {data, len, meta->in_port, meta->time_ns};
    rt_packet_begin(w->core, l->may_write_shared[meta->in_port]);
    int verdict = nf_process(&pkt);
    uint64_t commit = l->opt.verify ? atomic_fetch_add(&l->commit_counter, 1) : 0;
    rt_packet_end(w->core);
    if (l->opt.verify && len > sizeof original)
        w->unverified++;
    else if (l->opt.verify && !log_outcome(w, commit, meta, verdict, original, data, len))
        w->out_of_memory = true;
    /* Read by the main lcore while running (hardware RSS idleness check). */
    __atomic_store_n(&w->packets, w->packets + 1, __ATOMIC_RELAXED);
    if (verdict >= 0 && verdict < l->n_ports)
        w->forwarded++;
    else
        w->dropped++;
    return verdict;
}

static void send_or_free(struct launcher *l, struct worker *w, struct rte_mbuf *m, int verdict)
{
    if (verdict < 0 || verdict >= l->n_ports) {
        rte_pktmbuf_free(m);
        return;
    }
    if (l->hardware_rss) {
        /* Each worker owns TX queue w->core on every port. */
        if (rte_eth_tx_burst((uint16_t)verdict, (uint16_t)w->core, &m, 1) != 1)
            rte_pktmbuf_free(m);
        return;
    }
    while (rte_ring_enqueue(l->tx_ring[verdict], m) != 0) {
        if (stop_requested) {
            rte_pktmbuf_free(m);
            return;
        }
        rte_pause();
    }
}

static int worker_loop(void *arg)
{
    struct worker *w = arg;
    struct launcher *l = w->l;
    struct rte_mbuf *bufs[BURST];
    rt_set_core(w->core);
    for (;;) {
        unsigned n = 0;
        if (l->hardware_rss) {
            for (int p = 0; p < l->n_ports && n == 0; p++) {
                n = rte_eth_rx_burst((uint16_t)p, (uint16_t)w->core, bufs, BURST);
                for (unsigned i = 0; i < n; i++) {
                    struct packet_meta *meta = meta_of(l, bufs[i]);
                    meta->in_port = (uint16_t)p;
                    meta->time_ns = arrival_time_ns(l);
                }
            }
        } else {
            n = rte_ring_dequeue_burst(w->rx_ring, (void **)bufs, BURST, NULL);
        }
        for (unsigned i = 0; i < n; i++)
            send_or_free(l, w, bufs[i], process_packet(w, bufs[i]));
        if (n == 0) {
            if (stop_requested)
                break;
            if (atomic_load(&l->rx_done) && (l->hardware_rss || rte_ring_empty(w->rx_ring)))
                break;
            rte_pause();
        }
    }
    atomic_fetch_add(&l->workers_done, 1);
    return 0;
}

static void drain_tx(struct launcher *l)
{
    struct rte_mbuf *bufs[BURST];
    for (int p = 0; p < l->n_ports; p++) {
        unsigned n = rte_ring_dequeue_burst(l->tx_ring[p], (void **)bufs, BURST, NULL);
        unsigned sent = 0;
        for (int tries = 0; sent < n && tries < 1000; tries++)
            sent += rte_eth_tx_burst((uint16_t)p, 0, bufs + sent, (uint16_t)(n - sent));
        for (unsigned i = sent; i < n; i++)
            rte_pktmbuf_free(bufs[i]);
        l->tx_packets[p] += sent;
        l->tx_failed[p] += n - sent;
    }
}

/* Software RSS: hashes a packet as the NIC would and hands it to its core. */
static void dispatch(struct launcher *l, struct rte_mbuf *m, const struct trace_tuple *parsed)
{
    struct trace_tuple tuple;
    const struct packet_meta *meta = meta_of(l, m);
    l->rx_packets[meta->in_port]++;
    if (!parsed) {
        if (!trace_parse(LINKTYPE_ETHERNET, rte_pktmbuf_mtod(m, const uint8_t *),
                         rte_pktmbuf_data_len(m), &tuple))
            memset(&tuple, 0, sizeof tuple);
        parsed = &tuple;
    }
    int core = rss_port_hasher_core(&l->hashers[meta->in_port], parsed);
    if (core < 0 || core >= l->cores)
        core = 0;
    while (rte_ring_enqueue(l->workers[core].rx_ring, m) != 0 && !stop_requested)
        drain_tx(l);
}

/* Live ports, software RSS: poll every port's single queue in turn. */
static void dispatch_from_ports(struct launcher *l)
{
    struct rte_mbuf *bufs[BURST];
    uint64_t idle_limit = (uint64_t)l->opt.idle_exit_ms * rte_get_tsc_hz() / 1000;
    uint64_t last_packet = rte_get_tsc_cycles();
    while (!stop_requested) {
        unsigned got = 0;
        for (int p = 0; p < l->n_ports; p++) {
            unsigned n = rte_eth_rx_burst((uint16_t)p, 0, bufs, BURST);
            for (unsigned i = 0; i < n; i++) {
                struct packet_meta *meta = meta_of(l, bufs[i]);
                meta->in_port = (uint16_t)p;
                meta->time_ns = arrival_time_ns(l);
                dispatch(l, bufs[i], NULL);
            }
            got += n;
        }
        drain_tx(l);
        if (got)
            last_packet = rte_get_tsc_cycles();
        else if (idle_limit && rte_get_tsc_cycles() - last_packet > idle_limit)
            break;
    }
}

/* Captures: every packet in timestamp order, on the port the policy gives
 * it, stamped with its capture time, copied into an mbuf. */
static int dispatch_from_replay(struct launcher *l, struct util_error *err)
{
    struct trace_source *src = trace_source_open(&l->opt.replay, err);
    if (!src)
        return UTIL_EXIT_INPUT;
    struct trace_packet pkt;
    int rc = 0, got;
    uint64_t replayed = 0;
    while (!stop_requested && (got = trace_source_next(src, &pkt, err)) == 1) {
        if (pkt.port >= l->n_ports) {
            l->replay_skipped++;
            continue;
        }
        struct rte_mbuf *m = rte_pktmbuf_alloc(l->pool);
        while (!m && !stop_requested) {     /* all mbufs in flight: let TX free some */
            drain_tx(l);
            m = rte_pktmbuf_alloc(l->pool);
        }
        if (!m)
            break;
        uint32_t len = pkt.cap_len;
        if (len > rte_pktmbuf_tailroom(m)) {
            l->replay_skipped++;            /* jumbo frames beyond one mbuf */
            rte_pktmbuf_free(m);
            continue;
        }
        memcpy(rte_pktmbuf_append(m, (uint16_t)len), pkt.data, len);
        struct packet_meta *meta = meta_of(l, m);
        meta->in_port = pkt.port;
        meta->time_ns = pkt.time_ns;
        dispatch(l, m, &pkt.tuple);
        if (++replayed % BURST == 0)
            drain_tx(l);
    }
    if (got < 0)
        rc = UTIL_EXIT_INPUT;
    trace_source_close(src);
    return rc;
}

/* Hardware RSS: the workers receive; the main lcore waits for idleness. */
static void wait_hardware_idle(struct launcher *l)
{
    uint64_t idle_limit = (uint64_t)l->opt.idle_exit_ms * rte_get_tsc_hz() / 1000;
    uint64_t last_total = 0, last_change = rte_get_tsc_cycles();
    while (!stop_requested) {
        rte_delay_ms(10);
        uint64_t total = 0;
        for (int c = 0; c < l->cores; c++)
            total += __atomic_load_n(&l->workers[c].packets, __ATOMIC_RELAXED);
        if (total != last_total) {
            last_total = total;
            last_change = rte_get_tsc_cycles();
        } else if (idle_limit && rte_get_tsc_cycles() - last_change > idle_limit) {
            break;
        }
    }
}

/* ---- Verification ---------------------------------------------------------- */

static int compare_commit(const void *a, const void *b)
{
    const struct outcome *x = *(const struct outcome *const *)a;
    const struct outcome *y = *(const struct outcome *const *)b;
    return x->commit < y->commit ? -1 : x->commit > y->commit;
}

static void describe(const uint8_t *bytes, uint32_t len, char *buf, size_t size)
{
    struct trace_tuple t;
    char src[64], dst[64];
    if (!trace_parse(LINKTYPE_ETHERNET, bytes, len, &t) || t.ip_version != 4) {
        snprintf(buf, size, "%u-byte frame", len);
        return;
    }
    snprintf(src, sizeof src, "%u.%u.%u.%u", t.src[0], t.src[1], t.src[2], t.src[3]);
    snprintf(dst, sizeof dst, "%u.%u.%u.%u", t.dst[0], t.dst[1], t.dst[2], t.dst[3]);
    snprintf(buf, size, "%s:%u -> %s:%u proto %u", src, ntohs(t.sport), dst, ntohs(t.dport),
             t.proto);
}

/* Re-creates the NF on one core and replays every logged packet in commit
 * order, counting packets whose verdict or bytes differ. */
static int verify_sequentially(struct launcher *l, struct util_error *err)
{
    size_t total = 0;
    for (int c = 0; c < l->cores; c++) {
        if (l->workers[c].out_of_memory) {
            util_error_set(err, "--verify ran out of memory logging packets; replay a "
                                "shorter capture");
            return UTIL_EXIT_FAILURE;
        }
        total += l->workers[c].n_log;
    }
    struct outcome **order = malloc((total ? total : 1) * sizeof *order);
    uint8_t *buf = malloc(RTE_MBUF_DEFAULT_DATAROOM);
    if (!order || !buf) {
        free(order);
        free(buf);
        util_error_set(err, "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    size_t k = 0;
    for (int c = 0; c < l->cores; c++)
        for (size_t i = 0; i < l->workers[c].n_log; i++)
            order[k++] = &l->workers[c].log[i];
    qsort(order, total, sizeof *order, compare_commit);

    rt_reset();
    int rc = apply_configs(&l->opt, err);
    if (rc == 0 && nf_init() != 0) {
        util_error_set(err, "nf_init failed when re-creating the NF for --verify");
        rc = UTIL_EXIT_FAILURE;
    }
    for (size_t i = 0; rc == 0 && i < total; i++) {
        struct outcome *o = order[i];
        memcpy(buf, o->bytes_in, o->len);
        struct nf_packet pkt = {buf, o->len, o->port, o->time_ns};
        int verdict = nf_process(&pkt);
        bool same = verdict == o->verdict &&
                    (verdict < 0 || memcmp(buf, o->bytes_out, o->len) == 0);
        l->verified++;
        if (same)
            continue;
        if (l->mismatches++ < MISMATCHES_SHOWN) {
            char what[160];
            describe(o->bytes_in, o->len, what, sizeof what);
            fprintf(stderr, "verify: packet %zu (port %u, %s): sequential verdict %d, "
                            "parallel %d%s\n", i, o->port, what, verdict, o->verdict,
                    verdict == o->verdict ? " (bytes differ)" : "");
        }
    }
    free(order);
    free(buf);
    return rc;
}

/* ---- Output and lifetime ------------------------------------------------------ */

static void print_rss_mode(const struct launcher *l)
{
    if (l->hardware_rss)
        printf("rss: hardware (the plan's key, hash fields and RETA programmed into every "
               "port)\n");
    else
        printf("rss: software (%s)\n", l->why_software);
}

static void print_summary(const struct launcher *l)
{
    if (l->opt.json) {
        struct util_json *w = util_json_new();
        util_json_object_begin(w);
        util_json_key(w, "plan");
        util_json_string(w, l->opt.plan_path);
        util_json_key(w, "rss");
        util_json_string(w, l->hardware_rss ? "hardware" : "software");
        util_json_key(w, "cores");
        util_json_array_begin(w);
        for (int c = 0; c < l->cores; c++) {
            util_json_object_begin(w);
            util_json_key(w, "core");
            util_json_int(w, c);
            util_json_key(w, "packets");
            util_json_uint(w, l->workers[c].packets);
            util_json_key(w, "forwarded");
            util_json_uint(w, l->workers[c].forwarded);
            util_json_key(w, "dropped");
            util_json_uint(w, l->workers[c].dropped);
            util_json_object_end(w);
        }
        util_json_array_end(w);
        util_json_key(w, "ports");
        util_json_array_begin(w);
        for (int p = 0; p < l->n_ports; p++) {
            util_json_object_begin(w);
            util_json_key(w, "port");
            util_json_int(w, p);
            util_json_key(w, "rx");
            util_json_uint(w, l->rx_packets[p]);
            util_json_key(w, "tx");
            util_json_uint(w, l->tx_packets[p]);
            util_json_object_end(w);
        }
        util_json_array_end(w);
        if (l->opt.verify) {
            util_json_key(w, "verified");
            util_json_uint(w, l->verified);
            util_json_key(w, "mismatches");
            util_json_uint(w, l->mismatches);
            uint64_t unverified = 0;
            for (int c = 0; c < l->cores; c++)
                unverified += l->workers[c].unverified;
            util_json_key(w, "unverified");
            util_json_uint(w, unverified);
        }
        struct rt_stats st;
        rt_stats(&st);
        util_json_key(w, "plan_violations");
        util_json_uint(w, st.plan_violations);
        util_json_object_end(w);
        fputs(util_json_text(w, NULL), stdout);
        util_json_free(w);
        return;
    }
    print_rss_mode(l);
    printf("%-6s %12s %12s %12s\n", "core", "packets", "forwarded", "dropped");
    for (int c = 0; c < l->cores; c++)
        printf("%-6d %12" PRIu64 " %12" PRIu64 " %12" PRIu64 "\n", c, l->workers[c].packets,
               l->workers[c].forwarded, l->workers[c].dropped);
    for (int p = 0; p < l->n_ports; p++)
        printf("port %d: %" PRIu64 " received, %" PRIu64 " sent%s\n", p, l->rx_packets[p],
               l->tx_packets[p], l->tx_failed[p] ? " (some sends failed)" : "");
    if (l->opt.verify) {
        uint64_t unverified = 0;
        for (int c = 0; c < l->cores; c++)
            unverified += l->workers[c].unverified;
        printf("verify: %" PRIu64 " packets replayed sequentially, %" PRIu64 " differ",
               l->verified, l->mismatches);
        if (unverified)
            printf(", %" PRIu64 " too large to log were not checked", unverified);
        printf("\n");
    }
}

static void free_logs(struct launcher *l)
{
    for (int c = 0; c < l->cores; c++) {
        struct worker *w = &l->workers[c];
        for (size_t i = 0; i < w->n_log; i++) {
            free(w->log[i].bytes_in);
            free(w->log[i].bytes_out);
        }
        free(w->log);
    }
}

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int setup_dataplane(struct launcher *l, struct util_error *err)
{
    static const struct rte_mbuf_dynfield meta_field = {
        .name = "rsskey_packet_meta",
        .size = sizeof(struct packet_meta),
        .align = __alignof__(struct packet_meta),
    };
    l->meta_offset = rte_mbuf_dynfield_register(&meta_field);
    if (l->meta_offset < 0) {
        util_error_set(err, "cannot register the mbuf field (%s)", rte_strerror(rte_errno));
        return UTIL_EXIT_FAILURE;
    }
    unsigned mbufs = (unsigned)(l->n_ports * (RX_DESCRIPTORS + TX_DESCRIPTORS) * l->cores +
                                l->cores * l->opt.ring_size + l->n_ports * 4096 + 8192);
    l->pool = rte_pktmbuf_pool_create("rsskey_pool", mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                      (int)rte_socket_id());
    if (!l->pool) {
        util_error_set(err, "cannot create a pool of %u mbufs (%s); give the EAL more memory "
                            "with -m", mbufs, rte_strerror(rte_errno));
        return UTIL_EXIT_FAILURE;
    }
    l->hardware_rss = !l->opt.software_rss && !l->opt.replaying;
    if (l->opt.software_rss)
        snprintf(l->why_software, sizeof l->why_software, "--software-rss");
    if (l->opt.replaying)
        snprintf(l->why_software, sizeof l->why_software,
                 "replaying captures; the ports only transmit");
    for (int p = 0; p < l->n_ports && l->hardware_rss; p++)
        l->hardware_rss = port_can_hash(l, (uint16_t)p, l->why_software, sizeof l->why_software);
    for (int p = 0; p < l->n_ports; p++) {
        int rc = setup_port(l, (uint16_t)p, err);
        if (rc)
            return rc;
        rss_port_hasher_init(&l->hashers[p], port_config(l, p));
        char name[32];
        snprintf(name, sizeof name, "rsskey_tx%d", p);
        l->tx_ring[p] = rte_ring_create(name, 4096, (int)rte_socket_id(), RING_F_SC_DEQ);
        if (!l->tx_ring[p]) {
            util_error_set(err, "cannot create ring %s (%s)", name, rte_strerror(rte_errno));
            return UTIL_EXIT_FAILURE;
        }
    }
    for (int c = 0; c < l->cores; c++) {
        char name[32];
        snprintf(name, sizeof name, "rsskey_rx%d", c);
        l->workers[c].l = l;
        l->workers[c].core = c;
        l->workers[c].rx_ring = rte_ring_create(name, l->opt.ring_size, (int)rte_socket_id(),
                                                RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (!l->workers[c].rx_ring) {
            util_error_set(err, "cannot create ring %s (%s)", name, rte_strerror(rte_errno));
            return UTIL_EXIT_FAILURE;
        }
    }
    return 0;
}

static int check_resources(struct launcher *l, const char *prog, struct util_error *err)
{
    int avail = rte_eth_dev_count_avail();
    if (l->plan.n_ports < 1 || l->plan.cores < 1 || l->plan.cores > RT_MAX_CORES) {
        util_error_set(err, "%s: the plan has %d ports and %d cores; expected at least one of "
                            "each (and at most %d cores)", l->opt.plan_path, l->plan.n_ports,
                       l->plan.cores, RT_MAX_CORES);
        return UTIL_EXIT_INPUT;
    }
    l->n_ports = l->plan.n_ports;
    l->cores = l->plan.cores;
    if (avail < l->n_ports) {
        util_error_set(err, "the plan has %d ports but DPDK found %d; add devices after '--', "
                            "e.g. --vdev net_pcap0,rx_pcap=IN.pcap,tx_pcap=OUT.pcap",
                       l->n_ports, avail);
        return UTIL_EXIT_USAGE;
    }
    if ((int)rte_lcore_count() < l->cores + 1) {
        util_error_set(err, "the plan has %d cores, so %s needs %d lcores (one to dispatch "
                            "and transmit, one per core); the EAL gave %u: pass e.g. "
                            "--lcores 0@0,1-%d@(0-1)", l->cores, prog, l->cores + 1,
                       rte_lcore_count(), l->cores);
        return UTIL_EXIT_USAGE;
    }
    return 0;
}

static int run(struct launcher *l, const char *prog, struct util_error *err)
{
    int rc = check_resources(l, prog, err);
    if (rc == 0)
        rc = instantiate_nf(l, err);
    if (rc)
        return rc;
    compute_lock_modes(l);
    rc = setup_dataplane(l, err);
    if (rc)
        return rc;
    if (l->opt.configure_only) {
        bool ok = true;
        print_rss_mode(l);
        for (int p = 0; p < l->n_ports && l->hardware_rss; p++)
            ok = rss_readback_matches(l, (uint16_t)p, stdout) && ok;
        if (!ok)
            util_error_set(err, "a port reports RSS settings other than the plan's");
        return ok ? 0 : UTIL_EXIT_FAILURE;
    }
    l->start_tsc = rte_get_tsc_cycles();
    int c = 0;
    unsigned lcore;
    RTE_LCORE_FOREACH_WORKER(lcore) {
        if (c == l->cores)
            break;
        rte_eal_remote_launch(worker_loop, &l->workers[c++], lcore);
    }
    if (l->opt.replaying)
        rc = dispatch_from_replay(l, err);
    else if (l->hardware_rss)
        wait_hardware_idle(l);
    else
        dispatch_from_ports(l);
    atomic_store(&l->rx_done, 1);
    while (atomic_load(&l->workers_done) < l->cores)
        drain_tx(l);
    rte_eal_mp_wait_lcore();
    for (int p = 0; p < l->n_ports; p++)
        while (!rte_ring_empty(l->tx_ring[p]))
            drain_tx(l);
    for (int p = 0; p < l->n_ports; p++) {
        rte_eth_dev_stop((uint16_t)p);
        rte_eth_dev_close((uint16_t)p);
    }
    if (rc)
        return rc;
    if (l->opt.verify) {
        rc = verify_sequentially(l, err);
        if (rc)
            return rc;
    }
    print_summary(l);
    struct rt_stats st;
    rt_stats(&st);
    if (st.plan_violations > 0) {
        util_error_set(err, "%" PRIu64 " writes broke the plan (shared state written without "
                            "the write lock, or replicated state written)", st.plan_violations);
        return UTIL_EXIT_FAILURE;
    }
    if (l->mismatches > 0) {
        util_error_set(err, "%" PRIu64 " of %" PRIu64 " packets differ from the sequential "
                            "NF: the plan changes what the NF does", l->mismatches, l->verified);
        return UTIL_EXIT_FAILURE;
    }
    return 0;
}

int launcher_main(int argc, char **argv)
{
    struct launcher *l = calloc(1, sizeof *l);
    struct util_error err = {{0}};
    int eal_start;
    if (!l)
        return UTIL_EXIT_FAILURE;
    int rc = parse_options(argc, argv, &l->opt, &eal_start);
    if (rc != 0) {
        free(l);
        return rc < 0 ? 0 : rc;
    }
    rc = rss_plan_read(l->opt.plan_path, &l->plan, &err);
    if (rc != 0) {
        fprintf(stderr, "%s: error: %s\n", argv[0], err.msg);
        free(l);
        return rc;
    }
    /* The EAL sees our program name followed by what came after "--". */
    int eal_argc = argc - eal_start;
    char **eal_argv = calloc((size_t)eal_argc + 1, sizeof *eal_argv);
    if (!eal_argv) {
        rss_plan_free(&l->plan);
        free(l);
        return UTIL_EXIT_FAILURE;
    }
    eal_argv[0] = argv[0];
    for (int i = 1; i < eal_argc; i++)
        eal_argv[i] = argv[eal_start + i];
    if (rte_eal_init(eal_argc, eal_argv) < 0) {
        fprintf(stderr, "%s: error: DPDK EAL initialisation failed (%s); check the arguments "
                        "after '--' (without hugepages: --no-huge -m 512 --no-pci)\n",
                argv[0], rte_strerror(rte_errno));
        free(eal_argv);
        rss_plan_free(&l->plan);
        free(l);
        return UTIL_EXIT_USAGE;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    rc = run(l, argv[0], &err);
    if (rc != 0)
        fprintf(stderr, "%s: error: %s\n", argv[0], err.msg);
    free_logs(l);
    rt_reset();
    rte_eal_cleanup();
    free(eal_argv);
    rss_plan_free(&l->plan);
    free(l);
    return rc;
}
