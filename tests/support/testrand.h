/*  testrand.h - the tests' pseudo-random numbers: xorshift64, seeded by
 *  the test, so that a failing run replays exactly.
 */
#ifndef TESTRAND_H
#define TESTRAND_H

#include <stdint.h>

/*  The next number below n (n > 0) from the generator state *s (not 0). */
static inline uint64_t
testrand(uint64_t *s, uint64_t n)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s % n;
}

#endif
