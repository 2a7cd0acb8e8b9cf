/*
 * reader.c - streaming pcap / pcapng reading through libpcap, one packet at a
 * time (memory does not grow with the trace). Timestamps are always in
 * nanoseconds: libpcap scales microsecond files when the file is opened with
 * nanosecond precision.
 */
#include <errno.h>
#include <stdio.h>
#if defined(__GLIBC__)
#include <stdio_ext.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
    char *buffer;               /* the FILE's buffer: freed after pcap_close */
    char *path;
    int linktype;
    uint64_t file_size;
    uint64_t packets;
};

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
    r->buffer = buffer;
    r->path = copy;
    r->linktype = linktype;
    r->file_size = is_stdin ? 0 : (uint64_t)st.st_size;
    return r;
}

int trace_next(struct trace_reader *r, struct trace_packet *pkt, struct util_error *err)
{
    struct pcap_pkthdr *hdr;
    const u_char *data;
    int rc = pcap_next_ex(r->pcap, &hdr, &data);
    if (rc == PCAP_ERROR_BREAK)
        return 0;
    if (rc != 1) {
        util_error_set(err, "trace '%s': cannot read packet %llu: %s; the file may be "
                       "truncated or corrupt", r->path, (unsigned long long)r->packets + 1,
                       pcap_geterr(r->pcap));
        return -1;
    }
    r->packets++;
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
    if (r->file_size == 0)
        return 0;                               /* stdin: not seekable */
    FILE *f = pcap_file(r->pcap);
    long off = f ? ftell(f) : -1;
    return off < 0 ? 0 : (uint64_t)off;
}
