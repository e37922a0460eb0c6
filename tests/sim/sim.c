/*  sim.c - a deterministic simulation of the federation.
 *
 *  Several nodes run in one process on one simulated clock, driven by one
 *  seed. Each node has the real store (LMDB, in a directory of its own),
 *  the real store actor (ru_writer: group commit, the buffers it publishes
 *  from), the real state machine and causal delivery (ru_apply, ru_state),
 *  the real check-and-store of received updates (ru_verify_run), the real
 *  catch-up server (ru_catchup) and the real store-loss recovery rule
 *  (ru_recovery). Messages are the real wire bytes (ru_msg). What is the
 *  simulation's own is what the replication actor (node/repl: ru_repl.c,
 *  ru_peer.c, ru_serve.c) does with sockets and timers: it
 *  carries each message over a simulated network, and follows
 *  PROTOCOL.md section 13 for when to ask for a catch-up (on connect, on a
 *  gap in a peer's live stream, on the anti-entropy timer, after a stall),
 *  to grant credit, to publish and relay what a node newly stored, and
 *  (section 16) to send the evidence of the forks a node knows of to its
 *  peers when it finds one and at every anti-entropy turn.
 *
 *  Faults, each with a rate drawn from the seed: live messages dropped or
 *  delivered twice; every message delayed (so the links interleave, while
 *  each connection keeps its order, as ZeroMQ's do); links cut and healed;
 *  nodes crashed and restarted, also right after a commit and before its
 *  updates are published; stores lost (the site comes back with its key and
 *  an empty store, and recovers); requests that fail after they applied an
 *  update; in half the runs, an equivocating origin: once, a node's key
 *  signs a second update with the node's next seq, which one peer alone
 *  receives, while the node makes its own (W.fork: which origin, which
 *  seq).
 *
 *  Invariants, checked as the run goes: no (origin, seq) is ever made with
 *  two payloads (a reused seq), except a seq whose update was lost with a
 *  store before any other site held it, and the forked origin's from its
 *  fork seq on; no node records a fork of another origin, or at another
 *  seq. At the end, once every node is up and every link healed, the run
 *  must get quiet (nothing in flight and every check below holding) and
 *  then:
 *    - every node that holds an update of the forked origin, or knows of
 *      the fork, quarantines it at the seq its key signed twice; no node
 *      quarantines any other origin;
 *    - nothing is pending anywhere but updates that will never apply
 *      there (stuck): those above a hole (a seq lost everywhere below one
 *      held), the forked origin's from its fork seq on, and those that
 *      lack only such updates or stuck ones. An update some node holds
 *      and another has not applied is stuck at the latter by the same
 *      rule, held there or not: a catch-up does not send a pending update
 *      to an asker that cannot apply it, so a node whose peers hold an
 *      honest update stuck (it was built on the forked origin's updates
 *      past the fork) never receives it;
 *    - every origin's clock entry (but the forked origin's) is the same at
 *      every node, except where that origin's next update is stuck;
 *      equal entries have the same head hash; nodes holding the same head
 *      (seq and hash) of every origin, the forked one included, have the
 *      same state digest (without a fork: every node's);
 *    - every node holds every acknowledged post applied with the payload
 *      made (but those lost with a store before any other site held them,
 *      and those stuck there);
 *    - no node is left in recovery but one with a hole, or one with an
 *      update of its own pending and stuck.
 *  Then, with a fork known, an operator resolves it as `ruche admin
 *  resolve-fork` does (ru_apply_resolve) at the first node other than the
 *  origin that knows of it, preferring one holding the variant the origin
 *  made itself; the run must get quiet again, and the same checks hold
 *  with no origin quarantined anywhere and the forked origin's clock entry
 *  equal everywhere too: nothing of the fork is stuck any more but, when
 *  the second variant was kept, the origin's chain past it, which its
 *  site, dealt with, never makes (nor are its acknowledged posts from the
 *  fork seq on then expected).
 *
 *  A run is a pure function of its seed: keys come from the seed, the
 *  clock is simulated (ru_hlc_use_clock), and the store actor is called
 *  by one thread at a time. A failing seed replays exactly with the
 *  command the failure prints.
 *
 *  Usage: sim [--seed N] [--seeds COUNT] [--steps N] [--no FAULT]... [--verbose]
 *  FAULT: drop, dup, crash, lose, cut, fail, fork (a fault kind left out of
 *  the runs, to narrow a failure down; the fork's step is drawn apart from
 *  the other faults, so that --no fork leaves them as they were).
 */
#include <czmq.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ruche/ru_hlc.h"
#include "ruche/ru_msg.h"

#include "ru_account.h"
#include "ru_apply.h"
#include "ru_catchup.h"
#include "ru_dbkey.h"
#include "ru_fork.h"
#include "ru_recovery.h"
#include "ru_schema.h"
#include "ru_sites.h"
#include "ru_verify.h"
#include "ru_writer.h"
#include "testdir.h"

#define S_MAX_NODES 6
#define S_START_MS 1800000000000ull /* the simulated clock starts in 2027 */
#define S_HEARTBEAT_MS 1000
#define S_ANTI_ENTROPY_MS 5000
#define S_STALL_MS 15000
#define S_CREDIT 4
#define S_MAP (64u * 1024u * 1024u)
#define S_HEAL_MS 600000 /* at most this long to converge once healed */

/*  ---------------------------------------------------------------------
 *  The seed's random numbers (splitmix64)
 */

static uint64_t s_rng;

