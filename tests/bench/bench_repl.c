/*  bench_repl.c - replication between real ruched processes on loopback,
 *  next to the raw limits that bound it, measured in the same run.
 *
 *  Usage: bench_repl PATH/TO/ruched [--seconds N] [--latency-seconds N]
 *                    [--catchup N] [--verify-threads N] [--quick]
 *
 *  The bench is a peer site itself, "bench": it has an Ed25519 key of its
 *  own, binds a CURVE XPUB (a PUB socket that also reports each
 *  subscription, so the bench knows when a node listens) and a CURVE
 *  ROUTER, and every node lists it as [peer bench]. It publishes posts of
 *  its own origin that are signed before any timing starts (about 200
 *  bytes of text, seq 1, 2, 3 ..., prev hashes chained, hlc from the wall
 *  clock), so a send costs one zmq_send and the send rate is exact. It
 *  watches each node's PUB with a CURVE SUB: a node publishes an update it
 *  newly stores right after the durable commit, and applies an origin's
 *  updates in seq order, so seq s of the bench's origin on a node's PUB
 *  says that the node has committed 1..s; so does its heartbeat's clock,
 *  which tells what the PUB dropped (its queue for a subscriber is bounded
 *  in bytes). Its ROUTER answers the nodes'
 *  catch-up requests (hello, credit) from the updates published so far,
 *  as a peer must. It sends no heartbeats: it has no state to digest.
 *
 *  Raw limits first:
 *    Ed25519: crypto_sign_verify_detached of 300-byte messages, one core;
 *    LMDB: durable commits of one 400-byte put under $TMPDIR (a node
 *    commits every write durably; a live update waits for its commit);
 *    ZeroMQ PUB->SUB over tcp loopback, plain and CURVE: the update
 *    messages the nodes get, sent at 10,000/s, p50/p99/p99.9 from send to
 *    receipt, with the receiving code of the node rows.
 *  Then, each row with fresh nodes and data directories under $TMPDIR:
 *    throughput, 2 nodes (bench -> n1): the bench keeps S_WINDOW updates
 *    unacknowledged by n1's PUB, for --seconds (10); updates/s stored;
 *    throughput, 3 nodes (bench -> n1 -> n2, n1 and n2 peers of each
 *    other): n2 lists the bench by its key alone (a trusted site reached
 *    through relays), so it gets the bench's updates only as n1 relays
 *    them; acknowledgments come from n2;
 *    latency, 2 nodes, sends paced at 1,000/s and 5,000/s for
 *    --latency-seconds (5) each: from the bench's send to n1's commit,
 *    seen on its PUB; p50/p99/p99.9;
 *    catch-up: --catchup (100,000) updates go to node a through the live
 *    stream, then a fresh node b starts, peered with a (and trusting the
 *    bench by its key alone, as n2 above); from b's start until it holds
 *    all of them (on its PUB, or its GET /api/ruche/v1/replication clock).
 *  Ratios: throughput and catch-up to raw verify x the nodes'
 *  verify_threads (--verify-threads, 2 as in ruched); latencies to the
 *  raw CURVE PUB->SUB latency of the same percentile (the nodes' sockets
 *  are CURVE; the path to a commit seen on the PUB crosses two of them).
 *
 *  One thread does everything: a loop that waits on the file descriptors
 *  of the ZeroMQ sockets with ppoll, so paced sends keep their timing to
 *  the microsecond without a spinning thread taking a core from ruched.
 *
 *  Every row ends with the nodes checked over HTTP: each holds exactly the
 *  bench's updates that were sent, nothing pending, nothing refused, and
 *  two nodes agree on clock and state digest; each ruched must then exit 0
 *  on SIGTERM (its log is shown when not). Notes after the table say how
 *  often the nodes asked the bench for catch-up and how many updates it
 *  sent them again, and commits a node made that its PUB did not show.
 *  A row that fails says why and the next rows still run; the program then
 *  exits 1, as it does when a ruched stops early or stalls. It asserts
 *  nothing about speed, so --quick (rows of 1 s, 2,000 catch-up updates)
 *  doubles as a smoke test.
 */
#define _GNU_SOURCE /* ppoll */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <lmdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ruche/ru_hlc.h"
#include "ruche/ru_msg.h"
#include "ruche/ru_text.h"
#include "ruche/ru_update.h"
#include "testdir.h"

#define S_WINDOW 1024          /* unacknowledged updates in the throughput rows */
#define S_RAW_RATE 10000.0     /* msg/s of the raw PUB->SUB rows */
#define S_VERIFY_BYTES 300     /* raw verified message size */
#define S_COMMIT_BYTES 400     /* raw committed value size: about an update's record */
#define S_MAX_NODES 2          /* ruched processes in one row */
#define S_MAX_SESSIONS 8       /* catch-ups the bench serves at once */
#define S_HWM 1000000          /* the bench's socket queues: never the limit */
#define S_POLL 0.05            /* s between two looks at a slow condition */
#define S_START_TIMEOUT 30.0   /* s for nodes to start and connect */
#define S_STOP_TIMEOUT 30.0    /* s for ruched to exit after SIGTERM */
#define S_SETTLE_TIMEOUT 100.0 /* s to store all once sending ends: > anti_entropy_s */
#define S_STALL_TIMEOUT 60.0   /* s without a new commit: the node stalled */
#define S_LOG_LINES 60         /* lines of a ruched log shown on failure */
#define S_MAX_NOTES 24         /* remarks printed after the table */

static const char s_text[] =
    "Bascule du stockage de Nozay vers la nouvelle baie ce soir : les sites restent en ligne "
    "et la replication rattrape seule le retard. Merci de signaler tout ecart a l'equipe ops. "
    "#bench";

/*  ---------------------------------------------------------------------
 *  Types
 */

typedef struct {
    const char *ruched;
    double seconds;     /* throughput rows */
    double lat_seconds; /* each latency row */
    double raw_seconds; /* raw verify; each raw latency row */
    uint64_t catchup;
    long verify_threads;
} s_opts_t;

/*  The bench's updates: whole update messages, one after the other. */
typedef struct {
    ru_buf_t bytes;
    size_t *end; /* end[s - 1]: where the message of seq s ends */
    uint64_t n;
} s_chain_t;

/*  What one SUB on a PUB socket has seen of the bench's origin. */
typedef struct {
    zsock_t *sub;
    uint64_t seq_max;  /* highest seq seen */
    double seq_max_at; /* when */
    uint64_t skipped;  /* seqs jumped over: not seen on this PUB */
    uint64_t repeated; /* seqs seen more than once */
    uint64_t heartbeats;
    double *recv_at; /* per seq (0: not seen), or NULL */
    uint64_t recv_cap;
} s_watch_t;

/*  A catch-up the bench serves: what the asker will hold once it has
 *  what was sent, and the batches it still grants. */
typedef struct {
    zframe_t *identity;
    uint64_t theirs;
    uint32_t credit;
} s_session_t;

/*  The bench's sockets for one row. */
typedef struct {
    zsock_t *xpub, *router;
    char pub_ep[64], sync_ep[64];
    uint64_t sent; /* published: seq 1..sent */
    uint64_t subscriptions;
    s_watch_t watch[S_MAX_NODES];
    int n_watch;
    s_session_t sessions[S_MAX_SESSIONS];
    int n_sessions;
    uint64_t hellos, batches_served, updates_served;
    ru_bytes_t spans[RU_MAX_BATCH];
    ru_buf_t out;
} s_net_t;

