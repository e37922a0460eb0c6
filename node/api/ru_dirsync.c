/*  ru_dirsync.c - this site's employees from the company directory (see
 *  ru_dirsync.h).
 *
 *  A run keeps the names it saw in a hash set, to refuse a name given
 *  twice and, at the end of a complete run, to find the departures: the
 *  site's profiles that carry a directory id, are not departed, and whose
 *  name the run did not see. Those are collected under one read
 *  transaction, then published one by one (a read transaction is never
 *  held across the store actor's commits).
 */
#include "ru_dirsync.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ruche/ru_mp.h"
#include "ruche/ru_text.h"

#include "ru_account.h"
#include "ru_dbkey.h"
#include "ru_log.h"
#include "ru_mediaq.h"
#include "ru_profile.h"
#include "ru_record.h"
#include "ru_search.h"

/*  A map of strings (a set when values are ""): open addressing, keys
 *  compared as given. */
typedef struct {
    char **key, **val; /* key[i] NULL: empty */
    size_t cap, n;
} s_map;

/*  An entry waiting in the batch: copies of its strings (the person
 *  packed as on the wire, read back at the flush). */
typedef struct {
    char name[RU_MAX_NAME + 1];
    char display[RU_MAX_DISPLAY_BYTES];
    uint32_t display_len;
    ru_buf_t person;
    int photo;                         /* 0: the avatar kept; 1: set from avatar; 2: taken away */
    ru_buf_t avatar;                   /* photo 1: its descriptor packed as a list of one */
    uint8_t photo_hash[RU_HASH_BYTES]; /* photo 1: of the directory's bytes */
} s_item;

/*  An entry waiting for its manager's key to be seen. */
typedef struct {
    s_item item;
    char *manager_key;
} s_later;

#define S_BATCH 256 /* entries published in one commit */

struct ru_dirsync_run {
    ru_node_t *node;
    int complete;
    ru_dirsync_resolve_fn resolve;
    void *resolve_ctx;
    s_map seen; /* user names of this run */
    s_map ids;  /* entries' keys (lower case) -> directory ids */
    s_later *later;
    size_t n_later, cap_later;
    ru_dirsync_report_t report;
    s_item batch[S_BATCH];
    size_t n;
    s_item photo; /* the photo of the entry being read (its person unused) */
};

static uint64_t
s_hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t) s[i]) * 1099511628211ull;
    return h;
}

static size_t
s_slot(const s_map *m, const char *key, size_t len)
{
    size_t i = (size_t) s_hash(key, len) & (m->cap - 1);
    while (m->key[i] && !(strlen(m->key[i]) == len && memcmp(m->key[i], key, len) == 0))
        i = (i + 1) & (m->cap - 1);
    return i;
}

/*  The value of key, NULL if none. */
static const char *
s_map_get(const s_map *m, const char *key, size_t len)
{
    return m->cap ? m->val[s_slot(m, key, len)] : NULL;
}

static ru_err
s_map_grow(s_map *m)
{
    size_t cap = m->cap ? 2 * m->cap : 1024;
    s_map bigger = {calloc(cap, sizeof(char *)), calloc(cap, sizeof(char *)), cap, m->n};
    if (!bigger.key || !bigger.val) {
        free(bigger.key);
        free(bigger.val);
        return RU_E_NOMEM;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->key[i]) {
            size_t at = s_slot(&bigger, m->key[i], strlen(m->key[i]));
            bigger.key[at] = m->key[i];
            bigger.val[at] = m->val[i];
        }
    free(m->key);
    free(m->val);
    *m = bigger;
    return RU_OK;
}

/*  Sets key (len bytes) to val; RU_E_NOMEM. */
static ru_err
s_map_put(s_map *m, const char *key, size_t len, const char *val, size_t vlen)
{
    if (2 * (m->n + 1) > m->cap && s_map_grow(m) != RU_OK)
        return RU_E_NOMEM;
    char *k = malloc(len + 1), *v = malloc(vlen + 1);
    if (!k || !v) {
        free(k);
        free(v);
        return RU_E_NOMEM;
    }
    memcpy(k, key, len);
    k[len] = 0;
    memcpy(v, val, vlen);
    v[vlen] = 0;
    size_t at = s_slot(m, k, len);
    if (m->key[at]) {
        free(m->key[at]);
        free(m->val[at]);
    } else {
        m->n++;
    }
    m->key[at] = k;
    m->val[at] = v;
    return RU_OK;
}

