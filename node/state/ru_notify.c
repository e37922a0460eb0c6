/*  ru_notify.c - notifications (see ru_notify.h).
 *
 *  notifs:      recipient | 0 | id (u64, big-endian) -> record
 *  notif_keys:  recipient | 0 | subject -> id (u64, big-endian)
 *  subjects:    's' | status ref                    a mention or a reply
 *               'f' | status ref | actor user key   a favourite
 *               'F' | actor user key                a follow
 *  record:      type u8 | cause ref | hlc u64 | has_status u8 | status ref |
 *               actor home | actor name (the rest)
 *
 *  notif_keys answers "was this user told of this already?" (a second like
 *  of one status, or an edit of a status that mentioned them, tells them
 *  nothing new), finds what an unlike or unfollow takes back, and lets
 *  ru_notify_made() find the notifications of one update without a scan.
 *  Dismissing keeps the subject, so dismissed news does not come back.
 *
 *  Applying and reporting share one step, s_collect(): the list of users
 *  of this node that an update concerns, each with a type, and the status
 *  it is about. A user of this node is one with an account, or an
 *  employee the directory published here who has not signed in yet: their
 *  notifications wait for their first sign-in. Applying then stores what is new, or takes back; reporting
 *  looks up what that very update stored.
 */
#include "ru_notify.h"

#include <stdlib.h>
#include <string.h>

#include "ruche/ru_hlc.h"

#include "ru_account.h"
#include "ru_dbkey.h"
#include "ru_entity.h"
#include "ru_record.h"
#include "ru_search.h"

#define S_MAX_EVENTS 256 /* users of this node one update may notify */
#define S_META_LAST "notify_last"
#define S_REC_FIXED (1 + RU_DBKEY_REF + 8 + 1 + RU_DBKEY_REF + RU_KEY_BYTES)
#define S_SUBJECT_MAX (RU_MAX_NAME + 1 + 1 + RU_DBKEY_REF + RU_DBKEY_USER)

static const char *const s_type_names[RU_NOTIFY_MAX + 1] = {
    [RU_NOTIFY_MENTION] = "mention",
    [RU_NOTIFY_REPLY] = "reply",
    [RU_NOTIFY_FAVOURITE] = "favourite",
    [RU_NOTIFY_FOLLOW] = "follow",
};

const char *
ru_notify_type_name(ru_notify_type type)
{
    return type >= 1 && type <= RU_NOTIFY_MAX ? s_type_names[type] : NULL;
}

ru_notify_type
ru_notify_type_from_name(const char *name)
{
    for (int t = 1; t <= RU_NOTIFY_MAX; t++)
        if (strcmp(s_type_names[t], name) == 0)
            return (ru_notify_type) t;
    return 0;
}

size_t
ru_notify_key(uint8_t *out, const char *recipient, uint64_t id)
{
    size_t n = strnlen(recipient, RU_MAX_NAME);
    memcpy(out, recipient, n);
    out[n] = 0;
    ru_dbkey_be64(out + n + 1, id);
    return n + 1 + 8;
}

/*  ---------------------------------------------------------------------
 *  Who an update concerns
 */

typedef struct {
    ru_txn_t *txn;
    const uint8_t *self;
    ru_site_resolver resolve;
    void *resolve_ctx;
    const ru_update_t *u;
    int has_status;
    ru_ref_t status;
    int n;
    ru_notify_type types[S_MAX_EVENTS];
    char names[S_MAX_EVENTS][RU_MAX_NAME + 1];
} s_events;

/*  Is name an employee of this site whom the directory published, still
 *  with the company, who has not signed in yet? Their notifications wait
 *  for their first sign-in. */
static int
s_employee_here(const s_events *ev, ru_str_t name)
{
    uint8_t key[RU_DBKEY_USER];
    ru_person_t p;
    return ru_search_person(ev->txn, key, ru_dbkey_user(key, ev->self, name), &p) &&
           p.dir_id.len && !p.departed;
}

/*  Adds the user name of this node, unless it is nobody here (no account,
 *  and no employee the directory published), the update's author, already
 *  listed, or one too many. */
