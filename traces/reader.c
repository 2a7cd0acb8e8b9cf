/*
 * reader.c - streaming pcap / pcapng reading through libpcap, one packet at a
 * time (memory does not grow with the trace). Timestamps are always in
 * nanoseconds: libpcap scales microsecond files when the file is opened with
 * nanosecond precision.
 *
 * Files cut short: libpcap reads with fread (no mmap, so a file truncated
 * under the reader cannot raise SIGBUS). A record cut short is an error that
 * names the file, the packet, the byte offset of its record and what to do;
 * a file found shorter at its end than when it was opened (truncated while
 * being read) is an error too, never a clean count of what was left.
 */
#include <errno.h>
#include <stdio.h>
#if defined(__GLIBC__)
#include <stdio_ext.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "traces/traces.h"

/* libpcap reads a file with two small freads per packet (record header,
 * then data) through the FILE's buffer, which stdio sizes to the file
 * system's block (4 KiB): one read(2) every ~50 small packets. A 128 KiB
 * buffer, set before libpcap's first read, makes that one per ~1,600 and
 * still stays in the host's L2 (1 MiB measured slower in pipelined replays). */
#define READ_BUFFER_BYTES (1u << 17)

struct trace_reader {
    pcap_t *pcap;
    FILE *file;                 /* libpcap's; NULL for stdin */
    char *buffer;               /* the FILE's buffer: freed after pcap_close */
    char *path;
    int linktype;
    uint64_t file_size;         /* when opened */
    uint64_t packets;
    /* Classic pcap: the byte offset of the next record, counted from the
     * records read (ftell costs an lseek per call). 0 for pcapng, whose
     * blocks this reader does not see, and for formats libpcap guesses. */
    uint64_t next_record;
    uint32_t snaplen;
};

/* The byte offset of the first record when path is a classic pcap file
 * with standard 16-byte record headers (magic a1b2c3d4 or a1b23c4d, either
 * byte order, version 2), else 0. */
static uint64_t first_record_offset(pcap_t *p, FILE *f)
{
    uint8_t m[4];
    if (pcap_major_version(p) != 2 || pread(fileno(f), m, sizeof m, 0) != (ssize_t)sizeof m)
        return 0;
    uint32_t be = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
    uint32_t le = (uint32_t)m[3] << 24 | (uint32_t)m[2] << 16 | (uint32_t)m[1] << 8 | m[0];
    bool standard = be == 0xa1b2c3d4 || le == 0xa1b2c3d4 || be == 0xa1b23c4d ||
                    le == 0xa1b23c4d;
    return standard ? 24 : 0;
}

struct trace_reader *trace_open(const char *path, struct util_error *err)
{
    struct stat st = {0};
    bool is_stdin = strcmp(path, "-") == 0;     /* libpcap reads "-" as stdin */
    if (!is_stdin && stat(path, &st) != 0) {
        util_error_set(err, "cannot open trace '%s': %s; check the path", path,
                       strerror(errno));
        return NULL;
    }
    if (!is_stdin && S_ISDIR(st.st_mode)) {
        util_error_set(err, "trace '%s' is a directory; give a pcap or pcapng file", path);
        return NULL;
    }
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        util_error_set(err, "cannot open trace '%s': %s; check its permissions", path,
                       strerror(errno));
        return NULL;
    }
    /* Not stdin's: it outlives this reader (libpcap does not close it). */
    char *buffer = is_stdin ? NULL : malloc(READ_BUFFER_BYTES);
    if (buffer && setvbuf(f, buffer, _IOFBF, READ_BUFFER_BYTES) != 0) {
        free(buffer);
        buffer = NULL;
    }
#if defined(__GLIBC__)
    /* Only this reader uses f: stdio need not lock it around each of
     * libpcap's small freads (a glibc extension; a third of fread's cost). */
    if (!is_stdin)
        __fsetlocking(f, FSETLOCKING_BYCALLER);
#endif
    /* On success libpcap owns f (pcap_close closes it). */
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO,
                                                         errbuf);
    if (!p) {
        if (!is_stdin)
            fclose(f);
        free(buffer);
        util_error_set(err,
                       "'%s' is not a readable pcap or pcapng capture (libpcap: %s); "
                       "convert it with 'editcap -F pcap' or check the file",
                       path, errbuf);
        return NULL;
    }
    int linktype = pcap_datalink(p);
    if (!trace_linktype_supported(linktype)) {
        const char *name = pcap_datalink_val_to_name(linktype);
        util_error_set(err,
                       "trace '%s' has link type %d (%s), which rsskey cannot parse; "
                       "supported: Ethernet, raw IP, Linux cooked (SLL, SLL2), BSD loopback",
                       path, linktype, name ? name : "unknown");
        pcap_close(p);
        free(buffer);
        return NULL;
    }
    struct trace_reader *r = calloc(1, sizeof *r);
    char *copy = strdup(path);
    if (!r || !copy) {
        free(r);
        free(copy);
        pcap_close(p);
        free(buffer);
        util_error_set(err, "out of memory opening trace '%s'", path);
        return NULL;
    }
    r->pcap = p;
    r->file = is_stdin ? NULL : f;
    r->next_record = is_stdin ? 0 : first_record_offset(p, f);
    r->snaplen = (uint32_t)pcap_snapshot(p);
    r->buffer = buffer;
    r->path = copy;
    r->linktype = linktype;
    r->file_size = is_stdin ? 0 : (uint64_t)st.st_size;
    return r;
}

