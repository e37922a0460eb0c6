/*  ru_update.h - the signed update: one entry of an origin node's log.
 *
 *  Everything that changes shared state (a post, a like, a follow ...) is an
 *  update made and signed by the node the user lives on, then replicated
 *  as is. proto/PROTOCOL.md specifies the bytes; this is the C side.
 *
 *  Two layers, in the order a receiver must use them:
 *    1. the envelope: [payload bin, signature bin 64]. ru_envelope_parse()
 *       checks its shape and limits and finds the origin at its fixed place
 *       at the head of the payload; ru_envelope_verify() checks the
 *       signature. Nothing else is decoded before that.
 *    2. the payload: ru_update_decode() turns verified payload bytes into an
 *       ru_update_t and checks every field against the protocol's rules.
 *  ru_update_open() does all three for callers with nothing to do between.
 *
 *  ru_update_t is caller-owned (ru_update_init/fini). After decoding, its
 *  strings are views into the payload bytes: keep those alive while the
 *  update is used. Its clock is owned and freed by ru_update_fini.
 */
#ifndef RU_UPDATE_H
#define RU_UPDATE_H

#include <stdint.h>

#include "ruche/ru_buf.h"
#include "ruche/ru_clock.h"
#include "ruche/ru_error.h"
#include "ruche/ru_key.h"
#include "ruche/ru_limits.h"
#include "ruche/ru_mp.h"

/*  The domain-separation prefix of update signatures. */
#define RU_UPDATE_DOMAIN "ruche/update/v1\n"

typedef enum {
    RU_KIND_POST = 1,
    RU_KIND_REPLY = 2,
    RU_KIND_EDIT = 3,
    RU_KIND_DELETE = 4,
    RU_KIND_LIKE = 5,
    RU_KIND_UNLIKE = 6,
    RU_KIND_FOLLOW = 7,
    RU_KIND_UNFOLLOW = 8,
    RU_KIND_PROFILE = 9,
    RU_KIND_GROUP_CREATE = 10,
    RU_KIND_GROUP_JOIN = 11,
    RU_KIND_GROUP_LEAVE = 12,
    RU_KIND_RESOLVE = 13, /* an operator's choice of one variant of a fork */
    RU_KIND_MAX = RU_KIND_RESOLVE
} ru_kind;

/*  Who may see a post or reply (Mastodon's visibilities). */
typedef enum {
    RU_VIS_PUBLIC = 0,
    RU_VIS_UNLISTED = 1,
    RU_VIS_PRIVATE = 2, /* followers only */
    RU_VIS_DIRECT = 3,  /* mentioned users only */
    RU_VIS_MAX = RU_VIS_DIRECT
} ru_visibility;

/*  A view of text: not NUL-terminated. */
typedef struct {
    const char *ptr;
    uint32_t len;
} ru_str_t;

/*  An update, named by its origin and seq: what replies, edits, likes and
 *  deletes point at; a group is named by its group_create update. */
typedef struct {
    uint8_t origin[RU_KEY_BYTES];
    uint64_t seq;
} ru_ref_t;

/*  A user: their home node and their name there (alice at paris). */
typedef struct {
    uint8_t home[RU_KEY_BYTES];
    ru_str_t name;
} ru_user_t;

/*  The decoded payload. Which body fields a kind uses:
 *    post          text, visibility, group (has_group 0: none)
 *    reply         target, text, visibility
 *    edit          target, text
 *    delete, like, unlike, group_join, group_leave     target
 *    follow, unfollow                                  user
 *    profile       display_name, note
 *    group_create  name, note (the group's description)
 *    resolve       fork (the forked origin, never the update's own, and
 *                  its fork seq), kept (the hash of the variant of that
 *                  seq that every site keeps): PROTOCOL.md section 16
 *  Unused fields are ignored by the encoder and zero after decoding. */
typedef struct {
    uint8_t origin[RU_KEY_BYTES];
    uint64_t seq;                /* 1, 2, 3 ... per origin */
    uint8_t prev[RU_HASH_BYTES]; /* hash of the origin's update seq - 1 */
    ru_clock_t clock;            /* delta: entries changed since seq - 1 */
    uint64_t hlc;
    ru_str_t author;
    ru_kind kind;
    ru_ref_t target;
    ru_str_t text;
    ru_visibility visibility;
    int has_group;
    ru_ref_t group;
    ru_user_t user;
    ru_str_t display_name;
    ru_str_t note;
    ru_str_t name;
    ru_ref_t fork;
    uint8_t kept[RU_HASH_BYTES];
} ru_update_t;

/*  A parsed envelope: views into the wire bytes. */
typedef struct {
    const uint8_t *wire; /* the whole envelope */
    uint32_t wire_len;
    const uint8_t *payload;
    uint32_t payload_len;
    const uint8_t *sig;    /* RU_SIG_BYTES */
    const uint8_t *origin; /* RU_KEY_BYTES, inside the payload */
} ru_envelope_t;

void ru_update_init(ru_update_t *self);
void ru_update_fini(ru_update_t *self);

/*  Checks u against the protocol's rules, encodes its payload, signs it
 *  with key (whose public key must be u->origin: else RU_E_INVALID) and
 *  appends the envelope to out. Fails with the error a decoder would give
 *  for the same fields, and RU_E_TOO_BIG past RU_MAX_PAYLOAD. */
RU_MUST_CHECK ru_err ru_update_encode(const ru_update_t *u, const ru_key_t *key, ru_buf_t *out);

/*  Parses exactly len bytes as one envelope (no signature check). */
RU_MUST_CHECK ru_err ru_envelope_parse(const uint8_t *wire, size_t len, ru_envelope_t *env);
/*  Parses one envelope at the cursor, for envelopes inside a message. */
RU_MUST_CHECK ru_err ru_envelope_read(ru_mp_t *mp, ru_envelope_t *env);
/*  The seq of a parsed envelope, read right after the origin without
 *  verifying anything: only to find an update already held (PROTOCOL.md
 *  section 7). RU_E_TYPE/RU_E_TRUNCATED if no uint is there. */
RU_MUST_CHECK ru_err ru_envelope_seq(const ru_envelope_t *env, uint64_t *seq);
/*  RU_OK if the signature is the origin's, else RU_E_SIGNATURE. */
RU_MUST_CHECK ru_err ru_envelope_verify(const ru_envelope_t *env);

/*  Decodes a verified envelope's payload into u (overwritten). */
RU_MUST_CHECK ru_err ru_update_decode(const ru_envelope_t *env, ru_update_t *u);
/*  Parse, verify, decode. */
RU_MUST_CHECK ru_err ru_update_open(const uint8_t *wire, size_t len, ru_envelope_t *env,
                                    ru_update_t *u);

/*  The update's hash: BLAKE2b-256 of its payload bytes. The next update of
 *  the same origin carries it as prev. */
void ru_update_hash(const ru_envelope_t *env, uint8_t *hash);

/*  "post", "reply" ... for logs and test vectors; NULL for unknown kinds. */
const char *ru_kind_name(ru_kind kind);
/*  The kind of a name, 0 if none. */
ru_kind ru_kind_from_name(const char *name);

#endif
