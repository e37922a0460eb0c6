/*  ru_httpd.h - internal to the HTTP core: the event loop and h2o around
 *  it. One thread runs the loop (h2o's evloop, epoll), which holds every
 *  listener and connection (ru_conn.h), every stream (ru_http_out.h), and
 *  takes every request: the checks h2o does not make, then a worker
 *  (ru_http_pool.h), or an answer kept from an earlier one (ru_cache.h).
 *
 *  Limits on a request, beside those of its connection (ru_conn.h), all
 *  in [http] (deploy/ruched.conf):
 *    - the head: at most max_headers header lines and max_header_bytes of
 *      them (431); two Content-Length headers, equal or not, one that is
 *      not a number, or one beside Transfer-Encoding: 400, connection
 *      closed (h2o would take the first length, or the chunks). These are
 *      read again from the request's raw bytes, which h2o keeps until the
 *      answer;
 *    - the body: max_body (h2o's 413, made JSON by a filter, before it is
 *      read); a JSON body nested deeper than max_json_depth is refused
 *      (ru_reqparse.h).
 *
 *  Start and stop. ru_http_new() starts the workers; handlers of other
 *  kinds are registered next; ru_http_listen() opens the listeners last,
 *  so the first request finds every route. ru_http_stop() closes the
 *  listeners, answers new requests on open connections with 503 and
 *  "Connection: close", waits until every request taken has been
 *  answered and its answer has left, then closes what is left.
 */
#ifndef RU_HTTPD_H
#define RU_HTTPD_H

#include "ruche/ru_error.h"

#include "ru_http_job.h"

/*  Sets h2o up for self (its configuration, loop, message queue and
 *  timers), before any worker starts. */
void ru_httpd_init(ru_http_t *self);
/*  Opens the listeners of [http] listen and starts the loop's thread.
 *  RU_E_IO (logged) when an address cannot be listened on. */
RU_MUST_CHECK ru_err ru_httpd_listen(ru_http_t *self);
/*  Stops the running loop as ru_http_stop() says, and ends its thread: 1
 *  when every connection closed, 0 when some would not (h2o's memory must
 *  then be left as it is). */
int ru_httpd_stop(ru_http_t *self);
/*  Frees what ru_httpd_init() set up; the loop no longer runs and holds
 *  no connection. */
void ru_httpd_dispose(ru_http_t *self);

#endif
