/*
 * value.c - the abstract domain: every integer (or integer-vector) SSA value
 * of the specialised nf_process is described bit by bit (constant, header
 * bit, port, time, state bit, unknown), and every pointer by its base
 * (stack slot, header, state record, packet struct, global) plus offset.
 *
 * Only GF(2)-affine movements keep a bit's source: shifts and rotates by
 * constants, and/or/xor with constants (xor 1: the bit, flipped), truncation,
 * extensions, bswap, shuffles. add/sub/mul keep a bit only where the carry
 * (borrow) into it is known: bit i of x + y is x_i ^ y_i ^ c_i; where c_i is
 * not known it depends on all the operands' lower bits (eval_arith). Other
 * operations mix their operands' bits into one source (a single state access,
 * the time, a constant) or AB_UNKNOWN, which for header bits remembers the
 * field and the instruction (ir_nf.derivations), for the reasons only.
 * Unknown is always a safe answer. docs/analysis.md, "Which operations keep
 * field bits, and why".
 */
#include "ir/lift.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Helpers ----------------------------------------------------------------- */

bool lift_const_int(LLVMValueRef v, int64_t *out)
{
    if (!v || !LLVMIsAConstantInt(v))
        return false;
    if (LLVMGetIntTypeWidth(LLVMTypeOf(v)) > 64)
        return false;
    *out = LLVMConstIntGetSExtValue(v);
    return true;
}

int lift_type_bits(struct lift *L, LLVMTypeRef t)
{
    switch (LLVMGetTypeKind(t)) {
    case LLVMIntegerTypeKind:
        return (int)LLVMGetIntTypeWidth(t);
    case LLVMPointerTypeKind:
        return 64;
    case LLVMVectorTypeKind: {
        LLVMTypeRef e = LLVMGetElementType(t);
        return (int)LLVMGetVectorSize(t) * lift_type_bits(L, e);
    }
    default:
        return (int)(LLVMSizeOfTypeInBits(L->td, t));
    }
}

static int lane_bits(LLVMTypeRef t)
{
    if (LLVMGetTypeKind(t) == LLVMVectorTypeKind)
        return (int)LLVMGetIntTypeWidth(LLVMGetElementType(t));
    return LLVMGetTypeKind(t) == LLVMIntegerTypeKind ? (int)LLVMGetIntTypeWidth(t) : 64;
}

bool lift_gep_const_offset(LLVMTargetDataRef td, LLVMValueRef gep, int64_t *off)
{
    LLVMTypeRef t = LLVMGetGEPSourceElementType(gep);
    int n = LLVMGetNumOperands(gep);
    int64_t total = 0;
    for (int i = 1; i < n; i++) {
        int64_t idx;
        if (!lift_const_int(LLVMGetOperand(gep, (unsigned)i), &idx))
            return false;
        if (i == 1) {
            total += idx * (int64_t)LLVMABISizeOfType(td, t);
            continue;
        }
        switch (LLVMGetTypeKind(t)) {
        case LLVMStructTypeKind:
            total += (int64_t)LLVMOffsetOfElement(td, t, (unsigned)idx);
            t = LLVMStructGetTypeAtIndex(t, (unsigned)idx);
            break;
        case LLVMArrayTypeKind:
        case LLVMVectorTypeKind:
            t = LLVMGetElementType(t);
            total += idx * (int64_t)LLVMABISizeOfType(td, t);
            break;
        default:
            return false;
        }
    }
    *off = total;
    return true;
}

void aval_set_unknown(struct aval *a, int width)
{
    a->width = width > AVAL_MAX_BITS ? AVAL_MAX_BITS : width;
    for (int i = 0; i < a->width; i++)
        a->b[i] = (struct abit){AB_UNKNOWN, 0, 0, -1, 0, false};
}

static struct abit bit_const(int one)
{
    return (struct abit){one ? AB_ONE : AB_ZERO, 0, 0, -1, 0, false};
}

static bool bit_is_const(struct abit b)
{
    return b.kind == AB_ZERO || b.kind == AB_ONE || b.kind == AB_UNDEF || b.kind == AB_GCONST;
}

static bool bit_eq(struct abit a, struct abit b)
{
    return a.kind == b.kind && a.layer == b.layer && a.pos == b.pos && a.access == b.access &&
           a.alt1 == b.alt1 && a.flipped == b.flipped;
}

/* x ^ 1: the same source, complemented. */
static struct abit bit_flip(struct abit b)
{
    if (b.kind == AB_HDR || b.kind == AB_PORT || b.kind == AB_TIME || b.kind == AB_STATE)
        b.flipped = !b.flipped;
    return b;
}

/* The field of a header bit; other header bytes differ by layer and byte. */
static bool same_header_field(struct abit a, struct abit b)
{
    enum ir_field_id fa = lift_header_field(a.layer, a.pos / 8, NULL);
    enum ir_field_id fb = lift_header_field(b.layer, b.pos / 8, NULL);
    return fa == fb &&
           (fa != IR_FIELD_OTHER_HEADER || (a.layer == b.layer && a.pos / 8 == b.pos / 8));
}

/* What mixed header bits: one ir_derivation per (fields, operation, line);
 * hdr is a header bit that was mixed in, hdr2 (or NULL) one of another
 * field. Returns its index, -1 when there is no room. */
