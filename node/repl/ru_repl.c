/*  ru_repl.c - the replication actor (see ru_repl.h).
 *
 *  The actor is a CZMQ zactor: one thread, one poller over its sockets,
 *  timers computed from the clock at each turn. Its state is the peers
 *  (sockets, catch-up in progress, what their heartbeats said, rejection
 *  counts) and the catch-ups it is serving (s_session). The status fields
 *  of the peers are read by HTTP threads, under the mutex; the sockets
 *  never leave the actor's thread.
 *
 *  A catch-up being served is a session per asking node (its ROUTER
 *  identity); what goes out in it, batch by batch, is ru_catchup's. A
 *  session silent for a minute (a peer that went away) is dropped. The
 *  peer behind a ROUTER identity is known from the connection's User-Id,
 *  which the ZAP handler set to the site name of the CURVE key it let in;
 *  its key tells ru_catchup which pending updates are the asker's own. A
 *  session whose walk of the pending updates ran out of budget
 *  ([replication] pending_walk) is served again at the next turn of the
 *  loop, which then polls without waiting, so that its sockets are read
 *  in between.
 *
 *  What queues in memory is bounded in bytes: every socket's high-water
 *  marks are [replication] queue_mb divided by the largest message that
 *  socket carries (s_hwm; deploy/README.md gives the figures). On the
 *  sync socket that makes a handful of 4 MiB batches, which the credit of
 *  an honest asker stays within; the live stream's updates are bounded by
 *  the payload limit, and its SUBs read nothing much larger. The jobs for
 *  the verification workers are bounded by the same budget, in bytes of
 *  envelopes not yet answered: past it the live streams are left unread
 *  (s_live_flow).
 *
 *  Peers that break the rules of PROTOCOL.md section 13 are counted per
 *  peer (the "link" counts of the status, /metrics) and logged at most
 *  once a minute per peer and kind (s_may_log), so that a flood costs a
 *  counter, not the log: messages to our ROUTER that fail decoding
 *  (malformed) or have no business there (misplaced, as is any message of
 *  the wrong type on any socket), batches beyond the credit we granted
 *  (refused unread: over_credit), sends that fail at a high-water mark
 *  (sends_dropped; a PUB drops silently, so only its subscribers see those,
 *  as gaps: live_gaps), and catch-ups of ours that stalled: owed batches
 *  and silent for [replication] sync_timeout_ms, they are asked again at
 *  once on a new connection (stalled). Refused CURVE handshakes are
 *  counted, and logged once a minute per address.
 */
#include "ru_repl.h"

#include <czmq.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ruche/ru_hlc.h"
#include "ruche/ru_msg.h"
#include "ruche/ru_text.h"

#include "ru_apply.h"
#include "ru_catchup.h"
#include "ru_dbkey.h"
#include "ru_fork.h"
#include "ru_log.h"
#include "ru_prom.h"
#include "ru_ratelimit.h"
#include "ru_recovery.h"
#include "ru_verify.h"
#include "ru_replstat.h"

#define S_PUBLISH "inproc://ruche-publish"
#define S_JOBS "inproc://ruche-verify"
#define S_RESULTS "inproc://ruche-verified"
#define S_ZAP "inproc://zeromq.zap.01"
#define S_CREDIT 4              /* batches granted by a hello */
#define S_SESSION_IDLE_MS 60000 /* a silent catch-up is dropped */
#define S_HWM 100000            /* inproc queues: the workers, the store actor */
#define S_LOG_EVERY_MS 60000    /* one line a minute per peer or address and kind */
#define S_LOG_SLOTS 1024        /* peers and addresses remembered for that */
#define S_FULL_LOG_MS 60000        /* pending_full refusals: a line a minute per peer */
#define S_PENDING_CHECK_MS 10000   /* how often the pending set is looked at */
#define S_PENDING_ALARM_MS 600000  /* a lasting alarm is logged again after this */

/*  The largest message each socket carries (PROTOCOL.md 8 and 9), which
 *  its high-water marks follow:
 *  - live (PUB, SUB): an update whose payload is at the limit: 93 01 01,
 *    the envelope's array header (1 byte), the payload's bin32 header (5)
 *    and bytes, the signature's bin8 header (2) and bytes: 65611 bytes. A
 *    heartbeat with a full clock (map16 header, 1024 entries of a bin8 key
 *    and a uint64) takes 44081, a hello as much, a credit 4;
 *  - sync (ROUTER, DEALER): a batch, RU_MAX_MESSAGE (4 MiB + 64).
 *  Receivers read a little more (S_READ_*), so that a message slightly over
 *  a limit is still read, refused as too_big and counted; ZeroMQ drops a
 *  larger one with its connection, before it takes any memory. */
#define S_MAX_LIVE (3 + 1 + 5 + RU_MAX_PAYLOAD + 2 + RU_SIG_BYTES)
#define S_MAX_BEAT (3 + 3 + RU_MAX_CLOCK * (2 + RU_KEY_BYTES + 9) + 9 + 2 + RU_HASH_BYTES)
_Static_assert(S_MAX_BEAT <= S_MAX_LIVE, "heartbeats and hellos are no larger than updates");
#define S_READ_LIVE (S_MAX_LIVE + 4096)
#define S_READ_SYNC (RU_MAX_MESSAGE + 1024 * 1024)

typedef struct {
    uint32_t id; /* stable across reloads: jobs name their peer by it */
    ru_peer_cfg_t cfg;
    uint8_t curve[32];
    zsock_t *sub, *dealer;
    int syncing;
    int gap_later;    /* a gap seen while our catch-up was on: ask again after done */
    uint32_t session; /* our catch-ups asked of it, the current one's number */
    uint32_t credit;  /* batches of our catch-up it may still send */
    uint64_t sync_ms; /* last message of our catch-up with it */
    /* status, under the mutex */
    int heard;
    uint64_t heartbeat_ms, hlc, caught_up_ms;
    ru_clock_t clock;
    uint8_t digest[RU_HASH_BYTES];
    uint64_t rejected[RU_REJECT_COUNT];
    uint64_t received, verified, stored, duplicates;
    uint64_t syncs_asked; /* catch-ups we asked of it */
    uint64_t full_unlogged, full_logged_ms; /* actor only: pending_full refusals, their log */
    ru_clock_t live;      /* actor only: per origin, the last seq seen on its live stream */

    uint64_t link[RU_LINK_COUNT]; /* s_link_event, under the mutex */
} s_peer;

typedef struct s_session {
    ru_repl_t *repl;
    zframe_t *identity;
    uint32_t peer; /* its s_peer's id; 0: none known */
    int gone;      /* its connection is closed: the session ends */
    int more;      /* its last pump spent its walk budget: served again next turn */
    ru_catchup_t catchup;
    uint64_t last_ms;
    struct s_session *next;
} s_session;

/*  The actor's life, which HTTP threads read (ru_repl_state). */
typedef enum { S_STARTING, S_RUNNING, S_FAILED, S_STOPPED } s_life;

