/*  fuzz_check.c - checks shared by the fuzz targets (see fuzz_check.h). */
#include "fuzz_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
fuzz_require(int cond, const char *what)
{
    if (cond)
        return;
    fprintf(stderr, "fuzz check failed: %s\n", what);
    abort();
}

void
fuzz_check_clock(const ru_clock_t *clock)
{
    fuzz_require(clock->n <= RU_MAX_CLOCK, "clock holds at most RU_MAX_CLOCK entries");
    for (uint32_t i = 0; i < clock->n; i++) {
        fuzz_require(clock->v[i].seq >= 1, "clock seqs are >= 1");
        if (i > 0)
            fuzz_require(memcmp(clock->v[i - 1].origin, clock->v[i].origin, RU_KEY_BYTES) < 0,
                         "clock origins strictly ascending");
    }
}

void
fuzz_check_inside(const void *ptr, size_t len, const uint8_t *base, size_t size, const char *what)
{
    if (len == 0)
        return;
    uintptr_t p = (uintptr_t) ptr, lo = (uintptr_t) base;
    fuzz_require(p >= lo && p - lo <= size && len <= size - (p - lo), what);
}
