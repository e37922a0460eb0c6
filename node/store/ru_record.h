/*  ru_record.h - the records of the materialized state: posts (and
 *  replies), groups and profiles, as stored in LMDB.
 *
 *  Records are msgpack arrays written with the canonical packer, so equal
 *  records are equal bytes on every node: the state digest hashes them.
 *  Decoded strings are views into the bytes decoded: decoded straight from
 *  LMDB, they are valid only until the next put or delete of the
 *  transaction (into any database) or its end, so a writer decodes a copy
 *  of the value when it writes before it is done with the record.
 *
 *  The origin of a record's creating update is its database key, so it is
 *  not repeated inside.
 *
 *  Fields that came with version 2 of the payload (content warnings,
 *  attachments, avatars and headers) are written only when one of them is
 *  set: a record without them is the same bytes as before they existed,
 *  so a store written before them and one written after hold equal
 *  records for equal states, and the state digest agrees.
 *  Attachments are kept in their wire form (ru_media_pack), read back
 *  with ru_media_unpack.
 */
#ifndef RU_RECORD_H
#define RU_RECORD_H

#include <stdint.h>

#include "ruche/ru_buf.h"
#include "ruche/ru_error.h"
#include "ruche/ru_update.h"

#include "ru_store.h"

/*  Bytes in their wire form: a view, like the strings. */
typedef struct {
    const uint8_t *ptr;
    uint32_t len;
} ru_packed_t;

typedef struct {
    ru_kind kind;    /* RU_KIND_POST or RU_KIND_REPLY */
    ru_str_t author; /* name at the origin */
    uint64_t hlc;    /* of the creating update: timeline order */
    ru_visibility visibility;
    int has_group;
    ru_ref_t group;
    int has_parent; /* replies: the post answered and the thread's root */
    ru_ref_t parent;
    ru_ref_t root;
    int deleted; /* a tombstone: text empty, in no index */
    ru_str_t text;
    uint64_t edit_hlc; /* of the last applied edit, 0 if never edited */
    uint64_t likes;
    uint64_t replies;
    ru_str_t spoiler;  /* content warning, "" for none */
    int sensitive;     /* media hidden until asked for */
    ru_packed_t media; /* the attachments (ru_media_pack); len 0: none */
} ru_post_rec_t;

typedef struct {
    ru_str_t name;
    ru_str_t description;
    ru_str_t creator; /* name at the origin */
    uint64_t hlc;
    uint64_t members;
} ru_group_rec_t;

typedef struct {
    ru_str_t display_name;
    ru_str_t note;
    uint64_t hlc;
    ru_packed_t avatar; /* an image as a list of one (ru_media_pack); len 0: none */
    ru_packed_t header;
    ru_packed_t person; /* ru_person_pack's form; len 0: none */
} ru_profile_rec_t;

/*  A user's counts, kept with the indexes they count (the counts database)
 *  so that showing an account costs one read. */
typedef struct {
    uint64_t statuses;
    uint64_t following;
    uint64_t followers;
    uint64_t since; /* the hlc of the first status, follow or profile of theirs applied here;
                       0: not known (a record of an older store) */
} ru_counts_rec_t;

#define RU_COUNTS_REC_BYTES 32
#define RU_COUNTS_REC_BYTES_OLD 24 /* before since */

/*  Four big-endian u64s; a record of three reads with since 0, one of
 *  another size as zeros. */
void ru_counts_rec_encode(const ru_counts_rec_t *rec, uint8_t *out);
void ru_counts_rec_decode(const void *bytes, size_t len, ru_counts_rec_t *rec);

/*  Encoders append to out (check ru_buf_status). Decoders read exactly
 *  len bytes; RU_E_STORE for bytes that are not a record (a damaged store),
 *  a post record's fields included: its kind is a post's or a reply's, its
 *  visibility at most RU_VIS_MAX, and only a reply has a parent and root. */
void ru_post_rec_encode(const ru_post_rec_t *rec, ru_buf_t *out);
RU_MUST_CHECK ru_err ru_post_rec_decode(const void *bytes, size_t len, ru_post_rec_t *rec);
void ru_group_rec_encode(const ru_group_rec_t *rec, ru_buf_t *out);
RU_MUST_CHECK ru_err ru_group_rec_decode(const void *bytes, size_t len, ru_group_rec_t *rec);
void ru_profile_rec_encode(const ru_profile_rec_t *rec, ru_buf_t *out);
RU_MUST_CHECK ru_err ru_profile_rec_decode(const void *bytes, size_t len, ru_profile_rec_t *rec);

/*  Loads the post or reply ref from the posts database (a view into txn's
 *  pages, as above); RU_E_NOT_FOUND if there is none. */
RU_MUST_CHECK ru_err ru_post_rec_get(ru_txn_t *txn, const ru_ref_t *ref, ru_post_rec_t *rec);

#endif