struct ru_repl {
    ru_repl_ctx_t ctx;
    zactor_t *actor;
    atomic_int life; /* s_life: set by the actor */
    atomic_int done; /* set by the actor as it returns (ru_repl_destroy) */
    pthread_mutex_t lock;
    s_peer *peers[RU_MAX_PEERS]; /* changed by the actor, under the mutex */
    int n_peers;
    uint32_t next_id;
    ru_verify_t *verify;
    uint8_t curve_pub[32];
    uint8_t *curve_sec; /* sodium_malloc */
    /* the actor's own */
    zsock_t *pub, *router, *zap, *publish, *jobs, *results;
    zpoller_t *poller;
    s_session *sessions;
    uint64_t next_heartbeat, next_anti_entropy;
    uint64_t next_pending_check, pending_alarm_ms; /* the pending alarm, its last line */
    /* metrics, under the mutex */
    ru_clock_t published;  /* per origin, updates sent out on our PUB (ours and relayed) */
    uint64_t syncs_served; /* catch-ups asked of us */
    uint64_t jobs_sent, jobs_done;
    uint64_t jobs_bytes;     /* actor only: the envelopes of the jobs not answered yet */
    uint64_t live_pauses;    /* times the live streams stopped being read, under the mutex */
    int live_paused;         /* actor only: the peers' SUBs are out of the poller */
    uint64_t live_read_ms;   /* actor only: when they were put back (wall ms) */
    int recovering;         /* the store was lost: our own updates come back first */
    ru_recovery_t recovery; /* what the peers have of ours */

    uint64_t handshakes_refused; /* CURVE keys ZAP turned away, under the mutex */
    ru_ratelimit_t *logs;        /* what was logged in the last minute (s_may_log) */
    ru_ref_t *alarmed;      /* actor only: the forks (origin, seq) alarmed since the start */
    int n_alarmed, cap_alarmed;
};

const char *
ru_repl_publish_endpoint(void)
{
    return S_PUBLISH;
}

/*  ---------------------------------------------------------------------
 *  Peers
 */

static void
s_peer_free(s_peer *p)
{
    zsock_destroy(&p->sub);
    zsock_destroy(&p->dealer);
    ru_clock_fini(&p->clock);
    ru_clock_fini(&p->live);
    free(p);
}

static s_peer *
s_peer_by_id(ru_repl_t *self, uint32_t id)
{
    for (int i = 0; i < self->n_peers; i++)
        if (self->peers[i]->id == id)
            return self->peers[i];
    return NULL;
}

/*  The peer whose connection a received frame came by: its User-Id is the
 *  site name the ZAP handler gave the CURVE key it admitted. */
static s_peer *
s_peer_of_frame(ru_repl_t *self, zframe_t *f)
{
    const char *site = f ? zframe_meta(f, "User-Id") : NULL;
    for (int i = 0; site && i < self->n_peers; i++)
        if (strcmp(self->peers[i]->cfg.site, site) == 0)
            return self->peers[i];
    return NULL;
}

/*  Whether a line about kind and who may be logged now: one a minute per
 *  pair, so that a peer or an address repeating itself costs a counter,
 *  not the log. The remembered pairs are bounded (S_LOG_SLOTS). */
static int
s_may_log(ru_repl_t *self, const char *kind, const char *who)
{
    char key[RU_MAX_NAME + 128];
    int n = snprintf(key, sizeof key, "%s %s", kind, who);
    size_t len = n < 0 ? 0 : (size_t) n < sizeof key ? (size_t) n : sizeof key - 1;
    uint64_t now = ru_ratelimit_now_ms();
    if (!self->logs || ru_ratelimit_wait(self->logs, key, len, now) > 0)
        return 0;
    ru_ratelimit_fail(self->logs, key, len, now);
    return 1;
}

/*  Counts a link event of p; logs why (printf-style, after the peer's
 *  name) when no line of that kind was logged for p in the last minute. */
