/*
 * costs.c - the cost model's parameters: defaults for a current server, and
 * the "name = value" file form (sim/costs/default.conf is its documented
 * copy). One table lists every parameter once, with its documentation, so
 * reading, writing and the docs cannot drift apart.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_internal.h"

enum param_type { P_DOUBLE, P_U64, P_U32 };

struct param {
    const char *name;
    enum param_type type;
    size_t offset;
    const char *doc;
};

#define D(field, doc) {#field, P_DOUBLE, offsetof(struct sim_costs, field), doc}
#define U64(field, doc) {#field, P_U64, offsetof(struct sim_costs, field), doc}
#define U32(field, doc) {#field, P_U32, offsetof(struct sim_costs, field), doc}

static const struct param params[] = {
    D(ghz, "core clock, GHz"),
    U64(l1_bytes, "private L1 data cache per core, bytes (64-byte lines)"),
    U32(l1_ways, "L1 associativity"),
    D(l1_cycles, "L1 hit latency, cycles (already inside the per-access costs)"),
    U64(l2_bytes, "private L2 per core, bytes; 0 = no L2"),
    U32(l2_ways, "L2 associativity"),
    D(l2_cycles, "L2 hit latency, cycles (charged on an L1 miss)"),
    U64(llc_bytes, "shared last-level cache, bytes"),
    U32(llc_ways, "LLC associativity"),
    D(llc_cycles, "LLC hit latency, cycles (charged on a private-cache miss)"),
    D(dram_cycles, "DRAM latency, cycles (charged on an LLC miss)"),
    D(transfer_cycles, "a line another core holds modified (cache-to-cache transfer)"),
    D(invalidate_cycles, "a write to a line other cores hold (invalidate their copies)"),
    D(base_cycles, "per packet: driver RX/TX, parsing, forwarding, no state"),
    D(read_cycles, "per state read (map get, vector read, lookups), L1 hits included"),
    D(write_cycles, "per state write (map put/erase, vector write, sketch add, counter)"),
    D(alloc_cycles, "per allocator operation (allocate, refresh, free)"),
    D(expire_cycles, "per expiry sweep call (nothing expiring)"),
    D(lock_read_cycles, "shared object: take and release the own core's read token"),
    D(lock_write_cycles, "shared object: a writer, per core's token it takes"),
    U32(ring_size, "RX descriptors per core (ring overflow = drop)"),
    D(nic_gbps, "NIC line rate per port, Gbit/s"),
    D(pcie_gbps, "usable PCIe bandwidth for all ports, Gbit/s"),
    U32(pcie_overhead_bytes, "PCIe bytes per packet besides the frame (descriptors, TLPs)"),
    U64(default_capacity, "entries of a state object the plan does not size"),
    U32(default_entry_bytes, "bytes per entry of such an object"),
    U32(sketch_rows, "rows (lines) one count-min sketch access touches"),
};

#define N_PARAMS (sizeof params / sizeof params[0])

void sim_costs_default(struct sim_costs *c)
{
    memset(c, 0, sizeof *c);
    c->ghz = 3.0;
    c->l1_bytes = 32 << 10;
    c->l1_ways = 8;
    c->l1_cycles = 4;
    c->l2_bytes = 1 << 20;
    c->l2_ways = 16;
    c->l2_cycles = 14;
    c->llc_bytes = 32 << 20;
    c->llc_ways = 16;
    c->llc_cycles = 50;
    c->dram_cycles = 200;
    c->transfer_cycles = 100;
    c->invalidate_cycles = 60;
    c->base_cycles = 120;
    c->read_cycles = 25;
    c->write_cycles = 35;
    c->alloc_cycles = 40;
    c->expire_cycles = 20;
    c->lock_read_cycles = 20;
    c->lock_write_cycles = 40;
    c->ring_size = 1024;
    c->nic_gbps = 100;
    c->pcie_gbps = 126;
    c->pcie_overhead_bytes = 48;
    c->default_capacity = 65536;
    c->default_entry_bytes = 64;
    c->sketch_rows = 4;
}

static const struct param *find_param(const char *name)
{
    for (size_t i = 0; i < N_PARAMS; i++)
        if (strcmp(params[i].name, name) == 0)
            return &params[i];
    return NULL;
}

/* "object.NAME.capacity" or "object.NAME.entry_bytes". */
static int set_override(struct sim_costs *c, const char *name, unsigned long long v)
{
    const char *rest = name + strlen("object.");
    const char *dot = strrchr(rest, '.');
    if (!dot || dot == rest || (size_t)(dot - rest) >= DEPS_NAME_MAX)
        return -1;
    bool cap = strcmp(dot + 1, "capacity") == 0;
    if (!cap && strcmp(dot + 1, "entry_bytes") != 0)
        return -1;
    struct sim_object_override *o = NULL;
    for (int i = 0; i < c->n_overrides; i++)
        if (strncmp(c->overrides[i].name, rest, dot - rest) == 0 &&
            c->overrides[i].name[dot - rest] == '\0')
            o = &c->overrides[i];
    if (!o) {
        if (c->n_overrides == SIM_MAX_OVERRIDES)
            return -1;
        o = &c->overrides[c->n_overrides++];
        memset(o, 0, sizeof *o);
        memcpy(o->name, rest, dot - rest);
    }
    if (cap)
        o->capacity = v;
    else
        o->entry_bytes = (uint32_t)v;
    return 0;
}

