/*  test_catchup.c - serving catch-up (ru_catchup) in the answering node's
 *  apply order (ru_order), on real LMDB stores.
 *
 *  Three sites, paris, nozay and murray-hill, post, reply to and like each
 *  other's posts, each update delivered at once to the sites that are up,
 *  as the live stream does; a fourth, lyon, is up for the first updates,
 *  then cut off while the others make a few thousand more (and posts a
 *  few of its own). Then lyon asks paris for a catch-up, credit one batch
 *  at a time as the replication actor grants it, and ingests each batch
 *  with ru_apply in a transaction of its own. Served in paris's apply
 *  order, every update arrives after all it depends on: lyon parks none
 *  in pending, and ends with paris's clock and digest. (Served origin by
 *  origin, it parked most of them: a reply's site came before its post's.)
 *
 *  Then the seams: updates paris applies while it serves the catch-up
 *  (appended after what was sent) reach lyon in the same session; a
 *  store of schema 2, made before the index, gets positions in a causal
 *  order when it opens (ru_order_upgrade); and an update without a
 *  position is still served.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ruche/ru_msg.h"

#include "ru_apply.h"
#include "ru_catchup.h"
#include "ru_dbkey.h"
#include "ru_order.h"
#include "testdir.h"
#include "testrand.h"

#define MIB (1024u * 1024u)
#define SITES 4 /* paris, nozay, murray-hill; lyon is the last */
#define LYON (SITES - 1)
#define MAX_POSTS 8192
#define COMMIT_EVERY 250

static uint64_t s_rng = 0x9e3779b97f4a7c15u;

static uint64_t
s_rand(uint64_t n)
{
    return testrand(&s_rng, n);
}

typedef struct {
    char dir[512];
    ru_store_t *store;
    ru_key_t *key;
    ru_hlc_t hlc;
    ru_txn_t txn; /* open between commits */
    int up;
} s_site;

static s_site s_sites[SITES];
static ru_ref_t s_posts[MAX_POSTS]; /* posts every site that is up holds */
static int s_n_posts;

static ru_apply_t
s_applier(s_site *site)
{
    return (ru_apply_t){.state = {&site->txn, ru_key_public(site->key), NULL, NULL},
                        .hlc = &site->hlc};
}

/*  Opens site's store, in a new directory when fresh. */
static void
s_open(s_site *site, int fresh)
{
    if (fresh)
        assert_int_equal(testdir_make(site->dir, sizeof site->dir), 0);
    assert_int_equal(ru_store_open(site->dir, 64 * MIB, 0, &site->store), RU_OK);
    assert_int_equal(ru_store_write(site->store, &site->txn), RU_OK);
}

static void
s_commit(s_site *site)
{
    assert_int_equal(ru_txn_commit(&site->txn), RU_OK);
    assert_int_equal(ru_store_write(site->store, &site->txn), RU_OK);
}

static void
s_setup_sites(void)
{
    s_n_posts = 0;
    for (int i = 0; i < SITES; i++) {
        memset(&s_sites[i], 0, sizeof s_sites[i]);
        assert_int_equal(ru_key_generate(&s_sites[i].key), RU_OK);
        ru_hlc_init(&s_sites[i].hlc, RU_HLC_DEFAULT_SKEW_MS);
        s_open(&s_sites[i], 1);
        s_sites[i].up = 1;
    }
}

static void
s_close_sites(void)
{
    for (int i = 0; i < SITES; i++) {
        ru_txn_abort(&s_sites[i].txn);
        ru_store_destroy(&s_sites[i].store);
        ru_key_destroy(&s_sites[i].key);
        testdir_remove(s_sites[i].dir);
    }
}

/*  Ingests one envelope into site in its open transaction; the result. */
static ru_apply_result
s_ingest(s_site *site, const uint8_t *wire, size_t len)
{
    ru_envelope_t env;
    ru_update_t u;
    ru_update_init(&u);
    assert_int_equal(ru_envelope_parse(wire, len, &env), RU_OK);
    assert_int_equal(ru_update_decode(&env, &u), RU_OK);
    ru_apply_t ap = s_applier(site);
    ru_apply_result result;
    assert_int_equal(ru_apply_ingest(&ap, &env, &u, &result), RU_OK);
    ru_update_fini(&u);
    return result;
}

/*  Site i makes a post, a reply or a like and the sites that are up get
 *  it at once. A site that is down only posts, known to it alone. */
