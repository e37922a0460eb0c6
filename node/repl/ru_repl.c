/*  ru_repl.c - the replication actor (see ru_repl.h).
 *
 *  The actor is a CZMQ zactor: one thread, one poller over its sockets,
 *  timers computed from the clock at each turn. It owns the sockets that
 *  are no peer's (the PUB, the ROUTER, the inproc ones to the store actor
 *  and the workers) and dispatches what comes on each: to the peers
 *  (ru_peer.h), the catch-up server (ru_serve.h), admission (ru_admit.h).
 *  Its state besides is what it published (per origin), whether the site
 *  recovers a lost store (ru_recovery.h), and the forks and pending
 *  updates it alarmed. The status fields are read by HTTP threads, under
 *  the mutex (ru_repl_status, rendered by ru_replstat.h); the sockets
 *  never leave the actor's thread. The public calls are thin: a reload is
 *  a message to the actor, which frees it.
 *
 *  What queues in memory is bounded in bytes: every socket's high-water
 *  marks follow [replication] queue_mb (ru_peer_hwm), and so do the jobs
 *  for the verification workers (ru_admit.h).
 */
#include "ru_repl.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ruche/ru_hlc.h"
#include "ruche/ru_msg.h"

#include "ru_admit.h"
#include "ru_alarm.h"
#include "ru_apply.h"
#include "ru_fetch.h"
#include "ru_log.h"
#include "ru_peer.h"
#include "ru_recovery.h"
#include "ru_serve.h"
#include "ru_verify.h"

#define S_PUBLISH "inproc://ruche-publish"
#define S_HWM 100000             /* inproc queues: the workers, the store actor */
#define S_LOG_EVERY_MS 60000     /* one line a minute per peer and kind */
#define S_LOG_SLOTS 1024         /* peers remembered for that */
#define S_PENDING_CHECK_MS 10000 /* how often the pending set is looked at */
#define S_WANT_RETRY_MS 5        /* chunks waiting for room in an asker's queue: tried again */

/*  The actor's life, which HTTP threads read (ru_repl_state). */
typedef enum { S_STARTING, S_RUNNING, S_FAILED, S_STOPPED } s_life;

struct ru_repl {
    ru_repl_ctx_t ctx;
    zactor_t *actor;
    atomic_int life; /* s_life: set by the actor */
    atomic_int done; /* set by the actor as it returns (ru_repl_destroy) */
    pthread_mutex_t lock;
    ru_peer_ctx_t peer_ctx;
    ru_peer_t *peers[RU_MAX_PEERS]; /* changed by the actor, under the mutex */
    int n_peers;
    uint32_t next_id;
    ru_verify_t *verify;
    ru_admit_t *admit;
    ru_alarm_t alarm;
    uint8_t curve_pub[32];
    uint8_t *curve_sec;               /* sodium_malloc */
    char jobs_at[48], results_at[48]; /* this actor's inproc endpoints to the workers */
    /* the actor's own */
    zsock_t *pub, *publish, *jobs, *results;
    zpoller_t *poller;
    ru_serve_t serve; /* its router: the ROUTER */
    ru_fetch_t *fetch; /* the blobs it lacks */
    uint64_t next_heartbeat, next_anti_entropy, next_pending_check;
    ru_clock_t published;   /* per origin, updates sent out on our PUB, under the mutex */
    int recovering;         /* the store was lost: our own updates come back first */
    ru_recovery_t recovery; /* what the peers have of ours */
    ru_ratelimit_t *logs;   /* what was logged in the last minute (ru_peer_may_log) */
};

const char *
ru_repl_publish_endpoint(void)
{
    return S_PUBLISH;
}

/*  ---------------------------------------------------------------------
 *  Server sockets
 */

/*  A removed peer's connections to our PUB and ROUTER were admitted when
 *  it was trusted, and ZAP never looks at them again: new sockets drop
 *  them all. The peers still configured reconnect on their own, and their
 *  catch-up sessions start again with their next hello. */
