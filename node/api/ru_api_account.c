/*  ru_api_account.c - accounts, lookups and follows (signing in is in
 *  ru_api_oauth.c, the signed-in user's own account in ru_api_profile.c).
 */
#include <stdio.h>
#include <string.h>

#include "ru_api.h"
#include "ru_dbkey.h"
#include "ru_pubid.h"

/*  Answers with the account of home|name. */
static int
s_reply_account(ru_req_t *req, const uint8_t *home, ru_str_t name)
{
    ru_txn_t txn;
    ru_err err = ru_store_read(req->node->store, &txn);
    if (err)
        return ru_http_fail(req, err);
    ru_view_t v = ru_api_view(req, &txn);
    json_t *j = ru_view_account(&v, home, name);
    ru_txn_abort(&txn);
    return j ? ru_http_json(req, 200, j) : ru_http_fail(req, RU_E_NOMEM);
}

/*  The user key of an account id (home | name | 0) copied to key. */
static ru_err
s_account_key(ru_req_t *req, const char *id_text, uint8_t *key, size_t *len)
{
    uint64_t id;
    if (ru_pubid_parse(id_text, &id) != RU_OK)
        return RU_E_NOT_FOUND;
    ru_txn_t txn;
    ru_err err = ru_store_read(req->node->store, &txn);
    if (err)
        return err;
    err = ru_pubid_lookup_user(&txn, id, key, len);
    ru_txn_abort(&txn);
    return err;
}

static ru_str_t
s_key_name(const uint8_t *key, size_t len)
{
    return (ru_str_t){(const char *) key + RU_KEY_BYTES, (uint32_t) (len - RU_KEY_BYTES - 1)};
}

int
ru_api_get_account(ru_req_t *req)
{
    uint8_t key[RU_DBKEY_USER];
    size_t len;
    ru_err err = s_account_key(req, req->args[0], key, &len);
    return err ? ru_http_fail(req, err) : s_reply_account(req, key, s_key_name(key, len));
}

int
ru_api_account_statuses(ru_req_t *req)
{
    uint8_t key[RU_DBKEY_USER];
    size_t len;
    ru_err err = s_account_key(req, req->args[0], key, &len);
    return err ? ru_http_fail(req, err) : ru_api_page(req, RU_DB_authors, key, len, 0);
}

/*  Is the user home|name known here: an account of this node, or a user
 *  seen in the updates it holds? */
static int
s_known_user(ru_txn_t *txn, ru_node_t *node, const uint8_t *home, ru_str_t name)
{
    ru_account_t local;
    if (memcmp(home, ru_key_public(node->key), RU_KEY_BYTES) == 0 &&
        ru_account_get(txn, name.ptr, &local) == RU_OK)
        return 1;
    return ru_pubid_known_user(txn, home, name);
}

int
ru_api_lookup(ru_req_t *req)
{
    const char *acct = ru_http_param(req, "acct");
    char name[RU_MAX_NAME + 1];
    uint8_t home[RU_KEY_BYTES];
    const char *at = acct ? strchr(acct, '@') : NULL;
    size_t n = acct ? (at ? (size_t) (at - acct) : strlen(acct)) : 0;
    if (!acct || n == 0 || n > RU_MAX_NAME)
        return ru_http_error(req, 404, "Record not found");
    memcpy(name, acct, n);
    name[n] = '\0';
    if (!at)
        memcpy(home, ru_key_public(req->node->key), RU_KEY_BYTES);
    else if (!ru_view_site_key(req->node, at + 1, home))
        return ru_http_error(req, 404, "Record not found");
    ru_str_t user = {name, (uint32_t) n};
    ru_txn_t txn;
    ru_err err = ru_store_read(req->node->store, &txn);
    if (!err) {
        err = s_known_user(&txn, req->node, home, user) ? RU_OK : RU_E_NOT_FOUND;
        ru_txn_abort(&txn);
    }
    return err ? ru_http_fail(req, err) : s_reply_account(req, home, user);
}

