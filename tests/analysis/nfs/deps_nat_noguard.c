/* deps_nat_noguard.c - deps rule: a NAT whose WAN side trusts the external
 * port alone (no check of the stored remote host against the packet source).
 * The WAN lookup key is an index the NF allocated, so deps must share the
 * flow table and say which guard is missing. */
#include "rsskey/nf.h"

struct flow_key { uint32_t src, dst; uint16_t sport, dport; };
struct flow_rec { uint32_t internal_ip; uint16_t internal_port; uint16_t pad; };

static struct nf_map *table;
static struct nf_alloc *entries;
static struct nf_vector *keys;
static struct nf_vector *flows;

int nf_init(void)
{
    table = nf_map_create("ng_table", sizeof(struct flow_key), 1024);
    entries = nf_alloc_create("ng_entries", 1024);
    keys = nf_vector_create("ng_keys", sizeof(struct flow_key), 1024);
    flows = nf_vector_create("ng_flows", sizeof(struct flow_rec), 1024);
    return table && entries && keys && flows ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    struct nf_l4_ports *l4 = nf_l4(pkt);
    if (!ip || !l4 || (ip->frag_off & __builtin_bswap16(0x3fff)))  /* fragments: dropped */
        return NF_DROP;
    nf_alloc_expire(entries, pkt->time_ns > 1000000000 ? pkt->time_ns - 1000000000 : 0,
                    table, keys);
    if (pkt->port == 0) {
        struct flow_key key = {ip->src, ip->dst, l4->sport, l4->dport};
        int32_t found;
        uint32_t index;
        if (nf_map_get(table, &key, &found)) {
            index = (uint32_t)found;
        } else {
            if (!nf_alloc_new(entries, pkt->time_ns, &index))
                return NF_DROP;
            struct flow_key *stored = nf_vector_write(keys, index);
            *stored = key;
            struct flow_rec *rec = nf_vector_write(flows, index);
            rec->internal_ip = ip->src;
            rec->internal_port = l4->sport;
            nf_map_put(table, &key, (int32_t)index);
        }
        nf_alloc_refresh(entries, index, pkt->time_ns);
        l4->sport = __builtin_bswap16((uint16_t)(1024 + index));
        return 1;
    }
    uint32_t index = (uint32_t)__builtin_bswap16(l4->dport) - 1024;
    if (index >= 1024 || !nf_alloc_is_allocated(entries, index))
        return NF_DROP;
    const struct flow_rec *rec = nf_vector_read(flows, index);
    ip->dst = rec->internal_ip;
    l4->dport = rec->internal_port;
    nf_alloc_refresh(entries, index, pkt->time_ns);
    return 0;
}
