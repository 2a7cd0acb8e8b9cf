/*
 * config.c - the configuration nf_config answers: name=value pairs set by
 * rt_config_set, rt_config_parse or rt_config_load_file, process-wide like
 * the registry (nf_config has no context argument), cleared by rt_reset.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "runtime/rt_internal.h"

struct config_entry {
    char name[RT_CONFIG_NAME_MAX];
    uint64_t value;
};

struct config {
    struct config_entry *entries;
    size_t nconfig, cap;
};

static struct config the_config;

void rt_config_clear(void)
{
    free(the_config.entries);
    memset(&the_config, 0, sizeof the_config);
}

int rt_config_set(const char *name, uint64_t value, struct util_error *err)
{
    if (!name || !*name || strlen(name) >= RT_CONFIG_NAME_MAX) {
        util_error_set(err, "configuration name '%s' is empty or longer than %d bytes",
                       name ? name : "(null)", RT_CONFIG_NAME_MAX - 1);
        return -1;
    }
    struct config *cfg = &the_config;
    for (size_t i = 0; i < cfg->nconfig; i++) {
        if (strcmp(cfg->entries[i].name, name) == 0) {
            cfg->entries[i].value = value;
            return 0;
        }
    }
    if (cfg->nconfig == cfg->cap) {
        size_t cap = cfg->cap ? cfg->cap * 2 : 16;
        struct config_entry *c = realloc(cfg->entries, cap * sizeof *c);
        if (!c) {
            util_error_set(err, "out of memory storing configuration '%s'", name);
            return -1;
        }
        cfg->entries = c;
        cfg->cap = cap;
    }
    struct config_entry *e = &cfg->entries[cfg->nconfig++];
    memset(e->name, 0, sizeof e->name);
    memcpy(e->name, name, strlen(name));
    e->value = value;
    return 0;
}

int rt_config_parse(const char *assignment, struct util_error *err)
{
    char name[RT_CONFIG_NAME_MAX];
    uint64_t value;
    if (util_parse_assignment(assignment, name, sizeof name, &value, err) != 0)
        return -1;
    return rt_config_set(name, value, err);
}

int rt_config_load_file(const char *path, struct util_error *err)
{
    size_t len;
    char *text = util_read_file(path, &len, err);
    if (!text)
        return -1;
    int rc = 0;
    unsigned line_no = 0;
    for (char *line = text; line && rc == 0;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        line_no++;
        /* squeeze out blanks: names and numbers contain none */
        char *w = line;
        for (char *r = line; *r; r++)
            if (*r != ' ' && *r != '\t' && *r != '\r')
                *w++ = *r;
        *w = '\0';
        if (*line && *line != '#') {
            struct util_error inner;
            if (rt_config_parse(line, &inner) != 0) {
                util_error_set(err, "%s:%u: %s", path, line_no, inner.msg);
                rc = -1;
            }
        }
        line = next;
    }
    free(text);
    return rc;
}

bool rt_config_get(const char *name, uint64_t *value)
{
    const struct config *cfg = &the_config;
    if (!name)
        return false;
    for (size_t i = 0; i < cfg->nconfig; i++) {
        if (strcmp(cfg->entries[i].name, name) == 0) {
            if (value)
                *value = cfg->entries[i].value;
            return true;
        }
    }
    return false;
}

uint64_t nf_config(const char *name, uint64_t default_value)
{
    uint64_t v;
    return rt_config_get(name, &v) ? v : default_value;
}