static void
s_make(int i)
{
    s_site *site = &s_sites[i];
    ru_update_t u;
    ru_update_init(&u);
    uint64_t pick = s_rand(10);
    u.kind = s_n_posts == 0 || !site->up || pick < 4 ? RU_KIND_POST : pick < 7 ? RU_KIND_REPLY : RU_KIND_LIKE;
    u.author = (ru_str_t){"alice", 5};
    u.text = (ru_str_t){"Point de situation #ops @bob", 28};
    if (u.kind != RU_KIND_POST)
        u.target = s_posts[s_rand((uint64_t) s_n_posts)];
    ru_buf_t out;
    ru_buf_init(&out);
    ru_apply_t ap = s_applier(site);
    assert_int_equal(ru_apply_local(&ap, site->key, &u, &out), RU_OK);
    if (u.kind != RU_KIND_LIKE && site->up && s_n_posts < MAX_POSTS) {
        memcpy(s_posts[s_n_posts].origin, u.origin, RU_KEY_BYTES);
        s_posts[s_n_posts++].seq = u.seq;
    }
    for (int j = 0; j < SITES && site->up; j++)
        if (j != i && s_sites[j].up)
            assert_int_equal(s_ingest(&s_sites[j], out.data, out.len), RU_APPLY_APPLIED);
    ru_buf_fini(&out);
    ru_update_fini(&u);
}

/*  rounds updates by the sites that are up, and lyon's own when down. */
static void
s_rounds(int rounds, int lyon_posts)
{
    for (int r = 0; r < rounds; r++) {
        s_make((int) s_rand(LYON));
        if (!s_sites[LYON].up && lyon_posts && s_rand(100) == 0)
            s_make(LYON);
        if (r % COMMIT_EVERY == 0)
            for (int i = 0; i < SITES; i++)
                s_commit(&s_sites[i]);
    }
    for (int i = 0; i < SITES; i++)
        s_commit(&s_sites[i]);
}

/*  A catch-up of asker from server as the replication actor runs it. */
typedef struct {
    s_site *asker;
    ru_catchup_t session;
    uint64_t received, parked, batches;
    int done;
} s_sync;

static void
s_on_message(void *ctx, const ru_buf_t *buf)
{
    s_sync *s = ctx;
    ru_msg_t msg;
    ru_msg_init(&msg);
    assert_int_equal(ru_msg_decode(buf->data, buf->len, &msg), RU_OK);
    if (msg.type == RU_MSG_DONE)
        s->done = 1;
    else {
        assert_int_equal(msg.type, RU_MSG_BATCH);
        s->batches++;
        for (uint32_t k = 0; k < msg.n_updates; k++) {
            ru_apply_result r = s_ingest(s->asker, msg.updates[k].wire, msg.updates[k].wire_len);
            s->received++;
            s->parked += r == RU_APPLY_PENDING;
        }
        s_commit(s->asker); /* the store actor commits each batch */
    }
    ru_msg_fini(&msg);
}

static void
s_sync_start(s_sync *s, s_site *asker)
{
    memset(s, 0, sizeof *s);
    s->asker = asker;
    ru_catchup_init(&s->session);
    ru_clock_t clock;
    ru_clock_init(&clock);
    assert_int_equal(ru_apply_clock(&asker->txn, &clock), RU_OK);
    assert_int_equal(ru_catchup_hello(&s->session, &clock, 1), RU_OK);
    ru_clock_fini(&clock);
}

/*  Serves one credit's worth (one batch, or done); 1 when done. */
static int
s_sync_step(s_sync *s, s_site *server)
{
    if (ru_catchup_pump(&s->session, server->store, s_on_message, s))
        return 1;
    ru_catchup_credit(&s->session, 1);
    return 0;
}

static void
s_sync_end(s_sync *s)
{
    assert_true(s->done);
    ru_catchup_fini(&s->session);
}

/*  The asker holds all that the server holds of the server's origins,
 *  nothing pending; with the same updates, the same digest. */
static void
s_assert_caught_up(s_site *asker, s_site *server, int same_digest)
{
    ru_clock_t a, b;
    ru_clock_init(&a);
    ru_clock_init(&b);
    uint8_t da[RU_HASH_BYTES], db[RU_HASH_BYTES];
    uint64_t pending;
    assert_int_equal(ru_apply_state(asker->store, &a, da), RU_OK);
    assert_int_equal(ru_apply_state(server->store, &b, db), RU_OK);
    for (uint32_t i = 0; i < b.n; i++)
        assert_true(ru_clock_get(&a, b.v[i].origin) >= b.v[i].seq);
    if (same_digest)
        assert_memory_equal(da, db, RU_HASH_BYTES);
    ru_txn_t txn;
    assert_int_equal(ru_store_read(asker->store, &txn), RU_OK);
    assert_int_equal(ru_txn_entries(&txn, RU_DB_pending, &pending), RU_OK);
    ru_txn_abort(&txn);
    assert_int_equal(pending, 0);
    ru_clock_fini(&a);
    ru_clock_fini(&b);
}

static void
test_served_in_apply_order(void **state)
{
    (void) state;
    s_setup_sites();
    s_rounds(300, 0);
    s_sites[LYON].up = 0;
    s_rounds(3000, 1);
    s_sync s;
    s_sync_start(&s, &s_sites[LYON]);
    while (!s_sync_step(&s, &s_sites[0]))
        ;
    s_sync_end(&s);
    printf("lyon caught up on %llu updates in %llu batches, parked %llu\n",
           (unsigned long long) s.received, (unsigned long long) s.batches,
           (unsigned long long) s.parked);
    assert_true(s.received >= 3000);
    assert_int_equal(s.parked, 0);
    s_assert_caught_up(&s_sites[LYON], &s_sites[0], 0);
    s_close_sites();
}

