/*
 * reta.c - indirection tables: round-robin, and balanced from per-bucket load
 * (longest processing time first, then a bounded local search that moves or
 * swaps buckets off the most loaded core), with the held-back measurement
 * that keeps the tuning honest.
 */
#include "rss/rss_internal.h"

#include <stdlib.h>
#include <string.h>

void rss_reta_round_robin(uint16_t *reta, uint32_t size, int cores)
{
    for (uint32_t i = 0; i < size; i++)
        reta[i] = (uint16_t)(i % (uint32_t)cores);
}

static void core_loads(const uint64_t *load, uint32_t size, const uint16_t *reta, int cores,
                       uint64_t *per_core)
{
    memset(per_core, 0, (size_t)cores * sizeof *per_core);
    for (uint32_t i = 0; i < size; i++)
        per_core[reta[i]] += load[i];
}

double rss_reta_max_mean(const uint64_t *bucket_load, uint32_t size, const uint16_t *reta,
                         int cores)
{
    uint64_t *per = calloc((size_t)cores, sizeof *per);
    if (!per)
        return 0;
    core_loads(bucket_load, size, reta, cores, per);
    uint64_t total = 0, max = 0;
    for (int c = 0; c < cores; c++) {
        total += per[c];
        if (per[c] > max)
            max = per[c];
    }
    free(per);
    return total ? (double)max * cores / (double)total : 1.0;
}

double rss_reta_lower_bound(const uint64_t *bucket_load, uint32_t size, int cores)
{
    uint64_t total = 0, biggest = 0;
    for (uint32_t i = 0; i < size; i++) {
        total += bucket_load[i];
        if (bucket_load[i] > biggest)
            biggest = bucket_load[i];
    }
    if (!total)
        return 1.0;
    double mean = (double)total / cores;
    return (double)biggest > mean ? (double)biggest / mean : 1.0;
}

struct bucket {
    uint64_t load;
    uint32_t index;
};

