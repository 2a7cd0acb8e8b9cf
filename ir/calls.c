/*
 * calls.c - the NF API as the analysis sees it (which call is what) and the
 * per-port lifting of nf_process: state accesses with their keys and related
 * objects, header writes, guards, and the issues (unknown, indirect and asm
 * calls, global writes, writes through read-only state pointers, handles that
 * cannot be traced), writes into vector records. Objects come from
 * objects.c, key alternatives from split.c, guard dominance from guards.c.
 */
#include "ir/lift.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- The API table ---------------------------------------------------------- */

enum key_kind { KEY_NONE, KEY_MEMORY, KEY_INDEX };

struct api_entry {
    const char *name;
    enum ir_api api;
    enum ir_object_kind kind;
    enum key_kind key;      /* argument 1 */
    unsigned args;          /* arity in nf.h */
};

static const struct api_entry api_table[] = {
    {"nf_map_get", IR_API_MAP_GET, IR_OBJ_MAP, KEY_MEMORY, 3},
    {"nf_map_put", IR_API_MAP_PUT, IR_OBJ_MAP, KEY_MEMORY, 3},
    {"nf_map_erase", IR_API_MAP_ERASE, IR_OBJ_MAP, KEY_MEMORY, 2},
    {"nf_vector_read", IR_API_VECTOR_READ, IR_OBJ_VECTOR, KEY_INDEX, 2},
    {"nf_vector_write", IR_API_VECTOR_WRITE, IR_OBJ_VECTOR, KEY_INDEX, 2},
    {"nf_alloc_new", IR_API_ALLOC_NEW, IR_OBJ_ALLOC, KEY_NONE, 3},
    {"nf_alloc_refresh", IR_API_ALLOC_REFRESH, IR_OBJ_ALLOC, KEY_INDEX, 3},
    {"nf_alloc_is_allocated", IR_API_ALLOC_IS_ALLOCATED, IR_OBJ_ALLOC, KEY_INDEX, 2},
    {"nf_alloc_free", IR_API_ALLOC_FREE, IR_OBJ_ALLOC, KEY_INDEX, 2},
    {"nf_alloc_expire", IR_API_ALLOC_EXPIRE, IR_OBJ_ALLOC, KEY_NONE, 4},
    {"nf_sketch_add", IR_API_SKETCH_ADD, IR_OBJ_SKETCH, KEY_MEMORY, 3},
    {"nf_sketch_estimate", IR_API_SKETCH_ESTIMATE, IR_OBJ_SKETCH, KEY_MEMORY, 2},
    {"nf_sketch_reset", IR_API_SKETCH_RESET, IR_OBJ_SKETCH, KEY_NONE, 1},
    {"nf_chash_lookup", IR_API_CHASH_LOOKUP, IR_OBJ_CHASH, KEY_MEMORY, 4},
    {"nf_counter_add", IR_API_COUNTER_ADD, IR_OBJ_COUNTER, KEY_NONE, 2},
    {"nf_counter_read", IR_API_COUNTER_READ, IR_OBJ_COUNTER, KEY_NONE, 1},
    {"nf_tsketch_add", IR_API_TSKETCH_ADD, IR_OBJ_SKETCH, KEY_MEMORY, 4},
    {"nf_tsketch_touch", IR_API_TSKETCH_TOUCH, IR_OBJ_SKETCH, KEY_MEMORY, 3},
    {"nf_tsketch_estimate", IR_API_TSKETCH_ESTIMATE, IR_OBJ_SKETCH, KEY_MEMORY, 2},
    {"nf_tsketch_expire", IR_API_TSKETCH_EXPIRE, IR_OBJ_SKETCH, KEY_NONE, 2},
};

static const char *const accessor_names[] = {
    "nf_eth", "nf_ipv4", "nf_ipv6", "nf_l4", "nf_tcp", "nf_udp",
};

/* nf.h calls that touch no state, and pure libc functions. */
static const char *const harmless_names[] = {
    "nf_config", "nf_l4_proto", "nf_checksums_update",
    "memcmp", "bcmp", "strlen", "strnlen", "strcmp", "strncmp", "memchr",
    "abs", "labs", "llabs", "ntohl", "ntohs", "htonl", "htons",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct api_entry *api_lookup(const char *name)
{
    for (size_t i = 0; name && i < COUNT(api_table); i++)
        if (strcmp(name, api_table[i].name) == 0)
            return &api_table[i];
    return NULL;
}

static bool in_list(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; name && i < n; i++)
        if (strcmp(name, list[i]) == 0)
            return true;
    return false;
}

const char *ir_api_name(enum ir_api api)
{
    for (size_t i = 0; i < COUNT(api_table); i++)
        if (api_table[i].api == api)
            return api_table[i].name;
    return "unknown";
}

