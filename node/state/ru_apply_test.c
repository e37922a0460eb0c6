/*  ru_apply_test.c - causal delivery and the state machine, on real LMDB
 *  stores.
 *
 *  The convergence property: three simulated sites make random updates of
 *  every kind (posts, replies, edits, deletes, likes, follows, profiles,
 *  groups) while exchanging random subsets of their logs in random order,
 *  so their updates are concurrent and often arrive before their
 *  dependencies. Then fresh replicas ingest the union of all logs in
 *  several random orders, with duplicates: every replica, and every site
 *  once fully synchronized, must hold the same clock, no pending update,
 *  and the same state digest.
 *
 *  Then the rules one by one: forks (two payloads for one seq, a prev
 *  that breaks the chain) are recorded and quarantine their origin alone
 *  (ru_fork.h), a RESOLVE lifts the quarantine where the kept variant is
 *  held and rebuilds the state where the other one was, so both end as a
 *  site that only had the kept one, pending updates survive a restart, deletes remove
 *  text from every index, edits by others are no-ops.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ru_apply.h"
#include "ru_dbkey.h"
#include "ru_fork.h"
#include "ru_record.h"
#include "ru_schema.h"
#include "testdir.h"
#include "testrand.h"

#define SITES 3
#define REPLICAS 4
#define ROUNDS 400
#define MAX_REFS 1024
#define MIB (1024u * 1024u)

static uint64_t s_rng = 0x2545f4914f6cdd1du;

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
    ru_ref_t posts[MAX_REFS]; /* posts and replies it has applied */
    int n_posts;
    ru_ref_t groups[MAX_REFS];
    int n_groups;
    ru_apply_limits_t limits; /* of its pending set: none unless a test sets them */
} s_site;

static void
s_on_applied(void *ctx, const ru_envelope_t *env, const ru_update_t *u)
{
    (void) env;
    s_site *site = ctx;
    ru_ref_t ref;
    memcpy(ref.origin, u->origin, RU_KEY_BYTES);
    ref.seq = u->seq;
    if ((u->kind == RU_KIND_POST || u->kind == RU_KIND_REPLY) && site->n_posts < MAX_REFS)
        site->posts[site->n_posts++] = ref;
    if (u->kind == RU_KIND_GROUP_CREATE && site->n_groups < MAX_REFS)
        site->groups[site->n_groups++] = ref;
}

static void
s_site_open(s_site *site, int with_key)
{
    memset(site, 0, sizeof *site);
    assert_int_equal(testdir_make(site->dir, sizeof site->dir), 0);
    assert_int_equal(ru_store_open(site->dir, 4 * MIB, 0, ru_schema_upgrades, &site->store), RU_OK);
    if (with_key)
        assert_int_equal(ru_key_generate(&site->key), RU_OK);
    ru_hlc_init(&site->hlc, RU_HLC_DEFAULT_SKEW_MS);
}

static void
s_site_close(s_site *site)
{
    ru_store_destroy(&site->store);
    ru_key_destroy(&site->key);
    testdir_remove(site->dir);
}

static ru_apply_t
s_applier(s_site *site, ru_txn_t *txn)
{
    static const uint8_t no_key[RU_KEY_BYTES]; /* a replica that makes nothing */
    return (ru_apply_t){
        {txn, site->key ? ru_key_public(site->key) : no_key, NULL, NULL},
        &site->hlc,
        s_on_applied,
        site,
        site->limits};
}

/*  Fills the body of u with a random update of a random kind. */
static void
s_random_body(const s_site *site, const s_site *all, ru_update_t *u)
{
    static const char *names[] = {"alice", "bob"};
    static const char *texts[] = {"Salut #ruche @bob", "Lunch? #food", "réunion à 14h",
                                  "@alice@nozay ok",   "#Ruche rocks", "plain text"};
    u->author = (ru_str_t){names[s_rand(2)], 0};
    u->author.len = (uint32_t) strlen(u->author.ptr);
    u->text = (ru_str_t){texts[s_rand(6)], 0};
    u->text.len = (uint32_t) strlen(u->text.ptr);
    u->kind = (ru_kind) (1 + s_rand(RU_KIND_GROUP_LEAVE)); /* what users make */
    int need_post = u->kind >= RU_KIND_REPLY && u->kind <= RU_KIND_UNLIKE;
    int need_group = u->kind == RU_KIND_GROUP_JOIN || u->kind == RU_KIND_GROUP_LEAVE;
    if ((need_post && site->n_posts == 0) || (need_group && site->n_groups == 0))
        u->kind = RU_KIND_POST, need_post = need_group = 0;
    if (need_post)
        u->target = site->posts[s_rand((uint64_t) site->n_posts)];
    if (need_group)
        u->target = site->groups[s_rand((uint64_t) site->n_groups)];
    u->has_group = u->kind == RU_KIND_POST && site->n_groups > 0 && s_rand(3) == 0;
    if (u->has_group)
        u->group = site->groups[s_rand((uint64_t) site->n_groups)];
    u->visibility = (ru_visibility) s_rand(RU_VIS_MAX + 1);
    memcpy(u->user.home, ru_key_public(all[s_rand(SITES)].key), RU_KEY_BYTES);
    u->user.name = (ru_str_t){names[s_rand(2)], 5};
    u->user.name.len = (uint32_t) strlen(u->user.name.ptr);
    u->display_name = (ru_str_t){"Alice", 5};
    u->note = (ru_str_t){"", 0};
    u->name = (ru_str_t){"team", 4};
}

static void
s_local(s_site *site, const s_site *all)
{
    ru_update_t u;
    ru_update_init(&u);
    s_random_body(site, all, &u);
    ru_txn_t txn;
    ru_buf_t out;
    ru_buf_init(&out);
    assert_int_equal(ru_store_write(site->store, &txn), RU_OK);
    ru_apply_t ap = s_applier(site, &txn);
    assert_int_equal(ru_apply_local(&ap, site->key, &u, &out), RU_OK);
    assert_int_equal(ru_txn_commit(&txn), RU_OK);
    assert_true(out.len > 0);
    ru_buf_fini(&out);
    ru_update_fini(&u);
}

/*  The envelopes of a site's log, copied out. */
typedef struct {
    ru_buf_t wire[4096];
    int n;
} s_log;

static int
s_log_entry(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) key;
    s_log *log = ctx;
    ru_buf_init(&log->wire[log->n]);
    ru_buf_append(&log->wire[log->n], val->mv_data, val->mv_size);
    return ++log->n == 4096;
}

static void
s_read_log(s_site *site, s_log *log)
{
    ru_txn_t txn;
    assert_int_equal(ru_store_read(site->store, &txn), RU_OK);
    assert_int_equal(ru_txn_scan(&txn, RU_DB_log, NULL, 0, 0, s_log_entry, log), RU_OK);
    ru_txn_abort(&txn);
}

static void
s_free_log(s_log *log)
{
    for (int i = 0; i < log->n; i++)
        ru_buf_fini(&log->wire[i]);
    log->n = 0;
}

/*  Verifies, decodes and ingests one envelope into site, in txn. */
static ru_err
s_ingest_in(s_site *site, ru_txn_t *txn, const uint8_t *wire, size_t len, ru_apply_result *result)
{
    ru_envelope_t env;
    ru_update_t u;
    ru_update_init(&u);
    assert_int_equal(ru_update_open(wire, len, &env, &u), RU_OK);
    ru_apply_t ap = s_applier(site, txn);
    ru_err err = ru_apply_ingest(&ap, &env, &u, result);
    ru_update_fini(&u);
    return err;
}

/*  The same in a transaction of its own, committed unless it fails. */
static ru_err
s_ingest(s_site *site, const uint8_t *wire, size_t len, ru_apply_result *result)
{
    ru_txn_t txn;
    assert_int_equal(ru_store_write(site->store, &txn), RU_OK);
    ru_err err = s_ingest_in(site, &txn, wire, len, result);
    if (err)
        ru_txn_abort(&txn);
    else
        assert_int_equal(ru_txn_commit(&txn), RU_OK);
    return err;
}

