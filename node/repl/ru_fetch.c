/*  ru_fetch.c - fetching the blobs this site lacks (ru_fetch.h).
 *
 *  A flight is one blob being fetched from one peer: the writer its bytes
 *  go to, the next offset expected and the end of the window asked. Its
 *  deadline moves with every chunk. Which blobs to fetch comes from the
 *  wanted list, read a page at a time from where the last read stopped,
 *  so that a long list (a site back from a week cut off) is worked
 *  through in turn rather than from its start each time; the blobs asked
 *  for on first read go first.
 */
#include "ru_fetch.h"

#include <stdlib.h>
#include <string.h>

#include "ru_blobref.h"
#include "ru_log.h"

#define S_LOG "repl"
#define S_SCAN 256                /* wanted entries looked at per tick */
#define S_TICK_MS 1000            /* between looks at the wanted list */
#define S_BACKOFF_MS 30000        /* a blob no peer had: asked again after ... */
#define S_BACKOFF_MAX_MS 3600000  /* ... twice as long each time, up to this */
#define S_TRIED_MAX 64            /* peers remembered as tried, per flight */

typedef struct {
    int used;
    uint8_t hash[RU_HASH_BYTES];
    uint64_t size;
    uint32_t peer;     /* asked of */
    uint64_t next;     /* the offset of the next chunk expected */
    uint64_t asked_to; /* the end of the window asked */
    uint64_t deadline; /* no chunk by then: the next peer */
    uint32_t tried[S_TRIED_MAX];
    int n_tried;
    uint64_t backoff_ms; /* its wait if every peer fails */
    ru_blob_writer_t *w;
} s_flight;

typedef struct {
    uint8_t hash[RU_HASH_BYTES];
    uint64_t at;   /* asked again from then (monotonic ms) */
    uint64_t wait; /* and the wait after that */
} s_later;

struct ru_fetch {
    const ru_peer_ctx_t *ctx;
    s_flight flights[RU_FETCH_FLIGHTS];
    uint8_t asked[RU_FETCH_ASKED][RU_HASH_BYTES]; /* on first read */
    int n_asked;
    s_later later[RU_FETCH_BACKOFF];
    int n_later;
    uint8_t cursor[RU_HASH_BYTES]; /* the wanted list is read on after it */
    int has_cursor;
    uint64_t next_scan;
    ru_replstat_blobs_t stats; /* under the peers' mutex */
};

ru_fetch_t *
ru_fetch_new(const ru_peer_ctx_t *ctx)
{
    ru_fetch_t *self = calloc(1, sizeof *self);
    if (self)
        self->ctx = ctx;
    return self;
}

static void
s_land(s_flight *f)
{
    ru_blob_writer_abort(&f->w);
    f->used = 0;
}

void
ru_fetch_destroy(ru_fetch_t **self_p)
{
    ru_fetch_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < RU_FETCH_FLIGHTS; i++)
        s_land(&self->flights[i]);
    free(self);
    *self_p = NULL;
}

/*  Adds delta to a figure, under the mutex. */
static void
s_count(ru_fetch_t *self, uint64_t *field, uint64_t delta)
{
    pthread_mutex_lock(self->ctx->lock);
    *field += delta;
    pthread_mutex_unlock(self->ctx->lock);
}

void
ru_fetch_stats(const ru_fetch_t *self, ru_replstat_blobs_t *out)
{
    uint64_t served = out->served, served_bytes = out->served_bytes;
    *out = self->stats;
    out->served = served;
    out->served_bytes = served_bytes;
}

/*  ---------------------------------------------------------------------
 *  What is in flight, waits, or was asked for
 */

static s_flight *
s_flight_of(ru_fetch_t *self, const uint8_t *hash)
{
    for (int i = 0; i < RU_FETCH_FLIGHTS; i++)
        if (self->flights[i].used && memcmp(self->flights[i].hash, hash, RU_HASH_BYTES) == 0)
            return &self->flights[i];
    return NULL;
}

static s_later *
s_later_of(ru_fetch_t *self, const uint8_t *hash)
{
    for (int i = 0; i < self->n_later; i++)
        if (memcmp(self->later[i].hash, hash, RU_HASH_BYTES) == 0)
            return &self->later[i];
    return NULL;
}

