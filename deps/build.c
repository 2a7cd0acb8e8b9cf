/*
 * build.c - deps_plan_build: from the lifted NF (struct ir_nf) to the
 * per-object plan (struct deps_plan). keys.c groups the objects and resolves
 * keys, columns.c and merge.c decide; this file checks the input, runs the
 * steps and fills the plan with its reasons and warnings. The rules and why
 * each is sound are in docs/analysis.md ("Decision rules", "Soundness").
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deps/build_internal.h"

/* ---- Filling the plan -------------------------------------------------------- */

static void fill_accesses(struct builder *b, struct deps_plan *out)
{
    const struct ir_nf *nf = b->nf;
    int n = 0;
    for (int i = 0; i < nf->n_accesses; i++) {
        const struct ir_access *a = &nf->accesses[i];
        struct deps_access *d = &out->accesses[n++];
        d->object = valid_object(nf, a->object) ? a->object : -1;
        d->op = api_op(a->api);
        d->port = a->port;
        set_text(d->file, sizeof d->file, "%s", a->where.file);
        d->line = a->where.line;
        const struct rkey *key = &b->keys[i];
        d->key.count = 0;
        if (key->cls != KEY_PARTS)
            continue;
        for (int k = 0; k < key->count && d->key.count < DEPS_MAX_KEY_FIELDS; k++)
            d->key.fields[d->key.count++] = key->parts[k].field;
    }
    for (int i = 0; i < nf->n_accesses; i++) {
        const struct ir_access *a = &nf->accesses[i];
        if (a->api != IR_API_CHASH_LOOKUP || !valid_object(nf, a->related[0]))
            continue;
        struct deps_access *d = &out->accesses[n++];
        d->object = a->related[0];
        d->op = DEPS_OP_READ;
        d->port = a->port;
        d->key.count = 0;
        set_text(d->file, sizeof d->file, "%s", a->where.file);
        d->line = a->where.line;
    }
    out->n_accesses = n;
}

static void fill_objects(struct builder *b, const struct colset *final_cols,
                         struct deps_plan *out)
{
    const struct ir_nf *nf = b->nf;
    int *number = malloc((size_t)(b->n_groups ? b->n_groups : 1) * sizeof *number);
    if (!number)
        return;
    for (int gi = 0; gi < b->n_groups; gi++)
        number[gi] = -1;
    int next = 0;
    for (int o = 0; o < nf->n_objects; o++) {
        struct deps_object *d = &out->objects[o];
        int gi = b->group_of[o];
        const struct group *g = &b->groups[gi];
        if (number[gi] < 0)
            number[gi] = next++;
        set_text(d->name, sizeof d->name, "%s", nf->objects[o].name);
        d->kind = object_kind(nf->objects[o].kind);
        d->key_size = nf->objects[o].key_size;
        d->record_size = nf->objects[o].record_size;
        d->capacity = nf->objects[o].capacity;
        d->width = nf->objects[o].width;
        d->depth = nf->objects[o].depth;
        d->group = number[gi];
        d->decision = g->decision;
        set_text(d->reason, sizeof d->reason, "%s", g->reason);
        if (g->decision != DEPS_SHARDED)
            continue;
        bool reached[DEPS_MAX_PORTS] = {false};
        for (int i = 0; i < nf->n_accesses; i++)
            if (nf->accesses[i].object == o && valid_port(b, nf->accesses[i].port))
                reached[nf->accesses[i].port] = true;
        for (int p = 0; p < b->n_ports; p++) {
            struct deps_key *key = &d->ports[p];
            key->count = 0;
            if (!reached[p])
                continue;
            int position[MAX_COLUMNS];
            for (int j = 0; j < MAX_COLUMNS; j++)
                position[j] = -1;
            for (int j = 0; j < g->n_columns && key->count < DEPS_MAX_KEY_FIELDS; j++) {
                if (!g->columns[j].has[p] ||
                    !column_keys_plan(final_cols, g, j, b->n_ports))
                    continue;
                int at = covering_column(final_cols, &g->columns[j], b->n_ports);
                struct ir_field f = {g->columns[j].id[p], final_cols->cols[at].prefix};
                f.prefix = normal_prefix(f);
                position[j] = key->count;
                key->fields[key->count++] = f;
            }
            /* Twin columns: a pair that trades places on this port. */
            for (int j = 0; j < g->n_columns; j++) {
                int t = g->twin[j][p] - 1;
                if (t < 0 || position[j] < 0 || position[t] < 0)
                    continue;
                key->swaps_with[position[j]] = (uint8_t)(position[t] + 1);
                /* Both halves keep the same leading bits (0 = the whole field). */
                struct ir_field *x = &key->fields[position[j]], *y = &key->fields[position[t]];
                if (x->prefix != y->prefix)
                    x->prefix = y->prefix = coarser(x->prefix, y->prefix);
            }
        }
    }
    free(number);
}