static void
s_map_free(s_map *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        free(m->key[i]);
        free(m->val[i]);
    }
    free(m->key);
    free(m->val);
    memset(m, 0, sizeof *m);
}

/*  A key lower-cased into out (size bytes), as the ids map keeps them;
 *  its length, 0 if it does not fit. */
static size_t
s_fold_key(ru_str_t key, char *out, size_t size)
{
    if (key.len >= size)
        return 0;
    for (uint32_t i = 0; i < key.len; i++)
        out[i] = key.ptr[i] >= 'A' && key.ptr[i] <= 'Z' ? (char) (key.ptr[i] - 'A' + 'a')
                                                         : key.ptr[i];
    out[key.len] = 0;
    return key.len;
}

/*  Counts a refusal and keeps its reason (the first ones), logged; RU_OK:
 *  a refusal does not stop the run. */
static ru_err s_refuse(ru_dirsync_run_t *run, const char *fmt, ...) RU_LOG_FORMAT(2, 3);
static void s_reason(ru_dirsync_run_t *run, const char *what, const char *fmt, va_list ap)
    RU_LOG_FORMAT(3, 0);

/*  Keeps a reason (the first ones), logged after what. */
static void
s_reason(ru_dirsync_run_t *run, const char *what, const char *fmt, va_list ap)
{
    ru_dirsync_report_t *r = &run->report;
    char why[sizeof r->reasons[0]];
    vsnprintf(why, sizeof why, fmt, ap);
    if (r->n_reasons < RU_DIRSYNC_REASONS)
        memcpy(r->reasons[r->n_reasons++], why, sizeof why);
    ru_log_warn("directory", "%s: %s", what, why);
}

static ru_err
s_refuse(ru_dirsync_run_t *run, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_reason(run, "entry refused", fmt, ap);
    va_end(ap);
    run->report.refused++;
    return RU_OK;
}

static void s_bad_photo(ru_dirsync_run_t *run, const char *fmt, ...) RU_LOG_FORMAT(2, 3);

/*  Counts a photo left out, the entry going on without it. */
static void
s_bad_photo(ru_dirsync_run_t *run, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_reason(run, "photo left out", fmt, ap);
    va_end(ap);
    run->report.bad_photos++;
}

ru_err
ru_dirsync_begin(ru_node_t *node, int complete, ru_dirsync_resolve_fn resolve, void *resolve_ctx,
                 ru_dirsync_run_t **out)
{
    ru_dirsync_run_t *run = calloc(1, sizeof *run);
    if (!run)
        return RU_E_NOMEM;
    run->node = node;
    run->complete = complete;
    run->resolve = resolve;
    run->resolve_ctx = resolve_ctx;
    for (size_t i = 0; i < S_BATCH; i++) {
        ru_buf_init(&run->batch[i].person);
        ru_buf_init(&run->batch[i].avatar);
    }
    ru_buf_init(&run->photo.avatar);
    *out = run;
    return RU_OK;
}

/*  Who has name here now: the directory id of their profile (empty:
 *  none) copied to id, and their account's (acct->name "" when none). */
static ru_err
s_holder(ru_node_t *node, const char *name, char *id, ru_account_t *acct)
{
    ru_txn_t txn;
    ru_err err = ru_store_read(node->store, &txn);
    if (err)
        return err;
    uint8_t key[RU_DBKEY_USER];
    size_t klen = ru_dbkey_user(key, ru_key_public(node->key),
                                (ru_str_t){name, (uint32_t) strlen(name)});
    ru_person_t p;
    id[0] = 0;
    if (ru_search_person(&txn, key, klen, &p)) {
        memcpy(id, p.dir_id.ptr, p.dir_id.len);
        id[p.dir_id.len] = 0;
    }
    if (ru_account_get(&txn, name, acct) != RU_OK)
        acct->name[0] = 0;
    ru_txn_abort(&txn);
    return RU_OK;
}

static ru_err
s_disable(const ru_writer_ctx_t *ctx, void *arg)
{
    ru_err err = ru_account_update(ctx->txn, arg, NULL, -1, 1);
    if (err == RU_E_NOT_FOUND)
        return RU_OK; /* never signed in here */
    return err ? err : ru_account_end_sessions(ctx->txn, arg);
}

