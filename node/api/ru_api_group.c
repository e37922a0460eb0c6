/*  ru_api_group.c - groups under /api/ruche/v1/groups: list, create,
 *  show, join, leave, post, timeline. A group is named by its
 *  group_create update; its public id comes from that (ru_pubid.h).
 */
#include <string.h>

#include "ruche/ru_text.h"

#include "ru_api.h"
#include "ru_dbkey.h"
#include "ru_pubid.h"

/*  The ref of the group :id. */
static ru_err
s_group_ref(ru_req_t *req, ru_ref_t *ref)
{
    uint64_t id;
    if (ru_pubid_parse(req->args[0], &id) != RU_OK)
        return RU_E_NOT_FOUND;
    ru_txn_t txn;
    ru_err err = ru_store_read(req->node->store, &txn);
    if (err)
        return err;
    err = ru_pubid_lookup_group(&txn, id, ref);
    ru_txn_abort(&txn);
    return err;
}

static json_t *
s_view(ru_view_t *v, const ru_ref_t *ref)
{
    uint8_t key[RU_DBKEY_REF];
    MDB_val val;
    ru_group_rec_t rec;
    if (ru_txn_get(v->txn, RU_DB_groups, key, ru_dbkey_ref(key, ref->origin, ref->seq), &val) ||
        ru_group_rec_decode(val.mv_data, val.mv_size, &rec))
        return NULL;
    return ru_view_group(v, ref, &rec);
}

static int
s_reply_group(ru_req_t *req, const ru_ref_t *ref)
{
    ru_txn_t txn;
    ru_err err = ru_store_read(req->node->store, &txn);
    if (err)
        return ru_http_fail(req, err);
    ru_view_t v = ru_api_view(req, &txn);
    json_t *j = s_view(&v, ref);
    ru_txn_abort(&txn);
    return j ? ru_http_json(req, 200, j) : ru_http_fail(req, RU_E_NOT_FOUND);
}

int
ru_api_groups(ru_req_t *req)
{
    ru_txn_t txn;
    MDB_cursor *cur;
    ru_err err = ru_store_read(req->node->store, &txn);
    if (err)
        return ru_http_fail(req, err);
    ru_view_t v = ru_api_view(req, &txn);
    json_t *list = json_array();
    if (mdb_cursor_open(txn.txn, ru_store_dbi(txn.store, RU_DB_groups), &cur) == MDB_SUCCESS) {
        MDB_val k, val;
        int rc = mdb_cursor_get(cur, &k, &val, MDB_FIRST);
        while (rc == MDB_SUCCESS) {
            ru_ref_t ref;
            ru_group_rec_t rec;
            if (k.mv_size == RU_DBKEY_REF &&
                ru_group_rec_decode(val.mv_data, val.mv_size, &rec) == RU_OK) {
                memcpy(ref.origin, k.mv_data, RU_KEY_BYTES);
                ref.seq = ru_dbkey_get64((const uint8_t *) k.mv_data + RU_KEY_BYTES);
                json_array_append_new(list, ru_view_group(&v, &ref, &rec));
            }
            rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT);
        }
        mdb_cursor_close(cur);
    }
    ru_txn_abort(&txn);
    return ru_http_json(req, 200, list);
}

int
ru_api_create_group(ru_req_t *req)
{
    const char *name = ru_http_param(req, "name");
    const char *desc = ru_http_param(req, "description");
    size_t chars;
    if (!name || ru_name_check(name, strlen(name)) != RU_OK)
        return ru_http_error(req, 422,
                             "Validation failed: a group name is 1 to %d characters "
                             "of a-z, 0-9, '_', '.', '-'",
                             RU_MAX_NAME);
    if (!desc)
        desc = "";
    if (ru_utf8_check(desc, strlen(desc), &chars) != RU_OK || chars > RU_MAX_NOTE_CHARS)
        return ru_http_error(req, 422,
                             "Validation failed: the description is at most %d "
                             "characters",
                             RU_MAX_NOTE_CHARS);
    ru_update_t u;
    ru_update_init(&u);
    u.kind = RU_KIND_GROUP_CREATE;
    u.name = (ru_str_t){name, (uint32_t) strlen(name)};
    u.note = (ru_str_t){desc, (uint32_t) strlen(desc)};
    ru_ref_t made;
    ru_err err = ru_api_submit(req, &u, &made);
    ru_update_fini(&u);
    return err ? ru_http_fail(req, err) : s_reply_group(req, &made);
}

int
ru_api_get_group(ru_req_t *req)
{
    ru_ref_t ref;
    ru_err err = s_group_ref(req, &ref);
    return err ? ru_http_fail(req, err) : s_reply_group(req, &ref);
}

static int
s_membership(ru_req_t *req, ru_kind kind)
{
    ru_ref_t ref, made;
    ru_err err = s_group_ref(req, &ref);
    if (err)
        return ru_http_fail(req, err);
    ru_update_t u;
    ru_update_init(&u);
    u.kind = kind;
    u.target = ref;
    err = ru_api_submit(req, &u, &made);
    ru_update_fini(&u);
    return err ? ru_http_fail(req, err) : s_reply_group(req, &ref);
}

int
ru_api_join_group(ru_req_t *req)
{
    return s_membership(req, RU_KIND_GROUP_JOIN);
}

int
ru_api_leave_group(ru_req_t *req)
{
    return s_membership(req, RU_KIND_GROUP_LEAVE);
}

int
ru_api_group_timeline(ru_req_t *req)
{
    ru_ref_t ref;
    ru_err err = s_group_ref(req, &ref);
    if (err)
        return ru_http_fail(req, err);
    uint8_t prefix[RU_DBKEY_REF];
    return ru_api_page(req, RU_DB_group_posts, prefix, ru_dbkey_ref(prefix, ref.origin, ref.seq),
                       0);
}

int
ru_api_group_post(ru_req_t *req)
{
    ru_ref_t made;
    ru_update_t u;
    ru_update_init(&u);
    ru_err err = s_group_ref(req, &u.group);
    if (err)
        return ru_http_fail(req, err);
    ru_api_content_t c;
    ru_api_content_init(&c);
    int status = ru_api_content(req, NULL, &u, &c);
    if (!status) {
        u.kind = RU_KIND_POST;
        u.has_group = 1;
        err = ru_api_submit(req, &u, &made);
        status = err ? ru_http_fail(req, err) : ru_api_reply_status(req, &made);
    }
    ru_update_fini(&u);
    ru_api_content_fini(&c);
    return status;
}
