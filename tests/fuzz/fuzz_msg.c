/*  fuzz_msg.c - libFuzzer target for the decoder of replication messages.
 *
 *  The decoder accepts only canonical encodings, so for every message it
 *  accepts, encoding the decoded message again must give back the input
 *  byte for byte: update and batch messages from the envelopes' wire
 *  spans, the others from their fields. Each envelope span must also parse
 *  on its own, as the verification workers will parse it. A blob message
 *  keeps to its ranges (a want's credit and offset; a chunk's bytes, a
 *  view into the input, inside its blob and at most one chunk's worth),
 *  which the encoders check again. Any breach aborts, which libFuzzer
 *  records as a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "ruche/ru_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef ru_err (*s_encoder)(const ru_msg_t *msg, ru_buf_t *out);

static ru_err
s_encode_update(const ru_msg_t *msg, ru_buf_t *out)
{
    fuzz_require(msg->n_updates == 1, "an update message holds one envelope");
    ru_bytes_t env = {msg->updates[0].wire, msg->updates[0].wire_len};
    return ru_msg_encode_update(env, out);
}

static ru_err
s_encode_hello(const ru_msg_t *msg, ru_buf_t *out)
{
    return ru_msg_encode_hello(&msg->clock, msg->credit, out);
}

static ru_err
s_encode_batch(const ru_msg_t *msg, ru_buf_t *out)
{
    fuzz_require(msg->n_updates >= 1 && msg->n_updates <= RU_MAX_BATCH,
                 "a batch holds 1..RU_MAX_BATCH envelopes");
    ru_bytes_t *spans = calloc(msg->n_updates, sizeof *spans);
    fuzz_require(spans != NULL, "allocate the envelope spans");
    for (uint32_t i = 0; i < msg->n_updates; i++) {
        spans[i].ptr = msg->updates[i].wire;
        spans[i].len = msg->updates[i].wire_len;
    }
    ru_err err = ru_msg_encode_batch(spans, msg->n_updates, out);
    free(spans);
    return err;
}

static ru_err
s_encode_done(const ru_msg_t *msg, ru_buf_t *out)
{
    return ru_msg_encode_done(&msg->clock, out);
}

static ru_err
s_encode_heartbeat(const ru_msg_t *msg, ru_buf_t *out)
{
    return ru_msg_encode_heartbeat(&msg->clock, msg->hlc, msg->digest, out);
}

static ru_err
s_encode_credit(const ru_msg_t *msg, ru_buf_t *out)
{
    return ru_msg_encode_credit(msg->credit, out);
}

static ru_err
s_encode_want(const ru_msg_t *msg, ru_buf_t *out)
{
    return ru_msg_encode_want(msg->blob, msg->offset, msg->credit, out);
}

static ru_err
s_encode_chunk(const ru_msg_t *msg, ru_buf_t *out)
{
    return ru_msg_encode_chunk(msg->blob, msg->blob_size, msg->offset, msg->data.ptr, msg->data.len,
                               out);
}

static ru_err
s_encode_lack(const ru_msg_t *msg, ru_buf_t *out)
{
    return ru_msg_encode_lack(msg->blob, out);
}

static const s_encoder s_encoders[RU_MSG_MAX + 1] = {
    [RU_MSG_UPDATE] = s_encode_update,       [RU_MSG_HELLO] = s_encode_hello,
    [RU_MSG_BATCH] = s_encode_batch,         [RU_MSG_DONE] = s_encode_done,
    [RU_MSG_HEARTBEAT] = s_encode_heartbeat, [RU_MSG_CREDIT] = s_encode_credit,
    [RU_MSG_WANT] = s_encode_want,           [RU_MSG_CHUNK] = s_encode_chunk,
    [RU_MSG_LACK] = s_encode_lack,
};

/*  The ranges of PROTOCOL.md 8.3 for the blob messages; the data of a
 *  chunk is a view into the message. */
static void
s_check_blob(const ru_msg_t *msg, const uint8_t *data, size_t size)
{
    if (msg->type == RU_MSG_WANT)
        fuzz_require(msg->credit >= 1 && msg->credit <= RU_MAX_WANT &&
                         msg->offset < RU_MAX_BLOB_SIZE,
                     "a want's credit and offset in range");
    if (msg->type != RU_MSG_CHUNK) {
        fuzz_require(msg->data.ptr == NULL && msg->data.len == 0, "data only in a chunk");
        return;
    }
    fuzz_require(msg->blob_size >= 1 && msg->blob_size <= RU_MAX_BLOB_SIZE,
                 "a chunk's blob size in range");
    fuzz_require(msg->data.len >= 1 && msg->data.len <= RU_BLOB_CHUNK,
                 "a chunk holds 1..RU_BLOB_CHUNK bytes");
    fuzz_require(msg->offset < msg->blob_size && msg->data.len <= msg->blob_size - msg->offset,
                 "a chunk's bytes lie within its blob");
    fuzz_check_inside(msg->data.ptr, msg->data.len, data, size,
                      "a chunk's bytes inside the message");
    fuzz_require(msg->data.ptr + msg->data.len == data + size, "a chunk's bytes end the message");
}

/*  Every envelope is a view into the message and parses on its own into
 *  the same views. */
static void
s_check_envelopes(const ru_msg_t *msg, const uint8_t *data, size_t size)
{
    for (uint32_t i = 0; i < msg->n_updates; i++) {
        const ru_envelope_t *e = &msg->updates[i];
        ru_envelope_t alone;
        fuzz_check_inside(e->wire, e->wire_len, data, size, "envelope inside the message");
        fuzz_require(ru_envelope_parse(e->wire, e->wire_len, &alone) == RU_OK,
                     "an envelope of a message parses alone");
        fuzz_require(alone.payload == e->payload && alone.payload_len == e->payload_len &&
                         alone.sig == e->sig && alone.origin == e->origin,
                     "an envelope parses alone into the same views");
    }
}

static void
s_check_message(const ru_msg_t *msg, const uint8_t *data, size_t size)
{
    fuzz_require(ru_msg_type_name(msg->type) != NULL, "known message type");
    fuzz_check_clock(&msg->clock);
    if (msg->type == RU_MSG_HELLO || msg->type == RU_MSG_CREDIT)
        fuzz_require(msg->credit >= 1 && msg->credit <= RU_MAX_CREDIT, "credit in range");
    s_check_envelopes(msg, data, size);
    s_check_blob(msg, data, size);
    ru_buf_t out;
    ru_buf_init(&out);
    fuzz_require(s_encoders[msg->type](msg, &out) == RU_OK, "a decoded message encodes");
    fuzz_require(out.len == size && memcmp(out.data, data, size) == 0,
                 "decode then encode gives the input back");
    ru_buf_fini(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ru_msg_t msg;
    ru_msg_init(&msg);
    if (ru_msg_decode(data, size, &msg) == RU_OK)
        s_check_message(&msg, data, size);
    ru_msg_fini(&msg);
    return 0;
}
