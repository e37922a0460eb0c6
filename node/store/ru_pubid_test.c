/*  ru_pubid_test.c - public ids: status ids round-trip to their timeline
 *  prefix and sort like the timeline (as numbers and, having one length
 *  for current times, as strings); malformed ids are refused; account and
 *  group ids are stable and fit in 63 bits. On a real store: a user whose
 *  key is as long as a group's ref (a name of 7 bytes) and a group are
 *  each found only as what they are, and a store of schema 1, whose ids
 *  had no kind, is upgraded when it opens and reads the same way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ru_dbkey.h"
#include "ru_pubid.h"
#include "ru_schema.h"
#include "testdir.h"

#define MIB (1024u * 1024u)

static void
test_status_round_trip_and_order(void **state)
{
    (void) state;
    uint8_t a[RU_KEY_BYTES], b[RU_KEY_BYTES], pos[RU_PUBID_POS], want[RU_PUBID_POS];
    memset(a, 0x01, sizeof a);
    memset(b, 0xfe, sizeof b);
    uint64_t t = (uint64_t) 1800000000000u << 16;
    char ida[RU_PUBID_SIZE], idb[RU_PUBID_SIZE], idc[RU_PUBID_SIZE];
    ru_pubid_status(t, a, ida);
    ru_pubid_status(t, b, idb);     /* same time, larger origin */
    ru_pubid_status(t + 1, a, idc); /* later */
    assert_int_equal(strlen(ida), strlen(idc));
    assert_true(strcmp(ida, idb) < 0);
    assert_true(strcmp(idb, idc) < 0);
    assert_int_equal(ru_pubid_status_parse(idb, pos), RU_OK);
    ru_dbkey_be64(want, t);
    memcpy(want + 8, b, 8);
    assert_memory_equal(pos, want, RU_PUBID_POS);
    uint8_t max[RU_KEY_BYTES];
    memset(max, 0xff, sizeof max);
    ru_pubid_status(UINT64_MAX, max, ida);
    assert_string_equal(ida, "340282366920938463463374607431768211455"); /* 2^128 - 1 */
    assert_int_equal(ru_pubid_status_parse(ida, pos), RU_OK);
    memset(want, 0xff, sizeof want);
    assert_memory_equal(pos, want, RU_PUBID_POS);
}

