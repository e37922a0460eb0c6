/*  ru_api_notify.c - the signed-in user's notifications: the list with
 *  Mastodon's paging and filters, one by id, dismissing and clearing.
 *
 *  The list walks the user's range of the notifs database (ru_notify.h),
 *  newest first, like a timeline: back from max_id, down to since_id, or
 *  up from min_id; limit (default 40, at most 80, as Mastodon) counts the
 *  notifications shown, and the walk passes over those filtered out
 *  (types[], exclude_types[], account_id) or hidden (a deleted status).
 *  Unknown type names in the filters are ignored, as Mastodon does, so a
 *  client may name types this node never makes.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ru_api.h"
#include "ru_dbkey.h"
#include "ru_notify_view.h"
#include "ru_pubid.h"

#define S_ALL_TYPES (((1u << (RU_NOTIFY_MAX + 1)) - 1) & ~1u)

typedef struct {
    ru_view_t view;
    uint8_t prefix[RU_MAX_NAME + 1];
    size_t plen;
    long limit;
    unsigned types; /* bit 1 << type for each type shown */
    int has_account;
    uint64_t account; /* account_id: only this actor's */
    json_t *list;
} s_list;

/*  A notification id: the decimal text of a u64. */
static int
s_parse_id(const char *text, uint64_t *id)
{
    size_t n = text ? strlen(text) : 0;
    uint64_t v = 0;
    if (n == 0 || n > 20 || (n > 1 && text[0] == '0'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (text[i] < '0' || text[i] > '9' || v > (UINT64_MAX - (uint64_t) (text[i] - '0')) / 10)
            return 0;
        v = v * 10 + (uint64_t) (text[i] - '0');
    }
    *id = v;
    return 1;
}

/*  Reads an optional id parameter: 0 absent, 1 present, -1 (422 sent)
 *  malformed. */
static int
s_id_param(ru_req_t *req, const char *name, uint64_t *id)
{
    const char *text = ru_http_param(req, name);
    if (!text || !*text)
        return 0;
    if (s_parse_id(text, id))
        return 1;
    ru_http_error(req, 422, "%s is not a notification id", name);
    return -1;
}

/*  The types named by a parameter given as one string or a list. */
static unsigned
s_type_mask(const ru_req_t *req, const char *name, unsigned absent)
{
    json_t *v = json_object_get(req->params, name);
    if (!v)
        return absent;
    unsigned mask = 0;
    size_t n = json_is_array(v) ? json_array_size(v) : 1;
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_is_array(v) ? json_array_get(v, i) : v);
        ru_notify_type t = s ? ru_notify_type_from_name(s) : 0;
        if (t)
            mask |= 1u << t;
    }
    return mask;
}

/*  Renders the notification under key k if the filters keep it. */
static void
s_take(s_list *l, const MDB_val *k, const MDB_val *v, int at_front)
{
    ru_notify_rec_t rec;
    if (ru_notify_rec_decode(v->mv_data, v->mv_size, &rec) != RU_OK ||
        !(l->types & (1u << rec.type)) ||
        (l->has_account && ru_pubid_user(rec.actor_home, rec.actor_name) != l->account))
        return;
    json_t *j =
        ru_notify_view(&l->view, ru_dbkey_get64((const uint8_t *) k->mv_data + l->plen), &rec);
    if (j && at_front)
        json_array_insert_new(l->list, 0, j);
    else if (j)
        json_array_append_new(l->list, j);
}

static int
s_in_range(const s_list *l, const MDB_val *k)
{
    return k->mv_size == l->plen + 8 && memcmp(k->mv_data, l->prefix, l->plen) == 0;
}

/*  Walks from just past `from` to `stop` (exclusive): backward, newest
 *  first, or forward, each one put in front so the list is newest first. */
