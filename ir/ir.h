/*
 * ir.h - lifting an NF's LLVM bitcode into the state accesses it makes per
 * packet (see docs/analysis.md).
 *
 * CONTRACT (used by deps/, rss/, sim/, report/): the header-field vocabulary
 * below. The analysis section further down belongs to ir/ and may grow.
 */
#ifndef RSSKEY_IR_H
#define RSSKEY_IR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "util/util.h"

/* ---- Header fields ------------------------------------------------------ */

/* Fields a state key can be made of. The first nine are the names used in
 * JSON plans ("eth.src", ..., "l4.dport"); the rest describe key parts that
 * are not header fields RSS could hash. */
enum ir_field_id {
    IR_FIELD_ETH_SRC,
    IR_FIELD_ETH_DST,
    IR_FIELD_IPV4_SRC,
    IR_FIELD_IPV4_DST,
    IR_FIELD_IPV6_SRC,
    IR_FIELD_IPV6_DST,
    IR_FIELD_IP_PROTO,
    IR_FIELD_L4_SPORT,
    IR_FIELD_L4_DPORT,
    IR_FIELD_OTHER_HEADER,  /* some other header bytes (e.g. ethertype, TTL) */
    IR_FIELD_INPUT_PORT,    /* pkt->port */
    IR_FIELD_TIME,          /* pkt->time_ns */
    IR_FIELD_STATE,         /* a value read from state */
    IR_FIELD_CONSTANT,      /* a constant (incl. configuration) */
    IR_FIELD_UNKNOWN,       /* anything the analysis could not describe */
    IR_FIELD_COUNT
};

struct ir_field {
    enum ir_field_id id;
    uint8_t prefix;         /* leading bits kept (a /prefix mask); 0 = whole field */
};

/* Width of a field in bits (0 for the non-header kinds). */
unsigned ir_field_bits(enum ir_field_id id);
/* True for the fields a NIC's RSS can hash: IPv4/IPv6 addresses, L4 ports. */
bool ir_field_hashable(enum ir_field_id id);
/* Writes "ipv4.src" or "ipv4.src/24" into buf; returns buf. */
const char *ir_field_format(struct ir_field f, char *buf, unsigned buflen);
/* Parses the form above. Returns 0 on success, -1 if unknown. */
int ir_field_parse(const char *text, struct ir_field *out);


/* ---- Lifted NF (owner: ir/; consumer: deps/) ---------------------------- */

#define IR_NAME_MAX 64
#define IR_KEY_MAX_PARTS 16
#define IR_MAX_GUARDS 4

enum ir_object_kind {
    IR_OBJ_MAP, IR_OBJ_VECTOR, IR_OBJ_ALLOC, IR_OBJ_SKETCH, IR_OBJ_CHASH, IR_OBJ_COUNTER
};

/* Every state API call of include/rsskey/nf.h. */
enum ir_api {
    IR_API_MAP_GET, IR_API_MAP_PUT, IR_API_MAP_ERASE,
    IR_API_VECTOR_READ, IR_API_VECTOR_WRITE,
    IR_API_ALLOC_NEW, IR_API_ALLOC_REFRESH, IR_API_ALLOC_IS_ALLOCATED, IR_API_ALLOC_FREE,
    IR_API_ALLOC_EXPIRE,
    IR_API_SKETCH_ADD, IR_API_SKETCH_ESTIMATE, IR_API_SKETCH_RESET,
    IR_API_CHASH_LOOKUP,
    IR_API_COUNTER_ADD, IR_API_COUNTER_READ,
    /* nf_tsketch (a time-stamped sketch: an IR_OBJ_SKETCH object) */
    IR_API_TSKETCH_ADD, IR_API_TSKETCH_TOUCH, IR_API_TSKETCH_ESTIMATE, IR_API_TSKETCH_EXPIRE
};

/* One part of a key or index, in the order the key's bytes lay it out. */
struct ir_key_part {
    struct ir_field field;
    int from_access;        /* IR_FIELD_STATE: index of the access whose result
                               this is; -1 otherwise */
    uint8_t layer;          /* IR_FIELD_OTHER_HEADER: 2 = L2, 3 = L3, 4 = L4 */
    uint16_t offset;        /* IR_FIELD_OTHER_HEADER: byte offset in that header */
    uint16_t bits;          /* width of this part in the key, in bits */
    /* Added by ir/ (fits in what was padding): an IR_FIELD_UNKNOWN part whose
     * bits were computed from header bits by an operation that does not keep
     * them (an addition's carries, a multiplication, a division, ...) says
     * where: 1 + an index into ir_nf.derivations. 0 = none (not computed from
     * header bits, or not known). */
    uint16_t derived;
    int64_t constant;       /* IR_FIELD_CONSTANT: its value (0 when the constant
                               is a configuration value read from a global) */
    /* Added by ir/: IR_FIELD_STATE parts also set `offset` to the byte offset
     * of the part inside the record / value read by from_access. In a vector
     * or allocator index, the first header part's (a field or other header
     * bytes) `constant` is the constant the index adds to the header bits
     * (ntohs(dport) - 1000: -1000; 0 when what it adds is a configuration
     * value); ir describes such an index by
     * the field only when equal indexes mean equal fields (docs/analysis.md,
     * "Which operations keep field bits, and why"). */
};

