/*  test_vectors.c - holds the C implementation of the wire format to the
 *  frozen test vectors, proto/vectors.json (its path is the one argument).
 *
 *  For every key: the public key and its text form from the seed. For every
 *  update: the fields are encoded and signed again and must give the
 *  payload, signature, envelope and hash byte for byte; the envelope must
 *  open (parse, verify, decode) into the very same fields; prev must be the
 *  hash of the origin's previous update in the file; updates of payload
 *  versions 2 and 3 go through the same checks, so the encoder must choose
 *  the version the file has. For every message: the
 *  fields are encoded again and must give the bytes, which must decode into
 *  the fields (the blob messages too: a hash, an offset, a credit, a size,
 *  a chunk's bytes). For every invalid case: the named decoder must fail with
 *  exactly the named error. For every variant (an authentic update no
 *  honest node makes): as an update, outside the chains. For every
 *  sequence: a fresh node trusting the named keys (vec_node.c) takes the
 *  steps in order, each with the result, error and clock the file says,
 *  and ends with its digest. A vector with a missing, extra or mistyped
 *  member fails, so a damaged file cannot pass by skipping checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h> /* after the standard headers it needs */

#include "ruche/ru_msg.h"
#include "ruche/ru_text.h"
#include "ruche/ru_update.h"
#include "vec_json.h"
#include "vec_node.h"

static json_t *s_file;

/*  ---------------------------------------------------------------------
 *  Members that must be there
 */

static json_t *
s_member(const json_t *obj, const char *key, json_type type)
{
    json_t *v = vec_json_get(obj, key, type);
    if (!v)
        fail_msg("vector member \"%s\" is missing or of the wrong type", key);
    return v;
}

static const char *
s_text(const json_t *obj, const char *key)
{
    return json_string_value(s_member(obj, key, JSON_STRING));
}

/*  The non-empty array key of the file. */
static json_t *
s_list(const char *key)
{
    json_t *arr = s_member(s_file, key, JSON_ARRAY);
    if (json_array_size(arr) == 0)
        fail_msg("\"%s\" is empty", key);
    return arr;
}

static void
s_size(const json_t *obj, size_t n, const char *name)
{
    if (vec_json_size(obj, n))
        fail_msg("%s: wrong number of members", name);
}

/*  The bytes of hex member key, appended to out. */
static void
s_bytes(const json_t *obj, const char *key, ru_buf_t *out)
{
    if (vec_json_unhex_buf(s_member(obj, key, JSON_STRING), out))
        fail_msg("member \"%s\" is not lowercase hex", key);
}

static void
s_assert_hex(const json_t *obj, const char *key, const uint8_t *bytes, size_t len, const char *name)
{
    json_t *got = vec_json_hex(bytes, len);
    int same = json_equal(s_member(obj, key, JSON_STRING), got);
    json_decref(got);
    if (!same)
        fail_msg("%s: \"%s\" differs from what the C code makes", name, key);
}

static void
s_assert_json(const json_t *want, json_t *got, const char *name)
{
    int same = json_equal(want, got);
    if (!same) {
        char *text = json_dumps(got, JSON_COMPACT);
        (void) fprintf(stderr, "decoded: %.400s\n", text ? text : "?");
        free(text);
    }
    json_decref(got);
    if (!same)
        fail_msg("%s: decoding gives other fields than the vector's", name);
}

/*  The key named name, made from its seed in the file. */
static ru_key_t *
s_key(const char *name)
{
    size_t i;
    json_t *k;
    json_array_foreach(s_list("keys"), i, k)
    {
        if (strcmp(s_text(k, "name"), name) != 0)
            continue;
        uint8_t seed[RU_SEED_BYTES];
        ru_key_t *key = NULL;
        assert_int_equal(vec_json_unhex(s_member(k, "seed", JSON_STRING), seed, sizeof seed),
                         RU_OK);
        assert_int_equal(ru_key_from_seed(seed, &key), RU_OK);
        return key;
    }
    fail_msg("no key named %s", name);
    return NULL;
}