typedef struct {
    char site[8];
    char dir[4096];
    char log[4200];
    char key_text[RU_KEY_TEXT_SIZE];
    uint8_t curve[32];
    int http, pub, sync; /* ports */
    pid_t pid;           /* 0: not running */
    CURL *curl;
    ru_buf_t body;
} s_node_t;

typedef struct {
    double p50, p99, p999; /* seconds */
    uint64_t n, missing;   /* measured; sent but not seen */
} s_lat_t;

typedef struct {
    s_opts_t opt;
    ru_key_t *key;
    char key_text[RU_KEY_TEXT_SIZE];
    uint8_t curve_pub[32];
    uint8_t *curve_sec; /* sodium_malloc */
    s_chain_t chain;
    double verify_rate;
    double commit_rate; /* raw durable LMDB commits/s */
    s_lat_t raw_plain, raw_curve;
    s_net_t net;
    s_node_t node[S_MAX_NODES];
    int n_nodes;
    int failed; /* a node misbehaved in this row */
    double next_reap;
    char verify_ref[48]; /* "raw verify x N threads" */
    char notes[S_MAX_NOTES][320];
    int n_notes;
} s_bench_t;

/*  A condition s_await() waits for: 1 met, 0 not yet, -1 failed. */
typedef int (*s_cond_fn)(s_bench_t *b, void *arg);

/*  Monotonic seconds. */
static double
s_now(void)
{
    return (double) zclock_usecs() * 1e-6;
}

static int
s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

/*  ---------------------------------------------------------------------
 *  Raw Ed25519 verification
 */

static int
s_verify_rate(double seconds, double *rate)
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    uint8_t msg[S_VERIFY_BYTES], sig[crypto_sign_BYTES];
    crypto_sign_keypair(pk, sk);
    randombytes_buf(msg, sizeof msg);
    int bad = crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
    sodium_memzero(sk, sizeof sk);
    uint64_t n = 0;
    double start = s_now(), elapsed = 0;
    while (!bad && elapsed < seconds) { /* the clock is read every 64 verifies */
        bad = crypto_sign_verify_detached(sig, msg, sizeof msg, pk);
        if (++n % 64 == 0)
            elapsed = s_now() - start;
    }
    *rate = (double) n / elapsed;
    return bad ? -1 : 0;
}

/*  Durable LMDB commits of one put each (default flags: an fsync per
 *  commit), in an environment of its own under $TMPDIR, where the nodes
 *  keep their stores: the price a commit sets on a node's writes. */
static int
s_commit_rate(double seconds, double *rate)
{
    char dir[4096];
    uint8_t value[S_COMMIT_BYTES];
    MDB_env *env = NULL;
    uint64_t n = 0;
    randombytes_buf(value, sizeof value);
    if (testdir_make(dir, sizeof dir) != 0)
        return -1;
    int rc = mdb_env_create(&env) || mdb_env_set_mapsize(env, 64u << 20) ||
             mdb_env_open(env, dir, 0, 0600);
    double start = s_now(), elapsed = 0;
    while (rc == 0 && elapsed < seconds) {
        MDB_txn *txn = NULL;
        MDB_dbi dbi;
        uint32_t key = (uint32_t) (n++ % 4096); /* the file stays small */
        MDB_val k = {sizeof key, &key}, v = {sizeof value, value};
        rc = mdb_txn_begin(env, NULL, 0, &txn);
        if (rc == 0 &&
            (mdb_dbi_open(txn, NULL, 0, &dbi) != 0 || mdb_put(txn, dbi, &k, &v, 0) != 0)) {
            mdb_txn_abort(txn);
            rc = -1;
        } else if (rc == 0)
            rc = mdb_txn_commit(txn);
        elapsed = s_now() - start;
    }
    if (env)
        mdb_env_close(env);
    testdir_remove(dir);
    *rate = elapsed > 0 ? (double) n / elapsed : 0;
    return rc == 0 ? 0 : -1;
}

/*  ---------------------------------------------------------------------
 *  The chain of the bench's updates
 */

static void
s_chain_msg(const s_chain_t *c, uint64_t seq, const uint8_t **p, size_t *len)
{
    size_t start = seq > 1 ? c->end[seq - 2] : 0;
    *p = c->bytes.data + start;
    *len = c->end[seq - 1] - start;
}

/*  The envelope inside the update message of seq: after [1, 1, ... */
static ru_bytes_t
s_chain_env(const s_chain_t *c, uint64_t seq)
{
    const uint8_t *p;
    size_t len;
    s_chain_msg(c, seq, &p, &len);
    return (ru_bytes_t){p + 3, len - 3};
}

/*  Signs update seq (u holds everything else), appends its update
 *  message to c and leaves its hash in prev. */
static ru_err
s_chain_add(s_chain_t *c, const ru_key_t *key, ru_update_t *u, uint8_t *prev, ru_buf_t *env)
{
    char text[sizeof s_text + 32];
    int len = snprintf(text, sizeof text, "%s %llu", s_text, (unsigned long long) u->seq);
    ru_envelope_t e;
    u->text = (ru_str_t){text, (uint32_t) len};
    memcpy(u->prev, prev, RU_HASH_BYTES);
    ru_buf_reset(env);
    ru_err err = ru_update_encode(u, key, env);
    if (!err)
        err = ru_envelope_parse(env->data, env->len, &e);
    if (!err)
        err = ru_msg_encode_update((ru_bytes_t){env->data, env->len}, &c->bytes);
    if (!err)
        err = ru_buf_status(&c->bytes);
    if (!err)
        ru_update_hash(&e, prev);
    return err;
}

/*  Posts of the bench's origin, seq 1..n. */
static int
s_chain_make(s_chain_t *c, const ru_key_t *key, uint64_t n)
{
    ru_update_t u;
    ru_hlc_t hlc;
    ru_buf_t env;
    uint8_t prev[RU_HASH_BYTES] = {0};
    ru_err err = RU_OK;
    memset(c, 0, sizeof *c);
    ru_buf_init(&c->bytes);
    ru_buf_init(&env);
    ru_update_init(&u);
    ru_hlc_init(&hlc, RU_HLC_DEFAULT_SKEW_MS);
    c->end = malloc(n * sizeof *c->end);
    memcpy(u.origin, ru_key_public(key), RU_KEY_BYTES);
    u.author = (ru_str_t){"bench", 5};
    u.kind = RU_KIND_POST;
    u.visibility = RU_VIS_PUBLIC;
    for (uint64_t seq = 1; c->end && !err && seq <= n; seq++) {
        u.seq = seq;
        u.hlc = ru_hlc_now(&hlc, ru_hlc_wall_ms());
        err = s_chain_add(c, key, &u, prev, &env);
        c->end[seq - 1] = c->bytes.len;
        c->n = seq;
    }
    ru_update_fini(&u);
    ru_buf_fini(&env);
    return c->end && !err ? 0 : -1;
}

static void
s_chain_free(s_chain_t *c)
{
    ru_buf_fini(&c->bytes);
    free(c->end);
    c->end = NULL;
    c->n = 0;
}

/*  ---------------------------------------------------------------------
 *  The bench's sockets: publishing, watching the nodes' PUBs
 */

/*  Binds a socket of type on a loopback port of the system's choice and
 *  writes its endpoint into ep. */
static zsock_t *
s_bind(const s_bench_t *b, int type, int curve, char *ep, size_t size)
{
    zsock_t *sock = zsock_new(type);
    if (!sock)
        return NULL;
    if (curve) {
        zsock_set_curve_server(sock, 1);
        zsock_set_curve_secretkey_bin(sock, b->curve_sec);
    }
    if (type == ZMQ_XPUB) {
        zsock_set_xpub_verbose(sock, 1); /* every node's subscription */
        zsock_set_xpub_nodrop(sock, 1);  /* a full queue refuses, never drops */
    }
    zsock_set_sndhwm(sock, S_HWM);
    zsock_set_rcvhwm(sock, S_HWM);
    int port = zsock_bind(sock, "tcp://127.0.0.1:*");
    if (port < 0) {
        zsock_destroy(&sock);
        return NULL;
    }
    snprintf(ep, size, "tcp://127.0.0.1:%d", port);
    return sock;
}

