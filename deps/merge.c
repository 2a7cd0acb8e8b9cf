/*
 * merge.c - each group's decision (issues, replicated, partial sums, whole
 * reads and writes, else its columns), then the NF-wide check: RSS hashes one
 * set of fields per port, so the sharded groups must agree; groups that do
 * not fit are shared (a mixed plan).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deps/build_internal.h"

/* ---- Decisions ------------------------------------------------------------- */

static const char *object_names(const struct builder *b, int gi, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int o = 0, n = 0; o < b->nf->n_objects; o++)
        if (b->group_of[o] == gi)
            text_append(buf, size, "%s%s", n++ ? ", " : "", b->nf->objects[o].name);
    return buf;
}

/* The decision for one group on its own. Sharded candidates keep their
 * columns for the NF-wide check. why_sharded collects extra explanation. */
void decide_group(struct builder *b, int gi, char *why_sharded, size_t why_size)
{
    struct group *g = &b->groups[gi];
    const struct ir_nf *nf = b->nf;
    char loc[160], loc2[160];
    why_sharded[0] = '\0';
    if (g->decided)
        return;     /* an issue made it shared */
    g->decided = true;
    if (!g->accessed) {
        g->decision = DEPS_REPLICATED;
        set_text(g->reason, sizeof g->reason,
                 "nf_process never touches it: one read-only copy per core");
        return;
    }
    if (!g->written) {
        g->decision = DEPS_REPLICATED;
        set_text(g->reason, sizeof g->reason,
                 "only read per packet (filled in nf_init): one read-only copy per core, "
                 "no lock");
        return;
    }
    if (g->whole_write >= 0) {
        access_where(b, g->whole_write, loc, sizeof loc);
        const struct ir_access *a = &nf->accesses[g->whole_write];
        if (g->only_counters && !g->counter_read && b->opts.counters_as_partial_sums) {
            g->decision = DEPS_SHARDED;
            g->n_columns = 0;
            set_text(g->reason, sizeof g->reason,
                     "a counter added to per packet (at %s) and never read by nf_process: "
                     "each core keeps a partial sum, the total is the sum over cores; any "
                     "key will do", loc);
            return;
        }
        g->decision = DEPS_SHARED;
        set_text(g->reason, sizeof g->reason,
                 "port %d writes %s as a whole per packet (%s at %s): there is no key to "
                 "shard by%s; shared under the lock",
                 a->port, nf->objects[a->object].name, api_name(a->api), loc,
                 g->counter_read ? " and nf_process reads the total" : "");
        return;
    }
    if (g->whole_read >= 0) {
        const struct ir_access *r = &nf->accesses[g->whole_read];
        access_where(b, g->whole_read, loc, sizeof loc);
        int wa = g->first_write;
        int wp = nf->accesses[wa].port;
        access_where(b, wa, loc2, sizeof loc2);
        g->decision = DEPS_SHARED;
        if (r->api == IR_API_CHASH_LOOKUP)
            set_text(g->reason, sizeof g->reason,
                     "read whole by every new flow on port %d (%s at %s, with a key unrelated "
                     "to this state) and written by packets on port %d (%s at %s, e.g. "
                     "heartbeats): it cannot be sharded; shared read-mostly under per-core "
                     "read locks, the writer takes all",
                     r->port, api_name(r->api), loc, wp, api_name(nf->accesses[wa].api),
                     loc2);
        else
            set_text(g->reason, sizeof g->reason,
                     "read as a whole on port %d (%s at %s) and written per packet on port %d "
                     "(%s at %s): every packet needs every core's writes; shared under "
                     "per-core read locks, the writer takes all",
                     r->port, api_name(r->api), loc, wp, api_name(nf->accesses[wa].api),
                     loc2);
        return;
    }
    if (!group_columns(b, gi, why_sharded, why_size)) {
        g->decision = DEPS_SHARED;
        return;
    }
    g->decision = DEPS_SHARDED;
}

/* ---- The NF-wide check: sharded groups must agree ------------------------- */

