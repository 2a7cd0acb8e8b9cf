/*
 * main.c - the rsskey binary: dispatches to one subcommand per file, like
 * git's builtin/. Only subcommands that exist are listed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "ir/ir.h"
#include "util/util.h"

static const struct cmd_entry commands[] = {
    /* one line per subcommand, in pipeline order */
    {"analyze", cmd_analyze, "find per-packet state and decide sharded/replicated/shared"},
    {"synth", cmd_synth, "synthesise per-port RSS keys and the RETA, write plan.json"},
    {"nics", cmd_nics, "list the NIC profiles (key length, RETA size, hash fields)"},
    {"trace", cmd_trace, "summarise or generate packet traces (pcap)"},
    {"sim", cmd_sim, "simulate the plan on N cores: per-core load, costs, MLFFR, scaling"},
    {"deploy", cmd_deploy, "write a deployment folder: manifest, ethtool.sh, testpmd.txt, C stubs"},
    {"report", cmd_report, "a plan (and its simulation) as a Markdown design-review report"},
    {"build", cmd_build, "the NF's DPDK runner from its bitcode, carrying its plan"},
    {"sweep", cmd_sweep, "synth + sim over lists of NFs, NICs, cores, traces, rates: one table"},
    {NULL, NULL, NULL}
};

void cmd_error(const char *name, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "rsskey %s: error: ", name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

bool cmd_output_is_input(const char *cmd, const char *output, const char *const *inputs, int n)
{
    struct stat out;
    if (!output || strcmp(output, "-") == 0 || stat(output, &out) != 0)
        return false;                   /* standard output, or a new file */
    for (int i = 0; i < n; i++) {
        struct stat in;
        if (inputs[i] && stat(inputs[i], &in) == 0 && in.st_dev == out.st_dev &&
            in.st_ino == out.st_ino) {
            cmd_error(cmd, "-o %s is the input %s; rsskey never overwrites what it reads: "
                      "write to another file", output, inputs[i]);
            return true;
        }
    }
    return false;
}

int cmd_config_option(const char *cmd, const char *assignment, struct ir_config_value *list,
                      int *n, int max)
{
    struct util_error err;
    struct ir_config_value v = {{0}, 0, true, false};
    if (!assignment) {
        cmd_error(cmd, "--config needs NAME=VALUE");
        return -1;
    }
    if (util_parse_assignment(assignment, v.name, sizeof v.name, &v.value, &err) != 0) {
        cmd_error(cmd, "--config: %s", err.msg);
        return -1;
    }
    for (int i = 0; i < *n; i++)
        if (strcmp(list[i].name, v.name) == 0) {
            list[i] = v;
            return 0;
        }
    if (*n >= max) {
        cmd_error(cmd, "--config: at most %d values", max);
        return -1;
    }
    list[(*n)++] = v;
    return 0;
}

static void print_usage(FILE *out)
{
    fprintf(out,
            "usage: rsskey [--version] [--help] COMMAND [ARGS]\n"
            "\n"
            "Analyse a network function compiled to LLVM bitcode and synthesise RSS\n"
            "keys and indirection tables that let it run on many cores unchanged.\n"
            "\n"
            "Commands:\n");
    for (const struct cmd_entry *c = commands; c->name; c++)
        fprintf(out, "  %-10s %s\n", c->name, c->summary);
    fprintf(out, "\n'rsskey help COMMAND' or 'rsskey COMMAND --help' for a command's options.\n"
                 "Exit codes: 0 ok, 1 failure, 2 usage, 3 bad input, 4 I/O, 5 unsatisfiable.\n");
}

static const struct cmd_entry *find_command(const char *name)
{
    for (const struct cmd_entry *c = commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return UTIL_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        print_usage(stdout);
        return UTIL_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("rsskey %s\n", RSSKEY_VERSION);
        return UTIL_EXIT_OK;
    }
    if (strcmp(name, "help") == 0) {
        if (argc < 3) {
            print_usage(stdout);
            return UTIL_EXIT_OK;
        }
        const struct cmd_entry *c = find_command(argv[2]);
        if (!c) {
            fprintf(stderr, "rsskey: '%s' is not a command; see 'rsskey --help'\n", argv[2]);
            return UTIL_EXIT_USAGE;
        }
        char *help_argv[] = {argv[2], "--help", NULL};
        return c->run(2, help_argv);
    }
    const struct cmd_entry *c = find_command(name);
    if (!c) {
        fprintf(stderr, "rsskey: '%s' is not a command; see 'rsskey --help'\n", name);
        return UTIL_EXIT_USAGE;
    }
    return c->run(argc - 1, argv + 1);
}
