/*  ru_state.c - what each kind of update does to the materialized state.
 *
 *  One handler per kind, chosen from s_handlers. Posts and replies share
 *  s_index(), which adds or removes a status in every index at once, so an
 *  edit re-indexes by removing with the old text and adding with the new,
 *  and a delete removes with the text it had.
 *
 *  Index keys end with the status's timeline position (hlc | origin | seq),
 *  so each index scans in timeline order and its entries need no value.
 *
 *  A value read from LMDB is valid only until the next update (put or
 *  delete, into any database) of the same write transaction, or its end
 *  (lmdb.h). An update may move the bytes of a page it writes to, and a
 *  large transaction spills dirty pages to the file and frees their
 *  memory, whatever database they belong to. Handlers therefore read the
 *  records they change as copies (s_load_post, s_load_group), taken before
 *  their first write, and scans that write as they go read a page of keys
 *  into memory first (s_each_key).
 *
 *  Scans page on to their end: a post reaches the home timeline of every
 *  local follower of its author, however many (a site follows its
 *  executives by the thousand), and a delete removes every like.
 *
 *  Counts are kept as the statuses they count come and go (s_count), so
 *  that reading one costs one read: each user's, and each site's statuses
 *  under the site's key alone in the counts database (what the instance
 *  information reports for this site). Stores of schema 4 had no site
 *  counts: ru_state_upgrade() counts them once from the authors index.
 *
 *  The blobs a status's attachments or a profile's avatar and header name
 *  are counted as the records that name them come, change and go
 *  (ru_blobref.h), in the same transaction.
 */
#include "ru_state.h"

#include <stdlib.h>
#include <string.h>

#include "ruche/ru_hlc.h"

#include "ru_account.h"
#include "ru_blobref.h"
#include "ru_dbkey.h"
#include "ru_entity.h"
#include "ru_notify.h"
#include "ru_pubid.h"
#include "ru_record.h"
#include "ru_search.h"
#include "ru_words.h"

/*  A status being indexed: its ref, record and position key. */
typedef struct {
    const ru_state_t *st;
    const uint8_t *origin;
    uint64_t seq;
    const ru_post_rec_t *rec;
    uint8_t pos[RU_DBKEY_POS];
    int add;
} s_status;

/*  Puts (add) or deletes key = prefix | pos in db. */
static ru_err
s_entry(const s_status *s, ru_db db, const uint8_t *prefix, size_t len)
{
    uint8_t key[RU_DBKEY_MAX];
    memcpy(key, prefix, len);
    memcpy(key + len, s->pos, RU_DBKEY_POS);
    if (s->add)
        return ru_txn_put(s->st->txn, db, key, len + RU_DBKEY_POS, "", 0);
    return ru_txn_del(s->st->txn, db, key, len + RU_DBKEY_POS);
}

/*  The hashtags and mentions of the text (not its links). */
static ru_err
s_index_entities(const s_status *s)
{
    const ru_str_t text = s->rec->text;
    size_t pos = 0;
    ru_entity_t e;
    ru_err err = RU_OK;
    while (!err && ru_entity_next(text.ptr, text.len, &pos, &e)) {
        uint8_t key[RU_DBKEY_USER + RU_MAX_TAG + 1];
        uint8_t home[RU_KEY_BYTES];
        size_t n = strlen(e.name);
        if (e.kind == RU_ENTITY_URL)
            continue;
        if (e.kind == RU_ENTITY_TAG) {
            memcpy(key, e.name, n + 1);
            err = s_entry(s, RU_DB_tags, key, n + 1);
            if (!err && s->add)
                err = ru_search_note_tag(s->st->txn, e.name);
            continue;
        }
        if (n > RU_MAX_NAME)
            continue;
        if (!e.site[0])
            memcpy(home, s->origin, RU_KEY_BYTES);
        else if (!s->st->resolve || !s->st->resolve(s->st->resolve_ctx, e.site, home))
            continue;
        size_t len = ru_dbkey_user(key, home, (ru_str_t){e.name, (uint32_t) n});
        err = s_entry(s, RU_DB_mentions, key, len);
    }
    return err;
}

/*  A page of keys copied out of a scan. */
#define S_PAGE 256
typedef struct {
    uint8_t keys[S_PAGE][RU_DBKEY_MAX];
    size_t lens[S_PAGE];
    int n;
} s_keys;

static int
s_collect(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) val;
    s_keys *k = ctx;
    if (key->mv_size > sizeof k->keys[0])
        return 0; /* no key of ours is longer */
    memcpy(k->keys[k->n], key->mv_data, key->mv_size);
    k->lens[k->n] = key->mv_size;
    return ++k->n == S_PAGE;
}

