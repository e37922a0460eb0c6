/*  ru_writer.c - the store actor (see ru_writer.h).
 *
 *  Requests come in through a mutex-protected list rather than ZeroMQ
 *  inproc sockets: callers are the HTTP core's worker threads,
 *  where a socket per thread would need its own life-cycle management, and
 *  a request is a function pointer and an argument that never leave the
 *  process. Each caller waits on one shared condition variable for its own
 *  request's done flag.
 *
 *  A batch is run by s_run(): a top transaction, a nested one per request.
 *  RU_E_STORE_FULL from a request or a commit means the map is full: every
 *  open transaction is aborted, the map grown, and the batch run again from
 *  the start. When the map cannot grow, the request that hit the limit fails
 *  with RU_E_STORE_FULL and the rest run again without it.
 *
 *  The refs of a batch's applied updates are kept beside the envelopes for
 *  the listener, which is called with the lock held after the commit: a
 *  listener removed by ru_writer_listen() is then surely not running.
 *  When a request fails, its child transaction is aborted and both buffers
 *  are cut back to where they stood before it ran: an update that a failed
 *  request applied is neither published nor told, for it is not in the
 *  store, and the next local update takes its seq.
 *
 *  The node's HLC lives here, saved in meta with every commit, so local
 *  updates keep increasing times across restarts even if the wall clock
 *  goes back.
 */
#include "ru_writer.h"

#include <czmq.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ru_dbkey.h"
#include "ru_log.h"
#include "ru_prom.h"

#define S_MAX_BATCH 1024
#define S_META_HLC "hlc"

typedef struct s_req {
    ru_writer_fn fn;
    void *arg;
    ru_err result;
    int decided; /* failed on its own: out of the batch */
    int done;
    struct s_req *next;
} s_req;

struct ru_writer {
    ru_store_t *store;
    char *publish_to; /* endpoint, or NULL */
    zsock_t *publish; /* the writer thread's own PUSH socket */
    ru_buf_t applied; /* the batch's applied envelopes: u32 length | bytes ... */
    ru_buf_t refs;    /* the batch's applied updates: ru_ref_t ... */
    ru_writer_listener listener;
    void *listener_ctx;
    uint64_t hlc_committed;
    const ru_key_t *key;
    ru_site_resolver resolve;
    void *resolve_ctx;
    ru_hlc_t hlc;
    ru_apply_limits_t limits;     /* the writer thread's copy ... */
    ru_apply_limits_t limits_set; /* ... of this, under the lock */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* the writer: work or stop */
    pthread_cond_t done; /* callers: some request finished */
    s_req *head, *tail;
    int stopping;
    atomic_ulong commits; /* also read without the lock (ru_writer_generation) */
    unsigned long requests;
    atomic_int room;         /* the last batch's refusal for lack of room, RU_OK (ru_writer_room) */
};

/*  Keeps an applied update's ref for the listener and its envelope for
 *  publishing, after the commit. */
static void
s_collect(void *ctx, const ru_envelope_t *env, const ru_update_t *u)
{
    ru_writer_t *self = ctx;
    ru_ref_t ref;
    memcpy(ref.origin, u->origin, RU_KEY_BYTES);
    ref.seq = u->seq;
    ru_buf_append(&self->refs, &ref, sizeof ref);
    if (!self->publish)
        return;
    uint8_t len[4] = {(uint8_t) (env->wire_len >> 24), (uint8_t) (env->wire_len >> 16),
                      (uint8_t) (env->wire_len >> 8), (uint8_t) env->wire_len};
    ru_buf_append(&self->applied, len, sizeof len);
    ru_buf_append(&self->applied, env->wire, env->wire_len);
}

/*  Sends the collected envelopes of a committed batch to the publisher.
 *  If collecting them ran out of memory, none is sent (the buffer would
 *  not hold what its lengths say): the peers' catch-up fetches them. */
