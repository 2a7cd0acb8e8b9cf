/* deps_nat_early_refresh.c - deps rule: a NAT variant that refreshes the flow
 * on the WAN side BEFORE checking the stored remote host (the guard): a
 * packet from any host keeps any flow alive, on whichever core it lands, so
 * the flow state must be shared and the reason must name the refresh. */
#include "rsskey/nf.h"

struct flow_key { uint32_t src, dst; uint16_t sport, dport; };
struct flow_rec {
    uint32_t internal_ip;
    uint32_t remote_ip;
    uint16_t internal_port;
    uint16_t remote_port;
};

static struct nf_map *table;
static struct nf_alloc *entries;
static struct nf_vector *keys;
static struct nf_vector *flows;

int nf_init(void)
{
    table = nf_map_create("ne_table", sizeof(struct flow_key), 1024);
    entries = nf_alloc_create("ne_entries", 1024);
    keys = nf_vector_create("ne_keys", sizeof(struct flow_key), 1024);
    flows = nf_vector_create("ne_flows", sizeof(struct flow_rec), 1024);
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
            rec->remote_ip = ip->dst;
            rec->remote_port = l4->dport;
            nf_map_put(table, &key, (int32_t)index);
        }
        nf_alloc_refresh(entries, index, pkt->time_ns);
        l4->sport = __builtin_bswap16((uint16_t)(1024 + index));
        return 1;
    }
    uint32_t port = __builtin_bswap16(l4->dport);
    if (port < 1024 || port >= 1024 + 1024)
        return NF_DROP;
    uint32_t index = port - 1024;
    if (!nf_alloc_is_allocated(entries, index))
        return NF_DROP;
    nf_alloc_refresh(entries, index, pkt->time_ns);
    const struct flow_rec *rec = nf_vector_read(flows, index);
    if (rec->remote_ip != ip->src || rec->remote_port != l4->sport)
        return NF_DROP;
    ip->dst = rec->internal_ip;
    l4->dport = rec->internal_port;
    return 0;
}
