/*
 * deps.h - the state-dependency graph of an NF and the per-object plan for
 * running it on many cores (sharded, replicated or shared under locks).
 *
 * CONTRACT (used by rss/, sim/, report/): struct deps_plan and its JSON form.
 * Extend it; do not change the meaning of what is here.
 */
#ifndef RSSKEY_DEPS_H
#define RSSKEY_DEPS_H

#include "ir/ir.h"
#include "util/util.h"

#define DEPS_MAX_PORTS 8
#define DEPS_MAX_KEY_FIELDS 16
#define DEPS_NAME_MAX 64
#define DEPS_REASON_MAX 1024

enum deps_decision { DEPS_SHARDED, DEPS_REPLICATED, DEPS_SHARED };

enum deps_object_kind {
    DEPS_KIND_MAP, DEPS_KIND_VECTOR, DEPS_KIND_ALLOC, DEPS_KIND_SKETCH,
    DEPS_KIND_CHASH, DEPS_KIND_COUNTER
};

/* What an access does to its object. */
enum deps_op {
    DEPS_OP_READ,       /* map get, vector read, is_allocated, estimate, lookup, counter read */
    DEPS_OP_WRITE,      /* map put/erase, vector write, sketch add/reset, counter add */
    DEPS_OP_ALLOCATE,   /* alloc new */
    DEPS_OP_REFRESH,    /* alloc refresh */
    DEPS_OP_FREE,       /* alloc free */
    DEPS_OP_EXPIRE      /* alloc expire (and the map erases it implies) */
};

/* An ordered list of key fields. Position i of one port's key corresponds to
 * position i of another port's key for the same object. */
struct deps_key {
    int count;
    struct ir_field fields[DEPS_MAX_KEY_FIELDS];
    /* 1 + the position field i trades places with on this port, 0 = none.
     * Packets that share an entry agree on such a pair as a set ({src, dst}
     * of a connection key in canonical order), so the port needs a hash that
     * is symmetric in the two: H(.., x, .., y, ..) == H(.., y, .., x, ..). */
    uint8_t swaps_with[DEPS_MAX_KEY_FIELDS];
};

struct deps_access {
    int object;                 /* index into deps_plan.objects */
    enum deps_op op;
    int port;                   /* input port this access is reached from */
    struct deps_key key;        /* fields the key or index is made of */
    char file[128];             /* source location from debug info, "" if none */
    int line;                   /* 0 if unknown */
};

struct deps_object {
    char name[DEPS_NAME_MAX];
    enum deps_object_kind kind;
    int group;                  /* objects partitioned together share a group */
    enum deps_decision decision;
    char reason[DEPS_REASON_MAX];   /* why, in words a person understands */
    /* Sizes from the NF's create call (nf_config defaults included; 0 when
     * not a constant): map/sketch key bytes, vector record bytes, entries of
     * a map/vector/alloc (chash: backends), sketch counters per row or chash
     * table slots, sketch rows. Facts only: sim/ turns them into a layout. */
    uint32_t key_size, record_size, capacity, width, depth;
    /* For sharded objects: the sharding key per port (count 0 when the
     * object is not reached from that port). Packets on ports p and q whose
     * keys agree position by position must meet on one core. */
    struct deps_key ports[DEPS_MAX_PORTS];
};

/* Owner: whoever filled it (deps_plan_build or deps_plan_from_json) calls
 * deps_plan_free. */
/* A configuration value the plan was made for (nf_config read as it). */
#define DEPS_MAX_CONFIG 32
struct deps_config_value {
    char name[48];
    uint64_t value;
    bool from_user;             /* given with --config, not the NF's default */
    bool affects_plan;          /* the plan holds only for this value (ir_config_value) */
};

struct deps_plan {
    char nf[256];               /* source bitcode path or NF name */
    int n_ports;
    int n_config;               /* the configuration the plan holds for */
    struct deps_config_value config[DEPS_MAX_CONFIG];
    int n_objects;
    struct deps_object *objects;
    int n_accesses;
    struct deps_access *accesses;
    int n_warnings;
    char **warnings;
};

void deps_plan_free(struct deps_plan *plan);

/* Writes the plan's members "nf", "input_ports", "config", "objects",
 * "accesses" and "warnings" into the JSON object currently open in w (schema:
 * docs/plan-format.md). Top-level "ports" is left to the caller: plan.json uses
 * it for the per-port RSS configuration. */
void deps_plan_write_json(const struct deps_plan *plan, struct util_json *w);
/* Reads those members back from a parsed object ("input_ports" and "objects"
 * are required). Returns 0, or -1 with err set; on failure plan is empty. */
int deps_plan_read_json(const struct util_jvalue *root, struct deps_plan *plan,
                        struct util_error *err);

/* Same fields in the same order, same prefixes and pairs (field by field: a
 * struct ir_field has padding bytes, so memcmp would read garbage). */
bool deps_key_equal(const struct deps_key *a, const struct deps_key *b);

/* Writes a key as "ipv4.src, l4.dport/8" ("" for an empty key); returns buf. */
const char *deps_key_format(const struct deps_key *key, char *buf, size_t size);

const char *deps_decision_name(enum deps_decision d);
const char *deps_op_name(enum deps_op op);
const char *deps_kind_name(enum deps_object_kind k);

/* ---- Building a plan from the lifted NF (deps/build.c) -------------------- */

struct deps_options {
    int ports;                  /* input ports to plan for; 0 = nf->n_ports */
    /* Counters that nf_process only adds to and never reads become per-core
     * partial sums (sharded, no key) instead of shared. Default true. */
    bool counters_as_partial_sums;
};

/* Options with their defaults. */
void deps_options_default(struct deps_options *opts);

/* Builds the state-dependency graph of nf (groups of objects partitioned
 * together, state-feeds-key edges) and decides, group by group, sharded /
 * replicated / shared (rules: docs/analysis.md). deps_plan.objects[i] is
 * nf->objects[i]; deps_plan.accesses[i] is nf->accesses[i] for i <
 * nf->n_accesses, followed by implied accesses (a chash lookup's read of its
 * whole alive allocator). opts may be NULL. Returns 0, or a UTIL_EXIT_* code
 * with err set (the caller frees out with deps_plan_free in both cases). */
int deps_plan_build(const struct ir_nf *nf, const struct deps_options *opts,
                    struct deps_plan *out, struct util_error *err);

/* Graphviz text of the graph (deps/dot.c): objects as nodes clustered by
 * group and coloured by decision, one node per input port with access edges,
 * dashed state-feeds-key edges, header-write edges. Caller frees; NULL when
 * out of memory. */
char *deps_graph_dot(const struct ir_nf *nf, const struct deps_plan *plan);

/* The plan for a person (deps/text.c): one block per object (name, kind,
 * decision, key per port, reason wrapped to `width` columns), then nf's
 * issues with file:line, then the warnings. nf may be NULL. Caller frees. */
char *deps_plan_format_text(const struct deps_plan *plan, const struct ir_nf *nf, int width);

#endif /* RSSKEY_DEPS_H */
