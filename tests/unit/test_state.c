/*  test_state.c - what the state machine does at a large site's size, on
 *  a real LMDB store.
 *
 *  Home timelines: an author with 5,000 local followers (a site follows
 *  its executives by the thousand) reaches every one of them with a post,
 *  keeps every one with an edit, and leaves none with a delete. The
 *  followers are read from the store a page at a time; a page of 64 once
 *  stopped the fan-out at the 64th follower.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ru_dbkey.h"
#include "testnode.h"

#define FOLLOWERS 5000

static testnode_t s_t;
static char s_names[FOLLOWERS][8];

static int
s_setup(void **state)
{
    *state = &s_t;
    static const char *users[FOLLOWERS + 2];
    users[0] = "alice";
    for (int i = 0; i < FOLLOWERS; i++) {
        snprintf(s_names[i], sizeof s_names[i], "f%04d", i);
        users[i + 1] = s_names[i];
    }
    users[FOLLOWERS + 1] = NULL;
    return testnode_open(&s_t, users);
}

/*  Every follower follows alice, in one transaction. */
static void
s_follow_all(void)
{
    ru_txn_t txn;
    ru_buf_t out;
    ru_buf_init(&out);
    assert_int_equal(ru_store_write(s_t.node.store, &txn), RU_OK);
    ru_apply_t ap = {{&txn, ru_key_public(s_t.node.key), NULL, NULL}, &s_t.hlc, NULL, NULL};
    for (int i = 0; i < FOLLOWERS; i++) {
        ru_update_t u;
        ru_update_init(&u);
        u.kind = RU_KIND_FOLLOW;
        u.author = testnode_str(s_names[i]);
        memcpy(u.user.home, ru_key_public(s_t.node.key), RU_KEY_BYTES);
        u.user.name = testnode_str("alice");
        assert_int_equal(ru_apply_local(&ap, s_t.node.key, &u, &out), RU_OK);
        ru_update_fini(&u);
    }
    assert_int_equal(ru_txn_commit(&txn), RU_OK);
    ru_buf_fini(&out);
}

/*  Counts the home timeline entries of the status at pos, by user. */
typedef struct {
    const uint8_t *pos;
    int n;
    int alice;
} s_count;

static int
s_home_entry(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) val;
    s_count *c = ctx;
    const uint8_t *k = key->mv_data;
    if (key->mv_size > RU_DBKEY_POS &&
        memcmp(k + key->mv_size - RU_DBKEY_POS, c->pos, RU_DBKEY_POS) == 0) {
        c->n++;
        c->alice += strcmp((const char *) k, "alice") == 0;
    }
    return 0;
}

static s_count
s_homes_with(const ru_update_t *post)
{
    uint8_t pos[RU_DBKEY_POS];
    ru_dbkey_pos(pos, post->hlc, post->origin, post->seq);
    s_count c = {pos, 0, 0};
    ru_txn_t txn;
    assert_int_equal(ru_store_read(s_t.node.store, &txn), RU_OK);
    assert_int_equal(ru_txn_scan(&txn, RU_DB_home, NULL, 0, 0, s_home_entry, &c), RU_OK);
    ru_txn_abort(&txn);
    c.pos = NULL;
    return c;
}

static void
test_home_fan_out_reaches_every_follower(void **state)
{
    (void) state;
    s_follow_all();
    ru_update_t post, edit, del;
    assert_int_equal(testnode_make(&s_t, &post, 0, RU_KIND_POST, "alice", "Town hall at 3pm",
                                   RU_VIS_PUBLIC, NULL),
                     RU_OK);
    s_count c = s_homes_with(&post);
    assert_int_equal(c.alice, 1);
    assert_int_equal(c.n, FOLLOWERS + 1); /* every follower, and alice */
    assert_int_equal(testnode_make(&s_t, &edit, 0, RU_KIND_EDIT, "alice", "Town hall at 4pm",
                                   RU_VIS_PUBLIC, &post),
                     RU_OK);
    assert_int_equal(s_homes_with(&post).n, FOLLOWERS + 1);
    assert_int_equal(testnode_make(&s_t, &del, 0, RU_KIND_DELETE, "alice", "", RU_VIS_PUBLIC,
                                   &post),
                     RU_OK);
    assert_int_equal(s_homes_with(&post).n, 0);
    ru_update_fini(&post);
    ru_update_fini(&edit);
    ru_update_fini(&del);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_home_fan_out_reaches_every_follower, s_setup,
                                        testnode_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