const char *lift_callee_name(LLVMValueRef call)
{
    LLVMValueRef callee = LLVMGetCalledValue(call);
    if (!callee || !LLVMIsAFunction(callee))
        return NULL;
    size_t len;
    return LLVMGetValueName2(callee, &len);
}

enum call_class lift_call_class(LLVMValueRef call)
{
    LLVMValueRef callee = LLVMGetCalledValue(call);
    if (callee && LLVMIsAInlineAsm(callee))
        return CALL_ASM;
    if (!callee || !LLVMIsAFunction(callee))
        return CALL_INDIRECT;
    const char *name = lift_callee_name(call);
    if (strncmp(name, "llvm.", 5) == 0)
        return CALL_INTRINSIC;
    if (api_lookup(name))
        return CALL_STATE;
    if (lift_is_create(name))
        return CALL_CREATE;
    if (in_list(name, accessor_names, COUNT(accessor_names)))
        return CALL_ACCESSOR;
    if (in_list(name, harmless_names, COUNT(harmless_names)))
        return CALL_HARMLESS;
    if (LLVMCountBasicBlocks(callee) > 0)
        return CALL_DEFINED;
    return CALL_UNKNOWN;
}

void lift_location(LLVMValueRef inst, struct ir_location *loc)
{
    memset(loc, 0, sizeof *loc);
    unsigned len = 0;
    const char *file = LLVMGetDebugLocFilename(inst, &len);
    if (file && len > 0)
        snprintf(loc->file, sizeof loc->file, "%.*s", (int)len, file);
    loc->line = (int)LLVMGetDebugLocLine(inst);
    LLVMValueRef fn = LLVMGetBasicBlockParent(LLVMGetInstructionParent(inst));
    size_t n;
    snprintf(loc->function, sizeof loc->function, "%s", LLVMGetValueName2(fn, &n));
}

const char *lift_where_text(const struct ir_location *loc, char *buf, size_t len)
{
    if (loc->file[0])
        snprintf(buf, len, "%s:%d (in %s)", loc->file, loc->line, loc->function);
    else
        snprintf(buf, len, "function %s (no debug info; compile with -g)", loc->function);
    return buf;
}

/* ---- Growable output arrays ------------------------------------------------------ */

void *lift_grow(void *array, int count, size_t size)
{
    /* Capacity doubles at powers of two. */
    if (count == 0 || (count & (count - 1)) == 0) {
        size_t cap = count == 0 ? 4 : (size_t)count * 2;
        array = realloc(array, cap * size);
    }
    return array;
}

/* Remembers which instruction made output `index` (for guard dominance). */
static void note_placed(struct lift *L, enum placed_kind kind, int index, LLVMValueRef inst)
{
    L->placed = lift_grow(L->placed, L->n_placed, sizeof *L->placed);
    L->placed[L->n_placed++] = (struct placed){kind, index, inst};
}

static struct ir_issue *add_issue(struct lift *L, enum ir_issue_kind kind, int object,
                                  LLVMValueRef inst, const char *fmt, const char *arg)
{
    struct ir_nf *nf = L->nf;
    nf->issues = lift_grow(nf->issues, nf->n_issues, sizeof *nf->issues);
    struct ir_issue *is = &nf->issues[nf->n_issues++];
    memset(is, 0, sizeof *is);
    is->kind = kind;
    is->object = object;
    is->port = L->port;
    snprintf(is->detail, sizeof is->detail, fmt, arg ? arg : "");
    lift_location(inst, &is->where);
    return is;
}

/* ---- nf_process, per port ------------------------------------------------------------------ */

static int slot_object(struct lift *L, const char *name, int64_t off)
{
    for (int i = 0; i < L->n_slots; i++)
        if (L->slots[i].offset == off && strcmp(L->slots[i].global, name) == 0)
            return L->slots[i].object;
    return -1;
}

#define MAX_HANDLES 4

/* Objects a handle may designate: loads from global slots, through selects
 * and phis of handles or of slot addresses. False when some path is not
 * traceable (then nothing is claimed). */
