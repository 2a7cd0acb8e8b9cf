/*
 * nf_plans.c - the expected plans of the reference NFs, built by hand so the
 * rss tests do not depend on the analysis.
 */
#include "tests/rss/nf_plans.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[NF_PLAN_COUNT] = {"nop", "sbridge", "dbridge", "policer", "fw",
                                                 "nat", "cl", "psd", "lb", "hhh"};

const char *nf_plan_name(int i)
{
    return i >= 0 && i < NF_PLAN_COUNT ? names[i] : NULL;
}

static struct deps_object *add_object(struct deps_plan *p, const char *name,
                                      enum deps_object_kind kind, enum deps_decision d)
{
    p->objects = realloc(p->objects, (size_t)(p->n_objects + 1) * sizeof *p->objects);
    struct deps_object *o = &p->objects[p->n_objects];
    memset(o, 0, sizeof *o);
    snprintf(o->name, sizeof o->name, "%s", name);
    o->kind = kind;
    o->group = p->n_objects;
    o->decision = d;
    snprintf(o->reason, sizeof o->reason, "hand-built expected plan");
    p->n_objects++;
    return o;
}

/* key(o, port, "ipv4.src", "l4.sport", NULL) */
static void key(struct deps_object *o, int port, ...)
{
    static const struct { const char *name; enum ir_field_id id; } table[] = {
        {"eth.src", IR_FIELD_ETH_SRC}, {"eth.dst", IR_FIELD_ETH_DST},
        {"ipv4.src", IR_FIELD_IPV4_SRC}, {"ipv4.dst", IR_FIELD_IPV4_DST},
        {"ip.proto", IR_FIELD_IP_PROTO}, {"l4.sport", IR_FIELD_L4_SPORT},
        {"l4.dport", IR_FIELD_L4_DPORT}, {"ipv6.src", IR_FIELD_IPV6_SRC},
        {"ipv6.dst", IR_FIELD_IPV6_DST},
    };
    va_list ap;
    va_start(ap, port);
    struct deps_key *k = &o->ports[port];
    k->count = 0;
    for (const char *f = va_arg(ap, const char *); f; f = va_arg(ap, const char *)) {
        char base[32];
        snprintf(base, sizeof base, "%s", f);
        int prefix = 0;
        char *slash = strchr(base, '/');
        if (slash) {
            prefix = atoi(slash + 1);
            *slash = '\0';
        }
        for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
            if (!strcmp(table[i].name, base)) {
                k->fields[k->count].id = table[i].id;
                k->fields[k->count].prefix = (uint8_t)prefix;
                k->count++;
            }
    }
    va_end(ap);
}

int nf_plan_build(const char *name, struct deps_plan *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->nf, sizeof p->nf, "%s", name);
    p->n_ports = 2;
    struct deps_object *o;
    if (!strcmp(name, "nop")) {
    } else if (!strcmp(name, "sbridge")) {
        o = add_object(p, "mac_table", DEPS_KIND_MAP, DEPS_REPLICATED);
        key(o, 0, "eth.dst", NULL);
        key(o, 1, "eth.dst", NULL);
    } else if (!strcmp(name, "dbridge")) {
        add_object(p, "mac_table", DEPS_KIND_MAP, DEPS_SHARED);
    } else if (!strcmp(name, "policer")) {
        o = add_object(p, "buckets", DEPS_KIND_MAP, DEPS_SHARDED);
        key(o, 1, "ipv4.dst", NULL);
    } else if (!strcmp(name, "fw")) {
        o = add_object(p, "flows", DEPS_KIND_MAP, DEPS_SHARDED);
        key(o, 0, "ipv4.src", "ipv4.dst", "l4.sport", "l4.dport", "ip.proto", NULL);
        key(o, 1, "ipv4.dst", "ipv4.src", "l4.dport", "l4.sport", "ip.proto", NULL);
        o = add_object(p, "flow_alloc", DEPS_KIND_ALLOC, DEPS_SHARDED);
        key(o, 0, "ipv4.src", "ipv4.dst", "l4.sport", "l4.dport", "ip.proto", NULL);
        key(o, 1, "ipv4.dst", "ipv4.src", "l4.dport", "l4.sport", "ip.proto", NULL);
    } else if (!strcmp(name, "nat")) {
        o = add_object(p, "flows", DEPS_KIND_MAP, DEPS_SHARDED);
        key(o, 0, "ipv4.dst", NULL);
        key(o, 1, "ipv4.src", NULL);
    } else if (!strcmp(name, "cl")) {
        o = add_object(p, "sketch", DEPS_KIND_SKETCH, DEPS_SHARDED);
        key(o, 0, "ipv4.src", "ipv4.dst", NULL);
        key(o, 1, "ipv4.dst", "ipv4.src", NULL);
        o = add_object(p, "flows", DEPS_KIND_MAP, DEPS_SHARDED);
        key(o, 0, "ipv4.src", "ipv4.dst", NULL);
        key(o, 1, "ipv4.dst", "ipv4.src", NULL);
    } else if (!strcmp(name, "psd")) {
        o = add_object(p, "sources", DEPS_KIND_MAP, DEPS_SHARDED);
        key(o, 0, "ipv4.src", NULL);
        o = add_object(p, "ports_seen", DEPS_KIND_MAP, DEPS_SHARDED);
        key(o, 0, "ipv4.src", "l4.dport", NULL);
    } else if (!strcmp(name, "lb")) {
        o = add_object(p, "flows", DEPS_KIND_MAP, DEPS_SHARDED);
        key(o, 0, "ipv4.src", "ipv4.dst", "l4.sport", "l4.dport", "ip.proto", NULL);
        o = add_object(p, "backends", DEPS_KIND_VECTOR, DEPS_SHARED);
        key(o, 1, "ipv4.src", NULL);
        add_object(p, "chash", DEPS_KIND_CHASH, DEPS_SHARED);
    } else if (!strcmp(name, "nat-ports")) {
        /* What the real analysis finds: the remote host and its port. */
        o = add_object(p, "flows", DEPS_KIND_MAP, DEPS_SHARDED);
        key(o, 0, "ipv4.dst", "l4.dport", NULL);
        key(o, 1, "ipv4.src", "l4.sport", NULL);
    } else if (!strcmp(name, "sport-only")) {
        /* Without selectors the zeros beside a lone port field leave 8 free key
         * bits in its window: rank 8 of 9 on a 512-entry table. */
        o = add_object(p, "by_sport", DEPS_KIND_MAP, DEPS_SHARDED);
        key(o, 0, "l4.sport", NULL);
    } else if (!strcmp(name, "nat6")) {
        /* An IPv6 NAT-like plan: the remote host on both sides, plus a flow
         * table keyed on the LAN side's 5-tuple. */
        o = add_object(p, "hosts", DEPS_KIND_MAP, DEPS_SHARDED);
        key(o, 0, "ipv6.dst", NULL);
        key(o, 1, "ipv6.src", NULL);
        o = add_object(p, "flows", DEPS_KIND_MAP, DEPS_SHARDED);
        key(o, 0, "ipv6.dst", "l4.dport", "ipv6.src", "l4.sport", NULL);
    } else if (!strcmp(name, "hhh")) {
        o = add_object(p, "counters", DEPS_KIND_MAP, DEPS_SHARDED);
        key(o, 0, "ipv4.src/8", NULL);
    } else {
        return -1;
    }
    return 0;
}
