/*
 * split.c - describing a key exactly when it comes from one of several
 * sources: per incoming value of a phi/select ("index = found ? stored :
 * new"), and per outcome of a loop-free condition (a direction-free flow
 * key). Each alternative becomes its own access; together they cover every
 * packet, so this is as sound as "unknown" and far more precise.
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

static int query_assuming(struct lift *L, const struct key_query *q, LLVMValueRef cond,
                          int value, struct ir_key *keys)
{
    struct ptrmap saved = L->values;
    ptrmap_init(&L->values);
    lift_assume(L, cond, value);
    int n = query_keys(L, q, keys);
    lift_assume(L, NULL, 0);
    for (size_t j = 0; j < L->values.cap; j++)
        if (L->values.keys[j])
            free(L->values.vals[j]);
    ptrmap_free(&L->values);
    L->values = saved;
    return n;
}

/* Is block b on a cycle (a loop)? A condition computed in a loop takes
 * different values per iteration, so assuming one value is not sound. */
static bool in_cycle(struct lift *L, int b)
{
    bool *seen = calloc((size_t)L->n_blocks, sizeof *seen);
    int *stack = malloc((size_t)L->n_blocks * sizeof *stack);
    int top = 0;
    bool cycle = false;
    stack[top++] = b;
    while (top > 0 && !cycle) {
        int x = stack[--top];
        LLVMValueRef term = LLVMGetBasicBlockTerminator(L->blocks[x]);
        unsigned n = term ? LLVMGetNumSuccessors(term) : 0;
        for (unsigned i = 0; i < n; i++) {
            int to = (int)(intptr_t)ptrmap_get(&L->block_index,
                                               LLVMBasicBlockAsValue(LLVMGetSuccessor(term, i)),
                                               NULL) - 1;
            if (to == b) {
                cycle = true;
                break;
            }
            if (to >= 0 && !seen[to]) {
                seen[to] = true;
                stack[top++] = to;
            }
        }
    }
    free(seen);
    free(stack);
    return cycle;
}

static int block_index_of(struct lift *L, LLVMValueRef inst)
{
    return (int)(intptr_t)ptrmap_get(&L->block_index,
                                     LLVMBasicBlockAsValue(LLVMGetInstructionParent(inst)),
                                     NULL) - 1;
}

static int keys_by_condition(struct lift *L, const struct key_query *q, struct ir_key *keys)
{
    int n = query_keys(L, q, keys);
    if (!keys_unknown(keys, n))
        return n;
    /* Candidates: conditions of branches and selects, first ones first. */
    LLVMValueRef conds[MAX_CONDITIONS];
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
    struct ir_key *yes = calloc(MAX_KEYS, sizeof *yes), *no = calloc(MAX_KEYS, sizeof *no);
    int call_block = block_index_of(L, q->call);
    for (int c = 0; c < n_conds; c++) {
        /* An outcome under which the call cannot be reached adds no key. */
        int ny = 0, nn = 0;
        lift_assume(L, conds[c], 1);
        bool reach_yes = L->reachable && call_block >= 0 && L->reachable[call_block];
        lift_assume(L, conds[c], 0);
        bool reach_no = L->reachable && call_block >= 0 && L->reachable[call_block];
        lift_assume(L, NULL, 0);
        if (!reach_yes && !reach_no)
            continue;
        if (reach_yes)
            ny = query_assuming(L, q, conds[c], 1, yes);
        if (reach_no)
            nn = query_assuming(L, q, conds[c], 0, no);
        if (keys_unknown(yes, ny) || keys_unknown(no, nn) || ny + nn > MAX_KEYS ||
            ny + nn == 0)
            continue;
        n = 0;
        for (int i = 0; i < ny; i++)
            keys[n++] = yes[i];
        for (int i = 0; i < nn; i++) {
            bool dup = false;
            for (int j = 0; j < n; j++)
                dup |= key_equal(&keys[j], &no[i]);
            if (!dup)
                keys[n++] = no[i];
        }
        break;
    }
    free(yes);
    free(no);
    return n;
}

int lift_access_keys(struct lift *L, bool memory, LLVMValueRef call, LLVMValueRef ptr,
                     uint32_t size, LLVMValueRef value, struct ir_key *keys)
{
    struct key_query q = {memory, call, ptr, value, size};
    return keys_by_condition(L, &q, keys);
}
