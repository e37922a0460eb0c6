/*  ru_state_test.c - what the state machine does at a large site's size, on
 *  a real LMDB store.
 *
 *  Home timelines: an author with 5,000 local followers (a site follows
 *  its executives by the thousand) reaches every one of them with a post,
 *  keeps every one with an edit, and leaves none with a delete. The
 *  followers are read from the store a page at a time; a page of 64 once
 *  stopped the fan-out at the 64th follower.
 *
 *  Large transactions: LMDB spills dirty pages to the file once a write
 *  transaction holds 131,071 of them (512 MiB), and frees their memory. A
 *  like read its post as a view of LMDB's page, put the like (which may
 *  spill that page) and then encoded the post from the view: from freed
 *  memory. The test fills one transaction until LMDB spills, makes a post
 *  of 5,000 characters (two overflow pages: freed with free(), which
 *  AddressSanitizer watches), and likes it between more filler until the
 *  next spill, which happens inside a like's put into the likes database:
 *  that database is made the deepest, so its puts ask LMDB for the most
 *  room and are the first to find too little. The post must come out of
 *  it whole, with every like counted.
 *
 *  Site counts: what GET /api/v1/instance reports (this site's statuses,
 *  its 5,001 accounts, the other sites) stays exact through local and
 *  replicated posts, replies, edits and deletes, is read and not counted
 *  (an authors index emptied behind the state machine's back leaves it as
 *  it was), and is counted once for a store of schema 4, which had none.
 *
 *  Blob references: the blobs that attachments, avatars and headers name
 *  are counted as statuses and profiles come, change and go, with an
 *  image's thumbnail counted beside it; a blob's first reference lists it
 *  as wanted, and its last one, gone, lists it for collection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ru_blobref.h"
#include "ru_dbkey.h"
#include "ru_record.h"
#include "ru_schema.h"
#include "ru_state.h"
#include "testnode.h"

#define FOLLOWERS 5000
#define MIB (1024u * 1024u)

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
    ru_apply_t ap = {{&txn, ru_key_public(s_t.node.key), NULL, NULL}, &s_t.hlc, NULL, NULL, {0, 0}};
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

/*  The size of the store's file: it grows when LMDB spills. */
static long long
s_file_size(void)
{
    char path[600];
    struct stat st;
    snprintf(path, sizeof path, "%s/data.mdb", s_t.dir);
    assert_int_equal(stat(path, &st), 0);
    return (long long) st.st_size;
}

/*  Local databases that likes never touch, for filler. */
static const ru_db s_filler_dbs[] = {RU_DB_pending,     RU_DB_waits,      RU_DB_replies,
                                     RU_DB_tags,        RU_DB_group_posts, RU_DB_tagnames,
                                     RU_DB_oauth_codes, RU_DB_app_tokens, RU_DB_apps,
                                     RU_DB_sessions,    RU_DB_peers};
#define S_FILLER_DBS (sizeof s_filler_dbs / sizeof s_filler_dbs[0])

/*  One page of filler: a value of 4,000 bytes under a new key. */
static void
s_filler(ru_txn_t *txn, uint64_t i)
{
    static char value[4000];
    uint8_t key[8];
    ru_dbkey_be64(key, i);
    assert_int_equal(ru_txn_put(txn, s_filler_dbs[i % S_FILLER_DBS], key, 8, value, sizeof value),
                     RU_OK);
}

/*  A deep likes database (of other posts), committed. */
static void
s_deep_likes(void)
{
    ru_txn_t txn;
    uint8_t key[RU_DBKEY_REF + RU_DBKEY_USER], other[RU_KEY_BYTES];
    memset(other, 0x11, sizeof other);
    assert_int_equal(ru_store_write(s_t.node.store, &txn), RU_OK);
    for (uint64_t i = 0; i < 60000; i++) {
        char name[16];
        ru_str_t n = {name, (uint32_t) snprintf(name, sizeof name, "u%05llu",
                                                (unsigned long long) (i * 7919 % 60000))};
        size_t len = ru_dbkey_ref(key, other, i % 97);
        len += ru_dbkey_user(key + len, other, n);
        assert_int_equal(ru_txn_put(&txn, RU_DB_likes, key, len, "", 0), RU_OK);
    }
    assert_int_equal(ru_txn_commit(&txn), RU_OK);
}

