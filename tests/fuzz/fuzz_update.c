/*  fuzz_update.c - libFuzzer target for the decoders of signed updates.
 *
 *  Each input is tried three times:
 *    1. as a whole envelope: ru_envelope_parse, then ru_envelope_verify on
 *       what parses, and ru_envelope_seq. The signature nearly never
 *       holds; the point is that they refuse any bytes safely.
 *    2. as a bare payload: an envelope made by hand points at the input and
 *       goes straight to ru_update_decode, so the fuzzer reaches the field
 *       decoder without having to forge a signature.
 *    3. as a bare person (PROTOCOL.md section 5.8), as a node keeps one
 *       beside a profile: ru_person_unpack.
 *  A payload that decodes must obey every rule of the protocol (checked
 *  here independently of the decoder), must give ru_envelope_seq the seq
 *  it decodes to, and must be the canonical encoding
 *  of what it decodes to: re-encoding it gives the same bytes, up to the
 *  origin key, which is replaced by the key this target signs with. The
 *  one exception is a payload that a lower version could hold (of version
 *  2 without a field of version 2, of version 3 without a person), which
 *  the encoder writes in the lower version (PROTOCOL.md section 10). A
 *  person that unpacks obeys the rules of section 5.8 and packs again into
 *  the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "ruche/ru_text.h"
#include "ruche/ru_update.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*  The body fields each kind uses (ru_update.h); the others must be zero. */
enum {
    U_TARGET = 1 << 0,
    U_TEXT = 1 << 1,
    U_VIS = 1 << 2,
    U_GROUP = 1 << 3,
    U_USER = 1 << 4,
    U_DISPLAY = 1 << 5,
    U_NOTE = 1 << 6,
    U_NAME = 1 << 7,
    U_MEDIA = 1 << 8,  /* version 2: spoiler, sensitive, media */
    U_IMAGES = 1 << 9, /* version 2: avatar, header */
    U_PERSON = 1 << 10 /* version 3: person */
};

static const unsigned s_uses[RU_KIND_MAX + 1] = {
    [RU_KIND_POST] = U_TEXT | U_VIS | U_GROUP | U_MEDIA,
    [RU_KIND_REPLY] = U_TARGET | U_TEXT | U_VIS | U_MEDIA,
    [RU_KIND_EDIT] = U_TARGET | U_TEXT | U_MEDIA,
    [RU_KIND_DELETE] = U_TARGET,
    [RU_KIND_LIKE] = U_TARGET,
    [RU_KIND_UNLIKE] = U_TARGET,
    [RU_KIND_FOLLOW] = U_USER,
    [RU_KIND_UNFOLLOW] = U_USER,
    [RU_KIND_PROFILE] = U_DISPLAY | U_NOTE | U_IMAGES | U_PERSON,
    [RU_KIND_GROUP_CREATE] = U_NAME | U_NOTE,
    [RU_KIND_GROUP_JOIN] = U_TARGET,
    [RU_KIND_GROUP_LEAVE] = U_TARGET,
};

static const uint8_t s_zero[RU_KEY_BYTES];

static void
s_check_envelope(const uint8_t *data, size_t size)
{
    ru_envelope_t env;
    if (ru_envelope_parse(data, size, &env) != RU_OK)
        return;
    fuzz_require(env.wire == data && env.wire_len == size, "envelope spans the input");
    fuzz_check_inside(env.payload, env.payload_len, data, size, "payload inside the input");
    fuzz_check_inside(env.sig, RU_SIG_BYTES, data, size, "signature inside the input");
    fuzz_require(env.payload_len <= RU_MAX_PAYLOAD, "payload within RU_MAX_PAYLOAD");
    fuzz_require(env.payload_len >= 4 + RU_KEY_BYTES && env.origin == env.payload + 4,
                 "origin at bytes 4..35 of the payload");
    uint64_t seq;
    (void) ru_envelope_seq(&env, &seq); /* any bytes after the origin: no overread */
    ru_err err = ru_envelope_verify(&env);
    fuzz_require(err == RU_OK || err == RU_E_SIGNATURE, "verify says yes or signature");
}

/*  Text of min..max code points in valid UTF-8, a view into [base, base +
 *  size). */
static void
s_check_text_in(ru_str_t s, size_t min, size_t max, const uint8_t *base, size_t size,
                const char *what)
{
    size_t chars = 0;
    fuzz_require(ru_utf8_check(s.ptr, s.len, &chars) == RU_OK, what);
    fuzz_require(chars >= min && chars <= max, what);
    fuzz_check_inside(s.ptr, s.len, base, size, what);
}

