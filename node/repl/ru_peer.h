/*  ru_peer.h - one peer of the replication actor: its configuration, its
 *  two sockets (a SUB on its PUB, a DEALER to its ROUTER), our catch-up
 *  with it, and what its links and heartbeats showed (PROTOCOL.md 13).
 *
 *  A peer given with its endpoints is connected to (direct); one given by
 *  its key alone is a trusted site further away, reached through relays,
 *  and has no sockets. Our catch-up with a direct peer is on (syncing)
 *  from our hello to its done: it may send as many batches as the credit
 *  we granted (S_CREDIT with the hello, one back per batch verified), and
 *  a batch beyond it is refused unread. A catch-up that owes batches and
 *  has been silent for [replication] sync_timeout_ms has stalled: it is
 *  asked again at once on a new DEALER. A jump in one origin's seqs on the
 *  live stream is a gap (its PUB dropped some): a catch-up fetches it.
 *
 *  Thread rules: a peer belongs to the actor's thread, whose sockets it
 *  holds; the fields marked "status" are also read by ru_repl_status()
 *  from any thread, so the actor changes them under the shared mutex
 *  (ru_peer_ctx_t.lock), and the functions here take it where they do.
 *
 *  Peers that break the rules of PROTOCOL.md section 13 are counted per
 *  peer (the "link" counts of the status, /metrics) and logged at most
 *  once a minute per peer and kind, so that a flood costs a counter, not
 *  the log: messages to our ROUTER that fail decoding (malformed) or have
 *  no business there (misplaced, as is any message of the wrong type on
 *  any socket), batches beyond the credit we granted (refused unread:
 *  over_credit), sends that fail at a high-water mark (sends_dropped; a
 *  PUB drops silently, so only its subscribers see those, as gaps:
 *  live_gaps), and catch-ups of ours that stalled: owed batches and silent
 *  for [replication] sync_timeout_ms, they are asked again at once on a
 *  new connection (stalled).
 */
#ifndef RU_PEER_H
#define RU_PEER_H

#include <czmq.h>
#include <pthread.h>
#include <stdint.h>

#include "ruche/ru_buf.h"
#include "ruche/ru_clock.h"
#include "ruche/ru_msg.h"

#include "ru_blob.h"
#include "ru_config.h"
#include "ru_ratelimit.h"
#include "ru_replstat.h"
#include "ru_store.h"
#include "ru_verify.h"

/*  The largest message each socket carries (PROTOCOL.md 8 and 9), which
 *  its high-water marks follow:
 *  - live (PUB, SUB): an update whose payload is at the limit: 93 01 01,
 *    the envelope's array header (1 byte), the payload's bin32 header (5)
 *    and bytes, the signature's bin8 header (2) and bytes: 65611 bytes. A
 *    heartbeat with a full clock (map16 header, 1024 entries of a bin8 key
 *    and a uint64) takes 44081, a hello as much, a credit 4;
 *  - sync (ROUTER, DEALER): a batch, RU_MAX_MESSAGE (4 MiB + 64).
 *  Receivers read a little more (RU_PEER_READ_*), so that a message
 *  slightly over a limit is still read, refused as too_big and counted;
 *  ZeroMQ drops a larger one with its connection, before it takes any
 *  memory. */
#define RU_PEER_MAX_LIVE (3 + 1 + 5 + RU_MAX_PAYLOAD + 2 + RU_SIG_BYTES)
#define RU_PEER_MAX_BEAT (3 + 3 + RU_MAX_CLOCK * (2 + RU_KEY_BYTES + 9) + 9 + 2 + RU_HASH_BYTES)
_Static_assert(RU_PEER_MAX_BEAT <= RU_PEER_MAX_LIVE, "heartbeats and hellos are no larger");
#define RU_PEER_READ_LIVE (RU_PEER_MAX_LIVE + 4096)
#define RU_PEER_READ_SYNC (RU_MAX_MESSAGE + 1024 * 1024)

/*  What the peers of one actor share: the actor's, set before its peers
 *  are made and outliving them (the poller once the actor's thread runs). */
typedef struct {
    pthread_mutex_t *lock;                /* guards the status fields */
    zpoller_t *poller;                    /* the actor's: the peers' sockets are polled in it */
    ru_ratelimit_t *logs;                 /* what was logged in the last minute (ru_peer_may_log) */
    const uint8_t *curve_pub, *curve_sec; /* this node's CURVE keys */
    const ru_config_t *cfg;               /* queue_mb, heartbeat_ms, sync_timeout_ms */
    ru_store_t *store;                    /* our clock for hellos and heartbeats */
    ru_blob_t *blobs;                     /* the media files served and fetched; NULL: none */
} ru_peer_ctx_t;

typedef struct {
    const ru_peer_ctx_t *ctx;
    uint32_t id; /* stable across reloads: jobs name their peer by it */
    ru_peer_cfg_t cfg;
    uint8_t curve[32];
    zsock_t *sub, *dealer;
    int syncing;      /* our catch-up with it is on: from our hello to its done */
    int gap_later;    /* a gap seen while our catch-up was on: ask again after done */
    uint32_t session; /* our catch-ups asked of it, the current one's number */
    uint32_t credit;  /* batches of our catch-up it may still send */
    uint64_t sync_ms; /* last message of our catch-up with it */
    ru_clock_t live;  /* per origin, the last seq seen on its live stream */
    uint64_t full_unlogged, full_logged_ms; /* pending_full refusals, their log */
    /* status, under the mutex */
    int heard;
    uint64_t heartbeat_ms, hlc, caught_up_ms;
    ru_clock_t clock;
    uint8_t digest[RU_HASH_BYTES];
    uint64_t rejected[RU_REJECT_COUNT];
    uint64_t received, verified, stored, duplicates;
    uint64_t syncs_asked; /* catch-ups we asked of it */
    uint64_t link[RU_LINK_COUNT];
} ru_peer_t;

