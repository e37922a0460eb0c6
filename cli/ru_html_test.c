/*  ru_html_test.c - status HTML to terminal text: tags, paragraphs, entities,
 *  broken markup, control characters, UTF-8, and the wrapping at a width.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "ru_html.h"

typedef struct {
    const char *in;
    const char *out;
} pair_t;

static void
check_to_text(const pair_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *text = NULL;
        assert_int_equal(ru_html_to_text(cases[i].in, &text), RU_OK);
        if (strcmp(text, cases[i].out) != 0)
            fail_msg("case %zu: \"%s\" gave \"%s\", not \"%s\"", i, cases[i].in, text,
                     cases[i].out);
        free(text);
    }
}

static void
test_tags(void **state)
{
    (void) state;
    static const pair_t cases[] = {
        {"", ""},
        {"plain", "plain"},
        {"<p>hello</p>", "hello"},
        {"<p>one</p><p>two</p>", "one\n\ntwo"},
        {"<p>a<br>b<br/>c<br />d</p>", "a\nb\nc\nd"},
        {"<P>up<BR>case</P>", "up\ncase"},
        {"<p>hi <a href=\"https://x/@bob\" class=\"u-url mention\">@<span>bob</span></a></p>",
         "hi @bob"},
        {"<p><span class=\"invisible\">https://</span><span>example.org/x</span></p>",
         "https://example.org/x"},
        /* a link as the node writes it: the whole address again, unescaped */
        {"<p>see <a href=\"https://intranet.example.com/projects/2026/plan?a=1&amp;b=2\" "
         "rel=\"nofollow noopener noreferrer\" target=\"_blank\"><span class=\"invisible\">"
         "https://</span><span class=\"ellipsis\">intranet.example.com/projects/</span><span "
         "class=\"invisible\">2026/plan?a=1&amp;b=2</span></a>.</p>",
         "see https://intranet.example.com/projects/2026/plan?a=1&b=2."},
        {"<p>a</p>b", "a\n\nb"},
        {"<p></p><p>x</p><p></p>", "x"},
        {"<ul><li>one</li><li>two</li></ul>", "- one\n- two"},
        {"<p>see</p><blockquote><p>quoted</p></blockquote>", "see\n\nquoted"},
        {"<!-- a > comment --><p>after</p>", "after"},
        {"<a title='x > y' href=\"a>b\">link</a>", "link"},
        {"<p>a<br><br>b</p>", "a\n\nb"},
        {"<br><br>lead", "lead"},
        {"trail<br><br>", "trail"},
    };
    check_to_text(cases, sizeof cases / sizeof cases[0]);
}

static void
test_white_space(void **state)
{
    (void) state;
    static const pair_t cases[] = {
        {"  a   b  ", "a b"},
        {"a\n\tb\r\nc", "a b c"},
        {"<p> padded </p><p> again </p>", "padded\n\nagain"},
        {"a <br> b", "a\nb"},
        {"<b>bold</b> <i>italic</i>", "bold italic"},
        {"x<span></span>y", "xy"},
    };
    check_to_text(cases, sizeof cases / sizeof cases[0]);
}

static void
test_entities(void **state)
{
    (void) state;
    static const pair_t cases[] = {
        {"&amp; &lt; &gt; &quot; &#39; &apos;", "& < > \" ' '"},
        {"&amp;lt;", "&lt;"},
        {"&#233;t&#xE9; &#X1F41D;", "été 🐝"},
        {"&#0; &#xD800; &#x110000; &#99999999999;", "\xEF\xBF\xBD \xEF\xBF\xBD \xEF\xBF\xBD "
                                                    "\xEF\xBF\xBD"},
        {"fish &chips", "fish &chips"},
        {"&unknown; &amp", "&unknown; &amp"},
        {"&#; &#x; &#12a; &;", "&#; &#x; &#12a; &;"},
        {"a&nbsp;b", "a\xC2\xA0"
                     "b"},
        {"&#10;a&#32;&#32;b&#9;", "a b"},
        {"&#27;[31mred&#x9b;", "[31mred"},
        {"&&amp;&", "&&&"},
    };
    check_to_text(cases, sizeof cases / sizeof cases[0]);
}