/*  ---------------------------------------------------------------------
 *  The file and its keys
 */

static void
test_header(void **state)
{
    (void) state;
    s_size(s_file, 10, "the file");
    assert_int_equal(json_integer_value(s_member(s_file, "version", JSON_INTEGER)),
                     RU_PROTO_VERSION);
    assert_string_equal(s_text(s_file, "domain"), RU_UPDATE_DOMAIN);
    assert_int_equal(strlen(RU_UPDATE_DOMAIN), 16);
    assert_string_equal(s_text(s_file, "domain_v2"), RU_UPDATE_DOMAIN_V2);
    assert_int_equal(strlen(RU_UPDATE_DOMAIN_V2), 16);
    assert_string_equal(s_text(s_file, "domain_v3"), RU_UPDATE_DOMAIN_V3);
    assert_int_equal(strlen(RU_UPDATE_DOMAIN_V3), 16);
}

static void
test_keys(void **state)
{
    (void) state;
    size_t i;
    json_t *k;
    json_array_foreach(s_list("keys"), i, k)
    {
        const char *name = s_text(k, "name");
        s_size(k, 4, name);
        ru_key_t *key = s_key(name);
        s_assert_hex(k, "public", ru_key_public(key), RU_KEY_BYTES, name);
        char text[RU_KEY_TEXT_SIZE];
        ru_b64_encode(text, ru_key_public(key), RU_KEY_BYTES);
        assert_string_equal(s_text(k, "public_text"), text);
        uint8_t back[RU_KEY_BYTES];
        assert_int_equal(ru_b64_decode(back, RU_KEY_BYTES, text, strlen(text)), RU_OK);
        assert_memory_equal(back, ru_key_public(key), RU_KEY_BYTES);
        ru_key_destroy(&key);
    }
}

/*  ---------------------------------------------------------------------
 *  Updates
 */

/*  The last update seen of each origin, to check the prev chains. */
typedef struct {
    uint8_t origin[RU_KEY_BYTES];
    uint64_t seq;
    uint8_t hash[RU_HASH_BYTES];
} s_link_t;

typedef struct {
    s_link_t v[16];
    size_t n;
} s_chains_t;

static void
s_check_chain(s_chains_t *chains, const ru_update_t *u, const uint8_t *hash, const char *name)
{
    static const uint8_t zero[RU_HASH_BYTES];
    s_link_t *link = NULL;
    for (size_t i = 0; i < chains->n; i++)
        if (memcmp(chains->v[i].origin, u->origin, RU_KEY_BYTES) == 0)
            link = &chains->v[i];
    if (!link) {
        if (u->seq != 1 || memcmp(u->prev, zero, RU_HASH_BYTES) != 0)
            fail_msg("%s: the first update of an origin must be seq 1, prev zero", name);
        assert_true(chains->n < sizeof chains->v / sizeof chains->v[0]);
        link = &chains->v[chains->n++];
        memcpy(link->origin, u->origin, RU_KEY_BYTES);
    } else if (u->seq != link->seq + 1 || memcmp(u->prev, link->hash, RU_HASH_BYTES) != 0) {
        fail_msg("%s: seq or prev do not follow the origin's previous update", name);
    }
    link->seq = u->seq;
    memcpy(link->hash, hash, RU_HASH_BYTES);
}

/*  Opens the vector's envelope and compares the result with its fields. */
static void
s_check_open(const json_t *vec, const char *name)
{
    ru_buf_t wire;
    ru_buf_init(&wire);
    s_bytes(vec, "envelope", &wire);
    ru_envelope_t env;
    ru_update_t u;
    ru_update_init(&u);
    ru_err err = ru_update_open(wire.data, wire.len, &env, &u);
    if (err)
        fail_msg("%s: does not open: %s", name, ru_err_name(err));
    s_assert_json(s_member(vec, "fields", JSON_OBJECT), vec_json_from_update(&u), name);
    ru_update_fini(&u);
    ru_buf_fini(&wire);
}

