/*
 * guards.c - which of a port's state accesses, header writes and record
 * writes run only when a guard holds (the NAT's WAN side refreshes the flow
 * and rewrites the packet only after the stored remote host matched).
 *
 * A guard (calls.c) is made of icmp eq/ne comparisons. An edge of the
 * specialised nf_process's CFG "proves" a comparison equal when its branch
 * condition, taking that edge, implies it: the true edge of an icmp eq, the
 * false edge of an icmp ne, through `and` (true), `or` (false), their select
 * forms, xor with true and freeze. A block is under the comparison when the
 * set of edges proving it dominates the block: the block cannot be reached
 * from the entry once those edges are removed (the dominance test by
 * reachability; no dominator tree is needed). A block is under the guard when
 * it is under every one of its comparisons (ip, port and protocol chained).
 * Edges leaving a block that lies on a cycle prove nothing: the comparison may
 * be evaluated again with other values.
 *
 * The same dominance test gives each access its packet facts (IR_PKT_*):
 * what every packet reaching it is, from checks of the packet itself: an
 * accessor's result checked non-NULL (nf_ipv4: IPv4), the IPv4 MF flag
 * checked 0 or the IPv6 fixed header's next header checked TCP/UDP (not a
 * fragment). A fact about header bytes the NF rewrites is never taken.
 */
#include "ir/lift.h"

#include "rsskey/nf.h"

#include <stdlib.h>
#include <string.h>

static int block_of(struct lift *L, LLVMValueRef inst)
{
    LLVMBasicBlockRef bb = LLVMGetInstructionParent(inst);
    return (int)(intptr_t)ptrmap_get(&L->block_index, LLVMBasicBlockAsValue(bb), NULL) - 1;
}

static int successor_index(struct lift *L, LLVMValueRef term, unsigned s)
{
    LLVMBasicBlockRef bb = LLVMGetSuccessor(term, s);
    return (int)(intptr_t)ptrmap_get(&L->block_index, LLVMBasicBlockAsValue(bb), NULL) - 1;
}

static bool is_const_bool(LLVMValueRef v, bool value)
{
    int64_t c;
    return LLVMIsAConstantInt(v) && lift_const_int(v, &c) && (c != 0) == value;
}

/* True when "v == value" implies that icmp `cmp` found its operands equal. */
static bool implies_equal(LLVMValueRef v, bool value, LLVMValueRef cmp, int depth)
{
    if (v == cmp) {
        LLVMIntPredicate pred = LLVMGetICmpPredicate(cmp);
        return pred == LLVMIntEQ ? value : !value;
    }
    if (depth > 8 || !LLVMIsAInstruction(v))
        return false;
    LLVMOpcode op = LLVMGetInstructionOpcode(v);
    switch (op) {
    case LLVMAnd:
        return value && (implies_equal(LLVMGetOperand(v, 0), true, cmp, depth + 1) ||
                         implies_equal(LLVMGetOperand(v, 1), true, cmp, depth + 1));
    case LLVMOr:
        return !value && (implies_equal(LLVMGetOperand(v, 0), false, cmp, depth + 1) ||
                          implies_equal(LLVMGetOperand(v, 1), false, cmp, depth + 1));
    case LLVMXor:
        if (is_const_bool(LLVMGetOperand(v, 1), true))
            return implies_equal(LLVMGetOperand(v, 0), !value, cmp, depth + 1);
        if (is_const_bool(LLVMGetOperand(v, 0), true))
            return implies_equal(LLVMGetOperand(v, 1), !value, cmp, depth + 1);
        return false;
    case LLVMFreeze:
        return implies_equal(LLVMGetOperand(v, 0), value, cmp, depth + 1);
    case LLVMSelect: {
        LLVMValueRef c = LLVMGetOperand(v, 0), t = LLVMGetOperand(v, 1), f = LLVMGetOperand(v, 2);
        if (LLVMGetTypeKind(LLVMTypeOf(v)) != LLVMIntegerTypeKind ||
            LLVMGetIntTypeWidth(LLVMTypeOf(v)) != 1)
            return false;
        if (is_const_bool(f, false))        /* c && t */
            return value && (implies_equal(c, true, cmp, depth + 1) ||
                             implies_equal(t, true, cmp, depth + 1));
        if (is_const_bool(t, true))         /* c || f */
            return !value && (implies_equal(c, false, cmp, depth + 1) ||
                              implies_equal(f, false, cmp, depth + 1));
        return false;
    }
    default:
        return false;
    }
}

