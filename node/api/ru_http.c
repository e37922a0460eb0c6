/*  ru_http.c - routing, parameters, authentication and JSON responses on
 *  top of civetweb (see ru_http.h).
 *
 *  One civetweb handler, registered for "/", takes every request; the
 *  route table decides. A path that matches a route with another method
 *  gets 405, a path that matches nothing 404: both as JSON.
 */
#include "ru_http.h"

#include <civetweb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ruche/ru_text.h"

#include "ru_log.h"
#include "ru_oauth.h"
#include "ru_reqstats.h"
#include "ru_web.h"

struct ru_http {
    struct mg_context *ctx;
    ru_node_t *node;
    const ru_route_t *routes;
};

/*  ---------------------------------------------------------------------
 *  Responses
 */

static const char *
s_reason(int status)
{
    static const struct {
        int status;
        const char *text;
    } reasons[] = {{200, "OK"},
                   {302, "Found"},
                   {400, "Bad Request"},
                   {401, "Unauthorized"},
                   {403, "Forbidden"},
                   {404, "Not Found"},
                   {405, "Method Not Allowed"},
                   {409, "Conflict"},
                   {413, "Payload Too Large"},
                   {415, "Unsupported Media Type"},
                   {422, "Unprocessable Entity"},
                   {429, "Too Many Requests"},
                   {500, "Internal Server Error"},
                   {503, "Service Unavailable"},
                   {507, "Insufficient Storage"}};
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].status == status)
            return reasons[i].text;
    return "Status";
}

void
ru_http_header(ru_req_t *req, const char *name, const char *fmt, ...)
{
    char value[sizeof req->headers];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    size_t used = strlen(req->headers);
    int n = snprintf(req->headers + used, sizeof req->headers - used, "%s: %s\r\n", name, value);
    if (n < 0 || (size_t) n >= sizeof req->headers - used) {
        req->headers[used] = '\0';
        ru_log_err("http", "%s %s: no room for the %s header", req->method, req->path, name);
    }
}

int
ru_http_send(ru_req_t *req, int status, const char *type, const char *body, size_t len)
{
    char head[sizeof req->link + sizeof req->headers + 1024];
    const char *csp = strstr(req->headers, "Content-Security-Policy:") ? "" : RU_WEB_CSP_HEADER;
    int n =
        snprintf(head, sizeof head,
                 "HTTP/1.1 %d %s\r\n"
                 "Content-Type: %s\r\n"
                 "Content-Length: %zu\r\n"
                 "Cache-Control: no-store\r\n"
                 "Keep-Alive: timeout=%ld\r\n%s" RU_WEB_BASE_HEADERS "%s%s%s%s"
                 "\r\n",
                 status, s_reason(status), type, len, req->node->cfg.keep_alive_ms / 1000, csp,
                 req->link[0] ? "Link: " : "", req->link, req->link[0] ? "\r\n" : "", req->headers);
    /*  Head and body leave in one write: two small writes on a kept-alive
     *  connection would wait for the client's delayed acknowledgement. */
    ru_buf_t out;
    ru_buf_init(&out);
    ru_buf_append(&out, head, n > 0 && (size_t) n < sizeof head ? (size_t) n : 0);
    ru_buf_append(&out, body, len);
    if (ru_buf_status(&out) == RU_OK)
        mg_write(req->conn, out.data, out.len);
    ru_buf_fini(&out);
    return status;
}

int
ru_http_json(ru_req_t *req, int status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(body);
    if (!text) {
        status = 500;
        text = strdup("{\"error\":\"out of memory\"}");
    }
    status =
        ru_http_send(req, status, "application/json; charset=utf-8", text, text ? strlen(text) : 0);
    free(text);
    return status;
}

int
ru_http_error(ru_req_t *req, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    req->link[0] = '\0';
    return ru_http_json(req, status, json_pack("{s:s}", "error", msg));
}

