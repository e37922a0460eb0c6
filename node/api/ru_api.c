/*  ru_api.c - the route table and the glue the handlers share. */
#include "ru_api.h"

#include <stdlib.h>
#include <string.h>

#include "ruche/ru_text.h"

#include "ru_dbkey.h"
#include "ru_pubid.h"
#include "ru_state.h"
#include "ru_stream.h"

const ru_route_t ru_api_routes[] = {
    {"GET", "/healthz", ru_api_health, 0, 0},
    {"GET", "/.well-known/nodeinfo", ru_api_nodeinfo_links, 0, 0},
    {"GET", "/nodeinfo/2.0", ru_api_nodeinfo, 0, 0},
    {"POST", "/api/v1/apps", ru_api_create_app, 0, 0},
    {"GET", "/api/v1/apps/verify_credentials", ru_api_verify_app, 0, 0},
    {"GET", "/oauth/authorize", ru_api_authorize_page, 0, 0},
    {"POST", "/oauth/authorize", ru_api_authorize, 0, 0},
    {"POST", "/oauth/token", ru_api_token, 0, 0},
    {"POST", "/oauth/revoke", ru_api_revoke, 0, 0},
    /*  masto.js (7.x) revokes at this path: Doorkeeper's is the one above. */
    {"POST", "/oauth/token/revoke", ru_api_revoke, 0, 0},
    {"POST", "/auth/sign_in", ru_api_sign_in, 0, 0},
    {"GET", "/auth/session", ru_api_session, 1, 0},
    {"POST", "/auth/sign_out", ru_api_sign_out, 0, 0},
    {"GET", "/auth/oidc", ru_api_oidc_info, 0, 0},
    {"GET", "/auth/oidc/start", ru_api_oidc_start, 0, 0},
    {"GET", "/auth/oidc/callback", ru_api_oidc_callback, 0, 0},
    {"GET", "/api/v1/instance", ru_api_instance_v1, 0, 0},
    {"GET", "/api/v2/instance", ru_api_instance_v2, 0, 0},
    {"GET", "/api/v1/accounts/verify_credentials", ru_api_verify_credentials, 1, 0},
    {"PATCH", "/api/v1/accounts/update_credentials", ru_api_update_credentials, RU_ROUTE_USER,
     RU_ROUTE_UPLOAD},
    {"GET", "/api/v1/accounts/lookup", ru_api_lookup, 0, 0},
    {"GET", "/api/v1/accounts/search", ru_api_account_search, 0, 0},
    {"GET", "/api/v1/accounts/relationships", ru_api_relationships, 1, 0},
    {"GET", "/api/v1/directory", ru_api_directory, 1, 0},
    {"GET", "/api/ruche/v1/people", ru_api_people, 1, 0},
    {"GET", "/api/v1/accounts/:id", ru_api_get_account, 0, 1},
    {"GET", "/api/v1/accounts/:id/statuses", ru_api_account_statuses, 0, 1},
    {"POST", "/api/v1/accounts/:id/follow", ru_api_follow, 1, 0},
    {"POST", "/api/v1/accounts/:id/unfollow", ru_api_unfollow, 1, 0},
    {"POST", "/api/v2/media", ru_api_media_upload, RU_ROUTE_USER, RU_ROUTE_UPLOAD},
    {"POST", "/api/v1/media", ru_api_media_upload, RU_ROUTE_USER, RU_ROUTE_UPLOAD},
    {"GET", "/api/v1/media/:id", ru_api_media_get, RU_ROUTE_USER, 0},
    {"PUT", "/api/v1/media/:id", ru_api_media_update, RU_ROUTE_USER, 0},
    {"GET", "/media/:file", ru_api_media_file, RU_ROUTE_OPEN, 0},
    {"HEAD", "/media/:file", ru_api_media_file, RU_ROUTE_OPEN, 0},
    {"GET", "/media/:file/:name", ru_api_media_file, RU_ROUTE_OPEN, 0},
    {"HEAD", "/media/:file/:name", ru_api_media_file, RU_ROUTE_OPEN, 0},
    {"POST", "/api/v1/statuses", ru_api_post_status, 1, 0},
    {"GET", "/api/v1/statuses/:id", ru_api_get_status, 0, 1},
    {"PUT", "/api/v1/statuses/:id", ru_api_edit_status, 1, 0},
    {"DELETE", "/api/v1/statuses/:id", ru_api_delete_status, 1, 0},
    {"GET", "/api/v1/statuses/:id/context", ru_api_context, 0, 1},
    {"GET", "/api/v1/statuses/:id/card", ru_api_card, 0, 1},
    {"POST", "/api/v1/statuses/:id/favourite", ru_api_favourite, 1, 0},
    {"POST", "/api/v1/statuses/:id/unfavourite", ru_api_unfavourite, 1, 0},
    {"GET", "/api/v1/timelines/home", ru_api_home, 1, 0},
    {"GET", "/api/v1/timelines/public", ru_api_public, 0, 1},
    {"GET", "/api/v1/timelines/tag/:tag", ru_api_tag, 0, 1},
    {"GET", "/api/v2/search", ru_api_search, 0, 0},
    {"GET", "/api/v1/notifications", ru_api_notifications, 1, 0},
    {"POST", "/api/v1/notifications/clear", ru_api_notifications_clear, 1, 0},
    {"GET", "/api/v1/notifications/:id", ru_api_notification, 1, 0},
    {"POST", "/api/v1/notifications/:id/dismiss", ru_api_notification_dismiss, 1, 0},
    {"GET", "/api/ruche/v1/groups", ru_api_groups, 0, 1},
    {"POST", "/api/ruche/v1/groups", ru_api_create_group, 1, 0},
    {"GET", "/api/ruche/v1/groups/:id", ru_api_get_group, 0, 1},
    {"POST", "/api/ruche/v1/groups/:id/join", ru_api_join_group, 1, 0},
    {"POST", "/api/ruche/v1/groups/:id/leave", ru_api_leave_group, 1, 0},
    {"GET", "/api/ruche/v1/groups/:id/timeline", ru_api_group_timeline, 0, 1},
    {"POST", "/api/ruche/v1/groups/:id/statuses", ru_api_group_post, 1, 0},
    {"POST", "/api/ruche/v1/admin/users", ru_api_admin_add_user, RU_ROUTE_ADMIN, 0},
    {"POST", "/api/ruche/v1/admin/directory", ru_api_admin_directory, RU_ROUTE_ADMIN_WRITE, 0},
    {"POST", "/api/ruche/v1/admin/directory/sync", ru_api_admin_directory_sync,
     RU_ROUTE_ADMIN_WRITE, 0},
    {"GET", "/api/ruche/v1/admin/directory/sync", ru_api_admin_directory_sync, RU_ROUTE_ADMIN, 0},
    {"GET", "/api/ruche/v1/replication", ru_api_replication, 0, 0},
    {"GET", "/api/v1/streaming", ru_stream_sse, 0, 0}, /* WebSocket: ru_stream.h */
    {"GET", "/api/v1/streaming/health", ru_stream_health, 0, 0},
    {"GET", "/api/v1/streaming/user", ru_stream_sse, 0, 0},
    {"GET", "/api/v1/streaming/user/notification", ru_stream_sse, 0, 0},
    {"GET", "/api/v1/streaming/public", ru_stream_sse, 0, 0},
    {"GET", "/api/v1/streaming/public/local", ru_stream_sse, 0, 0},
    {"GET", "/api/v1/streaming/public/remote", ru_stream_sse, 0, 0},
    {"GET", "/api/v1/streaming/hashtag", ru_stream_sse, 0, 0},
    {"GET", "/api/v1/streaming/hashtag/local", ru_stream_sse, 0, 0},
    {NULL, NULL, NULL, 0, 0},
};