static bool collect_handles(struct lift *L, LLVMValueRef v, bool is_address, int *objs, int *n,
                            int depth)
{
    if (depth > 8)
        return false;
    if (LLVMIsASelectInst(v) || LLVMIsAPHINode(v)) {
        unsigned count = LLVMIsAPHINode(v) ? LLVMCountIncoming(v) : 2;
        for (unsigned i = 0; i < count; i++) {
            LLVMValueRef in = LLVMIsAPHINode(v) ? LLVMGetIncomingValue(v, i)
                                                : LLVMGetOperand(v, i + 1);
            if (in == v || !collect_handles(L, in, is_address, objs, n, depth + 1))
                return false;
        }
        return true;
    }
    if (!is_address) {
        if (!LLVMIsALoadInst(v))
            return false;
        return collect_handles(L, LLVMGetOperand(v, 0), true, objs, n, depth + 1);
    }
    char name[128];
    int64_t off;
    if (!lift_global_slot(L->td, v, name, sizeof name, &off))
        return false;
    int obj = slot_object(L, name, off);
    if (obj < 0)
        return false;
    for (int i = 0; i < *n; i++)
        if (objs[i] == obj)
            return true;
    if (*n == MAX_HANDLES)
        return false;
    objs[(*n)++] = obj;
    return true;
}

/* The object a handle argument designates when it is exactly one, else -1. */
static int object_of_handle(struct lift *L, LLVMValueRef handle)
{
    int objs[MAX_HANDLES], n = 0;
    if (!collect_handles(L, handle, false, objs, &n, 0) || n != 1)
        return -1;
    return objs[0];
}

/* Registers the state call as an access (or reports why it cannot). */
static void register_call(struct lift *L, LLVMValueRef call)
{
    struct ir_nf *nf = L->nf;
    const char *name = lift_callee_name(call);
    const struct api_entry *ae = api_lookup(name);
    if (LLVMGetNumArgOperands(call) != ae->args) {
        add_issue(L, IR_ISSUE_API_MISUSE, -1, call,
                  "%s is called with a different number of arguments than nf.h declares", name);
        return;
    }
    int objs[MAX_HANDLES], n_objs = 0;
    if (!collect_handles(L, LLVMGetOperand(call, 0), false, objs, &n_objs, 0) || n_objs == 0) {
        add_issue(L, IR_ISSUE_UNKNOWN_OBJECT, -1, call,
                  "the object handle passed to %s cannot be traced to a global holding "
                  "a handle created in nf_init", name);
        return;
    }
    /* A handle chosen per packet among several objects: one access each. */
    for (int i = 0; i < n_objs; i++) {
        int obj = objs[i];
        if (nf->objects[obj].kind != ae->kind) {
            struct ir_issue *is = add_issue(L, IR_ISSUE_API_MISUSE, obj, call, "%s", name);
            snprintf(is->detail, sizeof is->detail, "%.64s is called on \"%s\", which is not "
                     "an object of that kind", name, nf->objects[obj].name);
            continue;
        }
        nf->accesses = lift_grow(nf->accesses, nf->n_accesses, sizeof *nf->accesses);
        struct ir_access *a = &nf->accesses[nf->n_accesses];
        memset(a, 0, sizeof *a);
        a->object = obj;
        a->api = ae->api;
        a->port = L->port;
        a->related[0] = a->related[1] = -1;
        a->guarded_by = -1;
        lift_location(call, &a->where);
        note_placed(L, PLACED_ACCESS, nf->n_accesses, call);
        if (!ptrmap_get(&L->calls, call, NULL))
            ptrmap_put(&L->calls, call, (void *)(intptr_t)(nf->n_accesses + 1));
        intptr_t made = (intptr_t)ptrmap_get(&L->call_objects, call, NULL);
        ptrmap_put(&L->call_objects, call, (void *)(made + 1));
        nf->n_accesses++;
    }
}

static int related_object(struct lift *L, LLVMValueRef handle)
{
    if (LLVMIsAConstantPointerNull(handle))
        return -1;
    return object_of_handle(L, handle);
}

/* Access k gets keys[0]; each further key becomes a copy of the access. */
static void set_access_keys(struct lift *L, LLVMValueRef call, int k, const struct ir_key *keys,
                            int n)
{
    struct ir_nf *nf = L->nf;
    nf->accesses[k].key = keys[0];
    for (int i = 1; i < n; i++) {
        nf->accesses = lift_grow(nf->accesses, nf->n_accesses, sizeof *nf->accesses);
        note_placed(L, PLACED_ACCESS, nf->n_accesses, call);
        struct ir_access *more = &nf->accesses[nf->n_accesses++];
        *more = nf->accesses[k];
        more->key = keys[i];
    }
}

static void check_write(struct lift *L, LLVMValueRef inst, LLVMValueRef ptr, int nbytes,
                        const struct abit *bits);

/* A value that is the same for every packet of a run: an integer constant, a
 * load from a plain global at a constant offset (configuration nf_init
 * stored; a global nf_process writes is an issue of its own), nf_config, or a
 * cast of one. Not a phi or select of constants: those may differ between
 * packets. */
