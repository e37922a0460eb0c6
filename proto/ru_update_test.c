/*  ru_update_test.c - signed updates: every kind survives encode -> verify ->
 *  decode with every field intact, re-encoding is byte-identical, the
 *  encoder refuses what decoders refuse, a tampered byte anywhere fails the
 *  signature, the seq can be read before verification, and the largest
 *  legal update still fits in a payload.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "ruche/ru_update.h"

typedef struct {
    ru_key_t *key;
    ru_key_t *other;
} s_fixture;

static int
s_setup(void **state)
{
    static s_fixture f;
    uint8_t seed[RU_SEED_BYTES];
    for (int i = 0; i < RU_SEED_BYTES; i++)
        seed[i] = (uint8_t) (i + 1);
    if (ru_key_from_seed(seed, &f.key) || ru_key_generate(&f.other))
        return -1;
    *state = &f;
    return 0;
}

static int
s_teardown(void **state)
{
    s_fixture *f = *state;
    ru_key_destroy(&f->key);
    ru_key_destroy(&f->other);
    assert_null(f->key);
    return 0;
}

static ru_str_t
s_str(const char *s)
{
    return (ru_str_t){s, (uint32_t) strlen(s)};
}

/*  A valid update of the given kind from key, with every field its kind
 *  uses set to something recognizable. */
static void
s_make(ru_update_t *u, const ru_key_t *key, ru_kind kind)
{
    ru_update_init(u);
    memcpy(u->origin, ru_key_public(key), RU_KEY_BYTES);
    u->seq = 7;
    memset(u->prev, 0xab, sizeof u->prev);
    uint8_t peer[RU_KEY_BYTES];
    memset(peer, 0x11, sizeof peer);
    assert_int_equal(ru_clock_set(&u->clock, peer, 300), RU_OK);
    u->hlc = ((uint64_t) 1800000000000u << 16) | 3;
    u->author = s_str("alice");
    u->kind = kind;
    memset(u->target.origin, 0x22, RU_KEY_BYTES);
    u->target.seq = 41;
    u->text = s_str("Bonjour \xc3\xa0 tous #ruche @bob");
    u->visibility = RU_VIS_PRIVATE;
    u->has_group = 1;
    memset(u->group.origin, 0x33, RU_KEY_BYTES);
    u->group.seq = 2;
    memset(u->user.home, 0x44, RU_KEY_BYTES);
    u->user.name = s_str("bob");
    u->display_name = s_str("Alice Martin");
    u->note = s_str("Plant biology, Paris");
    u->name = s_str("gardening");
    memset(u->fork.origin, 0x55, RU_KEY_BYTES);
    u->fork.seq = 7;
    memset(u->kept, 0x66, RU_HASH_BYTES);
}

static void
s_assert_str(ru_str_t a, ru_str_t b)
{
    assert_int_equal(a.len, b.len);
    if (a.len)
        assert_memory_equal(a.ptr, b.ptr, a.len);
}

static void
s_assert_ref(const ru_ref_t *a, const ru_ref_t *b)
{
    assert_memory_equal(a->origin, b->origin, RU_KEY_BYTES);
    assert_int_equal(a->seq, b->seq);
}

