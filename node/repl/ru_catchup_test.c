/*  ru_catchup_test.c - serving catch-up (ru_catchup) in the answering node's
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
 *  order when it opens (ru_order_rebuild); and an update without a
 *  position is still served.
 *
 *  Then what is served from pending: paris holds thousands of nozay's
 *  updates that wait for nozay's first, which nobody else has. lyon,
 *  which lacks it too, gets none of them (every one went to every asker
 *  at every catch-up before); nozay, recovering a lost store, gets all of
 *  its own; once lyon has the first, it gets the whole chain in one
 *  catch-up, a few seeks a batch at a time. And the updates of a forked
 *  origin that paris holds in quarantine go to nobody, not even to an
 *  asker that has all they depend on.
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
#include "ru_schema.h"
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
    assert_int_equal(ru_store_open(site->dir, 64 * MIB, 0, ru_schema_upgrades, &site->store),
                     RU_OK);
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
    uint64_t received, parked, batches, mores;
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

/*  Starts asker's catch-up, pending entries looked at walk a batch. */
static void
s_sync_start_walk(s_sync *s, s_site *asker, uint32_t walk)
{
    memset(s, 0, sizeof *s);
    s->asker = asker;
    ru_catchup_init(&s->session, walk);
    ru_clock_t clock;
    ru_clock_init(&clock);
    assert_int_equal(ru_apply_clock(&asker->txn, &clock), RU_OK);
    assert_int_equal(ru_catchup_hello(&s->session, &clock, ru_key_public(asker->key), 1), RU_OK);
    ru_clock_fini(&clock);
}

static void
s_sync_start(s_sync *s, s_site *asker)
{
    s_sync_start_walk(s, asker, 4096);
}

/*  Serves one credit's worth (one batch, or done), or one walk budget's;
 *  1 when done. */
static int
s_sync_step(s_sync *s, s_site *server)
{
    ru_catchup_step step = ru_catchup_pump(&s->session, server->store, s_on_message, s);
    if (step == RU_CATCHUP_WAIT)
        ru_catchup_credit(&s->session, 1);
    s->mores += step == RU_CATCHUP_MORE;
    return step == RU_CATCHUP_OVER;
}

static void
s_sync_end(s_sync *s)
{
    assert_true(s->done);
    ru_catchup_fini(&s->session);
}

