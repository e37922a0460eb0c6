/*  ru_upload.h - the files this site's users have uploaded: the records
 *  behind Mastodon's media ids (POST /api/v2/media).
 *
 *  An upload is made before the status that uses it: the client sends the
 *  file, gets an id at once, and names the id when it posts. Between the
 *  two the site processes the file off the request's thread (an image is
 *  decoded, stripped and resized; any other file is typed and stored as
 *  it is), so an upload is processing, then ready with its attachment's
 *  descriptor (the blobs' hashes, type, sides, blurhash), or failed with
 *  the reason for its owner.
 *
 *  The description (alt text) and focal point can be changed until the
 *  upload is used; a status takes them as they are then, in its signed
 *  descriptor. A ready upload holds a reference on its blobs
 *  (ru_blobref.h, counted by whoever writes the record) until it expires,
 *  so a file is never collected between its upload and the post that
 *  uses it. Uploads are local records: they are not replicated, and ids
 *  mean nothing at other sites (a status's attachments carry ids derived
 *  from their blobs' hashes instead).
 *
 *  Records are writes of the store actor's transactions; reads any
 *  transaction. Strings in a record read are views into txn's pages.
 */
#ifndef RU_UPLOAD_H
#define RU_UPLOAD_H

#include <stdint.h>

#include "ruche/ru_error.h"
#include "ruche/ru_update.h"

#include "ru_record.h"
#include "ru_store.h"

typedef enum {
    RU_UPLOAD_PROCESSING = 0,
    RU_UPLOAD_READY = 1,
    RU_UPLOAD_FAILED = 2
} ru_upload_state;

typedef struct {
    ru_str_t owner; /* a local user's name */
    uint64_t created_ms;
    ru_upload_state state;
    ru_str_t error;       /* failed: why, for people */
    ru_str_t description; /* alt text, as last set */
    uint32_t focus_x, focus_y;
    ru_packed_t media; /* ready: the descriptor as a list of one (ru_media_pack) */
} ru_upload_t;

/*  A new upload id: random, not 0, below 2^63 (a decimal Mastodon id). */
uint64_t ru_upload_new_id(void);

/*  Writes the record of id (and its owner's index entry). */
RU_MUST_CHECK ru_err ru_upload_put(ru_txn_t *txn, uint64_t id, const ru_upload_t *rec);
/*  The record of id; RU_E_NOT_FOUND. RU_E_STORE for a damaged one. */
RU_MUST_CHECK ru_err ru_upload_get(ru_txn_t *txn, uint64_t id, ru_upload_t *rec);
/*  Removes the record of id and its index entry (owner: the record's). */
RU_MUST_CHECK ru_err ru_upload_del(ru_txn_t *txn, uint64_t id, ru_str_t owner);

/*  Calls fn for each upload id of owner, or of everyone when owner is
 *  NULL, until fn returns non-zero. fn must not write to the store; it
 *  gets the id only (read the record with ru_upload_get). */
typedef int (*ru_upload_fn)(void *ctx, uint64_t id);
RU_MUST_CHECK ru_err ru_upload_each(ru_txn_t *txn, const char *owner, ru_upload_fn fn, void *ctx);

#endif