int
ru_http_fail(ru_req_t *req, ru_err err)
{
    switch (err) {
    case RU_E_NOT_FOUND:
        return ru_http_error(req, 404, "Record not found");
    case RU_E_STORE_FULL:
    case RU_E_DISK_FULL:
        return ru_http_error(req, 507, "%s", ru_err_str(err));
    case RU_E_RECOVERING:
        return ru_http_error(req, 503, "%s", ru_err_str(err));
    case RU_E_UTF8:
    case RU_E_TOO_BIG:
    case RU_E_RANGE:
    case RU_E_NAME:
    case RU_E_INVALID:
    case RU_E_EXISTS:
        return ru_http_error(req, 422, "Validation failed: %s", ru_err_str(err));
    default:
        ru_log_err("http", "%s %s: %s", req->method, req->path, ru_err_str(err));
        return ru_http_error(req, 500, "%s", ru_err_str(err));
    }
}

/*  ---------------------------------------------------------------------
 *  Parameters
 */

const char *
ru_http_param(const ru_req_t *req, const char *name)
{
    return json_string_value(json_object_get(req->params, name));
}

long
ru_http_param_long(ru_req_t *req, const char *name, long def, long min, long max)
{
    json_t *v = json_object_get(req->params, name);
    if (!v)
        return def;
    long n;
    char *end = NULL;
    if (json_is_integer(v))
        n = (long) json_integer_value(v);
    else if (json_is_string(v))
        n = strtol(json_string_value(v), &end, 10);
    else
        n = min - 1;
    if ((end && (*end || end == json_string_value(v))) || n < min || n > max) {
        ru_http_error(req, 422, "%s must be a whole number from %ld to %ld", name, min, max);
        return -1;
    }
    return n;
}

/*  Sets params[key] to s (taking its reference). A key ending in "[]"
 *  (types[]=mention&types[]=follow, as Mastodon clients send lists) adds s
 *  to a list under the name without the brackets, as a JSON body's
 *  {"types": [...]} would. */
static void
s_param_set(json_t *params, char *key, size_t klen, json_t *s)
{
    /*  klen counts every byte: a NUL in a name is kept for s_nul_param. */
    if (klen <= 2 || memcmp(key + klen - 2, "[]", 2) != 0) {
        json_object_setn_new(params, key, klen, s);
        return;
    }
    klen -= 2;
    json_t *list = json_object_getn(params, key, klen);
    if (!json_is_array(list)) {
        list = json_array();
        json_object_setn_new(params, key, klen, list);
    }
    json_array_append_new(list, s);
}

/*  Adds the pairs of an x-www-form-urlencoded string to params.
 *  Returns 0, or -1 when a value is not UTF-8. */
static int
s_parse_form(const char *data, size_t len, json_t *params)
{
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && data[end] != '&')
            end++;
        const char *eq = memchr(data + i, '=', end - i);
        if (eq && eq > data + i) {
            char key[128], *val = malloc(end - i + 1);
            int klen = mg_url_decode(data + i, (int) (eq - data - i), key, sizeof key, 1);
            int vlen = val ? mg_url_decode(eq + 1, (int) (data + end - eq - 1), val,
                                           (int) (end - i + 1), 1)
                           : -1;
            json_t *s = vlen >= 0 ? json_stringn(val, (size_t) vlen) : NULL;
            free(val);
            if (!s)
                return -1;
            if (klen > 0)
                s_param_set(params, key, (size_t) klen, s);
            else
                json_decref(s);
        }
        i = end + 1;
    }
    return 0;
}

/*  The first occurrence of needle (nlen > 0 bytes) in hay, or NULL. */
static const char *
s_find(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
    for (const char *p = hay; hlen >= nlen && (p = memchr(p, needle[0], hlen - nlen + 1)) != NULL;
         p++) {
        if (memcmp(p, needle, nlen) == 0)
            return p;
        hlen -= (size_t) (p + 1 - hay);
        hay = p + 1;
    }
    return NULL;
}

/*  The name="..." of a part's headers (len bytes), copied into name; its
 *  length, 0 when it has none or it is a file (filename=), which is
 *  skipped. */
