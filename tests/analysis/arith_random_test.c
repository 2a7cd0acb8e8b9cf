/*
 * arith_random_test.c - the abstract domain against concrete evaluation.
 *
 * A seeded (deterministic) generator writes a few hundred random expressions
 * over ipv4.src/dst and l4.sport/dport: and/or/xor with constants, shifts,
 * rotates, bswap, truncations and extensions, add/sub/mul/div/rem by
 * constants, xor/or/add of two values. Each batch becomes one C NF in which
 * expression j indexes vector v<j> (4096 records) through a function
 * index_<j>(ip, l4); the same file is compiled by clang-19 at -O0 and -O2 to
 * bitcode for ir_analyze_file, and once (without the NF) to a shared object
 * that the test dlopens to compute each index concretely. Then, on thousands
 * of random packets:
 *  (a) every key part ir claims to be a header field (or a prefix of one),
 *      other header bits, or a constant must be exactly that: each claimed
 *      index bit equals one bit of the field's prefix (together: all of them,
 *      once each) or one bit of the named header bytes (of the field they
 *      are in, for a field's bits that are not a prefix), on every packet (or
 *      is its complement on every packet: xor with a constant keeps a bit's
 *      source), or equals the constant's bit; bits above the key are zero.
 *      An index that ir describes through the whole-value exception (X + C)
 *      is checked as (index - C) mod 2^(key width); a split per condition
 *      outcome (several accesses) must, when all its keys are constants, hit
 *      one of them.
 *  (b) deps_plan_build on the whole NF and on each object alone: for every
 *      sharded object, packets that reach the same index agree on every
 *      sharding field (its prefix bits), on every port.
 * Any disagreement fails with the expression. RSSKEY_ARITH_SEED overrides the
 * seed. RSSKEY_CLANG19 and RSSKEY_INCLUDE_DIR come from CMake.
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "deps/deps.h"
#include "ir/ir.h"
#include "rsskey/nf.h"

#if !defined(RSSKEY_CLANG19) || !defined(RSSKEY_INCLUDE_DIR)
#error "RSSKEY_CLANG19 and RSSKEY_INCLUDE_DIR must be defined"
#endif

#define BATCHES 6
#define PER_BATCH 64
#define CAP 4096                /* records per vector: indexes are 12 bits */
#define PACKETS 24000           /* for the collision check (b) */
#define CLAIM_PACKETS 4096      /* the first ones, for the bit claims (a) */
#define WORDS (CLAIM_PACKETS / 64)
#define EXPR_MAX 1536

/* ---- Deterministic randomness (splitmix64) --------------------------------- */

struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint32_t rng_below(struct rng *r, uint32_t n)
{
    return (uint32_t)(rng_next(r) % n);
}

/* ---- Random expressions ------------------------------------------------------ */

struct expr {
    char text[EXPR_MAX];        /* the expression, a uint32_t */
    char index[EXPR_MAX + 64];  /* index_<j>'s return expression, < CAP */
    uint32_t addend;            /* the index is X + addend (else 0) */
};

/* Fields in host order (most often) or as loaded (bytes swapped). */
static const char *const leaves[] = {
    "__builtin_bswap32(ip->src)", "__builtin_bswap32(ip->dst)",
    "__builtin_bswap32(ip->src)", "__builtin_bswap32(ip->dst)",
    "(uint32_t)__builtin_bswap16(l4->sport)", "(uint32_t)__builtin_bswap16(l4->dport)",
    "ip->src", "ip->dst", "(uint32_t)l4->sport", "(uint32_t)l4->dport",
};

/* A constant: random, a run of ones, random with low zero bits, or a
 * prefix mask. */
static uint32_t random_const(struct rng *r)
{
    switch (rng_below(r, 4)) {
    case 3:
        return ~0u << rng_below(r, 32);
    case 0:
        return (uint32_t)rng_next(r);
    case 1: {
        unsigned len = 1 + rng_below(r, 31), pos = rng_below(r, 32 - len + 1);
        return (uint32_t)((((uint64_t)1 << len) - 1) << pos);
    }
    default:
        return (uint32_t)rng_next(r) << (4 + rng_below(r, 24));
    }
}