/*  site takes each envelope of log with probability 1/keep_one_in, in a
 *  random order, some twice, in transactions of random sizes (as the store
 *  actor groups them: state changes must not depend on the grouping). */
static void
s_receive(s_site *site, s_log *log, uint64_t keep_one_in)
{
    int order[4096];
    for (int i = 0; i < log->n; i++)
        order[i] = i;
    for (int i = log->n - 1; i > 0; i--) {
        int j = (int) s_rand((uint64_t) i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    ru_txn_t txn;
    uint64_t left = 0;
    assert_int_equal(ru_store_write(site->store, &txn), RU_OK);
    for (int k = 0; k < log->n; k++) {
        if (s_rand(keep_one_in) != 0)
            continue;
        ru_buf_t *w = &log->wire[order[k]];
        ru_apply_result result;
        for (uint64_t times = 1 + s_rand(2); times > 0; times--)
            assert_int_equal(s_ingest_in(site, &txn, w->data, w->len, &result), RU_OK);
        if (left-- == 0) {
            assert_int_equal(ru_txn_commit(&txn), RU_OK);
            assert_int_equal(ru_store_write(site->store, &txn), RU_OK);
            left = s_rand(32);
        }
    }
    assert_int_equal(ru_txn_commit(&txn), RU_OK);
}

static int
s_count(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) key;
    (void) val;
    ++*(int *) ctx;
    return 0;
}

static int
s_db_count_in(ru_txn_t *txn, ru_db db)
{
    int n = 0;
    assert_int_equal(ru_txn_scan(txn, db, NULL, 0, 0, s_count, &n), RU_OK);
    return n;
}

/*  The site's digest, clock and number of pending updates (whose counts
 *  and times must match the records). */
static void
s_state(s_site *site, uint8_t *digest, ru_clock_t *clock, int *pending)
{
    ru_txn_t txn;
    *pending = 0;
    assert_int_equal(ru_store_read(site->store, &txn), RU_OK);
    assert_int_equal(ru_txn_digest(&txn, digest), RU_OK);
    assert_int_equal(ru_apply_clock(&txn, clock), RU_OK);
    assert_int_equal(ru_txn_scan(&txn, RU_DB_pending, NULL, 0, 0, s_count, pending), RU_OK);
    ru_apply_pending_t *by;
    size_t n;
    uint64_t total, sum = 0;
    assert_int_equal(ru_apply_pending(&txn, &by, &n, &total), RU_OK);
    for (size_t i = 0; i < n; i++)
        sum += by[i].count;
    assert_int_equal(total, (uint64_t) *pending); /* the counters agree with the records */
    assert_int_equal(sum, total);
    assert_int_equal(s_db_count_in(&txn, RU_DB_pending_at), *pending);
    assert_int_equal(s_db_count_in(&txn, RU_DB_pending_age), *pending);
    free(by);
    ru_txn_abort(&txn);
}

static int
s_hash_record(void *ctx, const MDB_val *key, const MDB_val *val)
{
    crypto_generichash_update(ctx, key->mv_data, key->mv_size);
    crypto_generichash_update(ctx, val->mv_data, val->mv_size);
    return 0;
}

/*  A hash of the indexes that follow from the state alone (not from this
 *  node's users or configuration): they must agree like the digest does. */
static void
s_index_hash(s_site *site, uint8_t *hash)
{
    static const ru_db dbs[] = {RU_DB_timeline,    RU_DB_replies,   RU_DB_authors, RU_DB_tags,
                                RU_DB_group_posts, RU_DB_followers, RU_DB_counts};
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, RU_HASH_BYTES);
    ru_txn_t txn;
    assert_int_equal(ru_store_read(site->store, &txn), RU_OK);
    for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++)
        assert_int_equal(ru_txn_scan(&txn, dbs[i], NULL, 0, 0, s_hash_record, &st), RU_OK);
    ru_txn_abort(&txn);
    crypto_generichash_final(&st, hash, RU_HASH_BYTES);
}

static s_site s_sites[SITES], s_replicas[REPLICAS];
static s_log s_union, s_part;

static void
test_convergence(void **state)
{
    (void) state;
    for (int i = 0; i < SITES; i++)
        s_site_open(&s_sites[i], 1);
    for (int r = 0; r < ROUNDS; r++) {
        s_site *site = &s_sites[s_rand(SITES)];
        if (s_rand(8) != 0) {
            s_local(site, s_sites);
            continue;
        }
        s_read_log(&s_sites[s_rand(SITES)], &s_part); /* a partial, shuffled exchange */
        s_receive(site, &s_part, 2);
        s_free_log(&s_part);
    }
    for (int i = 0; i < SITES; i++)
        s_read_log(&s_sites[i], &s_union);
    uint8_t want[RU_HASH_BYTES], got[RU_HASH_BYTES], want_index[RU_HASH_BYTES];
    ru_clock_t want_clock, clock;
    ru_clock_init(&want_clock);
    ru_clock_init(&clock);
    int pending;
    for (int k = 0; k < REPLICAS; k++) {
        s_site_open(&s_replicas[k], 0);
        s_receive(&s_replicas[k], &s_union, 1);
        s_state(&s_replicas[k], k == 0 ? want : got, k == 0 ? &want_clock : &clock, &pending);
        assert_int_equal(pending, 0);
        if (k > 0) {
            assert_memory_equal(got, want, RU_HASH_BYTES);
            assert_int_equal(ru_clock_compare(&clock, &want_clock), RU_CLOCK_EQUAL);
        }
        s_index_hash(&s_replicas[k], k == 0 ? want_index : got);
        if (k > 0)
            assert_memory_equal(got, want_index, RU_HASH_BYTES);
    }
    assert_int_equal(want_clock.n, SITES);
    for (int i = 0; i < SITES; i++) { /* the sites themselves, fully synchronized */
        s_receive(&s_sites[i], &s_union, 1);
        s_state(&s_sites[i], got, &clock, &pending);
        assert_int_equal(pending, 0);
        assert_memory_equal(got, want, RU_HASH_BYTES);
        s_index_hash(&s_sites[i], got);
        assert_memory_equal(got, want_index, RU_HASH_BYTES);
    }
    ru_clock_fini(&want_clock);
    ru_clock_fini(&clock);
    s_free_log(&s_union);
    for (int i = 0; i < SITES; i++)
        s_site_close(&s_sites[i]);
    for (int k = 0; k < REPLICAS; k++)
        s_site_close(&s_replicas[k]);
}

/*  The header of an update of site's key made by hand: any seq, prev and
 *  clock delta (clock may be NULL), by alice. */
static void
s_forge_header(s_site *site, uint64_t seq, const uint8_t *prev, const ru_clock_t *clock,
               ru_update_t *u)
{
    ru_update_init(u);
    if (clock)
        assert_int_equal(ru_clock_copy(&u->clock, clock), RU_OK);
    memcpy(u->origin, ru_key_public(site->key), RU_KEY_BYTES);
    u->seq = seq;
    memcpy(u->prev, prev, RU_HASH_BYTES);
    u->hlc = (RU_MIN_HLC_MS << 16) + seq;
    u->author = (ru_str_t){"alice", 5};
}

/*  Makes a signed post of site's key by hand: any seq, prev, text and
 *  clock delta (clock may be NULL). */
static void
s_forge_clock(s_site *site, uint64_t seq, const uint8_t *prev, const char *text,
              const ru_clock_t *clock, ru_buf_t *out)
{
    ru_update_t u;
    s_forge_header(site, seq, prev, clock, &u);
    u.kind = RU_KIND_POST;
    u.text = (ru_str_t){text, (uint32_t) strlen(text)};
    assert_int_equal(ru_update_encode(&u, site->key, out), RU_OK);
    ru_update_fini(&u);
}

/*  The same, depending on (dep, dep_seq). */
static void
s_forge_dep(s_site *site, uint64_t seq, const uint8_t *prev, const char *text, const s_site *dep,
            uint64_t dep_seq, ru_buf_t *out)
{
    ru_clock_t clock;
    ru_clock_init(&clock);
    assert_int_equal(ru_clock_set(&clock, ru_key_public(dep->key), dep_seq), RU_OK);
    s_forge_clock(site, seq, prev, text, &clock, out);
    ru_clock_fini(&clock);
}