static int
s_part_name(const char *head, size_t len, char *name, size_t size)
{
    const char *p = head, *end = head + len;
    if (s_find(head, len, "filename", 8))
        return 0;
    while ((p = s_find(p, (size_t) (end - p), "name=\"", 6)) != NULL) {
        int plain = p > head && (p[-1] == ' ' || p[-1] == ';');
        p += 6;
        const char *q = memchr(p, '"', (size_t) (end - p));
        if (!q)
            return 0;
        if (plain && (size_t) (q - p) < size && q > p) {
            memcpy(name, p, (size_t) (q - p));
            name[q - p] = '\0';
            return (int) (q - p);
        }
    }
    return 0;
}

/*  The boundary of a multipart Content-Type, "--" first, into out;
 *  its length, 0 when missing or too long (RFC 2046: 70 at most). */
static size_t
s_boundary(const char *type, char out[2 + 70 + 1])
{
    const char *b = strstr(type, "boundary=");
    if (!b)
        return 0;
    b += 9;
    int quoted = *b == '"';
    b += quoted;
    size_t n = strcspn(b, quoted ? "\"" : "; \t");
    if (n == 0 || n > 70)
        return 0;
    memcpy(out, "--", 2);
    memcpy(out + 2, b, n);
    out[2 + n] = '\0';
    return 2 + n;
}

/*  Adds the fields of a multipart/form-data body (RFC 7578) to params;
 *  file parts are skipped. Returns 0, or -1 when it is malformed or a
 *  value is not UTF-8. */
static int
s_parse_multipart(const char *type, const char *body, size_t len, json_t *params)
{
    char delim[2 + 70 + 1], name[128];
    size_t dlen = s_boundary(type, delim);
    const char *end = body + len, *p = dlen ? s_find(body, len, delim, dlen) : NULL;
    while (p) {
        p += dlen;
        if (end - p >= 2 && memcmp(p, "--", 2) == 0)
            return 0;         /* the closing delimiter */
        const char *head = p; /* the CRLF ending the delimiter line, then headers */
        const char *blank = s_find(head, (size_t) (end - head), "\r\n\r\n", 4);
        const char *next =
            blank ? s_find(blank + 4, (size_t) (end - blank - 4), delim, dlen) : NULL;
        if (!next || next - (blank + 4) < 2)
            return -1;
        size_t vlen = (size_t) (next - 2 - (blank + 4)); /* the CRLF before the delimiter */
        int nlen = s_part_name(head, (size_t) (blank - head), name, sizeof name);
        if (nlen > 0) {
            json_t *v = json_stringn(blank + 4, vlen); /* NULL unless UTF-8 */
            if (!v)
                return -1;
            s_param_set(params, name, (size_t) nlen, v);
        }
        p = next;
    }
    return -1;
}

/*  Reads the body, at most max bytes (else *too_big). Caller frees. */
static char *
s_read_body(struct mg_connection *conn, long long declared, long max, size_t *len, int *too_big)
{
    *len = 0;
    *too_big = declared > max;
    if (*too_big || declared == 0)
        return NULL;
    size_t cap = declared > 0 ? (size_t) declared : 4096;
    char *buf = malloc(cap + 1);
    int n;
    while (buf && (n = mg_read(conn, buf + *len, cap - *len)) > 0) {
        *len += (size_t) n;
        if (*len == cap && declared < 0) {
            if (cap > (size_t) max) {
                *too_big = 1;
                break;
            }
            char *more = realloc(buf, 2 * cap + 1);
            if (!more)
                break;
            buf = more;
            cap *= 2;
        }
    }
    if (buf)
        buf[*len] = '\0';
    return buf;
}

/*  Does v, a parameter's value, hold a string with a NUL byte (in a list
 *  or an object of a JSON body too)? */
static int
s_nul_in(const json_t *v)
{
    size_t i, klen;
    const char *key;
    json_t *x;
    if (json_is_string(v))
        return memchr(json_string_value(v), '\0', json_string_length(v)) != NULL;
    json_array_foreach(v, i, x)
    {
        if (s_nul_in(x))
            return 1;
    }
    json_object_keylen_foreach((json_t *) v, key, klen, x)
    {
        if (memchr(key, '\0', klen) || s_nul_in(x))
            return 1;
    }
    return 0;
}