static int derivation(struct lift *L, struct abit hdr, const struct abit *hdr2,
                      LLVMValueRef inst)
{
    struct ir_derivation d;
    memset(&d, 0, sizeof d);
    d.also.id = IR_FIELD_UNKNOWN;
    if (hdr2) {
        /* The lower field first, whichever operand the compiler put first. */
        enum ir_field_id f1 = lift_header_field(hdr.layer, hdr.pos / 8, NULL);
        enum ir_field_id f2 = lift_header_field(hdr2->layer, hdr2->pos / 8, NULL);
        struct abit first = f2 < f1 ? *hdr2 : hdr;
        d.also.id = f2 < f1 ? f1 : f2;
        hdr = first;
    }
    d.field.id = lift_header_field(hdr.layer, hdr.pos / 8, NULL);
    if (d.field.id == IR_FIELD_OTHER_HEADER) {
        d.layer = (uint8_t)(hdr.layer == LAYER_V6 || hdr.layer == LAYER_PROTO ? 3 : hdr.layer);
        d.offset = (uint16_t)(hdr.pos / 8);
    }
    const char *op;
    switch (LLVMIsAInstruction(inst) ? LLVMGetInstructionOpcode(inst) : LLVMCall) {
    case LLVMAdd: {
        /* LLVM writes x - C as x + (-C): say what the source most likely
         * says (a small negative constant; a huge one is a salt). */
        int64_t c;
        int w = LLVMGetTypeKind(LLVMTypeOf(inst)) == LLVMIntegerTypeKind
                    ? (int)LLVMGetIntTypeWidth(LLVMTypeOf(inst)) : 64;
        bool minus = (lift_const_int(LLVMGetOperand(inst, 1), &c) ||
                      lift_const_int(LLVMGetOperand(inst, 0), &c)) && c < 0 && w >= 3 &&
                     w <= 64 && (w == 64 || c > -(INT64_C(1) << (w - 2)));
        op = minus ? "a subtraction with borrows" : "an addition with carries";
        break;
    }
    case LLVMSub: op = "a subtraction with borrows"; break;
    case LLVMMul: op = "a multiplication"; break;
    case LLVMUDiv: case LLVMSDiv: op = "a division"; break;
    case LLVMURem: case LLVMSRem: op = "a remainder (modulo)"; break;
    case LLVMAnd: op = "an and of two variables"; break;
    case LLVMOr: op = "an or of two variables"; break;
    case LLVMXor: op = "an xor of two variables"; break;
    case LLVMShl: case LLVMLShr: case LLVMAShr: op = "a shift by a variable amount"; break;
    case LLVMICmp: op = "a comparison"; break;
    default: op = "an operation the analysis does not follow"; break;
    }
    if (LLVMIsACallInst(inst)) {
        const char *name = lift_callee_name(inst);
        snprintf(d.op, sizeof d.op, "a call to %s", name ? name : "a function");
    } else {
        snprintf(d.op, sizeof d.op, "%s", op);
    }
    lift_location(inst, &d.where);
    struct ir_nf *nf = L->nf;
    for (int i = 0; i < nf->n_derivations; i++) {
        const struct ir_derivation *e = &nf->derivations[i];
        if (e->field.id == d.field.id && e->layer == d.layer && e->offset == d.offset &&
            e->also.id == d.also.id && strcmp(e->op, d.op) == 0 && e->where.line == d.where.line &&
            strcmp(e->where.file, d.where.file) == 0 &&
            strcmp(e->where.function, d.where.function) == 0)
            return i;
    }
    if (nf->n_derivations >= UINT16_MAX - 1)
        return -1;
    nf->derivations = lift_grow(nf->derivations, nf->n_derivations, sizeof *nf->derivations);
    nf->derivations[nf->n_derivations] = d;
    return nf->n_derivations++;
}

/* One source for a combination of bits: a single state access (or one pair
 * of alternative accesses), the time, the input port (at an unknown
 * position), a constant, else unknown. Unknown
 * remembers what it was computed from: an unknown operand bit's derivation,
 * else the first header bit mixed in. */
struct mix {
    bool any;               /* a non-constant bit was seen */
    struct abit src;
    bool hdr_seen, hdr2_seen;
    struct abit hdr;        /* the first header bit mixed in */
    struct abit hdr2;       /* the first one of another field */
    int derived;            /* 1 + the first derivation an operand bit carried; 0 none */
};

static const struct abit PLAIN_UNKNOWN = {AB_UNKNOWN, 0, 0, -1, 0, false};

static void mix_add(struct mix *m, struct abit b)
{
    if (bit_is_const(b))
        return;
    if (b.kind == AB_HDR && !m->hdr_seen) {
        m->hdr_seen = true;
        m->hdr = b;
    } else if (b.kind == AB_HDR && !m->hdr2_seen && !same_header_field(m->hdr, b)) {
        m->hdr2_seen = true;
        m->hdr2 = b;
    }
    if (b.kind == AB_UNKNOWN && b.access >= 0 && !m->derived)
        m->derived = b.access + 1;
    /* A bit of access k (or, on other paths, of access alt1 - 1: the split
     * into one key per access later follows the same paths) stays one. */
    struct abit s = b;
    s.flipped = false;
    if (s.kind == AB_STATE || s.kind == AB_TIME || s.kind == AB_PORT)
        s.pos = POS_UNKNOWN;
    else
        s = PLAIN_UNKNOWN;
    if (!m->any) {
        m->any = true;
        m->src = s;
    } else if (!bit_eq(m->src, s)) {
        m->src = PLAIN_UNKNOWN;
    }
}

/* The mixed bit; inst is the instruction that mixes (named in the reasons). */
static struct abit mix_result(struct lift *L, const struct mix *m, LLVMValueRef inst)
{
    if (!m->any)
        return (struct abit){AB_GCONST, 0, 0, -1, 0, false};
    if (m->src.kind != AB_UNKNOWN)
        return m->src;
    struct abit r = PLAIN_UNKNOWN;
    if (m->derived)
        r.access = m->derived - 1;
    else if (m->hdr_seen)
        r.access = derivation(L, m->hdr, m->hdr2_seen ? &m->hdr2 : NULL, inst);
    return r;
}

