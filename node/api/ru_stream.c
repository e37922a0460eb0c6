/*  ru_stream.c - the streaming hub and its WebSocket and event-stream
 *  endpoints (see ru_stream.h).
 *
 *  Three kinds of threads meet here, around the hub's lock, which guards
 *  the list of open streams, their subscriptions, queues and states:
 *    - the store actor calls s_on_commit() after each commit: it copies
 *      the refs into the inbox (a lock of its own) and returns, so the
 *      writer never waits on the hub's work, let alone on a client;
 *    - the hub's thread takes the inbox, reads each update back from the
 *      log in a read transaction, works out its events (the status event
 *      from ru_event.h, notifications from ru_notify.h) and queues a copy
 *      of each, framed for its transport, on every stream that wants it;
 *    - each stream's writer (s_pump) sends its queue, outside the lock:
 *      a slow client blocks its own writer and nothing else. When its
 *      queue passes [streaming] queue_kb the stream is ended instead, and
 *      the client disconnected.
 *
 *  A WebSocket lives between civetweb's connect and close handlers. The
 *  connect handler checks the sign-in, the origin and the limit, and
 *  answers a refusal itself: civetweb passes its own connection there as
 *  const only to say that it writes the handshake next, so the handler
 *  may write a response instead. It also checks the Sec-WebSocket-Key's
 *  length, because civetweb drops a handshake with a longer key without
 *  calling the close handler, which would leak the stream. The ready
 *  handler starts the stream's writer thread; the close handler ends the
 *  stream, joins the writer and frees it. An event stream lives in its
 *  route handler, which is its writer.
 *
 *  The connect handler also chooses the handshake's Sec-WebSocket-Protocol,
 *  every time: the first protocol the client offered (its token, which
 *  Mastodon's clients send there and expect back), or none when it offered
 *  none. civetweb 1.15 sends whatever its connection's request info names
 *  as the accepted protocol, sets that only when a client offers one and
 *  never clears it, and a worker thread's connection serves client after
 *  client: left to itself, a handshake without a protocol got back an
 *  earlier client's token (another user's), or bytes of its own request,
 *  and clients that offered none (megalodon, the web front end) failed.
 *  The name points into the stream, which outlives the handshake; the
 *  ready handler, once the handshake is sent, clears it again.
 */
#include "ru_stream.h"

#include <civetweb.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ru_entity.h"
#include "ru_event.h"
#include "ru_log.h"
#include "ru_notify_view.h"
#include "ru_prom.h"
#include "ru_web.h"

#define S_LOG "stream"
#define S_PATH "/api/v1/streaming"
#define S_MAX_SUBS 16      /* streams one connection may subscribe to */
#define S_MAX_MESSAGE 4096 /* bytes of a client's message */
#define S_INBOX_MAX 100000 /* refs waiting for the hub; more are skipped */
#define S_TXN_UPDATES 256  /* updates the hub reads in one transaction */
#define S_GOODBYE_MS 2000  /* for WebSockets' close frames when the node stops */

static const struct {
    const char *name;
    int user;   /* needs a signed-in user */
    int tagged; /* takes a tag */
} s_streams[RU_STREAM_KINDS] = {
    [RU_STREAM_USER] = {"user", 1, 0},
    [RU_STREAM_USER_NOTIFICATION] = {"user:notification", 1, 0},
    [RU_STREAM_PUBLIC] = {"public", 0, 0},
    [RU_STREAM_PUBLIC_LOCAL] = {"public:local", 0, 0},
    [RU_STREAM_PUBLIC_REMOTE] = {"public:remote", 0, 0},
    [RU_STREAM_HASHTAG] = {"hashtag", 0, 1},
    [RU_STREAM_HASHTAG_LOCAL] = {"hashtag:local", 0, 1},
};

typedef struct {
    ru_stream_kind kind;
    char tag[RU_MAX_TAG + 1]; /* as indexed: no '#', ASCII in lower case */
} s_sub;

/*  A message as it goes on the wire (a WebSocket frame, or an event-stream
 *  block), immutable, shared by the queues of every stream it goes to. */
typedef struct {
    atomic_int refs;
    size_t len;
    char bytes[];
} s_msg;

/*  A place in a stream's queue. */
typedef struct s_item {
    struct s_item *next;
    s_msg *msg;
} s_item;

typedef enum { S_WS, S_SSE } s_transport;

/*  A stream is open until it ends: its client went away or a write failed
 *  (gone), its queue overflowed (slow), or its connection closed. */
typedef enum { S_OPEN, S_GONE, S_SLOW, S_CLOSED } s_state;

