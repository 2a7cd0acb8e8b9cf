/*
 * check.c - the independent checker: verifies emitted keys against every
 * sharded object without Z3, twice over. (1) GF(2) algebra: the contribution
 * of each input bit to the RETA index is computed by hashing a unit input with
 * the bit-by-bit reference; bits outside a key must contribute nothing and
 * corresponding bits of two ports must contribute the same. (2) Random packet
 * pairs whose keys agree must land on the same core. Also measures quality:
 * the GF(2) rank of each hashed field's low 16 bits onto the index bits.
 */
#include "rss/rss_internal.h"

#include <string.h>

uint32_t rss_bit_contribution(const uint8_t *key, int key_len, int input_bit, int index_bits)
{
    uint8_t unit[RSS_INPUT_MAX + 1] = {0};
    int len = input_bit / 8 + 1;
    unit[input_bit / 8] = (uint8_t)(0x80 >> (input_bit % 8));
    uint32_t h = rss_toeplitz_reference(key, (size_t)key_len, unit, (size_t)len);
    return index_bits >= 32 ? h : h & ((1u << index_bits) - 1);
}

static bool has_ports(const struct deps_key *k)
{
    for (int i = 0; i < k->count; i++)
        if (k->fields[i].id == IR_FIELD_L4_SPORT || k->fields[i].id == IR_FIELD_L4_DPORT)
            return true;
    return false;
}

static int version_of(const struct deps_key *k)
{
    for (int i = 0; i < k->count; i++)
        if (rss_field_version(k->fields[i].id))
            return rss_field_version(k->fields[i].id);
    return 0;
}

static bool relevant(const struct deps_key *k, const struct rss_layout *l)
{
    int v = version_of(k);
    return (!v || v == l->version) && (!has_ports(k) || l->l4);
}

static int key_position(const struct deps_key *k, enum ir_field_id id, int bit)
{
    for (int i = 0; i < k->count; i++)
        if (k->fields[i].id == id && bit < rss_field_kept(k->fields[i]))
            return i;
    return -1;
}

static int layouts(uint64_t hf, struct rss_layout *l)
{
    int n = 0;
    for (int v = 4; v <= 6; v += 2)
        for (int l4 = 1; l4 >= 0; l4--)
            if (rss_layout_of(hf, v, l4, &l[n]))
                n++;
    return n;
}

static const struct rss_input_field *find_field(const struct rss_layout *l, enum ir_field_id id)
{
    for (int i = 0; i < l->n_fields; i++)
        if (l->fields[i].id == id)
            return &l->fields[i];
    return NULL;
}

/* ---- Algebra ---------------------------------------------------------------------------- */