/*  A SUB on the PUB at endpoint; CURVE when server (its CURVE key) is
 *  not NULL. */
static int
s_net_watch(s_bench_t *b, const char *endpoint, const uint8_t *server)
{
    s_watch_t *w = &b->net.watch[b->net.n_watch];
    memset(w, 0, sizeof *w);
    w->sub = zsock_new(ZMQ_SUB);
    if (!w->sub)
        return -1;
    if (server) {
        zsock_set_curve_serverkey_bin(w->sub, server);
        zsock_set_curve_publickey_bin(w->sub, b->curve_pub);
        zsock_set_curve_secretkey_bin(w->sub, b->curve_sec);
    }
    zsock_set_rcvhwm(w->sub, S_HWM);
    zsock_set_maxmsgsize(w->sub, (int64_t) RU_MAX_MESSAGE);
    zsock_set_subscribe(w->sub, "");
    b->net.n_watch++;
    return zsock_connect(w->sub, "%s", endpoint) == 0 ? 0 : -1;
}

/*  The bench's XPUB, and its ROUTER when it serves catch-up. */
static int
s_net_open(s_bench_t *b, int curve, int serve)
{
    s_net_t *net = &b->net;
    memset(net, 0, sizeof *net);
    ru_buf_init(&net->out);
    net->xpub = s_bind(b, ZMQ_XPUB, curve, net->pub_ep, sizeof net->pub_ep);
    if (serve)
        net->router = s_bind(b, ZMQ_ROUTER, curve, net->sync_ep, sizeof net->sync_ep);
    return net->xpub && (net->router || !serve) ? 0 : -1;
}

static void
s_net_close(s_net_t *net)
{
    for (int i = 0; i < net->n_watch; i++) {
        zsock_destroy(&net->watch[i].sub);
        free(net->watch[i].recv_at);
    }
    for (int i = 0; i < net->n_sessions; i++)
        zframe_destroy(&net->sessions[i].identity);
    zsock_destroy(&net->xpub);
    zsock_destroy(&net->router);
    ru_buf_fini(&net->out);
    memset(net, 0, sizeof *net);
}

/*  Publishes the next update; -1 when none is left or the queue is full. */
static int
s_net_publish(s_bench_t *b)
{
    const uint8_t *p;
    size_t len;
    if (b->net.sent >= b->chain.n)
        return -1;
    s_chain_msg(&b->chain, b->net.sent + 1, &p, &len);
    if (zmq_send(zsock_resolve(b->net.xpub), p, len, ZMQ_DONTWAIT) != (int) len)
        return -1;
    b->net.sent++;
    return 0;
}

/*  The seq of an update message of origin, or 0 for anything else. */
static uint64_t
s_update_seq(const uint8_t *p, size_t len, const uint8_t *origin)
{
    ru_envelope_t env;
    ru_mp_t mp;
    uint64_t seq = 0;
    if (len < 4 || p[0] != 0x93 || p[1] != 1 || p[2] != RU_MSG_UPDATE ||
        ru_envelope_parse(p + 3, len - 3, &env) != RU_OK ||
        memcmp(env.origin, origin, RU_KEY_BYTES) != 0)
        return 0;
    ru_mp_init(&mp, env.payload + 4 + RU_KEY_BYTES, env.payload_len - 4 - RU_KEY_BYTES);
    return ru_mp_uint(&mp, &seq) == RU_OK ? seq : 0;
}

static void
s_on_update(s_watch_t *w, uint64_t seq, double now)
{
    if (seq <= w->seq_max) {
        w->repeated++;
        return;
    }
    w->skipped += seq - w->seq_max - 1;
    w->seq_max = seq;
    w->seq_max_at = now;
    if (w->recv_at && seq <= w->recv_cap)
        w->recv_at[seq] = now;
}

/*  A heartbeat's clock says how far the node has stored the bench's
 *  updates: what its PUB dropped for a slow bench counts as stored (and
 *  skipped, not seen), so that a row never waits for a message that was
 *  dropped. No latency is taken from it. */
static void
s_on_heartbeat(s_watch_t *w, const uint8_t *p, size_t len, const uint8_t *origin, double now)
{
    ru_msg_t msg;
    ru_msg_init(&msg);
    w->heartbeats++;
    if (ru_msg_decode(p, len, &msg) == RU_OK) {
        uint64_t seq = ru_clock_get(&msg.clock, origin);
        if (seq > w->seq_max) {
            w->skipped += seq - w->seq_max;
            w->seq_max = seq;
            w->seq_max_at = now;
        }
    }
    ru_msg_fini(&msg);
}

/*  One message on a watched PUB: an update or a heartbeat. */
static void
s_on_sub(s_bench_t *b, s_watch_t *w)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, zsock_resolve(w->sub), ZMQ_DONTWAIT) >= 0) {
        double now = s_now();
        const uint8_t *p = zmq_msg_data(&m);
        size_t len = zmq_msg_size(&m);
        uint64_t seq = s_update_seq(p, len, ru_key_public(b->key));
        if (seq)
            s_on_update(w, seq, now);
        else if (len > 3 && p[0] == 0x95 && p[1] == 1 && p[2] == RU_MSG_HEARTBEAT)
            s_on_heartbeat(w, p, len, ru_key_public(b->key), now);
    }
    zmq_msg_close(&m);
}

/*  A subscription (or its end) of a node's SUB on the bench's XPUB. */
static void
s_on_xpub(s_net_t *net)
{
    zframe_t *f = zframe_recv(net->xpub);
    if (f && zframe_size(f) >= 1 && zframe_data(f)[0] == 1)
        net->subscriptions++;
    zframe_destroy(&f);
}

/*  ---------------------------------------------------------------------
 *  Serving the nodes' catch-up, as a peer does (PROTOCOL.md, section 13)
 */