static void aval_mix(struct lift *L, LLVMValueRef inst, struct aval *out, int width,
                     const struct aval *a, const struct aval *b)
{
    struct mix m = {0};
    for (int i = 0; a && i < a->width; i++)
        mix_add(&m, a->b[i]);
    for (int i = 0; b && i < b->width; i++)
        mix_add(&m, b->b[i]);
    out->width = width > AVAL_MAX_BITS ? AVAL_MAX_BITS : width;
    struct abit r = mix_result(L, &m, inst);
    for (int i = 0; i < out->width; i++)
        out->b[i] = r;
}

/* A lane that is wholly ZERO/ONE and fits in 64 bits: its value. */
static bool lane_const(const struct aval *a, int lo, int n, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < n && lo + i < a->width; i++) {
        struct abit b = a->b[lo + i];
        if (b.kind != AB_ZERO && b.kind != AB_ONE)
            return false;
        if (b.kind == AB_ONE && i >= 64)
            return false;
        if (b.kind == AB_ONE)
            v |= 1ULL << i;
    }
    *out = v;
    return true;
}

static struct aval *aval_new(void)
{
    struct aval *a = malloc(sizeof *a);
    a->width = 0;
    return a;
}

/* ---- Pointers ------------------------------------------------------------------ */

static const struct { const char *name; int layer; } header_accessors[] = {
    {"nf_eth", LAYER_L2}, {"nf_ipv4", LAYER_V4}, {"nf_ipv6", LAYER_V6},
    {"nf_l4", LAYER_L4}, {"nf_tcp", LAYER_L4}, {"nf_udp", LAYER_L4},
};

/* Can a phi's incoming i be the value under the current assumption? Not when
 * its edge is cut or its block unreachable: no execution that satisfies the
 * assumption takes that edge (the "entered from" and condition splits). */
static bool phi_edge_possible(struct lift *L, LLVMValueRef phi, unsigned i)
{
    return lift_edge_possible(L, LLVMGetIncomingBlock(phi, i), LLVMGetInstructionParent(phi));
}

static struct aptr resolve(struct lift *L, LLVMValueRef p, int depth)
{
    struct aptr r = {PB_UNKNOWN, NULL, 0, -1, false, false, 0};
    if (depth > 24)
        return r;
    if (p == L->pkt) {
        r.kind = PB_PKT;
        return r;
    }
    if (LLVMIsAConstantPointerNull(p)) {
        r.kind = PB_NULL;
        return r;
    }
    if (LLVMIsAAllocaInst(p)) {
        r.kind = PB_ALLOCA;
        r.base = p;
        return r;
    }
    if (LLVMIsAGlobalVariable(p)) {
        r.kind = PB_GLOBAL;
        r.base = p;
        return r;
    }
    bool gep = LLVMIsAGetElementPtrInst(p) ||
               (LLVMIsAConstantExpr(p) && LLVMGetConstOpcode(p) == LLVMGetElementPtr);
    if (gep) {
        r = resolve(L, LLVMGetOperand(p, 0), depth + 1);
        int64_t off;
        if (lift_gep_const_offset(L->td, p, &off))
            r.offset += off;
        else
            r.var_offset = true;
        return r;
    }
    if (LLVMIsACallInst(p)) {
        const char *name = lift_callee_name(p);
        for (size_t i = 0; name && i < sizeof header_accessors / sizeof header_accessors[0]; i++)
            if (strcmp(name, header_accessors[i].name) == 0) {
                r.kind = PB_HDR;
                r.layer = header_accessors[i].layer;
                return r;
            }
        int k = lift_access_of_call(L, p);
        if (k >= 0 && name && (strcmp(name, "nf_vector_read") == 0 ||
                               strcmp(name, "nf_vector_write") == 0)) {
            r.kind = PB_STATE;
            r.access = k;
            r.writable = strcmp(name, "nf_vector_write") == 0;
            return r;
        }
        return r;
    }
    if (LLVMIsALoadInst(p)) {
        /* pkt->data: the frame, i.e. the Ethernet header. */
        struct aptr from = resolve(L, LLVMGetOperand(p, 0), depth + 1);
        if (from.kind == PB_PKT && !from.var_offset && from.offset == 0) {
            r.kind = PB_HDR;
            r.layer = LAYER_L2;
        }
        return r;
    }
    if (LLVMIsASelectInst(p) && L->assume_cond && LLVMGetOperand(p, 0) == L->assume_cond)
        return resolve(L, LLVMGetOperand(p, L->assume_value ? 1 : 2), depth + 1);
    if (LLVMIsAPHINode(p) || LLVMIsASelectInst(p)) {
        /* A pointer phi reached again (a loop stepping through memory) is
         * PB_CYCLE: the merge below turns it into "same base, offset varies". */
        if (ptrmap_get(&L->inprogress, p, NULL)) {
            r.kind = PB_CYCLE;
            return r;
        }
        ptrmap_put(&L->inprogress, p, (void *)1);
        unsigned n = LLVMIsAPHINode(p) ? LLVMCountIncoming(p) : 2;
        struct aptr acc = r;
        bool have = false, cycle = false;
        for (unsigned i = 0; i < n; i++) {
            LLVMValueRef in = LLVMIsAPHINode(p) ? LLVMGetIncomingValue(p, i)
                                                : LLVMGetOperand(p, i + 1);
            if (LLVMIsAPHINode(p) && !phi_edge_possible(L, p, i))
                continue;
            struct aptr one = in == p ? (struct aptr){PB_CYCLE, NULL, 0, -1, false, false, 0}
                                      : resolve(L, in, depth + 1);
            if (one.kind == PB_NULL)
                continue;       /* a NULL arm is never dereferenced safely */
            if (one.kind == PB_CYCLE) {
                cycle = true;
                continue;
            }
            if (one.kind == PB_UNKNOWN) {
                acc = r;
                have = false;
                break;
            }
            if (!have) {
                acc = one;
                have = true;
            } else if (one.kind != acc.kind || one.base != acc.base || one.layer != acc.layer ||
                       one.access != acc.access) {
                acc = r;
                have = false;
                break;
            } else if (one.offset != acc.offset || one.var_offset) {
                acc.var_offset = true;
            }
        }
        ptrmap_put(&L->inprogress, p, NULL);
        if (!have)
            return r;
        if (cycle)
            acc.var_offset = true;
        return acc;
    }
    return r;
}