/* snprintf for the generator; false when the text did not fit. */
static bool put(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool put(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, size, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < size;
}

static void gen(struct rng *r, int depth, char *out, size_t size)
{
    if (depth == 0 || rng_below(r, 8) == 0) {
        put(out, size, "%s", leaves[rng_below(r, sizeof leaves / sizeof leaves[0])]);
        return;
    }
    char a[EXPR_MAX], b[EXPR_MAX];
    gen(r, depth - 1, a, sizeof a);
    unsigned k = 1 + rng_below(r, 31);
    uint32_t c = random_const(r);
    bool ok = true;
    switch (rng_below(r, 24)) {
    case 0: case 1: ok = put(out, size, "(%s & 0x%08xu)", a, c); break;
    case 2: ok = put(out, size, "(%s | 0x%08xu)", a, c); break;
    case 3: ok = put(out, size, "(%s ^ 0x%08xu)", a, c); break;
    case 4: ok = put(out, size, "(%s << %u)", a, k); break;
    case 5: case 6: ok = put(out, size, "(%s >> %u)", a, k); break;
    case 7: ok = put(out, size, "rotl32(%s, %u)", a, k); break;
    case 8: ok = put(out, size, "__builtin_bswap32(%s)", a); break;
    case 9: ok = put(out, size, "(uint32_t)(uint16_t)(%s)", a); break;
    case 10: ok = put(out, size, "(uint32_t)(int32_t)(int16_t)(%s)", a); break;
    case 11: case 12: ok = put(out, size, "(%s + 0x%08xu)", a, c); break;
    case 13: ok = put(out, size, "(%s - 0x%08xu)", a, c); break;
    case 14: ok = put(out, size, "(0x%08xu - %s)", c, a); break;
    case 15: ok = put(out, size, "(%s * 0x%08xu)", a, c | 1); break;
    case 16: ok = put(out, size, "(%s * %uu)", a, 1u << rng_below(r, 12)); break;
    case 17: ok = put(out, size, "(%s * 0x%08xu)", a, c); break;
    case 18: ok = put(out, size, "(%s / %uu)", a, 2 + rng_below(r, 100000)); break;
    case 19: ok = put(out, size, "(%s %% %uu)", a, 2 + rng_below(r, 100000)); break;
    default:
        gen(r, depth - 1, b, sizeof b);
        switch (rng_below(r, 4)) {
        case 0: ok = put(out, size, "(%s ^ %s)", a, b); break;
        case 1: ok = put(out, size, "(%s + %s)", a, b); break;
        case 2: ok = put(out, size, "(%s | %s)", a, b); break;
        default:
            ok = put(out, size, "((uint32_t)(uint16_t)(%s) + ((%s) << 16))", a, b);
            break;
        }
        break;
    }
    if (!ok)    /* too long for the buffer: a leaf instead */
        put(out, size, "%s", leaves[0]);
}

static void gen_expr(struct rng *r, struct expr *e)
{
    static const int depths[] = {1, 1, 2, 2, 3, 4};
    gen(r, depths[rng_below(r, 6)], e->text, sizeof e->text);
    unsigned sh = rng_below(r, 21);
    e->addend = 0;
    bool ok;
    switch (rng_below(r, 8)) {
    case 0: case 1:
        ok = put(e->index, sizeof e->index, "((%s) >> %u) & 4095u", e->text, sh);
        break;
    case 2: case 3:     /* the top 4..12 bits */
        ok = put(e->index, sizeof e->index, "(%s) >> %u", e->text, 20 + rng_below(r, 9));
        break;
    case 4: case 5:
        /* X + C: what ir describes by X (the whole-value exception) */
        e->addend = rng_below(r, 2048);
        ok = put(e->index, sizeof e->index, "(((%s) >> %u) & 2047u) + %uu", e->text, sh,
                 e->addend);
        break;
    case 6:
        ok = put(e->index, sizeof e->index, "(%s) %% 4096u", e->text);
        break;
    default:
        ok = put(e->index, sizeof e->index, "(uint32_t)(uint16_t)(%s) >> 4", e->text);
        break;
    }
    assert_true(ok);    /* gen keeps expressions well inside EXPR_MAX */
}

/* ---- One batch: the NF's source, its builds, the concrete indexes -------------- */

typedef uint32_t (*index_fn)(const struct nf_ipv4_hdr *ip, const struct nf_l4_ports *l4);

static void write_batch(const char *path, const struct expr *e, int n)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "#include \"rsskey/nf.h\"\n\n"
               "static inline uint32_t rotl32(uint32_t x, unsigned k)\n"
               "{\n    return (x << k) | (x >> (32 - k));\n}\n\n");
    for (int j = 0; j < n; j++)
        fprintf(f, "uint32_t index_%d(const struct nf_ipv4_hdr *ip, "
                   "const struct nf_l4_ports *l4)\n{\n    return %s;\n}\n\n", j, e[j].index);
    fprintf(f, "#ifndef INDEXES_ONLY\n");
    for (int j = 0; j < n; j++)
        fprintf(f, "static struct nf_vector *v%d;\n", j);
    fprintf(f, "\nint nf_init(void)\n{\n");
    for (int j = 0; j < n; j++)
        fprintf(f, "    if (!(v%d = nf_vector_create(\"v%d\", 8, %d)))\n        return -1;\n", j,
                j, CAP);
    fprintf(f, "    return 0;\n}\n\nint nf_process(struct nf_packet *pkt)\n{\n"
               "    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);\n"
               "    struct nf_l4_ports *l4 = nf_l4(pkt);\n"
               "    if (!ip || !l4)\n        return NF_DROP;\n    uint64_t *r;\n");
    for (int j = 0; j < n; j++)
        fprintf(f, "    r = nf_vector_write(v%d, index_%d(ip, l4));\n    *r += 1;\n", j, j);
    fprintf(f, "    return 0;\n}\n#endif\n");
    assert_int_equal(fclose(f), 0);
}

