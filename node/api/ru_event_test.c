/*  ru_event_test.c - the status event of an update, on a real store: its
 *  payload rendered once per viewer and kept for every later ask, for a
 *  thousand viewers (the table grows under them), each seeing the status
 *  as they do (their own "favourited"), and the streams that carry it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ru_event.h"
#include "testnode.h"

#define S_VIEWERS 1000

static testnode_t s_t;

static int
s_setup(void **state)
{
    static const char *const users[] = {"alice", "bob", NULL};
    *state = &s_t;
    return testnode_open(&s_t, users);
}

static void
test_payload_once_per_viewer(void **state)
{
    (void) state;
    ru_update_t post, like;
    assert_int_equal(
        testnode_make(&s_t, &post, 0, RU_KIND_POST, "alice", "hello #all", RU_VIS_PUBLIC, NULL),
        RU_OK);
    assert_int_equal(testnode_make(&s_t, &like, 0, RU_KIND_LIKE, "bob", "", RU_VIS_PUBLIC, &post),
                     RU_OK);
    ru_txn_t txn;
    assert_int_equal(ru_store_read(s_t.node.store, &txn), RU_OK);
    ru_event_t *ev = NULL;
    assert_int_equal(ru_event_new(&s_t.node, &txn, &post, &ev), RU_OK);
    assert_non_null(ev);
    assert_string_equal(ru_event_name(ev), "update");
    assert_true(ru_event_wants(ev, RU_STREAM_PUBLIC, NULL, NULL));
    assert_true(ru_event_wants(ev, RU_STREAM_HASHTAG, "all", "bob"));
    assert_false(ru_event_wants(ev, RU_STREAM_HASHTAG, "none", "bob"));

    const char *anon = ru_event_payload(ev, NULL);
    const char *bob = ru_event_payload(ev, "bob");
    assert_non_null(anon);
    assert_non_null(bob);
    assert_non_null(strstr(bob, "\"favourited\":true"));
    assert_non_null(strstr(anon, "\"favourited\":false"));
    const char *first[S_VIEWERS];
    char name[32];
    for (int i = 0; i < S_VIEWERS; i++) {
        snprintf(name, sizeof name, "viewer%d", i);
        first[i] = ru_event_payload(ev, name);
        assert_non_null(first[i]);
        assert_non_null(strstr(first[i], "\"favourited\":false"));
    }
    for (int i = 0; i < S_VIEWERS; i++) { /* asked again: the same rendering */
        snprintf(name, sizeof name, "viewer%d", i);
        assert_ptr_equal(ru_event_payload(ev, name), first[i]);
    }
    assert_ptr_equal(ru_event_payload(ev, "bob"), bob);
    assert_ptr_equal(ru_event_payload(ev, ""), anon); /* "" is nobody signed in */
    char too_long[RU_MAX_NAME + 2];
    memset(too_long, 'x', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = 0;
    assert_null(ru_event_payload(ev, too_long));
    ru_event_destroy(&ev);
    assert_null(ev);
    ru_txn_abort(&txn);
    ru_update_fini(&post);
    ru_update_fini(&like);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_payload_once_per_viewer, s_setup, testnode_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
