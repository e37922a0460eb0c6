/*  ru_update_test.c - signed updates: every kind survives encode -> verify ->
 *  decode with every field intact, re-encoding is byte-identical, the
 *  encoder refuses what decoders refuse, a tampered byte anywhere fails the
 *  signature, the seq can be read before verification, and the largest
 *  legal update of version 1 still fits in a payload. Version 2: content
 *  warnings and attachments survive the same round trip, the encoder
 *  writes version 1 whenever it can, every rule on an attachment is
 *  enforced, and a version 2 payload verifies only under its own domain.
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

/*  An attachment with every field set: an image when image, else a file. */
static void
s_media(ru_media_t *m, int image, uint8_t fill)
{
    memset(m, 0, sizeof *m);
    memset(m->hash, fill, RU_HASH_BYTES);
    m->size = 3177102;
    m->name = s_str(image ? "" : "rapport \xc3\xa9t\xc3\xa9.pdf");
    m->description = s_str("Le tableau blanc de la r\xc3\xa9union");
    if (!image) {
        m->type = s_str("application/pdf");
        return;
    }
    m->type = s_str("image/jpeg");
    m->is_image = 1;
    m->width = 1920;
    m->height = 1440;
    memset(m->thumb, (uint8_t) (fill + 1), RU_HASH_BYTES);
    m->thumb_size = 41234;
    m->thumb_width = 480;
    m->thumb_height = 360;
    m->blurhash = s_str("LEHV6nWB2yk8pyo0adR*.7kCMdnj");
    m->focus_x = 100;
    m->focus_y = 37;
}

static void
s_assert_media(const ru_media_t *a, const ru_media_t *b)
{
    assert_memory_equal(a->hash, b->hash, RU_HASH_BYTES);
    assert_int_equal(a->size, b->size);
    s_assert_str(a->type, b->type);
    s_assert_str(a->name, b->name);
    s_assert_str(a->description, b->description);
    assert_int_equal(a->is_image, b->is_image);
    assert_int_equal(a->width, b->width);
    assert_int_equal(a->height, b->height);
    assert_memory_equal(a->thumb, b->thumb, RU_HASH_BYTES);
    assert_int_equal(a->thumb_size, b->thumb_size);
    assert_int_equal(a->thumb_width, b->thumb_width);
    assert_int_equal(a->thumb_height, b->thumb_height);
    s_assert_str(a->blurhash, b->blurhash);
    assert_int_equal(a->focus_x, b->focus_x);
    assert_int_equal(a->focus_y, b->focus_y);
}

/*  u with the version 2 fields of its kind set. */
static void
s_make_v2(ru_update_t *u, const ru_key_t *key, ru_kind kind)
{
    s_make(u, key, kind);
    u->spoiler = s_str("Spoiler: the end of the film");
    u->sensitive = 1;
    u->n_media = 2;
    s_media(&u->media[0], 1, 0x61);
    s_media(&u->media[1], 0, 0x71);
    u->has_avatar = 1;
    s_media(&u->avatar, 1, 0x81);
    u->has_header = kind == RU_KIND_PROFILE;
    s_media(&u->header, 1, 0x91);
}

/*  Encodes u, checks the payload's version byte, decodes it back into
 *  back (initialized) and re-encodes it byte for byte. wire is kept. */
static void
s_round_trip(ru_update_t *u, const ru_key_t *key, unsigned version, ru_update_t *back,
             ru_buf_t *wire)
{
    ru_buf_t again;
    ru_buf_init(&again);
    assert_int_equal(ru_update_encode(u, key, wire), RU_OK);
    ru_envelope_t env;
    assert_int_equal(ru_update_open(wire->data, wire->len, &env, back), RU_OK);
    assert_int_equal(env.payload[1], version);
    assert_int_equal(back->version, version);
    assert_int_equal(ru_update_encode(back, key, &again), RU_OK);
    assert_int_equal(again.len, wire->len);
    assert_memory_equal(again.data, wire->data, wire->len);
    ru_buf_fini(&again);
}