/*  hash waits until now + wait (the oldest entry makes room). */
static void
s_wait(ru_fetch_t *self, const uint8_t *hash, uint64_t now, uint64_t wait)
{
    s_later *l = s_later_of(self, hash);
    if (!l && self->n_later == RU_FETCH_BACKOFF) {
        memmove(&self->later[0], &self->later[1], (RU_FETCH_BACKOFF - 1) * sizeof *l);
        self->n_later--;
    }
    if (!l)
        l = &self->later[self->n_later++];
    memcpy(l->hash, hash, RU_HASH_BYTES);
    l->at = now + wait;
    l->wait = wait * 2 < S_BACKOFF_MAX_MS ? wait * 2 : S_BACKOFF_MAX_MS;
}

static int
s_busy_peer(const ru_fetch_t *self, uint32_t peer)
{
    for (int i = 0; i < RU_FETCH_FLIGHTS; i++)
        if (self->flights[i].used && self->flights[i].peer == peer)
            return 1;
    return 0;
}

void
ru_fetch_now(ru_fetch_t *self, const uint8_t *hash)
{
    for (int i = 0; i < self->n_asked; i++)
        if (memcmp(self->asked[i], hash, RU_HASH_BYTES) == 0)
            return;
    if (s_flight_of(self, hash) || self->n_asked == RU_FETCH_ASKED)
        return;
    memcpy(self->asked[self->n_asked++], hash, RU_HASH_BYTES);
    s_later *l = s_later_of(self, hash);
    if (l)
        l->at = 0; /* someone waits for it: no more waiting */
    self->next_scan = 0;
}

/*  ---------------------------------------------------------------------
 *  Asking
 */

/*  Asks f's peer p for the next window of f's chunks. 0, or -1 when the
 *  want could not be sent. */
static int
s_ask(ru_fetch_t *self, s_flight *f, ru_peer_t *p, uint64_t now)
{
    uint64_t left = f->size - f->next;
    uint64_t chunks = (left + RU_BLOB_CHUNK - 1) / RU_BLOB_CHUNK;
    uint32_t credit = chunks < RU_MAX_WANT ? (uint32_t) chunks : RU_MAX_WANT;
    ru_buf_t buf;
    ru_buf_init(&buf);
    int ok = ru_msg_encode_want(f->hash, f->next, credit, &buf) == RU_OK &&
             ru_peer_send(p->dealer, &buf) == 0;
    ru_buf_fini(&buf);
    if (!ok)
        return -1;
    uint64_t window = (uint64_t) credit * RU_BLOB_CHUNK;
    f->asked_to = window < left ? f->next + window : f->size;
    f->deadline = now + (uint64_t) self->ctx->cfg->sync_timeout_ms;
    return 0;
}

static int
s_tried(const s_flight *f, uint32_t peer)
{
    for (int i = 0; i < f->n_tried; i++)
        if (f->tried[i] == peer)
            return 1;
    return 0;
}

/*  Sends f to the next direct peer it has not tried and that is not busy
 *  with another flight, from the start. When there is none, f lands: its
 *  blob is asked for again at the next tick when some peer not tried was
 *  busy, else it waits (every peer failed it). */
static void
s_next_peer(ru_fetch_t *self, s_flight *f, ru_peer_t *const *peers, int n, uint64_t now)
{
    ru_blob_writer_abort(&f->w);
    int busy = 0; /* peers not tried yet that fetch another blob for us now */
    for (int k = 0; k < n; k++) {
        ru_peer_t *p = peers[(f->hash[0] + k) % n];
        if (!ru_peer_direct(p) || !p->dealer || s_tried(f, p->id))
            continue;
        if (s_busy_peer(self, p->id)) {
            busy++;
            continue;
        }
        if (f->n_tried < S_TRIED_MAX)
            f->tried[f->n_tried++] = p->id;
        uint64_t max = f->size;
        if (ru_blob_writer_begin(self->ctx->blobs, f->hash, f->size, max, &f->w) != RU_OK) {
            s_count(self, &self->stats.failed, 1); /* the quota, the disk: logged there */
            break;
        }
        f->peer = p->id;
        f->next = 0;
        if (s_ask(self, f, p, now) == 0) {
            ru_log_debug(S_LOG, "[peer %s] asked for a blob of %llu bytes", p->cfg.site,
                         (unsigned long long) f->size);
            return;
        }
        ru_blob_writer_abort(&f->w);
    }
    if (busy) { /* not every peer was asked: it waits for one to be free, at the next tick */
        s_land(f);
        return;
    }
    ru_log_debug(S_LOG, "no peer gave a blob of %llu bytes: asked again later",
                 (unsigned long long) f->size);
    s_wait(self, f->hash, now, f->backoff_ms ? f->backoff_ms : S_BACKOFF_MS);
    s_land(f);
}