/*  Text of min..max code points in valid UTF-8, a view into the payload. */
static void
s_check_text(ru_str_t s, size_t min, size_t max, const ru_envelope_t *env, const char *what)
{
    s_check_text_in(s, min, max, env->payload, env->payload_len, what);
}

static void
s_check_name(ru_str_t s, const ru_envelope_t *env, const char *what)
{
    fuzz_require(ru_name_check(s.ptr, s.len) == RU_OK, what);
    fuzz_check_inside(s.ptr, s.len, env->payload, env->payload_len, what);
}

static int
s_is_zero_str(ru_str_t s)
{
    return s.ptr == NULL && s.len == 0;
}

static int
s_is_zero_ref(const ru_ref_t *r)
{
    return r->seq == 0 && memcmp(r->origin, s_zero, RU_KEY_BYTES) == 0;
}

/*  An attachment obeys PROTOCOL.md section 5.7. */
static void
s_check_media(const ru_media_t *m, const ru_envelope_t *env)
{
    fuzz_require(m->size >= 1 && m->size <= RU_MAX_BLOB_SIZE, "blob size");
    fuzz_require(m->type.len >= 3 && memchr(m->type.ptr, '/', m->type.len) != NULL, "MIME type");
    fuzz_check_inside(m->type.ptr, m->type.len, env->payload, env->payload_len, "MIME type");
    s_check_text(m->name, 0, RU_MAX_FILE_NAME, env, "file name");
    fuzz_require(memchr(m->name.ptr, '/', m->name.len) == NULL, "no path in a file name");
    s_check_text(m->description, 0, RU_MAX_ALT_CHARS, env, "alt text");
    if (!m->is_image)
        return;
    fuzz_require(m->type.len > 6 && memcmp(m->type.ptr, "image/", 6) == 0, "an image's type");
    fuzz_require(m->width >= 1 && m->width <= RU_MAX_IMAGE_SIDE && m->height >= 1 &&
                     m->height <= RU_MAX_IMAGE_SIDE && m->thumb_width >= 1 &&
                     m->thumb_width <= RU_MAX_IMAGE_SIDE && m->thumb_height >= 1 &&
                     m->thumb_height <= RU_MAX_IMAGE_SIDE,
                 "image sides");
    fuzz_require(m->thumb_size >= 1 && m->thumb_size <= RU_MAX_BLOB_SIZE, "thumbnail size");
    fuzz_require(m->focus_x <= RU_MAX_FOCUS && m->focus_y <= RU_MAX_FOCUS, "focus");
    s_check_text(m->blurhash, 6, RU_MAX_BLURHASH, env, "blurhash");
}

/*  Text of min_chars..max_chars code points and at most max_bytes bytes. */
static void
s_check_bounded(ru_str_t s, size_t min_chars, size_t max_chars, size_t max_bytes,
                const uint8_t *base, size_t size, const char *what)
{
    fuzz_require(s.len <= max_bytes, what);
    s_check_text_in(s, min_chars, max_chars, base, size, what);
}

/*  A person obeys PROTOCOL.md section 5.8; its strings are views into
 *  [base, base + size). */
