/*  ru_serve.c - the catch-up server (see ru_serve.h).
 *
 *  The ROUTER is mandatory-routing: a send to an asker whose queue is full
 *  fails (and is counted as a dropped send: the asker's catch-up stalls
 *  and it asks again), one to an asker gone ends the session. Either way
 *  its credit is spent: never more batches are sent than were granted.
 */
#include "ru_serve.h"

#include <stdlib.h>
#include <unistd.h>

#include "ru_catchup.h"

#define S_SESSION_IDLE_MS 60000 /* a silent catch-up is dropped */

struct ru_serve_session {
    ru_serve_t *serve;
    zframe_t *identity;
    uint32_t peer; /* its peer's id; 0: none known */
    int gone;      /* its connection is closed: the session ends */
    int more;      /* its last pump spent its walk budget: served again next turn */
    ru_catchup_t catchup;
    uint64_t last_ms;
    ru_peer_t *const *peers; /* while it is served: whom a dropped send is counted against */
    int n_peers;
    struct ru_serve_session *next;
};

typedef ru_serve_session_t s_session;

static int s_wants_more(ru_serve_t *self);

/*  A want being answered: its asker, blob, next offset and credit left. */
struct ru_serve_want {
    zframe_t *identity;
    uint8_t hash[RU_HASH_BYTES];
    uint64_t offset;
    uint32_t credit;
    struct ru_serve_want *next;
};

static void
s_want_free(ru_serve_want_t *w)
{
    zframe_destroy(&w->identity);
    free(w);
}


static void
s_session_free(s_session *s)
{
    zframe_destroy(&s->identity);
    ru_catchup_fini(&s->catchup);
    free(s);
}

void
ru_serve_init(ru_serve_t *self, const ru_peer_ctx_t *ctx)
{
    *self = (ru_serve_t){.ctx = ctx};
}

void
ru_serve_fini(ru_serve_t *self)
{
    while (self->wants) {
        ru_serve_want_t *w = self->wants;
        self->wants = w->next;
        s_want_free(w);
    }
    while (self->sessions) {
        s_session *s = self->sessions;
        self->sessions = s->next;
        s_session_free(s);
    }
}

/*  Sends msg to the asker identity on the ROUTER: 0, 1 when the asker is
 *  gone, -1 when its queue is full (p, if known, is told). */
static int
s_send(ru_serve_t *self, zframe_t *identity, const ru_buf_t *msg, ru_peer_t *p)
{
    zsock_t *router = self->router;
    zframe_t *id = zframe_dup(identity);
    zframe_t *body = zframe_new(msg->data, msg->len);
    int rc = -1;
    if (id && body && router && zframe_send(&id, router, ZFRAME_MORE | ZFRAME_DONTWAIT) == 0) {
        zframe_send(&body, router, ZFRAME_DONTWAIT);
        rc = 0;
    } else if (id && body && router && zmq_errno() == EHOSTUNREACH)
        rc = 1;
    else if (id && body && router && p)
        ru_peer_link_event(p, RU_LINK_DROPPED,
                           "a message of the sync channel to it was dropped: its queue is full "
                           "(%d messages)",
                           ru_peer_hwm(self->ctx, RU_MAX_MESSAGE));
    zframe_destroy(&id);
    zframe_destroy(&body);
    return rc;
}

/*  ru_catchup's send function: msg to the asker of session ctx. */
static void
s_to_asker(void *ctx, const ru_buf_t *msg)
{
    s_session *s = ctx;
    ru_peer_t *p = ru_peer_by_id(s->peers, s->n_peers, s->peer);
    if (s_send(s->serve, s->identity, msg, p) == 1)
        s->gone = 1;
}

/*  The session of the asker identity, NULL if none. */
static s_session **
s_find(ru_serve_t *self, zframe_t *identity)
{
    for (s_session **s = &self->sessions; *s; s = &(*s)->next)
        if (zframe_eq((*s)->identity, identity))
            return s;
    return NULL;
}