static void
s_renew_servers(ru_repl_t *self)
{
    const ru_config_t *cfg = self->ctx.cfg;
    if (self->serve.router)
        zpoller_remove(self->poller, self->serve.router);
    ru_serve_fini(&self->serve);
    self->pub = ru_admit_rebind(self->admit, &self->peer_ctx, &self->pub, ZMQ_PUB, cfg->pub_bind);
    self->serve.router = ru_admit_rebind(self->admit, &self->peer_ctx, &self->serve.router,
                                         ZMQ_ROUTER, cfg->sync_bind);
    if (self->serve.router)
        zpoller_add(self->poller, self->serve.router);
    if (!self->pub || !self->serve.router)
        ru_log_err("repl", "cannot bind the replication sockets again: restart the node");
}

/*  ---------------------------------------------------------------------
 *  Publishing
 */

static void
s_heartbeat(ru_repl_t *self)
{
    ru_clock_t clock;
    ru_clock_init(&clock);
    uint8_t digest[RU_HASH_BYTES];
    ru_buf_t buf;
    ru_buf_init(&buf);
    /*  The HLC at sending (PROTOCOL.md 8.2): the wall clock, or the last
     *  committed time when that is ahead, so a peer can see our clock. */
    uint64_t hlc = ru_hlc_wall_ms() << RU_HLC_SHIFT, committed = ru_writer_hlc(self->ctx.writer);
    if (committed > hlc)
        hlc = committed;
    if (ru_apply_state(self->ctx.store, &clock, digest) == RU_OK &&
        ru_msg_encode_heartbeat(&clock, hlc, digest, &buf) == RU_OK)
        ru_peer_send(self->pub, &buf);
    ru_buf_fini(&buf);
    ru_clock_fini(&clock);
}

/*  Asks every direct peer whose catch-up is not on for one. */
static void
s_hello_all(ru_repl_t *self)
{
    for (int i = 0; i < self->n_peers; i++)
        if (!self->peers[i]->syncing && ru_peer_direct(self->peers[i]))
            ru_peer_hello(self->peers[i]);
}

/*  A RESOLVE applied here may have rebuilt the state without the variant
 *  it does not keep (ru_apply.h): the kept chain is asked for at once
 *  from every direct peer, not at the next anti-entropy turn. */
static void
s_after_resolve(ru_repl_t *self, const ru_envelope_t *env)
{
    ru_update_t u;
    ru_update_init(&u);
    if (ru_update_decode(env, &u) == RU_OK && u.kind == RU_KIND_RESOLVE)
        s_hello_all(self);
    ru_update_fini(&u);
}

/*  An update the store actor committed: out on the PUB. */
static void
s_on_publish(ru_repl_t *self)
{
    zframe_t *f = zframe_recv(self->publish);
    if (!f)
        return;
    ru_buf_t buf;
    ru_buf_init(&buf);
    ru_envelope_t env;
    if (ru_msg_encode_update((ru_bytes_t){zframe_data(f), zframe_size(f)}, &buf) == RU_OK)
        ru_peer_send(self->pub, &buf);
    if (ru_envelope_parse(zframe_data(f), zframe_size(f), &env) == RU_OK) {
        pthread_mutex_lock(&self->lock);
        uint64_t n = ru_clock_get(&self->published, env.origin) + 1;
        ru_err err = ru_clock_set(&self->published, env.origin, n);
        pthread_mutex_unlock(&self->lock);
        (void) err; /* out of memory: one update not counted */
        s_after_resolve(self, &env);
    }
    ru_buf_fini(&buf);
    zframe_destroy(&f);
}

/*  ---------------------------------------------------------------------
 *  Receiving
 */

/*  The live streams left unread (paused) or read again, as admission
 *  decided. */
static void
s_live_flow(ru_repl_t *self, int changed)
{
    for (int i = 0; changed && i < self->n_peers; i++)
        ru_peer_poll_live(self->peers[i], !ru_admit_paused(self->admit));
}

/*  Sends a job to the workers through admission (ru_admit.h). */
static void
s_send_job(ru_repl_t *self, zmsg_t **m)
{
    s_live_flow(self, ru_admit_send(self->admit, self->jobs, m));
}

/*  Ends recovery once our own head has reached what the peers have of us
 *  (ru_recovery.h). */