/*  Applies u, made at origin with the next seq, in txn. */
static void
s_apply(ru_txn_t *txn, ru_update_t *u, const ru_key_t *origin, uint64_t seq)
{
    ru_state_t st = {txn, ru_key_public(s_t.node.key), NULL, NULL};
    memcpy(u->origin, ru_key_public(origin), RU_KEY_BYTES);
    u->seq = seq;
    u->hlc = (uint64_t) 1800000000000u << 16 | seq;
    assert_int_equal(ru_state_apply(&st, u), RU_OK);
}

static void
test_like_survives_a_spill(void **state)
{
    (void) state;
    static char text[5001];
    memset(text, 'x', 5000);
    s_deep_likes();
    ru_txn_t top, txn; /* a request's child transaction, as in the store actor */
    assert_int_equal(ru_store_write(s_t.node.store, &top), RU_OK);
    assert_int_equal(ru_txn_child(&top, &txn), RU_OK);
    uint64_t fill = 0;
    long long size = s_file_size();
    while (s_file_size() == size && fill < 400000) /* to the first spill */
        s_filler(&txn, fill++);
    assert_true(s_file_size() > size);
    ru_update_t post;
    ru_update_init(&post);
    post.kind = RU_KIND_POST;
    post.author = testnode_str("alice");
    post.text = testnode_str(text);
    s_apply(&txn, &post, s_t.node.key, 1);
    size = s_file_size();
    uint64_t likes = 0;
    while (s_file_size() == size && likes < 40000) { /* likes to the next spill, and one more */
        char name[16];
        ru_update_t like;
        ru_update_init(&like);
        like.kind = RU_KIND_LIKE;
        like.author = (ru_str_t){name, (uint32_t) snprintf(name, sizeof name, "z%06llu",
                                                           (unsigned long long) likes)};
        memcpy(like.target.origin, post.origin, RU_KEY_BYTES);
        like.target.seq = 1;
        s_filler(&txn, fill++);
        s_apply(&txn, &like, s_t.nozay, ++likes);
    }
    assert_true(s_file_size() > size);
    ru_post_rec_t rec;
    ru_ref_t ref;
    memcpy(ref.origin, post.origin, RU_KEY_BYTES);
    ref.seq = 1;
    assert_int_equal(ru_post_rec_get(&txn, &ref, &rec), RU_OK);
    assert_int_equal(rec.likes, likes);
    assert_int_equal(rec.author.len, 5);
    assert_memory_equal(rec.author.ptr, "alice", 5);
    assert_int_equal(rec.text.len, 5000);
    assert_memory_equal(rec.text.ptr, text, 5000);
    ru_txn_abort(&txn); /* LMDB 0.9.24 frees the list of spilled pages of nested ones only */
    ru_txn_abort(&top);
}

static int
s_tally(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) key;
    (void) val;
    ++*(uint64_t *) ctx;
    return 0;
}

/*  site's statuses as the authors index holds them, counted. */
static uint64_t
s_scanned(const uint8_t *site)
{
    uint64_t n = 0;
    ru_txn_t txn;
    assert_int_equal(ru_store_read(s_t.node.store, &txn), RU_OK);
    assert_int_equal(ru_txn_scan(&txn, RU_DB_authors, site, RU_KEY_BYTES, 0, s_tally, &n), RU_OK);
    ru_txn_abort(&txn);
    return n;
}

/*  The stats of site, as the instance information reads them. */
static ru_site_stats_t
s_stats(const uint8_t *site)
{
    ru_site_stats_t st;
    ru_txn_t txn;
    assert_int_equal(ru_store_read(s_t.node.store, &txn), RU_OK);
    assert_int_equal(ru_state_site_stats(&txn, site, &st), RU_OK);
    ru_txn_abort(&txn);
    return st;
}

