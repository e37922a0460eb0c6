/*  ru_api_oauth.c - OAuth 2 for client apps: registering an app, the login
 *  page of the authorization code flow, the token endpoint (authorization
 *  code, password and client credentials grants), revocation, and
 *  verify_credentials of apps.
 *
 *  Anyone may register an app, and each one is stored: an address may
 *  register [http] app_registrations within app_window_s, then gets 429
 *  with Retry-After (ru_ratelimit.h).
 *
 *  The login page (GET and POST /oauth/authorize) is HTML, the only HTML
 *  the API itself writes. It has no session to tie a CSRF token to, so it
 *  uses a double submit: a random value in a cookie (HttpOnly,
 *  SameSite=Strict, path /oauth) and the same value in a hidden field; a
 *  page of another site can make the browser post the form but can neither
 *  read nor set the cookie. Every value shown is escaped, and the page
 *  carries a Content-Security-Policy that allows no script at all and only
 *  its own inline stylesheet (by hash). The app and its redirect URI are
 *  checked before anything else: a wrong one gets an error page, never a
 *  redirect to an address nobody registered. When [oidc] is on, the page
 *  also offers "Sign in with <label>" (ru_api_oidc.c), which comes back to
 *  the same request signed in by the web front end's session; a user that
 *  session signs in is only asked to authorize the app (the form carries
 *  the session's CSRF token, which the router checks).
 *  The user name and password of the login page and of the password grant
 *  are checked by ru_signin (a local account, or the company directory).
 *
 *  Errors of /oauth/token and /oauth/revoke follow RFC 6749 section 5.2:
 *  {"error": "invalid_grant" | "invalid_client" | ..., "error_description"}
 *  with 400, or 401 for a client that failed to authenticate; a company
 *  directory that cannot be reached is 503 temporarily_unavailable. A client
 *  authenticates with client_id and client_secret parameters or with HTTP
 *  Basic authentication.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ruche/ru_text.h"

#include "ru_api.h"
#include "ru_oauth.h"
#include "ru_oidc.h"
#include "ru_signin.h"
#include "ru_throttle.h"

#define S_CSRF_COOKIE "ruche_oauth_csrf"
#define S_MAX_APP_NAME 200
#define S_MAX_URI 2000
#define S_MAX_URIS 10
#define S_MAX_STATE 512 /* URL-encoded with the URI, it fits a Location header */

/*  ---------------------------------------------------------------------
 *  Answers
 */

/*  An OAuth error (RFC 6749, 5.2). */
static int
s_oauth_error(ru_req_t *req, int status, const char *error, const char *description)
{
    req->link[0] = '\0';
    return ru_http_json(req, status,
                        json_pack("{s:s, s:s}", "error", error, "error_description", description));
}

