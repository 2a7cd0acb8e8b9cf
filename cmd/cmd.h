/*
 * cmd.h - the rsskey subcommands. Each lives in its own file, cmd_<name>.c,
 * parses its arguments and calls the modules; it does no analysis itself.
 * Every subcommand parses with getopt_long (so --opt=value works), answers
 * --help, returns a UTIL_EXIT_* code, and prints
 * errors as "rsskey CMD: error: ..." on stderr.
 */
#ifndef RSSKEY_CMD_H
#define RSSKEY_CMD_H

#include <stdbool.h>

struct cmd_entry {
    const char *name;
    int (*run)(int argc, char **argv);   /* argv[0] is the subcommand name */
    const char *summary;
};

/* Prints "rsskey NAME: error: MESSAGE" to stderr. */
void cmd_error(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --config NAME=VALUE (analyze, synth): appends to list[*n] (at most max
 * values; a name given twice keeps the last value). Returns 0, or prints the
 * error and returns -1. */
struct ir_config_value;
int cmd_config_option(const char *cmd, const char *assignment, struct ir_config_value *list,
                      int *n, int max);

/* True (and the error printed) when output names the same file as one of the
 * n inputs (NULL entries skipped): rsskey never overwrites what it was given. */
bool cmd_output_is_input(const char *cmd, const char *output, const char *const *inputs, int n);

/* Subcommands (one file each). */
int cmd_trace(int argc, char **argv);

int cmd_analyze(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_nics(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_deploy(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_build(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
#endif /* RSSKEY_CMD_H */
