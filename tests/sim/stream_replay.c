/*
 * stream_replay.c - performs an address stream exported from the simulator's
 * cache model, for valgrind's cachegrind to measure (test_sim_cachegrind).
 *
 * Input file: uint64 count, uint64 highest line, then count uint32 entries
 * (line number | 1 << 31 for a write). The stream is read with read(2) (the
 * kernel's writes are invisible to cachegrind); the state region and the
 * stream buffer are 2 MiB aligned so cache set indexes match the model's
 * addresses. Each state access is a one-byte load or store in its own
 * function, so cachegrind reports them apart from the stream reads.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__clang__)
#define OPAQUE __attribute__((noinline, used))
#else
#define OPAQUE __attribute__((noinline, noipa, used))
#endif

#define ALIGN (2u << 20)

OPAQUE uint8_t sim_cg_load(const volatile uint8_t *p)
{
    return *p;
}

OPAQUE void sim_cg_store(volatile uint8_t *p, uint8_t v)
{
    *p = v;
}

OPAQUE uint64_t sim_cg_replay(const uint32_t *s, uint64_t n, volatile uint8_t *base)
{
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t v = s[i];
        volatile uint8_t *p = base + ((uint64_t)(v & 0x7fffffffu) << 6);
        if (v >> 31)
            sim_cg_store(p, (uint8_t)i);
        else
            sum += sim_cg_load(p);
    }
    return sum;
}

static void *map_aligned(uint64_t bytes)
{
    uint8_t *p = mmap(NULL, bytes + ALIGN, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    return (void *)(((uintptr_t)p + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1));
}

static int read_all(int fd, void *buf, uint64_t len)
{
    uint8_t *b = buf;
    while (len) {
        ssize_t n = read(fd, b, len > (1u << 30) ? (1u << 30) : len);
        if (n <= 0)
            return -1;
        b += n;
        len -= (uint64_t)n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: stream_replay STREAM_FILE\n");
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    uint64_t hdr[2];
    if (fd < 0 || read_all(fd, hdr, sizeof hdr) != 0) {
        fprintf(stderr, "stream_replay: cannot read %s\n", argv[1]);
        return 3;
    }
    uint32_t *s = map_aligned(hdr[0] * 4 + 4);
    volatile uint8_t *base = map_aligned((hdr[1] + 1) * 64);
    if (!s || !base || read_all(fd, s, hdr[0] * 4) != 0) {
        fprintf(stderr, "stream_replay: %s is short or memory ran out\n", argv[1]);
        return 3;
    }
    close(fd);
    printf("%llu\n", (unsigned long long)sim_cg_replay(s, hdr[0], base));
    return 0;
}