static void run(const char *cmd)
{
    int rc = system(cmd);
    if (rc != 0)
        fail_msg("`%s` failed (%d)", cmd, rc);
}

/* dir/batch.c -> batch.O0.bc, batch.O2.bc, batch.so. */
static void build_batch(const char *dir)
{
    char cmd[2048];
    static const char *const levels[] = {"O0", "O2"};
    for (int l = 0; l < 2; l++) {
        snprintf(cmd, sizeof cmd, "'%s' -std=gnu17 -c -emit-llvm -%s -g -w -I'%s' -o "
                 "'%s/batch.%s.bc' '%s/batch.c'", RSSKEY_CLANG19, levels[l], RSSKEY_INCLUDE_DIR,
                 dir, levels[l], dir);
        run(cmd);
    }
    snprintf(cmd, sizeof cmd, "'%s' -std=gnu17 -O1 -w -shared -fPIC -DINDEXES_ONLY -I'%s' -o "
             "'%s/batch.so' '%s/batch.c'", RSSKEY_CLANG19, RSSKEY_INCLUDE_DIR, dir, dir);
    run(cmd);
}

/* ---- Packets ------------------------------------------------------------------- */

struct packet {
    struct nf_ipv4_hdr ip;
    struct nf_l4_ports l4;
};

/* A byte that makes carries and borrows likely: 0x00, 0xff, 0x7f, 0x80, 0x01. */
static uint8_t edge_byte(struct rng *r)
{
    static const uint8_t edges[] = {0x00, 0xff, 0x7f, 0x80, 0x01};
    return rng_below(r, 3) == 0 ? (uint8_t)rng_next(r) : edges[rng_below(r, 5)];
}

/* Half the packets uniformly random, half built from carry-prone bytes. */
static void random_packet(struct rng *r, struct packet *p)
{
    memset(p, 0, sizeof *p);
    p->ip.version_ihl = 0x45;
    p->ip.ttl = 64;
    p->ip.proto = NF_PROTO_UDP;
    uint8_t bytes[12];
    bool edges = rng_below(r, 2) == 0;
    for (int i = 0; i < 12; i++)
        bytes[i] = edges ? edge_byte(r) : (uint8_t)rng_next(r);
    memcpy(&p->ip.src, bytes, 4);
    memcpy(&p->ip.dst, bytes + 4, 4);
    memcpy(&p->l4, bytes + 8, 4);
}