int sim_costs_read(const char *path, struct sim_costs *c, struct util_error *err)
{
    size_t len;
    char *text = util_read_file(path, &len, err);
    if (!text)
        return UTIL_EXIT_IO;
    int rc = 0, got;
    struct util_kv_reader kv;
    char *name, *value, *end;
    util_kv_begin(&kv, text);
    while ((got = util_kv_next(&kv, path, &name, &value, err)) == 1) {
        errno = 0;
        double v = strtod(value, &end);
        /* !(v >= 0) also refuses NaN; inf and 1e300 are out of every range. */
        if (end == value || *end || errno || !(v >= 0) || !isfinite(v)) {
            util_error_set(err, "%s:%d: '%s' needs a finite non-negative number, got '%s'",
                           path, kv.line, name, value);
            rc = UTIL_EXIT_INPUT;
            break;
        }
        const struct param *p = find_param(name);
        bool integral = !p || p->type != P_DOUBLE;
        double max = !p ? (strstr(name, ".entry_bytes") ? (double)UINT32_MAX : 9007199254740992.0)
                     : p->type == P_U32 ? (double)UINT32_MAX
                     : p->type == P_U64 ? 9007199254740992.0 : 1e15;
        if (v > max || (integral && v != (double)(uint64_t)v)) {   /* range first: no UB cast */
            util_error_set(err, "%s:%d: '%s' = '%s' is out of range: %s from 0 to %.0f",
                           path, kv.line, name, value,
                           integral ? "a whole number" : "a number", max);
            rc = UTIL_EXIT_INPUT;
            break;
        }
        if (!p && strncmp(name, "object.", 7) == 0 &&
            set_override(c, name, (unsigned long long)v) == 0)
            continue;
        if (!p) {
            util_error_set(err, "%s:%d: unknown parameter '%s' (see sim/costs/default.conf "
                           "for the list)", path, kv.line, name);
            rc = UTIL_EXIT_INPUT;
            break;
        }
        char *field = (char *)c + p->offset;
        if (p->type == P_DOUBLE)
            *(double *)field = v;
        else if (p->type == P_U64)
            *(uint64_t *)field = (uint64_t)v;
        else
            *(uint32_t *)field = (uint32_t)v;
    }
    if (got < 0)
        rc = UTIL_EXIT_INPUT;
    free(text);
    if (rc == 0 && (c->ghz <= 0 || c->ring_size == 0 || c->l1_ways == 0 || c->llc_ways == 0 ||
                    (c->l2_bytes && c->l2_ways == 0) || c->default_capacity == 0 ||
                    c->default_entry_bytes == 0)) {
        util_error_set(err, "%s: ghz, ring_size, cache ways, default_capacity and "
                       "default_entry_bytes must be positive", path);
        rc = UTIL_EXIT_INPUT;
    }
    if (rc == 0 && c->ghz > 100) {
        util_error_set(err, "%s: ghz = %g: a core's clock is in GHz (0 < ghz <= 100)", path,
                       c->ghz);
        rc = UTIL_EXIT_INPUT;
    }
    return rc;
}

static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#include <stdarg.h>
static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (*len + n + 1 > *cap) {
        size_t ncap = (*cap + n + 1) * 2;
        char *nb = realloc(*buf, ncap);
        if (!nb)
            return;
        *buf = nb;
        *cap = ncap;
    }
    va_start(ap, fmt);
    vsnprintf(*buf + *len, *cap - *len, fmt, ap);
    va_end(ap);
    *len += n;
}

char *sim_costs_format(const struct sim_costs *c, const char *header_comment)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    if (header_comment)
        append(&buf, &len, &cap, "%s", header_comment);
    for (size_t i = 0; i < N_PARAMS; i++) {
        const struct param *p = &params[i];
        const char *field = (const char *)c + p->offset;
        char value[64];
        if (p->type == P_DOUBLE)
            snprintf(value, sizeof value, "%.6g", *(const double *)field);
        else if (p->type == P_U64)
            snprintf(value, sizeof value, "%llu",
                     (unsigned long long)*(const uint64_t *)field);
        else
            snprintf(value, sizeof value, "%u", *(const uint32_t *)field);
        append(&buf, &len, &cap, "# %s\n%s = %s\n", p->doc, p->name, value);
    }
    for (int i = 0; i < c->n_overrides; i++) {
        const struct sim_object_override *o = &c->overrides[i];
        if (o->capacity)
            append(&buf, &len, &cap, "object.%s.capacity = %llu\n", o->name,
                   (unsigned long long)o->capacity);
        if (o->entry_bytes)
            append(&buf, &len, &cap, "object.%s.entry_bytes = %u\n", o->name, o->entry_bytes);
    }
    return buf;
}
