/*
 * policer.c - per-destination traffic policer for WAN -> LAN traffic: one
 * token bucket per destination IPv4 address, with expiry.
 *
 * Configuration:
 *   rate_bytes_per_s   bucket refill rate (default 1250000, 10 Mbit/s)
 *   burst_bytes        bucket size (default 100000)
 *   capacity           buckets (default 65536)
 *   expiry_ms          a bucket idle for this long is freed (default 10000);
 *                      a destination seen again starts with a full bucket
 *
 * Port 0 (LAN -> WAN): every frame passes to port 1, unpoliced.
 * Port 1 (WAN -> LAN): IPv4 frames are policed by destination address and
 * charged their frame length (pkt->len); a frame that finds fewer tokens than
 * its length is dropped and costs nothing. A frame that needs a new bucket
 * when every bucket is in use is dropped. Non-IPv4 frames are dropped (the
 * policer cannot tell which destination to charge, so it does not let them
 * bypass the limit).
 */
#include "rsskey/nf.h"

struct dst_key {
    uint32_t dst_ip;
};

struct bucket {
    uint64_t tokens;            /* bytes */
    uint64_t last_ns;           /* time tokens was last brought up to date */
};

static struct nf_map *bucket_table;
static struct nf_alloc *bucket_entries;
static struct nf_vector *bucket_keys;
static struct nf_vector *buckets;
static uint64_t rate_bytes_per_s;
static uint64_t burst_bytes;
static uint64_t full_refill_ns;     /* time an empty bucket takes to fill */
static uint64_t expiry_ns;

int nf_init(void)
{
    uint64_t capacity = nf_config("capacity", 65536);
    rate_bytes_per_s = nf_config("rate_bytes_per_s", 1250000);
    burst_bytes = nf_config("burst_bytes", 100000);
    expiry_ns = nf_config("expiry_ms", 10000) * 1000000ULL;
    if (capacity == 0 || capacity > UINT32_MAX || rate_bytes_per_s == 0 ||
        burst_bytes == 0 || burst_bytes > (UINT64_MAX / 1000000000ULL))
        return -1;
    full_refill_ns = burst_bytes * 1000000000ULL / rate_bytes_per_s + 1;

    bucket_table = nf_map_create("policer_bucket_table", sizeof(struct dst_key),
                                 (uint32_t)capacity);
    bucket_entries = nf_alloc_create("policer_bucket_entries", (uint32_t)capacity);
    bucket_keys = nf_vector_create("policer_bucket_keys", sizeof(struct dst_key),
                                   (uint32_t)capacity);
    buckets = nf_vector_create("policer_buckets", sizeof(struct bucket), (uint32_t)capacity);
    if (bucket_table == NULL || bucket_entries == NULL || bucket_keys == NULL ||
        buckets == NULL)
        return -1;
    return 0;
}

/* Tokens in a bucket at `now`: refilled at the rate, capped at the burst. */
static uint64_t refilled(const struct bucket *b, uint64_t now_ns)
{
    uint64_t elapsed = now_ns > b->last_ns ? now_ns - b->last_ns : 0;
    if (elapsed >= full_refill_ns)
        return burst_bytes;
    /* elapsed < full_refill_ns, so elapsed * rate < burst * 1e9: no overflow. */
    uint64_t tokens = b->tokens + elapsed * rate_bytes_per_s / 1000000000ULL;
    return tokens < burst_bytes ? tokens : burst_bytes;
}

static int police(struct nf_packet *pkt, struct nf_ipv4_hdr *ip)
{
    uint64_t now = pkt->time_ns;
    uint64_t cutoff = now > expiry_ns ? now - expiry_ns : 0;
    nf_alloc_expire(bucket_entries, cutoff, bucket_table, bucket_keys);

    struct dst_key key = { .dst_ip = ip->dst };
    uint64_t cost = pkt->len;
    int32_t index;
    if (nf_map_get(bucket_table, &key, &index)) {
        nf_alloc_refresh(bucket_entries, (uint32_t)index, now);
        uint64_t tokens = refilled(nf_vector_read(buckets, (uint32_t)index), now);
        struct bucket *b = nf_vector_write(buckets, (uint32_t)index);
        b->last_ns = now;
        if (tokens < cost) {
            b->tokens = tokens;
            return NF_DROP;
        }
        b->tokens = tokens - cost;
        return 0;
    }

    if (cost > burst_bytes)
        return NF_DROP;                 /* could never pass */
    uint32_t fresh;
    if (!nf_alloc_new(bucket_entries, now, &fresh))
        return NF_DROP;                 /* every bucket in use */
    struct dst_key *stored_key = nf_vector_write(bucket_keys, fresh);
    *stored_key = key;
    struct bucket *b = nf_vector_write(buckets, fresh);
    b->tokens = burst_bytes - cost;
    b->last_ns = now;
    nf_map_put(bucket_table, &key, (int32_t)fresh);
    return 0;
}

int nf_process(struct nf_packet *pkt)
{
    if (pkt->port == 0)
        return 1;
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (ip == NULL)
        return NF_DROP;
    return police(pkt, ip);
}
