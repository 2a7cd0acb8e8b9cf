/*
 * lift.h - PRIVATE to ir/: the state the lifting files share. Not a public
 * header; other modules include only ir/ir.h.
 *
 * Files: load.c (read + check + normalise the bitcode), specialise.c (one
 * clone of nf_process per input port), value.c (the abstract domain: bits of
 * SSA values, pointer bases), keymem.c (reaching stores over stack memory,
 * bits -> ir_key), objects.c (nf_init's objects), split.c (keys from one of
 * several sources), calls.c (state calls, writes, issues, guards), guards.c
 * (what runs only when a guard holds), ir.c
 * (ir_analyze_file, the child process), print.c (text and JSON).
 */
#ifndef RSSKEY_IR_LIFT_H
#define RSSKEY_IR_LIFT_H

#include <llvm-c/Core.h>
#include <llvm-c/Target.h>

#include "ir/ir.h"

/* ---- A pointer-keyed hash map (value -> int or pointer) ---------------- */

struct ptrmap {
    void **keys;
    void **vals;
    size_t cap, count;
};

void ptrmap_init(struct ptrmap *m);
void ptrmap_free(struct ptrmap *m);
void *ptrmap_get(const struct ptrmap *m, const void *key, bool *found);
void ptrmap_put(struct ptrmap *m, const void *key, void *val);

/* ---- Abstract bits ------------------------------------------------------- */

/* What one bit of a value (or of a byte in memory) is. */
enum abit_kind {
    AB_ZERO, AB_ONE,
    AB_UNDEF,       /* uninitialised / poison: any value; merges into anything */
    AB_GCONST,      /* a value read from a plain global: constant per run */
    AB_HDR,         /* header bit: layer, pos = byte * 8 + bit (bit 0 = LSB) */
    AB_PORT,        /* pkt->port bit pos */
    AB_TIME,        /* pkt->time_ns bit pos */
    AB_STATE,       /* bit pos of what access `access` returned / points to */
    AB_UNKNOWN      /* access >= 0: computed from header bits by the mixing
                       operation ir_nf.derivations[access] (for the reasons
                       only: every unknown bit means the same to the analysis) */
};

/* Header layers of AB_HDR bits. */
enum {
    LAYER_L2 = 2, LAYER_V4 = 3, LAYER_L4 = 4,
    LAYER_V6 = 6,       /* IPv6 header (reported as layer 3) */
    LAYER_PROTO = 9     /* nf_l4_proto()'s result: ip.proto */
};

#define POS_UNKNOWN 0xFFFF

struct abit {
    uint8_t kind;
    uint8_t layer;
    uint16_t pos;
    int32_t access;
    int32_t alt1;           /* AB_STATE: 1 + another access the bit may come from
                               instead (paths merged); 0 = none */
    bool flipped;           /* AB_HDR/PORT/TIME/STATE: the complement of that bit
                               (x ^ 1). Keys do not care (a flipped bit still
                               names its source), but x and ~x merged on two
                               paths are no function of x alone */
};

#define AVAL_MAX_BITS 256

/* Abstract value: `width` bits, bit 0 the least significant. */
struct aval {
    int width;
    struct abit b[AVAL_MAX_BITS];
};

/* Where a pointer points. */
enum pbase {
    PB_UNKNOWN, PB_NULL, PB_ALLOCA, PB_HDR, PB_STATE, PB_PKT, PB_GLOBAL,
    PB_CYCLE            /* internal to pointer resolution: a phi reached again */
};

struct aptr {
    enum pbase kind;
    LLVMValueRef base;      /* PB_ALLOCA: the alloca; PB_GLOBAL: the global */
    int layer;              /* PB_HDR */
    int access;             /* PB_STATE: the access that returned it */
    bool writable;          /* PB_STATE: from nf_vector_write */
    bool var_offset;        /* offset not a constant */
    int64_t offset;
};

/* ---- The per-port lifting context ------------------------------------------ */