/*  Updates paris applies between two batches come after every position
 *  the session has passed: they are served in the same session. */
static void
test_applied_while_served(void **state)
{
    (void) state;
    s_setup_sites();
    s_sites[LYON].up = 0;
    s_rounds(1500, 0);
    s_sync s;
    s_sync_start(&s, &s_sites[LYON]);
    int steps = 0;
    while (!s_sync_step(&s, &s_sites[0]))
        if (++steps % 2 == 0)
            s_rounds(100, 0);
    s_sync_end(&s);
    assert_int_equal(s.parked, 0);
    s_assert_caught_up(&s_sites[LYON], &s_sites[0], 1);
    s_close_sites();
}

/*  Makes site's store one of schema 2: no apply-order index. */
static void
s_make_schema_2(s_site *site)
{
    MDB_dbi dbi = ru_store_dbi(site->store, RU_DB_order);
    assert_int_equal(mdb_drop(site->txn.txn, dbi, 0), 0);
    assert_int_equal(ru_txn_del(&site->txn, RU_DB_meta, "order_next", 10), RU_OK);
    uint32_t old = 2;
    assert_int_equal(ru_txn_put(&site->txn, RU_DB_meta, "schema", 6, &old, sizeof old), RU_OK);
    assert_int_equal(ru_txn_commit(&site->txn), RU_OK);
    ru_store_destroy(&site->store);
}

/*  Every dependency of every update in the log has a smaller position. */
typedef struct {
    ru_txn_t *txn;
    uint64_t pos;
    uint64_t updates;
} s_causal;

static int
s_dep_before(void *ctx, const uint8_t *origin, uint64_t seq)
{
    s_causal *c = ctx;
    uint64_t pos;
    assert_int_equal(ru_order_pos(c->txn, origin, seq, &pos), RU_OK);
    assert_true(pos < c->pos);
    return 0;
}

static int
s_check_entry(void *ctx, const MDB_val *key, const MDB_val *val)
{
    s_causal *c = ctx;
    ru_envelope_t env;
    ru_update_t u;
    ru_update_init(&u);
    assert_int_equal(ru_envelope_parse(val->mv_data, val->mv_size, &env), RU_OK);
    assert_int_equal(ru_update_decode(&env, &u), RU_OK);
    const uint8_t *k = key->mv_data;
    assert_int_equal(ru_order_pos(c->txn, k, ru_dbkey_get64(k + RU_KEY_BYTES), &c->pos), RU_OK);
    ru_apply_each_dep(&u, s_dep_before, c);
    ru_update_fini(&u);
    c->updates++;
    return 0;
}

static void
test_schema_2_store_upgraded(void **state)
{
    (void) state;
    s_setup_sites();
    s_sites[LYON].up = 0;
    s_rounds(2000, 0);
    s_site *paris = &s_sites[0];
    s_make_schema_2(paris);
    s_open(paris, 0);
    s_causal c = {&paris->txn, 0, 0};
    assert_int_equal(ru_txn_scan(&paris->txn, RU_DB_log, NULL, 0, 0, s_check_entry, &c), RU_OK);
    assert_int_equal(c.updates, 2000);
    s_commit(paris);
    s_sync s;
    s_sync_start(&s, &s_sites[LYON]);
    while (!s_sync_step(&s, paris))
        ;
    s_sync_end(&s);
    assert_int_equal(s.parked, 0);
    s_assert_caught_up(&s_sites[LYON], paris, 1);
    s_close_sites();
}

/*  An update the index lacks (it cannot, but the log is what counts) is
 *  served all the same, after those with positions. */
static void
test_update_without_position_served(void **state)
{
    (void) state;
    s_setup_sites();
    s_sites[LYON].up = 0;
    s_rounds(600, 0);
    s_site *paris = &s_sites[0];
    uint8_t key[RU_DBKEY_REF];
    const uint8_t *nozay = ru_key_public(s_sites[1].key);
    assert_int_equal(ru_txn_del(&paris->txn, RU_DB_order, key, ru_dbkey_ref(key, nozay, 5)),
                     RU_OK);
    s_commit(paris);
    s_sync s;
    s_sync_start(&s, &s_sites[LYON]);
    while (!s_sync_step(&s, paris))
        ;
    s_sync_end(&s);
    s_assert_caught_up(&s_sites[LYON], paris, 1);
    s_close_sites();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_served_in_apply_order),
        cmocka_unit_test(test_applied_while_served),
        cmocka_unit_test(test_schema_2_store_upgraded),
        cmocka_unit_test(test_update_without_position_served),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