static ru_err
s_add(s_events *ev, ru_notify_type type, ru_str_t name)
{
    const ru_update_t *u = ev->u;
    if (name.len == 0 || name.len > RU_MAX_NAME || ev->n == S_MAX_EVENTS)
        return RU_OK;
    if (memcmp(u->origin, ev->self, RU_KEY_BYTES) == 0 && u->author.len == name.len &&
        memcmp(u->author.ptr, name.ptr, name.len) == 0)
        return RU_OK; /* one's own doing */
    char *who = ev->names[ev->n];
    memcpy(who, name.ptr, name.len);
    who[name.len] = '\0';
    for (int i = 0; i < ev->n; i++)
        if (strcmp(ev->names[i], who) == 0)
            return RU_OK;
    ru_account_t acct;
    ru_err err = ru_account_get(ev->txn, who, &acct);
    if (err == RU_E_NOT_FOUND && s_employee_here(ev, name))
        err = RU_OK;
    if (err)
        return err == RU_E_NOT_FOUND ? RU_OK : err;
    ev->types[ev->n++] = type;
    return RU_OK;
}

/*  The users of this node mentioned in text written at origin. */
static ru_err
s_mentions(s_events *ev, const uint8_t *origin, ru_str_t text)
{
    size_t pos = 0;
    ru_entity_t e;
    uint8_t home[RU_KEY_BYTES];
    ru_err err = RU_OK;
    while (!err && ru_entity_next(text.ptr, text.len, &pos, &e)) {
        if (e.kind != RU_ENTITY_MENTION)
            continue;
        if (!e.site[0])
            memcpy(home, origin, RU_KEY_BYTES);
        else if (!ev->resolve || !ev->resolve(ev->resolve_ctx, e.site, home))
            continue;
        if (memcmp(home, ev->self, RU_KEY_BYTES) == 0)
            err = s_add(ev, RU_NOTIFY_MENTION, (ru_str_t){e.name, (uint32_t) strlen(e.name)});
    }
    return err;
}

/*  Loads the post ref; RU_E_NOT_FOUND when missing or deleted. */
static ru_err
s_live_post(const s_events *ev, const ru_ref_t *ref, ru_post_rec_t *rec)
{
    ru_err err = ru_post_rec_get(ev->txn, ref, rec);
    return !err && rec->deleted ? RU_E_NOT_FOUND : err;
}

static ru_err
s_noop_if_missing(ru_err err)
{
    return err == RU_E_NOT_FOUND ? RU_OK : err;
}

static int
s_is_self(const s_events *ev, const uint8_t *home)
{
    return memcmp(home, ev->self, RU_KEY_BYTES) == 0;
}

/*  Makes the target of the update the events' status, and loads it. */
static ru_err
s_target(s_events *ev, ru_post_rec_t *rec)
{
    ev->status = ev->u->target;
    ev->has_status = 1;
    return s_live_post(ev, &ev->u->target, rec);
}

/*  A post or reply: who it mentions, then the author of its parent. */
static ru_err
s_collect_post(s_events *ev)
{
    const ru_update_t *u = ev->u;
    ru_post_rec_t rec, parent;
    memcpy(ev->status.origin, u->origin, RU_KEY_BYTES);
    ev->status.seq = u->seq;
    ev->has_status = 1;
    ru_err err = s_live_post(ev, &ev->status, &rec);
    if (!err)
        err = s_mentions(ev, u->origin, u->text);
    if (err || !rec.has_parent || !s_is_self(ev, rec.parent.origin))
        return s_noop_if_missing(err);
    err = s_live_post(ev, &rec.parent, &parent);
    return err ? s_noop_if_missing(err) : s_add(ev, RU_NOTIFY_REPLY, parent.author);
}

/*  An edit that took effect: who its new text mentions. */
static ru_err
s_collect_edit(s_events *ev)
{
    const ru_update_t *u = ev->u;
    ru_post_rec_t rec;
    ru_err err = s_target(ev, &rec);
    if (err)
        return s_noop_if_missing(err);
    int own = memcmp(u->target.origin, u->origin, RU_KEY_BYTES) == 0 &&
              rec.author.len == u->author.len &&
              memcmp(rec.author.ptr, u->author.ptr, u->author.len) == 0;
    return own && rec.edit_hlc == u->hlc ? s_mentions(ev, u->origin, u->text) : RU_OK;
}

