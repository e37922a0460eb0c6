/*  ru_entity_test.c - hashtags, mentions and links found in post text:
 *  boundaries, case folding, sites, where a link ends, and the look-alikes
 *  that are not entities (e-mail addresses, URL fragments, lone signs,
 *  other schemes, tags and mentions inside links).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ru_entity.h"

/*  All entities of text as "#tag" / "@name" / "@name@site" / "<link>",
 *  space-separated. */
static void
s_scan(const char *text, char *out, size_t size)
{
    size_t pos = 0, used = 0;
    ru_entity_t e;
    out[0] = '\0';
    while (ru_entity_next(text, strlen(text), &pos, &e)) {
        int n;
        if (e.kind == RU_ENTITY_URL)
            n = snprintf(out + used, size - used, "%s<%.*s>", used ? " " : "", (int) e.len,
                         text + e.start);
        else
            n = snprintf(out + used, size - used, "%s%c%s%s%s", used ? " " : "",
                         e.kind == RU_ENTITY_TAG ? '#' : '@', e.name, e.site[0] ? "@" : "", e.site);
        used += (size_t) n;
    }
}

/*  Checks each {text, its entities as s_scan writes them} of cases. */
static void
s_check(const char *(*cases)[2], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char got[512];
        s_scan(cases[i][0], got, sizeof got);
        assert_string_equal(got, cases[i][1]);
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
        {"mail bob@example.com or see http://x/#anchor", "<http://x/#anchor>"},
        {"a # b @ c ## @@x", ""},
        {"(#tag) [@jean-pierre.dupont]", "#tag @jean-pierre.dupont"},
        {"@_hidden @9lives", "@9lives"},
        {"", ""},
    };
    s_check(cases, sizeof cases / sizeof cases[0]);
}

/*  Where links start and end, and what inside them is not a tag or a
 *  mention. */
static void
test_links(void **state)
{
    (void) state;
    static const char *cases[][2] = {
        {"see https://wiki.corp/a/b?c=1&d=2#top.", "<https://wiki.corp/a/b?c=1&d=2#top>"},
        {"HTTP://X.ORG, then http://y.org/p!?", "<HTTP://X.ORG> <http://y.org/p>"},
        {"(see https://x.org/a)", "<https://x.org/a>"},
        {"https://en.wikipedia.org/wiki/C_(language)).",
         "<https://en.wikipedia.org/wiki/C_(language)>"},
        {"[https://x.org/a[1]]", "<https://x.org/a[1]>"},
        {"'https://x.org/q';", "<https://x.org/q>"},
        {"\"https://x.org/q\" <https://y.org/>", "<https://x.org/q> <https://y.org/>"},
        {"https://x.org/?q=#tag&u=@bob #real @carol",
         "<https://x.org/?q=#tag&u=@bob> #real @carol"},
        {"https://x.org/@bob/#tag", "<https://x.org/@bob/#tag>"},
        {"https://fr.wikipedia.org/wiki/Caf\xc3\xa9 ok",
         "<https://fr.wikipedia.org/wiki/Caf\xc3\xa9>"},
        {"https://x.org/a\xc2\xa0#b", "<https://x.org/a>"},
        {"https://x.org/a\xe3\x80\x80#b", "<https://x.org/a>"},
        {"https://x.org/a\tb", "<https://x.org/a>"},
        {"javascript:alert(1) data:text/html,hi ftp://x.org mailto:a@b.c", ""},
        {"javascript:https://x.org/", "<https://x.org/>"},
        {"javascript://x.org/%0ahttps://y.org/", ""},
        {"xhttps://x.org/ #t", "#t"},
        {"https:// https://. https://#t http:x.org", ""},
        {"https://[::1]:8080/p", "<https://[::1]:8080/p>"},
        {"https://x.org/...", "<https://x.org/>"},
    };
    s_check(cases, sizeof cases / sizeof cases[0]);
}

/*  A link of RU_MAX_URL bytes is one; one byte more is none, and no tag
 *  inside the run is taken either. */
static void
test_link_length(void **state)
{
    (void) state;
    static char text[RU_MAX_URL + 16];
    const char *head = "https://x.org/";
    size_t n = strlen(head);
    memcpy(text, head, n);
    memset(text + n, 'a', RU_MAX_URL - n);
    memcpy(text + RU_MAX_URL, " #t", 4);
    size_t pos = 0;
    ru_entity_t e;
    assert_int_equal(ru_entity_next(text, strlen(text), &pos, &e), 1);
    assert_int_equal(e.kind, RU_ENTITY_URL);
    assert_int_equal(e.len, RU_MAX_URL);

    memcpy(text + RU_MAX_URL, "a?#x #t", 8);
    char got[64];
    s_scan(text, got, sizeof got);
    assert_string_equal(got, "#t");

    size_t start, len;
    assert_int_equal(ru_entity_first_url("a #b http://c/ https://d/", 25, &start, &len), 1);
    assert_int_equal(start, 5);
    assert_int_equal(len, 9);
    assert_int_equal(ru_entity_first_url("#b @c", 5, &start, &len), 0);
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
        cmocka_unit_test(test_links),
        cmocka_unit_test(test_link_length),
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_overlong_tag_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