/*  Pumps the session at *link; one over is unlinked and freed (returns 1
 *  then). */
static int
s_serve(ru_serve_t *self, s_session **link, ru_peer_t *const *peers, int n)
{
    s_session *s = *link;
    s->last_ms = zclock_mono();
    s->peers = peers;
    s->n_peers = n;
    ru_catchup_step step = ru_catchup_pump(&s->catchup, self->ctx->store, s_to_asker, s);
    s->more = step == RU_CATCHUP_MORE;
    if (step == RU_CATCHUP_OVER || s->gone) {
        *link = s->next;
        s_session_free(s);
        return 1;
    }
    return 0;
}

int
ru_serve_more(ru_serve_t *self, ru_peer_t *const *peers, int n)
{
    int more = 0;
    for (s_session **link = &self->sessions; *link;) {
        s_session *s = *link;
        if (s->more && s_serve(self, link, peers, n))
            continue; /* freed: *link is the next one */
        more |= s->more;
        link = &s->next;
    }
    s_wants_more(self);
    return more;
}

int
ru_serve_waiting(const ru_serve_t *self)
{
    return self->wants != NULL;
}

/*  A hello from an asking peer (p, NULL if unknown): its session starts,
 *  or starts again. */
static void
s_on_hello(ru_serve_t *self, zframe_t *id, const ru_peer_t *p, const ru_msg_t *msg,
           ru_peer_t *const *peers, int n)
{
    pthread_mutex_lock(self->ctx->lock);
    self->served++;
    pthread_mutex_unlock(self->ctx->lock);
    s_session **link = s_find(self, id);
    if (!link) {
        s_session *s = calloc(1, sizeof *s);
        if (!s)
            return;
        s->serve = self;
        s->identity = zframe_dup(id);
        ru_catchup_init(&s->catchup, (uint32_t) self->ctx->cfg->pending_walk);
        s->next = self->sessions;
        self->sessions = s;
        link = &self->sessions;
    }
    (*link)->peer = p ? p->id : 0;
    const uint8_t *asker = p && p->cfg.has_key ? p->cfg.key : NULL;
    if (ru_catchup_hello(&(*link)->catchup, &msg->clock, asker, msg->credit) == RU_OK)
        s_serve(self, link, peers, n);
}

/*  Sends w's chunks while its asker's queue takes them: 1 when it is over
 *  (all sent, the blob gone, the asker gone), 0 when it waits for room. */
static int
s_pump_want(ru_serve_t *self, ru_serve_want_t *w)
{
    int fd = -1, over = 0;
    uint64_t size = 0, sent = 0;
    uint8_t *piece = NULL;
    ru_buf_t out;
    ru_buf_init(&out);
    if (!self->ctx->blobs || ru_blob_open(self->ctx->blobs, w->hash, &fd, &size) != RU_OK ||
        !(piece = malloc(RU_BLOB_CHUNK))) {
        if (ru_msg_encode_lack(w->hash, &out) == RU_OK)
            s_send(self, w->identity, &out, NULL);
        over = 1;
    }
    while (!over && w->credit > 0 && w->offset < size) {
        size_t want = size - w->offset < RU_BLOB_CHUNK ? (size_t) (size - w->offset) : RU_BLOB_CHUNK;
        ssize_t n = pread(fd, piece, want, (off_t) w->offset);
        ru_buf_reset(&out);
        if (n != (ssize_t) want ||
            ru_msg_encode_chunk(w->hash, size, w->offset, piece, want, &out) != RU_OK) {
            over = 1; /* unreadable: the asker's fetch times out and asks elsewhere */
            break;
        }
        int rc = s_send(self, w->identity, &out, NULL);
        if (rc == -1)
            break; /* its queue is full: the rest at the next turn */
        over = rc == 1;
        w->offset += want;
        w->credit--;
        sent += want;
    }
    over = over || w->credit == 0 || w->offset >= size;
    if (fd >= 0)
        close(fd);
    free(piece);
    ru_buf_fini(&out);
    pthread_mutex_lock(self->ctx->lock);
    self->blobs_served += over && sent > 0;
    self->blob_bytes_served += sent;
    pthread_mutex_unlock(self->ctx->lock);
    return over;
}

