/*
 * util.c - errors, whole-file reads, atomic file writes, progress bar, clock.
 */
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void util_error_set(struct util_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

char *util_read_file(const char *path, size_t *len, struct util_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        util_error_set(err, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (!buf) {
            fclose(f);
            util_error_set(err, "out of memory reading '%s'", path);
            return NULL;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        cap *= 2;
        char *bigger = realloc(buf, cap + 1);
        if (!bigger)
            free(buf);
        buf = bigger;
    }
    if (ferror(f)) {
        util_error_set(err, "cannot read '%s': %s", path, strerror(errno));
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int util_write_file_atomic(const char *path, const void *data, size_t len,
                           struct util_error *err)
{
    if (strcmp(path, "-") == 0) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
            util_error_set(err, "cannot write to standard output: %s", strerror(errno));
            return -1;
        }
        return 0;
    }
    size_t n = strlen(path);
    char *tmp = malloc(n + 16);
    if (!tmp) {
        util_error_set(err, "out of memory");
        return -1;
    }
    snprintf(tmp, n + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        util_error_set(err, "cannot create a temporary file beside '%s': %s "
                            "(is the directory there and writable?)", path, strerror(errno));
        free(tmp);
        return -1;
    }
    int rc = write_all(fd, data, len);
    if (rc == 0)
        rc = fsync(fd);
    /* mkstemp creates 0600; give the file the usual permissions. */
    if (rc == 0) {
        mode_t mask = umask(0);
        umask(mask);
        rc = fchmod(fd, 0666 & ~mask);
    }
    if (close(fd) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    if (rc != 0) {
        util_error_set(err, "cannot write '%s': %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

char *util_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

void util_kv_begin(struct util_kv_reader *r, char *text)
{
    r->next = text;
    r->line = 0;
}

int util_kv_next(struct util_kv_reader *r, const char *path, char **name, char **value,
                 struct util_error *err)
{
    while (r->next && *r->next) {
        char *line = r->next;
        r->next = strchr(line, '\n');
        if (r->next)
            *r->next++ = '\0';
        r->line++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = util_trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            util_error_set(err, "%s:%d: expected 'name = value', got '%s'", path, r->line, s);
            return -1;
        }
        *eq = '\0';
        *name = util_trim(s);
        *value = util_trim(eq + 1);
        return 1;
    }
    return 0;
}

double util_now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void util_progress_start(struct util_progress *p, const char *label, uint64_t total)
{
    p->label = label;
    p->total = total;
    p->enabled = isatty(STDERR_FILENO) && getenv("CI") == NULL;
    p->last_draw = 0;
}

void util_progress_update(struct util_progress *p, uint64_t done)
{
    if (!p->enabled)
        return;
    double now = util_now_seconds();
    if (now - p->last_draw < 0.1)
        return;
    p->last_draw = now;
    if (p->total == 0) {
        fprintf(stderr, "\r%s: %llu", p->label, (unsigned long long)done);
    } else {
        int width = 30;
        double frac = (double)done / (double)p->total;
        if (frac > 1)
            frac = 1;
        int filled = (int)(frac * width);
        fprintf(stderr, "\r%s [", p->label);
        for (int i = 0; i < width; i++)
            fputc(i < filled ? '#' : '.', stderr);
        fprintf(stderr, "] %3d%%", (int)(frac * 100));
    }
    fflush(stderr);
}

void util_progress_finish(struct util_progress *p)
{
    if (!p->enabled)
        return;
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
}

int util_parse_assignment(const char *assignment, char *name, size_t name_size,
                          uint64_t *value, struct util_error *err)
{
    const char *eq = assignment ? strchr(assignment, '=') : NULL;
    if (!eq || eq == assignment) {
        util_error_set(err, "configuration '%s' is not of the form name=value (e.g. "
                       "flow_capacity=65536)", assignment ? assignment : "(null)");
        return -1;
    }
    size_t nlen = (size_t)(eq - assignment);
    if (nlen >= name_size) {
        util_error_set(err, "configuration name in '%s' is longer than %zu bytes", assignment,
                       name_size - 1);
        return -1;
    }
    memcpy(name, assignment, nlen);
    name[nlen] = '\0';
    const char *v = eq + 1;
    char *end;
    errno = 0;
    unsigned long long n = (*v == '-') ? 0 : strtoull(v, &end, 0);
    if (*v == '-' || end == v || errno) {
        util_error_set(err, "configuration '%s': value '%s' is not an unsigned integer", name, v);
        return -1;
    }
    uint64_t mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1000;
    else if (*end == 'M')
        mul = 1000000;
    else if (*end == 'G')
        mul = 1000000000;
    if (mul != 1)
        end++;
    if (*end) {
        util_error_set(err, "configuration '%s': trailing '%s' after the number (allowed "
                       "suffixes: k, M, G)", name, end);
        return -1;
    }
    if (n > UINT64_MAX / mul) {
        util_error_set(err, "configuration '%s': value '%s' overflows 64 bits", name, v);
        return -1;
    }
    *value = n * mul;
    return 0;
}