/* Bit `bit` (0 = least significant) of header byte `byte` of layer 3 or 4. */
static int header_bit(const struct packet *p, int layer, int byte, int bit)
{
    const uint8_t *h = layer == 3 ? (const uint8_t *)&p->ip : (const uint8_t *)&p->l4;
    return (h[byte] >> bit) & 1;
}

/* The bytes the expressions read: ipv4.src/dst (L3 12..19), the ports (L4 0..3). */
static bool varied_byte(int layer, int byte)
{
    return (layer == 3 && byte >= 12 && byte < 20) || (layer == 4 && byte >= 0 && byte < 4);
}

/* Where a field starts, for the four fields the expressions use. */
static bool field_place(enum ir_field_id id, int *layer, int *start)
{
    switch (id) {
    case IR_FIELD_IPV4_SRC: *layer = 3, *start = 12; return true;
    case IR_FIELD_IPV4_DST: *layer = 3, *start = 16; return true;
    case IR_FIELD_L4_SPORT: *layer = 4, *start = 0; return true;
    case IR_FIELD_L4_DPORT: *layer = 4, *start = 2; return true;
    default: return false;
    }
}

/* The first `prefix` bits (network order; 0 = whole) of a field of packet p. */
static uint32_t field_prefix(const struct packet *p, struct ir_field f)
{
    int layer = 0, start = 0;
    if (!field_place(f.id, &layer, &start))
        fail_msg("sharding field %d is not one the expressions read", (int)f.id);
    unsigned width = ir_field_bits(f.id), n = f.prefix ? f.prefix : width;
    uint32_t v = 0;
    for (unsigned t = 0; t < n; t++)
        v = v << 1 | (uint32_t)header_bit(p, layer, start + (int)t / 8, 7 - (int)t % 8);
    return v;
}

/* ---- The run's state ---------------------------------------------------------- */

struct run {
    struct packet *packets;
    /* For the claims: per header bit (L3 bytes 12..19, then L4 0..3), its
     * value in each of the first CLAIM_PACKETS packets, as a bitmap. */
    uint64_t hdr[96][WORDS];
    int keys, field_bits, header_bits, const_bits, whole_index, sharded;
    int split_unchecked;        /* split keys only (b) checks */
    int addend_unknown;         /* X + C keys without header parts, C folded */
};

static int hdr_slot(int layer, int byte, int bit)
{
    return ((layer == 3 ? byte - 12 : 8 + byte) * 8) + bit;
}

static void prepare_bitmaps(struct run *R)
{
    memset(R->hdr, 0, sizeof R->hdr);
    for (int i = 0; i < CLAIM_PACKETS; i++)
        for (int layer = 3; layer <= 4; layer++)
            for (int byte = layer == 3 ? 12 : 0; byte < (layer == 3 ? 20 : 4); byte++)
                for (int bit = 0; bit < 8; bit++)
                    if (header_bit(&R->packets[i], layer, byte, bit))
                        R->hdr[hdr_slot(layer, byte, bit)][i / 64] |= 1ULL << (i % 64);
}

/* ---- (a) the bit claims --------------------------------------------------------- */

static const char *key_text(const struct ir_key *k, char *buf, size_t len)
{
    buf[0] = '\0';
    for (int i = 0; i < k->count; i++) {
        char part[64];
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%s%s", i ? "," : "",
                 ir_key_part_format(&k->parts[i], part, sizeof part));
    }
    return buf;
}

struct counts {
    int field_bits, header_bits, const_bits;
};

struct claim_ctx {
    const struct expr *e;
    const struct ir_access *a;
    const char *level;
    uint64_t bits[32][WORDS];   /* index bit q (of index - addend) per packet */
    char why[512];              /* the first claim that did not hold */
};