static bool run_constant(struct lift *L, LLVMValueRef v, int depth)
{
    if (LLVMIsAConstantInt(v))
        return true;
    if (depth > 4 || !LLVMIsAInstruction(v))
        return false;
    switch (LLVMGetInstructionOpcode(v)) {
    case LLVMZExt: case LLVMSExt: case LLVMTrunc: case LLVMFreeze:
        return run_constant(L, LLVMGetOperand(v, 0), depth + 1);
    case LLVMLoad: {
        struct aptr p = lift_resolve_ptr(L, LLVMGetOperand(v, 0));
        return p.kind == PB_GLOBAL && !p.var_offset;
    }
    case LLVMCall: {
        const char *name = lift_callee_name(v);
        return name && strcmp(name, "nf_config") == 0;
    }
    default:
        return false;
    }
}

static int int_width(LLVMValueRef v)
{
    LLVMTypeRef t = LLVMTypeOf(v);
    return LLVMGetTypeKind(t) == LLVMIntegerTypeKind ? (int)LLVMGetIntTypeWidth(t) : 0;
}

/* The whole-value exception for indexes. The domain loses the bits of
 * `ntohs(dport) - base_port` to the borrows, yet as a whole the index is as
 * good a key as the port: equal index <=> equal port. That holds for a chain
 * of zext/sext/trunc/freeze and add/sub of run constants around an inner
 * value X whose possibly non-zero bits fit in k bits, when k <= the width of
 * every add, sub and trunc of the chain. Then every value of the chain is at
 * least k bits wide (X too; an extension only widens), and modulo 2^m, m the
 * narrowest of them, each step keeps the value congruent to X + C (an
 * extension or truncation keeps it modulo its narrower side, add/sub move it
 * by a constant): index = X + C (mod 2^m), and X < 2^k <= 2^m, so
 * X = (index - C) mod 2^m.
 * Returns X (the index is then described by X's bits), or NULL when the
 * chain has no add/sub or is not provably injective. *addend is C when every
 * addend is an integer constant, else 0 (a configuration value). */
static LLVMValueRef injective_index_root(struct lift *L, LLVMValueRef v, int64_t *addend)
{
    uint64_t total = 0;
    bool configured = false, arith = false;
    int min_width = AVAL_MAX_BITS + 1;
    for (int depth = 0; depth < 16 && LLVMIsAInstruction(v) && int_width(v) > 0; depth++) {
        LLVMOpcode op = LLVMGetInstructionOpcode(v);
        if (op == LLVMZExt || op == LLVMSExt || op == LLVMFreeze) {
            v = LLVMGetOperand(v, 0);
            continue;
        }
        if (op == LLVMTrunc) {
            min_width = int_width(v) < min_width ? int_width(v) : min_width;
            v = LLVMGetOperand(v, 0);
            continue;
        }
        if (op != LLVMAdd && op != LLVMSub)
            break;
        LLVMValueRef c = LLVMGetOperand(v, 1), rest = LLVMGetOperand(v, 0);
        if (!run_constant(L, c, 0)) {
            if (op == LLVMSub || !run_constant(L, rest, 0))
                break;
            c = rest;
            rest = LLVMGetOperand(v, 1);
        }
        int64_t k;
        if (lift_const_int(c, &k))
            total = op == LLVMAdd ? total + (uint64_t)k : total - (uint64_t)k;
        else
            configured = true;
        min_width = int_width(v) < min_width ? int_width(v) : min_width;
        arith = true;
        v = rest;
    }
    if (!arith || int_width(v) == 0)
        return NULL;
    const struct aval *x = lift_eval(L, v);
    int k = 0;
    bool variable = false;
    for (int i = 0; i < x->width; i++) {
        if (x->b[i].kind != AB_ZERO)
            k = i + 1;
        variable |= x->b[i].kind != AB_ZERO && x->b[i].kind != AB_ONE;
    }
    if (!variable || k > min_width)
        return NULL;
    *addend = configured ? 0 : (int64_t)total;
    return v;
}

