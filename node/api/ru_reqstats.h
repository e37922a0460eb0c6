/*  ru_reqstats.h - every HTTP request counted, by route pattern (never the
 *  raw path, so clients cannot make new series) and status, with a latency
 *  histogram per route: ruche_http_requests_total and
 *  ruche_http_request_duration_seconds in /metrics.
 *
 *  What is counted on this hot path is counted with relaxed atomic
 *  additions, no lock. A request is timed from the moment h2o has read it
 *  to its handler's answer; an event stream (SSE) is counted when it
 *  opens, and WebSocket streams, which are served outside the route
 *  table, are seen in ruche_streams_open only.
 */
#ifndef RU_REQSTATS_H
#define RU_REQSTATS_H

#include <stdint.h>

#include "ruche/ru_buf.h"
#include "ruche/ru_error.h"

typedef struct ru_reqstats ru_reqstats_t;

/*  The route index of a request served by the web front end's files, and
 *  of one that matched no route (404, 405). */
#define RU_REQSTATS_ROUTE_WEB (-1)
#define RU_REQSTATS_ROUTE_NONE (-2)

/*  The method and route pattern of route i, for its labels; the strings
 *  must outlive the counters. */
typedef void (*ru_reqstats_label_fn)(const void *ctx, int i, const char **method,
                                     const char **pattern);

/*  Counters for routes 0 .. routes - 1, labelled by label(ctx, i, ...). */
RU_MUST_CHECK ru_err ru_reqstats_new(int routes, ru_reqstats_label_fn label, const void *ctx,
                                     ru_reqstats_t **out);
/*  NULL-safe. */
void ru_reqstats_destroy(ru_reqstats_t **self_p);

/*  Counts one request of route (an index into the table, or one of the
 *  RU_REQSTATS_ROUTE_ values) answered with status after usec
 *  microseconds. Any thread, lock-free; self may be NULL (nothing
 *  counted). */
void ru_reqstats_count(ru_reqstats_t *self, int route, int status, uint64_t usec);

/*  The collector (ru_prom.h) of the counters: self is an ru_reqstats_t. */
RU_MUST_CHECK ru_err ru_reqstats_collect(void *self, ru_buf_t *out);

#endif