typedef ru_err (*s_key_fn)(const ru_state_t *st, const uint8_t *key, size_t len, void *arg);

/*  Calls each for every key of db that starts with prefix, in key order.
 *  The keys are read a page at a time into memory and each runs after the
 *  page is read, so it may write (even delete the key); the next page
 *  starts after the last key of this one, until a page comes back short. */
static ru_err
s_each_key(const ru_state_t *st, ru_db db, const uint8_t *prefix, size_t plen, s_key_fn each,
           void *arg)
{
    s_keys *page = malloc(sizeof *page);
    if (!page)
        return RU_E_NOMEM;
    ru_err err;
    int full;
    page->n = 0;
    do {
        int first = page->n == 0;
        size_t last = first ? 0 : page->lens[S_PAGE - 1];
        uint8_t after[RU_DBKEY_MAX];
        if (!first)
            memcpy(after, page->keys[S_PAGE - 1], last);
        page->n = 0;
        err = first ? ru_txn_scan(st->txn, db, prefix, plen, 0, s_collect, page)
                    : ru_txn_scan_after(st->txn, db, prefix, plen, after, last, s_collect, page);
        for (int i = 0; !err && i < page->n; i++)
            err = each(st, page->keys[i], page->lens[i], arg);
        full = page->n == S_PAGE;
    } while (!err && full);
    free(page);
    return err;
}

/*  Puts or deletes the status in the home timeline of the local user
 *  whose name follows skip bytes of key and ends it (a followers key). */
static ru_err
s_home_entry(const ru_state_t *st, const uint8_t *key, size_t len, void *arg)
{
    const s_status *s = arg;
    (void) st;
    size_t skip = RU_KEY_BYTES + s->rec->author.len + 1 + RU_KEY_BYTES;
    return len > skip ? s_entry(s, RU_DB_home, key + skip, len - skip) : RU_OK;
}

/*  Home timelines of this node's users: the author's own, and those of
 *  all its local followers (followers keys of the author with this node's
 *  key as the follower's home). */
static ru_err
s_index_home(const s_status *s)
{
    const uint8_t *self = s->st->self;
    uint8_t key[RU_DBKEY_MAX];
    ru_err err = RU_OK;
    if (memcmp(s->origin, self, RU_KEY_BYTES) == 0) {
        memcpy(key, s->rec->author.ptr, s->rec->author.len);
        key[s->rec->author.len] = 0;
        err = s_entry(s, RU_DB_home, key, s->rec->author.len + 1);
    }
    size_t plen = ru_dbkey_user(key, s->origin, s->rec->author);
    memcpy(key + plen, self, RU_KEY_BYTES);
    return err ? err
               : s_each_key(s->st, RU_DB_followers, key, plen + RU_KEY_BYTES, s_home_entry,
                            (void *) s);
}

/*  Adds one to (delta 1) or takes one from (delta -1) a count of user
 *  (field NULL: none), and notes since (0: none) as the hlc of the user's
 *  first update here if none is. */
static ru_err
s_count(ru_txn_t *txn, const uint8_t *user, size_t len, uint64_t *(*field)(ru_counts_rec_t *),
        int delta, uint64_t since)
{
    ru_counts_rec_t rec = {0, 0, 0, 0};
    MDB_val val;
    ru_err err = ru_txn_get(txn, RU_DB_counts, user, len, &val);
    if (err && err != RU_E_NOT_FOUND)
        return err;
    if (!err)
        ru_counts_rec_decode(val.mv_data, val.mv_size, &rec);
    if (field) {
        uint64_t *n = field(&rec);
        *n = delta > 0 ? *n + 1 : *n > 0 ? *n - 1 : 0;
    }
    if (!rec.since)
        rec.since = since;
    uint8_t bytes[RU_COUNTS_REC_BYTES];
    ru_counts_rec_encode(&rec, bytes);
    return ru_txn_put(txn, RU_DB_counts, user, len, bytes, sizeof bytes);
}

static uint64_t *
s_count_statuses(ru_counts_rec_t *rec)
{
    return &rec->statuses;
}

static uint64_t *
s_count_following(ru_counts_rec_t *rec)
{
    return &rec->following;
}

static uint64_t *
s_count_followers(ru_counts_rec_t *rec)
{
    return &rec->followers;
}

