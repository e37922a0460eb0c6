/*  test_search.c - words folded for search, and the search indexes kept by
 *  the state machine, on a real LMDB store.
 *
 *  Folding: case, accents (precomposed or combining), ligatures, French
 *  and English punctuation, other scripts, invalid bytes, words too long.
 *  Indexes: statuses found by every word of a query, the last one
 *  unfinished, newest first, as the viewer may see them; edits re-index,
 *  deletes leave no word behind; accounts by user name and display name,
 *  of this site and of another; tags by prefix, folded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ru_dbkey.h"
#include "ru_fold.h"
#include "ru_search.h"
#include "testnode.h"

/*  The words of text, folded, separated by spaces. */
static const char *
s_words(const char *text)
{
    static char out[1024];
    char word[RU_FOLD_WORD_MAX + 1];
    size_t pos = 0, n, len = 0;
    out[0] = '\0';
    while ((n = ru_fold_word(text, strlen(text), &pos, word)) > 0) {
        assert_int_equal(n, strlen(word));
        len += (size_t) snprintf(out + len, sizeof out - len, "%s%s", len ? " " : "", word);
    }
    return out;
}

static void
test_fold_words(void **state)
{
    (void) state;
    static const char *const cases[][2] = {
        {"Réunion à l'École, demain !", "reunion a l ecole demain"},
        {"Le CHÂTEAU est fermé; cœur brisé", "le chateau est ferme coeur brise"},
        {"ÇA VA? Ça va.", "ca va ca va"},
        {"Straße, ẞ, Æsir, Œuvre, ĳs", "strasse ss aesir oeuvre ijs"},
        {"\xef\xac\x81nance \xef\xac\x82ow o\xef\xac\x83"
         "ce",
         "finance flow office"},
        {"e\xcc\x81te\xcc\x81 (combining accents)", "ete combining accents"},
        {"naïve façade déjà-vu", "naive facade deja vu"},
        {"Ñandú Øre Ågot Þór ÿ", "nandu ore agot thor y"},
        {"Łódź Škoda Čapek Ğ ő ſ", "lodz skoda capek g o s"},
        {"l’été «guillemets» — tiret…", "l ete guillemets tiret"},
        {"#Ruche @bob@paris mail@example.com", "ruche bob paris mail example com"},
        {"ПРИВЕТ Ёлка ΣΟΦΙΑ σοφος", "привет елка σοφια σοφοσ"},
        {"日本語のテキスト 2024", "日本語のテキスト 2024"},
        {"emoji\xf0\x9f\x99\x82here tab\there", "emoji here tab here"},
        {"soft\xc2\xadhyphen a\xc3\x97"
         "b",
         "softhyphen a b"},
        {"bad\xff"
         "byte \xc3",
         "bad byte"},
        {"   ", ""},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(s_words(cases[i][0]), cases[i][1]);
}

static void
test_fold_limits(void **state)
{
    (void) state;
    char text[200], word[RU_FOLD_WORD_MAX + 1];
    memset(text, 'A', 100);
    memcpy(text + 100, " b", 3);
    size_t pos = 0;
    assert_int_equal(ru_fold_word(text, strlen(text), &pos, word), RU_FOLD_WORD_MAX);
    assert_int_equal(strspn(word, "a"), RU_FOLD_WORD_MAX);
    assert_int_equal(ru_fold_word(text, strlen(text), &pos, word), 1);
    assert_string_equal(word, "b");
    assert_int_equal(ru_fold_word(text, strlen(text), &pos, word), 0);
    memset(text, 'a', 63); /* a two-byte letter that would pass the limit is left out */
    memcpy(text + 63, "\xd0\x96z", 4);
    pos = 0;
    assert_int_equal(ru_fold_word(text, strlen(text), &pos, word), 63);
    assert_int_equal(ru_fold_word(text, strlen(text), &pos, word), 0);
}

static void
test_fold_tag(void **state)
{
    (void) state;
    char out[RU_FOLD_WORD_MAX + 1];
    assert_int_equal(ru_fold_tag("Café_Bar", strlen("Café_Bar"), out), 8);
    assert_string_equal(out, "cafe_bar");
    assert_int_equal(ru_fold_tag("rentrée2024", strlen("rentrée2024"), out), 11);
    assert_string_equal(out, "rentree2024");
    assert_int_equal(ru_fold_tag("", 0, out), 0);
}

/*  ---------------------------------------------------------------------
 *  Indexes
 */

static testnode_t s_t;

static int
s_setup(void **state)
{
    *state = &s_t;
    static const char *const users[] = {"alice", "bob", "jean-pierre", NULL};
    return testnode_open(&s_t, users);
}

static void
s_make(ru_update_t *u, int remote, ru_kind kind, const char *author, const char *text,
       ru_visibility vis, const ru_update_t *target)
{
    assert_int_equal(testnode_make(&s_t, u, remote, kind, author, text, vis, target), RU_OK);
}

/*  Runs a search as viewer; the results' field key, joined by '|'. */
static const char *
s_search(ru_err (*fn)(const ru_view_t *, const ru_search_query_t *, json_t *), const char *viewer,
         const char *q, const char *key)
{
    static char out[2048];
    ru_txn_t txn;
    assert_int_equal(ru_store_read(s_t.node.store, &txn), RU_OK);
    ru_view_t v = {&s_t.node, &txn, viewer};
    ru_search_query_t query = {q, 0, 40, 0, 0, 0};
    json_t *list = json_array();
    assert_int_equal(fn(&v, &query, list), RU_OK);
    ru_txn_abort(&txn);
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < json_array_size(list); i++)
        len += (size_t) snprintf(out + len, sizeof out - len, "%s%s", i ? "|" : "",
                                 json_string_value(json_object_get(json_array_get(list, i), key)));
    json_decref(list);
    return out;
}

