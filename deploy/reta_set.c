/*
 * reta_set.c - rsskey-reta-set, the small helper ethtool.sh calls for a RETA
 * that `ethtool -X` cannot express (anything but `equal N` / `weight`):
 *
 *   rsskey-reta-set [--print-request] DEV Q0,Q1,...
 *
 * sets the whole indirection table of a kernel-driver interface with the
 * ETHTOOL_SRSSH ioctl (struct ethtool_rxfh, linux/ethtool.h): entry i ->
 * queue Qi, key and hash function unchanged. It first asks the device for its
 * table size (ETHTOOL_GRSSH) and refuses one of another size, naming both.
 * --print-request prints the request's bytes instead of sending it.
 * Standalone: libc and the kernel headers only.
 */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_ENTRIES 65536

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rsskey-reta-set [--print-request] DEV Q0,Q1,...\n"
            "\n"
            "Sets interface DEV's RSS indirection table (RETA) to entry i -> queue Qi with\n"
            "the ETHTOOL_SRSSH ioctl; the Toeplitz key and hash function stay as they are.\n"
            "The list must have as many entries as DEV's table (ethtool -x DEV shows it).\n"
            "Written by 'rsskey deploy' into ethtool.sh.\n"
            "\n"
            "  --print-request  print the struct ethtool_rxfh bytes instead of sending them\n"
            "  -h, --help       this help\n"
            "\n"
            "Exit codes: 0 ok, 1 the device refused, 2 usage, 3 the table does not fit DEV.\n");
}

static int parse_list(const char *s, uint32_t *out, uint32_t *n)
{
    *n = 0;
    while (*s) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (end == s || errno || v > 0xffff || (*end && *end != ',') || *n >= MAX_ENTRIES)
            return -1;
        out[(*n)++] = (uint32_t)v;
        s = *end ? end + 1 : end;
    }
    return *n ? 0 : -1;
}

static int ethtool_ioctl(int fd, const char *dev, void *data)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", dev);
    ifr.ifr_data = data;
    return ioctl(fd, SIOCETHTOOL, &ifr);
}

int main(int argc, char **argv)
{
    int first = 1;
    int print_only = 0;
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        usage(stdout);
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "--print-request")) {
        print_only = 1;
        first = 2;
    }
    if (argc - first != 2) {
        usage(stderr);
        return 2;
    }
    const char *dev = argv[first];
    if (strlen(dev) == 0 || strlen(dev) >= IFNAMSIZ) {
        fprintf(stderr, "rsskey-reta-set: '%s' is not an interface name\n", dev);
        return 2;
    }
    size_t size = sizeof(struct ethtool_rxfh) + MAX_ENTRIES * sizeof(uint32_t);
    struct ethtool_rxfh *req = calloc(1, size);
    if (!req) {
        fprintf(stderr, "rsskey-reta-set: out of memory\n");
        return 1;
    }
    uint32_t n;
    if (parse_list(argv[first + 1], req->rss_config, &n) != 0) {
        fprintf(stderr, "rsskey-reta-set: '%.40s...' is not a list of queue numbers "
                "(Q0,Q1,..., at most %d)\n", argv[first + 1], MAX_ENTRIES);
        free(req);
        return 2;
    }
    req->cmd = ETHTOOL_SRSSH;
    req->rss_context = 0;
    req->indir_size = n;
    req->key_size = 0;                  /* key unchanged */
    req->hfunc = 0;                     /* ETH_RSS_HASH_NO_CHANGE */
    size_t bytes = sizeof *req + n * sizeof(uint32_t);
    if (print_only) {
        printf("device %s\ncmd 0x%x rss_context %u indir_size %u key_size %u hfunc %u\nbytes ",
               dev, req->cmd, req->rss_context, req->indir_size, req->key_size, req->hfunc);
        const uint8_t *b = (const uint8_t *)req;
        for (size_t i = 0; i < bytes; i++)
            printf("%02x", b[i]);
        printf("\n");
        free(req);
        return 0;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        fprintf(stderr, "rsskey-reta-set: socket: %s\n", strerror(errno));
        free(req);
        return 1;
    }
    /* The device's table size first: a plan for another NIC is refused clearly. */
    struct ethtool_rxfh probe;
    memset(&probe, 0, sizeof probe);
    probe.cmd = ETHTOOL_GRSSH;
    int rc = 1;
    if (ethtool_ioctl(fd, dev, &probe) != 0) {
        fprintf(stderr, "rsskey-reta-set: %s: cannot read the RSS table size: %s\n", dev,
                strerror(errno));
    } else if (probe.indir_size != n) {
        fprintf(stderr, "rsskey-reta-set: %s has a %u-entry RETA, the plan's has %u entries: "
                "synthesise the plan for this NIC (rsskey synth --nic)\n", dev,
                probe.indir_size, n);
        rc = 3;
    } else if (ethtool_ioctl(fd, dev, req) != 0) {
        fprintf(stderr, "rsskey-reta-set: %s: setting the RETA failed: %s (are there as many "
                "queues as the table names? ethtool -L %s combined N)\n", dev, strerror(errno),
                dev);
    } else {
        printf("%s: RETA set (%u entries)\n", dev, n);
        rc = 0;
    }
    close(fd);
    free(req);
    return rc;
}