static void
s_forge(s_site *site, uint64_t seq, const uint8_t *prev, const char *text, ru_buf_t *out)
{
    s_forge_clock(site, seq, prev, text, NULL, out);
}

static void
s_hash_of(const ru_buf_t *wire, uint8_t *hash)
{
    ru_envelope_t env;
    assert_int_equal(ru_envelope_parse(wire->data, wire->len, &env), RU_OK);
    ru_update_hash(&env, hash);
}

/*  Ingests wire into site, expecting err RU_OK and result want. */
static void
s_expect(s_site *site, const ru_buf_t *wire, ru_apply_result want)
{
    ru_apply_result result;
    assert_int_equal(s_ingest(site, wire->data, wire->len, &result), RU_OK);
    assert_int_equal(result, want);
}

typedef struct {
    ru_fork_t fork[4];
    ru_buf_t evidence[4][2];
    int n;
} s_forks;

static int
s_fork_entry(void *ctx, const ru_fork_t *fork)
{
    s_forks *f = ctx;
    f->fork[f->n] = *fork;
    for (int k = 0; k < 2; k++) {
        ru_buf_init(&f->evidence[f->n][k]);
        ru_buf_append(&f->evidence[f->n][k], fork->evidence[k].ptr, fork->evidence[k].len);
    }
    return ++f->n == 4;
}

/*  The forks site knows of, their evidence copied out. */
static void
s_read_forks(s_site *site, s_forks *f)
{
    ru_txn_t txn;
    f->n = 0;
    assert_int_equal(ru_store_read(site->store, &txn), RU_OK);
    assert_int_equal(ru_fork_list(&txn, s_fork_entry, f), RU_OK);
    ru_txn_abort(&txn);
}

static void
s_free_forks(s_forks *f)
{
    for (int i = 0; i < f->n; i++)
        for (int k = 0; k < 2; k++)
            ru_buf_fini(&f->evidence[i][k]);
    f->n = 0;
}

/*  Two forked origins' updates: a's log with two variants of seq 2 (A on
 *  a2 and a3, B on b2), an honest origin h whose updates depend on a. */
typedef struct {
    s_site a, h;
    ru_buf_t a1, a2, b2, a3, h1, h2, h3;
    uint8_t ha1[RU_HASH_BYTES], ha2[RU_HASH_BYTES], hb2[RU_HASH_BYTES];
} s_fork_world;

static void
s_fork_world_make(s_fork_world *w)
{
    static const uint8_t zero[RU_HASH_BYTES];
    uint8_t hh1[RU_HASH_BYTES], hh2[RU_HASH_BYTES];
    s_site_open(&w->a, 1);
    s_site_open(&w->h, 1);
    ru_buf_t *all[] = {&w->a1, &w->a2, &w->b2, &w->a3, &w->h1, &w->h2, &w->h3};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        ru_buf_init(all[k]);
    s_forge(&w->a, 1, zero, "a1", &w->a1);
    s_hash_of(&w->a1, w->ha1);
    s_forge(&w->a, 2, w->ha1, "a2, variant A (to paris)", &w->a2);
    s_forge(&w->a, 2, w->ha1, "a2, variant B (to nozay)", &w->b2);
    s_hash_of(&w->a2, w->ha2);
    s_hash_of(&w->b2, w->hb2);
    s_forge(&w->a, 3, w->ha2, "a3 on variant A", &w->a3);
    s_forge_dep(&w->h, 1, zero, "h1 after a1", &w->a, 1, &w->h1);
    s_hash_of(&w->h1, hh1);
    s_forge_dep(&w->h, 2, hh1, "h2 after a's seq 2", &w->a, 2, &w->h2);
    s_hash_of(&w->h2, hh2);
    s_forge_dep(&w->h, 3, hh2, "h3 after a's seq 3", &w->a, 3, &w->h3);
}

static void
s_fork_world_free(s_fork_world *w)
{
    ru_buf_t *all[] = {&w->a1, &w->a2, &w->b2, &w->a3, &w->h1, &w->h2, &w->h3};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        ru_buf_fini(all[k]);
    s_site_close(&w->a);
    s_site_close(&w->h);
}

/*  Evidence (a): two payloads for one seq, against an applied update and
 *  against a pending one. The fork is recorded with both envelopes and
 *  hashes, nothing held first is dropped, and a known fork again is a
 *  duplicate. */
static void
test_fork_same_seq(void **state)
{
    (void) state;
    s_fork_world w;
    s_fork_world_make(&w);
    s_site p, q;
    s_site_open(&p, 0);
    s_site_open(&q, 0);
    uint8_t before[RU_HASH_BYTES], after[RU_HASH_BYTES];
    ru_clock_t clock;
    ru_clock_init(&clock);
    int pending;
    s_expect(&p, &w.a1, RU_APPLY_APPLIED);
    s_expect(&p, &w.a2, RU_APPLY_APPLIED);
    s_state(&p, before, &clock, &pending);
    s_expect(&p, &w.b2, RU_APPLY_FORK);
    s_expect(&p, &w.b2, RU_APPLY_DUPLICATE); /* the same evidence again */
    s_expect(&p, &w.a2, RU_APPLY_DUPLICATE);
    s_state(&p, after, &clock, &pending);
    assert_memory_equal(before, after, RU_HASH_BYTES); /* variant A stays */
    assert_int_equal(ru_clock_get(&clock, ru_key_public(w.a.key)), 2);
    s_forks f;
    s_read_forks(&p, &f);
    assert_int_equal(f.n, 1);
    assert_memory_equal(f.fork[0].origin, ru_key_public(w.a.key), RU_KEY_BYTES);
    assert_int_equal(f.fork[0].seq, 2);
    assert_memory_equal(f.fork[0].first, w.ha2, RU_HASH_BYTES);
    assert_memory_equal(f.fork[0].other, w.hb2, RU_HASH_BYTES);
    assert_int_equal(f.evidence[0][0].len, w.a2.len);
    assert_memory_equal(f.evidence[0][0].data, w.a2.data, w.a2.len);
    assert_memory_equal(f.evidence[0][1].data, w.b2.data, w.b2.len);
    assert_int_equal(f.fork[0].held, 0);
    s_free_forks(&f);
    /* against a pending one: q has a's seq 2 (B) waiting for seq 1 */
    s_expect(&q, &w.b2, RU_APPLY_PENDING);
    s_expect(&q, &w.a2, RU_APPLY_FORK);
    s_read_forks(&q, &f);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.fork[0].seq, 2);
    assert_memory_equal(f.fork[0].first, w.hb2, RU_HASH_BYTES);
    assert_int_equal(f.fork[0].held, 0); /* pending before the fork was known */
    s_free_forks(&f);
    /* its seq 1 comes: the pending seq 2 is past the fork now, so held */
    s_expect(&q, &w.a1, RU_APPLY_APPLIED);
    s_state(&q, after, &clock, &pending);
    assert_int_equal(ru_clock_get(&clock, ru_key_public(w.a.key)), 1);
    assert_int_equal(pending, 1);
    s_read_forks(&q, &f);
    assert_int_equal(f.fork[0].held, 1);
    s_free_forks(&f);
    ru_clock_fini(&clock);
    s_site_close(&p);
    s_site_close(&q);
    s_fork_world_free(&w);
}

/*  Evidence (b): a seq 3 whose prev is not the hash of the seq 2 applied
 *  here, arriving when seq 2 is applied and arriving first (it waits,
 *  then is woken). The fork is at 2, the hashes are ours and its prev,
 *  and the update is held, not dropped. */
