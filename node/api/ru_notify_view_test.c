/*  ru_notify_view_test.c - notifications made by the state machine, on a real LMDB
 *  store: who gets what for posts, replies, mentions from another site,
 *  likes, follows and edits; what unlikes, unfollows and deletes take
 *  back; and what ru_notify_each() reports for each update, as the event
 *  streams see it after a commit.
 *
 *  The node is "paris" with users alice and bob; updates signed with a
 *  second key stand for the site "nozay" and its user zoe.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ru_notify_view.h"
#include "testnode.h"

static testnode_t s_t;

static int
s_setup(void **state)
{
    *state = &s_t;
    static const char *const users[] = {"alice", "bob", NULL};
    return testnode_open(&s_t, users);
}

static void
s_make(ru_update_t *u, int remote, ru_kind kind, const char *author, const char *text,
       const ru_update_t *target)
{
    assert_int_equal(testnode_make(&s_t, u, remote, kind, author, text, RU_VIS_PUBLIC, target),
                     RU_OK);
}

/*  zoe of nozay follows or unfollows user of paris. */
static void
s_follow(ru_update_t *u, ru_kind kind, const char *user)
{
    ru_update_init(u);
    u->kind = kind;
    u->author = testnode_str("zoe");
    memcpy(u->user.home, ru_key_public(s_t.node.key), RU_KEY_BYTES);
    u->user.name = testnode_str(user);
    assert_int_equal(testnode_apply(&s_t, u, 1), RU_OK);
}

/*  What ru_notify_each reports: "recipient:type" lines. */
typedef struct {
    char text[1024];
    int n;
} s_seen;

static void
s_on_notification(void *ctx, const char *recipient, json_t *n)
{
    s_seen *seen = ctx;
    size_t len = strlen(seen->text);
    snprintf(seen->text + len, sizeof seen->text - len, "%s%s:%s", seen->n++ ? " " : "", recipient,
             json_string_value(json_object_get(n, "type")));
    assert_non_null(json_object_get(n, "account"));
    assert_non_null(json_string_value(json_object_get(n, "id")));
}

static void
s_expect_each(const ru_update_t *u, const char *expected)
{
    ru_txn_t txn;
    assert_int_equal(ru_store_read(s_t.node.store, &txn), RU_OK);
    ru_view_t v = {&s_t.node, &txn, NULL};
    s_seen seen = {"", 0};
    assert_int_equal(ru_notify_each(&v, u, s_on_notification, &seen), RU_OK);
    ru_txn_abort(&txn);
    assert_string_equal(seen.text, expected);
}

/*  How many notifications user has stored (hidden ones included). */
static int
s_count(const char *user)
{
    ru_txn_t txn;
    uint8_t prefix[RU_NOTIFY_KEY_MAX];
    size_t plen = ru_notify_key(prefix, user, 0) - 8;
    assert_int_equal(ru_store_read(s_t.node.store, &txn), RU_OK);
    MDB_cursor *cur;
    assert_int_equal(mdb_cursor_open(txn.txn, ru_store_dbi(txn.store, RU_DB_notifs), &cur), 0);
    MDB_val k = {plen, prefix}, v;
    int n = 0;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == 0 && k.mv_size > plen && memcmp(k.mv_data, prefix, plen) == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        n++;
    mdb_cursor_close(cur);
    ru_txn_abort(&txn);
    return n;
}

static void
test_mentions_and_replies(void **state)
{
    (void) state;
    ru_update_t post, mention, self, reply, both, remote, bare, del;
    s_make(&post, 0, RU_KIND_POST, "alice", "hello", NULL);
    s_expect_each(&post, "");
    s_make(&mention, 0, RU_KIND_POST, "bob", "hi @alice, @alice and @nobody", NULL);
    s_expect_each(&mention, "alice:mention");
    s_make(&self, 0, RU_KIND_POST, "alice", "note to @alice", NULL);
    s_expect_each(&self, "");
    s_make(&reply, 0, RU_KIND_REPLY, "bob", "nice", &post);
    s_expect_each(&reply, "alice:reply");
    s_make(&both, 1, RU_KIND_REPLY, "zoe", "@alice@paris and @bob@paris", &post);
    s_expect_each(&both, "alice:mention bob:mention");
    s_make(&remote, 1, RU_KIND_POST, "zoe", "@alice@paris from afar", NULL);
    s_expect_each(&remote, "alice:mention");
    s_make(&bare, 1, RU_KIND_POST, "zoe", "@alice of nozay", NULL);
    s_expect_each(&bare, "");
    assert_int_equal(s_count("alice"), 4);
    assert_int_equal(s_count("bob"), 1);
    s_make(&del, 0, RU_KIND_DELETE, "bob", "", &mention);
    s_expect_each(&mention, ""); /* its status is gone: hidden */
    ru_update_t *all[] = {&post, &mention, &self, &reply, &both, &remote, &bare, &del};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        ru_update_fini(all[i]);
}

