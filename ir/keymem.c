/*
 * keymem.c - what memory holds, byte by byte, and how a run of abstract bits
 * becomes an ir_key.
 *
 * Stack memory (allocas that survived mem2reg: keys whose address is passed
 * to the API, out-parameters) is read with a reaching-store search: from the
 * reading instruction backwards over the CFG, the first instruction on each
 * path that writes the byte (store, memcpy/memmove, memset, an API call's
 * out-parameter, lifetime markers, an unknown call given the slot) defines
 * it; the definitions of all paths are merged bit by bit. Header, state and
 * packet-struct memory map directly to AB_HDR / AB_STATE / AB_PORT / AB_TIME.
 */
#include "ir/lift.h"

#include <stdlib.h>
#include <string.h>

#define PKT_PORT_OFFSET 12
#define PKT_TIME_OFFSET 16

static const struct abit UNKNOWN_BIT = {AB_UNKNOWN, 0, 0, -1, 0, false};

static void fill(struct abit out[8], struct abit b)
{
    for (int i = 0; i < 8; i++)
        out[i] = b;
}

static void read_byte(struct lift *L, LLVMValueRef at, struct aptr p, int64_t off,
                      struct abit out[8], int depth);

/* Does instruction j write byte `o` of stack slot `slot`? Returns true and
 * fills out when it does (unknown when it may). */
static bool defines(struct lift *L, LLVMValueRef j, LLVMValueRef slot, int64_t o,
                    struct abit out[8], int depth)
{
    if (j == slot) {
        fill(out, (struct abit){AB_UNDEF, 0, 0, -1, 0, false});
        return true;
    }
    if (LLVMIsAStoreInst(j)) {
        struct aptr p = lift_resolve_ptr(L, LLVMGetOperand(j, 1));
        if (p.kind == PB_UNKNOWN) {
            fill(out, UNKNOWN_BIT);
            return true;
        }
        if (p.kind != PB_ALLOCA || p.base != slot)
            return false;
        if (p.var_offset) {
            fill(out, UNKNOWN_BIT);
            return true;
        }
        LLVMValueRef val = LLVMGetOperand(j, 0);
        int64_t size = (int64_t)LLVMStoreSizeOfType(L->td, LLVMTypeOf(val));
        if (o < p.offset || o >= p.offset + size)
            return false;
        const struct aval *a = lift_eval(L, val);
        int lo = (int)(o - p.offset) * 8;
        for (int i = 0; i < 8; i++)
            out[i] = lo + i < a->width ? a->b[lo + i]
                   : (a->width > 0 && LLVMGetTypeKind(LLVMTypeOf(val)) == LLVMIntegerTypeKind)
                       ? (struct abit){AB_ZERO, 0, 0, -1, 0, false} : UNKNOWN_BIT;
        return true;
    }
    if (!LLVMIsACallInst(j))
        return false;
    enum call_class cls = lift_call_class(j);
    const char *name = lift_callee_name(j);
    if (cls == CALL_INTRINSIC) {
        bool copy = strncmp(name, "llvm.memcpy", 11) == 0 || strncmp(name, "llvm.memmove", 12) == 0;
        bool set = strncmp(name, "llvm.memset", 11) == 0;
        if (copy || set) {
            struct aptr d = lift_resolve_ptr(L, LLVMGetOperand(j, 0));
            if (d.kind == PB_UNKNOWN) {
                fill(out, UNKNOWN_BIT);
                return true;
            }
            if (d.kind != PB_ALLOCA || d.base != slot)
                return false;
            int64_t len;
            if (d.var_offset || !lift_const_int(LLVMGetOperand(j, 2), &len)) {
                if (o < d.offset && !d.var_offset)
                    return false;
                fill(out, UNKNOWN_BIT);
                return true;
            }
            if (o < d.offset || o >= d.offset + len)
                return false;
            if (set) {
                const struct aval *v = lift_eval(L, LLVMGetOperand(j, 1));
                for (int i = 0; i < 8; i++)
                    out[i] = i < v->width ? v->b[i] : UNKNOWN_BIT;
            } else {
                struct aptr s = lift_resolve_ptr(L, LLVMGetOperand(j, 1));
                read_byte(L, j, s, s.offset + (o - d.offset), out, depth + 1);
            }
            return true;
        }
        if (strncmp(name, "llvm.lifetime.", 14) == 0) {
            struct aptr d = lift_resolve_ptr(L, LLVMGetOperand(j, 1));
            if (d.kind == PB_ALLOCA && d.base == slot) {
                fill(out, (struct abit){AB_UNDEF, 0, 0, -1, 0, false});
                return true;
            }
        }
        return false;
    }
    if (cls == CALL_STATE) {
        /* Out-parameters: nf_map_get's value, nf_alloc_new's index (argument 2). */
        int k = lift_access_of_call(L, j);
        if (k < 0)
            return false;
        enum ir_api api = L->nf->accesses[k].api;
        if (api != IR_API_MAP_GET && api != IR_API_ALLOC_NEW)
            return false;
        struct aptr d = lift_resolve_ptr(L, LLVMGetOperand(j, 2));
        if (d.kind != PB_ALLOCA || d.base != slot)
            return false;
        if (d.var_offset) {
            fill(out, UNKNOWN_BIT);
            return true;
        }
        if (o < d.offset || o >= d.offset + 4)
            return false;
        for (int i = 0; i < 8; i++)
            out[i] = (struct abit){AB_STATE, 0, (uint16_t)((o - d.offset) * 8 + i), k, 0, false};
        return true;
    }
    if (cls == CALL_UNKNOWN || cls == CALL_INDIRECT || cls == CALL_ASM || cls == CALL_DEFINED) {
        unsigned n = LLVMGetNumArgOperands(j);
        for (unsigned i = 0; i < n; i++) {
            LLVMValueRef a = LLVMGetOperand(j, i);
            if (LLVMGetTypeKind(LLVMTypeOf(a)) != LLVMPointerTypeKind)
                continue;
            struct aptr d = lift_resolve_ptr(L, a);
            if ((d.kind == PB_ALLOCA && d.base == slot) || d.kind == PB_UNKNOWN) {
                fill(out, UNKNOWN_BIT);
                return true;
            }
        }
    }
    return false;
}

