/*  ru_api_status.c - statuses: post, show, edit, delete, thread context,
 *  link preview, favourites. Writes become local updates made by the store
 *  actor; a client gets its answer once the update is durable.
 */
#include <string.h>

#include "ru_api.h"
#include "ru_card.h"
#include "ru_dbkey.h"

static const char *const s_visibilities[] = {"public", "unlisted", "private", "direct"};

/*  The visibility parameter; -1 and a 422 sent if unknown. */
static int
s_visibility(ru_req_t *req, int def)
{
    const char *v = ru_http_param(req, "visibility");
    if (!v || !*v)
        return def;
    for (int i = 0; i <= RU_VIS_MAX; i++)
        if (strcmp(v, s_visibilities[i]) == 0)
            return i;
    ru_http_error(req, 422,
                  "Validation failed: visibility must be public, unlisted, private "
                  "or direct");
    return -1;
}

/*  Looks up the status of id in a fresh read transaction and copies out
 *  what the handlers need. vis_ok: the viewer may see it. */
static ru_err
s_lookup(ru_req_t *req, const char *id, ru_ref_t *ref, ru_post_rec_t *rec, int *vis_ok, int *own)
{
    ru_txn_t txn;
    ru_err err = ru_store_read(req->node->store, &txn);
    if (err)
        return err;
    err = ru_api_find_status(&txn, id, ref, rec);
    if (!err) {
        ru_view_t v = ru_api_view(req, &txn);
        *vis_ok = ru_view_visible(&v, ref, rec);
        *own = req->authed &&
               memcmp(ref->origin, ru_key_public(req->node->key), RU_KEY_BYTES) == 0 &&
               rec->author.len == strlen(req->user.name) &&
               memcmp(rec->author.ptr, req->user.name, rec->author.len) == 0;
    }
    ru_txn_abort(&txn); /* rec's strings are not used after this */
    return err;
}

/*  Makes an update of kind on the status of the :id argument. When
 *  own_only, only its author may. */
static int
s_act(ru_req_t *req, ru_kind kind, int own_only)
{
    ru_ref_t ref;
    ru_post_rec_t rec;
    int visible = 0, own = 0;
    ru_err err = s_lookup(req, req->args[0], &ref, &rec, &visible, &own);
    if (err || !visible)
        return ru_http_fail(req, err ? err : RU_E_NOT_FOUND);
    if (own_only && !own)
        return ru_http_error(req, 403, "This action is not allowed");
    ru_update_t u;
    ru_update_init(&u);
    u.kind = kind;
    u.target = ref;
    ru_api_content_t c;
    ru_api_content_init(&c);
    int status = kind == RU_KIND_EDIT ? ru_api_content(req, &ref, &u, &c) : 0;
    ru_ref_t made;
    if (!status) {
        err = ru_api_submit(req, &u, &made);
        status = err ? ru_http_fail(req, err) : ru_api_reply_status(req, &ref);
    }
    ru_update_fini(&u);
    ru_api_content_fini(&c);
    return status;
}

int
ru_api_post_status(ru_req_t *req)
{
    ru_update_t u;
    ru_update_init(&u);
    int vis = s_visibility(req, RU_VIS_PUBLIC);
    if (vis < 0)
        return 422;
    u.kind = RU_KIND_POST;
    u.visibility = (ru_visibility) vis;
    const char *parent = ru_http_param(req, "in_reply_to_id");
    if (parent && *parent) {
        ru_post_rec_t rec;
        int visible = 0, own;
        ru_err err = s_lookup(req, parent, &u.target, &rec, &visible, &own);
        if (err || !visible)
            return ru_http_error(req, 404, "the status replied to does not exist");
        u.kind = RU_KIND_REPLY;
    }
    ru_api_content_t c;
    ru_api_content_init(&c);
    int status = ru_api_content(req, NULL, &u, &c);
    if (!status) {
        ru_ref_t made;
        ru_err err = ru_api_submit(req, &u, &made);
        status = err ? ru_http_fail(req, err) : ru_api_reply_status(req, &made);
    }
    ru_update_fini(&u);
    ru_api_content_fini(&c);
    return status;
}

int
ru_api_get_status(ru_req_t *req)
{
    ru_ref_t ref;
    ru_post_rec_t rec;
    int visible = 0, own;
    ru_err err = s_lookup(req, req->args[0], &ref, &rec, &visible, &own);
    if (err || !visible)
        return ru_http_fail(req, err ? err : RU_E_NOT_FOUND);
    return ru_api_reply_status(req, &ref);
}

int
ru_api_edit_status(ru_req_t *req)
{
    return s_act(req, RU_KIND_EDIT, 1);
}

int
ru_api_favourite(ru_req_t *req)
{
    return s_act(req, RU_KIND_LIKE, 0);
}

int
ru_api_unfavourite(ru_req_t *req)
{
    return s_act(req, RU_KIND_UNLIKE, 0);
}

