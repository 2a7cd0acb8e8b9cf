/*
 * bench_deps.c - time of `rsskey analyze` per reference NF: ir (lift the
 * bitcode) + deps (graph and decisions), against a baseline measured in the
 * same run: LLVM parsing the same bitcode file and nothing else. Then deps
 * alone on synthetic NFs of growing size, against one pass over every key
 * part of the ir_nf (the least any consumer does). deps' instruction count
 * grows linearly here (callgrind: 40 M at 160 tables, 158 M at 640); the
 * time grows faster once its per-access tables leave the caches. The
 * NF-wide merge is quadratic only when groups conflict.
 *
 * usage: bench_deps [BITCODE_DIR]   (default: the build's nfs/ directory)
 */
#include <llvm-c/BitReader.h>
#include <llvm-c/Core.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deps/deps.h"
#include "ir/ir.h"
#include "util/util.h"

#ifndef NF_BITCODE_DIR
#define NF_BITCODE_DIR "nfs"
#endif

static const char *const nf_names[] = {"nop", "sbridge", "dbridge", "policer", "fw",
                                       "nat", "cl", "psd", "lb", "hhh"};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

/* Baseline: LLVM reads and parses the bitcode (no analysis). */
static double time_parse(const char *path)
{
    double t0 = util_now_seconds();
    LLVMMemoryBufferRef buf;
    char *msg = NULL;
    if (LLVMCreateMemoryBufferWithContentsOfFile(path, &buf, &msg) != 0) {
        fprintf(stderr, "bench_deps: %s: %s\n", path, msg ? msg : "cannot read");
        LLVMDisposeMessage(msg);
        return -1;
    }
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod;
    if (LLVMParseBitcodeInContext2(ctx, buf, &mod) == 0)
        LLVMDisposeModule(mod);
    LLVMDisposeMemoryBuffer(buf);
    LLVMContextDispose(ctx);
    return util_now_seconds() - t0;
}

static void bench_reference(const char *dir)
{
    enum { RUNS = 7, DEPS_RUNS = 50 };
    printf("ir + deps per reference NF (-O2 bitcode; median of %d runs; deps: batches of %d)\n",
           RUNS, DEPS_RUNS);
    printf("%-8s %9s %9s %9s %8s %9s %7s\n", "NF", "parse ms", "ir ms", "deps us",
           "objects", "accesses", "ratio");
    double sum_base = 0, sum_total = 0;
    for (size_t n = 0; n < sizeof nf_names / sizeof nf_names[0]; n++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s.O2.bc", dir, nf_names[n]);
        double base[RUNS], ir[RUNS];
        struct ir_nf nf;
        struct util_error err;
        bool ok = true;
        for (int r = 0; r < RUNS && ok; r++) {
            base[r] = time_parse(path);
            memset(&nf, 0, sizeof nf);
            double t0 = util_now_seconds();
            struct ir_options opts = {0};
            if (ir_analyze_file(path, &opts, &nf, &err) != 0) {
                fprintf(stderr, "bench_deps: %s\n", err.msg);
                ok = false;
            }
            ir[r] = util_now_seconds() - t0;
            if (r + 1 < RUNS || !ok)
                ir_nf_free(&nf);
        }
        if (!ok || base[0] < 0)
            continue;
        struct deps_plan plan;
        double batch[RUNS];
        for (int r = 0; r < RUNS; r++) {
            double t0 = util_now_seconds();
            for (int k = 0; k < DEPS_RUNS; k++) {
                if (deps_plan_build(&nf, NULL, &plan, &err) != 0)
                    fprintf(stderr, "bench_deps: %s\n", err.msg);
                if (r + 1 < RUNS || k + 1 < DEPS_RUNS)
                    deps_plan_free(&plan);
            }
            batch[r] = (util_now_seconds() - t0) / DEPS_RUNS;
        }
        double deps = median(batch, RUNS);
        double mb = median(base, RUNS), mi = median(ir, RUNS);
        printf("%-8s %9.2f %9.2f %9.1f %8d %9d %6.1fx\n", nf_names[n], mb * 1e3, mi * 1e3,
               deps * 1e6, plan.n_objects, nf.n_accesses, (mi + deps) / mb);
        sum_base += mb;
        sum_total += mi + deps;
        deps_plan_free(&plan);
        ir_nf_free(&nf);
    }
    if (sum_base > 0)
        printf("%-8s %9.2f %9.2f %9s %8s %9s %6.1fx   (ratio = (ir + deps) / parse)\n\n",
               "all", sum_base * 1e3, sum_total * 1e3, "", "", "", sum_total / sum_base);
}

/* A synthetic NF: `tables` flow tables (map + allocator + two vectors, eight
 * accesses each, keyed on the 5-tuple on port 0 and its reverse on port 1). */
