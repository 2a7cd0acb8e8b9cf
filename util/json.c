/*
 * json.c - a pretty-printing JSON writer and a small recursive-descent reader
 * for rsskey's plans and reports. Strings are UTF-8 passed through; \uXXXX
 * escapes are decoded to UTF-8 (surrogate pairs included).
 */
#include "util/util.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- Writer -------------------------------------------------------------- */

#define JSON_MAX_DEPTH 64

struct util_json {
    char *buf;
    size_t len, cap;
    int depth;
    bool first[JSON_MAX_DEPTH];     /* no member written yet at this depth */
    bool compact[JSON_MAX_DEPTH];   /* items at this depth stay on one line */
    bool after_key;                 /* a key was written; the value follows */
};

static void put(struct util_json *w, const char *s, size_t n)
{
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap ? w->cap : 4096;
        while (w->len + n + 1 > cap)
            cap *= 2;
        char *b = realloc(w->buf, cap);
        if (!b)
            abort();                /* out of memory: nothing sensible to do */
        w->buf = b;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

static void puts_(struct util_json *w, const char *s) { put(w, s, strlen(s)); }

static void newline_indent(struct util_json *w)
{
    put(w, "\n", 1);
    for (int i = 0; i < w->depth; i++)
        put(w, "  ", 2);
}

/* Separator and indentation before a value or key at the current depth. */
static void before_item(struct util_json *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth > 0) {
        if (!w->first[w->depth])
            put(w, w->compact[w->depth] ? ", " : ",", w->compact[w->depth] ? 2 : 1);
        if (!w->compact[w->depth])
            newline_indent(w);
        w->first[w->depth] = false;
    }
}

struct util_json *util_json_new(void)
{
    return calloc(1, sizeof(struct util_json));
}

void util_json_free(struct util_json *w)
{
    if (!w)
        return;
    free(w->buf);
    free(w);
}

static void open_(struct util_json *w, const char *c, bool compact)
{
    before_item(w);
    puts_(w, c);
    if (w->depth + 1 < JSON_MAX_DEPTH)
        w->depth++;
    w->first[w->depth] = true;
    w->compact[w->depth] = compact || w->compact[w->depth - 1];
}

static void close_(struct util_json *w, const char *c)
{
    bool empty = w->first[w->depth];
    bool compact = w->compact[w->depth];
    if (w->depth > 0)
        w->depth--;
    if (!empty && !compact)
        newline_indent(w);
    puts_(w, c);
    if (w->depth == 0)
        put(w, "\n", 1);
}

void util_json_object_begin(struct util_json *w) { open_(w, "{", false); }
void util_json_object_end(struct util_json *w) { close_(w, "}"); }
void util_json_array_begin(struct util_json *w) { open_(w, "[", false); }
void util_json_array_begin_compact(struct util_json *w) { open_(w, "[", true); }
void util_json_array_end(struct util_json *w) { close_(w, "]"); }

static void quoted(struct util_json *w, const char *s)
{
    put(w, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        switch (*p) {
        case '"': puts_(w, "\\\""); break;
        case '\\': puts_(w, "\\\\"); break;
        case '\n': puts_(w, "\\n"); break;
        case '\r': puts_(w, "\\r"); break;
        case '\t': puts_(w, "\\t"); break;
        default:
            if (*p < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                puts_(w, esc);
            } else {
                put(w, (const char *)p, 1);
            }
        }
    }
    put(w, "\"", 1);
}

void util_json_key(struct util_json *w, const char *key)
{
    before_item(w);
    quoted(w, key);
    put(w, ": ", 2);
    w->after_key = true;
}

void util_json_string(struct util_json *w, const char *s)
{
    before_item(w);
    if (s)
        quoted(w, s);
    else
        puts_(w, "null");
}

void util_json_int(struct util_json *w, int64_t v)
{
    char b[32];
    before_item(w);
    snprintf(b, sizeof b, "%lld", (long long)v);
    puts_(w, b);
}

void util_json_uint(struct util_json *w, uint64_t v)
{
    char b[32];
    before_item(w);
    snprintf(b, sizeof b, "%llu", (unsigned long long)v);
    puts_(w, b);
}

void util_json_double(struct util_json *w, double v)
{
    char b[64];
    before_item(w);
    if (!isfinite(v)) {
        puts_(w, "null");
        return;
    }
    snprintf(b, sizeof b, "%.12g", v);
    puts_(w, b);
}

