/*  ru_store_test.c - the LMDB store: schema check, put/get/delete, prefix
 *  scans both ways and from a key on, the state digest (order-independent,
 *  replicated databases only), durability across reopen, map growth and the
 *  size limit that fails a write without harming what is stored. The
 *  digest computed anew from the records equals the one kept with the
 *  writes, until a record changes behind the store's back: then a read-only
 *  check sees it and a restore of that copy is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ru_restore.h"
#include "ru_schema.h"
#include "ru_store.h"
#include "testdir.h"

#define MIB (1024u * 1024u)

static char s_dir[512];

static int
s_setup(void **state)
{
    (void) state;
    return testdir_make(s_dir, sizeof s_dir);
}

static int
s_teardown(void **state)
{
    (void) state;
    testdir_remove(s_dir);
    return 0;
}

static ru_store_t *
s_open(size_t size, size_t max)
{
    ru_store_t *store;
    assert_int_equal(ru_store_open(s_dir, size, max, ru_schema_upgrades, &store), RU_OK);
    return store;
}

static void
s_put(ru_store_t *store, ru_db db, const char *key, const char *val)
{
    ru_txn_t txn;
    assert_int_equal(ru_store_write(store, &txn), RU_OK);
    assert_int_equal(ru_txn_put(&txn, db, key, strlen(key), val, strlen(val)), RU_OK);
    assert_int_equal(ru_txn_commit(&txn), RU_OK);
}

static void
s_digest(ru_store_t *store, uint8_t *digest)
{
    ru_txn_t txn;
    assert_int_equal(ru_store_read(store, &txn), RU_OK);
    assert_int_equal(ru_txn_digest(&txn, digest), RU_OK);
    ru_txn_abort(&txn);
}

static void
test_put_get_del_and_reopen(void **state)
{
    (void) state;
    ru_store_t *store = s_open(MIB, 0);
    s_put(store, RU_DB_posts, "k1", "v1");
    ru_store_destroy(&store);
    assert_null(store);
    store = s_open(MIB, 0); /* committed means durable */
    ru_txn_t txn;
    MDB_val val;
    assert_int_equal(ru_store_read(store, &txn), RU_OK);
    assert_int_equal(ru_txn_get(&txn, RU_DB_posts, "k1", 2, &val), RU_OK);
    assert_int_equal(val.mv_size, 2);
    assert_memory_equal(val.mv_data, "v1", 2);
    assert_int_equal(ru_txn_get(&txn, RU_DB_posts, "k2", 2, &val), RU_E_NOT_FOUND);
    ru_txn_abort(&txn);
    assert_int_equal(ru_store_write(store, &txn), RU_OK);
    assert_int_equal(ru_txn_del(&txn, RU_DB_posts, "k1", 2), RU_OK);
    assert_int_equal(ru_txn_del(&txn, RU_DB_posts, "k1", 2), RU_OK); /* missing: fine */
    ru_txn_abort(&txn);                                              /* aborted: nothing changed */
    assert_int_equal(ru_store_read(store, &txn), RU_OK);
    assert_int_equal(ru_txn_get(&txn, RU_DB_posts, "k1", 2, &val), RU_OK);
    ru_txn_abort(&txn);
    ru_store_destroy(&store);
}

typedef struct {
    char seen[16][8];
    int n;
} s_seen;

static int
s_record(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) val;
    s_seen *s = ctx;
    snprintf(s->seen[s->n], sizeof s->seen[0], "%.*s", (int) key->mv_size,
             (const char *) key->mv_data);
    return ++s->n == 16;
}