/* Which packets a column can say anything about: 1 IPv4, 2 IPv6, 3 both (a
 * column of L4 ports). An IPv6 packet never hashes IPv4 fields. */
static int column_family(const struct column *c, int n_ports)
{
    for (int p = 0; p < n_ports; p++) {
        if (!c->has[p])
            continue;
        if (c->id[p] == IR_FIELD_IPV4_SRC || c->id[p] == IR_FIELD_IPV4_DST)
            return 1;
        if (c->id[p] == IR_FIELD_IPV6_SRC || c->id[p] == IR_FIELD_IPV6_DST)
            return 2;
    }
    return 3;
}

/* True when both columns speak about the same packets: a common port and a
 * common IP version. */
static bool column_overlaps(const struct column *a, const struct column *c, int n_ports)
{
    if ((column_family(a, n_ports) & column_family(c, n_ports)) == 0)
        return false;
    for (int p = 0; p < n_ports; p++)
        if (a->has[p] && c->has[p])
            return true;
    return false;
}

static bool column_agrees(const struct column *a, const struct column *c, int n_ports)
{
    bool common = false;
    for (int p = 0; p < n_ports; p++) {
        if (!a->has[p] || !c->has[p])
            continue;
        if (a->id[p] != c->id[p])
            return false;
        common = true;
    }
    return common;
}

static void column_join(struct column *into, const struct column *c, int n_ports)
{
    for (int p = 0; p < n_ports; p++)
        if (c->has[p]) {
            into->has[p] = true;
            into->id[p] = c->id[p];
        }
    into->prefix = coarser(into->prefix, c->prefix);
}

static void colset_add(struct colset *s, const struct column *c, int n_ports)
{
    for (int i = 0; i < s->count; i++) {
        bool same = true;
        for (int p = 0; p < n_ports; p++)
            if (s->cols[i].has[p] != c->has[p] || (c->has[p] && s->cols[i].id[p] != c->id[p]))
                same = false;
        if (same) {
            s->cols[i].prefix = coarser(s->cols[i].prefix, c->prefix);
            return;
        }
    }
    if (s->count < MAX_COLUMNS)
        s->cols[s->count++] = *c;
}

/* The NF-wide columns after adding group g to acc. Returns how many of acc's
 * columns did not survive (when none is lost, every group acc covered is
 * still covered: a joined column keeps its fields and only gains ports). */
static int colset_merge(const struct colset *acc, const struct group *g, int n_ports,
                        struct colset *out)
{
    int lost = 0;
    out->count = 0;
    for (int i = 0; i < acc->count; i++) {
        const struct column *a = &acc->cols[i];
        bool overlaps = false;
        for (int j = 0; j < g->n_columns; j++) {
            if (column_overlaps(a, &g->columns[j], n_ports))
                overlaps = true;
            if (column_agrees(a, &g->columns[j], n_ports)) {
                struct column joined = *a;
                column_join(&joined, &g->columns[j], n_ports);
                colset_add(out, &joined, n_ports);
            }
        }
        bool joined = false;
        for (int j = 0; j < g->n_columns && !joined; j++)
            joined = column_agrees(a, &g->columns[j], n_ports);
        if (!overlaps)      /* g says nothing about a's packets: keep a */
            colset_add(out, a, n_ports);
        else if (!joined)
            lost++;
    }
    for (int j = 0; j < g->n_columns; j++) {
        bool meets = false;
        for (int i = 0; i < acc->count; i++)
            if (column_overlaps(&acc->cols[i], &g->columns[j], n_ports))
                meets = true;
        if (!meets)
            colset_add(out, &g->columns[j], n_ports);
    }
    return lost;
}

/* The NF-wide column that carries group column c, or -1. */
int covering_column(const struct colset *s, const struct column *c, int n_ports)
{
    for (int i = 0; i < s->count; i++) {
        bool ok = true;
        for (int p = 0; p < n_ports && ok; p++)
            if (c->has[p] && (!s->cols[i].has[p] || s->cols[i].id[p] != c->id[p]))
                ok = false;
        if (ok)
            return i;
    }
    return -1;
}

