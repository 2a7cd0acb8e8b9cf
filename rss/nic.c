/*
 * nic.c - the NIC profiles rsskey synthesises for: key length, RETA size and
 * the rss_hf flow types and field selectors each driver accepts, built in and
 * read from small "key = value" profile files (format in docs/rss.md).
 *
 * Sources: the datasheets' RSS sections (82599 7.1.2.8, X550, X710 7.1.10,
 * E810 hash/LUT) and DPDK 22.11's drivers (dev_info hash_key_size, reta_size,
 * flow_type_rss_offloads, which rte_eth_dev_configure checks rss_hf against:
 * only mlx5 lists the *_ONLY selectors there). See docs/rss.md.
 */
#include "rss/rss.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HF_IP_TYPES (RSS_HF_IPV4 | RSS_HF_NONFRAG_IPV4_TCP | RSS_HF_NONFRAG_IPV4_UDP | \
                     RSS_HF_IPV6 | RSS_HF_NONFRAG_IPV6_TCP | RSS_HF_NONFRAG_IPV6_UDP)
#define HF_PCTYPES (HF_IP_TYPES | RSS_HF_FRAG_IPV4 | RSS_HF_NONFRAG_IPV4_OTHER | \
                    RSS_HF_FRAG_IPV6 | RSS_HF_NONFRAG_IPV6_OTHER)
/* i40e's I40E_RSS_OFFLOAD_ALL has no plain IPV4/IPV6: L3 hashing is asked for
 * per packet type (fragments, "other"). */
#define HF_I40E (HF_PCTYPES & ~(RSS_HF_IPV4 | RSS_HF_IPV6))
#define HF_SELECTORS (RSS_HF_L3_SRC_ONLY | RSS_HF_L3_DST_ONLY | RSS_HF_L4_SRC_ONLY | \
                      RSS_HF_L4_DST_ONLY)

static const struct rss_nic builtin[] = {
    {"82599", "Intel 82599 10GbE", "ixgbe", 40, 128, HF_IP_TYPES, true,
     "82599 datasheet 7.1.2.8 (RSSRK 40 B, RETA 128); DPDK ixgbe IXGBE_RSS_OFFLOAD_ALL"},
    {"x540", "Intel X540 10GBASE-T", "ixgbe", 40, 128, HF_IP_TYPES, true,
     "X540 datasheet (same RSS block as 82599); DPDK ixgbe"},
    {"x550", "Intel X550", "ixgbe", 40, 512, HF_IP_TYPES, true,
     "X550 datasheet (512-entry RETA+ERETA); DPDK ixgbe reta_size 512"},
    {"x710", "Intel X710/XL710", "i40e", 52, 512, HF_I40E, false,
     "X710 datasheet 7.1.10 (52 B key, 512 LUT); DPDK i40e I40E_RSS_OFFLOAD_ALL (PCTYPEs)"},
    {"e810", "Intel E810", "ice", 52, 512, HF_PCTYPES, false,
     "E810 datasheet; DPDK ice: 52 B key, reta_size 512 (LUT 2048 not exposed), "
     "ICE_RSS_OFFLOAD_ALL"},
    {"cx5", "NVIDIA ConnectX-5", "mlx5", 40, 512, HF_PCTYPES | HF_SELECTORS, true,
     "DPDK mlx5: 40 B key, RETA up to 512 (power of two), offloads ~MLX5_RSS_HF_MASK "
     "(incl. *_ONLY)"},
    {"cx6", "NVIDIA ConnectX-6", "mlx5", 40, 512, HF_PCTYPES | HF_SELECTORS, true,
     "DPDK mlx5: as ConnectX-5"},
    {"virtio", "virtio-net", "virtio", 40, 128, HF_IP_TYPES, true,
     "virtio 1.2 spec 5.1.6.4.3 (40 B key, 128-entry table); DPDK virtio RSS"},
};

#define N_BUILTIN ((int)(sizeof builtin / sizeof builtin[0]))

int rss_nic_count(void)
{
    return N_BUILTIN;
}

const struct rss_nic *rss_nic_at(int i)
{
    return i >= 0 && i < N_BUILTIN ? &builtin[i] : NULL;
}