/*  The fields that kind k carries are equal in a and b. */
static void
s_assert_same(const ru_update_t *a, const ru_update_t *b)
{
    assert_memory_equal(a->origin, b->origin, RU_KEY_BYTES);
    assert_int_equal(a->seq, b->seq);
    assert_memory_equal(a->prev, b->prev, RU_HASH_BYTES);
    assert_int_equal(ru_clock_compare(&a->clock, &b->clock), RU_CLOCK_EQUAL);
    assert_int_equal(a->hlc, b->hlc);
    s_assert_str(a->author, b->author);
    assert_int_equal(a->kind, b->kind);
    switch (a->kind) {
    case RU_KIND_POST:
        s_assert_str(a->text, b->text);
        assert_int_equal(a->visibility, b->visibility);
        assert_int_equal(a->has_group, b->has_group);
        if (a->has_group)
            s_assert_ref(&a->group, &b->group);
        break;
    case RU_KIND_REPLY:
        assert_int_equal(a->visibility, b->visibility);
        /* fall through */
    case RU_KIND_EDIT:
        s_assert_str(a->text, b->text);
        /* fall through */
    case RU_KIND_DELETE:
    case RU_KIND_LIKE:
    case RU_KIND_UNLIKE:
    case RU_KIND_GROUP_JOIN:
    case RU_KIND_GROUP_LEAVE:
        s_assert_ref(&a->target, &b->target);
        break;
    case RU_KIND_FOLLOW:
    case RU_KIND_UNFOLLOW:
        assert_memory_equal(a->user.home, b->user.home, RU_KEY_BYTES);
        s_assert_str(a->user.name, b->user.name);
        break;
    case RU_KIND_GROUP_CREATE:
        s_assert_str(a->name, b->name);
        /* fall through */
    case RU_KIND_PROFILE:
        s_assert_str(a->note, b->note);
        if (a->kind == RU_KIND_PROFILE)
            s_assert_str(a->display_name, b->display_name);
        break;
    case RU_KIND_RESOLVE:
        s_assert_ref(&a->fork, &b->fork);
        assert_memory_equal(a->kept, b->kept, RU_HASH_BYTES);
        break;
    }
}

static void
test_every_kind_round_trips(void **state)
{
    s_fixture *f = *state;
    for (int k = 1; k <= RU_KIND_MAX; k++) {
        ru_update_t u, back;
        s_make(&u, f->key, (ru_kind) k);
        ru_update_init(&back);
        ru_buf_t wire, again;
        ru_buf_init(&wire);
        ru_buf_init(&again);
        assert_int_equal(ru_update_encode(&u, f->key, &wire), RU_OK);
        ru_envelope_t env;
        assert_int_equal(ru_update_open(wire.data, wire.len, &env, &back), RU_OK);
        assert_ptr_equal(env.wire, wire.data);
        assert_int_equal(env.wire_len, wire.len);
        assert_memory_equal(env.origin, u.origin, RU_KEY_BYTES);
        s_assert_same(&u, &back);
        assert_int_equal(ru_update_encode(&back, f->key, &again), RU_OK);
        assert_int_equal(again.len, wire.len);
        assert_memory_equal(again.data, wire.data, wire.len);
        assert_string_equal(ru_kind_name((ru_kind) k),
                            ru_kind_name(ru_kind_from_name(ru_kind_name((ru_kind) k))));
        ru_buf_fini(&wire);
        ru_buf_fini(&again);
        ru_update_fini(&u);
        ru_update_fini(&back);
    }
    assert_null(ru_kind_name(0));
    assert_int_equal(ru_kind_from_name("poke"), 0);
}

static void
test_post_without_group(void **state)
{
    s_fixture *f = *state;
    ru_update_t u, back;
    s_make(&u, f->key, RU_KIND_POST);
    u.has_group = 0;
    ru_update_init(&back);
    ru_buf_t wire;
    ru_buf_init(&wire);
    assert_int_equal(ru_update_encode(&u, f->key, &wire), RU_OK);
    ru_envelope_t env;
    assert_int_equal(ru_update_open(wire.data, wire.len, &env, &back), RU_OK);
    assert_int_equal(back.has_group, 0);
    ru_buf_fini(&wire);
    ru_update_fini(&u);
    ru_update_fini(&back);
}

/*  The seq read before verification is the seq, whatever its width. */
static void
test_seq_before_verification(void **state)
{
    s_fixture *f = *state;
    const uint64_t seqs[] = {1, 127, 128, 65535, 65536, UINT64_C(1) << 40, UINT64_MAX};
    for (size_t i = 0; i < sizeof seqs / sizeof *seqs; i++) {
        ru_update_t u;
        s_make(&u, f->key, RU_KIND_LIKE);
        u.seq = seqs[i];
        if (u.seq == 1)
            memset(u.prev, 0, sizeof u.prev);
        ru_buf_t wire;
        ru_buf_init(&wire);
        assert_int_equal(ru_update_encode(&u, f->key, &wire), RU_OK);
        ru_envelope_t env;
        uint64_t seq = 0;
        assert_int_equal(ru_envelope_parse(wire.data, wire.len, &env), RU_OK);
        assert_int_equal(ru_envelope_seq(&env, &seq), RU_OK);
        assert_true(seq == seqs[i]);
        env.payload_len = 36; /* cut right after the origin */
        assert_int_equal(ru_envelope_seq(&env, &seq), RU_E_TRUNCATED);
        ru_buf_fini(&wire);
        ru_update_fini(&u);
    }
}

