/*  ru_search_query_test.c - words folded for search, and the search indexes kept by
 *  the state machine, on a real LMDB store.
 *
 *  Folding: case, accents (precomposed or combining), ligatures, French
 *  and English punctuation, other scripts, invalid bytes, words too long.
 *  Indexes: statuses found by every word of a query, the last one
 *  unfinished, newest first, as the viewer may see them, whether still in
 *  the tail of the words index or indexed; edits re-index, deletes leave
 *  no word behind; accounts by user name and display name, of this site
 *  and of another; tags by prefix, folded.
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
#include "ru_search_query.h"
#include "ru_words.h"
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
        {"stray\xae\xae\xae\xae"
         "bytes \xc0\xaf\xaf\xaf"
         "x",
         "stray bytes x"},
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

typedef ru_err (*s_searcher)(const ru_view_t *, const ru_search_query_t *, json_t *);

/*  Runs a search as viewer from offset; the results' field key, joined by
 *  '|'. */
static const char *
s_search_from(s_searcher fn, const char *viewer, const char *q, long offset, const char *key)
{
    static char out[2048];
    ru_txn_t txn;
    assert_int_equal(ru_store_read(s_t.node.store, &txn), RU_OK);
    ru_view_t v = {&s_t.node, &txn, viewer};
    ru_search_query_t query = {q, offset, 40, 0, 0, 0, 20000};
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
s_search(s_searcher fn, const char *viewer, const char *q, const char *key)
{
    return s_search_from(fn, viewer, q, 0, key);
}

static const char *
s_statuses(const char *viewer, const char *q)
{
    return s_search(ru_search_statuses, viewer, q, "text");
}

/*  How many postings (status ids) the words database holds. */
static int
s_word_entries(void)
{
    ru_txn_t txn;
    MDB_cursor *cur;
    MDB_val k, v;
    int n = 0;
    assert_int_equal(ru_store_read(s_t.node.store, &txn), RU_OK);
    assert_int_equal(mdb_cursor_open(txn.txn, ru_store_dbi(s_t.node.store, RU_DB_words), &cur), 0);
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        n += (int) (v.mv_size / 16);
    mdb_cursor_close(cur);
    ru_txn_abort(&txn);
    return n;
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
    assert_int_equal(s_word_entries(), before); /* all in the tail: nothing indexed yet */
    ru_update_t *all[] = {&a, &b, &c, &d, &edit, &del};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        ru_update_fini(all[i]);
}

/*  The first and last texts of a search's results, "first..last". */
static const char *
s_ends(const char *results)
{
    static char out[256];
    const char *bar = strchr(results, '|'), *last = strrchr(results, '|');
    snprintf(out, sizeof out, "%.*s..%s", (int) (bar ? bar - results : 0), results,
             last ? last + 1 : "");
    return out;
}

/*  Past RU_WORDS_TAIL statuses, the older half goes to the index; results
 *  run on across the two, newest first, and edits and deletes of indexed
 *  statuses change the index at once. */
static void
test_tail_and_index(void **state)
{
    (void) state;
    static ru_update_t u[300];
    static char texts[300][64];
    int n = (int) (sizeof u / sizeof u[0]);
    for (int i = 0; i < n; i++) {
        snprintf(texts[i], sizeof texts[i], i % 10 ? "message %d alpha" : "message %d alpha rare%d",
                 i, i);
        s_make(&u[i], 0, RU_KIND_POST, "bob", texts[i], RU_VIS_PUBLIC, NULL);
    }
    int indexed = (RU_WORDS_TAIL / 2) * 3 + (RU_WORDS_TAIL / 2 + 9) / 10;
    assert_int_equal(s_word_entries(), indexed);
    assert_string_equal(s_statuses(NULL, "rare0"), "message 0 alpha rare0");
    assert_string_equal(s_statuses(NULL, "rare29"), "message 290 alpha rare290");
    assert_string_equal(s_ends(s_statuses(NULL, "alpha")),
                        "message 299 alpha..message 260 alpha rare260");
    assert_string_equal(s_ends(s_search_from(ru_search_statuses, NULL, "ALPHA", 150, "text")),
                        "message 149 alpha..message 110 alpha rare110");
    ru_update_t del, edit, del_tail;
    s_make(&del, 0, RU_KIND_DELETE, "bob", "", RU_VIS_PUBLIC, &u[5]);
    assert_int_equal(s_word_entries(), indexed - 3);
    s_make(&edit, 0, RU_KIND_EDIT, "bob", "changed words", RU_VIS_PUBLIC, &u[7]);
    assert_int_equal(s_word_entries(), indexed - 3 - 3 + 2);
    assert_string_equal(s_statuses(NULL, "changed"), "changed words");
    assert_string_equal(s_statuses(NULL, "message 7"), "message 79 alpha|message 78 alpha|"
                                                       "message 77 alpha|message 76 alpha|"
                                                       "message 75 alpha|message 74 alpha|"
                                                       "message 73 alpha|message 72 alpha|"
                                                       "message 71 alpha|message 70 alpha rare70");
    s_make(&del_tail, 0, RU_KIND_DELETE, "bob", "", RU_VIS_PUBLIC, &u[290]);
    assert_int_equal(s_word_entries(), indexed - 4);
    assert_string_equal(s_statuses(NULL, "rare29"), "");
    for (int i = 0; i < n; i++)
        ru_update_fini(&u[i]);
    ru_update_fini(&del);
    ru_update_fini(&edit);
    ru_update_fini(&del_tail);
}

/*  Checks the blocks of word: ids ascending within and across blocks, none
 *  too large, each keyed by its newest id; returns how many ids. */
static int
s_check_blocks(const char *word)
{
    ru_txn_t txn;
    MDB_cursor *cur;
    size_t wlen = strlen(word);
    uint8_t last[16] = {0};
    MDB_val k = {wlen + 1, (void *) word}, v;
    int n = 0;
    assert_int_equal(ru_store_read(s_t.node.store, &txn), RU_OK);
    assert_int_equal(mdb_cursor_open(txn.txn, ru_store_dbi(s_t.node.store, RU_DB_words), &cur), 0);
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == 0 && k.mv_size == wlen + 17 && memcmp(k.mv_data, word, wlen + 1) == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *ids = v.mv_data;
        size_t m = v.mv_size / 16;
        assert_true(m >= 1 && m <= 96 && v.mv_size % 16 == 0);
        for (size_t i = 0; i < m; i++) {
            assert_true(memcmp(ids + 16 * i, last, 16) > 0);
            memcpy(last, ids + 16 * i, 16);
        }
        assert_memory_equal((const uint8_t *) k.mv_data + wlen + 1, last, 16);
        n += (int) m;
    }
    mdb_cursor_close(cur);
    ru_txn_abort(&txn);
    return n;
}

