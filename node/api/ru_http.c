/*  ru_http.c - the HTTP core's main file: what a handler does with its
 *  request (reads it, answers it), the routing and the sign-in that
 *  come before a handler runs, and the server's life (see ru_http.h).
 *  Around it, the core's modules, each with its header:
 *    ru_httpd      the event loop: h2o's set-up, the requests taken and
 *                  the checks h2o does not make, answers kept (ru_cache)
 *    ru_conn       connections: per-address and total caps, idle time
 *    ru_http_pool  the workers and the job queue between them and the loop
 *    ru_http_out   answers on the loop: streamed bodies, event streams,
 *                  WebSockets (wslay)
 *    ru_http_res   an answer's head, and a whole answer, written into h2o
 *    ru_http_job   a request between the loop and a worker, and the
 *                  records the modules share (internal)
 *    ru_reqparse   parameters from the query and the body
 *    ru_req.h      the request and route types handlers share with the core
 *
 *  Why this shape. The node used to run civetweb, a thread per
 *  connection: every open stream held one of a few hundred threads, a
 *  few hundred idle or slow clients left none for anyone else, and its
 *  WebSocket code buffered a frame whole before any limit of ours applied.
 *  A spike measured two event-driven libraries from Debian on this 2-core
 *  machine, each server on one pinned thread, wrk with 64 kept-alive
 *  connections asking for a 20 KB body: h2o 2.2.5 (libh2o-evloop, epoll)
 *  served 94,000 to 103,000 requests/s at a p99 of 0.7 ms, and as many
 *  with 5,000 idle event streams open (106,000 to 116,000/s, p99 0.7 to
 *  1.1 ms); libwebsockets 4.1.6 (its poll() loop, as Debian builds it)
 *  served 67,000 to 72,000/s but fell to 16,000/s (p99 5 to 6 ms) with
 *  the same 5,000 streams, as every wake-up scans every descriptor; its
 *  epoll flavour (through libuv) crashed under load, and it accepted
 *  "Content-Length: 5x", -1 and conflicting lengths. nginx serving the
 *  same file did 39,000 to 40,000/s. h2o held about 9.4 KB of memory per
 *  idle stream (libwebsockets 1.1 KB, nginx 0.5 KB per idle connection):
 *  10,000 streams cost about 100 MB. libmicrohttpd was left out: no
 *  WebSocket framing. So: h2o's library (MIT), with wslay (which h2o
 *  builds on) for WebSocket frames.
 *
 *  What is used of h2o: its event loop, its HTTP/1.1 parser and response
 *  writer, and its cross-thread message queue. HTTP/1.1 only: no HTTP/2
 *  (whether 2.2.5 has the 2023 "rapid reset" fix is unknown), no TLS (a
 *  proxy in front terminates it, deploy/README.md). h2o has no
 *  connection limits and lets some malformed framing through, so both
 *  are here.
 */
#include "ru_http.h"

#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ruche/ru_text.h"

#include "ru_cache.h"
#include "ru_http_job.h"
#include "ru_http_pool.h"
#include "ru_httpd.h"
#include "ru_log.h"
#include "ru_oauth.h"
#include "ru_reqparse.h"
#include "ru_reqstats.h"

#define S_LOG "http"

/*  ---------------------------------------------------------------------
 *  Responses: recorded in the job by the worker, sent by the loop
 */

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
        ru_log_err(S_LOG, "%s %s: no room for the %s header", req->method, req->path, name);
    }
}

/*  Takes the answer of kind for req's job: 0, or -1 (logged) when the
 *  handler answered already. */
static int
s_answer(ru_req_t *req, ru_http_job_kind kind, int status, const char *type)
{
    ru_http_job_t *job = req->job;
    if (job->kind != RU_HTTP_JOB_NONE) {
        ru_log_err(S_LOG, "%s %s: a second answer (%d) was dropped", req->method, req->path,
                   status);
        return -1;
    }
    job->kind = kind;
    job->status = status;
    snprintf(job->type, sizeof job->type, "%s", type ? type : "");
    /* as they are now: a handler may wipe them once it has answered */
    if (req->link[0]) {
        ru_buf_append(&job->lines, "Link: ", 6);
        ru_buf_append(&job->lines, req->link, strlen(req->link));
        ru_buf_append(&job->lines, "\r\n", 2);
    }
    ru_buf_append(&job->lines, req->headers, strlen(req->headers) + 1);
    return 0;
}

int
ru_http_send(ru_req_t *req, int status, const char *type, const char *body, size_t len)
{
    if (s_answer(req, RU_HTTP_JOB_PLAIN, status, type) == 0)
        ru_buf_append(&req->job->out, body, len);
    return status;
}

