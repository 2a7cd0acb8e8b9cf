/*
 * plan.c - struct deps_plan's lifetime and its JSON form (the "objects",
 * "accesses" and "warnings" members shared by `rsskey analyze --json` and
 * plan.json; schema in docs/plan-format.md).
 */
#include "deps/deps.h"

#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const decision_names[] = {"sharded", "replicated", "shared"};
static const char *const op_names[] = {"read", "write", "allocate", "refresh", "free", "expire"};
static const char *const kind_names[] = {"map", "vector", "alloc", "sketch", "chash", "counter"};

const char *deps_decision_name(enum deps_decision d)
{
    return (unsigned)d < 3 ? decision_names[d] : "invalid";
}

const char *deps_op_name(enum deps_op op)
{
    return (unsigned)op < 6 ? op_names[op] : "invalid";
}

const char *deps_kind_name(enum deps_object_kind k)
{
    return (unsigned)k < 6 ? kind_names[k] : "invalid";
}

bool deps_key_equal(const struct deps_key *a, const struct deps_key *b)
{
    if (a->count != b->count)
        return false;
    for (int i = 0; i < a->count; i++)
        if (a->fields[i].id != b->fields[i].id || a->fields[i].prefix != b->fields[i].prefix ||
            a->swaps_with[i] != b->swaps_with[i])
            return false;
    return true;
}

const char *deps_key_format(const struct deps_key *key, char *buf, size_t size)
{
    char f[48], g[48];
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < key->count && len + 1 < size; i++) {
        int n = snprintf(buf + len, size - len, "%s%s", i ? ", " : "",
                         ir_field_format(key->fields[i], f, sizeof f));
        if (n < 0)
            break;
        len += (size_t)n;
    }
    for (int i = 0; i < key->count && len + 1 < size; i++) {
        int t = key->swaps_with[i] - 1;
        if (t <= i || t >= key->count)
            continue;                   /* each pair once */
        int n = snprintf(buf + len, size - len, " (symmetric in %s and %s)",
                         ir_field_format(key->fields[i], f, sizeof f),
                         ir_field_format(key->fields[t], g, sizeof g));
        if (n < 0)
            break;
        len += (size_t)n;
    }
    return buf;
}