/* Marks in `seen` the blocks reachable from `from` (inclusive) over the CFG,
 * never taking an edge i -> s with cut[i] having bit s set. */
static void reach(struct lift *L, int from, const unsigned char *cut, unsigned char *seen,
                  int *stack)
{
    int top = 0;
    memset(seen, 0, (size_t)L->n_blocks);
    seen[from] = 1;
    stack[top++] = from;
    while (top > 0) {
        int b = stack[--top];
        LLVMValueRef term = LLVMGetBasicBlockTerminator(L->blocks[b]);
        unsigned n = term ? LLVMGetNumSuccessors(term) : 0;
        for (unsigned s = 0; s < n; s++) {
            int j = successor_index(L, term, s);
            if (j < 0 || seen[j] || (cut && cut[(size_t)b * L->n_blocks + j]))
                continue;
            seen[j] = 1;
            stack[top++] = j;
        }
    }
}

/* True when block b lies on a cycle (is reachable from one of its successors). */
static bool on_cycle(struct lift *L, int b, unsigned char *seen, int *stack)
{
    LLVMValueRef term = LLVMGetBasicBlockTerminator(L->blocks[b]);
    unsigned n = term ? LLVMGetNumSuccessors(term) : 0;
    for (unsigned s = 0; s < n; s++) {
        int j = successor_index(L, term, s);
        if (j < 0)
            continue;
        reach(L, j, NULL, seen, stack);
        if (seen[b])
            return true;
    }
    return false;
}

/* Cuts the edge from block b through its terminator's successor s; an edge
 * leaving a block on a cycle proves nothing (the test may run again). */
static bool cut_edge(struct lift *L, LLVMValueRef term, int b, unsigned s, unsigned char *cut,
                     unsigned char *seen, int *stack)
{
    int j = successor_index(L, term, s);
    if (j < 0 || on_cycle(L, b, seen, stack))
        return false;
    cut[(size_t)b * (size_t)L->n_blocks + j] = 1;
    return true;
}

/* under[b] &= "every path from the entry to b takes an edge proving cmp". */
static void restrict_to_cmp(struct lift *L, LLVMValueRef cmp, unsigned char *under,
                            unsigned char *cut, unsigned char *seen, int *stack)
{
    size_t nb = (size_t)L->n_blocks;
    memset(cut, 0, nb * nb);
    bool any = false;
    for (int b = 0; b < L->n_blocks; b++) {
        LLVMValueRef term = LLVMGetBasicBlockTerminator(L->blocks[b]);
        if (!term || LLVMGetInstructionOpcode(term) != LLVMBr || !LLVMIsConditional(term))
            continue;
        LLVMValueRef cond = LLVMGetCondition(term);
        for (unsigned s = 0; s < 2; s++) {
            /* successor 0 is taken when cond is true */
            if (implies_equal(cond, s == 0, cmp, 0))
                any |= cut_edge(L, term, b, s, cut, seen, stack);
        }
    }
    if (!any) {
        memset(under, 0, nb);
        return;
    }
    reach(L, 0, cut, seen, stack);
    for (int b = 0; b < L->n_blocks; b++)
        if (seen[b])
            under[b] = 0;
}

static int *guarded_by_slot(struct ir_nf *nf, const struct placed *p)
{
    switch (p->kind) {
    case PLACED_ACCESS: return &nf->accesses[p->index].guarded_by;
    case PLACED_HEADER_WRITE: return &nf->writes[p->index].guarded_by;
    case PLACED_RECORD_WRITE: return &nf->record_writes[p->index].guarded_by;
    }
    return NULL;
}

