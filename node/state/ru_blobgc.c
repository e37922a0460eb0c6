/*  ru_blobgc.c - the media collector (ru_blobgc.h).
 *
 *  Each step reads what is due in a read transaction, a batch at a time,
 *  and changes it through the store actor, which checks again what it
 *  changes: between the read and the write a reference may have come
 *  back. A blob's file is unlinked inside the store actor's request that
 *  takes it off the list, so that it is serialized with the requests that
 *  make a reference (an upload made ready checks its files are there in
 *  its own request, ru_mediaq.c).
 */
#include "ru_blobgc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ruche/ru_hlc.h"

#include "ru_blobref.h"
#include "ru_log.h"
#include "ru_upload.h"

#define S_LOG "media"
#define S_BATCH 512

struct ru_blobgc {
    ru_store_t *store;
    ru_writer_t *writer;
    ru_blob_t *blobs;
    ru_blobgc_opts_t opts;
    pthread_t thread;
    int running;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stopping;
};

/*  A batch of ids or hashes found due. */
typedef struct {
    uint64_t now_ms;
    uint64_t life_ms;
    ru_txn_t *txn;
    uint64_t ids[S_BATCH];
    uint8_t hashes[S_BATCH][RU_HASH_BYTES];
    size_t n;
    uint64_t done;
} s_batch;

/*  ---------------------------------------------------------------------
 *  Expired uploads
 */

static int
s_due_upload(void *ctx, uint64_t id)
{
    s_batch *b = ctx;
    ru_upload_t rec;
    if (ru_upload_get(b->txn, id, &rec) == RU_OK && rec.created_ms + b->life_ms <= b->now_ms)
        b->ids[b->n++] = id;
    return b->n == S_BATCH;
}

static ru_err
s_expire_uploads(const ru_writer_ctx_t *ctx, void *arg)
{
    s_batch *b = arg;
    ru_err err = RU_OK;
    ru_buf_t copy;
    ru_buf_init(&copy);
    b->done = 0;
    for (size_t i = 0; !err && i < b->n; i++) {
        ru_upload_t rec;
        err = ru_upload_get(ctx->txn, b->ids[i], &rec);
        if (err == RU_E_NOT_FOUND) {
            err = RU_OK;
            continue;
        }
        ru_buf_reset(&copy); /* rec's views, copied before the writes */
        ru_buf_append(&copy, rec.media.ptr, rec.media.len);
        ru_buf_append(&copy, rec.owner.ptr, rec.owner.len);
        if (!err)
            err = ru_buf_status(&copy);
        ru_str_t owner = {(const char *) copy.data + rec.media.len, rec.owner.len};
        if (!err && rec.state == RU_UPLOAD_READY)
            err = ru_blobref_packed(ctx->txn, copy.data, rec.media.len, -1, b->now_ms);
        if (!err)
            err = ru_upload_del(ctx->txn, b->ids[i], owner);
        b->done += !err;
    }
    ru_buf_fini(&copy);
    return err;
}

/*  ---------------------------------------------------------------------
 *  Blobs no one references
 */

static int
s_due_blob(void *ctx, const MDB_val *key, const MDB_val *val)
{
    s_batch *b = ctx;
    const uint8_t *p = val->mv_data;
    uint64_t at = 0;
    for (size_t i = 0; i < 8 && val->mv_size == 8; i++)
        at = (at << 8) | p[i];
    if (key->mv_size == RU_HASH_BYTES && at + b->life_ms <= b->now_ms)
        memcpy(b->hashes[b->n++], key->mv_data, RU_HASH_BYTES);
    return b->n == S_BATCH;
}

typedef struct {
    s_batch *b;
    ru_blob_t *blobs;
} s_collect;

static ru_err
s_collect_blobs(const ru_writer_ctx_t *ctx, void *arg)
{
    s_collect *c = arg;
    s_batch *b = c->b;
    ru_err err = RU_OK;
    b->done = 0;
    for (size_t i = 0; !err && i < b->n; i++) {
        ru_blobref_t ref;
        err = ru_blobref_get(ctx->txn, b->hashes[i], &ref);
        int unused = err == RU_E_NOT_FOUND;
        err = unused ? RU_OK : err;
        if (!err)
            err = ru_txn_del(ctx->txn, RU_DB_blob_gc, b->hashes[i], RU_HASH_BYTES);
        if (!err && unused) {
            err = ru_blob_remove(c->blobs, b->hashes[i]);
            b->done++;
        }
    }
    return err;
}

/*  ---------------------------------------------------------------------
 *  Wanted blobs that arrived
 */

typedef struct {
    s_batch *b;
    ru_blob_t *blobs;
} s_arrived;