/*  Appends text escaped for HTML text and attribute values. */
static void
s_escape(ru_buf_t *buf, const char *text)
{
    static const char special[] = "&<>\"'\n";
    static const char *const entity[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&#10;"};
    for (const char *p = text ? text : ""; *p;) {
        size_t run = strcspn(p, special);
        ru_buf_append(buf, p, run);
        p += run;
        if (*p) {
            const char *e = entity[strchr(special, *p) - special];
            ru_buf_append(buf, e, strlen(e));
            p++;
        }
    }
}

/*  Appends a printf format whose %s arguments are escaped: only "%s" is
 *  understood. */
static void
s_html(ru_buf_t *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (const char *p = fmt; *p;) {
        const char *pc = strstr(p, "%s");
        size_t run = pc ? (size_t) (pc - p) : strlen(p);
        ru_buf_append(buf, p, run);
        p += run;
        if (pc) {
            s_escape(buf, va_arg(ap, const char *));
            p += 2;
        }
    }
    va_end(ap);
}

static const char s_css[] =
    "body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f4f0;color:#222}"
    "main{max-width:26rem;margin:3rem auto;padding:1.5rem;background:#fff;border-radius:8px;"
    "box-shadow:0 1px 4px #0002}h1{font-size:1.3rem;margin-top:0}"
    "label{display:block;margin:.8rem 0 .2rem}input[type=text],input[type=password]{width:100%;"
    "box-sizing:border-box;padding:.5rem;font:inherit}button{margin-top:1rem;padding:.5rem 1.2rem;"
    "font:inherit}.error{color:#a00}.code{font:1.1rem monospace;word-break:break-all;"
    "background:#eee;padding:.5rem}:focus{outline:3px solid #36c}";

/*  The Content-Security-Policy of the pages: no script, only the inline
 *  stylesheet above (by its hash); forms may go to this site and, for the
 *  redirect that follows a sign-in, to the app's redirect URI (extra: a
 *  source expression, or ""). */
static void
s_csp(ru_req_t *req, const char *extra)
{
    uint8_t h[crypto_hash_sha256_BYTES];
    char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    crypto_hash_sha256(h, (const uint8_t *) s_css, sizeof s_css - 1);
    sodium_bin2base64(b64, sizeof b64, h, sizeof h, sodium_base64_VARIANT_ORIGINAL);
    ru_http_header(req, "Content-Security-Policy",
                   "default-src 'none'; style-src 'sha256-%s'; form-action 'self'%s%s; "
                   "frame-ancestors 'none'; base-uri 'none'",
                   b64, *extra ? " " : "", extra);
}

/*  Sends a page whose main element holds body (HTML made with s_html). */
static int
s_page(ru_req_t *req, int status, const char *title, ru_buf_t *body, const char *form_to)
{
    ru_buf_t page;
    ru_buf_init(&page);
    s_html(&page,
           "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
           "<title>%s</title><style>",
           title);
    ru_buf_append(&page, s_css, sizeof s_css - 1);
    ru_buf_append(&page, "</style></head><body><main>", 27);
    ru_buf_append(&page, body->data, body->len);
    ru_buf_append(&page, "</main></body></html>\n", 22);
    s_csp(req, form_to ? form_to : "");
    if (ru_buf_status(&page) != RU_OK || ru_buf_status(body) != RU_OK)
        status = ru_http_error(req, 500, "out of memory");
    else
        ru_http_send(req, status, "text/html; charset=utf-8", (const char *) page.data, page.len);
    ru_buf_fini(&page);
    ru_buf_fini(body);
    return status;
}

/*  An error page: the reason and nothing to follow. */
static int
s_error_page(ru_req_t *req, int status, const char *what)
{
    ru_buf_t body;
    ru_buf_init(&body);
    s_html(&body, "<h1>Authorization failed</h1><p class=\"error\" role=\"alert\">%s</p>", what);
    return s_page(req, status, "Authorization failed", &body, NULL);
}

int
ru_api_continue_page(ru_req_t *req, const char *path, const char *name)
{
    ru_buf_t page;
    ru_buf_init(&page);
    s_html(&page,
           "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta http-equiv=\"refresh\" content=\"0;url=%s\"><title>Signed in</title>"
           "</head><body><p>Signed in as %s. <a id=\"continue\" href=\"%s\">Continue</a></p>"
           "</body></html>\n",
           path, name, path);
    s_csp(req, "");
    int status = ru_buf_status(&page) != RU_OK
                     ? ru_http_error(req, 500, "out of memory")
                     : ru_http_send(req, 200, "text/html; charset=utf-8", (const char *) page.data,
                                    page.len);
    ru_buf_fini(&page);
    return status;
}

/*  ---------------------------------------------------------------------
 *  Apps
 */

/*  Is uri acceptable as a redirect URI: the out-of-band URN, or an
 *  absolute URI without a fragment, spaces, controls or an active scheme? */
static int
s_redirect_valid(const char *uri, size_t len)
{
    static const char *const banned[] = {"javascript:", "data:", "vbscript:", "file:", "about:"};
    if (len == strlen(RU_OAUTH_OOB) && memcmp(uri, RU_OAUTH_OOB, len) == 0)
        return 1;
    size_t scheme =
        strspn(uri, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
    if (len > S_MAX_URI || scheme == 0 || scheme + 1 >= len || uri[scheme] != ':' ||
        !((uri[0] | 0x20) >= 'a' && (uri[0] | 0x20) <= 'z'))
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) uri[i] <= ' ' || uri[i] == '#' || uri[i] == 0x7f)
            return 0;
    for (size_t i = 0; i < sizeof banned / sizeof banned[0]; i++)
        if (strncasecmp(uri, banned[i], strlen(banned[i])) == 0)
            return 0;
    int web = strncasecmp(uri, "http:", 5) == 0 || strncasecmp(uri, "https:", 6) == 0;
    return !web || strstr(uri, "://") == uri + scheme;
}

/*  Adds the URIs of a space- or newline-separated list to out; 0 when one
 *  is not valid or there are too many. */
static int
s_add_uris(json_t *out, const char *list)
{
    for (const char *p = list; *p;) {
        p += strspn(p, " \t\r\n");
        size_t len = strcspn(p, " \t\r\n");
        if (len == 0)
            break;
        char *uri = strndup(p, len);
        int ok = uri && s_redirect_valid(uri, len) && json_array_size(out) < S_MAX_URIS &&
                 json_array_append_new(out, json_string(uri)) == 0;
        free(uri);
        if (!ok)
            return 0;
        p += len;
    }
    return 1;
}

/*  The redirect_uris parameter (a string, or an array of strings from a
 *  JSON body) as an array; NULL when missing or invalid. */
