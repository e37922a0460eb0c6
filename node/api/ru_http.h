/*  ru_http.h - the node's HTTP server: routing, requests, JSON responses.
 *
 *  One event-loop thread owns every connection (ru_http.c says how and
 *  why); route handlers run on a bounded pool of [http] threads workers,
 *  never on the loop. Every request finds its route in a table (method
 *  and path pattern, with ":x" segments captured as arguments) that says
 *  whether it needs a signed-in user. Parameters from the query string
 *  and from a form or JSON body
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
 *  status, also those the server gives before any handler runs (a body
 *  over [http] max_body: 413; too many or too large headers: 431; a body
 *  nested deeper than [http] max_json_depth, two Content-Length headers,
 *  one that is not a number, or one beside Transfer-Encoding: 400; all
 *  workers busy and [http] queue requests waiting: 503). Handlers run on
 *  the workers: they read LMDB in their own read transactions and send
 *  writes to the store actor; whatever they answer leaves from the loop.
 */
#ifndef RU_HTTP_H
#define RU_HTTP_H

#include "ruche/ru_error.h"

#include "ru_http_out.h"
#include "ru_req.h"

#define RU_SESSION_COOKIE "ruche_session"

/*  An HTTP server for the routes of a table (ending with a NULL method)
 *  on node's [http] listen address: its workers run, but it does not
 *  listen until ru_http_listen(), so that every handler is in place before
 *  the first request comes. */
RU_MUST_CHECK ru_err ru_http_new(ru_node_t *node, const ru_route_t *routes, ru_http_t **out);
/*  Sends the WebSocket handshakes (GET with "Upgrade: websocket") of any
 *  path to handler, which answers with ru_http_websocket() or an error.
 *  Before ru_http_listen(). */
void ru_http_on_websocket(ru_http_t *self, ru_handler handler);
/*  Sends a request that no route's path matches to handler, which answers
 *  it and returns its status, or returns 0 having sent nothing (the core
 *  answers 404 then): the web front end's files. Before ru_http_listen(). */
void ru_http_on_other(ru_http_t *self, ru_handler handler);
/*  Opens the listeners and starts the event loop. RU_E_IO (logged) when an
 *  address cannot be listened on. */
RU_MUST_CHECK ru_err ru_http_listen(ru_http_t *self);
/*  Stops accepting and answers every request already taken, waiting for
 *  their handlers (end the streams first: ru_stream_close_all()); then
 *  closes every connection and frees. NULL-safe. */
void ru_http_stop(ru_http_t **self_p);

/*  ---------------------------------------------------------------------
 *  What a handler reads of its request (the worker running it).
 */

/*  The value of the request header name (case-insensitive; "Host" too),
 *  NULL when absent. Valid until the handler returns. */
const char *ru_http_req_header(const ru_req_t *req, const char *name);
/*  The query string (after '?'), NULL when there is none. */
const char *ru_http_req_query(const ru_req_t *req);
/*  The request's body as it came (len bytes; NULL and 0 when none): for
 *  the handlers that read a body of their own shape, an upload's. */
const char *ru_http_req_body(const ru_req_t *req, size_t *len);
/*  The client's address as text ("127.0.0.1", "::1"). */
const char *ru_http_req_addr(const ru_req_t *req);
/*  The value of cookie name in the request's Cookie header into out:
 *  its length, -1 when absent, -2 when it does not fit. */
int ru_http_cookie(const ru_req_t *req, const char *name, char *out, size_t size);
/*  The value of name in a form-encoded string (a query), decoded, into
 *  out: its length, -1 when absent, -2 when it does not fit. */
int ru_http_form_var(const char *form, const char *name, char *out, size_t size);
/*  src percent-encoded (all but letters, digits and "-._~") into out; an
 *  out too small gets as much as fits, cut at a whole character. */
void ru_http_url_encode(const char *src, char *out, size_t size);

/*  Signs a request in for handlers that read the token themselves
 *  (WebSocket, event streams): the token from the header, query,
 *  WebSocket protocol or cookie, as above. *via says where a token was
 *  found (RU_AUTH_NONE: nowhere), also when it is unknown; RU_E_NOT_FOUND
 *  when there is none or it is unknown. */