static void
s_to_asker(s_net_t *net, const s_session_t *s, const ru_buf_t *msg)
{
    void *sock = zsock_resolve(net->router);
    if (zmq_send(sock, zframe_data(s->identity), zframe_size(s->identity),
                 ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
        zmq_send(sock, msg->data, msg->len, ZMQ_DONTWAIT);
}

static void
s_session_drop(s_net_t *net, s_session_t *s)
{
    zframe_destroy(&s->identity);
    *s = net->sessions[--net->n_sessions];
    memset(&net->sessions[net->n_sessions], 0, sizeof *s);
}

/*  "done" with the bench's clock: what it has published. */
static void
s_send_done(s_bench_t *b, s_session_t *s)
{
    ru_clock_t clock;
    ru_clock_init(&clock);
    ru_buf_reset(&b->net.out);
    if (ru_clock_set(&clock, ru_key_public(b->key), b->net.sent) == RU_OK &&
        ru_msg_encode_done(&clock, &b->net.out) == RU_OK)
        s_to_asker(&b->net, s, &b->net.out);
    ru_clock_fini(&clock);
}

/*  Sends the batches that credit allows, then done once nothing is left. */
static void
s_serve(s_bench_t *b, s_session_t *s)
{
    s_net_t *net = &b->net;
    while (s->credit > 0 && s->theirs < net->sent) {
        uint32_t n = 0;
        while (n < RU_MAX_BATCH && s->theirs + n < net->sent) {
            net->spans[n] = s_chain_env(&b->chain, s->theirs + n + 1);
            n++;
        }
        ru_buf_reset(&net->out);
        if (ru_msg_encode_batch(net->spans, n, &net->out) != RU_OK)
            break;
        s_to_asker(net, s, &net->out);
        s->theirs += n;
        s->credit--;
        net->batches_served++;
        net->updates_served += n;
    }
    if (s->theirs >= net->sent) {
        s_send_done(b, s);
        s_session_drop(net, s);
    }
}

static s_session_t *
s_session_of(s_net_t *net, zframe_t *identity, int create)
{
    for (int i = 0; i < net->n_sessions; i++)
        if (zframe_eq(net->sessions[i].identity, identity))
            return &net->sessions[i];
    if (!create || net->n_sessions == S_MAX_SESSIONS)
        return NULL;
    s_session_t *s = &net->sessions[net->n_sessions++];
    s->identity = zframe_dup(identity);
    return s;
}

/*  A hello or a credit from a node's DEALER. */
static void
s_on_router(s_bench_t *b)
{
    zmsg_t *m = zmsg_recv(b->net.router);
    zframe_t *id = m ? zmsg_first(m) : NULL, *body = m ? zmsg_next(m) : NULL;
    ru_msg_t msg;
    ru_msg_init(&msg);
    if (id && body && ru_msg_decode(zframe_data(body), zframe_size(body), &msg) == RU_OK) {
        s_session_t *s = s_session_of(&b->net, id, msg.type == RU_MSG_HELLO);
        if (s && msg.type == RU_MSG_HELLO) {
            b->net.hellos++;
            s->theirs = ru_clock_get(&msg.clock, ru_key_public(b->key));
            s->credit = msg.credit;
            s_serve(b, s);
        } else if (s && msg.type == RU_MSG_CREDIT) {
            s->credit += msg.credit;
            s_serve(b, s);
        }
    }
    ru_msg_fini(&msg);
    zmsg_destroy(&m);
}

/*  ---------------------------------------------------------------------
 *  The event loop: drain every socket, then sleep in ppoll until a socket
 *  may have news or a time comes. ZMQ_FD is edge-triggered: it wakes when
 *  ZMQ_EVENTS may have changed, so ZMQ_EVENTS is read after every use of
 *  a socket and before any sleep.
 */

static int
s_readable(zsock_t *sock)
{
    return sock && (zsock_events(sock) & ZMQ_POLLIN);
}

static void
s_net_drain(s_bench_t *b)
{
    s_net_t *net = &b->net;
    int busy;
    do {
        busy = 0;
        for (; s_readable(net->xpub); busy = 1)
            s_on_xpub(net);
        for (; s_readable(net->router); busy = 1)
            s_on_router(b);
        for (int i = 0; i < net->n_watch; i++)
            for (; s_readable(net->watch[i].sub); busy = 1)
                s_on_sub(b, &net->watch[i]);
    } while (busy);
}

/*  Sleeps until `until` or until a socket wakes us. */
static void
s_net_wait(s_bench_t *b, double until)
{
    s_net_t *net = &b->net;
    zsock_t *socks[2 + S_MAX_NODES] = {net->xpub, net->router};
    struct pollfd fds[2 + S_MAX_NODES];
    nfds_t n = 0;
    for (int i = 0; i < net->n_watch; i++)
        socks[2 + i] = net->watch[i].sub;
    for (int i = 0; i < 2 + net->n_watch; i++) {
        if (!socks[i])
            continue;
        if (s_readable(socks[i]))
            return;
        fds[n++] = (struct pollfd){.fd = zsock_fd(socks[i]), .events = POLLIN};
    }
    double left = until - s_now();
    if (left <= 0)
        return;
    struct timespec ts = {(time_t) left, (long) ((left - (double) (time_t) left) * 1e9)};
    (void) ppoll(fds, n, &ts, NULL);
}

/*  ---------------------------------------------------------------------
 *  ruched processes
 */

/*  n free loopback ports, held together while they are chosen so that
 *  they differ. */
static int
s_free_ports(int *ports, int n)
{
    int fds[8], rc = 0;
    for (int i = 0; i < n; i++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof a;
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (fds[i] < 0 || bind(fds[i], (struct sockaddr *) &a, sizeof a) != 0 ||
            getsockname(fds[i], (struct sockaddr *) &a, &len) != 0)
            rc = -1;
        ports[i] = ntohs(a.sin_port);
    }
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return rc;
}

/*  Runs argv with its output appended to log; the child's pid, 0 if none. */
static pid_t
s_spawn(char *const *argv, const char *log)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        int null = open("/dev/null", O_RDONLY);
        if (fd < 0 || null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0 ||
            dup2(fd, STDERR_FILENO) < 0)
            _exit(127);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid > 0 ? pid : 0;
}

/*  Waits up to timeout s for pid to end; its wait status, or -1. */
static int
s_reap(pid_t pid, double timeout)
{
    double deadline = s_now() + timeout;
    int status;
    for (;;) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid)
            return status;
        if (got < 0 || s_now() >= deadline)
            return -1;
        zclock_sleep(10);
    }
}

static void
s_show_log(const s_node_t *n)
{
    char lines[S_LOG_LINES][512];
    int count = 0;
    FILE *f = fopen(n->log, "r");
    if (!f)
        return;
    while (fgets(lines[count % S_LOG_LINES], sizeof lines[0], f))
        count++;
    fclose(f);
    fprintf(stderr, "--- the end of %s's log ---\n", n->site);
    for (int i = count > S_LOG_LINES ? count - S_LOG_LINES : 0; i < count; i++)
        fputs(lines[i % S_LOG_LINES], stderr);
}

static size_t
s_http_body(char *data, size_t size, size_t count, void *node)
{
    ru_buf_t *body = &((s_node_t *) node)->body;
    ru_buf_append(body, data, size * count);
    return ru_buf_status(body) == RU_OK ? size * count : 0;
}

/*  A fresh data directory with a node key, ports, an HTTP client. */
static int
s_node_prepare(s_node_t *n, const char *ruched, const char *site)
{
    memset(n, 0, sizeof *n);
    ru_buf_init(&n->body);
    snprintf(n->site, sizeof n->site, "%s", site);
    int ports[3];
    if (testdir_make(n->dir, sizeof n->dir) != 0 || s_free_ports(ports, 3) != 0)
        return -1;
    n->http = ports[0], n->pub = ports[1], n->sync = ports[2];
    snprintf(n->log, sizeof n->log, "%s/ruched.log", n->dir);
    char *argv[] = {(char *) ruched, "--keygen", n->dir, NULL};
    pid_t pid = s_spawn(argv, n->log);
    int status = pid ? s_reap(pid, S_START_TIMEOUT) : -1;
    char path[4200];
    snprintf(path, sizeof path, "%s/node.pub", n->dir);
    FILE *f = status == 0 ? fopen(path, "r") : NULL;
    int ok = f && fgets(n->key_text, sizeof n->key_text, f);
    if (f)
        fclose(f);
    uint8_t key[RU_KEY_BYTES];
    if (!ok || ru_b64_decode(key, sizeof key, n->key_text, strlen(n->key_text)) != RU_OK ||
        ru_key_curve_public(key, n->curve) != RU_OK) {
        fprintf(stderr, "bench_repl: ruched --keygen %s failed\n", n->dir);
        return -1;
    }
    n->curl = curl_easy_init();
    if (!n->curl)
        return -1;
    curl_easy_setopt(n->curl, CURLOPT_WRITEFUNCTION, s_http_body);
    curl_easy_setopt(n->curl, CURLOPT_WRITEDATA, n);
    curl_easy_setopt(n->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(n->curl, CURLOPT_TIMEOUT, 5L);
    return 0;
}

/*  GET /api/ruche/v1/replication; NULL if it does not answer 200 JSON. */
static json_t *
s_status(s_node_t *n)
{
    char url[96];
    long code = 0;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/ruche/v1/replication", n->http);
    ru_buf_reset(&n->body);
    curl_easy_setopt(n->curl, CURLOPT_URL, url);
    if (curl_easy_perform(n->curl) != CURLE_OK)
        return NULL;
    curl_easy_getinfo(n->curl, CURLINFO_RESPONSE_CODE, &code);
    return code == 200 ? json_loadb((const char *) n->body.data, n->body.len, 0, NULL) : NULL;
}

/*  A command line under construction. */
typedef struct {
    char buf[40][320];
    char *v[41];
    int n;
} s_argv_t;

__attribute__((format(printf, 2, 3))) static void
s_arg(s_argv_t *a, const char *fmt, ...)
{
    if (a->n == 40)
        abort(); /* a programming error: the table above is too small */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->buf[a->n], sizeof a->buf[0], fmt, ap);
    va_end(ap);
    a->v[a->n] = a->buf[a->n];
    a->v[++a->n] = NULL;
}