static void
test_version2_round_trips(void **state)
{
    s_fixture *f = *state;
    const ru_kind kinds[] = {RU_KIND_POST, RU_KIND_REPLY, RU_KIND_EDIT, RU_KIND_PROFILE};
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        ru_update_t u, back;
        s_make_v2(&u, f->key, kinds[k]);
        ru_update_init(&back);
        ru_buf_t wire;
        ru_buf_init(&wire);
        s_round_trip(&u, f->key, 2, &back, &wire);
        s_assert_same(&u, &back);
        if (kinds[k] == RU_KIND_PROFILE) {
            assert_true(back.has_avatar && back.has_header);
            s_assert_media(&u.avatar, &back.avatar);
            s_assert_media(&u.header, &back.header);
            assert_int_equal(back.n_media, 0);
        } else {
            s_assert_str(u.spoiler, back.spoiler);
            assert_int_equal(back.sensitive, 1);
            assert_int_equal(back.n_media, 2);
            s_assert_media(&u.media[0], &back.media[0]);
            s_assert_media(&u.media[1], &back.media[1]);
            assert_false(back.has_avatar);
        }
        ru_buf_fini(&wire);
        ru_update_fini(&u);
        ru_update_fini(&back);
    }
}

/*  The least version: version 2 fields a kind does not carry, or left at
 *  their defaults, keep an update in version 1, which older nodes read. */
static void
test_least_version(void **state)
{
    s_fixture *f = *state;
    for (int k = 1; k <= RU_KIND_MAX; k++) {
        ru_update_t u, back;
        s_make(&u, f->key, (ru_kind) k);
        if (k != RU_KIND_PROFILE) {
            u.has_avatar = 1; /* not a profile's: ignored */
            s_media(&u.avatar, 1, 1);
        }
        if (k != RU_KIND_POST && k != RU_KIND_REPLY && k != RU_KIND_EDIT)
            u.sensitive = 1; /* not carried by this kind: ignored */
        ru_update_init(&back);
        ru_buf_t wire;
        ru_buf_init(&wire);
        s_round_trip(&u, f->key, 1, &back, &wire);
        ru_buf_fini(&wire);
        ru_update_fini(&u);
        ru_update_fini(&back);
    }
    ru_update_t u, back;
    s_make(&u, f->key, RU_KIND_POST); /* one field of version 2 is enough */
    u.sensitive = 1;
    ru_update_init(&back);
    ru_buf_t wire;
    ru_buf_init(&wire);
    s_round_trip(&u, f->key, 2, &back, &wire);
    assert_int_equal(back.n_media, 0);
    ru_buf_fini(&wire);
    ru_update_fini(&u);
    ru_update_fini(&back);
}

static void
test_media_without_text(void **state)
{
    s_fixture *f = *state;
    ru_update_t u, back;
    s_make(&u, f->key, RU_KIND_POST);
    u.text = s_str("");
    u.n_media = 1;
    s_media(&u.media[0], 1, 5);
    ru_update_init(&back);
    ru_buf_t wire;
    ru_buf_init(&wire);
    s_round_trip(&u, f->key, 2, &back, &wire);
    assert_int_equal(back.text.len, 0);
    ru_buf_fini(&wire);
    ru_update_fini(&u);
    ru_update_fini(&back);
    s_make(&u, f->key, RU_KIND_POST); /* a content warning alone is no content */
    u.text = s_str("");
    u.spoiler = s_str("cw");
    s_expect_encode(&u, f->key, RU_E_RANGE);
}

/*  A post whose attachment i is m, expected to be refused with err. */
static void
s_expect_media(const ru_key_t *key, const ru_media_t *m, ru_err err)
{
    ru_update_t u;
    s_make(&u, key, RU_KIND_POST);
    u.n_media = 1;
    u.media[0] = *m;
    s_expect_encode(&u, key, err);
}

