/*
 * print.c - a lifted NF as text (for people) and as JSON (for scripts and
 * tests): objects, accesses with keys, guards and the guard each is under,
 * header writes, record writes, issues; an unknown key part computed from
 * header bits says which field and which instruction mixed them.
 */
#include "ir/ir.h"

#include <stdio.h>
#include <string.h>

static const char *const kind_names[] = {"map", "vector", "alloc", "sketch", "chash", "counter"};
static const char *const issue_names[] = {
    "unknown-call", "indirect-call", "inline-asm", "global-write", "borrow-write",
    "unknown-object", "api-misuse",
};

const char *ir_object_kind_name(enum ir_object_kind k)
{
    return (unsigned)k < sizeof kind_names / sizeof kind_names[0] ? kind_names[k] : "?";
}

const char *ir_issue_kind_name(enum ir_issue_kind k)
{
    return (unsigned)k < sizeof issue_names / sizeof issue_names[0] ? issue_names[k] : "?";
}

const char *ir_key_part_format(const struct ir_key_part *p, char *buf, unsigned len)
{
    char f[48];
    switch (p->field.id) {
    case IR_FIELD_OTHER_HEADER:
        snprintf(buf, len, "L%u[%u]:%u", p->layer, p->offset, p->bits);
        if (p->constant != 0) {
            size_t n = strlen(buf);     /* an index's constant offset */
            snprintf(buf + n, len - n, "%+lld", (long long)p->constant);
        }
        break;
    case IR_FIELD_STATE:
        snprintf(buf, len, "state#%d+%u:%u", p->from_access, p->offset, p->bits);
        break;
    case IR_FIELD_CONSTANT:
        snprintf(buf, len, "const(%lld):%u", (long long)p->constant, p->bits);
        break;
    default:
        snprintf(buf, len, "%s", ir_field_format(p->field, f, sizeof f));
        if (p->bits != ir_field_bits(p->field.id) &&
            !(p->field.prefix && p->bits == p->field.prefix)) {
            size_t n = strlen(buf);
            snprintf(buf + n, len - n, ":%u", p->bits);
        }
        if (p->constant != 0 && p->field.id < IR_FIELD_OTHER_HEADER) {
            size_t n = strlen(buf);     /* an index's constant offset */
            snprintf(buf + n, len - n, "%+lld", (long long)p->constant);
        }
        break;
    }
    return buf;
}

/* The derivation an unknown part names, or NULL. */
static const struct ir_derivation *derivation_of(const struct ir_nf *nf,
                                                 const struct ir_key_part *p)
{
    if (p->field.id != IR_FIELD_UNKNOWN || p->derived == 0 || p->derived > nf->n_derivations)
        return NULL;
    return &nf->derivations[p->derived - 1];
}

/* "ipv4.src" or "L3[8]": the (first) field a derivation mixed. */
static const char *derived_field_text(const struct ir_derivation *d, char *buf, unsigned len)
{
    if (d->field.id == IR_FIELD_OTHER_HEADER)
        snprintf(buf, len, "L%u[%u]", d->layer, d->offset);
    else
        ir_field_format(d->field, buf, len);
    return buf;
}

/* "ipv4.dst", "other header bytes", or NULL: the second field it mixed. */
static const char *derived_also_text(const struct ir_derivation *d, char *buf, unsigned len)
{
    if (d->also.id == IR_FIELD_UNKNOWN)
        return NULL;
    if (d->also.id == IR_FIELD_OTHER_HEADER)
        snprintf(buf, len, "other header bytes");
    else
        ir_field_format(d->also, buf, len);
    return buf;
}

/* "(ipv4.src, unknown:12 [from ipv4.dst: a multiplication at f.c:31])" */
static void key_text(const struct ir_nf *nf, const struct ir_key *k, FILE *out)
{
    char buf[64], f[48], g[48];
    fputc('(', out);
    for (int i = 0; i < k->count; i++) {
        fprintf(out, "%s%s", i ? ", " : "", ir_key_part_format(&k->parts[i], buf, sizeof buf));
        const struct ir_derivation *d = derivation_of(nf, &k->parts[i]);
        if (!d)
            continue;
        const char *also = derived_also_text(d, g, sizeof g);
        fprintf(out, " [from %s%s%s: %s at %s:%d]", derived_field_text(d, f, sizeof f),
                also ? " and " : "", also ? also : "", d->op,
                d->where.file[0] ? d->where.file : d->where.function, d->where.line);
    }
    fputc(')', out);
}

static void where_text(const struct ir_location *w, FILE *out)
{
    if (w->file[0])
        fprintf(out, "%s:%d", w->file, w->line);
    else
        fprintf(out, "%s", w->function);
}

