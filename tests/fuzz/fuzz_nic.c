/* fuzz_nic.c - a NIC profile file (--nic-file). */
#include "tests/fuzz/fuzz_input.h"

#include "rss/rss.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_input_file(data, size, path);
    if (fd < 0)
        return 0;
    struct rss_nic nic;
    struct util_error err;
    rss_nic_read_file(path, &nic, &err);
    close(fd);
    return 0;
}
