/*  ru_fetch.h - the blobs this site lacks, fetched from its peers over
 *  the sync channel (PROTOCOL.md section 13: want, chunk, lack).
 *
 *  An update's attachments name blobs by their hash (ru_update.h); when it
 *  is applied, each blob gains a reference and one it did not have before
 *  is listed as wanted (ru_blobref.h). The replication actor works
 *  through that list: a blob not held here is asked of a direct peer with
 *  a want for a window of chunks, and the next window once the last chunk
 *  of this one came, so that no peer ever sends more than was asked (the
 *  credit flow of catch-up batches). The bytes go to a temporary file as
 *  they come and are hashed; the blob is stored only when the hash is the
 *  one asked for (ru_blob_writer). A blob whose bytes do not match is
 *  discarded and counted against the peer (bad_blobs), like a bad
 *  signature, and asked of the next peer; so is one a peer lacks, or
 *  whose chunks stop coming for [replication] sync_timeout_ms. When every
 *  peer was asked, the blob waits and is asked again later (30 s, then
 *  twice as long each time, up to an hour).
 *
 *  Policy ([media] fetch_now_mb): blobs up to that size are fetched as
 *  soon as they are wanted; larger ones when someone first reads them
 *  (ru_fetch_now, from GET /media/...). Until then the API shows them as
 *  pending. At most a few blobs are in flight at once, one per peer.
 *
 *  The serving side (a want on our ROUTER) is ru_serve.c's.
 *
 *  Thread rules: the replication actor's thread, but for the figures,
 *  read under the peers' mutex.
 */
#ifndef RU_FETCH_H
#define RU_FETCH_H

#include <stdint.h>

#include "ruche/ru_msg.h"

#include "ru_blob.h"
#include "ru_peer.h"

#define RU_FETCH_FLIGHTS 4   /* blobs in flight at once */
#define RU_FETCH_ASKED 64    /* blobs asked for on first read, waiting their turn */
#define RU_FETCH_BACKOFF 256 /* blobs no peer had, remembered with their next try */

typedef struct ru_fetch ru_fetch_t;

/*  A fetcher for the blobs of ctx's store (ctx->blobs: none, no fetching).
 *  NULL when memory runs out. */
ru_fetch_t *ru_fetch_new(const ru_peer_ctx_t *ctx);
/*  Discards the flights (their temporary files) and frees. NULL-safe. */
void ru_fetch_destroy(ru_fetch_t **self_p);

/*  Starts flights for wanted blobs, ends the ones that timed out: called
 *  at each turn of the actor, with its peers. */
void ru_fetch_tick(ru_fetch_t *self, ru_peer_t *const *peers, int n, uint64_t now_ms);
/*  When the next tick has work to do (monotonic ms). */
uint64_t ru_fetch_next_ms(const ru_fetch_t *self);
/*  A chunk or a lack from peer p, on its DEALER. */
void ru_fetch_message(ru_fetch_t *self, ru_peer_t *p, const ru_msg_t *msg, ru_peer_t *const *peers,
                      int n, uint64_t now_ms);
/*  Someone reads the blob hash: fetch it now, whatever its size. */
void ru_fetch_now(ru_fetch_t *self, const uint8_t *hash);
/*  The figures into out's fetch fields (under the peers' mutex). */
void ru_fetch_stats(const ru_fetch_t *self, ru_replstat_blobs_t *out);

#endif