void ir_nf_write_text(const struct ir_nf *nf, FILE *out)
{
    fprintf(out, "%s: %d ports, %d objects, %d accesses, %d header writes, %d issues\n",
            nf->path, nf->n_ports, nf->n_objects, nf->n_accesses, nf->n_writes, nf->n_issues);
    for (int i = 0; i < nf->n_objects; i++) {
        const struct ir_object *o = &nf->objects[i];
        fprintf(out, "  object %d %s %s key=%u record=%u capacity=%u width=%u depth=%u\n", i,
                ir_object_kind_name(o->kind), o->name, o->key_size, o->record_size, o->capacity,
                o->width, o->depth);
    }
    for (int i = 0; i < nf->n_accesses; i++) {
        const struct ir_access *a = &nf->accesses[i];
        fprintf(out, "  #%d port %d %s %s ", i, a->port, ir_api_name(a->api),
                nf->objects[a->object].name);
        key_text(nf, &a->key, out);
        for (int r = 0; r < 2; r++)
            if (a->related[r] >= 0)
                fprintf(out, " related=%s", nf->objects[a->related[r]].name);
        for (int g = 0; g < a->n_guards; g++) {
            fprintf(out, " guard ");
            key_text(nf, &a->guards[g].stored, out);
            fprintf(out, "==");
            key_text(nf, &a->guards[g].packet, out);
            if (a->guards[g].transformed)
                fprintf(out, " (transformed)");
        }
        if (a->guarded_by >= 0)
            fprintf(out, " guarded-by #%d", a->guarded_by);
        if (a->packets)
            fprintf(out, " packets=%s%s%s", a->packets & IR_PKT_IPV4 ? "ipv4," : "",
                    a->packets & IR_PKT_IPV6 ? "ipv6," : "",
                    a->packets & IR_PKT_NOT_FRAGMENT ? "not-fragment" : "");
        fprintf(out, " at ");
        where_text(&a->where, out);
        fputc('\n', out);
    }
    for (int i = 0; i < nf->n_writes; i++) {
        const struct ir_header_write *w = &nf->writes[i];
        char f[48];
        fprintf(out, "  write port %d %s (L%u[%u]:%u) = ", w->port,
                ir_field_format(w->field, f, sizeof f), w->layer, w->offset, w->bits);
        key_text(nf, &w->value, out);
        if (w->guarded_by >= 0)
            fprintf(out, " guarded-by #%d", w->guarded_by);
        fprintf(out, " at ");
        where_text(&w->where, out);
        fputc('\n', out);
    }
    for (int i = 0; i < nf->n_record_writes; i++) {
        const struct ir_record_write *rw = &nf->record_writes[i];
        fprintf(out, "  record port %d %s", rw->port, nf->objects[rw->object].name);
        if (rw->offset_unknown)
            fprintf(out, "[?]");
        else
            fprintf(out, "[%u]:%u", rw->offset, rw->bits);
        fprintf(out, " via #%d ", rw->access);
        key_text(nf, &rw->index, out);
        fprintf(out, " = ");
        key_text(nf, &rw->value, out);
        if (rw->transformed)
            fprintf(out, " (transformed)");
        if (rw->guarded_by >= 0)
            fprintf(out, " guarded-by #%d", rw->guarded_by);
        fprintf(out, " at ");
        where_text(&rw->where, out);
        fputc('\n', out);
    }
    for (int i = 0; i < nf->n_issues; i++) {
        const struct ir_issue *is = &nf->issues[i];
        fprintf(out, "  issue port %d %s object %d: %s at ", is->port,
                ir_issue_kind_name(is->kind), is->object, is->detail);
        where_text(&is->where, out);
        fputc('\n', out);
    }
}

static void key_json(struct util_json *w, const struct ir_key *k)
{
    char buf[64];
    util_json_array_begin(w);
    for (int i = 0; i < k->count; i++)
        util_json_string(w, ir_key_part_format(&k->parts[i], buf, sizeof buf));
    util_json_array_end(w);
}

/* Member "derived": for each unknown part of k computed from header bits,
 * which part, the field, the operation and where. */
static void derived_json(struct util_json *w, const struct ir_nf *nf, const struct ir_key *k)
{
    char f[48];
    util_json_key(w, "derived");
    util_json_array_begin(w);
    for (int i = 0; i < k->count; i++) {
        const struct ir_derivation *d = derivation_of(nf, &k->parts[i]);
        if (!d)
            continue;
        util_json_object_begin(w);
        util_json_key(w, "part");
        util_json_int(w, i);
        util_json_key(w, "field");
        util_json_string(w, derived_field_text(d, f, sizeof f));
        util_json_key(w, "also");
        if (derived_also_text(d, f, sizeof f))
            util_json_string(w, f);
        else
            util_json_null(w);
        util_json_key(w, "op");
        util_json_string(w, d->op);
        util_json_key(w, "file");
        util_json_string(w, d->where.file);
        util_json_key(w, "line");
        util_json_int(w, d->where.line);
        util_json_object_end(w);
    }
    util_json_array_end(w);
}

static void where_json(struct util_json *w, const struct ir_location *loc)
{
    util_json_key(w, "file");
    util_json_string(w, loc->file);
    util_json_key(w, "line");
    util_json_int(w, loc->line);
    util_json_key(w, "function");
    util_json_string(w, loc->function);
}

