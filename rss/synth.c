/*
 * synth.c - key synthesis: turns the sharded objects of a deps plan into
 * equalities between key bits (and bits fixed to 0), adds the spreading
 * requirement of each field as a choice of triangular patterns, solves for
 * every port's key at once with Z3, and falls back to a mixed plan when the
 * unsat core names conflicting objects. The encoding is explained in
 * docs/rss.md.
 *
 * Variables: one Boolean per (port, key bit). With m = log2(RETA size) the
 * index bits are hash bits j = 32-m .. 31, and input bit i feeds index bit j
 * through key bit i+j.
 */
#include "rss/rss_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <z3.h>

#define KEY_BITS_MAX (RSS_KEY_MAX * 8)
#define N_VARS (DEPS_MAX_PORTS * KEY_BITS_MAX)
/* Owners of the per-port spreading requirements: OWNER_QUALITY - qkey, one
 * per (port, IP version, field), so an unsat core names the field. */
#define OWNER_QUALITY (-100)
#define N_QKEYS (DEPS_MAX_PORTS * 64)

static int qkey(int port, int version, enum ir_field_id id)
{
    return port * 64 + (version == 6 ? 32 : 0) + (int)id;
}

static int var_of(int port, int bit)
{
    return port * KEY_BITS_MAX + bit;
}

/* a == 0 when b < 0, a == b otherwise. */
struct bit_constraint {
    int a, b;
    int owner;
};

/* "The map from `rows` low-order kept bits of a field to the m index bits has
 * rank d": some d x d submatrix is triangular with ones on its anti-diagonal.
 * The submatrix entries are s[u + r + c] where s[k] is key bit base + k. */
struct spread_req {
    int port, owner;
    int group;                  /* >= 0: one req of the group suffices; -1: alone */
    int base, rows, m, d;
    int chosen;                 /* option picked by the model */
};

struct system {
    struct bit_constraint *cons;
    int n_cons, cap_cons;
    struct spread_req *reqs;
    int n_reqs, cap_reqs;
};

static void add_cons(struct system *s, int a, int b, int owner)
{
    if (s->n_cons == s->cap_cons) {
        s->cap_cons = s->cap_cons ? 2 * s->cap_cons : 4096;
        s->cons = realloc(s->cons, (size_t)s->cap_cons * sizeof *s->cons);
        if (!s->cons)
            abort();
    }
    s->cons[s->n_cons++] = (struct bit_constraint){a, b, owner};
}

static void add_req(struct system *s, struct spread_req r)
{
    for (int i = 0; i < s->n_reqs; i++) {
        const struct spread_req *o = &s->reqs[i];
        if (o->port == r.port && o->owner == r.owner && o->base == r.base &&
            o->rows == r.rows && o->group == r.group)
            return;
    }
    if (s->n_reqs == s->cap_reqs) {
        s->cap_reqs = s->cap_reqs ? 2 * s->cap_reqs : 64;
        s->reqs = realloc(s->reqs, (size_t)s->cap_reqs * sizeof *s->reqs);
        if (!s->reqs)
            abort();
    }
    s->reqs[s->n_reqs++] = r;
}

/* Options of a spread requirement: offset u in 0 .. (rows-d)+(m-d), and the
 * zero triangle below (0) or above (1) the anti-diagonal. */
static int req_options(const struct spread_req *r)
{
    return 2 * ((r->rows - r->d) + (r->m - r->d) + 1);
}

/* Calls fn(key bit, value) for each bit option `opt` fixes. */
static void req_pattern(const struct spread_req *r, int opt,
                        void (*fn)(void *ctx, int bit, int value), void *ctx)
{
    int u = opt / 2, above = opt % 2, d = r->d;
    fn(ctx, r->base + u + d - 1, 1);
    for (int k = 0; k < d - 1; k++)
        fn(ctx, r->base + (above ? u + k : u + d + k), 0);
}

/* ---- Which fields each port hashes ---------------------------------------------- */

enum { F_SRC = 1, F_DST = 2, F_SPORT = 4, F_DPORT = 8 };

static int field_class(enum ir_field_id id)
{
    switch (id) {
    case IR_FIELD_IPV4_SRC: case IR_FIELD_IPV6_SRC: return F_SRC;
    case IR_FIELD_IPV4_DST: case IR_FIELD_IPV6_DST: return F_DST;
    case IR_FIELD_L4_SPORT: return F_SPORT;
    case IR_FIELD_L4_DPORT: return F_DPORT;
    default: return 0;
    }
}

static bool key_has_ports(const struct deps_key *k)
{
    for (int i = 0; i < k->count; i++)
        if (field_class(k->fields[i].id) & (F_SPORT | F_DPORT))
            return true;
    return false;
}

/* IP versions a key's packets can have: 4, 6, or 0 (either). */
static int key_version(const struct deps_key *k)
{
    for (int i = 0; i < k->count; i++)
        if (rss_field_version(k->fields[i].id))
            return rss_field_version(k->fields[i].id);
    return 0;
}

static bool key_hashable(const struct deps_key *k)
{
    for (int i = 0; i < k->count; i++)
        if (field_class(k->fields[i].id) && rss_field_kept(k->fields[i]) > 0)
            return true;
    return false;
}

static uint64_t l4_types(int v)
{
    return v == 4 ? RSS_HF_NONFRAG_IPV4_TCP | RSS_HF_NONFRAG_IPV4_UDP
                  : RSS_HF_NONFRAG_IPV6_TCP | RSS_HF_NONFRAG_IPV6_UDP;
}