static json_t *
s_redirect_uris(ru_req_t *req)
{
    json_t *given = json_object_get(req->params, "redirect_uris"), *v;
    json_t *out = json_array();
    size_t i;
    int ok = out && (json_is_string(given) || json_is_array(given));
    if (json_is_string(given))
        ok = ok && s_add_uris(out, json_string_value(given));
    json_array_foreach(json_is_array(given) ? given : NULL, i, v)
    {
        ok = ok && json_is_string(v) && s_add_uris(out, json_string_value(v));
    }
    if (!ok || json_array_size(out) == 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/*  The app's scopes as an array, for the Application entity. */
static json_t *
s_scope_list(const char *scopes)
{
    json_t *out = json_array();
    for (const char *p = scopes; out && p && *p;) {
        p += strspn(p, " ");
        size_t len = strcspn(p, " ");
        if (len)
            json_array_append_new(out, json_stringn(p, len));
        p += len;
    }
    return out;
}

/*  The Application entity of an app record; a secret adds client_id and
 *  client_secret (only the registration's answer has them). */
static json_t *
s_app_entity(const json_t *app, const char *client_id, const char *secret)
{
    json_t *uris = json_object_get(app, "redirect_uris"), *u;
    ru_buf_t joined;
    ru_buf_init(&joined);
    size_t i;
    json_array_foreach(uris, i, u)
    {
        ru_buf_append(&joined, i ? "\n" : "", i ? 1 : 0);
        ru_buf_append(&joined, json_string_value(u), json_string_length(u));
    }
    const char *site = json_string_value(json_object_get(app, "website"));
    json_t *j = json_pack("{s:O, s:O, s:o, s:s%, s:O, s:s, s:o}", "id", json_object_get(app, "id"),
                          "name", json_object_get(app, "name"), "website",
                          site && *site ? json_string(site) : json_null(), "redirect_uri",
                          joined.data ? (const char *) joined.data : "", joined.len,
                          "redirect_uris", uris, "vapid_key", "", "scopes",
                          s_scope_list(json_string_value(json_object_get(app, "scopes"))));
    ru_buf_fini(&joined);
    if (j && secret) {
        json_object_set_new(j, "client_id", json_string(client_id));
        json_object_set_new(j, "client_secret", json_string(secret));
    }
    return j;
}

static ru_err
s_put_app(const ru_writer_ctx_t *ctx, void *arg)
{
    json_t *app = arg;
    return ru_oauth_app_put(ctx->txn, json_string_value(json_object_get(app, "client_id")), app);
}

/*  Checks the parameters of a new app; sends 422 and returns 0 when one
 *  is wrong. */
static int
s_app_params(ru_req_t *req, const char **name, json_t **uris, const char **scopes,
             const char **site)
{
    size_t chars;
    *name = ru_http_param(req, "client_name");
    *scopes = ru_http_param(req, "scopes");
    *scopes = *scopes && **scopes ? *scopes : "read";
    *site = ru_http_param(req, "website");
    *uris = NULL;
    if (!*name || !**name || ru_utf8_check(*name, strlen(*name), &chars) != RU_OK ||
        chars > S_MAX_APP_NAME)
        return ru_http_error(req, 422, "Validation failed: client_name must be 1 to %d characters",
                             S_MAX_APP_NAME),
               0;
    if (!ru_oauth_scope_valid(*scopes))
        return ru_http_error(req, 422, "Validation failed: scopes holds an unknown scope"), 0;
    if (*site && **site &&
        (strlen(*site) > S_MAX_URI || !s_redirect_valid(*site, strlen(*site)) ||
         (strncmp(*site, "https://", 8) != 0 && strncmp(*site, "http://", 7) != 0)))
        return ru_http_error(req, 422, "Validation failed: website must be an http(s) URL"), 0;
    if (!(*uris = s_redirect_uris(req)))
        return ru_http_error(req, 422,
                             "Validation failed: redirect_uris must be 1 to %d absolute URIs "
                             "(or " RU_OAUTH_OOB ") without fragments",
                             S_MAX_URIS),
               0;
    return 1;
}

int
ru_api_create_app(ru_req_t *req)
{
    const char *name, *scopes, *site;
    json_t *uris;
    int refused = ru_throttle_addr_check(req->node->apps, req, "app registrations");
    if (refused)
        return refused;
    if (!s_app_params(req, &name, &uris, &scopes, &site))
        return 422;
    char client_id[RU_TOKEN_TEXT_SIZE], secret[RU_TOKEN_TEXT_SIZE], hash[RU_OAUTH_HASH_TEXT];
    char id[24];
    uint64_t n;
    randombytes_buf(&n, sizeof n);
    snprintf(id, sizeof id, "%llu", (unsigned long long) (n >> 11)); /* 53 bits: a JS number */
    ru_account_new_token(client_id);
    ru_account_new_token(secret);
    ru_oauth_secret_hash(secret, hash);
    json_t *app =
        json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:I}", "id", id, "client_id", client_id,
                  "name", name, "website", site ? site : "", "redirect_uris", uris, "scopes",
                  scopes, "secret", hash, "created_ms", (json_int_t) ru_hlc_wall_ms());
    ru_err err = app ? ru_writer_call(req->node->writer, s_put_app, app) : RU_E_NOMEM;
    if (!err) /* each app stored counts: [http] app_registrations */
        ru_throttle_addr_count(req->node->apps, req);
    json_t *j = err ? NULL : s_app_entity(app, client_id, secret);
    json_decref(app);
    sodium_memzero(secret, sizeof secret);
    return err ? ru_http_fail(req, err) : ru_http_json(req, 200, j);
}

