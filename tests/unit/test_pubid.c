/*  test_pubid.c - public ids: status ids round-trip to their timeline
 *  prefix and sort like the timeline (as numbers and, having one length
 *  for current times, as strings); malformed ids are refused; account and
 *  group ids are stable and fit in 63 bits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "ru_dbkey.h"
#include "ru_pubid.h"

static void
test_status_round_trip_and_order(void **state)
{
    (void) state;
    uint8_t a[RU_KEY_BYTES], b[RU_KEY_BYTES], pos[RU_PUBID_POS], want[RU_PUBID_POS];
    memset(a, 0x01, sizeof a);
    memset(b, 0xfe, sizeof b);
    uint64_t t = (uint64_t) 1800000000000u << 16;
    char ida[RU_PUBID_SIZE], idb[RU_PUBID_SIZE], idc[RU_PUBID_SIZE];
    ru_pubid_status(t, a, ida);
    ru_pubid_status(t, b, idb);     /* same time, larger origin */
    ru_pubid_status(t + 1, a, idc); /* later */
    assert_int_equal(strlen(ida), strlen(idc));
    assert_true(strcmp(ida, idb) < 0);
    assert_true(strcmp(idb, idc) < 0);
    assert_int_equal(ru_pubid_status_parse(idb, pos), RU_OK);
    ru_dbkey_be64(want, t);
    memcpy(want + 8, b, 8);
    assert_memory_equal(pos, want, RU_PUBID_POS);
    uint8_t max[RU_KEY_BYTES];
    memset(max, 0xff, sizeof max);
    ru_pubid_status(UINT64_MAX, max, ida);
    assert_string_equal(ida, "340282366920938463463374607431768211455"); /* 2^128 - 1 */
    assert_int_equal(ru_pubid_status_parse(ida, pos), RU_OK);
    memset(want, 0xff, sizeof want);
    assert_memory_equal(pos, want, RU_PUBID_POS);
}

static void
test_status_refusals(void **state)
{
    (void) state;
    uint8_t pos[RU_PUBID_POS];
    const char *bad[] = {"",
                         "0123",
                         "12a",
                         "-5",
                         "340282366920938463463374607431768211456",
                         "1234567890123456789012345678901234567890",
                         " 1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ru_pubid_status_parse(bad[i], pos), RU_E_INVALID);
    assert_int_equal(ru_pubid_status_parse("0", pos), RU_OK);
}

static void
test_account_and_group_ids(void **state)
{
    (void) state;
    uint8_t home[RU_KEY_BYTES];
    memset(home, 0x42, sizeof home);
    uint64_t alice = ru_pubid_user(home, (ru_str_t){"alice", 5});
    assert_int_equal(alice, ru_pubid_user(home, (ru_str_t){"alice", 5}));
    assert_true(alice != ru_pubid_user(home, (ru_str_t){"alicf", 5}));
    assert_int_equal(alice >> 63, 0);
    ru_ref_t g = {{0}, 7};
    assert_int_equal(ru_pubid_group(&g) >> 63, 0);
    char text[RU_PUBID_SIZE];
    uint64_t back;
    ru_pubid_text(alice, text);
    assert_int_equal(ru_pubid_parse(text, &back), RU_OK);
    assert_int_equal(back, alice);
    const char *bad[] = {"", "01", "9223372036854775808", "12345678901234567890", "x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ru_pubid_parse(bad[i], &back), RU_E_INVALID);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_round_trip_and_order),
        cmocka_unit_test(test_status_refusals),
        cmocka_unit_test(test_account_and_group_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