/* Two descriptions of one bit on different paths (neither AB_UNDEF). The
 * path is chosen per packet, so two different constants (or two
 * configuration values, which may be different ones) merge into unknown:
 * a per-run constant they are not. */
struct abit lift_merge_bit(struct abit a, struct abit b)
{
    if (a.kind == b.kind && a.layer == b.layer && a.pos == b.pos && a.access == b.access &&
        a.alt1 == b.alt1 && a.flipped == b.flipped && a.kind != AB_GCONST)
        return a;
    /* Unknown on one path: unknown, still saying what header bits were mixed
     * (the derivation is for the reasons only). */
    if (a.kind == AB_UNKNOWN && (a.access >= 0 || b.kind != AB_UNKNOWN))
        return a;
    if (b.kind == AB_UNKNOWN)
        return b;
    if (a.kind == AB_STATE && b.kind == AB_STATE) {
        if (a.access == b.access && a.alt1 == b.alt1)
            return (struct abit){AB_STATE, 0, POS_UNKNOWN, a.access, a.alt1, false};
        /* Either of two reads, same position: remember both (split later). */
        if (a.pos == b.pos && a.flipped == b.flipped && !b.alt1 &&
            (!a.alt1 || a.alt1 == b.access + 1))
            return (struct abit){AB_STATE, 0, a.pos, a.access, b.access + 1, a.flipped};
        if (a.pos == b.pos && a.flipped == b.flipped && !a.alt1 && b.alt1 == a.access + 1)
            return b;
    }
    return UNKNOWN_BIT;
}

static void merge_byte(struct abit acc[8], const struct abit one[8], bool *first)
{
    if (*first) {
        memcpy(acc, one, 8 * sizeof *acc);
        *first = false;
        return;
    }
    for (int i = 0; i < 8; i++) {
        struct abit a = acc[i], b = one[i];
        if (b.kind == AB_UNDEF)
            continue;
        if (a.kind == AB_UNDEF) {
            acc[i] = b;
            continue;
        }
        acc[i] = lift_merge_bit(a, b);
    }
}

/* May control flow go from block `from` to block `to` under the assumption? */
static bool edge_allowed(struct lift *L, int from, int to)
{
    if (L->assume_join)
        return L->blocks[to] != L->assume_join || L->blocks[from] == L->assume_from;
    if (!L->assume_cond)
        return true;
    LLVMValueRef term = LLVMGetBasicBlockTerminator(L->blocks[from]);
    if (!term || !LLVMIsABranchInst(term) || !LLVMIsConditional(term) ||
        LLVMGetCondition(term) != L->assume_cond)
        return true;
    return LLVMGetSuccessor(term, L->assume_value ? 0 : 1) == L->blocks[to];
}

