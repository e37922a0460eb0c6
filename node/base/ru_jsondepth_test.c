/*  ru_jsondepth_test.c - the nesting depth of JSON texts told from their
 *  bytes: scalars, arrays and objects, brackets inside strings (escaped
 *  quotes and backslashes included), unbalanced text, the early stop past
 *  the limit, and a text nested as deep as jansson refuses told apart
 *  from one a byte short of the limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ru_jsondepth.h"

static long
s_depth(const char *text, long max)
{
    return ru_jsondepth(text, strlen(text), max);
}

static void
test_depths(void **state)
{
    (void) state;
    assert_int_equal(s_depth("", 64), 0);
    assert_int_equal(s_depth("42", 64), 0);
    assert_int_equal(s_depth("\"[[[\"", 64), 0);
    assert_int_equal(s_depth("[]", 64), 1);
    assert_int_equal(s_depth("{\"a\": [1, {\"b\": []}]}", 64), 4);
    assert_int_equal(s_depth("[[], [], [[]]]", 64), 3);
    assert_int_equal(s_depth("[\"]]]\", \"[[[[\"]", 64), 1);
    assert_int_equal(s_depth("[\"a\\\"[[[\"]", 64), 1);    /* an escaped quote does not end it */
    assert_int_equal(s_depth("[\"a\\\\\", [[]]]", 64), 3); /* an escaped backslash does not */
    assert_int_equal(s_depth("]]]][[", 64), 2);            /* unbalanced: only the depth counts */
    assert_int_equal(s_depth("\"unterminated [[[", 64), 0);
    assert_int_equal(s_depth("[[[[[[[[[[", 3), 4); /* stops at max + 1 */
}

/*  A body nested 360 deep in 720 bytes, the attack the scan is for, and
 *  its limit's edge. */
static void
test_limit_edge(void **state)
{
    (void) state;
    char deep[721];
    memset(deep, '[', 360);
    memset(deep + 360, ']', 360);
    deep[720] = 0;
    assert_true(ru_jsondepth(deep, 720, 64) > 64);
    assert_int_equal(ru_jsondepth(deep, 720, 1000), 360);
    char edge[129];
    memset(edge, '[', 64);
    memset(edge + 64, ']', 64);
    edge[128] = 0;
    assert_int_equal(ru_jsondepth(edge, 128, 64), 64); /* at the limit: allowed */
    json_error_t err;
    json_t *j = json_loadb(edge, 128, 0, &err); /* and jansson parses it */
    assert_non_null(j);
    json_decref(j);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depths),
        cmocka_unit_test(test_limit_edge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