static int check_algebra(const struct rss_plan *plan, const struct deps_object *obj,
                         struct util_error *err)
{
    char fname[48];
    for (int p = 0; p < plan->n_ports; p++) {
        const struct deps_key *kp = &obj->ports[p];
        if (kp->count == 0)
            continue;
        const struct rss_port_config *cp = &plan->ports[p];
        int m = rss_index_bits(cp->reta_size);
        struct rss_layout lp[4];
        int n_lp = layouts(cp->rss_hf, lp);
        for (int a = 0; a < n_lp; a++) {
            if (!relevant(kp, &lp[a]))
                continue;
            for (int fi = 0; fi < lp[a].n_fields; fi++) {
                const struct rss_input_field *f = &lp[a].fields[fi];
                for (int bit = 0; bit < f->bits; bit++) {
                    if (key_position(kp, f->id, bit) >= 0)
                        continue;
                    if (rss_bit_contribution(cp->key, cp->key_len, f->bit_offset + bit, m)) {
                        struct ir_field fld = {f->id, 0};
                        util_error_set(err, "object '%s', port %d: bit %d of %s moves the RETA "
                                       "index although the object's key does not keep it",
                                       obj->name, p, bit, rss_field_name(fld, fname, sizeof fname));
                        return -1;
                    }
                }
            }
        }
        /* Fields that trade places on p: bit b of each moves the index alike. */
        for (int i = 0; i < kp->count; i++) {
            int t = kp->swaps_with[i] - 1;
            if (t <= i || t >= kp->count)
                continue;
            if (kp->swaps_with[t] != i + 1 ||
                rss_field_kept(kp->fields[i]) != rss_field_kept(kp->fields[t])) {
                util_error_set(err, "object '%s', port %d: key fields %d and %d are marked as "
                               "trading places but are not a pair of equal width", obj->name,
                               p, i, t);
                return -1;
            }
            for (int a = 0; a < n_lp; a++) {
                if (!relevant(kp, &lp[a]))
                    continue;
                const struct rss_input_field *f1 = find_field(&lp[a], kp->fields[i].id);
                const struct rss_input_field *f2 = find_field(&lp[a], kp->fields[t].id);
                for (int bit = 0; bit < rss_field_kept(kp->fields[i]); bit++) {
                    uint32_t c1 = f1 ? rss_bit_contribution(cp->key, cp->key_len,
                                                            f1->bit_offset + bit, m) : 0;
                    uint32_t c2 = f2 ? rss_bit_contribution(cp->key, cp->key_len,
                                                            f2->bit_offset + bit, m) : 0;
                    if (c1 != c2) {
                        char other[48];
                        util_error_set(err, "object '%s', port %d: bit %d of %s and of %s move "
                                       "the RETA index differently (0x%x vs 0x%x), so swapping "
                                       "them (the NF's canonical order) changes the core",
                                       obj->name, p, bit,
                                       rss_field_name(kp->fields[i], fname, sizeof fname),
                                       rss_field_name(kp->fields[t], other, sizeof other), c1,
                                       c2);
                        return -1;
                    }
                }
            }
        }
        for (int q = p + 1; q < plan->n_ports; q++) {
            const struct deps_key *kq = &obj->ports[q];
            if (kq->count == 0)
                continue;
            const struct rss_port_config *cq = &plan->ports[q];
            if (cq->reta_size != cp->reta_size ||
                memcmp(cq->reta, cp->reta, cp->reta_size * sizeof cp->reta[0]) != 0) {
                util_error_set(err, "object '%s' spans ports %d and %d but their RETAs differ",
                               obj->name, p, q);
                return -1;
            }
            struct rss_layout lq[4];
            int n_lq = layouts(cq->rss_hf, lq);
            bool ports_in_key = has_ports(kp) || has_ports(kq);
            for (int a = 0; a < n_lp; a++)
                for (int c = 0; c < n_lq; c++) {
                    if (!relevant(kp, &lp[a]) || !relevant(kq, &lq[c]) ||
                        lp[a].version != lq[c].version)
                        continue;
                    if (ports_in_key && !(lp[a].l4 && lq[c].l4))
                        continue;
                    /* Every allowed bit of p: its counterpart on q contributes the same. */
                    for (int side = 0; side < 2; side++) {
                        const struct rss_layout *l1 = side ? &lq[c] : &lp[a];
                        const struct rss_layout *l2 = side ? &lp[a] : &lq[c];
                        const struct deps_key *k1 = side ? kq : kp, *k2 = side ? kp : kq;
                        const struct rss_port_config *c1 = side ? cq : cp, *c2 = side ? cp : cq;
                        for (int fi = 0; fi < l1->n_fields; fi++) {
                            const struct rss_input_field *f = &l1->fields[fi];
                            for (int bit = 0; bit < f->bits; bit++) {
                                int pos = key_position(k1, f->id, bit);
                                if (pos < 0)
                                    continue;
                                uint32_t mine = rss_bit_contribution(c1->key, c1->key_len,
                                                                     f->bit_offset + bit, m);
                                uint32_t theirs = 0;
                                const struct rss_input_field *g = NULL;
                                if (pos < k2->count &&
                                    rss_field_width(k2->fields[pos].id) == f->bits &&
                                    rss_field_kept(k2->fields[pos]) == rss_field_kept(k1->fields[pos]))
                                    g = find_field(l2, k2->fields[pos].id);
                                if (g)
                                    theirs = rss_bit_contribution(c2->key, c2->key_len,
                                                                  g->bit_offset + bit, m);
                                if (mine != theirs) {
                                    util_error_set(err, "object '%s': bit %d of %s on port %d "
                                                   "and its counterpart on port %d move the "
                                                   "RETA index differently (0x%x vs 0x%x)",
                                                   obj->name, bit,
                                                   rss_field_name(k1->fields[pos], fname, sizeof fname),
                                                   side ? q : p, side ? p : q, mine, theirs);
                                    return -1;
                                }
                            }
                        }
                    }
                }
        }
    }
    return 0;
}

/* ---- Random packets --------------------------------------------------------------------- */

