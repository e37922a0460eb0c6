/*  fuzz_update.c - libFuzzer target for the decoders of signed updates.
 *
 *  Each input is tried twice:
 *    1. as a whole envelope: ru_envelope_parse, then ru_envelope_verify on
 *       what parses, and ru_envelope_seq. The signature nearly never
 *       holds; the point is that they refuse any bytes safely.
 *    2. as a bare payload: an envelope made by hand points at the input and
 *       goes straight to ru_update_decode, so the fuzzer reaches the field
 *       decoder without having to forge a signature.
 *  A payload that decodes must obey every rule of the protocol (checked
 *  here independently of the decoder), must give ru_envelope_seq the seq
 *  it decodes to, and must be the canonical encoding
 *  of what it decodes to: re-encoding it gives the same bytes, up to the
 *  origin key, which is replaced by the key this target signs with.
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
    U_NAME = 1 << 7
};

static const unsigned s_uses[RU_KIND_MAX + 1] = {
    [RU_KIND_POST] = U_TEXT | U_VIS | U_GROUP,
    [RU_KIND_REPLY] = U_TARGET | U_TEXT | U_VIS,
    [RU_KIND_EDIT] = U_TARGET | U_TEXT,
    [RU_KIND_DELETE] = U_TARGET,
    [RU_KIND_LIKE] = U_TARGET,
    [RU_KIND_UNLIKE] = U_TARGET,
    [RU_KIND_FOLLOW] = U_USER,
    [RU_KIND_UNFOLLOW] = U_USER,
    [RU_KIND_PROFILE] = U_DISPLAY | U_NOTE,
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

/*  Text of min..max code points in valid UTF-8, a view into the payload. */
static void
s_check_text(ru_str_t s, size_t min, size_t max, const ru_envelope_t *env, const char *what)
{
    size_t chars = 0;
    fuzz_require(ru_utf8_check(s.ptr, s.len, &chars) == RU_OK, what);
    fuzz_require(chars >= min && chars <= max, what);
    fuzz_check_inside(s.ptr, s.len, env->payload, env->payload_len, what);
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

/*  Each field the kind uses obeys its rule; each other field is zero. */
static void
s_check_body(const ru_update_t *u, const ru_envelope_t *env)
{
    unsigned uses = s_uses[u->kind];
    if (uses & U_TARGET)
        fuzz_require(u->target.seq >= 1, "target seq >= 1");
    else
        fuzz_require(s_is_zero_ref(&u->target), "unused target is zero");
    if (uses & U_TEXT)
        s_check_text(u->text, 1, RU_MAX_TEXT_CHARS, env, "text: 1..5000 chars of UTF-8");
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_check_envelope(data, size);
    s_check_payload(data, size);
    return 0;
}
