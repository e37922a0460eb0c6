/*  ru_reqstats.c - HTTP requests counted per route (see ru_reqstats.h).
 *
 *  Requests are counted per route in fixed arrays made at start: one
 *  counter per (route, status slot) and one latency histogram per route.
 *  A status outside the list of slots is counted under its class's first
 *  code (299 under 200): the set of series stays small and known. The
 *  counters are 64-bit relaxed atomics; a scrape reads them without
 *  stopping anyone, so a histogram's buckets may be a request apart from
 *  its count, which Prometheus tolerates.
 */
#include "ru_reqstats.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "ru_prom.h"

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

struct ru_reqstats {
    int n; /* routes; two more slots follow: web, none */
    ru_reqstats_label_fn label;
    const void *ctx;
    s_route *routes;
};

ru_err
ru_reqstats_new(int routes, ru_reqstats_label_fn label, const void *ctx, ru_reqstats_t **out)
{
    *out = NULL;
    ru_reqstats_t *self = calloc(1, sizeof *self);
    if (!self)
        return RU_E_NOMEM;
    self->n = routes;
    self->label = label;
    self->ctx = ctx;
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
ru_reqstats_destroy(ru_reqstats_t **self_p)
{
    ru_reqstats_t *self = *self_p;
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
ru_reqstats_count(ru_reqstats_t *self, int route, int status, uint64_t usec)
{
    if (!self)
        return;
    int i = route >= 0 && route < self->n    ? route
            : route == RU_REQSTATS_ROUTE_WEB ? self->n
                                             : self->n + 1;
    s_route *r = &self->routes[i];
    int b = 0;
    while (b < S_BUCKETS && (double) usec > s_bounds[b] * 1e6)
        b++;
    atomic_fetch_add_explicit(&r->status[s_code_slot(status)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->usec, usec, memory_order_relaxed);
}

/*  The method and route labels of slot i. */
static void
s_route_labels(const ru_reqstats_t *self, int i, const char **method, const char **route)
{
    if (i < self->n)
        self->label(self->ctx, i, method, route);
    else {
        *method = i == self->n ? "GET" : "other";
        *route = i == self->n ? "web" : "unmatched";
    }
}

static void
s_render_requests(const ru_reqstats_t *self, ru_buf_t *out)
{
    ru_prom_family(out, "ruche_http_requests_total", "counter",
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
                ru_prom_sample(out, "ruche_http_requests_total", labels, (double) n);
        }
    }
}

static void
s_render_latency(const ru_reqstats_t *self, ru_buf_t *out)
{
    const char *name = "ruche_http_request_duration_seconds";
    ru_prom_family(out, name, "histogram",
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
            ru_prom_sample(out, "ruche_http_request_duration_seconds_bucket", labels,
                           (double) cumulative);
        }
        const char *labels[] = {"method", method, "route", route, NULL};
        double usec = (double) atomic_load_explicit(&r->usec, memory_order_relaxed);
        ru_prom_sample(out, "ruche_http_request_duration_seconds_sum", labels, usec / 1e6);
        ru_prom_sample(out, "ruche_http_request_duration_seconds_count", labels,
                       (double) cumulative);
    }
}

ru_err
ru_reqstats_collect(void *self_p, ru_buf_t *out)
{
    const ru_reqstats_t *self = self_p;
    s_render_requests(self, out);
    s_render_latency(self, out);
    return RU_OK;
}