static void random_packet(uint64_t *st, int version, bool need_ports, struct trace_tuple *t)
{
    memset(t, 0, sizeof *t);
    uint64_t r = rss_rand_next(st);
    t->ip_version = (uint8_t)(version ? version : (r & 1 ? 6 : 4));
    int kind = need_ports ? (int)((r >> 1) & 1) : (int)((r >> 1) % 4);
    for (int i = 0; i < 16; i += 8) {
        uint64_t a = rss_rand_next(st), b = rss_rand_next(st);
        memcpy(t->src + i, &a, 8);
        memcpy(t->dst + i, &b, 8);
    }
    if (t->ip_version == 4) {
        memset(t->src + 4, 0, 12);
        memset(t->dst + 4, 0, 12);
    }
    uint64_t mac = rss_rand_next(st);
    memcpy(t->src_mac, &mac, 6);
    memcpy(t->dst_mac, (uint8_t *)&mac + 2, 6);
    switch (kind) {
    case 0: case 1:
        t->proto = kind == 0 ? 6 : 17;
        t->has_ports = true;
        t->sport = (uint16_t)rss_rand_next(st);
        t->dport = (uint16_t)rss_rand_next(st);
        break;
    case 2:
        t->proto = 1;
        break;
    default:
        t->proto = 6;
        t->is_fragment = true;
        break;
    }
}

static void copy_bits(uint8_t *dst, const uint8_t *src, int kept)
{
    for (int b = 0; b < kept; b++) {
        uint8_t mask = (uint8_t)(0x80 >> (b % 8));
        dst[b / 8] = (uint8_t)((dst[b / 8] & ~mask) | (src[b / 8] & mask));
    }
}

static uint8_t *field_bytes(struct trace_tuple *t, enum ir_field_id id)
{
    switch (id) {
    case IR_FIELD_ETH_SRC: return t->src_mac;
    case IR_FIELD_ETH_DST: return t->dst_mac;
    case IR_FIELD_IPV4_SRC: case IR_FIELD_IPV6_SRC: return t->src;
    case IR_FIELD_IPV4_DST: case IR_FIELD_IPV6_DST: return t->dst;
    case IR_FIELD_IP_PROTO: return &t->proto;
    case IR_FIELD_L4_SPORT: return (uint8_t *)&t->sport;
    case IR_FIELD_L4_DPORT: return (uint8_t *)&t->dport;
    default: return NULL;
    }
}

static int field_copy_width(struct ir_field f)
{
    switch (f.id) {
    case IR_FIELD_ETH_SRC: case IR_FIELD_ETH_DST: return 48;
    case IR_FIELD_IP_PROTO: return 8;
    default: return rss_field_kept(f);
    }
}

static int check_random(const struct rss_plan *plan, const struct deps_object *obj,
                        uint64_t *st, int n, struct util_error *err)
{
    for (int p = 0; p < plan->n_ports; p++)
        for (int q = p; q < plan->n_ports; q++) {
            const struct deps_key *kp = &obj->ports[p], *kq = &obj->ports[q];
            if (kp->count == 0 || kq->count == 0)
                continue;
            int vp = version_of(kp), vq = version_of(kq);
            if (vp && vq && vp != vq)
                continue;
            bool ports = has_ports(kp) || has_ports(kq);
            for (int i = 0; i < n; i++) {
                struct trace_tuple a, b;
                int v = vp ? vp : vq ? vq : (rss_rand_next(st) & 1 ? 6 : 4);
                random_packet(st, v, ports, &a);
                random_packet(st, v, ports, &b);
                int count = kp->count < kq->count ? kp->count : kq->count;
                for (int k = 0; k < count; k++) {
                    uint8_t *from = field_bytes(&a, kp->fields[k].id);
                    uint8_t *to = field_bytes(&b, kq->fields[k].id);
                    int w1 = field_copy_width(kp->fields[k]), w2 = field_copy_width(kq->fields[k]);
                    if (from && to && w1 == w2)
                        copy_bits(to, from, w1);
                }
                if (b.ip_version == 4) {
                    memset(b.src + 4, 0, 12);
                    memset(b.dst + 4, 0, 12);
                }
                int ca = rss_core_of(&plan->ports[p], &a), cb = rss_core_of(&plan->ports[q], &b);
                if (ca != cb) {
                    util_error_set(err, "object '%s': two random packets with equal keys (port %d "
                                   "and port %d) landed on cores %d and %d", obj->name, p, q,
                                   ca, cb);
                    return -1;
                }
            }
        }
    return 0;
}

/* Random packets on each port whose fields that trade places are swapped
 * (both directions of a canonical-order key) must land on one core. */