static int name_index(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

void deps_plan_free(struct deps_plan *plan)
{
    if (!plan)
        return;
    free(plan->objects);
    free(plan->accesses);
    for (int i = 0; i < plan->n_warnings; i++)
        free(plan->warnings[i]);
    free(plan->warnings);
    memset(plan, 0, sizeof *plan);
}

/* ---- Writing ------------------------------------------------------------- */

/* "symmetric": {"0": [["ipv4.src", "ipv4.dst"]]}: per port, the key fields
 * that trade places (written only when there are some). */
static void write_symmetric(struct util_json *w, const struct deps_plan *plan,
                            const struct deps_object *o)
{
    char port_name[16], buf[48];
    bool any = false;
    for (int p = 0; p < plan->n_ports && p < DEPS_MAX_PORTS; p++) {
        const struct deps_key *k = &o->ports[p];
        bool here = false;
        for (int i = 0; i < k->count; i++) {
            int t = k->swaps_with[i] - 1;
            if (t <= i || t >= k->count)
                continue;
            if (!any) {
                util_json_key(w, "symmetric");
                util_json_object_begin(w);
            }
            if (!here) {
                snprintf(port_name, sizeof port_name, "%d", p);
                util_json_key(w, port_name);
                util_json_array_begin(w);
            }
            any = here = true;
            util_json_array_begin_compact(w);
            util_json_string(w, ir_field_format(k->fields[i], buf, sizeof buf));
            util_json_string(w, ir_field_format(k->fields[t], buf, sizeof buf));
            util_json_array_end(w);
        }
        if (here)
            util_json_array_end(w);
    }
    if (any)
        util_json_object_end(w);
}

static void write_key(struct util_json *w, const struct deps_key *key)
{
    char buf[48];
    util_json_array_begin(w);
    for (int i = 0; i < key->count; i++)
        util_json_string(w, ir_field_format(key->fields[i], buf, sizeof buf));
    util_json_array_end(w);
}

/* The sizes of an object's create call that are known ("size": {...},
 * members only for nonzero values). */
static const char *const size_names[] = {"key_size", "record_size", "capacity", "width",
                                         "depth"};

static void write_size(struct util_json *w, const struct deps_object *o)
{
    const uint32_t values[] = {o->key_size, o->record_size, o->capacity, o->width, o->depth};
    util_json_key(w, "size");
    util_json_object_begin(w);
    for (int i = 0; i < 5; i++) {
        if (values[i]) {
            util_json_key(w, size_names[i]);
            util_json_uint(w, values[i]);
        }
    }
    util_json_object_end(w);
}

/* Above this a JSON number (a double) may not hold the value exactly. */
#define CONFIG_EXACT_MAX (1ULL << 53)

void deps_plan_write_json(const struct deps_plan *plan, struct util_json *w)
{
    char port_name[16];
    util_json_key(w, "nf");
    util_json_string(w, plan->nf);
    util_json_key(w, "input_ports");
    util_json_int(w, plan->n_ports);
    util_json_key(w, "config");
    util_json_array_begin(w);
    for (int i = 0; i < plan->n_config; i++) {
        const struct deps_config_value *c = &plan->config[i];
        util_json_object_begin(w);
        util_json_key(w, "name");
        util_json_string(w, c->name);
        util_json_key(w, "value");
        if (c->value <= CONFIG_EXACT_MAX) {
            util_json_uint(w, c->value);
        } else {
            char text[24];
            snprintf(text, sizeof text, "%llu", (unsigned long long)c->value);
            util_json_string(w, text);
        }
        util_json_key(w, "from");
        util_json_string(w, c->from_user ? "--config" : "default");
        util_json_key(w, "affects_plan");
        util_json_bool(w, c->affects_plan);
        util_json_object_end(w);
    }
    util_json_array_end(w);

    util_json_key(w, "objects");
    util_json_array_begin(w);
    for (int i = 0; i < plan->n_objects; i++) {
        const struct deps_object *o = &plan->objects[i];
        util_json_object_begin(w);
        util_json_key(w, "name");
        util_json_string(w, o->name);
        util_json_key(w, "kind");
        util_json_string(w, deps_kind_name(o->kind));
        util_json_key(w, "group");
        util_json_int(w, o->group);
        util_json_key(w, "decision");
        util_json_string(w, deps_decision_name(o->decision));
        util_json_key(w, "reason");
        util_json_string(w, o->reason);
        write_size(w, o);
        util_json_key(w, "ports");
        util_json_object_begin(w);
        for (int p = 0; p < plan->n_ports && p < DEPS_MAX_PORTS; p++) {
            if (o->ports[p].count == 0)
                continue;
            snprintf(port_name, sizeof port_name, "%d", p);
            util_json_key(w, port_name);
            write_key(w, &o->ports[p]);
        }
        util_json_object_end(w);
        write_symmetric(w, plan, o);
        util_json_object_end(w);
    }
    util_json_array_end(w);

    util_json_key(w, "accesses");
    util_json_array_begin(w);
    for (int i = 0; i < plan->n_accesses; i++) {
        const struct deps_access *a = &plan->accesses[i];
        util_json_object_begin(w);
        util_json_key(w, "object");
        util_json_string(w, a->object >= 0 && a->object < plan->n_objects
                                ? plan->objects[a->object].name : "");
        util_json_key(w, "op");
        util_json_string(w, deps_op_name(a->op));
        util_json_key(w, "port");
        util_json_int(w, a->port);
        util_json_key(w, "key");
        write_key(w, &a->key);
        util_json_key(w, "file");
        util_json_string(w, a->file);
        util_json_key(w, "line");
        util_json_int(w, a->line);
        util_json_object_end(w);
    }
    util_json_array_end(w);

    util_json_key(w, "warnings");
    util_json_array_begin(w);
    for (int i = 0; i < plan->n_warnings; i++)
        util_json_string(w, plan->warnings[i]);
    util_json_array_end(w);
}

/* ---- Reading ------------------------------------------------------------- */

static const struct util_jvalue *member(const struct util_jvalue *obj, const char *key,
                                        enum util_jtype type, const char *where,
                                        struct util_error *err)
{
    const struct util_jvalue *v = util_jobject_get(obj, key);
    if (!v || v->type != type) {
        static const char *const type_names[] = {"null", "boolean", "number", "string",
                                                 "array", "object"};
        util_error_set(err, "%s: member \"%s\" is missing or not a%s %s", where, key,
                       type == UTIL_JARRAY || type == UTIL_JOBJECT ? "n" : "",
                       type_names[type]);
        return NULL;
    }
    return v;
}

/* "symmetric" (optional): each pair names two fields of that port's key of
 * equal width; sets swaps_with. */
static int read_symmetric(const struct util_jvalue *jo, struct deps_object *o, const char *where,
                          struct util_error *err)
{
    const struct util_jvalue *sym = util_jobject_get(jo, "symmetric");
    if (!sym)
        return 0;
    if (sym->type != UTIL_JOBJECT)
        goto bad;
    for (size_t i = 0; i < sym->count; i++) {
        char *end;
        long p = strtol(sym->keys[i], &end, 10);
        const struct util_jvalue *pairs = &sym->items[i];
        if (*end != '\0' || p < 0 || p >= DEPS_MAX_PORTS || pairs->type != UTIL_JARRAY)
            goto bad;
        struct deps_key *k = &o->ports[p];
        for (size_t j = 0; j < pairs->count; j++) {
            const struct util_jvalue *pair = &pairs->items[j];
            int at[2] = {-1, -1};
            for (int h = 0; pair->type == UTIL_JARRAY && pair->count == 2 && h < 2; h++) {
                struct ir_field f;
                const struct util_jvalue *name = &pair->items[h];
                if (name->type != UTIL_JSTRING || ir_field_parse(name->string, &f) != 0)
                    continue;
                for (int x = 0; x < k->count; x++)
                    if (k->fields[x].id == f.id && k->fields[x].prefix == f.prefix)
                        at[h] = x;
            }
            if (at[0] < 0 || at[1] < 0 || at[0] == at[1] ||
                ir_field_bits(k->fields[at[0]].id) != ir_field_bits(k->fields[at[1]].id) ||
                k->fields[at[0]].prefix != k->fields[at[1]].prefix) {
                util_error_set(err, "%s (%s): symmetric[\"%ld\"][%zu] must name two fields of "
                               "port %ld's key with the same width", where, o->name, p, j, p);
                return -1;
            }
            k->swaps_with[at[0]] = (uint8_t)(at[1] + 1);
            k->swaps_with[at[1]] = (uint8_t)(at[0] + 1);
        }
    }
    return 0;
bad:
    util_error_set(err, "%s (%s): \"symmetric\" must map ports to lists of field pairs",
                   where, o->name);
    return -1;
}

static int read_key(const struct util_jvalue *arr, struct deps_key *key, const char *where,
                    struct util_error *err)
{
    if (arr->type != UTIL_JARRAY || arr->count > DEPS_MAX_KEY_FIELDS) {
        util_error_set(err, "%s: a key must be an array of at most %d field names", where,
                       DEPS_MAX_KEY_FIELDS);
        return -1;
    }
    key->count = (int)arr->count;
    for (size_t i = 0; i < arr->count; i++) {
        const struct util_jvalue *f = &arr->items[i];
        if (f->type != UTIL_JSTRING || ir_field_parse(f->string, &key->fields[i]) != 0) {
            util_error_set(err, "%s: \"%s\" is not a field name (expected e.g. ipv4.src, "
                                "ipv4.src/24, l4.dport)", where,
                           f->type == UTIL_JSTRING ? f->string : "(not a string)");
            return -1;
        }
    }
    return 0;
}

static void copy_string(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

static int read_object(const struct util_jvalue *jo, int index, struct deps_plan *plan,
                       struct util_error *err)
{
    struct deps_object *o = &plan->objects[index];
    char where[96];
    snprintf(where, sizeof where, "objects[%d]", index);
    const struct util_jvalue *name = member(jo, "name", UTIL_JSTRING, where, err);
    const struct util_jvalue *decision = name ? member(jo, "decision", UTIL_JSTRING, where, err)
                                              : NULL;
    if (!decision)
        return -1;
    copy_string(o->name, sizeof o->name, name->string);
    int d = name_index(decision_names, 3, decision->string);
    if (d < 0) {
        util_error_set(err, "%s (%s): decision \"%s\" is not sharded, replicated or shared",
                       where, o->name, decision->string);
        return -1;
    }
    o->decision = (enum deps_decision)d;
    const struct util_jvalue *kind = util_jobject_get(jo, "kind");
    int k = kind && kind->type == UTIL_JSTRING ? name_index(kind_names, 6, kind->string) : 0;
    o->kind = (enum deps_object_kind)(k < 0 ? 0 : k);
    const struct util_jvalue *group = util_jobject_get(jo, "group");
    o->group = group && group->type == UTIL_JNUMBER ? util_jnumber_int(group->number) : index;
    const struct util_jvalue *reason = util_jobject_get(jo, "reason");
    copy_string(o->reason, sizeof o->reason,
                reason && reason->type == UTIL_JSTRING ? reason->string : "");
    const struct util_jvalue *size = util_jobject_get(jo, "size");     /* optional */
    if (size && size->type != UTIL_JOBJECT) {
        util_error_set(err, "%s (%s): \"size\" must be an object of sizes", where, o->name);
        return -1;
    }
    uint32_t *fields[] = {&o->key_size, &o->record_size, &o->capacity, &o->width, &o->depth};
    for (int i = 0; size && i < 5; i++) {
        const struct util_jvalue *v = util_jobject_get(size, size_names[i]);
        if (!v)
            continue;
        if (v->type != UTIL_JNUMBER || v->number < 0 || v->number > UINT32_MAX ||
            v->number != (double)(uint32_t)v->number) {
            util_error_set(err, "%s (%s): size.%s must be a whole number in 0..%u", where,
                           o->name, size_names[i], UINT32_MAX);
            return -1;
        }
        *fields[i] = (uint32_t)v->number;
    }
    const struct util_jvalue *ports = util_jobject_get(jo, "ports");
    if (ports && ports->type == UTIL_JOBJECT) {
        for (size_t i = 0; i < ports->count; i++) {
            char *end;
            long p = strtol(ports->keys[i], &end, 10);
            if (*end != '\0' || p < 0 || p >= DEPS_MAX_PORTS) {
                util_error_set(err, "%s (%s): port \"%s\" is not a number below %d", where,
                               o->name, ports->keys[i], DEPS_MAX_PORTS);
                return -1;
            }
            if (read_key(&ports->items[i], &o->ports[p], where, err) != 0)
                return -1;
        }
    }
    return read_symmetric(jo, o, where, err);
}

static int read_access(const struct util_jvalue *ja, int index, struct deps_plan *plan,
                       struct util_error *err)
{
    struct deps_access *a = &plan->accesses[index];
    char where[96];
    snprintf(where, sizeof where, "accesses[%d]", index);
    const struct util_jvalue *object = member(ja, "object", UTIL_JSTRING, where, err);
    const struct util_jvalue *op = object ? member(ja, "op", UTIL_JSTRING, where, err) : NULL;
    const struct util_jvalue *port = op ? member(ja, "port", UTIL_JNUMBER, where, err) : NULL;
    if (!port)
        return -1;
    a->object = -1;
    for (int i = 0; i < plan->n_objects; i++)
        if (strcmp(plan->objects[i].name, object->string) == 0)
            a->object = i;
    if (a->object < 0) {
        util_error_set(err, "%s: object \"%s\" is not in \"objects\"", where, object->string);
        return -1;
    }
    int o = name_index(op_names, 6, op->string);
    if (o < 0) {
        util_error_set(err, "%s: op \"%s\" is not one of read, write, allocate, refresh, "
                            "free, expire", where, op->string);
        return -1;
    }
    a->op = (enum deps_op)o;
    a->port = util_jnumber_int(port->number);
    const struct util_jvalue *key = util_jobject_get(ja, "key");
    if (key && read_key(key, &a->key, where, err) != 0)
        return -1;
    const struct util_jvalue *file = util_jobject_get(ja, "file");
    copy_string(a->file, sizeof a->file, file && file->type == UTIL_JSTRING ? file->string : "");
    const struct util_jvalue *line = util_jobject_get(ja, "line");
    a->line = line && line->type == UTIL_JNUMBER ? util_jnumber_int(line->number) : 0;
    return 0;
}

/* "config" (optional: plans written before it assume nothing). */
static int read_config(const struct util_jvalue *root, struct deps_plan *plan,
                       struct util_error *err)
{
    const struct util_jvalue *list = util_jobject_get(root, "config");
    if (!list)
        return 0;
    if (list->type != UTIL_JARRAY || list->count > DEPS_MAX_CONFIG) {
        util_error_set(err, "plan: \"config\" must be an array of at most %d values",
                       DEPS_MAX_CONFIG);
        return -1;
    }
    for (size_t i = 0; i < list->count; i++) {
        const struct util_jvalue *name = util_jobject_get(&list->items[i], "name");
        const struct util_jvalue *value = util_jobject_get(&list->items[i], "value");
        const struct util_jvalue *from = util_jobject_get(&list->items[i], "from");
        struct deps_config_value *c = &plan->config[i];
        char *end = NULL;
        bool ok = name && name->type == UTIL_JSTRING && strlen(name->string) > 0 &&
                  strlen(name->string) < sizeof c->name && value;
        if (ok && value->type == UTIL_JNUMBER) {
            ok = value->number >= 0 && value->number <= (double)CONFIG_EXACT_MAX &&
                 value->number == (double)(uint64_t)value->number;
            c->value = ok ? (uint64_t)value->number : 0;
        } else if (ok && value->type == UTIL_JSTRING && value->string[0] >= '0' &&
                   value->string[0] <= '9') {
            errno = 0;
            c->value = strtoull(value->string, &end, 10);
            ok = errno == 0 && *end == 0;
        } else {
            ok = false;
        }
        if (!ok) {
            util_error_set(err, "plan: config[%zu] needs a \"name\" (1 to %zu characters) and "
                           "a \"value\" (an integer 0..2^64-1; a decimal string above 2^53)",
                           i, sizeof c->name - 1);
            return -1;
        }
        copy_string(c->name, sizeof c->name, name->string);
        c->from_user = from && from->type == UTIL_JSTRING && strcmp(from->string, "--config") == 0;
        const struct util_jvalue *affects = util_jobject_get(&list->items[i], "affects_plan");
        c->affects_plan = !affects || affects->type != UTIL_JBOOL || affects->boolean;
        plan->n_config = (int)i + 1;
    }
    return 0;
}

int deps_plan_read_json(const struct util_jvalue *root, struct deps_plan *plan,
                        struct util_error *err)
{
    memset(plan, 0, sizeof *plan);
    const struct util_jvalue *nf = util_jobject_get(root, "nf");
    copy_string(plan->nf, sizeof plan->nf, nf && nf->type == UTIL_JSTRING ? nf->string : "");
    const struct util_jvalue *ports = member(root, "input_ports", UTIL_JNUMBER, "plan", err);
    const struct util_jvalue *objects = ports ? member(root, "objects", UTIL_JARRAY, "plan", err)
                                              : NULL;
    if (!objects)
        return -1;
    plan->n_ports = util_jnumber_int(ports->number);
    if (plan->n_ports < 0 || plan->n_ports > DEPS_MAX_PORTS) {
        util_error_set(err, "plan: input_ports %d is outside 0..%d", plan->n_ports,
                       DEPS_MAX_PORTS);
        return -1;
    }
    if (read_config(root, plan, err) != 0) {
        plan->n_config = 0;
        return -1;
    }
    plan->objects = calloc(objects->count ? objects->count : 1, sizeof *plan->objects);
    if (!plan->objects) {
        util_error_set(err, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < objects->count; i++) {
        plan->n_objects = (int)i + 1;
        if (read_object(&objects->items[i], (int)i, plan, err) != 0)
            goto fail;
    }
    const struct util_jvalue *accesses = util_jobject_get(root, "accesses");
    if (accesses && accesses->type == UTIL_JARRAY) {
        plan->accesses = calloc(accesses->count ? accesses->count : 1, sizeof *plan->accesses);
        if (!plan->accesses) {
            util_error_set(err, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < accesses->count; i++) {
            plan->n_accesses = (int)i + 1;
            if (read_access(&accesses->items[i], (int)i, plan, err) != 0)
                goto fail;
        }
    }
    const struct util_jvalue *warnings = util_jobject_get(root, "warnings");
    if (warnings && warnings->type == UTIL_JARRAY && warnings->count > 0) {
        plan->warnings = calloc(warnings->count, sizeof *plan->warnings);
        if (!plan->warnings) {
            util_error_set(err, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < warnings->count; i++) {
            if (warnings->items[i].type != UTIL_JSTRING)
                continue;
            plan->warnings[plan->n_warnings] = strdup(warnings->items[i].string);
            if (plan->warnings[plan->n_warnings])
                plan->n_warnings++;
        }
    }
    return 0;
fail:
    deps_plan_free(plan);
    return -1;
}