/*  A [peer NAME] of key, with its endpoints unless pub is NULL (a site
 *  trusted but reached only through relays). */
static void
s_arg_peer(s_argv_t *a, const char *site, const char *key, const char *pub, const char *sync)
{
    s_arg(a, "--set");
    s_arg(a, "peer %s.key=%s", site, key);
    if (!pub)
        return;
    s_arg(a, "--set");
    s_arg(a, "peer %s.pub=%s", site, pub);
    s_arg(a, "--set");
    s_arg(a, "peer %s.sync=%s", site, sync);
}

/*  Node i's command line. Node 0 is the bench's peer; node 1 trusts the
 *  bench by its key alone and is node 0's peer. */
static void
s_node_argv(const s_bench_t *b, int i, s_argv_t *a)
{
    const s_node_t *n = &b->node[i];
    a->n = 0;
    s_arg(a, "%s", b->opt.ruched);
    s_arg(a, "--data-dir");
    s_arg(a, "%s", n->dir);
    s_arg(a, "--site");
    s_arg(a, "%s", n->site);
    s_arg(a, "--listen");
    s_arg(a, "127.0.0.1:%d", n->http);
    s_arg(a, "--set");
    s_arg(a, "replication.pub=tcp://127.0.0.1:%d", n->pub);
    s_arg(a, "--set");
    s_arg(a, "replication.sync=tcp://127.0.0.1:%d", n->sync);
    s_arg(a, "--set");
    s_arg(a, "replication.verify_threads=%ld", b->opt.verify_threads);
    s_arg_peer(a, "bench", b->key_text, i == 0 ? b->net.pub_ep : NULL, b->net.sync_ep);
    if (b->n_nodes == 2) {
        const s_node_t *o = &b->node[1 - i];
        char pub[64], sync[64];
        snprintf(pub, sizeof pub, "tcp://127.0.0.1:%d", o->pub);
        snprintf(sync, sizeof sync, "tcp://127.0.0.1:%d", o->sync);
        s_arg_peer(a, o->site, o->key_text, pub, sync);
    }
}

static int
s_node_start(s_bench_t *b, int i)
{
    s_argv_t a;
    s_node_argv(b, i, &a);
    b->node[i].pid = s_spawn(a.v, b->node[i].log);
    return b->node[i].pid ? 0 : -1;
}

/*  Waits for a node sent SIGTERM; 0 if it exits 0 by the deadline. */
static int
s_node_reap(s_node_t *n, double deadline)
{
    if (!n->pid)
        return 0;
    double left = deadline - s_now();
    int status = s_reap(n->pid, left > 0 ? left : 0);
    if (status == -1) {
        fprintf(stderr, "bench_repl: %s still runs %.0f s after SIGTERM: killed\n", n->site,
                S_STOP_TIMEOUT);
        kill(n->pid, SIGKILL);
        waitpid(n->pid, &status, 0);
        status = -1;
    } else if (status != 0)
        fprintf(stderr, "bench_repl: %s ended with wait status %d after SIGTERM\n", n->site,
                status);
    n->pid = 0;
    return status == 0 ? 0 : -1;
}

static void
s_node_free(s_node_t *n)
{
    if (n->curl)
        curl_easy_cleanup(n->curl);
    ru_buf_fini(&n->body);
    if (n->dir[0])
        testdir_remove(n->dir);
    memset(n, 0, sizeof *n);
}

/*  A running node that ended by itself fails the row. */
static int
s_nodes_alive(s_bench_t *b)
{
    double now = s_now();
    if (now < b->next_reap)
        return !b->failed;
    b->next_reap = now + 0.25;
    for (int i = 0; i < b->n_nodes; i++) {
        s_node_t *n = &b->node[i];
        int status;
        if (n->pid && waitpid(n->pid, &status, WNOHANG) == n->pid) {
            fprintf(stderr, "bench_repl: ruched %s ended by itself (wait status %d)\n", n->site,
                    status);
            n->pid = 0;
            b->failed = 1;
        }
    }
    return !b->failed;
}

/*  ---------------------------------------------------------------------
 *  Waiting for conditions
 */

static int
s_await(s_bench_t *b, s_cond_fn cond, void *arg, double timeout, const char *what)
{
    double deadline = s_now() + timeout, next = 0;
    for (;;) {
        s_net_drain(b);
        if (!s_nodes_alive(b))
            return -1;
        double now = s_now();
        if (now >= next) { /* conditions may cost an HTTP request */
            int rc = cond(b, arg);
            if (rc)
                return rc > 0 ? 0 : -1;
            next = now + S_POLL;
        }
        if (now >= deadline) {
            fprintf(stderr, "bench_repl: %s: not done after %.0f s\n", what, timeout);
            b->failed = 1;
            return -1;
        }
        s_net_wait(b, next < deadline ? next : deadline);
    }
}

static uint64_t
s_clock_of(json_t *status, const char *key_text)
{
    return (uint64_t) json_integer_value(
        json_object_get(json_object_get(status, "clock"), key_text));
}

static json_t *
s_peer_of(json_t *status, const char *site)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(status, "peers"), i, p)
    {
        const char *name = json_string_value(json_object_get(p, "site"));
        if (name && strcmp(name, site) == 0)
            return p;
    }
    return NULL;
}

/*  arg: how many nodes run. Each is up, the bench hears its heartbeats,
 *  node 0 has subscribed to the bench, two nodes hear each other. */
static int
s_ready(s_bench_t *b, void *arg)
{
    int started = *(int *) arg, ok = b->net.subscriptions >= 1;
    for (int i = 0; ok && i < started; i++) {
        json_t *st = s_status(&b->node[i]);
        json_t *other = started == 2 ? s_peer_of(st, b->node[1 - i].site) : NULL;
        ok = st && b->net.watch[i].heartbeats > 0 &&
             (started < 2 || json_is_true(json_object_get(other, "connected")));
        json_decref(st);
    }
    return ok;
}

/*  Refusals of any reason from any peer: a description in out. */
static int
s_refusals(json_t *status, char *out, size_t size)
{
    size_t i;
    json_t *p;
    int n = 0;
    json_array_foreach(json_object_get(status, "peers"), i, p)
    {
        const char *reason;
        json_t *count;
        const char *site = json_string_value(json_object_get(p, "site"));
        json_object_foreach(json_object_get(p, "rejected"), reason, count)
        {
            if (json_integer_value(count) && n++ == 0)
                snprintf(out, size, "%s from %s: %lld", reason, site ? site : "?",
                         (long long) json_integer_value(count));
        }
    }
    return n;
}