static void
s_check_update(const json_t *vec, s_chains_t *chains)
{
    const char *name = s_text(vec, "name");
    s_size(vec, 7, name);
    ru_key_t *key = s_key(s_text(vec, "key"));
    ru_update_t u;
    ru_update_init(&u);
    if (vec_json_to_update(s_member(vec, "fields", JSON_OBJECT), &u))
        fail_msg("%s: malformed fields", name);
    ru_buf_t wire;
    ru_buf_init(&wire);
    ru_err err = ru_update_encode(&u, key, &wire);
    if (err)
        fail_msg("%s: does not encode: %s", name, ru_err_name(err));
    ru_envelope_t env;
    assert_int_equal(ru_envelope_parse(wire.data, wire.len, &env), RU_OK);
    uint8_t hash[RU_HASH_BYTES];
    ru_update_hash(&env, hash);
    s_assert_hex(vec, "payload", env.payload, env.payload_len, name);
    s_assert_hex(vec, "signature", env.sig, RU_SIG_BYTES, name);
    s_assert_hex(vec, "envelope", wire.data, wire.len, name);
    s_assert_hex(vec, "hash", hash, RU_HASH_BYTES, name);
    if (chains)
        s_check_chain(chains, &u, hash, name);
    s_check_open(vec, name);
    ru_buf_fini(&wire);
    ru_update_fini(&u);
    ru_key_destroy(&key);
}

static void
test_updates(void **state)
{
    (void) state;
    s_chains_t chains = {.n = 0};
    size_t i;
    json_t *vec;
    json_array_foreach(s_list("updates"), i, vec)
    {
        s_check_update(vec, &chains);
    }
}

/*  Variants: updates as the others, outside the chains. */
static void
test_variants(void **state)
{
    (void) state;
    size_t i;
    json_t *vec;
    json_array_foreach(s_list("variants"), i, vec)
    {
        s_check_update(vec, NULL);
    }
}

/*  ---------------------------------------------------------------------
 *  Sequences: the node's modules take the steps as the file says
 */

/*  The envelope of the update or variant called name, appended to out. */
static void
s_named(const char *name, ru_buf_t *out)
{
    const char *lists[] = {"updates", "variants"};
    for (size_t l = 0; l < 2; l++) {
        size_t i;
        json_t *vec;
        json_array_foreach(s_list(lists[l]), i, vec)
        {
            if (strcmp(s_text(vec, "name"), name) == 0) {
                s_bytes(vec, "envelope", out);
                return;
            }
        }
    }
    fail_msg("no update or variant named %s", name);
}

static void
s_check_step(vec_node_t *node, const json_t *step, const char *name)
{
    const char *update = s_text(step, "update");
    json_t *error = json_object_get(step, "error");
    s_size(step, error ? 4 : 3, update);
    ru_buf_t wire;
    ru_buf_init(&wire);
    s_named(update, &wire);
    vec_outcome_t out;
    ru_clock_t clock;
    ru_clock_init(&clock);
    uint8_t digest[RU_HASH_BYTES];
    assert_int_equal(vec_node_feed(node, wire.data, wire.len, &out), RU_OK);
    assert_int_equal(vec_node_state(node, &clock, digest), RU_OK);
    if (strcmp(out.result, s_text(step, "result")) != 0 ||
        (error ? !out.error || strcmp(out.error, s_text(step, "error")) != 0 : out.error != NULL))
        fail_msg("%s: %s: %s %s, not as the file says", name, update, out.result,
                 out.error ? out.error : "");
    json_t *want = s_member(step, "clock", JSON_ARRAY), *got = vec_json_from_clock(&clock);
    int same = json_equal(want, got);
    json_decref(got);
    if (!same)
        fail_msg("%s: %s: the node's clock is not the file's", name, update);
    ru_clock_fini(&clock);
    ru_buf_fini(&wire);
}