/*  Adds (add = 1) or removes a status from every index. */
static ru_err
s_index(const ru_state_t *st, const uint8_t *origin, uint64_t seq, const ru_post_rec_t *rec,
        int add)
{
    s_status s = {st, origin, seq, rec, {0}, add};
    ru_dbkey_pos(s.pos, rec->hlc, origin, seq);
    uint8_t key[RU_DBKEY_USER] = {0};
    ru_err err = s_entry(&s, RU_DB_timeline, key, 0);
    size_t ulen = ru_dbkey_user(key, origin, rec->author);
    if (!err)
        err = s_entry(&s, RU_DB_authors, key, ulen);
    if (!err)
        err = s_count(st->txn, key, ulen, s_count_statuses, add ? 1 : -1, rec->hlc);
    if (!err) /* the site's, under its key alone */
        err = s_count(st->txn, origin, RU_KEY_BYTES, s_count_statuses, add ? 1 : -1, 0);
    if (!err && rec->has_parent)
        err =
            s_entry(&s, RU_DB_replies, key, ru_dbkey_ref(key, rec->parent.origin, rec->parent.seq));
    if (!err && rec->has_group)
        err = s_entry(&s, RU_DB_group_posts, key,
                      ru_dbkey_ref(key, rec->group.origin, rec->group.seq));
    if (!err)
        err = s_index_entities(&s);
    if (!err)
        err = ru_words_update(st->txn, s.pos, rec->text, add);
    return err ? err : s_index_home(&s);
}

/*  ---------------------------------------------------------------------
 *  Records
 */

static ru_err
s_put_post(const ru_state_t *st, const uint8_t *origin, uint64_t seq, const ru_post_rec_t *rec)
{
    ru_buf_t buf;
    ru_buf_init(&buf);
    ru_post_rec_encode(rec, &buf);
    uint8_t key[RU_DBKEY_REF];
    ru_err err = ru_buf_status(&buf);
    if (!err)
        err = ru_txn_put(st->txn, RU_DB_posts, key, ru_dbkey_ref(key, origin, seq), buf.data,
                         buf.len);
    ru_buf_fini(&buf);
    return err;
}

/*  Copies the value at key of db into copy (reset first): a copy stays
 *  valid through the writes that follow, a view does not. */
static ru_err
s_load(const ru_state_t *st, ru_db db, const uint8_t *key, size_t len, ru_buf_t *copy)
{
    MDB_val val;
    ru_buf_reset(copy);
    ru_err err = ru_txn_get(st->txn, db, key, len, &val);
    if (!err)
        ru_buf_append(copy, val.mv_data, val.mv_size);
    return err ? err : ru_buf_status(copy);
}

/*  The post ref as a record whose strings live in copy (the caller's). */
static ru_err
s_load_post(const ru_state_t *st, const ru_ref_t *ref, ru_post_rec_t *rec, ru_buf_t *copy)
{
    uint8_t key[RU_DBKEY_REF];
    ru_err err = s_load(st, RU_DB_posts, key, ru_dbkey_ref(key, ref->origin, ref->seq), copy);
    return err ? err : ru_post_rec_decode(copy->data, copy->len, rec);
}

/*  The group ref as a record whose strings live in copy (the caller's). */
static ru_err
s_load_group(const ru_state_t *st, const ru_ref_t *ref, ru_group_rec_t *rec, ru_buf_t *copy)
{
    uint8_t key[RU_DBKEY_REF];
    ru_err err = s_load(st, RU_DB_groups, key, ru_dbkey_ref(key, ref->origin, ref->seq), copy);
    return err ? err : ru_group_rec_decode(copy->data, copy->len, rec);
}

/*  Loads the target of u when it is a live post that u's author wrote. */
static ru_err
s_own_target(const ru_state_t *st, const ru_update_t *u, ru_post_rec_t *rec, ru_buf_t *copy)
{
    ru_err err = s_load_post(st, &u->target, rec, copy);
    if (err)
        return err;
    int own = memcmp(u->target.origin, u->origin, RU_KEY_BYTES) == 0 &&
              rec->author.len == u->author.len &&
              memcmp(rec->author.ptr, u->author.ptr, u->author.len) == 0;
    return own && !rec->deleted ? RU_OK : RU_E_NOT_FOUND;
}

/*  A missing or unsuitable target makes the update a no-op. */
static ru_err
s_noop_if_missing(ru_err err)
{
    return err == RU_E_NOT_FOUND ? RU_OK : err;
}

/*  ---------------------------------------------------------------------
 *  Handlers
 */

/*  The content u gives a status (text, warning, attachments) into rec,
 *  the attachments packed into media (the caller's), each blob they name
 *  counted once more. */
