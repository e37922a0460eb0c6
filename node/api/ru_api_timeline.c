/*  ru_api_timeline.c - timelines and their paging.
 *
 *  Every timeline is an index whose keys are prefix | hlc | origin | seq,
 *  so a page is one cursor walk: backwards from max_id (newest first), or
 *  forwards from min_id (then reversed), stopping at since_id, at the end
 *  of the prefix, or when limit statuses the viewer may see are found.
 *  A status id stands for the first 16 bytes of the position (ru_pubid.h),
 *  which is all the walk compares.
 *
 *  A walk also stops after [http] walk_budget index entries, whatever the
 *  viewer may see of them (a timeline of statuses hidden from them would
 *  otherwise be read whole for one page): the page is then shorter than
 *  its limit, maybe empty, and its Link header goes on from the last entry
 *  looked at, so a client that follows it loses nothing.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ru_api.h"
#include "ru_dbkey.h"
#include "ru_pubid.h"

#define S_POS16 RU_PUBID_POS

typedef struct {
    ru_req_t *req;
    ru_view_t view;
    size_t plen;
    int public_only;
    long limit;
    json_t *list;
    long budget;                 /* index entries still to look at */
    int cut;                     /* the budget ended the walk */
    uint8_t first[S_POS16];      /* when cut: the first entry looked at ... */
    uint8_t last[S_POS16];       /* ... and the last */
} s_page;

/*  Reads an optional status-id parameter into pos; 0 if absent, -1 (and a
 *  422 sent) if malformed, 1 if present. */
static int
s_id_param(ru_req_t *req, const char *name, uint8_t *pos)
{
    const char *id = ru_http_param(req, name);
    if (!id || !*id)
        return 0;
    if (ru_pubid_status_parse(id, pos) != RU_OK) {
        ru_http_error(req, 422, "%s is not a status id", name);
        return -1;
    }
    return 1;
}

/*  Renders the status of index key k if the viewer may see it. */
static void
s_take(s_page *p, const MDB_val *k)
{
    const uint8_t *key = (const uint8_t *) k->mv_data + p->plen;
    ru_ref_t ref;
    memcpy(ref.origin, key + 8, RU_KEY_BYTES);
    ref.seq = ru_dbkey_get64(key + 8 + RU_KEY_BYTES);
    uint8_t pk[RU_DBKEY_REF];
    MDB_val val;
    ru_post_rec_t rec;
    if (ru_txn_get(p->view.txn, RU_DB_posts, pk, ru_dbkey_ref(pk, ref.origin, ref.seq), &val) ||
        ru_post_rec_decode(val.mv_data, val.mv_size, &rec) ||
        !ru_view_visible(&p->view, &ref, &rec) ||
        (p->public_only && rec.visibility != RU_VIS_PUBLIC))
        return;
    json_t *s = ru_view_status(&p->view, &ref, &rec);
    if (s)
        json_array_append_new(p->list, s);
}

/*  The 16 position bytes of an index key, compared with pos. */
static int
s_cmp(const s_page *p, const MDB_val *k, const uint8_t *pos)
{
    return memcmp((const uint8_t *) k->mv_data + p->plen, pos, S_POS16);
}

static int
s_in_prefix(const s_page *p, const MDB_val *k, const uint8_t *prefix)
{
    return k->mv_size == p->plen + RU_DBKEY_POS && memcmp(k->mv_data, prefix, p->plen) == 0;
}

/*  Walks from just after `from` (forward) or just before it (backward) to
 *  `stop` (exclusive, or NULL). */
static void
s_walk(s_page *p, MDB_cursor *cur, const uint8_t *prefix, const uint8_t *from, const uint8_t *stop,
       int forward)
{
    uint8_t seek[RU_DBKEY_MAX];
    memcpy(seek, prefix, p->plen);
    memcpy(seek + p->plen, from, S_POS16);
    MDB_val k = {p->plen + S_POS16, seek}, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (forward) {
        while (rc == MDB_SUCCESS && s_in_prefix(p, &k, prefix) && s_cmp(p, &k, from) == 0)
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT); /* min_id itself is excluded */
    } else
        rc = mdb_cursor_get(cur, &k, &v, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
    long looked = 0;
    while (rc == MDB_SUCCESS && s_in_prefix(p, &k, prefix) &&
           (long) json_array_size(p->list) < p->limit) {
        if (stop && (forward ? s_cmp(p, &k, stop) >= 0 : s_cmp(p, &k, stop) <= 0))
            break;
        if (looked == p->budget) { /* more to see, no more work: the Link goes on */
            p->cut = 1;
            break;
        }
        memcpy(looked++ ? p->last : p->first, (const uint8_t *) k.mv_data + p->plen, S_POS16);
        s_take(p, &k);
        rc = mdb_cursor_get(cur, &k, &v, forward ? MDB_NEXT : MDB_PREV);
    }
    if (looked == 1)
        memcpy(p->last, p->first, S_POS16);
}

/*  Reverses a JSON array in place. */
static void
s_reverse(json_t *a)
{
    size_t n = json_array_size(a);
    for (size_t i = 0; i < n / 2; i++) {
        json_t *x = json_incref(json_array_get(a, i));
        json_array_set(a, i, json_array_get(a, n - 1 - i));
        json_array_set_new(a, n - 1 - i, x);
    }
}