/*  The app of client_id in *app (a new reference); NULL when unknown. */
static ru_err
s_find_app(ru_req_t *req, const char *client_id, json_t **app)
{
    ru_txn_t txn;
    *app = NULL;
    if (!client_id)
        return RU_E_NOT_FOUND;
    ru_err err = ru_store_read(req->node->store, &txn);
    if (err)
        return err;
    err = ru_oauth_app_get(&txn, client_id, app);
    ru_txn_abort(&txn);
    return err;
}

int
ru_api_verify_app(ru_req_t *req)
{
    char token[RU_TOKEN_TEXT_SIZE + 1];
    json_t *rec = NULL, *app = NULL;
    ru_txn_t txn;
    ru_err err = ru_http_request_token(req, token, sizeof token) ? RU_OK : RU_E_NOT_FOUND;
    if (!err && !(err = ru_store_read(req->node->store, &txn))) {
        err = ru_oauth_token_get(&txn, token, &rec);
        if (!err)
            err =
                ru_oauth_app_get(&txn, json_string_value(json_object_get(rec, "client_id")), &app);
        ru_txn_abort(&txn);
    }
    sodium_memzero(token, sizeof token);
    json_t *j = err ? NULL : s_app_entity(app, NULL, NULL);
    if (j)
        json_object_set_new(j, "scopes",
                            s_scope_list(json_string_value(json_object_get(rec, "scope"))));
    json_decref(rec);
    json_decref(app);
    if (err == RU_E_NOT_FOUND)
        return ru_http_error(req, 401, "The access token is invalid");
    return err ? ru_http_fail(req, err) : ru_http_json(req, 200, j);
}

/*  ---------------------------------------------------------------------
 *  The login page
 */

/*  An authorization request: its app and parameters. */
typedef struct {
    json_t *app;
    const char *client_id, *redirect_uri, *scope, *state;
} s_authz;

/*  Checks the app and redirect URI of an authorization request, then its
 *  type and scope; sends an error page and returns its status when one is
 *  wrong, else 0 (a->app then needs json_decref). */
static int
s_authz_check(ru_req_t *req, s_authz *a)
{
    const char *type = ru_http_param(req, "response_type");
    a->client_id = ru_http_param(req, "client_id");
    a->redirect_uri = ru_http_param(req, "redirect_uri");
    a->scope = ru_http_param(req, "scope");
    a->scope = a->scope && *a->scope ? a->scope : "read";
    a->state = ru_http_param(req, "state");
    ru_err err = s_find_app(req, a->client_id, &a->app);
    json_t *uris = json_object_get(a->app, "redirect_uris");
    if (!err && !a->redirect_uri && json_array_size(uris) == 1)
        a->redirect_uri = json_string_value(json_array_get(uris, 0));
    const char *why =
        err == RU_E_NOT_FOUND ? "No application with this client_id is registered here."
        : err                 ? "The node could not read its store; try again."
        : !ru_oauth_redirect_ok(a->app, a->redirect_uri)
            ? "The redirect_uri is not one that the application registered."
        : !type || strcmp(type, "code") != 0 ? "Only response_type=code is supported."
        : !ru_oauth_scope_subset(a->scope, json_string_value(json_object_get(a->app, "scopes")))
            ? "The application asks for scopes that it did not register."
        : a->state && strlen(a->state) > S_MAX_STATE ? "The state parameter is too long."
                                                     : NULL;
    if (!why)
        return 0;
    json_decref(a->app);
    a->app = NULL;
    return s_error_page(req, err && err != RU_E_NOT_FOUND ? 500 : 400, why);
}

/*  The CSRF value of the login form: the browser's cookie when it has a
 *  well-formed one, else a new one; (re)sets the cookie. A browser signed
 *  in to the web front end gets its session's CSRF token, which the
 *  router asks of a cookie-signed post (ru_http.h). */
static void
s_csrf_cookie(ru_req_t *req, char out[RU_TOKEN_TEXT_SIZE])
{
    uint8_t bin[32];
    if (req->authed && req->via == RU_AUTH_COOKIE)
        ru_http_csrf(req->token, out);
    else if (ru_http_cookie(req, S_CSRF_COOKIE, out, RU_TOKEN_TEXT_SIZE) != RU_TOKEN_TEXT_SIZE - 1 ||
             ru_b64_decode(bin, sizeof bin, out, RU_TOKEN_TEXT_SIZE - 1) != RU_OK)
        ru_account_new_token(out);
    ru_http_header(req, "Set-Cookie", S_CSRF_COOKIE "=%s; Path=/oauth; HttpOnly; SameSite=Strict%s",
                   out, strncmp(req->node->public_url, "https:", 6) == 0 ? "; Secure" : "");
}

