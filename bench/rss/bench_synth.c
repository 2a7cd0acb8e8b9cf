/*
 * bench_synth.c - how long `rsskey synth` takes per reference NF (analysis of
 * the -O2 bitcode, then key/RETA synthesis with the checker, then plan.json
 * in memory), against the analysis alone as the baseline measured in the same
 * run; goal: under 1 s per NF. Then the spreading of the sharding field's low
 * 16 bits (100k packets, 512-entry RETA): Maestro's shipped keys against
 * rsskey's for the same NF and port.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deps/deps.h"
#include "ir/ir.h"
#include "rss/rss.h"
#include "tests/rss/nf_plans.h"

static const char *const nfs[] = {"nop", "sbridge", "dbridge", "policer", "fw",
                                  "nat", "cl", "psd", "lb", "hhh"};

static int analyse(const char *path, struct deps_plan *plan, struct util_error *err)
{
    struct ir_nf nf;
    memset(&nf, 0, sizeof nf);
    struct ir_options io = {0};
    int rc = ir_analyze_file(path, &io, &nf, err);
    if (rc == 0)
        rc = deps_plan_build(&nf, NULL, plan, err);
    ir_nf_free(&nf);
    return rc;
}

static void timing(void)
{
    printf("%-8s %12s %12s %12s %10s  %s\n", "nf", "analysis s", "synth s", "total s",
           "synth/ana", "under 1 s");
    double worst = 0;
    for (size_t i = 0; i < sizeof nfs / sizeof nfs[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s.O2.bc", NF_BITCODE_DIR, nfs[i]);
        struct util_error err = {{0}};
        struct deps_plan analysis;
        memset(&analysis, 0, sizeof analysis);
        double t0 = util_now_seconds();
        if (analyse(path, &analysis, &err)) {
            printf("%-8s analysis failed: %.70s\n", nfs[i], err.msg);
            deps_plan_free(&analysis);
            continue;
        }
        double t1 = util_now_seconds();
        struct rss_synth_options o;
        rss_synth_options_init(&o);
        struct rss_plan plan;
        int rc = rss_synthesize(&analysis, &o, &plan, &err);
        if (rc == 0) {
            struct util_json *w = util_json_new();
            rss_plan_write_json(&plan, w);
            util_json_free(w);
            rss_plan_free(&plan);
        }
        double t2 = util_now_seconds();
        deps_plan_free(&analysis);
        if (rc) {
            printf("%-8s synthesis failed: %.70s\n", nfs[i], err.msg);
            continue;
        }
        if (t2 - t0 > worst)
            worst = t2 - t0;
        printf("%-8s %12.3f %12.3f %12.3f %9.2fx  %s\n", nfs[i], t1 - t0, t2 - t1, t2 - t0,
               (t2 - t1) / (t1 - t0), t2 - t0 < 1.0 ? "yes" : "NO");
    }
    printf("slowest NF end to end: %.3f s (goal < 1 s: %s)\n\n", worst, worst < 1 ? "MET" : "NOT MET");
}

static uint64_t rng = 12345;
static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void spread(const struct rss_port_config *c, bool src, double *cov, double *mm)
{
    enum { N = 100000 };
    uint32_t *count = calloc(c->reta_size, sizeof *count);
    struct trace_tuple t = {.ip_version = 4, .proto = 6, .has_ports = true};
    uint64_t a = rnd();
    memcpy(t.src, &a, 4);
    memcpy(t.dst, (uint8_t *)&a + 4, 4);
    t.sport = (uint16_t)rnd();
    t.dport = (uint16_t)rnd();
    for (int i = 0; i < N; i++) {
        uint16_t low = (uint16_t)rnd();
        uint8_t *f = src ? t.src : t.dst;
        f[2] = (uint8_t)(low >> 8);
        f[3] = (uint8_t)low;
        count[rss_hash_tuple(c, &t) & (c->reta_size - 1)]++;
    }
    uint32_t used = 0, max = 0;
    for (uint32_t i = 0; i < c->reta_size; i++) {
        used += count[i] > 0;
        max = count[i] > max ? count[i] : max;
    }
    *cov = (double)used / c->reta_size;
    *mm = (double)max * c->reta_size / N;
    free(count);
}

static void maestro_comparison(void)
{
    static const struct { const char *nf; int port; bool src; const char *field; } cases[] = {
        {"nat", 0, false, "dst IP"}, {"nat", 1, true, "src IP"}, {"psd", 0, true, "src IP"},
        {"cl", 0, true, "src IP"},   {"cl", 0, false, "dst IP"}, {"fw", 0, true, "src IP"},
        {"hhh", 0, true, "src IP"},
    };
    char path[512];
    snprintf(path, sizeof path, "%s/anchors/maestro-sn-keys.txt", SHARED_DIR);
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("(no %s: Maestro comparison skipped)\n", path);
        return;
    }
    printf("low 16 bits of one field vary, 100k TCP packets, 512-entry RETA (x710 profile)\n");
    printf("%-5s %-5s %-7s | %-22s | %-22s\n", "nf", "port", "field", "Maestro buckets max/mean",
           "rsskey buckets max/mean");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rss_port_config m = {.key_len = 52, .reta_size = 512,
                                    .rss_hf = RSS_HF_NONFRAG_IPV4_TCP | RSS_HF_NONFRAG_IPV4_UDP};
        char nf[32], hex[256];
        int port;
        bool found = false;
        rewind(f);
        while (fscanf(f, "%31s %d %255s", nf, &port, hex) == 3)
            if (!strcmp(nf, cases[i].nf) && port == cases[i].port) {
                for (int b = 0; b < 52; b++) {
                    unsigned v;
                    sscanf(hex + 2 * b, "%2x", &v);
                    m.key[b] = (uint8_t)v;
                }
                found = true;
            }
        if (!found)
            continue;
        struct deps_plan dp;
        nf_plan_build(cases[i].nf, &dp);
        /* The expected hhh plan keys on /8; measure rsskey on it anyway. */
        struct rss_synth_options o;
        rss_synth_options_init(&o);
        o.cores = 16;
        struct rss_plan plan;
        struct util_error err;
        if (rss_synthesize(&dp, &o, &plan, &err)) {
            deps_plan_free(&dp);
            continue;
        }
        double mc, mm, rc, rm;
        spread(&m, cases[i].src, &mc, &mm);
        spread(&plan.ports[cases[i].port], cases[i].src, &rc, &rm);
        printf("%-5s %-5d %-7s | %8.1f%% %12.2f | %8.1f%% %12.2f\n", cases[i].nf,
               cases[i].port, cases[i].field, 100 * mc, mm, 100 * rc, rm);
        rss_plan_free(&plan);
        deps_plan_free(&dp);
    }
    fclose(f);
    printf("(hhh: the plan keys on src/8, so no key can spread the low 16 bits; the plan\n"
           " carries a balance warning instead)\n");
}

int main(void)
{
    printf("bench_synth: rsskey synth per reference NF (x710 profile, 4 cores)\n");
    timing();
    maestro_comparison();
    return 0;
}
