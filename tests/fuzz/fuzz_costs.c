/* fuzz_costs.c - the simulator's cost file (--costs). */
#include "tests/fuzz/fuzz_input.h"

#include <stdlib.h>

#include "sim/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_input_file(data, size, path);
    if (fd < 0)
        return 0;
    struct sim_costs c;
    struct util_error err;
    sim_costs_default(&c);
    if (sim_costs_read(path, &c, &err) == 0)
        free(sim_costs_format(&c, NULL));
    close(fd);
    return 0;
}