/*  Does the form's authenticity_token equal the cookie's value? */
static int
s_csrf_form_ok(ru_req_t *req)
{
    char have[RU_TOKEN_TEXT_SIZE];
    const char *given = ru_http_param(req, "authenticity_token");
    return given && ru_http_cookie(req, S_CSRF_COOKIE, have, sizeof have) == RU_TOKEN_TEXT_SIZE - 1 &&
           strlen(given) == RU_TOKEN_TEXT_SIZE - 1 &&
           sodium_memcmp(have, given, RU_TOKEN_TEXT_SIZE - 1) == 0;
}

/*  The CSP source expression of a redirect URI (its origin, or its
 *  scheme for an app's own scheme) into out; "" when none is safe. */
static void
s_redirect_source(const char *uri, char *out, size_t size)
{
    size_t scheme = strcspn(uri, ":");
    const char *host = uri + scheme + 3;
    size_t hlen = strncmp(uri + scheme, "://", 3) == 0 ? strcspn(host, "/?") : 0;
    int web = strncasecmp(uri, "http", 4) == 0;
    const char *allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]";
    out[0] = '\0';
    if (strcmp(uri, RU_OAUTH_OOB) == 0 || (web && (hlen == 0 || strspn(host, allowed) < hlen)))
        return;
    if (web)
        snprintf(out, size, "%.*s%.*s", (int) scheme + 3, uri, (int) hlen, host);
    else
        snprintf(out, size, "%.*s", (int) scheme + 1, uri);
}

/*  Appends s percent-encoded. */
static void
s_url_encoded(ru_buf_t *buf, const char *s)
{
    size_t size = 3 * strlen(s) + 1;
    char *enc = malloc(size);
    if (enc) {
        ru_http_url_encode(s, enc, size);
        ru_buf_append(buf, enc, strlen(enc));
    }
    free(enc);
}

/*  The "Sign in with <label>" link, when [oidc] is on: a sign-in at the
 *  provider that comes back to this authorization request. */
static void
s_oidc_link(ru_req_t *req, const s_authz *a, ru_buf_t *body)
{
    if (!req->node->oidc)
        return;
    ru_buf_t ret, href;
    ru_buf_init(&ret);
    ru_buf_init(&href);
    const char *names[] = {"client_id", "redirect_uri", "scope", "state"};
    const char *values[] = {a->client_id, a->redirect_uri, a->scope, a->state ? a->state : ""};
    ru_buf_append(&ret, "/oauth/authorize?response_type=code", 35);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        ru_buf_append(&ret, "&", 1);
        ru_buf_append(&ret, names[i], strlen(names[i]));
        ru_buf_append(&ret, "=", 1);
        s_url_encoded(&ret, values[i]);
    }
    ru_buf_append(&ret, "", 1);
    ru_buf_append(&href, "/auth/oidc/start?return=", 24);
    if (ru_buf_status(&ret) == RU_OK)
        s_url_encoded(&href, (const char *) ret.data);
    ru_buf_append(&href, "", 1);
    if (ru_buf_status(&href) == RU_OK)
        s_html(body, "<p><a id=\"oidc\" href=\"%s\">Sign in with %s</a></p>",
               (const char *) href.data, ru_oidc_label(req->node->oidc));
    ru_buf_fini(&ret);
    ru_buf_fini(&href);
}

/*  Sends the login form, with an error line when error is not NULL; to a
 *  user the web front end's session signs in, the consent alone. */
static int
s_login_form(ru_req_t *req, const s_authz *a, int status, const char *error)
{
    char csrf[RU_TOKEN_TEXT_SIZE], source[S_MAX_URI + 1];
    s_csrf_cookie(req, csrf);
    ru_buf_t body;
    ru_buf_init(&body);
    s_html(&body,
           "<h1>Sign in to %s</h1><p><strong>%s</strong> asks for access to your account "
           "(scopes: %s).</p>",
           req->node->cfg.site, json_string_value(json_object_get(a->app, "name")), a->scope);
    if (error)
        s_html(&body, "<p class=\"error\" role=\"alert\">%s</p>", error);
    s_html(&body,
           "<form method=\"post\" action=\"/oauth/authorize\">"
           "<input type=\"hidden\" name=\"authenticity_token\" value=\"%s\">"
           "<input type=\"hidden\" name=\"response_type\" value=\"code\">"
           "<input type=\"hidden\" name=\"client_id\" value=\"%s\">"
           "<input type=\"hidden\" name=\"redirect_uri\" value=\"%s\">"
           "<input type=\"hidden\" name=\"scope\" value=\"%s\">"
           "<input type=\"hidden\" name=\"state\" value=\"%s\">",
           csrf, a->client_id, a->redirect_uri, a->scope, a->state ? a->state : "");
    if (req->authed && req->via == RU_AUTH_COOKIE)
        s_html(&body, "<p>Signed in as <strong>%s</strong>.</p><button type=\"submit\" "
                      "id=\"authorize\">Authorize</button></form>",
               req->user.name);
    else {
        s_html(&body,
               "<label for=\"username\">User name</label><input type=\"text\" id=\"username\" "
               "name=\"username\" autocomplete=\"username\" autocapitalize=\"none\" required "
               "autofocus><label for=\"password\">Password</label><input type=\"password\" "
               "id=\"password\" name=\"password\" autocomplete=\"current-password\" required>"
               "<button type=\"submit\">Sign in and authorize</button></form>");
        s_oidc_link(req, a, &body);
    }
    s_redirect_source(a->redirect_uri, source, sizeof source);
    return s_page(req, status, "Sign in", &body, source);
}