void lift_guard_dominance(struct lift *L)
{
    if (L->n_guard_cmps == 0 || L->n_blocks == 0)
        return;
    size_t nb = (size_t)L->n_blocks;
    unsigned char *under = malloc(nb), *seen = malloc(nb), *cut = malloc(nb * nb);
    int *stack = malloc((nb + 1) * sizeof *stack);
    for (int g = 0; g < L->n_guard_cmps; g++) {
        int k = L->guard_cmps[g].access;
        bool first = true;
        for (int h = 0; h < g; h++)
            if (L->guard_cmps[h].access == k)
                first = false;
        if (!first)
            continue;       /* this guard was done with its first comparison */
        memset(under, 1, nb);
        for (int h = g; h < L->n_guard_cmps; h++)
            if (L->guard_cmps[h].access == k)
                restrict_to_cmp(L, L->guard_cmps[h].icmp, under, cut, seen, stack);
        for (int i = 0; i < L->n_placed; i++) {
            const struct placed *p = &L->placed[i];
            int b = block_of(L, p->inst);
            int *slot = guarded_by_slot(L->nf, p);
            if (b >= 0 && under[b] && *slot < 0 && !(p->kind == PLACED_ACCESS && p->index == k))
                *slot = k;
        }
    }
    free(under);
    free(seen);
    free(cut);
    free(stack);
}

/* ---- Packet facts ------------------------------------------------------------ */

/* FACT_NOFRAG: not a fragment by either check (a condition that is one check
 * on one path and the other on another). */
enum fact { FACT_V4, FACT_V6, FACT_NOFRAG4, FACT_NOFRAG6, FACT_NOFRAG, N_FACTS };

/* IPv4 flags byte: MF is bit 5 of byte 6 (network order 0x2000). IPv6 next
 * header: byte 6 of the fixed header. */
#define MF_POS (6 * 8 + 5)
#define NEXT_HEADER_BYTE 6

static bool is_null(LLVMValueRef v)
{
    return LLVMIsNull(v) != 0;
}

static bool is_accessor_call(LLVMValueRef v, const char *name)
{
    if (!LLVMIsACallInst(v))
        return false;
    const char *callee = lift_callee_name(v);
    return callee && strcmp(callee, name) == 0;
}

/* The value holds the IPv4 MF bit as one of its (exact) bits. */
static bool holds_mf(struct lift *L, LLVMValueRef v)
{
    const struct aval *a = lift_eval(L, v);
    for (int i = 0; i < a->width; i++)
        if (a->b[i].kind == AB_HDR && a->b[i].layer == LAYER_V4 && a->b[i].pos == MF_POS)
            return true;
    return false;
}

/* The value is exactly the IPv6 fixed header's next-header byte. */
static bool is_next_header(struct lift *L, LLVMValueRef v)
{
    const struct aval *a = lift_eval(L, v);
    for (int i = 0; i < a->width; i++) {
        struct abit b = a->b[i];
        bool ok = i < 8 ? b.kind == AB_HDR && b.layer == LAYER_V6 &&
                              b.pos == NEXT_HEADER_BYTE * 8 + i
                        : b.kind == AB_ZERO;
        if (!ok)
            return false;
    }
    return a->width >= 8;
}

static bool tcp_or_udp(LLVMValueRef c)
{
    int64_t v;
    return lift_const_int(c, &v) && (v == NF_PROTO_TCP || v == NF_PROTO_UDP);
}

/* An icmp eq/ne: its "equal" outcome proves the fact. */
static bool equal_proves(struct lift *L, LLVMValueRef cmp, enum fact f)
{
    LLVMValueRef x = LLVMGetOperand(cmp, 0), y = LLVMGetOperand(cmp, 1);
    for (int swap = 0; swap < 2; swap++) {
        LLVMValueRef a = swap ? y : x, c = swap ? x : y;
        if ((f == FACT_NOFRAG4 || f == FACT_NOFRAG) && LLVMIsAConstantInt(c) && is_null(c) &&
            holds_mf(L, a))
            return true;
        if ((f == FACT_NOFRAG6 || f == FACT_NOFRAG) && tcp_or_udp(c) && is_next_header(L, a))
            return true;
    }
    return false;
}

/* An icmp eq/ne: its "not equal" outcome proves the fact (an accessor's
 * result is not NULL). */