static void
s_walk(s_list *l, MDB_cursor *cur, uint64_t from, uint64_t stop, int forward)
{
    uint8_t seek[RU_NOTIFY_KEY_MAX];
    memcpy(seek, l->prefix, l->plen);
    ru_dbkey_be64(seek + l->plen, from);
    MDB_val k = {l->plen + 8, seek}, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (forward && rc == MDB_SUCCESS && s_in_range(l, &k) &&
        ru_dbkey_get64((const uint8_t *) k.mv_data + l->plen) == from)
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    else if (!forward)
        rc = mdb_cursor_get(cur, &k, &v, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
    while (rc == MDB_SUCCESS && s_in_range(l, &k) && (long) json_array_size(l->list) < l->limit) {
        uint64_t id = ru_dbkey_get64((const uint8_t *) k.mv_data + l->plen);
        if (forward ? id >= stop : id <= stop)
            break;
        s_take(l, &k, &v, forward);
        rc = mdb_cursor_get(cur, &k, &v, forward ? MDB_NEXT : MDB_PREV);
    }
}

/*  Reads the filters and paging parameters into l and the bounds; returns
 *  0, or the status of the 422 sent. */
static int
s_list_params(ru_req_t *req, s_list *l, uint64_t *max, uint64_t *since, uint64_t *min, int *has_min)
{
    l->limit = ru_http_param_long(req, "limit", 40, 1, LONG_MAX);
    if (l->limit > 80)
        l->limit = 80; /* as Mastodon: larger asks get the largest page */
    l->types = s_type_mask(req, "types", S_ALL_TYPES) & ~s_type_mask(req, "exclude_types", 0);
    const char *account = ru_http_param(req, "account_id");
    l->has_account = account && *account;
    if (l->has_account && ru_pubid_parse(account, &l->account) != RU_OK)
        return ru_http_error(req, 422, "account_id is not an account id");
    int has_max = 0, has_since = 0;
    if (l->limit < 0 || (has_max = s_id_param(req, "max_id", max)) < 0 ||
        (has_since = s_id_param(req, "since_id", since)) < 0 ||
        (*has_min = s_id_param(req, "min_id", min)) < 0)
        return 422;
    if (!has_max)
        *max = UINT64_MAX;
    if (!has_since)
        *since = 0;
    return 0;
}

int
ru_api_notifications(ru_req_t *req)
{
    s_list l = {.plen = strlen(req->user.name) + 1};
    uint64_t max = 0, since = 0, min = 0;
    int has_min = 0, status = s_list_params(req, &l, &max, &since, &min, &has_min);
    if (status)
        return status;
    memcpy(l.prefix, req->user.name, l.plen);
    ru_txn_t txn;
    MDB_cursor *cur;
    ru_err err = ru_store_read(req->node->store, &txn);
    if (err)
        return ru_http_fail(req, err);
    l.view = ru_api_view(req, &txn);
    l.list = json_array();
    if (mdb_cursor_open(txn.txn, ru_store_dbi(txn.store, RU_DB_notifs), &cur) == MDB_SUCCESS) {
        if (has_min)
            s_walk(&l, cur, min, max, 1);
        else
            s_walk(&l, cur, max, since, 0);
        mdb_cursor_close(cur);
    }
    ru_txn_abort(&txn);
    ru_api_link(req, l.list);
    return ru_http_json(req, 200, l.list);
}

int
ru_api_notification(ru_req_t *req)
{
    uint64_t id;
    if (!s_parse_id(req->args[0], &id))
        return ru_http_fail(req, RU_E_NOT_FOUND);
    ru_txn_t txn;
    ru_err err = ru_store_read(req->node->store, &txn);
    if (err)
        return ru_http_fail(req, err);
    uint8_t key[RU_NOTIFY_KEY_MAX];
    MDB_val val;
    ru_notify_rec_t rec;
    json_t *j = NULL;
    err = ru_txn_get(&txn, RU_DB_notifs, key, ru_notify_key(key, req->user.name, id), &val);
    if (!err)
        err = ru_notify_rec_decode(val.mv_data, val.mv_size, &rec);
    if (!err) {
        ru_view_t v = ru_api_view(req, &txn);
        j = ru_notify_view(&v, id, &rec);
    }
    ru_txn_abort(&txn);
    return j ? ru_http_json(req, 200, j) : ru_http_fail(req, err ? err : RU_E_NOT_FOUND);
}

typedef struct {
    const char *recipient;
    uint64_t id;
    int all;
} s_dismiss;

static ru_err
s_dismiss_fn(const ru_writer_ctx_t *ctx, void *arg)
{
    const s_dismiss *d = arg;
    return d->all ? ru_notify_clear(ctx->txn, d->recipient)
                  : ru_notify_dismiss(ctx->txn, d->recipient, d->id);
}

int
ru_api_notification_dismiss(ru_req_t *req)
{
    s_dismiss d = {req->user.name, 0, 0};
    if (!s_parse_id(req->args[0], &d.id))
        return ru_http_fail(req, RU_E_NOT_FOUND);
    ru_err err = ru_writer_call(req->node->writer, s_dismiss_fn, &d);
    return err ? ru_http_fail(req, err) : ru_http_json(req, 200, json_object());
}

int
ru_api_notifications_clear(ru_req_t *req)
{
    s_dismiss d = {req->user.name, 0, 1};
    ru_err err = ru_writer_call(req->node->writer, s_dismiss_fn, &d);
    return err ? ru_http_fail(req, err) : ru_http_json(req, 200, json_object());
}
