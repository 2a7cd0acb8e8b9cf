/*
 * calibrate.c - measures this machine's per-operation costs with the real
 * runtime (runtime/, the NF API's implementation) and writes them into a
 * struct sim_costs. What is measured (docs/simulator.md, "Calibration"):
 *   clock              the TSC rate over 50 ms of wall time (nominal GHz)
 *   read_cycles        nf_map_get hits on a 512-entry map (L1-resident)
 *   write_cycles       nf_map_put overwrites on that map
 *   alloc_cycles       nf_alloc_refresh of allocated indexes
 *   expire_cycles      nf_alloc_expire with nothing to expire
 *   lock_read_cycles   rt_packet_begin(c, false) + rt_packet_end (one token)
 *   lock_write_cycles  rt_packet_begin(c, true) + rt_packet_end on 4 cores,
 *                      divided by 4 (per token)
 *   base_cycles        the packet parse (nf_eth, nf_ipv4, nf_l4, nf_l4_proto
 *                      on a 64-byte TCP frame) plus the DPDK RX/TX share:
 *                      measured when the caller has it (the nop NF's cycles
 *                      per packet under `rsskey-run-nop --measure`, read by
 *                      sim_read_measured_driver), else SIM_DRIVER_CYCLES
 * Each figure is the median of 7 rounds. Small tables keep the operations in
 * L1, as the model charges cache misses separately. For the NF's own objects
 * (when given) it also times lookups at their real sizes, for the log. (Their
 * sizes reach simulations through the plan, not the costs file.)
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

#include "runtime/runtime.h"
#include "sim/sim_internal.h"

#define SIM_DRIVER_CYCLES 80.0
#define ROUNDS 7
#define SMALL 512

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return v[n / 2];
}

static double tsc_ghz(void)
{
    double t0 = util_now_seconds();
    uint64_t c0 = __rdtsc();
    while (util_now_seconds() - t0 < 0.05)
        ;
    return (double)(__rdtsc() - c0) / ((util_now_seconds() - t0) * 1e9);
}

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* TSC cycles per call of op(i) over n calls, median of ROUNDS rounds. */
#define MEASURE(result, n, body)                                        \
    do {                                                                \
        double rounds_[ROUNDS];                                         \
        for (int r_ = 0; r_ < ROUNDS; r_++) {                           \
            uint64_t t_ = __rdtsc();                                    \
            for (uint32_t i = 0; i < (n); i++) {                        \
                body;                                                   \
            }                                                           \
            rounds_[r_] = (double)(__rdtsc() - t_) / (n);               \
        }                                                               \
        (result) = median(rounds_, ROUNDS);                             \
    } while (0)

static void fill_keys(uint8_t *keys, uint32_t n, uint32_t key_size, uint64_t seed)
{
    uint64_t s = seed | 1;
    for (uint64_t i = 0; i < (uint64_t)n * key_size; i++)
        keys[i] = (uint8_t)rng(&s);
}

/* A 64-byte Ethernet/IPv4/TCP frame. */
static void make_frame(uint8_t *f)
{
    memset(f, 0, 64);
    f[12] = 0x08;
    f[14] = 0x45;
    f[17] = 50;                         /* total length 50 */
    f[22] = 64;
    f[23] = 6;
    f[26] = 10, f[29] = 1;
    f[30] = 20, f[33] = 2;
    f[34] = 0x30, f[35] = 0x39;         /* 12345 */
    f[36] = 0x00, f[37] = 0x50;         /* 80 */
    f[46] = 0x50;
}

