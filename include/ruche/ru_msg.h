/*  ru_msg.h - the messages nodes exchange over ZeroMQ (PROTOCOL.md,
 *  "Messages").
 *
 *    update     one signed update, live on the PUB socket
 *    hello      "this is my clock; you may send me `credit` batches"
 *    batch      up to RU_MAX_BATCH signed updates the asker lacks
 *    credit     "you may send me `credit` more batches"
 *    done       "that was all; this is my clock"
 *    heartbeat  the sender's clock, HLC time and digest
 *    want       "send me up to `credit` chunks of this blob from offset"
 *    chunk      a piece of a blob: its hash, its whole size, the offset
 *    lack       "I do not hold this blob"
 *
 *  Every message is a msgpack array [version, type, fields...]. Envelopes
 *  inside update and batch messages are the origin's bytes, spliced in
 *  unchanged: they are never re-encoded, so their signatures stay valid.
 *
 *  ru_msg_t is caller-owned (ru_msg_init/fini). After ru_msg_decode its
 *  envelopes are views into the message bytes; the envelope array and the
 *  clock are owned and freed by ru_msg_fini. Envelope signatures are not
 *  checked here: that is the verification workers' job.
 */
#ifndef RU_MSG_H
#define RU_MSG_H

#include <stdint.h>

#include "ruche/ru_buf.h"
#include "ruche/ru_clock.h"
#include "ruche/ru_error.h"
#include "ruche/ru_update.h"

typedef enum {
    RU_MSG_UPDATE = 1,
    RU_MSG_HELLO = 2,
    RU_MSG_BATCH = 3,
    RU_MSG_DONE = 4,
    RU_MSG_HEARTBEAT = 5,
    RU_MSG_CREDIT = 6,
    RU_MSG_WANT = 7,
    RU_MSG_CHUNK = 8,
    RU_MSG_LACK = 9,
    RU_MSG_MAX = RU_MSG_LACK
} ru_msg_type;

/*  A byte string held elsewhere. */
typedef struct {
    const uint8_t *ptr;
    size_t len;
} ru_bytes_t;

typedef struct {
    ru_msg_type type;
    ru_clock_t clock;                 /* hello, done, heartbeat */
    uint32_t credit;                  /* hello, credit: 1..RU_MAX_CREDIT; want: 1..RU_MAX_WANT */
    uint64_t hlc;                     /* heartbeat */
    uint8_t digest[RU_HASH_BYTES];    /* heartbeat: digest of the heads */
    ru_envelope_t *updates;           /* update (one), batch (1..RU_MAX_BATCH) */
    uint32_t n_updates;
    uint8_t blob[RU_HASH_BYTES]; /* want, chunk, lack: the blob's hash */
    uint64_t blob_size;          /* chunk: the blob's size, 1..RU_MAX_BLOB_SIZE */
    uint64_t offset;             /* want, chunk: where the bytes start */
    ru_bytes_t data;             /* chunk: 1..RU_BLOB_CHUNK bytes, a view */
} ru_msg_t;

void ru_msg_init(ru_msg_t *self);
void ru_msg_fini(ru_msg_t *self);

/*  Encoders append one message to out. Envelopes must be whole envelopes
 *  (as made by ru_update_encode or checked by ru_envelope_parse). */
RU_MUST_CHECK ru_err ru_msg_encode_update(ru_bytes_t envelope, ru_buf_t *out);
RU_MUST_CHECK ru_err ru_msg_encode_hello(const ru_clock_t *clock, uint32_t credit, ru_buf_t *out);
/*  RU_E_TOO_MANY past RU_MAX_BATCH envelopes, RU_E_TOO_BIG past
 *  RU_MAX_BATCH_BYTES, RU_E_RANGE for none. */
RU_MUST_CHECK ru_err ru_msg_encode_batch(const ru_bytes_t *envelopes, uint32_t n, ru_buf_t *out);
RU_MUST_CHECK ru_err ru_msg_encode_credit(uint32_t credit, ru_buf_t *out);
RU_MUST_CHECK ru_err ru_msg_encode_done(const ru_clock_t *clock, ru_buf_t *out);
RU_MUST_CHECK ru_err ru_msg_encode_heartbeat(const ru_clock_t *clock, uint64_t hlc,
                                             const uint8_t *digest, ru_buf_t *out);

/*  A want: credit (1..RU_MAX_WANT) chunks of blob hash from offset. A
 *  chunk: len bytes (1..RU_BLOB_CHUNK, within size) of blob hash, of size
 *  bytes in all, from offset. A lack: hash is not held. RU_E_RANGE for a
 *  value out of its range. */
RU_MUST_CHECK ru_err ru_msg_encode_want(const uint8_t *hash, uint64_t offset, uint32_t credit,
                                        ru_buf_t *out);
RU_MUST_CHECK ru_err ru_msg_encode_chunk(const uint8_t *hash, uint64_t size, uint64_t offset,
                                         const uint8_t *data, size_t len, ru_buf_t *out);
RU_MUST_CHECK ru_err ru_msg_encode_lack(const uint8_t *hash, ru_buf_t *out);

/*  The digest a heartbeat carries (PROTOCOL.md 8.2): BLAKE2b-256 of
 *  RU_MSG_DIGEST_DOMAIN followed by heads, n records of RU_MSG_HEAD_BYTES
 *  in ascending order of origin, each the origin, its clock entry (8 bytes,
 *  big-endian) and the hash of its update at that seq. Equal digests mean
 *  the same updates applied: the hash chain pins every earlier update. */
#define RU_MSG_DIGEST_DOMAIN "ruche/digest/v1\n"
#define RU_MSG_HEAD_BYTES (RU_KEY_BYTES + 8 + RU_HASH_BYTES)
void ru_msg_digest(const uint8_t *heads, size_t n, uint8_t *digest);

/*  Decodes exactly len bytes as one message into msg (overwritten). */
RU_MUST_CHECK ru_err ru_msg_decode(const uint8_t *bytes, size_t len, ru_msg_t *msg);

/*  "update", "hello" ...; NULL for unknown types. */
const char *ru_msg_type_name(ru_msg_type type);

#endif
