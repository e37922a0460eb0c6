/*  ru_buf.h - a growable byte buffer, the output of every encoder.
 *
 *  A caller-owned struct: ru_buf_init() before use, ru_buf_fini() after.
 *  Appends never fail loudly one by one: an allocation failure sets a sticky
 *  flag that ru_buf_status() reports once, at the end of an encoding, so
 *  encoders stay straight-line code.
 */
#ifndef RU_BUF_H
#define RU_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "ruche/ru_error.h"

typedef struct {
    uint8_t *data; /* owned; NULL until the first append */
    size_t len;
    size_t cap;
    int failed; /* an append could not allocate */
} ru_buf_t;

void ru_buf_init(ru_buf_t *self);
/*  Frees the bytes and leaves the buffer empty and usable again. */
void ru_buf_fini(ru_buf_t *self);
/*  Empties the buffer, keeps its memory, clears the failure flag. */
void ru_buf_reset(ru_buf_t *self);
/*  Cuts the buffer back to its first len bytes (len <= its length): what
 *  was appended since it had len bytes is gone; the failure flag stays. */
void ru_buf_truncate(ru_buf_t *self, size_t len);
/*  Appends len bytes; on failure the flag is set and nothing is appended. */
void ru_buf_append(ru_buf_t *self, const void *bytes, size_t len);
/*  RU_E_NOMEM if any append since init/reset failed, else RU_OK. */
RU_MUST_CHECK ru_err ru_buf_status(const ru_buf_t *self);

#endif