static void
s_check_person(const ru_person_t *p, const uint8_t *base, size_t size)
{
    const struct {
        ru_str_t s;
        size_t max_bytes, max_chars;
        const char *what;
    } texts[] = {
        {p->dir_id, 128, 128, "dir_id"},         {p->title, 400, 100, "title"},
        {p->department, 400, 100, "department"}, {p->site, 400, 100, "site"},
        {p->office, 400, 100, "office"},         {p->phone, 64, 64, "phone"},
        {p->email, 254, 254, "email"},           {p->manager, 128, 128, "manager"},
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        s_check_bounded(texts[i].s, 0, texts[i].max_chars, texts[i].max_bytes, base, size,
                        texts[i].what);
    fuzz_require(p->n_skills <= 32, "at most 32 skills");
    for (uint32_t i = 0; i < p->n_skills; i++)
        s_check_bounded(p->skills[i], 1, 50, 200, base, size, "a skill");
    fuzz_require(p->n_fields <= 4, "at most 4 profile fields");
    for (uint32_t i = 0; i < p->n_fields; i++) {
        s_check_bounded(p->fields[i].name, 1, 255, 1020, base, size, "a field's name");
        s_check_bounded(p->fields[i].value, 0, 255, 1020, base, size, "a field's value");
    }
    fuzz_require(p->departed == 0 || p->departed == 1, "departed");
}

/*  The field version 3 adds: a person where the kind has one, obeying its
 *  rules, and only in version 3. */
static void
s_check_v3(const ru_update_t *u, unsigned uses, const ru_envelope_t *env)
{
    static const ru_person_t none;
    if (!u->has_person) {
        fuzz_require(memcmp(&u->person, &none, sizeof none) == 0, "no person is zero");
        return;
    }
    fuzz_require((uses & U_PERSON) && u->version == 3, "a person is a profile's of version 3");
    s_check_person(&u->person, env->payload, env->payload_len);
}

/*  The fields version 2 adds: those the kind uses obey their rules, the
 *  others are zero. */
static void
s_check_v2(const ru_update_t *u, unsigned uses, const ru_envelope_t *env)
{
    if (uses & U_MEDIA)
        s_check_text(u->spoiler, 0, RU_MAX_SPOILER_CHARS, env, "content warning");
    else
        fuzz_require(s_is_zero_str(u->spoiler), "no content warning is empty");
    fuzz_require(u->sensitive == 0 || ((uses & U_MEDIA) && u->sensitive == 1), "sensitive");
    fuzz_require(u->n_media <= ((uses & U_MEDIA) ? RU_MAX_MEDIA : 0), "attachments");
    for (uint32_t i = 0; i < u->n_media; i++)
        s_check_media(&u->media[i], env);
    fuzz_require((uses & U_IMAGES) || (!u->has_avatar && !u->has_header), "avatar, header");
    if (u->has_avatar)
        fuzz_require(u->avatar.is_image, "an avatar is an image");
    if (u->has_avatar)
        s_check_media(&u->avatar, env);
    if (u->has_header)
        fuzz_require(u->header.is_image, "a header is an image");
    if (u->has_header)
        s_check_media(&u->header, env);
    fuzz_require(u->version >= 2 || (!u->spoiler.len && !u->sensitive && !u->n_media &&
                                     !u->has_avatar && !u->has_header),
                 "version 1 has no field of version 2");
}

/*  Each field the kind uses obeys its rule; each other field is zero. */
static void
s_check_body(const ru_update_t *u, const ru_envelope_t *env)
{
    unsigned uses = s_uses[u->kind];
    s_check_v2(u, uses, env);
    s_check_v3(u, uses, env);
    if (uses & U_TARGET)
        fuzz_require(u->target.seq >= 1, "target seq >= 1");
    else
        fuzz_require(s_is_zero_ref(&u->target), "unused target is zero");
    if (uses & U_TEXT) /* empty beside attachments */
        s_check_text(u->text, u->n_media ? 0 : 1, RU_MAX_TEXT_CHARS, env,
                     "text: 1..5000 chars of UTF-8");
    else
        fuzz_require(s_is_zero_str(u->text), "unused text is empty");
    fuzz_require((unsigned) u->visibility <= ((uses & U_VIS) ? RU_VIS_MAX : 0), "visibility");
    if ((uses & U_GROUP) && u->has_group)
        fuzz_require(u->group.seq >= 1, "group seq >= 1");
    else
        fuzz_require(!u->has_group && s_is_zero_ref(&u->group), "no group is zero");
    if (uses & U_USER)
        s_check_name(u->user.name, env, "followed user's name");
    else
        fuzz_require(s_is_zero_str(u->user.name) && !memcmp(u->user.home, s_zero, RU_KEY_BYTES),
                     "unused user is zero");
    if (uses & U_DISPLAY)
        s_check_text(u->display_name, 0, RU_MAX_DISPLAY_CHARS, env, "display name");
    else
        fuzz_require(s_is_zero_str(u->display_name), "unused display name is empty");
    if (uses & U_NOTE)
        s_check_text(u->note, 0, RU_MAX_NOTE_CHARS, env, "note");
    else
        fuzz_require(s_is_zero_str(u->note), "unused note is empty");
    if (uses & U_NAME)
        s_check_name(u->name, env, "group name");
    else
        fuzz_require(s_is_zero_str(u->name), "unused name is empty");
}

static void
s_check_update(const ru_update_t *u, const ru_envelope_t *env)
{
    fuzz_require(u->seq >= 1, "seq >= 1");
    fuzz_require(u->seq > 1 || memcmp(u->prev, s_zero, RU_HASH_BYTES) == 0,
                 "seq 1 has a zero prev");
    fuzz_check_clock(&u->clock);
    fuzz_require(ru_clock_get(&u->clock, u->origin) == 0, "the origin is not in its own delta");
    fuzz_require(memcmp(u->origin, env->payload + 4, RU_KEY_BYTES) == 0,
                 "origin at bytes 4..35 of the payload");
    fuzz_require(u->version == env->payload[1] && u->version >= 1 && u->version <= 3,
                 "the version is byte 1 of the payload");
    s_check_name(u->author, env, "author name");
    fuzz_require(u->kind >= 1 && u->kind <= RU_KIND_MAX && ru_kind_name(u->kind) != NULL,
                 "known kind");
    s_check_body(u, env);
}

/*  The key re-encoded updates are signed with, made once. */
static const ru_key_t *
s_key(void)
{
    static ru_key_t *key;
    static const uint8_t seed[RU_SEED_BYTES] = {'f', 'u', 'z', 'z'};
    if (!key)
        fuzz_require(ru_key_from_seed(seed, &key) == RU_OK, "make the signing key");
    return key;
}

/*  Does u name us anywhere but as its origin: in its delta, a ref, or the
 *  fork it resolves? The encoder refuses an update that names its own
 *  origin there, so such an update is not ours to sign. */
static int
s_names_us(const ru_update_t *u, const uint8_t *us)
{
    return ru_clock_get(&u->clock, us) != 0 || memcmp(u->target.origin, us, RU_KEY_BYTES) == 0 ||
           (u->has_group && memcmp(u->group.origin, us, RU_KEY_BYTES) == 0) ||
           (u->kind == RU_KIND_RESOLVE && memcmp(u->fork.origin, us, RU_KEY_BYTES) == 0);
}

/*  Encodes u again under our key: the payload must be the input's bytes,
 *  but for the origin. */
static void
s_check_reencode(ru_update_t *u, const ru_envelope_t *env)
{
    const ru_key_t *key = s_key();
    memcpy(u->origin, ru_key_public(key), RU_KEY_BYTES);
    if (s_names_us(u, u->origin))
        return;
    ru_buf_t out;
    ru_buf_init(&out);
    ru_envelope_t again;
    fuzz_require(ru_update_encode(u, key, &out) == RU_OK, "a decoded update encodes");
    fuzz_require(ru_envelope_parse(out.data, out.len, &again) == RU_OK, "the encoding parses");
    fuzz_require(ru_envelope_verify(&again) == RU_OK, "the encoding verifies");
    fuzz_require(again.payload[1] <= env->payload[1], "the encoder writes the least version");
    if (again.payload[1] < env->payload[1]) { /* a payload a lower version holds */
        ru_buf_fini(&out);
        return;
    }
    fuzz_require(again.payload_len == env->payload_len &&
                     memcmp(again.payload, env->payload, 4) == 0 &&
                     memcmp(again.payload + 4 + RU_KEY_BYTES, env->payload + 4 + RU_KEY_BYTES,
                            env->payload_len - 4 - RU_KEY_BYTES) == 0,
                 "decode then encode gives the same payload");
    ru_buf_fini(&out);
}

static void
s_check_payload(const uint8_t *data, size_t size)
{
    if (size > UINT32_MAX)
        return;
    ru_envelope_t env = {.wire = data,
                         .wire_len = (uint32_t) size,
                         .payload = data,
                         .payload_len = (uint32_t) size,
                         .sig = NULL,
                         .origin = size >= 4 + RU_KEY_BYTES ? data + 4 : NULL};
    ru_update_t u;
    ru_update_init(&u);
    if (ru_update_decode(&env, &u) == RU_OK) {
        uint64_t seq = 0;
        fuzz_require(ru_envelope_seq(&env, &seq) == RU_OK && seq == u.seq,
                     "the seq read before verification is the decoded seq");
        fuzz_require(size <= RU_MAX_PAYLOAD, "payload within RU_MAX_PAYLOAD");
        fuzz_require(size >= 4 + RU_KEY_BYTES, "a decoded payload holds an origin");
        s_check_update(&u, &env);
        s_check_reencode(&u, &env);
    }
    ru_update_fini(&u);
}

/*  The input as a person alone: one that unpacks obeys section 5.8 and
 *  packs again into the input's bytes. */
static void
s_check_bare_person(const uint8_t *data, size_t size)
{
    ru_person_t p;
    if (ru_person_unpack(data, size, &p) != RU_OK)
        return;
    s_check_person(&p, data, size);
    ru_buf_t out;
    ru_buf_init(&out);
    msgpack_packer pk;
    ru_mp_packer_init(&pk, &out);
    ru_person_pack(&pk, &p);
    fuzz_require(ru_buf_status(&out) == RU_OK && out.len == size &&
                     memcmp(out.data, data, size) == 0,
                 "unpack then pack gives the same person");
    ru_buf_fini(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_check_envelope(data, size);
    s_check_payload(data, size);
    s_check_bare_person(data, size);
    return 0;
}
