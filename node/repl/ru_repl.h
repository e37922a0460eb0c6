/*  ru_repl.h - the replication actor: this node's place in the network of
 *  sites (DESIGN.md, "Replication over ZeroMQ").
 *
 *  One thread owns every replication socket:
 *    - a PUB, bound at [replication] pub, publishing each update this node
 *      stores (its own, and the ones it learns, so updates cross relays)
 *      and a heartbeat (clock, HLC, state digest) every heartbeat_ms;
 *    - a ROUTER, bound at [replication] sync, answering catch-up: a peer's
 *      hello (its clock and a credit of batches) gets the updates it lacks
 *      in batches, never more batches than the credit allows, then done;
 *    - per peer, a SUB on its PUB and a DEALER to its ROUTER, asking for a
 *      catch-up on connect, on a gap in the live stream (an update whose
 *      dependencies are missing), every anti_entropy_s, and again, on a
 *      new DEALER, when one stalls for sync_timeout_ms; batches beyond
 *      the credit it granted are refused;
 *    - and behind them a ZAP handler (one thread per process, ru_admit.h):
 *      every socket runs CURVE with keys derived from the node keys, and
 *      only the configured peers' keys get in.
 *  Updates received are checked and stored by the verification workers
 *  (ru_verify.h); what they refused is counted per peer and reason, and
 *  so is what a peer broke on its links (malformed or misplaced messages,
 *  batches over credit), sends lost at a full queue and stalled catch-ups.
 *  Every socket's queues are bounded in bytes by [replication] queue_mb.
 *  A fork (ru_fork.h) is alarmed once in the log, naming the origin that
 *  signed two histories, not the peer that relayed it, and its evidence
 *  is published (two update messages) when it is found and at every
 *  anti-entropy turn, so that every site learns of it.
 *
 *
 *  The actor is split as zyre splits its node: ru_repl.c is the actor
 *  (thread, poller, dispatch, timers, the calls below), ru_peer.h a peer
 *  (its sockets, our catch-up with it, its link events and heartbeats),
 *  ru_serve.h the catch-up server, ru_admit.h admission (ZAP, and the
 *  byte budget of the verification jobs), ru_alarm.h the fork and
 *  pending alarms, ru_replstat.h the status and metrics.
 *
 *  ru_repl_status() and ru_repl_collect() may be called from any thread
 *  (the HTTP server).
 */
#ifndef RU_REPL_H
#define RU_REPL_H

#include "ruche/ru_buf.h"
#include "ruche/ru_clock.h"
#include "ruche/ru_error.h"
#include "ruche/ru_key.h"

#include "ru_config.h"
#include "ru_replstat.h"
#include "ru_blob.h"
#include "ru_sites.h"
#include "ru_store.h"
#include "ru_writer.h"

typedef struct ru_repl ru_repl_t;

/*  What the actor works with, given by whoever starts it; every object
 *  must be ready before ru_repl_new() and outlive the actor. */
typedef struct {
    const ru_config_t *cfg; /* [replication] settings and the [peer]s at the start */
    const ru_key_t *key;    /* this node's key: its origin and CURVE identity */
    ru_store_t *store;
    ru_writer_t *writer; /* the store actor, given ru_repl_publish_endpoint() */
    ru_sites_t *sites;   /* the site directory; the actor sets its peers on a reload */
    ru_blob_t *blobs;    /* the media files, served to peers and fetched; NULL: none */
    const char *publish; /* where the writer publishes: ru_repl_publish_endpoint(), or an
                            inproc endpoint per actor where a process runs several */
} ru_repl_ctx_t;

/*  The endpoint the store actor publishes to, to be given to
 *  ru_writer_new() before ru_repl_new() starts, and to the actor. */
const char *ru_repl_publish_endpoint(void);

/*  Starts the actor with ctx (copied). Fails, having logged why, when any
 *  part of the actor cannot start (an endpoint it cannot bind: one in use). */
RU_MUST_CHECK ru_err ru_repl_new(const ru_repl_ctx_t *ctx, ru_repl_t **out);
/*  Stops the actor and the workers; NULL-safe. */
void ru_repl_destroy(ru_repl_t **self_p);
/*  The actor's state, for /readyz: "running" from a successful
 *  ru_repl_new() until it stops ("stopped"). Any thread. */
const char *ru_repl_state(ru_repl_t *self);

/*  Takes the [peer] sections of cfg as the new peer list (SIGHUP): new
 *  peers are connected, removed ones closed, the site directory's peers
 *  replaced by those the actor has. The [replication] endpoints of this
 *  node are not changed by a reload. */
RU_MUST_CHECK ru_err ru_repl_reload(ru_repl_t *self, const ru_config_t *cfg);

/*  Someone here reads the blob hash, which this site lacks: the actor
 *  fetches it now, whatever its size (ru_fetch.h). Any thread. */
RU_MUST_CHECK ru_err ru_repl_fetch(ru_repl_t *self, const uint8_t *hash);

/*  The replication status (ru_replstat.h): the peers and what the actor
 *  counted, copied into out (initialized here; the caller finis it).
 *  RU_E_NOMEM leaves out empty. Any thread. */
RU_MUST_CHECK ru_err ru_repl_status(ru_repl_t *self, ru_replstat_t *out);
/*  The replication metrics collector (an ru_prom_fn, self an ru_repl_t):
 *  appends the families of ru_replstat_metrics() given our clock, which it
 *  reads from the store; an error reading it is returned. Any thread. */
RU_MUST_CHECK ru_err ru_repl_collect(void *self, ru_buf_t *out);

#endif
