/*
 * nfbuild_internal.h - what the files of nfbuild/ share: running a tool
 * (toolchain.c) for the build steps (build.c).
 */
#ifndef RSSKEY_NFBUILD_INTERNAL_H
#define RSSKEY_NFBUILD_INTERNAL_H

#include "nfbuild/nfbuild.h"

/* Runs argv (argv[0] searched on PATH when it has no '/') and waits: stdout
 * to out_path and stderr to err_path when not NULL (else inherited), and
 * PKG_CONFIG_PATH prefixed with pc_dir when not NULL, in the child only.
 * Returns the exit status, 127 when it could not be started, 128 + N when
 * killed by signal N, -1 when fork failed. */
int nfbuild_spawn(char *const argv[], const char *pc_dir, const char *out_path,
                  const char *err_path);

/* "+ argv[0] argv[1] ..." on stderr (--verbose). */
void nfbuild_print_command(char *const argv[]);

#endif /* RSSKEY_NFBUILD_INTERNAL_H */
