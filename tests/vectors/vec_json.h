/*  vec_json.h - the JSON form of updates and messages in proto/vectors.json,
 *  shared by the program that writes the vectors (mkvectors) and the test
 *  that holds the C code to them (test_vectors).
 *
 *  The JSON shape is described in proto/PROTOCOL.md, section "Test
 *  vectors". Writers turn decoded structures into that shape; readers are
 *  strict: a missing member, an extra member or a value of the wrong JSON
 *  type is RU_E_INVALID, with a line on stderr naming the member, so a
 *  damaged vector file fails the test instead of skipping a check.
 */
#ifndef VEC_JSON_H
#define VEC_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "ruche/ru_buf.h"
#include "ruche/ru_error.h"
#include "ruche/ru_msg.h"
#include "ruche/ru_update.h"

/*  A new JSON string: the lowercase hex of n bytes. */
json_t *vec_json_hex(const uint8_t *bytes, size_t n);
/*  Decodes the hex string hex, which must hold exactly n bytes, into out. */
RU_MUST_CHECK ru_err vec_json_unhex(const json_t *hex, uint8_t *out, size_t n);
/*  Decodes the hex string hex, of any length, and appends it to out. */
RU_MUST_CHECK ru_err vec_json_unhex_buf(const json_t *hex, ru_buf_t *out);

/*  Member key of object obj if it exists and has JSON type type; else NULL
 *  and a line on stderr. A borrowed reference. */
json_t *vec_json_get(const json_t *obj, const char *key, json_type type);
/*  Member key of obj as a non-negative integer (JSON integer). */
RU_MUST_CHECK ru_err vec_json_uint(const json_t *obj, const char *key, uint64_t *v);
/*  RU_E_INVALID unless obj has exactly n members (no stray ones). */
RU_MUST_CHECK ru_err vec_json_size(const json_t *obj, size_t n);

/*  A clock as [[origin hex, seq], ...] in wire order (a new reference). */
json_t *vec_json_from_clock(const ru_clock_t *clock);
/*  Adds the entries of the clock at member key of obj to clock. */
RU_MUST_CHECK ru_err vec_json_to_clock(const json_t *obj, const char *key, ru_clock_t *clock);

/*  The "fields" object of an update (a new reference). */
json_t *vec_json_from_update(const ru_update_t *u);
/*  Fills u, which must be initialized, from a "fields" object. Strings in u
 *  point into fields: keep it alive while u is used. */
RU_MUST_CHECK ru_err vec_json_to_update(const json_t *fields, ru_update_t *u);

/*  The "fields" object of a decoded message (a new reference). */
json_t *vec_json_from_msg(const ru_msg_t *msg);
/*  Encodes the message named type ("hello" ...) with "fields" into out. */
RU_MUST_CHECK ru_err vec_json_encode_msg(const char *type, const json_t *fields, ru_buf_t *out);
/*  The message type of a name, 0 if none. */
ru_msg_type vec_json_msg_type(const char *name);

#endif