/*  The change of item it, into c (person: where its person is read). */
static ru_err
s_item_change(const s_item *it, ru_profile_change_t *c)
{
    memset(c, 0, sizeof *c);
    c->name = it->name;
    c->set_display = it->display_len > 0;
    c->display_name = (ru_str_t){it->display, it->display_len};
    c->set_entry = 1;
    ru_err err = ru_person_unpack(it->person.data, it->person.len, &c->person);
    c->set_skills = c->person.n_skills > 0;
    c->set_avatar = it->photo != 0;
    ru_media_t one[RU_MAX_MEDIA];
    uint32_t n = 0;
    if (!err && it->photo == 1 &&
        (err = ru_media_unpack(it->avatar.data, it->avatar.len, one, &n)) == RU_OK) {
        c->has_avatar = n == 1;
        c->avatar = one[0];
    }
    return err;
}

/*  Counts what publishing the change c of the run made; a departure
 *  disables the account. */
static ru_err
s_published(ru_dirsync_run_t *run, const ru_profile_change_t *c, int made)
{
    run->report.published += made;
    run->report.unchanged += !made;
    run->report.departed += made && c->person.departed;
    if (!c->person.departed)
        return RU_OK;
    return ru_writer_call(run->node->writer, s_disable, (void *) c->name);
}

/*  The store's own failures stop a run; any other refuses the entry. */
static int
s_store_failure(ru_err err)
{
    return err == RU_E_NOMEM || err == RU_E_STORE || err == RU_E_STORE_FULL ||
           err == RU_E_DISK_FULL || err == RU_E_IO;
}

typedef struct {
    const ru_dirsync_run_t *run;
    const int *made;
} s_photos_done;

/*  Notes the photos of the batch's published entries (store actor). */
static ru_err
s_note_photos(const ru_writer_ctx_t *ctx, void *arg)
{
    const s_photos_done *d = arg;
    ru_err err = RU_OK;
    for (size_t i = 0; !err && i < d->run->n; i++) {
        const s_item *it = &d->run->batch[i];
        if (d->made[i] < 0 || !it->photo)
            continue;
        if (it->photo == 1)
            err = ru_txn_put(ctx->txn, RU_DB_dirphotos, it->name, strlen(it->name),
                             it->photo_hash, RU_HASH_BYTES);
        else if ((err = ru_txn_del(ctx->txn, RU_DB_dirphotos, it->name, strlen(it->name))) ==
                 RU_E_NOT_FOUND)
            err = RU_OK;
    }
    return err;
}

/*  Publishes the batch in one commit; if it fails for an entry's sake,
 *  one by one, refusing those that fail. */
static ru_err
s_flush(ru_dirsync_run_t *run)
{
    ru_profile_change_t c[S_BATCH];
    int made[S_BATCH];
    ru_err err = RU_OK;
    for (size_t i = 0; !err && i < run->n; i++)
        err = s_item_change(&run->batch[i], &c[i]);
    if (!err)
        err = ru_profile_change_many(run->node->writer, c, run->n, made);
    if (err && !s_store_failure(err)) {
        err = RU_OK;
        for (size_t i = 0; !err && i < run->n; i++) {
            ru_err one = s_item_change(&run->batch[i], &c[i]);
            if (!one)
                one = ru_profile_change(run->node->writer, &c[i], &made[i]);
            if (s_store_failure(one)) {
                err = one;
            } else if (one) {
                made[i] = -1; /* refused: neither published nor unchanged */
                err = s_refuse(run, "%s: %s", c[i].name, ru_err_str(one));
            }
        }
    }
    for (size_t i = 0; !err && i < run->n; i++)
        if (made[i] >= 0)
            err = s_published(run, &c[i], made[i]);
    s_photos_done done = {run, made};
    int photos = 0;
    for (size_t i = 0; i < run->n; i++)
        photos |= run->batch[i].photo != 0;
    if (!err && photos) /* no commit for a batch without a photo */
        err = ru_writer_call(run->node->writer, s_note_photos, &done);
    run->n = 0;
    return err;
}

/*  Copies the strings of an entry into item it (the person packed). */
static ru_err
s_item_fill(s_item *it, const char *name, ru_str_t display, const ru_person_t *p,
            const s_item *photo)
{
    snprintf(it->name, sizeof it->name, "%s", name);
    it->photo = photo ? photo->photo : 0;
    ru_buf_reset(&it->avatar);
    if (photo && photo->photo == 1) {
        ru_buf_append(&it->avatar, photo->avatar.data, photo->avatar.len);
        memcpy(it->photo_hash, photo->photo_hash, RU_HASH_BYTES);
    }
    it->display_len = display.len <= sizeof it->display ? display.len : 0;
    if (it->display_len)
        memcpy(it->display, display.ptr, it->display_len);
    ru_buf_reset(&it->person);
    msgpack_packer pk;
    ru_mp_packer_init(&pk, &it->person);
    ru_person_pack(&pk, p);
    ru_err err = ru_buf_status(&it->person);
    return err ? err : ru_buf_status(&it->avatar);
}

