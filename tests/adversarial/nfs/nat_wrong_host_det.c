/*
 * nat_wrong_host_det.c - nat_wrong_host.c with a bug that does not depend on
 * the slot: replies always go to the stored inside address ^ 1. Wrong, but
 * identical sequentially and on any number of cores, so it is the NF's bug,
 * not a plan's: a sound plan is the NAT's plan and --verify must not blame it.
 */
#define NAT_DETERMINISTIC_BUG 1
#include "nat_wrong_host.c"
