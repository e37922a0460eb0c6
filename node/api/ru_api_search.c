/*  ru_api_search.c - GET /api/v2/search and GET /api/v1/accounts/search.
 *
 *  Mastodon's parameters: q (required), type (accounts, hashtags or
 *  statuses; all three when absent), limit (default 20, at most 40),
 *  offset (at most [http] max_search_offset, else 422), following (accounts the viewer follows only), account_id
 *  (statuses of that account only) and resolve. resolve asks Mastodon to
 *  fetch unknown accounts and statuses from other servers; here every
 *  site's updates are already replicated, so there is nothing to fetch
 *  and it is accepted and ignored. Anyone may search; statuses are those
 *  the viewer may see (public ones for nobody signed in).
 */
#include <limits.h>
#include <string.h>

#include "ru_api.h"
#include "ru_pubid.h"
#include "ru_search_query.h"

#define S_MAX_Q 1000 /* bytes of a query */

typedef ru_err (*s_searcher)(const ru_view_t *v, const ru_search_query_t *q, json_t *out);

/*  The type parameter's values, which are also the answer's lists; the
 *  accounts come first. */
static const struct {
    const char *type;
    s_searcher fn;
} s_kinds[] = {
    {"accounts", ru_search_accounts},
    {"statuses", ru_search_statuses},
    {"hashtags", ru_search_tags},
};

#define S_KINDS (sizeof s_kinds / sizeof s_kinds[0])

/*  Reads q, limit, offset, following and account_id into q; 0, or the
 *  status of the error sent. */
static int
s_query(ru_req_t *req, ru_search_query_t *q)
{
    q->q = ru_http_param(req, "q");
    if (!q->q || !*q->q)
        return ru_http_error(req, 400, "q is missing");
    if (strlen(q->q) > S_MAX_Q)
        return ru_http_error(req, 422, "q is longer than %d bytes", S_MAX_Q);
    q->limit = ru_http_param_long(req, "limit", 20, 1, LONG_MAX);
    if (q->limit > 40)
        q->limit = 40; /* as Mastodon: larger asks get the largest page */
    q->offset = q->limit < 0 ? -1
                             : ru_http_param_long(req, "offset", 0, 0,
                                                  req->node->cfg.max_search_offset);
    q->budget = req->node->cfg.walk_budget;
    if (q->offset < 0)
        return 422;
    q->following = ru_http_param_flag(req, "following");
    const char *account = ru_http_param(req, "account_id");
    q->has_account = account && *account;
    if (q->has_account && ru_pubid_parse(account, &q->account_id) != RU_OK)
        return ru_http_error(req, 422, "account_id is not an account id");
    return 0;
}

/*  Runs the searches of the kinds in mask in one read transaction:
 *  {"accounts": [...], "statuses": [...], "hashtags": [...]}, or NULL and
 *  *err. */
static json_t *
s_search(ru_req_t *req, const ru_search_query_t *q, unsigned mask, ru_err *err)
{
    ru_txn_t txn;
    *err = ru_store_read(req->node->store, &txn);
    if (*err)
        return NULL;
    ru_view_t v = ru_api_view(req, &txn);
    json_t *body = json_object();
    for (size_t i = 0; !*err && i < S_KINDS; i++) {
        json_t *list = json_array();
        if (mask & (1u << i))
            *err = s_kinds[i].fn(&v, q, list);
        json_object_set_new(body, s_kinds[i].type, list);
    }
    ru_txn_abort(&txn);
    if (*err) {
        json_decref(body);
        return NULL;
    }
    return body;
}

int
ru_api_search(ru_req_t *req)
{
    ru_search_query_t q;
    int status = s_query(req, &q);
    if (status)
        return status;
    const char *type = ru_http_param(req, "type");
    unsigned mask = type && *type ? 0 : (1u << S_KINDS) - 1;
    for (size_t i = 0; i < S_KINDS && !mask; i++)
        if (strcmp(type, s_kinds[i].type) == 0)
            mask = 1u << i;
    if (!mask)
        return ru_http_error(req, 400, "type must be accounts, hashtags or statuses");
    ru_err err;
    json_t *body = s_search(req, &q, mask, &err);
    return body ? ru_http_json(req, 200, body) : ru_http_fail(req, err);
}

int
ru_api_account_search(ru_req_t *req)
{
    ru_search_query_t q;
    int status = s_query(req, &q);
    if (status)
        return status;
    ru_err err;
    json_t *body = s_search(req, &q, 1u << 0, &err); /* accounts only */
    if (!body)
        return ru_http_fail(req, err);
    json_t *accounts = json_incref(json_object_get(body, "accounts"));
    json_decref(body);
    return ru_http_json(req, 200, accounts);
}
