/*
 * memory.c - allocation of the simulator's big host tables (flow sets, the
 * simulated LLC's and L2s' tag arrays). These are read at random, one or two
 * host lines per simulated access, so with 4 KiB pages nearly every access
 * also misses the host TLB; on Linux, tables of 2 MiB and more are aligned
 * to 2 MiB and offered to transparent huge pages (madvise), which removes
 * most of those page walks. Where THP is off the hint is ignored and the
 * memory behaves as plain calloc'd memory.
 */
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "sim/sim_internal.h"

#define HUGE_PAGE (2u << 20)

void *sim_table_alloc(size_t bytes)
{
    if (bytes < HUGE_PAGE) {
        size_t rounded = bytes ? (bytes + 63) / 64 * 64 : 64;
        void *p = aligned_alloc(64, rounded);
        if (p)
            memset(p, 0, rounded);
        return p;
    }
    size_t rounded = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    void *p = aligned_alloc(HUGE_PAGE, rounded);
    if (!p)
        return NULL;
#if defined(MADV_HUGEPAGE)
    madvise(p, rounded, MADV_HUGEPAGE);     /* a hint: failure changes nothing */
#endif
    memset(p, 0, rounded);
    return p;
}