/*  Both sites' counts are what their authors index holds: paris's and
 *  nozay's statuses, and whether paris holds updates of nozay. */
static void
s_expect(uint64_t paris, uint64_t nozay, uint64_t sites)
{
    const uint8_t *p = ru_key_public(s_t.node.key), *n = ru_key_public(s_t.nozay);
    assert_int_equal(s_scanned(p), paris);
    assert_int_equal(s_scanned(n), nozay);
    ru_site_stats_t st = s_stats(p);
    assert_int_equal(st.statuses, paris);
    assert_int_equal(st.users, FOLLOWERS + 1);
    assert_int_equal(st.sites, sites);
    assert_int_equal(s_stats(n).statuses, nozay);
}

static void
s_make(ru_update_t *u, int remote, ru_kind kind, const char *author, const ru_update_t *target)
{
    assert_int_equal(testnode_make(&s_t, u, remote, kind, author, "Point #ops", RU_VIS_PUBLIC,
                                   target),
                     RU_OK);
}

static void
test_site_counts(void **state)
{
    (void) state;
    ru_update_t p1, p2, n1, r1, r2, e, d1, d2, x;
    s_expect(0, 0, 0);
    s_make(&p1, 0, RU_KIND_POST, "alice", NULL);
    s_make(&p2, 0, RU_KIND_POST, "f0001", NULL);
    s_make(&n1, 1, RU_KIND_POST, "bob", NULL); /* replicated from nozay */
    s_expect(2, 1, 1);
    s_make(&r1, 0, RU_KIND_REPLY, "alice", &n1);
    s_make(&r2, 1, RU_KIND_REPLY, "bob", &p1);
    s_expect(3, 2, 1);
    s_make(&e, 0, RU_KIND_EDIT, "alice", &p1);
    s_make(&x, 1, RU_KIND_DELETE, "bob", &p1); /* not bob's: a no-op */
    s_expect(3, 2, 1);
    s_make(&d1, 0, RU_KIND_DELETE, "alice", &p1);
    s_make(&d2, 1, RU_KIND_DELETE, "bob", &n1);
    s_expect(2, 1, 1);
    ru_update_t *all[] = {&p1, &p2, &n1, &r1, &r2, &e, &d1, &d2, &x};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        ru_update_fini(all[i]);
}

/*  A store of schema 4: no site counts. Reopened, it counts them. */
static void
test_site_counts_of_an_older_store(void **state)
{
    (void) state;
    ru_update_t u[5];
    for (int i = 0; i < 5; i++)
        s_make(&u[i], i % 2, i < 4 ? RU_KIND_POST : RU_KIND_REPLY, "alice", i < 4 ? NULL : &u[1]);
    s_expect(3, 2, 1);
    ru_txn_t txn;
    uint32_t old = 4;
    assert_int_equal(ru_store_write(s_t.node.store, &txn), RU_OK);
    assert_int_equal(ru_txn_del(&txn, RU_DB_counts, ru_key_public(s_t.node.key), RU_KEY_BYTES),
                     RU_OK);
    assert_int_equal(ru_txn_del(&txn, RU_DB_counts, ru_key_public(s_t.nozay), RU_KEY_BYTES), RU_OK);
    assert_int_equal(ru_txn_put(&txn, RU_DB_meta, "schema", 6, &old, sizeof old), RU_OK);
    assert_int_equal(ru_txn_commit(&txn), RU_OK);
    assert_int_equal(s_stats(ru_key_public(s_t.node.key)).statuses, 0);
    ru_store_destroy(&s_t.node.store);
    assert_int_equal(ru_store_open(s_t.dir, 8 * MIB, 0, ru_schema_upgrades, &s_t.node.store),
                     RU_OK);
    s_expect(3, 2, 1);
    for (int i = 0; i < 5; i++)
        ru_update_fini(&u[i]);
}

