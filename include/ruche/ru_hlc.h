/*  ru_hlc.h - hybrid logical clock: wall-clock time that never runs back.
 *
 *  A timestamp is a u64: milliseconds since the Unix epoch shifted left by
 *  16, plus a 16-bit counter. A node's HLC only grows: each local event gets
 *  a timestamp greater than every timestamp the node has made or seen, and
 *  equal to the wall clock whenever the wall clock is ahead. When the
 *  counter overflows within one millisecond the time part is borrowed from
 *  the next millisecond; the order stays strict.
 *
 *  Remote timestamps more than max_skew_ms ahead of our wall clock are
 *  refused (RU_E_SKEW) so a peer with a broken clock cannot drag every
 *  node's time into the future.
 *
 *  Pure code: the wall clock is passed in (ru_hlc_wall_ms() reads it), so
 *  the clock can be tested with any time.
 */
#ifndef RU_HLC_H
#define RU_HLC_H

#include <stdint.h>

#include "ruche/ru_error.h"

#define RU_HLC_SHIFT 16
/*  Default refusal threshold for remote timestamps: one minute. */
#define RU_HLC_DEFAULT_SKEW_MS 60000

typedef struct {
    uint64_t last;        /* greatest timestamp made or seen */
    uint64_t max_skew_ms; /* how far ahead a remote time may be */
} ru_hlc_t;

void ru_hlc_init(ru_hlc_t *self, uint64_t max_skew_ms);
/*  A timestamp for a local event at wall time wall_ms. */
uint64_t ru_hlc_now(ru_hlc_t *self, uint64_t wall_ms);
/*  Takes in a remote timestamp seen at wall time wall_ms. RU_E_SKEW, and
 *  the clock unchanged, if it is too far ahead. */
RU_MUST_CHECK ru_err ru_hlc_update(ru_hlc_t *self, uint64_t remote, uint64_t wall_ms);

/*  Parts of a timestamp. */
uint64_t ru_hlc_ms(uint64_t ts);
uint16_t ru_hlc_counter(uint64_t ts);

/*  Milliseconds since the Unix epoch from the system's real-time clock,
 *  or from the clock set by ru_hlc_use_clock(). */
uint64_t ru_hlc_wall_ms(void);
/*  Makes ru_hlc_wall_ms() read clock instead of the system's (NULL: the
 *  system's again), for the whole process: the deterministic simulation of
 *  the federation (tests/sim) runs every node on one simulated clock. Set
 *  it before any thread reads the time; a daemon never calls it. */
typedef uint64_t (*ru_hlc_clock_fn)(void);
void ru_hlc_use_clock(ru_hlc_clock_fn clock);

#endif