/* The rss_hf for a port whose objects all allow the field classes `allowed`
 * (packets of IP versions `versions`, bit 0 = v4, bit 1 = v6). */
static uint64_t choose_hf(const struct rss_nic *nic, bool constrained, int allowed, int versions)
{
    uint64_t hf = 0;
    if (!constrained) {
        hf = RSS_HF_IPV4 | RSS_HF_FRAG_IPV4 | RSS_HF_NONFRAG_IPV4_OTHER | l4_types(4) |
             RSS_HF_IPV6 | RSS_HF_FRAG_IPV6 | RSS_HF_NONFRAG_IPV6_OTHER | l4_types(6);
        return hf & nic->hf_supported;
    }
    bool l4 = allowed & (F_SPORT | F_DPORT);
    for (int v = 4; v <= 6; v += 2) {
        if (!(versions & (v == 4 ? 1 : 2)))
            continue;
        /* L3 hashing for what has no ports: plain IPV4 where the driver takes it,
         * the fragment and "other" types where it thinks in packet types. */
        hf |= v == 4 ? RSS_HF_IPV4 | RSS_HF_FRAG_IPV4 | RSS_HF_NONFRAG_IPV4_OTHER
                     : RSS_HF_IPV6 | RSS_HF_FRAG_IPV6 | RSS_HF_NONFRAG_IPV6_OTHER;
        if (l4 || !nic->l3_hashes_l4)
            hf |= l4_types(v);
    }
    uint64_t sel = 0;
    if (!(allowed & F_SRC) != !(allowed & F_DST))
        sel |= (allowed & F_SRC) ? RSS_HF_L3_SRC_ONLY : RSS_HF_L3_DST_ONLY;
    if (l4 && !(allowed & F_SPORT) != !(allowed & F_DPORT))
        sel |= (allowed & F_SPORT) ? RSS_HF_L4_SRC_ONLY : RSS_HF_L4_DST_ONLY;
    if ((sel & nic->hf_supported) == sel)
        hf |= sel;
    return hf & nic->hf_supported;
}

struct port_layouts {
    int n;
    struct rss_layout l[4];
};

static void layouts_of(uint64_t hf, struct port_layouts *pl)
{
    pl->n = 0;
    for (int v = 4; v <= 6; v += 2)
        for (int l4 = 1; l4 >= 0; l4--)
            if (rss_layout_of(hf, v, l4, &pl->l[pl->n]))
                pl->n++;
}

/* Does an object's key on a port describe packets hashed with layout l? */
static bool layout_relevant(const struct deps_key *k, const struct rss_layout *l)
{
    int v = key_version(k);
    if (v && v != l->version)
        return false;
    return !key_has_ports(k) || l->l4;
}

/* Is bit b (0 = MSB) of field id allowed to move the index for this key? */
static bool bit_allowed(const struct deps_key *k, enum ir_field_id id, int b)
{
    for (int i = 0; i < k->count; i++)
        if (k->fields[i].id == id && b < rss_field_kept(k->fields[i]))
            return true;
    return false;
}

static const struct rss_input_field *layout_field(const struct rss_layout *l, enum ir_field_id id)
{
    for (int i = 0; i < l->n_fields; i++)
        if (l->fields[i].id == id)
            return &l->fields[i];
    return NULL;
}

/* ---- Building the constraints ----------------------------------------------------- */

struct build {
    struct system sys;
    const struct rss_nic *nic;
    int n_ports, m, key_bits;
    uint64_t hf[DEPS_MAX_PORTS];
    struct port_layouts layouts[DEPS_MAX_PORTS];
    const int8_t *ocap;         /* per object: -1 full spread, 1 "moves the index" */
    uint64_t seed;
};

static void zero_index_window(struct build *b, int port, int input_bit, int owner)
{
    for (int j = 32 - b->m; j < 32; j++)
        add_cons(&b->sys, var_of(port, input_bit + j), -1, owner);
}

/* Requires the map from the field's `rows_max` lowest kept bits to the index
 * bits to have full rank (capped at cap when cap >= 0). */
static void spread_field_capped(struct build *b, int port, const struct rss_input_field *f,
                                int kept, int rows_max, int owner, int group, int cap)
{
    struct spread_req r = {0};
    r.port = port;
    r.owner = owner;
    r.group = group;
    r.rows = kept < rows_max ? kept : rows_max;
    r.m = b->m;
    r.d = r.rows < r.m ? r.rows : r.m;
    if (cap >= 0 && r.d > cap)
        r.d = cap;
    r.base = f->bit_offset + kept - r.rows + 32 - r.m;
    r.chosen = -1;
    if (r.d > 0)
        add_req(&b->sys, r);
}


/* Constraints of one sharded object on one port: the index depends only on
 * the kept bits of its key fields, and spreads at least one of them (the
 * group); spreading every field all objects allow is the port's own
 * requirement (build_system). */