struct aptr lift_resolve_ptr(struct lift *L, LLVMValueRef p)
{
    return resolve(L, p, 0);
}

/* ---- Values ------------------------------------------------------------------------- */

static void eval_const(struct lift *L, LLVMValueRef v, struct aval *out, int width)
{
    out->width = width > AVAL_MAX_BITS ? AVAL_MAX_BITS : width;
    LLVMTypeRef t = LLVMTypeOf(v);
    if (LLVMIsUndef(v) || LLVMIsPoison(v)) {
        for (int i = 0; i < out->width; i++)
            out->b[i] = (struct abit){AB_UNDEF, 0, 0, -1, 0, false};
        return;
    }
    if (LLVMIsAConstantAggregateZero(v) || LLVMIsAConstantPointerNull(v)) {
        for (int i = 0; i < out->width; i++)
            out->b[i] = bit_const(0);
        return;
    }
    if (LLVMIsAConstantInt(v) && width <= 64) {
        uint64_t x = LLVMConstIntGetZExtValue(v);
        for (int i = 0; i < out->width; i++)
            out->b[i] = bit_const((int)((x >> i) & 1));
        return;
    }
    if (LLVMGetTypeKind(t) == LLVMVectorTypeKind &&
        (LLVMIsAConstantDataVector(v) || LLVMIsAConstantVector(v))) {
        int ew = lane_bits(t);
        unsigned n = LLVMGetVectorSize(t);
        for (unsigned i = 0; i < n; i++) {
            const struct aval *e = lift_eval(L, LLVMGetAggregateElement(v, i));
            for (int j = 0; j < ew && (int)i * ew + j < out->width; j++)
                out->b[(int)i * ew + j] = j < e->width ? e->b[j] : bit_const(0);
        }
        return;
    }
    aval_set_unknown(out, width);
}

static void eval_shift(struct lift *L, LLVMValueRef inst, LLVMOpcode op, const struct aval *x,
                       const struct aval *s, int ew, struct aval *out)
{
    out->width = x->width;
    for (int lo = 0; lo < x->width; lo += ew) {
        uint64_t amount;
        if (!lane_const(s, lo, ew, &amount) || amount >= (uint64_t)ew) {
            struct mix m = {0};
            for (int i = 0; i < ew; i++)
                mix_add(&m, x->b[lo + i]);
            for (int i = 0; i < ew; i++)
                mix_add(&m, s->b[lo + i]);
            for (int i = 0; i < ew; i++)
                out->b[lo + i] = mix_result(L, &m, inst);
            continue;
        }
        int a = (int)amount;
        for (int i = 0; i < ew; i++) {
            struct abit b;
            if (op == LLVMShl)
                b = i >= a ? x->b[lo + i - a] : bit_const(0);
            else if (i + a < ew)
                b = x->b[lo + i + a];
            else
                b = op == LLVMAShr ? x->b[lo + ew - 1] : bit_const(0);
            out->b[lo + i] = b;
        }
    }
}

/* and/or/xor of two bits: a constant operand bit decides or passes the other
 * bit on (xor with a constant keeps the other bit's source: x ^ 1 is a
 * function of x alone); two non-constant bits mix. */
static struct abit bitwise(struct lift *L, LLVMValueRef inst, LLVMOpcode op, struct abit a,
                           struct abit b)
{
    bool az = a.kind == AB_ZERO, ao = a.kind == AB_ONE;
    bool bz = b.kind == AB_ZERO, bo = b.kind == AB_ONE;
    switch (op) {
    case LLVMAnd:
        if (az || bz)
            return bit_const(0);
        if (ao)
            return b;
        if (bo)
            return a;
        break;
    case LLVMOr:
        if (ao || bo)
            return bit_const(1);
        if (az)
            return b;
        if (bz)
            return a;
        break;
    default: /* xor: a constant operand flips or keeps the other bit */
        if ((az || ao) && (bz || bo))
            return bit_const(az != bz);
        if (az || ao)
            return ao ? bit_flip(b) : b;
        if (bz || bo)
            return bo ? bit_flip(a) : a;
        break;
    }
    if (bit_eq(a, b) && op != LLVMXor)
        return a;
    struct mix m = {0};
    mix_add(&m, a);
    mix_add(&m, b);
    return mix_result(L, &m, inst);
}

/* A known bit's value: 0 or 1; -1 when it is not a known constant. */
static int bit_value(struct abit b)
{
    return b.kind == AB_ZERO ? 0 : b.kind == AB_ONE ? 1 : -1;
}