static void make_nf(struct ir_nf *nf, int tables)
{
    memset(nf, 0, sizeof *nf);
    snprintf(nf->path, sizeof nf->path, "synthetic-%d", tables);
    nf->n_ports = 2;
    nf->objects = calloc((size_t)tables * 4, sizeof *nf->objects);
    nf->accesses = calloc((size_t)tables * 10, sizeof *nf->accesses);
    static const enum ir_field_id fwd[] = {IR_FIELD_IPV4_SRC, IR_FIELD_IPV4_DST,
                                           IR_FIELD_L4_SPORT, IR_FIELD_L4_DPORT};
    static const enum ir_field_id rev[] = {IR_FIELD_IPV4_DST, IR_FIELD_IPV4_SRC,
                                           IR_FIELD_L4_DPORT, IR_FIELD_L4_SPORT};
    for (int t = 0; t < tables; t++) {
        int o = nf->n_objects;
        static const enum ir_object_kind kinds[] = {IR_OBJ_MAP, IR_OBJ_ALLOC, IR_OBJ_VECTOR,
                                                    IR_OBJ_VECTOR};
        for (int k = 0; k < 4; k++) {
            snprintf(nf->objects[o + k].name, IR_NAME_MAX, "t%d_%d", t, k);
            nf->objects[o + k].kind = kinds[k];
        }
        nf->n_objects += 4;
        struct { int obj; enum ir_api api; int port; int state_from; bool rev; } plan[] = {
            {o + 1, IR_API_ALLOC_EXPIRE, 0, -1, false},
            {o, IR_API_MAP_GET, 0, -1, false},
            {o + 1, IR_API_ALLOC_REFRESH, 0, 1, false},
            {o + 1, IR_API_ALLOC_NEW, 0, -1, false},
            {o + 2, IR_API_VECTOR_WRITE, 0, 3, false},
            {o + 3, IR_API_VECTOR_WRITE, 0, 3, false},
            {o, IR_API_MAP_PUT, 0, -1, false},
            {o + 1, IR_API_ALLOC_EXPIRE, 1, -1, false},
            {o, IR_API_MAP_GET, 1, -1, true},
            {o + 3, IR_API_VECTOR_READ, 1, 8, false},
        };
        int base = nf->n_accesses;
        for (size_t i = 0; i < sizeof plan / sizeof plan[0]; i++) {
            struct ir_access *a = &nf->accesses[nf->n_accesses++];
            a->object = plan[i].obj;
            a->api = plan[i].api;
            a->port = plan[i].port;
            a->related[0] = a->related[1] = -1;
            if (a->api == IR_API_ALLOC_EXPIRE) {
                a->related[0] = o;
                a->related[1] = o + 2;
            }
            if (plan[i].state_from >= 0) {
                a->key.count = 1;
                a->key.parts[0].field.id = IR_FIELD_STATE;
                a->key.parts[0].from_access = base + plan[i].state_from;
            } else if (a->api == IR_API_MAP_GET || a->api == IR_API_MAP_PUT) {
                a->key.count = 4;
                for (int k = 0; k < 4; k++) {
                    a->key.parts[k].field.id = plan[i].rev ? rev[k] : fwd[k];
                    a->key.parts[k].from_access = -1;
                }
            }
        }
    }
}

static void bench_synthetic(void)
{
    printf("deps alone on synthetic NFs (flow tables keyed both ways; ratio = deps / scan)\n");
    printf("%-8s %9s %11s %11s %7s\n", "tables", "accesses", "scan us", "deps us", "ratio");
    for (int tables = 10; tables <= 640; tables *= 4) {
        struct ir_nf nf;
        make_nf(&nf, tables);
        int runs = tables <= 160 ? 200 : 10;
        struct util_error err;
        struct deps_plan plan;
        /* baseline: one pass reading every key part (the least any consumer does) */
        double t0 = util_now_seconds();
        unsigned long sink = 0;
        for (int r = 0; r < runs; r++)
            for (int i = 0; i < nf.n_accesses; i++)
                for (int k = 0; k < nf.accesses[i].key.count; k++)
                    sink += (unsigned long)nf.accesses[i].key.parts[k].field.id +
                            (unsigned long)nf.accesses[i].key.parts[k].from_access;
        __asm__ volatile("" : : "r"(sink) : "memory");
        double scan = (util_now_seconds() - t0) / runs;
        t0 = util_now_seconds();
        bool sharded = true;
        for (int r = 0; r < runs; r++) {
            if (deps_plan_build(&nf, NULL, &plan, &err) != 0)
                fprintf(stderr, "bench_deps: %s\n", err.msg);
            sharded = sharded && plan.n_objects > 0 && plan.objects[0].decision == DEPS_SHARDED;
            deps_plan_free(&plan);
        }
        double deps = (util_now_seconds() - t0) / runs;
        printf("%-8d %9d %11.1f %11.1f %6.0fx%s\n", tables, nf.n_accesses, scan * 1e6,
               deps * 1e6, deps / scan, sharded ? "" : "  (unexpected plan)");
        free(nf.objects);
        free(nf.accesses);
    }
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : NF_BITCODE_DIR;
    bench_reference(dir);
    bench_synthetic();
    return 0;
}