static void
s_check_sequence(const json_t *vec)
{
    const char *name = s_text(vec, "name");
    s_size(vec, 4, name);
    uint8_t trust[VEC_NODE_MAX_TRUST][RU_KEY_BYTES];
    json_t *names = s_member(vec, "trust", JSON_ARRAY), *v;
    size_t i;
    assert_true(json_array_size(names) <= VEC_NODE_MAX_TRUST);
    json_array_foreach(names, i, v)
    {
        ru_key_t *key = s_key(json_string_value(v) ? json_string_value(v) : "");
        memcpy(trust[i], ru_key_public(key), RU_KEY_BYTES);
        ru_key_destroy(&key);
    }
    vec_node_t node;
    assert_int_equal(vec_node_open(&node, (const uint8_t(*)[RU_KEY_BYTES]) trust,
                                   (int) json_array_size(names)),
                     0);
    json_array_foreach(s_member(vec, "steps", JSON_ARRAY), i, v)
    {
        s_check_step(&node, v, name);
    }
    ru_clock_t clock;
    ru_clock_init(&clock);
    uint8_t digest[RU_HASH_BYTES];
    assert_int_equal(vec_node_state(&node, &clock, digest), RU_OK);
    s_assert_hex(vec, "digest", digest, RU_HASH_BYTES, name);
    ru_clock_fini(&clock);
    vec_node_close(&node);
}

static void
test_sequences(void **state)
{
    (void) state;
    size_t i;
    json_t *vec;
    json_array_foreach(s_list("sequences"), i, vec)
    {
        s_check_sequence(vec);
    }
}

/*  ---------------------------------------------------------------------
 *  Messages
 */

static void
s_check_message(const json_t *vec)
{
    const char *name = s_text(vec, "name");
    s_size(vec, 4, name);
    const json_t *fields = s_member(vec, "fields", JSON_OBJECT);
    ru_buf_t out;
    ru_buf_init(&out);
    ru_err err = vec_json_encode_msg(s_text(vec, "type"), fields, &out);
    if (err)
        fail_msg("%s: does not encode: %s", name, ru_err_name(err));
    s_assert_hex(vec, "bytes", out.data, out.len, name);
    ru_msg_t msg;
    ru_msg_init(&msg);
    err = ru_msg_decode(out.data, out.len, &msg);
    if (err)
        fail_msg("%s: does not decode: %s", name, ru_err_name(err));
    assert_string_equal(ru_msg_type_name(msg.type), s_text(vec, "type"));
    for (uint32_t i = 0; i < msg.n_updates; i++)
        assert_int_equal(ru_envelope_verify(&msg.updates[i]), RU_OK);
    s_assert_json(fields, vec_json_from_msg(&msg), name);
    ru_msg_fini(&msg);
    ru_buf_fini(&out);
}

static void
test_messages(void **state)
{
    (void) state;
    size_t i;
    json_t *vec;
    json_array_foreach(s_list("messages"), i, vec)
    {
        s_check_message(vec);
    }
}

/*  ---------------------------------------------------------------------
 *  Invalid input
 */

static void
s_check_invalid(const json_t *vec)
{
    const char *name = s_text(vec, "name");
    const char *decoder = s_text(vec, "decoder");
    s_size(vec, 4, name);
    ru_buf_t bytes;
    ru_buf_init(&bytes);
    s_bytes(vec, "bytes", &bytes);
    ru_err err;
    if (strcmp(decoder, "update") == 0) {
        ru_envelope_t env;
        ru_update_t u;
        ru_update_init(&u);
        err = ru_update_open(bytes.data, bytes.len, &env, &u);
        ru_update_fini(&u);
    } else if (strcmp(decoder, "message") == 0) {
        ru_msg_t msg;
        ru_msg_init(&msg);
        err = ru_msg_decode(bytes.data, bytes.len, &msg);
        ru_msg_fini(&msg);
    } else {
        fail_msg("%s: unknown decoder %s", name, decoder);
        return;
    }
    if (err == RU_OK || strcmp(ru_err_name(err), s_text(vec, "error")) != 0)
        fail_msg("%s: expected error %s, the decoder says %s", name, s_text(vec, "error"),
                 ru_err_name(err));
    ru_buf_fini(&bytes);
}