/*  The Link header of a page whose newest and oldest edges are these ids. */
static void
s_link(ru_req_t *req, const char *newest, const char *oldest)
{
    const char *url = req->node->public_url;
    /*  The limit asked for goes on, as Mastodon's links carry it: clients
     *  that follow a link as it is keep their page size. */
    json_t *given = json_object_get(req->params, "limit");
    long asked = json_is_integer(given)  ? (long) json_integer_value(given)
                 : json_is_string(given) ? strtol(json_string_value(given), NULL, 10)
                                         : 0;
    char limit[32] = "";
    if (asked > 0)
        snprintf(limit, sizeof limit, "&limit=%ld", asked);
    int w = snprintf(req->link, sizeof req->link,
                     "<%s%s?max_id=%s%s>; rel=\"next\", <%s%s?min_id=%s%s>; rel=\"prev\"", url,
                     req->path, oldest, limit, url, req->path, newest, limit);
    if (w < 0 || (size_t) w >= sizeof req->link)
        req->link[0] = '\0'; /* a path too long to link: no paging links */
}

void
ru_api_link(ru_req_t *req, json_t *list)
{
    size_t n = json_array_size(list);
    if (n == 0)
        return;
    s_link(req, json_string_value(json_object_get(json_array_get(list, 0), "id")),
           json_string_value(json_object_get(json_array_get(list, n - 1), "id")));
}

/*  The id of a position's first 16 bytes. */
static void
s_pos_id(const uint8_t *pos, char out[RU_PUBID_SIZE])
{
    ru_pubid_status(ru_dbkey_get64(pos), pos + 8, out);
}

/*  The Link of a page the budget cut: it goes on past the last entry
 *  looked at, towards older statuses (forward 0) or newer ones. */
static void
s_link_cut(s_page *p, int forward)
{
    char newest[RU_PUBID_SIZE], oldest[RU_PUBID_SIZE];
    size_t n = json_array_size(p->list);
    const char *edge = json_string_value(
        json_object_get(json_array_get(p->list, forward ? n - 1 : 0), "id"));
    s_pos_id(p->last, forward ? newest : oldest);
    if (edge)
        snprintf(forward ? oldest : newest, RU_PUBID_SIZE, "%s", edge);
    else
        s_pos_id(p->first, forward ? oldest : newest);
    s_link(p->req, newest, oldest);
}

int
ru_api_page(ru_req_t *req, ru_db db, const uint8_t *prefix, size_t len, int public_only)
{
    uint8_t max[S_POS16], since[S_POS16], min[S_POS16];
    long limit = ru_http_param_long(req, "limit", 20, 1, LONG_MAX);
    if (limit > 40)
        limit = 40; /* as Mastodon does: larger asks get the largest page */
    int has_max = s_id_param(req, "max_id", max), has_since = 0, has_min = 0;
    if (limit < 0 || has_max < 0 || (has_since = s_id_param(req, "since_id", since)) < 0 ||
        (has_min = s_id_param(req, "min_id", min)) < 0)
        return 422;
    if (!has_max)
        memset(max, 0xff, sizeof max);
    ru_txn_t txn;
    MDB_cursor *cur;
    ru_err err = ru_store_read(req->node->store, &txn);
    if (err)
        return ru_http_fail(req, err);
    s_page p = {req,  ru_api_view(req, &txn), len, public_only, limit, json_array(),
                req->node->cfg.walk_budget, 0, {0}, {0}};
    if (mdb_cursor_open(txn.txn, ru_store_dbi(txn.store, db), &cur) == MDB_SUCCESS) {
        if (has_min) {
            s_walk(&p, cur, prefix, min, has_max ? max : NULL, 1);
            s_reverse(p.list);
        } else
            s_walk(&p, cur, prefix, max, has_since ? since : NULL, 0);
        mdb_cursor_close(cur);
    }
    ru_txn_abort(&txn);
    if (p.cut)
        s_link_cut(&p, has_min);
    else
        ru_api_link(req, p.list);
    return ru_http_json(req, 200, p.list);
}

int
ru_api_home(ru_req_t *req)
{
    uint8_t prefix[RU_MAX_NAME + 1];
    size_t len = strlen(req->user.name) + 1;
    memcpy(prefix, req->user.name, len);
    return ru_api_page(req, RU_DB_home, prefix, len, 0);
}

int
ru_api_public(ru_req_t *req)
{
    return ru_api_page(req, RU_DB_timeline, (const uint8_t *) "", 0, 1);
}

int
ru_api_tag(ru_req_t *req)
{
    char tag[sizeof req->args[0]];
    size_t n = strlen(req->args[0]);
    for (size_t i = 0; i <= n; i++) /* tags are indexed in lower case */
        tag[i] = req->args[0][i] >= 'A' && req->args[0][i] <= 'Z'
                     ? (char) (req->args[0][i] - 'A' + 'a')
                     : req->args[0][i];
    return ru_api_page(req, RU_DB_tags, (const uint8_t *) tag, n + 1, 1);
}