typedef struct s_conn {
    ru_stream_t *hub;
    struct mg_connection *mg;
    s_transport transport;
    int authed;
    char user[RU_MAX_NAME + 1]; /* "" when nobody signed in */
    s_sub subs[S_MAX_SUBS];
    int nsubs;
    s_item *head, *tail;
    size_t queued; /* bytes waiting */
    s_state state;
    pthread_cond_t wake; /* its writer: events, or the end */
    pthread_t writer;    /* WebSockets */
    int has_writer;
    struct s_conn *prev, *next;
    char protocol[]; /* the subprotocol accepted, "" for none (WebSockets) */
} s_conn;

struct ru_stream {
    ru_node_t *node;
    pthread_mutex_t lock;
    s_conn *conns;
    int stopping;
    int goodbyes;                /* WebSockets whose writer has not ended yet */
    pthread_cond_t goodbye_said; /* ru_stream_close_all(): one ended */
    atomic_int open;             /* streams open or being opened */
    pthread_mutex_t inbox_lock;
    pthread_cond_t inbox_wake;
    ru_buf_t inbox;     /* ru_ref_t ... */
    unsigned long lost; /* refs the inbox had no room for */
    int quit;
    pthread_t thread;
};

/*  ---------------------------------------------------------------------
 *  Subscriptions
 */

/*  tag as indexed (ru_entity's form); 0 if missing or not one tag. */
static int
s_tag_fold(const char *tag, char *out)
{
    char text[RU_MAX_TAG + 2];
    size_t n = tag ? strlen(tag + (*tag == '#')) : 0, pos = 0;
    ru_entity_t e;
    if (n == 0 || n > RU_MAX_TAG)
        return 0;
    text[0] = '#';
    memcpy(text + 1, tag + (*tag == '#'), n);
    if (!ru_entity_next(text, n + 1, &pos, &e) || e.kind != RU_ENTITY_TAG || e.start != 0 ||
        e.len != n + 1)
        return 0;
    memcpy(out, e.name, strlen(e.name) + 1);
    return 1;
}

/*  Reads a stream name and its tag into sub. Returns 0, or the status of
 *  the error with *why for people. */
static int
s_sub_parse(const char *name, const char *tag, int authed, s_sub *sub, const char **why)
{
    int k = 0;
    while (k < RU_STREAM_KINDS && (!name || strcmp(name, s_streams[k].name) != 0))
        k++;
    if (k == RU_STREAM_KINDS) {
        *why = name && *name ? "Unknown stream type" : "No stream given";
        return 400;
    }
    if (s_streams[k].user && !authed) {
        *why = "Missing access token: this stream is a signed-in user's";
        return 401;
    }
    sub->kind = (ru_stream_kind) k;
    sub->tag[0] = '\0';
    if (s_streams[k].tagged && !s_tag_fold(tag, sub->tag)) {
        *why = "No valid tag given for the hashtag stream";
        return 400;
    }
    return 0;
}

static int
s_sub_equal(const s_sub *a, const s_sub *b)
{
    return a->kind == b->kind && strcmp(a->tag, b->tag) == 0;
}

/*  Subscribes c (lock held); subscribing again changes nothing. */
static int
s_sub_add(s_conn *c, const s_sub *sub, const char **why)
{
    for (int i = 0; i < c->nsubs; i++)
        if (s_sub_equal(&c->subs[i], sub))
            return 0;
    if (c->nsubs == S_MAX_SUBS) {
        *why = "Too many streams on one connection";
        return 400;
    }
    c->subs[c->nsubs++] = *sub;
    return 0;
}

static void
s_sub_remove(s_conn *c, const s_sub *sub)
{
    for (int i = 0; i < c->nsubs; i++)
        if (s_sub_equal(&c->subs[i], sub)) {
            c->subs[i] = c->subs[--c->nsubs];
            return;
        }
}

/*  ---------------------------------------------------------------------
 *  Streams and their queues
 */

/*  A message of len bytes of text: as they are for an event stream, in
 *  an unmasked text frame for a WebSocket. NULL out of memory. */
static s_msg *
s_msg_new(s_transport transport, const char *text, size_t len)
{
    uint8_t head[10];
    size_t hlen = 0;
    if (transport == S_WS) {
        head[hlen++] = 0x80 | MG_WEBSOCKET_OPCODE_TEXT; /* the final fragment */
        if (len < 126)
            head[hlen++] = (uint8_t) len;
        else if (len < 65536) {
            head[hlen++] = 126;
            head[hlen++] = (uint8_t) (len >> 8);
            head[hlen++] = (uint8_t) len;
        } else
            for (head[hlen++] = 127; hlen < 10; hlen++)
                head[hlen] = (uint8_t) ((uint64_t) len >> (8 * (9 - hlen)));
    }
    s_msg *m = malloc(sizeof *m + hlen + len);
    if (!m)
        return NULL;
    atomic_init(&m->refs, 1);
    m->len = hlen + len;
    memcpy(m->bytes, head, hlen);
    memcpy(m->bytes + hlen, text, len);
    return m;
}

