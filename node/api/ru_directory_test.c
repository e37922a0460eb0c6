/*  ru_directory_test.c - finding people, on a real LMDB store: the
 *  profiles of two sites applied by the state machine, searched and
 *  ranked by the directory.
 *
 *  The seams: which account stands for an employee who moved must not
 *  depend on the order their two profiles arrive in (sites hear updates
 *  in different orders); a departed employee, an old account, a user who
 *  never set a profile but posted; a changed title leaves its old words
 *  behind in the index, which must not find them any more.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ru_dbkey.h"
#include "ru_directory.h"
#include "ru_search.h"
#include "testnode.h"

/*  A profile of name with a person (dir_id, title, skills comma-free,
 *  departed), applied as made here or at nozay (remote). */
static void
s_profile(testnode_t *t, int remote, const char *name, const char *display, const char *dir_id,
          const char *title, const char *skill, int departed)
{
    ru_update_t u;
    ru_update_init(&u);
    u.kind = RU_KIND_PROFILE;
    u.author = testnode_str(name);
    u.display_name = testnode_str(display);
    u.note = testnode_str("");
    u.has_person = 1;
    u.person.dir_id = testnode_str(dir_id);
    u.person.title = testnode_str(title);
    u.person.site = testnode_str(remote ? "Nozay" : "Paris");
    u.person.n_skills = skill ? 1 : 0;
    u.person.skills[0] = testnode_str(skill ? skill : "");
    u.person.departed = departed;
    assert_int_equal(testnode_apply(t, &u, remote), RU_OK);
    ru_update_fini(&u);
}

/*  The user names a search finds, space-separated; with why, each with
 *  its help match, "name:score/posts/skill/work". */
static const char *
s_list(testnode_t *t, const ru_directory_query_t *q, int why)
{
    static char out[2048];
    ru_txn_t txn;
    assert_int_equal(ru_store_read(t->node.store, &txn), RU_OK);
    ru_view_t v = {&t->node, &txn, "alice"};
    json_t *list = json_array();
    assert_int_equal(ru_directory_search(&v, q, list), RU_OK);
    ru_txn_abort(&txn);
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *a = json_array_get(list, i);
        json_t *m = json_object_get(json_object_get(a, "ruche"), "match");
        len += (size_t) snprintf(out + len, sizeof out - len, "%s%s", len ? " " : "",
                                 json_string_value(json_object_get(a, "username")));
        if (why)
            len += (size_t) snprintf(
                out + len, sizeof out - len, ":%lld/%lld/%lld/%lld",
                (long long) json_integer_value(json_object_get(m, "score")),
                (long long) json_integer_value(json_object_get(m, "posts")),
                (long long) json_integer_value(json_object_get(m, "skill")),
                (long long) json_integer_value(json_object_get(m, "work")));
    }
    json_decref(list);
    return out;
}

static const char *
s_find(testnode_t *t, const ru_directory_query_t *q)
{
    return s_list(t, q, 0);
}

static ru_directory_query_t
s_query(const char *q)
{
    ru_directory_query_t query;
    memset(&query, 0, sizeof query);
    query.q = q;
    query.limit = 40;
    query.max_candidates = 100000;
    query.help_posts = 1000;
    return query;
}

static int
s_setup(void **state)
{
    static testnode_t t;
    static const char *const users[] = {"alice", NULL};
    if (testnode_open(&t, users) != 0)
        return -1;
    *state = &t;
    return 0;
}

/*  The employee who moved is one entry, at the site whose profile is the
 *  later one, whichever arrived first; departed ones are nobody's. */
