/*
 * split.c - describing a key exactly when it comes from one of several
 * sources: per incoming value of a phi/select ("index = found ? stored :
 * new"), per outcome of a loop-free condition (a direction-free flow key),
 * and per predecessor a loop-free join is entered from (a canonical key
 * ordered by a compound condition). Each alternative becomes its own access;
 * together they cover every packet, so this is as sound as "unknown" and far
 * more precise.
 */
#include "ir/lift.h"

#include <stdlib.h>
#include <string.h>

/* ---- Splitting on a phi ----------------------------------------------------------
 * "index = found ? stored_index : new_index" merges two state reads into
 * unknown bits. When some phi (or select) under a value has incomings that
 * are each precisely known, the value is described once per incoming
 * instead: the access (or write) is reported once per alternative, which is
 * exact and sound. */


static bool has_unknown(const struct aval *a)
{
    for (int i = 0; i < a->width; i++)
        if (a->b[i].kind == AB_UNKNOWN)
            return true;
    return false;
}

static int incomings(LLVMValueRef v, LLVMValueRef *out)
{
    if (LLVMIsASelectInst(v)) {
        out[0] = LLVMGetOperand(v, 1);
        out[1] = LLVMGetOperand(v, 2);
        return 2;
    }
    int n = 0;
    unsigned count = LLVMCountIncoming(v);
    for (unsigned i = 0; i < count; i++) {
        LLVMValueRef in = LLVMGetIncomingValue(v, i);
        bool dup = false;
        for (int j = 0; j < n; j++)
            dup |= out[j] == in;
        if (dup)
            continue;
        if (n == MAX_ALTERNATIVES)
            return -1;
        out[n++] = in;
    }
    return n;
}

static LLVMValueRef find_split(struct lift *L, LLVMValueRef v, int depth)
{
    if (depth > 10 || !LLVMIsAInstruction(v) || LLVMIsALoadInst(v) || LLVMIsACallInst(v) ||
        !has_unknown(lift_eval(L, v)))
        return NULL;
    if (LLVMIsAPHINode(v) || LLVMIsASelectInst(v)) {
        LLVMValueRef in[MAX_ALTERNATIVES];
        int n = incomings(v, in);
        bool ok = n > 1;
        for (int i = 0; ok && i < n; i++)
            ok = in[i] != v && !has_unknown(lift_eval(L, in[i]));
        if (ok)
            return v;
        if (LLVMIsAPHINode(v))
            return NULL;
    }
    int n = LLVMGetNumOperands(v);
    for (int i = 0; i < n; i++) {
        LLVMValueRef op = LLVMGetOperand(v, (unsigned)i);
        if (LLVMIsASelectInst(v) && i == 0)
            continue;
        LLVMValueRef found = find_split(L, op, depth + 1);
        if (found)
            return found;
    }
    return NULL;
}

/* Evaluates v into alts[] once per incoming of a split phi (or once, plain).
 * Returns how many. */
int lift_value_alternatives(struct lift *L, LLVMValueRef v, struct aval *alts)
{
    LLVMValueRef phi = find_split(L, v, 0);
    LLVMValueRef in[MAX_ALTERNATIVES];
    int n = phi ? incomings(phi, in) : 0;
    if (n <= 1) {
        alts[0] = *lift_eval(L, v);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        struct aval *fixed = malloc(sizeof *fixed);
        *fixed = *lift_eval(L, in[i]);
        struct ptrmap saved = L->values;
        ptrmap_init(&L->values);
        ptrmap_put(&L->values, phi, fixed);
        alts[i] = *lift_eval(L, v);
        for (size_t j = 0; j < L->values.cap; j++)
            if (L->values.keys[j])
                free(L->values.vals[j]);
        ptrmap_free(&L->values);
        L->values = saved;
    }
    return n;
}