/* Sharded reasons are written last, from the final keys. */
static void explain_sharded(struct builder *b, int gi, const struct deps_plan *out,
                            const struct colset *final_cols, const char *why)
{
    struct group *g = &b->groups[gi];
    const struct ir_nf *nf = b->nf;
    char f[48];
    if (g->decision != DEPS_SHARDED || g->reason[0])
        return;
    char key[300] = "";
    bool cross_port = false, any = false;
    for (int p = 0; p < b->n_ports; p++) {
        /* the group's key on p: the widest of its objects' keys */
        const struct deps_key *best = NULL;
        for (int o = 0; o < nf->n_objects; o++)
            if (b->group_of[o] == gi && out->objects[o].ports[p].count > 0 &&
                (!best || out->objects[o].ports[p].count > best->count))
                best = &out->objects[o].ports[p];
        if (!best)
            continue;
        text_append(key, sizeof key, "%sport %d (", any ? ", " : "", p);
        for (int k = 0; k < best->count; k++)
            text_append(key, sizeof key, "%s%s", k ? ", " : "",
                   field_text(best->fields[k], f, sizeof f));
        text_append(key, sizeof key, ")");
        if (any)
            cross_port = true;
        any = true;
    }
    if (!any) {
        set_text(g->reason, sizeof g->reason,
                 "written per packet but never chosen by a packet field (fresh allocations, "
                 "expiry): each core keeps its own copy; any key will do");
        return;
    }
    bool sketch = false;
    for (int o = 0; o < nf->n_objects; o++)
        if (b->group_of[o] == gi && nf->objects[o].kind == IR_OBJ_SKETCH)
            sketch = true;
    set_text(g->reason, sizeof g->reason,
             "sharded by %s: packets that share an entry agree on these fields, so RSS "
             "sends them to one core; one copy per core, no lock.%s%s%s%s",
             key,
             cross_port ? " Field i on one port corresponds to field i on the other." : "",
             why[0] ? " " : "", why,
             sketch ? " A per-core sketch over-counts only from collisions on its own core: "
                      "estimates may be lower than sequentially, never below the true count."
                    : "");
    /* Say which ports need a hash symmetric in a pair of fields. */
    char sym_ports[64] = "", pair[100] = "";
    int n_sym = 0;
    for (int p = 0; p < b->n_ports; p++) {
        bool here = false;
        for (int o = 0; o < nf->n_objects && !here; o++) {
            const struct deps_key *k = &out->objects[o].ports[p];
            for (int i = 0; b->group_of[o] == gi && i < k->count && !here; i++) {
                int t = k->swaps_with[i] - 1;
                if (t <= i)
                    continue;
                char f2[48];
                if (!pair[0])
                    set_text(pair, sizeof pair, "%s and %s",
                             field_text(k->fields[i], f, sizeof f),
                             field_text(k->fields[t], f2, sizeof f2));
                here = true;
            }
        }
        if (here)
            text_append(sym_ports, sizeof sym_ports, "%s%d", n_sym++ ? " and " : "", p);
    }
    if (n_sym)
        text_append(g->reason, sizeof g->reason, " On port%s %s the NF puts %s in one order, "
                    "whichever comes first in the packet (a canonical key), so packets of both "
                    "directions share an entry and agree on the pair only as a set: the hash "
                    "there is solved to be symmetric in them (swapping them keeps the core), "
                    "and the checker verifies it.", n_sym > 1 ? "s" : "", sym_ports, pair);
    /* Say which ports the key leaves out because fragments reach them. */
    for (int xi = b->group_first[gi]; xi < b->group_first[gi + 1]; xi++) {
        const struct rkey *k = &b->keys[b->group_accesses[xi]];
        for (int i = 0; k->cls == KEY_PARTS && i < k->count; i++) {
            const struct rpart *rp = &k->parts[i];
            if (rp->hashable || (rp->field.id != IR_FIELD_L4_SPORT &&
                                 rp->field.id != IR_FIELD_L4_DPORT))
                continue;
            char where[200];
            access_where(b, b->group_accesses[xi], where, sizeof where);
            text_append(g->reason, sizeof g->reason, " Not by L4 ports: %s at %s; drop IPv4 "
                        "fragments (test the MF flag and offset) before reading the ports to "
                        "shard by them.", rp->what, where);
            return;
        }
    }
    /* Say when the NF-wide check made the key coarser than the group's own. */
    for (int j = 0; j < g->n_columns; j++) {
        int at = covering_column(final_cols, &g->columns[j], b->n_ports);
        if (at < 0 || final_cols->cols[at].prefix == g->columns[j].prefix)
            continue;
        for (int p = 0; p < b->n_ports; p++) {
            if (!g->columns[j].has[p])
                continue;
            struct ir_field own = {g->columns[j].id[p], g->columns[j].prefix};
            text_append(g->reason, sizeof g->reason, " Its own key has %s; coarsened to agree with "
                   "the other sharded state.", field_text(own, f, sizeof f));
            break;
        }
        break;
    }
}

