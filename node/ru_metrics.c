/*  ru_metrics.c - request counters, the Prometheus text format, /metrics
 *  and /readyz (see ru_metrics.h).
 *
 *  Requests are counted per route in fixed arrays made at start: one
 *  counter per (route, status slot) and one latency histogram per route.
 *  A status outside the list of slots is counted under its class's first
 *  code (299 under 200): the set of series stays small and known. The
 *  counters are 64-bit relaxed atomics; a scrape reads them without
 *  stopping anyone, so a histogram's buckets may be a request apart from
 *  its count, which Prometheus tolerates.
 *
 *  Names follow Prometheus's conventions: ruche_ prefix, _total for
 *  counters, base units (seconds, bytes).
 */
#include "ru_metrics.h"

#include <lmdb.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ru_apply.h"
#include "ru_log.h"
#include "ru_repl.h"
#include "ru_stream.h"
#include "ru_view.h"

static const int s_codes[] = {100, 101, 200, 201, 204, 206, 300, 301, 302, 304, 400, 401,
                              403, 404, 405, 409, 413, 415, 422, 429, 500, 503, 507};
#define S_CODES ((int) (sizeof s_codes / sizeof s_codes[0]))

/*  Latency bucket bounds, in seconds and in microseconds. */
static const double s_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                  0.25,  0.5,    1,     2.5,  5,     10};
#define S_BUCKETS ((int) (sizeof s_bounds / sizeof s_bounds[0]))

typedef struct {
    _Atomic uint64_t status[S_CODES];
    _Atomic uint64_t bucket[S_BUCKETS + 1]; /* the last: over every bound */
    _Atomic uint64_t usec;                  /* sum of latencies */
} s_route;

struct ru_metrics {
    const ru_route_t *table;
    int n; /* routes in the table; two more slots follow: web, none */
    s_route *routes;
};

ru_err
ru_metrics_new(const ru_route_t *table, ru_metrics_t **out)
{
    *out = NULL;
    ru_metrics_t *self = calloc(1, sizeof *self);
    if (!self)
        return RU_E_NOMEM;
    self->table = table;
    while (table[self->n].method)
        self->n++;
    self->routes = calloc((size_t) self->n + 2, sizeof *self->routes);
    if (!self->routes) {
        free(self);
        return RU_E_NOMEM;
    }
    for (int i = 0; i < self->n + 2; i++) { /* calloc's zeros are not atomics' init */
        s_route *r = &self->routes[i];
        for (int k = 0; k < S_CODES; k++)
            atomic_init(&r->status[k], 0);
        for (int k = 0; k <= S_BUCKETS; k++)
            atomic_init(&r->bucket[k], 0);
        atomic_init(&r->usec, 0);
    }
    *out = self;
    return RU_OK;
}

void
ru_metrics_destroy(ru_metrics_t **self_p)
{
    ru_metrics_t *self = *self_p;
    if (!self)
        return;
    free(self->routes);
    free(self);
    *self_p = NULL;
}

/*  The slot of a status: its own, else its class's first code. */
static int
s_code_slot(int status)
{
    for (int pass = 0; pass < 2; pass++) {
        int want = pass ? status / 100 * 100 : status;
        for (int k = 0; k < S_CODES; k++)
            if (s_codes[k] == want)
                return k;
    }
    return S_CODES - 3; /* outside 1xx-5xx: counted as 500 */
}

