/*  ru_peer.c - one peer of the replication actor (see ru_peer.h).
 *
 *  Every socket runs CURVE with the keys derived from the node keys: ours
 *  as the client's, the peer's as the server's. Its queues are bounded in
 *  bytes: the high-water marks are [replication] queue_mb divided by the
 *  largest message the socket carries (ru_peer_hwm; deploy/README.md gives
 *  the figures), so that a SUB holds a bounded number of updates and a
 *  DEALER a handful of 4 MiB batches, which our credit stays within.
 */
#include "ru_peer.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ruche/ru_hlc.h"

#include "ru_apply.h"
#include "ru_log.h"

#define S_CREDIT 4          /* batches granted by a hello */
#define S_FULL_LOG_MS 60000 /* pending_full refusals: a line a minute per peer */

ru_peer_t *
ru_peer_new(const ru_peer_ctx_t *ctx, uint32_t id, const ru_peer_cfg_t *cfg)
{
    ru_peer_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->ctx = ctx;
    p->id = id;
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

void
ru_peer_destroy(ru_peer_t **self_p)
{
    ru_peer_t *p = *self_p;
    if (!p)
        return;
    zsock_destroy(&p->sub);
    zsock_destroy(&p->dealer);
    ru_clock_fini(&p->clock);
    ru_clock_fini(&p->live);
    free(p);
    *self_p = NULL;
}

int
ru_peer_direct(const ru_peer_t *self)
{
    return self->cfg.pub[0] != '\0';
}

int
ru_peer_same(const ru_peer_t *p, const ru_peer_cfg_t *cfg)
{
    return memcmp(p->cfg.key, cfg->key, RU_KEY_BYTES) == 0 && strcmp(p->cfg.pub, cfg->pub) == 0 &&
           strcmp(p->cfg.sync, cfg->sync) == 0 && strcmp(p->cfg.site, cfg->site) == 0;
}

/*  Is p among the peers of cfg? */
static int
s_configured(const ru_peer_t *p, const ru_config_t *cfg)
{
    for (int j = 0; j < cfg->n_peers; j++)
        if (ru_peer_same(p, &cfg->peers[j]))
            return 1;
    return 0;
}

int
ru_peer_prune(ru_peer_t **peers, int *n, const ru_config_t *cfg)
{
    int removed = 0;
    for (int i = 0; i < *n;) {
        if (s_configured(peers[i], cfg)) {
            i++;
            continue;
        }
        ru_peer_t *gone = peers[i];
        pthread_mutex_lock(gone->ctx->lock);
        peers[i] = peers[--*n];
        pthread_mutex_unlock(gone->ctx->lock);
        ru_peer_disconnect(gone);
        ru_log_info("repl", "[peer %s] removed", gone->cfg.site);
        ru_peer_destroy(&gone);
        removed = 1;
    }
    return removed;
}

ru_peer_t *
ru_peer_by_id(ru_peer_t *const *peers, int n, uint32_t id)
{
    for (int i = 0; i < n; i++)
        if (peers[i]->id == id)
            return peers[i];
    return NULL;
}

ru_peer_t *
ru_peer_of_frame(ru_peer_t *const *peers, int n, zframe_t *f)
{
    const char *site = f ? zframe_meta(f, "User-Id") : NULL;
    for (int i = 0; site && i < n; i++)
        if (strcmp(peers[i]->cfg.site, site) == 0)
            return peers[i];
    return NULL;
}

/*  ---------------------------------------------------------------------
 *  Logs and link events
 */

int
ru_peer_may_log(ru_ratelimit_t *logs, const char *kind, const char *who)
{
    char key[RU_MAX_NAME + 128];
    int n = snprintf(key, sizeof key, "%s %s", kind, who);
    size_t len = n < 0 ? 0 : (size_t) n < sizeof key ? (size_t) n : sizeof key - 1;
    uint64_t now = ru_ratelimit_now_ms();
    if (!logs || ru_ratelimit_wait(logs, key, len, now) > 0)
        return 0;
    ru_ratelimit_fail(logs, key, len, now);
    return 1;
}

void
ru_peer_link_event(ru_peer_t *p, ru_link_event what, const char *fmt, ...)
{
    pthread_mutex_lock(p->ctx->lock);
    p->link[what]++;
    uint64_t n = p->link[what];
    pthread_mutex_unlock(p->ctx->lock);
    if (!ru_peer_may_log(p->ctx->logs, ru_replstat_link_name(what), p->cfg.site))
        return;
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    ru_log_warn("repl", "[peer %s]: %s (%s: %llu so far; one line a minute)", p->cfg.site, why,
                ru_replstat_link_name(what), (unsigned long long) n);
}

void
ru_peer_reject(ru_peer_t *p, ru_err err)
{
    ru_reject why = ru_verify_reason(err);
    pthread_mutex_lock(p->ctx->lock);
    p->rejected[why]++;
    pthread_mutex_unlock(p->ctx->lock);
    ru_log_warn("repl", "[peer %s]: refused a message: %s (%s)", p->cfg.site, ru_err_str(err),
                ru_verify_reason_name(why));
}

/*  ---------------------------------------------------------------------
 *  Sockets
 */

int
ru_peer_hwm(const ru_peer_ctx_t *ctx, uint64_t largest)
{
    uint64_t n = ((uint64_t) ctx->cfg->queue_mb << 20) / largest;
    return n < 1 ? 1 : n > INT_MAX ? INT_MAX : (int) n;
}

void
ru_peer_limits(const ru_peer_ctx_t *ctx, zsock_t *sock, uint64_t send, uint64_t read)
{
    zsock_set_sndhwm(sock, ru_peer_hwm(ctx, send));
    zsock_set_rcvhwm(sock, ru_peer_hwm(ctx, read));
    zsock_set_maxmsgsize(sock, (int) read); /* an S_READ_ size, far below INT_MAX */
}

int
ru_peer_send(zsock_t *sock, const ru_buf_t *buf)
{
    if (!sock)
        return -1;
    return zmq_send(zsock_resolve(sock), buf->data, buf->len, ZMQ_DONTWAIT) < 0 ? -1 : 0;
}

/*  A SUB on p's PUB, or a DEALER to its ROUTER, connected and polled (a
 *  SUB only when live); NULL (logged) when it cannot be made. */
static zsock_t *
s_socket(ru_peer_t *p, int type, int live)
{
    zsock_t *sock = zsock_new(type);
    const char *endpoint = type == ZMQ_SUB ? p->cfg.pub : p->cfg.sync;
    if (!sock)
        return NULL;
    zsock_set_curve_serverkey_bin(sock, p->curve);
    zsock_set_curve_publickey_bin(sock, p->ctx->curve_pub);
    zsock_set_curve_secretkey_bin(sock, p->ctx->curve_sec);
    if (type == ZMQ_SUB) {
        ru_peer_limits(p->ctx, sock, RU_PEER_MAX_LIVE, RU_PEER_READ_LIVE);
        zsock_set_subscribe(sock, "");
    } else
        ru_peer_limits(p->ctx, sock, RU_PEER_MAX_LIVE, RU_PEER_READ_SYNC); /* hellos, credit */
    zsock_set_reconnect_ivl(sock, 100);
    zsock_set_reconnect_ivl_max(sock, 5000);
    if (zsock_connect(sock, "%s", endpoint) < 0) {
        ru_log_err("repl", "[peer %s]: cannot connect to %s", p->cfg.site, endpoint);
        zsock_destroy(&sock);
        return NULL;
    }
    if (type != ZMQ_SUB || live)
        zpoller_add(p->ctx->poller, sock);
    return sock;
}

ru_err
ru_peer_connect(ru_peer_t *p, int live_paused)
{
    if (!ru_peer_direct(p))
        return RU_OK;
    p->sub = s_socket(p, ZMQ_SUB, !live_paused);
    p->dealer = s_socket(p, ZMQ_DEALER, 1);
    if (p->sub && p->dealer)
        return RU_OK;
    ru_peer_disconnect(p);
    return RU_E_INVALID;
}

/*  Closes p's DEALER, and with it our catch-up there: whatever it was
 *  still sending goes nowhere. */
static void
s_close_dealer(ru_peer_t *p)
{
    if (p->dealer)
        zpoller_remove(p->ctx->poller, p->dealer);
    zsock_destroy(&p->dealer);
    p->syncing = 0;
    p->credit = 0;
}

void
ru_peer_disconnect(ru_peer_t *p)
{
    if (p->sub)
        zpoller_remove(p->ctx->poller, p->sub);
    zsock_destroy(&p->sub);
    s_close_dealer(p);
}

void
ru_peer_poll_live(ru_peer_t *p, int in)
{
    if (p->sub && in)
        zpoller_add(p->ctx->poller, p->sub);
    else if (p->sub)
        zpoller_remove(p->ctx->poller, p->sub);
}

/*  ---------------------------------------------------------------------
 *  Our catch-up with it
 */

/*  Sends msg on p's DEALER (a hello or credit); a send that fails is
 *  counted: the catch-up will stall and be asked again. */
static int
s_to_answerer(ru_peer_t *p, const ru_buf_t *msg)
{
    if (ru_peer_send(p->dealer, msg) == 0)
        return 0;
    ru_peer_link_event(p, RU_LINK_DROPPED, "a catch-up message to it was dropped: %s",
                       zmq_strerror(zmq_errno()));
    return -1;
}

/*  Until done the catch-up is on (syncing); a hello that could not be
 *  sent too, so that it is asked again after sync_timeout_ms. */
void
ru_peer_hello(ru_peer_t *p)
{
    ru_clock_t clock;
    ru_clock_init(&clock);
    ru_buf_t buf;
    ru_buf_init(&buf);
    if (ru_apply_state(p->ctx->store, &clock, NULL) == RU_OK &&
        ru_msg_encode_hello(&clock, S_CREDIT, &buf) == RU_OK) {
        (void) s_to_answerer(p, &buf);
        p->syncing = 1;
        p->session++;
        p->credit = S_CREDIT;
        p->sync_ms = zclock_mono();
        pthread_mutex_lock(p->ctx->lock);
        p->syncs_asked++;
        pthread_mutex_unlock(p->ctx->lock);
    }
    ru_buf_fini(&buf);
    ru_clock_fini(&clock);
}

void
ru_peer_gap_hello(ru_peer_t *p)
{
    pthread_mutex_lock(p->ctx->lock);
    p->link[RU_LINK_GAPS]++;
    pthread_mutex_unlock(p->ctx->lock);
    ru_log_info("repl", "[peer %s]: a gap in the live stream: asking for a catch-up", p->cfg.site);
    ru_peer_hello(p);
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

/*  A peer publishes each origin's updates in seq order: a jump in one
 *  origin's seqs on its live stream means the PUB dropped some (a full
 *  high-water mark), and a catch-up fetches them. Updates that merely
 *  finish verification out of order are no gap. A gap seen while our
 *  catch-up is on is asked for once it is done: that catch-up may have
 *  begun before the updates dropped were made. */
int
ru_peer_live_gap(ru_peer_t *p, const ru_envelope_t *env)
{
    uint64_t seq = s_seq_of(env), last = ru_clock_get(&p->live, env->origin);
    if (seq == 0 || ru_clock_set(&p->live, env->origin, seq > last ? seq : last) != RU_OK)
        return 0;
    if (last && seq > last + 1 && p->syncing)
        p->gap_later = 1;
    return last && seq > last + 1 && !p->syncing;
}

int
ru_peer_batch(ru_peer_t *p, const ru_msg_t *msg)
{
    if (!p->syncing || p->credit == 0) {
        ru_peer_link_event(p, RU_LINK_OVER_CREDIT,
                           "a batch of %u updates beyond the credit granted refused",
                           (unsigned) msg->n_updates);
        return 0;
    }
    p->credit--;
    p->sync_ms = zclock_mono();
    return 1;
}

void
ru_peer_done(ru_peer_t *p)
{
    p->syncing = 0;
    p->credit = 0;
    if (p->gap_later) {
        p->gap_later = 0;
        ru_peer_gap_hello(p);
    }
}

uint64_t
ru_peer_stall_at(const ru_peer_t *p)
{
    if (!p->syncing || p->credit == 0)
        return UINT64_MAX; /* no credit left: it waits for us, which is no stall */
    return p->sync_ms + (uint64_t) p->ctx->cfg->sync_timeout_ms;
}

void
ru_peer_stalled(ru_peer_t *p)
{
    ru_peer_link_event(p, RU_LINK_STALLED,
                       "our catch-up got nothing for %ld ms ([replication] sync_timeout_ms): "
                       "asking again",
                       p->ctx->cfg->sync_timeout_ms);
    s_close_dealer(p);
    p->dealer = s_socket(p, ZMQ_DEALER, 1);
    if (p->dealer)
        ru_peer_hello(p);
}

void
ru_peer_check_silent(ru_peer_t *p, uint64_t heard_since, int live_paused)
{
    uint64_t now = ru_hlc_wall_ms();
    pthread_mutex_lock(p->ctx->lock);
    uint64_t heard = p->heartbeat_ms > heard_since ? p->heartbeat_ms : heard_since;
    int silent = !p->heard || now - heard > 3 * (uint64_t) p->ctx->cfg->heartbeat_ms;
    pthread_mutex_unlock(p->ctx->lock);
    if (!ru_peer_direct(p) || !silent || live_paused)
        return;
    ru_peer_disconnect(p);
    if (ru_peer_connect(p, 0) != RU_OK)
        ru_log_warn("repl", "[peer %s]: cannot connect again", p->cfg.site);
}

/*  ---------------------------------------------------------------------
 *  What it sent
 */

void
ru_peer_heard(ru_peer_t *p, const ru_msg_t *msg)
{
    ru_clock_t ours;
    ru_clock_init(&ours);
    int caught_up = ru_apply_state(p->ctx->store, &ours, NULL) == RU_OK &&
                    ru_replstat_lacking(&ours, &msg->clock) == 0;
    ru_clock_fini(&ours);
    uint64_t now = ru_hlc_wall_ms();
    pthread_mutex_lock(p->ctx->lock);
    if (caught_up || !p->heard)
        p->caught_up_ms = now;
    p->heard = 1;
    p->heartbeat_ms = now;
    p->hlc = msg->hlc;
    memcpy(p->digest, msg->digest, RU_HASH_BYTES);
    ru_err err = ru_clock_copy(&p->clock, &msg->clock);
    pthread_mutex_unlock(p->ctx->lock);
    (void) err; /* out of memory: the previous clock stays */
}

/*  Logs what a job refused: one line per job. A fork is the origin's
 *  doing, not the peer's: its alarm names the origin (ru_alarm.h). */
static void
s_log_rejected(const ru_peer_t *p, const ru_verify_result_t *r)
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
s_log_pending_full(ru_peer_t *p, uint32_t n)
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

void
ru_peer_result(ru_peer_t *p, const ru_verify_result_t *r)
{
    pthread_mutex_lock(p->ctx->lock);
    for (int k = 0; k < RU_REJECT_COUNT; k++)
        p->rejected[k] += r->rejected[k];
    p->received += r->received;
    p->verified += r->verified;
    p->stored += r->applied + r->pending;
    p->duplicates += r->duplicate;
    pthread_mutex_unlock(p->ctx->lock);
    s_log_rejected(p, r);
    s_log_pending_full(p, r->rejected[RU_REJECT_PENDING_FULL]);
    if (r->store_error)
        ru_log_err("repl", "[peer %s]: updates not stored: %s", p->cfg.site,
                   ru_err_str((ru_err) r->store_error));
    /*  The batch's credit back, while its catch-up goes on: not to a
     *  later one, which counts its own. */
    if (!r->job.sync || !p->syncing || r->job.session != p->session)
        return;
    ru_buf_t buf;
    ru_buf_init(&buf);
    if (ru_msg_encode_credit(1, &buf) == RU_OK && s_to_answerer(p, &buf) == 0) {
        p->credit++;
        p->sync_ms = zclock_mono();
    }
    ru_buf_fini(&buf);
}

ru_err
ru_peer_status(const ru_peer_t *p, ru_replstat_peer_t *out)
{
    snprintf(out->site, sizeof out->site, "%s", p->cfg.site);
    memcpy(out->key, p->cfg.key, RU_KEY_BYTES);
    out->direct = ru_peer_direct(p);
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
