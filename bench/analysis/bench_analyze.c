/*
 * bench_analyze.c - how long ir_analyze_file takes per reference NF, at -O0
 * and -O2 (median of several runs), against a baseline measured in the same
 * run: merely parsing the same bitcode with LLVM 19 into a fresh context.
 * The acceptance goal is analysis < 200 ms per NF.
 *
 * Usage: bench_analyze [runs]   (default 7)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/BitReader.h>
#include <llvm-c/Core.h>

#include "ir/ir.h"

#ifndef BENCH_NF_DIR
#error "BENCH_NF_DIR must name the directory of the reference NF bitcode"
#endif

static const char *const nfs[] = {
    "nop", "sbridge", "dbridge", "policer", "fw", "nat", "cl", "psd", "lb", "hhh",
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Baseline: read + parse the bitcode, nothing else. */
static double time_parse(const char *path)
{
    double t0 = util_now_seconds();
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMMemoryBufferRef buf;
    char *msg = NULL;
    if (LLVMCreateMemoryBufferWithContentsOfFile(path, &buf, &msg)) {
        fprintf(stderr, "%s: %s\n", path, msg);
        exit(1);
    }
    LLVMModuleRef mod;
    if (LLVMParseBitcodeInContext2(ctx, buf, &mod)) {
        fprintf(stderr, "%s: cannot parse\n", path);
        exit(1);
    }
    LLVMDisposeMemoryBuffer(buf);
    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
    return util_now_seconds() - t0;
}

static double time_analyze(const char *path, int *accesses)
{
    double t0 = util_now_seconds();
    struct ir_nf nf;
    struct util_error err;
    if (ir_analyze_file(path, NULL, &nf, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    *accesses = nf.n_accesses;
    ir_nf_free(&nf);
    return util_now_seconds() - t0;
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 7;
    if (runs < 1 || runs > 1000)
        runs = 7;
    static const char *const levels[] = {"O0", "O2"};
    printf("ir_analyze_file per reference NF, median of %d runs\n", runs);
    printf("baseline: parsing the same bitcode with LLVM 19 (fresh context)\n\n");
    printf("%-8s %-3s %9s %12s %10s %7s %7s\n", "nf", "opt", "accesses", "parse ms",
           "ir ms", "ratio", "<200ms");
    double worst = 0;
    double *parse = malloc((size_t)runs * sizeof *parse);
    double *lift = malloc((size_t)runs * sizeof *lift);
    for (size_t i = 0; i < sizeof nfs / sizeof nfs[0]; i++)
        for (int l = 0; l < 2; l++) {
            char path[512];
            snprintf(path, sizeof path, "%s/%s.%s.bc", BENCH_NF_DIR, nfs[i], levels[l]);
            int accesses = 0;
            time_analyze(path, &accesses);      /* warm the page cache */
            for (int r = 0; r < runs; r++) {
                parse[r] = time_parse(path);
                lift[r] = time_analyze(path, &accesses);
            }
            double p = median(parse, runs) * 1e3, a = median(lift, runs) * 1e3;
            if (a > worst)
                worst = a;
            printf("%-8s %-3s %9d %12.2f %10.2f %6.1fx %7s\n", nfs[i], levels[l], accesses, p, a,
                   a / p, a < 200 ? "yes" : "NO");
        }
    printf("\nslowest: %.2f ms (goal < 200 ms per NF)\n", worst);
    free(parse);
    free(lift);
    return worst < 200 ? 0 : 1;
}