static const char *
s_statuses(const char *viewer, const char *q)
{
    return s_search(ru_search_statuses, viewer, q, "text");
}

/*  How many entries the words database holds. */
static int
s_word_entries(void)
{
    ru_txn_t txn;
    MDB_stat st;
    assert_int_equal(ru_store_read(s_t.node.store, &txn), RU_OK);
    assert_int_equal(mdb_stat(txn.txn, ru_store_dbi(s_t.node.store, RU_DB_words), &st), 0);
    ru_txn_abort(&txn);
    return (int) st.ms_entries;
}

static void
test_statuses(void **state)
{
    (void) state;
    ru_update_t a, b, c, d, edit, del;
    s_make(&a, 0, RU_KIND_POST, "alice", "Réunion à l'École demain", RU_VIS_PUBLIC, NULL);
    s_make(&b, 1, RU_KIND_POST, "zoe", "La réunion du CHÂTEAU", RU_VIS_PUBLIC, NULL);
    s_make(&c, 0, RU_KIND_POST, "bob", "réunion privée", RU_VIS_PRIVATE, NULL);
    s_make(&d, 0, RU_KIND_POST, "bob", "réunions et chatons", RU_VIS_PUBLIC, NULL);
    assert_string_equal(s_statuses(NULL, "REUNION"),
                        "réunions et chatons|La réunion du CHÂTEAU|Réunion à l'École demain");
    assert_string_equal(s_statuses("bob", "reunion"), "réunions et chatons|réunion privée|"
                                                      "La réunion du CHÂTEAU|"
                                                      "Réunion à l'École demain");
    assert_string_equal(s_statuses(NULL, "reunion chat"), "La réunion du CHÂTEAU");
    assert_string_equal(s_statuses(NULL, "reunions chat"), "réunions et chatons");
    assert_string_equal(s_statuses(NULL, "REUNIONS"), "réunions et chatons");
    assert_string_equal(s_statuses(NULL, "reunion chateau"), "La réunion du CHÂTEAU");
    assert_string_equal(s_statuses(NULL, "chateau reu"), "La réunion du CHÂTEAU");
    assert_string_equal(s_statuses(NULL, "chat reunion"), ""); /* only the last is a prefix */
    assert_string_equal(s_statuses(NULL, "l'ecole"), "Réunion à l'École demain");
    assert_string_equal(s_statuses(NULL, "zut"), "");
    assert_string_equal(s_statuses(NULL, " !? "), "");

    s_make(&edit, 0, RU_KIND_EDIT, "alice", "Rendez-vous au jardin", RU_VIS_PUBLIC, &a);
    assert_string_equal(s_statuses(NULL, "ecole"), "");
    assert_string_equal(s_statuses(NULL, "jardin"), "Rendez-vous au jardin");
    int before = s_word_entries();
    s_make(&del, 0, RU_KIND_DELETE, "alice", "", RU_VIS_PUBLIC, &a);
    assert_string_equal(s_statuses(NULL, "jardin"), "");
    assert_int_equal(s_word_entries(), before - 4); /* rendez vous au jardin */
    ru_update_t *all[] = {&a, &b, &c, &d, &edit, &del};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        ru_update_fini(all[i]);
}

