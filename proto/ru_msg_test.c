/*  ru_msg_test.c - replication messages: each type round-trips to identical
 *  bytes, batches carry envelopes untouched, and limits, versions, types
 *  and trailing bytes are refused with their errors. The blob messages
 *  (want, chunk, lack) round-trip, and a chunk's numbers are checked on
 *  both sides: its bytes within the blob, at most one chunk's worth.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "ruche/ru_msg.h"

static ru_key_t *s_key;

static int
s_setup(void **state)
{
    (void) state;
    return ru_key_generate(&s_key) ? -1 : 0;
}

static int
s_teardown(void **state)
{
    (void) state;
    ru_key_destroy(&s_key);
    return 0;
}

/*  A signed post with the given seq, appended to out. */
static void
s_envelope(uint64_t seq, ru_buf_t *out)
{
    ru_update_t u;
    ru_update_init(&u);
    memcpy(u.origin, ru_key_public(s_key), RU_KEY_BYTES);
    u.seq = seq;
    memset(u.prev, seq == 1 ? 0 : 0x5a, RU_HASH_BYTES);
    u.hlc = (RU_MIN_HLC_MS << 16) + seq;
    u.author = (ru_str_t){"carol", 5};
    u.kind = RU_KIND_POST;
    u.text = (ru_str_t){"hello", 5};
    assert_int_equal(ru_update_encode(&u, s_key, out), RU_OK);
    ru_update_fini(&u);
}

static void
s_clock(ru_clock_t *c, int entries)
{
    ru_clock_init(c);
    for (int i = 0; i < entries; i++) {
        uint8_t origin[RU_KEY_BYTES];
        memset(origin, i + 1, sizeof origin);
        assert_int_equal(ru_clock_set(c, origin, (uint64_t) 1000 * (uint64_t) i + 1), RU_OK);
    }
}

/*  Decodes buf, expecting a message of the given type. */
static void
s_decode(const ru_buf_t *buf, ru_msg_type type, ru_msg_t *msg)
{
    assert_int_equal(ru_msg_decode(buf->data, buf->len, msg), RU_OK);
    assert_int_equal(msg->type, type);
}

static void
s_assert_bytes(const ru_buf_t *a, const ru_buf_t *b)
{
    assert_int_equal(a->len, b->len);
    assert_memory_equal(a->data, b->data, a->len);
}

static void
test_clock_messages(void **state)
{
    (void) state;
    ru_clock_t clock;
    s_clock(&clock, 5);
    uint8_t digest[RU_HASH_BYTES];
    memset(digest, 0xd1, sizeof digest);
    ru_buf_t a, b;
    ru_buf_init(&a);
    ru_buf_init(&b);
    ru_msg_t m;
    ru_msg_init(&m);

    assert_int_equal(ru_msg_encode_hello(&clock, 8, &a), RU_OK);
    s_decode(&a, RU_MSG_HELLO, &m);
    assert_int_equal(ru_clock_compare(&m.clock, &clock), RU_CLOCK_EQUAL);
    assert_int_equal(m.credit, 8);
    assert_int_equal(ru_msg_encode_hello(&m.clock, m.credit, &b), RU_OK);
    s_assert_bytes(&a, &b);

    ru_buf_reset(&a);
    ru_buf_reset(&b);
    assert_int_equal(ru_msg_encode_done(&clock, &a), RU_OK);
    s_decode(&a, RU_MSG_DONE, &m);
    assert_int_equal(ru_clock_compare(&m.clock, &clock), RU_CLOCK_EQUAL);
    assert_int_equal(ru_msg_encode_done(&m.clock, &b), RU_OK);
    s_assert_bytes(&a, &b);

    ru_buf_reset(&a);
    ru_buf_reset(&b);
    assert_int_equal(ru_msg_encode_heartbeat(&clock, UINT64_MAX, digest, &a), RU_OK);
    s_decode(&a, RU_MSG_HEARTBEAT, &m);
    assert_int_equal(m.hlc, UINT64_MAX);
    assert_memory_equal(m.digest, digest, RU_HASH_BYTES);
    assert_int_equal(ru_msg_encode_heartbeat(&m.clock, m.hlc, m.digest, &b), RU_OK);
    s_assert_bytes(&a, &b);

    ru_buf_reset(&a);
    assert_int_equal(ru_msg_encode_credit(RU_MAX_CREDIT, &a), RU_OK);
    s_decode(&a, RU_MSG_CREDIT, &m);
    assert_int_equal(m.credit, RU_MAX_CREDIT);
    assert_string_equal(ru_msg_type_name(m.type), "credit");

    ru_msg_fini(&m);
    ru_buf_fini(&a);
    ru_buf_fini(&b);
    ru_clock_fini(&clock);
}