/* Bit i of x (as a number) when x's bits 0..i are all known (i < 64). */
static bool low_bits_value(const struct aval *x, int lo, int i, uint64_t *out)
{
    if (i >= 64)
        return false;
    uint64_t v = 0;
    for (int j = 0; j <= i; j++) {
        int b = bit_value(x->b[lo + j]);
        if (b < 0)
            return false;
        v |= (uint64_t)b << j;
    }
    *out = v;
    return true;
}

/* x * C for a known constant C = 2^s * odd (one lane). Bit i of the product
 * depends on x's bits 0..i-s only: computed when those are known; otherwise
 * bits below s are zeros, bit s is x_0 exactly, with odd == 1 it is a shift,
 * and bit i > s mixes x_0 .. x_(i-s) (the carries). */
static void mul_by_const(struct lift *L, LLVMValueRef inst, const struct aval *x, uint64_t c,
                         int lo, int ew, struct aval *out)
{
    if (c == 0) {
        for (int i = 0; i < ew; i++)
            out->b[lo + i] = bit_const(0);
        return;
    }
    int s = __builtin_ctzll(c);
    bool shift = (c >> s) == 1;
    struct mix m = {0};
    for (int i = 0; i < ew; i++) {
        uint64_t low;
        if (i < s) {
            out->b[lo + i] = bit_const(0);
            continue;
        }
        mix_add(&m, x->b[lo + i - s]);
        if (low_bits_value(x, lo, i - s, &low) && i < 64)
            out->b[lo + i] = bit_const((int)(((low * c) >> i) & 1));
        else if (shift || i == s)
            out->b[lo + i] = x->b[lo + i - s];
        else
            out->b[lo + i] = mix_result(L, &m, inst);
    }
}

/* The carry of a + b + c, or the borrow of a - b - c, out of one position
 * (each 0, 1 or -1 for not known): the majority of a (add) or !a (sub), b
 * and c; -1 when not known. */
static int carry_out(bool sub, int a, int b, int c)
{
    if (sub && a >= 0)
        a = !a;
    int ones = (a == 1) + (b == 1) + (c == 1), zeros = (a == 0) + (b == 0) + (c == 0);
    return ones >= 2 ? 1 : zeros >= 2 ? 0 : -1;
}

/* x * y, neither a known constant (one lane): bit i depends on both
 * operands' bits 0..i: computed when those are all known, zero when one
 * operand's are all zeros, else their mix. */
static void mul_vars(struct lift *L, LLVMValueRef inst, const struct aval *x,
                     const struct aval *y, int lo, int ew, struct aval *out)
{
    struct mix m = {0};
    bool x_zero = true, y_zero = true;
    for (int i = 0; i < ew; i++) {
        mix_add(&m, x->b[lo + i]);
        mix_add(&m, y->b[lo + i]);
        x_zero &= x->b[lo + i].kind == AB_ZERO;
        y_zero &= y->b[lo + i].kind == AB_ZERO;
        uint64_t cx, cy;
        if (x_zero || y_zero)
            out->b[lo + i] = bit_const(0);
        else if (low_bits_value(x, lo, i, &cx) && low_bits_value(y, lo, i, &cy))
            out->b[lo + i] = bit_const((int)(((cx * cy) >> i) & 1));
        else
            out->b[lo + i] = mix_result(L, &m, inst);
    }
}

/* add/sub/mul, lane by lane. Bit i of a + b (or a - b) is a_i ^ b_i ^ c_i,
 * c_i the carry (borrow) into it, which depends on the operands' bits below
 * i. The carry is tracked as 0, 1 or not known: none comes into bit 0; out of
 * a position it is the majority of a_i (sub: !a_i), b_i and c_i, so it is 0
 * while one operand's bit is a known zero (sub: b's bit a known zero or a's
 * a known one) and known again wherever two of the three agree. While it is
 * known, bit i is a_i ^ b_i ^ c_i with the xor rule above (`zext16(x) +
 * (y << 16)` is x | y << 16, `x + 0x100` keeps x's low 8 bits and bit 8,
 * flipped); where it is not, bit i mixes both operands' bits 0..i. A
 * configured operand's bits (gconst) are not known, so they give no exact
 * bit. mul: see mul_by_const and mul_vars. */
static void eval_arith(struct lift *L, LLVMValueRef inst, LLVMOpcode op, const struct aval *x,
                       const struct aval *y, int ew, struct aval *out)
{
    out->width = x->width;
    for (int lo = 0; lo < x->width; lo += ew) {
        uint64_t cx = 0, cy = 0;
        bool kx = ew <= 64 && lane_const(x, lo, ew, &cx);
        bool ky = ew <= 64 && lane_const(y, lo, ew, &cy);
        if (kx && ky) {
            uint64_t r = op == LLVMAdd ? cx + cy : op == LLVMSub ? cx - cy : cx * cy;
            for (int i = 0; i < ew; i++)
                out->b[lo + i] = bit_const((int)((r >> i) & 1));
            continue;
        }
        if (op == LLVMMul) {
            if (kx || ky)
                mul_by_const(L, inst, ky ? x : y, ky ? cy : cx, lo, ew, out);
            else
                mul_vars(L, inst, x, y, lo, ew, out);
            continue;
        }
        int carry = 0;
        struct mix m = {0};
        for (int i = 0; i < ew; i++) {
            struct abit a = x->b[lo + i], b = y->b[lo + i];
            mix_add(&m, a);
            mix_add(&m, b);
            if (carry < 0) {
                out->b[lo + i] = mix_result(L, &m, inst);
            } else {
                out->b[lo + i] = bitwise(L, inst, LLVMXor, a, b);
                if (carry == 1)
                    out->b[lo + i] = bitwise(L, inst, LLVMXor, out->b[lo + i], bit_const(1));
            }
            carry = carry_out(op == LLVMSub, bit_value(a), bit_value(b), carry);
        }
    }
}