static void
test_accounts(void **state)
{
    (void) state;
    ru_update_t p, q, post;
    ru_update_init(&p);
    p.kind = RU_KIND_PROFILE;
    p.author = testnode_str("zoe");
    p.display_name = testnode_str("Zoé Lefèvre");
    p.note = testnode_str("");
    assert_int_equal(testnode_apply(&s_t, &p, 1), RU_OK);
    s_make(&post, 0, RU_KIND_POST, "alice", "hello", RU_VIS_PUBLIC, NULL);
    const char *k = "username"; /* nozay is known to the views by its key only */
    assert_string_equal(s_search(ru_search_accounts, NULL, "zo", k), "zoe");
    assert_string_equal(s_search(ru_search_accounts, NULL, "lefevre", k), "zoe");
    assert_string_equal(s_search(ru_search_accounts, NULL, "ZOE LEF", k), "zoe");
    assert_string_equal(s_search(ru_search_accounts, NULL, "zoe@paris", k), "");
    assert_string_equal(s_search(ru_search_accounts, NULL, "zoe@elsewhere", k), "");
    assert_string_equal(s_search(ru_search_accounts, NULL, "@alice@paris", k), "alice");
    assert_string_equal(s_search(ru_search_accounts, NULL, "@al", k), "alice");
    assert_string_equal(s_search(ru_search_accounts, NULL, "jean-p", k), "jean-pierre");
    assert_string_equal(s_search(ru_search_accounts, NULL, "b", k), "bob");
    assert_string_equal(s_search(ru_search_accounts, NULL, "", k), "");
    assert_string_equal(s_search(ru_search_accounts, NULL, "@", k), "");

    ru_update_init(&q); /* a new display name: the old one no longer finds her */
    q.kind = RU_KIND_PROFILE;
    q.author = testnode_str("zoe");
    q.display_name = testnode_str("Zoé Martin");
    q.note = testnode_str("");
    assert_int_equal(testnode_apply(&s_t, &q, 1), RU_OK);
    assert_string_equal(s_search(ru_search_accounts, NULL, "lefevre", k), "");
    assert_string_equal(s_search(ru_search_accounts, NULL, "martin", k), "zoe");
    ru_update_fini(&p);
    ru_update_fini(&q);
    ru_update_fini(&post);
}

static void
test_tags(void **state)
{
    (void) state;
    ru_update_t a, b, del;
    s_make(&a, 0, RU_KIND_POST, "alice", "#Café et #cafeteria", RU_VIS_PUBLIC, NULL);
    s_make(&b, 0, RU_KIND_POST, "bob", "#cafe #jardin", RU_VIS_PUBLIC, NULL);
    assert_string_equal(s_search(ru_search_tags, NULL, "#CAF", "name"), "cafe|café|cafeteria");
    assert_string_equal(s_search(ru_search_tags, NULL, "jar", "name"), "jardin");
    assert_string_equal(s_search(ru_search_tags, NULL, "#", "name"), "");
    s_make(&del, 0, RU_KIND_DELETE, "bob", "", RU_VIS_PUBLIC, &b);
    assert_string_equal(s_search(ru_search_tags, NULL, "#caf", "name"), "café|cafeteria");
    assert_string_equal(s_search(ru_search_tags, NULL, "jar", "name"), "");
    ru_update_fini(&a);
    ru_update_fini(&b);
    ru_update_fini(&del);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold_words),
        cmocka_unit_test(test_fold_limits),
        cmocka_unit_test(test_fold_tag),
        cmocka_unit_test_setup_teardown(test_statuses, s_setup, testnode_teardown),
        cmocka_unit_test_setup_teardown(test_accounts, s_setup, testnode_teardown),
        cmocka_unit_test_setup_teardown(test_tags, s_setup, testnode_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