int
ru_api_authorize_page(ru_req_t *req)
{
    s_authz a;
    int refused = s_authz_check(req, &a);
    if (refused)
        return refused;
    int status = s_login_form(req, &a, 200, NULL);
    json_decref(a.app);
    return status;
}

static ru_err
s_put_code(const ru_writer_ctx_t *ctx, void *arg)
{
    json_t *grant = json_deep_copy(arg); /* a retried batch starts from the same grant */
    const char *code = json_string_value(json_object_get(arg, "code"));
    json_object_del(grant, "code");
    ru_err err = grant ? ru_oauth_code_put(ctx->txn, code, grant, ru_hlc_wall_ms()) : RU_E_NOMEM;
    json_decref(grant);
    return err;
}

/*  Sends the code: a page to copy it from (out of band), or a redirect to
 *  the app with the code and state. */
static int
s_send_code(ru_req_t *req, const s_authz *a, const char *code)
{
    if (strcmp(a->redirect_uri, RU_OAUTH_OOB) == 0) {
        ru_buf_t body;
        ru_buf_init(&body);
        s_html(&body,
               "<h1>Authorization code</h1><p>Copy this code into <strong>%s</strong>:</p>"
               "<p class=\"code\" id=\"code\">%s</p>",
               json_string_value(json_object_get(a->app, "name")), code);
        return s_page(req, 200, "Authorization code", &body, NULL);
    }
    char state[3 * S_MAX_STATE + 1] = "";
    if (a->state && *a->state)
        ru_http_url_encode(a->state, state, sizeof state);
    ru_http_header(req, "Location", "%s%scode=%s%s%s", a->redirect_uri,
                   strchr(a->redirect_uri, '?') ? "&" : "?", code, *state ? "&state=" : "", state);
    return ru_http_send(req, 302, "text/html; charset=utf-8", "", 0);
}

/*  A signed-in user authorizes the app: a code is made and sent. */
static int
s_grant_code(ru_req_t *req, const s_authz *a, const char *name)
{
    char code[RU_TOKEN_TEXT_SIZE];
    ru_account_new_token(code);
    json_t *grant = json_pack("{s:s, s:s, s:s, s:s, s:s}", "code", code, "client_id", a->client_id,
                              "redirect_uri", a->redirect_uri, "scope", a->scope, "user", name);
    ru_err err = grant ? ru_writer_call(req->node->writer, s_put_code, grant) : RU_E_NOMEM;
    json_decref(grant);
    int status = err ? s_error_page(req, 500, ru_err_str(err)) : s_send_code(req, a, code);
    sodium_memzero(code, sizeof code);
    return status;
}

int
ru_api_authorize(ru_req_t *req)
{
    s_authz a;
    int status = s_authz_check(req, &a);
    if (status)
        return status;
    const char *name = ru_http_param(req, "username"), *refusal;
    char account[RU_MAX_NAME + 1];
    long wait = ru_throttle_login_wait(req, name);
    ru_err err = RU_OK;
    if (!s_csrf_form_ok(req))
        status = s_login_form(req, &a, 403, "This form has expired: please sign in again.");
    else if (req->authed && req->via == RU_AUTH_COOKIE && !name)
        status = s_grant_code(req, &a, req->user.name); /* the consent of a signed-in user */
    else if (wait) {
        ru_http_header(req, "Retry-After", "%ld", wait);
        status = s_login_form(req, &a, 429, "Too many failed sign-ins: try again later.");
    } else if ((err = ru_signin_request(req, name, ru_http_param(req, "password"), account))) {
        status = ru_signin_refusal(err, &refusal);
        status = s_login_form(req, &a, status, refusal);
    } else
        status = s_grant_code(req, &a, account);
    json_decref(a.app);
    return status;
}

/*  ---------------------------------------------------------------------
 *  Tokens
 */

/*  The client of a token request: from client_id and client_secret
 *  parameters, or from HTTP Basic authentication. */
typedef struct {
    char id[128], secret[128];
    json_t *app; /* when authenticated */
} s_client_t;

