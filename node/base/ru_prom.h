/*  ru_prom.h - the Prometheus text format, and the collectors that fill
 *  a scrape.
 *
 *  Every module that owns figures worth scraping renders them itself, with
 *  the writers below, in a collector: a function that appends its families
 *  to the page. The collectors are registered with a ru_prom_t at start,
 *  by whoever wires the node together, and GET /metrics (node/ops) pulls
 *  them in registration order. So a module of a low layer is scraped
 *  without knowing who serves the page, and the page's server needs no
 *  header of the modules it shows.
 *
 *  Thread rules: ru_prom_add() and ru_prom_render() may be called from any
 *  thread (the list is under a mutex); a collector runs on the scraping
 *  thread and reads its module's state under the module's own rules. A
 *  collector must stay valid until ru_prom_remove() or ru_prom_destroy().
 *
 *  Names follow Prometheus's conventions: ruche_ prefix, _total for
 *  counters, base units (seconds, bytes).
 */
#ifndef RU_PROM_H
#define RU_PROM_H

#include "ruche/ru_buf.h"
#include "ruche/ru_error.h"

/*  A family's HELP and TYPE lines. */
void ru_prom_family(ru_buf_t *out, const char *name, const char *type, const char *help);
/*  One sample: name{labels} value, where labels is NULL or a list of
 *  name, value pairs ending with NULL (values are escaped). */
void ru_prom_sample(ru_buf_t *out, const char *name, const char *const *labels, double value);
/*  A family of one unlabelled sample. */
void ru_prom_single(ru_buf_t *out, const char *name, const char *type, const char *help,
                    double value);

/*  Appends a module's families to out; an error ends the scrape with it. */
typedef ru_err (*ru_prom_fn)(void *ctx, ru_buf_t *out);

typedef struct ru_prom ru_prom_t;

RU_MUST_CHECK ru_err ru_prom_new(ru_prom_t **out);
/*  NULL-safe. */
void ru_prom_destroy(ru_prom_t **self_p);
/*  Registers fn (with ctx) as the last collector; RU_E_NOMEM if it cannot. */
RU_MUST_CHECK ru_err ru_prom_add(ru_prom_t *self, ru_prom_fn fn, void *ctx);
/*  Unregisters fn with ctx (nothing if it is not there); once it returns,
 *  no scrape calls it. */
void ru_prom_remove(ru_prom_t *self, ru_prom_fn fn, void *ctx);
/*  Runs every collector in order into out; the first error stops it. */
RU_MUST_CHECK ru_err ru_prom_render(ru_prom_t *self, ru_buf_t *out);

#endif
