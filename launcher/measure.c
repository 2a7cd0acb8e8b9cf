/*
 * measure.c - the runner's measurement mode (--measure): the NF's real cycles
 * per packet on each core and the rate the cores can carry, measured with the
 * TSC, for checking the simulator's cost model (docs/launcher.md, "Measuring").
 *
 * With --replay, packets come from memory, as a NIC with hardware RSS would
 * deliver them: the captures are loaded once, each packet is steered by the
 * plan's hash (the same Toeplitz code and RETA as the NIC) to a core, and the
 * runner makes one ring device per NF port with one RX and one TX queue per
 * core (rte_eth_from_rings). Each worker runs its packets in passes: it puts
 * the next BURST x ports packets of its sequence into its queues (copied into
 * fresh mbufs, untimed: a NIC's DMA costs the core nothing), then polls its
 * queues exactly as under hardware RSS (launcher_poll_queues: rx_burst, the
 * NF, tx_burst), timed with the TSC, then frees what it sent (untimed: a NIC
 * completes TX by itself). Packets keep arrival order within a core except
 * inside one refill of BURST x ports packets, where each port's packets are
 * received as one burst, as from a saturated NIC. A worker repeats the pass
 * until --seconds have passed (at least MIN_PASSES passes); the first pass
 * (cold caches and state) is reported apart and the median of the others is
 * the result, so a pass disturbed by another process does not count.
 *
 * Without --replay the ports' own queues are timed (they must take the
 * plan's RSS): each worker polls for --seconds, and the rate is what was
 * received per second (net_null generates packets as fast as it is polled).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "launcher/launcher_internal.h"

#define MIN_PASSES 3
#define MEASURE_RING 1024           /* entries of each queue's ring: >= BURST x MAX_PORTS */

struct mpacket {
    uint64_t off;                   /* into measure.bytes */
    uint32_t len;
    uint16_t port;
};

struct measure_core {
    uint32_t *order;                /* this core's packets, arrival order */
    size_t n, cap;
    struct rte_ring *rx[MAX_PORTS], *tx[MAX_PORTS];     /* behind queue `core` */
    uint64_t *pass_cycles;          /* timed cycles of each pass */
    size_t passes, pass_cap;
    uint64_t cycles, packets;       /* ports source: timed rounds and what they got */
    bool failed;                    /* out of mbufs or memory */
};

struct measure {
    bool from_memory;
    uint8_t *bytes;
    size_t len, cap;
    struct mpacket *pkts;
    size_t n, n_cap;
    uint64_t skipped_port, skipped_long;
    uint64_t start_tsc, end_tsc;
    struct measure_core core[RT_MAX_CORES];
};

static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap : 1024;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * size);
    if (!q)
        return false;
    *p = q;
    *cap = c;
    return true;
}

/* The captures into memory, each packet on the core the plan's RSS picks. */
static int load_packets(struct launcher *l, struct measure *m, struct util_error *err)
{
    struct trace_source *src = trace_source_open(&l->opt.replay, err);
    if (!src)
        return UTIL_EXIT_INPUT;
    struct trace_packet pkt;
    int got;
    while ((got = trace_source_next(src, &pkt, err)) == 1) {
        if (pkt.port >= l->n_ports) {
            m->skipped_port++;
            continue;
        }
        if (pkt.cap_len > RTE_MBUF_DEFAULT_DATAROOM) {
            m->skipped_long++;
            continue;
        }
        struct measure_core *mc = &m->core[launcher_steer(l, pkt.port, &pkt.tuple)];
        if (!grow((void **)&m->bytes, &m->cap, m->len + pkt.cap_len, 1) ||
            !grow((void **)&m->pkts, &m->n_cap, m->n + 1, sizeof *m->pkts) ||
            !grow((void **)&mc->order, &mc->cap, mc->n + 1, sizeof *mc->order) ||
            m->n >= UINT32_MAX) {
            trace_source_close(src);
            util_error_set(err, "out of memory loading the captures for --measure after %zu "
                           "packets (%zu bytes)", m->n, m->len);
            return UTIL_EXIT_FAILURE;
        }
        memcpy(m->bytes + m->len, pkt.data, pkt.cap_len);
        m->pkts[m->n] = (struct mpacket){m->len, pkt.cap_len, pkt.port};
        mc->order[mc->n++] = (uint32_t)m->n++;
        m->len += pkt.cap_len;
    }
    trace_source_close(src);
    if (got < 0)
        return UTIL_EXIT_INPUT;
    if (m->n == 0) {
        util_error_set(err, "--measure: the captures hold no packet for the plan's %d ports",
                       l->n_ports);
        return UTIL_EXIT_INPUT;
    }
    return 0;
}

