/*  fuzz_check.h - checks shared by the fuzz targets.
 *
 *  A fuzz target finds bugs in two ways: the sanitizers catch memory and
 *  undefined-behaviour errors, and these checks catch a decoder that
 *  accepts something the protocol forbids. A failed check prints what was
 *  broken and aborts, which libFuzzer records as a crash with its input.
 */
#ifndef FUZZ_CHECK_H
#define FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "ruche/ru_clock.h"

/*  Aborts with a message naming what when cond is false. */
void fuzz_require(int cond, const char *what);

/*  Aborts unless the clock holds at most RU_MAX_CLOCK entries, sorted by
 *  strictly ascending origin, every seq >= 1. */
void fuzz_check_clock(const ru_clock_t *clock);

/*  Aborts unless the view [ptr, ptr + len) lies inside [base, base + size). */
void fuzz_check_inside(const void *ptr, size_t len, const uint8_t *base, size_t size,
                       const char *what);

#endif
