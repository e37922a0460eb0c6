/*  ru_entity_test.c - hashtags and mentions found in post text: boundaries,
 *  case folding, sites, and the look-alikes that are not entities (e-mail
 *  addresses, URL fragments, lone signs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ru_entity.h"

/*  All entities of text as "#tag" / "@name" / "@name@site", space-separated. */
static void
s_scan(const char *text, char *out, size_t size)
{
    size_t pos = 0, used = 0;
    ru_entity_t e;
    out[0] = '\0';
    while (ru_entity_next(text, strlen(text), &pos, &e)) {
        int n = snprintf(out + used, size - used, "%s%c%s%s%s", used ? " " : "",
                         e.kind == RU_ENTITY_TAG ? '#' : '@', e.name, e.site[0] ? "@" : "", e.site);
        used += (size_t) n;
    }
}

static void
test_entities(void **state)
{
    (void) state;
    static const char *cases[][2] = {
        {"Hello #Ruche and #ruche_2", "#ruche #ruche_2"},
        {"#café, #日本!", "#café #日本"},
        {"thanks @Bob.", "@bob"},
        {"cc @alice@nozay and @carol@murray-hill.", "@alice@nozay @carol@murray-hill"},
        {"mail bob@example.com or see http://x/#anchor", ""},
        {"a # b @ c ## @@x", ""},
        {"(#tag) [@jean-pierre.dupont]", "#tag @jean-pierre.dupont"},
        {"@_hidden @9lives", "@9lives"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char got[256];
        s_scan(cases[i][0], got, sizeof got);
        assert_string_equal(got, cases[i][1]);
    }
}

static void
test_positions(void **state)
{
    (void) state;
    const char *text = "go #team now";
    size_t pos = 0;
    ru_entity_t e;
    assert_int_equal(ru_entity_next(text, strlen(text), &pos, &e), 1);
    assert_int_equal(e.start, 3);
    assert_int_equal(e.len, 5);
    assert_int_equal(pos, 8);
    assert_int_equal(ru_entity_next(text, strlen(text), &pos, &e), 0);
    assert_int_equal(pos, strlen(text));
}

static void
test_overlong_tag_ignored(void **state)
{
    (void) state;
    char text[RU_MAX_TAG + 3];
    text[0] = '#';
    memset(text + 1, 'a', RU_MAX_TAG + 1);
    text[RU_MAX_TAG + 2] = '\0';
    size_t pos = 0;
    ru_entity_t e;
    assert_int_equal(ru_entity_next(text, strlen(text), &pos, &e), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entities),
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_overlong_tag_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