static int by_load_desc(const void *a, const void *b)
{
    const struct bucket *x = a, *y = b;
    if (x->load != y->load)
        return x->load < y->load ? 1 : -1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static int most_loaded(const uint64_t *per, int cores)
{
    int best = 0;
    for (int c = 1; c < cores; c++)
        if (per[c] > per[best])
            best = c;
    return best;
}

void rss_reta_balance(const uint64_t *bucket_load, uint32_t size, int cores, double seconds,
                      uint16_t *reta)
{
    struct bucket *b = malloc(size * sizeof *b);
    uint64_t *per = calloc((size_t)cores, sizeof *per);
    if (!b || !per) {
        free(b), free(per);
        rss_reta_round_robin(reta, size, cores);
        return;
    }
    for (uint32_t i = 0; i < size; i++)
        b[i] = (struct bucket){bucket_load[i], i};
    qsort(b, size, sizeof *b, by_load_desc);
    /* LPT; empty buckets are dealt round-robin so unseen traffic spreads too. */
    int next_empty = 0;
    for (uint32_t i = 0; i < size; i++) {
        int c;
        if (b[i].load == 0) {
            c = next_empty;
            next_empty = (next_empty + 1) % cores;
        } else {
            c = 0;
            for (int k = 1; k < cores; k++)
                if (per[k] < per[c])
                    c = k;
        }
        reta[b[i].index] = (uint16_t)c;
        per[c] += b[i].load;
    }
    /* Local search: move a bucket off the most loaded core, or swap it with a
     * lighter bucket of another core, whenever that lowers the larger of the
     * two cores' loads. Stops at a local optimum or the time limit. */
    double deadline = util_now_seconds() + seconds;
    for (int round = 0; round < 10000; round++) {
        if ((round & 15) == 0 && util_now_seconds() > deadline)
            break;
        int hot = most_loaded(per, cores);
        bool improved = false;
        for (uint32_t i = 0; i < size && !improved; i++) {
            if (reta[i] != hot || bucket_load[i] == 0)
                continue;
            for (int c = 0; c < cores && !improved; c++) {
                if (c == hot)
                    continue;
                if (per[c] + bucket_load[i] < per[hot]) {
                    per[hot] -= bucket_load[i];
                    per[c] += bucket_load[i];
                    reta[i] = (uint16_t)c;
                    improved = true;
                    break;
                }
                for (uint32_t k = 0; k < size; k++) {
                    if (reta[k] != c || bucket_load[k] >= bucket_load[i])
                        continue;
                    uint64_t delta = bucket_load[i] - bucket_load[k];
                    if (per[c] + delta < per[hot]) {
                        per[hot] -= delta;
                        per[c] += delta;
                        reta[i] = (uint16_t)c;
                        reta[k] = (uint16_t)hot;
                        improved = true;
                        break;
                    }
                }
            }
        }
        if (!improved)
            break;
    }
    free(b);
    free(per);
}

/* ---- Training on packets ---------------------------------------------------------------- */

/* buckets[i]: the RETA index of packet i, or UINT32_MAX when not hashed. */
static void train_from_buckets(struct rss_plan *plan, const uint32_t *buckets, size_t n,
                               double fraction, double seconds, uint64_t unhashed)
{
    uint32_t size = plan->ports[0].reta_size;
    int cores = plan->cores;
    size_t n_train = (size_t)((double)n * fraction);
    if (n_train > n)
        n_train = n;
    uint64_t *train = calloc(size, sizeof *train), *test = calloc(size, sizeof *test);
    uint16_t *rr = calloc(size, sizeof *rr);
    if (!train || !test || !rr) {
        free(train), free(test), free(rr);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (buckets[i] != UINT32_MAX)
            (i < n_train ? train : test)[buckets[i]]++;
    uint16_t *reta = plan->ports[0].reta;
    rss_reta_balance(train, size, cores, seconds, reta);
    for (int p = 1; p < plan->n_ports; p++)
        memcpy(plan->ports[p].reta, reta, size * sizeof *reta);
    rss_reta_round_robin(rr, size, cores);
    struct rss_reta_quality *q = &plan->quality.reta;
    q->trained = true;
    q->train_packets = n_train;
    q->test_packets = n - n_train;
    q->unhashed_packets = unhashed;
    q->train_max_mean = rss_reta_max_mean(train, size, reta, cores);
    q->tuned_max_mean = rss_reta_max_mean(test, size, reta, cores);
    q->default_max_mean = rss_reta_max_mean(test, size, rr, cores);
    q->lower_bound_max_mean = rss_reta_lower_bound(test, size, cores);
    /* The held-back part is the judge: a table tuned to the training part
     * that spreads it worse than round-robin has overfitted, so it is not kept. */
    q->kept_round_robin = q->test_packets > 0 &&
                          q->tuned_max_mean > q->default_max_mean + RSS_RETA_WORSE_EPS;
    if (q->kept_round_robin) {
        for (int p = 0; p < plan->n_ports; p++)
            memcpy(plan->ports[p].reta, rr, size * sizeof *rr);
        rss_deps_warn(&plan->deps,
                      "balance: the RETA tuned on %llu packets balanced the %llu held-back "
                      "packets worse than round-robin (max/mean %.3f vs %.3f), so the plan "
                      "keeps the round-robin RETA",
                      (unsigned long long)q->train_packets, (unsigned long long)q->test_packets,
                      q->tuned_max_mean, q->default_max_mean);
    }
    free(train);
    free(test);
    free(rr);
}

static uint32_t bucket_of(const struct rss_port_hasher *h, const struct trace_tuple *t,
                          uint64_t *unhashed)
{
    uint8_t in[RSS_INPUT_MAX];
    if (rss_tuple_input(h->cfg->rss_hf, t, in) == 0)
        (*unhashed)++;
    return rss_port_hasher_hash(h, t) & (h->cfg->reta_size - 1);
}

void rss_reta_train_tuples(struct rss_plan *plan, const struct trace_tuple *tuples,
                           const uint16_t *ports, size_t n, double train_fraction,
                           double seconds)
{
    struct rss_port_hasher *h = malloc((size_t)plan->n_ports * sizeof *h);
    uint32_t *buckets = malloc((n ? n : 1) * sizeof *buckets);
    if (!h || !buckets) {
        free(h), free(buckets);
        return;
    }
    for (int p = 0; p < plan->n_ports; p++)
        rss_port_hasher_init(&h[p], &plan->ports[p]);
    uint64_t unhashed = 0;
    for (size_t i = 0; i < n; i++) {
        int p = ports && ports[i] < plan->n_ports ? ports[i] : 0;
        buckets[i] = bucket_of(&h[p], &tuples[i], &unhashed);
    }
    train_from_buckets(plan, buckets, n, train_fraction, seconds, unhashed);
    free(h);
    free(buckets);
}

int rss_reta_train_trace(struct rss_plan *plan, const struct trace_source_options *src,
                         double train_fraction, double seconds, struct util_error *err)
{
    struct trace_source *s = trace_source_open(src, err);
    if (!s)
        return UTIL_EXIT_INPUT;
    struct rss_port_hasher *h = malloc((size_t)plan->n_ports * sizeof *h);
    size_t cap = 1 << 16, n = 0;
    uint32_t *buckets = malloc(cap * sizeof *buckets);
    if (!h || !buckets) {
        free(h), free(buckets);
        trace_source_close(s);
        util_error_set(err, "out of memory reading the trace");
        return UTIL_EXIT_FAILURE;
    }
    for (int p = 0; p < plan->n_ports; p++)
        rss_port_hasher_init(&h[p], &plan->ports[p]);
    uint64_t unhashed = 0;
    struct trace_packet pkt;
    int got, rc = UTIL_EXIT_OK;
    struct util_progress progress;
    util_progress_start(&progress, "reading the trace for the RETA", trace_source_size(s));
    while ((got = trace_source_next(s, &pkt, err)) == 1) {
        if ((n & 4095) == 0)
            util_progress_update(&progress, trace_source_offset(s));
        if (n == cap) {
            uint32_t *bigger = realloc(buckets, 2 * cap * sizeof *buckets);
            if (!bigger) {
                util_error_set(err, "out of memory reading the trace (%zu packets)", n);
                rc = UTIL_EXIT_FAILURE;
                break;
            }
            buckets = bigger;
            cap *= 2;
        }
        int p = pkt.port < plan->n_ports ? pkt.port : 0;
        buckets[n++] = bucket_of(&h[p], &pkt.tuple, &unhashed);
    }
    util_progress_finish(&progress);
    if (got < 0)
        rc = UTIL_EXIT_INPUT;
    if (rc == UTIL_EXIT_OK && n == 0) {
        util_error_set(err, "the trace has no packets to tune the RETA with");
        rc = UTIL_EXIT_INPUT;
    }
    if (rc == UTIL_EXIT_OK)
        train_from_buckets(plan, buckets, n, train_fraction, seconds, unhashed);
    trace_source_close(s);
    free(h);
    free(buckets);
    return rc;
}