static void
s_try_end_recovery(ru_repl_t *self)
{
    if (!self->recovering)
        return;
    uint32_t direct[RU_MAX_PEERS];
    int n = 0, ended;
    for (int i = 0; i < self->n_peers; i++)
        if (ru_peer_direct(self->peers[i]))
            direct[n++] = self->peers[i]->id;
    if (ru_recovery_try_end(&self->recovery, self->ctx.writer, direct, n, &ended) == RU_OK &&
        ended) {
        self->recovering = 0;
        ru_log_info("repl", "this site's own updates are back (up to seq %llu): accepting posts",
                    (unsigned long long) self->recovery.target);
    }
}

/*  A peer's heartbeat: its status, and what it has of ours. */
static void
s_on_heartbeat(ru_repl_t *self, ru_peer_t *p, const ru_msg_t *msg)
{
    ru_peer_heard(p, msg);
    ru_recovery_heard(&self->recovery, p->id,
                      ru_clock_get(&msg->clock, ru_key_public(self->ctx.key)));
}

/*  Our catch-up with p is done. */
static void
s_on_done(ru_repl_t *self, ru_peer_t *p, const ru_msg_t *msg)
{
    ru_peer_done(p);
    ru_recovery_done(&self->recovery, p->id,
                     ru_clock_get(&msg->clock, ru_key_public(self->ctx.key)));
    s_try_end_recovery(self);
}

/*  One message from a peer's SUB (live) or DEALER (catch-up answers).
 *  Live updates are gathered in *live, one verification job for all the
 *  updates that were waiting on the socket; a batch is a job of its own. */
static void
s_peer_message(ru_repl_t *self, ru_peer_t *p, int live, zframe_t *f, zmsg_t **batch)
{
    ru_msg_t msg;
    ru_msg_init(&msg);
    ru_err err = ru_msg_decode(zframe_data(f), zframe_size(f), &msg);
    if (err)
        ru_peer_reject(p, err);
    else if (live && msg.type == RU_MSG_UPDATE) {
        if (ru_peer_live_gap(p, &msg.updates[0]))
            ru_peer_gap_hello(p);
        ru_admit_live_job(batch, p->id, &msg.updates[0]);
    } else if (live && msg.type == RU_MSG_HEARTBEAT)
        s_on_heartbeat(self, p, &msg);
    else if (!live && msg.type == RU_MSG_BATCH) {
        if (ru_peer_batch(p, &msg)) { /* else refused unread, counted */
            zmsg_t *job = ru_admit_batch_job(p->id, p->session, &msg);
            if (job)
                s_send_job(self, &job);
        }
    } else if (!live && msg.type == RU_MSG_DONE)
        s_on_done(self, p, &msg);
    else if (!live && (msg.type == RU_MSG_CHUNK || msg.type == RU_MSG_LACK))
        ru_fetch_message(self->fetch, p, &msg, self->peers, self->n_peers, zclock_mono());
    else
        ru_peer_link_event(p, RU_LINK_MISPLACED, "a %s message on its %s refused",
                           ru_msg_type_name(msg.type), live ? "live stream" : "catch-up answers");
    ru_msg_fini(&msg);
}

/*  Reads what a peer's socket holds, up to a batch's worth of messages,
 *  and hands the live updates among them to the workers as one job. */
static void
s_on_peer(ru_repl_t *self, ru_peer_t *p, zsock_t *sock)
{
    int live = sock == p->sub;
    zmsg_t *batch = NULL;
    for (int n = 0; n < RU_MAX_BATCH && (n == 0 || (zsock_events(sock) & ZMQ_POLLIN)); n++) {
        zframe_t *f = zframe_recv(sock);
        if (!f)
            break;
        s_peer_message(self, p, live, f, &batch);
        zframe_destroy(&f);
    }
    if (batch)
        s_send_job(self, &batch);
}

/*  What the workers made of a job: counts, credit for catch-up batches,
 *  the forks it found alarmed. */