typedef struct {
    int started;
    uint64_t expect;
    char why[512];
} s_settle_t;

/*  Every running node holds 1..expect of the bench, nothing pending;
 *  two nodes hold equal clocks and digests. */
static int
s_settled(s_bench_t *b, void *arg)
{
    s_settle_t *s = arg;
    json_t *st[S_MAX_NODES] = {NULL};
    int ok = 1;
    for (int i = 0; i < s->started; i++) {
        st[i] = s_status(&b->node[i]);
        uint64_t have = s_clock_of(st[i], b->key_text);
        json_int_t pending = json_integer_value(json_object_get(st[i], "pending"));
        if (!st[i] || have != s->expect || pending != 0) {
            snprintf(s->why, sizeof s->why, "%s holds %llu of %llu, %lld pending", b->node[i].site,
                     (unsigned long long) have, (unsigned long long) s->expect,
                     (long long) pending);
            ok = 0;
        }
    }
    if (ok && s->started == 2 &&
        (!json_equal(json_object_get(st[0], "clock"), json_object_get(st[1], "clock")) ||
         !json_equal(json_object_get(st[0], "digest"), json_object_get(st[1], "digest")))) {
        snprintf(s->why, sizeof s->why, "the two nodes differ in clock or digest");
        ok = 0;
    }
    for (int i = 0; i < s->started; i++)
        json_decref(st[i]);
    return ok;
}

/*  Waits until every running node holds what was sent, then checks that
 *  nothing was refused. */
static int
s_settle(s_bench_t *b, int started, uint64_t expect)
{
    s_settle_t s = {started, expect, ""};
    if (s_await(b, s_settled, &s, S_SETTLE_TIMEOUT, "storing every update sent") != 0) {
        fprintf(stderr, "bench_repl: updates lost or stuck: %s\n", s.why);
        return -1;
    }
    for (int i = 0; i < started; i++) {
        char why[256] = "";
        json_t *st = s_status(&b->node[i]);
        int refused = st ? s_refusals(st, why, sizeof why) : 1;
        json_decref(st);
        if (refused) {
            fprintf(stderr, "bench_repl: %s refused updates: %s\n", b->node[i].site, why);
            b->failed = 1;
        }
        if (b->net.watch[i].repeated)
            fprintf(stderr, "bench_repl: %s published %llu updates more than once\n",
                    b->node[i].site, (unsigned long long) b->net.watch[i].repeated);
    }
    return b->failed ? -1 : 0;
}

/*  ---------------------------------------------------------------------
 *  A row's nodes: open, start, close
 */

static const char *const s_sites[2][S_MAX_NODES] = {{"n1", "n2"}, {"a", "b"}};

/*  The bench's sockets and n prepared nodes (not started), watched. */
static int
s_row_open(s_bench_t *b, int n, const char *const *sites)
{
    b->failed = 0;
    b->n_nodes = 0;
    if (s_net_open(b, 1, 1) != 0)
        return -1;
    for (; b->n_nodes < n; b->n_nodes++) {
        s_node_t *node = &b->node[b->n_nodes];
        char ep[64];
        if (s_node_prepare(node, b->opt.ruched, sites[b->n_nodes]) != 0)
            return -1;
        snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", node->pub);
        if (s_net_watch(b, ep, node->curve) != 0)
            return -1;
    }
    return 0;
}

/*  Starts nodes from..to-1 and waits until the first `to` are connected. */
static int
s_row_start(s_bench_t *b, int from, int to)
{
    for (int i = from; i < to; i++)
        if (s_node_start(b, i) != 0)
            return -1;
    return s_await(b, s_ready, &to, S_START_TIMEOUT, "starting the nodes");
}

/*  Stops and removes the nodes; -1 if one misbehaved in the row. */
static int
s_row_close(s_bench_t *b)
{
    int rc = b->failed ? -1 : 0;
    double deadline = s_now() + S_STOP_TIMEOUT;
    for (int i = 0; i < b->n_nodes; i++)
        if (b->node[i].pid)
            kill(b->node[i].pid, SIGTERM);
    for (int i = 0; i < b->n_nodes; i++)
        if (s_node_reap(&b->node[i], deadline) != 0)
            rc = -1;
    for (int i = 0; i < b->n_nodes; i++) {
        if (rc != 0)
            s_show_log(&b->node[i]);
        s_node_free(&b->node[i]);
    }
    b->n_nodes = 0;
    s_net_close(&b->net);
    return rc;
}

/*  ---------------------------------------------------------------------
 *  Sending: as fast as a node stores, or paced
 */

typedef struct {
    double elapsed;
    uint64_t stored; /* acknowledged by the watched node */
    int exhausted;   /* every pre-signed update was stored before the end */
} s_flow_t;

/*  Publishes up to `limit` updates for at most `seconds`, keeping S_WINDOW
 *  of them unacknowledged by watch w; stops early once all are stored. */
static int
s_flow(s_bench_t *b, int w, uint64_t limit, double seconds, s_flow_t *f)
{
    const s_watch_t *watch = &b->net.watch[w];
    double start = s_now(), end = start + seconds, progress = start;
    uint64_t last = watch->seq_max;
    for (;;) {
        s_net_drain(b);
        while (b->net.sent < limit && b->net.sent - watch->seq_max < S_WINDOW)
            if (s_net_publish(b) != 0)
                break;
        double now = s_now();
        if (watch->seq_max != last)
            last = watch->seq_max, progress = now;
        if (now >= end || watch->seq_max >= limit)
            break;
        if (!s_nodes_alive(b) || now - progress > S_STALL_TIMEOUT) {
            fprintf(stderr, "bench_repl: %s stored nothing for %.0f s\n", b->node[w].site,
                    now - progress);
            return -1;
        }
        s_net_wait(b, end < progress + S_STALL_TIMEOUT ? end : progress + S_STALL_TIMEOUT);
    }
    f->stored = watch->seq_max;
    f->exhausted = f->stored >= limit;
    f->elapsed = (f->exhausted ? watch->seq_max_at : s_now()) - start;
    return 0;
}

/*  Publishes n updates at rate per second; their send times in sent_at. */
static int
s_paced(s_bench_t *b, uint64_t n, double rate, double *sent_at)
{
    double t0 = s_now();
    for (uint64_t i = 0; i < n; i++) {
        double due = t0 + (double) i / rate, now;
        while (s_net_drain(b), (now = s_now()) < due)
            s_net_wait(b, due);
        if (!s_nodes_alive(b))
            return -1;
        sent_at[b->net.sent + 1] = now;
        if (s_net_publish(b) != 0) {
            fprintf(stderr, "bench_repl: the bench's PUB queue is full\n");
            return -1;
        }
    }
    return 0;
}

/*  Percentiles of recv_at - sent_at over seqs 1..n seen. */
static int
s_latencies(const double *sent_at, const double *recv_at, uint64_t n, s_lat_t *out)
{
    double *lat = malloc((n ? n : 1) * sizeof *lat);
    if (!lat)
        return -1;
    memset(out, 0, sizeof *out);
    for (uint64_t s = 1; s <= n; s++) {
        if (recv_at[s] > 0)
            lat[out->n++] = recv_at[s] - sent_at[s];
        else
            out->missing++;
    }
    qsort(lat, out->n, sizeof *lat, s_cmp_double);
    if (out->n) {
        out->p50 = lat[(out->n - 1) / 2];
        out->p99 = lat[(out->n - 1) * 99 / 100];
        out->p999 = lat[(out->n - 1) * 999 / 1000];
    }
    free(lat);
    return out->n ? 0 : -1;
}