struct ir_key {
    int count;
    struct ir_key_part parts[IR_KEY_MAX_PARTS];
};

/* A check of a value read from state against packet fields that decides
 * whether the access's result is used (the NAT's "stored remote host ==
 * packet source"). stored[i] is compared with packet[i]. */
struct ir_guard {
    int from_access;        /* the access whose result holds the stored value */
    struct ir_key stored;
    struct ir_key packet;
    /* Added by ir/: a compared value passes through arithmetic (add, sub, mul,
     * xor, div, rem). The parts still name the bits it is made of, but the
     * value need not equal them (src ^ 1 is reported as src). */
    bool transformed;
};

struct ir_location {
    char file[128];         /* "" when there is no debug info */
    int line;               /* 0 when unknown */
    char function[IR_NAME_MAX];
};

/* Added by ir/: where header bits stopped being bits of a field: the field
 * they came from and the instruction that mixed them (ir_key_part.derived). */
struct ir_derivation {
    struct ir_field field;  /* the header field (prefix 0); IR_FIELD_OTHER_HEADER:
                               the header byte at layer/offset */
    uint8_t layer;          /* IR_FIELD_OTHER_HEADER: 2 = L2, 3 = L3, 4 = L4 */
    uint16_t offset;        /* IR_FIELD_OTHER_HEADER: byte offset in that header */
    struct ir_field also;   /* a second field mixed in (src ^ dst); IR_FIELD_UNKNOWN
                               when none, IR_FIELD_OTHER_HEADER: other header bytes */
    char op[48];            /* what mixed them: "a multiplication", ... */
    struct ir_location where;   /* that instruction's source line */
};

struct ir_object {
    char name[IR_NAME_MAX];
    enum ir_object_kind kind;
    uint32_t key_size;      /* map, sketch */
    uint32_t record_size;   /* vector */
    uint32_t capacity;      /* map, vector, alloc; chash: backends */
    /* Added by ir/ (0 when not a constant): */
    uint32_t width;         /* sketch: counters per row; chash: table slots */
    uint32_t depth;         /* sketch: rows */
    struct ir_location created;
};

struct ir_access {
    int object;             /* index into ir_nf.objects */
    enum ir_api api;
    int port;               /* the input port whose specialisation reaches it */
    struct ir_key key;      /* key (map, sketch, chash) or index (vector, alloc) */
    int related[2];         /* expire: map, keys vector; chash: alive allocator; else -1 */
    int n_guards;
    struct ir_guard guards[IR_MAX_GUARDS];
    struct ir_location where;
    /* Added by ir/: the index of an access on the same port whose guard holds
     * whenever this access runs (its block is reached only through the
     * "equal" outcome of every comparison of that guard), -1 when none. */
    int guarded_by;
    /* Added by ir/: what every packet reaching this access is proven to be
     * (IR_PKT_* bits, from checks that dominate it; 0 = nothing proven). */
    uint8_t packets;
};

/* ir_access.packets. A first fragment carries its L4 ports (nf_l4 returns
 * them) but NICs hash every fragment on its addresses only, so deps/ lets L4
 * fields key sharded state only where the packet is proven not a fragment. */
#define IR_PKT_IPV4 0x01            /* an IPv4 packet: nf_ipv4() checked non-NULL */
#define IR_PKT_IPV6 0x02            /* an IPv6 packet: nf_ipv6() checked non-NULL */
#define IR_PKT_NOT_FRAGMENT 0x04    /* not a fragment: the IPv4 MF flag checked 0, or
                                       the IPv6 next header checked TCP or UDP */

/* A packet byte range nf_process writes, and what the written value is made of
 * (the NAT writes the allocated index into l4.sport). */
struct ir_header_write {
    int port;
    struct ir_field field;  /* IR_FIELD_OTHER_HEADER when the bytes are not one
                               whole field of the vocabulary */
    struct ir_key value;
    struct ir_location where;
    /* Added by ir/: the exact bytes written. */
    uint8_t layer;          /* 2 = L2, 3 = L3, 4 = L4 */
    uint16_t offset;        /* first byte written, in that header */
    uint16_t bits;          /* bytes written * 8 */
    int guarded_by;         /* as ir_access.guarded_by; -1 when none */
};

/* Added by ir/: bytes nf_process stores into a record nf_vector_write
 * returned (stores, memcpy/memmove, memset through the pointer plus a
 * constant offset), and what the stored value is made of: the NAT writes
 * ipv4.dst (port 0) into nat_flows at offset 4. `value` lists the parts in
 * byte order starting at `offset` (a part of k bits covers k/8 bytes). One
 * store may give several entries (one per alternative of its value). */