int sim_calibrate(struct sim_costs *c, const struct sim_calib_object *objs, int n_objs,
                  double driver_cycles, FILE *log, struct util_error *err)
{
    bool driver_measured = driver_cycles > 0;
    if (!driver_measured)
        driver_cycles = SIM_DRIVER_CYCLES;
    rt_reset();
    double ghz = tsc_ghz();
    if (!(ghz > 0.3 && ghz < 10)) {
        util_error_set(err, "the TSC rate measured %.2f GHz, which is not plausible; "
                       "calibrate on an idle machine", ghz);
        return UTIL_EXIT_FAILURE;
    }
    const uint32_t key_size = 16;
    uint8_t *keys = malloc((size_t)SMALL * key_size);
    struct nf_map *map = nf_map_create("calibrate_map", key_size, SMALL * 2);
    struct nf_alloc *alloc = nf_alloc_create("calibrate_alloc", SMALL);
    if (!keys || !map || !alloc) {
        free(keys);
        rt_reset();
        util_error_set(err, "could not create the calibration objects (out of memory?)");
        return UTIL_EXIT_FAILURE;
    }
    fill_keys(keys, SMALL, key_size, 1);
    for (uint32_t i = 0; i < SMALL; i++) {
        uint32_t idx;
        nf_map_put(map, keys + (size_t)i * key_size, (int32_t)i);
        nf_alloc_new(alloc, 1000, &idx);
    }
    volatile uint64_t sink = 0;  /* keeps results alive; unsigned: wraps */
    double get, put, refresh, expire, parse, tok_read, tok_write;
    MEASURE(get, 200000, {
        int32_t v;
        nf_map_get(map, keys + (size_t)(i & (SMALL - 1)) * key_size, &v);
        sink += (uint32_t)v;
    });
    MEASURE(put, 200000, nf_map_put(map, keys + (size_t)(i & (SMALL - 1)) * key_size,
                                     (int32_t)i));
    MEASURE(refresh, 200000, nf_alloc_refresh(alloc, i & (SMALL - 1), 2000 + i));
    MEASURE(expire, 200000, sink += nf_alloc_expire(alloc, 1, NULL, NULL));
    uint8_t frame[64];
    make_frame(frame);
    struct nf_packet pkt = {.data = frame, .len = 64, .port = 0, .time_ns = 0};
    MEASURE(parse, 200000, {
        pkt.time_ns = i;
        struct nf_ipv4_hdr *ip = nf_ipv4(&pkt);
        struct nf_l4_ports *l4 = nf_l4(&pkt);
        sink += (uint64_t)(nf_eth(&pkt) != NULL) + (ip ? ip->src : 0u) +
                (l4 ? l4->sport : 0u) + nf_l4_proto(&pkt);
    });

    /* Larger tables at the NF's own sizes, for the log. */
    for (int o = 0; o < n_objs && log; o++) {
        const struct sim_calib_object *ob = &objs[o];
        if (ob->kind != DEPS_KIND_MAP || ob->capacity < 2 || ob->key_size == 0 ||
            ob->key_size > 256)
            continue;
        uint32_t cap = ob->capacity > (1u << 22) ? (1u << 22) : ob->capacity;
        uint32_t fill = cap / 2 ? cap / 2 : 1;
        uint8_t *k = malloc((size_t)fill * ob->key_size);
        char name[96];
        snprintf(name, sizeof name, "calibrate_%d", o);
        struct nf_map *m = k ? nf_map_create(name, ob->key_size, cap) : NULL;
        if (!m) {
            free(k);
            continue;
        }
        fill_keys(k, fill, ob->key_size, 7 + o);
        for (uint32_t i = 0; i < fill; i++)
            nf_map_put(m, k + (size_t)i * ob->key_size, (int32_t)i);
        uint64_t s = 99;
        double big;
        MEASURE(big, 100000, {
            int32_t v;
            nf_map_get(m, k + (size_t)(rng(&s) % fill) * ob->key_size, &v);
            sink += (uint32_t)v;
        });
        fprintf(log, "  %-24s map of %u entries, %u-byte keys, half full: %.0f cycles per "
                "random hit (this machine's caches included)\n", ob->name, cap,
                ob->key_size, big);
        free(k);
    }

    /* Tokens: one core reading; a writer taking four cores' tokens. */
    enum rt_mode modes[SIM_MAX_OVERRIDES + 8];
    size_t n_rt = rt_objects();
    for (size_t i = 0; i < n_rt && i < sizeof modes / sizeof modes[0]; i++)
        modes[i] = RT_SHARED;   /* keeps nf_init's contents; tokens are taken only
                                   when some object is shared (rt_packet_begin) */
    if (n_rt > sizeof modes / sizeof modes[0] || rt_instantiate(4, modes, err)) {
        if (n_rt > sizeof modes / sizeof modes[0])
            util_error_set(err, "too many objects to calibrate (%zu)", n_rt);
        free(keys);
        rt_reset();
        return UTIL_EXIT_FAILURE;
    }
    MEASURE(tok_read, 200000, {
        rt_packet_begin(0, false);
        rt_packet_end(0);
    });
    MEASURE(tok_write, 100000, {
        rt_packet_begin(0, true);
        rt_packet_end(0);
    });
    (void)sink;
    free(keys);
    rt_reset();

    c->ghz = ghz;
    c->read_cycles = get;
    c->write_cycles = put;
    c->alloc_cycles = refresh;
    c->expire_cycles = expire;
    c->lock_read_cycles = tok_read;
    c->lock_write_cycles = tok_write / 4;
    c->base_cycles = parse + driver_cycles;
    if (log) {
        fprintf(log, "measured (median of %d rounds, TSC cycles at %.2f GHz):\n", ROUNDS, ghz);
        fprintf(log, "  map get hit %.1f, map put %.1f, alloc refresh %.1f, expire sweep %.1f\n",
                get, put, refresh, expire);
        fprintf(log, "  parse %.1f (+ %.1f %s for the DPDK driver = base %.1f)\n", parse,
                driver_cycles, driver_measured ? "measured" : "assumed", c->base_cycles);
        fprintf(log, "  read token %.1f, all 4 tokens %.1f (%.1f per token)\n", tok_read,
                tok_write, tok_write / 4);
    }
    return 0;
}