static void
s_on_result(ru_repl_t *self)
{
    zframe_t *f = zframe_recv(self->results);
    ru_verify_result_t r;
    int ok = f && zframe_size(f) == sizeof r;
    if (ok)
        memcpy(&r, zframe_data(f), sizeof r);
    zframe_destroy(&f);
    if (!ok)
        return;
    s_live_flow(self, ru_admit_done(self->admit, r.job.bytes));
    ru_peer_t *p = ru_peer_by_id(self->peers, self->n_peers, r.job.peer);
    if (!p)
        return; /* a peer removed since */
    if (r.rejected[RU_REJECT_FORK])
        ru_alarm_forks(&self->alarm, self->pub, 0);
    if (r.job.sync)
        s_try_end_recovery(self);
    ru_peer_result(p, &r);
}

/*  ---------------------------------------------------------------------
 *  Peers
 */

/*  The site directory's peers: those the actor has (a peer whose key is
 *  not a valid node key is left out, named and trusted nowhere). */
static void
s_sites(ru_repl_t *self)
{
    ru_peer_cfg_t *cfg = malloc(RU_MAX_PEERS * sizeof *cfg);
    if (!cfg)
        return; /* the previous list stays */
    for (int i = 0; i < self->n_peers; i++)
        cfg[i] = self->peers[i]->cfg;
    ru_sites_set_peers(self->ctx.sites, cfg, self->n_peers);
    free(cfg);
}

/*  A new peer list (SIGHUP): peers gone or changed are closed, new ones
 *  connected and asked for a catch-up; the site directory follows, and
 *  before the servers are bound again, so that a removed peer is not let
 *  in again. */
static void
s_reload(ru_repl_t *self, const ru_config_t *cfg)
{
    if (ru_peer_prune(self->peers, &self->n_peers, cfg)) {
        s_sites(self);
        s_renew_servers(self);
    }
    for (int j = 0; j < cfg->n_peers; j++) {
        int known = 0;
        for (int i = 0; i < self->n_peers && !known; i++)
            known = ru_peer_same(self->peers[i], &cfg->peers[j]);
        ru_peer_t *p = known ? NULL : ru_peer_new(&self->peer_ctx, self->next_id++, &cfg->peers[j]);
        if (!p)
            continue;
        if (ru_peer_connect(p, ru_admit_paused(self->admit)) != RU_OK) {
            ru_peer_destroy(&p);
            continue;
        }
        pthread_mutex_lock(&self->lock);
        self->peers[self->n_peers++] = p;
        pthread_mutex_unlock(&self->lock);
        ru_log_info("repl", "[peer %s] added", p->cfg.site);
        if (ru_peer_direct(p))
            ru_peer_hello(p);
    }
    s_sites(self);
}

/*  ---------------------------------------------------------------------
 *  The actor
 */

/*  Heartbeats, anti-entropy, stalled catch-ups, idle sessions and the
 *  pending alarm. */
static void
s_timers(ru_repl_t *self)
{
    uint64_t now = zclock_mono();
    if (now >= self->next_pending_check) {
        ru_alarm_pending(&self->alarm);
        self->next_pending_check = now + S_PENDING_CHECK_MS;
    }
    if (now >= self->next_heartbeat) {
        s_heartbeat(self);
        self->next_heartbeat = now + (uint64_t) self->ctx.cfg->heartbeat_ms;
    }
    for (int i = 0; i < self->n_peers; i++)
        if (now >= ru_peer_stall_at(self->peers[i]))
            ru_peer_stalled(self->peers[i]);
    if (now >= self->next_anti_entropy) {
        for (int i = 0; i < self->n_peers; i++)
            ru_peer_check_silent(self->peers[i], ru_admit_read_ms(self->admit),
                                 ru_admit_paused(self->admit));
        s_hello_all(self);
        ru_alarm_forks(&self->alarm, self->pub, 1);
        self->next_anti_entropy = now + 1000 * (uint64_t) self->ctx.cfg->anti_entropy_s;
    }
    ru_serve_expire(&self->serve, now);
    ru_fetch_tick(self->fetch, self->peers, self->n_peers, now);
}

/*  How long the poller may wait: until the next timer, or not at all when
 *  a catch-up session has more to serve. */