static bool unequal_proves(LLVMValueRef cmp, enum fact f)
{
    const char *name = f == FACT_V4 ? "nf_ipv4" : f == FACT_V6 ? "nf_ipv6" : NULL;
    LLVMValueRef x = LLVMGetOperand(cmp, 0), y = LLVMGetOperand(cmp, 1);
    return name && ((is_null(y) && is_accessor_call(x, name)) ||
                    (is_null(x) && is_accessor_call(y, name)));
}

static bool is_bool(LLVMValueRef v)
{
    LLVMTypeRef t = LLVMTypeOf(v);
    return LLVMGetTypeKind(t) == LLVMIntegerTypeKind && LLVMGetIntTypeWidth(t) == 1;
}

/* True when "(v != 0) == value" implies the fact (v an integer: a condition,
 * or C's int holding one). */
static bool implies_fact(struct lift *L, LLVMValueRef v, bool value, enum fact f, int depth)
{
    if (depth > 8 || !LLVMIsAInstruction(v) ||
        LLVMGetTypeKind(LLVMTypeOf(v)) != LLVMIntegerTypeKind)
        return false;
    LLVMOpcode op = LLVMGetInstructionOpcode(v);
    LLVMValueRef a = LLVMGetNumOperands(v) > 0 ? LLVMGetOperand(v, 0) : NULL;
    switch (op) {
    case LLVMICmp: {
        LLVMIntPredicate pred = LLVMGetICmpPredicate(v);
        if (pred != LLVMIntEQ && pred != LLVMIntNE)
            return false;
        bool equal = (pred == LLVMIntEQ) == value;
        if (equal ? equal_proves(L, v, f) : unequal_proves(v, f))
            return true;
        /* x != 0 where x is itself a condition (a C int from a comparison) */
        LLVMValueRef x = a, y = LLVMGetOperand(v, 1);
        if (LLVMIsAConstantInt(x))
            x = y, y = a;
        return LLVMIsAConstantInt(y) && is_null(y) &&
               implies_fact(L, x, !equal, f, depth + 1);
    }
    case LLVMAnd:
    case LLVMOr: {
        if (!is_bool(v))
            return false;
        LLVMValueRef b = LLVMGetOperand(v, 1);
        /* and true / or false: both operands have that value, either implies;
         * and false / or true: one of them does, both must imply */
        if ((op == LLVMAnd) == value)
            return implies_fact(L, a, value, f, depth + 1) ||
                   implies_fact(L, b, value, f, depth + 1);
        return implies_fact(L, a, value, f, depth + 1) &&
               implies_fact(L, b, value, f, depth + 1);
    }
    case LLVMXor:
        if (!is_bool(v))
            return false;
        if (is_const_bool(LLVMGetOperand(v, 1), true))
            return implies_fact(L, a, !value, f, depth + 1);
        if (is_const_bool(a, true))
            return implies_fact(L, LLVMGetOperand(v, 1), !value, f, depth + 1);
        return false;
    case LLVMFreeze:
    case LLVMZExt:
        return implies_fact(L, a, value, f, depth + 1);
    case LLVMPHI: {
        /* Facts about the packet hold on whichever path the value came: every
         * incoming value that can give `value` must imply the fact. */
        unsigned n = LLVMCountIncoming(v);
        for (unsigned i = 0; i < n; i++) {
            LLVMValueRef in = LLVMGetIncomingValue(v, i);
            int64_t c;
            if (in == v || (LLVMIsAConstantInt(in) && lift_const_int(in, &c) &&
                            (c != 0) != value))
                continue;
            if (!implies_fact(L, in, value, f, depth + 1))
                return false;
        }
        return n > 0;
    }
    case LLVMTrunc:
        /* An i1 that is the MF bit itself: false proves it 0. */
        return (f == FACT_NOFRAG4 || f == FACT_NOFRAG) && !value && is_bool(v) &&
               lift_eval(L, v)->b[0].kind == AB_HDR && lift_eval(L, v)->b[0].layer == LAYER_V4 &&
               lift_eval(L, v)->b[0].pos == MF_POS;
    case LLVMSelect: {
        if (!is_bool(v))
            return false;
        LLVMValueRef c = a, t = LLVMGetOperand(v, 1), e = LLVMGetOperand(v, 2);
        /* select c, t, e == value: (c && t == value) || (!c && e == value) */
        bool when_true = is_const_bool(t, !value) || implies_fact(L, c, true, f, depth + 1) ||
                         implies_fact(L, t, value, f, depth + 1);
        bool when_false = is_const_bool(e, !value) || implies_fact(L, c, false, f, depth + 1) ||
                          implies_fact(L, e, value, f, depth + 1);
        return when_true && when_false;
    }
    default:
        return false;
    }
}