/*  A like or unlike: the author of the status, when they live here. */
static ru_err
s_collect_like(s_events *ev)
{
    const ru_update_t *u = ev->u;
    ru_post_rec_t rec;
    if (!s_is_self(ev, u->target.origin))
        return RU_OK;
    ru_err err = s_target(ev, &rec);
    return err ? s_noop_if_missing(err) : s_add(ev, RU_NOTIFY_FAVOURITE, rec.author);
}

/*  A follow or unfollow: the followed user, when they live here. */
static ru_err
s_collect_follow(s_events *ev)
{
    const ru_update_t *u = ev->u;
    return s_is_self(ev, u->user.home) ? s_add(ev, RU_NOTIFY_FOLLOW, u->user.name) : RU_OK;
}

typedef ru_err (*s_collector)(s_events *ev);

static const s_collector s_collectors[RU_KIND_MAX + 1] = {
    [RU_KIND_POST] = s_collect_post,       [RU_KIND_REPLY] = s_collect_post,
    [RU_KIND_EDIT] = s_collect_edit,       [RU_KIND_LIKE] = s_collect_like,
    [RU_KIND_UNLIKE] = s_collect_like,     [RU_KIND_FOLLOW] = s_collect_follow,
    [RU_KIND_UNFOLLOW] = s_collect_follow,
};

/*  The events of u, or NULL (*err set) when there are none or on error;
 *  the caller frees. */
static s_events *
s_collect(ru_txn_t *txn, const uint8_t *self, ru_site_resolver resolve, void *resolve_ctx,
          const ru_update_t *u, ru_err *err)
{
    *err = RU_OK;
    int quiet = (u->kind == RU_KIND_POST || u->kind == RU_KIND_EDIT) &&
                (u->text.len == 0 || !memchr(u->text.ptr, '@', u->text.len)); /* no mention */
    if (u->kind < 1 || u->kind > RU_KIND_MAX || !s_collectors[u->kind] || quiet)
        return NULL;
    s_events *ev = malloc(sizeof *ev);
    if (!ev) {
        *err = RU_E_NOMEM;
        return NULL;
    }
    ev->txn = txn; /* the lists are left as they are: only the first n count */
    ev->self = self;
    ev->resolve = resolve;
    ev->resolve_ctx = resolve_ctx;
    ev->u = u;
    ev->has_status = 0;
    ev->n = 0;
    *err = s_collectors[u->kind](ev);
    if (*err || ev->n == 0) {
        free(ev);
        return NULL;
    }
    return ev;
}

/*  ---------------------------------------------------------------------
 *  Records
 */

/*  The notif_keys key of event i. */
static size_t
s_subject(const s_events *ev, int i, uint8_t *key)
{
    size_t n = strlen(ev->names[i]) + 1;
    memcpy(key, ev->names[i], n);
    ru_notify_type t = ev->types[i];
    key[n++] = t == RU_NOTIFY_FOLLOW ? 'F' : t == RU_NOTIFY_FAVOURITE ? 'f' : 's';
    if (t != RU_NOTIFY_FOLLOW)
        n += ru_dbkey_ref(key + n, ev->status.origin, ev->status.seq);
    if (t == RU_NOTIFY_FOLLOW || t == RU_NOTIFY_FAVOURITE)
        n += ru_dbkey_user(key + n, ev->u->origin, ev->u->author);
    return n;
}

static size_t
s_rec_encode(const s_events *ev, int i, uint8_t *out)
{
    const ru_update_t *u = ev->u;
    out[0] = (uint8_t) ev->types[i];
    ru_dbkey_ref(out + 1, u->origin, u->seq);
    ru_dbkey_be64(out + 1 + RU_DBKEY_REF, u->hlc);
    out[9 + RU_DBKEY_REF] = ev->types[i] != RU_NOTIFY_FOLLOW;
    ru_dbkey_ref(out + 10 + RU_DBKEY_REF, ev->status.origin, ev->status.seq);
    memcpy(out + 10 + 2 * RU_DBKEY_REF, u->origin, RU_KEY_BYTES);
    memcpy(out + S_REC_FIXED, u->author.ptr, u->author.len);
    return S_REC_FIXED + u->author.len;
}

