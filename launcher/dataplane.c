/*
 * dataplane.c - moving packets: the mbuf pools and rings, the workers that
 * run nf_process on their core's state, and the main lcore's dispatch (live
 * ports with software RSS, captures, or the set --verify compares) and transmission.
 *
 * Idle lcores back off (pause, then yield, then short sleeps) so that a
 * layout with more lcores than CPUs (several lcores on one CPU) does not let
 * an idle worker's spinning starve the ones with work.
 */
#include <sched.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf_dyn.h>

#include "launcher/launcher_internal.h"

/* Mbufs for frames longer than a standard mbuf's data room (jumbo frames,
 * GRO-merged captures): few, allocated only when such a frame comes. */
#define JUMBO_MBUFS 64

static struct packet_meta *meta_of(const struct launcher *l, struct rte_mbuf *m)
{
    return RTE_MBUF_DYNFIELD(m, l->meta_offset, struct packet_meta *);
}

/* Live ports carry no capture time: nanoseconds since the run started. */
static uint64_t arrival_time_ns(const struct launcher *l)
{
    uint64_t cycles = rte_get_tsc_cycles() - l->start_tsc;
    return (uint64_t)((double)cycles * l->ns_per_tsc);
}

/* An idle loop's back-off: spin briefly, then give the CPU away. */
struct idle {
    unsigned polls;
};

static void idle_wait(struct idle *s)
{
    s->polls++;
    if (s->polls < 64) {
        rte_pause();
    } else if (s->polls < 256) {
        sched_yield();
    } else {
        struct timespec nap = {0, 20000};   /* 20 us */
        nanosleep(&nap, NULL);
    }
}

static void idle_reset(struct idle *s)
{
    s->polls = 0;
}

/* Runs nf_process on one packet on core w->core; returns the verdict. The
 * packet's arrival (input port, time, order) comes as arguments: under
 * per-queue polling nothing but the PMD touches the mbuf's metadata lines. */
static int process_packet(struct worker *w, struct rte_mbuf *m, uint16_t in_port,
                          uint64_t time_ns, uint64_t seq)
{
    struct launcher *l = w->l;
    if (rte_pktmbuf_linearize(m) != 0) {
        w->dropped++;
        return NF_DROP;
    }
    uint8_t *data = rte_pktmbuf_mtod(m, uint8_t *);
    uint32_t len = rte_pktmbuf_data_len(m);
    /* --verify: the input, for the log. */
    if (l->opt.verify)
        memcpy(w->log_input, data, len);
    struct nf_packet pkt = {data, len, in_port, time_ns};
    rt_packet_begin(w->core, l->may_write_shared[in_port]);
    int verdict = nf_process(&pkt);
    uint64_t commit = l->opt.verify ? atomic_fetch_add(&l->commit_counter, 1) : 0;
    rt_packet_end(w->core);
    if (l->opt.verify && !w->log_failed &&
        !outcome_log_write(w, seq, commit, time_ns, in_port, verdict, w->log_input, data, len))
        w->log_failed = true;
    /* Read by the main lcore while running (hardware RSS idleness check). */
    __atomic_store_n(&w->packets, w->packets + 1, __ATOMIC_RELAXED);
    if (verdict >= 0 && verdict < l->n_ports)
        w->forwarded++;
    else
        w->dropped++;
    return verdict;
}

/* A packet handed over through a ring (software RSS) carries its arrival. */
static int process_dispatched(struct worker *w, struct rte_mbuf *m)
{
    const struct packet_meta *meta = meta_of(w->l, m);
    return process_packet(w, m, meta->in_port, meta->time_ns, meta->seq);
}

/* Software RSS: hands a processed packet to the main lcore's TX, or frees it. */
static void send_or_free(struct launcher *l, struct worker *w, struct rte_mbuf *m, int verdict)
{
    if (verdict < 0 || verdict >= l->n_ports) {
        rte_pktmbuf_free(m);
        return;
    }
    struct idle idle = {0};
    while (rte_ring_enqueue(w->tx_ring[verdict], m) != 0) {
        if (launcher_stop_requested) {
            rte_pktmbuf_free(m);
            return;
        }
        idle_wait(&idle);
    }
}