static bool claim_broken(struct claim_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static bool claim_broken(struct claim_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof c->why, fmt, ap);
    va_end(ap);
    return false;
}

/* Equal on every packet, or opposite on every packet: the domain keeps a
 * bit's source through xor with a constant (x ^ 1 is described as x). */
static bool same_bits(const uint64_t *x, const uint64_t *y)
{
    bool equal = true, opposite = true;
    for (int w = 0; w < WORDS && (equal || opposite); w++) {
        equal &= x[w] == y[w];
        opposite &= x[w] == ~y[w];
    }
    return equal || opposite;
}

/* How many of the candidate header bits index bit q follows (equal or
 * flipped) on every packet; *which is one of them. */
static int matches(const struct run *R, const struct claim_ctx *c, int q, const int *cand,
                   int n, int *which)
{
    int found = 0;
    for (int i = 0; i < n; i++)
        if (same_bits(c->bits[q], R->hdr[cand[i]])) {
            *which = cand[i];
            found++;
        }
    return found;
}

/* Do the key's parts describe index - addend, bit by bit? */
static bool claims_hold(const struct run *R, struct claim_ctx *c, index_fn f, uint32_t addend,
                        struct counts *n_checked)
{
    const struct ir_key *key = &c->a->key;
    int total = 0;
    for (int p = 0; p < key->count; p++)
        total += key->parts[p].bits;
    if (total > 32)
        return claim_broken(c, "the key is %d bits wide; the index has 32", total);
    uint32_t mask = total == 32 ? 0xffffffffu : (1u << total) - 1;
    memset(c->bits, 0, sizeof c->bits);
    for (int i = 0; i < CLAIM_PACKETS; i++) {
        /* X + C: index = X + C modulo 2^m for some m >= the key's width, so
         * only the low bits of index - C are X's. */
        uint32_t v = f(&R->packets[i].ip, &R->packets[i].l4) - addend;
        if ((v & ~mask) != 0 && addend == 0)
            return claim_broken(c, "0x%x has bits above the key's %d", v, total);
        v &= mask;
        for (int q = 0; q < total; q++)
            if ((v >> q) & 1)
                c->bits[q][i / 64] |= 1ULL << (i % 64);
    }
    /* Parts run from the most significant index bit down. */
    int hi = total - 1;
    for (int p = 0; p < key->count; p++) {
        const struct ir_key_part *part = &key->parts[p];
        int lo = hi - part->bits + 1;
        int layer = 0, start = 0;
        if (part->field.id == IR_FIELD_CONSTANT) {
            for (int q = lo; q <= hi; q++) {
                uint64_t want = ((uint64_t)part->constant >> (q - lo)) & 1 ? ~0ULL : 0;
                for (int w = 0; w < WORDS; w++)
                    if (c->bits[q][w] != want)
                        return claim_broken(c, "bit %d is not the constant's bit %d", q,
                                            q - lo);
                n_checked->const_bits++;
            }
        } else if (field_place(part->field.id, &layer, &start)) {
            unsigned n = part->field.prefix ? part->field.prefix : ir_field_bits(part->field.id);
            if (n != part->bits)
                return claim_broken(c, "part %d: %u bits of the field in a %u-bit part", p, n,
                                    part->bits);
            int cand[32];
            for (unsigned t = 0; t < n; t++)
                cand[t] = hdr_slot(layer, start + (int)t / 8, 7 - (int)t % 8);
            bool used[96] = {false};
            for (int q = lo; q <= hi; q++) {
                int which = -1;
                if (matches(R, c, q, cand, (int)n, &which) != 1 || used[which])
                    return claim_broken(c, "bit %d is not one of the field's first %u bits "
                                        "(part %d)", q, n, p);
                used[which] = true;
                n_checked->field_bits++;
            }
        } else if (part->field.id == IR_FIELD_OTHER_HEADER) {
            /* Bits of a field that are not a prefix of it: the part starts at
             * the lowest byte they come from and they may come from any byte
             * of the field; other header bytes: a run from `offset`. */
            int first = part->offset, end = part->offset + part->bits;
            for (int f = IR_FIELD_IPV4_SRC; f <= IR_FIELD_L4_DPORT; f++)
                if (field_place((enum ir_field_id)f, &layer, &start) && layer == part->layer &&
                    first >= start && first < start + (int)ir_field_bits(f) / 8) {
                    first = start;
                    end = start + (int)ir_field_bits(f) / 8;
                }
            int cand[96], n = 0;
            for (int byte = first; byte < end; byte++)
                for (int bit = 0; bit < 8 && varied_byte(part->layer, byte); bit++)
                    cand[n++] = hdr_slot(part->layer, byte, bit);
            for (int q = lo; q <= hi; q++) {
                int which;
                if (matches(R, c, q, cand, n, &which) == 0)
                    return claim_broken(c, "bit %d is no bit of L%u bytes %d..%d (part %d)", q,
                                        part->layer, first, end - 1, p);
                n_checked->header_bits++;
            }
        } else if (part->field.id < IR_FIELD_OTHER_HEADER) {
            return claim_broken(c, "part %d names a field the expression does not read", p);
        }
        hi = lo - 1;
    }
    return true;
}

