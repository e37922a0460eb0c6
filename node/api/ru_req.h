/*  ru_req.h - a request as its handler sees it (ru_req_t), the handler's
 *  type and a route table's entries: the types that the HTTP core's
 *  modules share with the handlers. Handlers include ru_http.h, which
 *  includes this and says what they may do with a request; the core's
 *  modules include this alone, so that none of them needs ru_http.h
 *  (which sits on top of them).
 */
#ifndef RU_REQ_H
#define RU_REQ_H

#include <jansson.h>

#include "ru_account.h"
#include "ru_node.h"

#define RU_HTTP_MAX_ARGS 4
#define RU_HTTP_SCOPE_SIZE 256

/*  How a request was signed in. */
typedef enum { RU_AUTH_NONE, RU_AUTH_TOKEN, RU_AUTH_COOKIE } ru_auth_via;

typedef struct ru_http ru_http_t;
typedef struct ru_http_job ru_http_job_t;

typedef struct {
    ru_http_job_t *job; /* what the server keeps of the request (ru_http_job.h) */
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
    RU_ROUTE_ADMIN = 2,       /* an administrator, admin:read or admin:write (ru_http.h) */
    RU_ROUTE_ADMIN_WRITE = 3, /* an administrator with admin:write, whatever the method */
};

typedef struct {
    const char *method;
    const char *pattern; /* "/api/v1/statuses/:id" */
    ru_handler handler;
    int auth;   /* RU_ROUTE_... */
    int flags;  /* RU_ROUTE_CACHED, RU_ROUTE_UPLOAD */
} ru_route_t;

/*  What else a route says (ru_route_t.flags). */
enum {
    RU_ROUTE_CACHED = 1, /* a GET whose anonymous answers may be kept (ru_cache.h) */
    RU_ROUTE_UPLOAD = 2, /* its body may take [media] max_upload bytes, not [http] max_body */
};

#endif