static void fill_access(struct lift *L, LLVMValueRef call, int k)
{
    struct ir_nf *nf = L->nf;
    struct ir_access *a = &nf->accesses[k];
    const struct api_entry *ae = api_lookup(lift_callee_name(call));
    const struct ir_object *obj = &nf->objects[a->object];
    struct ir_key *keys = calloc(MAX_KEYS, sizeof *keys);
    int n = 0;
    if (ae->key == KEY_MEMORY) {
        uint32_t size = obj->key_size;
        if (a->api == IR_API_CHASH_LOOKUP) {
            int64_t s;
            size = lift_const_int(LLVMGetOperand(call, 2), &s) && s > 0 ? (uint32_t)s : 0;
        }
        n = lift_access_keys(L, true, call, LLVMGetOperand(call, 1), size, NULL, keys);
    } else if (ae->key == KEY_INDEX) {
        int64_t addend = 0;
        LLVMValueRef index = LLVMGetOperand(call, 1);
        LLVMValueRef root = injective_index_root(L, index, &addend);
        n = lift_access_keys(L, false, call, NULL, 0, root ? root : index, keys);
        for (int i = 0; i < n && addend != 0; i++)
            for (int p = 0; p < keys[i].count; p++)
                if (keys[i].parts[p].field.id <= IR_FIELD_OTHER_HEADER) {
                    keys[i].parts[p].constant = addend;
                    break;
                }
    }
    if (n > 0)
        set_access_keys(L, call, k, keys, n);
    free(keys);
    a = &nf->accesses[k];
    if (a->api == IR_API_MAP_GET || a->api == IR_API_ALLOC_NEW) {
        /* The API writes its out-parameter: it must be writable memory that is
         * not a global or a read-only record; into a header it is a rewrite. */
        struct abit bits[32];
        for (int i = 0; i < 32; i++)
            bits[i] = (struct abit){AB_STATE, 0, (uint16_t)i, k, 0, false};
        check_write(L, call, LLVMGetOperand(call, 2), 4, bits);
        a = &nf->accesses[k];
    }
    if (a->api == IR_API_ALLOC_EXPIRE) {
        a->related[0] = related_object(L, LLVMGetOperand(call, 2));
        a->related[1] = related_object(L, LLVMGetOperand(call, 3));
    } else if (a->api == IR_API_CHASH_LOOKUP) {
        a->related[0] = related_object(L, LLVMGetOperand(call, 3));
    }
}

/* Bytes [off, off+n) of a header: the one field they are, or "other". */
static struct ir_field written_field(int layer, int off, int n)
{
    int start;
    enum ir_field_id id = lift_header_field(layer, off, &start);
    struct ir_field f = {IR_FIELD_OTHER_HEADER, 0};
    if (id != IR_FIELD_OTHER_HEADER && start == off && (int)ir_field_bits(id) == n * 8)
        f.id = id;
    return f;
}

static void add_header_write(struct lift *L, LLVMValueRef inst, struct aptr p, int nbytes,
                             const struct abit *bits)
{
    struct ir_nf *nf = L->nf;
    nf->writes = lift_grow(nf->writes, nf->n_writes, sizeof *nf->writes);
    note_placed(L, PLACED_HEADER_WRITE, nf->n_writes, inst);
    struct ir_header_write *w = &nf->writes[nf->n_writes++];
    memset(w, 0, sizeof *w);
    w->port = L->port;
    w->guarded_by = -1;
    w->layer = (uint8_t)(p.layer == LAYER_V6 ? 3 : p.layer);
    w->offset = p.var_offset ? 0 : (uint16_t)p.offset;
    w->bits = (uint16_t)(nbytes * 8);
    w->field = p.var_offset ? (struct ir_field){IR_FIELD_OTHER_HEADER, 0}
                            : written_field(p.layer, (int)p.offset, nbytes);
    lift_location(inst, &w->where);
    struct ir_key keys[2];
    int n = lift_bits_to_keys(bits, nbytes * 8, false, keys);
    w->value = keys[0];
    if (n == 2) {
        struct ir_header_write copy = *w;
        copy.value = keys[1];
        nf->writes = lift_grow(nf->writes, nf->n_writes, sizeof *nf->writes);
        note_placed(L, PLACED_HEADER_WRITE, nf->n_writes, inst);
        nf->writes[nf->n_writes++] = copy;
    }
}

/* nbytes (0: not known) stored into the record a vector write returned;
 * bits NULL when the value is not known. */
static void add_record_write(struct lift *L, LLVMValueRef inst, struct aptr p, int nbytes,
                             const struct abit *bits)
{
    struct ir_nf *nf = L->nf;
    struct ir_record_write rw;
    memset(&rw, 0, sizeof rw);
    rw.object = nf->accesses[p.access].object;
    rw.port = L->port;
    rw.access = p.access;
    rw.index = nf->accesses[p.access].key;
    rw.guarded_by = -1;
    rw.offset_unknown = p.var_offset || p.offset < 0 || p.offset > UINT16_MAX || nbytes <= 0 ||
                        nbytes > UINT16_MAX / 8;
    rw.offset = rw.offset_unknown ? 0 : (uint16_t)p.offset;
    rw.bits = rw.offset_unknown ? 0 : (uint16_t)(nbytes * 8);
    lift_location(inst, &rw.where);
    struct ir_key keys[2];
    int n = 1;
    if (bits && !rw.offset_unknown) {
        n = lift_bits_to_keys(bits, nbytes * 8, false, keys);
    } else {
        memset(&keys[0], 0, sizeof keys[0]);
        keys[0].count = 1;
        keys[0].parts[0] = (struct ir_key_part){.field = {IR_FIELD_UNKNOWN, 0},
                                                .from_access = -1, .bits = rw.bits};
    }
    for (int i = 0; i < n; i++) {
        nf->record_writes = lift_grow(nf->record_writes, nf->n_record_writes,
                                      sizeof *nf->record_writes);
        note_placed(L, PLACED_RECORD_WRITE, nf->n_record_writes, inst);
        rw.value = keys[i];
        nf->record_writes[nf->n_record_writes++] = rw;
    }
}

