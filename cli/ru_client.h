/*  ru_client.h - JSON requests to a ruche node over HTTP(S), with libcurl,
 *  and uploads of files as multipart/form-data.
 *
 *  One client talks to one server (the normal form of ru_url_server) and
 *  may carry an access token, sent as "Authorization: Bearer TOKEN". Every
 *  request has a connect timeout (5 s) and a total timeout (30 s), follows
 *  no redirects (a token must not travel to another host), speaks only
 *  http and https, and keeps TLS verification as libcurl sets it: on.
 *  Replies are read up to RU_CLIENT_MAX_REPLY bytes and parsed as JSON.
 *
 *  The client judges transport, not content: a reply with status 404 and
 *  {"error": "..."} is a successful call that returns that status. A
 *  reply that cannot be understood (not JSON where JSON is due, cut short,
 *  too large) is a failed call, with a message for people in
 *  ru_client_error(). Nothing here ever prints the token.
 *
 *  Not thread-safe: one client per thread.
 */
#ifndef RU_CLIENT_H
#define RU_CLIENT_H

#include <jansson.h>
#include <stdio.h>

#include "ruche/ru_error.h"

/*  Largest reply body read, in bytes. */
#define RU_CLIENT_MAX_REPLY (16u * 1024u * 1024u)
/*  Default timeouts, in milliseconds. */
#define RU_CLIENT_CONNECT_MS 5000L
#define RU_CLIENT_TOTAL_MS 30000L

typedef struct ru_client ru_client_t;

/*  What a call brought back. Caller-owned: zero it before the call and
 *  ru_reply_fini() it after, whatever the call returned. */
typedef struct {
    long status;  /* HTTP status, 0 if no reply came */
    json_t *json; /* the body (a reference the reply owns); NULL when the
                     body was empty, or was not JSON in an error reply */
    char *link;   /* the Link header's value, malloc'd, or NULL */
} ru_reply_t;

/*  Releases what the reply holds and zeroes it. */
void ru_reply_fini(ru_reply_t *reply);

/*  The message of an error reply: its "error_description" or its "error"
 *  string, or NULL. Points into reply->json. */
const char *ru_reply_message(const ru_reply_t *reply);

/*  Sets up libcurl, libsodium and ru_secret_json_wipe(); once, at start,
 *  before any other thread runs. RU_E_NOMEM if a library fails. */
RU_MUST_CHECK ru_err ru_client_global_init(void);
void ru_client_global_fini(void);

/*  A client for server (copied). NULL if memory runs out. */
ru_client_t *ru_client_new(const char *server);
/*  Frees the client and wipes its token; NULL-safe; NULLs *self_p. */
void ru_client_destroy(ru_client_t **self_p);

/*  Sends the token (copied into secret memory) with every later request;
 *  NULL sends none. RU_E_NOMEM. */
RU_MUST_CHECK ru_err ru_client_set_token(ru_client_t *self, const char *token);
/*  Changes the timeouts (milliseconds; tests use short ones). */
void ru_client_set_timeouts(ru_client_t *self, long connect_ms, long total_ms);

/*  The server, as given to ru_client_new. */
const char *ru_client_server(const ru_client_t *self);

/*  Sends method ("GET", "POST", "PUT", "DELETE") to the server's path
 *  ("/api/v1/statuses", with any query already encoded), with body as
 *  JSON (Content-Type: application/json) unless body is NULL, and fills
 *  reply. The request body is serialized into secret memory and wiped
 *  after the call (it may hold a password or token).
 *  Returns RU_OK when a complete reply came and could be read (any
 *  status); otherwise, with a message in ru_client_error():
 *  RU_E_IO (no connection, timeout, TLS failure, reply cut short, a
 *  redirect),
 *  RU_E_TOO_BIG (reply over RU_CLIENT_MAX_REPLY), RU_E_TRUNCATED (JSON
 *  ends early), RU_E_TYPE (a success reply that is not JSON), RU_E_NOMEM.
 *  reply->status is set whenever a status line arrived. */
RU_MUST_CHECK ru_err ru_client_call(ru_client_t *self, const char *method, const char *path,
                                    const json_t *body, ru_reply_t *reply);

/*  POSTs the file at path file (read as the request is sent) to the
 *  server's path as a multipart/form-data body, as Mastodon's media upload
 *  takes it: a part "file" with its bytes and the file name name (its
 *  Content-Type is libcurl's guess from the name, which servers do not
 *  trust), and a part "description" when description is not NULL.
 *  Without the total timeout (a large file takes its time); otherwise
 *  like ru_client_call, a file that cannot be read included (RU_E_IO). */
RU_MUST_CHECK ru_err ru_client_upload(ru_client_t *self, const char *path, const char *file,
                                      const char *name, const char *description, ru_reply_t *reply);

/*  GETs path like ru_client_call, but a 2xx body (of any type and size)
 *  is written to out as it comes instead of being parsed, without the
 *  total timeout; *written counts its bytes. An error reply is read as
 *  JSON into reply as usual. */
RU_MUST_CHECK ru_err ru_client_download(ru_client_t *self, const char *path, FILE *out,
                                        ru_reply_t *reply, size_t *written);

/*  Why the last call failed, for people. Never NULL. */
const char *ru_client_error(const ru_client_t *self);

#endif
