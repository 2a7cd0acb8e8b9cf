/* fuzz_bitcode.c - the bitcode loader and the analysis, in their child
 * process as `rsskey analyze` runs them (a crash in LLVM's reader becomes an
 * error), then the deps plan built from what they found. */
#include "tests/fuzz/fuzz_input.h"

#include <string.h>

#include "deps/deps.h"
#include "ir/ir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_input_file(data, size, path);
    if (fd < 0)
        return 0;
    struct ir_nf nf;
    struct util_error err;
    memset(&nf, 0, sizeof nf);
    if (ir_analyze_file(path, NULL, &nf, &err) == 0) {
        struct deps_plan plan;
        if (deps_plan_build(&nf, NULL, &plan, &err) == 0)
            deps_plan_free(&plan);
    }
    ir_nf_free(&nf);
    close(fd);
    return 0;
}