/* A global slot holding an object handle. */
struct handle_slot {
    char global[128];       /* by name: the per-port clones have their own globals */
    int64_t offset;
    int object;
};

struct lift {
    struct ir_nf *nf;
    LLVMModuleRef mod;
    LLVMTargetDataRef td;
    struct handle_slot *slots;
    int n_slots;

    /* Per port (reset by lift_port_begin). */
    int port;
    LLVMValueRef fn;        /* nf_process of this port's clone */
    LLVMValueRef pkt;       /* its argument */
    struct ptrmap calls;    /* call instruction -> access index + 1 */
    struct ptrmap call_objects; /* call instruction -> how many accesses it made */
    struct ptrmap values;   /* value -> struct aval * (cache) */
    struct ptrmap inprogress;
    struct ptrmap block_index;  /* basic block (as value) -> index + 1 */
    /* While describing a key "assuming condition C is true/false": selects on C
     * pick one arm, min/max over C's operands pick one, and stack reads follow
     * only the branch edges C allows. NULL = no assumption. */
    LLVMValueRef assume_cond;
    int assume_value;
    /* Or "block assume_join is entered from assume_from" (a join not on a
     * cycle: an execution enters it at most once, from one predecessor, or
     * never): its other incoming edges are cut and its phis take
     * assume_from's value. NULL = no such assumption. */
    LLVMBasicBlockRef assume_join, assume_from;
    bool *reachable;        /* per block, under the assumption (NULL: all) */
    int n_blocks;
    LLVMBasicBlockRef *blocks;
    int *pred_start, *preds;    /* predecessors of block i: preds[pred_start[i]..pred_start[i+1]) */
    /* Filled by calls.c while lifting one port, for guard dominance
     * (guards.c): the instruction of every access, header write and record
     * write made on this port, and the comparisons each guard is made of. */
    struct placed *placed;
    int n_placed;
    struct guard_cmp *guard_cmps;
    int n_guard_cmps;
};

/* An output of the lifting and the instruction that made it. */
enum placed_kind { PLACED_ACCESS, PLACED_HEADER_WRITE, PLACED_RECORD_WRITE };
struct placed {
    enum placed_kind kind;
    int index;              /* into ir_nf.accesses / writes / record_writes */
    LLVMValueRef inst;
};

/* One icmp eq/ne that is (part of) the guard on access `access`. */
struct guard_cmp {
    LLVMValueRef icmp;
    int access;
};

/* load.c */
int lift_load(const char *path, LLVMContextRef ctx, LLVMModuleRef *out, struct util_error *err);
int lift_check_entry_points(LLVMModuleRef mod, const char *path, struct util_error *err);
int lift_normalise(LLVMModuleRef mod, struct util_error *err);
int lift_run_passes(LLVMModuleRef mod, const char *passes, struct util_error *err);

/* specialise.c */
LLVMModuleRef lift_specialise(LLVMModuleRef normalised, int port, struct util_error *err);

/* value.c */
const struct aval *lift_eval(struct lift *L, LLVMValueRef v);
struct aptr lift_resolve_ptr(struct lift *L, LLVMValueRef p);
void aval_set_unknown(struct aval *a, int width);
/* Constant byte offset a GEP (instruction or constant expression) adds; false if
 * an index is not constant. */
bool lift_gep_const_offset(LLVMTargetDataRef td, LLVMValueRef gep, int64_t *off);
int lift_type_bits(struct lift *L, LLVMTypeRef t);
bool lift_const_int(LLVMValueRef v, int64_t *out);
void lift_port_begin(struct lift *L, LLVMValueRef fn, int port);
void lift_port_end(struct lift *L);
int lift_access_of_call(struct lift *L, LLVMValueRef call);  /* -1 if not a state call */

/* keymem.c */
void lift_ptr_bytes(struct lift *L, LLVMValueRef at, LLVMValueRef ptr, int nbytes,
                    struct abit *out);