/*  Sends n updates at rate on the net, watch 0 timing their receipt. */
static int
s_timed(s_bench_t *b, uint64_t n, double rate, s_lat_t *res)
{
    s_watch_t *w = &b->net.watch[0];
    double *sent_at = calloc(n + 1, sizeof *sent_at);
    w->recv_at = calloc(n + 1, sizeof *w->recv_at);
    w->recv_cap = n;
    int rc = sent_at && w->recv_at ? s_paced(b, n, rate, sent_at) : -1;
    if (rc == 0)
        rc = s_settle(b, b->n_nodes, n);
    if (rc == 0)
        rc = s_latencies(sent_at, w->recv_at, n, res);
    free(sent_at);
    return rc;
}

/*  ---------------------------------------------------------------------
 *  Rows
 */

static void
s_print_row(const char *name, double value, const char *unit, double limit, const char *ref)
{
    printf("%-50s %11.0f  %-10s", name, value, unit);
    if (limit > 0)
        printf(" %7.3f x %s", value / limit, ref);
    printf("\n");
    fflush(stdout);
}

static void
s_print_lat(const char *name, const s_lat_t *l, const s_lat_t *ref)
{
    const char *tail[] = {"p50", "p99", "p99.9"};
    double v[] = {l->p50, l->p99, l->p999}, r[] = {ref->p50, ref->p99, ref->p999};
    for (int i = 0; i < 3; i++) {
        char row[96];
        snprintf(row, sizeof row, "%s, %s", name, tail[i]);
        s_print_row(row, v[i] * 1e6, "us", ref != l ? r[i] * 1e6 : 0, "raw CURVE PUB->SUB");
    }
}

/*  arg: a seq; watch 0 has seen it. */
static int
s_seen(s_bench_t *b, void *arg)
{
    return b->net.watch[0].seq_max >= *(uint64_t *) arg;
}

/*  Raw PUB->SUB: the bench's XPUB and a SUB of its own, nothing else. */
static int
s_raw_latency(s_bench_t *b, int curve, s_lat_t *res)
{
    uint64_t n = (uint64_t) (S_RAW_RATE * b->opt.raw_seconds);
    int none = 0;
    s_watch_t *w = &b->net.watch[0];
    double *sent_at = calloc(n + 1, sizeof *sent_at);
    int rc = sent_at ? s_net_open(b, curve, 0) : -1;
    if (rc == 0)
        rc = s_net_watch(b, b->net.pub_ep, curve ? b->curve_pub : NULL);
    if (rc == 0)
        rc = s_await(b, s_ready, &none, S_START_TIMEOUT, "raw SUB connecting");
    if (rc == 0) {
        w->recv_at = calloc(n + 1, sizeof *w->recv_at);
        w->recv_cap = n;
        rc = w->recv_at ? s_paced(b, n, S_RAW_RATE, sent_at) : -1;
    }
    if (rc == 0)
        rc = s_await(b, s_seen, &n, S_START_TIMEOUT, "raw SUB receiving");
    if (rc == 0)
        rc = s_latencies(sent_at, w->recv_at, n, res);
    free(sent_at);
    s_net_close(&b->net);
    return rc;
}

__attribute__((format(printf, 2, 3))) static void
s_note(s_bench_t *b, const char *fmt, ...)
{
    if (b->n_notes == S_MAX_NOTES)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->notes[b->n_notes++], sizeof b->notes[0], fmt, ap);
    va_end(ap);
}

/*  What the bench served and what a node's PUB skipped in this row. */
static void
s_note_row(s_bench_t *b, const char *row)
{
    if (b->net.updates_served)
        s_note(b,
               "%s: the nodes asked the bench for catch-up %llu times; it sent %llu updates "
               "again in %llu batches",
               row, (unsigned long long) b->net.hellos, (unsigned long long) b->net.updates_served,
               (unsigned long long) b->net.batches_served);
    for (int i = 0; i < b->net.n_watch; i++)
        if (b->net.watch[i].skipped)
            s_note(b,
                   "%s: %llu of %s's commits were not seen on its PUB (the bench's SUB came "
                   "late, or the PUB dropped them)",
                   row, (unsigned long long) b->net.watch[i].skipped, b->node[i].site);
}

static int
s_row_throughput(s_bench_t *b, int nodes)
{
    char row[96];
    s_flow_t f;
    snprintf(row, sizeof row, "throughput, %d nodes: bench -> n1%s, at %s", nodes + 1,
             nodes == 2 ? " -> n2" : "", nodes == 2 ? "n2" : "n1");
    int rc = s_row_open(b, nodes, s_sites[0]);
    if (rc == 0)
        rc = s_row_start(b, 0, nodes);
    if (rc == 0)
        rc = s_flow(b, nodes - 1, b->chain.n, b->opt.seconds, &f);
    if (rc == 0)
        rc = s_settle(b, nodes, b->net.sent);
    if (rc == 0) {
        s_print_row(row, (double) f.stored / f.elapsed, "updates/s",
                    b->verify_rate * (double) b->opt.verify_threads, b->verify_ref);
        s_note_row(b, row);
        if (f.exhausted)
            s_note(b, "%s: all %llu pre-signed updates were stored after %.1f s", row,
                   (unsigned long long) f.stored, f.elapsed);
    }
    return s_row_close(b) == 0 ? rc : -1;
}

static int
s_row_latency(s_bench_t *b, double rate)
{
    char row[96];
    s_lat_t lat;
    uint64_t n = (uint64_t) (rate * b->opt.lat_seconds);
    snprintf(row, sizeof row, "latency, send -> n1 commit, %.0f/s", rate);
    int rc = s_row_open(b, 1, s_sites[0]);
    if (rc == 0)
        rc = s_row_start(b, 0, 1);
    if (rc == 0)
        rc = s_timed(b, n, rate, &lat);
    if (rc == 0) {
        s_print_lat(row, &lat, &b->raw_curve);
        s_note_row(b, row);
    }
    return s_row_close(b) == 0 ? rc : -1;
}

typedef struct {
    uint64_t n;
    double at; /* when b was seen holding all n */
    double next_http;
} s_catchup_t;

/*  b holds all n: seen on its PUB, or in its replication status. */
static int
s_caught_up(s_bench_t *b, void *arg)
{
    s_catchup_t *c = arg;
    const s_watch_t *w = &b->net.watch[1];
    if (w->seq_max >= c->n) {
        c->at = w->seq_max_at;
        return 1;
    }
    double now = s_now();
    if (now < c->next_http)
        return 0;
    json_t *st = s_status(&b->node[1]);
    int done = st && s_clock_of(st, b->key_text) >= c->n;
    json_decref(st);
    c->at = now;
    c->next_http = now + 0.2;
    return done;
}

/*  a gets n updates live; then b starts and catches up from a. */
static int
s_catchup(s_bench_t *b, s_catchup_t *c, double *start, double *load_rate)
{
    s_flow_t load;
    int rc = s_row_start(b, 0, 1);
    if (rc == 0)
        rc = s_flow(b, 0, c->n, 1e9, &load);
    if (rc == 0)
        rc = s_settle(b, 1, c->n);
    if (rc != 0)
        return -1;
    *load_rate = (double) load.stored / load.elapsed;
    *start = s_now();
    if (s_node_start(b, 1) != 0)
        return -1;
    double timeout = 60.0 + (double) c->n / 500.0;
    if (s_await(b, s_caught_up, c, timeout, "catching up") != 0)
        return -1;
    return s_settle(b, 2, c->n);
}