static ru_err
s_content(const ru_state_t *st, const ru_update_t *u, ru_post_rec_t *rec, ru_buf_t *media)
{
    rec->text = u->text;
    rec->spoiler = u->spoiler;
    rec->sensitive = u->sensitive;
    rec->media = (ru_packed_t){NULL, 0};
    if (u->n_media == 0)
        return RU_OK;
    msgpack_packer pk;
    ru_mp_packer_init(&pk, media);
    ru_media_pack(&pk, u->media, u->n_media);
    ru_err err = ru_buf_status(media);
    if (!err)
        rec->media = (ru_packed_t){media->data, (uint32_t) media->len};
    if (!err)
        err = ru_blobref_media(st->txn, u->media, u->n_media, 1, ru_hlc_wall_ms());
    if (!err && memcmp(u->origin, st->self, RU_KEY_BYTES) == 0) /* a user here: their quota */
        err = ru_blobref_usage(st->txn, u->author, u->media, u->n_media, 1);
    return err;
}

/*  A status's attachments, gone with an edit or a delete, uncounted; origin
 *  made the status. */
static ru_err
s_uncount_media(const ru_state_t *st, const uint8_t *origin, const ru_post_rec_t *rec)
{
    if (rec->media.len == 0)
        return RU_OK;
    ru_media_t media[RU_MAX_MEDIA];
    uint32_t n;
    if (ru_media_unpack(rec->media.ptr, rec->media.len, media, &n) != RU_OK)
        return RU_E_STORE;
    ru_err err = ru_blobref_media(st->txn, media, n, -1, ru_hlc_wall_ms());
    if (!err && memcmp(origin, st->self, RU_KEY_BYTES) == 0)
        err = ru_blobref_usage(st->txn, rec->author, media, n, -1);
    return err;
}

static ru_err
s_post(const ru_state_t *st, const ru_update_t *u)
{
    ru_post_rec_t rec = {.kind = RU_KIND_POST,
                         .author = u->author,
                         .hlc = u->hlc,
                         .visibility = u->visibility,
                         .has_group = u->has_group,
                         .group = u->group};
    ru_buf_t media;
    ru_buf_init(&media);
    ru_err err = s_content(st, u, &rec, &media);
    if (!err)
        err = s_put_post(st, u->origin, u->seq, &rec);
    if (!err)
        err = s_index(st, u->origin, u->seq, &rec, 1);
    ru_buf_fini(&media);
    return err;
}

static ru_err
s_reply(const ru_state_t *st, const ru_update_t *u)
{
    ru_post_rec_t parent;
    ru_buf_t copy;
    ru_buf_init(&copy);
    ru_err err = s_load_post(st, &u->target, &parent, &copy);
    if (err) {
        ru_buf_fini(&copy);
        return s_noop_if_missing(err);
    }
    ru_post_rec_t rec = {.kind = RU_KIND_REPLY,
                         .author = u->author,
                         .hlc = u->hlc,
                         .visibility = u->visibility,
                         .has_group = parent.has_group,
                         .group = parent.group,
                         .has_parent = 1,
                         .parent = u->target,
                         .root = parent.has_parent ? parent.root : u->target};
    parent.replies++;
    err = s_put_post(st, u->target.origin, u->target.seq, &parent);
    ru_buf_fini(&copy);
    ru_buf_t media;
    ru_buf_init(&media);
    if (!err)
        err = s_content(st, u, &rec, &media);
    if (!err)
        err = s_put_post(st, u->origin, u->seq, &rec);
    if (!err)
        err = s_index(st, u->origin, u->seq, &rec, 1);
    ru_buf_fini(&media);
    return err;
}

static ru_err
s_edit(const ru_state_t *st, const ru_update_t *u)
{
    ru_post_rec_t rec;
    ru_buf_t copy;
    ru_buf_init(&copy);
    ru_err err = s_own_target(st, u, &rec, &copy);
    if (err || u->hlc <= rec.edit_hlc) {
        ru_buf_fini(&copy);
        return s_noop_if_missing(err);
    }
    err = s_index(st, u->target.origin, u->target.seq, &rec, 0);
    if (!err)
        err = s_uncount_media(st, u->target.origin, &rec);
    ru_buf_t media;
    ru_buf_init(&media);
    if (!err)
        err = s_content(st, u, &rec, &media);
    rec.edit_hlc = u->hlc;
    if (!err)
        err = s_put_post(st, u->target.origin, u->target.seq, &rec);
    if (!err)
        err = s_index(st, u->target.origin, u->target.seq, &rec, 1);
    ru_buf_fini(&media);
    ru_buf_fini(&copy);
    return err;
}

static ru_err
s_del_key(const ru_state_t *st, const uint8_t *key, size_t len, void *arg)
{
    return ru_txn_del(st->txn, *(const ru_db *) arg, key, len);
}