/*  Encodes u with key and expects err, with nothing appended. */
static void
s_expect_encode(ru_update_t *u, const ru_key_t *key, ru_err err)
{
    ru_buf_t wire;
    ru_buf_init(&wire);
    assert_int_equal(ru_update_encode(u, key, &wire), err);
    assert_int_equal(wire.len, 0);
    ru_buf_fini(&wire);
    ru_update_fini(u);
}

static void
test_encoder_refusals(void **state)
{
    s_fixture *f = *state;
    ru_update_t u;
    s_make(&u, f->key, RU_KIND_POST);
    s_expect_encode(&u, f->other, RU_E_INVALID); /* not our origin */
    s_make(&u, f->key, RU_KIND_POST);
    u.seq = 0;
    s_expect_encode(&u, f->key, RU_E_RANGE);
    s_make(&u, f->key, RU_KIND_POST);
    u.seq = 1; /* prev must be zero */
    s_expect_encode(&u, f->key, RU_E_RANGE);
    s_make(&u, f->key, RU_KIND_POST);
    assert_int_equal(ru_clock_set(&u.clock, u.origin, 6), RU_OK);
    s_expect_encode(&u, f->key, RU_E_RANGE); /* own entry is implied */
    s_make(&u, f->key, RU_KIND_POST);
    u.text = s_str("");
    s_expect_encode(&u, f->key, RU_E_RANGE);
    s_make(&u, f->key, RU_KIND_POST);
    u.text = (ru_str_t){"\xff", 1};
    s_expect_encode(&u, f->key, RU_E_UTF8);
    s_make(&u, f->key, RU_KIND_POST);
    u.author = s_str("Alice");
    s_expect_encode(&u, f->key, RU_E_NAME);
    s_make(&u, f->key, RU_KIND_REPLY);
    u.visibility = (ru_visibility) 4;
    s_expect_encode(&u, f->key, RU_E_RANGE);
    s_make(&u, f->key, RU_KIND_LIKE);
    u.target.seq = 0;
    s_expect_encode(&u, f->key, RU_E_RANGE);
    s_make(&u, f->key, RU_KIND_FOLLOW);
    u.user.name = s_str("");
    s_expect_encode(&u, f->key, RU_E_NAME);
    s_make(&u, f->key, RU_KIND_RESOLVE);
    u.fork.seq = 0;
    s_expect_encode(&u, f->key, RU_E_RANGE);
    s_make(&u, f->key, RU_KIND_RESOLVE); /* a site's own fork is not its to resolve */
    memcpy(u.fork.origin, u.origin, RU_KEY_BYTES);
    s_expect_encode(&u, f->key, RU_E_RANGE);
    s_make(&u, f->key, (ru_kind) 14);
    s_expect_encode(&u, f->key, RU_E_KIND);
    char *text = malloc(RU_MAX_TEXT_CHARS + 2);
    memset(text, 'x', RU_MAX_TEXT_CHARS + 1);
    text[RU_MAX_TEXT_CHARS + 1] = '\0';
    s_make(&u, f->key, RU_KIND_EDIT);
    u.text = s_str(text);
    s_expect_encode(&u, f->key, RU_E_TOO_BIG);
    free(text);
}