static void object_on_port(struct build *b, int o, int p, const struct deps_key *k)
{
    for (int li = 0; li < b->layouts[p].n; li++) {
        const struct rss_layout *l = &b->layouts[p].l[li];
        if (!layout_relevant(k, l))
            continue;
        for (int fi = 0; fi < l->n_fields; fi++) {
            const struct rss_input_field *f = &l->fields[fi];
            for (int bit = 0; bit < f->bits; bit++)
                if (!bit_allowed(k, f->id, bit))
                    zero_index_window(b, p, f->bit_offset + bit, o);
        }
        for (int i = 0; i < k->count; i++) {
            const struct rss_input_field *f = layout_field(l, k->fields[i].id);
            if (f)
                spread_field_capped(b, p, f, rss_field_kept(k->fields[i]), 16, o,
                                    o * DEPS_MAX_PORTS + p, b->ocap[o]);
        }
        /* Fields that trade places (a key in canonical order): bit b of one
         * moves the index exactly as bit b of the other, so swapping them
         * keeps the core. A half the layout does not hash feeds nothing. */
        for (int i = 0; i < k->count; i++) {
            int t = k->swaps_with[i] - 1;
            if (t <= i || t >= k->count)
                continue;
            const struct rss_input_field *f1 = layout_field(l, k->fields[i].id);
            const struct rss_input_field *f2 = layout_field(l, k->fields[t].id);
            int kept = rss_field_kept(k->fields[i]);
            for (int bit = 0; bit < kept; bit++) {
                if (!f1 || !f2) {
                    if (f1 || f2)
                        zero_index_window(b, p, (f1 ? f1 : f2)->bit_offset + bit, o);
                    continue;
                }
                for (int j = 32 - b->m; j < 32; j++)
                    add_cons(&b->sys, var_of(p, f1->bit_offset + bit + j),
                             var_of(p, f2->bit_offset + bit + j), o);
            }
        }
    }
}

/* Constraints between ports p and q: position i of one key corresponds to
 * position i of the other; corresponding bits feed the index identically and
 * bits without a counterpart feed nothing. */
static void object_across(struct build *b, int o, int p, const struct deps_key *kp,
                          int q, const struct deps_key *kq)
{
    bool ports_in_key = key_has_ports(kp) || key_has_ports(kq);
    for (int a = 0; a < b->layouts[p].n; a++) {
        const struct rss_layout *lp = &b->layouts[p].l[a];
        if (!layout_relevant(kp, lp))
            continue;
        for (int c = 0; c < b->layouts[q].n; c++) {
            const struct rss_layout *lq = &b->layouts[q].l[c];
            if (!layout_relevant(kq, lq) || lq->version != lp->version)
                continue;
            if (ports_in_key && !(lp->l4 && lq->l4))
                continue;
            for (int side = 0; side < 2; side++) {
                const struct deps_key *k1 = side ? kq : kp, *k2 = side ? kp : kq;
                const struct rss_layout *l1 = side ? lq : lp, *l2 = side ? lp : lq;
                int p1 = side ? q : p, p2 = side ? p : q;
                for (int i = 0; i < k1->count; i++) {
                    const struct rss_input_field *f1 = layout_field(l1, k1->fields[i].id);
                    if (!f1)
                        continue;
                    int kept = rss_field_kept(k1->fields[i]);
                    const struct rss_input_field *f2 = NULL;
                    if (i < k2->count && rss_field_width(k2->fields[i].id) == f1->bits &&
                        rss_field_kept(k2->fields[i]) == kept)
                        f2 = layout_field(l2, k2->fields[i].id);
                    for (int bit = 0; bit < kept; bit++) {
                        int in1 = f1->bit_offset + bit;
                        if (!f2) {
                            zero_index_window(b, p1, in1, o);
                            continue;
                        }
                        if (side == 1)
                            continue;   /* equalities once */
                        int in2 = f2->bit_offset + bit;
                        for (int j = 32 - b->m; j < 32; j++)
                            add_cons(&b->sys, var_of(p1, in1 + j), var_of(p2, in2 + j), o);
                    }
                }
            }
        }
    }
}

/* Chooses every port's rss_hf from the active objects and builds the system. */
static void build_system(struct build *b, const struct deps_plan *plan, const bool *active,
                         const int8_t *qcap)
{
    memset(&b->sys, 0, sizeof b->sys);
    for (int p = 0; p < b->n_ports; p++) {
        int allowed = F_SRC | F_DST | F_SPORT | F_DPORT, versions = 0;
        bool constrained = false;
        for (int o = 0; o < plan->n_objects; o++) {
            const struct deps_key *k = &plan->objects[o].ports[p];
            if (!active[o] || k->count == 0)
                continue;
            constrained = true;
            int mask = 0;
            for (int i = 0; i < k->count; i++)
                mask |= field_class(k->fields[i].id);
            allowed &= mask;
            int v = key_version(k);
            versions |= v == 6 ? 2 : 1;    /* keys without addresses: IPv4 */
        }
        b->hf[p] = choose_hf(b->nic, constrained, allowed, versions);
        layouts_of(b->hf[p], &b->layouts[p]);
        /* Every hashed field all the port's objects keep must spread fully
         * (over the bits all of them keep). */
        for (int li = 0; li < b->layouts[p].n; li++)
            for (int fi = 0; fi < b->layouts[p].l[li].n_fields; fi++) {
                const struct rss_input_field *f = &b->layouts[p].l[li].fields[fi];
                int kept = f->bits;
                for (int o = 0; o < plan->n_objects && kept > 0; o++) {
                    const struct deps_key *k = &plan->objects[o].ports[p];
                    if (!active[o] || k->count == 0)
                        continue;
                    int in_key = 0;
                    for (int i = 0; i < k->count; i++)
                        if (k->fields[i].id == f->id && rss_field_kept(k->fields[i]) > in_key)
                            in_key = rss_field_kept(k->fields[i]);
                    /* Objects of the other IP version say nothing here; an object
                     * keyed with ports still restricts the L3 layout, whose address
                     * bits share their key windows with the L4 layout's. */
                    int v = key_version(k);
                    if (v && v != b->layouts[p].l[li].version)
                        continue;
                    if (in_key < kept)
                        kept = in_key;
                }
                int key = qkey(p, b->layouts[p].l[li].version, f->id);
                /* The low 16 bits, and within them the low 8 on their own: a
                 * block of the low 16 can come from the third octet alone,
                 * leaving hosts that differ only in the last octet (or ports
                 * in their low byte) on one or two buckets. */
                if (kept > 0 && qcap[key] != 0) {
                    spread_field_capped(b, p, f, kept, 16, OWNER_QUALITY - key, -1, qcap[key]);
                    spread_field_capped(b, p, f, kept, 8, OWNER_QUALITY - key, -1, qcap[key]);
                }
            }
    }
    for (int o = 0; o < plan->n_objects; o++) {
        if (!active[o])
            continue;
        const struct deps_object *obj = &plan->objects[o];
        for (int p = 0; p < b->n_ports; p++) {
            if (obj->ports[p].count == 0)
                continue;
            object_on_port(b, o, p, &obj->ports[p]);
            for (int q = p + 1; q < b->n_ports; q++)
                if (obj->ports[q].count > 0)
                    object_across(b, o, p, &obj->ports[p], q, &obj->ports[q]);
        }
    }
}