/*  Deletes every like of the post ref. */
static ru_err
s_clear_likes(const ru_state_t *st, const ru_ref_t *ref)
{
    uint8_t prefix[RU_DBKEY_REF];
    ru_db db = RU_DB_likes;
    return s_each_key(st, db, prefix, ru_dbkey_ref(prefix, ref->origin, ref->seq), s_del_key, &db);
}

/*  Takes one from the replies of the parent of a deleted reply. */
static ru_err
s_unreply(const ru_state_t *st, const ru_ref_t *parent_ref, ru_buf_t *copy)
{
    ru_post_rec_t parent;
    if (s_load_post(st, parent_ref, &parent, copy) != RU_OK || parent.replies == 0)
        return RU_OK;
    parent.replies--;
    return s_put_post(st, parent_ref->origin, parent_ref->seq, &parent);
}

static ru_err
s_delete(const ru_state_t *st, const ru_update_t *u)
{
    ru_post_rec_t rec;
    ru_buf_t copy, parent_copy;
    ru_buf_init(&copy);
    ru_buf_init(&parent_copy);
    ru_err err = s_own_target(st, u, &rec, &copy);
    if (err) {
        ru_buf_fini(&copy);
        return s_noop_if_missing(err);
    }
    err = s_index(st, u->target.origin, u->target.seq, &rec, 0);
    if (!err)
        err = s_clear_likes(st, &u->target);
    if (!err && rec.has_parent)
        err = s_unreply(st, &rec.parent, &parent_copy);
    if (!err)
        err = s_uncount_media(st, u->target.origin, &rec);
    rec.deleted = 1;
    rec.text = (ru_str_t){"", 0};
    rec.spoiler = (ru_str_t){"", 0};
    rec.sensitive = 0;
    rec.media = (ru_packed_t){NULL, 0};
    rec.likes = 0;
    if (!err)
        err = s_put_post(st, u->target.origin, u->target.seq, &rec);
    ru_buf_fini(&copy);
    ru_buf_fini(&parent_copy);
    return err;
}

/*  The like of u in the set, and the post's count in rec (a copy). */
static ru_err
s_like_put(const ru_state_t *st, const ru_update_t *u, ru_post_rec_t *rec, int like)
{
    uint8_t key[RU_DBKEY_REF + RU_DBKEY_USER];
    size_t len = ru_dbkey_ref(key, u->target.origin, u->target.seq);
    len += ru_dbkey_user(key + len, u->origin, u->author);
    MDB_val val;
    ru_err err = ru_txn_get(st->txn, RU_DB_likes, key, len, &val);
    if (err != RU_OK && err != RU_E_NOT_FOUND)
        return err;
    int present = err == RU_OK;
    if (present == like)
        return RU_OK;
    err = like ? ru_txn_put(st->txn, RU_DB_likes, key, len, "", 0)
               : ru_txn_del(st->txn, RU_DB_likes, key, len);
    rec->likes = like ? rec->likes + 1 : rec->likes - 1;
    return err ? err : s_put_post(st, u->target.origin, u->target.seq, rec);
}

/*  Likes and unlikes: the set of (post, user) and the post's count. */
static ru_err
s_like_set(const ru_state_t *st, const ru_update_t *u, int like)
{
    ru_post_rec_t rec;
    ru_buf_t copy;
    ru_buf_init(&copy);
    ru_err err = s_load_post(st, &u->target, &rec, &copy);
    if (!err && !rec.deleted)
        err = s_like_put(st, u, &rec, like);
    ru_buf_fini(&copy);
    return s_noop_if_missing(err);
}

static ru_err
s_like(const ru_state_t *st, const ru_update_t *u)
{
    return s_like_set(st, u, 1);
}

static ru_err
s_unlike(const ru_state_t *st, const ru_update_t *u)
{
    return s_like_set(st, u, 0);
}

/*  Follows: a from->to pair in follows and its mirror in followers. */
static ru_err
s_follow_set(const ru_state_t *st, const ru_update_t *u, int follow)
{
    uint8_t fwd[2 * RU_DBKEY_USER], back[2 * RU_DBKEY_USER];
    size_t a = ru_dbkey_user(fwd, u->origin, u->author);
    size_t b = ru_dbkey_user(fwd + a, u->user.home, u->user.name);
    ru_dbkey_user(back, u->user.home, u->user.name);
    ru_dbkey_user(back + b, u->origin, u->author);
    MDB_val val;
    ru_err err = ru_txn_get(st->txn, RU_DB_follows, fwd, a + b, &val);
    if (err != RU_OK && err != RU_E_NOT_FOUND)
        return err;
    if ((err == RU_OK) == follow)
        return RU_OK; /* already so: a set */
    int d = follow ? 1 : -1;
    err = follow ? ru_txn_put(st->txn, RU_DB_follows, fwd, a + b, "", 0)
                 : ru_txn_del(st->txn, RU_DB_follows, fwd, a + b);
    if (!err)
        err = follow ? ru_txn_put(st->txn, RU_DB_followers, back, a + b, "", 0)
                     : ru_txn_del(st->txn, RU_DB_followers, back, a + b);
    if (!err)
        err = s_count(st->txn, fwd, a, s_count_following, d, u->hlc);
    return err ? err : s_count(st->txn, back, b, s_count_followers, d, 0);
}

