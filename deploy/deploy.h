/*
 * deploy.h - putting a plan on NICs: from a plan (rss/) and the NIC profile
 * it names, the files of a deployment folder (manifest.json, ethtool.sh,
 * testpmd.txt, rsskey_plan.h / rsskey_plan.c), a short summary, and the
 * manifest read back (for `rsskey report --manifest`). Formats:
 * docs/plan-format.md ("Deployment manifest") and docs/deploy.md.
 */
#ifndef RSSKEY_DEPLOY_H
#define RSSKEY_DEPLOY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "rss/rss.h"
#include "util/util.h"

#define DEPLOY_MANIFEST_SCHEMA "rsskey-manifest/1"
#define DEPLOY_MANIFEST_FILE "manifest.json"
#define DEPLOY_MAX_FILES 8
#define DEPLOY_DEV_MAX 32               /* interface names (IFNAMSIZ is 16) */

struct deploy_options {
    const char *plan_path;              /* as given; recorded in the manifest */
    char plan_sha256[65];               /* SHA-256 of the plan file's bytes */
    struct rss_nic nic;                 /* the profile the plan names (or --nic-file) */
    int n_devs;                         /* 0: placeholders ETH0, ETH1, ... */
    char devs[DEPS_MAX_PORTS][DEPLOY_DEV_MAX];
    const char *version;                /* rsskey's version */
    unsigned check_packets;             /* random pairs for the re-check (0: 10000) */
};

/* What a deployment found out, for the summary and the manifest. */
struct deploy_facts {
    bool recheck_passed;
    bool reta_round_robin[DEPS_MAX_PORTS];  /* entry i -> i mod cores */
    bool testpmd_sets_rss_hf;               /* one testpmd RSS type expresses rss_hf */
    int ethtool_notes;                      /* things ethtool.sh says it cannot express */
};

/* The generated files (texts owned; free with deploy_bundle_free). */
struct deploy_bundle {
    int n_files;
    struct util_dir_file files[DEPLOY_MAX_FILES];
    char *texts[DEPLOY_MAX_FILES];
    struct deploy_facts facts;
};

/* Checks that the plan fits the NIC profile (key length, RETA size, rss_hf),
 * that --dev names one interface per port, and re-runs the independent
 * checker (rss_plan_check). Returns a UTIL_EXIT_* code: INPUT for a plan
 * that does not fit, USAGE for a --dev list of the wrong length, FAILURE
 * when the re-check rejects the plan. */
int deploy_check(const struct rss_plan *plan, const struct deploy_options *o,
                 struct deploy_facts *facts, struct util_error *err);

/* Generates every file (after deploy_check passed). Returns a UTIL_EXIT_*
 * code; out is filled only on success. */
int deploy_generate(const struct rss_plan *plan, const struct deploy_options *o,
                    struct deploy_bundle *out, struct util_error *err);
void deploy_bundle_free(struct deploy_bundle *b);

/* A summary that fits a terminal; and the same facts as one JSON object. */
void deploy_print_summary(const struct rss_plan *plan, const struct deploy_options *o,
                          const struct deploy_bundle *b, const char *dir, FILE *out);
void deploy_summary_json(const struct rss_plan *plan, const struct deploy_options *o,
                         const struct deploy_bundle *b, const char *dir, struct util_json *w);

/* ---- Reading a manifest back ------------------------------------------------- */

struct deploy_manifest_port {
    int port;
    char dev[DEPLOY_DEV_MAX];           /* "" when placeholders were written */
    int queues;
    struct rss_port_config rss;
};

struct deploy_manifest {
    char path[256];
    char rsskey_version[32];
    char plan_path[256];
    char plan_sha256[65];
    char nf[256];
    char nf_sha256[65];                 /* "" when the plan carried none */
    char nic[32];
    int cores;
    int n_ports;
    struct deploy_manifest_port ports[DEPS_MAX_PORTS];
    int n_files;
    char files[DEPLOY_MAX_FILES][32];
    bool recheck_passed;
    bool testpmd_sets_rss_hf;
};

/* Reads manifest.json (or a deployment folder holding one). Returns a
 * UTIL_EXIT_* code; err names the file, the member and what to do. */
int deploy_manifest_read(const char *path, struct deploy_manifest *m, struct util_error *err);
/* UTIL_EXIT_OK when the manifest was made from this plan (same plan bytes,
 * keys, hash fields and RETAs), else UTIL_EXIT_INPUT with err saying what
 * differs. plan_sha256: SHA-256 of the plan file's bytes. */
int deploy_manifest_matches(const struct deploy_manifest *m, const struct rss_plan *plan,
                            const char *plan_sha256, struct util_error *err);

#endif /* RSSKEY_DEPLOY_H */