static void
test_moved_in_either_order(void **state)
{
    testnode_t *t = *state;
    /*  jdupont left nozay (departed) and arrived at paris later; mlefevre
     *  did the same, but paris's profile arrives before nozay's. */
    s_profile(t, 1, "jdupont", "Jeanne Dupont", "uid-1", "Juriste", NULL, 1);
    s_profile(t, 0, "jdupont", "Jeanne Dupont", "uid-1", "Juriste", NULL, 0);
    s_profile(t, 0, "mlefevre", "Marc Lefèvre", "uid-2", "Juriste", NULL, 0);
    s_profile(t, 1, "mlefevre", "Marc Lefèvre", "uid-2", "Juriste", NULL, 1);
    ru_directory_query_t q = s_query("juriste");
    assert_string_equal(s_find(t, &q), "jdupont mlefevre");
    ru_txn_t txn;
    assert_int_equal(ru_store_read(t->node.store, &txn), RU_OK);
    uint8_t key[RU_DBKEY_USER], now[RU_DBKEY_USER];
    size_t klen = ru_dbkey_user(key, ru_key_public(t->nozay), testnode_str("mlefevre"));
    assert_true(ru_directory_hidden(&txn, key, klen));
    size_t n = ru_search_dir_current(&txn, testnode_str("uid-2"), now);
    assert_int_equal(n, ru_dbkey_user(key, ru_key_public(t->node.key), testnode_str("mlefevre")));
    assert_memory_equal(now, key, n);
    ru_txn_abort(&txn);
    /*  Both still active (a move not yet published as a departure): the
     *  later profile stands for the employee. */
    s_profile(t, 1, "pmartin", "Paul Martin", "uid-3", "Comptable", NULL, 0);
    s_profile(t, 0, "pmartin", "Paul Martin", "uid-3", "Comptable", NULL, 0);
    q = s_query("comptable");
    assert_string_equal(s_find(t, &q), "pmartin");
    /*  Left without moving: found by nobody. */
    s_profile(t, 1, "zgone", "Zoé Partie", "uid-4", "Comptable", NULL, 1);
    q = s_query("zoe");
    assert_string_equal(s_find(t, &q), "");
}

/*  A new title: the old words stay in the index but find nobody; the
 *  filters and q; who can help. */
static void
test_search_and_help(void **state)
{
    testnode_t *t = *state;
    s_profile(t, 0, "ldubois", "Léa Dubois", "uid-10", "Ingénieure réseaux", "BGP", 0);
    s_profile(t, 1, "hrossi", "Hugo Rossi", "uid-11", "Photographe", "lumière", 0);
    ru_directory_query_t q = s_query("ingé rés");
    assert_string_equal(s_find(t, &q), "ldubois");
    s_profile(t, 0, "ldubois", "Léa Dubois", "uid-10", "Architecte cloud", "BGP", 0);
    assert_string_equal(s_find(t, &q), "");
    q = s_query(NULL);
    q.skill = "bgp";
    assert_string_equal(s_find(t, &q), "ldubois");
    q.site = "nozay";
    assert_string_equal(s_find(t, &q), "");
    q = s_query("hugo");
    q.local = 1;
    assert_string_equal(s_find(t, &q), "");
    q.local = 0;
    assert_string_equal(s_find(t, &q), "hrossi");
    /*  alice never set a profile but posts about #lumiere: she can help
     *  too, after the one who has the skill. */
    ru_update_t u;
    assert_int_equal(testnode_make(t, &u, 0, RU_KIND_POST, "alice", "Réglages #lumière",
                                   RU_VIS_PUBLIC, NULL),
                     RU_OK);
    ru_update_fini(&u);
    q = s_query(NULL);
    q.help = "lumière";
    assert_string_equal(s_find(t, &q), "hrossi alice");
    /*  what made each score: a skill; a status tagged */
    assert_string_equal(s_list(t, &q, 1), "hrossi:10/0/1/0 alice:1/1/0/0");
    q.help = "photographe lumière";
    assert_string_equal(s_list(t, &q, 1), "hrossi:13/0/1/1 alice:1/1/0/0");
    q.help = "lumière";
    q.help_posts = 0; /* statuses weigh nothing */
    assert_string_equal(s_find(t, &q), "hrossi");
}

/*  The bound on what one search reads. */
static void
test_candidates_bounded(void **state)
{
    testnode_t *t = *state;
    char name[32], id[32];
    for (int i = 0; i < 50; i++) {
        snprintf(name, sizeof name, "emp%02d", i);
        snprintf(id, sizeof id, "uid-emp-%d", i);
        s_profile(t, 0, name, "Employé", id, "Technicien", NULL, 0);
    }
    ru_directory_query_t q = s_query("technicien");
    q.limit = 80;
    size_t all = strlen(s_find(t, &q));
    q.max_candidates = 10;
    size_t some = strlen(s_find(t, &q));
    assert_true(some > 0 && some < all);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_moved_in_either_order, s_setup, testnode_teardown),
        cmocka_unit_test_setup_teardown(test_search_and_help, s_setup, testnode_teardown),
        cmocka_unit_test_setup_teardown(test_candidates_bounded, s_setup, testnode_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