static ru_err
s_follow(const ru_state_t *st, const ru_update_t *u)
{
    return s_follow_set(st, u, 1);
}

static ru_err
s_unfollow(const ru_state_t *st, const ru_update_t *u)
{
    return s_follow_set(st, u, 0);
}

/*  The avatar and header of the profile at key, which a new one replaces,
 *  uncounted; its directory id copied into dir_id (empty if none). */
static ru_err
s_uncount_profile(const ru_state_t *st, const uint8_t *key, size_t len, ru_buf_t *dir_id)
{
    ru_buf_t copy;
    ru_buf_init(&copy);
    ru_profile_rec_t old;
    ru_person_t person;
    ru_err err = s_load(st, RU_DB_profiles, key, len, &copy);
    if (!err)
        err = ru_profile_rec_decode(copy.data, copy.len, &old);
    if (!err)
        err = ru_blobref_packed(st->txn, old.avatar.ptr, old.avatar.len, -1, ru_hlc_wall_ms());
    if (!err)
        err = ru_blobref_packed(st->txn, old.header.ptr, old.header.len, -1, ru_hlc_wall_ms());
    if (!err && old.person.len &&
        ru_person_unpack(old.person.ptr, old.person.len, &person) == RU_OK) {
        ru_buf_append(dir_id, person.dir_id.ptr, person.dir_id.len);
        err = ru_buf_status(dir_id);
    }
    ru_buf_fini(&copy);
    return err == RU_E_NOT_FOUND ? RU_OK : err;
}

/*  An avatar or a header (has: set) packed as a list of one into buf, the
 *  blobs it names counted. */
static ru_err
s_profile_image(const ru_state_t *st, int has, const ru_media_t *m, ru_buf_t *buf,
                ru_packed_t *out)
{
    *out = (ru_packed_t){NULL, 0};
    if (!has)
        return RU_OK;
    msgpack_packer pk;
    ru_mp_packer_init(&pk, buf);
    ru_media_pack(&pk, m, 1);
    ru_err err = ru_buf_status(buf);
    if (!err)
        *out = (ru_packed_t){buf->data, (uint32_t) buf->len};
    return err ? err : ru_blobref_media(st->txn, m, 1, 1, ru_hlc_wall_ms());
}

/*  A person packed into buf, as out (len 0: none). */
static ru_err
s_profile_person(const ru_update_t *u, ru_buf_t *buf, ru_packed_t *out)
{
    *out = (ru_packed_t){NULL, 0};
    if (!u->has_person)
        return RU_OK;
    msgpack_packer pk;
    ru_mp_packer_init(&pk, buf);
    ru_person_pack(&pk, &u->person);
    ru_err err = ru_buf_status(buf);
    if (!err)
        *out = (ru_packed_t){buf->data, (uint32_t) buf->len};
    return err;
}

static ru_err
s_profile(const ru_state_t *st, const ru_update_t *u)
{
    ru_profile_rec_t rec = {.display_name = u->display_name, .note = u->note, .hlc = u->hlc};
    ru_buf_t buf, avatar, header, person, old_id;
    ru_buf_t *bufs[] = {&buf, &avatar, &header, &person, &old_id, NULL};
    for (size_t i = 0; bufs[i]; i++)
        ru_buf_init(bufs[i]);
    uint8_t key[RU_DBKEY_USER];
    size_t klen = ru_dbkey_user(key, u->origin, u->author);
    ru_err err = s_uncount_profile(st, key, klen, &old_id);
    if (!err)
        err = s_profile_image(st, u->has_avatar, &u->avatar, &avatar, &rec.avatar);
    if (!err)
        err = s_profile_image(st, u->has_header, &u->header, &header, &rec.header);
    if (!err)
        err = s_profile_person(u, &person, &rec.person);
    if (!err)
        ru_profile_rec_encode(&rec, &buf);
    if (!err)
        err = ru_buf_status(&buf);
    if (!err)
        err = ru_txn_put(st->txn, RU_DB_profiles, key, klen, buf.data, buf.len);
    if (!err)
        err = ru_search_note_user(st->txn, u->origin, u->author, u->display_name);
    if (!err)
        err = s_count(st->txn, key, klen, NULL, 0, u->hlc);
    if (!err) {
        static const ru_person_t none;
        err = ru_search_note_person(st->txn, u->origin, u->author,
                                    u->has_person ? &u->person : &none,
                                    (ru_str_t){(const char *) old_id.data, (uint32_t) old_id.len},
                                    u->hlc);
    }
    for (size_t i = 0; bufs[i]; i++)
        ru_buf_fini(bufs[i]);
    return err;
}

