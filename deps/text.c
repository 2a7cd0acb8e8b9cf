/*
 * text.c - the plan for a person (`rsskey analyze` without --json): one block
 * per object with its decision, key per port, accesses and reason wrapped to
 * the terminal width, then the analysis issues with file:line and the
 * warnings.
 */
#include "deps/deps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes text word-wrapped to width columns, each line indented by indent
 * (the first by first_indent, already printed when 0). */
static void put_wrapped(FILE *f, const char *text, int indent, int width)
{
    int col = indent;
    fprintf(f, "%*s", indent, "");
    const char *p = text;
    bool line_empty = true;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *end = p;
        while (*end && *end != ' ')
            end++;
        int wlen = (int)(end - p);
        if (!line_empty && col + 1 + wlen > width) {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
            line_empty = true;
        }
        if (!line_empty) {
            fputc(' ', f);
            col++;
        }
        fwrite(p, 1, (size_t)wlen, f);
        col += wlen;
        line_empty = false;
        p = end;
    }
    fputc('\n', f);
}

/* The text report shows an empty key as "-". */
static void key_or_dash(const struct deps_key *key, char *buf, size_t size)
{
    deps_key_format(key, buf, size);
    if (!buf[0])
        snprintf(buf, size, "-");
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static const char *issue_kind_name(enum ir_issue_kind k)
{
    static const char *const names[] = {"unknown call", "indirect call", "inline asm",
                                        "global write", "borrow write", "unknown object",
                                        "API misuse"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "issue";
}

char *deps_plan_format_text(const struct deps_plan *plan, const struct ir_nf *nf, int width)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    if (width < 40)
        width = 40;
    char line[1024], key[512];
    int counts[3] = {0, 0, 0};
    for (int o = 0; o < plan->n_objects; o++)
        if ((unsigned)plan->objects[o].decision < 3)
            counts[plan->objects[o].decision]++;
    snprintf(line, sizeof line,
             "%s: %d input port%s, %d object%s (%d sharded, %d replicated, %d shared)",
             base_name(plan->nf), plan->n_ports, plan->n_ports == 1 ? "" : "s", plan->n_objects,
             plan->n_objects == 1 ? "" : "s", counts[DEPS_SHARDED], counts[DEPS_REPLICATED],
             counts[DEPS_SHARED]);
    put_wrapped(f, line, 0, width);
    if (plan->n_objects == 0)
        fprintf(f, "\nNo per-packet state: nothing to shard, any RSS key will do.\n");
    /* What RSS must hash per port: the shortest sharded key seen there (the
     * NF-wide check made every sharded object's key agree with it). */
    for (int p = 0; p < plan->n_ports && p < DEPS_MAX_PORTS && counts[DEPS_SHARDED] > 0; p++) {
        const struct deps_key *shortest = NULL;
        for (int o = 0; o < plan->n_objects; o++) {
            const struct deps_object *obj = &plan->objects[o];
            if (obj->decision == DEPS_SHARDED && obj->ports[p].count > 0 &&
                (!shortest || obj->ports[p].count < shortest->count))
                shortest = &obj->ports[p];
        }
        if (shortest)
            key_or_dash(shortest, key, sizeof key);
        snprintf(line, sizeof line, "RSS on port %d: %s", p,
                 shortest ? key : "any fields (no sharded state is keyed on this port)");
        put_wrapped(f, line, 2, width);
    }

    for (int o = 0; o < plan->n_objects; o++) {
        const struct deps_object *obj = &plan->objects[o];
        fprintf(f, "\n%-32s %-8s %-10s group %d\n", obj->name, deps_kind_name(obj->kind),
                deps_decision_name(obj->decision), obj->group);
        for (int p = 0; p < plan->n_ports && p < DEPS_MAX_PORTS; p++) {
            if (obj->ports[p].count == 0)
                continue;
            key_or_dash(&obj->ports[p], key, sizeof key);
            snprintf(line, sizeof line, "key on port %d: %s", p, key);
            put_wrapped(f, line, 4, width);
        }
        /* Accesses, one line per distinct (port, op, key). */
        for (int i = 0; i < plan->n_accesses; i++) {
            const struct deps_access *a = &plan->accesses[i];
            if (a->object != o)
                continue;
            bool seen = false;
            for (int j = 0; j < i && !seen; j++) {
                const struct deps_access *b = &plan->accesses[j];
                seen = b->object == o && b->port == a->port && b->op == a->op &&
                       deps_key_equal(&b->key, &a->key);
            }
            if (seen)
                continue;
            key_or_dash(&a->key, key, sizeof key);
            if (a->file[0] && a->line > 0)
                snprintf(line, sizeof line, "port %d %-8s (%s) at %s:%d", a->port,
                         deps_op_name(a->op), key, base_name(a->file), a->line);
            else
                snprintf(line, sizeof line, "port %d %-8s (%s)", a->port, deps_op_name(a->op),
                         key);
            put_wrapped(f, line, 4, width);
        }
        int same = -1;      /* an earlier object of the group with the same reason */
        for (int e = 0; e < o && same < 0; e++)
            if (plan->objects[e].group == obj->group &&
                strcmp(plan->objects[e].reason, obj->reason) == 0)
                same = e;
        if (same >= 0) {
            snprintf(line, sizeof line, "(same group and reason as %s)",
                     plan->objects[same].name);
            put_wrapped(f, line, 4, width);
        } else {
            put_wrapped(f, obj->reason, 4, width);
        }
    }

    if (nf && nf->n_issues > 0) {
        fprintf(f, "\nIssues (each makes the state it touches shared):\n");
        for (int i = 0; i < nf->n_issues; i++) {
            const struct ir_issue *is = &nf->issues[i];
            char where[200];
            if (is->where.file[0] && is->where.line > 0)
                snprintf(where, sizeof where, "%s:%d", base_name(is->where.file),
                         is->where.line);
            else
                snprintf(where, sizeof where, "%s", is->where.function[0]
                                                        ? is->where.function : "?");
            snprintf(line, sizeof line, "%s: %s on port %d%s%s: %s", where,
                     issue_kind_name(is->kind), is->port,
                     is->object >= 0 && is->object < plan->n_objects ? ", object " : "",
                     is->object >= 0 && is->object < plan->n_objects
                         ? plan->objects[is->object].name : "",
                     is->detail);
            put_wrapped(f, line, 2, width);
        }
    }
    if (plan->n_warnings > 0) {
        fprintf(f, "\nWarnings:\n");
        for (int i = 0; i < plan->n_warnings; i++)
            put_wrapped(f, plan->warnings[i], 2, width);
    }
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}
