/*  ru_mp_test.c - the strict MessagePack reader: every form it accepts, and
 *  the truncated, non-canonical and wrongly typed input it refuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ruche/ru_mp.h"

static void
test_uint_forms(void **state)
{
    (void) state;
    static const struct {
        uint8_t bytes[9];
        size_t len;
        uint64_t value;
    } ok[] = {
        {{0x00}, 1, 0},
        {{0x7f}, 1, 127},
        {{0xcc, 0x80}, 2, 128},
        {{0xcd, 0x01, 0x00}, 3, 256},
        {{0xce, 0x00, 0x01, 0x00, 0x00}, 5, 65536},
        {{0xcf, 0, 0, 0, 1, 0, 0, 0, 0}, 9, 0x100000000},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ru_mp_t mp;
        uint64_t v = 0;
        ru_mp_init(&mp, ok[i].bytes, ok[i].len);
        assert_int_equal(ru_mp_uint(&mp, &v), RU_OK);
        assert_int_equal(v, ok[i].value);
        assert_int_equal(ru_mp_end(&mp), RU_OK);
    }
}

static void
test_uint_refusals(void **state)
{
    (void) state;
    static const struct {
        uint8_t bytes[9];
        size_t len;
        ru_err err;
    } bad[] = {
        {{0xcc, 0x7f}, 2, RU_E_NONCANONICAL},
        {{0xcd, 0x00, 0xff}, 3, RU_E_NONCANONICAL},
        {{0xce, 0x00, 0x00, 0xff, 0xff}, 5, RU_E_NONCANONICAL},
        {{0xcf, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}, 9, RU_E_NONCANONICAL},
        {{0xcd, 0x01}, 2, RU_E_TRUNCATED},
        {{0xff}, 1, RU_E_TYPE},
        {{0xa1, 0x41}, 2, RU_E_TYPE},
        {{0}, 0, RU_E_TRUNCATED},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ru_mp_t mp;
        uint64_t v;
        ru_mp_init(&mp, bad[i].bytes, bad[i].len);
        assert_int_equal(ru_mp_uint(&mp, &v), bad[i].err);
        assert_int_equal(ru_mp_left(&mp), bad[i].len); /* cursor unmoved */
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uint_forms),
        cmocka_unit_test(test_uint_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
