/*  ru_text_test.c - text forms of ids (strict base64url), UTF-8 validation and
 *  name rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "ruche/ru_text.h"

static void
test_b64_round_trip(void **state)
{
    (void) state;
    uint8_t key[RU_KEY_BYTES], back[RU_KEY_BYTES];
    for (int i = 0; i < RU_KEY_BYTES; i++)
        key[i] = (uint8_t) (i * 37 + 250);
    char text[RU_KEY_TEXT_SIZE];
    ru_b64_encode(text, key, sizeof key);
    assert_int_equal(strlen(text), RU_KEY_TEXT_LEN);
    assert_null(strpbrk(text, "+/="));
    assert_int_equal(ru_b64_decode(back, sizeof back, text, strlen(text)), RU_OK);
    assert_memory_equal(key, back, sizeof key);
}

static void
test_b64_known_answer(void **state)
{
    (void) state;
    const uint8_t bytes[] = {0xfb, 0xff, 0x00};
    char text[RU_B64_SIZE(sizeof bytes)];
    ru_b64_encode(text, bytes, sizeof bytes);
    assert_string_equal(text, "-_8A");
}

static void
test_b64_refusals(void **state)
{
    (void) state;
    uint8_t out[RU_KEY_BYTES];
    char good[RU_KEY_TEXT_SIZE];
    memset(out, 7, sizeof out);
    ru_b64_encode(good, out, sizeof out);
    const char *bad[] = {
        "",                                             /* empty */
        "AAAA",                                         /* wrong length */
        "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=", /* padding */
        "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBw+",  /* standard alphabet */
        "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwd",  /* stray low bits */
        "BwcHBwcHBwcHBwcHBwcHBwcHBwcH BwcHBwcHBwcHBw",  /* whitespace */
        "BwcHBwcHBwcHBwcHBwcHBwcHBwcH\xff"
        "wcHBwcHBwcHBwc", /* a byte past ASCII, */
        "BwcHBwcHBwcHBwcHBwcHBwcHBwcH\x80"
        "wcHBwcHBwcHBwc", /* which libsodium 1.0.18 */
        "\xc3\xa9"
        "cHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc", /* reads as '_' */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ru_b64_decode(out, sizeof out, bad[i], strlen(bad[i])), RU_E_TEXT_FORM);
    assert_int_equal(ru_b64_decode(out, sizeof out, good, strlen(good)), RU_OK);
}

static void
test_utf8_accepts(void **state)
{
    (void) state;
    static const struct {
        const char *text;
        size_t chars;
    } ok[] = {
        {"", 0},
        {"hello\n\ttab", 10},
        {"caf\xc3\xa9", 4},      /* é */
        {"\xe2\x82\xac", 1},     /* € */
        {"\xef\xbf\xbf", 1},     /* U+FFFF */
        {"\xf0\x9f\x90\x9d", 1}, /* 🐝 */
        {"\xf4\x8f\xbf\xbf", 1}, /* U+10FFFF */
        {"\xed\x9f\xbf", 1},     /* U+D7FF, just below surrogates */
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        size_t chars = 99;
        assert_int_equal(ru_utf8_check(ok[i].text, strlen(ok[i].text), &chars), RU_OK);
        assert_int_equal(chars, ok[i].chars);
    }
}

static void
test_utf8_refusals(void **state)
{
    (void) state;
    static const struct {
        const char *bytes;
        size_t len;
    } bad[] = {
        {"a\0b", 3},             /* NUL */
        {"\xc0\x80", 2},         /* overlong NUL */
        {"\xc1\xbf", 2},         /* overlong */
        {"\xe0\x80\x80", 3},     /* overlong */
        {"\xf0\x80\x80\x80", 4}, /* overlong */
        {"\xed\xa0\x80", 3},     /* surrogate */
        {"\xf4\x90\x80\x80", 4}, /* above U+10FFFF */
        {"\xf5\x80\x80\x80", 4}, /* invalid lead */
        {"\x80", 1},             /* stray continuation */
        {"\xe2\x82", 2},         /* truncated */
        {"\xe2\x28\xa1", 3},     /* bad continuation */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ru_utf8_check(bad[i].bytes, bad[i].len, NULL), RU_E_UTF8);
}

static void
test_names(void **state)
{
    (void) state;
    const char *ok[] = {"alice", "jean-pierre.dupont", "a", "x_1", "0day"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_int_equal(ru_name_check(ok[i], strlen(ok[i])), RU_OK);
    const char *bad[] = {"", "Alice", "-bob", ".x", "a b", "a@b", "caf\xc3\xa9", "a/b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ru_name_check(bad[i], strlen(bad[i])), RU_E_NAME);
    char longest[RU_MAX_NAME + 1];
    memset(longest, 'a', sizeof longest);
    assert_int_equal(ru_name_check(longest, RU_MAX_NAME), RU_OK);
    assert_int_equal(ru_name_check(longest, RU_MAX_NAME + 1), RU_E_NAME);
    assert_int_equal(ru_name_check("a\0b", 3), RU_E_NAME);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64_round_trip), cmocka_unit_test(test_b64_known_answer),
        cmocka_unit_test(test_b64_refusals),   cmocka_unit_test(test_utf8_accepts),
        cmocka_unit_test(test_utf8_refusals),  cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
