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
 */
#include "ir/lift.h"

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
            if (!implies_equal(cond, s == 0, cmp, 0))
                continue;
            int j = successor_index(L, term, s);
            if (j < 0 || on_cycle(L, b, seen, stack))
                continue;
            cut[(size_t)b * nb + j] = 1;
            any = true;
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