static void prefix_warnings(struct builder *b, const struct deps_plan *out)
{
    char f[48];
    for (int o = 0; o < out->n_objects; o++) {
        const struct deps_object *d = &out->objects[o];
        if (d->decision != DEPS_SHARDED)
            continue;
        for (int p = 0; p < out->n_ports; p++)
            for (int k = 0; k < d->ports[p].count; k++) {
                struct ir_field fl = d->ports[p].fields[k];
                if (fl.prefix == 0)
                    continue;
                add_warning(b, "%s is sharded by %s on port %d: only the top %u bits of the "
                               "field decide the core, so the load balance is poor when "
                               "traffic comes from few /%u networks",
                            d->name, field_text(fl, f, sizeof f), p, fl.prefix, fl.prefix);
                return;     /* once per NF is enough */
            }
    }
}

static void mixed_warning(struct builder *b, const struct deps_plan *out)
{
    int sharded = 0, shared = 0;
    char names[512] = "";
    for (int o = 0; o < out->n_objects; o++) {
        if (out->objects[o].decision == DEPS_SHARDED)
            sharded++;
        if (out->objects[o].decision == DEPS_SHARED) {
            shared++;
            text_append(names, sizeof names, "%s%s", names[0] ? ", " : "", out->objects[o].name);
        }
    }
    for (int i = 0; i < b->n_warnings; i++)
        if (strncmp(b->warnings[i], "mixed plan", 10) == 0)
            return;     /* the NF-wide check already explained it */
    if (sharded > 0 && shared > 0)
        add_warning(b, "mixed plan: %d object(s) sharded, %d shared under per-core read locks "
                       "(%s)", sharded, shared, names);
}

void deps_options_default(struct deps_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->counters_as_partial_sums = true;
}

static int check_input(const struct ir_nf *nf, int n_ports, struct util_error *err)
{
    if (n_ports < 1 || n_ports > DEPS_MAX_PORTS) {
        util_error_set(err, "%s: %d input ports; rsskey plans for 1 to %d ports "
                            "(use --ports N)", nf->path, n_ports, DEPS_MAX_PORTS);
        return UTIL_EXIT_USAGE;
    }
    if (nf->n_objects < 0 || nf->n_accesses < 0 || nf->n_writes < 0 || nf->n_issues < 0 ||
        (nf->n_objects > 0 && !nf->objects) || (nf->n_accesses > 0 && !nf->accesses) ||
        (nf->n_writes > 0 && !nf->writes) || (nf->n_issues > 0 && !nf->issues)) {
        util_error_set(err, "%s: the lifted NF is inconsistent (negative counts or missing "
                            "arrays); this is a bug in ir/", nf->path);
        return UTIL_EXIT_INPUT;
    }
    for (int i = 0; i < nf->n_accesses; i++)
        if (!valid_object(nf, nf->accesses[i].object)) {
            util_error_set(err, "%s: access %d names object %d of %d; this is a bug in ir/",
                           nf->path, i, nf->accesses[i].object, nf->n_objects);
            return UTIL_EXIT_INPUT;
        }
    return 0;
}

