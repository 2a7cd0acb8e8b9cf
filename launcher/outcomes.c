/*
 * outcomes.c - the parallel run's log for --verify: each worker writes one
 * record per packet it processed (its input, its output when forwarded
 * changed, verdict, lock-commit number) to its own stream (spill.c), and
 * the verifier reads the logs back merged into one order. Each worker
 * processes its packets in the order they came and commits them in that
 * order, so every log is sorted by arrival and by commit, and a k-way merge
 * of the logs gives either order for the whole run.
 */
#include <stdlib.h>
#include <string.h>

#include "launcher/launcher_internal.h"

/* A record: this header, the input, then the output when has_out. */
struct outcome_record {
    uint64_t seq, commit, time_ns;
    uint32_t len;
    int32_t verdict;
    uint16_t port;
    uint8_t has_out;
    uint8_t pad[5];
};

int outcome_log_open(struct worker *w, struct util_error *err)
{
    char what[48];
    snprintf(what, sizeof what, "log of core %d", w->core);
    w->log_input = malloc(MAX_FRAME);
    if (!w->log_input) {
        util_error_set(err, "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    return spill_open(&w->log, what, err);
}

bool outcome_log_write(struct worker *w, uint64_t seq, uint64_t commit, uint64_t time_ns,
                       uint16_t port, int verdict, const uint8_t *in, const uint8_t *out,
                       uint32_t len)
{
    bool has_out = verdict >= 0 && memcmp(in, out, len) != 0;
    struct outcome_record rec = {seq, commit, time_ns, len, verdict, port, has_out, {0}};
    if (!spill_write(&w->log, &rec, sizeof rec) || !spill_write(&w->log, in, len) ||
        (has_out && !spill_write(&w->log, out, len)))
        return false;
    w->n_log++;
    return true;
}

static bool read_head(struct outcome_merge *m, int c)
{
    struct outcome_record rec;
    m->have[c] = spill_read(&m->r[c], &rec, sizeof rec) && rec.len <= MAX_FRAME &&
                 spill_read(&m->r[c], m->in[c], rec.len) &&
                 (!rec.has_out || spill_read(&m->r[c], m->out[c], rec.len));
    if (m->have[c])
        m->head[c] = (struct outcome){rec.seq, rec.commit, rec.time_ns, rec.port, c,
                                      rec.verdict, rec.len, m->in[c],
                                      rec.has_out ? m->out[c] : NULL};
    return m->have[c];
}

int outcome_merge_open(struct outcome_merge *m, const struct launcher *l, bool by_commit)
{
    memset(m, 0, sizeof *m);
    m->n = l->cores;
    m->by_commit = by_commit;
    m->last = -1;
    for (int c = 0; c < m->n; c++) {
        m->in[c] = malloc(MAX_FRAME);
        m->out[c] = malloc(MAX_FRAME);
        if (!m->in[c] || !m->out[c] || spill_reader_open(&m->r[c], &l->workers[c].log) != 0)
            return -1;
        read_head(m, c);
    }
    return 0;
}

/* x comes before y in the merge's order. */
static bool before(const struct outcome_merge *m, const struct outcome *x,
                   const struct outcome *y)
{
    if (m->by_commit)
        return x->commit < y->commit;
    if (x->seq != y->seq)
        return x->seq < y->seq;
    if (x->time_ns != y->time_ns)
        return x->time_ns < y->time_ns;
    return x->commit < y->commit;
}

const struct outcome *outcome_merge_next(struct outcome_merge *m)
{
    if (m->last >= 0)
        read_head(m, m->last);          /* the one returned last is used up */
    int best = -1;
    for (int c = 0; c < m->n; c++)
        if (m->have[c] && (best < 0 || before(m, &m->head[c], &m->head[best])))
            best = c;
    m->last = best;
    return best >= 0 ? &m->head[best] : NULL;
}

void outcome_merge_close(struct outcome_merge *m)
{
    for (int c = 0; c < m->n; c++) {
        spill_reader_close(&m->r[c]);
        free(m->in[c]);
        free(m->out[c]);
    }
    memset(m, 0, sizeof *m);
}