void util_json_bool(struct util_json *w, bool v)
{
    before_item(w);
    puts_(w, v ? "true" : "false");
}

void util_json_null(struct util_json *w)
{
    before_item(w);
    puts_(w, "null");
}

const char *util_json_text(const struct util_json *w, size_t *len)
{
    if (len)
        *len = w->len;
    return w->buf ? w->buf : "";
}

/* ---- Reader -------------------------------------------------------------- */

struct parser {
    const char *s, *end, *source;
    struct util_error *err;
    int depth;
};

/* Records what went wrong; util_json_parse adds the source and position. */
static bool fail(struct parser *p, const char *what)
{
    util_error_set(p->err, "%s", what);
    return false;
}

static void position(const char *start, const char *at, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (const char *q = start; q < at; q++) {
        if (*q == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static void skip_ws(struct parser *p)
{
    while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
        p->s++;
}

static bool parse_value(struct parser *p, struct util_jvalue *v);

static void append_utf8(char *out, size_t *n, uint32_t cp)
{
    if (cp < 0x80) {
        out[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*n)++] = (char)(0xC0 | (cp >> 6));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[(*n)++] = (char)(0xE0 | (cp >> 12));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*n)++] = (char)(0xF0 | (cp >> 18));
        out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
}

static bool hex4(struct parser *p, uint32_t *out)
{
    if (p->end - p->s < 4)
        return false;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
        else return false;
    }
    p->s += 4;
    *out = v;
    return true;
}