/* The driver share from a runner's --measure --json output: the cycles per
 * packet of a stateless NF (the nop NF: receive, return a port, send) with
 * packets from memory, which is what a packet costs a core before the NF
 * itself does anything. */
int sim_read_measured_driver(const char *path, double *cycles, struct util_error *err)
{
    size_t len;
    char *text = util_read_file(path, &len, err);
    if (!text)
        return UTIL_EXIT_IO;
    struct util_jvalue *root = util_json_parse(text, len, path, err);
    free(text);
    if (!root)
        return UTIL_EXIT_INPUT;
    const struct util_jvalue *m = util_jobject_get(root, "measure");
    const struct util_jvalue *src = util_jobject_get(m, "source");
    const struct util_jvalue *objects = util_jobject_get(m, "objects");
    const struct util_jvalue *cpp = util_jobject_get(m, "cycles_per_packet");
    const struct util_jvalue *partial = util_jobject_get(m, "partial");
    int rc = 0;
    if (!m || !src || src->type != UTIL_JSTRING || !objects || objects->type != UTIL_JNUMBER ||
        !cpp || cpp->type != UTIL_JNUMBER) {
        util_error_set(err, "%s: not a runner's --measure --json output (no \"measure\" object "
                       "with source, objects and cycles_per_packet); make one with "
                       "rsskey-run-nop --measure --json --replay TRACE", path);
        rc = UTIL_EXIT_INPUT;
    } else if (strcmp(src->string, "memory") != 0) {
        util_error_set(err, "%s: measured from the ports (source \"%s\"); the driver share is "
                       "taken from packets in memory: run the nop NF with --measure --replay",
                       path, src->string);
        rc = UTIL_EXIT_INPUT;
    } else if (objects->number != 0) {
        util_error_set(err, "%s: that NF has %.0f state objects, so its cycles are not the "
                       "driver's alone; measure the nop NF (rsskey-run-nop)", path,
                       objects->number);
        rc = UTIL_EXIT_INPUT;
    } else if (partial && partial->type == UTIL_JBOOL && partial->boolean) {
        util_error_set(err, "%s: the measurement is partial (a worker ran out of mbufs)", path);
        rc = UTIL_EXIT_INPUT;
    } else if (!(cpp->number > 1 && cpp->number < 100000)) {
        util_error_set(err, "%s: cycles_per_packet %g is not plausible", path, cpp->number);
        rc = UTIL_EXIT_INPUT;
    } else {
        *cycles = cpp->number;
    }
    util_jvalue_free(root);
    return rc;
}
