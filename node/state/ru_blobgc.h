/*  ru_blobgc.h - the collector of media: expired uploads and blobs no one
 *  references any more.
 *
 *  Every [media] gc interval (a minute by default) a thread of its own:
 *    1. removes the upload records older than [media] upload_hours,
 *       taking back the reference a ready one held on its blobs;
 *    2. removes the blobs whose last reference went more than [media]
 *       grace_s ago and that gained none since: their count's absence and
 *       their entry in the collection list are checked and the entry
 *       removed in one transaction of the store actor, and the file is
 *       unlinked only once that is durable. A crash between the two leaves
 *       a file nobody lists: the sweep at start finds it.
 *    3. takes off the wanted list the blobs that arrived since (fetched
 *       from a peer, or uploaded here): the commit that does it tells the
 *       answers kept for anonymous readers that they changed (no longer
 *       pending).
 *  At start, the sweep lists for collection every blob file that nothing
 *  references and no list names (a crash's leftovers, a fetch whose
 *  status was deleted meanwhile), so it goes after the grace period too;
 *  and it lists as wanted every blob referenced here whose file is not (a
 *  store restored without its blobs folder, files lost with a disk), so
 *  that the peers give them back (ru_fetch.h).
 *
 *  The grace period is what makes collection safe against its races: an
 *  upload stored just before the post that uses it, a delete raced by an
 *  edit that names the same file, a peer's status that arrives after the
 *  one that dropped its blob. A reference regained within it takes the
 *  blob off the list (ru_blobref.h).
 */
#ifndef RU_BLOBGC_H
#define RU_BLOBGC_H

#include <stdint.h>

#include "ruche/ru_error.h"

#include "ru_blob.h"
#include "ru_store.h"
#include "ru_writer.h"

typedef struct ru_blobgc ru_blobgc_t;

typedef struct {
    uint64_t upload_ms;   /* an upload's life */
    uint64_t grace_ms;    /* a blob without references, before it goes */
    uint64_t interval_ms; /* between rounds */
} ru_blobgc_opts_t;

/*  Runs the sweep, then starts the thread. store, writer and blobs must
 *  outlive the collector. */
RU_MUST_CHECK ru_err ru_blobgc_new(ru_store_t *store, ru_writer_t *writer, ru_blob_t *blobs,
                                   const ru_blobgc_opts_t *opts, ru_blobgc_t **out);
/*  Stops the thread (a round in progress ends first). NULL-safe. */
void ru_blobgc_destroy(ru_blobgc_t **self_p);

/*  One round now, at now_ms, on the caller's thread: what the thread does
 *  every interval, for tests. *uploads and *blobs: how many went. */
RU_MUST_CHECK ru_err ru_blobgc_round(ru_blobgc_t *self, uint64_t now_ms, uint64_t *uploads,
                                     uint64_t *blobs);

#endif
