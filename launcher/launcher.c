/*
 * launcher.c - runs a natively linked NF on DPDK ports under an rsskey plan:
 * the plan deployed on the runtime (per-core instances, lock modes), the run
 * itself, --verify around it, and the summary. The other files of launcher/
 * hold the command line (options.c), the ports (ports.c), the packet path
 * (dataplane.c) and the verifier (replay_set.c, spill.c, outcomes.c, machine.c,
 * relate.c, verify.c, verify_report.c).
 *
 * Lcores: the main lcore does RX dispatch (software RSS) and TX; one worker
 * lcore per plan core runs nf_process on its own state instances. When every
 * port can hash in hardware with the plan's key length, hash fields and RETA
 * size, the plan is programmed into the ports and each worker polls its own
 * RX queue and sends on its own TX queue instead.
 */
#include "launcher/launcher.h"

#include <inttypes.h>
#include <sys/resource.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "launcher/launcher_internal.h"

/* Set by SIGINT/SIGTERM: a signal handler can only reach a global. */
volatile sig_atomic_t launcher_stop_requested;

/* ---- Plan -> runtime ----------------------------------------------------- */

static enum rt_mode mode_of(enum deps_decision d)
{
    switch (d) {
    case DEPS_SHARDED: return RT_SHARDED;
    case DEPS_REPLICATED: return RT_REPLICATED;
    default: return RT_SHARED;
    }
}

static const struct deps_object *plan_object(const struct deps_plan *p, const char *name)
{
    for (int i = 0; i < p->n_objects; i++)
        if (strcmp(p->objects[i].name, name) == 0)
            return &p->objects[i];
    return NULL;
}

int launcher_apply_configs(const struct options *o, struct util_error *err)
{
    for (int i = 0; i < o->n_configs; i++)
        if (rt_config_parse(o->configs[i], err) != 0)
            return UTIL_EXIT_USAGE;
    return 0;
}

/* The plan holds for the configuration values the analysis assumed
 * (deps_plan.config, affects_plan): refuse a run that gives the NF others. */
static int check_plan_config(const struct launcher *l, const char *plan_path,
                             struct util_error *err)
{
    const struct deps_plan *p = &l->plan.deps;
    for (int k = 0; k < p->n_config; k++) {
        const struct deps_config_value *c = &p->config[k];
        if (!c->affects_plan)
            continue;
        bool given = false;
        uint64_t value = 0;
        for (int i = 0; i < l->opt.n_configs; i++) {
            char name[RT_CONFIG_NAME_MAX];
            uint64_t v;
            if (util_parse_assignment(l->opt.configs[i], name, sizeof name, &v, err) != 0)
                return UTIL_EXIT_USAGE;
            if (strcmp(name, c->name) == 0) {
                given = true;
                value = v;
            }
        }
        if (given && value != c->value) {
            util_error_set(err, "%s was made for %s=%llu (%s) and its decisions depend on "
                           "that value; this run sets %s=%llu. Make the plan for it "
                           "(rsskey synth NF.bc --config %s=%llu ...) or drop --config %s",
                           plan_path, c->name, (unsigned long long)c->value,
                           c->from_user ? "given with --config" : "the NF's default",
                           c->name, (unsigned long long)value, c->name,
                           (unsigned long long)value, c->name);
            return UTIL_EXIT_INPUT;
        }
        if (!given && c->from_user) {
            util_error_set(err, "%s was made for %s=%llu (rsskey synth --config) and its "
                           "decisions depend on that value; this run leaves it at the NF's "
                           "default. Pass --config %s=%llu", plan_path, c->name,
                           (unsigned long long)c->value, c->name,
                           (unsigned long long)c->value);
            return UTIL_EXIT_INPUT;
        }
    }
    return 0;
}