static void
s_msg_unref(s_msg *m)
{
    if (m && atomic_fetch_sub(&m->refs, 1) == 1)
        free(m);
}

/*  The message of an event on sub's stream, for transport. */
static s_msg *
s_frame(s_transport transport, const s_sub *sub, const char *event, const char *payload)
{
    char *text = NULL;
    if (transport == S_SSE) {
        size_t size = strlen(event) + strlen(payload) + sizeof "event: \ndata: \n\n";
        text = malloc(size);
        if (text)
            snprintf(text, size, "event: %s\ndata: %s\n\n", event, payload);
    } else {
        json_t *stream = json_pack("[s]", s_streams[sub->kind].name);
        if (stream && s_streams[sub->kind].tagged)
            json_array_append_new(stream, json_string(sub->tag));
        json_t *msg = stream ? json_pack("{s:o,s:s,s:s}", "stream", stream, "event", event,
                                         "payload", payload)
                             : NULL;
        text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
        json_decref(msg);
    }
    s_msg *m = text ? s_msg_new(transport, text, strlen(text)) : NULL;
    free(text);
    return m;
}

/*  The messages made for one event, so that the streams that get the same
 *  bytes share one: a thousand clients of the public stream, one message.
 *  Payloads are compared by address (ru_event.h renders one per viewer).
 *  Each starts with a list item holding its message, so that s_items_free
 *  frees the list. */
typedef struct {
    s_item item; /* next: the next s_made */
    s_transport transport;
    s_sub sub; /* a WebSocket message names its stream */
    const char *payload;
} s_made;

/*  The message of an event for sub of c, made once; borrowed from *made
 *  (a list to free with s_items_free). NULL out of memory. */
static s_msg *
s_message(s_item **made, const s_conn *c, const s_sub *sub, const char *event, const char *payload)
{
    for (s_item *it = *made; it; it = it->next) {
        const s_made *m = (const s_made *) it;
        if (m->transport == c->transport && m->payload == payload &&
            (c->transport == S_SSE || s_sub_equal(&m->sub, sub)))
            return it->msg;
    }
    s_msg *msg = s_frame(c->transport, sub, event, payload);
    s_made *m = msg ? malloc(sizeof *m) : NULL;
    if (!m) {
        s_msg_unref(msg);
        return NULL;
    }
    *m = (s_made){{*made, msg}, c->transport, *sub, payload};
    *made = &m->item;
    return msg;
}

/*  Frees a list of queue items and their references. */
static void
s_items_free(s_item *list)
{
    while (list) {
        s_item *it = list;
        list = it->next;
        s_msg_unref(it->msg);
        free(it);
    }
}

static void
s_queue_clear(s_conn *c)
{
    s_items_free(c->head);
    c->head = c->tail = NULL;
    c->queued = 0;
}

/*  Ends c as state says, unless it has ended already, and wakes its
 *  writer (lock held). */
static void
s_end(s_conn *c, s_state state)
{
    if (c->state == S_OPEN)
        c->state = state;
    s_queue_clear(c);
    pthread_cond_signal(&c->wake);
}

/*  Queues m (borrowed; NULL is out of memory: skipped) for c, lock held. */
static void
s_push(ru_stream_t *self, s_conn *c, s_msg *m)
{
    if (!m || c->state != S_OPEN)
        return;
    if (c->queued + m->len > (size_t) self->node->cfg.stream_queue_kb * 1024) {
        ru_log_info(S_LOG, "a client reads too slowly (%zu bytes wait): its stream is closed",
                    c->queued);
        s_end(c, S_SLOW);
        return;
    }
    s_item *it = malloc(sizeof *it);
    if (!it)
        return;
    it->next = NULL;
    it->msg = m;
    atomic_fetch_add(&m->refs, 1);
    if (c->tail)
        c->tail->next = it;
    else
        c->head = it;
    c->tail = it;
    c->queued += m->len;
    pthread_cond_signal(&c->wake);
}

/*  Tells a WebSocket client what it got wrong: {"error", "status"}. */
static void
s_complain(ru_stream_t *self, s_conn *c, int status, const char *why)
{
    json_t *msg = json_pack("{s:s,s:i}", "error", why, "status", status);
    char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    s_msg *m = text ? s_msg_new(S_WS, text, strlen(text)) : NULL;
    s_push(self, c, m);
    s_msg_unref(m);
    free(text);
}

/*  A condition variable whose waits end at times of the monotonic clock. */
static void
s_cond_init_monotonic(pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
}