static void
test_fork_broken_chain(void **state)
{
    (void) state;
    s_fork_world w;
    s_fork_world_make(&w);
    s_site n, m;
    s_site_open(&n, 0);
    s_site_open(&m, 0);
    s_expect(&n, &w.a1, RU_APPLY_APPLIED);
    s_expect(&n, &w.b2, RU_APPLY_APPLIED);
    s_expect(&n, &w.a3, RU_APPLY_FORK); /* a3's prev is variant A's hash */
    s_forks f;
    s_read_forks(&n, &f);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.fork[0].seq, 2);
    assert_memory_equal(f.fork[0].first, w.hb2, RU_HASH_BYTES);
    assert_memory_equal(f.fork[0].other, w.ha2, RU_HASH_BYTES);
    assert_memory_equal(f.evidence[0][0].data, w.b2.data, w.b2.len);
    assert_memory_equal(f.evidence[0][1].data, w.a3.data, w.a3.len);
    assert_int_equal(f.fork[0].held, 1);
    s_free_forks(&f);
    /* the broken chain found when a waiting update is woken */
    s_expect(&m, &w.a3, RU_APPLY_PENDING);
    s_expect(&m, &w.b2, RU_APPLY_PENDING);
    s_expect(&m, &w.a1, RU_APPLY_APPLIED); /* wakes b2, which wakes a3 */
    s_read_forks(&m, &f);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.fork[0].seq, 2);
    assert_int_equal(f.fork[0].held, 1);
    s_free_forks(&f);
    s_site_close(&n);
    s_site_close(&m);
    s_fork_world_free(&w);
}

/*  The quarantine: paris holds variant A applied, nozay variant B. Each
 *  holds a's later updates; h's updates that depend only on what each
 *  holds apply at both; one that depends on a's seq 3 waits, not held;
 *  h is never quarantined. A site's own forked key makes nothing more. */
static void
test_fork_quarantine(void **state)
{
    (void) state;
    s_fork_world w;
    s_fork_world_make(&w);
    s_site paris, nozay;
    s_site_open(&paris, 0);
    s_site_open(&nozay, 0);
    s_expect(&paris, &w.a1, RU_APPLY_APPLIED);
    s_expect(&paris, &w.a2, RU_APPLY_APPLIED);
    s_expect(&nozay, &w.a1, RU_APPLY_APPLIED);
    s_expect(&nozay, &w.b2, RU_APPLY_APPLIED);
    s_expect(&paris, &w.b2, RU_APPLY_FORK);
    s_expect(&nozay, &w.a2, RU_APPLY_FORK);
    s_expect(&paris, &w.a3, RU_APPLY_PENDING); /* held: a is quarantined from 2 */
    s_expect(&nozay, &w.a3, RU_APPLY_PENDING);
    s_site *both[] = {&paris, &nozay};
    for (int k = 0; k < 2; k++) {
        s_expect(both[k], &w.h1, RU_APPLY_APPLIED);
        s_expect(both[k], &w.h2, RU_APPLY_APPLIED);
        s_expect(both[k], &w.h3, RU_APPLY_PENDING); /* waits for a's seq 3 */
        uint8_t digest[RU_HASH_BYTES];
        ru_clock_t clock;
        ru_clock_init(&clock);
        int pending;
        s_state(both[k], digest, &clock, &pending);
        assert_int_equal(ru_clock_get(&clock, ru_key_public(w.a.key)), 2);
        assert_int_equal(ru_clock_get(&clock, ru_key_public(w.h.key)), 2);
        assert_int_equal(pending, 2);
        ru_clock_fini(&clock);
        s_forks f;
        s_read_forks(both[k], &f);
        assert_int_equal(f.n, 1); /* a only */
        assert_memory_equal(f.fork[0].origin, ru_key_public(w.a.key), RU_KEY_BYTES);
        assert_int_equal(f.fork[0].held, 1);
        s_free_forks(&f);
    }
    /* a's own node, knowing of its fork, refuses to go on */
    s_expect(&w.a, &w.a1, RU_APPLY_APPLIED);
    s_expect(&w.a, &w.a2, RU_APPLY_APPLIED);
    s_expect(&w.a, &w.b2, RU_APPLY_FORK);
    ru_update_t u;
    ru_update_init(&u);
    u.author = (ru_str_t){"alice", 5};
    u.kind = RU_KIND_POST;
    u.text = (ru_str_t){"more", 4};
    ru_txn_t txn;
    ru_buf_t out;
    ru_buf_init(&out);
    assert_int_equal(ru_store_write(w.a.store, &txn), RU_OK);
    ru_apply_t ap = s_applier(&w.a, &txn);
    assert_int_equal(ru_apply_local(&ap, w.a.key, &u, &out), RU_E_FORK);
    ru_txn_abort(&txn);
    ru_buf_fini(&out);
    ru_update_fini(&u);
    s_site_close(&paris);
    s_site_close(&nozay);
    s_fork_world_free(&w);
}

/*  ---------------------------------------------------------------------
 *  Resolution of a fork (ru_fork.h)
 */

/*  A RESOLVE of (fork origin, f) keeping kept, made by hand: site's update
 *  seq with prev, the clock delta (may be NULL) and time hlc_add after the
 *  earliest. */
static void
s_forge_resolve(s_site *site, uint64_t seq, const uint8_t *prev, const ru_clock_t *clock,
                const s_site *forked, uint64_t f, const uint8_t *kept, uint64_t hlc_add,
                ru_buf_t *out)
{
    ru_update_t u;
    s_forge_header(site, seq, prev, clock, &u);
    u.hlc = (RU_MIN_HLC_MS << 16) + 1000 + hlc_add;
    u.author = (ru_str_t){"admin", 5};
    u.kind = RU_KIND_RESOLVE;
    memcpy(u.fork.origin, ru_key_public(forked->key), RU_KEY_BYTES);
    u.fork.seq = f;
    memcpy(u.kept, kept, RU_HASH_BYTES);
    assert_int_equal(ru_update_encode(&u, site->key, out), RU_OK);
    ru_update_fini(&u);
}

/*  Ingests wire into site, expecting the refusal err. */
static void
s_refused(s_site *site, const ru_buf_t *wire, ru_err want)
{
    ru_apply_result result;
    assert_int_equal(s_ingest(site, wire->data, wire->len, &result), want);
}

/*  Two sites hold the same state: clock, digest (kept and recomputed),
 *  derived indexes, nothing pending. */
static void
s_assert_same_state(s_site *a, s_site *b)
{
    uint8_t da[RU_HASH_BYTES], db[RU_HASH_BYTES];
    ru_clock_t ca, cb;
    ru_clock_init(&ca);
    ru_clock_init(&cb);
    int pa, pb;
    s_state(a, da, &ca, &pa);
    s_state(b, db, &cb, &pb);
    assert_int_equal(pa, 0);
    assert_int_equal(pb, 0);
    assert_int_equal(ru_clock_compare(&ca, &cb), RU_CLOCK_EQUAL);
    assert_memory_equal(da, db, RU_HASH_BYTES);
    ru_txn_t txn;
    assert_int_equal(ru_store_read(a->store, &txn), RU_OK);
    assert_int_equal(ru_txn_digest_recompute(&txn, db), RU_OK);
    ru_txn_abort(&txn);
    assert_memory_equal(da, db, RU_HASH_BYTES); /* the sum kept through a rebuild */
    s_index_hash(a, da);
    s_index_hash(b, db);
    assert_memory_equal(da, db, RU_HASH_BYTES);
    ru_clock_fini(&ca);
    ru_clock_fini(&cb);
}

/*  paris holds variant A, nozay variant B and h's updates made on it;
 *  paris resolves keeping A. paris lifts its quarantine (a3 and h3
 *  apply); nozay drops B, rebuilds, and once A's chain comes ends with the
 *  state of a site that only ever had A. B's chain is refused after, not
 *  a new fork. */