/* Blocks reachable from the entry along edges the assumption allows. */
static void compute_reachable(struct lift *L)
{
    free(L->reachable);
    L->reachable = NULL;
    if ((!L->assume_cond && !L->assume_join) || L->n_blocks == 0)
        return;
    L->reachable = calloc((size_t)L->n_blocks, sizeof *L->reachable);
    int *stack = malloc((size_t)L->n_blocks * sizeof *stack);
    int top = 0;
    L->reachable[0] = true;
    stack[top++] = 0;
    while (top > 0) {
        int b = stack[--top];
        LLVMValueRef term = LLVMGetBasicBlockTerminator(L->blocks[b]);
        unsigned n = term ? LLVMGetNumSuccessors(term) : 0;
        for (unsigned i = 0; i < n; i++) {
            int to = (int)(intptr_t)ptrmap_get(&L->block_index,
                                               LLVMBasicBlockAsValue(LLVMGetSuccessor(term, i)),
                                               NULL) - 1;
            if (to < 0 || L->reachable[to] || !edge_allowed(L, b, to))
                continue;
            L->reachable[to] = true;
            stack[top++] = to;
        }
    }
    free(stack);
}

void lift_assume(struct lift *L, LLVMValueRef cond, int value)
{
    L->assume_cond = cond;
    L->assume_value = value;
    L->assume_join = L->assume_from = NULL;
    compute_reachable(L);
}

void lift_assume_entry(struct lift *L, LLVMBasicBlockRef join, LLVMBasicBlockRef from)
{
    L->assume_cond = NULL;
    L->assume_value = 0;
    L->assume_join = join;
    L->assume_from = from;
    compute_reachable(L);
}

bool lift_edge_possible(struct lift *L, LLVMBasicBlockRef from, LLVMBasicBlockRef to)
{
    if (!L->reachable)
        return true;
    int f = (int)(intptr_t)ptrmap_get(&L->block_index, LLVMBasicBlockAsValue(from), NULL) - 1;
    int t = (int)(intptr_t)ptrmap_get(&L->block_index, LLVMBasicBlockAsValue(to), NULL) - 1;
    return f < 0 || t < 0 || (L->reachable[f] && edge_allowed(L, f, t));
}

static int block_of(struct lift *L, LLVMValueRef inst)
{
    LLVMBasicBlockRef bb = LLVMGetInstructionParent(inst);
    return (int)(intptr_t)ptrmap_get(&L->block_index, LLVMBasicBlockAsValue(bb), NULL) - 1;
}

/* Byte `o` of stack slot `slot` as seen just before instruction `at`. */
static void slot_byte(struct lift *L, LLVMValueRef at, LLVMValueRef slot, int64_t o,
                      struct abit out[8], int depth)
{
    if (depth > 8 || L->n_blocks == 0) {
        fill(out, UNKNOWN_BIT);
        return;
    }
    int start = block_of(L, at);
    if (start < 0) {
        fill(out, UNKNOWN_BIT);
        return;
    }
    bool *visited = calloc((size_t)L->n_blocks, sizeof *visited);
    int *stack = malloc(((size_t)L->n_blocks + 1) * sizeof *stack);
    int top = 0;
    bool first = true;
    struct abit one[8];

    /* The reading block, from just before `at`. */
    bool found = false;
    for (LLVMValueRef j = LLVMGetPreviousInstruction(at); j; j = LLVMGetPreviousInstruction(j))
        if (defines(L, j, slot, o, one, depth)) {
            merge_byte(out, one, &first);
            found = true;
            break;
        }
    if (!found)
        for (int p = L->pred_start[start]; p < L->pred_start[start + 1]; p++)
            if (!visited[L->preds[p]] && edge_allowed(L, L->preds[p], start) &&
                (!L->reachable || L->reachable[L->preds[p]])) {
                visited[L->preds[p]] = true;
                stack[top++] = L->preds[p];
            }
    while (top > 0) {
        int b = stack[--top];
        found = false;
        for (LLVMValueRef j = LLVMGetLastInstruction(L->blocks[b]); j;
             j = LLVMGetPreviousInstruction(j))
            if (defines(L, j, slot, o, one, depth)) {
                merge_byte(out, one, &first);
                found = true;
                break;
            }
        if (found)
            continue;
        for (int p = L->pred_start[b]; p < L->pred_start[b + 1]; p++)
            if (!visited[L->preds[p]] && edge_allowed(L, L->preds[p], b) &&
                (!L->reachable || L->reachable[L->preds[p]])) {
                visited[L->preds[p]] = true;
                stack[top++] = L->preds[p];
            }
    }
    free(visited);
    free(stack);
    if (first)  /* no path from a definition: never written */
        fill(out, (struct abit){AB_UNDEF, 0, 0, -1, 0, false});
}