ru_err
ru_notify_rec_decode(const void *bytes, size_t len, ru_notify_rec_t *rec)
{
    const uint8_t *p = bytes;
    if (len <= S_REC_FIXED || len > S_REC_FIXED + RU_MAX_NAME || p[0] < 1 || p[0] > RU_NOTIFY_MAX)
        return RU_E_STORE;
    rec->type = (ru_notify_type) p[0];
    memcpy(rec->cause.origin, p + 1, RU_KEY_BYTES);
    rec->cause.seq = ru_dbkey_get64(p + 1 + RU_KEY_BYTES);
    rec->hlc = ru_dbkey_get64(p + 1 + RU_DBKEY_REF);
    rec->has_status = p[9 + RU_DBKEY_REF] != 0;
    memcpy(rec->status.origin, p + 10 + RU_DBKEY_REF, RU_KEY_BYTES);
    rec->status.seq = ru_dbkey_get64(p + 10 + RU_DBKEY_REF + RU_KEY_BYTES);
    memcpy(rec->actor_home, p + 10 + 2 * RU_DBKEY_REF, RU_KEY_BYTES);
    rec->actor_name = (ru_str_t){(const char *) p + S_REC_FIXED, (uint32_t) (len - S_REC_FIXED)};
    return RU_OK;
}

/*  A new id: later than the last one, and than now. */
static ru_err
s_next_id(ru_txn_t *txn, uint64_t *id)
{
    MDB_val val;
    ru_err err = ru_txn_get(txn, RU_DB_meta, S_META_LAST, strlen(S_META_LAST), &val);
    if (err && err != RU_E_NOT_FOUND)
        return err;
    uint64_t last = !err && val.mv_size == 8 ? ru_dbkey_get64(val.mv_data) : 0;
    uint64_t now = ru_hlc_wall_ms() << 16;
    *id = now > last ? now : last + 1;
    uint8_t bytes[8];
    ru_dbkey_be64(bytes, *id);
    return ru_txn_put(txn, RU_DB_meta, S_META_LAST, strlen(S_META_LAST), bytes, sizeof bytes);
}

/*  The id stored under a subject; RU_E_NOT_FOUND if none. */
static ru_err
s_subject_id(ru_txn_t *txn, const uint8_t *subject, size_t len, uint64_t *id)
{
    MDB_val val;
    ru_err err = ru_txn_get(txn, RU_DB_notif_keys, subject, len, &val);
    if (!err && val.mv_size != 8)
        err = RU_E_STORE;
    if (!err)
        *id = ru_dbkey_get64(val.mv_data);
    return err;
}

/*  Stores event i unless its recipient was told already. */
static ru_err
s_make(const s_events *ev, int i)
{
    uint8_t subject[S_SUBJECT_MAX], key[RU_NOTIFY_KEY_MAX], rec[S_REC_FIXED + RU_MAX_NAME], id8[8];
    size_t slen = s_subject(ev, i, subject);
    uint64_t id = 0;
    ru_err err = s_subject_id(ev->txn, subject, slen, &id);
    if (err != RU_E_NOT_FOUND)
        return err; /* RU_OK: told already */
    err = s_next_id(ev->txn, &id);
    ru_dbkey_be64(id8, id);
    if (!err)
        err = ru_txn_put(ev->txn, RU_DB_notifs, key, ru_notify_key(key, ev->names[i], id), rec,
                         s_rec_encode(ev, i, rec));
    return err ? err : ru_txn_put(ev->txn, RU_DB_notif_keys, subject, slen, id8, sizeof id8);
}

/*  Takes event i back (an unlike, an unfollow). */
static ru_err
s_take_back(const s_events *ev, int i)
{
    uint8_t subject[S_SUBJECT_MAX], key[RU_NOTIFY_KEY_MAX];
    size_t slen = s_subject(ev, i, subject);
    uint64_t id;
    ru_err err = s_subject_id(ev->txn, subject, slen, &id);
    if (err)
        return s_noop_if_missing(err);
    err = ru_txn_del(ev->txn, RU_DB_notifs, key, ru_notify_key(key, ev->names[i], id));
    return err ? err : ru_txn_del(ev->txn, RU_DB_notif_keys, subject, slen);
}

