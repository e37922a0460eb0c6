/*  ru_prom.c - the Prometheus text format and the list of collectors (see
 *  ru_prom.h).
 *
 *  The list is short (a collector per module) and changes at start and
 *  stop only; a scrape holds its mutex while it runs the collectors, so
 *  that ru_prom_remove() returning means no collector of the removed
 *  module is running, and two scrapes render one after the other.
 */
#include "ru_prom.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    ru_prom_fn fn;
    void *ctx;
} s_collector;

struct ru_prom {
    pthread_mutex_t mutex;
    s_collector *list;
    size_t n, cap;
};

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
ru_prom_family(ru_buf_t *out, const char *name, const char *type, const char *help)
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
ru_prom_sample(ru_buf_t *out, const char *name, const char *const *labels, double value)
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

void
ru_prom_single(ru_buf_t *out, const char *name, const char *type, const char *help, double value)
{
    ru_prom_family(out, name, type, help);
    ru_prom_sample(out, name, NULL, value);
}

ru_err
ru_prom_new(ru_prom_t **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return RU_E_NOMEM;
    pthread_mutex_init(&(*out)->mutex, NULL);
    return RU_OK;
}

void
ru_prom_destroy(ru_prom_t **self_p)
{
    ru_prom_t *self = *self_p;
    if (!self)
        return;
    pthread_mutex_destroy(&self->mutex);
    free(self->list);
    free(self);
    *self_p = NULL;
}

ru_err
ru_prom_add(ru_prom_t *self, ru_prom_fn fn, void *ctx)
{
    ru_err err = RU_OK;
    pthread_mutex_lock(&self->mutex);
    if (self->n == self->cap) {
        size_t cap = self->cap ? 2 * self->cap : 8;
        s_collector *list = realloc(self->list, cap * sizeof *list);
        if (list) {
            self->list = list;
            self->cap = cap;
        } else
            err = RU_E_NOMEM;
    }
    if (!err)
        self->list[self->n++] = (s_collector){fn, ctx};
    pthread_mutex_unlock(&self->mutex);
    return err;
}

void
ru_prom_remove(ru_prom_t *self, ru_prom_fn fn, void *ctx)
{
    pthread_mutex_lock(&self->mutex);
    for (size_t i = 0; i < self->n; i++)
        if (self->list[i].fn == fn && self->list[i].ctx == ctx) {
            memmove(&self->list[i], &self->list[i + 1], (self->n - i - 1) * sizeof *self->list);
            self->n--;
            break;
        }
    pthread_mutex_unlock(&self->mutex);
}

ru_err
ru_prom_render(ru_prom_t *self, ru_buf_t *out)
{
    ru_err err = RU_OK;
    pthread_mutex_lock(&self->mutex);
    for (size_t i = 0; !err && i < self->n; i++)
        err = self->list[i].fn(self->list[i].ctx, out);
    pthread_mutex_unlock(&self->mutex);
    return err;
}
