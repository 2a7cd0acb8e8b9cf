/*
 * nf_harness.h - runs the NF linked into a test executable: reset the
 * runtime, configure, nf_init, then feed frames one by one.
 */
#ifndef RSSKEY_TESTS_NF_HARNESS_H
#define RSSKEY_TESTS_NF_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "packet_builder.h"

#define MS 1000000ULL           /* nanoseconds per millisecond */

/* rt_reset(), then each "name=value" of the NULL-terminated `settings`
 * (NULL: none), then nf_init(). Returns nf_init's result (-1 also when a
 * setting is rejected). */
int harness_init(const char *const *settings);

/* Calls nf_process on `frame` (modified in place) as if it arrived on `port`
 * at `time_ns`; returns the verdict. */
int harness_send(uint8_t *frame, size_t len, uint16_t port, uint64_t time_ns);

/* Builds `spec` into a scratch buffer, sends it, returns the verdict. */
int harness_send_spec(const struct pb_spec *spec, uint16_t port, uint64_t time_ns);

#endif /* RSSKEY_TESTS_NF_HARNESS_H */