enum rt_mode *launcher_plan_modes(const struct launcher *l, bool warn, struct util_error *err)
{
    size_t n = rt_objects();
    enum rt_mode *modes = calloc(n ? n : 1, sizeof *modes);
    if (!modes) {
        util_error_set(err, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        struct rt_object_info info;
        rt_object_info(i, &info);
        const struct deps_object *po = plan_object(&l->plan.deps, info.name);
        if (!po && warn)
            fprintf(stderr, "warning: object '%s' is not in the plan; running it shared\n",
                    info.name);
        modes[i] = po ? mode_of(po->decision) : RT_SHARED;
    }
    return modes;
}

/* The plan must be one made for this NF: the same object names, each of the
 * same kind. A plan for another NF (or another build of it) would leave the
 * NF's state running under keys chosen for other state. */
static int check_plan_matches_nf(const struct launcher *l, struct util_error *err)
{
    const struct deps_plan *p = &l->plan.deps;
    size_t n = rt_objects();
    char mine[400] = "", theirs[400] = "";
    bool ok = (size_t)p->n_objects == n;
    for (size_t i = 0; i < n; i++) {
        struct rt_object_info info;
        rt_object_info(i, &info);
        const struct deps_object *po = plan_object(p, info.name);
        if (!po || (int)po->kind != (int)info.kind)
            ok = false;
        size_t at = strlen(mine);
        if (at + 2 < sizeof mine)
            snprintf(mine + at, sizeof mine - at, "%s%s %s", i ? ", " : "", info.name,
                     rt_kind_name(info.kind));
    }
    for (int o = 0; o < p->n_objects; o++) {
        size_t at = strlen(theirs);
        if (at + 2 < sizeof theirs)
            snprintf(theirs + at, sizeof theirs - at, "%s%s %s", o ? ", " : "",
                     p->objects[o].name, deps_kind_name(p->objects[o].kind));
    }
    if (ok)
        return 0;
    util_error_set(err, "%s is not a plan for this NF: it was made from %s, whose state is %s; "
                   "this NF's state is %s. Make the plan from this NF's bitcode (rsskey synth "
                   "NF.bc)", l->opt.plan_path, p->nf[0] ? p->nf : "another NF",
                   theirs[0] ? theirs : "nothing", mine[0] ? mine : "nothing");
    return UTIL_EXIT_INPUT;
}

/* Creates the NF's state and turns it into per-core instances as the plan
 * says. Objects the plan does not name are shared (the sound default). */
static int instantiate_nf(struct launcher *l, struct util_error *err)
{
    rt_reset();
    int rc = launcher_apply_configs(&l->opt, err);
    if (rc)
        return rc;
    if (nf_init() != 0) {
        util_error_set(err, "nf_init failed (check the --config values)");
        return UTIL_EXIT_FAILURE;
    }
    rc = check_plan_matches_nf(l, err);
    if (rc)
        return rc;
    enum rt_mode *modes = launcher_plan_modes(l, true, err);
    if (!modes)
        return UTIL_EXIT_FAILURE;
    rc = rt_instantiate(l->cores, modes, err) == 0 ? 0 : UTIL_EXIT_FAILURE;
    free(modes);
    return rc;
}

/* A packet may write shared state when the plan lists a non-read access to a
 * shared object on its port; such packets take every read token. Without
 * access information every port is treated as writing (sound, slower). */
static void compute_lock_modes(struct launcher *l)
{
    const struct deps_plan *p = &l->plan.deps;
    for (int port = 0; port < MAX_PORTS; port++)
        l->may_write_shared[port] = p->n_accesses == 0;
    for (int i = 0; i < p->n_accesses; i++) {
        const struct deps_access *a = &p->accesses[i];
        if (a->object < 0 || a->object >= p->n_objects || a->port < 0 || a->port >= MAX_PORTS)
            continue;
        if (p->objects[a->object].decision == DEPS_SHARED && a->op != DEPS_OP_READ)
            l->may_write_shared[a->port] = true;
    }
}

/* ---- Output and lifetime ------------------------------------------------------ */

static void print_rss_mode(const struct launcher *l)
{
    if (l->hardware_rss)
        printf("rss: hardware (the plan's key, hash fields and RETA programmed into every "
               "port)\n");
    else if (l->measure_devices)
        printf("rss: pre-steered (%s)\n", l->why_software);
    else
        printf("rss: software (%s)\n", l->why_software);
}

/* SHA-256 of the plan's bytes as read (the file, or the built-in copy), so a
 * report can tell which plan a --json summary belongs to; "" if unreadable. */
static char plan_sha256[65];

static void print_summary(const struct launcher *l, const struct rt_stats *st)
{
    if (l->opt.json) {
        struct util_json *w = util_json_new();
        util_json_object_begin(w);
        util_json_key(w, "plan");
        util_json_string(w, l->opt.plan_path);
        util_json_key(w, "plan_sha256");
        util_json_string(w, plan_sha256);
        util_json_key(w, "rss");
        util_json_string(w, l->hardware_rss      ? "hardware"
                            : l->measure_devices ? "pre-steered"
                                                 : "software");
        util_json_key(w, "cores");
        util_json_array_begin(w);
        for (int c = 0; c < l->cores; c++) {
            util_json_object_begin(w);
            util_json_key(w, "core");
            util_json_int(w, c);
            util_json_key(w, "packets");
            util_json_uint(w, l->workers[c].packets);
            util_json_key(w, "forwarded");
            util_json_uint(w, l->workers[c].forwarded);
            util_json_key(w, "dropped");
            util_json_uint(w, l->workers[c].dropped);
            util_json_object_end(w);
        }
        util_json_array_end(w);
        util_json_key(w, "ports");
        util_json_array_begin(w);
        for (int p = 0; p < l->n_ports; p++) {
            util_json_object_begin(w);
            util_json_key(w, "port");
            util_json_int(w, p);
            util_json_key(w, "rx");
            util_json_uint(w, l->rx_packets[p]);
            util_json_key(w, "tx");
            util_json_uint(w, l->tx_packets[p]);
            util_json_object_end(w);
        }
        util_json_array_end(w);
        util_json_key(w, "not_replayed");
        util_json_object_begin(w);
        util_json_key(w, "no_such_port");
        util_json_uint(w, l->replay_skipped_port);
        util_json_key(w, "too_long");
        util_json_uint(w, l->replay_skipped_long);
        util_json_object_end(w);
        if (l->verify)
            verify_json(l, w);
        if (l->measure)
            measure_json(l, w);
        util_json_key(w, "plan_violations");
        util_json_uint(w, st->plan_violations);
        /* What the run held at most (--verify's streams are on disk). */
        struct rusage ru;
        if (getrusage(RUSAGE_SELF, &ru) == 0) {
            util_json_key(w, "peak_rss_kb");
            util_json_uint(w, (uint64_t)ru.ru_maxrss);
        }
        util_json_object_end(w);
        fputs(util_json_text(w, NULL), stdout);
        util_json_free(w);
        return;
    }
    print_rss_mode(l);
    printf("%-6s %12s %12s %12s\n", "core", "packets", "forwarded", "dropped");
    for (int c = 0; c < l->cores; c++)
        printf("%-6d %12" PRIu64 " %12" PRIu64 " %12" PRIu64 "\n", c, l->workers[c].packets,
               l->workers[c].forwarded, l->workers[c].dropped);
    for (int p = 0; p < l->n_ports && !l->measure; p++)
        printf("port %d: %" PRIu64 " received, %" PRIu64 " sent%s\n", p, l->rx_packets[p],
               l->tx_packets[p], l->tx_failed[p] ? " (some sends failed)" : "");
    if (!l->verify && (l->replay_skipped_port || l->replay_skipped_long))
        printf("not replayed: %" PRIu64 " packets for ports the plan lacks, %" PRIu64
               " frames longer than %u bytes\n", l->replay_skipped_port,
               l->replay_skipped_long,
               l->measure ? (unsigned)RTE_MBUF_DEFAULT_DATAROOM : (unsigned)MAX_FRAME);
    if (l->verify)
        verify_print(l, stdout);
    if (l->measure)
        measure_print(l, stdout);
}

static void free_logs(struct launcher *l)
{
    for (int c = 0; c < l->cores; c++) {
        spill_close(&l->workers[c].log);
        free(l->workers[c].log_input);
    }
}

static void on_signal(int sig)
{
    (void)sig;
    launcher_stop_requested = 1;
}

static int check_resources(struct launcher *l, const char *prog, struct util_error *err)
{
    if (l->plan.n_ports < 1 || l->plan.cores < 1 || l->plan.cores > RT_MAX_CORES) {
        util_error_set(err, "%s: the plan has %d ports and %d cores; expected at least one of "
                            "each (and at most %d cores)", l->opt.plan_path, l->plan.n_ports,
                       l->plan.cores, RT_MAX_CORES);
        return UTIL_EXIT_INPUT;
    }
    l->n_ports = l->plan.n_ports;
    l->cores = l->plan.cores;
    if ((int)rte_lcore_count() < l->cores + 1) {
        util_error_set(err, "the plan has %d cores, so %s needs %d lcores (one to dispatch "
                            "and transmit, one per core); the EAL gave %u: pass e.g. "
                            "--lcores 0@0,(1-%d)@0", l->cores, prog, l->cores + 1,
                       rte_lcore_count(), l->cores);
        return UTIL_EXIT_USAGE;
    }
    for (int p = 0; p < l->n_ports; p++)
        rss_port_hasher_init(&l->hashers[p], launcher_port_config(l, p));
    return 0;
}

/* After --measure has made its devices: DPDK port i is the NF's port i. */
static int check_ports(const struct launcher *l, struct util_error *err)
{
    int avail = rte_eth_dev_count_avail();
    if (avail < l->n_ports) {
        util_error_set(err, "the plan has %d ports but DPDK found %d; add devices after '--', "
                            "e.g. --vdev net_pcap0,rx_pcap=IN.pcap,tx_pcap=OUT.pcap",
                       l->n_ports, avail);
        return UTIL_EXIT_USAGE;
    }
    return 0;
}

/* --verify with captures: the capture as a stream (replay_set.c), and the plan's replay in
 * arrival order, which gives the parallel run its inputs. */
static int prepare_verify(struct launcher *l, struct util_error *err)
{
    if (l->opt.replaying) {
        l->set = calloc(1, sizeof *l->set);
        if (!l->set) {
            util_error_set(err, "out of memory");
            return UTIL_EXIT_FAILURE;
        }
        int rc = replay_set_load(l, l->set, err);
        if (rc)
            return rc;
        l->replay_skipped_port = l->set->skipped_port;
        l->replay_skipped_long = l->set->skipped_long;
    }
    return verify_prepare(l, err);
}

static void start_workers(struct launcher *l)
{
    l->start_tsc = rte_get_tsc_cycles();
    int c = 0;
    unsigned lcore;
    RTE_LCORE_FOREACH_WORKER(lcore) {
        if (c == l->cores)
            break;
        rte_eal_remote_launch(l->measure ? measure_worker_loop : launcher_worker_loop,
                              &l->workers[c++], lcore);
    }
}

static void stop_workers(struct launcher *l)
{
    launcher_wait_workers(l);
    rte_eal_mp_wait_lcore();
    for (int c = 0; c < l->cores; c++)
        for (int p = 0; p < l->n_ports; p++)
            while (!rte_ring_empty(l->workers[c].tx_ring[p]))
                launcher_drain_tx(l);
    for (int p = 0; p < l->n_ports; p++) {
        rte_eth_dev_stop((uint16_t)p);
        rte_eth_dev_close((uint16_t)p);
    }
}

static int run(struct launcher *l, const char *prog, struct util_error *err)
{
    int rc = check_resources(l, prog, err);
    if (rc == 0 && l->opt.measure && !l->opt.configure_only)
        rc = measure_prepare(l, err);
    if (rc == 0)
        rc = check_ports(l, err);
    if (rc == 0 && l->opt.verify && !l->opt.configure_only)
        rc = prepare_verify(l, err);
    if (rc == 0)
        rc = instantiate_nf(l, err);
    if (rc)
        return rc;
    compute_lock_modes(l);
    rc = launcher_setup_dataplane(l, err);
    if (rc)
        return rc;
    if (l->opt.configure_only) {
        bool ok = true;
        print_rss_mode(l);
        for (int p = 0; p < l->n_ports && l->hardware_rss; p++)
            ok = launcher_rss_readback_matches(l, (uint16_t)p, stdout) && ok;
        if (!ok)
            util_error_set(err, "a port reports RSS settings other than the plan's");
        return ok ? 0 : UTIL_EXIT_FAILURE;
    }
    if (l->measure && !l->per_queue) {
        util_error_set(err, "--measure without --replay times each worker's own queue, so the "
                            "ports must take the plan's RSS, and %s; or measure from memory "
                            "with --replay FILE", l->why_software);
        return UTIL_EXIT_USAGE;
    }
    start_workers(l);
    if (l->measure)
        measure_wait(l);
    else if (l->set)
        rc = launcher_dispatch_from_set(l, err);
    else if (l->opt.replaying)
        rc = launcher_dispatch_from_replay(l, err);
    else if (l->per_queue)
        launcher_wait_hardware_idle(l);
    else
        launcher_dispatch_from_ports(l);
    stop_workers(l);
    if (rc)
        return rc;
    /* The parallel run's own statistics, before --verify's replays reset
     * the runtime. */
    struct rt_stats st;
    rt_stats(&st);
    if (l->verify) {
        rc = verify_finish(l, err);
        if (rc)
            return rc;
    }
    print_summary(l, &st);
    if (st.plan_violations > 0) {
        util_error_set(err, "%" PRIu64 " writes broke the plan (shared state written without "
                            "the write lock, or replicated state written)", st.plan_violations);
        return UTIL_EXIT_FAILURE;
    }
    if (verify_unsound(l) > 0) {
        util_error_set(err, "%" PRIu64 " unsound differences from the sequential NF: the plan "
                            "changes what the NF does", verify_unsound(l));
        return UTIL_EXIT_FAILURE;
    }
    return 0;
}

/* The plan: --plan FILE when given, else the one built into the runner
 * (then messages name it "the built-in plan (FILE)"). */
static int load_plan(struct launcher *l, const struct launcher_embedded_plan *embedded,
                     struct util_error *err)
{
    if (l->opt.plan_path) {
        struct util_error ignored = {{0}};
        if (util_sha256_file(l->opt.plan_path, plan_sha256, &ignored) != 0)
            plan_sha256[0] = 0;
        return rss_plan_read(l->opt.plan_path, &l->plan, err);
    }
    util_sha256_hex(embedded->json, embedded->len, plan_sha256);
    snprintf(l->embedded_name, sizeof l->embedded_name, "the built-in plan (%s)",
             embedded->name);
    l->opt.plan_path = l->embedded_name;
    return rss_plan_parse((const char *)embedded->json, embedded->len, l->embedded_name,
                          &l->plan, err);
}

int launcher_main(int argc, char **argv)
{
    return launcher_main_embedded(argc, argv, NULL);
}

int launcher_main_embedded(int argc, char **argv, const struct launcher_embedded_plan *embedded)
{
    struct launcher *l = calloc(1, sizeof *l);
    struct util_error err = {{0}};
    int eal_start;
    if (!l)
        return UTIL_EXIT_FAILURE;
    int rc = launcher_parse_options(argc, argv, embedded ? embedded->name : NULL, &l->opt,
                                    &eal_start);
    if (rc != 0) {
        free(l);
        return rc < 0 ? 0 : rc;
    }
    rc = load_plan(l, embedded, &err);
    if (rc == 0 && (rc = check_plan_config(l, l->opt.plan_path, &err)) != 0)
        rss_plan_free(&l->plan);
    if (rc != 0) {
        fprintf(stderr, "%s: error: %s\n", argv[0], err.msg);
        free(l);
        return rc;
    }
    /* The EAL sees our program name followed by what came after "--". */
    int eal_argc = argc - eal_start;
    char **eal_argv = calloc((size_t)eal_argc + 1, sizeof *eal_argv);
    if (!eal_argv) {
        rss_plan_free(&l->plan);
        free(l);
        return UTIL_EXIT_FAILURE;
    }
    eal_argv[0] = argv[0];
    for (int i = 1; i < eal_argc; i++)
        eal_argv[i] = argv[eal_start + i];
    if (rte_eal_init(eal_argc, eal_argv) < 0) {
        fprintf(stderr, "%s: error: DPDK EAL initialisation failed (%s); check the arguments "
                        "after '--' (without hugepages: --no-huge -m 512 --no-pci)\n",
                argv[0], rte_strerror(rte_errno));
        free(eal_argv);
        rss_plan_free(&l->plan);
        free(l);
        return UTIL_EXIT_USAGE;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    rc = run(l, argv[0], &err);
    if (rc != 0)
        fprintf(stderr, "%s: error: %s\n", argv[0], err.msg);
    free_logs(l);
    verify_free(l);
    measure_free(l);
    if (l->set)
        replay_set_free(l->set);
    free(l->set);
    rt_reset();
    rte_eal_cleanup();
    free(eal_argv);
    rss_plan_free(&l->plan);
    free(l);
    return rc;
}
