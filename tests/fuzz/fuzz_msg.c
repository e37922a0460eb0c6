/*  fuzz_msg.c - libFuzzer target for the decoder of replication messages.
 *
 *  The decoder accepts only canonical encodings, so for every message it
 *  accepts, encoding the decoded message again must give back the input
 *  byte for byte: update and batch messages from the envelopes' wire
 *  spans, the others from their fields. Each envelope span must also parse
 *  on its own, as the verification workers will parse it. Any breach
 *  aborts, which libFuzzer records as a crash.
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

static const s_encoder s_encoders[RU_MSG_MAX + 1] = {
    [RU_MSG_UPDATE] = s_encode_update,       [RU_MSG_HELLO] = s_encode_hello,
    [RU_MSG_BATCH] = s_encode_batch,         [RU_MSG_DONE] = s_encode_done,
    [RU_MSG_HEARTBEAT] = s_encode_heartbeat, [RU_MSG_CREDIT] = s_encode_credit,
};

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