RU_MUST_CHECK ru_err ru_http_req_account(const ru_req_t *req, ru_account_t *acct, ru_auth_via *via);
/*  The first subprotocol a WebSocket handshake offers (the first of the
 *  comma-separated list of its Sec-WebSocket-Protocol header), and its
 *  length in *len; NULL when it offers none. */
const char *ru_http_ws_protocol(const ru_req_t *req, size_t *len);
/*  Does a query string hold a value that is not UTF-8, or a name or value
 *  with a NUL byte (%00)? */
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

/*  ---------------------------------------------------------------------
 *  Answers. A handler answers once; the answer leaves from the event loop
 *  after the handler returns (or as it goes, for a streamed body). A
 *  client that went away meanwhile costs nothing more: the answer is
 *  dropped.
 */

/*  Adds a header line to the response (e.g. Retry-After, Set-Cookie);
 *  one that does not fit in req->headers is dropped with a log line. A
 *  Cache-Control or Content-Security-Policy of the response's own
 *  replaces the default one. */
void ru_http_header(ru_req_t *req, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*  Answers with len bytes of body (copied) of type (a Content-Type value)
 *  with status, the Link header and the headers added so far. Returns
 *  status. */
int ru_http_send(ru_req_t *req, int status, const char *type, const char *body, size_t len);
/*  Answers with status, type, the headers added so far and len bytes of
 *  the file at path from off (the whole file, or the range the handler
 *  chose: ru_reqparse_range): the event loop sends them, reading the file
 *  as the client takes it, so that a slow download holds no worker; for
 *  HEAD, the head alone (ru_http_file.h). A file gone meanwhile is a 404.
 *  Returns status. */
int ru_http_send_file(ru_req_t *req, int status, const char *type, const char *path, uint64_t off,
                      uint64_t len);
/*  The same for a HEAD request: the head says len bytes, none follow. */
int ru_http_send_head(ru_req_t *req, int status, const char *type, size_t len);

/*  A body too large for memory (a backup), sent as the handler makes it:
 *  ru_http_stream_start() sends the head (length: the body's size, or -1
 *  when unknown: chunked), then each ru_http_stream_write() hands a piece
 *  to the loop and waits until it has left, so that a slow client holds
 *  back its own handler and nothing else. The body ends when the handler
 *  returns. Both return 0, or -1 when the client went away (the handler
 *  stops there). */
int ru_http_stream_start(ru_req_t *req, int status, const char *type, long long length);
int ru_http_stream_write(ru_req_t *req, const void *data, size_t len);

/*  ---------------------------------------------------------------------
 *  Streams: answers that stay open (event streams, WebSockets). A handler
 *  answers with one of the two calls below; from then on the stream's
 *  callbacks (ru_http_stream_ops_t) run on the event loop, which makes its
 *  writes (ru_http_out.h).
 */

/*  Answers with an event stream: status 200, type, the first len bytes
 *  of body, then what ru_http_out_write() sends. Returns 200. */
int ru_http_event_stream(ru_req_t *req, const char *type, const char *first, size_t len,
                         const ru_http_stream_ops_t *ops, void *ctx);
/*  Accepts a WebSocket handshake, with plen bytes of protocol as its
 *  Sec-WebSocket-Protocol (0: none). Returns 101. */
int ru_http_websocket(ru_req_t *req, const char *protocol, size_t plen,
                      const ru_http_stream_ops_t *ops, void *ctx);

/*  Any thread: runs fn(arg) on the event loop soon. 0, or -1 when out of
 *  memory or stopped (fn will not run). */
int ru_http_post(ru_http_t *self, void (*fn)(void *arg), void *arg);

/*  Sends body (its reference is taken) with status. */
int ru_http_json(ru_req_t *req, int status, json_t *body);
/*  Sends {"error": message}. */
int ru_http_error(ru_req_t *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*  The status and message for an ru_err of a failed request. */
int ru_http_fail(ru_req_t *req, ru_err err);

/*  A string parameter, or NULL if absent or not a string. */
const char *ru_http_param(const ru_req_t *req, const char *name);
/*  A boolean parameter: JSON true, "true" or "1"; 0 when absent or false. */
int ru_http_param_flag(const ru_req_t *req, const char *name);
/*  An integer parameter within [min, max], def when absent; -1 and a 422
 *  response sent when present but invalid. */
long ru_http_param_long(ru_req_t *req, const char *name, long def, long min, long max);

#endif