/*  A peer of cfg, not connected yet; NULL (logged) when its key is not a
 *  valid node key or memory runs out. */
ru_peer_t *ru_peer_new(const ru_peer_ctx_t *ctx, uint32_t id, const ru_peer_cfg_t *cfg);
/*  Closes its sockets; NULL-safe. */
void ru_peer_destroy(ru_peer_t **self_p);
/*  Is it connected to (given with its endpoints)? */
int ru_peer_direct(const ru_peer_t *self);
/*  Is it configured exactly as cfg (same site, key and endpoints)? */
int ru_peer_same(const ru_peer_t *self, const ru_peer_cfg_t *cfg);

/*  Makes, connects and polls its SUB and DEALER (none for a peer that is
 *  not direct); its SUB is left out of the poller while live_paused
 *  (ru_admit.h). RU_E_INVALID, with neither made, when one cannot be. */
RU_MUST_CHECK ru_err ru_peer_connect(ru_peer_t *self, int live_paused);
/*  Closes both sockets, and with them our catch-up there. */
void ru_peer_disconnect(ru_peer_t *self);
/*  Adds its SUB to the poller (in: 1) or takes it out (0). */
void ru_peer_poll_live(ru_peer_t *self, int in);

/*  Asks it for a catch-up: our clock and the first credit. */
void ru_peer_hello(ru_peer_t *self);
/*  A catch-up asked for a gap in its live stream (counted, logged). */
void ru_peer_gap_hello(ru_peer_t *self);
/*  Takes a live update's seq: 1 when it shows a gap to ask for now (one
 *  seen while our catch-up is on is asked for after its done). */
int ru_peer_live_gap(ru_peer_t *self, const ru_envelope_t *env);
/*  Its heartbeat: clock, time and digest for the status, and whether we
 *  have all it has (when we last did tells "seconds behind"). */
void ru_peer_heard(ru_peer_t *self, const ru_msg_t *msg);
/*  A batch of our catch-up came: 1 when it is within the credit (which it
 *  spends), else 0, counted as over_credit. */
int ru_peer_batch(ru_peer_t *self, const ru_msg_t *msg);
/*  Our catch-up's done came: it is over, and a gap seen meanwhile asked. */
void ru_peer_done(ru_peer_t *self);
/*  What the workers made of a job of its updates: counted and logged, and
 *  for a batch of the catch-up under way, its credit sent back. */
void ru_peer_result(ru_peer_t *self, const ru_verify_result_t *r);
/*  A message refused before any job (it did not decode): counted, logged. */
void ru_peer_reject(ru_peer_t *self, ru_err err);

/*  When our catch-up with it stalls: it owes batches (credit granted and
 *  unused) and has sent nothing for sync_timeout_ms. UINT64_MAX: never. */
uint64_t ru_peer_stall_at(const ru_peer_t *self);
/*  A stalled catch-up: asked again at once on a new DEALER (the old one
 *  may be the trouble, and its late answers cannot pass for the new's). */
void ru_peer_stalled(ru_peer_t *self);
/*  A direct peer not heard for three heartbeats, nor since heard_since
 *  (wall ms: when this node last read the live streams again), gets new
 *  sockets: ZeroMQ gives up on a connection whose CURVE handshake was
 *  refused, and a peer refuses us until its operator adds us to its
 *  configuration. Nothing while live_paused: the silence is ours. */
void ru_peer_check_silent(ru_peer_t *self, uint64_t heard_since, int live_paused);

/*  Counts a link event; logs why (printf-style, after the peer's name)
 *  when no line of that kind was logged for it in the last minute. */
void ru_peer_link_event(ru_peer_t *self, ru_link_event what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*  Its status fields into out (whose clock is initialized). Under the
 *  mutex. */
RU_MUST_CHECK ru_err ru_peer_status(const ru_peer_t *self, ru_replstat_peer_t *out);

/*  Removes from peers (n of them) those that cfg no longer has, or has
 *  changed: out of the list under the mutex, then disconnected, logged
 *  and destroyed. 1 when any was. */
int ru_peer_prune(ru_peer_t **peers, int *n, const ru_config_t *cfg);

/*  The peer of id, of the site a received frame's connection was admitted
 *  as (its User-Id, ru_admit.h), NULL if none. */
ru_peer_t *ru_peer_by_id(ru_peer_t *const *peers, int n, uint32_t id);
ru_peer_t *ru_peer_of_frame(ru_peer_t *const *peers, int n, zframe_t *frame);

/*  Whether a line about kind and who may be logged now: one a minute per
 *  pair, the pairs remembered bounded (logs; NULL: never). */
int ru_peer_may_log(ru_ratelimit_t *logs, const char *kind, const char *who);
/*  A high-water mark, in messages, that keeps a queue within
 *  [replication] queue_mb when every message is the largest one. */
int ru_peer_hwm(const ru_peer_ctx_t *ctx, uint64_t largest);
/*  The queues and the read limit of a socket that sends messages of up to
 *  send bytes and reads up to read bytes. */
void ru_peer_limits(const ru_peer_ctx_t *ctx, zsock_t *sock, uint64_t send, uint64_t read);
/*  Sends without waiting; 0 when sent, -1 when not (a full queue, or no
 *  socket: a server socket that could not be bound again). */
int ru_peer_send(zsock_t *sock, const ru_buf_t *buf);

#endif