static void
test_resolve_winner_and_loser(void **state)
{
    (void) state;
    s_fork_world w;
    s_fork_world_make(&w);
    s_site paris, nozay, only_a;
    s_site_open(&paris, 1);
    s_site_open(&nozay, 0);
    s_site_open(&only_a, 0);
    ru_buf_t b3, b4, resolve;
    ru_buf_init(&b3);
    ru_buf_init(&b4);
    ru_buf_init(&resolve);
    uint8_t hb3[RU_HASH_BYTES];
    s_forge(&w.a, 3, w.hb2, "a3 on variant B", &b3);
    s_hash_of(&b3, hb3);
    s_forge(&w.a, 4, hb3, "a4 on variant B", &b4);
    const ru_buf_t *at_paris[] = {&w.a1, &w.a2, &w.h1, &w.h2, &w.b2, &w.a3, &w.h3};
    const ru_buf_t *at_nozay[] = {&w.a1, &w.b2, &w.h1, &w.h2, &w.a2, &w.a3, &w.h3, &b3};
    for (size_t i = 0; i < sizeof at_paris / sizeof at_paris[0]; i++)
        s_ingest(&paris, at_paris[i]->data, at_paris[i]->len, &(ru_apply_result){0});
    for (size_t i = 0; i < sizeof at_nozay / sizeof at_nozay[0]; i++)
        s_ingest(&nozay, at_nozay[i]->data, at_nozay[i]->len, &(ru_apply_result){0});
    s_forks f;
    s_read_forks(&nozay, &f);
    assert_int_equal(f.fork[0].held, 1); /* a3; b3 taught nothing: a duplicate */
    assert_false(f.fork[0].resolved);
    s_free_forks(&f);
    /* paris resolves, keeping the variant it holds */
    ru_update_t u;
    ru_update_init(&u);
    u.author = (ru_str_t){"admin", 5};
    u.kind = RU_KIND_RESOLVE;
    memcpy(u.fork.origin, ru_key_public(w.a.key), RU_KEY_BYTES);
    u.fork.seq = 2;
    memcpy(u.kept, w.ha2, RU_HASH_BYTES);
    ru_txn_t txn;
    assert_int_equal(ru_store_write(paris.store, &txn), RU_OK);
    ru_apply_t ap = s_applier(&paris, &txn);
    assert_int_equal(ru_apply_local(&ap, paris.key, &u, &resolve), RU_OK);
    assert_int_equal(ru_txn_commit(&txn), RU_OK);
    ru_update_fini(&u);
    s_read_forks(&paris, &f);
    assert_int_equal(f.n, 1);
    assert_true(f.fork[0].resolved);
    assert_int_equal(f.fork[0].held, 0);
    assert_memory_equal(f.fork[0].resolution.kept, w.ha2, RU_HASH_BYTES);
    s_free_forks(&f);
    /* nozay: the RESOLVE waits for nothing of a past 1, so it applies and
     *  rebuilds; h2, made on B, and the RESOLVE after it wait for A's 2 */
    s_expect(&nozay, &resolve, RU_APPLY_APPLIED);
    uint8_t digest[RU_HASH_BYTES];
    ru_clock_t clock;
    ru_clock_init(&clock);
    int pending;
    s_state(&nozay, digest, &clock, &pending);
    assert_int_equal(ru_clock_get(&clock, ru_key_public(w.a.key)), 1);
    assert_int_equal(ru_clock_get(&clock, ru_key_public(w.h.key)), 1);
    assert_int_equal(ru_clock_get(&clock, ru_key_public(paris.key)), 0);
    assert_int_equal(pending, 3); /* h2, h3, the RESOLVE; B's chain is gone */
    s_read_forks(&nozay, &f);
    assert_true(f.fork[0].resolved);
    assert_int_equal(f.fork[0].held, 0);
    s_free_forks(&f);
    s_refused(&nozay, &w.b2, RU_E_CHAIN); /* the other variant, for good */
    /* A's chain comes by catch-up */
    s_expect(&nozay, &w.a2, RU_APPLY_APPLIED);
    s_expect(&nozay, &w.a3, RU_APPLY_APPLIED);
    s_refused(&nozay, &b3, RU_E_CHAIN); /* B's chain: refused, not a fork */
    s_refused(&nozay, &b4, RU_E_CHAIN);
    s_read_forks(&nozay, &f);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.fork[0].seq, 2);
    s_free_forks(&f);
    const ru_buf_t *winners[] = {&w.a1, &w.a2, &w.a3, &w.h1, &w.h2, &w.h3, &resolve};
    for (size_t i = 0; i < sizeof winners / sizeof winners[0]; i++)
        s_expect(&only_a, winners[i], RU_APPLY_APPLIED);
    s_assert_same_state(&nozay, &only_a);
    s_assert_same_state(&paris, &only_a);
    ru_clock_fini(&clock);
    ru_buf_fini(&b3);
    ru_buf_fini(&b4);
    ru_buf_fini(&resolve);
    s_site_close(&paris);
    s_site_close(&nozay);
    s_site_close(&only_a);
    s_fork_world_free(&w);
}

/*  A RESOLVE that arrives before either variant (or names an origin that
 *  never forked here) is recorded: the variant it does not keep is
 *  refused whenever it comes, and no fork is ever recorded. */
static void
test_resolve_before_variants(void **state)
{
    (void) state;
    static const uint8_t zero[RU_HASH_BYTES];
    s_fork_world w;
    s_fork_world_make(&w);
    s_site r, site;
    s_site_open(&r, 1);
    s_site_open(&site, 0);
    ru_clock_t clock;
    ru_clock_init(&clock);
    assert_int_equal(ru_clock_set(&clock, ru_key_public(w.a.key), 3), RU_OK); /* past f */
    ru_buf_t resolve;
    ru_buf_init(&resolve);
    s_forge_resolve(&r, 1, zero, &clock, &w.a, 2, w.ha2, 0, &resolve);
    s_expect(&site, &resolve, RU_APPLY_PENDING); /* waits for a's 1, not its 3 */
    s_expect(&site, &w.a1, RU_APPLY_APPLIED);    /* wakes it */
    s_state(&site, (uint8_t[RU_HASH_BYTES]){0}, &clock, &(int){0});
    assert_int_equal(ru_clock_get(&clock, ru_key_public(r.key)), 1);
    s_refused(&site, &w.b2, RU_E_CHAIN);
    s_expect(&site, &w.a2, RU_APPLY_APPLIED);
    s_expect(&site, &w.a3, RU_APPLY_APPLIED);
    s_refused(&site, &w.b2, RU_E_CHAIN);
    s_forks f;
    s_read_forks(&site, &f);
    assert_int_equal(f.n, 0);
    s_free_forks(&f);
    ru_clock_fini(&clock);
    ru_buf_fini(&resolve);
    s_site_close(&r);
    s_site_close(&site);
    s_fork_world_free(&w);
}

/*  Two sites resolve one fork differently: the RESOLVE with the lower
 *  (hlc, origin, seq) decides wherever they arrive in either order. */
static void
test_resolve_twice(void **state)
{
    (void) state;
    static const uint8_t zero[RU_HASH_BYTES];
    s_fork_world w;
    s_fork_world_make(&w);
    s_site r1, r2, s, t;
    s_site_open(&r1, 1);
    s_site_open(&r2, 1);
    s_site_open(&s, 0);
    s_site_open(&t, 0);
    ru_buf_t keep_a, keep_b;
    ru_buf_init(&keep_a);
    ru_buf_init(&keep_b);
    s_forge_resolve(&r1, 1, zero, NULL, &w.a, 2, w.ha2, 5, &keep_a);
    s_forge_resolve(&r2, 1, zero, NULL, &w.a, 2, w.hb2, 4, &keep_b); /* earlier: decides */
    const ru_buf_t *s_order[] = {&w.a1, &w.a2, &w.b2, &w.a3, &keep_a, &keep_b, &w.b2};
    const ru_buf_t *t_order[] = {&w.a1, &w.b2, &w.a2, &keep_b, &keep_a, &w.a3};
    for (size_t i = 0; i < sizeof s_order / sizeof s_order[0]; i++)
        s_ingest(&s, s_order[i]->data, s_order[i]->len, &(ru_apply_result){0});
    for (size_t i = 0; i < sizeof t_order / sizeof t_order[0]; i++)
        s_ingest(&t, t_order[i]->data, t_order[i]->len, &(ru_apply_result){0});
    s_assert_same_state(&s, &t);
    uint8_t digest[RU_HASH_BYTES];
    ru_clock_t clock;
    ru_clock_init(&clock);
    int pending;
    s_state(&s, digest, &clock, &pending);
    assert_int_equal(ru_clock_get(&clock, ru_key_public(w.a.key)), 2); /* B's 2 */
    s_forks f;
    s_read_forks(&s, &f);
    assert_true(f.fork[0].resolved);
    assert_memory_equal(f.fork[0].resolution.kept, w.hb2, RU_HASH_BYTES);
    s_free_forks(&f);
    ru_clock_fini(&clock);
    ru_buf_fini(&keep_a);
    ru_buf_fini(&keep_b);
    s_site_close(&r1);
    s_site_close(&r2);
    s_site_close(&s);
    s_site_close(&t);
    s_fork_world_free(&w);
}

