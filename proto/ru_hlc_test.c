/*  ru_hlc_test.c - the hybrid logical clock: follows the wall clock when it is
 *  ahead, never runs back, carries the counter into the next millisecond,
 *  takes in remote times and refuses those too far ahead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ruche/ru_hlc.h"

#define T0 1800000000000u /* a wall time in ms, early 2027 */

static void
test_follows_wall_clock(void **state)
{
    (void) state;
    ru_hlc_t h;
    ru_hlc_init(&h, RU_HLC_DEFAULT_SKEW_MS);
    uint64_t a = ru_hlc_now(&h, T0);
    assert_int_equal(ru_hlc_ms(a), T0);
    assert_int_equal(ru_hlc_counter(a), 0);
    uint64_t b = ru_hlc_now(&h, T0); /* same millisecond: counter */
    assert_int_equal(ru_hlc_ms(b), T0);
    assert_int_equal(ru_hlc_counter(b), 1);
    uint64_t c = ru_hlc_now(&h, T0 + 5);
    assert_int_equal(ru_hlc_ms(c), T0 + 5);
    assert_int_equal(ru_hlc_counter(c), 0);
}

static void
test_never_runs_back(void **state)
{
    (void) state;
    ru_hlc_t h;
    ru_hlc_init(&h, RU_HLC_DEFAULT_SKEW_MS);
    uint64_t last = ru_hlc_now(&h, T0 + 1000);
    for (uint64_t wall = T0 + 999; wall > T0; wall -= 7) { /* wall clock set back */
        uint64_t t = ru_hlc_now(&h, wall);
        assert_true(t > last);
        assert_int_equal(ru_hlc_ms(t), T0 + 1000);
        last = t;
    }
}

static void
test_counter_overflow_carries(void **state)
{
    (void) state;
    ru_hlc_t h;
    ru_hlc_init(&h, RU_HLC_DEFAULT_SKEW_MS);
    uint64_t last = 0;
    for (int i = 0; i < 65536 + 10; i++) {
        uint64_t t = ru_hlc_now(&h, T0);
        assert_true(t > last);
        last = t;
    }
    assert_int_equal(ru_hlc_ms(last), T0 + 1);
    assert_int_equal(ru_hlc_counter(last), 9);
}

static void
test_remote_times(void **state)
{
    (void) state;
    ru_hlc_t h;
    ru_hlc_init(&h, 1000);
    uint64_t ahead = ((uint64_t) (T0 + 800) << RU_HLC_SHIFT) | 42;
    assert_int_equal(ru_hlc_update(&h, ahead, T0), RU_OK);
    uint64_t t = ru_hlc_now(&h, T0); /* local event after seeing it */
    assert_true(t > ahead);
    uint64_t behind = (uint64_t) (T0 - 5000) << RU_HLC_SHIFT;
    assert_int_equal(ru_hlc_update(&h, behind, T0), RU_OK);
    assert_true(ru_hlc_now(&h, T0) > t); /* an old remote time changes nothing */
    uint64_t before = h.last;
    uint64_t too_far = (uint64_t) (T0 + 1001) << RU_HLC_SHIFT;
    assert_int_equal(ru_hlc_update(&h, too_far, T0), RU_E_SKEW);
    assert_int_equal(h.last, before);
    uint64_t edge = (uint64_t) (T0 + 1000) << RU_HLC_SHIFT | 0xffff;
    assert_int_equal(ru_hlc_update(&h, edge, T0), RU_OK);
}

static void
test_wall_clock_is_sane(void **state)
{
    (void) state;
    uint64_t ms = ru_hlc_wall_ms();
    assert_true(ms > 1700000000000u); /* after November 2023 */
    assert_true(ms < (UINT64_C(1) << (64 - RU_HLC_SHIFT)));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_follows_wall_clock),       cmocka_unit_test(test_never_runs_back),
        cmocka_unit_test(test_counter_overflow_carries), cmocka_unit_test(test_remote_times),
        cmocka_unit_test(test_wall_clock_is_sane),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