static int check_random_swaps(const struct rss_plan *plan, const struct deps_object *obj,
                              uint64_t *st, int n, struct util_error *err)
{
    for (int p = 0; p < plan->n_ports; p++) {
        const struct deps_key *k = &obj->ports[p];
        bool any = false;
        for (int i = 0; i < k->count; i++)
            any |= k->swaps_with[i] != 0;
        if (!any)
            continue;
        int v = version_of(k);
        for (int r = 0; r < n; r++) {
            struct trace_tuple a, b;
            random_packet(st, v ? v : (rss_rand_next(st) & 1 ? 6 : 4), has_ports(k), &a);
            b = a;
            for (int i = 0; i < k->count; i++) {
                int t = k->swaps_with[i] - 1;
                if (t <= i || t >= k->count)
                    continue;
                uint8_t *x = field_bytes(&b, k->fields[i].id);
                uint8_t *y = field_bytes(&b, k->fields[t].id);
                const uint8_t *ax = field_bytes(&a, k->fields[i].id);
                const uint8_t *ay = field_bytes(&a, k->fields[t].id);
                int w = field_copy_width(k->fields[i]);
                if (!x || !y || w != field_copy_width(k->fields[t]))
                    continue;
                copy_bits(x, ay, w);
                copy_bits(y, ax, w);
            }
            int ca = rss_core_of(&plan->ports[p], &a), cb = rss_core_of(&plan->ports[p], &b);
            if (ca != cb) {
                util_error_set(err, "object '%s', port %d: a random packet and the same packet "
                               "with its paired fields swapped landed on cores %d and %d",
                               obj->name, p, ca, cb);
                return -1;
            }
        }
    }
    return 0;
}

int rss_plan_check(const struct rss_plan *plan, uint64_t seed, int n_random,
                   struct util_error *err)
{
    uint64_t st = seed;
    for (int p = 0; p < plan->n_ports; p++) {
        const struct rss_port_config *c = &plan->ports[p];
        if ((c->key_len != 40 && c->key_len != 52) || c->reta_size == 0 ||
            c->reta_size > RSS_RETA_MAX || (c->reta_size & (c->reta_size - 1))) {
            util_error_set(err, "port %d: key length %d or RETA size %u is invalid", p,
                           c->key_len, c->reta_size);
            return -1;
        }
        for (uint32_t i = 0; i < c->reta_size; i++)
            if (c->reta[i] >= plan->cores) {
                util_error_set(err, "port %d: RETA entry %u names core %u of %d", p, i,
                               c->reta[i], plan->cores);
                return -1;
            }
    }
    for (int o = 0; o < plan->deps.n_objects; o++) {
        const struct deps_object *obj = &plan->deps.objects[o];
        if (obj->decision != DEPS_SHARDED)
            continue;
        if (check_algebra(plan, obj, err) || check_random(plan, obj, &st, n_random, err) ||
            check_random_swaps(plan, obj, &st, n_random, err))
            return -1;
    }
    return 0;
}

/* ---- Quality ------------------------------------------------------------------------------ */

static int gf2_rank(uint32_t *rows, int n)
{
    int rank = 0;
    for (int bit = 31; bit >= 0 && rank < n; bit--) {
        int pivot = -1;
        for (int i = rank; i < n; i++)
            if (rows[i] >> bit & 1) {
                pivot = i;
                break;
            }
        if (pivot < 0)
            continue;
        uint32_t t = rows[pivot];
        rows[pivot] = rows[rank];
        rows[rank] = t;
        for (int i = 0; i < n; i++)
            if (i != rank && (rows[i] >> bit & 1))
                rows[i] ^= t;
        rank++;
    }
    return rank;
}

void rss_plan_measure(struct rss_plan *plan)
{
    for (int p = 0; p < plan->n_ports && p < DEPS_MAX_PORTS; p++) {
        const struct rss_port_config *c = &plan->ports[p];
        struct rss_port_quality *q = &plan->quality.ports[p];
        q->n_fields = 0;
        int m = rss_index_bits(c->reta_size);
        struct rss_layout l[4];
        int n = layouts(c->rss_hf, l);
        for (int v = 4; v <= 6; v += 2) {
            const struct rss_layout *best = NULL;
            for (int i = 0; i < n; i++)
                if (l[i].version == v && (!best || l[i].n_fields > best->n_fields))
                    best = &l[i];
            if (!best)
                continue;
            for (int fi = 0; fi < best->n_fields && q->n_fields < RSS_MAX_QUALITY_FIELDS; fi++) {
                const struct rss_input_field *f = &best->fields[fi];
                uint32_t rows[16];
                for (int r = 0; r < 16; r++)
                    rows[r] = rss_bit_contribution(c->key, c->key_len,
                                                   f->bit_offset + f->bits - 16 + r, m);
                struct rss_field_quality *fq = &q->fields[q->n_fields++];
                fq->field.id = f->id;
                fq->field.prefix = 0;
                fq->version = v;
                uint32_t low8[8];           /* rows 8..15: the 8 lowest bits */
                memcpy(low8, rows + 8, sizeof low8);
                fq->rank = gf2_rank(rows, 16);      /* reduces rows in place */
                fq->best = m < 16 ? m : 16;
                fq->rank_low8 = gf2_rank(low8, 8);
                fq->best_low8 = m < 8 ? m : 8;
            }
        }
    }
}
