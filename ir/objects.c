/*
 * objects.c - the state objects an NF creates in nf_init: each nf_*_create
 * call's constant name, its sizes (constants, nf_config defaults, simple
 * arithmetic, globals nf_init stores once), and the global slot its handle is
 * stored into (how nf_process's calls are traced back to the object).
 */
#include "ir/lift.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct create_entry {
    const char *name;
    enum ir_object_kind kind;
    unsigned args;
};

static const struct create_entry create_table[] = {
    {"nf_map_create", IR_OBJ_MAP, 3}, {"nf_vector_create", IR_OBJ_VECTOR, 3},
    {"nf_alloc_create", IR_OBJ_ALLOC, 2}, {"nf_sketch_create", IR_OBJ_SKETCH, 4},
    {"nf_chash_create", IR_OBJ_CHASH, 3}, {"nf_counter_create", IR_OBJ_COUNTER, 1},
    {"nf_tsketch_create", IR_OBJ_SKETCH, 5},
};

static const struct create_entry *create_lookup(const char *name)
{
    for (size_t i = 0; name && i < sizeof create_table / sizeof create_table[0]; i++)
        if (strcmp(name, create_table[i].name) == 0)
            return &create_table[i];
    return NULL;
}

bool lift_is_create(const char *name)
{
    return create_lookup(name) != NULL;
}

/* ---- Objects (nf_init) ------------------------------------------------------------------ */

/* A global (by name) plus constant offset, through constant GEPs. */
bool lift_global_slot(LLVMTargetDataRef td, LLVMValueRef p, char *name, size_t len,
                        int64_t *offset)
{
    int64_t total = 0;
    for (int depth = 0; depth < 16; depth++) {
        if (LLVMIsAGlobalVariable(p)) {
            size_t n;
            snprintf(name, len, "%s", LLVMGetValueName2(p, &n));
            *offset = total;
            return true;
        }
        bool gep = LLVMIsAGetElementPtrInst(p) ||
                   (LLVMIsAConstantExpr(p) && LLVMGetConstOpcode(p) == LLVMGetElementPtr);
        int64_t off;
        if (!gep || !lift_gep_const_offset(td, p, &off))
            return false;
        total += off;
        p = LLVMGetOperand(p, 0);
    }
    return false;
}

const char *lift_constant_string(LLVMValueRef v, size_t *len)
{
    for (int depth = 0; depth < 4 && v; depth++) {
        if (LLVMIsAGlobalVariable(v)) {
            LLVMValueRef init = LLVMGetInitializer(v);
            if (!LLVMIsGlobalConstant(v) || !init || !LLVMIsConstantString(init))
                return NULL;
            const char *s = LLVMGetAsString(init, len);
            while (*len > 0 && s[*len - 1] == '\0')
                (*len)--;
            return s;
        }
        if (LLVMIsAConstantExpr(v) && LLVMGetConstOpcode(v) == LLVMGetElementPtr) {
            v = LLVMGetOperand(v, 0);
            continue;
        }
        return NULL;
    }
    return NULL;
}

/* A size argument in nf_init: constants, nf_config defaults, simple arithmetic
 * over them. Returns false when it cannot tell. */