/* ---- Z3 ------------------------------------------------------------------------------ */

struct z3 {
    Z3_context ctx;
    Z3_solver solver;
    Z3_ast vars[N_VARS];
};

static Z3_ast z3_var(struct z3 *z, int v)
{
    if (!z->vars[v])
        z->vars[v] = Z3_mk_const(z->ctx, Z3_mk_int_symbol(z->ctx, v), Z3_mk_bool_sort(z->ctx));
    return z->vars[v];
}

static Z3_ast z3_named(struct z3 *z, const char *name)
{
    return Z3_mk_const(z->ctx, Z3_mk_string_symbol(z->ctx, name), Z3_mk_bool_sort(z->ctx));
}

static Z3_ast owner_literal(struct z3 *z, int owner)
{
    char name[32];
    if (owner <= OWNER_QUALITY)
        snprintf(name, sizeof name, "spread_requirement_%d", OWNER_QUALITY - owner);
    else
        snprintf(name, sizeof name, "object_%d", owner);
    return z3_named(z, name);
}

struct pattern_ctx {
    struct z3 *z;
    int port;
    Z3_ast lits[64];
    int n;
};

static void pattern_literal(void *c, int bit, int value)
{
    struct pattern_ctx *pc = c;
    Z3_ast v = z3_var(pc->z, var_of(pc->port, bit));
    pc->lits[pc->n++] = value ? v : Z3_mk_not(pc->z->ctx, v);
}

/* Outcome of one solve: 1 sat (choices recorded in the system), 0 unsat
 * (core_owners filled), -1 unknown. */
