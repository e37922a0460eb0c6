/*  ru_pubid.h - the ids clients see: numeric strings, equal on every node.
 *
 *  Mastodon clients expect ids to be strings of digits, and they sort
 *  statuses by them. A status id is the decimal form of the 128-bit number
 *  hlc << 64 | (first 8 bytes of the origin key): it sorts in timeline
 *  order (HLC, then origin), it is the same on every node, and it names
 *  one update, because one origin never makes two updates with one HLC.
 *  An id is turned back into the 16-byte prefix of the timeline key.
 *
 *  Accounts and groups have no time to sort by: their id is the decimal
 *  form of 63 bits of BLAKE2b over their key (user: home | name | 0;
 *  group: the ref of its group_create), recorded in the ids database when
 *  the account or group is first seen, so an id can be looked up. The
 *  record is kind | key, the kind a byte (RU_PUBID_USER, RU_PUBID_GROUP):
 *  the length of the key cannot tell them apart, for a user with a name
 *  of 7 bytes has a key as long as a group's ref.
 *
 *  Stores of schema 1 kept the key alone; ru_pubid_upgrade() rewrites
 *  their ids with the kind, taking a record of a ref's length for a group
 *  when the groups database holds that ref (a user key never equals a
 *  ref there: its 7 name bytes would be the top bytes of a seq, which are
 *  0 below 2^56, and names hold no 0 byte).
 */
#ifndef RU_PUBID_H
#define RU_PUBID_H

#include <stdint.h>

#include "ruche/ru_error.h"
#include "ruche/ru_update.h"

#include "ru_store.h"

/*  Room for any id with its NUL (39 digits for 128 bits). */
#define RU_PUBID_SIZE 40
/*  Bytes of the timeline-key prefix a status id stands for. */
#define RU_PUBID_POS 16

/*  A status id from its HLC and origin. */
void ru_pubid_status(uint64_t hlc, const uint8_t *origin, char *out);
/*  The timeline-key prefix (hlc | 8 bytes of origin) of a status id.
 *  RU_E_INVALID for anything but a canonical decimal below 2^128. */
RU_MUST_CHECK ru_err ru_pubid_status_parse(const char *id, uint8_t *pos);

/*  The status whose timeline position starts with pos (RU_PUBID_POS
 *  bytes, as from ru_pubid_status_parse); RU_E_NOT_FOUND if there is none
 *  (deleted statuses leave the timeline). */
RU_MUST_CHECK ru_err ru_pubid_status_ref(ru_txn_t *txn, const uint8_t *pos, ru_ref_t *ref);

/*  Account and group ids, as numbers and as text. */
uint64_t ru_pubid_user(const uint8_t *home, ru_str_t name);
uint64_t ru_pubid_group(const ru_ref_t *group);
void ru_pubid_text(uint64_t id, char *out);
/*  Parses the text form of an account or group id. */
RU_MUST_CHECK ru_err ru_pubid_parse(const char *text, uint64_t *id);

/*  The kinds of record in the ids database (its first byte). */
typedef enum { RU_PUBID_USER = 1, RU_PUBID_GROUP = 2 } ru_pubid_kind;

/*  Records the ids of a user or group (idempotent). */
RU_MUST_CHECK ru_err ru_pubid_note_user(ru_txn_t *txn, const uint8_t *home, ru_str_t name);
RU_MUST_CHECK ru_err ru_pubid_note_group(ru_txn_t *txn, const ru_ref_t *group);
/*  The user key (home | name | 0) recorded for an account id, copied to
 *  key (RU_DBKEY_USER bytes of room), its length in *len. RU_E_NOT_FOUND
 *  if the id is unknown or a group's. */
RU_MUST_CHECK ru_err ru_pubid_lookup_user(ru_txn_t *txn, uint64_t id, uint8_t *key, size_t *len);
/*  The ref recorded for a group id. RU_E_NOT_FOUND if the id is unknown
 *  or an account's. */
RU_MUST_CHECK ru_err ru_pubid_lookup_group(ru_txn_t *txn, uint64_t id, ru_ref_t *ref);
/*  Is home|name a user this node has recorded? */
int ru_pubid_known_user(ru_txn_t *txn, const uint8_t *home, ru_str_t name);
/*  Calls fn(ctx, key, len) with the user key of every account id, while
 *  it returns 0 (fn must not write to the ids database). */
RU_MUST_CHECK ru_err ru_pubid_each_user(ru_txn_t *txn,
                                        int (*fn)(void *ctx, const uint8_t *key, size_t len),
                                        void *ctx);

/*  Schema 1 to 2: writes the kind into every record of the ids database. */
RU_MUST_CHECK ru_err ru_pubid_upgrade(ru_txn_t *txn);

#endif