/*  The instance reads its count: it does not count the index again. */
static void
test_site_counts_are_read(void **state)
{
    (void) state;
    ru_update_t u[3];
    for (int i = 0; i < 3; i++)
        s_make(&u[i], 0, RU_KIND_POST, "alice", NULL);
    const uint8_t *paris = ru_key_public(s_t.node.key);
    ru_txn_t txn;
    assert_int_equal(ru_store_write(s_t.node.store, &txn), RU_OK);
    assert_int_equal(mdb_drop(txn.txn, ru_store_dbi(s_t.node.store, RU_DB_authors), 0), 0);
    assert_int_equal(ru_txn_commit(&txn), RU_OK);
    assert_int_equal(s_scanned(paris), 0);
    assert_int_equal(s_stats(paris).statuses, 3);
    for (int i = 0; i < 3; i++)
        ru_update_fini(&u[i]);
}

/*  An attachment naming blob fill (and, for an image, thumbnail fill + 1). */
static ru_media_t
s_media(uint8_t fill, int image)
{
    ru_media_t m;
    memset(&m, 0, sizeof m);
    memset(m.hash, fill, RU_HASH_BYTES);
    m.size = 1000u + fill;
    m.type = testnode_str(image ? "image/jpeg" : "application/pdf");
    m.name = testnode_str(image ? "" : "plan.pdf");
    m.description = testnode_str("alt");
    if (image) {
        m.is_image = 1;
        m.width = m.height = 800;
        memset(m.thumb, fill + 1, RU_HASH_BYTES);
        m.thumb_size = 100;
        m.thumb_width = m.thumb_height = 400;
        m.blurhash = testnode_str("LEHV6nWB2yk8pyo0adR*.7kCMdnj");
        m.focus_x = m.focus_y = RU_MAX_FOCUS / 2;
    }
    return m;
}

/*  The count of blob fill (0: none), and whether it is wanted and listed
 *  for collection. */
static void
s_expect_blob(uint8_t fill, uint64_t refs, int want, int gc)
{
    uint8_t hash[RU_HASH_BYTES];
    memset(hash, fill, sizeof hash);
    ru_txn_t txn;
    MDB_val val;
    ru_blobref_t ref = {0, {"", 0}, {"", 0}, 0};
    assert_int_equal(ru_store_read(s_t.node.store, &txn), RU_OK);
    ru_err err = ru_blobref_get(&txn, hash, &ref);
    assert_int_equal(err, refs ? RU_OK : RU_E_NOT_FOUND);
    assert_int_equal(ref.refs, refs);
    assert_int_equal(ru_txn_get(&txn, RU_DB_blob_want, hash, sizeof hash, &val),
                     want ? RU_OK : RU_E_NOT_FOUND);
    assert_int_equal(ru_txn_get(&txn, RU_DB_blob_gc, hash, sizeof hash, &val),
                     gc ? RU_OK : RU_E_NOT_FOUND);
    ru_txn_abort(&txn);
}

/*  Applies a status of kind with media[0 .. n) (and a warning). */
static void
s_with_media(ru_update_t *u, int remote, ru_kind kind, const ru_update_t *target,
             const ru_media_t *media, uint32_t n)
{
    ru_update_init(u);
    u->kind = kind;
    u->author = testnode_str(remote ? "bob" : "alice");
    u->text = testnode_str(n ? "" : "no media any more");
    u->spoiler = testnode_str("cw");
    u->sensitive = 1;
    u->n_media = n;
    for (uint32_t i = 0; i < n; i++)
        u->media[i] = media[i];
    if (target) {
        memcpy(u->target.origin, target->origin, RU_KEY_BYTES);
        u->target.seq = target->seq;
    }
    assert_int_equal(testnode_apply(&s_t, u, remote), RU_OK);
}

