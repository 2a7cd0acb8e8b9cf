/*
 * flow_key.h - the IPv4 5-tuple key shared by the flow-tracking reference NFs
 * (fw, nat, cl, lb). Header-only so that every NF's bitcode is self-contained.
 *
 * The key is a plain 16-byte struct built from header fields read through the
 * accessors of include/rsskey/nf.h, in network byte order, with its padding
 * set explicitly so equal flows always give equal key bytes.
 */
#ifndef RSSKEY_NFS_FLOW_KEY_H
#define RSSKEY_NFS_FLOW_KEY_H

#include <stdbool.h>
#include <stdint.h>

#include "rsskey/nf.h"

/* Byte order for 16-bit header fields. The NFs target little-endian hosts
 * (x86-64); the builtin lowers to llvm.bswap, which the analysis follows. */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the reference NFs assume a little-endian host"
#endif
#define NFS_NTOHS(x) __builtin_bswap16((uint16_t)(x))
#define NFS_HTONS(x) __builtin_bswap16((uint16_t)(x))
#define NFS_HTONL(x) __builtin_bswap32((uint32_t)(x))

struct flow_key {
    uint32_t src_ip;
    uint32_t dst_ip;
    uint16_t src_port;
    uint16_t dst_port;
    uint8_t proto;
    uint8_t pad[3];
};

/* The "more fragments" flag and the fragment offset (network order). */
#define NFS_IPV4_FRAGMENT_BITS 0x3fff

/* Fills *key from an unfragmented IPv4 TCP or UDP packet. Returns false,
 * leaving *key unspecified, for anything else. Fragments are refused: only
 * the first one carries the ports, so no fragment has the flow's whole key
 * (and the check lets rsskey shard the flow NFs by their ports: NICs hash
 * fragments on addresses only, docs/analysis.md "Fragments"). */
static inline bool flow_key_from_packet(struct nf_packet *pkt, struct flow_key *key)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    if (ip == NULL)
        return false;
    if (ip->frag_off & NFS_HTONS(NFS_IPV4_FRAGMENT_BITS))
        return false;
    if (ip->proto != NF_PROTO_TCP && ip->proto != NF_PROTO_UDP)
        return false;
    struct nf_l4_ports *l4 = nf_l4(pkt);
    if (l4 == NULL)
        return false;
    key->src_ip = ip->src;
    key->dst_ip = ip->dst;
    key->src_port = l4->sport;
    key->dst_port = l4->dport;
    key->proto = ip->proto;
    key->pad[0] = 0;
    key->pad[1] = 0;
    key->pad[2] = 0;
    return true;
}

/* The same flow seen from the other side: addresses and ports swapped. */
static inline void flow_key_reverse(const struct flow_key *in, struct flow_key *out)
{
    out->src_ip = in->dst_ip;
    out->dst_ip = in->src_ip;
    out->src_port = in->dst_port;
    out->dst_port = in->src_port;
    out->proto = in->proto;
    out->pad[0] = 0;
    out->pad[1] = 0;
    out->pad[2] = 0;
}

/* Expiry helper: the time before which stamps are stale, without underflow
 * during the first `expiry_ns` of a trace. */
static inline uint64_t expiry_cutoff(uint64_t now_ns, uint64_t expiry_ns)
{
    return now_ns > expiry_ns ? now_ns - expiry_ns : 0;
}

#endif /* RSSKEY_NFS_FLOW_KEY_H */