int
ru_http_send_file(ru_req_t *req, int status, const char *type, const char *path, uint64_t off,
                  uint64_t len)
{
    if (s_answer(req, RU_HTTP_JOB_FILE, status, type) == 0) {
        ru_buf_append(&req->job->out, path, strlen(path) + 1);
        req->job->file_off = off;
        req->job->file_len = len;
    }
    return status;
}

int
ru_http_send_head(ru_req_t *req, int status, const char *type, size_t len)
{
    if (s_answer(req, RU_HTTP_JOB_HEAD, status, type) == 0)
        req->job->head_len = len;
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

int
ru_http_param_flag(const ru_req_t *req, const char *name)
{
    json_t *v = json_object_get(req->params, name);
    const char *s = json_string_value(v);
    return json_is_true(v) || (s && (strcmp(s, "true") == 0 || strcmp(s, "1") == 0));
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

int
ru_http_form_var(const char *form, const char *name, char *out, size_t size)
{
    size_t nlen = strlen(name);
    for (const char *p = form; p && *p;) {
        const char *end = p + strcspn(p, "&");
        const char *eq = memchr(p, '=', (size_t) (end - p));
        char key[128];
        if (eq && ru_reqparse_url_decode(p, (size_t) (eq - p), key, sizeof key, 1) == (int) nlen &&
            memcmp(key, name, nlen) == 0) {
            int n =
                size ? ru_reqparse_url_decode(eq + 1, (size_t) (end - eq - 1), out, size, 1) : -1;
            return n < 0 ? -2 : n;
        }
        p = *end ? end + 1 : end;
    }
    return -1;
}

void
ru_http_url_encode(const char *src, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (; *src && size; src++) {
        unsigned char c = (unsigned char) *src;
        int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~';
        if (n + (plain ? 1 : 3) >= size)
            break;
        if (plain)
            out[n++] = (char) c;
        else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    if (size)
        out[n] = '\0';
}

int
ru_http_query_bad(const char *query)
{
    return ru_reqparse_query_bad(query);
}

/*  Merges query and body parameters into req->params; on failure sends the
 *  error response and returns its status, else 0. */
static int
s_params(ru_req_t *req)
{
    const ru_http_job_t *job = req->job;
    const ru_config_t *cfg = &req->node->cfg;
    char why[512]; /* as much as ru_http_error() sends */
    ru_multipart_limits_t limits = {cfg->multipart_max_parts, cfg->multipart_max_header_bytes,
                                    cfg->multipart_max_header_lines};
    req->params = json_object();
    int status = ru_reqparse_params(req->params, job->query,
                                    ru_http_req_header(req, "Content-Type"), job->body,
                                    job->body_len, cfg->max_json_depth, &limits, why, sizeof why);
    return status ? ru_http_error(req, status, "%s", why) : 0;
}

/*  ---------------------------------------------------------------------
 *  Routing and sign-in
 */

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

int
ru_http_cookie(const ru_req_t *req, const char *name, char *out, size_t size)
{
    const char *h = ru_http_req_header(req, "Cookie");
    size_t nlen = strlen(name);
    for (const char *p = h; p && *p;) {
        p += strspn(p, " \t;");
        const char *end = p + strcspn(p, ";");
        if ((size_t) (end - p) > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            const char *v = p + nlen + 1;
            size_t vlen = (size_t) (end - v);
            while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
                vlen--;
            if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
                v++;
                vlen -= 2;
            }
            if (vlen >= size)
                return -2;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return (int) vlen;
        }
        p = end;
    }
    return -1;
}

const char *
ru_http_ws_protocol(const ru_req_t *req, size_t *len)
{
    const char *list = ru_http_req_header(req, "Sec-WebSocket-Protocol");
    *len = list ? strcspn(list, ", \t") : 0;
    return list;
}

/*  The token a request carries and how; param is the access_token
 *  parameter already parsed, or NULL to read it from the query string. */
static ru_auth_via
s_token(const ru_req_t *req, const char *param, char *out, size_t size)
{
    const char *h = ru_http_req_header(req, "Authorization");
    const char *q = ru_http_req_query(req);
    size_t plen;
    const char *proto = ru_http_ws_protocol(req, &plen);
    if (h && strncasecmp(h, "Bearer ", 7) == 0)
        snprintf(out, size, "%s", h + 7);
    else if (param)
        snprintf(out, size, "%s", param);
    else if (!q || ru_http_form_var(q, "access_token", out, size) <= 0) {
        if (proto)
            snprintf(out, size, "%.*s", (int) plen, proto);
        else
            return ru_http_cookie(req, RU_SESSION_COOKIE, out, size) > 0 ? RU_AUTH_COOKIE
                                                                         : RU_AUTH_NONE;
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
ru_http_req_account(const ru_req_t *req, ru_account_t *acct, ru_auth_via *via)
{
    char token[RU_TOKEN_TEXT_SIZE + 1], scope[RU_HTTP_SCOPE_SIZE];
    *via = s_token(req, NULL, token, sizeof token);
    ru_err err = *via == RU_AUTH_NONE ? RU_E_NOT_FOUND
                                      : s_session(req->node, token, acct, scope, sizeof scope);
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
    ru_auth_via via = s_token(req, ru_http_param(req, "access_token"), token, sizeof token);
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
    const char *given = ru_http_req_header(req, "X-CSRF-Token");
    if (!given)
        given = ru_http_param(req, "authenticity_token");
    char want[RU_TOKEN_TEXT_SIZE];
    ru_http_csrf(req->token, want);
    return given && strlen(given) == strlen(want) && sodium_memcmp(given, want, strlen(want)) == 0;
}

int
ru_http_request_token(const ru_req_t *req, char *out, size_t size)
{
    if (s_token(req, ru_http_param(req, "access_token"), out, size) == RU_AUTH_TOKEN && *out)
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
        if (!ru_reqparse_match(r->pattern, req->path, req))
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
    int status = self->other ? self->other(req) : 0;
    if (status) {
        *route = RU_REQSTATS_ROUTE_WEB;
        return status;
    }
    return ru_http_error(req, 404, "no such endpoint: %s", req->path);
}

/*  ---------------------------------------------------------------------
 *  What a handler reads of its request
 */

const char *
ru_http_req_header(const ru_req_t *req, const char *name)
{
    return ru_http_job_header(req->job, name);
}

const char *
ru_http_req_query(const ru_req_t *req)
{
    return req->job->query;
}

const char *
ru_http_req_body(const ru_req_t *req, size_t *len)
{
    *len = req->job->body_len;
    return req->job->body_len ? req->job->body : NULL;
}

const char *
ru_http_req_addr(const ru_req_t *req)
{
    return req->job->addr;
}

/*  ---------------------------------------------------------------------
 *  Running a request on a worker
 */

int
ru_http_post(ru_http_t *self, void (*fn)(void *arg), void *arg)
{
    return ru_http_pool_post(self, RU_HTTP_POOL_RUN, NULL, fn, arg);
}

/*  A WebSocket handshake: the handler registered for them, after the
 *  checks of the handshake itself. */
static int
s_websocket(ru_http_t *self, ru_req_t *req)
{
    const char *version = ru_http_req_header(req, "Sec-WebSocket-Version");
    if (!req->job->ws_key[0])
        return ru_http_error(req, 400, "Sec-WebSocket-Key must be 24 characters");
    if (!version || strcmp(version, "13") != 0) {
        ru_http_header(req, "Sec-WebSocket-Version", "13");
        return ru_http_error(req, 426, "Sec-WebSocket-Version must be 13");
    }
    if (!self->websocket)
        return ru_http_error(req, 404, "no WebSocket here: %s", req->path);
    return self->websocket(req);
}

/*  Keeps the answer of an anonymous read for the next ones (ru_cache.h). */
static void
s_keep(ru_http_t *self, ru_http_job_t *job)
{
    ru_cache_entry_t answer = {job->status, job->type, ru_http_job_lines(job), job->out.data,
                               job->out.len};
    if (ru_cache_put(self->node->cache, job->cache_key, job->cache_gen, &answer) != RU_OK)
        ru_log_debug(S_LOG, "%s: no room to keep its answer", job->cache_key);
}

/*  A body over [http] max_body is an upload's, or refused before it is
 *  read (h2o takes bodies up to [media] max_upload for the upload routes'
 *  sake): 413 sent, or 0. */
static int
s_body_size(ru_http_t *self, ru_req_t *req)
{
    if (req->job->body_len <= (size_t) self->node->cfg.max_body)
        return 0;
    for (const ru_route_t *r = self->routes; r->method; r++)
        if ((r->flags & RU_ROUTE_UPLOAD) && strcmp(r->method, req->method) == 0 &&
            ru_reqparse_match(r->pattern, req->path, req))
            return 0;
    return ru_http_error(req, 413, "the body is larger than %ld bytes",
                         self->node->cfg.max_body);
}

/*  Runs job's handler and hands the answer to the loop (on a worker). */
static void
s_run(ru_http_t *self, ru_http_job_t *job)
{
    ru_req_t *req = &job->req;
    int route = RU_REQSTATS_ROUTE_NONE;
    int status = s_body_size(self, req);
    if (!status)
        status = s_params(req);
    if (!status && job->websocket)
        status = s_websocket(self, req);
    else if (!status) {
        s_authenticate(req);
        status = s_route(self, req, &route);
    }
    if (job->kind == RU_HTTP_JOB_NONE) {
        ru_log_err(S_LOG, "%s %s: the handler gave no answer", req->method, req->path);
        status = ru_http_error(req, 500, "the handler gave no answer");
    }
    if (job->cache_key && job->kind == RU_HTTP_JOB_PLAIN && job->status == 200 && !req->authed)
        s_keep(self, job);
    ru_reqstats_count(self->node->reqstats, route, status, ru_http_job_now_us() - job->start_us);
    json_decref(req->params);
    req->params = NULL;
    /* it held the session's account */
    sodium_memzero(&req->user, sizeof req->user);
    sodium_memzero(req->token, sizeof req->token);
    if (ru_http_pool_post(self, RU_HTTP_POOL_ANSWER, job, NULL, NULL) != 0)
        ru_log_err(S_LOG, "%s %s: the answer could not reach the loop", req->method, req->path);
}

/*  ---------------------------------------------------------------------
 *  Streamed bodies (worker side)
 */

int
ru_http_stream_start(ru_req_t *req, int status, const char *type, long long length)
{
    if (s_answer(req, RU_HTTP_JOB_CHUNKS, status, type) != 0)
        return -1;
    req->job->length = length;
    return 0;
}

int
ru_http_stream_write(ru_req_t *req, const void *data, size_t len)
{
    ru_http_job_t *job = req->job;
    if (job->kind != RU_HTTP_JOB_CHUNKS)
        return -1;
    if (len == 0)
        return 0;
    return ru_http_pool_piece(job, data, len);
}

/*  ---------------------------------------------------------------------
 *  Streams (worker side)
 */

int
ru_http_event_stream(ru_req_t *req, const char *type, const char *first, size_t len,
                     const ru_http_stream_ops_t *ops, void *ctx)
{
    if (s_answer(req, RU_HTTP_JOB_EVENTS, 200, type) != 0) {
        ops->closed(ctx);
        return 500;
    }
    ru_buf_append(&req->job->out, first, len);
    req->job->ops = ops;
    req->job->ctx = ctx;
    return 200;
}

int
ru_http_websocket(ru_req_t *req, const char *protocol, size_t plen, const ru_http_stream_ops_t *ops,
                  void *ctx)
{
    ru_http_job_t *job = req->job;
    if (!job->websocket || plen >= sizeof job->protocol ||
        s_answer(req, RU_HTTP_JOB_WEBSOCKET, 101, "")) {
        ops->closed(ctx);
        return job->kind == RU_HTTP_JOB_NONE ? ru_http_error(req, 400, "not a WebSocket handshake")
                                             : 500;
    }
    memcpy(job->protocol, protocol, plen);
    job->protocol[plen] = '\0';
    job->ops = ops;
    job->ctx = ctx;
    return 101;
}

/*  ---------------------------------------------------------------------
 *  Life cycle
 */

ru_err
ru_http_new(ru_node_t *node, const ru_route_t *routes, ru_http_t **out)
{
    *out = NULL;
    ru_http_t *self = calloc(1, sizeof *self);
    if (!self)
        return RU_E_NOMEM;
    /* a write to a client that left is an error to handle, not a signal
     * that ends the process */
    signal(SIGPIPE, SIG_IGN);
    self->node = node;
    self->routes = routes;
    self->run = s_run;
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->work, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&self->settled, &attr);
    pthread_condattr_destroy(&attr);
    ru_httpd_init(self);
    *out = self;
    if (ru_http_pool_start(self) == 0)
        return RU_OK;
    ru_log_err(S_LOG, "cannot start %ld HTTP workers", node->cfg.http_threads);
    ru_http_stop(out);
    return RU_E_NOMEM;
}

void
ru_http_on_websocket(ru_http_t *self, ru_handler handler)
{
    self->websocket = handler;
}

void
ru_http_on_other(ru_http_t *self, ru_handler handler)
{
    self->other = handler;
}

ru_err
ru_http_listen(ru_http_t *self)
{
    return ru_httpd_listen(self);
}

void
ru_http_stop(ru_http_t **self_p)
{
    ru_http_t *self = *self_p;
    if (!self)
        return;
    int clean = self->loop_running ? ru_httpd_stop(self) : 1;
    ru_http_pool_stop(self);
    if (clean) /* h2o's timers must hold no connection when freed */
        ru_httpd_dispose(self);
    else
        ru_log_warn(S_LOG, "stopping: %ld connections would not close; left as they are",
                    atomic_load(&self->nconns));
    pthread_cond_destroy(&self->settled);
    pthread_cond_destroy(&self->work);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}