static void
test_status_refusals(void **state)
{
    (void) state;
    uint8_t pos[RU_PUBID_POS];
    const char *bad[] = {"",
                         "0123",
                         "12a",
                         "-5",
                         "340282366920938463463374607431768211456",
                         "1234567890123456789012345678901234567890",
                         " 1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ru_pubid_status_parse(bad[i], pos), RU_E_INVALID);
    assert_int_equal(ru_pubid_status_parse("0", pos), RU_OK);
}

static void
test_account_and_group_ids(void **state)
{
    (void) state;
    uint8_t home[RU_KEY_BYTES];
    memset(home, 0x42, sizeof home);
    uint64_t alice = ru_pubid_user(home, (ru_str_t){"alice", 5});
    assert_int_equal(alice, ru_pubid_user(home, (ru_str_t){"alice", 5}));
    assert_true(alice != ru_pubid_user(home, (ru_str_t){"alicf", 5}));
    assert_int_equal(alice >> 63, 0);
    ru_ref_t g = {{0}, 7};
    assert_int_equal(ru_pubid_group(&g) >> 63, 0);
    char text[RU_PUBID_SIZE];
    uint64_t back;
    ru_pubid_text(alice, text);
    assert_int_equal(ru_pubid_parse(text, &back), RU_OK);
    assert_int_equal(back, alice);
    const char *bad[] = {"", "01", "9223372036854775808", "12345678901234567890", "x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ru_pubid_parse(bad[i], &back), RU_E_INVALID);
}

static const ru_str_t s_bernard = {"bernard", 7};

/*  The group paris|seq 3 and the user bernard of paris: keys of one length. */
static void
s_subjects(uint8_t *paris, ru_ref_t *group)
{
    memset(paris, 0x5a, RU_KEY_BYTES);
    memcpy(group->origin, paris, RU_KEY_BYTES);
    group->seq = 3;
    uint8_t user[RU_DBKEY_USER], ref[RU_DBKEY_REF];
    assert_int_equal(ru_dbkey_user(user, paris, s_bernard), ru_dbkey_ref(ref, paris, 3));
}

/*  Each id answers as what it is, and only as that. */
static void
s_check_kinds(ru_store_t *store, const uint8_t *paris, const ru_ref_t *group)
{
    ru_txn_t txn;
    uint8_t key[RU_DBKEY_USER], want[RU_DBKEY_USER];
    size_t len;
    ru_ref_t ref;
    uint64_t uid = ru_pubid_user(paris, s_bernard), gid = ru_pubid_group(group);
    assert_int_equal(ru_store_read(store, &txn), RU_OK);
    assert_int_equal(ru_pubid_lookup_user(&txn, uid, key, &len), RU_OK);
    assert_int_equal(len, ru_dbkey_user(want, paris, s_bernard));
    assert_memory_equal(key, want, len);
    assert_int_equal(ru_pubid_lookup_group(&txn, gid, &ref), RU_OK);
    assert_memory_equal(ref.origin, paris, RU_KEY_BYTES);
    assert_int_equal(ref.seq, 3);
    assert_int_equal(ru_pubid_lookup_user(&txn, gid, key, &len), RU_E_NOT_FOUND);
    assert_int_equal(ru_pubid_lookup_group(&txn, uid, &ref), RU_E_NOT_FOUND);
    assert_true(ru_pubid_known_user(&txn, paris, s_bernard));
    ru_txn_abort(&txn);
}

/*  A new store in a new dir, and a write transaction on it. */
static ru_store_t *
s_new_store(char *dir, size_t size, ru_txn_t *txn)
{
    ru_store_t *store;
    assert_int_equal(testdir_make(dir, size), 0);
    assert_int_equal(ru_store_open(dir, MIB, 0, ru_schema_upgrades, &store), RU_OK);
    assert_int_equal(ru_store_write(store, txn), RU_OK);
    return store;
}

static void
test_ids_know_their_kind(void **state)
{
    (void) state;
    char dir[512];
    uint8_t paris[RU_KEY_BYTES];
    ru_ref_t group;
    ru_txn_t txn;
    s_subjects(paris, &group);
    ru_store_t *store = s_new_store(dir, sizeof dir, &txn);
    assert_int_equal(ru_pubid_note_user(&txn, paris, s_bernard), RU_OK);
    assert_int_equal(ru_pubid_note_group(&txn, &group), RU_OK);
    assert_int_equal(ru_txn_commit(&txn), RU_OK);
    s_check_kinds(store, paris, &group);
    ru_store_destroy(&store);
    testdir_remove(dir);
}

/*  Writes id -> key as schema 1 did: the key alone. */
static void
s_put_old(ru_txn_t *txn, uint64_t id, const uint8_t *key, size_t len)
{
    uint8_t k[8];
    ru_dbkey_be64(k, id);
    assert_int_equal(ru_txn_put(txn, RU_DB_ids, k, sizeof k, key, len), RU_OK);
}

static void
test_schema_1_store_upgraded(void **state)
{
    (void) state;
    char dir[512];
    uint8_t paris[RU_KEY_BYTES], key[RU_DBKEY_USER];
    ru_ref_t group;
    ru_txn_t txn;
    s_subjects(paris, &group);
    ru_store_t *store = s_new_store(dir, sizeof dir, &txn);
    uint32_t old = 1;
    assert_int_equal(ru_txn_put(&txn, RU_DB_meta, "schema", 6, &old, sizeof old), RU_OK);
    s_put_old(&txn, ru_pubid_user(paris, s_bernard), key, ru_dbkey_user(key, paris, s_bernard));
    s_put_old(&txn, ru_pubid_group(&group), key, ru_dbkey_ref(key, group.origin, group.seq));
    s_put_old(&txn, 42, (const uint8_t *) "junk", 4); /* no kind can be told: dropped */
    assert_int_equal(ru_txn_put(&txn, RU_DB_groups, key, RU_DBKEY_REF, "g", 1), RU_OK);
    for (uint64_t i = 0; i < 600; i++) { /* more than one page of the upgrade */
        char name[16];
        ru_str_t n = {name, (uint32_t) snprintf(name, sizeof name, "user%llu",
                                                (unsigned long long) i)};
        s_put_old(&txn, ru_pubid_user(paris, n), key, ru_dbkey_user(key, paris, n));
    }
    assert_int_equal(ru_txn_commit(&txn), RU_OK);
    ru_store_destroy(&store);

    assert_int_equal(ru_store_open(dir, MIB, 0, ru_schema_upgrades, &store), RU_OK);
    s_check_kinds(store, paris, &group);
    MDB_val val;
    size_t len;
    uint8_t k[8];
    ru_dbkey_be64(k, 42);
    assert_int_equal(ru_store_read(store, &txn), RU_OK);
    assert_int_equal(ru_txn_get(&txn, RU_DB_meta, "schema", 6, &val), RU_OK);
    uint32_t now;
    memcpy(&now, val.mv_data, sizeof now);
    assert_int_equal(now, RU_STORE_SCHEMA);
    assert_int_equal(ru_txn_get(&txn, RU_DB_ids, k, sizeof k, &val), RU_E_NOT_FOUND);
    ru_str_t last = {"user599", 7};
    assert_int_equal(ru_pubid_lookup_user(&txn, ru_pubid_user(paris, last), key, &len), RU_OK);
    ru_txn_abort(&txn);
    ru_store_destroy(&store);
    testdir_remove(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_round_trip_and_order),
        cmocka_unit_test(test_status_refusals),
        cmocka_unit_test(test_account_and_group_ids),
        cmocka_unit_test(test_ids_know_their_kind),
        cmocka_unit_test(test_schema_1_store_upgraded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
