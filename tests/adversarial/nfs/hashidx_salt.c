/*
 * hashidx_salt.c - like hashidx_mul, but the bucket of a source is its
 * address plus a configured salt, top 12 bits: (ntohl(src) + salt) >> 20.
 * WAN packets (port 1) are counted per bucket and dropped above `limit`; LAN
 * packets (port 0) pass.
 *
 * Configuration: limit (default 100), salt (default 0x00054321).
 * State: buckets, 4096 counters.
 *
 * Adversarial point: adding a constant is injective, but its carry reaches the
 * top 12 bits, so the bucket is NOT a /12 prefix of the source: 10.15.255.255
 * and 10.16.0.0 (different /12s) can share a bucket. A sound plan shares
 * `buckets`, unless it hashes a prefix short enough that no carry crosses it
 * for every salt, which no prefix is.
 */
#include <arpa/inet.h>
#include <stdint.h>

#include "rsskey/nf.h"

static struct nf_vector *buckets;
static uint64_t limit;
static uint32_t salt;

int nf_init(void)
{
    limit = nf_config("limit", 100);
    salt = (uint32_t)nf_config("salt", 0x00054321);
    buckets = nf_vector_create("buckets", sizeof(uint64_t), 4096);
    return buckets ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    if (pkt->port != 1)
        return 1;
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (ip == NULL)
        return 0;
    uint32_t slot = (ntohl(ip->src) + salt) >> 20;
    uint64_t *count = nf_vector_write(buckets, slot);
    *count += 1;
    if (*count > limit)
        return NF_DROP;
    return 0;
}
