/*
 * replay_set.c - a capture held in memory for --verify: every packet the
 * replay would dispatch, in arrival order (the order `rsskey sim` uses), with
 * its port, time and the core the plan's RSS gives it. The verifier's
 * references and the parallel run read the same set.
 */
#include <stdlib.h>
#include <string.h>

#include "launcher/launcher_internal.h"

static int set_push(struct replay_set *set, const struct trace_packet *pkt, int core)
{
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 4096;
        struct vpacket *bigger = realloc(set->packets, cap * sizeof *bigger);
        if (!bigger)
            return -1;
        set->packets = bigger;
        set->cap = cap;
    }
    struct vpacket *v = &set->packets[set->n];
    v->bytes = malloc(pkt->cap_len ? pkt->cap_len : 1);
    if (!v->bytes)
        return -1;
    memcpy(v->bytes, pkt->data, pkt->cap_len);
    v->len = pkt->cap_len;
    v->port = pkt->port;
    v->time_ns = pkt->time_ns;
    v->core = core;
    set->n++;
    return 0;
}

int replay_set_load(struct launcher *l, struct replay_set *set, struct util_error *err)
{
    memset(set, 0, sizeof *set);
    struct trace_source *src = trace_source_open(&l->opt.replay, err);
    if (!src)
        return UTIL_EXIT_INPUT;
    struct trace_packet pkt;
    int got, rc = 0;
    while ((got = trace_source_next(src, &pkt, err)) == 1) {
        if (pkt.port >= l->n_ports) {
            set->skipped_port++;
            continue;
        }
        if (pkt.cap_len > MAX_FRAME) {
            set->skipped_long++;
            continue;
        }
        int core = rss_port_hasher_core(&l->hashers[pkt.port], &pkt.tuple);
        if (core < 0 || core >= l->cores)
            core = 0;
        if (set_push(set, &pkt, core) != 0) {
            util_error_set(err, "--verify ran out of memory holding the capture (%zu packets "
                                "so far); replay a shorter capture", set->n);
            rc = UTIL_EXIT_FAILURE;
            break;
        }
    }
    if (rc == 0 && got < 0)
        rc = UTIL_EXIT_INPUT;
    trace_source_close(src);
    if (rc != 0)
        replay_set_free(set);
    return rc;
}

void replay_set_free(struct replay_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        free(set->packets[i].bytes);
    free(set->packets);
    memset(set, 0, sizeof *set);
}