static void merge_into(struct aval *acc, const struct aval *one, bool *first)
{
    if (*first) {
        *acc = *one;
        *first = false;
        return;
    }
    for (int i = 0; i < acc->width && i < one->width; i++) {
        struct abit a = acc->b[i], b = one->b[i];
        if ((bit_eq(a, b) && a.kind != AB_GCONST) || b.kind == AB_UNDEF)
            continue;
        if (a.kind == AB_UNDEF) {
            acc->b[i] = b;
            continue;
        }
        acc->b[i] = lift_merge_bit(a, b);
    }
}

/* llvm.[us]{min,max}(a, b) while assuming an icmp over a and b: which
 * operand (0 or 1) it returns, or -1 when the assumption does not say. */
static int minmax_under_assumption(struct lift *L, LLVMValueRef call, const char *name)
{
    LLVMValueRef c = L->assume_cond;
    if (!c || !LLVMIsAICmpInst(c) || strlen(name) < 9)
        return -1;
    bool is_min = strncmp(name + 6, "min.", 4) == 0, is_max = strncmp(name + 6, "max.", 4) == 0;
    bool sign = name[5] == 's';
    if (strncmp(name, "llvm.", 5) != 0 || (name[5] != 'u' && name[5] != 's') || (!is_min && !is_max))
        return -1;
    LLVMValueRef a = LLVMGetOperand(call, 0), b = LLVMGetOperand(call, 1);
    LLVMValueRef p = LLVMGetOperand(c, 0), q = LLVMGetOperand(c, 1);
    bool same = p == a && q == b, swapped = p == b && q == a;
    if (!same && !swapped)
        return -1;
    /* Normalise the assumption to "p < q" or "p > q" (ties pick either). */
    bool less;
    switch (LLVMGetICmpPredicate(c)) {
    case LLVMIntULT: case LLVMIntULE: if (sign) return -1; less = true; break;
    case LLVMIntUGT: case LLVMIntUGE: if (sign) return -1; less = false; break;
    case LLVMIntSLT: case LLVMIntSLE: if (!sign) return -1; less = true; break;
    case LLVMIntSGT: case LLVMIntSGE: if (!sign) return -1; less = false; break;
    default: return -1;
    }
    if (!L->assume_value)
        less = !less;       /* not (p < q): p >= q */
    /* smaller operand of the call: p when less, else q */
    LLVMValueRef smaller = less ? p : q;
    int small_index = smaller == a ? 0 : 1;
    return is_min ? small_index : 1 - small_index;
}

/* ntohl/htonl on a 32-bit value, ntohs/htons on a 16-bit one. */
static bool byte_order_call(LLVMValueRef call, const char *name)
{
    int bits;
    if (strcmp(name, "ntohl") == 0 || strcmp(name, "htonl") == 0)
        bits = 32;
    else if (strcmp(name, "ntohs") == 0 || strcmp(name, "htons") == 0)
        bits = 16;
    else
        return false;
    LLVMTypeRef t = LLVMTypeOf(call);
    return LLVMGetNumArgOperands(call) == 1 && LLVMGetTypeKind(t) == LLVMIntegerTypeKind &&
           (int)LLVMGetIntTypeWidth(t) == bits &&
           LLVMTypeOf(LLVMGetOperand(call, 0)) == t;
}

/* The module's data layout says big-endian ("E"); LLVM's default is little. */
static bool big_endian_module(LLVMValueRef inst)
{
    LLVMValueRef fn = LLVMGetBasicBlockParent(LLVMGetInstructionParent(inst));
    const char *layout = LLVMGetDataLayoutStr(LLVMGetGlobalParent(fn));
    for (const char *p = layout; p && *p; p++)
        if ((p == layout || p[-1] == '-') && (*p == 'E' || *p == 'e'))
            return *p == 'E';
    return false;
}

