/*  ru_limits.h - the hard limits of the wire protocol (proto/PROTOCOL.md,
 *  section "Limits").
 *
 *  Decoders check every size against these before they allocate or copy
 *  anything; encoders refuse to produce anything a decoder would refuse.
 *  Changing one of them changes the protocol: bump RU_PROTO_VERSION.
 */
#ifndef RU_LIMITS_H
#define RU_LIMITS_H

/*  Version of the sync messages, and of the update payload format before
 *  version 2, which adds content warnings, attachments, avatars and
 *  headers to version 1, and version 3, which adds the employee's entry in
 *  the company directory to profiles (PROTOCOL.md section 10). A node
 *  reads payloads of every version and writes the least one that holds an
 *  update. */
#define RU_PROTO_VERSION 1
#define RU_PAYLOAD_VERSION_MAX 3

/*  Bytes of an Ed25519 public key (a node id), of a signature, of a hash. */
#define RU_KEY_BYTES 32
#define RU_SIG_BYTES 64
#define RU_HASH_BYTES 32

/*  The least HLC time an update may carry, in ms since the epoch:
 *  2025-01-01T00:00:00Z, before any ruche node made an update. */
#define RU_MIN_HLC_MS 1735689600000ull
/*  An update's payload, in bytes. */
#define RU_MAX_PAYLOAD 65536
/*  Entries in any vector clock: a full clock or a delta. */
#define RU_MAX_CLOCK 1024
/*  Text of a post, reply or edit: Unicode code points and UTF-8 bytes. */
#define RU_MAX_TEXT_CHARS 5000
#define RU_MAX_TEXT_BYTES 20000
/*  A user name (author, followed user): bytes of [a-z0-9_.-]. */
#define RU_MAX_NAME 64
/*  A profile's display name and note, a group's description: code points. */
#define RU_MAX_DISPLAY_CHARS 100
#define RU_MAX_NOTE_CHARS 1000
/*  Bytes those may take in UTF-8 (four per code point at most). */
#define RU_MAX_DISPLAY_BYTES (4 * RU_MAX_DISPLAY_CHARS)
#define RU_MAX_NOTE_BYTES (4 * RU_MAX_NOTE_CHARS)
/*  Version 2: a content warning (code points, bytes), the attachments of
 *  one post, and the fields of one attachment: a MIME type and a file name
 *  in bytes, a description (alt text) in code points and bytes, a blurhash
 *  in bytes, the size of a blob in bytes (below 2^40), the sides of an
 *  image in pixels, and a focal point's coordinates (0..200, 100 the
 *  centre). */
#define RU_MAX_SPOILER_CHARS 500
#define RU_MAX_SPOILER_BYTES (4 * RU_MAX_SPOILER_CHARS)
#define RU_MAX_MEDIA 8
#define RU_MAX_MEDIA_TYPE 127
#define RU_MAX_FILE_NAME 255
#define RU_MAX_ALT_CHARS 1500
#define RU_MAX_ALT_BYTES (4 * RU_MAX_ALT_CHARS)
#define RU_MAX_BLURHASH 166
#define RU_MAX_BLOB_SIZE ((1ull << 40) - 1)
#define RU_MAX_IMAGE_SIDE 65535
#define RU_MAX_FOCUS 200
/*  Version 3: a profile's person (PROTOCOL.md section 5.8). The
 *  directory's id of an employee (theirs and their manager's) in bytes;
 *  a title, department, site or office in code points; a phone number and
 *  an e-mail address in bytes; skills: how many, and code points each;
 *  profile fields (name and value): how many, and code points each. */
#define RU_MAX_DIR_ID 128
#define RU_MAX_WORK_CHARS 100
#define RU_MAX_WORK_BYTES (4 * RU_MAX_WORK_CHARS)
#define RU_MAX_PHONE 64
#define RU_MAX_EMAIL 254
#define RU_MAX_SKILLS 32
#define RU_MAX_SKILL_CHARS 50
#define RU_MAX_SKILL_BYTES (4 * RU_MAX_SKILL_CHARS)
#define RU_MAX_FIELDS 4
#define RU_MAX_FIELD_CHARS 255
#define RU_MAX_FIELD_BYTES (4 * RU_MAX_FIELD_CHARS)
/*  Updates in one sync batch, and the bytes of its envelopes together. */
#define RU_MAX_BATCH 256
#define RU_MAX_BATCH_BYTES (4u * 1024u * 1024u)
/*  The bytes of a blob one chunk message carries (the last may carry
 *  fewer), and the chunks one want message may ask for. */
#define RU_BLOB_CHUNK (1024u * 1024u)
#define RU_MAX_WANT 8
/*  Batches a node may grant in one hello or credit message. */
#define RU_MAX_CREDIT 64
/*  Any single protocol message (a batch is the largest). */
#define RU_MAX_MESSAGE (RU_MAX_BATCH_BYTES + 64u)

#endif