/*  A parameter whose name or text holds a NUL byte, which every C string
 *  of the handlers would silently cut short ("abc%00def" read as "abc"):
 *  refused here, once for every route and every way a client sends
 *  parameters (query string, form, JSON's \u0000, multipart). Sends 422
 *  and returns it, or 0. */
static int
s_nul_param(ru_req_t *req)
{
    const char *key;
    size_t klen;
    json_t *v;
    json_object_keylen_foreach(req->params, key, klen, v)
    {
        if (memchr(key, '\0', klen) || s_nul_in(v))
            return ru_http_error(req, 422, "Validation failed: %s holds a NUL byte (%%00, \\u0000)",
                                 key);
    }
    return 0;
}

int
ru_http_query_bad(const char *query)
{
    json_t *params = json_object();
    int bad = !params || s_parse_form(query, strlen(query), params) != 0 || s_nul_in(params);
    json_decref(params);
    return bad;
}

/*  Merges query and body parameters into req->params; on failure sends the
 *  error response and returns its status, else 0. */
static int
s_params(ru_req_t *req, const struct mg_request_info *ri)
{
    req->params = json_object();
    const char *q = ri->query_string;
    if (q && s_parse_form(q, strlen(q), req->params))
        return ru_http_error(req, 400, "query parameters must be UTF-8");
    size_t len;
    int too_big;
    char *body =
        s_read_body(req->conn, ri->content_length, req->node->cfg.max_body, &len, &too_big);
    const char *type = mg_get_header(req->conn, "Content-Type");
    int status = 0;
    if (too_big)
        status =
            ru_http_error(req, 413, "the body is larger than %ld bytes", req->node->cfg.max_body);
    else if (len && type && strncasecmp(type, "application/json", 16) == 0) {
        json_error_t jerr;
        json_t *obj = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
        if (!json_is_object(obj))
            status = ru_http_error(req, 400, "the body is not a JSON object: %s", jerr.text);
        else
            json_object_update(req->params, obj);
        json_decref(obj);
    } else if (len && type && strncasecmp(type, "application/x-www-form-urlencoded", 33) == 0) {
        if (s_parse_form(body, len, req->params))
            status = ru_http_error(req, 400, "form values must be UTF-8");
    } else if (len && type && strncasecmp(type, "multipart/form-data", 19) == 0) {
        if (s_parse_multipart(type, body, len, req->params))
            status = ru_http_error(req, 400,
                                   "the multipart/form-data body is malformed or a value is "
                                   "not UTF-8");
    } else if (len)
        status = ru_http_error(req, 415,
                               "send the body as application/json, "
                               "application/x-www-form-urlencoded or multipart/form-data");
    free(body);
    return status ? status : s_nul_param(req);
}

/*  ---------------------------------------------------------------------
 *  Routing
 */

/*  Does path match pattern? Fills req->args with the ":x" segments. */
static int
s_match(const char *pattern, const char *path, ru_req_t *req)
{
    int nargs = 0;
    while (*pattern && *path) {
        if (*pattern != ':') {
            if (*pattern++ != *path++)
                return 0;
            continue;
        }
        const char *end = strchr(path, '/');
        size_t n = end ? (size_t) (end - path) : strlen(path);
        if (n == 0 || n >= sizeof req->args[0] || nargs == RU_HTTP_MAX_ARGS)
            return 0;
        memcpy(req->args[nargs], path, n);
        req->args[nargs++][n] = '\0';
        path += n;
        while (*pattern && *pattern != '/')
            pattern++;
    }
    return *pattern == '\0' && (*path == '\0' || strcmp(path, "/") == 0); /* "/x/" is "/x" */
}