/* The claims hold for the index, or (an index X + C that ir describes by X)
 * for index - C, where C is the constant the generator added or the one ir
 * recorded on the first header part (LLVM may have folded more constants
 * into it, or made X + C of another form). A key with unknown parts but no
 * header part whose claims fail both ways may be such an X + C with a C the
 * test cannot know: counted, not failed. */
static void check_claims(struct run *R, struct claim_ctx *c, index_fn f)
{
    struct counts n = {0, 0, 0};
    char first[600], key[512];
    uint32_t recorded = 0;
    bool header = false, unknown = false;
    for (int p = 0; p < c->a->key.count; p++) {
        enum ir_field_id id = c->a->key.parts[p].field.id;
        if (id <= IR_FIELD_OTHER_HEADER && !header)
            recorded = (uint32_t)c->a->key.parts[p].constant;
        header |= id <= IR_FIELD_OTHER_HEADER;
        unknown |= id == IR_FIELD_UNKNOWN;
    }
    if (!claims_hold(R, c, f, 0, &n)) {
        snprintf(first, sizeof first, "the index: %s", c->why);
        uint32_t addend = recorded ? recorded : c->e->addend;
        memset(&n, 0, sizeof n);
        if (addend == 0 || !claims_hold(R, c, f, addend, &n)) {
            if (!header && unknown) {
                R->addend_unknown++;
                return;
            }
            fail_msg("ir's key does not describe %s%s%s\n  index: %s\n  ir (-%s, port %d): "
                     "(%s)", first, addend ? "; index - addend: " : "", addend ? c->why : "",
                     c->e->index, c->level, c->a->port, key_text(&c->a->key, key, sizeof key));
        }
        R->whole_index++;
    }
    R->keys++;
    R->field_bits += n.field_bits;
    R->header_bits += n.header_bits;
    R->const_bits += n.const_bits;
}

/* An index ir describes once per outcome of a condition (one access each):
 * every packet takes one outcome, but which one is not known here. When all
 * the keys are constants, each packet's index must be one of them; other
 * split keys are left to the collision check (b). */
static void check_split(struct run *R, const struct ir_nf *nf, struct claim_ctx *c, index_fn f)
{
    uint32_t values[16];
    int n = 0;
    for (int k = 0; k < nf->n_accesses && n < 16; k++) {
        const struct ir_access *a = &nf->accesses[k];
        if (a->object != c->a->object || a->port != c->a->port)
            continue;
        if (a->key.count != 1 || a->key.parts[0].field.id != IR_FIELD_CONSTANT) {
            R->split_unchecked++;
            return;
        }
        values[n++] = (uint32_t)a->key.parts[0].constant;
    }
    for (int i = 0; i < CLAIM_PACKETS; i++) {
        uint32_t index = f(&R->packets[i].ip, &R->packets[i].l4);
        bool found = false;
        for (int k = 0; k < n; k++)
            found |= values[k] == index;
        if (!found) {
            char key[512];
            fail_msg("index %u is none of the constants ir split it into\n  index: %s\n"
                     "  ir (-%s, port %d), one of them: (%s)", index, c->e->index, c->level,
                     c->a->port, key_text(&c->a->key, key, sizeof key));
        }
    }
    R->keys++;
}

