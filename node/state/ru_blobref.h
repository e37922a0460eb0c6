/*  ru_blobref.h - who needs which blob: the reference counts of the media
 *  files beside the store.
 *
 *  A blob (store/ru_blob.h: a file named by the BLAKE2b-256 of its bytes)
 *  is referenced by the attachments of live statuses, by avatars and
 *  headers, and by uploads not yet expired. Each reference is counted here,
 *  in the same transaction as the record that makes it, so the counts can
 *  never disagree with the state: for an image, the image and its
 *  thumbnail are each counted. The counts are this site's bookkeeping,
 *  not replicated state (no part of the state digest).
 *
 *  A blob that gains its first reference is listed as wanted: the site
 *  may not hold its bytes yet (a peer's attachment), and whoever fetches
 *  blobs works through that list. A blob that loses its last reference is
 *  listed for collection with the time it did; the collector removes its
 *  file once a grace period has passed and no reference came back, so an
 *  upload made just before a post that uses it, or a delete raced by an
 *  edit, never loses a file someone needs.
 *
 *  Writers only (the store actor's transactions), except ru_blobref_get.
 */
#ifndef RU_BLOBREF_H
#define RU_BLOBREF_H

#include <stdint.h>

#include "ruche/ru_error.h"
#include "ruche/ru_update.h"

#include "ru_store.h"

/*  What the site knows of a blob it counts: views into txn's pages. type,
 *  name and size are those of the first reference it gained (a thumbnail
 *  has its image's type and no name). */
typedef struct {
    uint64_t refs;
    ru_str_t type;
    ru_str_t name;
    uint64_t size; /* its bytes, as the descriptor says */
} ru_blobref_t;

/*  Adds delta (1 or -1) to the count of every blob that media[0 .. n)
 *  names, now_ms being the time (for collection). A count never goes
 *  below zero: taking a reference the store does not hold is ignored. */
RU_MUST_CHECK ru_err ru_blobref_media(ru_txn_t *txn, const ru_media_t *media, uint32_t n,
                                      int delta, uint64_t now_ms);
/*  The same for attachments kept in their wire form (ru_media_pack), as
 *  records keep them; len 0 names none. */
RU_MUST_CHECK ru_err ru_blobref_packed(ru_txn_t *txn, const uint8_t *packed, uint32_t len,
                                       int delta, uint64_t now_ms);
/*  What a local user's statuses hold in files (their quota's measure):
 *  ru_blobref_usage adds delta (1 or -1) times the bytes media[0 .. n)
 *  take (an image and its thumbnail) to user's; ru_blobref_used reads
 *  them (0 for a user who has none). */
RU_MUST_CHECK ru_err ru_blobref_usage(ru_txn_t *txn, ru_str_t user, const ru_media_t *media,
                                      uint32_t n, int delta);
RU_MUST_CHECK ru_err ru_blobref_used(ru_txn_t *txn, const char *user, uint64_t *bytes);
/*  The bytes media[0 .. n) take: each file, and each image's thumbnail. */
uint64_t ru_blobref_bytes(const ru_media_t *media, uint32_t n);

/*  The count of hash; RU_E_NOT_FOUND when nothing references it. */
RU_MUST_CHECK ru_err ru_blobref_get(ru_txn_t *txn, const uint8_t *hash, ru_blobref_t *out);

#endif