static void
test_update_and_batch_carry_envelopes(void **state)
{
    (void) state;
    ru_buf_t e1, e2, msg, again;
    ru_buf_init(&e1);
    ru_buf_init(&e2);
    ru_buf_init(&msg);
    ru_buf_init(&again);
    s_envelope(1, &e1);
    s_envelope(2, &e2);
    ru_msg_t m;
    ru_msg_init(&m);

    assert_int_equal(ru_msg_encode_update((ru_bytes_t){e1.data, e1.len}, &msg), RU_OK);
    s_decode(&msg, RU_MSG_UPDATE, &m);
    assert_int_equal(m.n_updates, 1);
    assert_int_equal(m.updates[0].wire_len, e1.len);
    assert_memory_equal(m.updates[0].wire, e1.data, e1.len);
    assert_int_equal(ru_envelope_verify(&m.updates[0]), RU_OK);

    ru_bytes_t both[] = {{e1.data, e1.len}, {e2.data, e2.len}};
    ru_buf_reset(&msg);
    assert_int_equal(ru_msg_encode_batch(both, 2, &msg), RU_OK);
    s_decode(&msg, RU_MSG_BATCH, &m);
    assert_int_equal(m.n_updates, 2);
    ru_bytes_t spans[2];
    for (int i = 0; i < 2; i++) {
        assert_memory_equal(m.updates[i].wire, both[i].ptr, both[i].len);
        assert_int_equal(ru_envelope_verify(&m.updates[i]), RU_OK);
        spans[i] = (ru_bytes_t){m.updates[i].wire, m.updates[i].wire_len};
    }
    assert_int_equal(ru_msg_encode_batch(spans, 2, &again), RU_OK);
    s_assert_bytes(&msg, &again);

    ru_msg_fini(&m);
    ru_buf_fini(&e1);
    ru_buf_fini(&e2);
    ru_buf_fini(&msg);
    ru_buf_fini(&again);
}

static void
test_batch_limits(void **state)
{
    (void) state;
    ru_buf_t e, msg;
    ru_buf_init(&e);
    ru_buf_init(&msg);
    s_envelope(1, &e);
    ru_bytes_t many[RU_MAX_BATCH + 1];
    for (int i = 0; i <= RU_MAX_BATCH; i++)
        many[i] = (ru_bytes_t){e.data, e.len};
    assert_int_equal(ru_msg_encode_batch(many, 0, &msg), RU_E_RANGE);
    assert_int_equal(ru_msg_encode_batch(many, RU_MAX_BATCH + 1, &msg), RU_E_TOO_MANY);
    assert_int_equal(msg.len, 0);
    ru_bytes_t huge = {e.data, RU_MAX_BATCH_BYTES + 1}; /* size check only, never read */
    assert_int_equal(ru_msg_encode_batch(&huge, 1, &msg), RU_E_TOO_BIG);
    assert_int_equal(ru_msg_encode_batch(many, RU_MAX_BATCH, &msg), RU_OK);
    ru_msg_t m;
    ru_msg_init(&m);
    assert_int_equal(ru_msg_decode(msg.data, msg.len, &m), RU_OK);
    assert_int_equal(m.n_updates, RU_MAX_BATCH);
    ru_msg_fini(&m);
    /* the decoder's side: announce 257 envelopes */
    uint8_t too_many[6 + RU_MAX_BATCH + 1] = {0x93, 0x01, 0x03, 0xdc, 0x01, 0x01};
    assert_int_equal(ru_msg_decode(too_many, sizeof too_many, &m), RU_E_TOO_MANY);
    const uint8_t empty[] = {0x93, 0x01, 0x03, 0x90};
    assert_int_equal(ru_msg_decode(empty, sizeof empty, &m), RU_E_RANGE);
    ru_buf_fini(&e);
    ru_buf_fini(&msg);
}

