/*
 * launcher.h - runs an NF, natively compiled and linked with rsskey_runtime,
 * on DPDK ports under an rsskey plan (plan.json): per-core state instances,
 * read-token locks for shared objects, the plan's RSS key, hash fields and
 * RETA programmed into ports that can hash, software RSS for ports that
 * cannot (net_pcap, net_ring). With --verify it replays the run sequentially
 * in lock-commit order and compares every verdict and rewritten byte.
 *
 * An NF's runner is its object file linked with rsskey_launcher; its main()
 * is launcher_main (launcher/main.c). See docs/launcher.md.
 */
#ifndef RSSKEY_LAUNCHER_H
#define RSSKEY_LAUNCHER_H

/* `runner [OPTIONS] -- EAL-ARGS`; returns a UTIL_EXIT_* code. */
int launcher_main(int argc, char **argv);

#endif /* RSSKEY_LAUNCHER_H */
