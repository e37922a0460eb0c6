/*  ru_clock.h - vector clocks: how much of each origin's log a node has.
 *
 *  A clock maps origins (node public keys) to the highest contiguous seq
 *  applied from them; an origin not in the clock is at seq 0. Entries are
 *  kept sorted by origin bytes with no zero seqs, which is also their wire
 *  order, so equal clocks have equal entries and equal encodings.
 *
 *  A caller-owned struct: ru_clock_init() before use, ru_clock_fini()
 *  after. A clock holds at most RU_MAX_CLOCK entries; growing past that
 *  fails with RU_E_TOO_MANY and leaves the clock as it was.
 *
 *  Wire form (PROTOCOL.md, "Vector clock"): a msgpack map, bin 32 origin ->
 *  uint seq, keys in ascending byte order, every seq >= 1.
 */
#ifndef RU_CLOCK_H
#define RU_CLOCK_H

#include <stdint.h>

#include "ruche/ru_buf.h"
#include "ruche/ru_error.h"
#include "ruche/ru_limits.h"
#include "ruche/ru_mp.h"

typedef struct {
    uint8_t origin[RU_KEY_BYTES];
    uint64_t seq;
} ru_clock_entry_t;

typedef struct {
    ru_clock_entry_t *v; /* owned, sorted by origin */
    uint32_t n;
    uint32_t cap;
} ru_clock_t;

typedef enum {
    RU_CLOCK_EQUAL,
    RU_CLOCK_BEFORE,    /* a < b: every entry of a <= b's, one strictly */
    RU_CLOCK_AFTER,     /* a > b */
    RU_CLOCK_CONCURRENT /* neither dominates */
} ru_clock_order;

void ru_clock_init(ru_clock_t *self);
void ru_clock_fini(ru_clock_t *self);
/*  Makes self an equal copy of other. */
RU_MUST_CHECK ru_err ru_clock_copy(ru_clock_t *self, const ru_clock_t *other);

/*  The seq of origin, 0 if absent. */
uint64_t ru_clock_get(const ru_clock_t *self, const uint8_t *origin);
/*  Sets origin's entry to seq; seq 0 removes it. */
RU_MUST_CHECK ru_err ru_clock_set(ru_clock_t *self, const uint8_t *origin, uint64_t seq);

ru_clock_order ru_clock_compare(const ru_clock_t *a, const ru_clock_t *b);
/*  True when a >= b entry by entry (a is EQUAL to or AFTER b). */
int ru_clock_dominates(const ru_clock_t *a, const ru_clock_t *b);
/*  self = the entry-wise maximum of self and other. On error self is
 *  unchanged. */
RU_MUST_CHECK ru_err ru_clock_merge(ru_clock_t *self, const ru_clock_t *other);

/*  delta = the entries of cur that are greater than in prev (prev must not
 *  be after cur in any entry). delta is overwritten. */
RU_MUST_CHECK ru_err ru_clock_delta(const ru_clock_t *prev, const ru_clock_t *cur,
                                    ru_clock_t *delta);
/*  The way back: raises self's entries to those of delta. Every entry of a
 *  delta must be greater than self's (clocks never go back): RU_E_RANGE
 *  otherwise, and self is unchanged. */
RU_MUST_CHECK ru_err ru_clock_apply_delta(ru_clock_t *self, const ru_clock_t *delta);

/*  Packs the wire form with pk. */
void ru_clock_write(const ru_clock_t *self, msgpack_packer *pk);
/*  Reads the wire form into self (overwritten). Checks the entry count
 *  against RU_MAX_CLOCK before allocating, then order and seqs. */
RU_MUST_CHECK ru_err ru_clock_read(ru_clock_t *self, ru_mp_t *mp);

#endif
