/*
 * replay_set.c - the packets --verify compares, in arrival order (the order
 * `rsskey sim` uses), each with its port, time and the core the plan's RSS
 * gives it: a stream in a temporary file (spill.c), so a long capture costs
 * disk, not memory. The verifier's replays and the parallel run read it.
 */
#include <stdlib.h>
#include <string.h>

#include "launcher/launcher_internal.h"

/* A packet's record: this header, then its bytes. */
struct packet_record {
    uint64_t time_ns;
    uint32_t len;
    int32_t core;
    uint16_t port;
    uint16_t pad[3];
};

int replay_set_open(struct replay_set *set, struct util_error *err)
{
    memset(set, 0, sizeof *set);
    return spill_open(&set->stream, "copy of the capture", err);
}

int replay_set_add(struct replay_set *set, const uint8_t *bytes, uint32_t len, uint16_t port,
                   uint64_t time_ns, int core)
{
    struct packet_record rec = {time_ns, len, core, port, {0}};
    if (!spill_write(&set->stream, &rec, sizeof rec) || !spill_write(&set->stream, bytes, len))
        return -1;
    set->n++;
    return 0;
}

int replay_set_load(struct launcher *l, struct replay_set *set, struct util_error *err)
{
    int rc = replay_set_open(set, err);
    if (rc)
        return rc;
    struct trace_source *src = trace_source_open(&l->opt.replay, err);
    if (!src)
        return UTIL_EXIT_INPUT;
    struct trace_packet pkt;
    int got;
    while ((got = trace_source_next(src, &pkt, err)) == 1) {
        if (pkt.port >= l->n_ports) {
            set->skipped_port++;
            continue;
        }
        if (pkt.cap_len > MAX_FRAME) {
            set->skipped_long++;
            continue;
        }
        if (replay_set_add(set, pkt.data, pkt.cap_len, pkt.port, pkt.time_ns,
                           launcher_steer(l, pkt.port, &pkt.tuple)) != 0)
            break;                      /* spill_finish says why */
    }
    trace_source_close(src);
    if (got < 0)
        return UTIL_EXIT_INPUT;
    return spill_finish(&set->stream, err);
}

void replay_set_free(struct replay_set *set)
{
    spill_close(&set->stream);
    memset(set, 0, sizeof *set);
}

int packet_reader_open(struct packet_reader *r, const struct replay_set *set)
{
    memset(r, 0, sizeof *r);
    r->buf = malloc(MAX_FRAME);
    if (!r->buf || spill_reader_open(&r->r, &set->stream) != 0) {
        free(r->buf);
        r->buf = NULL;
        return -1;
    }
    r->index = SIZE_MAX;
    return 0;
}

const struct vpacket *packet_reader_next(struct packet_reader *r)
{
    struct packet_record rec;
    if (!spill_read(&r->r, &rec, sizeof rec) || rec.len > MAX_FRAME ||
        !spill_read(&r->r, r->buf, rec.len))
        return NULL;
    r->v = (struct vpacket){r->buf, rec.len, rec.port, rec.time_ns, rec.core};
    r->index++;
    return &r->v;
}

void packet_reader_close(struct packet_reader *r)
{
    spill_reader_close(&r->r);
    free(r->buf);
    memset(r, 0, sizeof *r);
}