static void read_byte(struct lift *L, LLVMValueRef at, struct aptr p, int64_t off,
                      struct abit out[8], int depth)
{
    if (p.var_offset && p.kind != PB_STATE) {
        fill(out, UNKNOWN_BIT);
        return;
    }
    switch (p.kind) {
    case PB_HDR:
        for (int i = 0; i < 8; i++) {
            int64_t pos = off * 8 + i;
            out[i] = off >= 0 && pos < POS_UNKNOWN
                   ? (struct abit){AB_HDR, (uint8_t)p.layer, (uint16_t)pos, -1, 0, false}
                   : UNKNOWN_BIT;
        }
        return;
    case PB_STATE:
        for (int i = 0; i < 8; i++) {
            int64_t pos = off * 8 + i;
            out[i] = (struct abit){AB_STATE, 0,
                                   (uint16_t)(p.var_offset || pos < 0 || pos >= POS_UNKNOWN
                                              ? POS_UNKNOWN : pos), p.access, 0, false};
        }
        return;
    case PB_PKT:
        for (int i = 0; i < 8; i++) {
            if (off >= PKT_PORT_OFFSET && off < PKT_PORT_OFFSET + 2)
                out[i] = (struct abit){AB_PORT, 0, (uint16_t)((off - PKT_PORT_OFFSET) * 8 + i),
                                       -1, 0, false};
            else if (off >= PKT_TIME_OFFSET && off < PKT_TIME_OFFSET + 8)
                out[i] = (struct abit){AB_TIME, 0, (uint16_t)((off - PKT_TIME_OFFSET) * 8 + i),
                                       -1, 0, false};
            else
                out[i] = UNKNOWN_BIT;
        }
        return;
    case PB_GLOBAL:
        fill(out, (struct abit){AB_GCONST, 0, 0, -1, 0, false});
        return;
    case PB_ALLOCA:
        slot_byte(L, at, p.base, off, out, depth);
        return;
    default:
        fill(out, UNKNOWN_BIT);
        return;
    }
}

void lift_mem_read(struct lift *L, LLVMValueRef at, struct aptr p, int nbytes, struct abit *out)
{
    for (int i = 0; i < nbytes; i++)
        read_byte(L, at, p, p.offset + i, out + i * 8, 0);
}

void lift_ptr_bytes(struct lift *L, LLVMValueRef at, LLVMValueRef ptr, int nbytes,
                    struct abit *out)
{
    lift_mem_read(L, at, lift_resolve_ptr(L, ptr), nbytes, out);
}

/* ---- Header fields --------------------------------------------------------------- */

struct field_range {
    int layer;
    int start, len;     /* bytes */
    enum ir_field_id id;
};

static const struct field_range field_ranges[] = {
    {LAYER_L2, 0, 6, IR_FIELD_ETH_DST},
    {LAYER_L2, 6, 6, IR_FIELD_ETH_SRC},
    {LAYER_V4, 9, 1, IR_FIELD_IP_PROTO},
    {LAYER_V4, 12, 4, IR_FIELD_IPV4_SRC},
    {LAYER_V4, 16, 4, IR_FIELD_IPV4_DST},
    {LAYER_V6, 8, 16, IR_FIELD_IPV6_SRC},
    {LAYER_V6, 24, 16, IR_FIELD_IPV6_DST},
    {LAYER_L4, 0, 2, IR_FIELD_L4_SPORT},
    {LAYER_L4, 2, 2, IR_FIELD_L4_DPORT},
    {LAYER_PROTO, 0, 1, IR_FIELD_IP_PROTO},
};

enum ir_field_id lift_header_field(int layer, int byte, int *field_start)
{
    for (size_t i = 0; i < sizeof field_ranges / sizeof field_ranges[0]; i++) {
        const struct field_range *r = &field_ranges[i];
        if (r->layer == layer && byte >= r->start && byte < r->start + r->len) {
            if (field_start)
                *field_start = r->start;
            return r->id;
        }
    }
    if (field_start)
        *field_start = byte;
    return IR_FIELD_OTHER_HEADER;
}

/* ---- Bits -> ir_key ------------------------------------------------------------------- */

/* ir_key embeds 16 parts and is itself embedded many times (guards, record
 * writes): `derived` lives in what was padding. */