static void
test_blob_references(void **state)
{
    (void) state;
    ru_media_t a = s_media(0x10, 1), b = s_media(0x20, 0), c = s_media(0x30, 1);
    ru_update_t p1, p2, e1, d2, e2;
    s_with_media(&p1, 0, RU_KIND_POST, NULL, (ru_media_t[]){a, b}, 2);
    s_expect_blob(0x10, 1, 1, 0);
    s_expect_blob(0x11, 1, 1, 0); /* a's thumbnail */
    s_expect_blob(0x20, 1, 1, 0);
    s_with_media(&p2, 1, RU_KIND_REPLY, &p1, &b, 1); /* the same file again */
    s_expect_blob(0x20, 2, 1, 0);

    s_with_media(&e1, 0, RU_KIND_EDIT, &p1, &c, 1); /* a and b replaced by c */
    s_expect_blob(0x10, 0, 0, 1);
    s_expect_blob(0x11, 0, 0, 1);
    s_expect_blob(0x20, 1, 1, 0);
    s_expect_blob(0x30, 1, 1, 0);
    ru_txn_t txn;
    ru_post_rec_t rec;
    ru_media_t back[RU_MAX_MEDIA];
    uint32_t n;
    ru_ref_t ref1;
    memcpy(ref1.origin, p1.origin, RU_KEY_BYTES);
    ref1.seq = p1.seq;
    assert_int_equal(ru_store_read(s_t.node.store, &txn), RU_OK);
    assert_int_equal(ru_post_rec_get(&txn, &ref1, &rec), RU_OK);
    assert_int_equal(ru_media_unpack(rec.media.ptr, rec.media.len, back, &n), RU_OK);
    assert_int_equal(n, 1);
    assert_memory_equal(back[0].hash, c.hash, RU_HASH_BYTES);
    assert_int_equal(rec.sensitive, 1);
    assert_int_equal(rec.spoiler.len, 2);
    ru_txn_abort(&txn);

    s_with_media(&d2, 1, RU_KIND_DELETE, &p2, NULL, 0); /* b's last reference goes */
    s_expect_blob(0x20, 0, 0, 1);
    s_with_media(&e2, 0, RU_KIND_EDIT, &p1, (ru_media_t[]){a, c}, 2); /* a comes back */
    s_expect_blob(0x10, 1, 1, 0);
    s_expect_blob(0x30, 1, 1, 0);

    ru_update_t pr1, pr2;
    ru_update_init(&pr1);
    pr1.kind = RU_KIND_PROFILE;
    pr1.author = testnode_str("alice");
    pr1.has_avatar = 1;
    pr1.avatar = s_media(0x40, 1);
    assert_int_equal(testnode_apply(&s_t, &pr1, 0), RU_OK);
    s_expect_blob(0x40, 1, 1, 0);
    ru_update_init(&pr2);
    pr2.kind = RU_KIND_PROFILE;
    pr2.author = testnode_str("alice");
    pr2.has_header = 1;
    pr2.header = s_media(0x50, 1);
    assert_int_equal(testnode_apply(&s_t, &pr2, 0), RU_OK);
    s_expect_blob(0x40, 0, 0, 1); /* the avatar is gone with the profile it was in */
    s_expect_blob(0x50, 1, 1, 0);
    ru_update_t *all[] = {&p1, &p2, &e1, &d2, &e2, &pr1, &pr2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        ru_update_fini(all[i]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_home_fan_out_reaches_every_follower, s_setup,
                                        testnode_teardown),
        cmocka_unit_test_setup_teardown(test_like_survives_a_spill, s_setup, testnode_teardown),
        cmocka_unit_test_setup_teardown(test_site_counts, s_setup, testnode_teardown),
        cmocka_unit_test_setup_teardown(test_site_counts_of_an_older_store, s_setup,
                                        testnode_teardown),
        cmocka_unit_test_setup_teardown(test_site_counts_are_read, s_setup, testnode_teardown),
        cmocka_unit_test_setup_teardown(test_blob_references, s_setup, testnode_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
