/*  ru_admit.h - what gets into the replication actor: connections, by
 *  their CURVE key, and updates to verify, by the bytes they take.
 *
 *  Connections: every replication socket runs CURVE with keys derived from
 *  the node keys, and a ZAP handler lets in only the keys of configured
 *  peers (the site directory's, ru_sites.h), giving each connection its
 *  peer's site name as User-Id. Refused handshakes are counted, and logged
 *  once a minute per address. libzmq asks one ZAP endpoint per context
 *  (inproc://zeromq.zap.01), and a process has one CZMQ context, so the
 *  handler is one thread per process, shared by every actor in it (one in
 *  ruched, several in the in-process tests): each actor registers its
 *  directory under a ZAP domain of its own, which its server sockets name
 *  (ru_admit_domain), and the handler runs while any is registered.
 *
 *  Updates: the jobs queued for the verification workers are bounded in
 *  bytes like the sockets' queues: past [replication] queue_mb of
 *  envelopes not yet answered, the peers' live streams are left unread
 *  (the actor takes their SUBs out of its poller) until half of it is
 *  answered. What a peer then publishes waits in its queue towards us,
 *  then is dropped there, and comes with a catch-up, whose batches stay
 *  bounded by the credit we grant.
 *
 *  Thread rules: the sockets and the jobs are the actor's, and so are
 *  ru_admit_sent() and ru_admit_done(); the counts may be read from any
 *  thread.
 */
#ifndef RU_ADMIT_H
#define RU_ADMIT_H

#include <stdint.h>

#include "ruche/ru_error.h"
#include "ruche/ru_msg.h"

#include "ru_peer.h"
#include "ru_sites.h"

typedef struct ru_admit ru_admit_t;

/*  Registers sites with the process's ZAP handler, starting it if it does
 *  not run, with budget bytes of jobs (queue_mb). RU_E_IO (logged) when
 *  the handler cannot start. */
RU_MUST_CHECK ru_err ru_admit_new(ru_sites_t *sites, uint64_t budget, ru_admit_t **out);
/*  Unregisters it (the handler stops with the last); NULL-safe. */
void ru_admit_destroy(ru_admit_t **self_p);
/*  The ZAP domain of its server sockets. */
const char *ru_admit_domain(const ru_admit_t *self);

/*  A server socket (ZMQ_PUB or ZMQ_ROUTER) of the actor whose peers share
 *  ctx, CURVE with our key, guarded by this ZAP domain, bound at endpoint;
 *  NULL (logged unless quiet) when it cannot be bound. */
zsock_t *ru_admit_bind(ru_admit_t *self, const ru_peer_ctx_t *ctx, int type, const char *endpoint,
                       int quiet);
/*  Closes *old and binds its endpoint again, trying for up to a second:
 *  ZeroMQ's I/O thread lets the old listener go shortly after it closed. */
zsock_t *ru_admit_rebind(ru_admit_t *self, const ru_peer_ctx_t *ctx, zsock_t **old, int type,
                         const char *endpoint);

/*  Adds a live update of peer to *job, made with its head on the first. */
void ru_admit_live_job(zmsg_t **job, uint32_t peer, const ru_envelope_t *env);
/*  The job of a catch-up batch of peer in its session: sent even empty,
 *  for its answer gives the credit back. NULL: out of memory. */
zmsg_t *ru_admit_batch_job(uint32_t peer, uint32_t session, const ru_msg_t *msg);
/*  Sends *job (destroyed) to the workers on jobs, its size written in its
 *  head and counted until answered: ru_admit_sent()'s answer. */
int ru_admit_send(ru_admit_t *self, zsock_t *jobs, zmsg_t **job);

/*  A job of bytes sent to the workers, one answered: 1 when the live
 *  streams must now be left unread (sent) or read again (done), else 0. */
int ru_admit_sent(ru_admit_t *self, uint32_t bytes);
int ru_admit_done(ru_admit_t *self, uint32_t bytes);
/*  Are the live streams left unread? When were they last read again (wall
 *  ms, 0: never paused)? */
int ru_admit_paused(const ru_admit_t *self);
uint64_t ru_admit_read_ms(const ru_admit_t *self);

/*  For the status: CURVE handshakes refused, jobs sent and not answered,
 *  times the live streams were left unread. Any thread. */
uint64_t ru_admit_refused(ru_admit_t *self);
uint64_t ru_admit_queued(ru_admit_t *self);
uint64_t ru_admit_pauses(ru_admit_t *self);

#endif