struct ir_record_write {
    int object;             /* the vector */
    int port;
    int access;             /* the nf_vector_write access that returned the pointer */
    struct ir_key index;    /* that access's index */
    uint16_t offset;        /* first byte written in the record */
    uint16_t bits;          /* bytes written * 8; 0 when not known */
    bool offset_unknown;    /* the offset (or, with bits 0, the length) is not a
                               constant: the write may cover any byte */
    struct ir_key value;
    bool transformed;       /* as ir_guard.transformed: the stored value is
                               computed from `value`'s parts, not a copy */
    struct ir_location where;
    int guarded_by;         /* as ir_access.guarded_by; -1 when none */
};

/* Something the analysis does not understand; deps/ makes the touched state
 * shared because of it. object = -1 when it could touch any object. */
enum ir_issue_kind {
    IR_ISSUE_UNKNOWN_CALL, IR_ISSUE_INDIRECT_CALL, IR_ISSUE_INLINE_ASM,
    IR_ISSUE_GLOBAL_WRITE, IR_ISSUE_BORROW_WRITE, IR_ISSUE_UNKNOWN_OBJECT,
    IR_ISSUE_API_MISUSE
};

struct ir_issue {
    enum ir_issue_kind kind;
    int object;
    int port;
    char detail[256];
    struct ir_location where;
};

/* A configuration value the analysis assumed: nf_config(name, default)
 * read as the value given (--config) or its default. */
#define IR_MAX_CONFIG 32
#define IR_CONFIG_NAME_MAX 48
struct ir_config_value {
    char name[IR_CONFIG_NAME_MAX];
    uint64_t value;
    bool from_user;         /* given with --config, not the NF's default */
    bool affects_plan;      /* nf_process depends on it (read there, or through a
                               global nf_init set from it): the plan holds only
                               for this value. Else it only sizes objects. */
};

/* Owner: ir_analyze_file fills it; the caller frees it with ir_nf_free. */
struct ir_nf {
    char path[256];
    int n_ports;
    /* Added by ir/ (config.c): the configuration the analysis is valid for. */
    int n_config;
    struct ir_config_value config[IR_MAX_CONFIG];
    int n_objects;
    struct ir_object *objects;
    int n_accesses;
    struct ir_access *accesses;
    int n_writes;
    struct ir_header_write *writes;
    int n_issues;
    struct ir_issue *issues;
    /* Added by ir/: writes into vector records. */
    int n_record_writes;
    struct ir_record_write *record_writes;
    /* Added by ir/: where header bits were mixed by arithmetic (what key
     * parts' `derived` refers to). */
    int n_derivations;
    struct ir_derivation *derivations;
};

struct ir_options {
    int ports;              /* 0 = the NF's nf_config("ports", N) default, else 2 */
    /* Values to analyse with instead of nf_config defaults (--config). */
    int n_config;
    const struct ir_config_value *config;
    /* Added by ir/: LLVM's bitcode reader trusts its input and some corrupt
     * files crash it, so by default the analysis runs in a short-lived child
     * process that sends the result back (a crash becomes an error). true =
     * run in this process (debugging). */
    bool in_process;
};

/* Loads bitcode, normalises a copy, specialises nf_process per input port and
 * lifts every state access (in a child process unless opts->in_process; opts
 * may be NULL). Returns 0, or a UTIL_EXIT_* code with err set
 * (not bitcode, too new for LLVM 19, no nf_process, object created outside
 * nf_init, API misuse, ...). */
int ir_analyze_file(const char *bitcode_path, const struct ir_options *opts,
                    struct ir_nf *out, struct util_error *err);
void ir_nf_free(struct ir_nf *nf);
const char *ir_api_name(enum ir_api api);

/* Added by ir/ (print.c): names and dumps of a lifted NF. */
const char *ir_object_kind_name(enum ir_object_kind k);
const char *ir_issue_kind_name(enum ir_issue_kind k);
/* "ipv4.src", "ipv4.src/24", "l4.dport-1000" (index offset), "L3[8]:8" (other
 * header bytes; "L3[8]:8+16" with an index offset), "state#2+4:32" (access 2,
 * record offset 4), "const(0):24", "unknown:32". */
const char *ir_key_part_format(const struct ir_key_part *p, char *buf, unsigned len);
void ir_nf_write_text(const struct ir_nf *nf, FILE *out);
/* Writes members "ports", "objects", "accesses", "header_writes", "issues",
 * "record_writes" into the JSON object open in w. Accesses (key), header and
 * record writes (value) have a "derived" array: for each unknown part
 * computed from header bits, {"part", "field", "also" (a second field or
 * null), "op", "file", "line"}; the text form appends "[from FIELD: OP at
 * FILE:LINE]" to such a part. */
void ir_nf_write_json(const struct ir_nf *nf, struct util_json *w);

#endif /* RSSKEY_IR_H */