/* Group column j can key the plan under s: it is covered, and so is every
 * twin it trades places with (half of a symmetric pair is no key). */
bool column_keys_plan(const struct colset *s, const struct group *g, int j, int n_ports)
{
    if (covering_column(s, &g->columns[j], n_ports) < 0)
        return false;
    for (int p = 0; p < n_ports; p++)
        if (g->twin[j][p] && covering_column(s, &g->columns[g->twin[j][p] - 1], n_ports) < 0)
            return false;
    return true;
}

static bool group_covered(const struct colset *s, const struct group *g, int n_ports)
{
    if (g->n_columns == 0)
        return true;
    for (int j = 0; j < g->n_columns; j++)
        if (column_keys_plan(s, g, j, n_ports))
            return true;
    return false;
}

static void group_key_text(const struct builder *b, const struct group *g, char *buf,
                           size_t size)
{
    char f[48];
    buf[0] = '\0';
    for (int p = 0; p < b->n_ports; p++) {
        bool any = false;
        for (int j = 0; j < g->n_columns; j++) {
            if (!g->columns[j].has[p])
                continue;
            struct ir_field fld = {g->columns[j].id[p], g->columns[j].prefix};
            text_append(buf, size, "%s%s", any ? ", " : (buf[0] ? "; port " : "port "), "");
            if (!any)
                text_append(buf, size, "%d (", p);
            text_append(buf, size, "%s", field_text(fld, f, sizeof f));
            any = true;
        }
        if (any)
            text_append(buf, size, ")");
    }
}

/* Accepts sharded groups one by one (most keyed accesses first); a group
 * whose fields cannot agree with those already accepted is shared. */
void merge_groups(struct builder *b, struct colset *final_cols)
{
    int *order = malloc((size_t)(b->n_groups ? b->n_groups : 1) * sizeof *order);
    bool *accepted = calloc((size_t)(b->n_groups ? b->n_groups : 1), sizeof *accepted);
    struct colset *trial = malloc(sizeof *trial);
    final_cols->count = 0;
    if (!order || !accepted || !trial) {
        free(order);
        free(accepted);
        free(trial);
        return;
    }
    int n = 0;
    for (int gi = 0; gi < b->n_groups; gi++)
        if (b->groups[gi].decision == DEPS_SHARDED)
            order[n++] = gi;
    for (int i = 1; i < n; i++)         /* insertion sort: n_keyed desc, then index */
        for (int j = i; j > 0 && b->groups[order[j]].n_keyed > b->groups[order[j - 1]].n_keyed;
             j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (int i = 0; i < n; i++) {
        struct group *g = &b->groups[order[i]];
        int lost = colset_merge(final_cols, g, b->n_ports, trial);
        bool ok = group_covered(trial, g, b->n_ports);
        for (int k = 0; k < i && ok && lost > 0; k++)
            if (accepted[order[k]] && !group_covered(trial, &b->groups[order[k]], b->n_ports))
                ok = false;
        if (ok) {
            *final_cols = *trial;
            accepted[order[i]] = true;
            continue;
        }
        /* Incompatible: shard what can be sharded, share this one. */
        char mine[256], names[256], theirs[512] = "";
        group_key_text(b, g, mine, sizeof mine);
        for (int k = 0; k < i; k++) {
            if (!accepted[order[k]])
                continue;
            char key[256], nm[256];
            group_key_text(b, &b->groups[order[k]], key, sizeof key);
            text_append(theirs, sizeof theirs, "%s%s by %s", theirs[0] ? "; " : "",
                   object_names(b, order[k], nm, sizeof nm), key);
        }
        g->decision = DEPS_SHARED;
        set_text(g->reason, sizeof g->reason,
                 "its own key would be %s, but that cannot agree with the sharding already "
                 "chosen (%s): RSS hashes one set of fields per port. Shared under the lock "
                 "(a mixed plan: the rest stays sharded)", mine, theirs);
        add_warning(b, "mixed plan: %s shared because its key %s conflicts with the sharded "
                       "state", object_names(b, order[i], names, sizeof names), mine);
    }
    free(order);
    free(accepted);
    free(trial);
}