/*  Starts a flight for hash of size bytes, if there is room. */
static void
s_start(ru_fetch_t *self, const uint8_t *hash, uint64_t size, ru_peer_t *const *peers, int n,
        uint64_t now)
{
    s_flight *f = NULL;
    for (int i = 0; !f && i < RU_FETCH_FLIGHTS; i++)
        if (!self->flights[i].used)
            f = &self->flights[i];
    if (!f)
        return;
    memset(f, 0, sizeof *f);
    f->used = 1;
    memcpy(f->hash, hash, RU_HASH_BYTES);
    f->size = size;
    s_later *l = s_later_of(self, hash);
    f->backoff_ms = l ? l->wait : S_BACKOFF_MS;
    s_count(self, &self->stats.in_flight, 1);
    s_next_peer(self, f, peers, n, now);
    if (!f->used)
        s_count(self, &self->stats.in_flight, (uint64_t) -1);
}

/*  ---------------------------------------------------------------------
 *  Choosing what to fetch
 */

/*  The size of a blob referenced and not held here, that may be fetched
 *  now (asked: someone reads it); 0 when it is not one. */
static uint64_t
s_fetchable(ru_fetch_t *self, ru_txn_t *txn, const uint8_t *hash, int asked, uint64_t now)
{
    ru_blobref_t ref;
    s_later *l = s_later_of(self, hash);
    if (s_flight_of(self, hash) || (l && l->at > now) ||
        ru_blobref_get(txn, hash, &ref) != RU_OK || ref.size == 0 ||
        ru_blob_has(self->ctx->blobs, hash))
        return 0;
    uint64_t now_max = (uint64_t) self->ctx->cfg->media_fetch_now_mb << 20;
    return asked || ref.size <= now_max ? ref.size : 0;
}

typedef struct {
    ru_fetch_t *self;
    ru_txn_t *txn;
    ru_peer_t *const *peers;
    int n, seen;
    uint64_t now;
} s_scan;

static int
s_scan_one(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) val;
    s_scan *s = ctx;
    ru_fetch_t *self = s->self;
    if (key->mv_size != RU_HASH_BYTES)
        return 0;
    memcpy(self->cursor, key->mv_data, RU_HASH_BYTES);
    self->has_cursor = 1;
    uint64_t size = s_fetchable(self, s->txn, key->mv_data, 0, s->now);
    if (size)
        s_start(self, key->mv_data, size, s->peers, s->n, s->now);
    int room = 0;
    for (int i = 0; i < RU_FETCH_FLIGHTS; i++)
        room |= !self->flights[i].used;
    return ++s->seen >= S_SCAN || !room;
}

/*  The blobs asked for on first read, then the wanted list from the
 *  cursor (from the start again once it reached the end). */
static void
s_choose(ru_fetch_t *self, ru_peer_t *const *peers, int n, uint64_t now)
{
    ru_txn_t txn;
    if (ru_store_read(self->ctx->store, &txn) != RU_OK)
        return;
    int kept = 0;
    for (int i = 0; i < self->n_asked; i++) {
        uint64_t size = s_fetchable(self, &txn, self->asked[i], 1, now);
        if (size)
            s_start(self, self->asked[i], size, peers, n, now);
        if (size && !s_flight_of(self, self->asked[i]))
            memmove(self->asked[kept++], self->asked[i], RU_HASH_BYTES); /* no room yet */
    }
    self->n_asked = kept;
    s_scan s = {self, &txn, peers, n, 0, now};
    ru_err err = self->has_cursor ? ru_txn_scan_after(&txn, RU_DB_blob_want, NULL, 0, self->cursor,
                                                      RU_HASH_BYTES, s_scan_one, &s)
                                  : ru_txn_scan(&txn, RU_DB_blob_want, NULL, 0, 0, s_scan_one, &s);
    if (!err && s.seen < S_SCAN)
        self->has_cursor = 0; /* the end: from the start next time */
    ru_txn_abort(&txn);
}