/*  Adds an entry to the batch, published when it is full. */
static ru_err
s_queue(ru_dirsync_run_t *run, const char *name, ru_str_t display, const ru_person_t *p,
        const s_item *photo)
{
    ru_err err = s_item_fill(&run->batch[run->n], name, display, p, photo);
    return err ? err : ++run->n == S_BATCH ? s_flush(run) : RU_OK;
}

/*  Keeps an entry whose manager's key the run has not seen yet. */
static ru_err
s_defer(ru_dirsync_run_t *run, const char *name, ru_str_t display, const ru_person_t *p,
        const s_item *photo, const char *manager_key)
{
    if (run->n_later == run->cap_later) {
        size_t cap = run->cap_later ? 2 * run->cap_later : 256;
        s_later *more = realloc(run->later, cap * sizeof *more);
        if (!more)
            return RU_E_NOMEM;
        run->later = more;
        run->cap_later = cap;
    }
    s_later *l = &run->later[run->n_later];
    ru_buf_init(&l->item.person);
    ru_buf_init(&l->item.avatar);
    l->manager_key = strdup(manager_key);
    ru_err err = l->manager_key ? s_item_fill(&l->item, name, display, p, photo) : RU_E_NOMEM;
    if (err) {
        ru_buf_fini(&l->item.person);
        ru_buf_fini(&l->item.avatar);
        free(l->manager_key);
        return err;
    }
    run->n_later++;
    return RU_OK;
}

/*  The hash of the directory photo last made name's avatar, into hash;
 *  0 if none. */
static int
s_photo_had(ru_dirsync_run_t *run, const char *name, uint8_t *hash)
{
    ru_txn_t txn;
    MDB_val val;
    int had = 0;
    if (ru_store_read(run->node->store, &txn) != RU_OK)
        return 0;
    if (ru_txn_get(&txn, RU_DB_dirphotos, name, strlen(name), &val) == RU_OK &&
        val.mv_size == RU_HASH_BYTES) {
        memcpy(hash, val.mv_data, RU_HASH_BYTES);
        had = 1;
    }
    ru_txn_abort(&txn);
    return had;
}

/*  The photo of e, into the run's photo item: made an avatar when it is
 *  not the one made last time, taken away when the source has none any
 *  more, untouched when the directory does not own avatars. A photo that
 *  cannot be made is reported, and the entry goes on without it. */
static ru_err
s_photo(ru_dirsync_run_t *run, const char *name, const ru_dir_entry_t *e)
{
    s_item *ph = &run->photo;
    ph->photo = 0;
    if (!ru_config_dir_owns(&run->node->cfg, "avatar"))
        return RU_OK;
    if (e->photo_too_big) {
        s_bad_photo(run, "%s: the photo is larger than the directory's limit", name);
        return RU_OK;
    }
    uint8_t had[RU_HASH_BYTES];
    int has_had = s_photo_had(run, name, had);
    if (!e->photo_len) {
        ph->photo = e->photos_known && has_had ? 2 : 0;
        return RU_OK;
    }
    crypto_generichash(ph->photo_hash, RU_HASH_BYTES, e->photo, e->photo_len, NULL, 0);
    if (has_had && memcmp(had, ph->photo_hash, RU_HASH_BYTES) == 0)
        return RU_OK;
    ru_mediaq_image_t img;
    ru_err err = ru_mediaq_image(run->node, e->photo, e->photo_len, &img);
    if (err == RU_E_NOMEM || err == RU_E_IO || err == RU_E_DISK_FULL)
        return err;
    if (err) {
        s_bad_photo(run, "%s: %s", name, img.why);
        return RU_OK;
    }
    ru_buf_reset(&ph->avatar);
    msgpack_packer pk;
    ru_mp_packer_init(&pk, &ph->avatar);
    ru_media_pack(&pk, &img.media, 1);
    err = ru_buf_status(&ph->avatar);
    ph->photo = err ? 0 : 1;
    run->report.photos += !err;
    return err;
}

