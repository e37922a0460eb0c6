/*  ru_metrics.h - the node's metrics for Prometheus (GET /metrics) and its
 *  readiness (GET /readyz).
 *
 *  What is counted on a hot path is counted here with relaxed atomic
 *  additions, no lock: every HTTP request by route pattern (never the raw
 *  path, so clients cannot make new series) and status, with a latency
 *  histogram per route. Everything else is read when /metrics is asked
 *  for, from the modules that own it: the store (map size and use), the
 *  store actor (commits, requests, queue), the streams (open ones) and the
 *  replication actor (per peer and per origin, ru_repl_metrics()).
 *
 *  A request is timed from the moment h2o has read it to its handler's
 *  answer; an event stream (SSE) is counted when it opens, and WebSocket
 *  streams, which are served outside the route table, are seen in
 *  ruche_streams_open only. Updates are counted
 *  by the peer they came from (received, verified, applied, duplicate,
 *  refused); by origin are this site's head, what it published (its own
 *  and relayed), how far each peer is ahead of it and, for a forked
 *  origin, its fork seq and the updates of it held here.
 *
 *  GET /metrics is open to all by default, like most exporters; [http]
 *  metrics = loopback keeps it to clients on the node's own host, admin
 *  asks for an administrator's token with admin:read (ru_http.h; an app's
 *  token needs read too, or the request goes on unsigned).
 *
 *  GET /readyz answers 200 {"ready": true, "parts": ...} once the store
 *  opens, the node is not recovering its own updates from its peers and
 *  replication runs (when the node replicates), else 503 {"ready": false,
 *  "error": why, "parts": ...}. parts names every part of the node (store,
 *  store_actor, replication, streams, http, web) with {"state", "ready"}.
 *  GET /healthz (ru_api_misc.c) only says the process answers.
 */
#ifndef RU_METRICS_H
#define RU_METRICS_H

#include <stdint.h>

#include "ruche/ru_buf.h"
#include "ruche/ru_error.h"

#include "ru_http.h"

typedef struct ru_metrics ru_metrics_t;

/*  The route index of a request served by the web front end's files, and
 *  of one that matched no route (404, 405). */
#define RU_METRICS_ROUTE_WEB (-1)
#define RU_METRICS_ROUTE_NONE (-2)

/*  Counters for the routes of table (ending with a NULL method), which
 *  must outlive them. */
RU_MUST_CHECK ru_err ru_metrics_new(const ru_route_t *table, ru_metrics_t **out);
/*  NULL-safe. */
void ru_metrics_destroy(ru_metrics_t **self_p);

/*  Counts one request of route (an index into the table, or one of the
 *  RU_METRICS_ROUTE_ values) answered with status after usec microseconds.
 *  Any thread, lock-free; self may be NULL (nothing counted). */
void ru_metrics_http(ru_metrics_t *self, int route, int status, uint64_t usec);

/*  GET /metrics and GET /readyz. */
int ru_metrics_serve(ru_req_t *req);
int ru_metrics_ready(ru_req_t *req);

/*  Writers of the text format, for the modules that render their own
 *  metrics. A family's HELP and TYPE lines: */
void ru_metrics_family(ru_buf_t *out, const char *name, const char *type, const char *help);
/*  One sample: name{labels} value, where labels is NULL or a list of
 *  name, value pairs ending with NULL (values are escaped). */
void ru_metrics_sample(ru_buf_t *out, const char *name, const char *const *labels, double value);

#endif
