/*
 * stub_check.c - a tiny DPDK application for tests/deploy/deploy_test.sh,
 * built against a deployment folder's generated rsskey_plan.h / .c with
 * -Wall -Wextra -Werror. It configures every plan port on a virtual device
 * (net_null) as an application would, programs it with
 * rsskey_plan_program_port, then reads key and RETA back itself and prints
 * them, for the script to compare with plan.json (not with the header).
 *
 *   stub_check EAL-ARGS -- [--expect-size-error]
 *
 * Exit 0 when every port took the plan (or, with --expect-size-error, when
 * every port was refused), 1 otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "rsskey_plan.h"

static int setup_port(uint16_t port, struct rte_mempool *pool)
{
    struct rte_eth_conf conf;
    uint8_t key[RSSKEY_PLAN_KEY_LEN];
    memset(&conf, 0, sizeof conf);
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    if (rsskey_plan_rss_conf(port, &conf.rx_adv_conf.rss_conf, key) != 0)
        return -1;
    int rc = rte_eth_dev_configure(port, RSSKEY_PLAN_CORES, RSSKEY_PLAN_CORES, &conf);
    for (uint16_t q = 0; rc == 0 && q < RSSKEY_PLAN_CORES; q++) {
        rc = rte_eth_rx_queue_setup(port, q, 64, 0, NULL, pool);
        if (rc == 0)
            rc = rte_eth_tx_queue_setup(port, q, 64, 0, NULL);
    }
    if (rc == 0)
        rc = rte_eth_dev_start(port);
    if (rc != 0)
        fprintf(stderr, "stub_check: port %u setup failed: %s\n", port, rte_strerror(-rc));
    return rc;
}

/* Reads the port's key and RETA through ethdev and prints them. */
static int print_port(uint16_t port)
{
    uint8_t key[RSSKEY_PLAN_KEY_LEN];
    struct rte_eth_rss_conf conf;
    memset(&conf, 0, sizeof conf);
    conf.rss_key = key;
    conf.rss_key_len = RSSKEY_PLAN_KEY_LEN;
    if (rte_eth_dev_rss_hash_conf_get(port, &conf) != 0)
        return -1;
    printf("port %u key ", port);
    for (int i = 0; i < RSSKEY_PLAN_KEY_LEN; i++)
        printf("%02x", key[i]);
    printf("\nport %u rss_hf 0x%llx\n", port, (unsigned long long)conf.rss_hf);
    struct rte_eth_rss_reta_entry64 reta[RSSKEY_PLAN_RETA_SIZE / RTE_ETH_RETA_GROUP_SIZE + 1];
    memset(reta, 0, sizeof reta);
    for (unsigned i = 0; i < RSSKEY_PLAN_RETA_SIZE; i++)
        reta[i / RTE_ETH_RETA_GROUP_SIZE].mask |= UINT64_C(1) << (i % RTE_ETH_RETA_GROUP_SIZE);
    if (rte_eth_dev_rss_reta_query(port, reta, RSSKEY_PLAN_RETA_SIZE) != 0)
        return -1;
    printf("port %u reta ", port);
    for (unsigned i = 0; i < RSSKEY_PLAN_RETA_SIZE; i++)
        printf("%u%s", reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE],
               i + 1 < RSSKEY_PLAN_RETA_SIZE ? "," : "\n");
    return 0;
}

int main(int argc, char **argv)
{
    int used = rte_eal_init(argc, argv);
    if (used < 0) {
        fprintf(stderr, "stub_check: EAL init failed\n");
        return 1;
    }
    bool expect_size_error = argc - used > 1 && strcmp(argv[used + 1], "--expect-size-error") == 0;
    struct rte_mempool *pool = rte_pktmbuf_pool_create("stub_check", 1023, 0, 0,
                                                       RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    if (!pool || rte_eth_dev_count_avail() < RSSKEY_PLAN_PORTS) {
        fprintf(stderr, "stub_check: need a mempool and %d ports (have %u)\n",
                RSSKEY_PLAN_PORTS, rte_eth_dev_count_avail());
        return 1;
    }
    int failures = 0;
    for (uint16_t p = 0; p < RSSKEY_PLAN_PORTS; p++) {
        if (setup_port(p, pool) != 0)
            return 1;
        int rc = rsskey_plan_program_port(p, p, RSSKEY_PLAN_CORES);
        if (expect_size_error) {
            failures += rc != -EINVAL;
            continue;
        }
        if (rc != 0 || print_port(p) != 0) {
            fprintf(stderr, "stub_check: port %u: rsskey_plan_program_port gave %d\n", p, rc);
            failures++;
        }
        /* Too few queues for the RETA must be refused. */
        if (RSSKEY_PLAN_CORES > 1 &&
            rsskey_plan_program_port(p, p, RSSKEY_PLAN_CORES - 1) != -EINVAL) {
            fprintf(stderr, "stub_check: port %u: %d queues were accepted\n", p,
                    RSSKEY_PLAN_CORES - 1);
            failures++;
        }
        rte_eth_dev_stop(p);
        rte_eth_dev_close(p);
    }
    printf("objects %d locked %d first %s %s %u %u\n", RSSKEY_PLAN_OBJECTS,
           RSSKEY_PLAN_LOCKED_OBJECTS, rsskey_plan_objects[0].name, rsskey_plan_objects[0].kind,
           rsskey_plan_objects[0].capacity, rsskey_plan_objects[0].per_core_capacity);
    rte_eal_cleanup();
    return failures ? 1 : 0;
}