static void
test_invalid(void **state)
{
    (void) state;
    size_t i;
    json_t *vec;
    json_array_foreach(s_list("invalid"), i, vec)
    {
        s_check_invalid(vec);
    }
}

/*  ---------------------------------------------------------------------
 *  Coverage: the file exercises every kind, every kind in each payload
 *  version that gives it a body of its own (version 2: post, reply, edit
 *  and profile; version 3: profile), every message type, both
 *  decoders, refusals of each blob message (want, chunk, lack) and of the
 *  first type past them, and enough invalid input.
 */

/*  The message type of an invalid message vector of version 1 (its bytes
 *  start with a fixarray, 01 and the type as a positive fixint), else 0. */
static unsigned
s_invalid_type(const json_t *vec)
{
    const char *hex = s_text(vec, "bytes");
    if (strlen(hex) < 6 || hex[0] != '9' || strncmp(hex + 2, "01", 2) != 0)
        return 0;
    unsigned type = (unsigned) strtoul((char[]){hex[4], hex[5], 0}, NULL, 16);
    return type < 32 ? type : 0;
}

/*  The payload version of update vector vec: byte 1 of its payload. */
static unsigned
s_version(const json_t *vec)
{
    const char *hex = s_text(vec, "payload");
    assert_true(strlen(hex) >= 4);
    return (unsigned) strtoul((char[]){hex[2], hex[3], 0}, NULL, 16);
}

static void
test_coverage(void **state)
{
    (void) state;
    unsigned kinds = 0, kinds_v2 = 0, kinds_v3 = 0, types = 0, decoders = 0, refused = 0;
    size_t i;
    json_t *vec;
    json_array_foreach(s_list("updates"), i, vec)
    {
        unsigned bit =
            1u << ru_kind_from_name(s_text(s_member(vec, "fields", JSON_OBJECT), "kind"));
        kinds |= bit;
        if (s_version(vec) == 2)
            kinds_v2 |= bit;
        if (s_version(vec) == 3)
            kinds_v3 |= bit;
    }
    assert_int_equal(kinds_v2, 1u << RU_KIND_POST | 1u << RU_KIND_REPLY | 1u << RU_KIND_EDIT |
                                   1u << RU_KIND_PROFILE);
    assert_int_equal(kinds_v3, 1u << RU_KIND_PROFILE);
    json_array_foreach(s_list("messages"), i, vec)
    {
        types |= 1u << vec_json_msg_type(s_text(vec, "type"));
    }
    json_array_foreach(s_list("invalid"), i, vec)
    {
        int is_update = strcmp(s_text(vec, "decoder"), "update") == 0;
        decoders |= is_update ? 1u : 2u;
        if (!is_update)
            refused |= 1u << s_invalid_type(vec);
    }
    unsigned blob_types = 1u << RU_MSG_WANT | 1u << RU_MSG_CHUNK | 1u << RU_MSG_LACK;
    assert_int_equal(refused & (blob_types | 1u << (RU_MSG_MAX + 1)),
                     blob_types | 1u << (RU_MSG_MAX + 1));
    assert_int_equal(kinds, ((1u << (RU_KIND_MAX + 1)) - 1) & ~1u);
    assert_int_equal(types, ((1u << (RU_MSG_MAX + 1)) - 1) & ~1u);
    assert_int_equal(decoders, 3);
    assert_true(json_array_size(s_list("invalid")) >= 20);
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        (void) fprintf(stderr, "usage: test_vectors proto/vectors.json\n");
        return 2;
    }
    json_error_t jerr;
    s_file = json_load_file(argv[1], JSON_REJECT_DUPLICATES, &jerr);
    if (!s_file) {
        (void) fprintf(stderr, "%s:%d: %s\n", argv[1], jerr.line, jerr.text);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header),  cmocka_unit_test(test_keys),
        cmocka_unit_test(test_updates), cmocka_unit_test(test_messages),
        cmocka_unit_test(test_invalid), cmocka_unit_test(test_variants),
        cmocka_unit_test(test_sequences), cmocka_unit_test(test_coverage),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    json_decref(s_file);
    return failed;
}
