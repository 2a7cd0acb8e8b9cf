/* fuzz_pcap.c - the capture reader (pcap and pcapng, every link type it
 * takes) read to its end or to an error, with the LAN policy applied. */
#include "tests/fuzz/fuzz_input.h"

#include <string.h>

#include "traces/traces.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_input_file(data, size, path);
    if (fd < 0)
        return 0;
    struct trace_source_options o;
    memset(&o, 0, sizeof o);
    struct util_error err;
    if (trace_options_add_file(&o, path, &err) == 0 &&
        trace_options_add_lan(&o, "10.0.0.0/8,fd00::/8", &err) == 0) {
        struct trace_source *s = trace_source_open(&o, &err);
        if (s) {
            struct trace_packet pkt;
            while (trace_source_next(s, &pkt, &err) == 1)
                ;
            trace_source_close(s);
        }
    }
    close(fd);
    return 0;
}
