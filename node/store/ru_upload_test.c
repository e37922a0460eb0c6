/*  ru_upload_test.c - upload records on a real store: a record reads back
 *  as written, each user's uploads are found by owner and nobody else's
 *  are, a removed upload is gone from both, ids are never 0 and fit in
 *  63 bits, and a damaged record is damage, not an upload.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "ru_schema.h"
#include "ru_upload.h"
#include "testdir.h"

#define MIB (1024u * 1024u)

typedef struct {
    uint64_t ids[8];
    int n;
} s_seen;

static int
s_collect(void *ctx, uint64_t id)
{
    s_seen *s = ctx;
    if (s->n < 8)
        s->ids[s->n] = id;
    s->n++;
    return 0;
}

static ru_upload_t
s_rec(const char *owner, ru_upload_state state)
{
    static const uint8_t packed[] = {0x90};
    ru_upload_t r = {.owner = {owner, (uint32_t) strlen(owner)},
                     .created_ms = 1800000000000u,
                     .state = state,
                     .error = {"", 0},
                     .description = {"a whiteboard", 12},
                     .focus_x = 100,
                     .focus_y = 40,
                     .media = {packed, state == RU_UPLOAD_READY ? 1 : 0}};
    return r;
}

static void
test_records(void **state)
{
    (void) state;
    char dir[256];
    assert_int_equal(testdir_make(dir, sizeof dir), 0);
    ru_store_t *store = NULL;
    assert_int_equal(ru_store_open(dir, 16 * MIB, 0, ru_schema_upgrades, &store), RU_OK);
    ru_txn_t txn;
    assert_int_equal(ru_store_write(store, &txn), RU_OK);
    uint64_t a1 = ru_upload_new_id(), a2 = ru_upload_new_id(), b1 = ru_upload_new_id();
    assert_true(a1 != 0 && a1 < (UINT64_C(1) << 63) && a1 != a2);
    ru_upload_t r = s_rec("alice", RU_UPLOAD_READY);
    assert_int_equal(ru_upload_put(&txn, a1, &r), RU_OK);
    r = s_rec("alice", RU_UPLOAD_PROCESSING);
    assert_int_equal(ru_upload_put(&txn, a2, &r), RU_OK);
    r = s_rec("alicia", RU_UPLOAD_FAILED); /* a name alice's is the start of */
    r.error = (ru_str_t){"not an image", 12};
    assert_int_equal(ru_upload_put(&txn, b1, &r), RU_OK);
    assert_int_equal(ru_txn_commit(&txn), RU_OK);

    assert_int_equal(ru_store_read(store, &txn), RU_OK);
    ru_upload_t got;
    assert_int_equal(ru_upload_get(&txn, a1, &got), RU_OK);
    assert_int_equal(got.state, RU_UPLOAD_READY);
    assert_int_equal(got.media.len, 1);
    assert_int_equal(got.focus_y, 40);
    assert_memory_equal(got.description.ptr, "a whiteboard", 12);
    assert_int_equal(ru_upload_get(&txn, b1, &got), RU_OK);
    assert_int_equal(got.state, RU_UPLOAD_FAILED);
    assert_memory_equal(got.error.ptr, "not an image", 12);
    s_seen seen = {{0}, 0};
    assert_int_equal(ru_upload_each(&txn, "alice", s_collect, &seen), RU_OK);
    assert_int_equal(seen.n, 2);
    assert_true((seen.ids[0] == a1 && seen.ids[1] == a2) || (seen.ids[0] == a2 && seen.ids[1] == a1));
    seen.n = 0;
    assert_int_equal(ru_upload_each(&txn, NULL, s_collect, &seen), RU_OK);
    assert_int_equal(seen.n, 3);
    assert_int_equal(ru_upload_get(&txn, 12345, &got), RU_E_NOT_FOUND);
    ru_txn_abort(&txn);

    assert_int_equal(ru_store_write(store, &txn), RU_OK);
    assert_int_equal(ru_upload_del(&txn, a1, (ru_str_t){"alice", 5}), RU_OK);
    uint8_t key[8] = {0};
    key[7] = 9;
    assert_int_equal(ru_txn_put(&txn, RU_DB_uploads, key, 8, "\x93\x01", 2), RU_OK);
    assert_int_equal(ru_upload_get(&txn, 9, &got), RU_E_STORE);
    seen.n = 0;
    assert_int_equal(ru_upload_each(&txn, "alice", s_collect, &seen), RU_OK);
    assert_int_equal(seen.n, 1);
    assert_true(seen.ids[0] == a2);
    assert_int_equal(ru_upload_get(&txn, a1, &got), RU_E_NOT_FOUND);
    ru_txn_abort(&txn);
    ru_store_destroy(&store);
    testdir_remove(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