/*  Does the user a_home|a follow the user b_home|b? */
static int
s_follows(ru_req_t *req, const uint8_t *a_home, ru_str_t a, const uint8_t *b_home, ru_str_t b)
{
    uint8_t key[2 * RU_DBKEY_USER];
    size_t len = ru_dbkey_user(key, a_home, a);
    len += ru_dbkey_user(key + len, b_home, b);
    ru_txn_t txn;
    MDB_val val;
    if (ru_store_read(req->node->store, &txn) != RU_OK)
        return 0;
    int yes = ru_txn_get(&txn, RU_DB_follows, key, len, &val) == RU_OK;
    ru_txn_abort(&txn);
    return yes;
}

/*  Mastodon's Relationship of the signed-in user with the account id
 *  (user key, len bytes), whom they follow or not. */
static json_t *
s_relationship(ru_req_t *req, const char *id, const uint8_t *key, size_t len, int following)
{
    ru_str_t me = {req->user.name, (uint32_t) strlen(req->user.name)};
    int followed_by = s_follows(req, key, s_key_name(key, len), ru_key_public(req->node->key), me);
    return json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:s}", "id", id,
                     "following", following, "showing_reblogs", 1, "notifying", 0, "followed_by",
                     followed_by, "blocking", 0, "blocked_by", 0, "muting", 0,
                     "muting_notifications", 0, "requested", 0, "domain_blocking", 0, "endorsed", 0,
                     "note", "");
}

/*  Follows or unfollows the account :id, then answers the relationship. */
static int
s_follow(ru_req_t *req, ru_kind kind)
{
    uint8_t key[RU_DBKEY_USER];
    size_t len;
    ru_err err = s_account_key(req, req->args[0], key, &len);
    if (err)
        return ru_http_fail(req, err);
    ru_update_t u;
    ru_update_init(&u);
    u.kind = kind;
    memcpy(u.user.home, key, RU_KEY_BYTES);
    u.user.name = s_key_name(key, len);
    ru_ref_t made;
    err = ru_api_submit(req, &u, &made);
    ru_update_fini(&u);
    if (err)
        return ru_http_fail(req, err);
    json_t *j = s_relationship(req, req->args[0], key, len, kind == RU_KIND_FOLLOW);
    return j ? ru_http_json(req, 200, j) : ru_http_fail(req, RU_E_NOMEM);
}

/*  GET /api/v1/accounts/relationships?id[]=A&id[]=B (or id=A): the
 *  relationships with the accounts known here, in the order asked, at most
 *  S_MAX_RELATIONSHIPS; unknown ids are left out. */
#define S_MAX_RELATIONSHIPS 40
int
ru_api_relationships(ru_req_t *req)
{
    json_t *ids = json_object_get(req->params, "id");
    json_t *one = json_is_string(ids) ? json_pack("[O]", ids) : NULL;
    json_t *list = json_array();
    ru_str_t me = {req->user.name, (uint32_t) strlen(req->user.name)};
    size_t i;
    json_t *id;
    json_array_foreach(one ? one : ids, i, id)
    {
        uint8_t key[RU_DBKEY_USER];
        size_t len;
        if (i == S_MAX_RELATIONSHIPS || !list)
            break;
        if (!json_is_string(id) || s_account_key(req, json_string_value(id), key, &len) != RU_OK)
            continue;
        int following =
            s_follows(req, ru_key_public(req->node->key), me, key, s_key_name(key, len));
        json_array_append_new(list,
                              s_relationship(req, json_string_value(id), key, len, following));
    }
    json_decref(one);
    return list ? ru_http_json(req, 200, list) : ru_http_fail(req, RU_E_NOMEM);
}

int
ru_api_follow(ru_req_t *req)
{
    return s_follow(req, RU_KIND_FOLLOW);
}

int
ru_api_unfollow(ru_req_t *req)
{
    return s_follow(req, RU_KIND_UNFOLLOW);
}
