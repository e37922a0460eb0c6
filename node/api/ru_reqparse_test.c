/*  ru_reqparse_test.c - the one range a Range header asks of a body: the
 *  three forms RFC 9110 gives, clipped to the body, a range wholly past
 *  the end unsatisfiable (416), and anything else (lists, other units,
 *  malformed or enormous numbers) answered with the whole body.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ru_reqparse.h"

static void
s_expect(const char *value, uint64_t size, int want, uint64_t off, uint64_t len)
{
    uint64_t o = 7777, l = 7777;
    assert_int_equal(ru_reqparse_range(value, size, &o, &l), want);
    if (want == 1) {
        assert_int_equal(o, off);
        assert_int_equal(l, len);
    }
}

static void
test_ranges(void **state)
{
    (void) state;
    s_expect("bytes=100-199", 1000, 1, 100, 100);
    s_expect("bytes=0-0", 1000, 1, 0, 1);
    s_expect("bytes=900-", 1000, 1, 900, 100);
    s_expect("bytes=900-5000", 1000, 1, 900, 100); /* clipped to the end */
    s_expect("bytes=-100", 1000, 1, 900, 100);
    s_expect("bytes=-5000", 1000, 1, 0, 1000);
    s_expect("bytes=1000-", 1000, -1, 0, 0); /* past the end */
    s_expect("bytes=-0", 1000, -1, 0, 0);
    s_expect("bytes=0-", 0, -1, 0, 0);
    const char *whole[] = {NULL,          "",           "bytes=",        "bytes=-",
                           "bytes=5-1",   "bytes=1-2,4-5", "items=1-2",   "bytes=a-b",
                           "bytes=1-2x",  "bytes= 1-2", "bytes=99999999999999999999-",
                           "bytes=9999999999999999999-", /* 19 digits, past 2^63 */
                           "bytes=--1",   "Bytes=1-2"};
    for (size_t i = 0; i < sizeof whole / sizeof *whole; i++)
        s_expect(whole[i], 1000, 0, 0, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