static bool parse_string(struct parser *p, char **out)
{
    p->s++;                             /* opening quote */
    const char *start = p->s;
    size_t max = 0;
    while (p->s < p->end && *p->s != '"') {
        if (*p->s == '\\' && ++p->s == p->end)
            break;                      /* a backslash as the last byte */
        p->s++;
        max++;
    }
    if (p->s >= p->end)
        return fail(p, "unterminated string");
    char *buf = malloc(max * 4 + 1);
    if (!buf)
        return fail(p, "out of memory");
    size_t n = 0;
    p->s = start;
    while (*p->s != '"') {
        unsigned char c = (unsigned char)*p->s++;
        if (c < 0x20) {
            free(buf);
            return fail(p, "control character in string");
        }
        if (c != '\\') {
            buf[n++] = (char)c;
            continue;
        }
        char e = *p->s++;
        uint32_t cp;
        switch (e) {
        case '"': buf[n++] = '"'; break;
        case '\\': buf[n++] = '\\'; break;
        case '/': buf[n++] = '/'; break;
        case 'b': buf[n++] = '\b'; break;
        case 'f': buf[n++] = '\f'; break;
        case 'n': buf[n++] = '\n'; break;
        case 'r': buf[n++] = '\r'; break;
        case 't': buf[n++] = '\t'; break;
        case 'u':
            if (!hex4(p, &cp)) {
                free(buf);
                return fail(p, "bad \\u escape");
            }
            if (cp >= 0xD800 && cp < 0xDC00 && p->end - p->s >= 6 && p->s[0] == '\\' &&
                p->s[1] == 'u') {
                uint32_t lo;
                p->s += 2;
                if (!hex4(p, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
                    free(buf);
                    return fail(p, "bad surrogate pair");
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            append_utf8(buf, &n, cp);
            break;
        default:
            free(buf);
            return fail(p, "bad escape in string");
        }
    }
    p->s++;                             /* closing quote */
    buf[n] = '\0';
    *out = buf;
    return true;
}

static bool parse_number(struct parser *p, struct util_jvalue *v)
{
    char tmp[64];
    size_t n = 0;
    while (p->s + n < p->end && n < sizeof tmp - 1 &&
           strchr("+-0123456789.eE", p->s[n]) != NULL)
        n++;
    memcpy(tmp, p->s, n);
    tmp[n] = '\0';
    char *endp;
    v->number = strtod(tmp, &endp);
    if (n == 0 || *endp != '\0')
        return fail(p, "bad number");
    v->type = UTIL_JNUMBER;
    p->s += n;
    return true;
}

static bool literal(struct parser *p, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(p->end - p->s) < n || memcmp(p->s, word, n) != 0)
        return fail(p, "unexpected token");
    p->s += n;
    return true;
}

static bool grow(struct util_jvalue *v, size_t *cap, bool with_keys)
{
    if (v->count < *cap)
        return true;
    size_t nc = *cap ? *cap * 2 : 8;
    struct util_jvalue *items = realloc(v->items, nc * sizeof *items);
    if (!items)
        return false;
    v->items = items;
    if (with_keys) {
        char **keys = realloc(v->keys, nc * sizeof *keys);
        if (!keys)
            return false;
        v->keys = keys;
    }
    *cap = nc;
    return true;
}

static bool parse_container(struct parser *p, struct util_jvalue *v, bool object)
{
    char close = object ? '}' : ']';
    size_t cap = 0;
    v->type = object ? UTIL_JOBJECT : UTIL_JARRAY;
    if (++p->depth > 256)
        return fail(p, "nesting too deep");
    p->s++;
    skip_ws(p);
    if (p->s < p->end && *p->s == close) {
        p->s++;
        p->depth--;
        return true;
    }
    for (;;) {
        skip_ws(p);
        if (!grow(v, &cap, object))
            return fail(p, "out of memory");
        char *key = NULL;
        if (object) {
            if (p->s >= p->end || *p->s != '"')
                return fail(p, "expected a string key");
            if (!parse_string(p, &key))
                return false;
            skip_ws(p);
            if (p->s >= p->end || *p->s != ':') {
                free(key);
                return fail(p, "expected ':' after key");
            }
            p->s++;
            v->keys[v->count] = key;
        }
        memset(&v->items[v->count], 0, sizeof v->items[0]);
        v->count++;
        if (!parse_value(p, &v->items[v->count - 1]))
            return false;
        skip_ws(p);
        if (p->s < p->end && *p->s == ',') {
            p->s++;
            continue;
        }
        if (p->s < p->end && *p->s == close) {
            p->s++;
            p->depth--;
            return true;
        }
        return fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static bool parse_value(struct parser *p, struct util_jvalue *v)
{
    skip_ws(p);
    if (p->s >= p->end)
        return fail(p, "unexpected end of input");
    switch (*p->s) {
    case '{': return parse_container(p, v, true);
    case '[': return parse_container(p, v, false);
    case '"': v->type = UTIL_JSTRING; return parse_string(p, &v->string);
    case 't': v->type = UTIL_JBOOL; v->boolean = true; return literal(p, "true");
    case 'f': v->type = UTIL_JBOOL; v->boolean = false; return literal(p, "false");
    case 'n': v->type = UTIL_JNULL; return literal(p, "null");
    default: return parse_number(p, v);
    }
}

static void free_members(struct util_jvalue *v)
{
    free(v->string);
    for (size_t i = 0; i < v->count; i++) {
        free_members(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
}

struct util_jvalue *util_json_parse(const char *text, size_t len, const char *source,
                                    struct util_error *err)
{
    struct util_error local;
    struct parser p = {text, text + len, source, err ? err : &local, 0};
    struct util_jvalue *root = calloc(1, sizeof *root);
    if (!root) {
        util_error_set(err, "%s: out of memory", source);
        return NULL;
    }
    bool ok = parse_value(&p, root);
    if (ok) {
        skip_ws(&p);
        if (p.s != p.end)
            ok = fail(&p, "trailing characters after the JSON value");
    }
    if (!ok) {
        int line, col;
        char what[256];
        position(text, p.s < p.end ? p.s : p.end, &line, &col);
        memcpy(what, p.err->msg, sizeof what - 1);
        what[sizeof what - 1] = '\0';
        util_error_set(err, "%s:%d:%d: invalid JSON: %s", source, line, col, what);
        util_jvalue_free(root);
        return NULL;
    }
    return root;
}

void util_jvalue_free(struct util_jvalue *v)
{
    if (!v)
        return;
    free_members(v);
    free(v);
}

const struct util_jvalue *util_jobject_get(const struct util_jvalue *v, const char *key)
{
    if (!v || v->type != UTIL_JOBJECT)
        return NULL;
    for (size_t i = 0; i < v->count; i++)
        if (strcmp(v->keys[i], key) == 0)
            return &v->items[i];
    return NULL;
}

int util_jnumber_int(double number)
{
    if (!(number >= (double)INT_MIN && number <= (double)INT_MAX))
        return INT_MIN;
    return (int)number;
}

bool util_jnumber_u64(double number, uint64_t *out)
{
    *out = 0;
    if (!(number >= 0 && number < 18446744073709551616.0) || number != floor(number))
        return false;
    *out = (uint64_t)number;
    return true;
}