void
ru_metrics_http(ru_metrics_t *self, int route, int status, uint64_t usec)
{
    if (!self)
        return;
    int i = route >= 0 && route < self->n   ? route
            : route == RU_METRICS_ROUTE_WEB ? self->n
                                            : self->n + 1;
    s_route *r = &self->routes[i];
    int b = 0;
    while (b < S_BUCKETS && (double) usec > s_bounds[b] * 1e6)
        b++;
    atomic_fetch_add_explicit(&r->status[s_code_slot(status)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->usec, usec, memory_order_relaxed);
}

/*  ---------------------------------------------------------------------
 *  The text format
 */

static void s_printf(ru_buf_t *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
s_printf(ru_buf_t *out, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0)
        ru_buf_append(out, line, (size_t) n < sizeof line ? (size_t) n : sizeof line - 1);
}

void
ru_metrics_family(ru_buf_t *out, const char *name, const char *type, const char *help)
{
    s_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*  A label value with \, " and newlines escaped. */
static void
s_label_value(ru_buf_t *out, const char *v)
{
    for (; *v; v++) {
        const char *esc = *v == '\\' ? "\\\\" : *v == '"' ? "\\\"" : *v == '\n' ? "\\n" : NULL;
        ru_buf_append(out, esc ? esc : v, esc ? 2 : 1);
    }
}

void
ru_metrics_sample(ru_buf_t *out, const char *name, const char *const *labels, double value)
{
    ru_buf_append(out, name, strlen(name));
    for (int i = 0; labels && labels[i]; i += 2) {
        s_printf(out, "%s%s=\"", i ? "," : "{", labels[i]);
        s_label_value(out, labels[i + 1]);
        ru_buf_append(out, "\"", 1);
    }
    if (labels && labels[0])
        ru_buf_append(out, "}", 1);
    if (isinf(value))
        s_printf(out, " %s\n", value > 0 ? "+Inf" : "-Inf");
    else if (value == floor(value) && fabs(value) < 1e15)
        s_printf(out, " %.0f\n", value);
    else
        s_printf(out, " %.9g\n", value);
}

/*  The method and route labels of slot i. */
static void
s_route_labels(const ru_metrics_t *self, int i, const char **method, const char **route)
{
    *method = i < self->n ? self->table[i].method : i == self->n ? "GET" : "other";
    *route = i < self->n ? self->table[i].pattern : i == self->n ? "web" : "unmatched";
}

static void
s_render_requests(const ru_metrics_t *self, ru_buf_t *out)
{
    ru_metrics_family(out, "ruche_http_requests_total", "counter",
                      "HTTP requests answered, by method, route pattern and status code.");
    for (int i = 0; i < self->n + 2; i++) {
        const char *method, *route;
        s_route_labels(self, i, &method, &route);
        for (int k = 0; k < S_CODES; k++) {
            uint64_t n = atomic_load_explicit(&self->routes[i].status[k], memory_order_relaxed);
            char code[8];
            snprintf(code, sizeof code, "%d", s_codes[k]);
            const char *labels[] = {"method", method, "route", route, "code", code, NULL};
            if (n)
                ru_metrics_sample(out, "ruche_http_requests_total", labels, (double) n);
        }
    }
}

static void
s_render_latency(const ru_metrics_t *self, ru_buf_t *out)
{
    const char *name = "ruche_http_request_duration_seconds";
    ru_metrics_family(out, name, "histogram",
                      "Time from a request's arrival to its answer, by method and route.");
    for (int i = 0; i < self->n + 2; i++) {
        const s_route *r = &self->routes[i];
        const char *method, *route;
        s_route_labels(self, i, &method, &route);
        uint64_t count = 0;
        for (int b = 0; b <= S_BUCKETS; b++)
            count += atomic_load_explicit(&r->bucket[b], memory_order_relaxed);
        if (!count)
            continue;
        uint64_t cumulative = 0;
        for (int b = 0; b <= S_BUCKETS; b++) {
            char le[32];
            cumulative += atomic_load_explicit(&r->bucket[b], memory_order_relaxed);
            snprintf(le, sizeof le, b < S_BUCKETS ? "%g" : "+Inf", b < S_BUCKETS ? s_bounds[b] : 0);
            const char *labels[] = {"method", method, "route", route, "le", le, NULL};
            ru_metrics_sample(out, "ruche_http_request_duration_seconds_bucket", labels,
                              (double) cumulative);
        }
        const char *labels[] = {"method", method, "route", route, NULL};
        double usec = (double) atomic_load_explicit(&r->usec, memory_order_relaxed);
        ru_metrics_sample(out, "ruche_http_request_duration_seconds_sum", labels, usec / 1e6);
        ru_metrics_sample(out, "ruche_http_request_duration_seconds_count", labels,
                          (double) cumulative);
    }
}

/*  One family of a single unlabelled sample. */
static void
s_single(ru_buf_t *out, const char *name, const char *type, const char *help, double value)
{
    ru_metrics_family(out, name, type, help);
    ru_metrics_sample(out, name, NULL, value);
}

static void
s_render_store(ru_node_t *node, ru_buf_t *out)
{
    ru_store_usage_t use;
    ru_store_usage(node->store, &use);
    s_single(out, "ruche_store_map_size_bytes", "gauge", "Size of the LMDB map.",
             (double) use.map_size);
    s_single(out, "ruche_store_used_bytes", "gauge", "Bytes of the LMDB map in use (pages).",
             (double) use.used);
    s_single(out, "ruche_store_max_size_bytes", "gauge",
             "Largest size the map may grow to ([store] max_size_mb; 0: up to the disk).",
             (double) use.map_max);
    unsigned long commits = 0, requests = 0;
    ru_writer_stats(node->writer, &commits, &requests);
    s_single(out, "ruche_writer_commits_total", "counter", "Durable LMDB commits.",
             (double) commits);
    s_single(out, "ruche_writer_requests_total", "counter",
             "Write requests run by the store actor (many share one commit).", (double) requests);
    s_single(out, "ruche_writer_queue_depth", "gauge",
             "Write requests waiting for the store actor.",
             (double) ru_writer_queued(node->writer));
    s_single(out, "ruche_streams_open", "gauge",
             "Streaming API connections (WebSocket and event streams) open.",
             node->stream ? (double) ru_stream_open_count(node->stream) : 0);
}

/*  The updates waiting for their dependencies: in all, and per origin how
 *  many and for how long the oldest has waited (the counts kept with them:
 *  no scan), with the limits that refuse more. */
static ru_err
s_render_pending(ru_node_t *node, ru_buf_t *out)
{
    ru_txn_t txn;
    ru_apply_pending_t *by;
    size_t n;
    uint64_t total;
    ru_err err = ru_store_read(node->store, &txn);
    if (err)
        return err;
    err = ru_apply_pending(&txn, &by, &n, &total);
    ru_txn_abort(&txn);
    if (err)
        return err;
    s_single(out, "ruche_pending_updates_all", "gauge",
             "Updates waiting here for their dependencies, all origins.", (double) total);
    ru_metrics_family(out, "ruche_pending_limit", "gauge",
                      "Updates that may wait ([replication] pending_per_origin, pending_max).");
    const char *per[] = {"scope", "per_origin", NULL}, *all[] = {"scope", "all", NULL};
    ru_metrics_sample(out, "ruche_pending_limit", per, (double) node->cfg.pending_per_origin);
    ru_metrics_sample(out, "ruche_pending_limit", all, (double) node->cfg.pending_max);
    ru_view_t v = {node, NULL, NULL};
    char site[RU_MAX_NAME + 1];
    uint64_t now = ru_hlc_wall_ms();
    for (int pass = 0; pass < 2; pass++) {
        const char *name = pass ? "ruche_pending_oldest_age_seconds" : "ruche_pending_updates";
        ru_metrics_family(out, name, "gauge",
                          pass ? "How long the origin's oldest waiting update has waited."
                               : "Updates of the origin waiting here for their dependencies.");
        for (size_t i = 0; i < n; i++) {
            ru_view_site(&v, by[i].origin, site);
            const char *labels[] = {"origin", site, NULL};
            double age = now > by[i].oldest_ms ? (double) (now - by[i].oldest_ms) / 1000 : 0;
            ru_metrics_sample(out, name, labels, pass ? age : (double) by[i].count);
        }
    }
    free(by);
    return RU_OK;
}

static const char *s_not_ready(ru_node_t *node, json_t *parts);

/*  The whole page into out. */
static ru_err
s_render(ru_req_t *req, ru_buf_t *out)
{
    ru_node_t *node = req->node;
    const char *labels[] = {"version", RUCHE_VERSION, "site", node->cfg.site, NULL};
    ru_metrics_family(out, "ruche_build_info", "gauge", "This node's version and site; always 1.");
    ru_metrics_sample(out, "ruche_build_info", labels, 1);
    if (node->metrics) {
        s_render_requests(node->metrics, out);
        s_render_latency(node->metrics, out);
    }
    s_render_store(node, out);
    s_single(out, "ruche_ready", "gauge",
             "1 when GET /readyz answers 200 (store open, not recovering, replicating).",
             s_not_ready(node, NULL) ? 0 : 1);
    ru_err err = s_render_pending(node, out);
    if (!err && node->repl) {
        ru_clock_t ours;
        ru_clock_init(&ours);
        ru_txn_t txn;
        err = ru_store_read(node->store, &txn);
        if (!err) {
            err = ru_apply_clock(&txn, &ours);
            ru_txn_abort(&txn);
        }
        if (!err)
            ru_repl_metrics(node->repl, &ours, out);
        ru_clock_fini(&ours);
    }
    return err ? err : ru_buf_status(out);
}

/*  May this request read the metrics ([http] metrics)? Sends the refusal
 *  and returns its status, or 0. */
static int
s_refused(ru_req_t *req)
{
    const char *access = req->node->cfg.metrics;
    if (strcmp(access, "public") == 0)
        return 0;
    if (strcmp(access, "admin") == 0)
        return ru_http_admin_refused(req, 0);
    if (strcmp(access, "loopback") == 0) {
        const char *addr = ru_http_req_addr(req);
        int local = strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
                    strcmp(addr, "::ffff:127.0.0.1") == 0;
        return local ? 0 : ru_http_error(req, 403, "the metrics are served to this host only");
    }
    return ru_http_error(req, 500, "[http] metrics must be public, loopback or admin, not '%s'",
                         access);
}

int
ru_metrics_serve(ru_req_t *req)
{
    int refused = s_refused(req);
    if (refused)
        return refused;
    ru_buf_t out;
    ru_buf_init(&out);
    ru_err err = s_render(req, &out);
    int status = err ? ru_http_fail(req, err)
                     : ru_http_send(req, 200, "text/plain; version=0.0.4; charset=utf-8",
                                    (const char *) out.data, out.len);
    ru_buf_fini(&out);
    return status;
}

/*  ---------------------------------------------------------------------
 *  Readiness: every part of the node and its state
 */

/*  A part's state; *why says what keeps the node from being ready, and
 *  stays NULL when the part is as it should be. */
typedef const char *(*s_part_fn)(ru_node_t *node, const char **why);

static const char *
s_part_store(ru_node_t *node, const char **why)
{
    ru_txn_t txn;
    int recovering = 0;
    if (!node->store) {
        *why = "the store is not open";
        return "not open";
    }
    ru_err err = ru_store_read(node->store, &txn);
    if (!err) {
        err = ru_apply_recovering(&txn, &recovering);
        ru_txn_abort(&txn);
    }
    if (err) {
        *why = "the store cannot be read";
        return "unreadable";
    }
    if (recovering) {
        *why = "recovering: this site takes its own updates back from its peers";
        return "recovering";
    }
    return "open";
}

static const char *
s_part_writer(ru_node_t *node, const char **why)
{
    if (node->writer)
        return "running";
    *why = "the store actor has not started";
    return "not started";
}

static const char *
s_part_replication(ru_node_t *node, const char **why)
{
    if (!node->cfg.pub_bind[0])
        return "off";
    const char *state = node->repl ? ru_repl_state(node->repl) : "not started";
    if (strcmp(state, "running") != 0)
        *why = node->repl ? "replication has stopped" : "replication has not started";
    return state;
}

static const char *
s_part_streams(ru_node_t *node, const char **why)
{
    if (node->stream)
        return "running";
    *why = "the streaming hub has not started";
    return "not started";
}

static const char *
s_part_http(ru_node_t *node, const char **why)
{
    (void) node, (void) why;
    return "serving"; /* it answers this request */
}

static const char *
s_part_web(ru_node_t *node, const char **why)
{
    (void) why; /* the API serves without it */
    return node->web ? "serving" : "off";
}

static const struct {
    const char *name;
    s_part_fn state;
} s_parts[] = {
    {"store", s_part_store},
    {"store_actor", s_part_writer},
    {"replication", s_part_replication},
    {"streams", s_part_streams},
    {"http", s_part_http},
    {"web", s_part_web},
};

/*  Why the node is not ready (the first part's reason), or NULL; each
 *  part's {"state", "ready"} into parts, unless it is NULL. */
static const char *
s_not_ready(ru_node_t *node, json_t *parts)
{
    const char *first = NULL;
    for (size_t i = 0; i < sizeof s_parts / sizeof s_parts[0]; i++) {
        const char *why = NULL;
        const char *state = s_parts[i].state(node, &why);
        if (parts)
            json_object_set_new(parts, s_parts[i].name,
                                json_pack("{s:s, s:b}", "state", state, "ready", why == NULL));
        if (!first)
            first = why;
    }
    return first;
}

int
ru_metrics_ready(ru_req_t *req)
{
    json_t *parts = json_object();
    const char *why = parts ? s_not_ready(req->node, parts) : "out of memory";
    if (why)
        return ru_http_json(
            req, 503, json_pack("{s:b, s:s, s:o*}", "ready", 0, "error", why, "parts", parts));
    return ru_http_json(req, 200, json_pack("{s:b, s:o}", "ready", 1, "parts", parts));
}