/*  A time ms from now on the monotonic clock. */
static void
s_deadline(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/*  Sends thump (or nothing, NULL) and the messages of list in one write
 *  (under the connection's lock for a WebSocket, which civetweb's pings
 *  share), freeing the list; 0 when the write failed. */
static int
s_send(s_conn *c, const char *thump, s_item *list)
{
    ru_buf_t out;
    ru_buf_init(&out);
    if (thump)
        ru_buf_append(&out, thump, strlen(thump));
    for (s_item *it = list; it; it = it->next)
        ru_buf_append(&out, it->msg->bytes, it->msg->len);
    s_items_free(list);
    int ok = ru_buf_status(&out) == RU_OK, ws = c->transport == S_WS;
    if (ok && ws)
        mg_lock_connection(c->mg);
    if (ok)
        ok = mg_write(c->mg, out.data, out.len) == (int) out.len;
    if (ru_buf_status(&out) == RU_OK && ws)
        mg_unlock_connection(c->mg);
    ru_buf_fini(&out);
    return ok;
}

/*  c's writer: sends its queue until it ends or the hub stops, with a
 *  ":thump" comment on an event stream every heartbeat (civetweb pings
 *  idle WebSockets). Returns how it ended: S_OPEN if the hub stops, S_GONE
 *  if a write failed (nothing more can be sent: a frame may be cut). */
static s_state
s_pump(ru_stream_t *self, s_conn *c)
{
    long beat_ms = self->node->cfg.stream_heartbeat_ms;
    int ok = 1;
    struct timespec beat;
    s_deadline(&beat, beat_ms);
    pthread_mutex_lock(&self->lock);
    while (c->state == S_OPEN && !self->stopping) {
        const char *thump = NULL;
        if (!c->head && pthread_cond_timedwait(&c->wake, &self->lock, &beat) == ETIMEDOUT) {
            s_deadline(&beat, beat_ms);
            thump = c->transport == S_SSE ? ":thump\n\n" : NULL;
        }
        if (c->state != S_OPEN || (!c->head && !thump))
            continue;
        s_item *list = c->head;
        c->head = c->tail = NULL;
        c->queued = 0;
        pthread_mutex_unlock(&self->lock);
        ok = s_send(c, thump, list);
        pthread_mutex_lock(&self->lock);
        if (!ok)
            s_end(c, S_GONE);
    }
    s_state state = ok ? c->state : S_GONE;
    pthread_mutex_unlock(&self->lock);
    return state;
}

/*  Takes a place among the open streams; 0 when all are taken or the hub
 *  stops. */
static int
s_reserve(ru_stream_t *self)
{
    pthread_mutex_lock(&self->lock);
    int ok = !self->stopping && atomic_load(&self->open) < self->node->cfg.max_streams;
    if (ok)
        atomic_fetch_add(&self->open, 1);
    pthread_mutex_unlock(&self->lock);
    return ok;
}

/*  A new stream of the hub's, with its first subscription (sub, or NULL)
 *  and the subprotocol it accepts (plen bytes of protocol), getting events
 *  from now on. NULL when out of memory. */
static s_conn *
s_conn_new(ru_stream_t *self, struct mg_connection *mg, s_transport transport,
           const ru_account_t *acct, const s_sub *sub, const char *protocol, size_t plen)
{
    s_conn *c = calloc(1, sizeof *c + plen + 1);
    if (!c)
        return NULL;
    if (plen)
        memcpy(c->protocol, protocol, plen);
    s_cond_init_monotonic(&c->wake);
    c->hub = self;
    c->mg = mg;
    c->transport = transport;
    c->authed = acct != NULL;
    snprintf(c->user, sizeof c->user, "%s", acct ? acct->name : "");
    if (sub)
        c->subs[c->nsubs++] = *sub;
    pthread_mutex_lock(&self->lock);
    c->next = self->conns;
    if (c->next)
        c->next->prev = c;
    self->conns = c;
    /* civetweb calls the ready handler next, which starts the writer: from
     * now on a stop waits for it to say goodbye */
    self->goodbyes += transport == S_WS;
    pthread_mutex_unlock(&self->lock);
    return c;
}

/*  Ends c, waits for its writer and frees it, giving its place back. */
static void
s_conn_close(ru_stream_t *self, s_conn *c)
{
    pthread_mutex_lock(&self->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        self->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s_end(c, S_CLOSED);
    pthread_mutex_unlock(&self->lock);
    if (c->has_writer)
        pthread_join(c->writer, NULL);
    pthread_cond_destroy(&c->wake);
    free(c);
    atomic_fetch_sub(&self->open, 1);
}

/*  ---------------------------------------------------------------------
 *  Events
 */

/*  Queues the status event of u on every stream that carries it. */
static void
s_status_event(ru_stream_t *self, ru_txn_t *txn, const ru_update_t *u)
{
    ru_event_t *ev = NULL;
    if (ru_event_new(self->node, txn, u, &ev) != RU_OK || !ev)
        return;
    s_item *made = NULL;
    pthread_mutex_lock(&self->lock);
    for (s_conn *c = self->conns; c; c = c->next)
        for (int i = 0; i < c->nsubs && c->state == S_OPEN; i++) {
            const char *viewer = c->authed ? c->user : NULL;
            const char *payload = ru_event_wants(ev, c->subs[i].kind, c->subs[i].tag, viewer)
                                      ? ru_event_payload(ev, viewer)
                                      : NULL;
            if (payload)
                s_push(self, c, s_message(&made, c, &c->subs[i], ru_event_name(ev), payload));
        }
    pthread_mutex_unlock(&self->lock);
    s_items_free(made);
    ru_event_destroy(&ev);
}

/*  ru_notify_each()'s callback: queues a notification on its recipient's
 *  user and user:notification streams. */
static void
s_notification(void *ctx, const char *recipient, json_t *notification)
{
    ru_stream_t *self = ctx;
    char *payload = json_dumps(notification, JSON_COMPACT);
    if (!payload)
        return;
    s_item *made = NULL;
    pthread_mutex_lock(&self->lock);
    for (s_conn *c = self->conns; c; c = c->next)
        for (int i = 0; i < c->nsubs && c->authed && strcmp(c->user, recipient) == 0; i++)
            if (c->subs[i].kind == RU_STREAM_USER || c->subs[i].kind == RU_STREAM_USER_NOTIFICATION)
                s_push(self, c, s_message(&made, c, &c->subs[i], "notification", payload));
    pthread_mutex_unlock(&self->lock);
    s_items_free(made);
    free(payload);
}

/*  ---------------------------------------------------------------------
 *  The hub: from commits to events
 */

/*  The store actor's listener: queues the refs for the hub's thread. */
static void
s_on_commit(void *ctx, const ru_ref_t *refs, size_t n)
{
    ru_stream_t *self = ctx;
    if (atomic_load(&self->open) == 0)
        return; /* nobody to tell */
    pthread_mutex_lock(&self->inbox_lock);
    size_t held = self->inbox.len / sizeof *refs;
    size_t room = held < S_INBOX_MAX ? S_INBOX_MAX - held : 0;
    if (n > room) {
        self->lost += n - room;
        n = room;
    }
    ru_buf_append(&self->inbox, refs, n * sizeof *refs);
    pthread_cond_signal(&self->inbox_wake);
    pthread_mutex_unlock(&self->inbox_lock);
}

/*  The events of updates refs[0..n), as of one read transaction. */
static void
s_dispatch_some(ru_stream_t *self, const ru_ref_t *refs, size_t n)
{
    ru_txn_t txn;
    if (ru_store_read(self->node->store, &txn) != RU_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        ru_update_t u;
        ru_update_init(&u);
        if (ru_event_read_update(&txn, &refs[i], &u) == RU_OK) {
            ru_view_t v = {self->node, &txn, NULL};
            s_status_event(self, &txn, &u);
            if (ru_notify_each(&v, &u, s_notification, self) != RU_OK)
                ru_log_warn(S_LOG, "the notifications of an update could not be streamed");
        }
        ru_update_fini(&u);
    }
    ru_txn_abort(&txn);
}

/*  The events of updates refs[0..n), in read transactions of at most
 *  S_TXN_UPDATES updates: a long one would hold up the growth of a full
 *  map, which waits for readers. */
static void
s_dispatch(ru_stream_t *self, const ru_ref_t *refs, size_t n)
{
    for (size_t at = 0; at < n; at += S_TXN_UPDATES)
        s_dispatch_some(self, refs + at, n - at < S_TXN_UPDATES ? n - at : S_TXN_UPDATES);
}

static void *
s_hub(void *arg)
{
    ru_stream_t *self = arg;
    ru_buf_t work;
    ru_buf_init(&work);
    pthread_mutex_lock(&self->inbox_lock);
    for (;;) {
        while (!self->inbox.len && !self->quit)
            pthread_cond_wait(&self->inbox_wake, &self->inbox_lock);
        if (self->quit)
            break;
        ru_buf_t full = self->inbox;
        self->inbox = work;
        work = full;
        unsigned long lost = self->lost;
        self->lost = 0;
        pthread_mutex_unlock(&self->inbox_lock);
        if (lost)
            ru_log_warn(S_LOG,
                        "%lu updates came faster than the hub could stream them: "
                        "their events were skipped",
                        lost);
        s_dispatch(self, (const ru_ref_t *) (const void *) work.data, work.len / sizeof(ru_ref_t));
        ru_buf_reset(&work);
        pthread_mutex_lock(&self->inbox_lock);
    }
    pthread_mutex_unlock(&self->inbox_lock);
    ru_buf_fini(&work);
    return NULL;
}

/*  ---------------------------------------------------------------------
 *  Opening a stream
 */

/*  Who asks for a stream, and which one. */
typedef struct {
    ru_account_t acct;
    int authed;
    ru_auth_via via;
    char stream[32]; /* "": none named */
    char tag[3 * RU_MAX_TAG + 1];
    const char *protocol; /* the first subprotocol a WebSocket offers (a view) */
    size_t protocol_len;  /* its length; 0: none */
} s_ask;

/*  Is the page that opened conn one of this site's? Its Origin is that of
 *  the node's public URL, or of the Host it asked for. A missing Origin is
 *  fine when absent_ok (a browser sends none on a same-origin GET). */
static int
s_same_origin(const ru_stream_t *self, const struct mg_connection *conn, int absent_ok)
{
    const char *origin = mg_get_header(conn, "Origin");
    const char *host = mg_get_header(conn, "Host");
    const char *url = self->node->public_url;
    const char *sep = strstr(url, "://");
    size_t n = sep ? (size_t) (sep + 3 - url) + strcspn(sep + 3, "/") : 0;
    if (!origin)
        return absent_ok;
    if (n && strlen(origin) == n && strncasecmp(origin, url, n) == 0)
        return 1;
    const char *rest = strncasecmp(origin, "https://", 8) == 0  ? origin + 8
                       : strncasecmp(origin, "http://", 7) == 0 ? origin + 7
                                                                : NULL;
    return rest && host && strcasecmp(rest, host) == 0;
}

/*  Reads who asks from conn, and the stream and tag of its query. Returns
 *  0, or the status of a refusal with *why. */
static int
s_ask_read(ru_stream_t *self, struct mg_connection *conn, s_transport t, s_ask *ask,
           const char **why)
{
    memset(ask, 0, sizeof *ask);
    ru_err err = ru_http_conn_account(self->node, conn, &ask->acct, &ask->via);
    ask->authed = err == RU_OK;
    if (err && ask->via == RU_AUTH_TOKEN) {
        *why = "The access token is invalid";
        return 401;
    }
    if (err)
        ask->via = RU_AUTH_NONE; /* a stale cookie: nobody signed in */
    if (ask->via == RU_AUTH_COOKIE && !s_same_origin(self, conn, t == S_SSE)) {
        *why = "A stream signed in by the session cookie must come from this site's pages";
        return 403;
    }
    const char *q = mg_get_request_info(conn)->query_string;
    if (q && ru_http_query_bad(q)) {
        *why = "A query parameter is not UTF-8 or holds a NUL byte";
        return 422;
    }
    if (q && mg_get_var(q, strlen(q), "stream", ask->stream, sizeof ask->stream) == -2)
        snprintf(ask->stream, sizeof ask->stream, "?"); /* too long: no stream's name */
    if (q)
        (void) mg_get_var(q, strlen(q), "tag", ask->tag, sizeof ask->tag);
    if (t == S_WS)
        ask->protocol = ru_http_ws_protocol(conn, &ask->protocol_len);
    return 0;
}

/*  Opens the stream ask names (none: subscriptions come later) on conn.
 *  NULL, with the status and reason of the refusal, if it cannot. */
static s_conn *
s_open(ru_stream_t *self, struct mg_connection *conn, s_transport t, const s_ask *ask, int *status,
       const char **why)
{
    s_sub sub;
    *status = ask->stream[0] ? s_sub_parse(ask->stream, ask->tag, ask->authed, &sub, why) : 0;
    if (*status)
        return NULL;
    if (!s_reserve(self)) {
        *status = 503;
        *why = "Too many streams are open: try again later";
        return NULL;
    }
    s_conn *c = s_conn_new(self, conn, t, ask->authed ? &ask->acct : NULL,
                           ask->stream[0] ? &sub : NULL, ask->protocol, ask->protocol_len);
    if (!c) {
        atomic_fetch_sub(&self->open, 1);
        *status = 500;
        *why = "out of memory";
    }
    return c;
}

/*  ---------------------------------------------------------------------
 *  WebSocket
 */

/*  Names the subprotocol civetweb's handshake on conn accepts (NULL: none;
 *  see the top). */
static void
s_ws_accept_protocol(struct mg_connection *conn, const char *protocol)
{
    struct mg_request_info *ri = (struct mg_request_info *) mg_get_request_info(conn);
    ri->acceptedWebSocketSubprotocol = protocol;
}

static int
s_ws_connect(const struct mg_connection *const_conn, void *cbdata)
{
    ru_stream_t *self = cbdata;
    struct mg_connection *conn = (struct mg_connection *) const_conn; /* see the top */
    const char *key = mg_get_header(conn, "Sec-WebSocket-Key");
    const char *why = "Sec-WebSocket-Key must be 24 characters";
    s_ask ask;
    s_ws_accept_protocol(conn, NULL);
    int status = key && strlen(key) == 24 ? s_ask_read(self, conn, S_WS, &ask, &why) : 400;
    s_conn *c = status ? NULL : s_open(self, conn, S_WS, &ask, &status, &why);
    if (!c) {
        ru_http_conn_error(conn, status, why);
        return 1;
    }
    s_ws_accept_protocol(conn, c->protocol[0] ? c->protocol : NULL);
    mg_set_user_connection_data(conn, c);
    return 0;
}

/*  Closes a WebSocket the server ends: 1001 going away (the node stops),
 *  1013 try again later (the client was too slow). */
static void *
s_ws_writer(void *arg)
{
    s_conn *c = arg;
    s_state state = s_pump(c->hub, c);
    static const char going[] = "\x03\xe9the node is stopping";
    static const char slow[] = "\x03\xf5too slow: events were dropped";
    if (state == S_OPEN)
        mg_websocket_write(c->mg, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, going, sizeof going - 1);
    else if (state == S_SLOW)
        mg_websocket_write(c->mg, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, slow, sizeof slow - 1);
    pthread_mutex_lock(&c->hub->lock);
    c->hub->goodbyes--;
    pthread_cond_broadcast(&c->hub->goodbye_said);
    pthread_mutex_unlock(&c->hub->lock);
    return NULL;
}

static void
s_ws_ready(struct mg_connection *conn, void *cbdata)
{
    ru_stream_t *self = cbdata;
    s_conn *c = mg_get_user_connection_data(conn);
    s_ws_accept_protocol(conn, NULL); /* the handshake is sent: c's name must not outlive c */
    if (!c)
        return;
    if (pthread_create(&c->writer, NULL, s_ws_writer, c) == 0) {
        c->has_writer = 1;
        return;
    }
    ru_log_err(S_LOG, "cannot start a stream's thread: the WebSocket is closed");
    pthread_mutex_lock(&self->lock);
    self->goodbyes--;
    s_end(c, S_GONE);
    pthread_mutex_unlock(&self->lock);
    mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, "\x03\xf3", 2); /* 1011 */
}

/*  A client's message, lock held: subscribe or unsubscribe. */
static void
s_ws_message(ru_stream_t *self, s_conn *c, const char *data, size_t len)
{
    json_t *msg = len <= S_MAX_MESSAGE ? json_loadb(data, len, 0, NULL) : NULL;
    const char *type = json_string_value(json_object_get(msg, "type"));
    const char *why = "Send {\"type\": \"subscribe\" or \"unsubscribe\", \"stream\": NAME}";
    int subscribe = type && strcmp(type, "subscribe") == 0, status = 400;
    s_sub sub;
    if (subscribe || (type && strcmp(type, "unsubscribe") == 0))
        status = s_sub_parse(json_string_value(json_object_get(msg, "stream")),
                             json_string_value(json_object_get(msg, "tag")), c->authed, &sub, &why);
    if (!status && subscribe)
        status = s_sub_add(c, &sub, &why);
    else if (!status)
        s_sub_remove(c, &sub);
    json_decref(msg);
    if (status)
        s_complain(self, c, status, why);
}

static int
s_ws_data(struct mg_connection *conn, int bits, char *data, size_t len, void *cbdata)
{
    ru_stream_t *self = cbdata;
    s_conn *c = mg_get_user_connection_data(conn);
    int opcode = bits & 0x0f;
    if (!c)
        return 0;
    if (opcode == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE) {
        /* the client closes: answer with its code; civetweb then closes */
        mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, data, len >= 2 ? 2 : 0);
        return 0;
    }
    pthread_mutex_lock(&self->lock);
    if (opcode == MG_WEBSOCKET_OPCODE_TEXT && (bits & 0x80))
        s_ws_message(self, c, data, len);
    else
        s_complain(self, c, 400, "Send each message as one text frame of JSON");
    int open = c->state == S_OPEN && !self->stopping;
    pthread_mutex_unlock(&self->lock);
    return open;
}

