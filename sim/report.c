/*
 * report.c - the simulator's results for people (tables that fit 100
 * columns) and for scripts (JSON members written into an open object).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim/sim_internal.h"

static double per(double x, uint64_t n)
{
    return n ? x / n : 0;
}

static double busy_share(const struct sim_result *r, const struct sim_core_stats *st,
                         const struct sim_costs *c)
{
    double span = r->duration_s * c->ghz * 1e9;
    return span > 0 ? st->busy_cycles / span : 0;
}

void sim_print_wrapped(FILE *out, const char *first, int indent, const char *text)
{
    int col = fprintf(out, "%s", first);
    bool line_start = false;        /* a continuation line's indent was just written */
    const char *p = text;
    for (;;) {
        while (*p == ' ')
            p++;
        int w = (int)strcspn(p, " ");
        if (!w)
            break;
        if (!line_start && col > indent && col + 1 + w > 100) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
            line_start = true;
        }
        if (!line_start)
            col += fprintf(out, " ");
        col += fprintf(out, "%.*s", w, p);
        line_start = false;
        p += w;
    }
    fprintf(out, "\n");
}

/* A rate in Mpps and in Gbps of the unit asked (bits per packet: this
 * trace's mean, wire or frame). */
static void print_rate(FILE *out, const char *label, double pps, double bits_per_packet,
                       const char *unit)
{
    if (isfinite(pps))
        fprintf(out, "  %-22s %10.3f Mpps  %8.2f Gbps %s\n", label, pps / 1e6,
                pps * bits_per_packet / 1e9, unit);
}

void sim_print_result(FILE *out, const struct sim_result *r, const struct sim_costs *c)
{
    sim_print_result_units(out, r, c, false);
}