void
ru_fetch_tick(ru_fetch_t *self, ru_peer_t *const *peers, int n, uint64_t now)
{
    if (!self->ctx->blobs)
        return;
    for (int i = 0; i < RU_FETCH_FLIGHTS; i++) {
        s_flight *f = &self->flights[i];
        if (f->used && now >= f->deadline) {
            s_count(self, &self->stats.timed_out, 1);
            s_next_peer(self, f, peers, n, now);
            if (!f->used)
                s_count(self, &self->stats.in_flight, (uint64_t) -1);
        }
    }
    if (now < self->next_scan)
        return;
    self->next_scan = now + S_TICK_MS;
    s_choose(self, peers, n, now);
}

uint64_t
ru_fetch_next_ms(const ru_fetch_t *self)
{
    uint64_t next = self->ctx->blobs ? self->next_scan : UINT64_MAX;
    for (int i = 0; i < RU_FETCH_FLIGHTS; i++)
        if (self->flights[i].used && self->flights[i].deadline < next)
            next = self->flights[i].deadline;
    return next;
}

/*  ---------------------------------------------------------------------
 *  What comes back
 */

/*  f's last chunk came: the blob stored if its hash is the one asked. */
static void
s_arrived(ru_fetch_t *self, s_flight *f, ru_peer_t *p, ru_peer_t *const *peers, int n,
          uint64_t now)
{
    ru_err err = ru_blob_writer_commit(&f->w, NULL);
    if (err == RU_E_BLOB_HASH || err == RU_E_BLOB_SIZE) {
        s_count(self, &self->stats.bad, 1);
        ru_peer_link_event(p, RU_LINK_BAD_BLOB,
                           "a blob it sent does not match its hash: refused, asked elsewhere");
        s_next_peer(self, f, peers, n, now);
    } else if (err) {
        s_count(self, &self->stats.failed, 1);
        s_wait(self, f->hash, now, f->backoff_ms);
        s_land(f);
    } else {
        pthread_mutex_lock(self->ctx->lock);
        self->stats.fetched++;
        self->stats.bytes += f->size;
        pthread_mutex_unlock(self->ctx->lock);
        s_land(f);
    }
    if (!f->used)
        s_count(self, &self->stats.in_flight, (uint64_t) -1);
}

static void
s_chunk(ru_fetch_t *self, ru_peer_t *p, const ru_msg_t *msg, ru_peer_t *const *peers, int n,
        uint64_t now)
{
    s_flight *f = s_flight_of(self, msg->blob);
    if (!f || f->peer != p->id || msg->offset != f->next ||
        msg->offset + msg->data.len > f->asked_to) {
        ru_peer_link_event(p, RU_LINK_MISPLACED, "a chunk we did not ask for refused");
        return;
    }
    if (msg->blob_size != f->size) { /* a hash names bytes, and so one size */
        s_count(self, &self->stats.bad, 1);
        ru_peer_link_event(p, RU_LINK_BAD_BLOB,
                           "a blob it sent is not of its descriptor's size: refused, asked "
                           "elsewhere");
        s_next_peer(self, f, peers, n, now);
        if (!f->used)
            s_count(self, &self->stats.in_flight, (uint64_t) -1);
        return;
    }
    if (ru_blob_writer_write(f->w, msg->data.ptr, msg->data.len) != RU_OK) {
        s_count(self, &self->stats.failed, 1);
        s_wait(self, f->hash, now, f->backoff_ms);
        s_land(f);
        s_count(self, &self->stats.in_flight, (uint64_t) -1);
        return;
    }
    f->next += msg->data.len;
    f->deadline = now + (uint64_t) self->ctx->cfg->sync_timeout_ms;
    if (f->next == f->size)
        s_arrived(self, f, p, peers, n, now);
    else if (f->next == f->asked_to && s_ask(self, f, p, now) != 0)
        s_next_peer(self, f, peers, n, now);
}

void
ru_fetch_message(ru_fetch_t *self, ru_peer_t *p, const ru_msg_t *msg, ru_peer_t *const *peers,
                 int n, uint64_t now)
{
    if (msg->type == RU_MSG_CHUNK) {
        s_chunk(self, p, msg, peers, n, now);
        return;
    }
    s_flight *f = s_flight_of(self, msg->blob); /* a lack */
    if (!f || f->peer != p->id)
        return; /* one that answers no want outstanding: it came after the timeout */
    s_count(self, &self->stats.lacked, 1);
    s_next_peer(self, f, peers, n, now);
    if (!f->used)
        s_count(self, &self->stats.in_flight, (uint64_t) -1);
}
