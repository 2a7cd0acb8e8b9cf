/*
 * source.c - a struct sim_source over traces/' trace_source (pcap files with
 * a port policy: --lan CIDR or --port N=FILE). Rewinding closes and reopens
 * the files, so MLFFR searches and scaling tables stream the trace again
 * instead of holding it in memory.
 */
#include <stdlib.h>
#include <unistd.h>

#include "sim/sim_internal.h"

struct file_source {
    struct trace_source_options opts;
    struct trace_source *src;
};

static int file_next(void *ctx, struct trace_packet *pkt, struct util_error *err)
{
    struct file_source *f = ctx;
    return trace_source_next(f->src, pkt, err);
}

static int file_rewind(void *ctx, struct util_error *err)
{
    struct file_source *f = ctx;
    trace_source_close(f->src);
    f->src = trace_source_open(&f->opts, err);
    return f->src ? 0 : UTIL_EXIT_IO;
}

static uint64_t file_size(void *ctx)
{
    return trace_source_size(((struct file_source *)ctx)->src);
}

static uint64_t file_offset(void *ctx)
{
    return trace_source_offset(((struct file_source *)ctx)->src);
}

int sim_file_source_open(struct sim_source *src, const struct trace_source_options *opts,
                         struct util_error *err)
{
    struct file_source *f = calloc(1, sizeof *f);
    if (!f) {
        util_error_set(err, "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    f->opts = *opts;
    f->src = trace_source_open(&f->opts, err);
    if (!f->src) {
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
    trace_source_close(f->src);
    free(f);
    src->ctx = NULL;
}