/* One ring device per NF port, a queue per core, each queue an SP/SC ring. */
static int make_devices(struct launcher *l, struct measure *m, struct util_error *err)
{
    if (rte_eth_dev_count_avail() != 0) {
        util_error_set(err, "--measure with --replay makes its own devices (one queue per "
                            "core); DPDK already has %u ports: drop the --vdev arguments and "
                            "pass --no-pci", rte_eth_dev_count_avail());
        return UTIL_EXIT_USAGE;
    }
    for (int p = 0; p < l->n_ports; p++) {
        struct rte_ring *rx[RT_MAX_CORES], *tx[RT_MAX_CORES];
        for (int c = 0; c < l->cores; c++) {
            char name[RTE_RING_NAMESIZE];
            snprintf(name, sizeof name, "rsskey_mrx%d_%d", p, c);
            rx[c] = m->core[c].rx[p] = rte_ring_create(name, MEASURE_RING, (int)rte_socket_id(),
                                                       RING_F_SP_ENQ | RING_F_SC_DEQ);
            snprintf(name, sizeof name, "rsskey_mtx%d_%d", p, c);
            tx[c] = m->core[c].tx[p] = rte_ring_create(name, MEASURE_RING, (int)rte_socket_id(),
                                                       RING_F_SP_ENQ | RING_F_SC_DEQ);
            if (!rx[c] || !tx[c]) {
                util_error_set(err, "cannot create the measurement rings (%s)",
                               rte_strerror(rte_errno));
                return UTIL_EXIT_FAILURE;
            }
        }
        char dev[32];
        snprintf(dev, sizeof dev, "rsskey_measure%d", p);
        int id = rte_eth_from_rings(dev, rx, (unsigned)l->cores, tx, (unsigned)l->cores,
                                    rte_socket_id());
        if (id != p) {
            util_error_set(err, "cannot make ring device %s for port %d (got %d: %s)", dev, p,
                           id, rte_strerror(rte_errno));
            return UTIL_EXIT_FAILURE;
        }
    }
    l->measure_devices = true;
    return 0;
}