/*  Adds (or removes) a posting of text for a made-up status below the
 *  mark, hlc just after the i-th status's, as an old update caught up late
 *  would be. */
static void
s_late(const ru_update_t *u, const char *text, int add)
{
    uint8_t pos[RU_DBKEY_POS] = {0};
    ru_dbkey_be64(pos, u->hlc + 1);
    ru_txn_t txn;
    assert_int_equal(ru_store_write(s_t.node.store, &txn), RU_OK);
    assert_int_equal(ru_words_update(&txn, pos, testnode_str(text), add), RU_OK);
    assert_int_equal(ru_txn_commit(&txn), RU_OK);
}

/*  Postings of statuses below the mark go into the block where they
 *  belong, which splits when full, and come out again. */
static void
test_blocks(void **state)
{
    (void) state;
    static ru_update_t u[300];
    int n = (int) (sizeof u / sizeof u[0]);
    for (int i = 0; i < n; i++)
        s_make(&u[i], 0, RU_KIND_POST, "bob", "beta gamma", RU_VIS_PUBLIC, NULL);
    int indexed = s_check_blocks("beta");
    assert_int_equal(indexed, RU_WORDS_TAIL / 2);
    for (int i = 0; i < RU_WORDS_TAIL / 2; i += 2)
        s_late(&u[i], "beta late", 1);
    assert_int_equal(s_check_blocks("beta"), indexed + RU_WORDS_TAIL / 4);
    assert_int_equal(s_check_blocks("late"), RU_WORDS_TAIL / 4);
    s_late(&u[0], "beta late", 1); /* again: no change */
    assert_int_equal(s_check_blocks("beta"), indexed + RU_WORDS_TAIL / 4);
    for (int i = 0; i < RU_WORDS_TAIL / 2; i += 2)
        s_late(&u[i], "beta late", 0);
    assert_int_equal(s_check_blocks("beta"), indexed);
    assert_int_equal(s_check_blocks("late"), 0);
    assert_int_equal(s_check_blocks("gamma"), indexed);
    for (int i = 0; i < n; i++)
        ru_update_fini(&u[i]);
}