static void
test_likes_follows_edits(void **state)
{
    (void) state;
    ru_update_t post, like, own, unlike, follow, unfollow, plain, edit, edit2;
    s_make(&post, 0, RU_KIND_POST, "alice", "like me", NULL);
    int before = s_count("alice");
    s_make(&like, 1, RU_KIND_LIKE, "zoe", "", &post);
    s_expect_each(&like, "alice:favourite");
    s_make(&own, 0, RU_KIND_LIKE, "alice", "", &post);
    s_expect_each(&own, "");
    assert_int_equal(s_count("alice"), before + 1);
    s_make(&unlike, 1, RU_KIND_UNLIKE, "zoe", "", &post);
    s_expect_each(&unlike, "");
    s_expect_each(&like, "");
    assert_int_equal(s_count("alice"), before);

    s_follow(&follow, RU_KIND_FOLLOW, "bob");
    s_expect_each(&follow, "bob:follow");
    s_follow(&unfollow, RU_KIND_UNFOLLOW, "bob");
    s_expect_each(&unfollow, "");
    s_expect_each(&follow, "");
    assert_int_equal(s_count("bob"), 0);

    s_make(&plain, 0, RU_KIND_POST, "bob", "plain", NULL);
    s_make(&edit, 0, RU_KIND_EDIT, "bob", "plain, @alice", &plain);
    s_expect_each(&edit, "alice:mention");
    s_make(&edit2, 0, RU_KIND_EDIT, "bob", "plain, @alice!", &plain);
    s_expect_each(&edit2, ""); /* told already */
    ru_update_t *all[] = {&post, &like, &own, &unlike, &follow, &unfollow, &plain, &edit, &edit2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        ru_update_fini(all[i]);
}

static void
test_dismiss_and_clear(void **state)
{
    (void) state;
    ru_update_t a, b;
    s_make(&a, 0, RU_KIND_POST, "alice", "@bob one", NULL);
    s_make(&b, 0, RU_KIND_POST, "bob", "@alice two", NULL);
    int n = s_count("bob");
    assert_int_equal(n, 1);
    ru_txn_t txn;
    assert_int_equal(ru_store_write(s_t.node.store, &txn), RU_OK);
    assert_int_equal(ru_notify_dismiss(&txn, "bob", 1), RU_E_NOT_FOUND);
    assert_int_equal(ru_txn_commit(&txn), RU_OK);
    assert_int_equal(s_count("bob"), n);
    assert_int_equal(ru_store_write(s_t.node.store, &txn), RU_OK);
    assert_int_equal(ru_notify_clear(&txn, "bob"), RU_OK);
    assert_int_equal(ru_txn_commit(&txn), RU_OK);
    assert_int_equal(s_count("bob"), 0);
    assert_int_equal(s_count("alice"), 1); /* only bob's are cleared */
    s_expect_each(&a, "");
    ru_update_fini(&a);
    ru_update_fini(&b);
}

static void
test_names(void **state)
{
    (void) state;
    assert_string_equal(ru_notify_type_name(RU_NOTIFY_MENTION), "mention");
    assert_string_equal(ru_notify_type_name(RU_NOTIFY_FOLLOW), "follow");
    assert_null(ru_notify_type_name(0));
    assert_int_equal(ru_notify_type_from_name("favourite"), RU_NOTIFY_FAVOURITE);
    assert_int_equal(ru_notify_type_from_name("reblog"), 0);
    ru_notify_rec_t rec;
    uint8_t junk[4] = {1, 2, 3, 4};
    assert_int_equal(ru_notify_rec_decode(junk, sizeof junk, &rec), RU_E_STORE);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_mentions_and_replies, s_setup, testnode_teardown),
        cmocka_unit_test_setup_teardown(test_likes_follows_edits, s_setup, testnode_teardown),
        cmocka_unit_test_setup_teardown(test_dismiss_and_clear, s_setup, testnode_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