static void
test_refusals(void **state)
{
    (void) state;
    static const struct {
        uint8_t bytes[8];
        size_t len;
        ru_err err;
    } bad[] = {
        {{0x93, 0x02, 0x06, 0x01}, 4, RU_E_VERSION},
        {{0x93, 0x01, 0x0a, 0x01}, 4, RU_E_MSGTYPE}, /* type 10 */
        {{0x93, 0x01, 0x00, 0x01}, 4, RU_E_MSGTYPE},
        {{0x94, 0x01, 0x06, 0x01, 0x01}, 5, RU_E_TYPE}, /* credit with a field too many */
        {{0x93, 0x01, 0x06, 0x00}, 4, RU_E_RANGE},      /* credit 0 */
        {{0x93, 0x01, 0x06, 0x41}, 4, RU_E_RANGE},      /* credit 65 */
        {{0x93, 0x01, 0x06, 0x01, 0x00}, 5, RU_E_TRAILING},
        {{0x93, 0x01, 0x06}, 3, RU_E_TRUNCATED},
        {{0x91, 0x01}, 2, RU_E_TYPE},
        {{0x81, 0x01, 0x01}, 3, RU_E_TYPE},
        {{0x93, 0x01, 0xcc, 0x06, 0x01}, 5, RU_E_NONCANONICAL},
        {{0}, 0, RU_E_TRUNCATED},
    };
    ru_msg_t m;
    ru_msg_init(&m);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ru_msg_decode(bad[i].bytes, bad[i].len, &m), bad[i].err);
    ru_buf_t b;
    ru_buf_init(&b);
    ru_clock_t clock;
    s_clock(&clock, 1);
    assert_int_equal(ru_msg_encode_hello(&clock, 0, &b), RU_E_RANGE);
    assert_int_equal(ru_msg_encode_credit(RU_MAX_CREDIT + 1, &b), RU_E_RANGE);
    assert_int_equal(b.len, 0);
    uint8_t *big = calloc(1, RU_MAX_MESSAGE + 1);
    assert_int_equal(ru_msg_decode(big, RU_MAX_MESSAGE + 1, &m), RU_E_TOO_BIG);
    free(big);
    ru_clock_fini(&clock);
    ru_buf_fini(&b);
    ru_msg_fini(&m);
}

/*  Encodes, decodes and re-encodes: the same bytes. */
static void
s_again(const ru_buf_t *wire, ru_msg_t *msg)
{
    assert_int_equal(ru_msg_decode(wire->data, wire->len, msg), RU_OK);
    ru_buf_t again;
    ru_buf_init(&again);
    if (msg->type == RU_MSG_WANT)
        assert_int_equal(ru_msg_encode_want(msg->blob, msg->offset, msg->credit, &again), RU_OK);
    else if (msg->type == RU_MSG_CHUNK)
        assert_int_equal(ru_msg_encode_chunk(msg->blob, msg->blob_size, msg->offset,
                                             msg->data.ptr, msg->data.len, &again),
                         RU_OK);
    else
        assert_int_equal(ru_msg_encode_lack(msg->blob, &again), RU_OK);
    assert_int_equal(again.len, wire->len);
    assert_memory_equal(again.data, wire->data, wire->len);
    ru_buf_fini(&again);
}