static int solve(struct build *b, int n_objects, const bool *active,
                 bool *core_owner, bool *core_quality)
{
    struct z3 *z = calloc(1, sizeof *z);
    Z3_config cfg = Z3_mk_config();
    Z3_set_param_value(cfg, "model", "true");
    Z3_set_param_value(cfg, "timeout", "60000");   /* ms; "unknown" after that */
    z->ctx = Z3_mk_context(cfg);
    Z3_del_config(cfg);
    z->solver = Z3_mk_solver(z->ctx);
    Z3_solver_inc_ref(z->ctx, z->solver);
    Z3_context ctx = z->ctx;
    /* The seed also steers which spreading patterns Z3 picks. */
    Z3_params params = Z3_mk_params(ctx);
    Z3_params_inc_ref(ctx, params);
    Z3_params_set_uint(ctx, params, Z3_mk_string_symbol(ctx, "random_seed"),
                       (unsigned)(b->seed ^ (b->seed >> 32)));
    Z3_solver_set_params(ctx, z->solver, params);
    Z3_params_dec_ref(ctx, params);

    for (int i = 0; i < b->sys.n_cons; i++) {
        const struct bit_constraint *c = &b->sys.cons[i];
        Z3_ast fact = c->b < 0 ? Z3_mk_not(ctx, z3_var(z, c->a))
                               : Z3_mk_eq(ctx, z3_var(z, c->a), z3_var(z, c->b));
        Z3_solver_assert(ctx, z->solver, Z3_mk_implies(ctx, owner_literal(z, c->owner), fact));
    }
    Z3_ast *sel = NULL;
    int n_sel = 0;
    for (int i = 0; i < b->sys.n_reqs; i++)
        n_sel += req_options(&b->sys.reqs[i]);
    sel = calloc((size_t)n_sel + 1, sizeof *sel);
    int s0 = 0;
    int *first = calloc((size_t)b->sys.n_reqs + 1, sizeof *first);
    for (int i = 0; i < b->sys.n_reqs; i++) {
        const struct spread_req *r = &b->sys.reqs[i];
        int n_opt = req_options(r);
        first[i] = s0;
        for (int opt = 0; opt < n_opt; opt++) {
            char name[48];
            snprintf(name, sizeof name, "spread_%d_%d", i, opt);
            sel[s0 + opt] = z3_named(z, name);
            struct pattern_ctx pc = {.z = z, .port = r->port};
            req_pattern(r, opt, pattern_literal, &pc);
            Z3_ast body = Z3_mk_and(ctx, (unsigned)pc.n, pc.lits);
            Z3_solver_assert(ctx, z->solver, Z3_mk_implies(ctx, sel[s0 + opt], body));
        }
        s0 += n_opt;
    }
    /* owner -> some option of the req (alone) or of any req of its group. */
    Z3_ast *any = calloc((size_t)n_sel + 1, sizeof *any);
    for (int i = 0; i < b->sys.n_reqs; i++) {
        const struct spread_req *r = &b->sys.reqs[i];
        bool leader = true;
        for (int k = 0; k < i && r->group >= 0; k++)
            if (b->sys.reqs[k].group == r->group)
                leader = false;
        if (!leader)
            continue;
        int n_any = 0;
        for (int k = i; k < b->sys.n_reqs; k++) {
            if (k != i && (r->group < 0 || b->sys.reqs[k].group != r->group))
                continue;
            for (int opt = 0; opt < req_options(&b->sys.reqs[k]); opt++)
                any[n_any++] = sel[first[k] + opt];
        }
        Z3_solver_assert(ctx, z->solver, Z3_mk_implies(ctx, owner_literal(z, r->owner),
                                                       Z3_mk_or(ctx, (unsigned)n_any, any)));
    }
    free(any);
    free(first);

    Z3_ast assumptions[512];
    int n_assume = 0;
    for (int o = 0; o < n_objects && n_assume < 511; o++)
        if (active[o])
            assumptions[n_assume++] = owner_literal(z, o);
    bool *assumed = calloc(N_QKEYS, sizeof *assumed);
    for (int i = 0; i < b->sys.n_reqs && n_assume < 511; i++) {
        int owner = b->sys.reqs[i].owner;
        if (owner <= OWNER_QUALITY && !assumed[OWNER_QUALITY - owner]) {
            assumed[OWNER_QUALITY - owner] = true;
            assumptions[n_assume++] = owner_literal(z, owner);
        }
    }
    Z3_lbool res = Z3_solver_check_assumptions(ctx, z->solver, (unsigned)n_assume, assumptions);
    int outcome = -1;
    if (res == Z3_L_TRUE) {
        outcome = 1;
        Z3_model model = Z3_solver_get_model(ctx, z->solver);
        Z3_model_inc_ref(ctx, model);
        s0 = 0;
        for (int i = 0; i < b->sys.n_reqs; i++) {
            struct spread_req *r = &b->sys.reqs[i];
            int n_opt = req_options(r);
            r->chosen = -1;
            for (int opt = 0; opt < n_opt && r->chosen < 0; opt++) {
                Z3_ast val;
                if (Z3_model_eval(ctx, model, sel[s0 + opt], true, &val) &&
                    Z3_get_bool_value(ctx, val) == Z3_L_TRUE)
                    r->chosen = opt;
            }
            s0 += n_opt;
        }
        Z3_model_dec_ref(ctx, model);
    } else if (res == Z3_L_FALSE) {
        outcome = 0;
        Z3_ast_vector core = Z3_solver_get_unsat_core(ctx, z->solver);
        Z3_ast_vector_inc_ref(ctx, core);
        unsigned n = Z3_ast_vector_size(ctx, core);
        for (unsigned i = 0; i < n; i++) {
            Z3_ast lit = Z3_ast_vector_get(ctx, core, i);
            for (int o = 0; o < n_objects; o++)
                if (active[o] && Z3_is_eq_ast(ctx, lit, owner_literal(z, o)))
                    core_owner[o] = true;
            for (int k = 0; k < N_QKEYS; k++)
                if (assumed[k] && Z3_is_eq_ast(ctx, lit, owner_literal(z, OWNER_QUALITY - k)))
                    core_quality[k] = true;
        }
        Z3_ast_vector_dec_ref(ctx, core);
    }
    free(sel);
    free(assumed);
    Z3_solver_dec_ref(ctx, z->solver);
    Z3_del_context(ctx);
    free(z);
    return outcome;
}

/* ---- From the model to keys --------------------------------------------------------- */

struct completion {
    int parent[N_VARS];
    int8_t value[N_VARS];       /* -1 free, 0, 1 (valid at roots) */
    bool conflict;
};

static int find(struct completion *c, int v)
{
    while (c->parent[v] != v) {
        c->parent[v] = c->parent[c->parent[v]];
        v = c->parent[v];
    }
    return v;
}

static void fix(struct completion *c, int v, int value)
{
    int r = find(c, v);
    if (c->value[r] >= 0 && c->value[r] != value)
        c->conflict = true;
    c->value[r] = (int8_t)value;
}

static void unite(struct completion *c, int a, int b)
{
    int ra = find(c, a), rb = find(c, b);
    if (ra == rb)
        return;
    if (rb < ra) {
        int t = ra;
        ra = rb;
        rb = t;
    }
    c->parent[rb] = ra;         /* the smallest member stays the root */
    if (c->value[rb] >= 0)
        fix(c, ra, c->value[rb]);
}

struct fix_ctx {
    struct completion *c;
    int port;
};

