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
 *      from ru_event.h, notifications from ru_notify_view.h) and queues a copy
 *      of each, framed for its transport, on every stream that wants it;
 *      every heartbeat_ms it also marks each stream for a ping or a
 *      ":thump";
 *    - the HTTP core's event loop owns every stream's connection: a
 *      stream whose queue got something is woken there (one wake-up at a
 *      time, through ru_http_post()), and the loop sends its queue when
 *      the connection has taken the last write (ru_http_out_idle()). A
 *      slow client holds nobody up: its queue grows until [streaming]
 *      queue_kb, and then the stream is ended and the client
 *      disconnected.
 *  No stream has a thread: ten thousand of them cost their queues and
 *  their connections' buffers only.
 *
 *  A stream opens on a worker (the handshake's or the event stream's
 *  handler: sign-in, origin, limits), which answers it to the core; the
 *  core calls ready() once the head has left, and closed() when it is
 *  over, whichever way: the client left (the loop reads every stream's
 *  connection, so that happens at once), its queue overflowed, or the
 *  node stops. closed() gives the stream's place back; the record is
 *  freed once no wake-up for it is on its way.
 *
 *  A WebSocket handshake answers with the first protocol the client
 *  offered in Sec-WebSocket-Protocol (its token, which Mastodon's clients
 *  send there and expect back), or none when it offered none.
 */
#include "ru_stream.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ru_deadline.h"
#include "ru_entity.h"
#include "ru_event.h"
#include "ru_hash.h"
#include "ru_jsondepth.h"
#include "ru_log.h"
#include "ru_notify_view.h"
#include "ru_prom.h"

#define S_LOG "stream"
#define S_PATH "/api/v1/streaming"
#define S_MAX_SUBS 16      /* streams one connection may subscribe to */
#define S_INBOX_MAX 100000 /* refs waiting for the hub; more are skipped */
#define S_TXN_UPDATES 256  /* updates the hub reads in one transaction */
#define S_GOODBYE_MS 2000  /* for the streams' goodbyes when the node stops */

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

/*  A message as it goes to a connection (an event-stream block, or the
 *  text of a WebSocket message), immutable, shared by the queues of every
 *  stream it goes to. */
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

/*  A stream is open until it ends: its queue overflowed (slow), or its
 *  connection closed. */
typedef enum { S_OPEN, S_SLOW, S_CLOSED } s_state;

typedef struct s_conn {
    ru_stream_t *hub;
    ru_http_out_t *out; /* loop: the connection, once ready; NULL after closed */
    s_transport transport;
    int authed;
    char user[RU_MAX_NAME + 1]; /* "" when nobody signed in */
    s_sub subs[S_MAX_SUBS];
    int nsubs;
    s_item *head, *tail;
    size_t queued; /* bytes waiting */
    s_state state;
    int posted;    /* a wake-up is on its way to the loop */
    int thump;     /* a heartbeat is due */
    int closed;    /* the core is done with it: freed once no wake-up is on its way */
    struct s_conn *prev, *next;
    char protocol[]; /* the subprotocol accepted, "" for none (WebSockets) */
} s_conn;