static void eval_call(struct lift *L, LLVMValueRef call, struct aval *out, int width)
{
    const char *name = lift_callee_name(call);
    int k = lift_access_of_call(L, call);
    out->width = width > AVAL_MAX_BITS ? AVAL_MAX_BITS : width;
    if (k >= 0) {
        for (int i = 0; i < out->width; i++)
            out->b[i] = (struct abit){AB_STATE, 0, (uint16_t)i, k, 0, false};
        return;
    }
    if (!name) {
        aval_set_unknown(out, width);
        return;
    }
    if (strcmp(name, "nf_l4_proto") == 0) {
        for (int i = 0; i < out->width; i++)
            out->b[i] = i < 8 ? (struct abit){AB_HDR, LAYER_PROTO, (uint16_t)i, -1, 0, false}
                              : bit_const(0);
        return;
    }
    if (strcmp(name, "nf_config") == 0) {
        for (int i = 0; i < out->width; i++)
            out->b[i] = (struct abit){AB_GCONST, 0, 0, -1, 0, false};
        return;
    }
    if (byte_order_call(call, name)) {
        /* ntohl & co. are calls at -O0 and llvm.bswap once inlined: the same
         * bits either way, so the analysis does not depend on the -O level. */
        const struct aval *x = lift_eval(L, LLVMGetOperand(call, 0));
        int ew = lane_bits(LLVMTypeOf(call));
        bool swap = !big_endian_module(call);
        int nbytes = ew / 8;
        for (int lo = 0; lo < out->width; lo += ew)
            for (int byte = 0; byte < nbytes; byte++)
                for (int bit = 0; bit < 8; bit++)
                    out->b[lo + byte * 8 + bit] =
                        x->b[lo + (swap ? nbytes - 1 - byte : byte) * 8 + bit];
        return;
    }
    if (strncmp(name, "llvm.bswap.", 11) == 0) {
        const struct aval *x = lift_eval(L, LLVMGetOperand(call, 0));
        int ew = lane_bits(LLVMTypeOf(call));
        int nbytes = ew / 8;
        for (int lo = 0; lo < out->width; lo += ew)
            for (int byte = 0; byte < nbytes; byte++)
                for (int bit = 0; bit < 8; bit++)
                    out->b[lo + byte * 8 + bit] = x->b[lo + (nbytes - 1 - byte) * 8 + bit];
        return;
    }
    if (strncmp(name, "llvm.fshl.", 10) == 0 || strncmp(name, "llvm.fshr.", 10) == 0) {
        /* Funnel shifts by constants: rotates when both inputs agree. */
        const struct aval *hi = lift_eval(L, LLVMGetOperand(call, 0));
        const struct aval *lo = lift_eval(L, LLVMGetOperand(call, 1));
        const struct aval *s = lift_eval(L, LLVMGetOperand(call, 2));
        int ew = lane_bits(LLVMTypeOf(call));
        bool left = name[8] == 'l';
        for (int base = 0; base < out->width; base += ew) {
            uint64_t amount;
            if (!lane_const(s, base, ew, &amount)) {
                aval_mix(L, call, out, width, hi, lo);
                return;
            }
            int a = (int)(amount % (uint64_t)ew);
            /* concat = hi:lo (2*ew bits); fshl takes the top ew bits of concat << a,
             * fshr the low ew bits of concat >> a. */
            for (int i = 0; i < ew; i++) {
                int src = left ? i - a + ew : i + a;     /* index into concat, lo first */
                out->b[base + i] = src < ew ? lo->b[base + src] : hi->b[base + src - ew];
            }
        }
        return;
    }
    int pick = minmax_under_assumption(L, call, name);
    if (pick >= 0) {
        *out = *lift_eval(L, LLVMGetOperand(call, (unsigned)pick));
        return;
    }
    if (strncmp(name, "llvm.", 5) == 0) {
        /* umin/umax/abs/ctpop...: a mix of the integer operands. */
        struct mix m = {0};
        unsigned n = LLVMGetNumArgOperands(call);
        for (unsigned i = 0; i < n; i++) {
            LLVMValueRef a = LLVMGetOperand(call, i);
            LLVMTypeKind tk = LLVMGetTypeKind(LLVMTypeOf(a));
            if (tk != LLVMIntegerTypeKind && tk != LLVMVectorTypeKind)
                continue;
            const struct aval *x = lift_eval(L, a);
            for (int j = 0; j < x->width; j++)
                mix_add(&m, x->b[j]);
        }
        for (int i = 0; i < out->width; i++)
            out->b[i] = mix_result(L, &m, call);
        return;
    }
    aval_set_unknown(out, width);
}



