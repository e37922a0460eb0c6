/*  ru_hostlist_test.c - which hosts a list of names and *.suffix patterns
 *  allows, and which words it refuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "ru_hostlist.h"

static void
test_match(void **state)
{
    (void) state;
    const char *list = " wiki.corp.example\t*.intra.example 127.0.0.1 [::1] ";
    static const struct {
        const char *host;
        int allowed;
    } cases[] = {
        {"wiki.corp.example", 1},
        {"WIKI.Corp.Example", 1},
        {"wiki.corp.example.", 1},
        {"xwiki.corp.example", 0},
        {"a.wiki.corp.example", 0},
        {"wiki.corp.example.evil", 0},
        {"docs.intra.example", 1},
        {"a.b.intra.example", 1},
        {"intra.example", 0},
        {"evilintra.example", 0},
        {"127.0.0.1", 1},
        {"127.0.0.10", 0},
        {"localhost", 0},
        {"[::1]", 1},
        {"", 0},
        {".", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (ru_hostlist_match(list, cases[i].host) != cases[i].allowed)
            fail_msg("%s: expected %d", cases[i].host, cases[i].allowed);
    assert_false(ru_hostlist_match("", "localhost"));
    assert_false(ru_hostlist_match("  ", "localhost"));
}

static void
test_check(void **state)
{
    (void) state;
    const char *bad;
    size_t n;
    assert_true(ru_hostlist_check("", &bad, &n));
    assert_true(ru_hostlist_check("a *.b.c 10.0.0.1 [fe80::1] x_y-z.corp", &bad, &n));
    assert_false(ru_hostlist_check("ok.corp http://no.corp other", &bad, &n));
    assert_int_equal(n, strlen("http://no.corp"));
    assert_memory_equal(bad, "http://no.corp", n);
    const char *words[] = {"*", "*.", "**.a", "a..b", ".a", "a.", "a:80", "[::1", "[x]", "a/b"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (ru_hostlist_check(words[i], &bad, &n))
            fail_msg("%s: taken", words[i]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