/*  zoe of nozay takes display_name. */
static void
s_profile(ru_update_t *u, const char *display_name)
{
    ru_update_init(u);
    u->kind = RU_KIND_PROFILE;
    u->author = testnode_str("zoe");
    u->display_name = testnode_str(display_name);
    u->note = testnode_str("");
    assert_int_equal(testnode_apply(&s_t, u, 1), RU_OK);
}

/*  Empties db in its own transaction. */
static void
s_drop(ru_db db)
{
    ru_txn_t txn;
    assert_int_equal(ru_store_write(s_t.node.store, &txn), RU_OK);
    assert_int_equal(mdb_drop(txn.txn, ru_store_dbi(s_t.node.store, db), 0), 0);
    assert_int_equal(ru_txn_del(&txn, RU_DB_meta, "search_mark", 11), RU_OK);
    assert_int_equal(ru_txn_del(&txn, RU_DB_meta, "search_version", 14), RU_OK);
    assert_int_equal(ru_txn_commit(&txn), RU_OK);
}

/*  A store from before the search indexes (here: emptied of them) gets
 *  them from what it holds with the next update it applies: accounts and
 *  tags at once, statuses' words little by little, found meanwhile. */
static void
test_upgrade(void **state)
{
    (void) state;
    static ru_update_t u[300];
    ru_update_t prof, next;
    int n = (int) (sizeof u / sizeof u[0]);
    for (int i = 0; i < n; i++)
        s_make(&u[i], 0, RU_KIND_POST, "bob", "old post #OldTag", RU_VIS_PUBLIC, NULL);
    s_profile(&prof, "Zoé Ancienne");
    s_drop(RU_DB_words);
    s_drop(RU_DB_people);
    s_drop(RU_DB_tagnames);
    assert_int_equal(s_word_entries(), 0);
    assert_string_equal(s_search(ru_search_accounts, NULL, "ancienne", "username"), "");
    assert_string_equal(s_search(ru_search_tags, NULL, "oldt", "name"), "");
    assert_int_equal((int) strlen(s_statuses(NULL, "old post")), 40 * 16 + 39); /* the tail */
    s_make(&next, 0, RU_KIND_POST, "alice", "new post", RU_VIS_PUBLIC, NULL);
    assert_string_equal(s_search(ru_search_accounts, NULL, "ancienne", "username"), "zoe");
    assert_string_equal(s_search(ru_search_tags, NULL, "oldt", "name"), "oldtag");
    assert_int_equal(s_word_entries(), (n + 1 - RU_WORDS_TAIL / 2) * 3);
    assert_string_equal(s_ends(s_search_from(ru_search_statuses, NULL, "post", 260, "text")),
                        "old post #OldTag..old post #OldTag");
    for (int i = 0; i < n; i++)
        ru_update_fini(&u[i]);
    ru_update_fini(&prof);
    ru_update_fini(&next);
}

static void
test_accounts(void **state)
{
    (void) state;
    ru_update_t p, q, post;
    s_profile(&p, "Zoé Lefèvre");
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

    s_profile(&q, "Zoé Martin"); /* a new display name: the old one no longer finds her */
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
        cmocka_unit_test_setup_teardown(test_tail_and_index, s_setup, testnode_teardown),
        cmocka_unit_test_setup_teardown(test_blocks, s_setup, testnode_teardown),
        cmocka_unit_test_setup_teardown(test_upgrade, s_setup, testnode_teardown),
        cmocka_unit_test_setup_teardown(test_accounts, s_setup, testnode_teardown),
        cmocka_unit_test_setup_teardown(test_tags, s_setup, testnode_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
