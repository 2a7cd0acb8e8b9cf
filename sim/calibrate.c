/*
 * calibrate.c - measures this machine's per-packet costs (filled in below).
 */
#include "sim/sim_internal.h"

int sim_calibrate(struct sim_costs *c, FILE *log, struct util_error *err)
{
    (void)c; (void)log;
    util_error_set(err, "calibration is not implemented yet");
    return UTIL_EXIT_FAILURE;
}
