/*  ru_url_test.c - percent-encoding, query parameters, the rel="next" link of
 *  a Link header, and the checks on a server URL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "ru_url.h"

static void
check_escape(const char *in, const char *want)
{
    char *out = NULL;
    assert_int_equal(ru_url_escape(in, &out), RU_OK);
    assert_string_equal(out, want);
    free(out);
}

static void
test_escape(void **state)
{
    (void) state;
    check_escape("", "");
    check_escape("AZaz09-._~", "AZaz09-._~");
    check_escape("alice@nozay", "alice%40nozay");
    check_escape("a b&c=d/e?f#g+h%", "a%20b%26c%3Dd%2Fe%3Ff%23g%2Bh%25");
    check_escape("../..", "..%2F..");
    check_escape("été", "%C3%A9t%C3%A9");
    check_escape("\x01\xff", "%01%FF");
}

/*  Checks what a function returning (got, out) gave against (err, want):
 *  the string on success, nothing on failure. Frees out. */
static void
check_result(ru_err got, char *out, ru_err err, const char *want)
{
    assert_int_equal(got, err);
    if (err == RU_OK)
        assert_string_equal(out, want);
    else
        assert_null(out);
    free(out);
}

static void
check_query(const char *url, const char *key, ru_err err, const char *want)
{
    char *out = NULL;
    ru_err got = ru_url_query_get(url, key, &out);
    check_result(got, out, err, want);
}

static void
test_query_get(void **state)
{
    (void) state;
    check_query("https://h/api/v1/timelines/home?max_id=123", "max_id", RU_OK, "123");
    check_query("https://h/p?limit=20&max_id=9&since_id=1", "max_id", RU_OK, "9");
    check_query("https://h/p?limit=20&max_id=9#frag", "max_id", RU_OK, "9");
    check_query("https://h/p?xmax_id=1&max_id=2", "max_id", RU_OK, "2");
    check_query("https://h/p?max_id=", "max_id", RU_OK, "");
    check_query("https://h/p?q=a%20b+c%2B", "q", RU_OK, "a b c+");
    check_query("https://h/p?max_id=1", "max", RU_E_NOT_FOUND, NULL);
    check_query("https://h/p?max_idx=1", "max_id", RU_E_NOT_FOUND, NULL);
    check_query("https://h/p#max_id=1", "max_id", RU_E_NOT_FOUND, NULL);
    check_query("https://h/p?a=1#&max_id=1", "max_id", RU_E_NOT_FOUND, NULL);
    check_query("https://h/p", "max_id", RU_E_NOT_FOUND, NULL);
    check_query("https://h/p?max_id=%4", "max_id", RU_E_TEXT_FORM, NULL);
    check_query("https://h/p?max_id=%zz", "max_id", RU_E_TEXT_FORM, NULL);
    check_query("https://h/p?max_id=a%00b", "max_id", RU_E_TEXT_FORM, NULL);
    check_query("https://h/p?max_id=%", "max_id", RU_E_TEXT_FORM, NULL);
}

/*  Checks fn(in) against (err, want). */
static void
check_fn(ru_err (*fn)(const char *, char **), const char *in, ru_err err, const char *want)
{
    char *out = NULL;
    ru_err got = fn(in, &out);
    check_result(got, out, err, want);
}

static void
check_next(const char *link, ru_err err, const char *want)
{
    check_fn(ru_url_link_next, link, err, want);
}

static void
test_link_next(void **state)
{
    (void) state;
    check_next("<https://h/api/v1/timelines/home?max_id=7>; rel=\"next\", "
               "<https://h/api/v1/timelines/home?min_id=9>; rel=\"prev\"",
               RU_OK, "https://h/api/v1/timelines/home?max_id=7");
    check_next("<https://h/a?min_id=9>; rel=\"prev\", <https://h/a?max_id=3>; rel=\"next\"", RU_OK,
               "https://h/a?max_id=3");
    check_next("<https://h/a?max_id=3>; rel=next", RU_OK, "https://h/a?max_id=3");
    check_next("<https://h/a?max_id=3>;rel=\"prev next\"", RU_OK, "https://h/a?max_id=3");
    check_next("<https://h/a?max_id=3>; REL = \"Next\"", RU_OK, "https://h/a?max_id=3");
    check_next("<https://h/a,b?max_id=3>; title=\"x, rel=next\"; rel=\"next\"", RU_OK,
               "https://h/a,b?max_id=3");
    check_next("<https://h/a?x=1>; title=\"rel=next\", <https://h/b>; rel=\"next\"", RU_OK,
               "https://h/b");
    check_next("<https://h/a?min_id=9>; rel=\"prev\"", RU_E_NOT_FOUND, NULL);
    check_next("<https://h/a>; relx=\"next\"", RU_E_NOT_FOUND, NULL);
    check_next("<https://h/a>; rel=\"nextish\"", RU_E_NOT_FOUND, NULL);
    check_next("", RU_E_NOT_FOUND, NULL);
    check_next("garbage", RU_E_NOT_FOUND, NULL);
    check_next("<unclosed; rel=\"next\"", RU_E_NOT_FOUND, NULL);
    check_next("<https://h/a>; rel=\"next", RU_OK, "https://h/a");
}

static void
check_server(const char *in, ru_err err, const char *want)
{
    check_fn(ru_url_server, in, err, want);
}

static void
test_server(void **state)
{
    (void) state;
    check_server("http://127.0.0.1:8080", RU_OK, "http://127.0.0.1:8080");
    check_server("http://127.0.0.1:8080/", RU_OK, "http://127.0.0.1:8080");
    check_server("HTTPS://ruche.example.com//", RU_OK, "https://ruche.example.com");
    check_server("https://example.com/ruche/", RU_OK, "https://example.com/ruche");
    check_server("http://[::1]:8080", RU_OK, "http://[::1]:8080");
    check_server("127.0.0.1:8080", RU_E_INVALID, NULL);
    check_server("ftp://example.com", RU_E_INVALID, NULL);
    check_server("file:///etc/passwd", RU_E_INVALID, NULL);
    check_server("http://", RU_E_INVALID, NULL);
    check_server("http:///path", RU_E_INVALID, NULL);
    check_server("http://:8080", RU_E_INVALID, NULL);
    check_server("http://user:pw@example.com", RU_E_INVALID, NULL);
    check_server("http://example.com/?q=1", RU_E_INVALID, NULL);
    check_server("http://example.com/#x", RU_E_INVALID, NULL);
    check_server("http://exa mple.com", RU_E_INVALID, NULL);
    check_server("http://example.com\r\nX-Evil: 1", RU_E_INVALID, NULL);
    check_server("", RU_E_INVALID, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_query_get),
        cmocka_unit_test(test_link_next),
        cmocka_unit_test(test_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
