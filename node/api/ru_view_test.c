/*  ru_view_test.c - the HTML a status's text becomes: links for http(s)
 *  addresses (rel, target, the shortened text in Mastodon's spans, every
 *  part escaped), other schemes left as text, and no tag or mention taken
 *  inside an address; tags and mentions of known users beside them; an
 *  account's avatar and header, each held twice by the account and no
 *  more.
 *
 *  The node is "paris" (public URL http://paris.test) with user alice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ru_view.h"
#include "testnode.h"

static testnode_t s_t;

static int
s_setup(void **state)
{
    *state = &s_t;
    static const char *const users[] = {"alice", NULL};
    return testnode_open(&s_t, users);
}

/*  ru_view_html of text written here, compared with html. */
static void
s_html_is(const char *text, const char *html)
{
    ru_txn_t txn;
    assert_int_equal(ru_store_read(s_t.node.store, &txn), RU_OK);
    ru_view_t v = {&s_t.node, &txn, NULL};
    char *got = ru_view_html(&v, ru_key_public(s_t.node.key), testnode_str(text));
    ru_txn_abort(&txn);
    assert_non_null(got);
    assert_string_equal(got, html);
    free(got);
}

/*  The HTML of a link as the node writes it: href (escaped), the scheme
 *  part, the part shown and, when cut, the rest (NULL: not cut). */
static const char *
s_link(const char *href, const char *scheme, const char *shown, const char *rest)
{
    static char out[4][1024];
    static int next;
    char *o = out[next++ % 4];
    snprintf(o, sizeof out[0],
             "<a href=\"%s\" rel=\"nofollow noopener noreferrer\" target=\"_blank\"><span "
             "class=\"invisible\">%s</span><span%s>%s</span>%s%s%s</a>",
             href, scheme, rest ? " class=\"ellipsis\"" : "", shown,
             rest ? "<span class=\"invisible\">" : "", rest ? rest : "", rest ? "</span>" : "");
    return o;
}

/*  "<p>" a link b "</p>". */
static void
s_para_is(const char *text, const char *a, const char *link, const char *b)
{
    char html[2048];
    snprintf(html, sizeof html, "<p>%s%s%s</p>", a, link, b);
    s_html_is(text, html);
}

static void
test_short_link(void **state)
{
    (void) state;
    s_para_is("see https://wiki.corp/a.", "see ",
              s_link("https://wiki.corp/a", "https://", "wiki.corp/a", NULL), ".");
    s_para_is("HTTP://www.x.org", "", s_link("HTTP://www.x.org", "HTTP://www.", "x.org", NULL), "");
}

/*  Past 30 characters after the scheme, the rest is invisible behind an
 *  ellipsis; characters are counted whole (é is two bytes, one character). */
static void
test_long_link(void **state)
{
    (void) state;
    const char *url = "https://intranet.example.com/projects/2026/plan";
    s_para_is(url, "", s_link(url, "https://", "intranet.example.com/projects/", "2026/plan"), "");
    url = "http://x.org/ééééééééééééééééééééééééé";
    s_para_is(url, "", s_link(url, "http://", "x.org/éééééééééééééééééééééééé", "é"), "");
}

/*  Quotes, ampersands and angle brackets never leave the attribute or the
 *  text: a quote or '<' ends the address, '&' and "'" are escaped. */
static void
test_link_escaped(void **state)
{
    (void) state;
    s_para_is(
        "https://x.org/?a=1&b='2'\"onmouseover=alert(1)", "",
        s_link("https://x.org/?a=1&amp;b=&#39;2", "https://", "x.org/?a=1&amp;b=&#39;2", NULL),
        "&#39;&quot;onmouseover=alert(1)");
    s_para_is("<https://x.org/<script>>", "&lt;",
              s_link("https://x.org/", "https://", "x.org/", NULL), "&lt;script&gt;&gt;");
}

static void
test_other_schemes_are_text(void **state)
{
    (void) state;
    s_html_is("javascript:alert(1) data:text/html,<b>x</b> ftp://x.org",
              "<p>javascript:alert(1) data:text/html,&lt;b&gt;x&lt;/b&gt; ftp://x.org</p>");
}

/*  A tag or a mention inside an address is part of it; beside it, it is
 *  one of its own. */
static void
test_entities_beside_links(void **state)
{
    (void) state;
    s_para_is("https://x.org/?t=#ruche&u=@alice #ruche @alice", "",
              s_link("https://x.org/?t=#ruche&amp;u=@alice", "https://",
                     "x.org/?t=#ruche&amp;u=@alice", NULL),
              " <a href=\"http://paris.test/tags/ruche\" class=\"mention hashtag\" "
              "rel=\"tag\">#ruche</a> <span class=\"h-card\"><a href=\"http://paris.test/@alice\" "
              "class=\"u-url mention\">@alice</a></span>");
}

/*  An account's avatar and header stand twice in it (avatar and
 *  avatar_static, header and header_static): each one JSON string that
 *  the account holds two references to and nobody else, so that freeing
 *  the account frees it once, neither leaked nor freed twice. */
static void
test_account_images(void **state)
{
    (void) state;
    ru_txn_t txn;
    assert_int_equal(ru_store_read(s_t.node.store, &txn), RU_OK);
    ru_view_t v = {&s_t.node, &txn, NULL};
    json_t *a = ru_view_account(&v, ru_key_public(s_t.node.key), testnode_str("alice"));
    ru_txn_abort(&txn);
    assert_non_null(a);
    const char *const keys[] = {"avatar", "header"};
    for (int i = 0; i < 2; i++) {
        char twin[32];
        snprintf(twin, sizeof twin, "%s_static", keys[i]);
        json_t *image = json_object_get(a, keys[i]);
        assert_true(json_is_string(image));
        assert_ptr_equal(json_object_get(a, twin), image);
        assert_int_equal(image->refcount, 2);
    }
    assert_string_equal(json_string_value(json_object_get(a, "avatar")),
                        "http://paris.test/avatar.png");
    json_decref(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short_link),
        cmocka_unit_test(test_long_link),
        cmocka_unit_test(test_link_escaped),
        cmocka_unit_test(test_other_schemes_are_text),
        cmocka_unit_test(test_entities_beside_links),
        cmocka_unit_test(test_account_images),
    };
    return cmocka_run_group_tests(tests, s_setup, testnode_teardown);
}
