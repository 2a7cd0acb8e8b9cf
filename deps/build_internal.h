/*
 * build_internal.h - PRIVATE to deps/: what the files that build a plan
 * share (keys.c, columns.c, merge.c, build.c). Not a public header; other
 * modules include deps/deps.h.
 *
 * keys.c     helpers, groups of objects (union-find), each access's key
 *            resolved into packet terms, per-group facts, ir issues
 * columns.c  the fields one group can be sharded by, port by port (links
 *            across ports, guards), and its decision
 * merge.c    decisions, and the NF-wide check that sharded groups agree
 * build.c    deps_plan_build: the plan filled from the builder
 */
#ifndef RSSKEY_DEPS_BUILD_INTERNAL_H
#define RSSKEY_DEPS_BUILD_INTERNAL_H

#include "deps/deps.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RKEY_MAX 32         /* resolved parts of one key (after inheritance) */
#define MAX_COLUMNS 16

/* ---- Resolved keys -------------------------------------------------------- */

enum key_class {
    KEY_FREE,       /* no entry chosen by the packet: alloc new/expire, a fresh index */
    KEY_WHOLE,      /* the whole object: counters, sketch reset, constant keys */
    KEY_PARTS       /* an entry chosen by the parts below */
};

/* One part of a key after inheritance: a header field RSS can hash, or
 * something it cannot (described in `what`). */
struct rpart {
    bool hashable;
    struct ir_field field;
    char what[256];
};

struct rkey {
    enum key_class cls;
    int keyspace;           /* object whose key space this is (after inheritance) */
    int count;
    struct rpart parts[RKEY_MAX];
};

/* A candidate sharding column: the field at one key position on each port
 * (position i on port p corresponds to position i on port q). */
struct column {
    bool has[DEPS_MAX_PORTS];
    enum ir_field_id id[DEPS_MAX_PORTS];
    uint8_t prefix;         /* 0 = whole field, else leading bits (coarsest wins) */
};

struct group {
    int root;               /* union-find root object */
    int n_objects;
    bool accessed, written, only_counters;
    bool counter_read;      /* some counter of the group is read per packet */
    bool written_on[DEPS_MAX_PORTS];
    bool keyed_on[DEPS_MAX_PORTS];
    int n_keyed;            /* keyed accesses (priority in the NF-wide merge) */
    int whole_write, whole_read;    /* an access index, or -1 */
    int first_write;        /* an access index, or -1 */
    /* decision */
    bool decided;
    enum deps_decision decision;
    char reason[DEPS_REASON_MAX];
    int n_columns;
    struct column columns[MAX_COLUMNS];
    /* Per port: pairs of fields that trade places between the group's keys
     * (a canonical-order key), and after group_columns, per column, 1 + the
     * column it trades places with on that port (0 = none). */
    int n_swaps[DEPS_MAX_PORTS];
    enum ir_field_id swaps[DEPS_MAX_PORTS][4][2];
    uint8_t twin[MAX_COLUMNS][DEPS_MAX_PORTS];
};

/* Everything the build works on; freed at the end of deps_plan_build. */
struct builder {
    const struct ir_nf *nf;
    struct deps_options opts;
    int n_ports;
    int *parent;            /* union-find over objects */
    int *group_of;          /* object -> index into groups */
    struct group *groups;
    int n_groups;
    struct rkey *keys;      /* per access */
    int *resolving;         /* per access: 0 new, 1 in progress, 2 done */
    bool *index_map;        /* per object: a map an allocator's expire cleans */
    int *group_first;       /* group g's accesses are group_accesses[group_first[g] .. */
    int *group_accesses;    /*   group_first[g + 1] - 1], in access order */
    char **warnings;
    int n_warnings;
};

/* The accepted columns of the NF-wide check. */
struct colset {
    int count;
    struct column cols[MAX_COLUMNS];
};

/* keys.c */
void add_warning(struct builder *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
bool api_indexed(enum ir_api api);
/* An expiry: a whole-object write by time, per core (allocator, tsketch). */
bool api_expires(enum ir_api api);
const char *api_name(enum ir_api api);
enum deps_op api_op(enum ir_api api);
bool api_writes(enum ir_api api);
void text_append(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void apply_issues(struct builder *b);
void build_groups(struct builder *b);
uint8_t coarser(uint8_t a, uint8_t b);
const char *field_text(struct ir_field f, char *buf, size_t size);
void gather_facts(struct builder *b);
int group_of_access(const struct builder *b, int access);
bool index_group_accesses(struct builder *b);
uint8_t normal_prefix(struct ir_field f);
enum deps_object_kind object_kind(enum ir_object_kind k);
const struct rkey *key_resolve(struct builder *b, int i);
void set_text(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool valid_access(const struct ir_nf *nf, int a);
bool valid_object(const struct ir_nf *nf, int o);
bool valid_port(const struct builder *b, int p);
const char *location_text(const struct ir_location *loc, char *buf, size_t size);

/* columns.c */
void access_where(const struct builder *b, int i, char *buf, size_t size);
bool group_columns(struct builder *b, int gi, char *why_sharded, size_t why_size);

/* merge.c */
int covering_column(const struct colset *s, const struct column *c, int n_ports);
bool column_keys_plan(const struct colset *s, const struct group *g, int j, int n_ports);
void decide_group(struct builder *b, int gi, char *why_sharded, size_t why_size);
void merge_groups(struct builder *b, struct colset *final_cols);

#endif /* RSSKEY_DEPS_BUILD_INTERNAL_H */