void
ru_http_csrf(const char *token, char out[RU_TOKEN_TEXT_SIZE])
{
    static const char domain[] = "ruche/csrf/v1\n";
    uint8_t hash[32];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof hash);
    crypto_generichash_update(&st, (const uint8_t *) domain, sizeof domain - 1);
    crypto_generichash_update(&st, (const uint8_t *) token, strlen(token));
    crypto_generichash_final(&st, hash, sizeof hash);
    ru_b64_encode(out, hash, sizeof hash);
}

/*  The value of cookie name in a Cookie header, into out; 0 if absent. */
static int
s_cookie(struct mg_connection *conn, const char *name, char *out, size_t size)
{
    const char *h = mg_get_header(conn, "Cookie");
    return h && mg_get_cookie(h, name, out, size) > 0;
}

const char *
ru_http_ws_protocol(const struct mg_connection *conn, size_t *len)
{
    const char *list = mg_get_header(conn, "Sec-WebSocket-Protocol");
    *len = list ? strcspn(list, ", \t") : 0;
    return list;
}

/*  The token a connection carries and how; param is the access_token
 *  parameter already parsed, or NULL to read it from the query string. */
static ru_auth_via
s_token(struct mg_connection *conn, const char *param, char *out, size_t size)
{
    const char *h = mg_get_header(conn, "Authorization");
    const char *q = mg_get_request_info(conn)->query_string;
    size_t plen;
    const char *proto = ru_http_ws_protocol(conn, &plen);
    if (h && strncasecmp(h, "Bearer ", 7) == 0)
        snprintf(out, size, "%s", h + 7);
    else if (param)
        snprintf(out, size, "%s", param);
    else if (!q || mg_get_var(q, strlen(q), "access_token", out, size) <= 0) {
        if (proto)
            snprintf(out, size, "%.*s", (int) plen, proto);
        else
            return s_cookie(conn, RU_SESSION_COOKIE, out, size) ? RU_AUTH_COOKIE : RU_AUTH_NONE;
    }
    return RU_AUTH_TOKEN;
}

/*  The account of a session token and the scope it was granted (every
 *  scope its user may use for a session that no app holds) into scope. */
static ru_err
s_session(ru_node_t *node, const char *token, ru_account_t *acct, char *scope, size_t size)
{
    ru_txn_t txn;
    json_t *app = NULL;
    ru_err err = ru_store_read(node->store, &txn);
    if (err)
        return err;
    err = ru_account_session_get(&txn, token, acct);
    ru_err found = err ? err : ru_oauth_token_get(&txn, token, &app);
    ru_txn_abort(&txn);
    const char *granted = json_string_value(json_object_get(app, "scope"));
    snprintf(scope, size, "%s%s",
             found == RU_E_NOT_FOUND ? RU_OAUTH_ALL_SCOPES
             : granted               ? granted
                                     : "",
             found == RU_E_NOT_FOUND && !err && acct->admin ? " " RU_OAUTH_ADMIN_SCOPES : "");
    json_decref(app);
    return err ? err : found == RU_E_NOT_FOUND ? RU_OK : found;
}

ru_err
ru_http_conn_account(ru_node_t *node, struct mg_connection *conn, ru_account_t *acct,
                     ru_auth_via *via)
{
    char token[RU_TOKEN_TEXT_SIZE + 1], scope[RU_HTTP_SCOPE_SIZE];
    *via = s_token(conn, NULL, token, sizeof token);
    ru_err err =
        *via == RU_AUTH_NONE ? RU_E_NOT_FOUND : s_session(node, token, acct, scope, sizeof scope);
    if (!err && !ru_oauth_scope_allows(scope, 0))
        err = RU_E_NOT_FOUND; /* an app token without read access reads nothing */
    sodium_memzero(token, sizeof token);
    return err;
}

/*  Signs the request in from its token, if it has one. */
static void
s_authenticate(ru_req_t *req)
{
    char token[RU_TOKEN_TEXT_SIZE + 1];
    ru_auth_via via = s_token(req->conn, ru_http_param(req, "access_token"), token, sizeof token);
    if (via != RU_AUTH_NONE && strlen(token) < sizeof req->token &&
        s_session(req->node, token, &req->user, req->scope, sizeof req->scope) == RU_OK) {
        req->authed = 1;
        req->via = via;
        memcpy(req->token, token, strlen(token) + 1);
    }
    sodium_memzero(token, sizeof token);
}

