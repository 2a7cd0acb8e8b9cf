/*
 * deploy_internal.h - shared inside deploy/ only: a growable text buffer and
 * the generators of each file of a deployment folder.
 */
#ifndef RSSKEY_DEPLOY_INTERNAL_H
#define RSSKEY_DEPLOY_INTERNAL_H

#include "deploy/deploy.h"

/* A growable text; out_of_memory sticks once set (the owner frees buf). */
struct deploy_text {
    char *buf;
    size_t len, cap;
    bool out_of_memory;
};

void deploy_addf(struct deploy_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Per-object capacity on each core as the runtime lays it out
 * (runtime/runtime.h): sharded maps and allocators split ceil(capacity /
 * cores); everything else keeps its size. 0 when the size is unknown. */
uint32_t deploy_per_core_capacity(const struct deps_object *o, int cores);
/* The interface of plan port p: --dev's name or the placeholder "ETH<p>". */
const char *deploy_dev_name(const struct deploy_options *o, int p, char *buf, size_t size);

/* Generators (scripts.c, stubs.c): append the file's text. */
void deploy_ethtool_sh(const struct rss_plan *plan, const struct deploy_options *o,
                       struct deploy_text *t, int *notes);
void deploy_testpmd_txt(const struct rss_plan *plan, const struct deploy_options *o,
                        struct deploy_text *t, bool *sets_rss_hf);
void deploy_stub_header(const struct rss_plan *plan, const struct deploy_options *o,
                        struct deploy_text *t);
void deploy_stub_source(const struct rss_plan *plan, const struct deploy_options *o,
                        struct deploy_text *t);

#endif /* RSSKEY_DEPLOY_INTERNAL_H */
