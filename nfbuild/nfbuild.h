/*
 * nfbuild.h - turns an NF's LLVM bitcode into its DPDK runner: the bitcode
 * compiled with clang-19, a generated main() that carries the plan (when one
 * is given), linked with rsskey's launcher, runtime and their libraries into
 * one executable, written atomically. Before anything is compiled the plan is
 * checked against the bitcode: its schema and rsskey version, and the NF's
 * state (the analysis of this bitcode must find the plan's objects, of the
 * same kinds, keyed the same way), so a plan for another NF is refused.
 *
 * Where the libraries are: rsskey finds a pkg-config file beside itself
 * (docs/nf-api.md, "Building a runner"):
 *  - <dir of rsskey>/rsskey-uninstalled.pc: rsskey run from its build tree;
 *  - <dir of rsskey>/../lib/pkgconfig/rsskey.pc: an installed rsskey (the
 *    file locates the prefix from its own folder, so a prefix can move).
 * Tools: clang-19 and the C compiler the libraries were built with, each at
 * the path configure found, else by name on PATH.
 */
#ifndef RSSKEY_NFBUILD_H
#define RSSKEY_NFBUILD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/util.h"

/* The tools and the libraries a runner is built with. */
struct nfbuild_toolchain {
    char clang[PATH_MAX];          /* compiles the bitcode */
    char cc[PATH_MAX];             /* compiles the generated main and links */
    char pc_dir[PATH_MAX];         /* the folder holding the pkg-config file */
    char package[32];              /* "rsskey" (installed) or "rsskey-uninstalled" */
    const char *layout;            /* "install prefix" or "build tree" */
};

/* Finds the toolchain for the rsskey executable at self_exe (NULL: this
 * process's own, /proc/self/exe). clang: a clang-19 to use instead of the
 * configured one (NULL: the configured path, else clang-19 on PATH).
 * Returns a UTIL_EXIT_* code (UTIL_EXIT_FAILURE when a tool or the libraries
 * cannot be found, saying what to install). */
int nfbuild_find_toolchain(const char *self_exe, const char *clang,
                           struct nfbuild_toolchain *tc, struct util_error *err);

/* The plan (plan.json's text, len bytes, read from plan_path) was made for
 * the NF in bitcode: same schema and rsskey version (when the plan records
 * one), the same objects of the same kinds, and each sharded object keyed on
 * the same fields per port, by this rsskey's analysis of the bitcode with the
 * plan's configuration. Returns 0, UTIL_EXIT_INPUT with err naming both sides
 * and what to do, or another UTIL_EXIT_* code (unreadable bitcode). */
int nfbuild_check_plan(const char *bitcode, const char *plan_path, const char *text,
                       size_t len, struct util_error *err);

struct nfbuild_options {
    const char *bitcode;           /* the NF, clang-19 -c -emit-llvm output */
    const char *plan;              /* plan.json to build in; NULL = none (--plan at run time) */
    const char *output;            /* the runner to write */
    bool verbose;                  /* print each command before running it */
};

/* Checks the plan (nfbuild_check_plan), compiles, links into a temporary file
 * beside output and renames it over output; on any failure nothing is left.
 * Returns a UTIL_EXIT_* code: UTIL_EXIT_INPUT for a plan for another NF or
 * bitcode that does not compile or link (with the tool's message). */
int nfbuild_build(const struct nfbuild_options *o, const struct nfbuild_toolchain *tc,
                  struct util_error *err);

#endif /* RSSKEY_NFBUILD_H */