/*  A request signed in by its cookie that changes something must carry
 *  the session's CSRF token. */
static int
s_csrf_ok(ru_req_t *req)
{
    if (req->via != RU_AUTH_COOKIE || strcmp(req->method, "GET") == 0 ||
        strcmp(req->method, "HEAD") == 0 || strcmp(req->method, "OPTIONS") == 0)
        return 1;
    const char *given = mg_get_header(req->conn, "X-CSRF-Token");
    if (!given)
        given = ru_http_param(req, "authenticity_token");
    char want[RU_TOKEN_TEXT_SIZE];
    ru_http_csrf(req->token, want);
    return given && strlen(given) == strlen(want) && sodium_memcmp(given, want, strlen(want)) == 0;
}

int
ru_http_request_token(const ru_req_t *req, char *out, size_t size)
{
    if (s_token(req->conn, ru_http_param(req, "access_token"), out, size) == RU_AUTH_TOKEN && *out)
        return 1;
    sodium_memzero(out, size);
    return 0;
}

/*  Drops the request's sign-in: it goes on as nobody's. */
static void
s_sign_out(ru_req_t *req)
{
    sodium_memzero(&req->user, sizeof req->user);
    sodium_memzero(req->token, sizeof req->token);
    req->authed = 0;
    req->via = RU_AUTH_NONE;
}

int
ru_http_admin_refused(ru_req_t *req, int write)
{
    const char *need = write ? "admin:write" : "admin:read";
    if (!req->authed)
        return ru_http_error(req, 401, "this needs an administrator's token");
    if (!req->user.admin)
        return ru_http_error(req, 403, "only an administrator may do this");
    if (!ru_oauth_scope_subset(need, req->scope))
        return ru_http_error(req, 403, "This action needs the %s scope", need);
    return 0;
}

/*  Checks what the request's sign-in allows before its handler runs;
 *  sends the refusal and returns its status, or 0. A token whose scopes
 *  do not allow the request is refused on a route that needs a user, and
 *  ignored (the request goes on unsigned) on one open to all. */
static int
s_allowed(ru_req_t *req, const ru_route_t *r)
{
    if (r->auth != RU_ROUTE_OPEN && !req->authed)
        return ru_http_error(req, 401, "The access token is invalid");
    if (!s_csrf_ok(req))
        return ru_http_error(req, 403, "the CSRF token is missing or wrong");
    int writes = strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0 &&
                 strcmp(req->method, "OPTIONS") != 0;
    if (r->auth == RU_ROUTE_ADMIN || r->auth == RU_ROUTE_ADMIN_WRITE)
        return ru_http_admin_refused(req, writes || r->auth == RU_ROUTE_ADMIN_WRITE);
    if (!req->authed || ru_oauth_scope_allows(req->scope, writes))
        return 0;
    if (r->auth != RU_ROUTE_OPEN)
        return ru_http_error(req, 403, "This action is outside the authorized scopes");
    s_sign_out(req);
    return 0;
}

/*  Runs the request's route; *route says which, for the metrics. */
static int
s_route(ru_http_t *self, ru_req_t *req, int *route)
{
    int path_known = 0;
    *route = RU_REQSTATS_ROUTE_NONE;
    for (const ru_route_t *r = self->routes; r->method; r++) {
        if (!s_match(r->pattern, req->path, req))
            continue;
        path_known = 1;
        if (strcmp(r->method, req->method) != 0)
            continue;
        *route = (int) (r - self->routes);
        int refused = s_allowed(req, r);
        return refused ? refused : r->handler(req);
    }
    if (path_known)
        return ru_http_error(req, 405, "%s is not allowed here", req->method);
    if (req->node->web && ru_web_wants(req->method, req->path)) {
        *route = RU_REQSTATS_ROUTE_WEB;
        return ru_web_serve(req->node->web, req->conn, req->method, req->path);
    }
    return ru_http_error(req, 404, "no such endpoint: %s", req->path);
}