static void eval_instruction(struct lift *L, LLVMValueRef v, struct aval *out, int width)
{
    LLVMOpcode op = LLVMGetInstructionOpcode(v);
    LLVMTypeRef t = LLVMTypeOf(v);
    int ew = lane_bits(t);
    out->width = width;
    switch (op) {
    case LLVMAdd:
    case LLVMSub:
    case LLVMMul: {
        const struct aval *x = lift_eval(L, LLVMGetOperand(v, 0));
        const struct aval *y = lift_eval(L, LLVMGetOperand(v, 1));
        eval_arith(L, v, op, x, y, ew, out);
        return;
    }
    case LLVMShl:
    case LLVMLShr:
    case LLVMAShr:
        eval_shift(L, v, op, lift_eval(L, LLVMGetOperand(v, 0)),
                   lift_eval(L, LLVMGetOperand(v, 1)), ew, out);
        return;
    case LLVMUDiv:
    case LLVMURem: {
        const struct aval *x = lift_eval(L, LLVMGetOperand(v, 0));
        const struct aval *y = lift_eval(L, LLVMGetOperand(v, 1));
        uint64_t c;
        if (ew == width && lane_const(y, 0, ew, &c) && c != 0 && (c & (c - 1)) == 0) {
            int sh = __builtin_ctzll(c);
            for (int i = 0; i < width; i++) {
                if (op == LLVMUDiv)
                    out->b[i] = i + sh < width ? x->b[i + sh] : bit_const(0);
                else
                    out->b[i] = i < sh ? x->b[i] : bit_const(0);
            }
            return;
        }
        aval_mix(L, v, out, width, x, y);
        return;
    }
    case LLVMSDiv:
    case LLVMSRem:
        /* Rounds towards zero: not a shift even by a power of two. */
        aval_mix(L, v, out, width, lift_eval(L, LLVMGetOperand(v, 0)),
                 lift_eval(L, LLVMGetOperand(v, 1)));
        return;
    case LLVMAnd:
    case LLVMOr:
    case LLVMXor: {
        const struct aval *x = lift_eval(L, LLVMGetOperand(v, 0));
        const struct aval *y = lift_eval(L, LLVMGetOperand(v, 1));
        for (int i = 0; i < width; i++)
            out->b[i] = bitwise(L, v, op, x->b[i], y->b[i]);
        return;
    }
    case LLVMTrunc: {
        const struct aval *x = lift_eval(L, LLVMGetOperand(v, 0));
        LLVMTypeRef st = LLVMTypeOf(LLVMGetOperand(v, 0));
        int sew = lane_bits(st);
        for (int lo = 0, slo = 0; lo < width; lo += ew, slo += sew)
            for (int i = 0; i < ew; i++)
                out->b[lo + i] = x->b[slo + i];
        return;
    }
    case LLVMZExt:
    case LLVMSExt: {
        const struct aval *x = lift_eval(L, LLVMGetOperand(v, 0));
        int sew = lane_bits(LLVMTypeOf(LLVMGetOperand(v, 0)));
        for (int lo = 0, slo = 0; lo < width; lo += ew, slo += sew)
            for (int i = 0; i < ew; i++)
                out->b[lo + i] = i < sew ? x->b[slo + i]
                               : op == LLVMZExt ? bit_const(0) : x->b[slo + sew - 1];
        return;
    }
    case LLVMBitCast:
    case LLVMFreeze: {
        const struct aval *x = lift_eval(L, LLVMGetOperand(v, 0));
        if (x->width != width) {
            aval_set_unknown(out, width);
            return;
        }
        *out = *x;
        return;
    }
    case LLVMICmp: {
        const struct aval *x = lift_eval(L, LLVMGetOperand(v, 0));
        const struct aval *y = lift_eval(L, LLVMGetOperand(v, 1));
        aval_mix(L, v, out, width, x, y);
        return;
    }
    case LLVMSelect:
    case LLVMPHI: {
        if (op == LLVMSelect && L->assume_cond && LLVMGetOperand(v, 0) == L->assume_cond) {
            *out = *lift_eval(L, LLVMGetOperand(v, L->assume_value ? 1 : 2));
            return;
        }
        ptrmap_put(&L->inprogress, v, (void *)1);
        bool first = true;
        unsigned n = op == LLVMPHI ? LLVMCountIncoming(v) : 2;
        for (unsigned i = 0; i < n; i++) {
            LLVMValueRef in = op == LLVMPHI ? LLVMGetIncomingValue(v, i)
                                            : LLVMGetOperand(v, i + 1);
            if (in == v || (op == LLVMPHI && !phi_edge_possible(L, v, i)))
                continue;
            merge_into(out, lift_eval(L, in), &first);
        }
        ptrmap_put(&L->inprogress, v, NULL);
        if (first)
            aval_set_unknown(out, width);
        out->width = width;
        return;
    }
    case LLVMLoad: {
        struct aptr p = lift_resolve_ptr(L, LLVMGetOperand(v, 0));
        int nbytes = (width + 7) / 8;
        struct abit *bytes = calloc((size_t)nbytes * 8, sizeof *bytes);
        lift_mem_read(L, v, p, nbytes, bytes);
        for (int i = 0; i < width; i++)
            out->b[i] = bytes[i];
        free(bytes);
        return;
    }
    case LLVMCall:
        eval_call(L, v, out, width);
        return;
    case LLVMExtractElement:
    case LLVMInsertElement: {
        bool insert = op == LLVMInsertElement;
        const struct aval *vec = lift_eval(L, LLVMGetOperand(v, 0));
        int64_t idx;
        if (!lift_const_int(LLVMGetOperand(v, insert ? 2u : 1u), &idx)) {
            aval_set_unknown(out, width);
            return;
        }
        if (insert) {
            *out = *vec;
            const struct aval *e = lift_eval(L, LLVMGetOperand(v, 1));
            for (int i = 0; i < ew && idx * ew + i < width; i++)
                out->b[idx * ew + i] = e->b[i];
        } else {
            int vew = lane_bits(LLVMTypeOf(LLVMGetOperand(v, 0)));
            for (int i = 0; i < width; i++)
                out->b[i] = idx * vew + i < vec->width ? vec->b[idx * vew + i] : bit_const(0);
        }
        return;
    }
    case LLVMShuffleVector: {
        const struct aval *a = lift_eval(L, LLVMGetOperand(v, 0));
        const struct aval *b = lift_eval(L, LLVMGetOperand(v, 1));
        int n_in = (int)LLVMGetVectorSize(LLVMTypeOf(LLVMGetOperand(v, 0)));
        unsigned n = LLVMGetNumMaskElements(v);
        for (unsigned i = 0; i < n; i++) {
            int m = LLVMGetMaskValue(v, i);
            for (int j = 0; j < ew && (int)i * ew + j < width; j++) {
                struct abit bit = {AB_UNDEF, 0, 0, -1, 0, false};
                if (m >= 0 && m < n_in && m * ew + j < a->width)
                    bit = a->b[m * ew + j];
                else if (m >= n_in && (m - n_in) * ew + j < b->width)
                    bit = b->b[(m - n_in) * ew + j];
                out->b[(int)i * ew + j] = bit;
            }
        }
        return;
    }
    default:
        aval_set_unknown(out, width);
        return;
    }
}

const struct aval *lift_eval(struct lift *L, LLVMValueRef v)
{
    bool found;
    struct aval *cached = ptrmap_get(&L->values, v, &found);
    if (found)
        return cached;
    struct aval *out = aval_new();
    int width = lift_type_bits(L, LLVMTypeOf(v));
    if (width > AVAL_MAX_BITS)
        width = AVAL_MAX_BITS;
    if (width <= 0) {
        out->width = 0;
    } else if (ptrmap_get(&L->inprogress, v, NULL)) {
        /* A cycle through phis: this use sees "unknown" (sound), and is not cached. */
        aval_set_unknown(out, width);
        ptrmap_put(&L->values, out, out);   /* owned by the cache, keyed by itself */
        return out;
    } else if (LLVMIsAConstant(v) && !LLVMIsAGlobalValue(v) && !LLVMIsAConstantExpr(v)) {
        eval_const(L, v, out, width);
    } else if (LLVMIsAInstruction(v)) {
        eval_instruction(L, v, out, width);
    } else {
        aval_set_unknown(out, width);
    }
    ptrmap_put(&L->values, v, out);
    return out;
}