/* A write of nbytes through pointer `ptr` at instruction `inst`. */
static void check_write(struct lift *L, LLVMValueRef inst, LLVMValueRef ptr, int nbytes,
                        const struct abit *bits)
{
    struct aptr p = lift_resolve_ptr(L, ptr);
    size_t n;
    switch (p.kind) {
    case PB_HDR:
        if (bits)
            add_header_write(L, inst, p, nbytes, bits);
        break;
    case PB_GLOBAL:
        add_issue(L, IR_ISSUE_GLOBAL_WRITE, -1, inst,
                  "nf_process writes the global `%s`; per-packet state must live in "
                  "nf.h objects", LLVMGetValueName2(p.base, &n));
        break;
    case PB_STATE:
        if (!p.writable)
            add_issue(L, IR_ISSUE_BORROW_WRITE, L->nf->accesses[p.access].object, inst,
                      "%s", "a write through the read-only pointer nf_vector_read returned "
                      "(use nf_vector_write)");
        else if (L->nf->accesses[p.access].api == IR_API_VECTOR_WRITE)
            add_record_write(L, inst, p, nbytes, bits);
        break;
    case PB_UNKNOWN:
        add_issue(L, IR_ISSUE_GLOBAL_WRITE, -1, inst, "%s",
                  "a write through a pointer the analysis cannot trace (it may be a global)");
        break;
    default:
        break;  /* stack, the packet struct, NULL */
    }
}

/* False when v may be a non-identity function of the bits the abstract
 * domain names: it keeps a field's bits through xor with constants and
 * through the carry-free positions of an addition or subtraction (`src + 4`
 * flips bit 2 of src; enough for keys, which need only be injective), but a
 * value compared for equality must be the field itself. Any add, sub, mul,
 * xor, div or rem on the way counts (more than needed, never less). Follows
 * SSA operands (not memory) up to a small depth. */
static bool copies_bits(LLVMValueRef v, int depth)
{
    if (!LLVMIsAInstruction(v))
        return true;
    if (depth > 10)
        return false;
    switch (LLVMGetInstructionOpcode(v)) {
    case LLVMAdd: case LLVMSub: case LLVMMul: case LLVMXor: case LLVMUDiv: case LLVMSDiv:
    case LLVMURem: case LLVMSRem:
        return false;
    case LLVMLoad: case LLVMAlloca:
        return true;
    case LLVMCall:
        if (lift_call_class(v) != CALL_INTRINSIC)
            return true;        /* a state call or an unknown value: described as such */
        break;
    default:
        break;
    }
    int n = LLVMGetNumOperands(v);
    for (int i = 0; i < n; i++) {
        LLVMValueRef op = LLVMGetOperand(v, i);
        if (op != v && LLVMIsAInstruction(op) && !copies_bits(op, depth + 1))
            return false;
    }
    return true;
}

