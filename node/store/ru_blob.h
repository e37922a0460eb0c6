/*  ru_blob.h - the node's files (photos, attachments, avatars): blobs named
 *  by the hash of their bytes, kept beside the store.
 *
 *  A blob's name is BLAKE2b-256 (unkeyed) of its bytes, the hash the
 *  protocol uses everywhere, written in its text form (PROTOCOL.md section
 *  12: 43 characters of unpadded base64url). Blobs live in
 *  <data dir>/blobs/<first two characters>/<text form>; the two-character
 *  folders (at most 4096) keep every folder small at a site's size. A blob
 *  is written to a temporary file in blobs/tmp, fsynced, linked into place
 *  and its folder fsynced, so that a blob either is there whole or not at
 *  all, whatever crashes when; a temporary file left by a crash is removed
 *  at the next open. The same bytes put twice are stored once.
 *
 *  This module holds files only. Which post or profile refers to which blob,
 *  and when a blob no one refers to may go, is the state layer's business:
 *  it lists the blobs held (ru_blob_list) and removes the ones it no longer
 *  needs (ru_blob_remove). A remove racing a put of the same bytes may win:
 *  whoever removes blobs keeps them for a grace period after their last
 *  reference went, longer than any put takes.
 *
 *  Bytes held: counted by a scan at open, then kept up to date by every put,
 *  commit and remove, for the site's quota (refused with RU_E_QUOTA when a
 *  blob would take the total past it) and for metrics.
 *
 *  Errors: a full disk (or a file-system quota) is RU_E_DISK_FULL, any
 *  other failure of the file system RU_E_IO; each is logged once, with the
 *  path, where it happens. A failed put or writer leaves nothing behind:
 *  no blob, no temporary file, no bytes counted. (One exception: when the
 *  folder cannot be fsynced after the blob was linked into it, the error
 *  is returned but the blob, whole, stays and is counted; a retry finds it
 *  held.)
 *
 *  Threads: every function on an ru_blob_t may be called from several
 *  threads at once (its state is its folders and atomic counters). A
 *  writer (ru_blob_writer_t) belongs to one thread at a time; several
 *  writers may run at once, on one ru_blob_t, in several threads.
 */
#ifndef RU_BLOB_H
#define RU_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "ruche/ru_error.h"
#include "ruche/ru_limits.h"

/*  The buffer for a blob's path (ru_blob_path); ru_blob_new refuses a data
 *  directory whose blob paths would not fit. */
#define RU_BLOB_PATH_MAX 4096
/*  ru_blob_writer_begin's expected size when the size is not known. */
#define RU_BLOB_ANY_SIZE UINT64_MAX

typedef struct ru_blob ru_blob_t;
typedef struct ru_blob_writer ru_blob_writer_t;

/*  Opens the blobs of data_dir: makes data_dir (0700, as the store does),
 *  data_dir/blobs and data_dir/blobs/tmp (0750) if absent, removes the
 *  temporary files a crash left, and counts the bytes held. quota is the
 *  most bytes the blobs may hold in all, 0 for no limit. *out is owned by
 *  the caller. RU_E_IO (logged) if a folder cannot be made or read,
 *  RU_E_INVALID if data_dir is too long for the paths of its blobs. */
RU_MUST_CHECK ru_err ru_blob_new(const char *data_dir, uint64_t quota, ru_blob_t **out);
/*  Frees self; the files stay. NULL-safe; sets *self_p to NULL. No call on
 *  self, and no writer of it, may still run. */
void ru_blob_destroy(ru_blob_t **self_p);

/*  The hash of len bytes at data (BLAKE2b-256), into hash (RU_HASH_BYTES). */
void ru_blob_hash(const void *data, size_t len, uint8_t *hash);
/*  Reads the text form of a hash (len characters, from a URL or a peer:
 *  need not end with a NUL) into hash (RU_HASH_BYTES). Strict: exactly 43
 *  characters of the base64url alphabet in their one canonical form, so
 *  nothing else (a "/", "..", a NUL, padding, a different spelling of the
 *  same bytes) is ever taken for a hash, and a hash so read names a path
 *  inside blobs/ only. RU_E_TEXT_FORM otherwise. */
RU_MUST_CHECK ru_err ru_blob_hash_parse(const char *text, size_t len, uint8_t *hash);
/*  The path of hash's blob, whether the blob is there or not, into out
 *  (RU_BLOB_PATH_MAX bytes). */
void ru_blob_path(const ru_blob_t *self, const uint8_t *hash, char *out);