static void
test_media_refusals(void **state)
{
    s_fixture *f = *state;
    const char *types[] = {"Image/png", "image", "image/", "/png", "image/p ng", "image//png",
                           "image/png/x", "-image/png", "image/\xc3\xa9"};
    ru_media_t m;
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        s_media(&m, 0, 1);
        m.type = s_str(types[i]);
        s_expect_media(f->key, &m, RU_E_RANGE);
    }
    const char *names[] = {"../etc/passwd", "a\\b", "..", ".", "tab\there", "del\x7f"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        s_media(&m, 0, 1);
        m.name = s_str(names[i]);
        s_expect_media(f->key, &m, RU_E_NAME);
    }
    s_media(&m, 0, 1);
    m.name = (ru_str_t){"\xc0\xaf", 2};
    s_expect_media(f->key, &m, RU_E_UTF8);
    s_media(&m, 0, 1);
    m.size = 0;
    s_expect_media(f->key, &m, RU_E_RANGE);
    s_media(&m, 0, 1);
    m.size = RU_MAX_BLOB_SIZE + 1;
    s_expect_media(f->key, &m, RU_E_RANGE);
    s_media(&m, 1, 1);
    m.type = s_str("application/pdf"); /* an image's type is an image type */
    s_expect_media(f->key, &m, RU_E_RANGE);
    s_media(&m, 1, 1);
    m.blurhash = s_str("LEHV6nWB2yk8\"o0");
    s_expect_media(f->key, &m, RU_E_RANGE);
    s_media(&m, 1, 1);
    m.blurhash = s_str("LEHV6");
    s_expect_media(f->key, &m, RU_E_RANGE);
    s_media(&m, 1, 1);
    m.focus_y = RU_MAX_FOCUS + 1;
    s_expect_media(f->key, &m, RU_E_RANGE);
    s_media(&m, 1, 1);
    m.width = 0;
    s_expect_media(f->key, &m, RU_E_RANGE);
    s_media(&m, 1, 1);
    m.thumb_height = RU_MAX_IMAGE_SIDE + 1;
    s_expect_media(f->key, &m, RU_E_RANGE);
    char *alt = malloc(RU_MAX_ALT_CHARS + 2);
    memset(alt, 'a', RU_MAX_ALT_CHARS + 1);
    alt[RU_MAX_ALT_CHARS + 1] = '\0';
    s_media(&m, 1, 1);
    m.description = s_str(alt);
    s_expect_media(f->key, &m, RU_E_TOO_BIG);
    free(alt);

    ru_update_t u;
    s_make(&u, f->key, RU_KIND_REPLY);
    u.n_media = RU_MAX_MEDIA + 1;
    for (uint32_t i = 0; i < RU_MAX_MEDIA; i++)
        s_media(&u.media[i], 1, (uint8_t) i);
    s_expect_encode(&u, f->key, RU_E_TOO_MANY);
    s_make(&u, f->key, RU_KIND_PROFILE); /* an avatar is an image */
    u.has_avatar = 1;
    s_media(&u.avatar, 0, 1);
    s_expect_encode(&u, f->key, RU_E_RANGE);
    s_make(&u, f->key, RU_KIND_EDIT);
    u.sensitive = 2;
    s_expect_encode(&u, f->key, RU_E_RANGE);
    char *cw = malloc(RU_MAX_SPOILER_CHARS + 2);
    memset(cw, 'w', RU_MAX_SPOILER_CHARS + 1);
    cw[RU_MAX_SPOILER_CHARS + 1] = '\0';
    s_make(&u, f->key, RU_KIND_POST);
    u.spoiler = s_str(cw);
    s_expect_encode(&u, f->key, RU_E_TOO_BIG);
    free(cw);
}

/*  A version 2 payload signed under version 1's domain does not verify,
 *  and a payload of version 3 is refused before anything else. */