static void
s_publish(ru_writer_t *self)
{
    size_t at = 0;
    if (self->publish && ru_buf_status(&self->applied) != RU_OK) {
        ru_log_warn("writer", "out of memory: a batch's updates wait for catch-up");
        at = self->applied.len;
    }
    while (self->publish && at + 4 <= self->applied.len) {
        const uint8_t *p = self->applied.data + at;
        size_t len = (size_t) p[0] << 24 | (size_t) p[1] << 16 | (size_t) p[2] << 8 | p[3];
        if (zmq_send(zsock_resolve(self->publish), p + 4, len, ZMQ_DONTWAIT) < 0)
            ru_log_warn("writer", "the publish queue is full: an update waits for catch-up");
        at += 4 + len;
    }
    ru_buf_reset(&self->applied);
}

/*  Hands the refs of a committed batch to the listener; lock held. */
static void
s_tell_listener(ru_writer_t *self)
{
    size_t n = self->refs.len / sizeof(ru_ref_t);
    if (self->listener && n && ru_buf_status(&self->refs) == RU_OK)
        self->listener(self->listener_ctx, (const ru_ref_t *) (const void *) self->refs.data, n);
    ru_buf_reset(&self->refs);
}

/*  Runs every undecided request of batch in txn, each in a child
 *  transaction. Returns RU_E_STORE_FULL (and sets *full) when the map
 *  filled up, else RU_OK; a request's own failure is its result. */
static ru_err
s_run_requests(ru_writer_t *self, ru_txn_t *txn, s_req **batch, int n, s_req **full)
{
    ru_apply_t apply = {{NULL, ru_key_public(self->key), self->resolve, self->resolve_ctx},
                        &self->hlc,
                        s_collect,
                        self,
                        self->limits};
    for (int i = 0; i < n; i++) {
        s_req *r = batch[i];
        if (r->decided)
            continue;
        ru_txn_t child;
        size_t applied = self->applied.len, refs = self->refs.len;
        ru_err err = ru_txn_child(txn, &child);
        if (!err) {
            apply.state.txn = &child;
            ru_writer_ctx_t ctx = {&child, &apply, self->key};
            err = r->fn(&ctx, r->arg);
            if (err)
                ru_txn_abort(&child);
            else
                err = ru_txn_commit(&child);
        }
        if (err) { /* what it applied is gone: nobody may hear of it */
            ru_buf_truncate(&self->applied, applied);
            ru_buf_truncate(&self->refs, refs);
        }
        r->result = err;
        if (err == RU_E_STORE_FULL) {
            *full = r;
            return err;
        }
    }
    return RU_OK;
}

static ru_err
s_save_hlc(ru_writer_t *self, ru_txn_t *txn)
{
    uint8_t v[8];
    ru_dbkey_be64(v, self->hlc.last);
    return ru_txn_put(txn, RU_DB_meta, S_META_HLC, strlen(S_META_HLC), v, sizeof v);
}

/*  One attempt at the batch: RU_E_STORE_FULL means "grow and try again". */
static ru_err
s_attempt(ru_writer_t *self, s_req **batch, int n, s_req **full)
{
    ru_txn_t txn;
    ru_buf_reset(&self->applied); /* from an attempt that did not commit */
    ru_buf_reset(&self->refs);
    ru_err err = ru_store_write(self->store, &txn);
    if (err)
        return err;
    err = s_run_requests(self, &txn, batch, n, full);
    if (!err)
        err = s_save_hlc(self, &txn);
    if (err) {
        ru_txn_abort(&txn);
        return err;
    }
    return ru_txn_commit(&txn);
}

/*  Notes whether the batch found room: a request or the commit refused
 *  for a full map or disk says the store cannot write until a batch fits. */
static void
s_note_room(ru_writer_t *self, s_req **batch, int n)
{
    ru_err room = RU_OK;
    for (int i = 0; i < n; i++)
        if (batch[i]->result == RU_E_STORE_FULL || batch[i]->result == RU_E_DISK_FULL)
            room = batch[i]->result;
    atomic_store(&self->room, (int) room);
}