void ir_nf_write_json(const struct ir_nf *nf, struct util_json *w)
{
    util_json_key(w, "ports");
    util_json_int(w, nf->n_ports);
    util_json_key(w, "objects");
    util_json_array_begin(w);
    for (int i = 0; i < nf->n_objects; i++) {
        const struct ir_object *o = &nf->objects[i];
        util_json_object_begin(w);
        util_json_key(w, "name");
        util_json_string(w, o->name);
        util_json_key(w, "kind");
        util_json_string(w, ir_object_kind_name(o->kind));
        util_json_key(w, "key_size");
        util_json_uint(w, o->key_size);
        util_json_key(w, "record_size");
        util_json_uint(w, o->record_size);
        util_json_key(w, "capacity");
        util_json_uint(w, o->capacity);
        util_json_key(w, "width");
        util_json_uint(w, o->width);
        util_json_key(w, "depth");
        util_json_uint(w, o->depth);
        util_json_object_end(w);
    }
    util_json_array_end(w);
    util_json_key(w, "accesses");
    util_json_array_begin(w);
    for (int i = 0; i < nf->n_accesses; i++) {
        const struct ir_access *a = &nf->accesses[i];
        util_json_object_begin(w);
        util_json_key(w, "object");
        util_json_string(w, nf->objects[a->object].name);
        util_json_key(w, "api");
        util_json_string(w, ir_api_name(a->api));
        util_json_key(w, "port");
        util_json_int(w, a->port);
        util_json_key(w, "key");
        key_json(w, &a->key);
        derived_json(w, nf, &a->key);
        util_json_key(w, "guards");
        util_json_array_begin(w);
        for (int g = 0; g < a->n_guards; g++) {
            util_json_object_begin(w);
            util_json_key(w, "stored");
            key_json(w, &a->guards[g].stored);
            util_json_key(w, "packet");
            key_json(w, &a->guards[g].packet);
            util_json_key(w, "transformed");
            util_json_bool(w, a->guards[g].transformed);
            util_json_object_end(w);
        }
        util_json_array_end(w);
        util_json_key(w, "guarded_by");
        util_json_int(w, a->guarded_by);
        util_json_key(w, "packets");
        util_json_array_begin(w);
        if (a->packets & IR_PKT_IPV4)
            util_json_string(w, "ipv4");
        if (a->packets & IR_PKT_IPV6)
            util_json_string(w, "ipv6");
        if (a->packets & IR_PKT_NOT_FRAGMENT)
            util_json_string(w, "not_fragment");
        util_json_array_end(w);
        where_json(w, &a->where);
        util_json_object_end(w);
    }
    util_json_array_end(w);
    util_json_key(w, "header_writes");
    util_json_array_begin(w);
    for (int i = 0; i < nf->n_writes; i++) {
        const struct ir_header_write *hw = &nf->writes[i];
        char f[48];
        util_json_object_begin(w);
        util_json_key(w, "port");
        util_json_int(w, hw->port);
        util_json_key(w, "field");
        util_json_string(w, ir_field_format(hw->field, f, sizeof f));
        util_json_key(w, "value");
        key_json(w, &hw->value);
        derived_json(w, nf, &hw->value);
        util_json_key(w, "guarded_by");
        util_json_int(w, hw->guarded_by);
        where_json(w, &hw->where);
        util_json_object_end(w);
    }
    util_json_array_end(w);
    util_json_key(w, "issues");
    util_json_array_begin(w);
    for (int i = 0; i < nf->n_issues; i++) {
        const struct ir_issue *is = &nf->issues[i];
        util_json_object_begin(w);
        util_json_key(w, "kind");
        util_json_string(w, ir_issue_kind_name(is->kind));
        util_json_key(w, "port");
        util_json_int(w, is->port);
        util_json_key(w, "detail");
        util_json_string(w, is->detail);
        where_json(w, &is->where);
        util_json_object_end(w);
    }
    util_json_array_end(w);
    util_json_key(w, "record_writes");
    util_json_array_begin(w);
    for (int i = 0; i < nf->n_record_writes; i++) {
        const struct ir_record_write *rw = &nf->record_writes[i];
        util_json_object_begin(w);
        util_json_key(w, "object");
        util_json_string(w, nf->objects[rw->object].name);
        util_json_key(w, "port");
        util_json_int(w, rw->port);
        util_json_key(w, "index");
        key_json(w, &rw->index);
        util_json_key(w, "offset");
        if (rw->offset_unknown)
            util_json_null(w);
        else
            util_json_uint(w, rw->offset);
        util_json_key(w, "bits");
        util_json_uint(w, rw->bits);
        util_json_key(w, "value");
        key_json(w, &rw->value);
        derived_json(w, nf, &rw->value);
        util_json_key(w, "transformed");
        util_json_bool(w, rw->transformed);
        util_json_key(w, "guarded_by");
        util_json_int(w, rw->guarded_by);
        where_json(w, &rw->where);
        util_json_object_end(w);
    }
    util_json_array_end(w);
}