static int
s_due_want(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) val;
    s_arrived *a = ctx;
    if (key->mv_size == RU_HASH_BYTES && ru_blob_has(a->blobs, key->mv_data))
        memcpy(a->b->hashes[a->b->n++], key->mv_data, RU_HASH_BYTES);
    return a->b->n == S_BATCH;
}

static ru_err
s_unwant(const ru_writer_ctx_t *ctx, void *arg)
{
    s_batch *b = arg;
    ru_err err = RU_OK;
    for (size_t i = 0; !err && i < b->n; i++)
        err = ru_txn_del(ctx->txn, RU_DB_blob_want, b->hashes[i], RU_HASH_BYTES);
    b->done = err ? 0 : b->n;
    return err;
}

typedef enum { S_UPLOADS, S_BLOBS, S_WANTS } s_kind;

/*  Runs one step: scan (in a read transaction) then change (through the
 *  store actor), batch after batch until nothing is due. */
static ru_err
s_step(ru_blobgc_t *self, s_batch *b, s_kind kind, uint64_t *total)
{
    for (;;) {
        ru_txn_t txn;
        ru_err err = ru_store_read(self->store, &txn);
        if (err)
            return err;
        b->txn = &txn;
        b->n = 0;
        s_arrived a = {b, self->blobs};
        if (kind == S_BLOBS)
            err = ru_txn_scan(&txn, RU_DB_blob_gc, NULL, 0, 0, s_due_blob, b);
        else if (kind == S_WANTS)
            err = ru_txn_scan(&txn, RU_DB_blob_want, NULL, 0, 0, s_due_want, &a);
        else
            err = ru_upload_each(&txn, NULL, s_due_upload, b);
        ru_txn_abort(&txn);
        b->txn = NULL;
        if (err || b->n == 0)
            return err;
        s_collect c = {b, self->blobs};
        if (kind == S_BLOBS)
            err = ru_writer_call(self->writer, s_collect_blobs, &c);
        else if (kind == S_WANTS)
            err = ru_writer_call(self->writer, s_unwant, b);
        else
            err = ru_writer_call(self->writer, s_expire_uploads, b);
        if (err)
            return err;
        *total += b->done;
        if (b->n < S_BATCH)
            return RU_OK;
    }
}

ru_err
ru_blobgc_round(ru_blobgc_t *self, uint64_t now_ms, uint64_t *uploads, uint64_t *blobs)
{
    s_batch *b = calloc(1, sizeof *b);
    if (!b)
        return RU_E_NOMEM;
    *uploads = *blobs = 0;
    b->now_ms = now_ms;
    b->life_ms = self->opts.upload_ms;
    ru_err err = s_step(self, b, S_UPLOADS, uploads);
    b->life_ms = self->opts.grace_ms;
    if (!err)
        err = s_step(self, b, S_BLOBS, blobs);
    uint64_t arrived = 0;
    if (!err)
        err = s_step(self, b, S_WANTS, &arrived);
    free(b);
    return err;
}

/*  ---------------------------------------------------------------------
 *  The sweep: files nothing references nor lists
 */

typedef struct {
    ru_store_t *store;
    ru_blob_t *blobs;
    uint8_t (*found)[RU_HASH_BYTES];
    size_t n, cap;
    ru_err err;
} s_sweep;

/*  Adds hash to what the sweep found: 0, or 1 (stop) out of memory. */
static int
s_found(s_sweep *s, const uint8_t *hash)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        uint8_t(*found)[RU_HASH_BYTES] = realloc(s->found, cap * sizeof *found);
        if (!found) {
            s->err = RU_E_NOMEM;
            return 1;
        }
        s->found = found;
        s->cap = cap;
    }
    memcpy(s->found[s->n++], hash, RU_HASH_BYTES);
    return 0;
}

static int
s_sweep_file(const uint8_t *hash, uint64_t size, void *arg)
{
    (void) size;
    s_sweep *s = arg;
    ru_txn_t txn;
    MDB_val val;
    if ((s->err = ru_store_read(s->store, &txn)) != RU_OK)
        return 1;
    int known = ru_txn_get(&txn, RU_DB_blobs, hash, RU_HASH_BYTES, &val) == RU_OK ||
                ru_txn_get(&txn, RU_DB_blob_gc, hash, RU_HASH_BYTES, &val) == RU_OK;
    ru_txn_abort(&txn);
    if (known)
        return 0;
    return s_found(s, hash);
}

static ru_err
s_list_orphans(const ru_writer_ctx_t *ctx, void *arg)
{
    s_sweep *s = arg;
    uint8_t at[8];
    uint64_t now = ru_hlc_wall_ms();
    for (int i = 0; i < 8; i++)
        at[i] = (uint8_t) (now >> (56 - 8 * i));
    ru_err err = RU_OK;
    for (size_t i = 0; !err && i < s->n; i++) {
        MDB_val val;
        if (ru_txn_get(ctx->txn, RU_DB_blobs, s->found[i], RU_HASH_BYTES, &val) == RU_OK)
            continue; /* referenced meanwhile */
        err = ru_txn_put(ctx->txn, RU_DB_blob_gc, s->found[i], RU_HASH_BYTES, at, sizeof at);
    }
    return err;
}