/*  A second fork of a resolved origin: two variants of seq 4 chained on
 *  the kept 3 are a new fork, recorded and quarantined; the first fork's
 *  other variant stays refused. */
static void
test_second_fork_after_resolution(void **state)
{
    (void) state;
    static const uint8_t zero[RU_HASH_BYTES];
    s_fork_world w;
    s_fork_world_make(&w);
    s_site r, site;
    s_site_open(&r, 1);
    s_site_open(&site, 0);
    ru_buf_t resolve, c4, d4, c5;
    ru_buf_t *bufs[] = {&resolve, &c4, &d4, &c5};
    for (int i = 0; i < 4; i++)
        ru_buf_init(bufs[i]);
    uint8_t ha3[RU_HASH_BYTES], hc4[RU_HASH_BYTES];
    s_hash_of(&w.a3, ha3);
    s_forge(&w.a, 4, ha3, "c4", &c4);
    s_forge(&w.a, 4, ha3, "d4", &d4);
    s_hash_of(&c4, hc4);
    s_forge(&w.a, 5, hc4, "c5", &c5);
    s_forge_resolve(&r, 1, zero, NULL, &w.a, 2, w.ha2, 0, &resolve);
    const ru_buf_t *steps[] = {&w.a1, &w.a2, &w.b2, &resolve, &w.a3, &c4};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        s_ingest(&site, steps[i]->data, steps[i]->len, &(ru_apply_result){0});
    s_expect(&site, &d4, RU_APPLY_FORK);
    s_expect(&site, &c5, RU_APPLY_PENDING); /* held */
    s_refused(&site, &w.b2, RU_E_CHAIN);
    s_forks f;
    s_read_forks(&site, &f);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.fork[0].seq, 4);
    assert_false(f.fork[0].resolved);
    assert_int_equal(f.fork[0].held, 1);
    s_free_forks(&f);
    for (int i = 0; i < 4; i++)
        ru_buf_fini(bufs[i]);
    s_site_close(&r);
    s_site_close(&site);
    s_fork_world_free(&w);
}

static void
test_pending_survives_restart(void **state)
{
    (void) state;
    s_site a, r;
    s_site_open(&a, 1);
    s_site_open(&r, 0);
    static const uint8_t zero[RU_HASH_BYTES];
    uint8_t h1[RU_HASH_BYTES];
    ru_buf_t one, two;
    ru_buf_init(&one);
    ru_buf_init(&two);
    s_forge(&a, 1, zero, "first", &one);
    s_hash_of(&one, h1);
    s_forge(&a, 2, h1, "second", &two);
    ru_apply_result result;
    assert_int_equal(s_ingest(&r, two.data, two.len, &result), RU_OK);
    assert_int_equal(result, RU_APPLY_PENDING);
    ru_store_destroy(&r.store);
    assert_int_equal(ru_store_open(r.dir, 4 * MIB, 0, ru_schema_upgrades, &r.store), RU_OK);
    assert_int_equal(s_ingest(&r, one.data, one.len, &result), RU_OK);
    assert_int_equal(result, RU_APPLY_APPLIED);
    assert_int_equal(r.n_posts, 2); /* the pending one was woken and applied */
    ru_buf_fini(&one);
    ru_buf_fini(&two);
    s_site_close(&a);
    s_site_close(&r);
}

/*  Makes site's next local update of kind on target, by author. */
static void
s_act(s_site *site, ru_kind kind, const ru_ref_t *target, const char *text)
{
    ru_update_t u;
    ru_update_init(&u);
    u.kind = kind;
    u.author = (ru_str_t){"alice", 5};
    u.text = (ru_str_t){text, (uint32_t) strlen(text)};
    if (target)
        u.target = *target;
    ru_txn_t txn;
    ru_buf_t out;
    ru_buf_init(&out);
    assert_int_equal(ru_store_write(site->store, &txn), RU_OK);
    ru_apply_t ap = s_applier(site, &txn);
    assert_int_equal(ru_apply_local(&ap, site->key, &u, &out), RU_OK);
    assert_int_equal(ru_txn_commit(&txn), RU_OK);
    ru_buf_fini(&out);
    ru_update_fini(&u);
}

static void
s_post_text(s_site *site, const ru_ref_t *ref, char *text, size_t size, int *deleted)
{
    ru_txn_t txn;
    MDB_val val;
    uint8_t key[RU_DBKEY_REF];
    ru_post_rec_t rec;
    assert_int_equal(ru_store_read(site->store, &txn), RU_OK);
    assert_int_equal(
        ru_txn_get(&txn, RU_DB_posts, key, ru_dbkey_ref(key, ref->origin, ref->seq), &val), RU_OK);
    assert_int_equal(ru_post_rec_decode(val.mv_data, val.mv_size, &rec), RU_OK);
    snprintf(text, size, "%.*s", (int) rec.text.len, rec.text.ptr);
    *deleted = rec.deleted;
    ru_txn_abort(&txn);
}

static int
s_db_count(s_site *site, ru_db db)
{
    ru_txn_t txn;
    int n = 0;
    assert_int_equal(ru_store_read(site->store, &txn), RU_OK);
    assert_int_equal(ru_txn_scan(&txn, db, NULL, 0, 0, s_count, &n), RU_OK);
    ru_txn_abort(&txn);
    return n;
}

static void
test_edit_and_delete_rules(void **state)
{
    (void) state;
    s_site a, b;
    s_site_open(&a, 1);
    s_site_open(&b, 1);
    s_act(&a, RU_KIND_POST, NULL, "hello #garden @bob");
    ru_ref_t post = a.posts[0];
    s_log log = {0};
    s_read_log(&a, &log);
    s_receive(&b, &log, 1);
    s_free_log(&log);
    s_act(&b, RU_KIND_EDIT, &post, "defaced by another site"); /* not the author */
    s_act(&a, RU_KIND_EDIT, &post, "hello #roses");
    s_act(&b, RU_KIND_LIKE, &post, "x");
    s_read_log(&b, &log);
    s_receive(&a, &log, 1);
    s_free_log(&log);
    char text[64];
    int deleted;
    s_post_text(&a, &post, text, sizeof text, &deleted);
    assert_string_equal(text, "hello #roses");
    assert_int_equal(s_db_count(&a, RU_DB_likes), 1);
    assert_int_equal(s_db_count(&a, RU_DB_tags), 1); /* #roses only: re-indexed */
    assert_int_equal(s_db_count(&a, RU_DB_mentions), 0);
    s_act(&a, RU_KIND_DELETE, &post, "x");
    s_post_text(&a, &post, text, sizeof text, &deleted);
    assert_string_equal(text, "");
    assert_true(deleted);
    assert_int_equal(s_db_count(&a, RU_DB_tags), 0);
    assert_int_equal(s_db_count(&a, RU_DB_timeline), 0);
    assert_int_equal(s_db_count(&a, RU_DB_authors), 0);
    assert_int_equal(s_db_count(&a, RU_DB_home), 0);
    assert_int_equal(s_db_count(&a, RU_DB_likes), 0);
    s_act(&a, RU_KIND_EDIT, &post, "back from the dead?"); /* a delete wins */
    s_post_text(&a, &post, text, sizeof text, &deleted);
    assert_string_equal(text, "");
    s_site_close(&a);
    s_site_close(&b);
}


