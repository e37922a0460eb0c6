/*  ru_conn.h - internal to the HTTP core: the connections, on the loop.
 *  The listeners are read until [http] max_connections are open; a
 *  connection just accepted is counted against its client's address (an
 *  IPv4 address, or the /64 of an IPv6 one) and closed at once when that
 *  address has [http] max_connections_per_address already; at the total,
 *  the listeners are left unread until one closes.
 *
 *  Time: a connection must bring a whole request (headers and body)
 *  within request_timeout_ms of the moment the node waits for it (h2o's
 *  own timer, which a byte now and then does not reset: the slow-loris
 *  clients are cut); a kept-alive connection on which nothing comes for
 *  keep_alive_ms is closed. A connection's first request line is read
 *  here before h2o has it: a malformed one gets a JSON 400 (h2o would
 *  answer a line of text) and the connection is closed.
 *
 *  A connection is busy from the moment a request is taken on it until
 *  its answer has left (ru_conn_bind): the idle timer leaves it alone.
 */
#ifndef RU_CONN_H
#define RU_CONN_H

#include "ru_http_job.h"

/*  The connection record of a request, NULL if it has none. */
ru_conn_t *ru_conn_of(h2o_req_t *r);
/*  Ties job to r, and c (NULL: none) to both: c is busy until h2o frees
 *  r's pool (the answer has left, or the client went away), which tells
 *  the job (job->h2o becomes NULL) and the connection. */
void ru_conn_bind(ru_http_job_t *job, h2o_req_t *r, ru_conn_t *c);
/*  Reads the listeners again (on), or leaves them unread (the total is
 *  reached, or the node stops). */
void ru_conn_listen(ru_http_t *self, int on);
/*  Takes a connection just accepted: counted, or closed at once when its
 *  address has its share. */
void ru_conn_take(ru_http_t *self, h2o_socket_t *sock);
/*  Loop (arg: the ru_http_t, as ru_http_post() runs them): ends the
 *  connections left that have nothing to read (a request that came is
 *  answered first, with 503); ends every connection left. */
void ru_conn_close_idle(void *arg);
void ru_conn_close_rest(void *arg);
/*  Frees the per-address counts (once the loop has ended). */
void ru_conn_free_addrs(ru_http_t *self);

#endif