static void
test_version2_domain(void **state)
{
    s_fixture *f = *state;
    ru_update_t u;
    s_make_v2(&u, f->key, RU_KIND_POST);
    ru_buf_t wire;
    ru_buf_init(&wire);
    assert_int_equal(ru_update_encode(&u, f->key, &wire), RU_OK);
    ru_envelope_t env;
    assert_int_equal(ru_envelope_parse(wire.data, wire.len, &env), RU_OK);
    assert_int_equal(ru_envelope_verify(&env), RU_OK);
    uint8_t *sig = wire.data + (env.sig - wire.data);
    assert_int_equal(ru_key_sign(f->key, RU_UPDATE_DOMAIN, env.payload, env.payload_len, sig),
                     RU_OK);
    assert_int_equal(ru_envelope_verify(&env), RU_E_SIGNATURE);
    wire.data[env.payload - wire.data + 1] = RU_PAYLOAD_VERSION_MAX + 1;
    assert_int_equal(ru_envelope_parse(wire.data, wire.len, &env), RU_E_VERSION);
    ru_buf_fini(&wire);
    ru_update_fini(&u);
}

/*  Attachments kept apart from their update read back as they were, with
 *  the decoder's checks. */
static void
test_media_pack(void **state)
{
    (void) state;
    ru_media_t media[3], back[RU_MAX_MEDIA];
    s_media(&media[0], 1, 1);
    s_media(&media[1], 0, 2);
    s_media(&media[2], 1, 3);
    ru_buf_t buf;
    ru_buf_init(&buf);
    msgpack_packer pk;
    ru_mp_packer_init(&pk, &buf);
    ru_media_pack(&pk, media, 3);
    uint32_t n = 0;
    assert_int_equal(ru_media_unpack(buf.data, buf.len, back, &n), RU_OK);
    assert_int_equal(n, 3);
    for (uint32_t i = 0; i < n; i++)
        s_assert_media(&media[i], &back[i]);
    assert_int_equal(ru_media_unpack(buf.data, buf.len - 1, back, &n), RU_E_TRUNCATED);
    assert_int_equal(n, 0);
    ru_buf_reset(&buf);
    media[1].name = s_str("a/b");
    ru_media_pack(&pk, media, 3);
    assert_int_equal(ru_media_unpack(buf.data, buf.len, back, &n), RU_E_NAME);
    ru_buf_reset(&buf);
    ru_media_pack(&pk, media, 0);
    assert_int_equal(ru_media_unpack(buf.data, buf.len, back, &n), RU_OK);
    assert_int_equal(n, 0);
    ru_buf_fini(&buf);
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

/*  In version 2 the fields' limits no longer keep every update within the
 *  payload limit: a post with the longest text, the largest clock delta
 *  and every attachment at its longest is refused whole by the encoder. */
static void
test_largest_update_v2_refused_whole(void **state)
{
    s_fixture *f = *state;
    ru_update_t u;
    s_make(&u, f->key, RU_KIND_REPLY);
    char *text = malloc(RU_MAX_TEXT_BYTES + 1);
    for (int i = 0; i < RU_MAX_TEXT_CHARS; i++)
        memcpy(text + 4 * i, "\xf0\x9f\x90\x9d", 4);
    u.text = (ru_str_t){text, RU_MAX_TEXT_BYTES};
    char *alt = malloc(RU_MAX_ALT_BYTES);
    for (int i = 0; i < RU_MAX_ALT_CHARS; i++)
        memcpy(alt + 4 * i, "\xf0\x9f\x90\x9d", 4);
    u.n_media = RU_MAX_MEDIA;
    for (uint32_t i = 0; i < RU_MAX_MEDIA; i++) {
        s_media(&u.media[i], 1, (uint8_t) i);
        u.media[i].description = (ru_str_t){alt, RU_MAX_ALT_BYTES};
    }
    s_expect_encode(&u, f->key, RU_E_TOO_BIG);
    free(alt);
    free(text);
}


static void
s_spoil_skill_empty(ru_person_t *p, char *big)
{
    (void) big;
    p->skills[1] = s_str("");
}

static void
s_spoil_skills_many(ru_person_t *p, char *big)
{
    (void) big;
    p->n_skills = RU_MAX_SKILLS + 1;
}

static void
s_spoil_skill_long(ru_person_t *p, char *big)
{
    p->skills[0] = (ru_str_t){big, RU_MAX_SKILL_CHARS + 1};
}

static void
s_spoil_fields_many(ru_person_t *p, char *big)
{
    (void) big;
    p->n_fields = RU_MAX_FIELDS + 1;
}

static void
s_spoil_field_name(ru_person_t *p, char *big)
{
    (void) big;
    p->fields[0].name = s_str("");
}

static void
s_spoil_field_value(ru_person_t *p, char *big)
{
    p->fields[1].value = (ru_str_t){big, RU_MAX_FIELD_CHARS + 1};
}

static void
s_spoil_title(ru_person_t *p, char *big)
{
    p->title = (ru_str_t){big, RU_MAX_WORK_CHARS + 1};
}

static void
s_spoil_dir_id(ru_person_t *p, char *big)
{
    p->dir_id = (ru_str_t){big, RU_MAX_DIR_ID + 1};
}

static void
s_spoil_email(ru_person_t *p, char *big)
{
    p->email = (ru_str_t){big, RU_MAX_EMAIL + 1};
}

static void
s_spoil_phone(ru_person_t *p, char *big)
{
    (void) big;
    p->phone = s_str("\xff\xfe");
}

static void
s_spoil_departed(ru_person_t *p, char *big)
{
    (void) big;
    p->departed = 2;
}

/*  A person as the directory sync would publish it, every field set. */
static void
s_person(ru_person_t *p)
{
    memset(p, 0, sizeof *p);
    p->dir_id = s_str("7f0c2a1e-5b3d-4c8e-9a61-2f4b8d0e6c13");
    p->title = s_str("Ingénieure réseaux");
    p->department = s_str("Réseaux et télécoms");
    p->site = s_str("Nozay");
    p->office = s_str("B2-114");
    p->phone = s_str("+33 1 60 40 12 34");
    p->email = s_str("chloe.dupont@example.com");
    p->manager = s_str("0d9e3c4b-1a2f-4e5d-8c7b-6a5f4e3d2c1b");
    p->n_skills = 3;
    p->skills[0] = s_str("BGP");
    p->skills[1] = s_str("IPv6");
    p->skills[2] = s_str("photographie");
    p->n_fields = 2;
    p->fields[0] = (ru_pfield_t){s_str("Pronouns"), s_str("elle")};
    p->fields[1] = (ru_pfield_t){s_str("Blog"), s_str("")};
}

static void
s_assert_person(const ru_person_t *a, const ru_person_t *b)
{
    const ru_str_t *as[] = {&a->dir_id, &a->title, &a->department, &a->site,
                            &a->office, &a->phone, &a->email,      &a->manager};
    const ru_str_t *bs[] = {&b->dir_id, &b->title, &b->department, &b->site,
                            &b->office, &b->phone, &b->email,      &b->manager};
    for (size_t i = 0; i < sizeof as / sizeof *as; i++)
        s_assert_str(*as[i], *bs[i]);
    assert_int_equal(a->n_skills, b->n_skills);
    for (uint32_t i = 0; i < a->n_skills; i++)
        s_assert_str(a->skills[i], b->skills[i]);
    assert_int_equal(a->n_fields, b->n_fields);
    for (uint32_t i = 0; i < a->n_fields; i++) {
        s_assert_str(a->fields[i].name, b->fields[i].name);
        s_assert_str(a->fields[i].value, b->fields[i].value);
    }
    assert_int_equal(a->departed, b->departed);
}

/*  A profile with a person is written in version 3, under its own
 *  signature domain, and reads back as it was; without one it stays in
 *  version 2 or 1. */
static void
test_version3_person(void **state)
{
    s_fixture *f = *state;
    ru_update_t u, back;
    s_make_v2(&u, f->key, RU_KIND_PROFILE);
    u.has_person = 1;
    s_person(&u.person);
    u.person.departed = 1;
    ru_update_init(&back);
    ru_buf_t wire;
    ru_buf_init(&wire);
    s_round_trip(&u, f->key, 3, &back, &wire);
    assert_true(back.has_person && back.has_avatar && back.has_header);
    s_assert_person(&u.person, &back.person);
    ru_envelope_t env;
    assert_int_equal(ru_envelope_parse(wire.data, wire.len, &env), RU_OK);
    uint8_t *sig = wire.data + (env.sig - wire.data);
    assert_int_equal(ru_key_sign(f->key, RU_UPDATE_DOMAIN_V2, env.payload, env.payload_len, sig),
                     RU_OK);
    assert_int_equal(ru_envelope_verify(&env), RU_E_SIGNATURE);
    ru_buf_reset(&wire);
    u.has_person = 0;
    s_round_trip(&u, f->key, 2, &back, &wire);
    assert_false(back.has_person);
    ru_buf_reset(&wire);
    ru_update_fini(&u);
    s_make(&u, f->key, RU_KIND_POST); /* a person is a profile's only */
    u.has_person = 1;
    s_person(&u.person);
    s_round_trip(&u, f->key, 1, &back, &wire);
    ru_buf_fini(&wire);
    ru_update_fini(&u);
    ru_update_fini(&back);
}

/*  A person's rules, in the encoder and in ru_person_unpack alike. */
static void
test_person_refusals(void **state)
{
    s_fixture *f = *state;
    char big[RU_MAX_FIELD_BYTES + 1];
    memset(big, 'a', sizeof big);
    const struct {
        const char *what;
        void (*spoil)(ru_person_t *p, char *big);
        ru_err err;
    } cases[] = {
        {"no skill name", s_spoil_skill_empty, RU_E_RANGE},
        {"33 skills", s_spoil_skills_many, RU_E_TOO_MANY},
        {"a skill of 51 code points", s_spoil_skill_long, RU_E_TOO_BIG},
        {"5 fields", s_spoil_fields_many, RU_E_TOO_MANY},
        {"a field with no name", s_spoil_field_name, RU_E_RANGE},
        {"a value of 256 code points", s_spoil_field_value, RU_E_TOO_BIG},
        {"a title of 101 code points", s_spoil_title, RU_E_TOO_BIG},
        {"an id of 129 bytes", s_spoil_dir_id, RU_E_TOO_BIG},
        {"an e-mail address of 255 bytes", s_spoil_email, RU_E_TOO_BIG},
        {"a phone number not UTF-8", s_spoil_phone, RU_E_UTF8},
        {"departed 2", s_spoil_departed, RU_E_RANGE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ru_update_t u;
        s_make(&u, f->key, RU_KIND_PROFILE);
        u.has_person = 1;
        s_person(&u.person);
        cases[i].spoil(&u.person, big);
        print_message("%s\n", cases[i].what);
        if (cases[i].err != RU_E_TOO_MANY) { /* more than the struct holds cannot be packed */
            ru_buf_t buf;
            ru_buf_init(&buf);
            msgpack_packer pk;
            ru_mp_packer_init(&pk, &buf);
            ru_person_pack(&pk, &u.person);
            ru_person_t back;
            assert_int_equal(ru_person_unpack(buf.data, buf.len, &back), cases[i].err);
            ru_buf_fini(&buf);
        }
        s_expect_encode(&u, f->key, cases[i].err);
    }
    ru_person_t p, back;
    s_person(&p);
    ru_buf_t buf;
    ru_buf_init(&buf);
    msgpack_packer pk;
    ru_mp_packer_init(&pk, &buf);
    ru_person_pack(&pk, &p);
    assert_int_equal(ru_person_unpack(buf.data, buf.len, &back), RU_OK);
    s_assert_person(&p, &back);
    assert_int_equal(ru_person_unpack(buf.data, buf.len - 1, &back), RU_E_TRUNCATED);
    ru_buf_fini(&buf);
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
        cmocka_unit_test(test_largest_update_v2_refused_whole),
        cmocka_unit_test(test_version2_round_trips),
        cmocka_unit_test(test_least_version),
        cmocka_unit_test(test_media_without_text),
        cmocka_unit_test(test_media_refusals),
        cmocka_unit_test(test_version2_domain),
        cmocka_unit_test(test_media_pack),
        cmocka_unit_test(test_version3_person),
        cmocka_unit_test(test_person_refusals),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