void sim_print_result_units(FILE *out, const struct sim_result *r, const struct sim_costs *c,
                            bool frame_units)
{
    bool full = r->duration_s > 0 || r->core[0].busy_cycles > 0;
    fprintf(out, "%-5s %11s %6s %9s %9s %6s %9s %9s %9s %9s\n", "core", "packets", "share",
            "flows", "drops", "busy", "cyc/pkt", "bus/pkt", "wait/pkt", "Mpps max");
    for (int k = 0; k < r->cores; k++) {
        const struct sim_core_stats *st = &r->core[k];
        double cpp = per(st->busy_cycles, st->packets);
        fprintf(out, "%-5d %11llu %5.1f%% ", k, (unsigned long long)st->packets,
                r->offered ? 100.0 * st->packets / r->offered : 0.0);
        if (!full) {
            fprintf(out, "%9s %9s %6s %9s %9s %9s %9s\n", "-", "-", "-", "-", "-", "-", "-");
            continue;
        }
        fprintf(out, "%9llu %9llu %5.1f%% %9.1f %9.2f %9.1f %9.2f\n",
                (unsigned long long)st->flows, (unsigned long long)st->drops,
                100 * busy_share(r, st, c), cpp, per(st->bus_ops, st->packets),
                per(st->cycles_lock_wait, st->packets),
                cpp > 0 ? c->ghz * 1e3 / cpp : 0.0);
    }
    if (full) {
        fprintf(out, "\ncycles per packet by cause, and misses per packet:\n");
        fprintf(out, "%-5s %7s %7s %7s %7s %7s %7s %7s %7s  %6s %6s %6s\n", "core", "base",
                "state", "L2 hit", "LLC hit", "DRAM", "coher.", "lock", "wait", "L1 m", "L2 m",
                "LLC m");
        for (int k = 0; k < r->cores; k++) {
            const struct sim_core_stats *st = &r->core[k];
            uint64_t n = st->packets;
            fprintf(out, "%-5d %7.1f %7.1f %7.1f %7.1f %7.1f %7.1f %7.1f %7.1f  %6.2f %6.2f "
                    "%6.2f\n", k, per(st->cycles_base, n), per(st->cycles_state, n),
                    per(st->cycles_l2, n), per(st->cycles_llc, n), per(st->cycles_dram, n),
                    per(st->cycles_coherence, n), per(st->cycles_lock, n),
                    per(st->cycles_lock_wait, n), per(st->l1_misses, n),
                    per(st->l2_misses, n), per(st->llc_misses, n));
        }
    }
    fprintf(out, "\ntotals: %llu packets offered, %llu processed, %llu dropped (%.2f%%), "
            "imbalance %.2f (max/mean)\n", (unsigned long long)r->offered,
            (unsigned long long)r->processed, (unsigned long long)r->drops,
            r->offered ? 100.0 * r->drops / r->offered : 0.0, r->imbalance);
    if (r->reta_round_robin)
        fprintf(out, "  RETA re-derived round-robin (entry %% %d cores)\n", r->cores);
    if (r->reta_balanced)
        fprintf(out, "  RETA re-derived as synth would for %d cores: balanced on this trace's "
                "bucket loads\n", r->cores);
    if (r->no_hash)
        fprintf(out, "  %llu packets not hashed by the NIC (non-IP or flow type off): "
                "RETA[0]'s core\n", (unsigned long long)r->no_hash);
    if (r->skipped_accesses)
        fprintf(out, "  %llu state accesses skipped: packet lacks the key's fields\n",
                (unsigned long long)r->skipped_accesses);
    if (r->path_skipped)
        fprintf(out, "  %llu inserts skipped: their key was already present (path model; "
                "--writes all)\n", (unsigned long long)r->path_skipped);
    if (!full)
        return;
    const char *unit = frame_units ? "frame" : "wire";
    double bpp = r->offered ? (frame_units ? r->wire_bytes * 8.0 : r->wire_bits) / r->offered
                            : 0;
    fprintf(out, "  offered %.3f Mpps (%.3f Gbps %s); throughput %.3f Mpps, %.3f Gbps %s "
            "over %.6f s\n", r->offered_pps / 1e6, r->offered_pps * bpp / 1e9, unit,
            r->mpps, frame_units ? r->gbps : r->gbps_wire, unit, r->duration_s);
    print_rate(out, "cores limit", r->core_limit_pps, bpp, unit);
    print_rate(out, "NIC line rate limit", r->nic_limit_pps, bpp, unit);
    print_rate(out, "PCIe limit", r->pcie_limit_pps, bpp, unit);
    sim_print_wrapped(out, "  bottleneck:", 4, r->bottleneck ? r->bottleneck : "-");
}

static void json_double(struct util_json *w, const char *key, double v)
{
    util_json_key(w, key);
    util_json_double(w, v);
}

static void json_uint(struct util_json *w, const char *key, uint64_t v)
{
    util_json_key(w, key);
    util_json_uint(w, v);
}

