/*
 * spill.c - a stream of records in an unlinked temporary file, written once
 * and read sequentially by any number of readers (each with its own offset
 * and buffer). --verify keeps every per-packet result in such streams, not
 * in memory, so what it holds does not grow with the length of the trace:
 * the set of packets, each replay's results, each worker's log.
 *
 * The file lives in $TMPDIR (default /tmp) and is unlinked at once: nothing
 * is left behind, even when the run is killed. A write that fails (the disk
 * is full) marks the stream failed; spill_finish reports it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launcher/launcher_internal.h"

#define WRITE_BUFFER (1u << 20)
#define READ_BUFFER (256u << 10)

int spill_open(struct spill *s, const char *what, struct util_error *err)
{
    memset(s, 0, sizeof *s);
    snprintf(s->what, sizeof s->what, "%s", what);
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    char path[4096];
    snprintf(path, sizeof path, "%s/rsskey-verify-XXXXXX", dir);
    s->fd = mkstemp(path);
    if (s->fd < 0) {
        util_error_set(err, "--verify cannot create a temporary file in %s (%s); set TMPDIR "
                            "to a writable folder with room for the run's results",
                       dir, strerror(errno));
        return UTIL_EXIT_FAILURE;
    }
    unlink(path);
    s->open = true;
    s->wbuf = malloc(WRITE_BUFFER);
    if (!s->wbuf) {
        close(s->fd);
        s->open = false;
        util_error_set(err, "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    return 0;
}

static bool flush(struct spill *s)
{
    size_t done = 0;
    while (done < s->wlen) {
        ssize_t w = write(s->fd, s->wbuf + done, s->wlen - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            s->error = w < 0 ? errno : ENOSPC;
            s->failed = true;
            return false;
        }
        done += (size_t)w;
    }
    s->wlen = 0;
    return true;
}

bool spill_write(struct spill *s, const void *p, size_t n)
{
    const uint8_t *bytes = p;
    if (s->failed || !s->open)
        return false;
    while (n > 0) {
        if (s->wlen == WRITE_BUFFER && !flush(s))
            return false;
        size_t take = WRITE_BUFFER - s->wlen < n ? WRITE_BUFFER - s->wlen : n;
        memcpy(s->wbuf + s->wlen, bytes, take);
        s->wlen += take;
        s->size += take;
        bytes += take;
        n -= take;
    }
    return true;
}

int spill_finish(struct spill *s, struct util_error *err)
{
    if (s->open && !s->failed)
        flush(s);
    if (s->failed || !s->open) {
        util_error_set(err, "--verify could not write its %s to a temporary file (%s); set "
                            "TMPDIR to a folder with room (4 to 6 times the capture's "
                            "size)", s->what, strerror(s->error ? s->error : EBADF));
        return UTIL_EXIT_FAILURE;
    }
    return 0;
}

void spill_close(struct spill *s)
{
    if (s->open)
        close(s->fd);
    free(s->wbuf);
    memset(s, 0, sizeof *s);
}

int spill_reader_open(struct spill_reader *r, const struct spill *s)
{
    memset(r, 0, sizeof *r);
    r->s = s;
    r->buf = malloc(READ_BUFFER);
    return r->buf ? 0 : -1;
}

bool spill_read(struct spill_reader *r, void *p, size_t n)
{
    uint8_t *out = p;
    while (n > 0) {
        if (r->pos == r->len) {
            if (!r->s->open || r->off >= r->s->size - r->s->wlen)
                return false;           /* the end (unflushed bytes are not readable) */
            ssize_t got = pread(r->s->fd, r->buf, READ_BUFFER, (off_t)r->off);
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0)
                return false;
            r->off += (uint64_t)got;
            r->len = (size_t)got;
            r->pos = 0;
        }
        size_t take = r->len - r->pos < n ? r->len - r->pos : n;
        memcpy(out, r->buf + r->pos, take);
        r->pos += take;
        out += take;
        n -= take;
    }
    return true;
}

void spill_reader_close(struct spill_reader *r)
{
    free(r->buf);
    memset(r, 0, sizeof *r);
}