static int
s_wait_ms(ru_repl_t *self, int more)
{
    uint64_t now = zclock_mono();
    uint64_t next = self->next_heartbeat < self->next_anti_entropy ? self->next_heartbeat
                                                                   : self->next_anti_entropy;
    for (int i = 0; i < self->n_peers; i++) {
        uint64_t at = ru_peer_stall_at(self->peers[i]);
        next = at < next ? at : next;
    }
    uint64_t fetch = ru_fetch_next_ms(self->fetch);
    next = fetch < next ? fetch : next;
    if (ru_serve_waiting(&self->serve) && next > now + S_WANT_RETRY_MS)
        next = now + S_WANT_RETRY_MS; /* chunks wait for room in an asker's queue */
    return next > now && !more ? (int) (next - now) : 0;
}

/*  Dispatches one ready socket; returns 0 when the actor must stop. */
static int
s_dispatch(ru_repl_t *self, zsock_t *pipe, void *which)
{
    if (which == pipe) {
        char *cmd = NULL;
        zframe_t *arg = NULL;
        void *cfg = NULL;
        int ok = zsock_recv(pipe, "sf", &cmd, &arg) == 0 && cmd;
        if (ok && strcmp(cmd, "PEERS") == 0 && arg && zframe_size(arg) == sizeof cfg) {
            memcpy(&cfg, zframe_data(arg), sizeof cfg); /* a pointer, whose memory we free */
            s_reload(self, cfg);
        } else if (ok && strcmp(cmd, "FETCH") == 0 && arg && zframe_size(arg) == RU_HASH_BYTES)
            ru_fetch_now(self->fetch, zframe_data(arg));
        int stop = !cmd || strcmp(cmd, "$TERM") == 0;
        free(cmd);
        free(cfg);
        zframe_destroy(&arg);
        return !stop;
    }
    if (which == self->publish)
        s_on_publish(self);
    else if (which == self->serve.router)
        ru_serve_message(&self->serve, self->peers, self->n_peers);
    else if (which == self->results)
        s_on_result(self);
    for (int i = 0; i < self->n_peers; i++)
        if (which == self->peers[i]->sub || which == self->peers[i]->dealer)
            s_on_peer(self, self->peers[i], which);
    return 1;
}

/*  Makes the actor's sockets (the ZAP handler runs already, so that the
 *  CURVE sockets are guarded from their first connection). */
static ru_err
s_open(ru_repl_t *self, zsock_t *pipe)
{
    const ru_config_t *cfg = self->ctx.cfg;
    self->publish = zsock_new(ZMQ_PULL);
    self->jobs = zsock_new(ZMQ_PUSH);
    self->results = zsock_new(ZMQ_PULL);
    if (!self->publish || !self->jobs || !self->results ||
        zsock_bind(self->publish, "%s", self->ctx.publish) < 0 ||
        zsock_bind(self->jobs, "%s", self->jobs_at) < 0 ||
        zsock_bind(self->results, "%s", self->results_at) < 0)
        return RU_E_IO;
    zsock_set_sndhwm(self->jobs, S_HWM);
    zsock_set_rcvhwm(self->publish, S_HWM);
    self->pub = ru_admit_bind(self->admit, &self->peer_ctx, ZMQ_PUB, cfg->pub_bind, 0);
    self->serve.router = ru_admit_bind(self->admit, &self->peer_ctx, ZMQ_ROUTER, cfg->sync_bind, 0);
    if (!self->pub || !self->serve.router)
        return RU_E_IO;
    self->poller = zpoller_new(pipe, self->publish, self->serve.router, self->results, NULL);
    if (!self->poller)
        return RU_E_NOMEM;
    self->peer_ctx.poller = self->poller;
    for (int i = 0; i < self->n_peers; i++)
        if (ru_peer_connect(self->peers[i], 0) != RU_OK)
            return RU_E_INVALID;
    return RU_OK;
}

static void
s_close(ru_repl_t *self)
{
    for (int i = 0; i < self->n_peers; i++)
        ru_peer_disconnect(self->peers[i]);
    zpoller_destroy(&self->poller);
    ru_serve_fini(&self->serve);
    zsock_t **all[] = {&self->pub, &self->serve.router, &self->publish, &self->jobs,
                       &self->results};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        zsock_destroy(all[i]);
}