/* One polling round over queue w->core of every port (hardware RSS, and
 * --measure's pre-steered devices): a burst from each port, the NF on each
 * packet, and what it forwards sent in one burst per output port on the
 * worker's own TX queue. Every port is polled every round, so a saturated
 * port cannot starve the others. Returns the packets received. */
unsigned launcher_poll_queues(struct worker *w)
{
    struct launcher *l = w->l;
    struct rte_mbuf *bufs[BURST];
    struct rte_mbuf *out[MAX_PORTS][BURST];
    unsigned total = 0;
    for (int p = 0; p < l->n_ports; p++) {
        unsigned n = rte_eth_rx_burst((uint16_t)p, (uint16_t)w->core, bufs, BURST);
        if (n == 0)
            continue;
        uint64_t now = arrival_time_ns(l);      /* one clock read per burst */
        unsigned n_out[MAX_PORTS] = {0};
        for (unsigned i = 0; i < n; i++) {
            /* seq UINT64_MAX: --verify orders these by time afterwards */
            int verdict = process_packet(w, bufs[i], (uint16_t)p, now, UINT64_MAX);
            if (verdict >= 0 && verdict < l->n_ports)
                out[verdict][n_out[verdict]++] = bufs[i];
            else
                rte_pktmbuf_free(bufs[i]);
        }
        for (int q = 0; q < l->n_ports; q++) {
            if (n_out[q] == 0)
                continue;
            unsigned sent = rte_eth_tx_burst((uint16_t)q, (uint16_t)w->core, out[q],
                                             (uint16_t)n_out[q]);
            w->sent += sent;
            if (sent < n_out[q]) {
                w->send_failed += n_out[q] - sent;
                rte_pktmbuf_free_bulk(out[q] + sent, n_out[q] - sent);
            }
        }
        total += n;
    }
    return total;
}

int launcher_worker_loop(void *arg)
{
    struct worker *w = arg;
    struct launcher *l = w->l;
    struct rte_mbuf *bufs[BURST];
    struct idle idle = {0};
    rt_set_core(w->core);
    for (;;) {
        unsigned n;
        if (l->per_queue) {
            n = launcher_poll_queues(w);
        } else {
            n = rte_ring_dequeue_burst(w->rx_ring, (void **)bufs, BURST, NULL);
            for (unsigned i = 0; i < n; i++)
                send_or_free(l, w, bufs[i], process_dispatched(w, bufs[i]));
        }
        if (n > 0) {
            idle_reset(&idle);
            continue;
        }
        if (launcher_stop_requested)
            break;
        if (atomic_load(&l->rx_done) && (l->per_queue || rte_ring_empty(w->rx_ring)))
            break;
        idle_wait(&idle);
    }
    atomic_fetch_add(&l->workers_done, 1);
    return 0;
}

/* Sends what one worker's ring holds for port p (software RSS). */
static void drain_ring(struct launcher *l, struct rte_ring *ring, int p)
{
    struct rte_mbuf *bufs[BURST];
    unsigned n = rte_ring_dequeue_burst(ring, (void **)bufs, BURST, NULL);
    unsigned sent = 0;
    for (int tries = 0; sent < n && tries < 1000; tries++)
        sent += rte_eth_tx_burst((uint16_t)p, 0, bufs + sent, (uint16_t)(n - sent));
    for (unsigned i = sent; i < n; i++)
        rte_pktmbuf_free(bufs[i]);
    l->tx_packets[p] += sent;
    l->tx_failed[p] += n - sent;
}

void launcher_drain_tx(struct launcher *l)
{
    for (int c = 0; c < l->cores; c++)
        for (int p = 0; p < l->n_ports; p++)
            if (l->workers[c].tx_ring[p])
                drain_ring(l, l->workers[c].tx_ring[p], p);
}