void sim_result_write_json(const struct sim_result *r, const struct sim_costs *c,
                           struct util_json *w)
{
    util_json_key(w, "cores");
    util_json_array_begin(w);
    for (int k = 0; k < r->cores; k++) {
        const struct sim_core_stats *st = &r->core[k];
        uint64_t n = st->packets;
        util_json_object_begin(w);
        json_uint(w, "core", (uint64_t)k);
        json_uint(w, "packets", n);
        json_uint(w, "drops", st->drops);
        json_uint(w, "flows", st->flows);
        json_uint(w, "bytes", st->bytes);
        json_double(w, "busy_share", busy_share(r, st, c));
        json_double(w, "cycles_per_packet", per(st->busy_cycles, n));
        util_json_key(w, "cycles_breakdown");
        util_json_object_begin(w);
        json_double(w, "base", per(st->cycles_base, n));
        json_double(w, "state", per(st->cycles_state, n));
        json_double(w, "l2_hit", per(st->cycles_l2, n));
        json_double(w, "llc_hit", per(st->cycles_llc, n));
        json_double(w, "dram", per(st->cycles_dram, n));
        json_double(w, "coherence", per(st->cycles_coherence, n));
        json_double(w, "lock", per(st->cycles_lock, n));
        json_double(w, "lock_wait", per(st->cycles_lock_wait, n));
        util_json_object_end(w);
        util_json_key(w, "misses_per_packet");
        util_json_object_begin(w);
        json_double(w, "l1", per(st->l1_misses, n));
        json_double(w, "l2", per(st->l2_misses, n));
        json_double(w, "llc", per(st->llc_misses, n));
        util_json_object_end(w);
        json_double(w, "accesses_per_packet", per(st->accesses, n));
        json_double(w, "bus_ops_per_packet", per(st->bus_ops, n));
        json_double(w, "invalidations_per_packet", per(st->invalidations, n));
        json_double(w, "transfers_per_packet", per(st->transfers, n));
        json_double(w, "lock_wait_cycles", st->cycles_lock_wait);
        util_json_object_end(w);
    }
    util_json_array_end(w);
    util_json_key(w, "totals");
    util_json_object_begin(w);
    json_uint(w, "offered", r->offered);
    util_json_key(w, "reta_round_robin");
    util_json_bool(w, r->reta_round_robin);
    util_json_key(w, "reta_balanced");
    util_json_bool(w, r->reta_balanced);
    json_uint(w, "processed", r->processed);
    json_uint(w, "drops", r->drops);
    json_uint(w, "not_hashed", r->no_hash);
    json_uint(w, "skipped_accesses", r->skipped_accesses);
    json_uint(w, "path_skipped_inserts", r->path_skipped);
    json_uint(w, "wire_bytes", r->wire_bytes);     /* frame bytes, the name is historic */
    json_double(w, "wire_bits", r->wire_bits);
    json_double(w, "duration_s", r->duration_s);
    json_double(w, "offered_mpps", r->offered_pps / 1e6);
    json_double(w, "offered_gbps", r->offered ? r->offered_pps * r->wire_bits / r->offered / 1e9
                                              : 0);
    json_double(w, "mpps", r->mpps);
    json_double(w, "gbps", r->gbps_wire);
    json_double(w, "gbps_frame", r->gbps);
    json_double(w, "imbalance", r->imbalance);
    json_uint(w, "busiest_core", (uint64_t)r->busiest_core);
    json_double(w, "core_limit_mpps", r->core_limit_pps / 1e6);
    json_double(w, "nic_limit_mpps", r->nic_limit_pps / 1e6);
    json_double(w, "pcie_limit_mpps", r->pcie_limit_pps / 1e6);
    util_json_key(w, "bottleneck");
    util_json_string(w, r->bottleneck ? r->bottleneck : "");
    util_json_key(w, "cause");
    util_json_string(w, sim_cause_name(r->cause));
    util_json_key(w, "cause_core");
    util_json_int(w, r->cause_core);
    util_json_key(w, "first_drop");
    if (r->first_drop_packet) {
        util_json_object_begin(w);
        json_uint(w, "packet", r->first_drop_packet);
        json_uint(w, "core", (uint64_t)r->first_drop_core);
        json_double(w, "t_s", r->first_drop_s);
        util_json_object_end(w);
    } else {
        util_json_null(w);
    }
    util_json_object_end(w);
}

/* ---- State layout ------------------------------------------------------------ */

static const char *source_name(enum sim_size_source s)
{
    return s == SIM_SIZE_PLAN ? "plan" : s == SIM_SIZE_COSTS ? "costs file" : "default";
}

static uint64_t table_bytes(const struct sim_table *t)
{
    return t->entries * t->entry_bytes * t->rows;
}

