/* state_key.c - rule: a map value used as a vector index (key from state),
 * and a guard: the record's stored address must equal the packet source. */
#include "rsskey/nf.h"

struct rec { uint32_t owner; uint32_t hits; };
static struct nf_map *index_of;
static struct nf_vector *records;

int nf_init(void)
{
    index_of = nf_map_create("index_of", 2, 256);
    records = nf_vector_create("records", sizeof(struct rec), 256);
    return index_of && records ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    struct nf_ipv4_hdr *ip = nf_ipv4(pkt);
    struct nf_l4_ports *l4 = nf_l4(pkt);
    if (!ip || !l4)
        return NF_DROP;
    int32_t i;
    if (!nf_map_get(index_of, &l4->dport, &i))
        return NF_DROP;
    const struct rec *r = nf_vector_read(records, (uint32_t)i);
    if (r->owner != ip->src)
        return NF_DROP;
    return 1;
}