static void
s_ws_close(const struct mg_connection *conn, void *cbdata)
{
    s_conn *c = mg_get_user_connection_data(conn);
    if (c)
        s_conn_close(cbdata, c);
    mg_set_user_connection_data(conn, NULL);
}

/*  ---------------------------------------------------------------------
 *  Server-Sent Events
 */

/*  The stream an event stream's path names, into stream:
 *  "/api/v1/streaming/public/local" -> "public:local". Unchanged (the
 *  query's) for /api/v1/streaming itself. */
static void
s_sse_name(const char *path, char *stream, size_t size)
{
    const char *rest = path + strlen(S_PATH);
    if (*rest != '/' || !rest[1])
        return;
    snprintf(stream, size, "%s", rest + 1);
    for (char *p = stream; *p; p++)
        if (*p == '/')
            *p = p[1] ? ':' : '\0'; /* a trailing slash ends it */
}

int
ru_stream_sse(ru_req_t *req)
{
    ru_stream_t *self = req->node->stream;
    const char *why = "No stream given";
    s_ask ask;
    int status = s_ask_read(self, req->conn, S_SSE, &ask, &why);
    s_sse_name(req->path, ask.stream, sizeof ask.stream);
    if (!status && !ask.stream[0])
        status = 400;
    s_conn *c = status ? NULL : s_open(self, req->conn, S_SSE, &ask, &status, &why);
    if (!c)
        return ru_http_error(req, status, "%s", why);
    static const char head[] =
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: text/event-stream; charset=utf-8\r\n"
        "Cache-Control: no-store\r\n" RU_WEB_SECURITY_HEADERS "X-Accel-Buffering: no\r\n"
        "Connection: close\r\n\r\n"
        ":)\n\n";
    if (mg_write(req->conn, head, sizeof head - 1) == (int) sizeof head - 1)
        (void) s_pump(self, c);
    s_conn_close(self, c);
    return 200;
}