static uint64_t
s_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static int
s_dispatch(struct mg_connection *conn, void *cbdata)
{
    ru_http_t *self = cbdata;
    uint64_t start = s_now_us();
    const struct mg_request_info *ri = mg_get_request_info(conn);
    ru_req_t *req = calloc(1, sizeof *req);
    if (!req)
        return 0;
    req->conn = conn;
    req->node = self->node;
    req->method = ri->request_method;
    req->path = ri->local_uri ? ri->local_uri : "/";
    int route = RU_REQSTATS_ROUTE_NONE;
    int status = s_params(req, ri);
    if (!status) {
        s_authenticate(req);
        status = s_route(self, req, &route);
    }
    ru_reqstats_count(self->node->reqstats, route, status, s_now_us() - start);
    json_decref(req->params);
    sodium_memzero(req, sizeof *req); /* it held the session's account */
    free(req);
    return status;
}

int
ru_http_conn_error(struct mg_connection *conn, int status, const char *msg)
{
    json_t *body = json_pack("{s:s}", "error", msg && *msg ? msg : s_reason(status));
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\n"
              "Content-Length: %zu\r\nCache-Control: no-store\r\n" RU_WEB_SECURITY_HEADERS
              "Connection: close\r\n\r\n%s",
              status, s_reason(status), text ? strlen(text) : 2, text ? text : "{}");
    free(text);
    return status;
}

/*  Errors civetweb answers itself (a malformed request line, a header too
 *  long): JSON too, like every other response. */
static int
s_http_error(struct mg_connection *conn, int status, const char *msg)
{
    ru_http_conn_error(conn, status, msg);
    return 0;
}

static int
s_log_message(const struct mg_connection *conn, const char *message)
{
    (void) conn;
    ru_log_warn("http", "%s", message);
    return 1;
}

ru_err
ru_http_start(ru_node_t *node, const ru_route_t *routes, ru_http_t **out)
{
    *out = NULL;
    ru_http_t *self = calloc(1, sizeof *self);
    if (!self)
        return RU_E_NOMEM;
    self->node = node;
    self->routes = routes;
    /*  A stream holds its thread while it is open: streams get threads of
     *  their own, on top of those for requests. Idle WebSockets are pinged
     *  every heartbeat (civetweb closes them after five unanswered pings). */
    char threads[16], ping_ms[16], keep_alive[16];
    snprintf(keep_alive, sizeof keep_alive, "%ld", node->cfg.keep_alive_ms);
    snprintf(threads, sizeof threads, "%ld", node->cfg.http_threads + node->cfg.max_streams);
    snprintf(ping_ms, sizeof ping_ms, "%ld", node->cfg.stream_heartbeat_ms);
    const char *options[] = {"listening_ports",
                             node->cfg.listen,
                             "num_threads",
                             threads,
                             "request_timeout_ms",
                             "30000",
                             "enable_keep_alive",
                             "yes",
                             "keep_alive_timeout_ms",
                             keep_alive,
                             "tcp_nodelay",
                             "1",
                             "websocket_timeout_ms",
                             ping_ms,
                             "enable_websocket_ping_pong",
                             "yes",
                             NULL};
    struct mg_callbacks callbacks;
    memset(&callbacks, 0, sizeof callbacks);
    callbacks.log_message = s_log_message;
    callbacks.http_error = s_http_error;
    mg_init_library(0);
    self->ctx = mg_start(&callbacks, NULL, options);
    if (!self->ctx) {
        ru_log_err("http", "cannot listen on %s", node->cfg.listen);
        free(self);
        return RU_E_IO;
    }
    mg_set_request_handler(self->ctx, "/", s_dispatch, self);
    *out = self;
    return RU_OK;
}

struct mg_context *
ru_http_context(ru_http_t *self)
{
    return self->ctx;
}

void
ru_http_stop(ru_http_t **self_p)
{
    ru_http_t *self = *self_p;
    if (!self)
        return;
    mg_stop(self->ctx);
    free(self);
    *self_p = NULL;
}