static int keys_from_memory(struct lift *L, LLVMValueRef call, LLVMValueRef ptr, uint32_t size,
                            struct ir_key *keys)
{
    if (size == 0 || size > 1024) {
        memset(&keys[0], 0, sizeof keys[0]);
        keys[0].count = 1;
        keys[0].parts[0] = (struct ir_key_part){.field = {IR_FIELD_UNKNOWN, 0},
                                                .from_access = -1};
        return 1;
    }
    struct abit *bits = calloc((size_t)size * 8, sizeof *bits);
    lift_ptr_bytes(L, call, ptr, (int)size, bits);
    int n = lift_bits_to_keys(bits, (int)size * 8, false, keys);
    free(bits);
    return n;
}

/* A value's key(s): one per split-phi alternative and state alternative. */
static int keys_from_value(struct lift *L, LLVMValueRef v, bool integer, int nbits,
                           struct ir_key *keys)
{
    struct aval *alts = malloc(MAX_ALTERNATIVES * sizeof *alts);
    int n_alts = lift_value_alternatives(L, v, alts);
    int n = 0;
    for (int i = 0; i < n_alts; i++) {
        struct aval *a = &alts[i];
        if (nbits > 0) {
            for (int b = a->width; b < nbits && b < AVAL_MAX_BITS; b++)
                a->b[b] = (struct abit){AB_ZERO, 0, 0, -1, 0, false};
            a->width = nbits < AVAL_MAX_BITS ? nbits : AVAL_MAX_BITS;
        }
        n += lift_bits_to_keys(a->b, a->width, integer, &keys[n]);
    }
    free(alts);
    return n;
}

/* ---- Splitting on a condition ----------------------------------------------------
 * "if (src < dst) key = {src, dst} else key = {dst, src}" (a direction-free
 * flow key) writes the key on two paths, or (at -O2) through umin/umax and
 * selects: merged, its bytes are unknown. When assuming some branch or select
 * condition true, and then false, describes the key exactly both times, the
 * access is reported once per outcome: every packet takes one of them. */

#define MAX_CONDITIONS 8

struct key_query {
    bool memory;
    LLVMValueRef call, ptr, value;
    uint32_t size;
};

static int query_keys(struct lift *L, const struct key_query *q, struct ir_key *keys)
{
    return q->memory ? keys_from_memory(L, q->call, q->ptr, q->size, keys)
                     : keys_from_value(L, q->value, true, 0, keys);
}

static bool keys_unknown(const struct ir_key *keys, int n)
{
    for (int i = 0; i < n; i++)
        for (int p = 0; p < keys[i].count; p++)
            if (keys[i].parts[p].field.id == IR_FIELD_UNKNOWN)
                return true;
    return false;
}

static bool key_equal(const struct ir_key *a, const struct ir_key *b)
{
    if (a->count != b->count)
        return false;
    for (int p = 0; p < a->count; p++) {
        const struct ir_key_part *x = &a->parts[p], *y = &b->parts[p];
        if (x->field.id != y->field.id || x->field.prefix != y->field.prefix ||
            x->from_access != y->from_access || x->layer != y->layer ||
            x->offset != y->offset || x->bits != y->bits || x->constant != y->constant)
            return false;
    }
    return true;
}

/* One outcome to assume: "cond == value", or (join != NULL) "join is
 * entered from `from`". */
struct outcome {
    LLVMValueRef cond;
    int value;
    LLVMBasicBlockRef join, from;
};

static void assume_outcome(struct lift *L, const struct outcome *o)
{
    if (o->join)
        lift_assume_entry(L, o->join, o->from);
    else
        lift_assume(L, o->cond, o->value);
}

static int query_assuming(struct lift *L, const struct key_query *q, const struct outcome *o,
                          struct ir_key *keys)
{
    struct ptrmap saved = L->values;
    ptrmap_init(&L->values);
    assume_outcome(L, o);
    int n = query_keys(L, q, keys);
    lift_assume(L, NULL, 0);
    for (size_t j = 0; j < L->values.cap; j++)
        if (L->values.keys[j])
            free(L->values.vals[j]);
    ptrmap_free(&L->values);
    L->values = saved;
    return n;
}