static void
test_broken_markup(void **state)
{
    (void) state;
    static const pair_t cases[] = {
        {"a < b", "a < b"},
        {"I <3 it", "I <3 it"},
        {"1<2 and 3>2", "1<2 and 3>2"},
        {"text <p unterminated", "text"},
        {"<a href=\"never closed>x", ""},
        {"<!-- open comment", ""},
        {"<", "<"},
        {"</", "</"},
        {"<>", "<>"},
        {"a</p>", "a"},
        {"<p><p><p>deep</p></p></p>", "deep"},
        {"<div><div>x</div></div><div>y</div>", "x\n\ny"},
    };
    check_to_text(cases, sizeof cases / sizeof cases[0]);
}

static void
test_controls_and_utf8(void **state)
{
    (void) state;
    static const pair_t cases[] = {
        {"\x1b[2Jwiped", "[2Jwiped"},
        {"bell\x07!", "bell!"},
        {"c1\xC2\x9B"
         "31m",
         "c131m"},
        {"del\x7f", "del"},
        {"caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x90\x9D", "café 日本 🐝"},
        {"bad\xFF"
         "byte",
         "bad?byte"},
        {"cut\xE6\x97", "cut??"},
        {"overlong\xC0\xAF", "overlong??"},
        {"surrogate\xED\xA0\x80", "surrogate???"},
    };
    check_to_text(cases, sizeof cases / sizeof cases[0]);
}

static void
test_clean(void **state)
{
    (void) state;
    char *out;
    assert_int_equal(ru_html_clean("a\x1b[0mb\tc\nd", 0, &out), RU_OK);
    assert_string_equal(out, "a[0mb c d");
    free(out);
    assert_int_equal(ru_html_clean("line\nnext\r", 1, &out), RU_OK);
    assert_string_equal(out, "line\nnext");
    free(out);
    assert_int_equal(ru_html_clean("<b>&amp;</b> \xFF", 0, &out), RU_OK);
    assert_string_equal(out, "<b>&amp;</b> ?");
    free(out);
    assert_int_equal(ru_html_clean("", 0, &out), RU_OK);
    assert_string_equal(out, "");
    free(out);
}

static void
check_wrap(const char *in, size_t width, const char *want)
{
    char *out = NULL;
    assert_int_equal(ru_html_wrap(in, width, &out), RU_OK);
    if (strcmp(out, want) != 0)
        fail_msg("wrap(\"%s\", %zu) gave \"%s\", not \"%s\"", in, width, out, want);
    free(out);
}

static void
test_wrap(void **state)
{
    (void) state;
    check_wrap("", 10, "");
    check_wrap("short", 10, "short");
    check_wrap("exactly10!", 10, "exactly10!");
    check_wrap("one two three four", 9, "one two\nthree\nfour");
    check_wrap("a  b   c", 80, "a b c");
    check_wrap("  lead and trail  ", 80, "lead and trail");
    check_wrap("x https://example.org/a/very/long/path y", 10,
               "x\nhttps://example.org/a/very/long/path\ny");
    check_wrap("para one\n\npara two", 80, "para one\n\npara two");
    check_wrap("keep\nlines", 80, "keep\nlines");
    check_wrap("a b", 0, "a\nb");
    /* columns are code points: "été" is 3 columns in 5 bytes */
    check_wrap("été été été", 7, "été été\nété");
    check_wrap("日本 日本 日本", 5, "日本 日本\n日本");
    check_wrap("no\xC2\xA0"
               "break here",
               8,
               "no\xC2\xA0"
               "break\nhere");
}

static void
test_wrap_limits(void **state)
{
    (void) state;
    /* no output line is longer than the width unless it is one word */
    static const char text[] = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do "
                               "eiusmod tempor incididunt ut labore et dolore magna aliqua. "
                               "Supercalifragilisticexpialidocious words stay whole.";
    for (size_t width = 1; width <= 100; width++) {
        char *out;
        assert_int_equal(ru_html_wrap(text, width, &out), RU_OK);
        for (char *line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n"))
            assert_true(ru_html_columns(line, strlen(line)) <= width || strchr(line, ' ') == NULL);
        free(out);
    }
}

static void
test_columns(void **state)
{
    (void) state;
    assert_int_equal(ru_html_columns("", 0), 0);
    assert_int_equal(ru_html_columns("abc", 3), 3);
    assert_int_equal(ru_html_columns("été", strlen("été")), 3);
    assert_int_equal(ru_html_columns("🐝!", strlen("🐝!")), 2);
    assert_int_equal(ru_html_columns("abc", 2), 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_white_space),
        cmocka_unit_test(test_entities),
        cmocka_unit_test(test_broken_markup),
        cmocka_unit_test(test_controls_and_utf8),
        cmocka_unit_test(test_clean),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_wrap_limits),
        cmocka_unit_test(test_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