static ru_err
s_sweep_orphans(ru_blobgc_t *self)
{
    s_sweep s = {self->store, self->blobs, NULL, 0, 0, RU_OK};
    ru_err err = ru_blob_list(self->blobs, s_sweep_file, &s);
    err = err ? err : s.err;
    if (!err && s.n) {
        ru_log_info(S_LOG, "%zu media files that nothing references will be removed after the "
                           "grace period", s.n);
        err = ru_writer_call(self->writer, s_list_orphans, &s);
    }
    free(s.found);
    return err;
}

/*  Blobs referenced here whose files are not (a store restored from a
 *  backup without its blobs folder, files lost with a disk): wanted
 *  again, so that the peers give them back. */
static int
s_missing_file(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) val;
    s_sweep *s = ctx;
    ru_blob_t *blobs = s->blobs;
    if (key->mv_size != RU_HASH_BYTES || ru_blob_has(blobs, key->mv_data))
        return 0;
    return s_found(s, key->mv_data);
}

static ru_err
s_want_again(const ru_writer_ctx_t *ctx, void *arg)
{
    s_sweep *s = arg;
    ru_err err = RU_OK;
    for (size_t i = 0; !err && i < s->n; i++)
        err = ru_txn_put(ctx->txn, RU_DB_blob_want, s->found[i], RU_HASH_BYTES, "", 0);
    return err;
}

static ru_err
s_sweep_missing(ru_blobgc_t *self)
{
    s_sweep s = {self->store, self->blobs, NULL, 0, 0, RU_OK};
    ru_txn_t txn;
    ru_err err = ru_store_read(self->store, &txn);
    if (!err) {
        err = ru_txn_scan(&txn, RU_DB_blobs, NULL, 0, 0, s_missing_file, &s);
        ru_txn_abort(&txn);
    }
    err = err ? err : s.err;
    if (!err && s.n) {
        ru_log_warn(S_LOG, "%zu media files referenced here are missing: they are asked of the "
                           "peers again", s.n);
        err = ru_writer_call(self->writer, s_want_again, &s);
    }
    free(s.found);
    return err;
}

/*  ---------------------------------------------------------------------
 *  The thread
 */

static void *
s_run(void *arg)
{
    ru_blobgc_t *self = arg;
    ru_err err = s_sweep_orphans(self);
    if (!err)
        err = s_sweep_missing(self);
    if (err)
        ru_log_warn(S_LOG, "the sweep of media files failed: %s", ru_err_str(err));
    pthread_mutex_lock(&self->lock);
    while (!self->stopping) {
        pthread_mutex_unlock(&self->lock);
        uint64_t uploads = 0, blobs = 0;
        err = ru_blobgc_round(self, ru_hlc_wall_ms(), &uploads, &blobs);
        if (err)
            ru_log_warn(S_LOG, "collecting media: %s", ru_err_str(err));
        else if (uploads || blobs)
            ru_log_info(S_LOG, "collected %llu expired uploads and %llu unreferenced files",
                        (unsigned long long) uploads, (unsigned long long) blobs);
        pthread_mutex_lock(&self->lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t) (self->opts.interval_ms / 1000);
        until.tv_nsec += (long) (self->opts.interval_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!self->stopping && pthread_cond_timedwait(&self->wake, &self->lock, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

ru_err
ru_blobgc_new(ru_store_t *store, ru_writer_t *writer, ru_blob_t *blobs,
              const ru_blobgc_opts_t *opts, ru_blobgc_t **out)
{
    ru_blobgc_t *self = calloc(1, sizeof *self);
    if (!self)
        return RU_E_NOMEM;
    self->store = store;
    self->writer = writer;
    self->blobs = blobs;
    self->opts = *opts;
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->wake, NULL);
    if (pthread_create(&self->thread, NULL, s_run, self) != 0) {
        ru_log_err(S_LOG, "cannot start the media collector");
        ru_blobgc_destroy(&self);
        return RU_E_IO;
    }
    self->running = 1;
    *out = self;
    return RU_OK;
}

void
ru_blobgc_destroy(ru_blobgc_t **self_p)
{
    ru_blobgc_t *self = *self_p;
    if (!self)
        return;
    pthread_mutex_lock(&self->lock);
    self->stopping = 1;
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->lock);
    if (self->running)
        pthread_join(self->thread, NULL);
    pthread_cond_destroy(&self->wake);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}