static void
test_tampering_fails_signature(void **state)
{
    s_fixture *f = *state;
    ru_update_t u, back;
    s_make(&u, f->key, RU_KIND_REPLY);
    ru_update_init(&back);
    ru_buf_t wire;
    ru_buf_init(&wire);
    assert_int_equal(ru_update_encode(&u, f->key, &wire), RU_OK);
    ru_envelope_t env;
    assert_int_equal(ru_envelope_parse(wire.data, wire.len, &env), RU_OK);
    size_t payload_at = (size_t) (env.payload - wire.data);
    for (size_t i = payload_at + 4; i < wire.len; i++) { /* past the fixed head */
        wire.data[i] ^= 0x01;
        ru_err err = ru_update_open(wire.data, wire.len, &env, &back);
        assert_true(err != RU_OK);
        if (err != RU_E_SIGNATURE) /* only the envelope's own structure may fail first */
            assert_true(i >= payload_at + env.payload_len);
        wire.data[i] ^= 0x01;
    }
    assert_int_equal(ru_update_open(wire.data, wire.len, &env, &back), RU_OK);
    ru_buf_fini(&wire);
    ru_update_fini(&u);
    ru_update_fini(&back);
}

static void
test_hash_chain(void **state)
{
    s_fixture *f = *state;
    ru_update_t u;
    s_make(&u, f->key, RU_KIND_POST);
    u.seq = 1;
    memset(u.prev, 0, sizeof u.prev);
    ru_buf_t wire;
    ru_buf_init(&wire);
    assert_int_equal(ru_update_encode(&u, f->key, &wire), RU_OK);
    ru_envelope_t env;
    assert_int_equal(ru_envelope_parse(wire.data, wire.len, &env), RU_OK);
    uint8_t h1[RU_HASH_BYTES], h2[RU_HASH_BYTES];
    ru_update_hash(&env, h1);
    ru_update_hash(&env, h2);
    assert_memory_equal(h1, h2, RU_HASH_BYTES);
    u.seq = 2;
    memcpy(u.prev, h1, RU_HASH_BYTES);
    ru_buf_reset(&wire);
    assert_int_equal(ru_update_encode(&u, f->key, &wire), RU_OK);
    assert_int_equal(ru_envelope_parse(wire.data, wire.len, &env), RU_OK);
    ru_update_hash(&env, h2);
    assert_memory_not_equal(h1, h2, RU_HASH_BYTES);
    ru_buf_fini(&wire);
    ru_update_fini(&u);
}

static void
test_largest_update_fits(void **state)
{
    s_fixture *f = *state;
    ru_update_t u, back;
    s_make(&u, f->key, RU_KIND_REPLY);
    ru_update_init(&back);
    ru_clock_fini(&u.clock);
    uint8_t origin[RU_KEY_BYTES];
    memset(origin, 0xff, sizeof origin);
    for (uint32_t i = 0; i < RU_MAX_CLOCK; i++) {
        origin[0] = (uint8_t) (i >> 8);
        origin[1] = (uint8_t) i;
        assert_int_equal(ru_clock_set(&u.clock, origin, UINT64_MAX - i), RU_OK);
    }
    char *text = malloc(RU_MAX_TEXT_BYTES + 1);
    for (int i = 0; i < RU_MAX_TEXT_CHARS; i++)
        memcpy(text + 4 * i, "\xf0\x9f\x90\x9d", 4);
    u.text = (ru_str_t){text, RU_MAX_TEXT_BYTES};
    u.hlc = UINT64_MAX;
    u.seq = UINT64_MAX;
    memset(u.target.origin, 0xff, RU_KEY_BYTES);
    u.target.seq = UINT64_MAX;
    char name[RU_MAX_NAME];
    memset(name, 'z', sizeof name);
    u.author = (ru_str_t){name, RU_MAX_NAME};
    ru_buf_t wire;
    ru_buf_init(&wire);
    assert_int_equal(ru_update_encode(&u, f->key, &wire), RU_OK);
    ru_envelope_t env;
    assert_int_equal(ru_update_open(wire.data, wire.len, &env, &back), RU_OK);
    assert_true(env.payload_len <= RU_MAX_PAYLOAD);
    s_assert_same(&u, &back);
    ru_buf_fini(&wire);
    free(text);
    ru_update_fini(&u);
    ru_update_fini(&back);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind_round_trips),
        cmocka_unit_test(test_post_without_group),
        cmocka_unit_test(test_seq_before_verification),
        cmocka_unit_test(test_encoder_refusals),
        cmocka_unit_test(test_tampering_fails_signature),
        cmocka_unit_test(test_hash_chain),
        cmocka_unit_test(test_largest_update_fits),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
