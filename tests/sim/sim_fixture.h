/*
 * sim_fixture.h - plans and packets built in code for the simulator's tests:
 * the 82599 datasheet key, a round-robin RETA, objects and accesses by hand,
 * and seeded pseudo-random IPv4 TCP/UDP flows.
 */
#ifndef RSSKEY_TESTS_SIM_FIXTURE_H
#define RSSKEY_TESTS_SIM_FIXTURE_H

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "rss/rss.h"
#include "sim/sim.h"

static const uint8_t fixture_key[40] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

/* IPv4 + IPv6, TCP and UDP, all fields (DPDK bit values). */
#define FIXTURE_RSS_HF ((1ULL << 2) | (1ULL << 4) | (1ULL << 5) | (1ULL << 8) | \
                        (1ULL << 10) | (1ULL << 11))

/* A plan with n_ports ports, a 128-entry round-robin RETA over cores, and
 * room for objects and accesses the test adds. */
static inline void fixture_plan(struct rss_plan *p, int cores, int n_ports)
{
    memset(p, 0, sizeof *p);
    strcpy(p->nic, "test");
    p->cores = cores;
    p->n_ports = n_ports;
    for (int i = 0; i < n_ports; i++) {
        struct rss_port_config *c = &p->ports[i];
        c->port = i;
        memcpy(c->key, fixture_key, 40);
        c->key_len = 40;
        c->rss_hf = FIXTURE_RSS_HF;
        c->reta_size = 128;
        for (int k = 0; k < 128; k++)
            c->reta[k] = (uint16_t)(k % cores);
    }
    p->deps.n_ports = n_ports;
    p->deps.objects = calloc(8, sizeof *p->deps.objects);
    p->deps.accesses = calloc(32, sizeof *p->deps.accesses);
}

static inline int fixture_object(struct rss_plan *p, const char *name,
                                 enum deps_object_kind kind, enum deps_decision d)
{
    struct deps_object *o = &p->deps.objects[p->deps.n_objects];
    strcpy(o->name, name);
    o->kind = kind;
    o->decision = d;
    return p->deps.n_objects++;
}

/* An access on port keyed by the given fields (terminated by -1). */
static inline void fixture_access(struct rss_plan *p, int object, enum deps_op op, int port,
                                  const int *fields)
{
    struct deps_access *a = &p->deps.accesses[p->deps.n_accesses++];
    a->object = object;
    a->op = op;
    a->port = port;
    for (int i = 0; fields[i] >= 0; i++)
        a->key.fields[a->key.count++].id = (enum ir_field_id)fields[i];
    strcpy(a->file, "fixture.c");
    a->line = 10 + p->deps.n_accesses;
}

static inline void fixture_plan_free(struct rss_plan *p)
{
    free(p->deps.objects);
    free(p->deps.accesses);
    memset(&p->deps, 0, sizeof p->deps);
}

static inline uint64_t fixture_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* n packets over `flows` IPv4 flows (TCP or UDP), 1 us apart, 64 bytes. */
static inline struct trace_packet *fixture_packets(uint64_t n, uint32_t flows, uint64_t seed)
{
    struct trace_packet *pk = calloc(n, sizeof *pk);
    uint64_t s = seed | 1;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t f = fixture_rand(&s) % flows;
        uint64_t fs = (f + 1) * 0x9e3779b97f4a7c15ULL;
        struct trace_tuple *t = &pk[i].tuple;
        t->ip_version = 4;
        t->proto = (fs >> 60) & 1 ? 17 : 6;
        t->has_ports = true;
        uint32_t src = htonl(0x0a000000u | (uint32_t)(fs & 0xffffff));
        uint32_t dst = htonl(0xc0a80000u | (uint32_t)((fs >> 24) & 0xffff));
        memcpy(t->src, &src, 4);
        memcpy(t->dst, &dst, 4);
        t->sport = htons((uint16_t)(1024 + ((fs >> 40) % 60000)));
        t->dport = htons((uint16_t)(((fs >> 56) & 1) ? 443 : 80));
        t->src_mac[5] = (uint8_t)f;
        t->dst_mac[5] = 0xee;
        pk[i].time_ns = i * 1000;
        pk[i].wire_len = 64;
        pk[i].cap_len = 64;
        pk[i].port = 0;
    }
    return pk;
}

#endif /* RSSKEY_TESTS_SIM_FIXTURE_H */