ru_view_t
ru_api_view(ru_req_t *req, ru_txn_t *txn)
{
    return (ru_view_t){req->node, txn, req->authed ? req->user.name : NULL};
}

ru_err
ru_api_find_status(ru_txn_t *txn, const char *id, ru_ref_t *ref, ru_post_rec_t *rec)
{
    uint8_t pos[RU_PUBID_POS];
    if (ru_pubid_status_parse(id, pos) != RU_OK)
        return RU_E_NOT_FOUND;
    ru_err err = ru_pubid_status_ref(txn, pos, ref);
    return err ? err : ru_post_rec_get(txn, ref, rec);
}

typedef struct {
    ru_update_t *u;
    ru_buf_t out;
} s_submit;

static ru_err
s_make_local(const ru_writer_ctx_t *ctx, void *arg)
{
    s_submit *s = arg;
    ru_buf_reset(&s->out); /* a retried batch starts over */
    return ru_apply_local(ctx->apply, ctx->key, s->u, &s->out);
}

ru_err
ru_api_submit(ru_req_t *req, ru_update_t *u, ru_ref_t *made)
{
    return ru_api_submit_as(req, req->user.name, u, made);
}

ru_err
ru_api_submit_as(ru_req_t *req, const char *author, ru_update_t *u, ru_ref_t *made)
{
    u->author = (ru_str_t){author, (uint32_t) strlen(author)};
    s_submit s = {u, {0}};
    ru_buf_init(&s.out);
    ru_err err = ru_writer_call(req->node->writer, s_make_local, &s);
    ru_buf_fini(&s.out);
    if (!err) {
        memcpy(made->origin, u->origin, RU_KEY_BYTES);
        made->seq = u->seq;
    }
    return err;
}