int measure_prepare(struct launcher *l, struct util_error *err)
{
    struct measure *m = calloc(1, sizeof *m);
    if (!m) {
        util_error_set(err, "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    l->measure = m;
    m->from_memory = l->opt.replaying;
    if (!m->from_memory)
        return 0;
    int rc = load_packets(l, m, err);
    if (rc == 0)
        rc = make_devices(l, m, err);
    l->replay_skipped_port = m->skipped_port;
    l->replay_skipped_long = m->skipped_long;
    return rc;
}

/* One pass over this core's packets; returns its timed cycles. */
static uint64_t run_pass(struct worker *w, struct measure *m, struct measure_core *mc)
{
    struct launcher *l = w->l;
    size_t refill = (size_t)BURST * (size_t)l->n_ports;
    struct rte_mbuf *fresh[BURST * MAX_PORTS];
    uint64_t cycles = 0;
    for (size_t pos = 0; pos < mc->n && !launcher_stop_requested;) {
        unsigned k = (unsigned)(mc->n - pos < refill ? mc->n - pos : refill);
        if (rte_pktmbuf_alloc_bulk(l->pool, fresh, k) != 0) {
            mc->failed = true;
            return cycles;
        }
        for (unsigned i = 0; i < k; i++) {
            const struct mpacket *pk = &m->pkts[mc->order[pos + i]];
            memcpy(rte_pktmbuf_append(fresh[i], (uint16_t)pk->len), m->bytes + pk->off, pk->len);
            rte_ring_sp_enqueue(mc->rx[pk->port], fresh[i]);
        }
        pos += k;
        uint64_t t0 = rte_rdtsc();
        for (unsigned got = 0; got < k;)
            got += launcher_poll_queues(w);
        cycles += rte_rdtsc() - t0;
        for (int p = 0; p < l->n_ports; p++) {
            void *sent[BURST];
            unsigned n;
            while ((n = rte_ring_sc_dequeue_burst(mc->tx[p], sent, BURST, NULL)) > 0)
                rte_pktmbuf_free_bulk((struct rte_mbuf **)sent, n);
        }
    }
    return cycles;
}

static void measure_memory(struct worker *w, struct measure *m, struct measure_core *mc)
{
    uint64_t deadline = rte_rdtsc() + (uint64_t)(w->l->opt.seconds * (double)rte_get_tsc_hz());
    while (mc->n > 0 && !launcher_stop_requested && !mc->failed &&
           (mc->passes < MIN_PASSES || rte_rdtsc() < deadline)) {
        uint64_t cycles = run_pass(w, m, mc);
        if (launcher_stop_requested || mc->failed)
            break;
        if (!grow((void **)&mc->pass_cycles, &mc->pass_cap, mc->passes + 1,
                  sizeof *mc->pass_cycles)) {
            mc->failed = true;
            break;
        }
        mc->pass_cycles[mc->passes++] = cycles;
    }
}

static void measure_ports(struct worker *w, struct measure_core *mc)
{
    uint64_t deadline = rte_rdtsc() + (uint64_t)(w->l->opt.seconds * (double)rte_get_tsc_hz());
    while (!launcher_stop_requested) {
        uint64_t t0 = rte_rdtsc();
        if (t0 >= deadline)
            break;
        unsigned n = launcher_poll_queues(w);
        if (n > 0) {
            mc->cycles += rte_rdtsc() - t0;
            mc->packets += n;
        }
    }
}

int measure_worker_loop(void *arg)
{
    struct worker *w = arg;
    struct launcher *l = w->l;
    struct measure *m = l->measure;
    rt_set_core(w->core);
    if (m->from_memory)
        measure_memory(w, m, &m->core[w->core]);
    else
        measure_ports(w, &m->core[w->core]);
    atomic_fetch_add(&l->workers_done, 1);
    return 0;
}

void measure_wait(struct launcher *l)
{
    l->measure->start_tsc = l->start_tsc;
    while (atomic_load(&l->workers_done) < l->cores) {
        struct timespec nap = {0, 1000000};     /* 1 ms */
        nanosleep(&nap, NULL);
    }
    l->measure->end_tsc = rte_rdtsc();
}

/* ---- Results ------------------------------------------------------------------ */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* One core's figures: packets of a pass (memory) or received (ports), and
 * TSC cycles per packet: the median warm pass (memory) or the timed rounds. */
struct core_figures {
    uint64_t packets;
    size_t passes;
    double cycles_per_packet, cold_cycles_per_packet;
    double cycles;              /* a warm pass's timed cycles (memory) */
};

static void core_figures(const struct launcher *l, int c, struct core_figures *f)
{
    const struct measure *m = l->measure;
    const struct measure_core *mc = &m->core[c];
    memset(f, 0, sizeof *f);
    if (!m->from_memory) {
        f->packets = mc->packets;
        f->cycles = (double)mc->cycles;
        f->cycles_per_packet = mc->packets ? (double)mc->cycles / (double)mc->packets : 0;
        return;
    }
    f->packets = mc->n;
    f->passes = mc->passes;
    if (mc->passes == 0 || mc->n == 0)
        return;
    f->cold_cycles_per_packet = (double)mc->pass_cycles[0] / (double)mc->n;
    size_t warm = mc->passes > 1 ? mc->passes - 1 : 1;
    uint64_t *v = malloc(warm * sizeof *v);
    if (!v)
        return;
    memcpy(v, mc->pass_cycles + (mc->passes > 1 ? 1 : 0), warm * sizeof *v);
    qsort(v, warm, sizeof *v, cmp_u64);
    f->cycles = (double)v[warm / 2];
    f->cycles_per_packet = f->cycles / (double)mc->n;
    free(v);
}

/* The whole run: total packets (of a pass, or received), TSC cycles per
 * packet over all cores, the busiest core, and the rate the cores carry:
 * memory: a pass's packets in the busiest core's warm-pass time (the other
 * cores are done sooner); ports: received per second of the run. */
struct run_figures {
    uint64_t packets;
    double cycles_per_packet;
    int busiest;
    double busiest_cycles_per_packet;
    double rate_pps;
    double seconds;
};

static void run_figures(const struct launcher *l, struct run_figures *r)
{
    const struct measure *m = l->measure;
    double hz = (double)rte_get_tsc_hz(), all_cycles = 0, slowest = 0;
    memset(r, 0, sizeof *r);
    r->busiest = -1;
    r->seconds = (double)(m->end_tsc - m->start_tsc) / hz;
    for (int c = 0; c < l->cores; c++) {
        struct core_figures f;
        core_figures(l, c, &f);
        r->packets += f.packets;
        all_cycles += f.cycles;
        if (f.packets && (r->busiest < 0 || f.cycles > slowest)) {
            slowest = f.cycles;
            r->busiest = c;
            r->busiest_cycles_per_packet = f.cycles_per_packet;
        }
    }
    r->cycles_per_packet = r->packets ? all_cycles / (double)r->packets : 0;
    if (m->from_memory)
        r->rate_pps = slowest > 0 ? (double)r->packets / (slowest / hz) : 0;
    else
        r->rate_pps = r->seconds > 0 ? (double)r->packets / r->seconds : 0;
}

static bool any_failed(const struct launcher *l)
{
    for (int c = 0; c < l->cores; c++)
        if (l->measure->core[c].failed)
            return true;
    return false;
}

void measure_print(const struct launcher *l, FILE *out)
{
    const struct measure *m = l->measure;
    struct run_figures r;
    run_figures(l, &r);
    fprintf(out, "measured (%s, TSC at %.2f GHz, %.1f s):\n",
            m->from_memory ? "packets from memory, pre-steered, one queue per core"
                           : "the ports' own queues",
            (double)rte_get_tsc_hz() / 1e9, r.seconds);
    if (m->from_memory)
        fprintf(out, "%-6s %10s %8s %10s %10s %8s\n", "core", "packets", "passes", "cyc/pkt",
                "cold", "share");
    else
        fprintf(out, "%-6s %12s %10s %8s\n", "core", "packets", "cyc/pkt", "share");
    for (int c = 0; c < l->cores; c++) {
        struct core_figures f;
        core_figures(l, c, &f);
        double share = r.packets ? 100.0 * (double)f.packets / (double)r.packets : 0;
        if (m->from_memory)
            fprintf(out, "%-6d %10" PRIu64 " %8zu %10.1f %10.1f %7.1f%%\n", c, f.packets,
                    f.passes, f.cycles_per_packet, f.cold_cycles_per_packet, share);
        else
            fprintf(out, "%-6d %12" PRIu64 " %10.1f %7.1f%%\n", c, f.packets,
                    f.cycles_per_packet, share);
    }
    fprintf(out, "cycles per packet: %.1f over all cores", r.cycles_per_packet);
    if (r.busiest >= 0)
        fprintf(out, ", %.1f on core %d (binds)", r.busiest_cycles_per_packet, r.busiest);
    fprintf(out, "\nrate: %.3f Mpps %s\n", r.rate_pps / 1e6,
            m->from_memory ? "(the cores' loss-free rate: a pass's packets in the busiest "
                             "core's time)" : "(received per second)");
    if (any_failed(l))
        fprintf(out, "warning: a worker ran out of mbufs or memory; its figures are partial\n");
}

void measure_json(const struct launcher *l, struct util_json *w)
{
    const struct measure *m = l->measure;
    struct run_figures r;
    run_figures(l, &r);
    util_json_key(w, "measure");
    util_json_object_begin(w);
    util_json_key(w, "source");
    util_json_string(w, m->from_memory ? "memory" : "ports");
    util_json_key(w, "nf");
    util_json_string(w, l->plan.deps.nf);
    util_json_key(w, "objects");
    util_json_int(w, l->plan.deps.n_objects);
    util_json_key(w, "tsc_ghz");
    util_json_double(w, (double)rte_get_tsc_hz() / 1e9);
    util_json_key(w, "seconds");
    util_json_double(w, r.seconds);
    util_json_key(w, "packets");
    util_json_uint(w, r.packets);
    util_json_key(w, "cycles_per_packet");
    util_json_double(w, r.cycles_per_packet);
    util_json_key(w, "busiest_core");
    util_json_int(w, r.busiest);
    util_json_key(w, "busiest_cycles_per_packet");
    util_json_double(w, r.busiest_cycles_per_packet);
    util_json_key(w, "rate_pps");
    util_json_double(w, r.rate_pps);
    util_json_key(w, "partial");
    util_json_bool(w, any_failed(l));
    util_json_key(w, "cores");
    util_json_array_begin(w);
    for (int c = 0; c < l->cores; c++) {
        struct core_figures f;
        core_figures(l, c, &f);
        util_json_object_begin(w);
        util_json_key(w, "core");
        util_json_int(w, c);
        util_json_key(w, "packets");
        util_json_uint(w, f.packets);
        util_json_key(w, "passes");
        util_json_uint(w, f.passes);
        util_json_key(w, "cycles_per_packet");
        util_json_double(w, f.cycles_per_packet);
        util_json_key(w, "cold_cycles_per_packet");
        util_json_double(w, f.cold_cycles_per_packet);
        util_json_object_end(w);
    }
    util_json_array_end(w);
    util_json_object_end(w);
}

void measure_free(struct launcher *l)
{
    struct measure *m = l->measure;
    if (!m)
        return;
    for (int c = 0; c < RT_MAX_CORES; c++) {
        for (int p = 0; p < MAX_PORTS; p++) {
            rte_ring_free(m->core[c].rx[p]);
            rte_ring_free(m->core[c].tx[p]);
        }
        free(m->core[c].order);
        free(m->core[c].pass_cycles);
    }
    free(m->bytes);
    free(m->pkts);
    free(m);
    l->measure = NULL;
}