ru_err
ru_dirsync_entry(ru_dirsync_run_t *run, const ru_dir_entry_t *e)
{
    char name[RU_MAX_NAME + 1], id[RU_MAX_DIR_ID + 1];
    run->report.seen++;
    if (e->name.len == 0)
        return s_refuse(run, "an entry has no user name (directory id %.*s)",
                        (int) (e->person.dir_id.len > 64 ? 64 : e->person.dir_id.len),
                        e->person.dir_id.ptr);
    if (ru_name_check(e->name.ptr, e->name.len) != RU_OK)
        return s_refuse(run, "%.*s is not a user name (a-z, 0-9, '_', '.', '-')",
                        (int) (e->name.len > 64 ? 64 : e->name.len), e->name.ptr);
    memcpy(name, e->name.ptr, e->name.len);
    name[e->name.len] = 0;
    if (e->person.dir_id.len == 0 || memchr(e->person.dir_id.ptr, 0, e->person.dir_id.len))
        return s_refuse(run, "%s has no directory id", name);
    if (s_map_get(&run->seen, name, e->name.len))
        return s_refuse(run, "%s is given twice", name);
    ru_err err = s_map_put(&run->seen, name, e->name.len, "", 0);
    ru_account_t acct;
    if (!err)
        err = s_holder(run->node, name, id, &acct);
    if (err)
        return err;
    ru_str_t want = e->person.dir_id;
    if (id[0] && (strlen(id) != want.len || memcmp(id, want.ptr, want.len) != 0))
        return s_refuse(run, "%s is another employee's here (directory id %s)", name, id);
    if (acct.name[0] && acct.source == RU_ACCOUNT_LOCAL)
        return s_refuse(run, "%s is a local account of this site, not the directory's", name);
    if (acct.name[0] && acct.dir_id[0] &&
        (strlen(acct.dir_id) != want.len || memcmp(acct.dir_id, want.ptr, want.len) != 0))
        return s_refuse(run, "%s signs in as another person here (directory id %s)", name,
                        acct.dir_id);
    if (e->display_name.len > RU_MAX_DISPLAY_BYTES)
        return s_refuse(run, "%s: the display name is longer than %d bytes", name,
                        RU_MAX_DISPLAY_BYTES);
    char key[RU_DIRSYNC_KEY_MAX];
    size_t klen = s_fold_key(e->key, key, sizeof key);
    if (klen && (err = s_map_put(&run->ids, key, klen, want.ptr, want.len)) != RU_OK)
        return err;
    if ((err = s_photo(run, name, e)) != RU_OK)
        return err;
    ru_person_t p = e->person;
    if (!p.manager.len && e->manager_key.len) {
        klen = s_fold_key(e->manager_key, key, sizeof key);
        const char *boss = klen ? s_map_get(&run->ids, key, klen) : NULL;
        if (!boss && klen)
            return s_defer(run, name, e->display_name, &p, &run->photo, key);
        p.manager = boss ? (ru_str_t){boss, (uint32_t) strlen(boss)} : p.manager;
    }
    return s_queue(run, name, e->display_name, &p, &run->photo);
}

/*  The id of the manager whose key is key: the run's, else the
 *  resolver's (kept in the map, "" for none); NULL: RU_E_NOMEM. */
static const char *
s_manager_id(ru_dirsync_run_t *run, const char *key)
{
    size_t len = strlen(key);
    const char *id = s_map_get(&run->ids, key, len);
    if (id || !run->resolve)
        return id ? id : "";
    char found[RU_MAX_DIR_ID + 1];
    ru_err err = run->resolve(run->resolve_ctx, key, found, sizeof found);
    if (err && err != RU_E_NOT_FOUND)
        ru_log_warn("directory", "the manager %s could not be found: %s", key, ru_err_str(err));
    if (err)
        found[0] = 0;
    if (s_map_put(&run->ids, key, len, found, strlen(found)) != RU_OK)
        return NULL;
    return s_map_get(&run->ids, key, len);
}

/*  The entries that waited for their manager: the manager's id if the run
 *  saw their key or the resolver finds it, else none. */
static ru_err
s_resolve_later(ru_dirsync_run_t *run)
{
    ru_err err = RU_OK;
    for (size_t i = 0; !err && i < run->n_later; i++) {
        s_later *l = &run->later[i];
        ru_person_t p;
        err = ru_person_unpack(l->item.person.data, l->item.person.len, &p);
        const char *boss = s_manager_id(run, l->manager_key);
        if (!err && !boss)
            err = RU_E_NOMEM;
        p.manager = boss ? (ru_str_t){boss, (uint32_t) strlen(boss)} : (ru_str_t){"", 0};
        if (!err)
            err = s_queue(run, l->item.name,
                          (ru_str_t){l->item.display, l->item.display_len}, &p, &l->item);
    }
    return err;
}

