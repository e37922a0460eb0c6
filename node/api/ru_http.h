/*  ru_http.h - the node's HTTP server: routing, requests, JSON responses.
 *
 *  civetweb runs the server and its thread pool; every request goes to one
 *  handler here that finds its route in a table (method and path pattern,
 *  with ":x" segments captured as arguments) and whether it needs a signed-
 *  in user. Parameters from the query string and from a form or JSON body
 *  are merged into one JSON object, so handlers read "status" the same way
 *  whichever form a client used (Mastodon apps use JSON, forms and
 *  multipart/form-data, whose file parts are skipped). A path may end
 *  with one "/" more than its route ("/api/v1/statuses/"). A parameter
 *  whose name or text holds a NUL byte ("%00" in a query or form, "\u0000"
 *  in JSON, a raw one in multipart) is refused with 422 before any
 *  handler runs: a C string would silently cut it short.
 *
 *  A request is signed in by a session token, taken from (in this order)
 *  an "Authorization: Bearer" header, an access_token parameter, a
 *  Sec-WebSocket-Protocol header (browsers cannot set headers on a
 *  WebSocket) or the web front end's session cookie. A request signed in
 *  by the cookie alone that changes something (any method but GET, HEAD
 *  and OPTIONS) must also carry the session's CSRF token, in an
 *  X-CSRF-Token header or an authenticity_token parameter, else 403: a
 *  page of another site can make the browser send the cookie, never read
 *  the token.
 *
 *  A token issued to an app carries scopes (ru_oauth.h): a request that
 *  changes something needs a write scope, any other a read scope, else
 *  403 (on a route open to all, the request goes on unsigned instead).
 *  The administrators' routes (RU_ROUTE_ADMIN) let in administrators only,
 *  and need admin:read to read, admin:write to change something; the
 *  backup, a copy of the whole store with every password hash, needs
 *  admin:write (RU_ROUTE_ADMIN_WRITE). A session that no app holds (the
 *  web front end's, the CLI's) has every scope its user may use: an
 *  administrator's has admin:read and admin:write too.
 *
 *  Every response is JSON, errors included: {"error": "..."} with the right
 *  status. Bodies over [http] max_body are refused with 413 before they
 *  are read. Handlers run on civetweb's threads: they read LMDB in their
 *  own read transactions and send writes to the store actor.
 */
#ifndef RU_HTTP_H
#define RU_HTTP_H

#include <jansson.h>

#include "ruche/ru_error.h"

#include "ru_account.h"
#include "ru_node.h"

#define RU_HTTP_MAX_ARGS 4
#define RU_SESSION_COOKIE "ruche_session"
#define RU_HTTP_SCOPE_SIZE 256

/*  How a request was signed in. */
typedef enum { RU_AUTH_NONE, RU_AUTH_TOKEN, RU_AUTH_COOKIE } ru_auth_via;

typedef struct ru_http ru_http_t;

typedef struct {
    struct mg_connection *conn;
    ru_node_t *node;
    const char *method;
    const char *path;
    char args[RU_HTTP_MAX_ARGS][128]; /* ":x" path segments, in order */
    json_t *params;                   /* query and body parameters */
    int authed;
    ru_auth_via via;
    char token[RU_TOKEN_TEXT_SIZE]; /* the session's, when authed */
    ru_account_t user;              /* when authed */
    char scope[RU_HTTP_SCOPE_SIZE]; /* when authed: the scopes granted (ru_oauth.h) */
    char link[1024];                /* a Link header to send, "" for none */
    char headers[4096];             /* more header lines to send (ru_http_header) */
} ru_req_t;

/*  A handler writes one response (ru_http_json or ru_http_error) and
 *  returns its status. */
typedef int (*ru_handler)(ru_req_t *req);

/*  Who may use a route (ru_route_t.auth). */
enum {
    RU_ROUTE_OPEN = 0,        /* anyone */
    RU_ROUTE_USER = 1,        /* a signed-in user: 401 without a valid token */
    RU_ROUTE_ADMIN = 2,       /* an administrator, admin:read or admin:write as above */
    RU_ROUTE_ADMIN_WRITE = 3, /* an administrator with admin:write, whatever the method */
};