static bool init_value(LLVMTargetDataRef td, LLVMValueRef v, uint64_t *out, int depth)
{
    int64_t c;
    if (depth > 16)
        return false;
    if (lift_const_int(v, &c)) {
        *out = (uint64_t)c;
        return true;
    }
    if (LLVMIsACallInst(v)) {
        const char *name = lift_callee_name(v);
        if (name && strcmp(name, "nf_config") == 0 && LLVMGetNumArgOperands(v) == 2)
            return init_value(td, LLVMGetOperand(v, 1), out, depth + 1);
        return false;
    }
    if (!LLVMIsAInstruction(v))
        return false;
    uint64_t a, b;
    switch (LLVMGetInstructionOpcode(v)) {
    case LLVMTrunc: {
        if (!init_value(td, LLVMGetOperand(v, 0), &a, depth + 1))
            return false;
        unsigned w = LLVMGetIntTypeWidth(LLVMTypeOf(v));
        *out = w >= 64 ? a : a & ((1ULL << w) - 1);
        return true;
    }
    case LLVMZExt:
    case LLVMSExt:
    case LLVMFreeze:
        return init_value(td, LLVMGetOperand(v, 0), out, depth + 1);
    case LLVMAdd: case LLVMSub: case LLVMMul: case LLVMShl: case LLVMLShr: case LLVMUDiv:
        if (!init_value(td, LLVMGetOperand(v, 0), &a, depth + 1) ||
            !init_value(td, LLVMGetOperand(v, 1), &b, depth + 1))
            return false;
        switch (LLVMGetInstructionOpcode(v)) {
        case LLVMAdd: *out = a + b; break;
        case LLVMSub: *out = a - b; break;
        case LLVMMul: *out = a * b; break;
        case LLVMShl: *out = b < 64 ? a << b : 0; break;
        case LLVMLShr: *out = b < 64 ? a >> b : 0; break;
        default: if (b == 0) return false; *out = a / b; break;
        }
        return true;
    case LLVMLoad: {
        /* A global nf_init stores exactly once (e.g. `capacity = nf_config(...)`),
         * else its initializer. */
        LLVMValueRef g = LLVMGetOperand(v, 0);
        if (!LLVMIsAGlobalVariable(g))
            return false;
        LLVMValueRef fn = LLVMGetBasicBlockParent(LLVMGetInstructionParent(v));
        LLVMValueRef stored = NULL;
        int n_stores = 0;
        for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
            for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in))
                if (LLVMIsAStoreInst(in) && LLVMGetOperand(in, 1) == g) {
                    stored = LLVMGetOperand(in, 0);
                    n_stores++;
                }
        if (n_stores == 1)
            return init_value(td, stored, out, depth + 1);
        if (n_stores == 0 && LLVMGetInitializer(g))
            return init_value(td, LLVMGetInitializer(g), out, depth + 1);
        return false;
    }
    default:
        return false;
    }
}

static uint32_t size_arg(LLVMTargetDataRef td, LLVMValueRef call, unsigned i)
{
    uint64_t v;
    if (i >= LLVMGetNumArgOperands(call) || !init_value(td, LLVMGetOperand(call, i), &v, 0))
        return 0;
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

int lift_config_ports(LLVMValueRef init_fn)
{
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(init_fn); bb; bb = LLVMGetNextBasicBlock(bb))
        for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in)) {
            if (!LLVMIsACallInst(in))
                continue;
            const char *name = lift_callee_name(in);
            if (!name || strcmp(name, "nf_config") != 0 || LLVMGetNumArgOperands(in) != 2)
                continue;
            size_t len;
            const char *key = lift_constant_string(LLVMGetOperand(in, 0), &len);
            int64_t def;
            if (key && len == 5 && memcmp(key, "ports", 5) == 0 &&
                lift_const_int(LLVMGetOperand(in, 1), &def))
                return (int)def;
        }
    return 0;
}