static void
s_run(ru_writer_t *self, s_req **batch, int n)
{
    ru_err err;
    for (;;) {
        s_req *full = NULL;
        err = s_attempt(self, batch, n, &full);
        if (err != RU_E_STORE_FULL)
            break;
        if (ru_store_grow(self->store) == RU_OK)
            continue;
        if (!full)
            break;         /* the commit itself did not fit: everyone fails */
        full->decided = 1; /* it cannot fit: it fails, the others go on */
    }
    for (int i = 0; i < n; i++)
        if (!batch[i]->decided && (err || batch[i]->result == RU_E_STORE_FULL))
            batch[i]->result = err ? err : RU_E_STORE_FULL;
    s_note_room(self, batch, n);
    if (!err)
        s_publish(self);
    else
        ru_buf_reset(&self->refs); /* nothing was committed */
    ru_buf_reset(&self->applied);
}

/*  Takes up to S_MAX_BATCH queued requests; waits for some unless
 *  stopping. Returns how many (0: time to stop). */
static int
s_take(ru_writer_t *self, s_req **batch)
{
    int n = 0;
    pthread_mutex_lock(&self->lock);
    while (!self->head && !self->stopping)
        pthread_cond_wait(&self->wake, &self->lock);
    while (self->head && n < S_MAX_BATCH) {
        batch[n++] = self->head;
        self->head = self->head->next;
    }
    if (!self->head)
        self->tail = NULL;
    self->limits = self->limits_set;
    pthread_mutex_unlock(&self->lock);
    return n;
}

static void *
s_thread(void *arg)
{
    ru_writer_t *self = arg;
    static _Thread_local s_req *batch[S_MAX_BATCH];
    int n;
    if (self->publish_to) { /* the socket is born, used and closed in this thread */
        self->publish = zsock_new(ZMQ_PUSH);
        if (self->publish) {
            zsock_set_sndhwm(self->publish, 100000);
            if (zsock_connect(self->publish, "%s", self->publish_to) != 0)
                zsock_destroy(&self->publish);
        }
        if (!self->publish)
            ru_log_err("writer", "cannot connect to %s: nothing will be published",
                       self->publish_to);
    }
    while ((n = s_take(self, batch)) > 0) {
        s_run(self, batch, n);
        pthread_mutex_lock(&self->lock);
        self->hlc_committed = self->hlc.last;
        atomic_fetch_add(&self->commits, 1);
        self->requests += (unsigned long) n;
        s_tell_listener(self);
        for (int i = 0; i < n; i++)
            batch[i]->done = 1;
        pthread_cond_broadcast(&self->done);
        pthread_mutex_unlock(&self->lock);
    }
    zsock_destroy(&self->publish);
    return NULL;
}

/*  The HLC saved by the last commit, so time never runs back. */
static ru_err
s_load_hlc(ru_writer_t *self)
{
    ru_txn_t txn;
    MDB_val val;
    ru_err err = ru_store_read(self->store, &txn);
    if (err)
        return err;
    err = ru_txn_get(&txn, RU_DB_meta, S_META_HLC, strlen(S_META_HLC), &val);
    if (!err && val.mv_size == 8)
        self->hlc.last = ru_dbkey_get64(val.mv_data);
    ru_txn_abort(&txn);
    return err == RU_E_NOT_FOUND ? RU_OK : err;
}

ru_err
ru_writer_new(ru_store_t *store, const ru_key_t *key, ru_site_resolver resolve, void *resolve_ctx,
              const char *publish_to, ru_writer_t **out)
{
    *out = NULL;
    ru_writer_t *self = calloc(1, sizeof *self);
    if (!self)
        return RU_E_NOMEM;
    atomic_init(&self->commits, 0);
    atomic_init(&self->room, (int) RU_OK);
    self->publish_to = publish_to ? strdup(publish_to) : NULL;
    ru_buf_init(&self->applied);
    ru_buf_init(&self->refs);
    self->store = store;
    self->key = key;
    self->resolve = resolve;
    self->resolve_ctx = resolve_ctx;
    ru_hlc_init(&self->hlc, RU_HLC_DEFAULT_SKEW_MS);
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->wake, NULL);
    pthread_cond_init(&self->done, NULL);
    ru_err err = s_load_hlc(self);
    if (!err && pthread_create(&self->thread, NULL, s_thread, self) != 0)
        err = RU_E_NOMEM;
    self->hlc_committed = self->hlc.last;
    if (err) {
        pthread_cond_destroy(&self->wake);
        pthread_cond_destroy(&self->done);
        pthread_mutex_destroy(&self->lock);
        free(self->publish_to);
        free(self);
        return err;
    }
    *out = self;
    return RU_OK;
}