struct ru_stream {
    ru_node_t *node;
    ru_http_t *http;
    pthread_mutex_t lock;
    s_conn *conns;
    int stopping;
    pthread_cond_t goodbye_said; /* ru_stream_close_all(): one closed */
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

/*  A message of len bytes of text (an event-stream block, or a WebSocket
 *  message's text). NULL out of memory. */
static s_msg *
s_msg_new(const char *text, size_t len)
{
    s_msg *m = malloc(sizeof *m + len);
    if (!m)
        return NULL;
    atomic_init(&m->refs, 1);
    m->len = len;
    memcpy(m->bytes, text, len);
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
    s_msg *m = text ? s_msg_new(text, strlen(text)) : NULL;
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

static void s_on_wake(void *arg);

/*  Wakes c on the event loop, unless a wake-up is on its way (lock held). */
static void
s_wake(ru_stream_t *self, s_conn *c)
{
    if (c->posted || c->closed || !self->http)
        return;
    c->posted = 1;
    if (ru_http_post(self->http, s_on_wake, c) != 0)
        c->posted = 0;
}

/*  Ends c as state says, unless it has ended already, and wakes it
 *  (lock held). */
static void
s_end(ru_stream_t *self, s_conn *c, s_state state)
{
    if (c->state == S_OPEN)
        c->state = state;
    s_queue_clear(c);
    s_wake(self, c);
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
        s_end(self, c, S_SLOW);
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
    s_wake(self, c);
}

/*  Tells a WebSocket client what it got wrong: {"error", "status"}. */
static void
s_complain(ru_stream_t *self, s_conn *c, int status, const char *why)
{
    json_t *msg = json_pack("{s:s,s:i}", "error", why, "status", status);
    char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    s_msg *m = text ? s_msg_new(text, strlen(text)) : NULL;
    s_push(self, c, m);
    s_msg_unref(m);
    free(text);
}

/*  ---------------------------------------------------------------------
 *  Streams on the event loop
 */

static void
s_conn_free(s_conn *c)
{
    s_queue_clear(c);
    free(c);
}

/*  Sends what c has queued, if its connection can take it, or ends it
 *  (loop): a WebSocket gets a close frame, 1001 going away (the node
 *  stops) or 1013 try again later (it read too slowly); an event stream
 *  a last comment, then its end. */
static void
s_flush(ru_stream_t *self, s_conn *c)
{
    if (!c->out)
        return; /* not ready yet, or closed */
    pthread_mutex_lock(&self->lock);
    s_state state = c->state;
    int ending = state != S_OPEN || self->stopping;
    int idle = ru_http_out_idle(c->out);
    s_item *list = idle || ending ? c->head : NULL;
    int thump = idle && !ending && c->thump;
    if (list) {
        c->head = c->tail = NULL;
        c->queued = 0;
    }
    if (thump)
        c->thump = 0;
    pthread_mutex_unlock(&self->lock);
    if (ending) {
        s_items_free(list);
        int slow = state == S_SLOW;
        if (c->transport == S_SSE && idle) {
            static const char bye[] = ":the node is stopping\n\n";
            if (!slow)
                ru_http_out_write(c->out, bye, sizeof bye - 1);
        }
        ru_http_out_close(c->out, slow ? 1013 : 1001,
                          slow ? "too slow: events were dropped" : "the node is stopping");
        return;
    }
    if (c->transport == S_WS) {
        if (thump)
            ru_http_out_ping(c->out);
        for (s_item *it = list; it; it = it->next)
            ru_http_out_write(c->out, it->msg->bytes, it->msg->len);
    } else if (list || thump) {
        ru_buf_t out;
        ru_buf_init(&out);
        if (thump)
            ru_buf_append(&out, ":thump\n\n", 8);
        for (s_item *it = list; it; it = it->next)
            ru_buf_append(&out, it->msg->bytes, it->msg->len);
        if (ru_buf_status(&out) == RU_OK)
            ru_http_out_write(c->out, (const char *) out.data, out.len);
        ru_buf_fini(&out);
    }
    s_items_free(list);
}

static void
s_on_wake(void *arg)
{
    s_conn *c = arg;
    ru_stream_t *self = c->hub;
    pthread_mutex_lock(&self->lock);
    c->posted = 0;
    int closed = c->closed;
    pthread_mutex_unlock(&self->lock);
    if (closed)
        s_conn_free(c);
    else
        s_flush(self, c);
}

static void
s_on_ready(void *ctx, ru_http_out_t *out)
{
    s_conn *c = ctx;
    c->out = out;
    s_flush(c->hub, c);
}

static void s_ws_message(ru_stream_t *self, s_conn *c, const char *data, size_t len);

static void
s_on_message(void *ctx, ru_http_out_t *out, const char *data, size_t len, int text)
{
    s_conn *c = ctx;
    ru_stream_t *self = c->hub;
    (void) out;
    pthread_mutex_lock(&self->lock);
    if (!data)
        s_complain(self, c, 400,
                   "Send each message as one text frame of JSON, of at most [streaming] "
                   "max_message bytes");
    else if (text)
        s_ws_message(self, c, data, len);
    else
        s_complain(self, c, 400, "Send each message as one text frame of JSON");
    pthread_mutex_unlock(&self->lock);
}

static void
s_on_closed(void *ctx)
{
    s_conn *c = ctx;
    ru_stream_t *self = c->hub;
    c->out = NULL;
    pthread_mutex_lock(&self->lock);
    if (c->prev)
        c->prev->next = c->next;
    else if (self->conns == c)
        self->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    c->closed = 1;
    s_queue_clear(c);
    int now = !c->posted;
    atomic_fetch_sub(&self->open, 1);
    pthread_cond_broadcast(&self->goodbye_said);
    pthread_mutex_unlock(&self->lock);
    if (now)
        s_conn_free(c);
}

static const ru_http_stream_ops_t s_ops = {s_on_ready, s_on_message, s_on_closed};

/*  ---------------------------------------------------------------------
 *  Events
 */

/*  What the streams of one kind, tag and viewer get of an event: an event
 *  is worked out once per such trio, whatever the number of streams. */
typedef struct {
    s_sub sub;
    char viewer[RU_MAX_NAME + 1]; /* "" for nobody signed in; "" sub.tag: a free slot */
    int used;
    unsigned transports;          /* a bit per s_transport whose streams need it */
    const char *payload;          /* NULL: not for them */
    s_msg *msg[2];                /* by transport */
} s_fan;

/*  The trios of one event, in a table of open addressing kept at most
 *  half full. */
typedef struct {
    s_fan *slots;
    size_t cap, n;
} s_fans;

static size_t
s_fan_hash(const s_sub *sub, const char *viewer)
{
    char key[16 + RU_MAX_TAG + RU_MAX_NAME];
    snprintf(key, sizeof key, "%d|%s|%s", (int) sub->kind, sub->tag, viewer);
    return (size_t) ru_hash_str(key);
}

/*  The slot of the trio: its own, or the free one where it would go. */
static s_fan *
s_fan_slot(s_fan *slots, size_t cap, const s_sub *sub, const char *viewer)
{
    size_t i = s_fan_hash(sub, viewer) & (cap - 1);
    while (slots[i].used && !(s_sub_equal(&slots[i].sub, sub) && !strcmp(slots[i].viewer, viewer)))
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

/*  Notes that a stream of transport wants the trio; -1 out of memory. */
static int
s_fan_add(s_fans *f, const s_sub *sub, const char *viewer, s_transport transport)
{
    if (2 * (f->n + 1) > f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 64;
        s_fan *slots = calloc(cap, sizeof *slots);
        if (!slots)
            return -1;
        for (size_t i = 0; i < f->cap; i++)
            if (f->slots[i].used)
                *s_fan_slot(slots, cap, &f->slots[i].sub, f->slots[i].viewer) = f->slots[i];
        free(f->slots);
        f->slots = slots;
        f->cap = cap;
    }
    s_fan *slot = s_fan_slot(f->slots, f->cap, sub, viewer);
    if (!slot->used) {
        *slot = (s_fan){.sub = *sub, .used = 1};
        snprintf(slot->viewer, sizeof slot->viewer, "%s", viewer);
        f->n++;
    }
    slot->transports |= 1u << transport;
    return 0;
}

/*  Phase 2, on the hub's thread outside the lock: for each trio, whether
 *  the event is for it, its payload (rendered once per viewer, ru_event.h)
 *  and the message for each transport its streams use. */
static void
s_fan_decide(s_fans *f, ru_event_t *ev)
{
    for (size_t i = 0; i < f->cap; i++) {
        s_fan *t = &f->slots[i];
        const char *viewer = t->viewer[0] ? t->viewer : NULL;
        if (!t->used || !ru_event_wants(ev, t->sub.kind, t->sub.tag, viewer))
            continue;
        t->payload = ru_event_payload(ev, viewer);
        for (int tr = 0; tr < 2 && t->payload; tr++)
            if (t->transports & (1u << tr))
                t->msg[tr] = s_frame((s_transport) tr, &t->sub, ru_event_name(ev), t->payload);
    }
}

static void
s_fans_free(s_fans *f)
{
    for (size_t i = 0; i < f->cap; i++) {
        s_msg_unref(f->slots[i].msg[0]);
        s_msg_unref(f->slots[i].msg[1]);
    }
    free(f->slots);
}

/*  Queues the status event of u on every stream that carries it, in three
 *  steps, so that the hub's lock, which the event loop takes to send any
 *  stream's queue, is never held while anything is rendered or read from
 *  the store: the trios of the open streams, under the lock; what each
 *  gets, outside it; the messages queued, under it again. A stream opened
 *  in between does not get this event (it was not open when it came). */
static void
s_status_event(ru_stream_t *self, ru_txn_t *txn, const ru_update_t *u)
{
    ru_event_t *ev = NULL;
    if (ru_event_new(self->node, txn, u, &ev) != RU_OK || !ev)
        return;
    s_fans fans = {0};
    int lost = 0;
    pthread_mutex_lock(&self->lock);
    for (s_conn *c = self->conns; c; c = c->next)
        for (int i = 0; i < c->nsubs && c->state == S_OPEN; i++)
            lost |= s_fan_add(&fans, &c->subs[i], c->authed ? c->user : "", c->transport);
    pthread_mutex_unlock(&self->lock);
    if (lost)
        ru_log_warn(S_LOG, "out of memory: an event did not reach every stream");
    s_fan_decide(&fans, ev);
    pthread_mutex_lock(&self->lock);
    for (s_conn *c = self->conns; c && fans.cap; c = c->next)
        for (int i = 0; i < c->nsubs && c->state == S_OPEN; i++) {
            s_fan *t = s_fan_slot(fans.slots, fans.cap, &c->subs[i], c->authed ? c->user : "");
            if (t->used && t->payload)
                s_push(self, c, t->msg[c->transport]);
        }
    pthread_mutex_unlock(&self->lock);
    s_fans_free(&fans);
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

/*  Every heartbeat: each stream gets a ping (WebSocket) or a ":thump"
 *  comment (event stream), so that proxies keep it open and a client
 *  gone is noticed. */
static void
s_heartbeat(ru_stream_t *self)
{
    pthread_mutex_lock(&self->lock);
    for (s_conn *c = self->conns; c; c = c->next) {
        c->thump = 1;
        s_wake(self, c);
    }
    pthread_mutex_unlock(&self->lock);
}

static void *
s_hub(void *arg)
{
    ru_stream_t *self = arg;
    ru_buf_t work;
    ru_buf_init(&work);
    long beat_ms = self->node->cfg.stream_heartbeat_ms;
    struct timespec beat;
    ru_deadline(&beat, beat_ms);
    pthread_mutex_lock(&self->inbox_lock);
    for (;;) {
        while (!self->inbox.len && !self->quit)
            if (pthread_cond_timedwait(&self->inbox_wake, &self->inbox_lock, &beat) == ETIMEDOUT) {
                pthread_mutex_unlock(&self->inbox_lock);
                s_heartbeat(self);
                ru_deadline(&beat, beat_ms);
                pthread_mutex_lock(&self->inbox_lock);
            }
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
s_same_origin(const ru_stream_t *self, const ru_req_t *req, int absent_ok)
{
    const char *origin = ru_http_req_header(req, "Origin");
    const char *host = ru_http_req_header(req, "Host");
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

/*  Reads who asks from req, and the stream and tag of its query. Returns
 *  0, or the status of a refusal with *why. */
static int
s_ask_read(ru_stream_t *self, const ru_req_t *req, s_transport t, s_ask *ask, const char **why)
{
    memset(ask, 0, sizeof *ask);
    ru_err err = ru_http_req_account(req, &ask->acct, &ask->via);
    ask->authed = err == RU_OK;
    if (err && ask->via == RU_AUTH_TOKEN) {
        *why = "The access token is invalid";
        return 401;
    }
    if (err)
        ask->via = RU_AUTH_NONE; /* a stale cookie: nobody signed in */
    if (ask->via == RU_AUTH_COOKIE && !s_same_origin(self, req, t == S_SSE)) {
        *why = "A stream signed in by the session cookie must come from this site's pages";
        return 403;
    }
    const char *q = ru_http_req_query(req);
    if (q && ru_http_query_bad(q)) {
        *why = "A query parameter is not UTF-8 or holds a NUL byte";
        return 422;
    }
    if (q && ru_http_form_var(q, "stream", ask->stream, sizeof ask->stream) == -2)
        snprintf(ask->stream, sizeof ask->stream, "?"); /* too long: no stream's name */
    if (q)
        (void) ru_http_form_var(q, "tag", ask->tag, sizeof ask->tag);
    if (t == S_WS)
        ask->protocol = ru_http_ws_protocol(req, &ask->protocol_len);
    return 0;
}

/*  The streams open for user (lock held). */
static long
s_user_streams(const ru_stream_t *self, const char *user)
{
    long n = 0;
    for (const s_conn *c = self->conns; c; c = c->next)
        n += c->authed && strcmp(c->user, user) == 0;
    return n;
}

/*  Opens the stream ask names (none: subscriptions come later), getting
 *  events from now on. NULL, with the status and reason of the refusal,
 *  when it cannot: 503 past [streaming] max_streams or while the node
 *  stops, 429 past max_streams_per_user. */
static s_conn *
s_open(ru_stream_t *self, s_transport t, const s_ask *ask, int *status, const char **why)
{
    s_sub sub;
    *status = ask->stream[0] ? s_sub_parse(ask->stream, ask->tag, ask->authed, &sub, why) : 0;
    if (*status)
        return NULL;
    size_t plen = t == S_WS ? ask->protocol_len : 0;
    s_conn *c = calloc(1, sizeof *c + plen + 1);
    if (!c) {
        *status = 500;
        *why = "out of memory";
        return NULL;
    }
    if (plen)
        memcpy(c->protocol, ask->protocol, plen);
    c->hub = self;
    c->transport = t;
    c->authed = ask->authed;
    snprintf(c->user, sizeof c->user, "%s", ask->authed ? ask->acct.name : "");
    if (ask->stream[0])
        c->subs[c->nsubs++] = sub;
    const ru_config_t *cfg = &self->node->cfg;
    pthread_mutex_lock(&self->lock);
    if (self->stopping || atomic_load(&self->open) >= cfg->max_streams) {
        *status = 503;
        *why = "Too many streams are open: try again later";
    } else if (c->authed && s_user_streams(self, c->user) >= cfg->max_streams_per_user) {
        *status = 429;
        *why = "Too many streams of this user are open ([streaming] max_streams_per_user)";
    } else {
        c->next = self->conns;
        if (c->next)
            c->next->prev = c;
        self->conns = c;
        atomic_fetch_add(&self->open, 1);
    }
    pthread_mutex_unlock(&self->lock);
    if (*status) {
        free(c);
        return NULL;
    }
    return c;
}

/*  ---------------------------------------------------------------------
 *  WebSocket
 */

/*  A client's message, lock held: subscribe or unsubscribe. */
static void
s_ws_message(ru_stream_t *self, s_conn *c, const char *data, size_t len)
{
    long max_depth = self->node->cfg.max_json_depth;
    if (ru_jsondepth(data, len, max_depth) > max_depth) {
        s_complain(self, c, 400, "The message nests deeper than [http] max_json_depth");
        return;
    }
    json_t *msg = json_loadb(data, len, 0, NULL);
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

/*  The handshake's handler (a worker): sign-in, origin, limits. */
static int
s_ws_handshake(ru_req_t *req)
{
    ru_stream_t *self = req->node->stream;
    if (strcmp(req->path, S_PATH) != 0 && strcmp(req->path, S_PATH "/") != 0)
        return ru_http_error(req, 404, "no WebSocket here: %s", req->path);
    const char *why = "";
    s_ask ask;
    int status = s_ask_read(self, req, S_WS, &ask, &why);
    s_conn *c = status ? NULL : s_open(self, S_WS, &ask, &status, &why);
    sodium_memzero(&ask.acct, sizeof ask.acct);
    if (!c)
        return ru_http_error(req, status, "%s", why);
    return ru_http_websocket(req, c->protocol, strlen(c->protocol), &s_ops, c);
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
    int status = s_ask_read(self, req, S_SSE, &ask, &why);
    s_sse_name(req->path, ask.stream, sizeof ask.stream);
    if (!status && !ask.stream[0])
        status = 400;
    s_conn *c = status ? NULL : s_open(self, S_SSE, &ask, &status, &why);
    sodium_memzero(&ask.acct, sizeof ask.acct);
    if (!c)
        return ru_http_error(req, status, "%s", why);
    static const char hello[] = ":)\n\n";
    return ru_http_event_stream(req, "text/event-stream; charset=utf-8", hello, sizeof hello - 1,
                                &s_ops, c);
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
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&self->inbox_wake, &attr);
    pthread_cond_init(&self->goodbye_said, &attr);
    pthread_condattr_destroy(&attr);
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
ru_stream_serve_websocket(ru_stream_t *self, ru_http_t *http)
{
    pthread_mutex_lock(&self->lock);
    self->http = http;
    pthread_mutex_unlock(&self->lock);
    ru_http_on_websocket(http, s_ws_handshake);
}

void
ru_stream_close_all(ru_stream_t *self)
{
    struct timespec limit;
    ru_deadline(&limit, S_GOODBYE_MS);
    pthread_mutex_lock(&self->lock);
    self->stopping = 1;
    for (s_conn *c = self->conns; c; c = c->next)
        s_wake(self, c);
    while (atomic_load(&self->open) > 0 &&
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