static void scan_writes(struct lift *L, LLVMValueRef in)
{
    if (LLVMIsAStoreInst(in)) {
        LLVMValueRef val = LLVMGetOperand(in, 0);
        int nbytes = (int)LLVMStoreSizeOfType(L->td, LLVMTypeOf(val));
        struct aptr p = lift_resolve_ptr(L, LLVMGetOperand(in, 1));
        bool described = p.kind == PB_HDR || (p.kind == PB_STATE && p.writable);
        if (described && nbytes <= AVAL_MAX_BITS / 8) {
            struct aval *alts = malloc(MAX_ALTERNATIVES * sizeof *alts);
            int n = lift_value_alternatives(L, val, alts);
            struct abit *bits = calloc((size_t)nbytes * 8, sizeof *bits);
            int before = L->nf->n_record_writes;
            for (int a = 0; a < n; a++) {
                for (int i = 0; i < nbytes * 8; i++)
                    bits[i] = i < alts[a].width ? alts[a].b[i]
                                                : (struct abit){AB_ZERO, 0, 0, -1, 0, false};
                check_write(L, in, LLVMGetOperand(in, 1), nbytes, bits);
            }
            if (L->nf->n_record_writes > before && !copies_bits(val, 0))
                for (int i = before; i < L->nf->n_record_writes; i++)
                    L->nf->record_writes[i].transformed = true;
            free(bits);
            free(alts);
            return;
        }
        check_write(L, in, LLVMGetOperand(in, 1), nbytes, NULL);
        return;
    }
    if (LLVMIsAAtomicRMWInst(in) || LLVMIsAAtomicCmpXchgInst(in)) {
        check_write(L, in, LLVMGetOperand(in, 0), 0, NULL);
        return;
    }
    if (!LLVMIsACallInst(in) || lift_call_class(in) != CALL_INTRINSIC)
        return;
    const char *name = lift_callee_name(in);
    bool copy = strncmp(name, "llvm.memcpy", 11) == 0 || strncmp(name, "llvm.memmove", 12) == 0;
    bool set = strncmp(name, "llvm.memset", 11) == 0;
    if (!copy && !set)
        return;
    int64_t len;
    bool known = lift_const_int(LLVMGetOperand(in, 2), &len) && len > 0 && len <= 64;
    struct abit *bits = NULL;
    if (known) {
        bits = calloc((size_t)len * 8, sizeof *bits);
        if (copy) {
            lift_ptr_bytes(L, in, LLVMGetOperand(in, 1), (int)len, bits);
        } else {
            const struct aval *v = lift_eval(L, LLVMGetOperand(in, 1));
            for (int i = 0; i < len * 8; i++)
                bits[i] = v->b[i % 8];
        }
    }
    struct aptr p = lift_resolve_ptr(L, LLVMGetOperand(in, 0));
    if (p.kind == PB_HDR && !known) {
        /* A header write of unknown length: report it as unknown bytes. */
        struct abit unknown[8];
        for (int i = 0; i < 8; i++)
            unknown[i] = (struct abit){AB_UNKNOWN, 0, 0, -1, 0, false};
        p.var_offset = true;
        add_header_write(L, in, p, 1, unknown);
    } else {
        check_write(L, in, LLVMGetOperand(in, 0), known ? (int)len : 0, bits);
    }
    free(bits);
}

/* Where a value's non-constant bits come from: one state access, header
 * bits only, or something else. */
enum bits_origin { ORIGIN_CONST, ORIGIN_STATE, ORIGIN_HEADER, ORIGIN_OTHER };

static enum bits_origin origin(const struct aval *v, int *access)
{
    enum bits_origin o = ORIGIN_CONST;
    for (int i = 0; i < v->width; i++) {
        struct abit b = v->b[i];
        enum bits_origin bo;
        if (b.kind == AB_ZERO || b.kind == AB_ONE || b.kind == AB_UNDEF)
            continue;
        if (b.kind == AB_STATE) {
            if (o == ORIGIN_STATE && *access != b.access)
                return ORIGIN_OTHER;
            *access = b.access;
            bo = ORIGIN_STATE;
        } else if (b.kind == AB_HDR) {
            bo = ORIGIN_HEADER;
        } else {
            return ORIGIN_OTHER;
        }
        if (o != ORIGIN_CONST && o != bo)
            return ORIGIN_OTHER;
        o = bo;
    }
    return o;
}

static void append_parts(struct ir_key *dst, const struct ir_key *src)
{
    for (int i = 0; i < src->count && dst->count < IR_KEY_MAX_PARTS; i++)
        dst->parts[dst->count++] = src->parts[i];
}

/* icmp eq/ne between a value read from state and packet header bits: a guard
 * on the access that read it (the NAT's stored remote host == packet source). */
/* True when an i1 value decides what the NF does: a conditional branch, the
 * choice of a select, or the verdict returned, directly or through
 * and/or/xor of conditions and extensions (the `a != x || b != y` of a guard,
 * or `return r->owner == ip->src ? 1 : -1`). A comparison whose result is only
 * stored or counted is not a guard. */
static bool decides_branch(LLVMValueRef v, int depth)
{
    if (depth > 6)
        return false;
    for (LLVMUseRef u = LLVMGetFirstUse(v); u; u = LLVMGetNextUse(u)) {
        LLVMValueRef user = LLVMGetUser(u);
        if (!LLVMIsAInstruction(user))
            continue;
        LLVMOpcode op = LLVMGetInstructionOpcode(user);
        if ((op == LLVMBr && LLVMIsConditional(user)) || op == LLVMRet)
            return true;
        if (op == LLVMSelect && LLVMGetOperand(user, 0) == v)
            return true;
        if ((op == LLVMAnd || op == LLVMOr || op == LLVMXor || op == LLVMSelect ||
             op == LLVMFreeze || op == LLVMZExt || op == LLVMSExt) &&
            decides_branch(user, depth + 1))
            return true;
    }
    return false;
}

