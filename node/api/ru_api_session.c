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
 *  The user name and password are checked by ru_signin (a local account,
 *  or the company directory). A wrong one is 401; a refusal for another
 *  reason (the directory cannot be reached: 503; the person may not sign
 *  in here: 403) says why in "error" and names it in "reason". Failed
 *  sign-ins count in the node's login limiter (ru_ratelimit.h), by
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
#include "ru_signin.h"
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

/*  A sign-in refused for another reason than a wrong password: its
 *  status, {"error": the sentence for people, "reason": err's name}. */
static int
s_refused(ru_req_t *req, ru_err err)
{
    const char *message;
    int status = ru_signin_refusal(err, &message);
    json_t *j = json_pack("{s:s, s:s}", "error", message, "reason", ru_err_name(err));
    return j ? ru_http_json(req, status, j) : ru_http_fail(req, RU_E_NOMEM);
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
    char account[RU_MAX_NAME + 1];
    ru_err err = ru_signin_request(req, name, password, account);
    if (err == RU_E_INVALID)
        return ru_http_error(req, 401, "wrong user name or password");
    if (err)
        return s_refused(req, err);
    char token[RU_TOKEN_TEXT_SIZE];
    err = ru_api_open_session(req, account, token);
    if (err)
        return ru_http_fail(req, err);
    ru_api_session_cookie(req, token);
    int status = s_reply_session(req, token, account);
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