static void fix_pattern_bit(void *ctx, int bit, int value)
{
    struct fix_ctx *f = ctx;
    fix(f->c, var_of(f->port, bit), value);
}

/* Every key bit: forced by the constraints and the chosen patterns, or drawn
 * from the seeded generator per equivalence class (so reproducible). */
static int complete_keys(const struct build *b, uint64_t seed, struct rss_plan *out)
{
    struct completion *c = malloc(sizeof *c);
    if (!c)
        return -1;
    for (int v = 0; v < N_VARS; v++) {
        c->parent[v] = v;
        c->value[v] = -1;
    }
    c->conflict = false;
    for (int i = 0; i < b->sys.n_cons; i++) {
        const struct bit_constraint *k = &b->sys.cons[i];
        if (k->b < 0)
            fix(c, k->a, 0);
        else
            unite(c, k->a, k->b);
    }
    for (int i = 0; i < b->sys.n_reqs; i++) {
        const struct spread_req *r = &b->sys.reqs[i];
        if (r->chosen < 0)
            continue;
        struct fix_ctx f = {c, r->port};
        req_pattern(r, r->chosen, fix_pattern_bit, &f);
    }
    int rc = c->conflict ? -1 : 0;
    for (int p = 0; p < b->n_ports && rc == 0; p++) {
        struct rss_port_config *pc = &out->ports[p];
        memset(pc->key, 0, sizeof pc->key);
        for (int bit = 0; bit < b->key_bits; bit++) {
            int r = find(c, var_of(p, bit));
            int value = c->value[r];
            if (value < 0) {
                uint64_t st = seed ^ ((uint64_t)r * 0x2545f4914f6cdd1dULL);
                value = (int)(rss_rand_next(&st) & 1);
            }
            if (value)
                pc->key[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
        }
    }
    free(c);
    return rc;
}

/* ---- Plan copies ----------------------------------------------------------------------- */

int rss_deps_copy(struct deps_plan *dst, const struct deps_plan *src)
{
    memset(dst, 0, sizeof *dst);
    memcpy(dst->nf, src->nf, sizeof dst->nf);
    dst->n_ports = src->n_ports;
    dst->n_config = src->n_config;
    memcpy(dst->config, src->config, sizeof dst->config);
    if (src->n_objects) {
        dst->objects = malloc((size_t)src->n_objects * sizeof *dst->objects);
        if (!dst->objects)
            return -1;
        memcpy(dst->objects, src->objects, (size_t)src->n_objects * sizeof *dst->objects);
    }
    dst->n_objects = src->n_objects;
    if (src->n_accesses) {
        dst->accesses = malloc((size_t)src->n_accesses * sizeof *dst->accesses);
        if (!dst->accesses)
            return -1;
        memcpy(dst->accesses, src->accesses, (size_t)src->n_accesses * sizeof *dst->accesses);
    }
    dst->n_accesses = src->n_accesses;
    for (int i = 0; i < src->n_warnings; i++)
        rss_deps_warn(dst, "%s", src->warnings[i]);
    return 0;
}

void rss_deps_warn(struct deps_plan *plan, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    for (int i = 0; i < plan->n_warnings; i++)
        if (strcmp(plan->warnings[i], buf) == 0)
            return;             /* e.g. re-synthesising from a plan.json */
    char **w = realloc(plan->warnings, (size_t)(plan->n_warnings + 1) * sizeof *w);
    if (!w)
        return;
    plan->warnings = w;
    w[plan->n_warnings] = strdup(buf);
    if (w[plan->n_warnings])
        plan->n_warnings++;
}

/* ---- Synthesis ------------------------------------------------------------------------- */

void rss_synth_options_init(struct rss_synth_options *o)
{
    memset(o, 0, sizeof *o);
    o->nic = *rss_nic_find("x710");
    o->cores = 4;
    o->seed = 1;
    o->train_fraction = 0.5;
    o->reta_seconds = 0.2;
}

static void describe_key(const struct deps_object *obj, int n_ports, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int p = 0; p < n_ports; p++) {
        const struct deps_key *k = &obj->ports[p];
        if (k->count == 0)
            continue;
        used += (size_t)snprintf(buf + used, used < n ? n - used : 0, "%sport %d: ",
                                 used ? "; " : "", p);
        for (int i = 0; i < k->count && used < n; i++) {
            char f[48];
            used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? "," : "",
                                     rss_field_name(k->fields[i], f, sizeof f));
        }
    }
}

/* Makes object o shared, records why. */
static void demote(struct deps_plan *plan, int o, const char *why)
{
    struct deps_object *obj = &plan->objects[o];
    obj->decision = DEPS_SHARED;
    snprintf(obj->reason, sizeof obj->reason, "%s", why);
    rss_deps_warn(plan, "object '%s' is shared under per-core read locks: %s", obj->name, why);
}

/* Warns when a sharding key cannot spread traffic over the RETA: one warning
 * per port and key, naming the first object and how many share it. */
