/*  ru_http_res.h - internal to the HTTP core: an answer's head and a
 *  whole body written into h2o's response, on the loop. Every answer of
 *  ours has the same head (ru_http_res_head): its status and type, the
 *  security headers below, "Cache-Control: no-store" unless the handler
 *  chose otherwise, how long the connection is kept, then the handler's
 *  own header lines. The loop's own refusals (ru_http_res_refuse) are
 *  JSON like the handlers' errors.
 */
#ifndef RU_HTTP_RES_H
#define RU_HTTP_RES_H

#include "ru_http_job.h"

/*  The Content-Security-Policy of every response: the front end loads its
 *  own scripts and styles only, images from its own node and, as blob:
 *  URLs, the files a user is attaching, shown before they are sent
 *  (blurhash placeholders are drawn on canvases, which need nothing);
 *  it connects to its own node (HTTP and WebSocket), and no page may
 *  frame it. */
#define RU_HTTP_CSP                                                                                \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "              \
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

/*  The security header lines of every response (each ends with CRLF):
 *  the policy above, unless a response brings its own (an OAuth page that
 *  posts a form to an app's redirect URI), and the others, always. */
#define RU_HTTP_CSP_HEADER "Content-Security-Policy: " RU_HTTP_CSP "\r\n"
#define RU_HTTP_BASE_HEADERS                                                                       \
    "X-Content-Type-Options: nosniff\r\n"                                                          \
    "X-Frame-Options: DENY\r\n"                                                                    \
    "Referrer-Policy: same-origin\r\n"                                                             \
    "Cross-Origin-Opener-Policy: same-origin\r\n"
#define RU_HTTP_SECURITY_HEADERS RU_HTTP_CSP_HEADER RU_HTTP_BASE_HEADERS

/*  The reason phrase of status ("Status" for one we never send). */
const char *ru_http_res_reason(int status);
/*  Adds header name: value (len bytes) to r's response, copied into its
 *  pool. */
void ru_http_res_header(h2o_req_t *r, const char *name, size_t nlen, const char *value,
                        size_t vlen);
#define RU_HTTP_RES_HEADER(r, name, value)                                                         \
    ru_http_res_header((r), (name), strlen(name), (value), strlen(value))
/*  Adds the lines of text ("Name: value\r\n"...) to r's response. */
void ru_http_res_lines(h2o_req_t *r, const char *text);
/*  The head every answer of ours has: status, type, the security headers,
 *  caching, how long the connection is kept, and lines, the handler's
 *  own header lines ("Name: value\r\n"...). */
void ru_http_res_head(ru_http_t *self, h2o_req_t *r, const char *lines, int status,
                      const char *type);
/*  Starts r's response as a whole answer: its body, if any, follows in
 *  one final h2o_send(). */
void ru_http_res_start(h2o_req_t *r);
/*  Is g the generator of whole answers (ru_http_res_start)? */
int ru_http_res_ours(const h2o_generator_t *g);
/*  Sends a whole answer: body (its memory taken) or, for HEAD (body
 *  NULL), a head saying head_len bytes. */
void ru_http_res_final(h2o_req_t *r, ru_buf_t *body, size_t head_len);
/*  An answer of the loop's own (503, 431, 400 ...), JSON like the others;
 *  close asks the client to close the connection; retry_after, when not
 *  NULL, is sent as Retry-After. */
void ru_http_res_refuse(ru_http_t *self, h2o_req_t *r, int status, const char *why, int close,
                        const char *retry_after);

#endif
