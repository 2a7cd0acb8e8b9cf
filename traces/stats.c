/*
 * stats.c - trace summaries: totals, protocol mix, and distinct directional
 * 5-tuple flows counted in an open-addressing (linear probing) hash table
 * that doubles at half load. Memory is per flow, never per packet.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/traces.h"

#define INITIAL_CAPACITY 1024

void trace_stats_init(struct trace_stats *s)
{
    memset(s, 0, sizeof *s);
}

void trace_stats_free(struct trace_stats *s)
{
    free(s->flows);
    s->flows = NULL;
    s->capacity = s->n_flows = 0;
}

static uint64_t hash_key(const struct trace_flow_key *k)
{
    uint64_t w[5];
    memcpy(w, k, sizeof w);
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 5; i++) {
        h ^= w[i];
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    return h;
}

_Static_assert(sizeof(struct trace_flow_key) == 40, "flow key is hashed as five words");

static struct trace_flow *find_slot(struct trace_flow *table, size_t capacity,
                                    const struct trace_flow_key *k)
{
    size_t mask = capacity - 1;
    for (size_t i = hash_key(k) & mask;; i = (i + 1) & mask) {
        struct trace_flow *f = &table[i];
        if (f->packets == 0 || memcmp(&f->key, k, sizeof *k) == 0)
            return f;
    }
}

static int grow(struct trace_stats *s, struct util_error *err)
{
    size_t capacity = s->capacity ? s->capacity * 2 : INITIAL_CAPACITY;
    struct trace_flow *table = calloc(capacity, sizeof *table);
    if (!table) {
        util_error_set(err, "out of memory: flow table of %zu entries (%zu flows so far)",
                       capacity, s->n_flows);
        return -1;
    }
    for (size_t i = 0; i < s->capacity; i++)
        if (s->flows[i].packets)
            *find_slot(table, capacity, &s->flows[i].key) = s->flows[i];
    free(s->flows);
    s->flows = table;
    s->capacity = capacity;
    return 0;
}

int trace_stats_add(struct trace_stats *s, const struct trace_packet *p, struct util_error *err)
{
    const struct trace_tuple *t = &p->tuple;
    if (s->packets == 0 || p->time_ns < s->first_ns)
        s->first_ns = p->time_ns;
    if (s->packets == 0 || p->time_ns > s->last_ns)
        s->last_ns = p->time_ns;
    s->packets++;
    s->cap_bytes += p->cap_len;
    s->wire_bytes += p->wire_len;
    if (p->cap_len < p->wire_len)
        s->truncated++;
    if (p->port < TRACE_STATS_PORTS)
        s->port_packets[p->port]++;
    if (t->ip_version == 4)
        s->ipv4++;
    else if (t->ip_version == 6)
        s->ipv6++;
    else {
        s->non_ip++;
        return 0;
    }
    if (t->is_fragment)
        s->fragments++;
    if (t->proto == 6)
        s->tcp++;
    else if (t->proto == 17)
        s->udp++;
    else
        s->other_l4++;
    if (!t->has_ports)
        return 0;

    struct trace_flow_key k;
    memset(&k, 0, sizeof k);
    k.ip_version = t->ip_version;
    k.proto = t->proto;
    k.sport = t->sport;
    k.dport = t->dport;
    size_t addr_len = t->ip_version == 4 ? 4 : 16;
    memcpy(k.src, t->src, addr_len);
    memcpy(k.dst, t->dst, addr_len);
    if ((s->n_flows + 1) * 2 > s->capacity && grow(s, err) != 0)
        return -1;
    struct trace_flow *f = find_slot(s->flows, s->capacity, &k);
    if (f->packets == 0) {
        f->key = k;
        s->n_flows++;
    }
    f->packets++;
    f->wire_bytes += p->wire_len;
    s->flow_packets++;
    return 0;
}

double trace_stats_duration_s(const struct trace_stats *s)
{
    return s->packets ? (double)(s->last_ns - s->first_ns) / 1e9 : 0.0;
}

static int compare_flows_desc(const void *a, const void *b)
{
    const struct trace_flow *x = a, *y = b;
    if (x->packets != y->packets)
        return x->packets < y->packets ? 1 : -1;
    if (x->wire_bytes != y->wire_bytes)
        return x->wire_bytes < y->wire_bytes ? 1 : -1;
    return memcmp(&x->key, &y->key, sizeof x->key);
}

size_t trace_stats_top_flows(const struct trace_stats *s, struct trace_flow *out, size_t n)
{
    /* A running top-n by insertion: n is small (a terminal's worth). */
    size_t have = 0;
    for (size_t i = 0; i < s->capacity && n > 0; i++) {
        const struct trace_flow *f = &s->flows[i];
        if (f->packets == 0)
            continue;
        if (have == n && compare_flows_desc(f, &out[n - 1]) >= 0)
            continue;
        size_t j = have < n ? have++ : n - 1;
        while (j > 0 && compare_flows_desc(f, &out[j - 1]) < 0) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = *f;
    }
    return have;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int trace_stats_flow_percentiles(const struct trace_stats *s, const double *pct, size_t n,
                                 uint64_t *out, struct util_error *err)
{
    memset(out, 0, n * sizeof *out);
    if (s->n_flows == 0)
        return 0;
    uint64_t *sizes = malloc(s->n_flows * sizeof *sizes);
    if (!sizes) {
        util_error_set(err, "out of memory sorting %zu flow sizes", s->n_flows);
        return -1;
    }
    size_t m = 0;
    for (size_t i = 0; i < s->capacity; i++)
        if (s->flows[i].packets)
            sizes[m++] = s->flows[i].packets;
    qsort(sizes, m, sizeof *sizes, compare_u64);
    for (size_t i = 0; i < n; i++) {
        double p = pct[i] < 0 ? 0 : pct[i] > 100 ? 100 : pct[i];
        size_t rank = (size_t)ceil(p / 100.0 * (double)m - 1e-9);   /* nearest rank */
        out[i] = sizes[rank == 0 ? 0 : rank - 1];
    }
    free(sizes);
    return 0;
}

void trace_flow_format(const struct trace_flow_key *k, char *buf, size_t size)
{
    char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
    int af = k->ip_version == 4 ? AF_INET : AF_INET6;
    inet_ntop(af, k->src, src, sizeof src);
    inet_ntop(af, k->dst, dst, sizeof dst);
    const char *proto = k->proto == 6 ? "tcp" : k->proto == 17 ? "udp" : "ip";
    if (af == AF_INET)
        snprintf(buf, size, "%s:%u > %s:%u %s", src, ntohs(k->sport), dst, ntohs(k->dport),
                 proto);
    else
        snprintf(buf, size, "[%s]:%u > [%s]:%u %s", src, ntohs(k->sport), dst,
                 ntohs(k->dport), proto);
}