typedef struct {
    const char *token;
    const char *name;
} s_session;

static ru_err
s_put_session(const ru_writer_ctx_t *ctx, void *arg)
{
    s_session *s = arg;
    return ru_account_session_put(ctx->txn, s->token, s->name, ru_hlc_wall_ms());
}

static ru_err
s_del_session(const ru_writer_ctx_t *ctx, void *arg)
{
    return ru_account_session_del(ctx->txn, arg);
}

ru_err
ru_api_open_session(ru_req_t *req, const char *name, char token[RU_TOKEN_TEXT_SIZE])
{
    ru_account_new_token(token);
    s_session s = {token, name};
    ru_err err = ru_writer_call(req->node->writer, s_put_session, &s);
    if (err)
        sodium_memzero(token, RU_TOKEN_TEXT_SIZE);
    return err;
}

ru_err
ru_api_close_session(ru_req_t *req, const char *token)
{
    return ru_writer_call(req->node->writer, s_del_session, (void *) token);
}

int
ru_api_reply_status(ru_req_t *req, const ru_ref_t *ref)
{
    ru_txn_t txn;
    ru_err err = ru_store_read(req->node->store, &txn);
    if (err)
        return ru_http_fail(req, err);
    uint8_t key[RU_DBKEY_REF];
    MDB_val val;
    ru_post_rec_t rec;
    err = ru_txn_get(&txn, RU_DB_posts, key, ru_dbkey_ref(key, ref->origin, ref->seq), &val);
    if (!err)
        err = ru_post_rec_decode(val.mv_data, val.mv_size, &rec);
    ru_view_t v = ru_api_view(req, &txn);
    json_t *j = err ? NULL : ru_view_status(&v, ref, &rec);
    ru_txn_abort(&txn);
    return j ? ru_http_json(req, 200, j) : ru_http_fail(req, err ? err : RU_E_NOMEM);
}

int
ru_api_text(ru_req_t *req, const char *name, size_t min_chars, ru_str_t *text)
{
    const char *s = ru_http_param(req, name);
    size_t chars;
    if (!s && min_chars == 0)
        s = "";
    if (!s || (!*s && min_chars > 0)) {
        ru_http_error(req, 422, "Validation failed: %s can't be blank", name);
        return 0;
    }
    if (ru_utf8_check(s, strlen(s), &chars) != RU_OK) {
        ru_http_error(req, 422, "Validation failed: %s is not valid UTF-8", name);
        return 0;
    }
    if (chars > RU_MAX_TEXT_CHARS) {
        ru_http_error(req, 422, "Validation failed: %s is over %d characters", name,
                      RU_MAX_TEXT_CHARS);
        return 0;
    }
    *text = (ru_str_t){s, (uint32_t) strlen(s)};
    return 1;
}
