/*
 * dot.c - the state-dependency graph as Graphviz text (`rsskey analyze --dot`):
 * objects as boxes clustered by group and coloured by decision, one node per
 * input port with an edge per distinct access, dashed edges where one access's
 * result feeds another's key or index, and edges into the header fields
 * nf_process rewrites from state.
 */
#include "deps/deps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes s as the inside of a DOT double-quoted string. */
static void put_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s == '\n' ? ' ' : *s, f);
    }
}

/* Short API names for edge labels ("map_get"). */
static const char *api_short(enum ir_api api)
{
    static const char *const names[] = {
        "map_get", "map_put", "map_erase", "vector_read", "vector_write", "alloc_new",
        "alloc_refresh", "alloc_is_allocated", "alloc_free", "alloc_expire", "sketch_add",
        "sketch_estimate", "sketch_reset", "chash_lookup", "counter_add", "counter_read",
        "tsketch_add", "tsketch_touch", "tsketch_estimate", "tsketch_expire"};
    return (unsigned)api < sizeof names / sizeof names[0] ? names[api] : "call";
}

static const char *decision_colour(enum deps_decision d)
{
    switch (d) {
    case DEPS_SHARDED: return "palegreen";
    case DEPS_REPLICATED: return "lightblue";
    default: return "lightsalmon";
    }
}

static bool same_key(const struct deps_key *a, const struct deps_key *b)
{
    if (a->count != b->count)
        return false;
    for (int i = 0; i < a->count; i++)
        if (a->fields[i].id != b->fields[i].id || a->fields[i].prefix != b->fields[i].prefix)
            return false;
    return true;
}

char *deps_graph_dot(const struct ir_nf *nf, const struct deps_plan *plan)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    char key[512], fbuf[48];
    fprintf(f, "digraph \"");
    put_escaped(f, plan->nf);
    fprintf(f, "\" {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n"
               "  edge [fontname=\"Helvetica\", fontsize=9];\n");

    /* Objects, one cluster per group. */
    int max_group = -1;
    for (int o = 0; o < plan->n_objects; o++)
        if (plan->objects[o].group > max_group)
            max_group = plan->objects[o].group;
    for (int g = 0; g <= max_group; g++) {
        int first = -1;
        for (int o = 0; o < plan->n_objects; o++)
            if (plan->objects[o].group == g && first < 0)
                first = o;
        if (first < 0)
            continue;
        fprintf(f, "  subgraph cluster_g%d {\n    label=\"group %d: %s\";\n"
                   "    style=rounded;\n", g, g,
                deps_decision_name(plan->objects[first].decision));
        for (int o = 0; o < plan->n_objects; o++) {
            const struct deps_object *obj = &plan->objects[o];
            if (obj->group != g)
                continue;
            fprintf(f, "    o%d [shape=box, style=filled, fillcolor=%s, label=\"", o,
                    decision_colour(obj->decision));
            put_escaped(f, obj->name);
            fprintf(f, "\\n%s, %s", deps_kind_name(obj->kind),
                    deps_decision_name(obj->decision));
            for (int p = 0; p < plan->n_ports && p < DEPS_MAX_PORTS; p++) {
                if (obj->ports[p].count == 0)
                    continue;
                deps_key_format(&obj->ports[p], key, sizeof key);
                fprintf(f, "\\nport %d: ", p);
                put_escaped(f, key);
            }
            fprintf(f, "\"];\n");
        }
        fprintf(f, "  }\n");
    }

    /* Ports and access edges (one per distinct port, object, op, key). */
    for (int p = 0; p < plan->n_ports; p++)
        fprintf(f, "  port%d [shape=ellipse, label=\"port %d\"];\n", p, p);
    for (int i = 0; i < plan->n_accesses; i++) {
        const struct deps_access *a = &plan->accesses[i];
        if (a->object < 0 || a->port < 0 || a->port >= plan->n_ports)
            continue;
        bool seen = false;
        for (int j = 0; j < i && !seen; j++) {
            const struct deps_access *b = &plan->accesses[j];
            seen = b->object == a->object && b->port == a->port && b->op == a->op &&
                   same_key(&a->key, &b->key);
        }
        if (seen)
            continue;
        deps_key_format(&a->key, key, sizeof key);
        fprintf(f, "  port%d -> o%d [label=\"%s", a->port, a->object, deps_op_name(a->op));
        if (key[0]) {
            fprintf(f, " (");
            put_escaped(f, key);
            fprintf(f, ")");
        }
        fprintf(f, "\"];\n");
    }

    if (nf) {
        /* State feeds key: access j's result is part of access i's key. */
        for (int i = 0; i < nf->n_accesses; i++) {
            const struct ir_access *a = &nf->accesses[i];
            for (int k = 0; k < a->key.count && k < IR_KEY_MAX_PARTS; k++) {
                int from = a->key.parts[k].from_access;
                if (a->key.parts[k].field.id != IR_FIELD_STATE || from < 0 ||
                    from >= nf->n_accesses)
                    continue;
                fprintf(f, "  o%d -> o%d [style=dashed, label=\"%s -> %s (port %d)\"];\n",
                        nf->accesses[from].object, a->object,
                        api_short(nf->accesses[from].api), api_short(a->api), a->port);
            }
            if (a->api == IR_API_CHASH_LOOKUP && a->related[0] >= 0 &&
                a->related[0] < nf->n_objects)
                fprintf(f, "  o%d -> o%d [style=dotted, label=\"read whole (alive)\"];\n",
                        a->related[0], a->object);
        }
        /* Header writes whose value comes from state: one node per rewritten
         * field and port, one edge per object feeding it. */
        for (int w = 0; w < nf->n_writes; w++) {
            const struct ir_header_write *hw = &nf->writes[w];
            int first = w;      /* the first write of the same field on the same port */
            for (int v = 0; v < w && first == w; v++)
                if (nf->writes[v].port == hw->port && nf->writes[v].field.id == hw->field.id &&
                    nf->writes[v].offset == hw->offset && nf->writes[v].layer == hw->layer)
                    first = v;
            bool declared = first != w;
            for (int k = 0; k < hw->value.count && k < IR_KEY_MAX_PARTS; k++) {
                int from = hw->value.parts[k].from_access;
                if (hw->value.parts[k].field.id != IR_FIELD_STATE || from < 0 ||
                    from >= nf->n_accesses)
                    continue;
                if (!declared)
                    fprintf(f, "  hw%d [shape=note, label=\"%s (port %d)\"];\n", first,
                            ir_field_format(hw->field, fbuf, sizeof fbuf), hw->port);
                declared = true;
                fprintf(f, "  o%d -> hw%d [style=dashed, label=\"rewrites\"];\n",
                        nf->accesses[from].object, first);
            }
        }
    }
    fprintf(f, "}\n");
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}
