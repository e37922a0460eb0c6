/*  ru_mediaq.h - uploads processed off the request's thread: a bounded
 *  queue and a few workers of their own.
 *
 *  Decoding a photo takes a tenth of a second and tens of MB (ru_image.h),
 *  a HEIC half a second and 200 MB: done by the HTTP workers, a few
 *  uploads at once would hold every one of them and starve the site's
 *  readers. So an upload's handler checks the request, writes the upload
 *  record (processing) and queues the file's bytes here; it answers 202
 *  at once, and the client asks GET /api/v1/media/:id until the upload is
 *  ready (Mastodon's flow). The queue is bounded in bytes and in uploads
 *  per user, so memory stays bounded whatever arrives: past either bound
 *  an upload is refused before anything is kept.
 *
 *  A worker types the bytes by their content (ru_sniff.h). An image of an
 *  accepted type goes through ru_image_process: the display image and the
 *  thumbnail are stored as blobs, and the upload's descriptor gets their
 *  sides and blurhash; an image that does not decode is refused with the
 *  reason (a file that claims to be an image and is not is never kept).
 *  Anything else is a file: stored as it is, typed by its content, served
 *  as a download. Then the upload record becomes ready (holding a
 *  reference on its blobs, ru_blobref.h) or failed, through the store
 *  actor.
 *
 *  A profile's avatar or header goes through the same queue, but its
 *  request waits for it (ru_mediaq_wait): the workers signal a condition
 *  variable each time they finish an upload, so the waiting thread wakes
 *  when its upload is done, or at its deadline, never by polling.
 *
 *  Threads: ru_mediaq_push and ru_mediaq_wait from any thread; the
 *  workers are the module's.
 */
#ifndef RU_MEDIAQ_H
#define RU_MEDIAQ_H

#include <stddef.h>
#include <stdint.h>

#include "ruche/ru_error.h"

#include "ru_blurhash.h"
#include "ru_node.h"
#include "ru_sniff.h"

typedef struct ru_mediaq ru_mediaq_t;

/*  Starts [media] workers threads for node (which must outlive the
 *  queue). RU_E_IO when a thread cannot start. */
RU_MUST_CHECK ru_err ru_mediaq_new(ru_node_t *node, ru_mediaq_t **out);
/*  Stops taking uploads, lets the workers finish the one each is on,
 *  drops the rest (their records stay processing and expire) and frees
 *  the queue. NULL-safe; NULLs the pointer. */
void ru_mediaq_destroy(ru_mediaq_t **self_p);

/*  Queues len bytes of upload id, made by owner, named name (its display
 *  name, may be ""); the bytes are copied. RU_E_TOO_MANY when owner has
 *  [media] per_user uploads in the queue or being processed already;
 *  RU_E_TOO_BIG when the queue holds [media] queue_mb MiB. */
RU_MUST_CHECK ru_err ru_mediaq_push(ru_mediaq_t *self, uint64_t id, const char *owner,
                                    const char *name, const void *data, size_t len);

/*  Waits, on the caller's thread, until upload id (pushed before) is
 *  finished, its record written ready or failed by the store actor, or
 *  for timeout_ms at most. 1 when it is finished (or was never queued
 *  here), 0 at the deadline or when the queue stops first: the upload
 *  is then still processing, or dropped, and its record expires. */
int ru_mediaq_wait(ru_mediaq_t *self, uint64_t id, long timeout_ms);

/*  An image made on the caller's thread rather than by the queue: a
 *  profile photo of the company directory, which the directory sync (a
 *  thread of its own, never a request's) makes one at a time. */
typedef struct {
    ru_media_t media; /* its strings point into this struct */
    char type[RU_SNIFF_MIME_MAX];
    char blurhash[RU_BLURHASH_MAX];
    char why[200]; /* on failure, for people */
} ru_mediaq_image_t;

/*  Types len bytes by their content and makes them an image as an upload
 *  would be made (display size and thumbnail stored as blobs, blurhash),
 *  described into out. RU_E_TYPE when they are not an image of a type the
 *  site decodes; the pipeline's errors (ru_image.h); out->why says why. */
RU_MUST_CHECK ru_err ru_mediaq_image(ru_node_t *node, const void *data, size_t len,
                                     ru_mediaq_image_t *out);

/*  Uploads waiting or being processed, and their bytes, for /metrics. */
void ru_mediaq_depth(ru_mediaq_t *self, uint64_t *uploads, uint64_t *bytes);

#endif