_Static_assert(sizeof(struct ir_key_part) <= 32, "ir_key_part grew");

/* What a bit contributes to: the part it belongs to. */
struct bit_class {
    enum ir_field_id id;
    int layer;          /* header bits */
    int field_start;    /* byte where the field starts */
    int access;         /* state bits */
};

static struct bit_class classify(struct abit b)
{
    struct bit_class c = {IR_FIELD_UNKNOWN, 0, 0, -1};
    switch (b.kind) {
    case AB_ZERO: case AB_ONE: case AB_UNDEF: case AB_GCONST:
        c.id = IR_FIELD_CONSTANT;
        break;
    case AB_HDR:
        c.layer = b.layer;
        c.id = lift_header_field(b.layer, b.pos / 8, &c.field_start);
        break;
    case AB_PORT:
        c.id = IR_FIELD_INPUT_PORT;
        break;
    case AB_TIME:
        c.id = IR_FIELD_TIME;
        break;
    case AB_STATE:
        c.id = IR_FIELD_STATE;
        c.access = b.access;
        break;
    default:
        break;
    }
    return c;
}

static bool same_class(struct bit_class a, struct bit_class b)
{
    if (a.id != b.id || a.access != b.access)
        return false;
    if (a.id == IR_FIELD_OTHER_HEADER)
        return a.layer == b.layer;
    return true;
}

/* Builds the part for bits[lo..hi) which share one class. */
static struct ir_key_part make_part(const struct abit *bits, const int *order, int lo, int hi,
                                    struct bit_class c)
{
    struct ir_key_part part = {.field = {c.id, 0}, .from_access = -1,
                               .bits = (uint16_t)(hi - lo)};
    if (c.id == IR_FIELD_CONSTANT) {
        uint64_t v = 0;
        /* The value of the part's bits, least significant first as stored. */
        int n = 0;
        int idx[IR_KEY_MAX_PARTS * 64];
        for (int i = lo; i < hi && n < (int)(sizeof idx / sizeof idx[0]); i++)
            idx[n++] = order[i];
        /* order[] may run MSB-first (integers) or byte order (memory); sort. */
        for (int a = 1; a < n; a++)
            for (int b = a; b > 0 && idx[b - 1] > idx[b]; b--) {
                int t = idx[b];
                idx[b] = idx[b - 1];
                idx[b - 1] = t;
            }
        for (int i = 0; i < n && i < 64; i++)
            if (bits[idx[i]].kind == AB_ONE)
                v |= 1ULL << i;
        part.constant = (int64_t)v;
        return part;
    }
    if (c.id == IR_FIELD_STATE) {
        part.from_access = c.access;
        int min = POS_UNKNOWN;
        for (int i = lo; i < hi; i++)
            if (bits[order[i]].pos < min)
                min = bits[order[i]].pos;
        part.offset = min == POS_UNKNOWN ? 0 : (uint16_t)(min / 8);
        return part;
    }
    if (c.id == IR_FIELD_UNKNOWN) {
        /* The first bit that says what header bits it was computed from. */
        for (int i = lo; i < hi && !part.derived; i++)
            if (bits[order[i]].access >= 0 && bits[order[i]].access < UINT16_MAX)
                part.derived = (uint16_t)(bits[order[i]].access + 1);
        return part;
    }
    if (c.id == IR_FIELD_INPUT_PORT || c.id == IR_FIELD_TIME)
        return part;
    /* Header bits. */
    int min_byte = 1 << 20;
    for (int i = lo; i < hi; i++)
        if (bits[order[i]].pos / 8 < min_byte)
            min_byte = bits[order[i]].pos / 8;
    part.layer = (uint8_t)(c.layer == LAYER_V6 ? 3 : c.layer == LAYER_PROTO ? 3 : c.layer);
    part.offset = (uint16_t)min_byte;
    if (c.id == IR_FIELD_OTHER_HEADER)
        return part;
    /* A field: which of its bits (network order, 0 = most significant) are kept? */
    unsigned width = ir_field_bits(c.id);
    unsigned n = (unsigned)(hi - lo);
    bool seen[128] = {false};
    unsigned top = 0;
    for (int i = lo; i < hi; i++) {
        struct abit b = bits[order[i]];
        unsigned net = (unsigned)((b.pos / 8 - c.field_start) * 8 + (7 - b.pos % 8));
        if (net < 128)
            seen[net] = true;
        if (net + 1 > top)
            top = net + 1;
    }
    bool prefix = top == n;
    for (unsigned i = 0; prefix && i < n; i++)
        prefix = seen[i];
    if (!prefix) {
        /* Some other subset of the field: not a field RSS can stand in for. */
        part.field.id = IR_FIELD_OTHER_HEADER;
        if (c.layer == LAYER_PROTO) {
            part.offset = 9;
        }
        return part;
    }
    if (c.layer == LAYER_PROTO)
        part.offset = 9;
    part.field.prefix = n == width ? 0 : (uint8_t)n;
    return part;
}

