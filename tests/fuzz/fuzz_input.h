/*
 * fuzz_input.h - what the fuzz targets share: an input as a file path. The
 * readers under test take paths (as users give them), so each input is
 * written to an anonymous in-memory file and handed over as /proc/self/fd/N.
 * Every target defines LLVMFuzzerTestOneInput; replay_main.c runs it over
 * files (ctest, every build), libFuzzer drives it in a clang -DRSSKEY_FUZZ
 * build (scripts/fuzz.sh).
 */
#ifndef RSSKEY_FUZZ_INPUT_H
#define RSSKEY_FUZZ_INPUT_H

#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes data to a memfd; returns its fd (close it after) and the path in
 * path[64], or -1. */
static inline int fuzz_input_file(const uint8_t *data, size_t size, char path[64])
{
    int fd = memfd_create("rsskey-fuzz", 0);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    snprintf(path, 64, "/proc/self/fd/%d", fd);
    return fd;
}

#endif /* RSSKEY_FUZZ_INPUT_H */