static uint64_t
s_rand(void)
{
    uint64_t z = (s_rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t
s_below(uint64_t n)
{
    return n ? s_rand() % n : 0;
}

/*  1 with probability per_million / 1,000,000. */
static int
s_chance(uint32_t per_million)
{
    return s_below(1000000) < per_million;
}

/*  ---------------------------------------------------------------------
 *  The world
 */

typedef enum { S_LIVE, S_TO_SERVER, S_TO_ASKER } s_channel;

typedef struct {
    uint64_t at, order; /* delivery time, then the order of sending */
    int from, to;
    s_channel ch;
    uint8_t *bytes;
    size_t len;
} s_msg;

typedef struct {
    uint8_t hash[32];
    int made;  /* some node made an update with this (origin, seq) */
    int acked; /* a local post acknowledged to its author */
    int lost;  /* lost with its origin's store before anyone else held it */
} s_made;

typedef struct {
    int id;
    char dir[512];
    ru_key_t *key;
    struct {
        ru_config_t cfg;
        ru_key_t *key;
        ru_store_t *store;
        ru_writer_t *writer;
        ru_sites_t *sites; /* it and every other node: all trusted */
    } node;
    zsock_t *pull;  /* what the writer publishes */
    char endpoint[64]; /* where pull is bound: new for every run */
    size_t committed; /* updates the listener heard of, not yet read from pull */
    int up;
    int recovering;
    ru_recovery_t recovery;
    ru_catchup_t serving[S_MAX_NODES]; /* catch-ups it serves, by asker */
    int serving_on[S_MAX_NODES];
    int serving_more[S_MAX_NODES]; /* its walk budget ran out: served again next step */
    int syncing[S_MAX_NODES]; /* its catch-up with that peer runs */
    uint64_t sync_ms[S_MAX_NODES];
    ru_clock_t live[S_MAX_NODES]; /* per origin, the last seq seen on a peer's live stream */
    uint64_t next_heartbeat, next_anti_entropy;
    s_made *made; /* by seq, this node as origin */
    size_t n_made;
} s_node;

typedef struct {
    uint32_t drop, dup, crash, crash_mid, lose, cut, heal, fail, post;
} s_rates;

typedef struct {
    unsigned long events, delivered, dropped, duplicated, crashes, crashes_mid, losses, cuts,
        failed, forks, acked, steps;
} s_counts;

static const char *const s_fault_names[] = {"drop", "dup", "crash", "lose", "cut", "fail", "fork"};
#define S_NO_FORK (1u << 6)

/*  The equivocating origin, when the run has one: at step `step` (0:
 *  never), the key of node `origin` signs a second update with seq `seq`
 *  (its next), which one peer alone receives, and the node makes its own.
 *  This is all that the checks need to know of the fault, and what a
 *  resolution of the fork would start from. */
typedef struct {
    unsigned long step;
    int origin; /* -1 until it happened */
    uint64_t seq;
    int to;       /* the peer that got the second variant */
    int resolver; /* the node that resolved it once the run was quiet, -1 if none */
    int kept_a;   /* it kept the variant the origin made itself */
} s_fork;

static struct {
    uint64_t seed;
    unsigned without; /* fault kinds left out: bit k for s_fault_names[k] */
    int verbose;
    uint64_t now;
    int n;
    s_node nodes[S_MAX_NODES];
    int linked[S_MAX_NODES][S_MAX_NODES];
    int cut[S_MAX_NODES][S_MAX_NODES];
    uint64_t fifo[S_MAX_NODES][S_MAX_NODES][3]; /* last delivery time per connection */
    s_msg *queue;
    size_t n_queue, cap_queue;
    uint64_t order;
    s_rates rates;
    s_counts counts;
    int healing; /* the end: no more faults */
    s_fork fork;
    char failure[512];
} W;

static uint64_t
s_clock(void)
{
    return W.now;
}

static void s_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void s_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
s_trace(const char *fmt, ...)
{
    if (!W.verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[%8llu] ", (unsigned long long) (W.now - S_START_MS));
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/*  Records the first invariant broken; the run stops at the next step. */
static void
s_fail(const char *fmt, ...)
{
    if (W.failure[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(W.failure, sizeof W.failure, fmt, ap);
    va_end(ap);
    s_trace("FAIL: %s", W.failure);
}

/*  The record of (origin i, seq), grown as needed; NULL when out of memory. */
static s_made *
s_made_at(int i, uint64_t seq)
{
    s_node *o = &W.nodes[i];
    if (seq >= o->n_made) {
        size_t n = seq * 2 + 16;
        s_made *m = realloc(o->made, n * sizeof *m);
        if (!m)
            return NULL;
        memset(m + o->n_made, 0, (n - o->n_made) * sizeof *m);
        o->made = m;
        o->n_made = n;
    }
    return &o->made[seq];
}

/*  An update made at origin i: the invariant "no seq reused" is checked
 *  here, at once. */
static void
s_made_update(int i, uint64_t seq, const uint8_t *wire, size_t len, int acked)
{
    uint8_t hash[32];
    crypto_generichash(hash, sizeof hash, wire, len, NULL, 0);
    s_made *m = s_made_at(i, seq);
    if (!m) {
        s_fail("out of memory");
        return;
    }
    /* the forked origin's key signed two at the fork seq on purpose, and
       the updates it made after it are held wherever the fork is known: a
       store it lost does not get them back, so it may make their seqs
       again (before it learns of its own fork): those are forks too */
    int forked = i == W.fork.origin && seq >= W.fork.seq;
    if (m->made && !m->lost && !forked && memcmp(m->hash, hash, sizeof hash) != 0)
        s_fail("node %d made seq %llu twice with different payloads (a reused seq)", i,
               (unsigned long long) seq);
    if (!m->made || m->lost)
        memcpy(m->hash, hash, sizeof hash);
    m->made = 1;
    m->lost = 0;
    m->acked |= acked;
}

/*  ---------------------------------------------------------------------
 *  The network
 */

/*  Sends bytes from one node to another on a channel. Each connection
 *  keeps its order; live messages may be dropped or doubled. */
static void
s_send(int from, int to, s_channel ch, const uint8_t *bytes, size_t len)
{
    if (!W.linked[from][to])
        return;
    int copies = 1;
    if (ch == S_LIVE && !W.healing && s_chance(W.rates.drop)) {
        W.counts.dropped++;
        return;
    }
    if (ch == S_LIVE && !W.healing && s_chance(W.rates.dup)) {
        W.counts.duplicated++;
        copies = 2;
    }
    for (int c = 0; c < copies; c++) {
        if (W.n_queue == W.cap_queue) {
            size_t cap = W.cap_queue ? 2 * W.cap_queue : 256;
            s_msg *q = realloc(W.queue, cap * sizeof *q);
            if (!q) {
                s_fail("out of memory");
                return;
            }
            W.queue = q;
            W.cap_queue = cap;
        }
        uint64_t at = W.now + 1 + s_below(30);
        uint64_t *last = &W.fifo[from][to][ch];
        if (at < *last)
            at = *last;
        *last = at;
        uint8_t *copy = malloc(len);
        if (!copy) {
            s_fail("out of memory");
            return;
        }
        memcpy(copy, bytes, len);
        W.queue[W.n_queue++] = (s_msg){at, W.order++, from, to, ch, copy, len};
    }
}

static void
s_send_buf(int from, int to, s_channel ch, const ru_buf_t *buf)
{
    s_send(from, to, ch, buf->data, buf->len);
}

/*  Takes the next message due by now, if any, into *out. */
static int
s_next_due(s_msg *out)
{
    size_t best = W.n_queue;
    for (size_t i = 0; i < W.n_queue; i++)
        if (W.queue[i].at <= W.now &&
            (best == W.n_queue || W.queue[i].at < W.queue[best].at ||
             (W.queue[i].at == W.queue[best].at && W.queue[i].order < W.queue[best].order)))
            best = i;
    if (best == W.n_queue)
        return 0;
    *out = W.queue[best];
    W.queue[best] = W.queue[--W.n_queue];
    return 1;
}

/*  Drops what is in flight to or from node i (its connections are gone). */
static void
s_drop_connections(int i)
{
    for (size_t k = 0; k < W.n_queue;) {
        if (W.queue[k].to == i || W.queue[k].from == i) {
            free(W.queue[k].bytes);
            W.queue[k] = W.queue[--W.n_queue];
        } else
            k++;
    }
}

/*  ---------------------------------------------------------------------
 *  A node's life: start, crash, store loss
 */

static void
s_listener(void *ctx, const ru_ref_t *refs, size_t n)
{
    (void) refs;
    ((s_node *) ctx)->committed += n;
}

static ru_err
s_begin_recovery(const ru_writer_ctx_t *ctx, void *arg)
{
    (void) arg;
    return ru_apply_begin_recovery(ctx->txn);
}

/*  The accounts of a fresh store (local data, not replicated). */
static ru_err
s_accounts(s_node *nd)
{
    ru_txn_t txn;
    ru_err err = ru_store_write(nd->node.store, &txn);
    if (err)
        return err;
    static const char *const names[] = {"ann", "bob", "eve"};
    for (size_t k = 0; k < 3 && !err; k++)
        err = ru_account_create(&txn, names[k], "x", 0, W.now);
    if (err) {
        ru_txn_abort(&txn);
        return err;
    }
    return ru_txn_commit(&txn);
}

static void s_hello(s_node *nd, int peer);

/*  Starts node i on its store (a fresh one after a loss: then in
 *  recovery, as ruched starts) and connects it to its peers. */
static ru_err
s_start(int i, int lost)
{
    s_node *nd = &W.nodes[i];
    ru_err err = ru_store_open(nd->dir, S_MAP, 0, ru_schema_upgrades, &nd->node.store);
    int fresh = !err && ru_store_fresh(nd->node.store);
    if (!err)
        err = ru_writer_new(nd->node.store, nd->key, NULL, NULL, nd->endpoint, &nd->node.writer);
    if (err)
        return err;
    ru_writer_listen(nd->node.writer, s_listener, nd);
    if (fresh)
        err = s_accounts(nd);
    if (!err && lost)
        err = ru_writer_call(nd->node.writer, s_begin_recovery, NULL);
    ru_txn_t txn;
    if (!err)
        err = ru_store_read(nd->node.store, &txn);
    if (!err) {
        err = ru_apply_recovering(&txn, &nd->recovering);
        ru_txn_abort(&txn);
    }
    if (err)
        return err;
    ru_recovery_init(&nd->recovery);
    nd->up = 1;
    nd->committed = 0;
    for (int j = 0; j < W.n; j++) {
        nd->syncing[j] = 0;
        nd->serving_on[j] = 0;
        nd->serving_more[j] = 0;
        ru_clock_fini(&nd->live[j]);
        ru_clock_init(&nd->live[j]);
    }
    nd->next_heartbeat = W.now + s_below(S_HEARTBEAT_MS);
    nd->next_anti_entropy = W.now + S_ANTI_ENTROPY_MS;
    for (int j = 0; j < W.n; j++)
        if (W.linked[i][j])
            s_hello(nd, j);
    s_trace("node %d starts%s", i, nd->recovering ? ", recovering" : "");
    return RU_OK;
}

static void
s_stop(s_node *nd)
{
    ru_writer_destroy(&nd->node.writer);
    ru_store_destroy(&nd->node.store);
    for (int j = 0; j < W.n; j++)
        if (nd->serving_on[j]) {
            ru_catchup_fini(&nd->serving[j]);
            nd->serving_on[j] = 0;
        }
    nd->up = 0;
}

/*  Reads what the writer published since the last call: out to the peers,
 *  or nowhere when the node crashes right after the commit. */
static void
s_publish(s_node *nd, int crash)
{
    ru_buf_t buf;
    ru_buf_init(&buf);
    for (; nd->committed > 0; nd->committed--) {
        zframe_t *f = zframe_recv(nd->pull);
        ru_envelope_t env;
        uint64_t seq;
        if (!f || ru_envelope_parse(zframe_data(f), zframe_size(f), &env) != RU_OK ||
            ru_envelope_seq(&env, &seq) != RU_OK) {
            s_fail("node %d: a committed update was not published whole", nd->id);
            zframe_destroy(&f);
            break;
        }
        if (memcmp(env.origin, ru_key_public(nd->key), RU_KEY_BYTES) == 0)
            s_made_update(nd->id, seq, env.wire, env.wire_len, 0);
        ru_buf_reset(&buf);
        if (!crash && ru_msg_encode_update((ru_bytes_t){env.wire, env.wire_len}, &buf) == RU_OK)
            for (int j = 0; j < W.n; j++)
                s_send_buf(nd->id, j, S_LIVE, &buf);
        zframe_destroy(&f);
    }
    ru_buf_fini(&buf);
}

static void
s_crash(s_node *nd)
{
    s_trace("node %d crashes", nd->id);
    W.counts.crashes++;
    s_publish(nd, 1);
    s_stop(nd);
    s_drop_connections(nd->id);
}

/*  After a writer call: publish, or (rarely) crash before publishing. */
static void
s_after_commit(s_node *nd)
{
    if (!W.healing && nd->committed && s_chance(W.rates.crash_mid)) {
        W.counts.crashes_mid++;
        s_trace("node %d crashes between a commit and its publishing", nd->id);
        s_crash(nd);
    } else
        s_publish(nd, 0);
}

/*  Does node j hold (origin i, seq), applied or pending? Opens the store of
 *  a node that is down. */
static int
s_holds(int j, int i, uint64_t seq)
{
    s_node *nd = &W.nodes[j];
    ru_store_t *store = nd->node.store;
    if (!nd->up && ru_store_open(nd->dir, S_MAP, 0, ru_schema_upgrades, &store) != RU_OK)
        return 0;
    ru_txn_t txn;
    int held = 0;
    if (ru_store_read(store, &txn) == RU_OK) {
        uint8_t key[RU_DBKEY_REF];
        size_t klen = ru_dbkey_ref(key, ru_key_public(W.nodes[i].key), seq);
        MDB_val val;
        held = ru_txn_get(&txn, RU_DB_log, key, klen, &val) == RU_OK ||
               ru_txn_get(&txn, RU_DB_pending, key, klen, &val) == RU_OK;
        ru_txn_abort(&txn);
    }
    if (!nd->up)
        ru_store_destroy(&store);
    return held;
}

/*  Node i loses its store: what no other node holds is lost with it (and
 *  its seq may be made again); the others it must take back. */
static void
s_lose_store(s_node *nd)
{
    if (nd->up)
        s_crash(nd);
    W.counts.losses++;
    for (uint64_t seq = 1; seq < nd->n_made; seq++) {
        s_made *m = &nd->made[seq];
        int held = 0;
        for (int j = 0; j < W.n && !held && m->made; j++)
            held = j != nd->id && s_holds(j, nd->id, seq);
        if (m->made && !held) {
            m->lost = 1;
            s_trace("node %d: seq %llu is lost with its store", nd->id, (unsigned long long) seq);
        }
    }
    testdir_remove(nd->dir);
    if (mkdir(nd->dir, 0700) != 0)
        s_fail("cannot make %s again", nd->dir);
    s_trace("node %d loses its store", nd->id);
    if (s_start(nd->id, 1) != RU_OK)
        s_fail("node %d cannot start again after losing its store", nd->id);
}

/*  ---------------------------------------------------------------------
 *  A node's replication: what the replication actor does with sockets
 */

static void
s_hello(s_node *nd, int peer)
{
    ru_clock_t clock;
    ru_clock_init(&clock);
    ru_buf_t buf;
    ru_buf_init(&buf);
    if (ru_apply_state(nd->node.store, &clock, NULL) == RU_OK &&
        ru_msg_encode_hello(&clock, S_CREDIT, &buf) == RU_OK) {
        s_send_buf(nd->id, peer, S_TO_SERVER, &buf);
        nd->syncing[peer] = 1;
        nd->sync_ms[peer] = W.now;
    }
    ru_buf_fini(&buf);
    ru_clock_fini(&clock);
}

static void
s_heartbeat(s_node *nd)
{
    ru_clock_t clock;
    ru_clock_init(&clock);
    uint8_t digest[RU_HASH_BYTES];
    ru_buf_t buf;
    ru_buf_init(&buf);
    if (ru_apply_state(nd->node.store, &clock, digest) == RU_OK &&
        ru_msg_encode_heartbeat(&clock, ru_hlc_wall_ms() << RU_HLC_SHIFT, digest, &buf) ==
            RU_OK)
        for (int j = 0; j < W.n; j++)
            s_send_buf(nd->id, j, S_LIVE, &buf);
    ru_buf_fini(&buf);
    ru_clock_fini(&clock);
}

static void
s_try_end_recovery(s_node *nd)
{
    if (!nd->recovering)
        return;
    uint32_t direct[S_MAX_NODES];
    int n = 0, ended;
    for (int j = 0; j < W.n; j++)
        if (W.linked[nd->id][j])
            direct[n++] = (uint32_t) j;
    if (ru_recovery_try_end(&nd->recovery, nd->node.writer, direct, n, &ended) != RU_OK)
        s_fail("node %d: ending recovery failed", nd->id);
    if (ended) {
        nd->recovering = 0;
        s_trace("node %d recovered up to seq %llu", nd->id,
                (unsigned long long) nd->recovery.target);
    }
}

/*  The node whose key is origin, -1 if none. */
static int
s_node_of(const uint8_t *origin)
{
    for (int j = 0; j < W.n; j++)
        if (memcmp(origin, ru_key_public(W.nodes[j].key), RU_KEY_BYTES) == 0)
            return j;
    return -1;
}

/*  ru_fork_list's callback: the evidence of a fork to every peer, each
 *  envelope as an update message on the live stream. A fork recorded of
 *  any origin but the equivocating one, or at another seq, is a failure. */
static int
s_fork_out(void *ctx, const ru_fork_t *fork)
{
    const s_node *nd = ctx;
    int o = s_node_of(fork->origin);
    if (o != W.fork.origin || fork->seq != W.fork.seq)
        s_fail("node %d quarantines node %d from seq %llu (node %d's key forked at %llu)", nd->id,
               o, (unsigned long long) fork->seq, W.fork.origin, (unsigned long long) W.fork.seq);
    ru_buf_t buf;
    ru_buf_init(&buf);
    for (int k = 0; k < 2; k++) {
        ru_buf_reset(&buf);
        if (ru_msg_encode_update(fork->evidence[k], &buf) == RU_OK)
            for (int j = 0; j < W.n; j++)
                s_send_buf(nd->id, j, S_LIVE, &buf);
    }
    ru_buf_fini(&buf);
    return 0;
}

/*  What ru_alarm.c does with the forks a node knows of: their evidence out
 *  to its peers when it finds one (ruched sends the new one's; here every
 *  one's, which makes no difference with one forked origin) and at every
 *  anti-entropy turn. */
static void
s_send_forks(s_node *nd)
{
    ru_txn_t txn;
    if (ru_store_read(nd->node.store, &txn) != RU_OK)
        return;
    if (ru_fork_list(&txn, s_fork_out, nd) != RU_OK)
        s_fail("node %d cannot read its forks", nd->id);
    ru_txn_abort(&txn);
}

/*  Checks and stores envelopes received from peer (a live update or a
 *  catch-up batch), as a verification worker would, then publishes what
 *  was newly stored, and the evidence of a fork it found. */
static void
s_ingest(s_node *nd, const ru_msg_t *msg)
{
    ru_bytes_t env[RU_MAX_BATCH];
    for (uint32_t k = 0; k < msg->n_updates; k++)
        env[k] = (ru_bytes_t){msg->updates[k].wire, msg->updates[k].wire_len};
    ru_verify_input_t in = {env, msg->n_updates};
    ru_verify_result_t res;
    memset(&res, 0, sizeof res);
    ru_verify_ctx_t ctx = {nd->node.store, nd->node.writer, nd->node.sites,
                           nd->node.cfg.max_skew_ms};
    ru_verify_run(&ctx, &in, 1, &res);
    if (res.store_error)
        s_fail("node %d: received updates not stored: %s", nd->id,
               ru_err_str((ru_err) res.store_error));
    /*  A fork is the equivocating origin's; once it is resolved, what is
        built on the variant not kept, still in flight, is refused as off
        the chain (PROTOCOL.md 16). */
    for (int k = 0; k < RU_REJECT_COUNT; k++)
        if (res.rejected[k] && (k != RU_REJECT_FORK || W.fork.origin < 0) &&
            (k != RU_REJECT_CHAIN || W.fork.resolver < 0))
            s_fail("node %d refused %u updates (%s)", nd->id, res.rejected[k],
                   ru_verify_reason_name((ru_reject) k));
    if (res.rejected[RU_REJECT_FORK]) {
        s_trace("node %d finds node %d's fork", nd->id, W.fork.origin);
        s_send_forks(nd);
    }
    s_after_commit(nd);
}

/*  The live-gap rule of ru_peer.c: a jump in one origin's seqs on a
 *  peer's live stream asks that peer for a catch-up. */
static void
s_live_gap(s_node *nd, int peer, const ru_envelope_t *env)
{
    uint64_t seq, last = ru_clock_get(&nd->live[peer], env->origin);
    if (ru_envelope_seq(env, &seq) != RU_OK ||
        ru_clock_set(&nd->live[peer], env->origin, seq > last ? seq : last) != RU_OK)
        return;
    if (last && seq > last + 1 && !nd->syncing[peer])
        s_hello(nd, peer);
}

typedef struct {
    int from, to;
} s_route;

static void
s_send_to_asker(void *ctx, const ru_buf_t *msg)
{
    const s_route *r = ctx;
    s_send_buf(r->from, r->to, S_TO_ASKER, msg);
}

static void
s_serve(s_node *nd, int asker)
{
    s_route r = {nd->id, asker};
    ru_catchup_step step =
        ru_catchup_pump(&nd->serving[asker], nd->node.store, s_send_to_asker, &r);
    nd->serving_more[asker] = step == RU_CATCHUP_MORE;
    if (step == RU_CATCHUP_OVER) {
        ru_catchup_fini(&nd->serving[asker]);
        nd->serving_on[asker] = 0;
    }
}

static void
s_on_server(s_node *nd, int asker, const ru_msg_t *msg)
{
    if (msg->type == RU_MSG_HELLO) {
        if (!nd->serving_on[asker])
            ru_catchup_init(&nd->serving[asker], (uint32_t) nd->node.cfg.pending_walk);
        nd->serving_on[asker] = 1;
        if (ru_catchup_hello(&nd->serving[asker], &msg->clock, ru_key_public(W.nodes[asker].key),
                             msg->credit) != RU_OK)
            s_fail("out of memory");
        s_serve(nd, asker);
    } else if (msg->type == RU_MSG_CREDIT && nd->serving_on[asker]) {
        ru_catchup_credit(&nd->serving[asker], msg->credit);
        s_serve(nd, asker);
    }
}

static void
s_on_asker(s_node *nd, int server, const ru_msg_t *msg)
{
    if (msg->type == RU_MSG_BATCH) {
        nd->sync_ms[server] = W.now;
        s_ingest(nd, msg);
        if (!nd->up)
            return;
        s_try_end_recovery(nd);
        ru_buf_t buf;
        ru_buf_init(&buf);
        if (ru_msg_encode_credit(1, &buf) == RU_OK)
            s_send_buf(nd->id, server, S_TO_SERVER, &buf);
        ru_buf_fini(&buf);
    } else if (msg->type == RU_MSG_DONE) {
        nd->syncing[server] = 0;
        ru_recovery_done(&nd->recovery, (uint32_t) server,
                         ru_clock_get(&msg->clock, ru_key_public(nd->key)));
        s_try_end_recovery(nd);
    }
}

static void
s_on_live(s_node *nd, int peer, const ru_msg_t *msg)
{
    if (msg->type == RU_MSG_UPDATE) {
        s_live_gap(nd, peer, &msg->updates[0]);
        s_ingest(nd, msg);
    } else if (msg->type == RU_MSG_HEARTBEAT) {
        ru_recovery_heard(&nd->recovery, (uint32_t) peer,
                          ru_clock_get(&msg->clock, ru_key_public(nd->key)));
        s_try_end_recovery(nd);
    }
}

static void
s_deliver(s_msg *m)
{
    s_node *nd = &W.nodes[m->to];
    W.counts.events++;
    if (!nd->up || W.cut[m->from][m->to]) {
        W.counts.dropped++;
        return;
    }
    W.counts.delivered++;
    ru_msg_t msg;
    ru_msg_init(&msg);
    if (ru_msg_decode(m->bytes, m->len, &msg) != RU_OK)
        s_fail("node %d cannot decode a message of node %d", m->to, m->from);
    else if (m->ch == S_LIVE)
        s_on_live(nd, m->from, &msg);
    else if (m->ch == S_TO_SERVER)
        s_on_server(nd, m->from, &msg);
    else
        s_on_asker(nd, m->from, &msg);
    ru_msg_fini(&msg);
}

static void
s_timers(s_node *nd)
{
    for (int j = 0; j < W.n; j++)
        if (nd->serving_on[j] && nd->serving_more[j])
            s_serve(nd, j);
    if (W.now >= nd->next_heartbeat) {
        s_heartbeat(nd);
        nd->next_heartbeat = W.now + S_HEARTBEAT_MS;
    }
    for (int j = 0; j < W.n; j++)
        if (nd->syncing[j] && W.now - nd->sync_ms[j] > S_STALL_MS)
            nd->syncing[j] = 0;
    if (W.now >= nd->next_anti_entropy) {
        for (int j = 0; j < W.n; j++)
            if (W.linked[nd->id][j] && !nd->syncing[j])
                s_hello(nd, j);
        s_send_forks(nd);
        nd->next_anti_entropy = W.now + S_ANTI_ENTROPY_MS;
    }
}

/*  ---------------------------------------------------------------------
 *  The workload: employees post, reply and like
 */

typedef struct {
    ru_update_t *u;
    ru_buf_t out;
    int fail; /* the request fails after it applied the update */
} s_local;

static ru_err
s_local_request(const ru_writer_ctx_t *ctx, void *arg)
{
    s_local *l = arg;
    ru_buf_reset(&l->out);
    ru_err err = ru_apply_local(ctx->apply, ctx->key, l->u, &l->out);
    return !err && l->fail ? RU_E_IO : err;
}

/*  A post this node has applied, as a target, in *t; 0 if none found. */
static int
s_pick_target(s_node *nd, ru_ref_t *t)
{
    int i = (int) s_below((uint64_t) W.n);
    s_node *o = &W.nodes[i];
    ru_txn_t txn;
    uint64_t head = 0;
    if (ru_store_read(nd->node.store, &txn) != RU_OK)
        return 0;
    if (ru_apply_head(&txn, ru_key_public(o->key), &head, NULL) != RU_OK)
        head = 0;
    int found = 0;
    for (int tries = 0; tries < 4 && head && !found; tries++) {
        uint64_t seq = 1 + s_below(head);
        ru_post_rec_t rec;
        memcpy(t->origin, ru_key_public(o->key), RU_KEY_BYTES);
        t->seq = seq;
        found = ru_post_rec_get(&txn, t, &rec) == RU_OK;
    }
    ru_txn_abort(&txn);
    return found;
}

static void
s_post(s_node *nd)
{
    static const char *const authors[] = {"ann", "bob", "eve"};
    ru_update_t u;
    ru_update_init(&u);
    char text[64];
    snprintf(text, sizeof text, "note %llu from node %d", (unsigned long long) W.counts.steps,
             nd->id);
    u.author = (ru_str_t){authors[s_below(3)], 3};
    u.text = (ru_str_t){text, (uint32_t) strlen(text)};
    u.kind = RU_KIND_POST;
    uint64_t roll = s_below(100);
    if (roll < 40 && s_pick_target(nd, &u.target))
        u.kind = roll < 25 ? RU_KIND_REPLY : RU_KIND_LIKE;
    s_local l = {&u, {0}, !W.healing && s_chance(W.rates.fail)};
    ru_buf_init(&l.out);
    ru_err err = ru_writer_call(nd->node.writer, s_local_request, &l);
    if (!err) {
        W.counts.acked++;
        s_made_update(nd->id, u.seq, l.out.data, l.out.len, 1);
    } else if (err == RU_E_IO && l.fail)
        W.counts.failed++;
    else if (err != RU_E_RECOVERING && !(err == RU_E_FORK && nd->id == W.fork.origin))
        s_fail("node %d: a post failed: %s", nd->id, ru_err_str(err));
    s_trace("node %d: %s %s seq %llu%s", nd->id, u.kind == RU_KIND_POST ? "post" : "reply/like",
            err ? "refused" : "made", (unsigned long long) u.seq, l.fail ? " (request fails)" : "");
    ru_buf_fini(&l.out);
    ru_update_fini(&u);
    s_after_commit(nd);
}

/*  ---------------------------------------------------------------------
 *  Faults
 */

static int
s_pick_up(void)
{
    int up[S_MAX_NODES], n = 0;
    for (int i = 0; i < W.n; i++)
        if (W.nodes[i].up)
            up[n++] = i;
    return n ? up[s_below((uint64_t) n)] : -1;
}

static void
s_faults(void)
{
    int i = (int) s_below((uint64_t) W.n);
    s_node *nd = &W.nodes[i];
    if (nd->up && s_chance(W.rates.crash))
        s_crash(nd);
    else if (!nd->up && s_chance(200000)) {
        if (s_start(i, 0) != RU_OK)
            s_fail("node %d cannot start again", i);
    } else if (s_chance(W.rates.lose))
        s_lose_store(nd);
    int j = (int) s_below((uint64_t) W.n);
    if (W.linked[i][j] && !W.cut[i][j] && s_chance(W.rates.cut)) {
        W.cut[i][j] = W.cut[j][i] = 1;
        W.counts.cuts++;
        s_trace("link %d-%d cut", i, j);
    } else if (W.cut[i][j] && s_chance(W.rates.heal)) {
        W.cut[i][j] = W.cut[j][i] = 0;
        s_trace("link %d-%d healed", i, j);
    }
}

/*  The second variant: an update of node o's key with its next seq,
 *  signed beside the node (which does not know of it), as a stolen key
 *  or a restored backup would. */
static ru_err
s_variant_b(const s_node *nd, ru_update_t *u, ru_buf_t *wire)
{
    ru_txn_t txn;
    ru_err err = ru_store_read(nd->node.store, &txn);
    if (err)
        return err;
    err = ru_apply_head(&txn, ru_key_public(nd->key), &u->seq, u->prev);
    ru_txn_abort(&txn);
    static char text[64];
    snprintf(text, sizeof text, "variant B of node %d's seq %llu", nd->id,
             (unsigned long long) u->seq + 1);
    memcpy(u->origin, ru_key_public(nd->key), RU_KEY_BYTES);
    u->seq++;
    u->hlc = ru_hlc_wall_ms() << RU_HLC_SHIFT;
    u->author = (ru_str_t){"eve", 3};
    u->kind = RU_KIND_POST;
    u->text = (ru_str_t){text, (uint32_t) strlen(text)};
    return err ? err : ru_update_encode(u, nd->key, wire);
}

/*  The equivocating origin: a node's key signs a second update with the
 *  node's next seq (variant B), which one of its peers alone receives,
 *  at once; then the node makes its own (variant A), which goes out as
 *  usual. Put off to the next step while no node fits. */
static void
s_equivocate(void)
{
    int o = s_pick_up(), peers[S_MAX_NODES], n = 0;
    for (int j = 0; o >= 0 && j < W.n; j++)
        if (j != o && W.linked[o][j] && !W.cut[o][j] && W.nodes[j].up)
            peers[n++] = j;
    if (o < 0 || W.nodes[o].recovering || !n) {
        W.fork.step++;
        return;
    }
    s_node *nd = &W.nodes[o], *to = &W.nodes[peers[s_below((uint64_t) n)]];
    ru_update_t u;
    ru_update_init(&u);
    ru_buf_t wire, buf;
    ru_buf_init(&wire);
    ru_buf_init(&buf);
    ru_msg_t msg;
    ru_msg_init(&msg);
    ru_err err = s_variant_b(nd, &u, &wire);
    if (!err)
        err = ru_msg_encode_update((ru_bytes_t){wire.data, wire.len}, &buf);
    if (!err)
        err = ru_msg_decode(buf.data, buf.len, &msg);
    if (err)
        s_fail("node %d's key cannot sign a second variant: %s", o, ru_err_str(err));
    else {
        W.fork = (s_fork){W.counts.steps, o, u.seq, to->id, -1, 0};
        W.counts.forks++;
        s_trace("node %d's key signs a second seq %llu, for node %d alone", o,
                (unsigned long long) u.seq, to->id);
        s_on_live(to, o, &msg);
        if (nd->up)
            s_post(nd);
    }
    ru_msg_fini(&msg);
    ru_buf_fini(&buf);
    ru_buf_fini(&wire);
    ru_update_fini(&u);
}

/*  ---------------------------------------------------------------------
 *  A run
 */

/*  One step: time moves on, what is due is delivered, timers fire, and
 *  maybe a post or a fault. */
static void
s_step(void)
{
    W.counts.steps++;
    W.now += 1 + s_below(20);
    s_msg m;
    while (!W.failure[0] && s_next_due(&m)) {
        s_deliver(&m);
        free(m.bytes);
    }
    for (int i = 0; i < W.n && !W.failure[0]; i++)
        if (W.nodes[i].up)
            s_timers(&W.nodes[i]);
    if (W.healing || W.failure[0])
        return;
    int i = s_pick_up();
    if (i >= 0 && s_chance(W.rates.post))
        s_post(&W.nodes[i]);
    s_faults();
    if (W.fork.origin < 0 && W.fork.step && W.counts.steps >= W.fork.step && !W.failure[0])
        s_equivocate();
}

/*  A seq of node i lost everywhere below one that some site holds: i's
 *  chain cannot go on under its key (only a new key lets the site post
 *  again), so it stays in recovery and its updates above the hole stay
 *  pending everywhere. Returns that seq, or 0 when there is none. */
static uint64_t
s_hole(int i)
{
    const s_node *nd = &W.nodes[i];
    uint64_t lost = 0;
    for (uint64_t seq = 1; seq < nd->n_made; seq++) {
        if (nd->made[seq].lost && !lost)
            lost = seq;
        else if (lost && nd->made[seq].made && !nd->made[seq].lost)
            return lost;
    }
    return 0;
}

/*  ---------------------------------------------------------------------
 *  The end state
 *
 *  Once healed, quiet is when nothing is in flight and every check below
 *  holds; the end checks them again, failing on the first that does not.
 *  Without a fork they come to: every node holds the same clock and state
 *  digest, nothing pending but updates above a hole, none recovering but
 *  a node with a hole, every acknowledged post present. With a fork, the
 *  split is allowed where PROTOCOL.md 16 makes it: the forked origin's
 *  updates from the fork seq on, and what waits for them.
 */

/*  Updates nobody will apply: those above a hole of their origin, the
 *  forked origin's from the fork seq on at a node that knows of the fork
 *  (fork_seq: what it knows, 0 if nothing), and once the fork is resolved
 *  keeping the second variant, the forked origin's past it (its site, dealt
 *  with, makes no more: the chain it made on its own variant is dropped). */
static int
s_never(const uint8_t *origin, uint64_t seq, uint64_t fork_seq)
{
    int o = s_node_of(origin);
    int forked = o == W.fork.origin &&
                 ((fork_seq && seq >= fork_seq) ||
                  (W.fork.resolver >= 0 && !W.fork.kept_a && seq > W.fork.seq));
    return o >= 0 && (forked || (s_hole(o) && seq > s_hole(o)));
}

#define S_MAX_DEPS (S_MAX_NODES + 3) /* its predecessor, its clock, a target, a group */

/*  An update that some node holds (applied or pending) and the node being
 *  looked at has not applied, with the dependencies it lacks there. */
typedef struct {
    uint8_t key[RU_DBKEY_REF];
    ru_ref_t lacks[S_MAX_DEPS];
    int n_lacks;
    int here;  /* pending at this node (else it is not held here at all) */
    int stuck; /* it will never apply here: never, or lacks only what is or is stuck */
} s_wait;

/*  What the checks read of one node's store. */
typedef struct {
    uint64_t seq[S_MAX_NODES]; /* its clock, by origin */
    uint8_t hash[S_MAX_NODES][RU_HASH_BYTES];
    uint8_t digest[RU_HASH_BYTES]; /* its state digest */
    uint64_t fork_seq;             /* of the equivocating origin; 0: not known */
    int quarantines_other;         /* some other origin, -1 if none */
    int holds_forked;              /* some update of the equivocating origin */
    s_wait *wait;                  /* in key order */
    size_t n_wait, cap_wait;
} s_view;

typedef struct {
    const s_view *v;
    s_wait *w;
} s_lack_scan;

/*  ru_apply_each_dep's callback: notes a dependency not applied at the
 *  node looked at. */
static int
s_lack(void *ctx, const uint8_t *origin, uint64_t seq)
{
    s_lack_scan *s = ctx;
    int o = s_node_of(origin);
    if (o >= 0 && s->v->seq[o] >= seq)
        return 0;
    if (s->w->n_lacks < S_MAX_DEPS) {
        memcpy(s->w->lacks[s->w->n_lacks].origin, origin, RU_KEY_BYTES);
        s->w->lacks[s->w->n_lacks++].seq = seq;
    }
    return 0;
}

/*  The update (origin, seq) among those v's node has not applied, NULL if
 *  no node holds it. */
static s_wait *
s_wait_of(const s_view *v, const uint8_t *origin, uint64_t seq)
{
    uint8_t key[RU_DBKEY_REF];
    ru_dbkey_ref(key, origin, seq);
    size_t lo = 0, hi = v->n_wait;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = memcmp(v->wait[mid].key, key, RU_DBKEY_REF);
        if (c == 0)
            return &v->wait[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/*  Is w stuck at v's node, as far as the marks of v->wait go? */
static int
s_stuck_now(const s_view *v, const s_wait *w)
{
    if (s_never(w->key, ru_dbkey_get64(w->key + RU_KEY_BYTES), v->fork_seq))
        return 1;
    for (int k = 0; k < w->n_lacks; k++) {
        const s_wait *q = s_wait_of(v, w->lacks[k].origin, w->lacks[k].seq);
        if (!s_never(w->lacks[k].origin, w->lacks[k].seq, v->fork_seq) && !(q && q->stuck))
            return 0;
    }
    return w->n_lacks > 0;
}

/*  Adds to v the updates in db of txn that v's node has not applied. */
static int
s_add_waits(s_view *v, ru_txn_t *txn, ru_db db, int here)
{
    MDB_cursor *c;
    if (mdb_cursor_open(txn->txn, ru_store_dbi(txn->store, db), &c) != 0)
        return 0;
    int ok = 1;
    for (int o = 0; o < W.n && ok; o++) {
        const uint8_t *origin = ru_key_public(W.nodes[o].key);
        uint8_t from[RU_DBKEY_REF];
        MDB_val k = {ru_dbkey_ref(from, origin, v->seq[o] + 1), from}, val;
        for (int rc = mdb_cursor_get(c, &k, &val, MDB_SET_RANGE);
             rc == 0 && memcmp(k.mv_data, origin, RU_KEY_BYTES) == 0 && ok;
             rc = mdb_cursor_get(c, &k, &val, MDB_NEXT)) {
            if (v->n_wait == v->cap_wait) {
                size_t cap = v->cap_wait ? 2 * v->cap_wait : 64;
                s_wait *w = realloc(v->wait, cap * sizeof *w);
                if (!(ok = w != NULL))
                    break;
                v->wait = w;
                v->cap_wait = cap;
            }
            s_wait *w = &v->wait[v->n_wait++];
            memset(w, 0, sizeof *w);
            memcpy(w->key, k.mv_data, RU_DBKEY_REF);
            w->here = here;
            ru_envelope_t env;
            ru_update_t u;
            ru_update_init(&u);
            s_lack_scan scan = {v, w};
            if (ru_envelope_parse(val.mv_data, val.mv_size, &env) == RU_OK &&
                ru_update_decode(&env, &u) == RU_OK)
                ru_apply_each_dep(&u, s_lack, &scan);
            ru_update_fini(&u);
        }
    }
    mdb_cursor_close(c);
    return ok;
}

static int
s_wait_cmp(const void *a, const void *b)
{
    const s_wait *x = a, *y = b;
    int c = memcmp(x->key, y->key, RU_DBKEY_REF);
    return c ? c : y->here - x->here; /* the one pending here first */
}

/*  Collects what node i has not applied that any node holds, applied or
 *  pending (once each; for the forked origin, the variant pending here if
 *  any), and marks what is stuck at i: passes in key order until none
 *  changes (an origin's chain is marked in one pass; a wait across
 *  origins may take another). */
static int
s_read_waits(int i, s_view *v)
{
    int ok = 1;
    for (int j = 0; j < W.n && ok; j++) {
        ru_txn_t txn;
        ok = ru_store_read(W.nodes[j].node.store, &txn) == RU_OK;
        if (!ok)
            break;
        ok = s_add_waits(v, &txn, RU_DB_log, 0) && s_add_waits(v, &txn, RU_DB_pending, j == i);
        ru_txn_abort(&txn);
    }
    if (v->n_wait)
        qsort(v->wait, v->n_wait, sizeof *v->wait, s_wait_cmp);
    size_t n = 0;
    for (size_t k = 0; k < v->n_wait; k++)
        if (!n || memcmp(v->wait[n - 1].key, v->wait[k].key, RU_DBKEY_REF) != 0)
            v->wait[n++] = v->wait[k];
    v->n_wait = n;
    for (int changed = 1; changed && ok;) {
        changed = 0;
        for (size_t k = 0; k < v->n_wait; k++)
            if (!v->wait[k].stuck && s_stuck_now(v, &v->wait[k]))
                changed = v->wait[k].stuck = 1;
    }
    return ok;
}

/*  Reads node i's store, and what the others hold that it has not
 *  applied, into v; 0 if it cannot. */
static int
s_read_view(int i, s_view *v)
{
    memset(v, 0, sizeof *v);
    v->quarantines_other = -1;
    ru_txn_t txn;
    if (ru_store_read(W.nodes[i].node.store, &txn) != RU_OK)
        return 0;
    int ok = ru_txn_digest(&txn, v->digest) == RU_OK;
    for (int o = 0; o < W.n && ok; o++) {
        const uint8_t *origin = ru_key_public(W.nodes[o].key);
        uint64_t f;
        ok = ru_apply_head(&txn, origin, &v->seq[o], v->hash[o]) == RU_OK &&
             ru_fork_quarantine(&txn, origin, &f) == RU_OK;
        if (o == W.fork.origin)
            v->fork_seq = f;
        else if (f)
            v->quarantines_other = o;
    }
    ru_txn_abort(&txn);
    ok = ok && s_read_waits(i, v);
    if (W.fork.origin >= 0) {
        const uint8_t *forked = ru_key_public(W.nodes[W.fork.origin].key);
        v->holds_forked = v->seq[W.fork.origin] > 0;
        for (size_t k = 0; k < v->n_wait && !v->holds_forked; k++)
            v->holds_forked = v->wait[k].here && memcmp(v->wait[k].key, forked, RU_KEY_BYTES) == 0;
    }
    return ok;
}

/*  Records a broken check as the run's failure when report is set. */
static int s_broken(int report, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
s_broken(int report, const char *fmt, ...)
{
    if (report && !W.failure[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(W.failure, sizeof W.failure, fmt, ap);
        va_end(ap);
        s_trace("FAIL: %s", W.failure);
    }
    return 0;
}

/*  Node i may stay in recovery: a hole in its log, or an update of its own
 *  that is stuck at it (ru_apply_end_recovery waits for its own pending
 *  ones: the forked origin's own held updates, or an update of its own
 *  that came back built on them). */
static int
s_may_recover(int i, const s_view *v)
{
    const uint8_t *self = ru_key_public(W.nodes[i].key);
    for (size_t k = 0; k < v->n_wait; k++)
        if (v->wait[k].here && v->wait[k].stuck && memcmp(v->wait[k].key, self, RU_KEY_BYTES) == 0)
            return 1;
    return s_hole(i) != 0;
}

/*  The fork is known where it must be, and nothing else is quarantined:
 *  every node that holds an update of the forked origin or knows of the
 *  fork quarantines it at the seq its key signed twice. */
static int
s_check_forks(const s_view *v, int known, int report)
{
    for (int i = 0; i < W.n; i++) {
        if (v[i].quarantines_other >= 0)
            return s_broken(report, "node %d quarantines node %d, which never forked", i,
                            v[i].quarantines_other);
        if (W.fork.resolver >= 0 && v[i].fork_seq)
            return s_broken(report, "node %d still quarantines node %d after node %d resolved "
                                    "its fork", i, W.fork.origin, W.fork.resolver);
        if (known && (v[i].holds_forked || v[i].fork_seq) && v[i].fork_seq != W.fork.seq)
            return s_broken(report,
                            "node %d holds updates of node %d, forked at seq %llu, and "
                            "quarantines it from seq %llu",
                            i, W.fork.origin, (unsigned long long) W.fork.seq,
                            (unsigned long long) v[i].fork_seq);
    }
    return 1;
}

/*  Every origin's clock entry is the same everywhere (but the forked
 *  origin's), except at a node whose next update of that origin is stuck
 *  there; equal entries have equal hashes; nodes with the same heads of
 *  every origin have the same state digest. */
static int
s_check_clocks(const s_view *v, int known, int report)
{
    for (int o = 0; o < W.n; o++) {
        if (known && o == W.fork.origin)
            continue;
        const uint8_t *origin = ru_key_public(W.nodes[o].key);
        int top = 0;
        for (int i = 1; i < W.n; i++)
            top = v[i].seq[o] > v[top].seq[o] ? i : top;
        for (int i = 0; i < W.n; i++) {
            const s_wait *next = s_wait_of(&v[i], origin, v[i].seq[o] + 1);
            if (v[i].seq[o] < v[top].seq[o] && !(next && next->stuck))
                return s_broken(report, "node %d has node %d up to seq %llu, node %d up to %llu", i,
                                o, (unsigned long long) v[i].seq[o], top,
                                (unsigned long long) v[top].seq[o]);
            if (v[i].seq[o] == v[top].seq[o] && memcmp(v[i].hash[o], v[top].hash[o], 32) != 0)
                return s_broken(report, "nodes %d and %d hold different heads of node %d", i, top,
                                o);
        }
    }
    for (int i = 0; i < W.n; i++)
        for (int j = 0; j < i; j++)
            if (memcmp(v[i].seq, v[j].seq, sizeof v[i].seq) == 0 &&
                memcmp(v[i].hash, v[j].hash, sizeof v[i].hash) == 0 &&
                memcmp(v[i].digest, v[j].digest, sizeof v[i].digest) != 0)
                return s_broken(report,
                                "nodes %d and %d hold the same updates and different "
                                "state digests",
                                i, j);
    return 1;
}

/*  Node i holds every acknowledged post (but those lost with a store
 *  before anyone else held them, those above a hole, the forked origin's
 *  from its fork seq on while it is quarantined, or for good once the
 *  resolution kept the other variant), applied with the payload made, or
 *  stuck. */
static int
s_check_acked(int i, const s_view *v, int report)
{
    ru_txn_t txn;
    if (ru_store_read(W.nodes[i].node.store, &txn) != RU_OK)
        return s_broken(report, "node %d: cannot read its store", i);
    int ok = 1;
    for (int o = 0; o < W.n && ok; o++)
        for (uint64_t seq = 1; seq < W.nodes[o].n_made && ok; seq++) {
            const s_made *m = &W.nodes[o].made[seq];
            const uint8_t *origin = ru_key_public(W.nodes[o].key);
            uint8_t key[RU_DBKEY_REF], hash[32];
            MDB_val val;
            const s_wait *w = s_wait_of(v, origin, seq);
            int dropped = o == W.fork.origin && W.fork.resolver >= 0 && !W.fork.kept_a &&
                          seq >= W.fork.seq; /* the resolution kept the other variant */
            if (!m->acked || m->lost || dropped || s_never(origin, seq, v->fork_seq) ||
                (w && w->stuck))
                continue;
            size_t klen = ru_dbkey_ref(key, origin, seq);
            if (ru_txn_get(&txn, RU_DB_log, key, klen, &val) != RU_OK)
                ok = s_broken(report, "node %d lacks the acknowledged post %d:%llu", i, o,
                              (unsigned long long) seq);
            else {
                crypto_generichash(hash, sizeof hash, val.mv_data, val.mv_size, NULL, 0);
                if (memcmp(hash, m->hash, sizeof hash) != 0)
                    ok = s_broken(report,
                                  "node %d holds another payload for the acknowledged post "
                                  "%d:%llu",
                                  i, o, (unsigned long long) seq);
            }
        }
    ru_txn_abort(&txn);
    return ok;
}

/*  Node i holds nothing pending but what is stuck, and is not in
 *  recovery unless it may be. */
static int
s_check_node(int i, const s_view *v, int report)
{
    for (size_t k = 0; k < v->n_wait; k++)
        if (v->wait[k].here && !v->wait[k].stuck)
            return s_broken(report, "node %d still holds the pending update %d:%llu", i,
                            s_node_of(v->wait[k].key),
                            (unsigned long long) ru_dbkey_get64(v->wait[k].key + RU_KEY_BYTES));
    if (W.nodes[i].recovering && !s_may_recover(i, v))
        return s_broken(report, "node %d is still recovering", i);
    return s_check_acked(i, v, report);
}

/*  1 when every check of the end holds; with report, the first that does
 *  not is the run's failure. */
static int
s_check_state(int report)
{
    s_view v[S_MAX_NODES];
    int ok = 1, known = 0, n = 0;
    for (; n < W.n && ok; n++)
        ok = s_read_view(n, &v[n]) || s_broken(report, "node %d: cannot read its store", n);
    for (int i = 0; i < n; i++)
        known |= v[i].fork_seq != 0;
    ok = ok && s_check_forks(v, known, report) && s_check_clocks(v, known, report);
    for (int i = 0; i < n && ok; i++)
        ok = s_check_node(i, &v[i], report);
    for (int i = 0; i < n; i++)
        free(v[i].wait);
    return ok;
}

/*  Where the fork ended: how many nodes know of it, and what is stuck. */
static void
s_fork_summary(void)
{
    int known = 0;
    size_t stuck = 0;
    for (int i = 0; i < W.n; i++) {
        s_view v;
        if (s_read_view(i, &v)) {
            known += v.fork_seq != 0;
            for (size_t k = 0; k < v.n_wait; k++)
                stuck += v.wait[k].here && v.wait[k].stuck;
        }
        free(v.wait);
    }
    printf("seed %llu: node %d's key signed two seq %llu at step %lu, the second for node %d "
           "alone; %s; %d of %d nodes quarantine it, %zu updates held or waiting on it\n",
           (unsigned long long) W.seed, W.fork.origin, (unsigned long long) W.fork.seq, W.fork.step,
           W.fork.to,
           W.fork.resolver < 0 ? "not resolved: no node but the origin knows of it"
           : W.fork.kept_a    ? "resolved keeping the origin's own variant"
                              : "resolved keeping the second variant",
           known, W.n, stuck);
}

/*  Nothing in flight, and the end's checks hold. */
static int
s_quiet(void)
{
    return W.n_queue == 0 && s_check_state(0);
}

/*  Half the runs have an equivocating origin, at a step in the first half
 *  of the run; drawn from the seed apart from the other faults, so that a
 *  run with --no fork has the same ones. */
static unsigned long
s_fork_step(uint64_t seed, unsigned long steps)
{
    uint64_t z = (seed + 1) * 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 31)) * 0xbf58476d1ce4e5b9ull;
    z ^= z >> 29;
    if ((W.without & S_NO_FORK) || z % 2 == 0 || steps < 4)
        return 0;
    return 1 + (unsigned long) ((z >> 8) % (steps / 2));
}

/*  Node i's site directory: itself ("n<i>") and every other node as a
 *  peer, so that each trusts every origin of the run. */
static ru_err
s_sites(int i)
{
    ru_peer_cfg_t peers[S_MAX_NODES];
    int n = 0;
    for (int j = 0; j < W.n; j++)
        if (j != i) {
            memset(&peers[n], 0, sizeof peers[n]);
            snprintf(peers[n].site, sizeof peers[n].site, "n%d", j);
            memcpy(peers[n++].key, ru_key_public(W.nodes[j].key), RU_KEY_BYTES);
        }
    char site[16];
    snprintf(site, sizeof site, "n%d", i);
    return ru_sites_new(site, ru_key_public(W.nodes[i].key), peers, n, &W.nodes[i].node.sites);
}

static void
s_setup(uint64_t seed, unsigned long steps)
{
    memset(&W.nodes, 0, sizeof W.nodes);
    memset(W.linked, 0, sizeof W.linked);
    memset(W.cut, 0, sizeof W.cut);
    memset(W.fifo, 0, sizeof W.fifo);
    memset(&W.counts, 0, sizeof W.counts);
    W.failure[0] = 0;
    W.healing = 0;
    W.n_queue = 0;
    W.fork = (s_fork){s_fork_step(seed, steps), -1, 0, -1, -1, 0};
    W.order = 0;
    W.seed = seed;
    s_rng = seed;
    W.now = S_START_MS;
    W.n = 3 + (int) s_below(3);
    for (int i = 1; i < W.n; i++) { /* connected: a tree, then some more links */
        int j = (int) s_below((uint64_t) i);
        W.linked[i][j] = W.linked[j][i] = 1;
    }
    for (int i = 0; i < W.n; i++)
        for (int j = i + 1; j < W.n; j++)
            if (s_chance(300000))
                W.linked[i][j] = W.linked[j][i] = 1;
    W.rates = (s_rates){.drop = (uint32_t) s_below(50000),
                        .dup = (uint32_t) s_below(20000),
                        .crash = (uint32_t) s_below(4000),
                        .crash_mid = (uint32_t) s_below(20000),
                        .lose = (uint32_t) s_below(1000),
                        .cut = (uint32_t) s_below(5000),
                        .heal = 20000 + (uint32_t) s_below(50000),
                        .fail = (uint32_t) s_below(30000),
                        .post = 100000 + (uint32_t) s_below(300000)};
    uint32_t *off[] = {&W.rates.drop, &W.rates.dup,  &W.rates.crash,
                       &W.rates.lose, &W.rates.cut, &W.rates.fail};
    for (size_t k = 0; k < sizeof off / sizeof off[0]; k++)
        if (W.without & 1u << k)
            *off[k] = 0;
    if (W.without & 1u << 2)
        W.rates.crash_mid = 0;
    for (int i = 0; i < W.n; i++) {
        s_node *nd = &W.nodes[i];
        uint8_t key_seed[32];
        for (int k = 0; k < 32; k++)
            key_seed[k] = (uint8_t) s_rand();
        nd->id = i;
        if (ru_key_from_seed(key_seed, &nd->key) != RU_OK ||
            testdir_make(nd->dir, sizeof nd->dir) != 0) {
            s_fail("cannot make node %d", i);
            return;
        }
        ru_config_defaults(&nd->node.cfg);
        /* far below the setting's floor: catch-ups often stop their walk
           of the pending updates and go on at the next step */
        nd->node.cfg.pending_walk = 1 + (long) (seed % 8);
        nd->node.key = nd->key;
        for (int j = 0; j < W.n; j++)
            ru_clock_init(&nd->live[j]);
        snprintf(nd->endpoint, sizeof nd->endpoint, "inproc://sim-publish-%llu-%d",
                 (unsigned long long) seed, i);
        nd->pull = zsock_new_pull(nd->endpoint);
        if (!nd->pull) {
            s_fail("cannot bind %s", nd->endpoint);
            return;
        }
        zsock_set_rcvtimeo(nd->pull, 10000);
        zsock_set_rcvhwm(nd->pull, 0);
    }
    for (int i = 0; i < W.n && !W.failure[0]; i++)
        if (s_sites(i) != RU_OK || s_start(i, 0) != RU_OK)
            s_fail("node %d cannot start", i);
}

static void
s_teardown(void)
{
    for (int i = 0; i < W.n; i++) {
        s_node *nd = &W.nodes[i];
        if (nd->up)
            s_stop(nd);
        for (int j = 0; j < W.n; j++)
            ru_clock_fini(&nd->live[j]);
        zsock_destroy(&nd->pull);
        ru_sites_destroy(&nd->node.sites);
        ru_key_destroy(&nd->key);
        testdir_remove(nd->dir);
        free(nd->made);
    }
    for (size_t k = 0; k < W.n_queue; k++)
        free(W.queue[k].bytes);
    W.n_queue = 0;
}

/*  The index of a fault kind's name, -1 if none. */
static int
s_fault(const char *name)
{
    for (size_t k = 0; k < sizeof s_fault_names / sizeof s_fault_names[0]; k++)
        if (strcmp(name, s_fault_names[k]) == 0)
            return (int) k;
    return -1;
}

/*  The command that replays this run. */
static void
s_replay(uint64_t seed, unsigned long steps)
{
    printf("replay: sim --seed %llu --steps %lu", (unsigned long long) seed, steps);
    for (size_t k = 0; k < sizeof s_fault_names / sizeof s_fault_names[0]; k++)
        if (W.without & 1u << k)
            printf(" --no %s", s_fault_names[k]);
    printf(" --verbose\n");
}

typedef struct {
    const uint8_t *origin;
    ru_fork_t fork;
    ru_update_t u;
    ru_buf_t out;
} s_resolve;

/*  The store actor's request of `ruche admin resolve-fork`. */
static ru_err
s_resolve_request(const ru_writer_ctx_t *ctx, void *arg)
{
    s_resolve *r = arg;
    ru_buf_reset(&r->out);
    return ru_apply_resolve(ctx->apply, ctx->key, r->origin, "admin", &r->fork, &r->u, &r->out);
}

/*  Does node i hold applied, at the fork seq, the update the forked
 *  origin made itself (variant A)? */
static int
s_holds_variant_a(int i)
{
    const s_made *m = s_made_at(W.fork.origin, W.fork.seq);
    uint8_t key[RU_DBKEY_REF], hash[32];
    MDB_val val;
    ru_txn_t txn;
    int holds = 0;
    if (!m || !m->made || ru_store_read(W.nodes[i].node.store, &txn) != RU_OK)
        return 0;
    size_t klen = ru_dbkey_ref(key, ru_key_public(W.nodes[W.fork.origin].key), W.fork.seq);
    if (ru_txn_get(&txn, RU_DB_log, key, klen, &val) == RU_OK) {
        crypto_generichash(hash, sizeof hash, val.mv_data, val.mv_size, NULL, 0);
        holds = memcmp(hash, m->hash, sizeof hash) == 0;
    }
    ru_txn_abort(&txn);
    return holds;
}

/*  Once the run is quiet with a fork known, an operator deals with the
 *  forked site (it makes no more updates: the run posts no more) and
 *  resolves the fork at the first other node that knows of it, through
 *  the code of `ruche admin resolve-fork`, preferring one that holds the
 *  variant the origin made itself (the one it built on); the RESOLVE goes
 *  out as any update. 1 when it was made. */
static int
s_resolve_fork(void)
{
    for (int k = 0; k < 2 * W.n; k++) {
        int i = k % W.n, a = s_holds_variant_a(i);
        s_node *nd = &W.nodes[i];
        if (i == W.fork.origin || !nd->up || nd->recovering || (k < W.n && !a))
            continue;
        s_resolve r;
        memset(&r, 0, sizeof r);
        r.origin = ru_key_public(W.nodes[W.fork.origin].key);
        ru_update_init(&r.u);
        ru_buf_init(&r.out);
        ru_err err = ru_writer_call(nd->node.writer, s_resolve_request, &r);
        if (!err)
            s_made_update(i, r.u.seq, r.out.data, r.out.len, 1);
        ru_buf_fini(&r.out);
        ru_update_fini(&r.u);
        if (err == RU_E_NOT_FOUND)
            continue; /* it holds variant A and never heard of B */
        if (err) {
            s_fail("node %d cannot resolve node %d's fork: %s", i, W.fork.origin,
                   ru_err_str(err));
            return 0;
        }
        W.fork.resolver = i;
        W.fork.kept_a = a;
        s_trace("node %d resolves node %d's fork, keeping the variant %s", i, W.fork.origin,
                a ? "the origin built on" : "it sent one node");
        s_after_commit(nd);
        return 1;
    }
    return 0;
}

/*  Steps until quiet, at most S_HEAL_MS; 1 when quiet. */
static int
s_until_quiet(void)
{
    uint64_t deadline = W.now + S_HEAL_MS;
    int quiet = 0;
    while (!W.failure[0] && W.now < deadline && !quiet) {
        s_step();
        quiet = W.now % 1000 < 20 && s_quiet();
    }
    return quiet;
}

/*  Runs one seed; 0 when every invariant held. */
static int
s_run(uint64_t seed, unsigned long steps)
{
    s_setup(seed, steps);
    s_trace("seed %llu: %d nodes", (unsigned long long) seed, W.n);
    for (unsigned long k = 0; k < steps && !W.failure[0]; k++)
        s_step();
    W.healing = 1;
    memset(W.cut, 0, sizeof W.cut);
    for (int i = 0; i < W.n && !W.failure[0]; i++)
        if (!W.nodes[i].up && s_start(i, 0) != RU_OK)
            s_fail("node %d cannot start for the end", i);
    uint64_t healed = W.now;
    int quiet = s_until_quiet();
    if (!W.failure[0] && s_check_state(1) && !quiet)
        s_fail("not quiet %llu s after healing: %zu messages in flight",
               (unsigned long long) (W.now - healed) / 1000, W.n_queue);
    if (!W.failure[0] && W.fork.origin >= 0 && s_resolve_fork()) {
        uint64_t resolved = W.now;
        quiet = s_until_quiet();
        if (!W.failure[0] && s_check_state(1) && !quiet)
            s_fail("not quiet %llu s after the resolution: %zu messages in flight",
                   (unsigned long long) (W.now - resolved) / 1000, W.n_queue);
    }
    unsigned long faults = W.counts.dropped + W.counts.duplicated + W.counts.crashes +
                           W.counts.losses + W.counts.cuts + W.counts.failed + W.counts.forks;
    printf("seed %llu: %d nodes, %lu steps, %lu messages, %lu posts acknowledged, faults: "
           "%lu dropped, %lu doubled, %lu crashes (%lu between commit and publish), %lu "
           "stores lost, %lu links cut, %lu requests failed, %lu forks (%lu in all): %s\n",
           (unsigned long long) seed, W.n, W.counts.steps, W.counts.delivered, W.counts.acked,
           W.counts.dropped, W.counts.duplicated, W.counts.crashes, W.counts.crashes_mid,
           W.counts.losses, W.counts.cuts, W.counts.failed, W.counts.forks, faults,
           W.failure[0] ? W.failure : "ok");
    if (W.fork.origin >= 0)
        s_fork_summary();
    for (int i = 0; i < W.n; i++)
        if (s_hole(i))
            printf("seed %llu: node %d lost seq %llu with its store while later ones were "
                   "held elsewhere: it stays in recovery until it gets a new key\n",
                   (unsigned long long) seed, i, (unsigned long long) s_hole(i));
    int failed = W.failure[0] != 0;
    if (failed)
        s_replay(seed, steps);
    s_teardown();
    return failed;
}

int
main(int argc, char **argv)
{
    uint64_t seed = 1;
    unsigned long seeds = 1, steps = 3000;
    for (int k = 1; k < argc; k++) {
        if (strcmp(argv[k], "--seed") == 0 && k + 1 < argc)
            seed = strtoull(argv[++k], NULL, 10);
        else if (strcmp(argv[k], "--seeds") == 0 && k + 1 < argc)
            seeds = strtoul(argv[++k], NULL, 10);
        else if (strcmp(argv[k], "--steps") == 0 && k + 1 < argc)
            steps = strtoul(argv[++k], NULL, 10);
        else if (strcmp(argv[k], "--verbose") == 0)
            W.verbose = 1;
        else if (strcmp(argv[k], "--no") == 0 && k + 1 < argc && s_fault(argv[++k]) >= 0)
            W.without |= 1u << s_fault(argv[k]);
        else {
            fprintf(stderr, "usage: sim [--seed N] [--seeds COUNT] [--steps N] [--no FAULT]... "
                            "[--verbose]\nFAULT: drop, dup, crash, lose, cut, fail, fork\n");
            return 2;
        }
    }
    if (sodium_init() < 0)
        return 1;
    ru_hlc_use_clock(s_clock);
    int failed = 0;
    for (unsigned long k = 0; k < seeds; k++)
        failed += s_run(seed + k, steps);
    printf("%lu seeds from %llu, %d failed\n", seeds, (unsigned long long) seed, failed);
    free(W.queue);
    return failed ? 1 : 0;
}
