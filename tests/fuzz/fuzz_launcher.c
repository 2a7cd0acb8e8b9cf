/*
 * fuzz_launcher.c - the launcher's plan loading, as rsskey-run-fw does it
 * before and around DPDK: rss_plan_read, check_plan_config (values the plan
 * was made for), the plan's port and core counts and the per-port hashers
 * (check_resources), check_plan_matches_nf (a plan of another NF is refused),
 * launcher_plan_modes and rt_instantiate (instantiate_nf), and the lock modes
 * from the plan's accesses (compute_lock_modes).
 *
 * Those checks are static in launcher/launcher.c, so this file compiles
 * launcher.c into itself (the #include below) instead of changing the
 * launcher: its statics are reached as they are, and the library's own
 * launcher.o is not linked (every symbol it defines is defined here). The NF
 * is fw (nf_fw), so a plan made from fw passes the NF check and others do not.
 *
 * Not reached: what needs the DPDK EAL (rte_eal_init; the device and lcore
 * counts in check_resources, ports, the run). The EAL takes hugepages or
 * --no-huge memory, hardware or vdevs, and threads per lcore, and cannot be
 * initialised again after rte_eal_cleanup, so it has no place in a loop of
 * millions of inputs. check_resources is called for its plan checks (the
 * device count of an uninitialised EAL is 0, so it stops there with "DPDK
 * found 0"); what it does after the counts is repeated below.
 */
#include "tests/fuzz/fuzz_input.h"

#include "launcher/launcher.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_input_file(data, size, path);
    if (fd < 0)
        return 0;
    struct launcher *l = calloc(1, sizeof *l);
    if (!l) {
        close(fd);
        return 0;
    }
    struct util_error err = {{0}};
    l->opt.plan_path = path;
    if (rss_plan_read(path, &l->plan, &err) != 0)
        goto out_plan_unread;
    if (check_plan_config(l, path, &err) != 0)
        goto out;
    /* check_resources: the plan's counts; no devices without the EAL. */
    if (check_resources(l, "fuzz-launcher", &err) != UTIL_EXIT_USAGE ||
        l->plan.n_ports < 1 || l->plan.cores < 1 || l->plan.cores > RT_MAX_CORES)
        goto out;
    /* ... and what it does once DPDK has enough ports and lcores. */
    l->n_ports = l->plan.n_ports;
    l->cores = l->plan.cores;
    for (int p = 0; p < l->n_ports; p++)
        rss_port_hasher_init(&l->hashers[p], launcher_port_config(l, p));
    if (instantiate_nf(l, &err) == 0)
        compute_lock_modes(l);
out:
    rss_plan_free(&l->plan);
out_plan_unread:
    rt_reset();
    free(l);
    close(fd);
    return 0;
}