/* Can block `to` be reached from block `from` over at least one edge? */
static bool reaches(struct lift *L, int from, int to)
{
    bool *seen = calloc((size_t)L->n_blocks, sizeof *seen);
    int *stack = malloc((size_t)L->n_blocks * sizeof *stack);
    int top = 0;
    bool found = false;
    seen[from] = true;
    stack[top++] = from;
    while (top > 0 && !found) {
        int x = stack[--top];
        LLVMValueRef term = LLVMGetBasicBlockTerminator(L->blocks[x]);
        unsigned n = term ? LLVMGetNumSuccessors(term) : 0;
        for (unsigned i = 0; i < n; i++) {
            int next = (int)(intptr_t)ptrmap_get(&L->block_index,
                                                 LLVMBasicBlockAsValue(LLVMGetSuccessor(term, i)),
                                                 NULL) - 1;
            if (next == to) {
                found = true;
                break;
            }
            if (next >= 0 && !seen[next]) {
                seen[next] = true;
                stack[top++] = next;
            }
        }
    }
    free(seen);
    free(stack);
    return found;
}

/* Is block b on a cycle (a loop)? A condition computed in a loop takes
 * different values per iteration, so assuming one value is not sound; a
 * join on a cycle may be entered several times, from different
 * predecessors. */
static bool in_cycle(struct lift *L, int b)
{
    return reaches(L, b, b);
}

static int block_index_of(struct lift *L, LLVMValueRef inst)
{
    return (int)(intptr_t)ptrmap_get(&L->block_index,
                                     LLVMBasicBlockAsValue(LLVMGetInstructionParent(inst)),
                                     NULL) - 1;
}

static bool key_listed(const struct ir_key *keys, int n, const struct ir_key *k)
{
    for (int i = 0; i < n; i++)
        if (key_equal(&keys[i], k))
            return true;
    return false;
}

/* The keys under each of n outcomes that together cover every execution,
 * without duplicates (an outcome under which the call cannot be reached adds
 * none); 0 when one leaves a key unknown or there would be more than
 * MAX_KEYS. */
static int keys_by_outcomes(struct lift *L, const struct key_query *q,
                            const struct outcome *outs, int n_outs, struct ir_key *keys)
{
    struct ir_key *one = calloc(MAX_KEYS, sizeof *one);
    int call_block = block_index_of(L, q->call);
    int n = 0;
    bool ok = true;
    for (int o = 0; ok && o < n_outs; o++) {
        assume_outcome(L, &outs[o]);
        bool reach = L->reachable && call_block >= 0 && L->reachable[call_block];
        lift_assume(L, NULL, 0);
        if (!reach)
            continue;
        int k = query_assuming(L, q, &outs[o], one);
        ok = !keys_unknown(one, k);
        for (int i = 0; ok && i < k; i++) {
            if (key_listed(keys, n, &one[i]))
                continue;
            ok = n < MAX_KEYS;
            if (ok)
                keys[n++] = one[i];
        }
    }
    free(one);
    return ok ? n : 0;
}

/* Conditions of branches and selects not computed on a cycle, first ones
 * first: each is tried true and false. */