static void warn_weak_keys(struct deps_plan *plan, int m, uint32_t reta_size)
{
    for (int p = 0; p < plan->n_ports; p++) {
        bool *done = calloc((size_t)plan->n_objects + 1, sizeof *done);
        for (int o = 0; o < plan->n_objects && done; o++) {
            const struct deps_object *obj = &plan->objects[o];
            const struct deps_key *k = &obj->ports[p];
            if (done[o] || obj->decision != DEPS_SHARDED || k->count == 0)
                continue;
            int best = 0, width = 0;
            bool whole_field = false;
            char name[48] = "";
            for (int i = 0; i < k->count; i++) {
                if (!field_class(k->fields[i].id))
                    continue;
                int kept = rss_field_kept(k->fields[i]);
                best += kept;
                if (kept < rss_field_width(k->fields[i].id)) {
                    width = rss_field_width(k->fields[i].id);
                    rss_field_name(k->fields[i], name, sizeof name);
                } else {
                    whole_field = true;
                }
            }
            /* Only prefixes: the low bits of the addresses never move the index. */
            if (!width || whole_field)
                continue;
            uint32_t reachable = best >= m ? reta_size : 1u << best;
            int same = 0;
            for (int q = o + 1; q < plan->n_objects; q++) {
                const struct deps_key *kq = &plan->objects[q].ports[p];
                if (plan->objects[q].decision == DEPS_SHARDED && deps_key_equal(kq, k)) {
                    done[q] = true;
                    same++;
                }
            }
            char others[64] = "";
            if (same)
                snprintf(others, sizeof others, " (and %d other object%s)", same,
                         same == 1 ? "" : "s");
            rss_deps_warn(plan,
                          "balance: object '%s'%s is sharded by %s on port %d: only %d key bits "
                          "can move the RETA index, so at most %u of %u buckets are used and "
                          "packets that differ only in the low %d bits of the field all land "
                          "on one core; consider a finer key or a shared plan",
                          obj->name, others, name, p, best, reachable, reta_size, width - best);
        }
        free(done);
    }
}

int rss_synthesize(const struct deps_plan *analysis, const struct rss_synth_options *o,
                   struct rss_plan *out, struct util_error *err)
{
    double t0 = util_now_seconds();
    const struct rss_nic *nic = &o->nic;
    if (o->cores < 1 || (uint32_t)o->cores > nic->reta_size) {
        util_error_set(err, "--cores %d: must be between 1 and the %s's RETA size (%u)",
                       o->cores, nic->name, nic->reta_size);
        return UTIL_EXIT_USAGE;
    }
    int n_ports = analysis->n_ports > 0 ? analysis->n_ports : 2;
    if (n_ports > DEPS_MAX_PORTS) {
        util_error_set(err, "the plan has %d ports; at most %d are supported", n_ports,
                       DEPS_MAX_PORTS);
        return UTIL_EXIT_INPUT;
    }
    memset(out, 0, sizeof *out);
    if (rss_deps_copy(&out->deps, analysis)) {
        deps_plan_free(&out->deps);
        util_error_set(err, "out of memory copying the analysis");
        return UTIL_EXIT_FAILURE;
    }
    struct deps_plan *plan = &out->deps;
    plan->n_ports = n_ports;
    snprintf(out->nic, sizeof out->nic, "%s", nic->name);
    out->cores = o->cores;
    out->n_ports = n_ports;

