/*  ru_buf.c - growable byte buffer with a sticky allocation-failure flag. */
#include "ruche/ru_buf.h"

#include <stdlib.h>
#include <string.h>

void
ru_buf_init(ru_buf_t *self)
{
    memset(self, 0, sizeof *self);
}

void
ru_buf_fini(ru_buf_t *self)
{
    free(self->data);
    ru_buf_init(self);
}

void
ru_buf_reset(ru_buf_t *self)
{
    self->len = 0;
    self->failed = 0;
}

void
ru_buf_truncate(ru_buf_t *self, size_t len)
{
    if (len < self->len)
        self->len = len;
}

void
ru_buf_append(ru_buf_t *self, const void *bytes, size_t len)
{
    if (self->failed || len == 0)
        return;
    if (len > self->cap - self->len) {
        size_t cap = self->cap ? self->cap : 256;
        while (cap - self->len < len) {
            if (cap > SIZE_MAX / 2) {
                self->failed = 1;
                return;
            }
            cap *= 2;
        }
        uint8_t *data = realloc(self->data, cap);
        if (!data) {
            self->failed = 1;
            return;
        }
        self->data = data;
        self->cap = cap;
    }
    memcpy(self->data + self->len, bytes, len);
    self->len += len;
}

ru_err
ru_buf_status(const ru_buf_t *self)
{
    return self->failed ? RU_E_NOMEM : RU_OK;
}