static void
s_actor(zsock_t *pipe, void *arg)
{
    ru_repl_t *self = arg;
    ru_err err = s_open(self, pipe);
    /*  zactor_new() waits for this signal but drops what it says: the
     *  life, set before it, tells ru_repl_new() whether the start failed. */
    atomic_store(&self->life, err ? S_FAILED : S_RUNNING);
    zsock_signal(pipe, err ? 1 : 0);
    if (!err) {
        ru_log_info("repl", "publishing at %s, catch-up at %s, %d peers", self->ctx.cfg->pub_bind,
                    self->ctx.cfg->sync_bind, self->n_peers);
        for (;;) {
            s_timers(self);
            int more = ru_serve_more(&self->serve, self->peers, self->n_peers);
            void *which = zpoller_wait(self->poller, s_wait_ms(self, more));
            if (zpoller_terminated(self->poller))
                break;
            if (which && !s_dispatch(self, pipe, which))
                break;
        }
        atomic_store(&self->life, S_STOPPED);
    }
    s_close(self);
    atomic_store_explicit(&self->done, 1, memory_order_release);
}

/*  ---------------------------------------------------------------------
 *  The public calls
 */

/*  Its parts that need no thread: peers, keys, log limits, recovery. */
static ru_err
s_prepare(ru_repl_t *self)
{
    const ru_config_t *cfg = self->ctx.cfg;
    static atomic_uint instances;
    unsigned n = atomic_fetch_add(&instances, 1);
    snprintf(self->jobs_at, sizeof self->jobs_at, "inproc://ruche-verify-%u", n);
    snprintf(self->results_at, sizeof self->results_at, "inproc://ruche-verified-%u", n);
    self->curve_sec = sodium_malloc(32);
    ru_err err = self->curve_sec ? RU_OK : RU_E_NOMEM;
    if (!err)
        err = ru_ratelimit_new(1, S_LOG_EVERY_MS, S_LOG_SLOTS, &self->logs);
    if (!err)
        err = ru_key_curve(self->ctx.key, self->curve_pub, self->curve_sec);
    self->peer_ctx = (ru_peer_ctx_t){&self->lock,     NULL, self->logs,     self->curve_pub,
                                     self->curve_sec, cfg,  self->ctx.store, self->ctx.blobs};
    self->fetch = err ? NULL : ru_fetch_new(&self->peer_ctx);
    if (!err && !self->fetch)
        err = RU_E_NOMEM;
    for (int i = 0; !err && i < cfg->n_peers; i++) {
        self->peers[i] = ru_peer_new(&self->peer_ctx, self->next_id++, &cfg->peers[i]);
        err = self->peers[i] ? RU_OK : RU_E_INVALID;
        self->n_peers += !err;
    }
    if (!err)
        s_sites(self);
    ru_txn_t txn;
    if (!err && (err = ru_store_read(self->ctx.store, &txn)) == RU_OK) {
        err = ru_apply_recovering(&txn, &self->recovering);
        ru_txn_abort(&txn);
    }
    return err;
}

ru_err
ru_repl_new(const ru_repl_ctx_t *ctx, ru_repl_t **out)
{
    *out = NULL;
    ru_repl_t *self = calloc(1, sizeof *self);
    if (!self)
        return RU_E_NOMEM;
    self->ctx = *ctx;
    self->next_id = 1; /* 0: no peer (ru_serve.c) */
    atomic_init(&self->life, S_STARTING);
    atomic_init(&self->done, 0);
    ru_recovery_init(&self->recovery);
    ru_clock_init(&self->published);
    pthread_mutex_init(&self->lock, NULL);
    ru_serve_init(&self->serve, &self->peer_ctx);
    ru_err err = s_prepare(self);
    ru_alarm_init(&self->alarm, ctx->cfg, ctx->store, ctx->sites);
    ru_verify_ctx_t verify = {ctx->store, ctx->writer, ctx->sites, ctx->cfg->max_skew_ms};
    if (!err)
        err = ru_admit_new(ctx->sites, (uint64_t) ctx->cfg->queue_mb << 20, &self->admit);
    if (!err)
        err = ru_verify_new(&verify, (int) ctx->cfg->verify_threads, self->jobs_at,
                            self->results_at, &self->verify);
    if (!err) {
        /*  A failed start must fail ru_repl_new(): a node left without its
         *  actor would serve as an island, and a command sent to the dead
         *  actor's pipe would block its sender for ever. */
        self->actor = zactor_new(s_actor, self);
        if (!self->actor || atomic_load(&self->life) != S_RUNNING)
            err = RU_E_IO; /* the actor logged why */
    }
    if (err) {
        ru_repl_destroy(&self);
        return err;
    }
    *out = self;
    return RU_OK;
}