typedef struct {
    const char *method;
    const char *pattern; /* "/api/v1/statuses/:id" */
    ru_handler handler;
    int auth; /* RU_ROUTE_... */
} ru_route_t;

/*  Starts serving routes (a table ending with a NULL method) on node's
 *  [http] listen address. */
RU_MUST_CHECK ru_err ru_http_start(ru_node_t *node, const ru_route_t *routes, ru_http_t **out);
/*  civetweb's context, to register handlers of other kinds (WebSocket). */
struct mg_context *ru_http_context(ru_http_t *self);
/*  Stops accepting, waits for running requests, frees. NULL-safe. */
void ru_http_stop(ru_http_t **self_p);

/*  Signs a connection in, for handlers outside the route table (WebSocket,
 *  event streams): the token from the header, query, WebSocket protocol or
 *  cookie, as above. *via says where a token was found (RU_AUTH_NONE:
 *  nowhere), also when it is unknown; RU_E_NOT_FOUND when there is none or
 *  it is unknown. */
RU_MUST_CHECK ru_err ru_http_conn_account(ru_node_t *node, struct mg_connection *conn,
                                          ru_account_t *acct, ru_auth_via *via);
/*  The first subprotocol a WebSocket handshake on conn offers (the first
 *  of the comma-separated list of its Sec-WebSocket-Protocol header), and
 *  its length in *len; NULL when it offers none. A view of the request's
 *  header: valid until the connection reads its next request. */
const char *ru_http_ws_protocol(const struct mg_connection *conn, size_t *len);
/*  Does a query string hold a value that is not UTF-8, or a name or value
 *  with a NUL byte (%00)? For handlers outside the route table, which read
 *  the query themselves: the route table's refuse such requests (400 and
 *  422) before any handler runs. */
int ru_http_query_bad(const char *query);
/*  The token a request presents (header, access_token parameter or
 *  WebSocket protocol; not the cookie) into out, whether or not it is a
 *  session: 1 when there is one. */
int ru_http_request_token(const ru_req_t *req, char *out, size_t size);
/*  The CSRF token of a session token: a hash of it under its own domain,
 *  so the node keeps nothing more, and a page that cannot read the cookie
 *  (HttpOnly) cannot compute it. */
void ru_http_csrf(const char *token, char out[RU_TOKEN_TEXT_SIZE]);

/*  Is the request's user an administrator whose sign-in allows
 *  admin:write (write != 0) or admin:read? 0 then, else the refusal sent
 *  (401 unsigned, 403 otherwise) and its status. */
int ru_http_admin_refused(ru_req_t *req, int write);

/*  Adds a header line to the response (e.g. Retry-After, Set-Cookie);
 *  one that does not fit in req->headers is dropped with a log line. */
void ru_http_header(ru_req_t *req, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*  Sends len bytes of body of type (a Content-Type value) with status,
 *  the Link header and the headers added so far. Returns status. */
int ru_http_send(ru_req_t *req, int status, const char *type, const char *body, size_t len);
/*  Sends {"error": msg} (NULL or "": the status's reason) with status on a
 *  raw connection, for handlers outside the route table, and asks the
 *  client to close it. Returns status. */
int ru_http_conn_error(struct mg_connection *conn, int status, const char *msg);

/*  Sends body (its reference is taken) with status. */
int ru_http_json(ru_req_t *req, int status, json_t *body);
/*  Sends {"error": message}. */
int ru_http_error(ru_req_t *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*  The status and message for an ru_err of a failed request. */
int ru_http_fail(ru_req_t *req, ru_err err);

/*  A string parameter, or NULL if absent or not a string. */
const char *ru_http_param(const ru_req_t *req, const char *name);
/*  An integer parameter within [min, max], def when absent; -1 and a 422
 *  response sent when present but invalid. */
long ru_http_param_long(ru_req_t *req, const char *name, long def, long min, long max);

#endif