/* Bytes in the unit that keeps the number short (B, KiB, MiB, GiB). */
static const char *bytes_text(uint64_t b, char *buf, size_t n)
{
    const char *unit[] = {"B", "KiB", "MiB", "GiB"};
    double v = (double)b;
    int u = 0;
    while (v >= 1024 && u < 3) {
        v /= 1024;
        u++;
    }
    snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
    return buf;
}

/* Bytes of the per-core and the shared tables, and how many objects have
 * the default size. */
static int state_totals(const struct rss_plan *plan, const struct sim_costs *c, int cores,
                        uint64_t *per_core, uint64_t *shared)
{
    int defaults = 0;
    *per_core = *shared = 0;
    for (int i = 0; i < plan->deps.n_objects; i++) {
        struct sim_table t;
        sim_object_table(c, &plan->deps.objects[i], cores, &t);
        *(t.per_core ? per_core : shared) += table_bytes(&t);
        defaults += t.source == SIM_SIZE_DEFAULT;
    }
    return defaults;
}

void sim_print_state(FILE *out, const struct rss_plan *plan, const struct sim_costs *c,
                     int cores)
{
    if (plan->deps.n_objects == 0)
        return;
    char b1[32], b2[32], b3[32], b4[32];
    fprintf(out, "state as simulated (per core unless shared; sizes: where the table's "
            "length came from):\n");
    fprintf(out, "%-26s %-7s %-10s %10s %6s %4s %10s  %s\n", "object", "kind", "decision",
            "entries", "bytes", "rows", "table", "sizes");
    for (int i = 0; i < plan->deps.n_objects; i++) {
        const struct deps_object *d = &plan->deps.objects[i];
        struct sim_table t;
        sim_object_table(c, d, cores, &t);
        fprintf(out, "%-26.26s %-7s %-10s %10llu %6u %4u %10s  %s\n", d->name,
                deps_kind_name(d->kind), deps_decision_name(d->decision),
                (unsigned long long)t.entries, t.entry_bytes, t.rows,
                bytes_text(table_bytes(&t), b1, sizeof b1), source_name(t.source));
    }
    uint64_t per_core, shared;
    int defaults = state_totals(plan, c, cores, &per_core, &shared);
    if (defaults)
        fprintf(out, "%d object(s) use the costs file's default size: the plan does not carry "
                "theirs\n(re-run 'rsskey synth', or set object.NAME.capacity in a costs "
                "file)\n", defaults);
    fprintf(out, "per core %s + shared %s; caches: L2 %s per core, LLC %s\n\n",
            bytes_text(per_core, b1, sizeof b1), bytes_text(shared, b2, sizeof b2),
            bytes_text(c->l2_bytes, b3, sizeof b3), bytes_text(c->llc_bytes, b4, sizeof b4));
}

void sim_state_write_json(const struct rss_plan *plan, const struct sim_costs *c, int cores,
                          struct util_json *w)
{
    uint64_t per_core, shared;
    state_totals(plan, c, cores, &per_core, &shared);
    util_json_key(w, "state");
    util_json_object_begin(w);
    json_uint(w, "per_core_bytes", per_core);
    json_uint(w, "shared_bytes", shared);
    util_json_key(w, "objects");
    util_json_array_begin(w);
    for (int i = 0; i < plan->deps.n_objects; i++) {
        const struct deps_object *d = &plan->deps.objects[i];
        struct sim_table t;
        sim_object_table(c, d, cores, &t);
        util_json_object_begin(w);
        util_json_key(w, "name");
        util_json_string(w, d->name);
        util_json_key(w, "per_core");
        util_json_bool(w, t.per_core);
        json_uint(w, "entries", t.entries);
        json_uint(w, "entry_bytes", t.entry_bytes);
        json_uint(w, "rows", t.rows);
        json_uint(w, "bytes", table_bytes(&t));
        util_json_key(w, "sizes_from");
        util_json_string(w, source_name(t.source));
        util_json_object_end(w);
    }
    util_json_array_end(w);
    util_json_object_end(w);
}
