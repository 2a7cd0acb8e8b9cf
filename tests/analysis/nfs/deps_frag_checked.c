/* deps_frag_checked.c - rule: the same flow table, but the NF drops IPv4
 * packets with the "more fragments" flag (tested after ntohs) before it
 * reads the ports: no fragment reaches the table, so the ports stay
 * sharding columns (the 5-tuple, mirrored on port 1). */
#include "rsskey/nf.h"

struct tuple {
    uint32_t a, b;
    uint16_t pa, pb;
};

static struct nf_map *conns;
static struct nf_alloc *slots;
static struct nf_vector *keys;

int nf_init(void)
{
    conns = nf_map_create("fc_conns", sizeof(struct tuple), 4096);
    slots = nf_alloc_create("fc_slots", 4096);
    keys = nf_vector_create("fc_keys", sizeof(struct tuple), 4096);
    return conns && slots && keys ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    struct nf_l4_ports *l4 = nf_l4(pkt);
    if (!ip || !l4)
        return NF_DROP;
    if (__builtin_bswap16(ip->frag_off) & 0x2000)      /* more fragments follow */
        return NF_DROP;
    nf_alloc_expire(slots, pkt->time_ns > 5000000000u ? pkt->time_ns - 5000000000u : 0, conns,
                    keys);
    int32_t at;
    if (pkt->port == 0) {
        struct tuple t = {ip->src, ip->dst, l4->sport, l4->dport};
        if (nf_map_get(conns, &t, &at))
            return nf_alloc_refresh(slots, (uint32_t)at, pkt->time_ns) ? 1 : NF_DROP;
        uint32_t fresh;
        if (!nf_alloc_new(slots, pkt->time_ns, &fresh))
            return NF_DROP;
        struct tuple *k = nf_vector_write(keys, fresh);
        *k = t;
        nf_map_put(conns, &t, (int32_t)fresh);
        return 1;
    }
    struct tuple back = {ip->dst, ip->src, l4->dport, l4->sport};
    return nf_map_get(conns, &back, &at) ? 0 : NF_DROP;
}