static int condition_candidates(struct lift *L, LLVMValueRef *conds)
{
    int n_conds = 0;
    for (int b = 0; b < L->n_blocks && n_conds < MAX_CONDITIONS; b++)
        for (LLVMValueRef in = LLVMGetFirstInstruction(L->blocks[b]);
             in && n_conds < MAX_CONDITIONS; in = LLVMGetNextInstruction(in)) {
            LLVMValueRef c = NULL;
            if (LLVMIsABranchInst(in) && LLVMIsConditional(in))
                c = LLVMGetCondition(in);
            else if (LLVMIsASelectInst(in))
                c = LLVMGetOperand(in, 0);
            else if (LLVMIsAICmpInst(in) && !LLVMGetFirstUse(in))
                c = in;             /* specialise.c's condition of a min/max */
            if (!c || LLVMIsAConstant(c) || !LLVMIsAICmpInst(c))
                continue;
            int cb = block_index_of(L, c);
            if (cb < 0 || in_cycle(L, cb))
                continue;
            bool dup = false;
            for (int i = 0; i < n_conds; i++)
                dup |= conds[i] == c;
            if (!dup)
                conds[n_conds++] = c;
        }
    return n_conds;
}

/* The distinct predecessors of block b (at most MAX_ALTERNATIVES; -1 if
 * more). */
static int distinct_preds(struct lift *L, int b, int *out)
{
    int n = 0;
    for (int p = L->pred_start[b]; p < L->pred_start[b + 1]; p++) {
        bool dup = false;
        for (int i = 0; i < n; i++)
            dup |= out[i] == L->preds[p];
        if (dup)
            continue;
        if (n == MAX_ALTERNATIVES)
            return -1;
        out[n++] = L->preds[p];
    }
    return n;
}

/* "Entered from" splits: a join (a block with several predecessors) that is
 * not on a cycle is entered at most once per execution, from exactly one
 * predecessor, or never. Assuming each predecessor in turn (the other edges
 * into the join cut, its phis taking that predecessor's value) covers every
 * execution. This describes a choice made by a compound condition
 * (`a < b || (a == b && p < q)`: several branches, one join) that no single
 * condition's outcome does. Tries the first MAX_CONDITIONS joins from which
 * the call can be reached. */
static int keys_by_join(struct lift *L, const struct key_query *q, struct ir_key *keys)
{
    int call_block = block_index_of(L, q->call);
    struct outcome outs[MAX_ALTERNATIVES];
    int tried = 0;
    for (int b = 0; call_block >= 0 && b < L->n_blocks && tried < MAX_CONDITIONS; b++) {
        int preds[MAX_ALTERNATIVES];
        int n = distinct_preds(L, b, preds);
        if (n < 2 || (b != call_block && !reaches(L, b, call_block)) || in_cycle(L, b))
            continue;
        tried++;
        for (int i = 0; i < n; i++)
            outs[i] = (struct outcome){NULL, 0, L->blocks[b], L->blocks[preds[i]]};
        int k = keys_by_outcomes(L, q, outs, n, keys);
        if (k > 0)
            return k;
    }
    return 0;
}

/* The keys of a state call: exact when plain evaluation gives them, else per
 * outcome of a condition, else per predecessor of a join; else the unknown
 * key of the plain evaluation. */
static int keys_by_condition(struct lift *L, const struct key_query *q, struct ir_key *keys)
{
    int n = query_keys(L, q, keys);
    if (!keys_unknown(keys, n) || L->n_blocks == 0)
        return n;
    struct ir_key *split = calloc(MAX_KEYS, sizeof *split);
    LLVMValueRef conds[MAX_CONDITIONS];
    int n_conds = condition_candidates(L, conds);
    int k = 0;
    for (int c = 0; c < n_conds && k == 0; c++) {
        struct outcome outs[2] = {{conds[c], 1, NULL, NULL}, {conds[c], 0, NULL, NULL}};
        k = keys_by_outcomes(L, q, outs, 2, split);
    }
    if (k == 0)
        k = keys_by_join(L, q, split);
    if (k > 0) {
        memcpy(keys, split, (size_t)k * sizeof *keys);
        n = k;
    }
    free(split);
    return n;
}

int lift_access_keys(struct lift *L, bool memory, LLVMValueRef call, LLVMValueRef ptr,
                     uint32_t size, LLVMValueRef value, struct ir_key *keys)
{
    struct key_query q = {memory, call, ptr, value, size};
    return keys_by_condition(L, &q, keys);
}