static void scan_guard(struct lift *L, LLVMValueRef in)
{
    if (!LLVMIsAICmpInst(in) || !decides_branch(in, 0))
        return;
    LLVMIntPredicate pred = LLVMGetICmpPredicate(in);
    if (pred != LLVMIntEQ && pred != LLVMIntNE)
        return;
    const struct aval *x = lift_eval(L, LLVMGetOperand(in, 0));
    const struct aval *y = lift_eval(L, LLVMGetOperand(in, 1));
    int ka = -1, kb = -1;
    enum bits_origin ox = origin(x, &ka), oy = origin(y, &kb);
    const struct aval *stored, *packet;
    int k;
    if (ox == ORIGIN_STATE && oy == ORIGIN_HEADER) {
        stored = x, packet = y, k = ka;
    } else if (oy == ORIGIN_STATE && ox == ORIGIN_HEADER) {
        stored = y, packet = x, k = kb;
    } else {
        return;
    }
    for (int i = 0; i < stored->width; i++)
        if (stored->b[i].alt1)
            return;     /* read from one of several accesses: no single guard */
    struct ir_key sk, pk;
    lift_bits_to_key(stored->b, stored->width, true, &sk);
    lift_bits_to_key(packet->b, packet->width, true, &pk);
    struct ir_access *a = &L->nf->accesses[k];
    struct ir_guard *g = NULL;
    for (int i = 0; i < a->n_guards; i++)
        if (a->guards[i].from_access == k)
            g = &a->guards[i];
    if (!g) {
        if (a->n_guards >= IR_MAX_GUARDS)
            return;
        g = &a->guards[a->n_guards++];
        memset(g, 0, sizeof *g);
        g->from_access = k;
    }
    if (g->stored.count + sk.count > IR_KEY_MAX_PARTS || g->packet.count + pk.count > IR_KEY_MAX_PARTS)
        return;
    append_parts(&g->stored, &sk);
    append_parts(&g->packet, &pk);
    if (!copies_bits(LLVMGetOperand(in, 0), 0) || !copies_bits(LLVMGetOperand(in, 1), 0))
        g->transformed = true;
    L->guard_cmps = lift_grow(L->guard_cmps, L->n_guard_cmps, sizeof *L->guard_cmps);
    L->guard_cmps[L->n_guard_cmps++] = (struct guard_cmp){in, k};
}

int lift_port(struct lift *L, struct util_error *err)
{
    (void)err;
    /* Pass 1: classify calls; number the state accesses. */
    for (int b = 0; b < L->n_blocks; b++)
        for (LLVMValueRef in = LLVMGetFirstInstruction(L->blocks[b]); in;
             in = LLVMGetNextInstruction(in)) {
            if (!LLVMIsACallInst(in))
                continue;
            const char *name = lift_callee_name(in);
            switch (lift_call_class(in)) {
            case CALL_STATE:
                register_call(L, in);
                break;
            case CALL_UNKNOWN:
                add_issue(L, IR_ISSUE_UNKNOWN_CALL, -1, in,
                          "call to the external function `%s`, which is neither the nf.h API "
                          "nor a known pure function", name);
                break;
            case CALL_DEFINED:
                add_issue(L, IR_ISSUE_UNKNOWN_CALL, -1, in,
                          "call to `%s`, an NF function that could not be inlined "
                          "(recursive?)", name);
                break;
            case CALL_INDIRECT:
                add_issue(L, IR_ISSUE_INDIRECT_CALL, -1, in, "%s",
                          "an indirect call (through a function pointer)");
                break;
            case CALL_ASM:
                add_issue(L, IR_ISSUE_INLINE_ASM, -1, in, "%s", "inline assembly");
                break;
            default:
                break;
            }
        }
    /* Pass 2: keys, related objects; writes; guards. */
    for (int b = 0; b < L->n_blocks; b++)
        for (LLVMValueRef in = LLVMGetFirstInstruction(L->blocks[b]); in;
             in = LLVMGetNextInstruction(in)) {
            int k = LLVMIsACallInst(in) ? lift_access_of_call(L, in) : -1;
            int made = k >= 0 ? (int)(intptr_t)ptrmap_get(&L->call_objects, in, NULL) : 0;
            for (int j = 0; j < made; j++)
                fill_access(L, in, k + j);
            scan_writes(L, in);
            scan_guard(L, in);
        }
    /* Pass 3: what runs only when a guard holds; what the packets reaching
     * each access are. */
    lift_guard_dominance(L);
    lift_packet_facts(L);
    free(L->placed);
    free(L->guard_cmps);
    L->placed = NULL, L->guard_cmps = NULL;
    L->n_placed = L->n_guard_cmps = 0;
    return 0;
}