static void
test_blob_messages(void **state)
{
    (void) state;
    uint8_t hash[RU_HASH_BYTES];
    memset(hash, 0x5a, sizeof hash);
    uint8_t *data = malloc(RU_BLOB_CHUNK + 1);
    memset(data, 0xc3, RU_BLOB_CHUNK + 1);
    ru_buf_t wire;
    ru_buf_init(&wire);
    ru_msg_t msg;
    ru_msg_init(&msg);
    assert_int_equal(ru_msg_encode_want(hash, 3 * RU_BLOB_CHUNK, RU_MAX_WANT, &wire), RU_OK);
    s_again(&wire, &msg);
    assert_int_equal(msg.type, RU_MSG_WANT);
    assert_int_equal(msg.offset, 3 * RU_BLOB_CHUNK);
    assert_int_equal(msg.credit, RU_MAX_WANT);
    assert_memory_equal(msg.blob, hash, RU_HASH_BYTES);
    ru_buf_reset(&wire);
    assert_int_equal(ru_msg_encode_chunk(hash, 5000000, RU_BLOB_CHUNK, data, RU_BLOB_CHUNK, &wire),
                     RU_OK);
    assert_true(wire.len <= RU_MAX_MESSAGE);
    s_again(&wire, &msg);
    assert_int_equal(msg.type, RU_MSG_CHUNK);
    assert_int_equal(msg.blob_size, 5000000);
    assert_int_equal(msg.data.len, RU_BLOB_CHUNK);
    assert_ptr_equal(msg.data.ptr, wire.data + wire.len - RU_BLOB_CHUNK); /* a view */
    ru_buf_reset(&wire);
    assert_int_equal(ru_msg_encode_lack(hash, &wire), RU_OK);
    s_again(&wire, &msg);
    assert_int_equal(msg.type, RU_MSG_LACK);

    ru_buf_reset(&wire);
    assert_int_equal(ru_msg_encode_want(hash, 0, 0, &wire), RU_E_RANGE);
    assert_int_equal(ru_msg_encode_want(hash, 0, RU_MAX_WANT + 1, &wire), RU_E_RANGE);
    assert_int_equal(ru_msg_encode_chunk(hash, 10, 0, data, 11, &wire), RU_E_RANGE); /* past */
    assert_int_equal(ru_msg_encode_chunk(hash, 10, 10, data, 1, &wire), RU_E_RANGE);
    assert_int_equal(ru_msg_encode_chunk(hash, 10, 0, data, 0, &wire), RU_E_RANGE);
    assert_int_equal(ru_msg_encode_chunk(hash, 2 * RU_BLOB_CHUNK, 0, data, RU_BLOB_CHUNK + 1,
                                         &wire),
                     RU_E_RANGE);
    assert_int_equal(ru_msg_encode_chunk(hash, RU_MAX_BLOB_SIZE + 1, 0, data, 1, &wire),
                     RU_E_RANGE);
    assert_int_equal(wire.len, 0);
    /* a chunk whose bytes run past the size it gives, made by hand */
    static const uint8_t head[] = {0x96, 0x01, 0x08, 0xc4, 0x20};
    ru_buf_append(&wire, head, sizeof head);
    ru_buf_append(&wire, hash, sizeof hash);
    static const uint8_t rest[] = {0x02, 0x00, 0xc4, 0x03, 'a', 'b', 'c'};
    ru_buf_append(&wire, rest, sizeof rest);
    assert_int_equal(ru_msg_decode(wire.data, wire.len, &msg), RU_E_RANGE);
    ru_msg_fini(&msg);
    ru_buf_fini(&wire);
    free(data);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock_messages),
        cmocka_unit_test(test_update_and_batch_carry_envelopes),
        cmocka_unit_test(test_batch_limits),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_blob_messages),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