/*  Reads the client's credentials; 0 when none are given. */
static int
s_client_credentials(ru_req_t *req, s_client_t *c)
{
    const char *id = ru_http_param(req, "client_id"), *secret = ru_http_param(req, "client_secret");
    const char *basic = ru_http_req_header(req, "Authorization");
    char pair[sizeof c->id + sizeof c->secret];
    size_t len = 0;
    if (id) {
        snprintf(c->id, sizeof c->id, "%s", id);
        snprintf(c->secret, sizeof c->secret, "%s", secret ? secret : "");
        return 1;
    }
    if (!basic || strncasecmp(basic, "Basic ", 6) != 0 ||
        sodium_base642bin((uint8_t *) pair, sizeof pair - 1, basic + 6, strlen(basic + 6), NULL,
                          &len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
        return 0;
    pair[len] = '\0';
    size_t colon = strcspn(pair, ":");
    snprintf(c->id, sizeof c->id, "%.*s", (int) colon, pair);
    snprintf(c->secret, sizeof c->secret, "%s", pair[colon] ? pair + colon + 1 : "");
    sodium_memzero(pair, sizeof pair);
    return 1;
}

/*  Authenticates the client, if one is given (required: it must be).
 *  Sends the OAuth error and returns its status, or 0 (c->app then set,
 *  or NULL when no client was given and none is required). */
static int
s_client(ru_req_t *req, int required, s_client_t *c)
{
    memset(c, 0, sizeof *c);
    if (!s_client_credentials(req, c))
        return required ? s_oauth_error(req, 401, "invalid_client",
                                        "client_id and client_secret are required")
                        : 0;
    ru_err err = s_find_app(req, c->id, &c->app);
    if (err && err != RU_E_NOT_FOUND)
        return ru_http_fail(req, err);
    if (!err && ru_oauth_secret_ok(c->app, c->secret))
        return 0;
    json_decref(c->app);
    c->app = NULL;
    return s_oauth_error(req, 401, "invalid_client", "unknown client or wrong client secret");
}

/*  What a grant issues, and what the store actor checks first. */
typedef struct {
    const char *code, *redirect_uri; /* authorization_code */
    const char *client_id;           /* NULL: a session of no app (the CLI's) */
    char scope[RU_HTTP_SCOPE_SIZE];
    char user[RU_MAX_NAME + 1]; /* "": the app alone (client credentials) */
    char token[RU_TOKEN_TEXT_SIZE];
} s_issue_t;

/*  Takes the code of an authorization_code grant: it must have been made
 *  for this client and redirect URI. */
static ru_err
s_take_code(ru_txn_t *txn, s_issue_t *is)
{
    json_t *grant;
    ru_err err = ru_oauth_code_take(txn, is->code, ru_hlc_wall_ms(), &grant);
    if (err)
        return err;
    const char *client = json_string_value(json_object_get(grant, "client_id"));
    const char *uri = json_string_value(json_object_get(grant, "redirect_uri"));
    const char *scope = json_string_value(json_object_get(grant, "scope"));
    const char *user = json_string_value(json_object_get(grant, "user"));
    if (!client || !uri || !scope || !user || strcmp(client, is->client_id) != 0 ||
        !is->redirect_uri || strcmp(uri, is->redirect_uri) != 0)
        err = RU_E_INVALID;
    else {
        snprintf(is->scope, sizeof is->scope, "%s", scope);
        snprintf(is->user, sizeof is->user, "%s", user);
    }
    json_decref(grant);
    return err;
}

static ru_err
s_issue_fn(const ru_writer_ctx_t *ctx, void *arg)
{
    s_issue_t *is = arg;
    ru_err err = is->code ? s_take_code(ctx->txn, is) : RU_OK;
    uint64_t now = ru_hlc_wall_ms();
    if (err)
        return err;
    if (!is->client_id)
        return ru_account_session_put(ctx->txn, is->token, is->user, now);
    return ru_oauth_token_put(ctx->txn, is->token, is->client_id, is->scope,
                              is->user[0] ? is->user : NULL, now);
}

/*  Issues the token and answers it. */
static int
s_issue(ru_req_t *req, s_issue_t *is)
{
    ru_account_new_token(is->token);
    ru_err err = ru_writer_call(req->node->writer, s_issue_fn, is);
    json_t *j =
        err ? NULL
            : json_pack("{s:s, s:s, s:s, s:I}", "access_token", is->token, "token_type", "Bearer",
                        "scope", is->scope, "created_at", (json_int_t) (ru_hlc_wall_ms() / 1000));
    sodium_memzero(is->token, sizeof is->token);
    if (err == RU_E_NOT_FOUND || err == RU_E_INVALID)
        return s_oauth_error(req, 400, "invalid_grant",
                             "the authorization code is unknown, expired, already used, or was "
                             "issued to another client or redirect_uri");
    return err ? ru_http_fail(req, err) : ru_http_json(req, 200, j);
}

/*  The scope asked for (default "read"), into is; 0 when the app may not
 *  have it (the error then sent). */
static int
s_asked_scope(ru_req_t *req, const json_t *app, s_issue_t *is)
{
    const char *asked = ru_http_param(req, "scope");
    asked = asked && *asked ? asked : "read";
    if (strlen(asked) >= sizeof is->scope ||
        !ru_oauth_scope_subset(asked, json_string_value(json_object_get(app, "scopes")))) {
        s_oauth_error(req, 400, "invalid_scope",
                      "the requested scope is invalid, unknown, or not one the app registered");
        return 0;
    }
    snprintf(is->scope, sizeof is->scope, "%s", asked);
    return 1;
}

static int
s_grant_authorization_code(ru_req_t *req, s_client_t *c)
{
    s_issue_t is = {
        ru_http_param(req, "code"), ru_http_param(req, "redirect_uri"), c->id, "", "", ""};
    if (!is.code)
        return s_oauth_error(req, 400, "invalid_request", "code is missing");
    return s_issue(req, &is);
}

static int
s_grant_password(ru_req_t *req, s_client_t *c)
{
    const char *name = ru_http_param(req, "username");
    s_issue_t is = {NULL, NULL, c->app ? c->id : NULL, RU_OAUTH_ALL_SCOPES, "", ""};
    char account[RU_MAX_NAME + 1];
    const char *refusal;
    int refused = ru_throttle_login_check(req, name);
    if (refused)
        return refused;
    ru_err err = ru_signin_request(req, name, ru_http_param(req, "password"), account);
    if (err == RU_E_INVALID)
        return s_oauth_error(req, 400, "invalid_grant", "wrong user name or password");
    if (err) {
        int status = ru_signin_refusal(err, &refusal);
        return status < 500 ? s_oauth_error(req, 400, "invalid_grant", refusal)
                            : s_oauth_error(req, status,
                                            status == 503 ? "temporarily_unavailable"
                                                          : "server_error",
                                            refusal);
    }
    if (c->app && !s_asked_scope(req, c->app, &is))
        return 400;
    snprintf(is.user, sizeof is.user, "%s", account);
    return s_issue(req, &is);
}

static int
s_grant_client_credentials(ru_req_t *req, s_client_t *c)
{
    s_issue_t is = {NULL, NULL, c->id, "", "", ""};
    return s_asked_scope(req, c->app, &is) ? s_issue(req, &is) : 400;
}

int
ru_api_token(ru_req_t *req)
{
    static const struct {
        const char *grant;
        int client_required;
        int (*run)(ru_req_t *req, s_client_t *c);
    } grants[] = {{"authorization_code", 1, s_grant_authorization_code},
                  {"password", 0, s_grant_password},
                  {"client_credentials", 1, s_grant_client_credentials}};
    const char *grant = ru_http_param(req, "grant_type");
    if (!grant)
        return s_oauth_error(req, 400, "invalid_request", "grant_type is missing");
    for (size_t i = 0; i < sizeof grants / sizeof grants[0]; i++) {
        if (strcmp(grant, grants[i].grant) != 0)
            continue;
        s_client_t c;
        int status = s_client(req, grants[i].client_required, &c);
        if (!status)
            status = grants[i].run(req, &c);
        json_decref(c.app);
        sodium_memzero(&c, sizeof c);
        return status;
    }
    return s_oauth_error(req, 400, "unsupported_grant_type",
                         "grant_type must be authorization_code, password or client_credentials");
}

/*  ---------------------------------------------------------------------
 *  Revocation
 */

static ru_err
s_del_token(const ru_writer_ctx_t *ctx, void *arg)
{
    return ru_oauth_token_del(ctx->txn, arg);
}

/*  The client_id a token was issued to into out ("" for none); 0 when the
 *  store cannot be read. */
static int
s_token_client(ru_req_t *req, const char *token, char *out, size_t size)
{
    ru_txn_t txn;
    json_t *rec = NULL;
    if (ru_store_read(req->node->store, &txn) != RU_OK)
        return 0;
    ru_err err = ru_oauth_token_get(&txn, token, &rec);
    ru_txn_abort(&txn);
    snprintf(out, size, "%s", err ? "" : json_string_value(json_object_get(rec, "client_id")));
    json_decref(rec);
    return err == RU_OK || err == RU_E_NOT_FOUND;
}

int
ru_api_revoke(ru_req_t *req)
{
    const char *token = ru_http_param(req, "token");
    char owner[128];
    s_client_t c;
    if (!token)
        return s_oauth_error(req, 400, "invalid_request", "token is missing");
    int status = s_client(req, 0, &c);
    json_decref(c.app);
    if (status)
        return status;
    if (!s_token_client(req, token, owner, sizeof owner))
        return ru_http_fail(req, RU_E_STORE);
    if (c.app && *owner && strcmp(owner, c.id) != 0)
        return s_oauth_error(req, 403, "unauthorized_client",
                             "this token was issued to another client");
    ru_err err = ru_writer_call(req->node->writer, s_del_token, (void *) token);
    return err ? ru_http_fail(req, err) : ru_http_json(req, 200, json_object());
}