static int
s_row_catchup(s_bench_t *b)
{
    char row[96];
    s_catchup_t c = {b->opt.catchup, 0, 0};
    double start = 0, load_rate = 0;
    snprintf(row, sizeof row, "catch-up of %llu updates, b from a",
             (unsigned long long) b->opt.catchup);
    int rc = s_row_open(b, 2, s_sites[1]);
    if (rc == 0)
        rc = s_catchup(b, &c, &start, &load_rate);
    if (rc == 0) {
        s_print_row(row, (double) c.n / (c.at - start), "updates/s",
                    b->verify_rate * (double) b->opt.verify_threads, b->verify_ref);
        s_note(b, "%s: %.2f s from b's start; a took the updates live at %.0f/s first", row,
               c.at - start, load_rate);
        s_note_row(b, row);
    }
    return s_row_close(b) == 0 ? rc : -1;
}

/*  Enough pre-signed updates for every row: the throughput rows cannot
 *  store more than verification allows. */
static int
s_sign_chain(s_bench_t *b)
{
    const s_opts_t *o = &b->opt;
    double want = b->verify_rate * (double) o->verify_threads * o->seconds * 1.1 + S_WINDOW;
    double others[] = {5000.0 * o->lat_seconds, (double) o->catchup, S_RAW_RATE * o->raw_seconds};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        want = others[i] > want ? others[i] : want;
    fprintf(stderr, "bench_repl: signing %.0f updates...\n", want);
    double t = s_now();
    if (s_chain_make(&b->chain, b->key, (uint64_t) want) != 0) {
        fprintf(stderr, "bench_repl: signing the updates failed\n");
        return -1;
    }
    fprintf(stderr, "bench_repl: signed in %.1f s\n", s_now() - t);
    return 0;
}

static int
s_raw_rows(s_bench_t *b)
{
    if (s_verify_rate(b->opt.raw_seconds, &b->verify_rate) != 0)
        return -1;
    s_print_row("raw Ed25519 verify, 1 core, 300-byte messages", b->verify_rate, "verifies/s", 0,
                "");
    if (s_commit_rate(b->opt.raw_seconds, &b->commit_rate) != 0)
        return -1;
    s_print_row("raw LMDB durable commit, 1 put of 400 B", b->commit_rate, "commits/s", 0, "");
    if (s_sign_chain(b) != 0)
        return -1;
    if (s_raw_latency(b, 0, &b->raw_plain) != 0 || s_raw_latency(b, 1, &b->raw_curve) != 0) {
        fprintf(stderr, "bench_repl: the raw PUB->SUB rows failed\n");
        return -1;
    }
    s_print_lat("raw ZeroMQ PUB->SUB tcp, 10k msg/s, plain", &b->raw_plain, &b->raw_plain);
    s_print_lat("raw ZeroMQ PUB->SUB tcp, 10k msg/s, CURVE", &b->raw_curve, &b->raw_curve);
    if (b->raw_plain.missing || b->raw_curve.missing)
        s_note(b, "raw PUB->SUB: %llu plain and %llu CURVE messages were lost",
               (unsigned long long) b->raw_plain.missing,
               (unsigned long long) b->raw_curve.missing);
    return 0;
}

static void
s_print_head(const s_bench_t *b)
{
    const uint8_t *p;
    size_t len;
    const char *tmp = getenv("TMPDIR");
    s_chain_msg(&b->chain, 1, &p, &len);
    printf("\nruched: %s (verify_threads=%ld); data under %s\n", b->opt.ruched,
           b->opt.verify_threads, tmp && *tmp ? tmp : "/tmp");
    printf("throughput rows %.0f s, window %d; latency rows %.0f s; catch-up %llu updates; raw "
           "rows %.1f s\n",
           b->opt.seconds, S_WINDOW, b->opt.lat_seconds, (unsigned long long) b->opt.catchup,
           b->opt.raw_seconds);
    printf("update message: %zu bytes (a post of about 200 bytes of text)\n\n", len);
}

static int
s_run(s_bench_t *b)
{
    printf("%-50s %11s  %-10s %s\n", "measurement", "value", "unit", "ratio to raw limit");
    int rc = s_raw_rows(b);
    if (rc == 0) { /* a row that fails says why and the others still run */
        rc |= s_row_throughput(b, 1);
        rc |= s_row_throughput(b, 2);
        rc |= s_row_latency(b, 1000.0);
        rc |= s_row_latency(b, 5000.0);
        rc |= s_row_catchup(b);
    }
    if (b->chain.n)
        s_print_head(b);
    for (int i = 0; i < b->n_notes; i++)
        printf("note: %s\n", b->notes[i]);
    return rc;
}

/*  ---------------------------------------------------------------------
 *  Command line
 */

static int
s_number(const char *text, double min, double max, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(text, &end);
    return errno == 0 && end != text && *end == '\0' && *out >= min && *out <= max ? 0 : -1;
}

static int
s_parse_args(int argc, char **argv, s_opts_t *o)
{
    *o = (s_opts_t){NULL, 10.0, 5.0, 2.0, 100000, 2};
    if (argc < 2 || argv[1][0] == '-')
        return -1;
    o->ruched = argv[1];
    for (int i = 2; i < argc; i++) {
        double v;
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : "";
        if (strcmp(a, "--quick") == 0) {
            o->seconds = o->lat_seconds = 1.0;
            o->raw_seconds = 0.2;
            o->catchup = 2000;
        } else if (strcmp(a, "--seconds") == 0 && s_number(next, 0.1, 3600, &v) == 0)
            o->seconds = v, i++;
        else if (strcmp(a, "--latency-seconds") == 0 && s_number(next, 0.1, 3600, &v) == 0)
            o->lat_seconds = v, i++;
        else if (strcmp(a, "--catchup") == 0 && s_number(next, 1, 1e7, &v) == 0)
            o->catchup = (uint64_t) v, i++;
        else if (strcmp(a, "--verify-threads") == 0 && s_number(next, 1, 64, &v) == 0)
            o->verify_threads = (long) v, i++;
        else
            return -1;
    }
    return 0;
}

/*  The bench's identity: a fresh key and its CURVE pair. */
static int
s_identity(s_bench_t *b)
{
    b->curve_sec = sodium_malloc(32);
    if (!b->curve_sec || ru_key_generate(&b->key) != RU_OK ||
        ru_key_curve(b->key, b->curve_pub, b->curve_sec) != RU_OK)
        return -1;
    ru_b64_encode(b->key_text, ru_key_public(b->key), RU_KEY_BYTES);
    snprintf(b->verify_ref, sizeof b->verify_ref, "raw verify x %ld threads",
             b->opt.verify_threads);
    return 0;
}

int
main(int argc, char **argv)
{
    static s_bench_t b;
    if (s_parse_args(argc, argv, &b.opt) != 0) {
        fprintf(stderr,
                "usage: %s PATH/TO/ruched [--seconds N] [--latency-seconds N] [--catchup N] "
                "[--verify-threads N] [--quick]\n",
                argv[0]);
        return 2;
    }
    zsys_handler_set(NULL); /* signals keep their default meaning */
    int rc = sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ? -1 : 0;
    if (rc == 0 && s_identity(&b) != 0) {
        fprintf(stderr, "bench_repl: making the bench's key failed\n");
        rc = -1;
    }
    if (rc == 0)
        rc = s_run(&b);
    s_chain_free(&b.chain);
    ru_key_destroy(&b.key);
    sodium_free(b.curve_sec);
    curl_global_cleanup();
    return rc == 0 ? 0 : 1;
}
