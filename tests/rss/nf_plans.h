/*
 * nf_plans.h - hand-built deps plans of the ten reference NFs (the "expected
 * plan" column of docs' nf-catalogue), for the rss tests and benchmarks.
 */
#ifndef RSSKEY_TEST_NF_PLANS_H
#define RSSKEY_TEST_NF_PLANS_H

#include "deps/deps.h"

#define NF_PLAN_COUNT 10

/* Names in catalogue order: nop, sbridge, dbridge, policer, fw, nat, cl, psd, lb, hhh. */
const char *nf_plan_name(int i);
/* Fills plan (free with deps_plan_free). Returns 0, -1 for an unknown name. */
int nf_plan_build(const char *name, struct deps_plan *plan);

#endif