static ru_err
s_put_group(const ru_state_t *st, const ru_ref_t *ref, const ru_group_rec_t *rec)
{
    ru_buf_t buf;
    ru_buf_init(&buf);
    ru_group_rec_encode(rec, &buf);
    uint8_t key[RU_DBKEY_REF];
    ru_err err = ru_buf_status(&buf);
    if (!err)
        err = ru_txn_put(st->txn, RU_DB_groups, key, ru_dbkey_ref(key, ref->origin, ref->seq),
                         buf.data, buf.len);
    ru_buf_fini(&buf);
    return err;
}

/*  u's author in (join) or out of the members of group ref, and the
 *  group's member count in rec (a copy). */
static ru_err
s_member_put(const ru_state_t *st, const ru_update_t *u, const ru_ref_t *ref, ru_group_rec_t *rec,
             int join)
{
    uint8_t key[RU_DBKEY_REF + RU_DBKEY_USER];
    size_t len = ru_dbkey_ref(key, ref->origin, ref->seq);
    len += ru_dbkey_user(key + len, u->origin, u->author);
    MDB_val val;
    ru_err err = ru_txn_get(st->txn, RU_DB_members, key, len, &val);
    if (err != RU_OK && err != RU_E_NOT_FOUND)
        return err;
    if ((err == RU_OK) == join)
        return RU_OK;
    err = join ? ru_txn_put(st->txn, RU_DB_members, key, len, "", 0)
               : ru_txn_del(st->txn, RU_DB_members, key, len);
    rec->members = join ? rec->members + 1 : rec->members - 1;
    return err ? err : s_put_group(st, ref, rec);
}

/*  Adds (join) or removes u's author to the members of group ref, keeping
 *  the group's member count; a missing group makes it a no-op. */
static ru_err
s_membership(const ru_state_t *st, const ru_update_t *u, const ru_ref_t *ref, int join)
{
    ru_group_rec_t rec;
    ru_buf_t copy;
    ru_buf_init(&copy);
    ru_err err = s_load_group(st, ref, &rec, &copy);
    if (!err)
        err = s_member_put(st, u, ref, &rec, join);
    ru_buf_fini(&copy);
    return s_noop_if_missing(err);
}

static ru_err
s_group_create(const ru_state_t *st, const ru_update_t *u)
{
    ru_group_rec_t rec = {u->name, u->note, u->author, u->hlc, 0};
    ru_ref_t ref;
    memcpy(ref.origin, u->origin, RU_KEY_BYTES);
    ref.seq = u->seq;
    ru_err err = s_put_group(st, &ref, &rec);
    return err ? err : s_membership(st, u, &ref, 1); /* the creator is a member */
}

static ru_err
s_group_join(const ru_state_t *st, const ru_update_t *u)
{
    return s_membership(st, u, &u->target, 1);
}

static ru_err
s_group_leave(const ru_state_t *st, const ru_update_t *u)
{
    return s_membership(st, u, &u->target, 0);
}

/*  A fork's resolution changes no replicated state: ru_apply acts on it
 *  (ru_fork.h). */
static ru_err
s_resolve(const ru_state_t *st, const ru_update_t *u)
{
    (void) st;
    (void) u;
    return RU_OK;
}

typedef ru_err (*s_handler)(const ru_state_t *st, const ru_update_t *u);

static const s_handler s_handlers[RU_KIND_MAX + 1] = {
    [RU_KIND_POST] = s_post,
    [RU_KIND_REPLY] = s_reply,
    [RU_KIND_EDIT] = s_edit,
    [RU_KIND_DELETE] = s_delete,
    [RU_KIND_LIKE] = s_like,
    [RU_KIND_UNLIKE] = s_unlike,
    [RU_KIND_FOLLOW] = s_follow,
    [RU_KIND_UNFOLLOW] = s_unfollow,
    [RU_KIND_PROFILE] = s_profile,
    [RU_KIND_GROUP_CREATE] = s_group_create,
    [RU_KIND_GROUP_JOIN] = s_group_join,
    [RU_KIND_GROUP_LEAVE] = s_group_leave,
    [RU_KIND_RESOLVE] = s_resolve,
};