const struct rss_nic *rss_nic_find(const char *name)
{
    for (int i = 0; i < N_BUILTIN; i++)
        if (strcasecmp(builtin[i].name, name) == 0)
            return &builtin[i];
    /* Aliases people type. */
    static const struct { const char *alias, *name; } aliases[] = {
        {"ixgbe", "82599"}, {"i40e", "x710"}, {"xl710", "x710"}, {"ice", "e810"},
        {"mlx5", "cx5"}, {"connectx-5", "cx5"}, {"connectx-6", "cx6"},
        {"connectx5", "cx5"}, {"connectx6", "cx6"},
    };
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcasecmp(aliases[i].alias, name) == 0)
            return rss_nic_find(aliases[i].name);
    return NULL;
}

/* ---- Profile files -------------------------------------------------------------- */

static int parse_bool(const char *v, bool *out)
{
    if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1"))
        *out = true;
    else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0"))
        *out = false;
    else
        return -1;
    return 0;
}

int rss_nic_read_file(const char *path, struct rss_nic *out, struct util_error *err)
{
    size_t len;
    char *text = util_read_file(path, &len, err);
    if (!text)
        return UTIL_EXIT_IO;
    memset(out, 0, sizeof *out);
    snprintf(out->source, sizeof out->source, "profile file %s", path);
    out->l3_hashes_l4 = true;
    int rc = UTIL_EXIT_OK, got;
    bool have_key = false, have_reta = false, have_hf = false;
    struct util_kv_reader kv;
    char *name, *value;
    util_kv_begin(&kv, text);
    while ((got = util_kv_next(&kv, path, &name, &value, err)) == 1) {
        if (!strcmp(name, "name")) {
            snprintf(out->name, sizeof out->name, "%s", value);
        } else if (!strcmp(name, "model")) {
            snprintf(out->model, sizeof out->model, "%s", value);
        } else if (!strcmp(name, "driver")) {
            snprintf(out->driver, sizeof out->driver, "%s", value);
        } else if (!strcmp(name, "key_len")) {
            out->key_len = atoi(value);
            have_key = true;
            if (out->key_len != 40 && out->key_len != 52) {
                util_error_set(err, "%s:%d: key_len must be 40 or 52 bytes, not '%s'",
                               path, kv.line, value);
                rc = UTIL_EXIT_INPUT;
                break;
            }
        } else if (!strcmp(name, "reta_size")) {
            long v = strtol(value, NULL, 10);
            have_reta = true;
            if (v < 2 || v > RSS_RETA_MAX || (v & (v - 1))) {
                util_error_set(err, "%s:%d: reta_size must be a power of two in 2..%d, not '%s'",
                               path, kv.line, RSS_RETA_MAX, value);
                rc = UTIL_EXIT_INPUT;
                break;
            }
            out->reta_size = (uint32_t)v;
        } else if (!strcmp(name, "rss_hf")) {
            have_hf = true;
            char *save2 = NULL;
            for (char *f = strtok_r(value, " \t,|", &save2); f; f = strtok_r(NULL, " \t,|", &save2)) {
                uint64_t bit = rss_hf_from_name(f);
                if (!bit) {
                    util_error_set(err, "%s:%d: unknown rss_hf flag '%s' (use DPDK names such "
                                   "as RTE_ETH_RSS_NONFRAG_IPV4_TCP)", path, kv.line, f);
                    rc = UTIL_EXIT_INPUT;
                    break;
                }
                out->hf_supported |= bit;
            }
            if (rc)
                break;
        } else if (!strcmp(name, "l3_hashes_l4")) {
            if (parse_bool(value, &out->l3_hashes_l4)) {
                util_error_set(err, "%s:%d: l3_hashes_l4 takes yes or no, not '%s'",
                               path, kv.line, value);
                rc = UTIL_EXIT_INPUT;
                break;
            }
        } else {
            util_error_set(err, "%s:%d: unknown setting '%s' (known: name, model, driver, "
                           "key_len, reta_size, rss_hf, l3_hashes_l4)", path, kv.line, name);
            rc = UTIL_EXIT_INPUT;
            break;
        }
    }
    if (got < 0)
        rc = UTIL_EXIT_INPUT;
    if (rc == UTIL_EXIT_OK && (!have_key || !have_reta || !have_hf)) {
        util_error_set(err, "%s: a profile needs key_len, reta_size and rss_hf (missing %s)",
                       path, !have_key ? "key_len" : !have_reta ? "reta_size" : "rss_hf");
        rc = UTIL_EXIT_INPUT;
    }
    if (rc == UTIL_EXIT_OK && !out->name[0])
        snprintf(out->name, sizeof out->name, "custom");
    free(text);
    return rc;
}
