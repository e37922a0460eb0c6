/*  ru_mp.h - strict MessagePack reading, and msgpack-c packing into ru_buf.
 *
 *  Writing goes through msgpack-c's packer, which always picks the shortest
 *  encoding. Reading does not use msgpack-c's unpacker: that one builds a
 *  tree of objects in a zone before anything can be checked. ru_mp_t is a
 *  cursor over untrusted bytes instead. It reads one value at a time into
 *  the caller's variables, never allocates, checks every length against the
 *  bytes left and against the caller's maximum before handing out a view,
 *  and refuses what the protocol never produces: a value that is not in its
 *  shortest encoding (RU_E_NONCANONICAL) or of another type (RU_E_TYPE).
 *  Because of that, a decoded message re-encodes to the very same bytes.
 *
 *  Views (ru_mp_bin, ru_mp_str) point into the buffer being read and live
 *  as long as it does. On error the cursor is left where it was.
 */
#ifndef RU_MP_H
#define RU_MP_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "ruche/ru_buf.h"
#include "ruche/ru_error.h"

typedef struct {
    const uint8_t *p;
    const uint8_t *end;
} ru_mp_t;

void ru_mp_init(ru_mp_t *self, const uint8_t *bytes, size_t len);
/*  Bytes not read yet. */
size_t ru_mp_left(const ru_mp_t *self);
/*  RU_E_TRAILING unless every byte has been read. */
RU_MUST_CHECK ru_err ru_mp_end(const ru_mp_t *self);

/*  An array or map header; its element count in *n. */
RU_MUST_CHECK ru_err ru_mp_array(ru_mp_t *self, uint32_t *n);
RU_MUST_CHECK ru_err ru_mp_map(ru_mp_t *self, uint32_t *n);
/*  An array header whose count must be exactly n (else RU_E_TYPE). */
RU_MUST_CHECK ru_err ru_mp_array_of(ru_mp_t *self, uint32_t n);
/*  A non-negative integer. */
RU_MUST_CHECK ru_err ru_mp_uint(ru_mp_t *self, uint64_t *v);
/*  nil: ru_mp_nil consumes it; ru_mp_peek_nil only looks. */
RU_MUST_CHECK ru_err ru_mp_nil(ru_mp_t *self);
int ru_mp_peek_nil(const ru_mp_t *self);
/*  A bin of at most max bytes (else RU_E_TOO_BIG): a view in *bytes. */
RU_MUST_CHECK ru_err ru_mp_bin(ru_mp_t *self, const uint8_t **bytes, uint32_t *len, uint32_t max);
/*  A bin of exactly len bytes (else RU_E_TYPE), copied into out. */
RU_MUST_CHECK ru_err ru_mp_bin_exact(ru_mp_t *self, uint8_t *out, uint32_t len);
/*  A str of at most max bytes (else RU_E_TOO_BIG): a view, not checked for
 *  UTF-8 (see ru_text). */
RU_MUST_CHECK ru_err ru_mp_str(ru_mp_t *self, const char **str, uint32_t *len, uint32_t max);

/*  Sets up a msgpack-c packer that appends to buf (see ru_buf_status). */
void ru_mp_packer_init(msgpack_packer *pk, ru_buf_t *buf);

#endif