/*  Stores len bytes at data as a blob and writes its hash into hash_out
 *  (RU_HASH_BYTES; may be NULL). With expect (RU_HASH_BYTES, may be NULL),
 *  bytes whose hash differs are refused with RU_E_BLOB_HASH before
 *  anything is written. A blob already held is not written again and is
 *  RU_OK. RU_E_QUOTA if the blob would take the bytes held past the quota;
 *  RU_E_DISK_FULL, RU_E_IO (logged). The bytes stay the caller's. */
RU_MUST_CHECK ru_err ru_blob_put(ru_blob_t *self, const void *data, size_t len,
                                 const uint8_t *expect, uint8_t *hash_out);

/*  Opens hash's blob for reading: *fd (for read, pread, sendfile; the
 *  caller closes it) and *size, its bytes. RU_E_NOT_FOUND if it is not
 *  held; RU_E_IO (logged). A blob removed while open stays readable through
 *  *fd until it is closed. */
RU_MUST_CHECK ru_err ru_blob_open(ru_blob_t *self, const uint8_t *hash, int *fd, uint64_t *size);
/*  1 if hash's blob is held, else 0. */
int ru_blob_has(ru_blob_t *self, const uint8_t *hash);
/*  Removes hash's blob; a blob not held is RU_OK too. RU_E_IO (logged). */
RU_MUST_CHECK ru_err ru_blob_remove(ru_blob_t *self, const uint8_t *hash);

/*  Bytes and blobs held, as counted (a put or remove under way may or may
 *  not be in them yet). */
uint64_t ru_blob_total(const ru_blob_t *self);
uint64_t ru_blob_count(const ru_blob_t *self);

/*  Called by ru_blob_list for each blob: its hash (RU_HASH_BYTES, valid
 *  during the call) and size. Returns 0 to go on, anything else to stop. */
typedef int (*ru_blob_list_fn)(const uint8_t *hash, uint64_t size, void *arg);
/*  Calls fn for every blob held, in no particular order, until fn returns
 *  non-zero (the list then stops there and is RU_OK). Files in blobs/ that
 *  are not blobs (a wrong name or folder) are skipped, logged once per
 *  list. Blobs put or removed while the list runs may or may not be seen.
 *  RU_E_IO (logged) if a folder cannot be read. */
RU_MUST_CHECK ru_err ru_blob_list(ru_blob_t *self, ru_blob_list_fn fn, void *arg);

/*  A blob written in pieces, for replication and large uploads: begin,
 *  write the pieces in order, then commit or abort. The bytes are hashed
 *  as they come. A writer refuses to grow past max_size (RU_E_TOO_BIG) or
 *  past an expected size (RU_E_BLOB_SIZE) as soon as a write would, and
 *  past the quota (RU_E_QUOTA); commit refuses a stream shorter than
 *  expected (RU_E_BLOB_SIZE) or whose hash is not the expected one
 *  (RU_E_BLOB_HASH). A refused write removes what was written: the writer
 *  then refuses every write and its commit with that error, and only
 *  commit or abort remain to free it. */

/*  Begins a writer on self into *out. expect: the hash the bytes must have
 *  (RU_HASH_BYTES), or NULL; size: how many bytes must come, or
 *  RU_BLOB_ANY_SIZE; max_size: the most bytes taken. RU_E_TOO_BIG if size
 *  is over max_size, RU_E_QUOTA if size is known and over the quota left;
 *  RU_E_DISK_FULL, RU_E_IO (logged); RU_E_NOMEM. */
RU_MUST_CHECK ru_err ru_blob_writer_begin(ru_blob_t *self, const uint8_t *expect, uint64_t size,
                                          uint64_t max_size, ru_blob_writer_t **out);
/*  Writes the next len bytes at data (copied; they stay the caller's).
 *  Errors as above, and RU_E_DISK_FULL, RU_E_IO (logged). */
RU_MUST_CHECK ru_err ru_blob_writer_write(ru_blob_writer_t *self, const void *data, size_t len);
/*  Ends the writer: checks size and hash, puts the blob in place (a blob
 *  already held stays as it is) and writes its hash into hash_out
 *  (RU_HASH_BYTES; may be NULL). Frees the writer whatever the result and
 *  sets *self_p to NULL; on an error nothing is left behind. */
RU_MUST_CHECK ru_err ru_blob_writer_commit(ru_blob_writer_t **self_p, uint8_t *hash_out);
/*  Drops the writer and what it wrote. NULL-safe; sets *self_p to NULL. */
void ru_blob_writer_abort(ru_blob_writer_t **self_p);

#endif
