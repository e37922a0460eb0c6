/*  ru_ratelimit_test.c - failure counting: a key is refused after its
 *  max failures, for the rest of its window only; keys are counted apart;
 *  a full table evicts the oldest windows and never grows; bad settings are
 *  refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ru_ratelimit.h"

static void
test_limit_and_window(void **state)
{
    (void) state;
    ru_ratelimit_t *rl;
    assert_int_equal(ru_ratelimit_new(3, 1000, 64, &rl), RU_OK);
    uint64_t t = 5000;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ru_ratelimit_wait(rl, "alice", 5, t + (uint64_t) i * 100), 0);
        ru_ratelimit_fail(rl, "alice", 5, t + (uint64_t) i * 100);
    }
    /* the window started at the first failure: 1000 ms from t */
    assert_int_equal(ru_ratelimit_wait(rl, "alice", 5, t + 300), 700);
    assert_int_equal(ru_ratelimit_wait(rl, "alice", 5, t + 999), 1);
    assert_int_equal(ru_ratelimit_wait(rl, "bob", 3, t + 300), 0);
    assert_int_equal(ru_ratelimit_wait(rl, "alice", 5, t + 1000), 0);
    /* a failure after the window starts a new one */
    ru_ratelimit_fail(rl, "alice", 5, t + 1000);
    assert_int_equal(ru_ratelimit_wait(rl, "alice", 5, t + 1001), 0);
    ru_ratelimit_destroy(&rl);
    assert_null(rl);
    ru_ratelimit_destroy(&rl);
}

static void
test_bounded_table(void **state)
{
    (void) state;
    ru_ratelimit_t *rl;
    assert_int_equal(ru_ratelimit_new(1, 60000, 8, &rl), RU_OK);
    ru_ratelimit_fail(rl, "first", 5, 1000);
    char key[32];
    for (int i = 0; i < 100; i++) {
        int n = snprintf(key, sizeof key, "key%d", i);
        ru_ratelimit_fail(rl, key, (size_t) n, 2000 + (uint64_t) i);
    }
    /* eight slots: the oldest windows made room for the newest keys */
    assert_int_equal(ru_ratelimit_wait(rl, "first", 5, 3000), 0);
    assert_int_equal(ru_ratelimit_wait(rl, "key0", 4, 3000), 0);
    assert_int_equal(ru_ratelimit_wait(rl, "key99", 5, 3000), 60000 - 1000 + 99);
    ru_ratelimit_destroy(&rl);
}

static void
test_refusals(void **state)
{
    (void) state;
    ru_ratelimit_t *rl = (ru_ratelimit_t *) &rl;
    assert_int_equal(ru_ratelimit_new(0, 1000, 64, &rl), RU_E_INVALID);
    assert_null(rl);
    assert_int_equal(ru_ratelimit_new(3, 0, 64, &rl), RU_E_INVALID);
    assert_int_equal(ru_ratelimit_new(3, 1000, 2, &rl), RU_E_INVALID);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit_and_window),
        cmocka_unit_test(test_bounded_table),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
