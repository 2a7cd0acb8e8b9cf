/*
 * source.c - a struct sim_source over pcap files with traces/' port policy
 * (--lan CIDR or --port N=FILE). One file goes straight through the plain
 * reader (trace_open/trace_next) with the port set here by the same policy
 * (trace_lan_port or the file's fixed port): the multi-file merging layer
 * (trace_source) costs a third of the read rate and is used only when there
 * are several files. Rewinding reopens the files, so MLFFR searches and
 * scaling tables stream the trace again instead of holding it in memory.
 */
#include <stdlib.h>
#include <unistd.h>

#include "sim/sim_internal.h"

struct file_source {
    struct trace_source_options opts;
    struct trace_source *merged;        /* several files */
    struct trace_reader *single;        /* one file */
    int fixed_port;                     /* single: its port, or -1 for the LAN policy */
};

static int file_next(void *ctx, struct trace_packet *pkt, struct util_error *err)
{
    struct file_source *f = ctx;
    if (f->merged)
        return trace_source_next(f->merged, pkt, err);
    int rc = trace_next(f->single, pkt, err);
    if (rc == 1)
        pkt->port = f->fixed_port >= 0 ? (uint16_t)f->fixed_port
                  : trace_lan_port(f->opts.lan, f->opts.n_lan, &pkt->tuple);
    return rc;
}

static int open_files(struct file_source *f, struct util_error *err)
{
    if (f->opts.n_inputs == 1) {
        f->fixed_port = f->opts.inputs[0].port;
        f->single = trace_open(f->opts.inputs[0].path, err);
        return f->single ? 0 : -1;
    }
    f->merged = trace_source_open(&f->opts, err);
    return f->merged ? 0 : -1;
}

static void close_files(struct file_source *f)
{
    trace_source_close(f->merged);
    trace_close(f->single);
    f->merged = NULL;
    f->single = NULL;
}

static int file_rewind(void *ctx, struct util_error *err)
{
    struct file_source *f = ctx;
    close_files(f);
    return open_files(f, err) ? UTIL_EXIT_IO : 0;
}

static uint64_t file_size(void *ctx)
{
    struct file_source *f = ctx;
    return f->merged ? trace_source_size(f->merged) : trace_file_size(f->single);
}

static uint64_t file_offset(void *ctx)
{
    struct file_source *f = ctx;
    return f->merged ? trace_source_offset(f->merged) : trace_file_offset(f->single);
}

int sim_file_source_open(struct sim_source *src, const struct trace_source_options *opts,
                         struct util_error *err)
{
    if (opts->n_inputs == 0) {
        util_error_set(err, "no trace given");
        return UTIL_EXIT_USAGE;
    }
    struct file_source *f = calloc(1, sizeof *f);
    if (!f) {
        util_error_set(err, "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    f->opts = *opts;
    if (open_files(f, err)) {
        /* A file that cannot be read is an I/O error; one that reads but is
         * not a capture is bad input. */
        int rc = UTIL_EXIT_INPUT;
        for (size_t i = 0; i < opts->n_inputs; i++)
            if (access(opts->inputs[i].path, R_OK) != 0)
                rc = UTIL_EXIT_IO;
        free(f);
        return rc;
    }
    src->ctx = f;
    src->next = file_next;
    src->rewind = file_rewind;
    src->size = file_size;
    src->offset = file_offset;
    return 0;
}

void sim_file_source_close(struct sim_source *src)
{
    struct file_source *f = src->ctx;
    if (!f)
        return;
    close_files(f);
    free(f);
    src->ctx = NULL;
}