/*  A whole catch-up of asker from server. */
static void
s_sync_all(s_sync *s, s_site *asker, s_site *server, uint32_t walk)
{
    s_sync_start_walk(s, asker, walk);
    while (!s_sync_step(s, server))
        ;
    s_sync_end(s);
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

#define PENDING 3000 /* nozay's updates paris holds waiting */

/*  site makes a post known to it alone; its wire is appended to out. */
static void
s_make_alone(s_site *site, ru_buf_t *out)
{
    ru_update_t u;
    ru_update_init(&u);
    u.kind = RU_KIND_POST;
    u.author = (ru_str_t){"alice", 5};
    u.text = (ru_str_t){"Point de situation", 18};
    ru_apply_t ap = s_applier(site);
    assert_int_equal(ru_apply_local(&ap, site->key, &u, out), RU_OK);
    ru_update_fini(&u);
}

/*  The updates of origin in the asker's store: applied, and pending. */
static void
s_count_of(s_site *site, const uint8_t *origin, uint64_t *applied, uint64_t *pending)
{
    ru_apply_pending_t *by;
    size_t n;
    uint64_t total;
    assert_int_equal(ru_apply_head(&site->txn, origin, applied, NULL), RU_OK);
    assert_int_equal(ru_apply_pending(&site->txn, &by, &n, &total), RU_OK);
    *pending = 0;
    for (size_t i = 0; i < n; i++)
        if (memcmp(by[i].origin, origin, RU_KEY_BYTES) == 0)
            *pending = by[i].count;
    free(by);
}

/*  Served from pending: only what the asker can use. */
static void
test_pending_served_when_usable(void **state)
{
    (void) state;
    s_setup_sites();
    s_site *paris = &s_sites[0], *nozay = &s_sites[1], *lyon = &s_sites[LYON];
    const uint8_t *origin = ru_key_public(nozay->key);
    ru_buf_t *wire = calloc(PENDING, sizeof *wire);
    assert_non_null(wire);
    for (int k = 0; k < PENDING; k++) {
        ru_buf_init(&wire[k]);
        s_make_alone(nozay, &wire[k]);
    }
    s_commit(nozay);
    for (int k = 1; k < PENDING; k++) /* all but the first */
        assert_int_equal(s_ingest(paris, wire[k].data, wire[k].len), RU_APPLY_PENDING);
    ru_buf_t own;
    ru_buf_init(&own);
    s_make_alone(paris, &own);      /* for lyon to get */
    for (int k = 1; k <= 10; k++) { /* and murray-hill's 2 to 10, waiting for its 1 */
        ru_buf_reset(&own);
        s_make_alone(&s_sites[2], &own);
        if (k > 1)
            assert_int_equal(s_ingest(paris, own.data, own.len), RU_APPLY_PENDING);
    }
    ru_buf_fini(&own);
    s_commit(&s_sites[2]);
    s_commit(paris);
    /* lyon lacks nozay's first as much as paris does */
    s_sync s;
    s_sync_all(&s, lyon, paris, 4096);
    assert_int_equal(s.received, 1);
    uint64_t applied, pending;
    s_count_of(lyon, origin, &applied, &pending);
    assert_int_equal(applied + pending, 0);
    s_count_of(lyon, ru_key_public(s_sites[2].key), &applied, &pending);
    assert_int_equal(applied + pending, 0);
    /* nozay loses its store: it asks with an empty clock, and gets its own */
    ru_txn_abort(&nozay->txn);
    ru_store_destroy(&nozay->store);
    testdir_remove(nozay->dir);
    s_open(nozay, 1);
    s_sync_all(&s, nozay, paris, 4096);
    s_count_of(nozay, origin, &applied, &pending);
    assert_int_equal(applied, 0);
    assert_int_equal(pending, PENDING - 1);
    /* with nozay's first (from some other site), lyon can use every one:
       the chain in one catch-up, one seek a batch, so that one of them
       meets murray-hill's, of no use to lyon, and sends nothing */
    assert_int_equal(s_ingest(lyon, wire[0].data, wire[0].len), RU_APPLY_APPLIED);
    s_commit(lyon);
    s_sync_all(&s, lyon, paris, 1);
    printf("lyon got %llu pending updates of nozay in %llu batches, %llu walks without one\n",
           (unsigned long long) s.received, (unsigned long long) s.batches,
           (unsigned long long) s.mores);
    assert_int_equal(s.received, PENDING - 1);
    assert_int_equal(s.batches, PENDING - 1);
    assert_int_equal(s.parked, 0);
    assert_true(s.mores > 0);
    s_count_of(lyon, origin, &applied, &pending);
    assert_int_equal(applied, PENDING);
    assert_int_equal(pending, 0);
    for (int k = 0; k < PENDING; k++)
        ru_buf_fini(&wire[k]);
    free(wire);
    s_close_sites();
}

/*  Signs another update with site's next seq after *prev (its hash). */
static void
s_second_variant(s_site *site, uint64_t seq, const uint8_t *prev, ru_buf_t *out)
{
    ru_update_t u;
    ru_update_init(&u);
    memcpy(u.origin, ru_key_public(site->key), RU_KEY_BYTES);
    u.seq = seq;
    memcpy(u.prev, prev, RU_HASH_BYTES);
    u.hlc = ru_hlc_now(&site->hlc, ru_hlc_wall_ms());
    u.author = (ru_str_t){"alice", 5};
    u.kind = RU_KIND_POST;
    u.text = (ru_str_t){"the other variant", 17};
    assert_int_equal(ru_update_encode(&u, site->key, out), RU_OK);
    ru_update_fini(&u);
}

/*  murray-hill makes seqs 1 to n in wire[0 .. n-1], and its key signs
 *  another seq 4 in wire[n]; paris takes seqs 1 to 3, then the other 4 and
 *  murray-hill's own 4, which prove the fork. */
static void
s_fork_at_4(s_site *paris, s_site *mh, ru_buf_t *wire, int n)
{
    for (int k = 0; k <= n; k++)
        ru_buf_init(&wire[k]);
    for (int k = 0; k < n; k++)
        s_make_alone(mh, &wire[k]);
    s_commit(mh);
    ru_envelope_t env;
    uint8_t h3[RU_HASH_BYTES];
    assert_int_equal(ru_envelope_parse(wire[2].data, wire[2].len, &env), RU_OK);
    ru_update_hash(&env, h3);
    s_second_variant(mh, 4, h3, &wire[n]);
    for (int k = 0; k < 4; k++)
        assert_int_equal(s_ingest(paris, wire[k].data, wire[k].len), RU_APPLY_APPLIED);
    assert_int_equal(s_ingest(paris, wire[n].data, wire[n].len), RU_APPLY_FORK);
}

/*  An update held in quarantine is served to nobody. */
static void
test_held_not_served(void **state)
{
    (void) state;
    s_setup_sites();
    s_site *paris = &s_sites[0], *mh = &s_sites[2], *lyon = &s_sites[LYON];
    ru_buf_t wire[6];
    s_fork_at_4(paris, mh, wire, 5);
    for (int k = 0; k < 4; k++)
        assert_int_equal(s_ingest(lyon, wire[k].data, wire[k].len), RU_APPLY_APPLIED);
    assert_int_equal(s_ingest(paris, wire[4].data, wire[4].len), RU_APPLY_PENDING); /* held */
    s_commit(paris);
    s_commit(lyon);
    uint64_t applied, pending;
    s_count_of(paris, ru_key_public(mh->key), &applied, &pending);
    assert_int_equal(applied, 4);
    assert_int_equal(pending, 1);
    /* lyon has all that murray-hill's seq 5 depends on: still not served */
    s_sync s;
    s_sync_all(&s, lyon, paris, 4096);
    assert_int_equal(s.received, 0);
    for (int k = 0; k < 6; k++)
        ru_buf_fini(&wire[k]);
    s_close_sites();
}

/*  Once the fork is resolved, the origin's updates past the fork seq are
 *  served from pending again, as any origin's. */
static void
test_resolved_served(void **state)
{
    (void) state;
    s_setup_sites();
    s_site *paris = &s_sites[0], *mh = &s_sites[2], *lyon = &s_sites[LYON];
    const uint8_t *origin = ru_key_public(mh->key);
    ru_buf_t wire[7];
    s_fork_at_4(paris, mh, wire, 6);
    ru_apply_t ap = s_applier(paris);
    ru_fork_t fork;
    ru_update_t u;
    ru_update_init(&u);
    ru_buf_t out;
    ru_buf_init(&out);
    assert_int_equal(ru_apply_resolve(&ap, paris->key, origin, "admin", &fork, &u, &out), RU_OK);
    ru_update_fini(&u);
    ru_buf_fini(&out);
    /* seq 6 comes before seq 5: it waits for it, no longer held */
    assert_int_equal(s_ingest(paris, wire[5].data, wire[5].len), RU_APPLY_PENDING);
    s_commit(paris);
    for (int k = 0; k < 5; k++)
        assert_int_equal(s_ingest(lyon, wire[k].data, wire[k].len), RU_APPLY_APPLIED);
    s_commit(lyon);
    s_sync s;
    s_sync_all(&s, lyon, paris, 4096);
    uint64_t applied, pending;
    s_count_of(lyon, origin, &applied, &pending);
    assert_int_equal(applied, 6);
    assert_int_equal(pending, 0);
    for (int k = 0; k < 7; k++)
        ru_buf_fini(&wire[k]);
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
        cmocka_unit_test(test_pending_served_when_usable),
        cmocka_unit_test(test_held_not_served),
        cmocka_unit_test(test_resolved_served),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
