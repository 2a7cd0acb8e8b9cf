/*
 * ir_dump.c - developer tool (not a test): prints what ir/ lifts from a
 * bitcode file. Usage: ir_dump nf.bc [ports]
 */
#include <stdio.h>
#include <stdlib.h>

#include "ir/ir.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: ir_dump nf.bc [ports]\n");
        return 2;
    }
    struct ir_options opts = {.ports = argc > 2 ? atoi(argv[2]) : 0};
    struct ir_nf nf;
    struct util_error err;
    int rc = ir_analyze_file(argv[1], &opts, &nf, &err);
    if (rc) {
        fprintf(stderr, "error: %s\n", err.msg);
        return rc;
    }
    ir_nf_write_text(&nf, stdout);
    ir_nf_free(&nf);
    return 0;
}
