/*  ru_serve.h - the catch-up server: the sessions this node serves on its
 *  ROUTER, bound at [replication] sync (PROTOCOL.md section 13).
 *
 *  A peer's hello (its clock and a credit of batches) starts a session, or
 *  starts it again; what goes out in it, batch by batch, is ru_catchup's,
 *  never more batches than the credit allows, then done. The asker's
 *  credit messages let it go on. A session is per asking node (its ROUTER
 *  identity); one silent for a minute (a peer that went away) is dropped.
 *  The peer behind a ROUTER identity is known from the connection's
 *  User-Id, which the ZAP handler set to the site name of the CURVE key it
 *  let in (ru_admit.h); its key tells ru_catchup which pending updates are
 *  the asker's own. A session whose walk of the pending updates ran out of
 *  budget ([replication] pending_walk) is served again at the next turn of
 *  the actor's loop (ru_serve_more), which then polls without waiting, so
 *  that its sockets are read in between.
 *
 *  A want (PROTOCOL.md 13) is answered at once: up to its credit of chunks
 *  of the blob from its offset, read from the blob's file as they go, or
 *  a lack when this site does not hold the blob. When the asker's queue
 *  is full, the rest of the want waits (its asker, blob, offset and
 *  credit left) and goes on at the next turn of the actor's loop
 *  (ru_serve_more), so that a window asked for is never cut short by a
 *  full queue; one whose asker went away is dropped. At most
 *  RU_SERVE_WANTS wait at once (a want past them is dropped, counted: the
 *  asker's fetch times out and asks elsewhere).
 *
 *  Anything else on the ROUTER is counted against the peer that sent it
 *  and logged (ru_peer_link_event): a message that does not decode is
 *  malformed, one of another type misplaced. Credit for a session already
 *  over (sent before the asker got done) is no fault.
 *
 *  Thread rules: the actor's thread only, but for served, which
 *  ru_repl_status() reads under the peers' mutex.
 */
#ifndef RU_SERVE_H
#define RU_SERVE_H

#include <czmq.h>
#include <stdint.h>

#include "ru_peer.h"

typedef struct ru_serve_session ru_serve_session_t;
typedef struct ru_serve_want ru_serve_want_t;

typedef struct {
    const ru_peer_ctx_t *ctx; /* the mutex, the store, pending_walk, the queues */
    zsock_t *router;          /* the actor's, bound at [replication] sync; NULL: none */
    ru_serve_session_t *sessions;
    ru_serve_want_t *wants; /* wants whose chunks wait for room in their asker's queue */
    uint64_t served; /* catch-ups asked of us, under the mutex */
    uint64_t blobs_served, blob_bytes_served; /* wants answered with chunks, under the mutex */
} ru_serve_t;

#define RU_SERVE_WANTS 256

void ru_serve_init(ru_serve_t *self, const ru_peer_ctx_t *ctx);
/*  Ends every session (their askers start again with their next hello). */
void ru_serve_fini(ru_serve_t *self);
/*  Takes the message waiting on the ROUTER, from one of the n peers. */
void ru_serve_message(ru_serve_t *self, ru_peer_t *const *peers, int n);
/*  Serves again the sessions whose last batch spent its walk budget, once
 *  each; 1 when some still have more. */
int ru_serve_more(ru_serve_t *self, ru_peer_t *const *peers, int n);
/*  Do wants wait for room in their askers' queues? The actor then polls
 *  again soon (ru_serve_more goes on with them). */
int ru_serve_waiting(const ru_serve_t *self);
/*  Drops the sessions silent for a minute at now (monotonic ms). */
void ru_serve_expire(ru_serve_t *self, uint64_t now);

#endif