int
ru_stream_health(ru_req_t *req)
{
    return ru_http_send(req, 200, "text/plain; charset=utf-8", "OK", 2);
}

/*  ---------------------------------------------------------------------
 *  Life cycle
 */

ru_err
ru_stream_new(ru_node_t *node, ru_stream_t **out)
{
    *out = NULL;
    ru_stream_t *self = calloc(1, sizeof *self);
    if (!self)
        return RU_E_NOMEM;
    self->node = node;
    atomic_init(&self->open, 0);
    ru_buf_init(&self->inbox);
    pthread_mutex_init(&self->lock, NULL);
    pthread_mutex_init(&self->inbox_lock, NULL);
    pthread_cond_init(&self->inbox_wake, NULL);
    s_cond_init_monotonic(&self->goodbye_said);
    if (pthread_create(&self->thread, NULL, s_hub, self) != 0) {
        pthread_cond_destroy(&self->goodbye_said);
        pthread_cond_destroy(&self->inbox_wake);
        pthread_mutex_destroy(&self->inbox_lock);
        pthread_mutex_destroy(&self->lock);
        free(self);
        return RU_E_NOMEM;
    }
    ru_writer_listen(node->writer, s_on_commit, self);
    *out = self;
    return RU_OK;
}

void
ru_stream_serve_websocket(ru_stream_t *self, struct mg_context *ctx)
{
    mg_set_websocket_handler(ctx, S_PATH, s_ws_connect, s_ws_ready, s_ws_data, s_ws_close, self);
}