/*  Records the public ids of the users and groups u names, and makes the
 *  users findable by name. */
static ru_err
s_note_ids(const ru_state_t *st, const ru_update_t *u)
{
    const ru_str_t none = {"", 0};
    ru_err err = ru_pubid_note_user(st->txn, u->origin, u->author);
    if (!err)
        err = ru_search_note_user(st->txn, u->origin, u->author, none);
    if (!err && (u->kind == RU_KIND_FOLLOW || u->kind == RU_KIND_UNFOLLOW))
        err = ru_pubid_note_user(st->txn, u->user.home, u->user.name);
    if (!err && (u->kind == RU_KIND_FOLLOW || u->kind == RU_KIND_UNFOLLOW))
        err = ru_search_note_user(st->txn, u->user.home, u->user.name, none);
    if (!err && u->kind == RU_KIND_GROUP_CREATE) {
        ru_ref_t ref;
        memcpy(ref.origin, u->origin, RU_KEY_BYTES);
        ref.seq = u->seq;
        err = ru_pubid_note_group(st->txn, &ref);
    }
    return err;
}

ru_err
ru_state_apply(const ru_state_t *st, const ru_update_t *u)
{
    if (u->kind < 1 || u->kind > RU_KIND_MAX)
        return RU_E_KIND;
    ru_err err = s_note_ids(st, u);
    if (!err)
        err = s_handlers[u->kind](st, u);
    return err ? err : ru_notify_apply(st->txn, st->self, st->resolve, st->resolve_ctx, u);
}

/*  ---------------------------------------------------------------------
 *  Site counts
 */

ru_err
ru_state_site_stats(ru_txn_t *txn, const uint8_t *self, ru_site_stats_t *out)
{
    ru_counts_rec_t rec = {0, 0, 0, 0};
    MDB_val val;
    memset(out, 0, sizeof *out);
    ru_err err = ru_txn_get(txn, RU_DB_counts, self, RU_KEY_BYTES, &val);
    if (!err)
        ru_counts_rec_decode(val.mv_data, val.mv_size, &rec);
    else if (err != RU_E_NOT_FOUND)
        return err;
    out->statuses = rec.statuses;
    err = ru_account_count(txn, &out->users);
    if (!err)
        err = ru_txn_entries(txn, RU_DB_heads, &out->sites);
    if (!err)
        err = ru_txn_get(txn, RU_DB_heads, self, RU_KEY_BYTES, &val);
    if (err == RU_E_NOT_FOUND)
        return RU_OK;
    out->sites -= !err && out->sites > 0; /* this one */
    return err;
}

/*  The statuses of each site, counted from the authors index, whose keys
 *  begin with the site's key: one site after the other. */
typedef struct {
    uint8_t (*sites)[RU_KEY_BYTES];
    uint64_t *counts;
    size_t n, cap;
    ru_err err;
} s_tally;

static int
s_tally_status(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) val;
    s_tally *t = ctx;
    if (key->mv_size < RU_KEY_BYTES)
        return 0;
    if (t->n == 0 || memcmp(t->sites[t->n - 1], key->mv_data, RU_KEY_BYTES) != 0) {
        if (t->n == t->cap) {
            size_t cap = t->cap ? 2 * t->cap : 16;
            uint8_t(*sites)[RU_KEY_BYTES] = realloc(t->sites, cap * sizeof *sites);
            uint64_t *counts = sites ? realloc(t->counts, cap * sizeof *counts) : NULL;
            if (sites)
                t->sites = sites;
            if (!counts) {
                t->err = RU_E_NOMEM;
                return 1;
            }
            t->counts = counts;
            t->cap = cap;
        }
        memcpy(t->sites[t->n], key->mv_data, RU_KEY_BYTES);
        t->counts[t->n++] = 0;
    }
    t->counts[t->n - 1]++;
    return 0;
}

ru_err
ru_state_upgrade(ru_txn_t *txn)
{
    s_tally t = {NULL, NULL, 0, 0, RU_OK};
    ru_err err = ru_txn_scan(txn, RU_DB_authors, NULL, 0, 0, s_tally_status, &t);
    err = err ? err : t.err;
    for (size_t i = 0; !err && i < t.n; i++) {
        ru_counts_rec_t rec = {t.counts[i], 0, 0, 0};
        uint8_t bytes[RU_COUNTS_REC_BYTES];
        ru_counts_rec_encode(&rec, bytes);
        err = ru_txn_put(txn, RU_DB_counts, t.sites[i], RU_KEY_BYTES, bytes, sizeof bytes);
    }
    free(t.sites);
    free(t.counts);
    return err;
}