/* ---- (b) sharded objects against index collisions -------------------------------- */

static void check_sharded(struct run *R, const struct deps_plan *plan, const char *level,
                          const struct expr *batch, index_fn *fns, const char *how)
{
    for (int o = 0; o < plan->n_objects; o++) {
        const struct deps_object *obj = &plan->objects[o];
        if (obj->decision != DEPS_SHARDED)
            continue;
        int j = atoi(obj->name + 1);
        int *first = malloc(CAP * sizeof *first);
        assert_non_null(first);
        for (int p = 0; p < plan->n_ports && p < DEPS_MAX_PORTS; p++) {
            const struct deps_key *key = &obj->ports[p];
            if (key->count == 0)
                continue;
            R->sharded++;
            for (int i = 0; i < CAP; i++)
                first[i] = -1;
            for (int i = 0; i < PACKETS; i++) {
                const struct packet *pk = &R->packets[i];
                uint32_t index = fns[j](&pk->ip, &pk->l4);
                if (index >= CAP)
                    fail_msg("index %u out of range: %s", index, batch[j].index);
                if (first[index] < 0) {
                    first[index] = i;
                    continue;
                }
                const struct packet *other = &R->packets[first[index]];
                for (int k = 0; k < key->count; k++)
                    if (field_prefix(pk, key->fields[k]) != field_prefix(other, key->fields[k])) {
                        char text[256];
                        fail_msg("%s (-%s, %s) is sharded by (%s) on port %d, but packets %d "
                                 "and %d reach index %u with different field %d\n  index: %s\n"
                                 "  reason: %s", obj->name, level, how,
                                 deps_key_format(key, text, sizeof text), p, first[index], i,
                                 index, k, batch[j].index, obj->reason);
                    }
            }
        }
        free(first);
    }
}

/* The NF cut down to object `obj` and its accesses (deps then decides that
 * object alone, without the NF-wide agreement with the others). */
static int plan_alone(const struct ir_nf *nf, int obj, struct deps_plan *plan)
{
    struct ir_nf sub;
    memset(&sub, 0, sizeof sub);
    snprintf(sub.path, sizeof sub.path, "%s", nf->path);
    sub.n_ports = nf->n_ports;
    sub.n_objects = 1;
    sub.objects = &nf->objects[obj];
    sub.accesses = calloc((size_t)nf->n_accesses + 1, sizeof *sub.accesses);
    assert_non_null(sub.accesses);
    for (int i = 0; i < nf->n_accesses; i++) {
        if (nf->accesses[i].object != obj)
            continue;
        struct ir_access *a = &sub.accesses[sub.n_accesses++];
        *a = nf->accesses[i];
        a->object = 0;
        a->related[0] = a->related[1] = -1;
        a->n_guards = 0;
        a->guarded_by = -1;
    }
    sub.n_derivations = nf->n_derivations;
    sub.derivations = nf->derivations;
    struct util_error err;
    memset(&err, 0, sizeof err);
    int rc = deps_plan_build(&sub, NULL, plan, &err);
    if (rc)
        fail_msg("deps_plan_build: %s", err.msg);
    free(sub.accesses);
    return rc;
}

/* ---- The test ---------------------------------------------------------------------- */