void
ru_stream_close_all(ru_stream_t *self)
{
    struct timespec limit;
    s_deadline(&limit, S_GOODBYE_MS);
    pthread_mutex_lock(&self->lock);
    self->stopping = 1;
    for (s_conn *c = self->conns; c; c = c->next)
        pthread_cond_signal(&c->wake);
    /* civetweb sends nothing more once it stops: let the goodbyes leave */
    while (self->goodbyes > 0 &&
           pthread_cond_timedwait(&self->goodbye_said, &self->lock, &limit) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&self->lock);
}

void
ru_stream_destroy(ru_stream_t **self_p)
{
    ru_stream_t *self = *self_p;
    if (!self)
        return;
    ru_writer_listen(self->node->writer, NULL, NULL);
    pthread_mutex_lock(&self->inbox_lock);
    self->quit = 1;
    pthread_cond_signal(&self->inbox_wake);
    pthread_mutex_unlock(&self->inbox_lock);
    pthread_join(self->thread, NULL);
    ru_buf_fini(&self->inbox);
    pthread_cond_destroy(&self->goodbye_said);
    pthread_cond_destroy(&self->inbox_wake);
    pthread_mutex_destroy(&self->inbox_lock);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

int
ru_stream_open_count(ru_stream_t *self)
{
    return atomic_load(&self->open);
}

ru_err
ru_stream_collect(void *self, ru_buf_t *out)
{
    ru_prom_single(out, "ruche_streams_open", "gauge",
                   "Streaming API connections (WebSocket and event streams) open.",
                   (double) ru_stream_open_count(self));
    return RU_OK;
}