/*  A chain of n posts by site, each forged after the previous one. */
static void
s_chain(s_site *site, ru_buf_t *wire, int n)
{
    uint8_t prev[RU_HASH_BYTES] = {0};
    char text[32];
    for (int i = 0; i < n; i++) {
        ru_buf_init(&wire[i]);
        snprintf(text, sizeof text, "post %d", i + 1);
        s_forge(site, (uint64_t) i + 1, prev, text, &wire[i]);
        s_hash_of(&wire[i], prev);
    }
}

static void
s_chain_fini(ru_buf_t *wire, int n)
{
    for (int i = 0; i < n; i++)
        ru_buf_fini(&wire[i]);
}

/*  The pending figures of site: count and oldest arrival of origin. */
static uint64_t
s_pending_of(s_site *site, const uint8_t *origin, uint64_t *oldest_ms, uint64_t *total)
{
    ru_txn_t txn;
    ru_apply_pending_t *by;
    size_t n;
    uint64_t count = 0;
    assert_int_equal(ru_store_read(site->store, &txn), RU_OK);
    assert_int_equal(ru_apply_pending(&txn, &by, &n, total), RU_OK);
    ru_txn_abort(&txn);
    *oldest_ms = 0;
    for (size_t i = 0; i < n; i++)
        if (memcmp(by[i].origin, origin, RU_KEY_BYTES) == 0) {
            count = by[i].count;
            *oldest_ms = by[i].oldest_ms;
        }
    free(by);
    return count;
}

/*  The pending set is capped per origin and in all: an arrival past a cap
 *  is refused and not stored, the counts and arrival times follow every
 *  park, wake and restart, and a refused update is taken once there is
 *  room (the replica's clock still lacks it, so a catch-up brings it). */
static void
test_pending_caps_and_counts(void **state)
{
    (void) state;
    s_site a, b, r;
    s_site_open(&a, 1);
    s_site_open(&b, 1);
    s_site_open(&r, 0);
    r.limits = (ru_apply_limits_t){5, 7};
    ru_buf_t aw[9], bw[4];
    s_chain(&a, aw, 9);
    s_chain(&b, bw, 4);
    const uint8_t *ka = ru_key_public(a.key), *kb = ru_key_public(b.key);
    ru_apply_result result;
    uint64_t t0 = ru_hlc_wall_ms(), oldest, total;
    for (int i = 1; i <= 5; i++) { /* a's 2..6 wait for a's 1 */
        assert_int_equal(s_ingest(&r, aw[i].data, aw[i].len, &result), RU_OK);
        assert_int_equal(result, RU_APPLY_PENDING);
    }
    uint64_t t1 = ru_hlc_wall_ms();
    assert_int_equal(s_ingest(&r, aw[6].data, aw[6].len, &result), RU_E_PENDING_FULL);
    assert_int_equal(s_pending_of(&r, ka, &oldest, &total), 5);
    assert_true(oldest >= t0 && oldest <= t1);
    for (int i = 1; i <= 2; i++) /* b's 2 and 3: the second passes the total of 7 */
        assert_int_equal(s_ingest(&r, bw[i].data, bw[i].len, &result), RU_OK);
    assert_int_equal(s_ingest(&r, bw[3].data, bw[3].len, &result), RU_E_PENDING_FULL);
    assert_int_equal(s_pending_of(&r, kb, &oldest, &total), 2);
    assert_int_equal(total, 7);
    ru_store_destroy(&r.store); /* the counts are in the store */
    assert_int_equal(ru_store_open(r.dir, 4 * MIB, 0, ru_schema_upgrades, &r.store), RU_OK);
    assert_int_equal(s_pending_of(&r, ka, &oldest, &total), 5);
    assert_int_equal(total, 7);
    uint8_t digest[RU_HASH_BYTES];
    ru_clock_t clock;
    ru_clock_init(&clock);
    int pending;
    s_state(&r, digest, &clock, &pending);
    assert_int_equal(ru_clock_get(&clock, ka), 0); /* what a catch-up asks from */
    assert_int_equal(s_ingest(&r, aw[0].data, aw[0].len, &result), RU_OK);
    assert_int_equal(result, RU_APPLY_APPLIED); /* and woke 2..6 */
    assert_int_equal(s_pending_of(&r, ka, &oldest, &total), 0);
    assert_int_equal(total, 2);
    for (int i = 6; i < 9; i++) { /* the catch-up brings a's 7.. again */
        assert_int_equal(s_ingest(&r, aw[i].data, aw[i].len, &result), RU_OK);
        assert_int_equal(result, RU_APPLY_APPLIED);
    }
    assert_int_equal(s_ingest(&r, bw[3].data, bw[3].len, &result), RU_OK); /* room now */
    assert_int_equal(result, RU_APPLY_PENDING);
    assert_int_equal(s_ingest(&r, bw[0].data, bw[0].len, &result), RU_OK);
    s_state(&r, digest, &clock, &pending);
    assert_int_equal(pending, 0);
    assert_int_equal(ru_clock_get(&clock, ka), 9);
    assert_int_equal(ru_clock_get(&clock, kb), 4);
    ru_clock_fini(&clock);
    s_chain_fini(aw, 9);
    s_chain_fini(bw, 4);
    s_site_close(&a);
    s_site_close(&b);
    s_site_close(&r);
}

/*  PROTOCOL.md 5.4: every entry of a delta strictly raises the entry of
 *  its origin's previous full clock; an update whose delta repeats or
 *  lowers one is refused with nothing written, and one found so when
 *  woken from pending is dropped. */