void lift_bits_to_key(const struct abit *bits, int nbits, bool integer, struct ir_key *key)
{
    memset(key, 0, sizeof *key);
    /* Visiting order: memory keys in byte order; integers most significant
     * first, without their leading constant-zero bits. */
    int *order = malloc(((size_t)nbits + 1) * sizeof *order);
    int n = 0;
    if (integer) {
        int top = nbits - 1;
        while (top >= 0 && (bits[top].kind == AB_ZERO || bits[top].kind == AB_UNDEF))
            top--;
        bool all_const = true;
        for (int i = 0; i <= top; i++)
            all_const &= bits[i].kind == AB_ZERO || bits[i].kind == AB_ONE ||
                         bits[i].kind == AB_UNDEF || bits[i].kind == AB_GCONST;
        if (all_const)      /* a constant index keeps its full width */
            top = nbits - 1;
        for (int i = top; i >= 0; i--)
            order[n++] = i;
    } else {
        for (int i = 0; i < nbits; i++)
            order[n++] = i;
    }
    int lo = 0;
    while (lo < n) {
        struct bit_class c = classify(bits[order[lo]]);
        int hi = lo + 1;
        /* A field bit seen twice starts a new part (a key holding src twice). */
        bool used[128] = {false};
        if (c.id < IR_FIELD_OTHER_HEADER && bits[order[lo]].kind == AB_HDR) {
            struct abit b = bits[order[lo]];
            used[((b.pos / 8 - c.field_start) * 8 + b.pos % 8) & 127] = true;
        }
        while (hi < n) {
            struct bit_class d = classify(bits[order[hi]]);
            if (!same_class(c, d))
                break;
            if (c.id < IR_FIELD_OTHER_HEADER) {
                struct abit b = bits[order[hi]];
                int at = ((b.pos / 8 - c.field_start) * 8 + b.pos % 8) & 127;
                if (used[at])
                    break;
                used[at] = true;
            }
            if (c.id == IR_FIELD_OTHER_HEADER) {
                /* Other header bytes: one part per contiguous byte run. */
                int prev = bits[order[hi - 1]].pos / 8, cur = bits[order[hi]].pos / 8;
                if (cur != prev && cur != prev + 1 && cur != prev - 1)
                    break;
            }
            hi++;
        }
        struct ir_key_part part = make_part(bits, order, lo, hi, c);
        if (key->count < IR_KEY_MAX_PARTS) {
            key->parts[key->count++] = part;
        } else {
            /* Too many parts: the rest is summarised as unknown (sound). */
            struct ir_key_part *last = &key->parts[IR_KEY_MAX_PARTS - 1];
            uint16_t total = (uint16_t)(last->bits + part.bits);
            *last = (struct ir_key_part){.field = {IR_FIELD_UNKNOWN, 0}, .from_access = -1,
                                         .bits = total};
        }
        lo = hi;
    }
    free(order);
}

int lift_bits_to_keys(const struct abit *bits, int nbits, bool integer, struct ir_key keys[2])
{
    int first = -1, second = -1;
    for (int i = 0; i < nbits; i++)
        if (bits[i].kind == AB_STATE && bits[i].alt1) {
            first = bits[i].access;
            second = bits[i].alt1 - 1;
            break;
        }
    if (first < 0) {
        lift_bits_to_key(bits, nbits, integer, &keys[0]);
        return 1;
    }
    struct abit *copy = malloc((size_t)nbits * sizeof *copy);
    for (int v = 0; v < 2; v++) {
        for (int i = 0; i < nbits; i++) {
            struct abit b = bits[i];
            if (b.kind == AB_STATE && b.alt1) {
                if (b.access == first && b.alt1 == second + 1)
                    b.access = v == 0 ? first : second;
                else
                    b = UNKNOWN_BIT;    /* a second pair: not split, so unknown */
                b.alt1 = 0;
            }
            copy[i] = b;
        }
        lift_bits_to_key(copy, nbits, integer, &keys[v]);
    }
    free(copy);
    return 2;
}
