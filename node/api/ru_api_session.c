/*  ru_api_session.c - the web front end's sessions: POST /auth/sign_in,
 *  GET /auth/session, POST /auth/sign_out.
 *
 *  A session is the same random token that OAuth clients get, handed to
 *  the browser in a cookie it keeps from scripts (HttpOnly) and sends only
 *  with requests that start on this site (SameSite=Strict); Secure when the
 *  node's public URL is https. The cookie lasts 30 days, like a "stay
 *  signed in" box ticked for everyone: employees open the app many times a
 *  day. The answer carries the session's CSRF token (ru_http_csrf), which
 *  the application sends back in X-CSRF-Token with every change; the node
 *  keeps nothing more than the token's hash.
 *
 *  Failed sign-ins count in the node's login limiter (ru_ratelimit.h), by
 *  address and by user name, with the OAuth password grant's.
 *
 *  Signing in from a page of another site (login CSRF: signing the victim
 *  in as the attacker) is refused: when the browser names the page's
 *  origin (Origin header, every current browser does on POST), its host
 *  must be the one the request was sent to.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>


#include "ru_api.h"
#include "ru_throttle.h"

#define S_COOKIE_DAYS 30

/*  Was the request sent by a page of this site, as far as the browser
 *  says? (no Origin header: not a browser's cross-site request) */
static int
s_same_origin(ru_req_t *req)
{
    const char *origin = ru_http_req_header(req, "Origin");
    const char *host = ru_http_req_header(req, "Host");
    if (!origin)
        return 1;
    const char *sep = strstr(origin, "://");
    return sep && host && strcasecmp(sep + 3, host) == 0;
}

void
ru_api_session_cookie(ru_req_t *req, const char *token)
{
    int secure = strncmp(req->node->public_url, "https:", 6) == 0;
    ru_http_header(req, "Set-Cookie",
                   RU_SESSION_COOKIE "=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Strict%s", token,
                   *token ? S_COOKIE_DAYS * 86400 : 0, secure ? "; Secure" : "");
}

/*  {"csrf_token", "account", "admin"} of the session token of local user
 *  name ("admin": the web front end shows the operator page's link). */
static int
s_reply_session(ru_req_t *req, const char *token, const char *name)
{
    char csrf[RU_TOKEN_TEXT_SIZE];
    ru_http_csrf(token, csrf);
    ru_txn_t txn;
    ru_err err = ru_store_read(req->node->store, &txn);
    if (err)
        return ru_http_fail(req, err);
    ru_view_t v = ru_api_view(req, &txn);
    v.viewer = name;
    json_t *account = ru_view_account(&v, ru_key_public(req->node->key),
                                      (ru_str_t){name, (uint32_t) strlen(name)});
    ru_account_t acct = {0};
    int admin = ru_account_get(&txn, name, &acct) == RU_OK && acct.admin;
    ru_txn_abort(&txn);
    json_t *j = account ? json_pack("{s:s, s:o, s:b}", "csrf_token", csrf, "account", account,
                                    "admin", admin)
                        : NULL;
    return j ? ru_http_json(req, 200, j) : ru_http_fail(req, RU_E_NOMEM);
}

int
ru_api_sign_in(ru_req_t *req)
{
    const char *name = ru_http_param(req, "username");
    const char *password = ru_http_param(req, "password");
    if (!s_same_origin(req))
        return ru_http_error(req, 403, "sign in from this site's own page");
    if (!name || !*name || !password || !*password)
        return ru_http_error(req, 422, "username and password are required");
    int limited = ru_throttle_login_check(req, name);
    if (limited)
        return limited;
    if (ru_api_check_password(req, name, password) != RU_OK) {
        ru_throttle_login_failed(req, name);
        return ru_http_error(req, 401, "wrong user name or password");
    }
    char token[RU_TOKEN_TEXT_SIZE];
    ru_err err = ru_api_open_session(req, name, token);
    if (err)
        return ru_http_fail(req, err);
    ru_api_session_cookie(req, token);
    int status = s_reply_session(req, token, name);
    sodium_memzero(token, sizeof token);
    sodium_memzero(req->headers, sizeof req->headers);
    return status;
}

int
ru_api_session(ru_req_t *req)
{
    return s_reply_session(req, req->token, req->user.name);
}

int
ru_api_sign_out(ru_req_t *req)
{
    /*  Signed in by the cookie, the router has checked the CSRF token;
     *  without a session, clearing the cookie is all there is to do. */
    if (req->authed && req->via == RU_AUTH_COOKIE) {
        ru_err err = ru_api_close_session(req, req->token);
        if (err)
            return ru_http_fail(req, err);
    }
    ru_api_session_cookie(req, "");
    return ru_http_json(req, 200, json_object());
}