static void
test_clock_delta_must_raise(void **state)
{
    (void) state;
    s_site a, b, r, r2;
    s_site_open(&a, 1);
    s_site_open(&b, 1);
    s_site_open(&r, 0);
    s_site_open(&r2, 0);
    ru_buf_t bw[3], a1, same, lower, empty, raise;
    s_chain(&b, bw, 3);
    const uint8_t *ka = ru_key_public(a.key), *kb = ru_key_public(b.key);
    ru_clock_t c;
    ru_clock_init(&c);
    static const uint8_t zero[RU_HASH_BYTES];
    uint8_t h1[RU_HASH_BYTES];
    assert_int_equal(ru_clock_set(&c, kb, 2), RU_OK);
    ru_buf_init(&a1);
    s_forge_clock(&a, 1, zero, "one", &c, &a1);
    s_hash_of(&a1, h1);
    ru_buf_init(&same);
    s_forge_clock(&a, 2, h1, "same b", &c, &same);
    assert_int_equal(ru_clock_set(&c, kb, 1), RU_OK);
    ru_buf_init(&lower);
    s_forge_clock(&a, 2, h1, "lower b", &c, &lower);
    ru_buf_init(&empty);
    s_forge_clock(&a, 2, h1, "nothing new", NULL, &empty);
    assert_int_equal(ru_clock_set(&c, kb, 3), RU_OK);
    ru_buf_init(&raise);
    s_forge_clock(&a, 2, h1, "b raised", &c, &raise);
    ru_apply_result result;
    uint8_t before[RU_HASH_BYTES], after[RU_HASH_BYTES];
    ru_clock_t clock;
    ru_clock_init(&clock);
    int pending;
    for (int i = 0; i < 3; i++)
        assert_int_equal(s_ingest(&r, bw[i].data, bw[i].len, &result), RU_OK);
    assert_int_equal(s_ingest(&r, a1.data, a1.len, &result), RU_OK);
    assert_int_equal(result, RU_APPLY_APPLIED);
    s_state(&r, before, &clock, &pending);
    assert_int_equal(s_ingest(&r, same.data, same.len, &result), RU_E_RANGE);
    assert_int_equal(s_ingest(&r, lower.data, lower.len, &result), RU_E_RANGE);
    s_state(&r, after, &clock, &pending);
    assert_memory_equal(before, after, RU_HASH_BYTES);
    assert_int_equal(ru_clock_get(&clock, ka), 1);
    assert_int_equal(s_ingest(&r, raise.data, raise.len, &result), RU_OK);
    assert_int_equal(result, RU_APPLY_APPLIED);
    /*  r2: the bad one waits for a's 1 and is dropped when woken; the good
     *  one then comes and applies. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(s_ingest(&r2, bw[i].data, bw[i].len, &result), RU_OK);
    assert_int_equal(s_ingest(&r2, same.data, same.len, &result), RU_OK);
    assert_int_equal(result, RU_APPLY_PENDING);
    assert_int_equal(s_ingest(&r2, a1.data, a1.len, &result), RU_OK);
    s_state(&r2, after, &clock, &pending);
    assert_int_equal(pending, 0);
    assert_int_equal(ru_clock_get(&clock, ka), 1);
    assert_int_equal(s_ingest(&r2, empty.data, empty.len, &result), RU_OK);
    assert_int_equal(result, RU_APPLY_APPLIED);
    ru_clock_fini(&c);
    ru_clock_fini(&clock);
    ru_buf_t *all[] = {&a1, &same, &lower, &empty, &raise};
    for (int i = 0; i < 5; i++)
        ru_buf_fini(all[i]);
    s_chain_fini(bw, 3);
    s_site_close(&a);
    s_site_close(&b);
    s_site_close(&r);
    s_site_close(&r2);
}

/*  Copies every record of from's log into site, in one transaction. */
static void
s_copy_log(s_site *site, s_site *from)
{
    s_log log = {0};
    s_read_log(from, &log);
    ru_txn_t txn;
    ru_apply_result result;
    assert_int_equal(ru_store_write(site->store, &txn), RU_OK);
    for (int round = 0; round < 2; round++) /* the log's key order is no causal order */
        for (int i = 0; i < log.n; i++)
            assert_int_equal(
                s_ingest_in(site, &txn, log.wire[i].data, log.wire[i].len, &result), RU_OK);
    assert_int_equal(ru_txn_commit(&txn), RU_OK);
    s_free_log(&log);
}

/*  A site that lost its store and got its log back from its peers makes
 *  its next update with a delta against the clock of its last one, as its
 *  peers rebuilt it: a receiver that enforces the rule of 5.4 takes it. */
static void
test_delta_after_store_loss(void **state)
{
    (void) state;
    s_site a, b, c;
    s_site_open(&a, 1);
    s_site_open(&b, 1);
    s_site_open(&c, 0);
    s_act(&b, RU_KIND_POST, NULL, "from b");
    s_act(&b, RU_KIND_POST, NULL, "from b again");
    s_copy_log(&a, &b);
    s_act(&a, RU_KIND_POST, NULL, "a saw b's two"); /* its delta: b -> 2 */
    s_copy_log(&c, &a);
    /*  a loses its store (its key stays) and recovers its log and b's. */
    ru_store_destroy(&a.store);
    testdir_remove(a.dir);
    assert_int_equal(testdir_make(a.dir, sizeof a.dir), 0);
    assert_int_equal(ru_store_open(a.dir, 4 * MIB, 0, ru_schema_upgrades, &a.store), RU_OK);
    s_copy_log(&a, &c);
    s_act(&a, RU_KIND_POST, NULL, "back");
    s_log log = {0};
    s_read_log(&a, &log);
    ru_envelope_t env;
    ru_update_t u;
    ru_update_init(&u);
    ru_apply_result result;
    int taken = 0;
    for (int i = 0; i < log.n; i++) {
        assert_int_equal(ru_update_open(log.wire[i].data, log.wire[i].len, &env, &u), RU_OK);
        if (memcmp(u.origin, ru_key_public(a.key), RU_KEY_BYTES) == 0 && u.seq == 2) {
            assert_int_equal(u.clock.n, 0); /* nothing new since a's 1 */
            assert_int_equal(s_ingest(&c, log.wire[i].data, log.wire[i].len, &result), RU_OK);
            assert_int_equal(result, RU_APPLY_APPLIED);
            taken = 1;
        }
    }
    assert_true(taken);
    ru_update_fini(&u);
    s_free_log(&log);
    s_site_close(&a);
    s_site_close(&b);
    s_site_close(&c);
}

/*  A store of schema 2 (no full clocks, no pending counts, this node's
 *  previous clock in meta self_clock) is upgraded when it opens: the
 *  clocks come from the log, the counts from the pending records. */
static void
test_schema_2_store_upgraded(void **state)
{
    (void) state;
    s_site a, b;
    s_site_open(&a, 1);
    s_site_open(&b, 1);
    s_act(&b, RU_KIND_POST, NULL, "from b");
    s_copy_log(&a, &b);
    s_act(&a, RU_KIND_POST, NULL, "a saw b");
    ru_apply_result result;
    ru_buf_t other;
    ru_buf_init(&other);
    s_site c;
    s_site_open(&c, 1);
    uint8_t prev[RU_HASH_BYTES];
    memset(prev, 0x11, sizeof prev);
    s_forge(&c, 2, prev, "c's 2 waits for c's 1", &other);
    assert_int_equal(s_ingest(&a, other.data, other.len, &result), RU_OK);
    assert_int_equal(result, RU_APPLY_PENDING);
    /*  Back to schema 2. */
    static const ru_db added[] = {RU_DB_clocks, RU_DB_pending_at, RU_DB_pending_age,
                                  RU_DB_pending_n};
    ru_txn_t txn;
    assert_int_equal(ru_store_write(a.store, &txn), RU_OK);
    for (size_t i = 0; i < sizeof added / sizeof added[0]; i++)
        assert_int_equal(mdb_drop(txn.txn, ru_store_dbi(a.store, added[i]), 0), 0);
    assert_int_equal(ru_txn_del(&txn, RU_DB_meta, "pending_total", 13), RU_OK);
    assert_int_equal(ru_txn_put(&txn, RU_DB_meta, "self_clock", 10, "\x80", 1), RU_OK);
    uint32_t old = 2;
    assert_int_equal(ru_txn_put(&txn, RU_DB_meta, "schema", 6, &old, sizeof old), RU_OK);
    assert_int_equal(ru_txn_commit(&txn), RU_OK);
    ru_store_destroy(&a.store);
    assert_int_equal(ru_store_open(a.dir, 4 * MIB, 0, ru_schema_upgrades, &a.store), RU_OK);
    uint64_t oldest, total;
    assert_int_equal(s_pending_of(&a, ru_key_public(c.key), &oldest, &total), 1);
    assert_int_equal(total, 1);
    MDB_val val;
    assert_int_equal(ru_store_read(a.store, &txn), RU_OK);
    assert_int_equal(ru_txn_get(&txn, RU_DB_meta, "self_clock", 10, &val), RU_E_NOT_FOUND);
    ru_txn_abort(&txn);
    s_act(&a, RU_KIND_POST, NULL, "after the upgrade");
    s_log log = {0};
    s_read_log(&a, &log);
    ru_envelope_t env;
    ru_update_t u;
    ru_update_init(&u);
    for (int i = 0; i < log.n; i++) {
        assert_int_equal(ru_update_open(log.wire[i].data, log.wire[i].len, &env, &u), RU_OK);
        if (memcmp(u.origin, ru_key_public(a.key), RU_KEY_BYTES) == 0 && u.seq == 2)
            assert_int_equal(u.clock.n, 0); /* b's 1 was in a's 1, folded from the log */
    }
    ru_update_fini(&u);
    s_free_log(&log);
    ru_buf_fini(&other);
    s_site_close(&a);
    s_site_close(&b);
    s_site_close(&c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_convergence),
        cmocka_unit_test(test_fork_same_seq),
        cmocka_unit_test(test_fork_broken_chain),
        cmocka_unit_test(test_fork_quarantine),
        cmocka_unit_test(test_resolve_winner_and_loser),
        cmocka_unit_test(test_resolve_before_variants),
        cmocka_unit_test(test_resolve_twice),
        cmocka_unit_test(test_second_fork_after_resolution),
        cmocka_unit_test(test_pending_survives_restart),
        cmocka_unit_test(test_edit_and_delete_rules),
        cmocka_unit_test(test_pending_caps_and_counts),
        cmocka_unit_test(test_clock_delta_must_raise),
        cmocka_unit_test(test_delta_after_store_loss),
        cmocka_unit_test(test_schema_2_store_upgraded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