int deps_plan_build(const struct ir_nf *nf, const struct deps_options *opts,
                    struct deps_plan *out, struct util_error *err)
{
    memset(out, 0, sizeof *out);
    struct builder b;
    memset(&b, 0, sizeof b);
    b.nf = nf;
    if (opts)
        b.opts = *opts;
    else
        deps_options_default(&b.opts);
    b.n_ports = b.opts.ports > 0 ? b.opts.ports : nf->n_ports;
    int rc = check_input(nf, b.n_ports, err);
    if (rc != 0)
        return rc;

    size_t no = (size_t)(nf->n_objects ? nf->n_objects : 1);
    size_t na = (size_t)(nf->n_accesses ? nf->n_accesses : 1);
    size_t n_chash = 0;
    for (int i = 0; i < nf->n_accesses; i++)
        if (nf->accesses[i].api == IR_API_CHASH_LOOKUP)
            n_chash++;
    b.parent = calloc(no, sizeof *b.parent);
    b.group_of = calloc(no, sizeof *b.group_of);
    b.groups = calloc(no, sizeof *b.groups);
    b.keys = calloc(na, sizeof *b.keys);
    b.resolving = calloc(na, sizeof *b.resolving);
    out->objects = calloc(no, sizeof *out->objects);
    out->accesses = calloc(na + n_chash, sizeof *out->accesses);
    struct colset *final_cols = calloc(1, sizeof *final_cols);
    char (*why)[DEPS_REASON_MAX] = calloc(no, sizeof *why);
    rc = 0;
    if (!b.parent || !b.group_of || !b.groups || !b.keys || !b.resolving || !out->objects ||
        !out->accesses || !final_cols || !why) {
        util_error_set(err, "out of memory building the plan for %s", nf->path);
        rc = UTIL_EXIT_FAILURE;
        goto done;
    }
    set_text(out->nf, sizeof out->nf, "%s", nf->path);
    for (int i = 0; i < nf->n_config && i < DEPS_MAX_CONFIG; i++) {
        struct deps_config_value *c = &out->config[out->n_config++];
        set_text(c->name, sizeof c->name, "%s", nf->config[i].name);
        c->value = nf->config[i].value;
        c->from_user = nf->config[i].from_user;
        c->affects_plan = nf->config[i].affects_plan;
    }
    out->n_ports = b.n_ports;
    out->n_objects = nf->n_objects;

    b.index_map = calloc(no, sizeof *b.index_map);
    if (!b.index_map) {
        util_error_set(err, "out of memory building the plan for %s", nf->path);
        rc = UTIL_EXIT_FAILURE;
        goto done;
    }
    for (int i = 0; i < nf->n_accesses; i++) {
        const struct ir_access *a = &nf->accesses[i];
        if (a->api == IR_API_ALLOC_EXPIRE && valid_object(nf, a->related[0]))
            b.index_map[a->related[0]] = true;
    }
    build_groups(&b);
    if (!index_group_accesses(&b)) {
        util_error_set(err, "out of memory building the plan for %s", nf->path);
        rc = UTIL_EXIT_FAILURE;
        goto done;
    }
    for (int i = 0; i < nf->n_accesses; i++)
        key_resolve(&b, i);
    gather_facts(&b);
    apply_issues(&b);
    for (int gi = 0; gi < b.n_groups; gi++)
        decide_group(&b, gi, why[gi], sizeof why[gi]);
    merge_groups(&b, final_cols);
    fill_accesses(&b, out);
    fill_objects(&b, final_cols, out);
    for (int gi = 0; gi < b.n_groups; gi++) {
        explain_sharded(&b, gi, out, final_cols, why[gi]);
        for (int o = 0; o < nf->n_objects; o++)
            if (b.group_of[o] == gi)
                set_text(out->objects[o].reason, sizeof out->objects[o].reason, "%s",
                         b.groups[gi].reason);
    }
    prefix_warnings(&b, out);
    mixed_warning(&b, out);
    out->warnings = b.warnings;
    out->n_warnings = b.n_warnings;
    b.warnings = NULL;
    b.n_warnings = 0;
done:
    for (int i = 0; i < b.n_warnings; i++)
        free(b.warnings[i]);
    free(b.warnings);
    free(b.parent);
    free(b.group_of);
    free(b.groups);
    free(b.keys);
    free(b.resolving);
    free(b.index_map);
    free(b.group_first);
    free(b.group_accesses);
    free(final_cols);
    free(why);
    return rc;
}