/* Cuts (cut[b * nb + j]) the edges b -> j that prove the fact; a switch edge
 * proves it when every case value leading there does (next header TCP/UDP). */
static bool cut_proving_edges(struct lift *L, enum fact f, unsigned char *cut, unsigned char *seen,
                              int *stack)
{
    bool any = false;
    for (int b = 0; b < L->n_blocks; b++) {
        LLVMValueRef term = LLVMGetBasicBlockTerminator(L->blocks[b]);
        if (!term)
            continue;
        LLVMOpcode op = LLVMGetInstructionOpcode(term);
        unsigned n = LLVMGetNumSuccessors(term);
        for (unsigned s = 0; s < n; s++) {
            bool proves = false;
            if (op == LLVMBr && LLVMIsConditional(term)) {
                proves = implies_fact(L, LLVMGetCondition(term), s == 0, f, 0);
            } else if (op == LLVMSwitch && s > 0 && (f == FACT_NOFRAG6 || f == FACT_NOFRAG) &&
                       is_next_header(L, LLVMGetOperand(term, 0))) {
                LLVMBasicBlockRef dest = LLVMGetSuccessor(term, s);
                proves = LLVMGetSuccessor(term, 0) != dest;
                for (unsigned t = 1; proves && t < n; t++)
                    if (LLVMGetSuccessor(term, t) == dest)
                        proves = tcp_or_udp(LLVMGetOperand(term, 2 * t));
            }
            if (proves)
                any |= cut_edge(L, term, b, s, cut, seen, stack);
        }
    }
    return any;
}

/* The NF rewrites header bytes a fact is about: the fact says nothing of
 * the packet as the NIC hashed it. */
static bool fact_bytes_written(const struct lift *L, enum fact f)
{
    int layer = f == FACT_V4 || f == FACT_V6 ? 0 : 3;
    if (!layer)
        return false;
    for (int i = 0; i < L->nf->n_writes; i++) {
        const struct ir_header_write *w = &L->nf->writes[i];
        if (w->port == L->port && w->layer == layer && w->offset <= NEXT_HEADER_BYTE + 1 &&
            w->offset + w->bits / 8 > NEXT_HEADER_BYTE)
            return true;
    }
    return false;
}

void lift_packet_facts(struct lift *L)
{
    if (L->n_blocks == 0)
        return;
    size_t nb = (size_t)L->n_blocks;
    unsigned char *cut = calloc(nb * nb, 1), *seen = malloc(nb);
    unsigned char *under[N_FACTS];
    int *stack = malloc((nb + 1) * sizeof *stack);
    for (int f = 0; f < N_FACTS; f++) {
        under[f] = calloc(nb, 1);
        memset(cut, 0, nb * nb);
        if (fact_bytes_written(L, (enum fact)f) ||
            !cut_proving_edges(L, (enum fact)f, cut, seen, stack))
            continue;
        reach(L, 0, cut, seen, stack);
        for (size_t b = 0; b < nb; b++)
            under[f][b] = !seen[b];
    }
    for (int i = 0; i < L->n_placed; i++) {
        const struct placed *p = &L->placed[i];
        int b = block_of(L, p->inst);
        if (p->kind != PLACED_ACCESS || b < 0)
            continue;
        uint8_t facts = 0;
        if (under[FACT_V4][b] || under[FACT_NOFRAG4][b])
            facts |= IR_PKT_IPV4;
        if (under[FACT_V6][b] || under[FACT_NOFRAG6][b])
            facts |= IR_PKT_IPV6;
        if (under[FACT_NOFRAG4][b] || under[FACT_NOFRAG6][b] || under[FACT_NOFRAG][b])
            facts |= IR_PKT_NOT_FRAGMENT;
        L->nf->accesses[p->index].packets = facts;
    }
    for (int f = 0; f < N_FACTS; f++)
        free(under[f]);
    free(cut);
    free(seen);
    free(stack);
}
