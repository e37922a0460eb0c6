/*  ru_cardscan_test.c - a link preview's fields read from a page's head:
 *  Open Graph first, <title> and description meta otherwise; entities,
 *  white space, invalid UTF-8 and controls; what hides a tag (comments,
 *  scripts, quoted '>'), where the head ends, a page cut anywhere, and
 *  each field's size.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ru_cardscan.h"

static int
s_scan(const char *html, ru_cardscan_t *c)
{
    return ru_cardscan(html, strlen(html), c);
}

static void
test_open_graph(void **state)
{
    (void) state;
    ru_cardscan_t c;
    assert_true(s_scan("<!doctype html><html><head><title>Plain</title>\n"
                       "<meta property=\"og:title\" content=\"The plan\">\n"
                       "<META PROPERTY='og:description' CONTENT='For 2026, &amp; after'/>\n"
                       "<meta name=description content=ignored>\n"
                       "<meta property=og:image content=\"/img/plan.png?a=1&amp;b=2\">\n"
                       "<meta property=\"og:site_name\" content=\"Intranet\">\n"
                       "</head><body><meta property=og:title content=late></body>",
                       &c));
    assert_string_equal(c.title, "The plan");
    assert_string_equal(c.description, "For 2026, & after");
    assert_string_equal(c.image, "/img/plan.png?a=1&b=2");
    assert_string_equal(c.provider, "Intranet");
}

static void
test_fallbacks(void **state)
{
    (void) state;
    ru_cardscan_t c;
    assert_true(s_scan("<head><title>\n  Caf&eacute; &#233;t&#xE9;\t &lt;b&gt;  </title>"
                       "<meta name=\"description\" content=\"  many\n\n  spaces  \">",
                       &c));
    assert_string_equal(c.title, "Caf&eacute; été <b>");
    assert_string_equal(c.description, "many spaces");
    assert_string_equal(c.image, "");
    assert_false(s_scan("<head><meta property=og:description content=x></head>", &c));
    assert_false(s_scan("", &c));
    assert_false(s_scan("<head><meta property=og:title content='  '></head>", &c));
    /* an empty og:title leaves the <title> */
    assert_true(s_scan("<title>T</title><meta property=og:title content=''>", &c));
    assert_string_equal(c.title, "T");
}

/*  Tags inside comments, scripts, styles and attribute values are not
 *  tags; the head ends at </head> or <body>. */
static void
test_hidden_and_ended(void **state)
{
    (void) state;
    ru_cardscan_t c;
    assert_true(s_scan("<!-- <meta property=og:title content=no> -->"
                       "<script>var s = '<meta property=og:title content=no>';</script>"
                       "<style>/* <title>no</title> */</style>"
                       "<link title='a > b <meta property=og:title content=no>'>"
                       "<meta property=og:title content=\"yes > no\">",
                       &c));
    assert_string_equal(c.title, "yes > no");
    assert_false(s_scan("<body><title>late</title>", &c));
    assert_false(s_scan("<head></head><title>late</title>", &c));
}

/*  NUL bytes are bytes like any other: an attribute's name holds them
 *  (the scan once stood still on one, forever). */
static void
test_nul_bytes(void **state)
{
    (void) state;
    static const char page[] = "<meta proper\0\0ty=\"og:title\" content=\"x\">"
                               "<meta \0 property=og:title content=\"y\">";
    ru_cardscan_t c;
    assert_true(ru_cardscan(page, sizeof page - 1, &c));
    assert_string_equal(c.title, "y");
}

/*  A page cut anywhere never reads past its end. */
static void
test_cut_anywhere(void **state)
{
    (void) state;
    const char *page = "<head><!-- c --><title>A &amp; B</title><script>x</script>"
                       "<meta property=\"og:description\" content=\"d&#x41;\"></head>";
    size_t n = strlen(page);
    for (size_t cut = 0; cut <= n; cut++) {
        char *copy = malloc(cut ? cut : 1); /* exactly cut bytes: ASan sees an overread */
        memcpy(copy, page, cut);
        ru_cardscan_t c;
        ru_cardscan(copy, cut, &c);
        free(copy);
        if (cut == n) {
            assert_string_equal(c.title, "A & B");
            assert_string_equal(c.description, "dA");
        }
    }
}

static void
test_clean_text(void **state)
{
    (void) state;
    ru_cardscan_t c;
    assert_true(s_scan("<title>a\x01\x7f\xc2\x85"
                       "b \xff\xfe c&#0;&#xD800;&#1114112;\xe2\x82</title>",
                       &c));
    assert_string_equal(c.title, "ab \xef\xbf\xbd\xef\xbf\xbd c\xef\xbf\xbd\xef\xbf\xbd"
                                 "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

/*  Each field is cut to its size at a character's boundary; an image
 *  address too long to be a link is none. */
static void
test_sizes(void **state)
{
    (void) state;
    size_t n = 4 * RU_MAX_URL;
    char *page = malloc(n + 200);
    char *p = page;
    p += sprintf(p, "<title>");
    for (size_t i = 0; i < RU_CARD_TITLE; i++)
        p += sprintf(p, "\xc3\xa9"); /* é: two bytes */
    p += sprintf(p, "</title><meta property=og:image content=\"http://x/");
    memset(p, 'a', RU_MAX_URL);
    p += RU_MAX_URL;
    sprintf(p, "\">");
    ru_cardscan_t c;
    assert_true(s_scan(page, &c));
    assert_int_equal(strlen(c.title), RU_CARD_TITLE);
    assert_string_equal(c.image, "");
    free(page);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_graph),
        cmocka_unit_test(test_fallbacks),
        cmocka_unit_test(test_hidden_and_ended),
        cmocka_unit_test(test_cut_anywhere),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_clean_text),
        cmocka_unit_test(test_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