static void check_level(struct run *R, const char *dir, const char *level,
                        const struct expr *batch, index_fn *fns)
{
    char path[512];
    snprintf(path, sizeof path, "%s/batch.%s.bc", dir, level);
    struct ir_nf nf;
    struct util_error err;
    memset(&err, 0, sizeof err);
    if (ir_analyze_file(path, NULL, &nf, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(nf.n_issues, 0);
    assert_int_equal(nf.n_objects, PER_BATCH);
    struct claim_ctx *c = malloc(sizeof *c);
    assert_non_null(c);
    for (int i = 0; i < nf.n_accesses; i++) {
        const struct ir_access *a = &nf.accesses[i];
        int j = atoi(nf.objects[a->object].name + 1);
        c->e = &batch[j];
        c->a = a;
        c->level = level;
        int n = 0;
        for (int k = 0; k < nf.n_accesses; k++)
            n += nf.accesses[k].object == a->object && nf.accesses[k].port == a->port;
        if (n == 1)
            check_claims(R, c, fns[j]);
        else
            check_split(R, &nf, c, fns[j]);
    }
    free(c);
    struct deps_plan plan;
    if (deps_plan_build(&nf, NULL, &plan, &err) != 0)
        fail_msg("deps_plan_build: %s", err.msg);
    check_sharded(R, &plan, level, batch, fns, "whole NF");
    deps_plan_free(&plan);
    for (int o = 0; o < nf.n_objects; o++) {
        plan_alone(&nf, o, &plan);
        check_sharded(R, &plan, level, batch, fns, "alone");
        deps_plan_free(&plan);
    }
    ir_nf_free(&nf);
}

/* The batch's files live in a temporary directory that the teardown removes,
 * also when a check fails. */
static const char *const batch_files[] = {"batch.c", "batch.O0.bc", "batch.O2.bc", "batch.so"};

static int make_dir(void **state)
{
    char *dir = strdup("/tmp/rsskey_arith_XXXXXX");
    if (!dir || !mkdtemp(dir)) {
        free(dir);
        return -1;
    }
    *state = dir;
    return 0;
}

static int remove_dir(void **state)
{
    char *dir = *state, path[512];
    for (size_t i = 0; i < sizeof batch_files / sizeof batch_files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, batch_files[i]);
        unlink(path);
    }
    int rc = rmdir(dir);
    free(dir);
    return rc;
}

static void test_domain_against_concrete(void **state)
{
    const char *dir = *state;
    struct rng rng = {20250601};
    const char *seed = getenv("RSSKEY_ARITH_SEED");
    if (seed)
        rng.s = strtoull(seed, NULL, 0);
    printf("arith_random_test: seed %llu\n", (unsigned long long)rng.s);

    struct run *R = calloc(1, sizeof *R);
    assert_non_null(R);
    R->packets = malloc(PACKETS * sizeof *R->packets);
    assert_non_null(R->packets);
    for (int i = 0; i < PACKETS; i++)
        random_packet(&rng, &R->packets[i]);
    prepare_bitmaps(R);

    struct expr *batch = malloc(PER_BATCH * sizeof *batch);
    assert_non_null(batch);
    char path[512];
    for (int b = 0; b < BATCHES; b++) {
        for (int j = 0; j < PER_BATCH; j++)
            gen_expr(&rng, &batch[j]);
        snprintf(path, sizeof path, "%s/batch.c", dir);
        write_batch(path, batch, PER_BATCH);
        build_batch(dir);
        snprintf(path, sizeof path, "%s/batch.so", dir);
        void *so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!so)
            fail_msg("dlopen: %s", dlerror());
        index_fn fns[PER_BATCH];
        for (int j = 0; j < PER_BATCH; j++) {
            char name[32];
            snprintf(name, sizeof name, "index_%d", j);
            *(void **)&fns[j] = dlsym(so, name);
            assert_non_null(fns[j]);
        }
        check_level(R, dir, "O0", batch, fns);
        check_level(R, dir, "O2", batch, fns);
        dlclose(so);
    }
    printf("arith_random_test: %d expressions, %d keys: %d field bits, %d other header bits, "
           "%d constant bits checked, %d by the whole-value exception, %d split keys and %d "
           "X + C keys with an unknown C left to the collision check; %d sharded keys checked "
           "against index collisions\n", BATCHES * PER_BATCH, R->keys, R->field_bits,
           R->header_bits, R->const_bits, R->whole_index, R->split_unchecked, R->addend_unknown,
           R->sharded);
    /* The generator must keep producing claims worth checking. */
    assert_true(R->field_bits > 200);
    assert_true(R->header_bits > 2000);
    assert_true(R->sharded > 40);

    free(batch);
    free(R->packets);
    free(R);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_domain_against_concrete, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
