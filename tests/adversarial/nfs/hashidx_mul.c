/*
 * hashidx_mul.c - per-source packet counters in a fixed array, indexed by a
 * multiplicative (Knuth) hash of the source address: a common way to avoid a
 * map. WAN packets (port 1) from a source whose bucket has counted more than
 * `limit` packets are dropped; LAN packets (port 0) pass uncounted.
 *
 * Configuration: limit (default 100).
 * State: buckets, 4096 counters; bucket = (ntohl(src) * 2654435761) >> 20.
 *
 * Adversarial point: the index keeps the top 12 bits of a PRODUCT, which
 * depend on every bit of the source. Sources that differ anywhere (also in
 * their top 12 bits) can share a counter, so no RSS key over ipv4.src keeps
 * them on one core: a sound plan shares `buckets` (or puts all on one core).
 */
#include <arpa/inet.h>
#include <stdint.h>

#include "rsskey/nf.h"

#define NBUCKETS 4096

struct bucket {
    uint64_t packets;
};

static struct nf_vector *buckets;
static uint64_t limit;

int nf_init(void)
{
    limit = nf_config("limit", 100);
    buckets = nf_vector_create("buckets", sizeof(struct bucket), NBUCKETS);
    return buckets ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    if (pkt->port == 0)
        return 1;
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (!ip)
        return 0;
    uint32_t slot = (ntohl(ip->src) * 2654435761u) >> 20;
    struct bucket *b = nf_vector_write(buckets, slot);
    b->packets++;
    return b->packets > limit ? NF_DROP : 0;
}
