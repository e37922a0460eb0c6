/*  ru_hlc.c - hybrid logical clock (Kulkarni et al., "Logical Physical
 *  Clocks", 2014) packed in one u64.
 *
 *  With the counter in the low bits, "the same millisecond, next counter"
 *  is simply last + 1, so a new timestamp is max(last + 1, wall << 16):
 *  the wall clock when it is ahead, else one tick past everything seen.
 */
#include "ruche/ru_hlc.h"

#include <time.h>

void
ru_hlc_init(ru_hlc_t *self, uint64_t max_skew_ms)
{
    self->last = 0;
    self->max_skew_ms = max_skew_ms;
}

uint64_t
ru_hlc_now(ru_hlc_t *self, uint64_t wall_ms)
{
    uint64_t wall = wall_ms << RU_HLC_SHIFT;
    self->last = wall > self->last ? wall : self->last + 1;
    return self->last;
}

ru_err
ru_hlc_update(ru_hlc_t *self, uint64_t remote, uint64_t wall_ms)
{
    if (ru_hlc_ms(remote) > wall_ms + self->max_skew_ms)
        return RU_E_SKEW;
    if (remote > self->last)
        self->last = remote;
    return RU_OK;
}

uint64_t
ru_hlc_ms(uint64_t ts)
{
    return ts >> RU_HLC_SHIFT;
}

uint16_t
ru_hlc_counter(uint64_t ts)
{
    return (uint16_t) (ts & 0xffff);
}

/*  The simulation's clock, when one is set (ru_hlc_use_clock). */
static ru_hlc_clock_fn s_clock;

void
ru_hlc_use_clock(ru_hlc_clock_fn clock)
{
    s_clock = clock;
}

uint64_t
ru_hlc_wall_ms(void)
{
    if (s_clock)
        return s_clock();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}