void lift_bits_to_key(const struct abit *bits, int nbits, bool integer, struct ir_key *key);
/* Like lift_bits_to_key, but a bit that may come from either of two state
 * accesses gives two keys, one per access. Returns 1 or 2. */
struct abit lift_merge_bit(struct abit a, struct abit b);
/* Sets (cond != NULL) or clears the assumption "cond == value" and the blocks
 * reachable under it. */
void lift_assume(struct lift *L, LLVMValueRef cond, int value);
/* Sets the assumption "join is entered from `from` (or not at all)" and the
 * blocks reachable under it; lift_assume(L, NULL, 0) clears it. */
void lift_assume_entry(struct lift *L, LLVMBasicBlockRef join, LLVMBasicBlockRef from);
/* Can control flow take the edge from -> to under the current assumption
 * (from reachable, the edge not cut)? Always true without one. */
bool lift_edge_possible(struct lift *L, LLVMBasicBlockRef from, LLVMBasicBlockRef to);
int lift_bits_to_keys(const struct abit *bits, int nbits, bool integer, struct ir_key keys[2]);
enum ir_field_id lift_header_field(int layer, int byte, int *field_start);

/* objects.c */
bool lift_is_create(const char *name);
bool lift_global_slot(LLVMTargetDataRef td, LLVMValueRef p, char *name, size_t len,
                      int64_t *offset);

/* split.c: alternatives of a value (split phis) and of a key (split
 * conditions). alts[] holds MAX_ALTERNATIVES, keys[] MAX_KEYS. */
#define MAX_ALTERNATIVES 4
#define MAX_KEYS (2 * MAX_ALTERNATIVES)
int lift_value_alternatives(struct lift *L, LLVMValueRef v, struct aval *alts);
int lift_access_keys(struct lift *L, bool memory, LLVMValueRef call, LLVMValueRef ptr,
                     uint32_t size, LLVMValueRef value, struct ir_key *keys);

/* calls.c */
void *lift_grow(void *array, int count, size_t size);   /* doubles at powers of two */
const char *lift_where_text(const struct ir_location *loc, char *buf, size_t len);
enum call_class {
    CALL_STATE,         /* a state API call (nf_map_get, ...) */
    CALL_CREATE,        /* nf_*_create */
    CALL_ACCESSOR,      /* nf_eth, nf_ipv4, ... */
    CALL_HARMLESS,      /* nf_config, nf_l4_proto, nf_checksums_update, pure libc */
    CALL_INTRINSIC,     /* llvm.* */
    CALL_DEFINED,       /* an NF function left after inlining (recursion) */
    CALL_UNKNOWN,       /* another external function */
    CALL_INDIRECT,
    CALL_ASM
};
enum call_class lift_call_class(LLVMValueRef call);
void lift_mem_read(struct lift *L, LLVMValueRef at, struct aptr p, int nbytes, struct abit *out);
int lift_objects(struct lift *L, LLVMValueRef init_fn, struct util_error *err);
int lift_config_ports(LLVMValueRef init_fn);
/* The constant string a name argument points to (len without the NUL), or NULL. */
const char *lift_constant_string(LLVMValueRef v, size_t *len);
/* config.c: nf_config calls and the globals nf_init sets from them become
 * constants (the given or default values, recorded in nf->config). */
int lift_bind_config(LLVMModuleRef mod, const struct ir_options *opts, struct ir_nf *nf,
                     struct util_error *err);
int lift_port(struct lift *L, struct util_error *err);
void lift_location(LLVMValueRef inst, struct ir_location *loc);
const char *lift_callee_name(LLVMValueRef call);

/* guards.c: sets guarded_by on this port's accesses, header writes and record
 * writes (from L->placed and L->guard_cmps). */
void lift_guard_dominance(struct lift *L);
/* Sets each access's `packets` facts (IR_PKT_*) from the checks dominating it. */
void lift_packet_facts(struct lift *L);

#endif /* RSSKEY_IR_LIFT_H */
