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

/*  The domain-separation prefixes of update signatures: one per payload
 *  version, so that a signature never passes for another version's. */
#define RU_UPDATE_DOMAIN "ruche/update/v1\n"
#define RU_UPDATE_DOMAIN_V2 "ruche/update/v2\n"
#define RU_UPDATE_DOMAIN_V3 "ruche/update/v3\n"

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

/*  An attachment, an avatar or a header: a blob named by the hash of its
 *  bytes, which the update's signature covers through this descriptor
 *  (PROTOCOL.md section 5.7). An image's thumbnail is a blob of its own,
 *  of the same type. */
typedef struct {
    uint8_t hash[RU_HASH_BYTES]; /* BLAKE2b-256 of the blob's bytes */
    uint64_t size;               /* of the blob, 1 .. RU_MAX_BLOB_SIZE */
    ru_str_t type;               /* MIME type, found from the bytes */
    ru_str_t name;               /* the file's name as shown, no path; may be empty */
    ru_str_t description;        /* alt text; may be empty */
    int is_image;                /* 0: a file, served as a download; 1: the fields below */
    uint32_t width, height;
    uint8_t thumb[RU_HASH_BYTES];
    uint64_t thumb_size;
    uint32_t thumb_width, thumb_height;
    ru_str_t blurhash;
    uint32_t focus_x, focus_y; /* 0 .. RU_MAX_FOCUS, RU_MAX_FOCUS / 2 the centre */
} ru_media_t;

/*  A profile field as Mastodon shows it: a name and its value. */
typedef struct {
    ru_str_t name;  /* 1 .. RU_MAX_FIELD_CHARS code points */
    ru_str_t value; /* 0 .. RU_MAX_FIELD_CHARS code points */
} ru_pfield_t;

/*  The employee behind a profile, as the company directory and the
 *  employee describe them (PROTOCOL.md section 5.8). Every string but a
 *  skill and a field's name may be empty: not known. */
typedef struct {
    ru_str_t dir_id; /* the directory's stable id of the employee: one person
                        on every site, whichever site is their home */
    ru_str_t title, department, site, office; /* site: where they work */
    ru_str_t phone, email;
    ru_str_t manager; /* the manager's dir_id */
    uint32_t n_skills;
    ru_str_t skills[RU_MAX_SKILLS]; /* each 1 .. RU_MAX_SKILL_CHARS */
    uint32_t n_fields;
    ru_pfield_t fields[RU_MAX_FIELDS];
    int departed; /* 1: no longer with the company, or disabled in the directory */
} ru_person_t;

/*  The decoded payload. Which body fields a kind uses:
 *    post          text, visibility, group (has_group 0: none), and from
 *                  version 2 spoiler, sensitive, media
 *    reply         target, text, visibility, and from version 2 spoiler,
 *                  sensitive, media
 *    edit          target, text, and from version 2 spoiler, sensitive,
 *                  media (an edit replaces all of them)
 *    delete, like, unlike, group_join, group_leave     target
 *    follow, unfollow                                  user
 *    profile       display_name, note, from version 2 avatar, header, and
 *                  from version 3 person (has_person 0: none)
 *    group_create  name, note (the group's description)
 *    resolve       fork (the forked origin, never the update's own, and
 *                  its fork seq), kept (the hash of the variant of that
 *                  seq that every site keeps): PROTOCOL.md section 16
 *  Unused fields are ignored by the encoder and zero after decoding.
 *  version is set by the decoder; the encoder ignores it and writes the
 *  least version that holds the fields (version 1 unless a version 2
 *  or 3 field is set), so older nodes go on reading what they can. */
typedef struct {
    uint8_t version;
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
    ru_str_t spoiler; /* content warning, may be empty */
    int sensitive;    /* the media are hidden until the reader asks */
    uint32_t n_media;
    ru_media_t media[RU_MAX_MEDIA];
    int has_avatar, has_header;
    ru_media_t avatar, header; /* images */
    int has_person;
    ru_person_t person;
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

/*  Attachments in their wire form (an array of 0 .. RU_MAX_MEDIA
 *  descriptors, PROTOCOL.md section 5.7), for whoever keeps them next to
 *  a post: ru_media_pack appends media[0 .. n) to pk, ru_media_unpack
 *  reads exactly len bytes back into media (RU_MAX_MEDIA of them) with
 *  the checks of a decoder; strings in media are views into bytes. */
void ru_media_pack(msgpack_packer *pk, const ru_media_t *media, uint32_t n);
RU_MUST_CHECK ru_err ru_media_unpack(const uint8_t *bytes, size_t len, ru_media_t *media,
                                     uint32_t *n);

/*  A person in its wire form (PROTOCOL.md section 5.8), for whoever keeps
 *  it next to a profile: ru_person_pack appends it to pk, ru_person_unpack
 *  reads exactly len bytes back with the checks of a decoder; strings in
 *  person are views into bytes. */
void ru_person_pack(msgpack_packer *pk, const ru_person_t *person);
RU_MUST_CHECK ru_err ru_person_unpack(const uint8_t *bytes, size_t len, ru_person_t *person);

/*  The update's hash: BLAKE2b-256 of its payload bytes. The next update of
 *  the same origin carries it as prev. */
void ru_update_hash(const ru_envelope_t *env, uint8_t *hash);

/*  "post", "reply" ... for logs and test vectors; NULL for unknown kinds. */
const char *ru_kind_name(ru_kind kind);
/*  The kind of a name, 0 if none. */
ru_kind ru_kind_from_name(const char *name);

#endif