    int n_obj = plan->n_objects;
    bool *active = calloc((size_t)n_obj + 1, sizeof *active);
    bool *core = calloc((size_t)n_obj + 1, sizeof *core);
    int8_t *ocap = malloc((size_t)n_obj + 1);
    struct build *b = calloc(1, sizeof *b);
    if (!active || !core || !b || !ocap) {
        free(active), free(core), free(b), free(ocap);
        deps_plan_free(plan);
        util_error_set(err, "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    memset(ocap, -1, (size_t)n_obj + 1);
    b->ocap = ocap;
    b->seed = o->seed;
    b->nic = nic;
    b->n_ports = n_ports;
    b->m = rss_index_bits(nic->reta_size);
    b->key_bits = nic->key_len * 8;

    for (int i = 0; i < n_obj; i++) {
        struct deps_object *obj = &plan->objects[i];
        if (obj->decision != DEPS_SHARDED)
            continue;
        active[i] = true;
        for (int p = 0; p < n_ports; p++) {
            if (obj->ports[p].count > 0 && !key_hashable(&obj->ports[p])) {
                char why[DEPS_REASON_MAX], key[256];
                describe_key(obj, n_ports, key, sizeof key);
                snprintf(why, sizeof why, "its key on port %d has no field RSS can hash (%s), "
                         "so sharding it would send all of port %d's traffic to one core",
                         p, key, p);
                demote(plan, i, why);
                active[i] = false;
                break;
            }
        }
    }

    /* Per (port, version, field): -1 full spread required, else the rank the
     * port requirement was lowered to after conflicts. */
    int8_t qcap[N_QKEYS];
    memset(qcap, -1, sizeof qcap);
    int rc = UTIL_EXIT_OK;
    for (;;) {
        out->quality.solver_rounds++;
        free(b->sys.cons);
        free(b->sys.reqs);
        build_system(b, plan, active, qcap);
        memset(core, 0, (size_t)n_obj + 1);
        bool core_quality[N_QKEYS] = {false};
        int res = solve(b, n_obj, active, core, core_quality);
        if (res == 1)
            break;
        if (res < 0) {
            util_error_set(err, "Z3 could not decide the key constraints within 60 s (unknown "
                           "result); try fewer ports or report the plan");
            rc = UTIL_EXIT_FAILURE;
            break;
        }
        /* A port's own spreading requirement gives way before any object does:
         * the fields the core names ask for one rank less (none after many
         * rounds). */
        bool lowered = false;
        for (int k = 0; k < N_QKEYS; k++) {
            if (!core_quality[k])
                continue;
            int d = 0;
            for (int i = 0; i < b->sys.n_reqs; i++)
                if (b->sys.reqs[i].owner == OWNER_QUALITY - k && b->sys.reqs[i].d > d)
                    d = b->sys.reqs[i].d;
            qcap[k] = (int8_t)(out->quality.solver_rounds > 48 || d < 1 ? 0 : d - 1);
            lowered = true;
        }
        if (lowered)
            continue;
        /* Objects only: first ask the core's objects merely to move the index
         * (rank 1) instead of spreading fully; conflicts that remain are real. */
        bool relaxed = false;
        for (int i = 0; i < n_obj; i++)
            if (core[i] && ocap[i] != 1) {
                ocap[i] = 1;
                relaxed = true;
            }
        if (relaxed)
            continue;
        int victim = -1, n_core = 0;
        char names[512] = "";
        size_t used = 0;
        for (int i = 0; i < n_obj; i++)
            if (core[i]) {
                n_core++;
                victim = i;
                used += (size_t)snprintf(names + used, used < sizeof names ? sizeof names - used : 0,
                                         "%s'%s'", used ? ", " : "", plan->objects[i].name);
            }
        if (victim < 0) {
            util_error_set(err, "the key constraints are unsatisfiable without any object "
                           "to blame (internal error)");
            rc = UTIL_EXIT_UNSAT;
            break;
        }
        char why[DEPS_REASON_MAX], key[256];
        describe_key(&plan->objects[victim], n_ports, key, sizeof key);
        /* A port where the core's objects share no hashable field is the
         * usual story; say which. */
        char detail[128] = "";
        for (int p = 0; p < n_ports && !detail[0]; p++) {
            int common = F_SRC | F_DST | F_SPORT | F_DPORT, present = 0;
            for (int i = 0; i < n_obj; i++) {
                const struct deps_key *k = &plan->objects[i].ports[p];
                if (!core[i] || k->count == 0)
                    continue;
                int mask = 0;
                for (int f = 0; f < k->count; f++)
                    mask |= field_class(k->fields[f].id);
                common &= mask;
                present++;
            }
            if (present >= 2 && !common)
                snprintf(detail, sizeof detail, " (on port %d their keys share no field RSS "
                         "can hash)", p);
        }
        if (n_core == 1)
            snprintf(why, sizeof why, "no RSS key lets the RETA index depend only on its key "
                     "(%s) and still move with it (a key field with no hashable counterpart "
                     "on another port, for instance)", key);
        else
            snprintf(why, sizeof why, "its key (%s) conflicts with the other objects of the "
                     "unsat core (%s)%s: one RSS key per port cannot make the RETA index "
                     "depend only on each object's fields and still move with each of them",
                     key, names, detail);
        demote(plan, victim, why);
        active[victim] = false;
    }

    if (rc == UTIL_EXIT_OK) {
        for (int p = 0; p < n_ports; p++) {
            struct rss_port_config *pc = &out->ports[p];
            pc->port = p;
            pc->key_len = nic->key_len;
            pc->rss_hf = b->hf[p];
            pc->reta_size = nic->reta_size;
            rss_reta_round_robin(pc->reta, pc->reta_size, o->cores);
        }
        if (complete_keys(b, o->seed, out)) {
            util_error_set(err, "the solver's choices contradict the constraints (internal "
                           "error)");
            rc = UTIL_EXIT_FAILURE;
        }
    }
    free(b->sys.cons);
    free(b->sys.reqs);
    free(b);
    free(active);
    free(core);
    free(ocap);
    if (rc == UTIL_EXIT_OK) {
        warn_weak_keys(plan, rss_index_bits(nic->reta_size), nic->reta_size);
        for (int k = 0; k < N_QKEYS; k++) {
            if (qcap[k] < 0 || k / 64 >= n_ports)
                continue;
            struct ir_field f = {(enum ir_field_id)(k % 32), 0};
            char name[48];
            rss_deps_warn(plan, "balance: on port %d the other ports' and objects' constraints "
                          "leave %s (IPv%d) at most rank %d of %d: when only its low bits vary "
                          "it reaches %u of %u RETA buckets", k / 64,
                          rss_field_name(f, name, sizeof name), k % 64 >= 32 ? 6 : 4, qcap[k],
                          rss_index_bits(nic->reta_size), 1u << qcap[k], nic->reta_size);
        }
        for (int p = 0; p < n_ports; p++) {
            const uint8_t *k = out->ports[p].key;
            int i = 0;
            while (i + 2 < nic->key_len && k[i] == k[i + 2])
                i++;
            if (i + 2 >= nic->key_len)
                rss_deps_warn(plan, "balance: port %d's key repeats every 16 bits, so the hash "
                              "only depends on the 16-bit fold of the input", p);
        }
        if (o->trace)
            rc = rss_reta_train_trace(out, o->trace, o->train_fraction, o->reta_seconds, err);
    }
    if (rc == UTIL_EXIT_OK) {
        rss_plan_measure(out);
        if (rss_plan_check(out, o->seed ^ 0x5eed, 2000, err)) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            util_error_set(err, "the checker rejected the synthesised keys: %.1900s", msg);
            rc = UTIL_EXIT_FAILURE;
        }
    }
    out->quality.seconds = util_now_seconds() - t0;
    if (rc != UTIL_EXIT_OK)
        deps_plan_free(plan);
    return rc;
}
