/*
 * ports_counter.c - per-service packet budget: every TCP/UDP packet, IPv4 or
 * IPv6, on either port, is counted against its destination port; once a
 * destination port has seen more than `budget` packets, its packets are
 * dropped. Other packets are forwarded (port 0 -> 1, 1 -> 0).
 *
 * Configuration: budget (default 200).
 * State: per_port, 65536 counters indexed by the destination port.
 *
 * Adversarial point: the key is l4.dport alone and comes from IPv4 and IPv6
 * packets alike, so a sharded plan needs the IPv4 L4 hash and the IPv6 L4
 * hash to agree on every dport (the port sits at a different input offset in
 * each) while ignoring addresses and source port; and first fragments, which
 * carry a dport but are hashed by addresses only, break any such plan. Sound:
 * share per_port, or shard by dport with both hashes aligned and fragments
 * kept out (no NIC hashes fragments by port).
 */
#include <arpa/inet.h>
#include <stdint.h>

#include "rsskey/nf.h"

static struct nf_vector *per_port;
static uint32_t budget;

int nf_init(void)
{
    budget = (uint32_t)nf_config("budget", 200);
    per_port = nf_vector_create("per_port", sizeof(uint32_t), 65536);
    return per_port ? 0 : -1;
}

int nf_process(struct nf_packet *pkt)
{
    int other_side = pkt->port == 0 ? 1 : 0;
    struct nf_l4_ports *l4 = nf_l4(pkt);
    if (l4 == NULL)
        return other_side;
    uint32_t *n = nf_vector_write(per_port, ntohs(l4->dport));
    if (*n > budget)
        return NF_DROP;
    *n += 1;
    return other_side;
}
