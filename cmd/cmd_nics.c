/*
 * cmd_nics.c - `rsskey nics`: the built-in NIC profiles (key length, RETA
 * size, hash fields and selectors), as a table or --json.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "rss/rss.h"
#include "util/util.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rsskey nics [--json]\n"
            "\n"
            "List the NIC profiles 'rsskey synth --nic NAME' knows: RSS key length, RETA\n"
            "size, the rss_hf flow types and *_ONLY field selectors the driver accepts, and\n"
            "whether RTE_ETH_RSS_IPV4 alone hashes TCP/UDP packets on their addresses.\n"
            "Other NICs: write a profile file (docs/rss.md) and pass --nic-file.\n"
            "\n"
            "  --json       print JSON\n"
            "  -h, --help   this help\n");
}

static void write_json(void)
{
    struct util_json *w = util_json_new();
    util_json_object_begin(w);
    util_json_key(w, "nics");
    util_json_array_begin(w);
    for (int i = 0; i < rss_nic_count(); i++) {
        const struct rss_nic *n = rss_nic_at(i);
        util_json_object_begin(w);
        util_json_key(w, "name");
        util_json_string(w, n->name);
        util_json_key(w, "model");
        util_json_string(w, n->model);
        util_json_key(w, "driver");
        util_json_string(w, n->driver);
        util_json_key(w, "key_len");
        util_json_int(w, n->key_len);
        util_json_key(w, "reta_size");
        util_json_uint(w, n->reta_size);
        util_json_key(w, "rss_hf");
        util_json_array_begin(w);
        const char *names[24];
        int k = rss_hf_names(n->hf_supported, names, 24);
        for (int j = 0; j < k; j++)
            util_json_string(w, names[j]);
        util_json_array_end(w);
        util_json_key(w, "l3_hashes_l4");
        util_json_bool(w, n->l3_hashes_l4);
        util_json_key(w, "source");
        util_json_string(w, n->source);
        util_json_object_end(w);
    }
    util_json_array_end(w);
    util_json_object_end(w);
    size_t len;
    const char *text = util_json_text(w, &len);
    fwrite(text, 1, len, stdout);
    util_json_free(w);
}

int cmd_nics(int argc, char **argv)
{
    bool json = false;
    static const struct option longs[] = {
        {"help", no_argument, NULL, 'h'}, {"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return UTIL_EXIT_OK;
        }
        if (c == 'j') {
            json = true;
            continue;
        }
        cmd_error("nics", "unknown option '%s'; see 'rsskey nics --help'", argv[optind - 1]);
        return UTIL_EXIT_USAGE;
    }
    if (optind < argc) {
        cmd_error("nics", "unexpected argument '%s'; see 'rsskey nics --help'", argv[optind]);
        return UTIL_EXIT_USAGE;
    }
    if (json) {
        write_json();
        return UTIL_EXIT_OK;
    }
    printf("%-8s %-20s %-7s %4s %5s  %-9s %-9s %s\n", "name", "model", "driver", "key",
           "reta", "selectors", "ipv4->l4", "flow types");
    for (int i = 0; i < rss_nic_count(); i++) {
        const struct rss_nic *n = rss_nic_at(i);
        bool sel = (n->hf_supported & RSS_HF_L3_SRC_ONLY) != 0;
        bool frag = (n->hf_supported & RSS_HF_FRAG_IPV4) != 0;
        printf("%-8s %-20s %-7s %4d %5u  %-9s %-9s %s\n", n->name, n->model, n->driver,
               n->key_len, n->reta_size, sel ? "L3/L4" : "-", n->l3_hashes_l4 ? "yes" : "no",
               frag ? "ip/tcp/udp/frag/other v4+v6" : "ip/tcp/udp v4+v6");
    }
    printf("key and reta in bytes / entries; ipv4->l4: RTE_ETH_RSS_IPV4 alone also hashes\n"
           "TCP/UDP packets (on addresses). Sources and assumptions: docs/rss.md.\n");
    return UTIL_EXIT_OK;
}
