/*
 * ports.c - DPDK ports under a plan: each port configured with one queue per
 * core and the plan's key, hash fields and RETA when it can hash in hardware
 * (else one queue; software RSS on the main lcore), and the RSS settings read
 * back for --configure-only.
 */
#include <inttypes.h>
#include <string.h>

#include <rte_ethdev.h>

#include "launcher/launcher_internal.h"

const struct rss_port_config *launcher_port_config(const struct launcher *l, int port)
{
    for (int i = 0; i < l->plan.n_ports; i++)
        if (l->plan.ports[i].port == port)
            return &l->plan.ports[i];
    return NULL;
}

int launcher_steer(const struct launcher *l, uint16_t port, const struct trace_tuple *t)
{
    int core = rss_port_hasher_core(&l->hashers[port], t);
    return core < 0 || core >= l->cores ? 0 : core;
}

/* Hardware RSS only when every port takes the plan as it is. */
bool launcher_port_can_hash(const struct launcher *l, uint16_t port, char *why, size_t whylen)
{
    struct rte_eth_dev_info info;
    const struct rss_port_config *cfg = launcher_port_config(l, port);
    if (rte_eth_dev_info_get(port, &info) != 0 || !cfg) {
        snprintf(why, whylen, "port %u: no device info or no plan entry", port);
        return false;
    }
    if (info.max_rx_queues < l->cores || info.max_tx_queues < l->cores) {
        snprintf(why, whylen, "port %u (%s) has %u RX / %u TX queues, the plan needs %d",
                 port, info.driver_name, info.max_rx_queues, info.max_tx_queues, l->cores);
        return false;
    }
    if ((info.flow_type_rss_offloads & cfg->rss_hf) != cfg->rss_hf) {
        snprintf(why, whylen, "port %u (%s) cannot hash rss_hf 0x%" PRIx64, port,
                 info.driver_name, cfg->rss_hf);
        return false;
    }
    /* Some drivers (net_null) report no key size: the readback tells. */
    if (info.reta_size != cfg->reta_size ||
        (info.hash_key_size != 0 && info.hash_key_size != cfg->key_len)) {
        snprintf(why, whylen, "port %u (%s) has a %u-entry RETA and %u-byte key, the plan "
                 "%u and %d (synthesise for this NIC with --nic)", port, info.driver_name,
                 info.reta_size, info.hash_key_size, cfg->reta_size, cfg->key_len);
        return false;
    }
    return true;
}

static int program_rss(const struct launcher *l, uint16_t port, struct util_error *err)
{
    const struct rss_port_config *cfg = launcher_port_config(l, port);
    struct rte_eth_rss_reta_entry64 reta[RSS_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
    memset(reta, 0, sizeof reta);
    for (uint32_t i = 0; i < cfg->reta_size; i++) {
        reta[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ull << (i % RTE_ETH_RETA_GROUP_SIZE);
        reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] = cfg->reta[i];
    }
    /* The key and hash fields again after start: some drivers take them only
     * here, not from rte_eth_dev_configure. */
    uint8_t key[RSS_KEY_MAX];
    memcpy(key, cfg->key, (size_t)cfg->key_len);
    struct rte_eth_rss_conf conf = {key, (uint8_t)cfg->key_len, cfg->rss_hf};
    int rc = rte_eth_dev_rss_hash_update(port, &conf);
    if (rc != 0) {
        util_error_set(err, "port %u: RSS key update failed (%s)", port, rte_strerror(-rc));
        return UTIL_EXIT_FAILURE;
    }
    rc = rte_eth_dev_rss_reta_update(port, reta, (uint16_t)cfg->reta_size);
    if (rc != 0) {
        util_error_set(err, "port %u: RETA update failed (%s)", port, rte_strerror(-rc));
        return UTIL_EXIT_FAILURE;
    }
    return 0;
}

/* Reads the port's key and RETA back and compares them with the plan. */
bool launcher_rss_readback_matches(const struct launcher *l, uint16_t port, FILE *out)
{
    const struct rss_port_config *cfg = launcher_port_config(l, port);
    uint8_t key[RSS_KEY_MAX] = {0};
    struct rte_eth_rss_conf conf = {.rss_key = key, .rss_key_len = (uint8_t)cfg->key_len};
    struct rte_eth_rss_reta_entry64 reta[RSS_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
    memset(reta, 0, sizeof reta);
    for (uint32_t i = 0; i < cfg->reta_size; i++)
        reta[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ull << (i % RTE_ETH_RETA_GROUP_SIZE);
    bool key_ok = rte_eth_dev_rss_hash_conf_get(port, &conf) == 0 &&
                  memcmp(key, cfg->key, (size_t)cfg->key_len) == 0;
    bool reta_ok = rte_eth_dev_rss_reta_query(port, reta, (uint16_t)cfg->reta_size) == 0;
    for (uint32_t i = 0; reta_ok && i < cfg->reta_size; i++)
        reta_ok = reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] ==
                  cfg->reta[i];
    fprintf(out, "port %u: key %s, RETA (%u entries) %s\n", port,
            key_ok ? "programmed" : "DIFFERS", cfg->reta_size, reta_ok ? "programmed" : "DIFFERS");
    return key_ok && reta_ok;
}

int launcher_setup_port(struct launcher *l, uint16_t port, struct util_error *err)
{
    struct rte_eth_dev_info info;
    struct rte_eth_conf conf;
    const struct rss_port_config *cfg = launcher_port_config(l, port);
    uint8_t key[RSS_KEY_MAX];
    memset(&conf, 0, sizeof conf);
    if (rte_eth_dev_info_get(port, &info) != 0) {
        util_error_set(err, "port %u: cannot read device info", port);
        return UTIL_EXIT_FAILURE;
    }
    uint16_t queues = l->per_queue ? (uint16_t)l->cores : 1;
    if (l->hardware_rss) {
        memcpy(key, cfg->key, (size_t)cfg->key_len);
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_key = key;
        conf.rx_adv_conf.rss_conf.rss_key_len = (uint8_t)cfg->key_len;
        conf.rx_adv_conf.rss_conf.rss_hf = cfg->rss_hf;
    }
    int rc = rte_eth_dev_configure(port, queues, queues, &conf);
    if (rc != 0) {
        util_error_set(err, "port %u (%s): configure failed (%s)", port, info.driver_name,
                       rte_strerror(-rc));
        return UTIL_EXIT_FAILURE;
    }
    int socket = rte_eth_dev_socket_id(port);
    for (uint16_t q = 0; q < queues; q++) {
        rc = rte_eth_rx_queue_setup(port, q, RX_DESCRIPTORS, socket < 0 ? 0 : (unsigned)socket,
                                    NULL, l->pool);
        if (rc == 0)
            rc = rte_eth_tx_queue_setup(port, q, TX_DESCRIPTORS,
                                        socket < 0 ? 0 : (unsigned)socket, NULL);
        if (rc != 0) {
            util_error_set(err, "port %u: queue %u setup failed (%s)", port, q, rte_strerror(-rc));
            return UTIL_EXIT_FAILURE;
        }
    }
    rc = rte_eth_dev_start(port);
    if (rc != 0) {
        util_error_set(err, "port %u: start failed (%s)", port, rte_strerror(-rc));
        return UTIL_EXIT_FAILURE;
    }
    rte_eth_promiscuous_enable(port);       /* not every virtual device supports it */
    return l->hardware_rss ? program_rss(l, port, err) : 0;
}