static void s_link_event(ru_repl_t *self, s_peer *p, ru_link_event what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
s_link_event(ru_repl_t *self, s_peer *p, ru_link_event what, const char *fmt, ...)
{
    pthread_mutex_lock(&self->lock);
    p->link[what]++;
    uint64_t n = p->link[what];
    pthread_mutex_unlock(&self->lock);
    if (!s_may_log(self, ru_replstat_link_name(what), p->cfg.site))
        return;
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    ru_log_warn("repl", "[peer %s]: %s (%s: %llu so far; one line a minute)", p->cfg.site, why,
                ru_replstat_link_name(what), (unsigned long long) n);
}

/*  A new peer from its configuration, with its CURVE key. */
static s_peer *
s_peer_new(ru_repl_t *self, const ru_peer_cfg_t *cfg)
{
    s_peer *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->id = self->next_id++;
    p->cfg = *cfg;
    ru_clock_init(&p->clock);
    ru_clock_init(&p->live);
    if (ru_key_curve_public(p->cfg.key, p->curve) != RU_OK) {
        ru_log_err("config", "[peer %s] key is not a valid node key", p->cfg.site);
        free(p);
        return NULL;
    }
    return p;
}

/*  ---------------------------------------------------------------------
 *  Sockets
 */

static void
s_curve_client(ru_repl_t *self, zsock_t *sock, const uint8_t *server)
{
    zsock_set_curve_serverkey_bin(sock, server);
    zsock_set_curve_publickey_bin(sock, self->curve_pub);
    zsock_set_curve_secretkey_bin(sock, self->curve_sec);
}

/*  A high-water mark, in messages, that keeps a queue within
 *  [replication] queue_mb when every message is the largest one. */
static int
s_hwm(const ru_repl_t *self, uint64_t largest)
{
    uint64_t n = ((uint64_t) self->ctx.cfg->queue_mb << 20) / largest;
    return n < 1 ? 1 : n > INT_MAX ? INT_MAX : (int) n;
}

/*  The queues and the read limit of a socket that sends messages of up to
 *  send bytes and reads up to read bytes. */
static void
s_limits(const ru_repl_t *self, zsock_t *sock, uint64_t send, uint64_t read)
{
    zsock_set_sndhwm(sock, s_hwm(self, send));
    zsock_set_rcvhwm(sock, s_hwm(self, read));
    zsock_set_maxmsgsize(sock, (int) read); /* an S_READ_ size, far below INT_MAX */
}

static zsock_t *
s_server(ru_repl_t *self, int type, const char *endpoint, int quiet)
{
    zsock_t *sock = zsock_new(type);
    if (!sock)
        return NULL;
    zsock_set_zap_domain(sock, "ruche");
    zsock_set_curve_server(sock, 1);
    zsock_set_curve_secretkey_bin(sock, self->curve_sec);
    if (type == ZMQ_PUB)
        s_limits(self, sock, S_MAX_LIVE, S_READ_LIVE); /* it reads subscriptions */
    else {
        s_limits(self, sock, RU_MAX_MESSAGE, S_READ_SYNC);
        zsock_set_router_mandatory(sock, 1); /* a full queue says so: s_to_asker */
    }
    if (zsock_bind(sock, "%s", endpoint) < 0) {
        if (!quiet)
            ru_log_err("repl", "cannot bind [replication] %s at %s: %s",
                       type == ZMQ_PUB ? "pub" : "sync", endpoint, zmq_strerror(zmq_errno()));
        zsock_destroy(&sock);
    }
    return sock;
}

/*  A peer given with its endpoints is connected to; one given by its key
 *  alone is a trusted site further away, reached through relays. */
static int
s_direct(const s_peer *p)
{
    return p->cfg.pub[0] != '\0';
}

/*  A SUB on p's PUB, or a DEALER to its ROUTER, connected and polled;
 *  NULL (logged) when it cannot be made. */
static zsock_t *
s_peer_socket(ru_repl_t *self, s_peer *p, int type)
{
    zsock_t *sock = zsock_new(type);
    const char *endpoint = type == ZMQ_SUB ? p->cfg.pub : p->cfg.sync;
    if (!sock)
        return NULL;
    s_curve_client(self, sock, p->curve);
    if (type == ZMQ_SUB) {
        s_limits(self, sock, S_MAX_LIVE, S_READ_LIVE);
        zsock_set_subscribe(sock, "");
    } else
        s_limits(self, sock, S_MAX_LIVE, S_READ_SYNC); /* it sends hellos and credit */
    zsock_set_reconnect_ivl(sock, 100);
    zsock_set_reconnect_ivl_max(sock, 5000);
    if (zsock_connect(sock, "%s", endpoint) < 0) {
        ru_log_err("repl", "[peer %s]: cannot connect to %s", p->cfg.site, endpoint);
        zsock_destroy(&sock);
        return NULL;
    }
    if (type != ZMQ_SUB || !self->live_paused) /* else s_live_flow adds it */
        zpoller_add(self->poller, sock);
    return sock;
}

static ru_err
s_peer_sockets(ru_repl_t *self, s_peer *p)
{
    if (!s_direct(p))
        return RU_OK;
    p->sub = s_peer_socket(self, p, ZMQ_SUB);
    p->dealer = s_peer_socket(self, p, ZMQ_DEALER);
    if (p->sub && p->dealer)
        return RU_OK;
    zsock_t **both[] = {&p->sub, &p->dealer};
    for (int i = 0; i < 2; i++) {
        if (*both[i])
            zpoller_remove(self->poller, *both[i]);
        zsock_destroy(both[i]);
    }
    return RU_E_INVALID;
}

/*  Closes p's DEALER, and with it our catch-up there: whatever it was
 *  still sending goes nowhere. */
static void
s_close_dealer(ru_repl_t *self, s_peer *p)
{
    if (p->dealer)
        zpoller_remove(self->poller, p->dealer);
    zsock_destroy(&p->dealer);
    p->syncing = 0;
    p->credit = 0;
}

/*  ---------------------------------------------------------------------
 *  Sending
 */

/*  Sends without waiting; 0 when sent, -1 when not (a full queue). */
static int
s_send_buf(zsock_t *sock, const ru_buf_t *buf)
{
    if (!sock)
        return -1; /* a server socket that could not be bound again */
    return zmq_send(zsock_resolve(sock), buf->data, buf->len, ZMQ_DONTWAIT) < 0 ? -1 : 0;
}

/*  Sends msg on p's DEALER (a hello or credit); a send that fails is
 *  counted: the catch-up will stall and be asked again. */
static int
s_to_answerer(ru_repl_t *self, s_peer *p, const ru_buf_t *msg)
{
    if (s_send_buf(p->dealer, msg) == 0)
        return 0;
    s_link_event(self, p, RU_LINK_DROPPED, "a catch-up message to it was dropped: %s",
                 zmq_strerror(zmq_errno()));
    return -1;
}

/*  Asks p for a catch-up: our clock, and S_CREDIT batches. Until done the
 *  catch-up is on (syncing); a hello that could not be sent too, so that
 *  it is asked again after sync_timeout_ms. */
static void
s_hello(ru_repl_t *self, s_peer *p)
{
    ru_clock_t clock;
    ru_clock_init(&clock);
    ru_buf_t buf;
    ru_buf_init(&buf);
    if (ru_apply_state(self->ctx.store, &clock, NULL) == RU_OK &&
        ru_msg_encode_hello(&clock, S_CREDIT, &buf) == RU_OK) {
        (void) s_to_answerer(self, p, &buf);
        p->syncing = 1;
        p->session++;
        p->credit = S_CREDIT;
        p->sync_ms = zclock_mono();
        pthread_mutex_lock(&self->lock);
        p->syncs_asked++;
        pthread_mutex_unlock(&self->lock);
    }
    ru_buf_fini(&buf);
    ru_clock_fini(&clock);
}

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
        s_send_buf(self->pub, &buf);
    ru_buf_fini(&buf);
    ru_clock_fini(&clock);
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
        for (int i = 0; i < self->n_peers; i++)
            if (!self->peers[i]->syncing && s_direct(self->peers[i]))
                s_hello(self, self->peers[i]);
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
        s_send_buf(self->pub, &buf);
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
 *  Serving catch-up
 */

static void
s_session_free(s_session *s)
{
    zframe_destroy(&s->identity);
    ru_catchup_fini(&s->catchup);
    free(s);
}

/*  Sends msg to the asker of session s through the ROUTER. The ROUTER is
 *  mandatory-routing: a send to an asker whose queue is full fails (and is
 *  counted; the asker's catch-up stalls and it asks again), one to an
 *  asker gone ends the session. Either way its credit is spent: never more
 *  batches are sent than were granted. */
static void
s_to_asker(ru_repl_t *self, s_session *s, const ru_buf_t *msg)
{
    zframe_t *id = zframe_dup(s->identity);
    zframe_t *body = zframe_new(msg->data, msg->len);
    if (id && body && zframe_send(&id, self->router, ZFRAME_MORE | ZFRAME_DONTWAIT) == 0)
        zframe_send(&body, self->router, ZFRAME_DONTWAIT);
    else if (id && body && zmq_errno() == EHOSTUNREACH)
        s->gone = 1;
    else if (id && body) {
        s_peer *p = s_peer_by_id(self, s->peer);
        if (p)
            s_link_event(self, p, RU_LINK_DROPPED,
                         "a catch-up message to it was dropped: its queue is full (%d messages)",
                         s_hwm(self, RU_MAX_MESSAGE));
    }
    zframe_destroy(&id);
    zframe_destroy(&body);
}

/*  ru_catchup's send function: to the asker of a session. */
static void
s_send_to_asker(void *ctx, const ru_buf_t *msg)
{
    s_session *s = ctx;
    s_to_asker(s->repl, s, msg);
}

/*  The session of the asker identity, NULL if none. */
static s_session **
s_find_session(ru_repl_t *self, zframe_t *identity)
{
    for (s_session **s = &self->sessions; *s; s = &(*s)->next)
        if (zframe_eq((*s)->identity, identity))
            return s;
    return NULL;
}

/*  Pumps the session at *link; one over is unlinked and freed (returns 1
 *  then). */
static int
s_serve(ru_repl_t *self, s_session **link)
{
    s_session *s = *link;
    s->last_ms = zclock_mono();
    ru_catchup_step step = ru_catchup_pump(&s->catchup, self->ctx.store, s_send_to_asker, s);
    s->more = step == RU_CATCHUP_MORE;
    if (step == RU_CATCHUP_OVER || s->gone) {
        *link = s->next;
        s_session_free(s);
        return 1;
    }
    return 0;
}

/*  Serves again the sessions whose last pump spent its walk budget, once
 *  each at every turn of the actor, between its sockets' messages; 1 when
 *  some still have more. */
static int
s_serve_more(ru_repl_t *self)
{
    int more = 0;
    for (s_session **link = &self->sessions; *link;) {
        s_session *s = *link;
        if (s->more && s_serve(self, link))
            continue; /* freed: *link is the next one */
        more |= s->more;
        link = &s->next;
    }
    return more;
}

/*  A hello from an asking peer (p, NULL if unknown): its session starts,
 *  or starts again. */
static void
s_on_hello(ru_repl_t *self, zframe_t *id, const s_peer *p, const ru_msg_t *msg)
{
    pthread_mutex_lock(&self->lock);
    self->syncs_served++;
    pthread_mutex_unlock(&self->lock);
    s_session **link = s_find_session(self, id);
    if (!link) {
        s_session *s = calloc(1, sizeof *s);
        if (!s)
            return;
        s->repl = self;
        s->identity = zframe_dup(id);
        ru_catchup_init(&s->catchup, (uint32_t) self->ctx.cfg->pending_walk);
        s->next = self->sessions;
        self->sessions = s;
        link = &self->sessions;
    }
    (*link)->peer = p ? p->id : 0;
    const uint8_t *asker = p && p->cfg.has_key ? p->cfg.key : NULL;
    if (ru_catchup_hello(&(*link)->catchup, &msg->clock, asker, msg->credit) == RU_OK)
        s_serve(self, link);
}

/*  A message on the ROUTER: an asking peer's hello or credit. Anything
 *  else is counted against the peer and logged (PROTOCOL.md 13): one
 *  frame that does not decode is malformed, a message of another type
 *  misplaced. Credit for a session already over (sent before the asker
 *  got done) is no fault. */
static void
s_on_router(ru_repl_t *self)
{
    zmsg_t *m = zmsg_recv(self->router);
    size_t frames = m ? zmsg_size(m) : 0;
    zframe_t *id = m ? zmsg_pop(m) : NULL;
    zframe_t *body = m ? zmsg_pop(m) : NULL;
    s_peer *p = s_peer_of_frame(self, body ? body : id);
    ru_msg_t msg;
    ru_msg_init(&msg);
    ru_err err = frames != 2 || !body ? RU_E_TYPE
                                      : ru_msg_decode(zframe_data(body), zframe_size(body), &msg);
    if (err == RU_OK && msg.type == RU_MSG_HELLO)
        s_on_hello(self, id, p, &msg);
    else if (err == RU_OK && msg.type == RU_MSG_CREDIT) {
        s_session **link = s_find_session(self, id);
        if (link) {
            ru_catchup_credit(&(*link)->catchup, msg.credit);
            s_serve(self, link);
        }
    } else if (err == RU_OK && p)
        s_link_event(self, p, RU_LINK_MISPLACED, "a %s message on our sync socket refused",
                     ru_msg_type_name(msg.type));
    else if (p && frames != 2)
        s_link_event(self, p, RU_LINK_MALFORMED,
                     "a message of %zu frames on our sync socket refused (one is the rule)",
                     frames > 0 ? frames - 1 : 0);
    else if (p)
        s_link_event(self, p, RU_LINK_MALFORMED, "a message on our sync socket refused: %s",
                     ru_err_str(err));
    ru_msg_fini(&msg);
    zframe_destroy(&id);
    zframe_destroy(&body);
    zmsg_destroy(&m);
}

static void
s_expire_sessions(ru_repl_t *self, uint64_t now)
{
    for (s_session **s = &self->sessions; *s;) {
        if (now - (*s)->last_ms > S_SESSION_IDLE_MS) {
            s_session *dead = *s;
            *s = dead->next;
            s_session_free(dead);
        } else
            s = &(*s)->next;
    }
}

/*  ---------------------------------------------------------------------
 *  Receiving
 */

static void
s_reject(ru_repl_t *self, s_peer *p, ru_err err)
{
    ru_reject why = ru_verify_reason(err);
    pthread_mutex_lock(&self->lock);
    p->rejected[why]++;
    pthread_mutex_unlock(&self->lock);
    ru_log_warn("repl", "[peer %s]: refused a message: %s (%s)", p->cfg.site, ru_err_str(err),
                ru_verify_reason_name(why));
}

/*  The jobs queued for the workers are bounded in bytes like the sockets'
 *  queues: past [replication] queue_mb of envelopes not yet answered, the
 *  peers' live streams are not read (their SUBs leave the poller) until
 *  half of it is answered. What a peer then publishes waits in its queue
 *  towards us, then is dropped there, and comes with a catch-up, whose
 *  batches stay bounded by the credit we grant. */
static void
s_live_flow(ru_repl_t *self)
{
    uint64_t budget = (uint64_t) self->ctx.cfg->queue_mb << 20;
    int pause = self->live_paused ? self->jobs_bytes > budget / 2 : self->jobs_bytes > budget;
    if (pause == self->live_paused)
        return;
    self->live_paused = pause;
    if (!pause)
        self->live_read_ms = ru_hlc_wall_ms();
    for (int i = 0; i < self->n_peers; i++)
        if (self->peers[i]->sub) {
            if (pause)
                zpoller_remove(self->poller, self->peers[i]->sub);
            else
                zpoller_add(self->poller, self->peers[i]->sub);
        }
    if (pause) {
        pthread_mutex_lock(&self->lock);
        self->live_pauses++;
        pthread_mutex_unlock(&self->lock);
        if (s_may_log(self, "live paused", ""))
            ru_log_warn("repl",
                        "updates to verify and store take more than [replication] queue_mb "
                        "(%ld MiB): the live streams wait until half of them are done",
                        self->ctx.cfg->queue_mb);
    }
}

/*  Sends a job to the workers, its size in its head, counting it while
 *  it is queued. */
static void
s_send_job(ru_repl_t *self, zmsg_t **m)
{
    zframe_t *head = zmsg_first(*m);
    ru_verify_job_t job;
    if (!head || zframe_size(head) != sizeof job) {
        zmsg_destroy(m);
        return;
    }
    memcpy(&job, zframe_data(head), sizeof job);
    job.bytes = (uint32_t) (zmsg_content_size(*m) - sizeof job);
    memcpy(zframe_data(head), &job, sizeof job);
    uint32_t bytes = job.bytes;
    if (zmsg_send(m, self->jobs) != 0)
        return;
    pthread_mutex_lock(&self->lock);
    self->jobs_sent++;
    pthread_mutex_unlock(&self->lock);
    self->jobs_bytes += bytes;
    s_live_flow(self);
}

/*  Hands the envelopes of msg to the verification workers. */
static void
s_job(ru_repl_t *self, const s_peer *p, int sync, const ru_msg_t *msg)
{
    ru_verify_job_t job = {p->id, (uint32_t) sync, 0, p->session};
    zmsg_t *m = zmsg_new();
    if (!m)
        return;
    zmsg_addmem(m, &job, sizeof job);
    for (uint32_t i = 0; i < msg->n_updates; i++)
        zmsg_addmem(m, msg->updates[i].wire, msg->updates[i].wire_len);
    s_send_job(self, &m);
}

/*  A peer's heartbeat: its clock, time and digest for the status, and
 *  when we last had everything it had (for "seconds behind"). */
static void
s_on_heartbeat(ru_repl_t *self, s_peer *p, const ru_msg_t *msg)
{
    ru_clock_t ours;
    ru_clock_init(&ours);
    int caught_up = ru_apply_state(self->ctx.store, &ours, NULL) == RU_OK &&
                    ru_replstat_lacking(&ours, &msg->clock) == 0;
    ru_clock_fini(&ours);
    uint64_t now = ru_hlc_wall_ms();
    pthread_mutex_lock(&self->lock);
    if (caught_up || !p->heard)
        p->caught_up_ms = now;
    p->heard = 1;
    p->heartbeat_ms = now;
    p->hlc = msg->hlc;
    memcpy(p->digest, msg->digest, RU_HASH_BYTES);
    ru_err err = ru_clock_copy(&p->clock, &msg->clock);
    pthread_mutex_unlock(&self->lock);
    (void) err; /* out of memory: the previous clock stays */
    ru_recovery_heard(&self->recovery, p->id,
                      ru_clock_get(&msg->clock, ru_key_public(self->ctx.key)));
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
        if (s_direct(self->peers[i]))
            direct[n++] = self->peers[i]->id;
    if (ru_recovery_try_end(&self->recovery, self->ctx.writer, direct, n, &ended) == RU_OK &&
        ended) {
        self->recovering = 0;
        ru_log_info("repl", "this site's own updates are back (up to seq %llu): accepting posts",
                    (unsigned long long) self->recovery.target);
    }
}

/*  The seq of an envelope, read from the fixed place after the origin in
 *  its payload (0 if it is not there: the workers will refuse it). */
static uint64_t
s_seq_of(const ru_envelope_t *env)
{
    ru_mp_t mp;
    uint64_t version, seq;
    uint8_t origin[RU_KEY_BYTES];
    ru_mp_init(&mp, env->payload, env->payload_len);
    if (ru_mp_array_of(&mp, 9) || ru_mp_uint(&mp, &version) ||
        ru_mp_bin_exact(&mp, origin, RU_KEY_BYTES) || ru_mp_uint(&mp, &seq))
        return 0;
    return seq;
}

/*  A catch-up for a gap in p's live stream. */
static void
s_gap_hello(ru_repl_t *self, s_peer *p)
{
    pthread_mutex_lock(&self->lock);
    p->link[RU_LINK_GAPS]++;
    pthread_mutex_unlock(&self->lock);
    ru_log_info("repl", "[peer %s]: a gap in the live stream: asking for a catch-up",
                p->cfg.site);
    s_hello(self, p);
}

/*  A peer publishes each origin's updates in seq order: a jump in one
 *  origin's seqs on its live stream means the PUB dropped some (a full
 *  high-water mark), and a catch-up fetches them. Updates that merely
 *  finish verification out of order are no gap. A gap seen while our
 *  catch-up is on is asked for once it is done: that catch-up may have
 *  begun before the updates dropped were made. */
static void
s_live_gap(ru_repl_t *self, s_peer *p, const ru_envelope_t *env)
{
    uint64_t seq = s_seq_of(env), last = ru_clock_get(&p->live, env->origin);
    if (seq == 0 || ru_clock_set(&p->live, env->origin, seq > last ? seq : last) != RU_OK)
        return;
    if (last && seq > last + 1 && p->syncing)
        p->gap_later = 1;
    else if (last && seq > last + 1)
        s_gap_hello(self, p);
}

/*  A batch of our catch-up: verified and stored when it is within the
 *  credit we granted (hello, then one per batch processed), else refused
 *  unread, as is any batch outside a catch-up of ours. What a refused
 *  batch held comes with the next catch-up. */
static void
s_on_batch(ru_repl_t *self, s_peer *p, const ru_msg_t *msg)
{
    if (!p->syncing || p->credit == 0) {
        s_link_event(self, p, RU_LINK_OVER_CREDIT,
                     "a batch of %u updates beyond the credit granted refused",
                     (unsigned) msg->n_updates);
        return;
    }
    p->credit--;
    p->sync_ms = zclock_mono();
    s_job(self, p, 1, msg);
}

/*  One message from a peer's SUB (live) or DEALER (catch-up answers).
 *  Live updates are gathered in *live, one verification job for all the
 *  updates that were waiting on the socket. */
static void
s_peer_message(ru_repl_t *self, s_peer *p, int live, zframe_t *f, zmsg_t **batch)
{
    ru_msg_t msg;
    ru_msg_init(&msg);
    ru_err err = ru_msg_decode(zframe_data(f), zframe_size(f), &msg);
    if (err)
        s_reject(self, p, err);
    else if (live && msg.type == RU_MSG_UPDATE) {
        s_live_gap(self, p, &msg.updates[0]);
        if (!*batch && (*batch = zmsg_new()) != NULL) {
            ru_verify_job_t job = {p->id, 0, 0, 0};
            zmsg_addmem(*batch, &job, sizeof job);
        }
        if (*batch)
            zmsg_addmem(*batch, msg.updates[0].wire, msg.updates[0].wire_len);
    } else if (live && msg.type == RU_MSG_HEARTBEAT)
        s_on_heartbeat(self, p, &msg);
    else if (!live && msg.type == RU_MSG_BATCH)
        s_on_batch(self, p, &msg);
    else if (!live && msg.type == RU_MSG_DONE) {
        p->syncing = 0;
        p->credit = 0;
        if (p->gap_later) {
            p->gap_later = 0;
            s_gap_hello(self, p);
        }
        ru_recovery_done(&self->recovery, p->id,
                         ru_clock_get(&msg.clock, ru_key_public(self->ctx.key)));
        s_try_end_recovery(self);
    } else
        s_link_event(self, p, RU_LINK_MISPLACED, "a %s message on its %s refused",
                     ru_msg_type_name(msg.type), live ? "live stream" : "catch-up answers");
    ru_msg_fini(&msg);
}

/*  Reads what a peer's socket holds, up to a batch's worth of messages,
 *  and hands the live updates among them to the workers as one job. */
static void
s_on_peer(ru_repl_t *self, int i, zsock_t *sock)
{
    s_peer *p = self->peers[i];
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

/*  Logs what a job refused: one line per job. A fork is the origin's
 *  doing, not the peer's: its alarm names the origin (s_forks). */
static void
s_log_rejected(const s_peer *p, const ru_verify_result_t *r)
{
    char line[256];
    size_t used = 0;
    for (int k = 0; k < RU_REJECT_COUNT; k++) {
        if (!r->rejected[k] || k == RU_REJECT_PENDING_FULL) /* s_log_pending_full's */
            continue;
        int n = snprintf(line + used, sizeof line - used, "%s%s %u", used ? ", " : "",
                         ru_verify_reason_name((ru_reject) k), (unsigned) r->rejected[k]);
        if (n < 0 || (size_t) n >= sizeof line - used)
            break;
        used += (size_t) n;
    }
    if (used)
        ru_log_warn("repl", "[peer %s]: refused updates: %s", p->cfg.site, line);
}

/*  Refusals for a full pending set come in floods (a peer sending what
 *  can never apply): one line a minute per peer, with the count since. */
static void
s_log_pending_full(s_peer *p, uint32_t n)
{
    uint64_t now = ru_hlc_wall_ms();
    p->full_unlogged += n;
    if (!p->full_unlogged || (p->full_logged_ms && now - p->full_logged_ms < S_FULL_LOG_MS))
        return;
    ru_log_warn("repl",
                "[peer %s]: refused %llu updates: too many updates wait for their dependencies "
                "([replication] pending_per_origin, pending_max); a catch-up brings them again",
                p->cfg.site, (unsigned long long) p->full_unlogged);
    p->full_unlogged = 0;
    p->full_logged_ms = now;
}

/*  ---------------------------------------------------------------------
 *  Forks (ru_fork.h): one alarm per fork found, naming its origin, and
 *  its evidence sent to the peers as two update messages, at once and at
 *  every anti-entropy turn, so that every site learns of it, whichever
 *  variant it holds (PROTOCOL.md section 16)
 */

static int
s_alarmed(ru_repl_t *self, const ru_fork_t *fork)
{
    for (int i = 0; i < self->n_alarmed; i++)
        if (self->alarmed[i].seq == fork->seq &&
            memcmp(self->alarmed[i].origin, fork->origin, RU_KEY_BYTES) == 0)
            return 1;
    if (self->n_alarmed == self->cap_alarmed) {
        int cap = self->cap_alarmed ? 2 * self->cap_alarmed : 8;
        ru_ref_t *v = realloc(self->alarmed, (size_t) cap * sizeof *v);
        if (!v)
            return 0; /* alarmed again next time */
        self->alarmed = v;
        self->cap_alarmed = cap;
    }
    memcpy(self->alarmed[self->n_alarmed].origin, fork->origin, RU_KEY_BYTES);
    self->alarmed[self->n_alarmed++].seq = fork->seq;
    return 0;
}

static void
s_fork_alarm(ru_repl_t *self, const ru_fork_t *fork)
{
    char name[RU_MAX_NAME + 1 > RU_KEY_TEXT_SIZE ? RU_MAX_NAME + 1 : RU_KEY_TEXT_SIZE];
    char key[RU_KEY_TEXT_SIZE], first[2 * RU_HASH_BYTES + 1], other[2 * RU_HASH_BYTES + 1];
    ru_sites_label(self->ctx.sites, fork->origin, name);
    ru_b64_encode(key, fork->origin, RU_KEY_BYTES);
    sodium_bin2hex(first, sizeof first, fork->first, RU_HASH_BYTES);
    sodium_bin2hex(other, sizeof other, fork->other, RU_HASH_BYTES);
    ru_log_err("repl",
               "ALARM: origin %s (%s) forked: it signed two updates with seq %llu (%s, %s); "
               "its updates from that seq on are held here (%llu so far) until an operator "
               "resolves the fork",
               name, key, (unsigned long long) fork->seq, first, other,
               (unsigned long long) fork->held);
}

typedef struct {
    ru_repl_t *self;
    int all; /* send every fork's evidence, not only the new ones' */
} s_fork_scan;

static int
s_fork_seen(void *ctx, const ru_fork_t *fork)
{
    s_fork_scan *scan = ctx;
    if (fork->resolved) /* its RESOLVE replicates: the evidence would only be refused */
        return 0;
    int known = s_alarmed(scan->self, fork);
    if (!known)
        s_fork_alarm(scan->self, fork);
    ru_buf_t buf;
    ru_buf_init(&buf);
    for (int k = 0; k < 2 && (!known || scan->all); k++) {
        ru_buf_reset(&buf);
        if (ru_msg_encode_update(fork->evidence[k], &buf) == RU_OK)
            s_send_buf(scan->self->pub, &buf);
    }
    ru_buf_fini(&buf);
    return 0;
}

/*  Alarms the forks not alarmed yet and sends their evidence (all: every
 *  fork's). */
static void
s_forks(ru_repl_t *self, int all)
{
    ru_txn_t txn;
    s_fork_scan scan = {self, all};
    if (ru_store_read(self->ctx.store, &txn) != RU_OK)
        return;
    ru_err err = ru_fork_list(&txn, s_fork_seen, &scan);
    ru_txn_abort(&txn);
    if (err)
        ru_log_err("repl", "cannot read the forks: %s", ru_err_str(err));
}

/*  What the workers made of a job: counts, credit for catch-up batches, a
 *  catch-up when a live update showed a gap. */
static void
s_on_result(ru_repl_t *self)
{
    zframe_t *f = zframe_recv(self->results);
    ru_verify_result_t r;
    int ok = f && zframe_size(f) == sizeof r;
    if (ok)
        memcpy(&r, zframe_data(f), sizeof r);
    zframe_destroy(&f);
    s_peer *p = ok ? s_peer_by_id(self, r.job.peer) : NULL;
    pthread_mutex_lock(&self->lock);
    self->jobs_done += ok;
    pthread_mutex_unlock(&self->lock);
    if (ok) {
        self->jobs_bytes -= r.job.bytes < self->jobs_bytes ? r.job.bytes : self->jobs_bytes;
        s_live_flow(self);
    }
    if (!p)
        return; /* a peer removed since */
    pthread_mutex_lock(&self->lock);
    for (int k = 0; k < RU_REJECT_COUNT; k++)
        p->rejected[k] += r.rejected[k];
    p->received += r.received;
    p->verified += r.verified;
    p->stored += r.applied + r.pending;
    p->duplicates += r.duplicate;
    pthread_mutex_unlock(&self->lock);
    s_log_rejected(p, &r);
    s_log_pending_full(p, r.rejected[RU_REJECT_PENDING_FULL]);
    if (r.rejected[RU_REJECT_FORK])
        s_forks(self, 0);
    if (r.store_error)
        ru_log_err("repl", "[peer %s]: updates not stored: %s", p->cfg.site,
                   ru_err_str((ru_err) r.store_error));
    if (r.job.sync)
        s_try_end_recovery(self);
    /*  The batch's credit back, while its catch-up goes on: not to a
     *  later one, which counts its own. */
    if (r.job.sync && p->syncing && r.job.session == p->session) {
        ru_buf_t buf;
        ru_buf_init(&buf);
        if (ru_msg_encode_credit(1, &buf) == RU_OK && s_to_answerer(self, p, &buf) == 0) {
            p->credit++;
            p->sync_ms = zclock_mono();
        }
        ru_buf_fini(&buf);
    }
}

/*  ZAP: CURVE clients get in when their key is a configured peer's. */
static void
s_on_zap(ru_repl_t *self)
{
    zmsg_t *req = zmsg_recv(self->zap);
    if (!req)
        return;
    char *version = zmsg_popstr(req), *seq = zmsg_popstr(req);
    char *domain = zmsg_popstr(req), *address = zmsg_popstr(req);
    char *identity = zmsg_popstr(req), *mechanism = zmsg_popstr(req);
    zframe_t *key = zmsg_pop(req);
    int peer = -1;
    if (mechanism && strcmp(mechanism, "CURVE") == 0 && key && zframe_size(key) == 32)
        for (int i = 0; i < self->n_peers && peer < 0; i++)
            if (memcmp(self->peers[i]->curve, zframe_data(key), 32) == 0)
                peer = i;
    if (peer < 0) {
        pthread_mutex_lock(&self->lock);
        uint64_t n = ++self->handshakes_refused;
        pthread_mutex_unlock(&self->lock);
        if (s_may_log(self, "zap", address ? address : "?"))
            ru_log_warn("repl",
                        "refused a connection from %s: not a configured peer's key (%llu "
                        "refused from anywhere so far; one line a minute per address)",
                        address ? address : "?", (unsigned long long) n);
    }
    zstr_sendm(self->zap, "1.0");
    zstr_sendm(self->zap, seq ? seq : "");
    zstr_sendm(self->zap, peer >= 0 ? "200" : "400");
    zstr_sendm(self->zap, peer >= 0 ? "OK" : "not a peer");
    zstr_sendm(self->zap, peer >= 0 ? self->peers[peer]->cfg.site : "");
    zstr_send(self->zap, "");
    char *all[] = {version, seq, domain, address, identity, mechanism};
    for (int i = 0; i < 6; i++)
        free(all[i]);
    zframe_destroy(&key);
    zmsg_destroy(&req);
}

/*  ---------------------------------------------------------------------
 *  The actor
 */

/*  A peer not heard for three heartbeats gets new sockets. ZeroMQ gives up
 *  on a connection whose CURVE handshake was refused, and a peer refuses us
 *  until its operator adds us to its configuration: connecting anew is how
 *  we find out that it has. */
static void
s_silent_peer(ru_repl_t *self, s_peer *p)
{
    uint64_t now = ru_hlc_wall_ms();
    pthread_mutex_lock(&self->lock);
    uint64_t heard = p->heartbeat_ms > self->live_read_ms ? p->heartbeat_ms : self->live_read_ms;
    int silent = !p->heard || now - heard > 3 * (uint64_t) self->ctx.cfg->heartbeat_ms;
    pthread_mutex_unlock(&self->lock);
    if (!s_direct(p) || !silent || self->live_paused) /* paused: the silence is ours */
        return;
    if (p->sub)
        zpoller_remove(self->poller, p->sub);
    zsock_destroy(&p->sub);
    s_close_dealer(self, p);
    if (s_peer_sockets(self, p) != RU_OK)
        ru_log_warn("repl", "[peer %s]: cannot connect again", p->cfg.site);
}

static void s_pending_alarm(ru_repl_t *self);

/*  When our catch-up with p stalls: it owes us batches (credit we granted
 *  and it has not used) and has sent nothing for sync_timeout_ms. With no
 *  credit left it is waiting for us, which is no stall. UINT64_MAX: never. */
static uint64_t
s_stall_at(const ru_repl_t *self, const s_peer *p)
{
    if (!p->syncing || p->credit == 0)
        return UINT64_MAX;
    return p->sync_ms + (uint64_t) self->ctx.cfg->sync_timeout_ms;
}

/*  A stalled catch-up is asked again at once, on a new connection: the
 *  old one may be the trouble, and the answers of the old session, should
 *  they come after all, cannot be taken for the new one's. */
static void
s_stalled(ru_repl_t *self, s_peer *p)
{
    s_link_event(self, p, RU_LINK_STALLED,
                 "our catch-up got nothing for %ld ms ([replication] sync_timeout_ms): asking "
                 "again",
                 self->ctx.cfg->sync_timeout_ms);
    s_close_dealer(self, p);
    p->dealer = s_peer_socket(self, p, ZMQ_DEALER);
    if (p->dealer)
        s_hello(self, p);
}

/*  Heartbeats, anti-entropy, stalled catch-ups, idle sessions and the
 *  pending alarm. */
static void
s_timers(ru_repl_t *self)
{
    uint64_t now = zclock_mono();
    if (now >= self->next_pending_check) {
        s_pending_alarm(self);
        self->next_pending_check = now + S_PENDING_CHECK_MS;
    }
    if (now >= self->next_heartbeat) {
        s_heartbeat(self);
        self->next_heartbeat = now + (uint64_t) self->ctx.cfg->heartbeat_ms;
    }
    for (int i = 0; i < self->n_peers; i++)
        if (now >= s_stall_at(self, self->peers[i]))
            s_stalled(self, self->peers[i]);
    if (now >= self->next_anti_entropy) {
        for (int i = 0; i < self->n_peers; i++)
            s_silent_peer(self, self->peers[i]);
        for (int i = 0; i < self->n_peers; i++)
            if (!self->peers[i]->syncing && s_direct(self->peers[i]))
                s_hello(self, self->peers[i]);
        s_forks(self, 1);
        self->next_anti_entropy = now + 1000 * (uint64_t) self->ctx.cfg->anti_entropy_s;
    }
    s_expire_sessions(self, now);
}

static void s_sites(ru_repl_t *self);

/*  Binds a server socket again at endpoint: the old one's listener is let
 *  go by ZeroMQ's I/O thread shortly after it is closed, so the bind is
 *  tried again for up to a second. */
static zsock_t *
s_rebind(ru_repl_t *self, zsock_t **old, int type, const char *endpoint)
{
    if (*old)
        zsock_set_linger(*old, 0);
    zsock_destroy(old);
    for (int tries = 0; tries < 100; tries++) {
        zsock_t *sock = s_server(self, type, endpoint, tries < 99);
        if (sock)
            return sock;
        zclock_sleep(10);
    }
    return NULL;
}

/*  A removed peer's connections to our PUB and ROUTER were admitted when
 *  it was trusted, and ZAP never looks at them again: new sockets drop
 *  them all. The peers still configured reconnect on their own, and their
 *  catch-up sessions start again with their next hello. */
static void
s_renew_servers(ru_repl_t *self)
{
    const ru_config_t *cfg = self->ctx.cfg;
    if (self->router)
        zpoller_remove(self->poller, self->router);
    while (self->sessions) {
        s_session *s = self->sessions;
        self->sessions = s->next;
        s_session_free(s);
    }
    self->pub = s_rebind(self, &self->pub, ZMQ_PUB, cfg->pub_bind);
    self->router = s_rebind(self, &self->router, ZMQ_ROUTER, cfg->sync_bind);
    if (self->router)
        zpoller_add(self->poller, self->router);
    if (!self->pub || !self->router)
        ru_log_err("repl", "cannot bind the replication sockets again: restart the node");
}

/*  Is p configured exactly as cfg (same key and endpoints)? */
static int
s_same_peer(const s_peer *p, const ru_peer_cfg_t *cfg)
{
    return memcmp(p->cfg.key, cfg->key, RU_KEY_BYTES) == 0 && strcmp(p->cfg.pub, cfg->pub) == 0 &&
           strcmp(p->cfg.sync, cfg->sync) == 0 && strcmp(p->cfg.site, cfg->site) == 0;
}

/*  A new peer list (SIGHUP): peers gone or changed are closed, new ones
 *  connected and asked for a catch-up; the site directory follows. */
static void
s_reload(ru_repl_t *self, const ru_config_t *cfg)
{
    int removed = 0;
    for (int i = 0; i < self->n_peers;) {
        int keep = 0;
        for (int j = 0; j < cfg->n_peers && !keep; j++)
            keep = s_same_peer(self->peers[i], &cfg->peers[j]);
        if (keep) {
            i++;
            continue;
        }
        s_peer *gone = self->peers[i];
        pthread_mutex_lock(&self->lock);
        self->peers[i] = self->peers[--self->n_peers];
        pthread_mutex_unlock(&self->lock);
        if (gone->sub)
            zpoller_remove(self->poller, gone->sub);
        if (gone->dealer)
            zpoller_remove(self->poller, gone->dealer);
        ru_log_info("repl", "[peer %s] removed", gone->cfg.site);
        s_peer_free(gone);
        removed = 1;
    }
    if (removed)
        s_renew_servers(self);
    for (int j = 0; j < cfg->n_peers; j++) {
        int known = 0;
        for (int i = 0; i < self->n_peers && !known; i++)
            known = s_same_peer(self->peers[i], &cfg->peers[j]);
        s_peer *p = known ? NULL : s_peer_new(self, &cfg->peers[j]);
        if (!p)
            continue;
        if (s_peer_sockets(self, p) != RU_OK) {
            s_peer_free(p);
            continue;
        }
        pthread_mutex_lock(&self->lock);
        self->peers[self->n_peers++] = p;
        pthread_mutex_unlock(&self->lock);
        ru_log_info("repl", "[peer %s] added", p->cfg.site);
        if (s_direct(p))
            s_hello(self, p);
    }
    s_sites(self);
}

/*  Dispatches one ready socket; returns 0 when the actor must stop. */
static int
s_dispatch(ru_repl_t *self, zsock_t *pipe, void *which)
{
    if (which == pipe) {
        char *cmd = NULL;
        void *cfg = NULL;
        if (zsock_recv(pipe, "sp", &cmd, &cfg) == 0 && cmd && strcmp(cmd, "PEERS") == 0)
            s_reload(self, cfg);
        int stop = !cmd || strcmp(cmd, "$TERM") == 0;
        free(cmd);
        free(cfg);
        return !stop;
    }
    if (which == self->zap)
        s_on_zap(self);
    else if (which == self->publish)
        s_on_publish(self);
    else if (which == self->router)
        s_on_router(self);
    else if (which == self->results)
        s_on_result(self);
    for (int i = 0; i < self->n_peers; i++)
        if (which == self->peers[i]->sub || which == self->peers[i]->dealer)
            s_on_peer(self, i, which);
    return 1;
}

/*  Makes the actor's sockets; the ZAP handler first, so that the CURVE
 *  sockets bound after it are guarded from their first connection. */
static ru_err
s_open(ru_repl_t *self, zsock_t *pipe)
{
    const ru_config_t *cfg = self->ctx.cfg;
    self->zap = zsock_new_rep(S_ZAP);
    self->publish = zsock_new_pull("@" S_PUBLISH);
    self->jobs = zsock_new_push("@" S_JOBS);
    self->results = zsock_new_pull("@" S_RESULTS);
    if (!self->zap || !self->publish || !self->jobs || !self->results)
        return RU_E_IO;
    zsock_set_sndhwm(self->jobs, S_HWM);
    zsock_set_rcvhwm(self->publish, S_HWM);
    self->pub = s_server(self, ZMQ_PUB, cfg->pub_bind, 0);
    self->router = s_server(self, ZMQ_ROUTER, cfg->sync_bind, 0);
    if (!self->pub || !self->router)
        return RU_E_IO;
    self->poller = zpoller_new(pipe, self->zap, self->publish, self->router, self->results, NULL);
    if (!self->poller)
        return RU_E_NOMEM;
    for (int i = 0; i < self->n_peers; i++)
        if (s_peer_sockets(self, self->peers[i]) != RU_OK)
            return RU_E_INVALID;
    return RU_OK;
}

static void
s_close(ru_repl_t *self)
{
    zpoller_destroy(&self->poller);
    for (int i = 0; i < self->n_peers; i++) {
        zsock_destroy(&self->peers[i]->sub);
        zsock_destroy(&self->peers[i]->dealer);
    }
    while (self->sessions) {
        s_session *s = self->sessions;
        self->sessions = s->next;
        s_session_free(s);
    }
    zsock_t **all[] = {&self->pub,     &self->router, &self->zap,
                       &self->publish, &self->jobs,   &self->results};
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
            int more = s_serve_more(self);
            uint64_t now = zclock_mono();
            uint64_t next = self->next_heartbeat < self->next_anti_entropy
                                ? self->next_heartbeat
                                : self->next_anti_entropy;
            for (int i = 0; i < self->n_peers; i++) {
                uint64_t at = s_stall_at(self, self->peers[i]);
                next = at < next ? at : next;
            }
            void *which = zpoller_wait(self->poller, next > now && !more ? (int) (next - now) : 0);
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

/*  Peers from the configuration. */
static ru_err
s_peers(ru_repl_t *self)
{
    const ru_config_t *cfg = self->ctx.cfg;
    for (int i = 0; i < cfg->n_peers; i++) {
        s_peer *p = s_peer_new(self, &cfg->peers[i]);
        if (!p)
            return RU_E_INVALID;
        self->peers[self->n_peers++] = p;
    }
    return RU_OK;
}

ru_err
ru_repl_new(const ru_repl_ctx_t *ctx, ru_repl_t **out)
{
    *out = NULL;
    ru_repl_t *self = calloc(1, sizeof *self);
    if (!self)
        return RU_E_NOMEM;
    self->ctx = *ctx;
    self->next_id = 1; /* 0: no peer (s_session) */
    atomic_init(&self->life, S_STARTING);
    atomic_init(&self->done, 0);
    ru_recovery_init(&self->recovery);
    ru_clock_init(&self->published);
    pthread_mutex_init(&self->lock, NULL);
    self->curve_sec = sodium_malloc(32);
    ru_err err = self->curve_sec ? s_peers(self) : RU_E_NOMEM;
    if (!err)
        err = ru_ratelimit_new(1, S_LOG_EVERY_MS, S_LOG_SLOTS, &self->logs);
    if (!err)
        err = ru_key_curve(ctx->key, self->curve_pub, self->curve_sec);
    if (!err)
        s_sites(self);
    ru_txn_t txn;
    if (!err && (err = ru_store_read(ctx->store, &txn)) == RU_OK) {
        err = ru_apply_recovering(&txn, &self->recovering);
        ru_txn_abort(&txn);
    }
    ru_verify_ctx_t verify = {ctx->store, ctx->writer, ctx->sites, ctx->cfg->max_skew_ms};
    if (!err)
        err = ru_verify_new(&verify, (int) ctx->cfg->verify_threads, S_JOBS, S_RESULTS,
                            &self->verify);
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
    for (int i = 0; i < self->n_peers; i++)
        s_peer_free(self->peers[i]);
    sodium_free(self->curve_sec);
    ru_ratelimit_destroy(&self->logs);
    ru_clock_fini(&self->published);
    free(self->alarmed);
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

/*  ---------------------------------------------------------------------
 *  Status
 */

/*  A peer's status fields into out. Under the mutex. */
static ru_err
s_peer_status(const s_peer *p, ru_replstat_peer_t *out)
{
    snprintf(out->site, sizeof out->site, "%s", p->cfg.site);
    memcpy(out->key, p->cfg.key, RU_KEY_BYTES);
    out->direct = s_direct(p);
    out->heard = p->heard;
    out->heartbeat_ms = p->heartbeat_ms;
    out->hlc = p->hlc;
    out->caught_up_ms = p->caught_up_ms;
    memcpy(out->digest, p->digest, RU_HASH_BYTES);
    memcpy(out->rejected, p->rejected, sizeof out->rejected);
    out->received = p->received;
    out->verified = p->verified;
    out->stored = p->stored;
    out->duplicates = p->duplicates;
    out->syncs_asked = p->syncs_asked;
    memcpy(out->link, p->link, sizeof out->link);
    return ru_clock_copy(&out->clock, &p->clock);
}

ru_err
ru_repl_status(ru_repl_t *self, ru_replstat_t *out)
{
    ru_replstat_init(out);
    out->heartbeat_ms = self->ctx.cfg->heartbeat_ms;
    pthread_mutex_lock(&self->lock);
    ru_err err = ru_replstat_peers(out, self->n_peers);
    for (int i = 0; i < self->n_peers && !err; i++)
        err = s_peer_status(self->peers[i], &out->peers[i]);
    if (!err)
        err = ru_clock_copy(&out->published, &self->published);
    out->syncs_served = self->syncs_served;
    out->handshakes_refused = self->handshakes_refused;
    out->jobs_queued = self->jobs_sent - self->jobs_done;
    out->live_pauses = self->live_pauses;
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

/*  Appends "site count/age" of an origin in alarm to line. */
static void
s_pending_item(const ru_repl_t *self, const ru_apply_pending_t *o, uint64_t age_s, char *line,
               size_t size)
{
    char name[RU_SITES_LABEL];
    ru_sites_label(self->ctx.sites, o->origin, name);
    size_t used = strlen(line);
    snprintf(line + used, size - used, "%s%s: %llu waiting, the oldest for %llu s",
             used ? "; " : "", name, (unsigned long long) o->count, (unsigned long long) age_s);
}

/*  An ALARM line when an origin's oldest waiting update has waited past
 *  [replication] pending_alarm_s or a limit of the pending set is reached:
 *  when it starts, again every S_PENDING_ALARM_MS while it lasts, and an
 *  info line when it ends. The operator page shows the same (ru_api_ops.c). */
static void
s_pending_alarm(ru_repl_t *self)
{
    ru_txn_t txn;
    ru_apply_pending_t *by = NULL;
    size_t n = 0;
    uint64_t total = 0, now = ru_hlc_wall_ms();
    const ru_config_t *cfg = self->ctx.cfg;
    if (ru_store_read(self->ctx.store, &txn) != RU_OK)
        return;
    ru_err err = ru_apply_pending(&txn, &by, &n, &total);
    ru_txn_abort(&txn);
    if (err)
        return;
    char line[512] = "";
    int alarm = total >= (uint64_t) cfg->pending_max, listed = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t age_s = now > by[i].oldest_ms ? (now - by[i].oldest_ms) / 1000 : 0;
        if (by[i].count < (uint64_t) cfg->pending_per_origin &&
            age_s < (uint64_t) cfg->pending_alarm_s)
            continue;
        alarm = 1;
        if (listed++ < 4)
            s_pending_item(self, &by[i], age_s, line, sizeof line);
    }
    free(by);
    if (alarm && (!self->pending_alarm_ms || now - self->pending_alarm_ms >= S_PENDING_ALARM_MS)) {
        ru_log_err("repl",
                   "ALARM: %llu updates wait for dependencies (limits: %ld per origin, %ld in "
                   "all; alarm after %ld s)%s%s",
                   (unsigned long long) total, cfg->pending_per_origin, cfg->pending_max,
                   cfg->pending_alarm_s, line[0] ? ": " : "", line);
        self->pending_alarm_ms = now;
    } else if (!alarm && self->pending_alarm_ms) {
        ru_log_info("repl", "the updates waiting for dependencies are back under the limits");
        self->pending_alarm_ms = 0;
    }
}