/*  A want: answered now as far as its asker's queue takes it, the rest
 *  kept for the next turns. A want from past the blob's end asks for no
 *  chunk: none goes. */
static void
s_on_want(ru_serve_t *self, zframe_t *id, ru_peer_t *p, const ru_msg_t *msg)
{
    ru_serve_want_t *w = calloc(1, sizeof *w);
    if (!w)
        return;
    w->identity = zframe_dup(id);
    memcpy(w->hash, msg->blob, RU_HASH_BYTES);
    w->offset = msg->offset;
    w->credit = msg->credit;
    int waiting = 0;
    for (ru_serve_want_t *x = self->wants; x; x = x->next)
        waiting++;
    if (!w->identity || s_pump_want(self, w) || waiting >= RU_SERVE_WANTS) {
        if (waiting >= RU_SERVE_WANTS && p)
            ru_peer_link_event(p, RU_LINK_DROPPED, "a want of its was dropped: %d wait already",
                               RU_SERVE_WANTS);
        s_want_free(w);
        return;
    }
    w->next = self->wants;
    self->wants = w;
}

/*  The wants waiting for room, pumped again: 1 when some still wait. */
static int
s_wants_more(ru_serve_t *self)
{
    for (ru_serve_want_t **link = &self->wants; *link;) {
        ru_serve_want_t *w = *link;
        if (s_pump_want(self, w)) {
            *link = w->next;
            s_want_free(w);
        } else
            link = &w->next;
    }
    return self->wants != NULL;
}

/*  Counts and logs a message on the ROUTER that has no business there. */
static void
s_refuse(ru_peer_t *p, size_t frames, ru_err err, const ru_msg_t *msg)
{
    if (!p)
        return;
    if (err == RU_OK)
        ru_peer_link_event(p, RU_LINK_MISPLACED, "a %s message on our sync socket refused",
                           ru_msg_type_name(msg->type));
    else if (frames != 2)
        ru_peer_link_event(p, RU_LINK_MALFORMED,
                           "a message of %zu frames on our sync socket refused (one is the rule)",
                           frames > 0 ? frames - 1 : 0);
    else
        ru_peer_link_event(p, RU_LINK_MALFORMED, "a message on our sync socket refused: %s",
                           ru_err_str(err));
}

void
ru_serve_message(ru_serve_t *self, ru_peer_t *const *peers, int n)
{
    zmsg_t *m = zmsg_recv(self->router);
    size_t frames = m ? zmsg_size(m) : 0;
    zframe_t *id = m ? zmsg_pop(m) : NULL;
    zframe_t *body = m ? zmsg_pop(m) : NULL;
    ru_peer_t *p = ru_peer_of_frame(peers, n, body ? body : id);
    ru_msg_t msg;
    ru_msg_init(&msg);
    ru_err err = frames != 2 || !body ? RU_E_TYPE
                                      : ru_msg_decode(zframe_data(body), zframe_size(body), &msg);
    if (err == RU_OK && msg.type == RU_MSG_HELLO)
        s_on_hello(self, id, p, &msg, peers, n);
    else if (err == RU_OK && msg.type == RU_MSG_WANT)
        s_on_want(self, id, p, &msg);
    else if (err == RU_OK && msg.type == RU_MSG_CREDIT) {
        s_session **link = s_find(self, id);
        if (link) {
            ru_catchup_credit(&(*link)->catchup, msg.credit);
            s_serve(self, link, peers, n);
        }
    } else
        s_refuse(p, frames, err, &msg);
    ru_msg_fini(&msg);
    zframe_destroy(&id);
    zframe_destroy(&body);
    zmsg_destroy(&m);
}

void
ru_serve_expire(ru_serve_t *self, uint64_t now)
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