ru_err
ru_notify_apply(ru_txn_t *txn, const uint8_t *self, ru_site_resolver resolve, void *resolve_ctx,
                const ru_update_t *u)
{
    ru_err err;
    s_events *ev = s_collect(txn, self, resolve, resolve_ctx, u, &err);
    int take_back = u->kind == RU_KIND_UNLIKE || u->kind == RU_KIND_UNFOLLOW;
    for (int i = 0; ev && !err && i < ev->n; i++)
        err = take_back ? s_take_back(ev, i) : s_make(ev, i);
    free(ev);
    return err;
}

/*  ---------------------------------------------------------------------
 *  Reading
 */

/*  Calls fn with event i's notification if u is what made it. */
static ru_err
s_report(const s_events *ev, int i, ru_notify_made_fn fn, void *ctx)
{
    uint8_t subject[S_SUBJECT_MAX], key[RU_NOTIFY_KEY_MAX];
    uint64_t id;
    MDB_val val;
    ru_notify_rec_t rec;
    ru_err err = s_subject_id(ev->txn, subject, s_subject(ev, i, subject), &id);
    if (!err)
        err = ru_txn_get(ev->txn, RU_DB_notifs, key, ru_notify_key(key, ev->names[i], id), &val);
    if (!err)
        err = ru_notify_rec_decode(val.mv_data, val.mv_size, &rec);
    if (err)
        return s_noop_if_missing(err);
    if (memcmp(rec.cause.origin, ev->u->origin, RU_KEY_BYTES) != 0 || rec.cause.seq != ev->u->seq)
        return RU_OK; /* an earlier update's */
    fn(ctx, ev->names[i], id, &rec);
    return RU_OK;
}

ru_err
ru_notify_made(ru_txn_t *txn, const uint8_t *self, ru_site_resolver resolve, void *resolve_ctx,
               const ru_update_t *u, ru_notify_made_fn fn, void *ctx)
{
    if (u->kind == RU_KIND_UNLIKE || u->kind == RU_KIND_UNFOLLOW)
        return RU_OK;
    ru_err err;
    s_events *ev = s_collect(txn, self, resolve, resolve_ctx, u, &err);
    for (int i = 0; ev && !err && i < ev->n; i++)
        err = s_report(ev, i, fn, ctx);
    free(ev);
    return err;
}

/*  ---------------------------------------------------------------------
 *  Dismissing
 */

ru_err
ru_notify_dismiss(ru_txn_t *txn, const char *recipient, uint64_t id)
{
    uint8_t key[RU_NOTIFY_KEY_MAX];
    size_t len = ru_notify_key(key, recipient, id);
    MDB_val val;
    ru_err err = ru_txn_get(txn, RU_DB_notifs, key, len, &val);
    return err ? err : ru_txn_del(txn, RU_DB_notifs, key, len);
}

/*  Collects up to 256 ids of a scan of one recipient's notifications. */
typedef struct {
    uint64_t ids[256];
    int n;
} s_ids;

static int
s_collect_id(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) val;
    s_ids *page = ctx;
    page->ids[page->n++] = ru_dbkey_get64((const uint8_t *) key->mv_data + key->mv_size - 8);
    return page->n == 256;
}

ru_err
ru_notify_clear(ru_txn_t *txn, const char *recipient)
{
    uint8_t key[RU_NOTIFY_KEY_MAX];
    size_t plen = ru_notify_key(key, recipient, 0) - 8;
    s_ids page;
    ru_err err;
    do {
        page.n = 0;
        err = ru_txn_scan(txn, RU_DB_notifs, key, plen, 0, s_collect_id, &page);
        for (int i = 0; !err && i < page.n; i++)
            err = ru_txn_del(txn, RU_DB_notifs, key, ru_notify_key(key, recipient, page.ids[i]));
    } while (!err && page.n == 256);
    return err;
}
