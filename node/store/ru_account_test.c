/*  ru_account_test.c - account records on a real store: where an account
 *  comes from (local, or a directory's person with its stable id and no
 *  local password) reads back as written and survives an update of its
 *  flags; records written before accounts had a source read as local;
 *  a directory's account takes no name that is taken, and no password
 *  verifies against it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "ruche/ru_mp.h"

#include "ru_account.h"
#include "ru_schema.h"
#include "testdir.h"

#define MIB (1024u * 1024u)

static char s_dir[256];
static ru_store_t *s_store;

static int
s_setup(void **state)
{
    (void) state;
    if (testdir_make(s_dir, sizeof s_dir) ||
        ru_store_open(s_dir, 16 * MIB, 0, ru_schema_upgrades, &s_store) != RU_OK)
        return -1;
    return 0;
}

static int
s_teardown(void **state)
{
    (void) state;
    ru_store_destroy(&s_store);
    testdir_remove(s_dir);
    return 0;
}

/*  A record of the form older versions wrote: n fields (3 or 4). */
static void
s_put_old(ru_txn_t *txn, const char *name, int n)
{
    ru_buf_t buf;
    msgpack_packer pk;
    ru_buf_init(&buf);
    ru_mp_packer_init(&pk, &buf);
    msgpack_pack_array(&pk, (size_t) n);
    msgpack_pack_str(&pk, 4);
    msgpack_pack_str_body(&pk, "$old", 4);
    msgpack_pack_uint8(&pk, 1);
    msgpack_pack_uint64(&pk, 42);
    if (n == 4)
        msgpack_pack_uint8(&pk, 1);
    assert_int_equal(ru_txn_put(txn, RU_DB_users, name, strlen(name), buf.data, buf.len), RU_OK);
    ru_buf_fini(&buf);
}

static void
test_sources(void **state)
{
    (void) state;
    ru_txn_t txn;
    ru_account_t a;
    char hash[RU_PWHASH_SIZE];
    assert_int_equal(ru_store_write(s_store, &txn), RU_OK);
    assert_int_equal(ru_account_create(&txn, "admin", "$argon2id$x", 1, 7), RU_OK);
    ru_account_t dir = {.name = "jdupont", .admin = 1, .created_ms = 9,
                        .source = RU_ACCOUNT_LDAP, .dir_id = "0c8e2a4e-86f0-1041-94b2-bdc494505979"};
    assert_int_equal(ru_account_create_directory(&txn, &dir), RU_OK);
    assert_int_equal(ru_account_create_directory(&txn, &dir), RU_E_EXISTS);
    snprintf(dir.name, sizeof dir.name, "admin");
    assert_int_equal(ru_account_create_directory(&txn, &dir), RU_E_EXISTS); /* never merged */
    snprintf(dir.name, sizeof dir.name, "Bad*Name");
    assert_int_equal(ru_account_create_directory(&txn, &dir), RU_E_NAME);
    dir.source = RU_ACCOUNT_LOCAL;
    snprintf(dir.name, sizeof dir.name, "other");
    assert_int_equal(ru_account_create_directory(&txn, &dir), RU_E_INVALID);
    s_put_old(&txn, "three", 3);
    s_put_old(&txn, "four", 4);
    assert_int_equal(ru_txn_commit(&txn), RU_OK);

    assert_int_equal(ru_store_write(s_store, &txn), RU_OK);
    assert_int_equal(ru_account_get(&txn, "jdupont", &a), RU_OK);
    assert_int_equal(a.source, RU_ACCOUNT_LDAP);
    assert_string_equal(a.dir_id, "0c8e2a4e-86f0-1041-94b2-bdc494505979");
    assert_int_equal(a.admin, 1);
    assert_int_equal(a.created_ms, 9);
    assert_int_equal(ru_account_get_hash(&txn, "jdupont", hash), RU_OK);
    assert_string_equal(hash, "");
    assert_int_equal(ru_account_verify(hash, ""), RU_E_INVALID);
    assert_int_equal(ru_account_verify(hash, "anything"), RU_E_INVALID);
    assert_int_equal(ru_account_update(&txn, "jdupont", NULL, 0, 1), RU_OK);
    assert_int_equal(ru_account_get(&txn, "jdupont", &a), RU_OK);
    assert_int_equal(a.admin, 0);
    assert_int_equal(a.disabled, 1);
    assert_int_equal(a.source, RU_ACCOUNT_LDAP); /* kept */
    assert_string_equal(a.dir_id, "0c8e2a4e-86f0-1041-94b2-bdc494505979");
    assert_int_equal(ru_account_get(&txn, "admin", &a), RU_OK);
    assert_int_equal(a.source, RU_ACCOUNT_LOCAL);
    assert_string_equal(a.dir_id, "");
    assert_int_equal(ru_account_get(&txn, "three", &a), RU_OK);
    assert_int_equal(a.source, RU_ACCOUNT_LOCAL);
    assert_int_equal(a.disabled, 0);
    assert_int_equal(ru_account_get(&txn, "four", &a), RU_OK);
    assert_int_equal(a.source, RU_ACCOUNT_LOCAL);
    assert_int_equal(a.disabled, 1);
    assert_int_equal(ru_account_get_hash(&txn, "four", hash), RU_OK);
    assert_string_equal(hash, "$old");
    ru_txn_abort(&txn);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sources),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
