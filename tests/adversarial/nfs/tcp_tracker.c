/*
 * tcp_tracker.c - a small TCP connection tracker between an inside (port 0)
 * and an outside (port 1) network. Only IPv4 TCP passes.
 *
 *   inside SYN           (no entry)      -> SYN_SENT      new entry
 *   outside SYN+ACK      SYN_SENT        -> SYN_RECV
 *   inside ACK           SYN_RECV        -> ESTABLISHED
 *   FIN either side      SYN_RECV/EST.   -> FIN_WAIT (the side is noted)
 *   FIN other side       FIN_WAIT        -> CLOSED (later ACKs still pass)
 *   RST either side      any             -> entry removed, RST passes
 * Outside packets of unknown connections, inside non-SYN packets of unknown
 * connections and packets that do not fit the state are dropped. Every
 * accepted packet refreshes its entry; entries idle for `idle_ms` expire.
 *
 * Configuration: conns (default 16384), idle_ms (default 5000).
 * State: tt_index (inside-view 4-tuple -> slot), tt_alloc, tt_keys (slot ->
 * 4-tuple), tt_state (slot -> state and FIN sides).
 *
 * Sound plan: all four objects sharded with a cross-port symmetric hash
 * (port 0 src/dst/sport/dport == port 1 dst/src/dport/sport), like fw.
 */
#include <stdint.h>
#include <string.h>

#include "rsskey/nf.h"

enum tcp_state { SYN_SENT = 1, SYN_RECV, ESTABLISHED, FIN_WAIT, CLOSED };

struct conn4 {
    uint32_t in_addr, out_addr;
    uint16_t in_port, out_port;
};

struct conn_state {
    uint8_t state;
    uint8_t fin_from;           /* bit 0: inside sent FIN, bit 1: outside */
    uint8_t pad[2];
};

static struct nf_map *tt_index;
static struct nf_alloc *tt_alloc;
static struct nf_vector *tt_keys, *tt_state;
static uint64_t idle_ns;

int nf_init(void)
{
    uint32_t conns = (uint32_t)nf_config("conns", 16384);
    idle_ns = nf_config("idle_ms", 5000) * 1000000ull;
    tt_index = nf_map_create("tt_index", sizeof(struct conn4), conns);
    tt_alloc = nf_alloc_create("tt_alloc", conns);
    tt_keys = nf_vector_create("tt_keys", sizeof(struct conn4), conns);
    tt_state = nf_vector_create("tt_state", sizeof(struct conn_state), conns);
    return tt_index && tt_alloc && tt_keys && tt_state ? 0 : -1;
}

/* The next state, or 0 when the packet does not fit the current one. */
static uint8_t step(uint8_t state, int inside, uint8_t flags, uint8_t *fin_from)
{
    int syn = flags & NF_TCP_FLAG_SYN, ack = flags & NF_TCP_FLAG_ACK;
    uint8_t side = inside ? 1 : 2;
    switch (state) {
    case SYN_SENT:
        if (inside)
            return syn && !ack ? SYN_SENT : 0;
        return syn && ack ? SYN_RECV : 0;
    case SYN_RECV:
        if (!(flags & NF_TCP_FLAG_FIN))
            return inside && ack && !syn ? ESTABLISHED : SYN_RECV;
        __attribute__((fallthrough));   /* a FIN before the final ACK */
    case ESTABLISHED:
    case FIN_WAIT:
        if (flags & NF_TCP_FLAG_FIN) {
            *fin_from |= side;
            return *fin_from == 3 ? CLOSED : FIN_WAIT;
        }
        return syn ? 0 : state;
    case CLOSED:
        return syn ? 0 : CLOSED;
    default:
        return 0;
    }
}

int nf_process(struct nf_packet *pkt)
{
    int inside = pkt->port == 0;
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    struct nf_tcp_hdr *tcp = nf_tcp(pkt);
    if (!ip || !tcp)
        return NF_DROP;
    struct conn4 c;
    memset(&c, 0, sizeof c);
    c.in_addr = inside ? ip->src : ip->dst;
    c.out_addr = inside ? ip->dst : ip->src;
    c.in_port = inside ? tcp->sport : tcp->dport;
    c.out_port = inside ? tcp->dport : tcp->sport;
    uint64_t now = pkt->time_ns;
    nf_alloc_expire(tt_alloc, now > idle_ns ? now - idle_ns : 0, tt_index, tt_keys);

    int out = inside ? 1 : 0;
    int32_t found;
    if (!nf_map_get(tt_index, &c, &found)) {
        if (!inside || (tcp->flags & (NF_TCP_FLAG_SYN | NF_TCP_FLAG_ACK | NF_TCP_FLAG_RST))
                           != NF_TCP_FLAG_SYN)
            return NF_DROP;
        uint32_t slot;
        if (!nf_alloc_new(tt_alloc, now, &slot))
            return NF_DROP;
        memcpy(nf_vector_write(tt_keys, slot), &c, sizeof c);
        struct conn_state *fresh = nf_vector_write(tt_state, slot);
        memset(fresh, 0, sizeof *fresh);
        fresh->state = SYN_SENT;
        nf_map_put(tt_index, &c, (int32_t)slot);
        return out;
    }
    uint32_t slot = (uint32_t)found;
    if (tcp->flags & NF_TCP_FLAG_RST) {
        nf_map_erase(tt_index, &c);
        nf_alloc_free(tt_alloc, slot);
        return out;
    }
    struct conn_state *st = nf_vector_write(tt_state, slot);
    uint8_t fin_from = st->fin_from;
    uint8_t next = step(st->state, inside, tcp->flags, &fin_from);
    if (next == 0)
        return NF_DROP;
    st->state = next;
    st->fin_from = fin_from;
    nf_alloc_refresh(tt_alloc, slot, now);
    return out;
}
