/* fuzz_plan.c - plan.json as the launcher, sim and report read it
 * (rss_plan_read: the JSON, the deps plan, keys, RETA, configuration). */
#include "tests/fuzz/fuzz_input.h"

#include "rss/rss.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_input_file(data, size, path);
    if (fd < 0)
        return 0;
    struct rss_plan plan;
    struct util_error err;
    if (rss_plan_read(path, &plan, &err) == 0) {
        rss_plan_check(&plan, 1, 50, &err);
        rss_plan_free(&plan);
    }
    close(fd);
    return 0;
}