void
ru_writer_set_limits(ru_writer_t *self, ru_apply_limits_t limits)
{
    pthread_mutex_lock(&self->lock);
    self->limits_set = limits;
    pthread_mutex_unlock(&self->lock);
}

void
ru_writer_destroy(ru_writer_t **self_p)
{
    ru_writer_t *self = *self_p;
    if (!self)
        return;
    pthread_mutex_lock(&self->lock);
    self->stopping = 1;
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->lock);
    pthread_join(self->thread, NULL);
    ru_buf_fini(&self->applied);
    ru_buf_fini(&self->refs);
    free(self->publish_to);
    pthread_cond_destroy(&self->wake);
    pthread_cond_destroy(&self->done);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

ru_err
ru_writer_call(ru_writer_t *self, ru_writer_fn fn, void *arg)
{
    s_req req = {.fn = fn, .arg = arg};
    pthread_mutex_lock(&self->lock);
    if (self->tail)
        self->tail->next = &req;
    else
        self->head = &req;
    self->tail = &req;
    pthread_cond_signal(&self->wake);
    while (!req.done)
        pthread_cond_wait(&self->done, &self->lock);
    pthread_mutex_unlock(&self->lock);
    return req.result;
}

void
ru_writer_listen(ru_writer_t *self, ru_writer_listener fn, void *ctx)
{
    pthread_mutex_lock(&self->lock);
    self->listener = fn;
    self->listener_ctx = ctx;
    pthread_mutex_unlock(&self->lock);
}

uint64_t
ru_writer_hlc(ru_writer_t *self)
{
    pthread_mutex_lock(&self->lock);
    uint64_t hlc = self->hlc_committed;
    pthread_mutex_unlock(&self->lock);
    return hlc;
}

void
ru_writer_stats(ru_writer_t *self, unsigned long *commits, unsigned long *requests)
{
    pthread_mutex_lock(&self->lock);
    *commits = atomic_load(&self->commits);
    *requests = self->requests;
    pthread_mutex_unlock(&self->lock);
}

ru_err
ru_writer_room(ru_writer_t *self)
{
    ru_err room = (ru_err) atomic_load(&self->room);
    if (room == RU_E_DISK_FULL && !ru_store_disk_full(self->store))
        return RU_OK; /* space came back: the next batch will tell */
    return room;
}

unsigned long
ru_writer_generation(ru_writer_t *self)
{
    return atomic_load(&self->commits);
}

size_t
ru_writer_queued(ru_writer_t *self)
{
    size_t n = 0;
    pthread_mutex_lock(&self->lock);
    for (const s_req *r = self->head; r; r = r->next)
        n++;
    pthread_mutex_unlock(&self->lock);
    return n;
}

ru_err
ru_writer_collect(void *self, ru_buf_t *out)
{
    unsigned long commits = 0, requests = 0;
    ru_writer_stats(self, &commits, &requests);
    ru_prom_single(out, "ruche_writer_commits_total", "counter", "Durable LMDB commits.",
                   (double) commits);
    ru_prom_single(out, "ruche_writer_requests_total", "counter",
                   "Write requests run by the store actor (many share one commit).",
                   (double) requests);
    ru_prom_single(out, "ruche_writer_queue_depth", "gauge",
                   "Write requests waiting for the store actor.", (double) ru_writer_queued(self));
    return RU_OK;
}