/*  ---------------------------------------------------------------------
 *  Departures
 */

typedef struct {
    ru_dirsync_run_t *run;
    char (*gone)[RU_MAX_NAME + 1];
    size_t n, cap;
    ru_err err;
} s_gone;

static int
s_gone_entry(void *ctx, const MDB_val *key, const MDB_val *val)
{
    s_gone *g = ctx;
    size_t len = key->mv_size - RU_KEY_BYTES - 1;
    const char *name = (const char *) key->mv_data + RU_KEY_BYTES;
    ru_profile_rec_t rec;
    ru_person_t p;
    if (key->mv_size < RU_KEY_BYTES + 2 || len > RU_MAX_NAME ||
        s_map_get(&g->run->seen, name, len) ||
        ru_profile_rec_decode(val->mv_data, val->mv_size, &rec) != RU_OK || !rec.person.len ||
        ru_person_unpack(rec.person.ptr, rec.person.len, &p) != RU_OK || !p.dir_id.len ||
        p.departed)
        return 0;
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 64;
        void *more = realloc(g->gone, cap * sizeof *g->gone);
        if (!more) {
            g->err = RU_E_NOMEM;
            return 1;
        }
        g->gone = more;
        g->cap = cap;
    }
    memcpy(g->gone[g->n], name, len);
    g->gone[g->n++][len] = 0;
    return 0;
}

/*  The departure of name: their entry as it is, departed, queued in the
 *  batch. */
static ru_err
s_depart(ru_dirsync_run_t *run, const char *name)
{
    ru_txn_t txn;
    ru_err err = ru_store_read(run->node->store, &txn);
    if (err)
        return err;
    uint8_t key[RU_DBKEY_USER];
    size_t klen = ru_dbkey_user(key, ru_key_public(run->node->key),
                                (ru_str_t){name, (uint32_t) strlen(name)});
    ru_person_t p;
    if (ru_search_person(&txn, key, klen, &p)) {
        p.departed = 1;
        p.n_skills = 0; /* kept as they are */
        err = s_queue(run, name, (ru_str_t){"", 0}, &p, NULL);
    }
    ru_txn_abort(&txn);
    return err;
}

static ru_err
s_departures(ru_dirsync_run_t *run)
{
    s_gone g = {run, NULL, 0, 0, RU_OK};
    ru_txn_t txn;
    ru_err err = ru_store_read(run->node->store, &txn);
    if (err)
        return err;
    err = ru_txn_scan(&txn, RU_DB_profiles, ru_key_public(run->node->key), RU_KEY_BYTES, 0,
                      s_gone_entry, &g);
    ru_txn_abort(&txn);
    err = err ? err : g.err;
    for (size_t i = 0; !err && i < g.n; i++)
        err = s_depart(run, g.gone[i]);
    free(g.gone);
    return err ? err : s_flush(run);
}

void
ru_dirsync_progress(const ru_dirsync_run_t *run, ru_dirsync_report_t *report)
{
    *report = run->report;
}

ru_err
ru_dirsync_end(ru_dirsync_run_t *run, int abort, ru_dirsync_report_t *report)
{
    if (!run)
        return RU_OK;
    ru_err err = abort ? RU_OK : s_resolve_later(run);
    if (!err && !abort)
        err = s_flush(run);
    if (!err && run->complete && !abort)
        err = s_departures(run);
    if (report)
        *report = run->report;
    ru_log_info("directory",
                "%llu entries, %llu published, %llu unchanged, %llu refused, %llu departed",
                (unsigned long long) run->report.seen, (unsigned long long) run->report.published,
                (unsigned long long) run->report.unchanged,
                (unsigned long long) run->report.refused,
                (unsigned long long) run->report.departed);
    for (size_t i = 0; i < S_BATCH; i++) {
        ru_buf_fini(&run->batch[i].person);
        ru_buf_fini(&run->batch[i].avatar);
    }
    ru_buf_fini(&run->photo.avatar);
    for (size_t i = 0; i < run->n_later; i++) {
        ru_buf_fini(&run->later[i].item.person);
        ru_buf_fini(&run->later[i].item.avatar);
        free(run->later[i].manager_key);
    }
    free(run->later);
    s_map_free(&run->seen);
    s_map_free(&run->ids);
    free(run);
    return err;
}