static int add_object(struct lift *L, LLVMValueRef call, const struct create_entry *ce,
                      struct util_error *err)
{
    struct ir_nf *nf = L->nf;
    char where[256];
    struct ir_object obj;
    memset(&obj, 0, sizeof obj);
    obj.kind = ce->kind;
    lift_location(call, &obj.created);
    if (LLVMGetNumArgOperands(call) != ce->args) {
        util_error_set(err, "%s: %s: API misuse: %s called with %u arguments, nf.h declares %u; "
                       "include rsskey/nf.h instead of declaring the API yourself", nf->path,
                       lift_where_text(&obj.created, where, sizeof where), ce->name,
                       LLVMGetNumArgOperands(call), ce->args);
        return UTIL_EXIT_INPUT;
    }
    size_t len;
    const char *name = lift_constant_string(LLVMGetOperand(call, 0), &len);
    if (!name) {
        util_error_set(err, "%s: %s: API misuse: the name given to %s is not a string "
                       "literal; name every state object with a constant string",
                       nf->path, lift_where_text(&obj.created, where, sizeof where), ce->name);
        return UTIL_EXIT_INPUT;
    }
    snprintf(obj.name, sizeof obj.name, "%.*s", (int)len, name);
    for (int i = 0; i < nf->n_objects; i++)
        if (strcmp(nf->objects[i].name, obj.name) == 0) {
            util_error_set(err, "%s: %s: API misuse: two state objects are named \"%s\"; "
                           "give each object its own name", nf->path,
                           lift_where_text(&obj.created, where, sizeof where), obj.name);
            return UTIL_EXIT_INPUT;
        }
    switch (ce->kind) {
    case IR_OBJ_MAP:
        obj.key_size = size_arg(L->td, call, 1);
        obj.capacity = size_arg(L->td, call, 2);
        break;
    case IR_OBJ_VECTOR:
        obj.record_size = size_arg(L->td, call, 1);
        obj.capacity = size_arg(L->td, call, 2);
        break;
    case IR_OBJ_ALLOC:
        obj.capacity = size_arg(L->td, call, 1);
        break;
    case IR_OBJ_SKETCH:
        obj.key_size = size_arg(L->td, call, 1);
        obj.width = size_arg(L->td, call, 2);
        obj.depth = size_arg(L->td, call, 3);
        if (ce->args == 5)      /* nf_tsketch_create: live buckets (0 = all) */
            obj.capacity = size_arg(L->td, call, 4);
        break;
    case IR_OBJ_CHASH:
        obj.capacity = size_arg(L->td, call, 1);
        obj.width = size_arg(L->td, call, 2);
        break;
    case IR_OBJ_COUNTER:
        break;
    }
    int index = nf->n_objects;
    nf->objects = lift_grow(nf->objects, nf->n_objects, sizeof *nf->objects);
    nf->objects[nf->n_objects++] = obj;

    /* Where the handle goes: stores of the call's result into globals. */
    bool used = false, stored = false;
    /* The handle itself, or freeze/bitcast copies of it (clang -O2 emits freeze). */
    LLVMValueRef copies[8] = {call};
    int n_copies = 1;
    for (int c = 0; c < n_copies; c++)
        for (LLVMUseRef u = LLVMGetFirstUse(copies[c]); u; u = LLVMGetNextUse(u)) {
            LLVMValueRef user = LLVMGetUser(u);
            if ((LLVMIsAFreezeInst(user) || LLVMIsABitCastInst(user)) && n_copies < 8)
                copies[n_copies++] = user;
        }
    for (int c = 0; c < n_copies; c++)
    for (LLVMUseRef u = LLVMGetFirstUse(copies[c]); u; u = LLVMGetNextUse(u)) {
        LLVMValueRef user = LLVMGetUser(u);
        if (LLVMIsAFreezeInst(user) || LLVMIsABitCastInst(user))
            continue;
        used = true;
        if (!LLVMIsAStoreInst(user) || LLVMGetOperand(user, 0) != copies[c])
            continue;
        struct handle_slot slot;
        if (!lift_global_slot(L->td, LLVMGetOperand(user, 1), slot.global, sizeof slot.global,
                         &slot.offset))
            continue;
        slot.object = index;
        L->slots = lift_grow(L->slots, L->n_slots, sizeof *L->slots);
        L->slots[L->n_slots++] = slot;
        stored = true;
    }
    if (used && !stored) {
        util_error_set(err, "%s: %s: API misuse: the handle of \"%s\" is not stored in a "
                       "global at a fixed place; keep each handle in its own global "
                       "(e.g. `static struct nf_map *table;`) so nf_process can be traced",
                       nf->path, lift_where_text(&obj.created, where, sizeof where), obj.name);
        return UTIL_EXIT_INPUT;
    }
    return 0;
}

int lift_objects(struct lift *L, LLVMValueRef init_fn, struct util_error *err)
{
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(init_fn); bb; bb = LLVMGetNextBasicBlock(bb))
        for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in)) {
            if (!LLVMIsACallInst(in) || lift_call_class(in) != CALL_CREATE)
                continue;
            int rc = add_object(L, in, create_lookup(lift_callee_name(in)), err);
            if (rc)
                return rc;
        }
    return 0;
}