int
ru_api_delete_status(ru_req_t *req)
{
    ru_ref_t ref;
    ru_post_rec_t rec;
    int visible = 0, own = 0;
    ru_txn_t txn;
    ru_err err = ru_store_read(req->node->store, &txn);
    if (err)
        return ru_http_fail(req, err);
    err = ru_api_find_status(&txn, req->args[0], &ref, &rec);
    ru_view_t v = ru_api_view(req, &txn);
    json_t *before = NULL;
    if (!err) { /* answer with the status as it was: clients offer to redraft it */
        visible = ru_view_visible(&v, &ref, &rec);
        own = memcmp(ref.origin, ru_key_public(req->node->key), RU_KEY_BYTES) == 0 &&
              rec.author.len == strlen(req->user.name) &&
              memcmp(rec.author.ptr, req->user.name, rec.author.len) == 0;
        before = ru_view_status(&v, &ref, &rec);
    }
    ru_txn_abort(&txn);
    if (err || !visible || !before) {
        json_decref(before);
        return ru_http_fail(req, err ? err : RU_E_NOT_FOUND);
    }
    if (!own) {
        json_decref(before);
        return ru_http_error(req, 403, "This action is not allowed");
    }
    ru_update_t u;
    ru_update_init(&u);
    u.kind = RU_KIND_DELETE;
    u.target = ref;
    ru_ref_t made;
    err = ru_api_submit(req, &u, &made);
    ru_update_fini(&u);
    if (err) {
        json_decref(before);
        return ru_http_fail(req, err);
    }
    return ru_http_json(req, 200, before);
}

/*  ---------------------------------------------------------------------
 *  Context: ancestors up the parent chain, descendants depth-first.
 */

#define S_MAX_CONTEXT 500

static int
s_load(ru_txn_t *txn, const ru_ref_t *ref, ru_post_rec_t *rec)
{
    uint8_t key[RU_DBKEY_REF];
    MDB_val val;
    return ru_txn_get(txn, RU_DB_posts, key, ru_dbkey_ref(key, ref->origin, ref->seq), &val) ==
               RU_OK &&
           ru_post_rec_decode(val.mv_data, val.mv_size, rec) == RU_OK;
}

static void
s_ancestors(ru_view_t *v, const ru_post_rec_t *rec, json_t *out)
{
    ru_post_rec_t cur = *rec, parent;
    ru_ref_t ref;
    while (cur.has_parent && json_array_size(out) < S_MAX_CONTEXT) {
        ref = cur.parent;
        if (!s_load(v->txn, &ref, &parent))
            break;
        if (ru_view_visible(v, &ref, &parent))
            json_array_insert_new(out, 0, ru_view_status(v, &ref, &parent));
        cur = parent;
    }
}

/*  Appends the replies to ref, each followed by its own replies. A stack of
 *  cursors would be cheaper; collecting each level's refs first keeps the
 *  read transaction's cursors simple. */
static void
s_descendants(ru_view_t *v, const ru_ref_t *ref, json_t *out, int depth)
{
    uint8_t prefix[RU_DBKEY_REF];
    size_t plen = ru_dbkey_ref(prefix, ref->origin, ref->seq);
    ru_ref_t kids[64];
    int n = 0;
    MDB_cursor *cur;
    if (depth > 64 || mdb_cursor_open(v->txn->txn, ru_store_dbi(v->txn->store, RU_DB_replies),
                                      &cur) != MDB_SUCCESS)
        return;
    MDB_val k = {plen, prefix}, val;
    int rc = mdb_cursor_get(cur, &k, &val, MDB_SET_RANGE);
    while (rc == MDB_SUCCESS && n < 64 && k.mv_size == plen + RU_DBKEY_POS &&
           memcmp(k.mv_data, prefix, plen) == 0) {
        const uint8_t *p = (const uint8_t *) k.mv_data + plen + 8;
        memcpy(kids[n].origin, p, RU_KEY_BYTES);
        kids[n++].seq = ru_dbkey_get64(p + RU_KEY_BYTES);
        rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    for (int i = 0; i < n && json_array_size(out) < S_MAX_CONTEXT; i++) {
        ru_post_rec_t rec;
        if (!s_load(v->txn, &kids[i], &rec))
            continue;
        if (ru_view_visible(v, &kids[i], &rec))
            json_array_append_new(out, ru_view_status(v, &kids[i], &rec));
        s_descendants(v, &kids[i], out, depth + 1);
    }
}

/*  Opens a read transaction and finds in it the status of the :id
 *  argument, which the reader must see. On success the transaction is
 *  left open (rec's strings live until the caller ends it); on an error
 *  it is closed. */
static ru_err
s_read_visible(ru_req_t *req, ru_txn_t *txn, ru_ref_t *ref, ru_post_rec_t *rec)
{
    ru_err err = ru_store_read(req->node->store, txn);
    if (err)
        return err;
    err = ru_api_find_status(txn, req->args[0], ref, rec);
    ru_view_t v = ru_api_view(req, txn);
    if (!err && !ru_view_visible(&v, ref, rec))
        err = RU_E_NOT_FOUND;
    if (err)
        ru_txn_abort(txn);
    return err;
}

int
ru_api_context(ru_req_t *req)
{
    ru_txn_t txn;
    ru_ref_t ref;
    ru_post_rec_t rec;
    ru_err err = s_read_visible(req, &txn, &ref, &rec);
    if (err)
        return ru_http_fail(req, err);
    ru_view_t v = ru_api_view(req, &txn);
    json_t *anc = json_array(), *desc = json_array();
    s_ancestors(&v, &rec, anc);
    s_descendants(&v, &ref, desc, 0);
    ru_txn_abort(&txn);
    return ru_http_json(req, 200, json_pack("{s:o, s:o}", "ancestors", anc, "descendants", desc));
}

/*  GET /api/v1/statuses/:id/card: the status's link preview, or {} when it
 *  has none (yet), as Mastodon answers; 404 for a status the reader may
 *  not see. */
int
ru_api_card(ru_req_t *req)
{
    ru_txn_t txn;
    ru_ref_t ref;
    ru_post_rec_t rec;
    ru_err err = s_read_visible(req, &txn, &ref, &rec);
    if (err)
        return ru_http_fail(req, err);
    json_t *card = ru_card_for_text(req->node->cards, &txn, rec.text.ptr, rec.text.len);
    ru_txn_abort(&txn);
    return ru_http_json(req, 200, card ? card : json_object());
}