void
ru_repl_destroy(ru_repl_t **self_p)
{
    ru_repl_t *self = *self_p;
    if (!self)
        return;
    zactor_destroy(&self->actor);
    /*  zactor_destroy() returned once the actor did, which libzmq orders
     *  through the pipe; reading what the actor wrote last orders it in
     *  the open too, for the thread sanitizer, which cannot see inside
     *  libzmq, before the peers the actor used are freed. */
    (void) atomic_load_explicit(&self->done, memory_order_acquire);
    ru_verify_destroy(&self->verify);
    ru_admit_destroy(&self->admit);
    ru_fetch_destroy(&self->fetch);
    for (int i = 0; i < self->n_peers; i++)
        ru_peer_destroy(&self->peers[i]);
    sodium_free(self->curve_sec);
    ru_ratelimit_destroy(&self->logs);
    ru_clock_fini(&self->published);
    ru_alarm_fini(&self->alarm);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

const char *
ru_repl_state(ru_repl_t *self)
{
    static const char *const names[] = {[S_STARTING] = "starting",
                                        [S_RUNNING] = "running",
                                        [S_FAILED] = "failed",
                                        [S_STOPPED] = "stopped"};
    return names[atomic_load(&self->life)];
}

ru_err
ru_repl_reload(ru_repl_t *self, const ru_config_t *cfg)
{
    ru_config_t *copy = malloc(sizeof *copy); /* the actor frees it */
    if (!copy)
        return RU_E_NOMEM;
    *copy = *cfg;
    if (zsock_send(self->actor, "sp", "PEERS", copy) != 0) {
        free(copy);
        return RU_E_IO;
    }
    return RU_OK;
}

ru_err
ru_repl_fetch(ru_repl_t *self, const uint8_t *hash)
{
    /* the hash's bytes go in the message: nothing crosses the pipe to free */
    return zsock_send(self->actor, "sb", "FETCH", hash, (size_t) RU_HASH_BYTES) == 0 ? RU_OK
                                                                                    : RU_E_IO;
}

ru_err
ru_repl_status(ru_repl_t *self, ru_replstat_t *out)
{
    ru_replstat_init(out);
    out->heartbeat_ms = self->ctx.cfg->heartbeat_ms;
    out->handshakes_refused = ru_admit_refused(self->admit);
    out->jobs_queued = ru_admit_queued(self->admit);
    out->live_pauses = ru_admit_pauses(self->admit);
    pthread_mutex_lock(&self->lock);
    ru_err err = ru_replstat_peers(out, self->n_peers);
    for (int i = 0; i < self->n_peers && !err; i++)
        err = ru_peer_status(self->peers[i], &out->peers[i]);
    if (!err)
        err = ru_clock_copy(&out->published, &self->published);
    out->syncs_served = self->serve.served;
    out->blobs.served = self->serve.blobs_served;
    out->blobs.served_bytes = self->serve.blob_bytes_served;
    ru_fetch_stats(self->fetch, &out->blobs);
    pthread_mutex_unlock(&self->lock);
    if (err)
        ru_replstat_fini(out);
    return err;
}

ru_err
ru_repl_collect(void *self_p, ru_buf_t *out)
{
    ru_repl_t *self = self_p;
    ru_clock_t ours;
    ru_clock_init(&ours);
    ru_replstat_t st;
    ru_txn_t txn;
    ru_err err = ru_store_read(self->ctx.store, &txn);
    if (!err) {
        err = ru_apply_clock(&txn, &ours);
        ru_txn_abort(&txn);
    }
    if (!err)
        err = ru_repl_status(self, &st);
    if (!err) {
        ru_replstat_metrics(&st, &ours, self->ctx.sites, self->ctx.store, out);
        ru_replstat_fini(&st);
    }
    ru_clock_fini(&ours);
    return err;
}