/* The file's size now (0 when unknown, e.g. stdin). */
static uint64_t size_now(const struct trace_reader *r)
{
    struct stat st;
    if (!r->file || fstat(fileno(r->file), &st) != 0)
        return 0;
    return (uint64_t)st.st_size;
}

/* A record that cannot be read (libpcap's message in why). */
static void record_error(const struct trace_reader *r, const char *why, struct util_error *err)
{
    unsigned long long n = (unsigned long long)r->packets + 1;
    uint64_t now = size_now(r);
    char where[96] = "";
    long stopped = r->file ? ftell(r->file) : -1;
    if (r->next_record)
        snprintf(where, sizeof where, " (its record starts at byte offset %llu)",
                 (unsigned long long)r->next_record);
    else if (stopped >= 0)
        snprintf(where, sizeof where, " (reading stopped at byte offset %ld)", stopped);
    if (r->file && now < r->file_size) {
        util_error_set(err, "trace '%s': cannot read packet %llu%s: %s; the file was "
                       "truncated while being read (%llu bytes when opened, %llu now). Run "
                       "again once whatever is changing it has finished, or on a copy",
                       r->path, n, where, why, (unsigned long long)r->file_size,
                       (unsigned long long)now);
    } else if (r->packets > 0) {
        util_error_set(err, "trace '%s': cannot read packet %llu%s: %s; the file is "
                       "truncated or corrupt there. If it is still being written or copied, "
                       "wait for that to finish; otherwise the %llu packets before it are "
                       "whole: keep them with 'editcap -F pcap -r %s OUT.pcap 1-%llu'",
                       r->path, n, where, why, n - 1, r->path, n - 1);
    } else {
        util_error_set(err, "trace '%s': cannot read packet 1%s: %s; the file is truncated "
                       "or corrupt at its first packet: capture or copy it again",
                       r->path, where, why);
    }
}

int trace_next(struct trace_reader *r, struct trace_packet *pkt, struct util_error *err)
{
    struct pcap_pkthdr *hdr;
    const u_char *data;
    int rc = pcap_next_ex(r->pcap, &hdr, &data);
    if (rc == PCAP_ERROR_BREAK) {
        /* A clean end, unless the file shrank under the reader: the read
         * then stops at a record boundary with no sign of what was lost. */
        uint64_t now = size_now(r);
        if (r->file && now < r->file_size) {
            long at = ftell(r->file);
            util_error_set(err, "trace '%s' was truncated while being read: %llu bytes when "
                           "opened, %llu now; %llu whole packets were read, to byte offset "
                           "%ld. Run again once whatever is changing it has finished, or on "
                           "a copy", r->path, (unsigned long long)r->file_size,
                           (unsigned long long)now, (unsigned long long)r->packets, at);
            return -1;
        }
        return 0;
    }
    if (rc != 1) {
        record_error(r, pcap_geterr(r->pcap), err);
        return -1;
    }
    r->packets++;
    /* libpcap cuts a record longer than the snapshot length down to it and
     * skips the rest: from there on the offset is not known. */
    if (r->next_record)
        r->next_record = hdr->caplen < r->snaplen ? r->next_record + 16 + hdr->caplen : 0;
    pkt->time_ns = (uint64_t)hdr->ts.tv_sec * 1000000000ull + (uint64_t)hdr->ts.tv_usec;
    pkt->wire_len = hdr->len;
    pkt->cap_len = hdr->caplen;
    pkt->data = data;
    pkt->port = 0;
    trace_parse(r->linktype, data, hdr->caplen, &pkt->tuple);
    return 1;
}

void trace_close(struct trace_reader *r)
{
    if (!r)
        return;
    pcap_close(r->pcap);
    free(r->buffer);
    free(r->path);
    free(r);
}

int trace_linktype(const struct trace_reader *r)
{
    return r->linktype;
}

uint64_t trace_file_size(const struct trace_reader *r)
{
    return r->file_size;
}

uint64_t trace_file_offset(const struct trace_reader *r)
{
    if (r->file_size == 0 || !r->file)
        return 0;                               /* stdin: not seekable */
    long off = ftell(r->file);
    return off < 0 ? 0 : (uint64_t)off;
}
