/*
 * launcher.h - runs an NF, natively compiled and linked with rsskey_runtime,
 * on DPDK ports under an rsskey plan (plan.json): per-core state instances,
 * read-token locks for shared objects, the plan's RSS key, hash fields and
 * RETA programmed into ports that can hash, software RSS for ports that
 * cannot (net_pcap, net_ring). With --verify it replays the run sequentially
 * in lock-commit order and compares every verdict and rewritten byte.
 *
 * An NF's runner is its object file linked with rsskey_launcher; its main()
 * is launcher_main (launcher/main.c), or launcher_main_embedded for a runner
 * that carries its plan (`rsskey build --plan`). See docs/launcher.md.
 * Installed as <prefix>/include/rsskey/launcher.h.
 */
#ifndef RSSKEY_LAUNCHER_H
#define RSSKEY_LAUNCHER_H

#include <stddef.h>

/* `runner [OPTIONS] -- EAL-ARGS`; returns a UTIL_EXIT_* code. --plan FILE is
 * required. */
int launcher_main(int argc, char **argv);

/* A plan built into the runner: plan.json's bytes (not NUL-terminated) and
 * the name messages give it (the file it was made from). */
struct launcher_embedded_plan {
    const char *name;
    const unsigned char *json;
    size_t len;
};

/* As launcher_main, but runs under `plan` unless --plan FILE overrides it.
 * The plan is checked exactly as a file would be (schema, config values,
 * the NF's objects). */
int launcher_main_embedded(int argc, char **argv, const struct launcher_embedded_plan *plan);

#endif /* RSSKEY_LAUNCHER_H */
