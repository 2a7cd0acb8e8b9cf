/*
 * window.c - the largest flow's share of a core in its busiest window, one of
 * the figures that explain a flat or falling scaling row.
 *
 * Each core's processed packets are cut into windows of SIM_WINDOW_PACKETS
 * consecutive packets. A window's rate is its packets over the span of their
 * arrival times; the busiest window is the fastest complete one over all
 * cores (when no core completes one, the fastest partial window of 2 or more
 * packets). Its largest flow's packets over the window's packets is the share.
 */
#include "sim/sim_internal.h"

#include <stdlib.h>
#include <string.h>

#define SLOTS (2 * SIM_WINDOW_PACKETS)     /* power of two, half full at most */

struct core_window {
    uint64_t keys[SLOTS];       /* flow identities + 1 (0 = empty) */
    uint32_t counts[SLOTS];
    uint32_t n;                 /* packets in the current window */
    uint32_t top;               /* the current window's largest flow count */
    double first, last;         /* arrival times (cycles) */
};

struct sim_windows {
    int cores;
    bool full_seen;             /* some core completed a window */
    double best_rate;
    uint32_t best_n, best_top;
    int best_core;
    struct core_window *w;
};

struct sim_windows *sim_windows_new(int cores)
{
    struct sim_windows *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->w = calloc((size_t)cores, sizeof *s->w);
    if (!s->w) {
        free(s);
        return NULL;
    }
    s->cores = cores;
    s->best_core = -1;
    return s;
}

void sim_windows_free(struct sim_windows *s)
{
    if (s)
        free(s->w);
    free(s);
}

/* Keeps window w of core k if it is the busiest so far. */
static void consider(struct sim_windows *s, int k, const struct core_window *w, bool full)
{
    if (w->n < 2 || (s->full_seen && !full))
        return;
    double span = w->last - w->first;
    double rate = span > 0 ? w->n / span : (double)w->n * 1e30;
    if (full && !s->full_seen) {
        s->full_seen = true;
        s->best_rate = -1;      /* partial windows seen so far do not count */
    }
    if (s->best_core >= 0 && rate <= s->best_rate)
        return;
    s->best_rate = rate;
    s->best_n = w->n;
    s->best_top = w->top;
    s->best_core = k;
}

static void reset(struct core_window *w)
{
    memset(w->keys, 0, sizeof w->keys);
    w->n = 0;
    w->top = 0;
}

void sim_windows_add(struct sim_windows *s, int k, uint64_t flow, double arrival)
{
    struct core_window *w = &s->w[k];
    uint64_t key = flow + 1 ? flow + 1 : 1;
    uint32_t i = (uint32_t)(sim_hash_bytes(&key, sizeof key, 0x77) & (SLOTS - 1));
    while (w->keys[i] && w->keys[i] != key)
        i = (i + 1) & (SLOTS - 1);
    if (!w->keys[i]) {
        w->keys[i] = key;
        w->counts[i] = 0;
    }
    if (++w->counts[i] > w->top)
        w->top = w->counts[i];
    if (w->n++ == 0)
        w->first = arrival;
    w->last = arrival;
    if (w->n == SIM_WINDOW_PACKETS) {
        consider(s, k, w, true);
        reset(w);
    }
}

void sim_windows_finish(struct sim_windows *s, struct sim_result *r)
{
    for (int k = 0; k < s->cores; k++)
        consider(s, k, &s->w[k], false);
    r->window_core = s->best_core;
    r->window_packets = s->best_core >= 0 ? s->best_n : 0;
    r->window_top_flow = s->best_core >= 0 ? s->best_top : 0;
}
