/*
 * nf_harness.c - see nf_harness.h.
 */
#include "nf_harness.h"

#include <stdio.h>

#include "rsskey/nf.h"
#include "runtime/runtime.h"

int harness_init(const char *const *settings)
{
    rt_reset();
    for (size_t i = 0; settings != NULL && settings[i] != NULL; i++) {
        struct util_error err;
        if (rt_config_parse(settings[i], &err) != 0) {
            fprintf(stderr, "harness: %s\n", err.msg);
            return -1;
        }
    }
    return nf_init();
}

int harness_send(uint8_t *frame, size_t len, uint16_t port, uint64_t time_ns)
{
    struct nf_packet pkt = {
        .data = frame, .len = (uint32_t)len, .port = port, .time_ns = time_ns,
    };
    return nf_process(&pkt);
}

int harness_send_spec(const struct pb_spec *spec, uint16_t port, uint64_t time_ns)
{
    uint8_t frame[PB_MAX_FRAME];
    size_t len = pb_build(spec, frame, sizeof frame);
    if (len == 0)
        return -100;            /* a test bug: the spec does not fit */
    return harness_send(frame, len, port, time_ns);
}