/* Hands a packet to its core's ring, transmitting while the ring is full. */
static void enqueue_to_core(struct launcher *l, struct rte_mbuf *m, int core)
{
    struct idle idle = {0};
    while (rte_ring_enqueue(l->workers[core].rx_ring, m) != 0) {
        if (launcher_stop_requested) {
            rte_pktmbuf_free(m);
            return;
        }
        launcher_drain_tx(l);
        idle_wait(&idle);
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
    enqueue_to_core(l, m, launcher_steer(l, meta->in_port, parsed));
}

/* Live ports, software RSS: poll every port's single queue in turn. */
void launcher_dispatch_from_ports(struct launcher *l)
{
    struct rte_mbuf *bufs[BURST];
    uint64_t idle_limit = (uint64_t)l->opt.idle_exit_ms * rte_get_tsc_hz() / 1000;
    uint64_t last_packet = rte_get_tsc_cycles();
    uint64_t seq = 0;
    struct idle idle = {0};
    while (!launcher_stop_requested) {
        unsigned got = 0;
        for (int p = 0; p < l->n_ports; p++) {
            unsigned n = rte_eth_rx_burst((uint16_t)p, 0, bufs, BURST);
            for (unsigned i = 0; i < n; i++) {
                struct packet_meta *meta = meta_of(l, bufs[i]);
                meta->in_port = (uint16_t)p;
                meta->time_ns = arrival_time_ns(l);
                meta->seq = seq++;
                dispatch(l, bufs[i], NULL);
            }
            got += n;
        }
        launcher_drain_tx(l);
        if (got) {
            last_packet = rte_get_tsc_cycles();
            idle_reset(&idle);
        } else if (idle_limit && rte_get_tsc_cycles() - last_packet > idle_limit) {
            break;
        } else {
            idle_wait(&idle);
        }
    }
}

/* An mbuf holding a copy of `len` bytes (a jumbo mbuf when they do not fit a
 * standard one), or NULL when stopping. */
static struct rte_mbuf *mbuf_with(struct launcher *l, const uint8_t *bytes, uint32_t len)
{
    struct rte_mempool *pool = l->pool;
    if (len > RTE_MBUF_DEFAULT_DATAROOM) {
        if (!l->jumbo_pool) {
            l->jumbo_pool = rte_pktmbuf_pool_create("rsskey_jumbo", JUMBO_MBUFS, 0, 0,
                                                    RTE_PKTMBUF_HEADROOM + MAX_FRAME,
                                                    (int)rte_socket_id());
            if (!l->jumbo_pool)
                return NULL;
        }
        pool = l->jumbo_pool;
    }
    struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
    struct idle idle = {0};
    while (!m && !launcher_stop_requested) {     /* all in flight: let TX free some */
        launcher_drain_tx(l);
        idle_wait(&idle);
        m = rte_pktmbuf_alloc(pool);
    }
    if (!m)
        return NULL;
    memcpy(rte_pktmbuf_append(m, (uint16_t)len), bytes, len);
    return m;
}

/* Captures: every packet in timestamp order, on the port the policy gives
 * it, stamped with its capture time, copied into an mbuf. */
int launcher_dispatch_from_replay(struct launcher *l, struct util_error *err)
{
    struct trace_source *src = trace_source_open(&l->opt.replay, err);
    if (!src)
        return UTIL_EXIT_INPUT;
    struct trace_packet pkt;
    int rc = 0, got;
    uint64_t seq = 0;
    while (!launcher_stop_requested && (got = trace_source_next(src, &pkt, err)) == 1) {
        if (pkt.port >= l->n_ports) {
            l->replay_skipped_port++;
            continue;
        }
        if (pkt.cap_len > MAX_FRAME) {
            l->replay_skipped_long++;
            continue;
        }
        struct rte_mbuf *m = mbuf_with(l, pkt.data, pkt.cap_len);
        if (!m) {
            if (launcher_stop_requested)
                break;
            util_error_set(err, "cannot allocate an mbuf for a %u-byte frame (%s)",
                           pkt.cap_len, rte_strerror(rte_errno));
            rc = UTIL_EXIT_FAILURE;
            break;
        }
        struct packet_meta *meta = meta_of(l, m);
        meta->in_port = pkt.port;
        meta->time_ns = pkt.time_ns;
        meta->seq = seq;
        dispatch(l, m, &pkt.tuple);
        if (++seq % BURST == 0)
            launcher_drain_tx(l);
    }
    if (rc == 0 && got < 0)
        rc = UTIL_EXIT_INPUT;
    trace_source_close(src);
    return rc;
}

/* --verify with captures: the set's packets, as the plan's replay in arrival
 * order gave them (replies re-addressed by the network model), each to the
 * core the plan's RSS gives those bytes. */
int launcher_dispatch_from_set(struct launcher *l, struct util_error *err)
{
    struct verify_inputs in;
    if (verify_inputs_open(&in, l) != 0) {
        verify_inputs_close(&in);
        util_error_set(err, "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    const struct vpacket *v;
    const uint8_t *bytes;
    int core;
    for (uint64_t i = 0; !launcher_stop_requested && (bytes = verify_inputs_next(&in, &v, &core));
         i++) {
        struct rte_mbuf *m = mbuf_with(l, bytes, v->len);
        if (!m)
            break;
        struct packet_meta *meta = meta_of(l, m);
        meta->in_port = v->port;
        meta->time_ns = v->time_ns;
        meta->seq = i;
        l->rx_packets[v->port]++;
        enqueue_to_core(l, m, core);
        if ((i + 1) % BURST == 0)
            launcher_drain_tx(l);
    }
    verify_inputs_close(&in);
    return 0;
}

/* After the last packet: transmits until every worker has finished. */
void launcher_wait_workers(struct launcher *l)
{
    struct idle idle = {0};
    atomic_store(&l->rx_done, 1);
    while (atomic_load(&l->workers_done) < l->cores) {
        launcher_drain_tx(l);
        idle_wait(&idle);
    }
}

/* Hardware RSS: the workers receive; the main lcore waits for idleness. */
void launcher_wait_hardware_idle(struct launcher *l)
{
    uint64_t idle_limit = (uint64_t)l->opt.idle_exit_ms * rte_get_tsc_hz() / 1000;
    uint64_t last_total = 0, last_change = rte_get_tsc_cycles();
    while (!launcher_stop_requested) {
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

int launcher_setup_dataplane(struct launcher *l, struct util_error *err)
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
    l->ns_per_tsc = 1e9 / (double)rte_get_tsc_hz();
    l->hardware_rss = !l->opt.software_rss && !l->opt.replaying && !l->measure_devices;
    if (l->opt.software_rss)
        snprintf(l->why_software, sizeof l->why_software, "--software-rss");
    if (l->opt.replaying)
        snprintf(l->why_software, sizeof l->why_software,
                 "replaying captures; the ports only transmit");
    for (int p = 0; p < l->n_ports && l->hardware_rss; p++)
        l->hardware_rss = launcher_port_can_hash(l, (uint16_t)p, l->why_software,
                                                 sizeof l->why_software);
    if (l->measure_devices)
        snprintf(l->why_software, sizeof l->why_software,
                 "--measure: packets pre-steered by the plan's hash into one queue per core");
    l->per_queue = l->hardware_rss || l->measure_devices;
    for (int p = 0; p < l->n_ports; p++) {
        int rc = launcher_setup_port(l, (uint16_t)p, err);
        if (rc)
            return rc;
    }
    for (int c = 0; c < l->cores; c++) {
        char name[32];
        snprintf(name, sizeof name, "rsskey_rx%d", c);
        l->workers[c].l = l;
        l->workers[c].core = c;
        if (l->opt.verify) {
            int rc = outcome_log_open(&l->workers[c], err);
            if (rc)
                return rc;
        }
        l->workers[c].rx_ring = rte_ring_create(name, l->opt.ring_size, (int)rte_socket_id(),
                                                RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (!l->workers[c].rx_ring) {
            util_error_set(err, "cannot create ring %s (%s)", name, rte_strerror(rte_errno));
            return UTIL_EXIT_FAILURE;
        }
        for (int p = 0; p < l->n_ports; p++) {
            snprintf(name, sizeof name, "rsskey_tx%d_%d", c, p);
            l->workers[c].tx_ring[p] = rte_ring_create(name, 1024, (int)rte_socket_id(),
                                                       RING_F_SP_ENQ | RING_F_SC_DEQ);
            if (!l->workers[c].tx_ring[p]) {
                util_error_set(err, "cannot create ring %s (%s)", name, rte_strerror(rte_errno));
                return UTIL_EXIT_FAILURE;
            }
        }
    }
    return 0;
}