static void
test_prefix_scans(void **state)
{
    (void) state;
    ru_store_t *store = s_open(MIB, 0);
    const char *keys[] = {"a", "b1", "b2", "b\xff", "b3", "c"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        s_put(store, RU_DB_tags, keys[i], "");
    ru_txn_t txn;
    assert_int_equal(ru_store_read(store, &txn), RU_OK);
    s_seen fwd = {0}, back = {0}, all = {0};
    assert_int_equal(ru_txn_scan(&txn, RU_DB_tags, "b", 1, 0, s_record, &fwd), RU_OK);
    assert_int_equal(fwd.n, 4);
    assert_string_equal(fwd.seen[0], "b1");
    assert_string_equal(fwd.seen[3], "b\xff");
    assert_int_equal(ru_txn_scan(&txn, RU_DB_tags, "b", 1, 1, s_record, &back), RU_OK);
    assert_int_equal(back.n, 4);
    assert_string_equal(back.seen[0], "b\xff");
    assert_string_equal(back.seen[3], "b1");
    assert_int_equal(ru_txn_scan(&txn, RU_DB_tags, "", 0, 1, s_record, &all), RU_OK);
    assert_int_equal(all.n, 6);
    assert_string_equal(all.seen[0], "c");
    s_seen after = {0}; /* a scan goes on after the last key it saw */
    assert_int_equal(ru_txn_scan_after(&txn, RU_DB_tags, "b", 1, "b2", 2, s_record, &after), RU_OK);
    assert_int_equal(after.n, 2);
    assert_string_equal(after.seen[0], "b3");
    s_seen gone = {0}; /* after a key that is not there: from the next one */
    assert_int_equal(ru_txn_scan_after(&txn, RU_DB_tags, "b", 1, "b20", 3, s_record, &gone), RU_OK);
    assert_int_equal(gone.n, 2);
    s_seen none = {0};
    assert_int_equal(ru_txn_scan(&txn, RU_DB_tags, "d", 1, 1, s_record, &none), RU_OK);
    assert_int_equal(none.n, 0);
    ru_txn_abort(&txn);
    ru_store_destroy(&store);
}

static void
test_digest_is_order_independent(void **state)
{
    (void) state;
    char dir_b[512];
    assert_int_equal(testdir_make(dir_b, sizeof dir_b), 0);
    ru_store_t *a = s_open(MIB, 0), *b;
    assert_int_equal(ru_store_open(dir_b, MIB, 0, ru_schema_upgrades, &b), RU_OK);
    uint8_t empty[RU_HASH_BYTES], da[RU_HASH_BYTES], db[RU_HASH_BYTES];
    s_digest(a, empty);
    /* the same final records, written in other orders and with detours */
    s_put(a, RU_DB_posts, "p1", "one");
    s_put(a, RU_DB_likes, "l1", "");
    s_put(a, RU_DB_posts, "p2", "two");
    s_put(b, RU_DB_posts, "p2", "draft");
    s_put(b, RU_DB_posts, "p9", "gone");
    s_put(b, RU_DB_likes, "l1", "");
    s_put(b, RU_DB_posts, "p1", "one");
    s_put(b, RU_DB_posts, "p2", "two");
    s_put(b, RU_DB_home, "local", "index"); /* local: not in the digest */
    ru_txn_t txn;
    assert_int_equal(ru_store_write(b, &txn), RU_OK);
    assert_int_equal(ru_txn_del(&txn, RU_DB_posts, "p9", 2), RU_OK);
    assert_int_equal(ru_txn_commit(&txn), RU_OK);
    s_digest(a, da);
    s_digest(b, db);
    assert_memory_equal(da, db, RU_HASH_BYTES);
    assert_memory_not_equal(da, empty, RU_HASH_BYTES);
    s_put(b, RU_DB_posts, "p2", "two!"); /* any difference shows */
    s_digest(b, db);
    assert_memory_not_equal(da, db, RU_HASH_BYTES);
    ru_store_destroy(&a);
    ru_store_destroy(&b);
    testdir_remove(dir_b);
}

/*  Writes 64 KiB values until the store refuses one; returns how many. */
static int
s_fill(ru_store_t *store, ru_err *last)
{
    static char big[64 * 1024];
    memset(big, 'x', sizeof big);
    for (int i = 0; i < 1000; i++) {
        char key[16];
        snprintf(key, sizeof key, "big%04d", i);
        ru_txn_t txn;
        assert_int_equal(ru_store_write(store, &txn), RU_OK);
        *last = ru_txn_put(&txn, RU_DB_log, key, strlen(key), big, sizeof big);
        if (*last == RU_OK)
            *last = ru_txn_commit(&txn);
        else
            ru_txn_abort(&txn);
        if (*last == RU_E_STORE_FULL && ru_store_grow(store) == RU_OK) {
            i--; /* grown: the same write again */
            continue;
        }
        if (*last != RU_OK)
            return i;
    }
    return 1000;
}

static void
test_grow_then_full(void **state)
{
    (void) state;
    ru_store_t *store = s_open(MIB, 8 * MIB);
    s_put(store, RU_DB_posts, "keep", "me");
    ru_err last = RU_OK;
    int written = s_fill(store, &last);
    assert_int_equal(last, RU_E_STORE_FULL);
    assert_int_equal(ru_store_map_size(store), 8 * MIB);
    assert_true(written > 50); /* grew from 1 MiB: more than 16 values fit */
    assert_true(written < 128);
    ru_txn_t txn;
    MDB_val val;
    assert_int_equal(ru_store_read(store, &txn), RU_OK);
    assert_int_equal(ru_txn_get(&txn, RU_DB_posts, "keep", 4, &val), RU_OK);
    assert_int_equal(ru_txn_get(&txn, RU_DB_log, "big0000", 7, &val), RU_OK);
    assert_int_equal(val.mv_size, 64 * 1024);
    ru_txn_abort(&txn);
    ru_store_destroy(&store);
}

static void
test_schema_mismatch_refused(void **state)
{
    (void) state;
    ru_store_t *store = s_open(MIB, 0);
    uint32_t future = RU_STORE_SCHEMA + 1;
    ru_txn_t txn;
    assert_int_equal(ru_store_write(store, &txn), RU_OK);
    assert_int_equal(ru_txn_put(&txn, RU_DB_meta, "schema", 6, &future, sizeof future), RU_OK);
    assert_int_equal(ru_txn_commit(&txn), RU_OK);
    ru_store_destroy(&store);
    assert_int_equal(ru_store_open(s_dir, MIB, 0, ru_schema_upgrades, &store), RU_E_SCHEMA);
    assert_null(store);
}

/*  A store of an older schema lacks the databases added since: a
 *  read-only open, which can neither upgrade nor make them, says so, and
 *  so does a write open given no upgrade steps; one given them upgrades. */
static void
test_older_schema_read_only(void **state)
{
    (void) state;
    ru_store_t *store = s_open(MIB, 0);
    uint32_t older = RU_STORE_SCHEMA - 1;
    ru_txn_t txn;
    MDB_dbi last;
    assert_int_equal(ru_store_write(store, &txn), RU_OK);
    assert_int_equal(ru_txn_put(&txn, RU_DB_meta, "schema", 6, &older, sizeof older), RU_OK);
    assert_int_equal(mdb_dbi_open(txn.txn, "dirids", 0, &last), 0); /* schema 7's */
    assert_int_equal(mdb_drop(txn.txn, last, 1), 0);
    assert_int_equal(ru_txn_commit(&txn), RU_OK);
    ru_store_destroy(&store);
    assert_int_equal(ru_store_open_readonly(s_dir, &store), RU_E_SCHEMA);
    assert_null(store);
    assert_int_equal(ru_store_open(s_dir, MIB, 0, NULL, &store), RU_E_SCHEMA);
    assert_null(store);
    assert_int_equal(ru_store_open(s_dir, MIB, 0, ru_schema_upgrades, &store),
                     RU_OK); /* upgraded */
    ru_store_destroy(&store);
    assert_int_equal(ru_store_open_readonly(s_dir, &store), RU_OK);
    ru_store_destroy(&store);
}

/*  The digest recomputed and the one kept, from a read-only open. */
static int
s_digests_match(void)
{
    ru_store_t *ro;
    uint8_t a[RU_HASH_BYTES], b[RU_HASH_BYTES];
    int match;
    assert_int_equal(ru_store_open_readonly(s_dir, &ro), RU_OK);
    assert_int_equal(ru_restore_verify(ro, a, b, &match), RU_OK);
    ru_store_destroy(&ro);
    assert_int_equal(match, memcmp(a, b, RU_HASH_BYTES) == 0);
    return match;
}

static void
test_digest_recomputed_and_damage_refused(void **state)
{
    (void) state;
    char target[512], copy[600];
    ru_store_t *store;
    assert_int_equal(ru_store_open_readonly(s_dir, &store), RU_E_NOT_FOUND);
    assert_int_equal(testdir_make(target, sizeof target), 0);
    store = s_open(MIB, 0);
    s_put(store, RU_DB_posts, "p1", "one");
    s_put(store, RU_DB_posts, "p2", "two");
    s_put(store, RU_DB_posts, "p1", "one, edited");
    s_put(store, RU_DB_likes, "l1", "");
    s_put(store, RU_DB_home, "local", "not in the digest");
    ru_txn_t txn;
    assert_int_equal(ru_store_write(store, &txn), RU_OK);
    assert_int_equal(ru_txn_del(&txn, RU_DB_likes, "l1", 2), RU_OK);
    assert_int_equal(ru_txn_commit(&txn), RU_OK);
    assert_true(s_digests_match()); /* read-only, beside the open store */

    assert_int_equal(ru_store_write(store, &txn), RU_OK); /* a record changed behind the sum */
    MDB_val k = {2, "p2"}, v = {3, "TWO"};
    assert_int_equal(mdb_put(txn.txn, ru_store_dbi(store, RU_DB_posts), &k, &v, 0), 0);
    assert_int_equal(ru_txn_commit(&txn), RU_OK);
    assert_false(s_digests_match());

    snprintf(copy, sizeof copy, "%s/backup.mdb", target);
    int fd = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ru_store_copy(store, fd), RU_OK);
    close(fd);
    ru_store_destroy(&store);
    ru_config_t cfg;
    ru_config_defaults(&cfg);
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s/node", target);
    assert_int_equal(mkdir(cfg.data_dir, 0700), 0);
    assert_int_equal(ru_restore(&cfg, copy, 0), RU_E_STORE);
    char restored[RU_CONFIG_PATH_MAX + 16];
    snprintf(restored, sizeof restored, "%s/data.mdb", cfg.data_dir);
    assert_int_equal(access(restored, F_OK), -1); /* the directory as it was */
    testdir_remove(target);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get_del_and_reopen, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_prefix_scans, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_digest_is_order_independent, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_digest_recomputed_and_damage_refused, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_grow_then_full, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_schema_mismatch_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_older_schema_read_only, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
