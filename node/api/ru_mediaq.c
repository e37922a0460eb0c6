/*  ru_mediaq.c - the upload queue and its workers (ru_mediaq.h).
 *
 *  One mutex guards the queue, its byte count and the lists of uploads
 *  being copied in and in work, which is what a user's uploads are counted
 *  in (together they hold at most queue_mb MiB: lists short enough to
 *  walk). An upload's room is taken under the lock before its bytes are
 *  copied, outside it: a hundred uploads at once never copy more than the
 *  queue holds. A second condition variable, done, is signalled each
 *  time a worker has finished one (its record written): what a request
 *  waiting for its own upload sleeps on (ru_mediaq_wait).
 */
#include "ru_mediaq.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ruche/ru_hlc.h"

#include "ru_blob.h"
#include "ru_blobref.h"
#include "ru_deadline.h"
#include "ru_image.h"
#include "ru_log.h"
#include "ru_sniff.h"
#include "ru_upload.h"

#define S_LOG "media"
#define S_MAX_WORKERS 64

typedef struct s_job {
    struct s_job *next;
    uint64_t id;
    char owner[RU_MAX_NAME + 1];
    char name[RU_MAX_FILE_NAME + 1];
    size_t len;
    int running;
    unsigned char data[]; /* len bytes */
} s_job;

struct ru_mediaq {
    ru_node_t *node;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_cond_t done; /* a worker finished an upload (CLOCK_MONOTONIC) */
    s_job *head, *tail; /* waiting, oldest first */
    s_job *filling;     /* taken, their bytes being copied in (outside the lock) */
    s_job *work[S_MAX_WORKERS];
    uint64_t uploads, bytes; /* waiting and in work */
    int stopping;
    int nthreads;
    pthread_t threads[S_MAX_WORKERS];
};

/*  ---------------------------------------------------------------------
 *  Processing one upload
 */

/*  What a worker made of an upload: a descriptor and the bytes behind it
 *  (the image's re-encoded files, or the upload's own), or why not. */
typedef struct {
    void *queue; /* the ru_mediaq_t */
    uint64_t id;
    ru_media_t media;
    ru_image_t img; /* an image's files, kept until its record is written */
    int image;
    char type[RU_SNIFF_MIME_MAX];
    char blurhash[RU_BLURHASH_MAX];
    char name[RU_MAX_FILE_NAME + 1];
    ru_err err;
    char why[200];
} s_result;

/*  The bytes to process: an upload's, or a photo of the directory's. */
typedef struct {
    const void *data;
    size_t len;
    const char *name;
} s_bytes;

/*  Stores the files of res (again, when the collector took one away
 *  meanwhile: the store puts a blob it holds as a no-op). */
static void
s_store(ru_node_t *node, const s_bytes *j, s_result *res)
{
    ru_blob_t *blobs = node->blobs;
    ru_media_t *m = &res->media;
    if (res->image) {
        res->err = ru_blob_put(blobs, res->img.display.data, res->img.display.len, NULL, m->hash);
        if (!res->err)
            res->err = ru_blob_put(blobs, res->img.thumb.data, res->img.thumb.len, NULL, m->thumb);
    } else {
        res->err = ru_blob_put(blobs, j->data, j->len, NULL, m->hash);
    }
    if (res->err)
        snprintf(res->why, sizeof res->why, "the file could not be stored: %s",
                 ru_err_str(res->err));
}

/*  An image: checked and re-encoded into res->img, described in res. */
static void
s_image(ru_node_t *node, const s_bytes *j, s_result *res)
{
    const ru_config_t *cfg = &node->cfg;
    ru_image_opts_t opts = {cfg->media_max_pixels, (int) cfg->media_max_side,
                            (int) cfg->media_display_px, (int) cfg->media_thumb_px,
                            cfg->media_heic != 0};
    res->err = ru_image_process(j->data, j->len, &opts, &res->img);
    if (res->err) {
        snprintf(res->why, sizeof res->why, "%s (%s)", ru_err_str(res->err), res->type);
        return;
    }
    ru_media_t *m = &res->media;
    res->image = 1;
    snprintf(res->type, sizeof res->type, "%s", res->img.display.mime);
    snprintf(res->blurhash, sizeof res->blurhash, "%s", res->img.blurhash);
    m->size = res->img.display.len;
    m->is_image = 1;
    m->width = (uint32_t) res->img.display.width;
    m->height = (uint32_t) res->img.display.height;
    m->thumb_size = res->img.thumb.len;
    m->thumb_width = (uint32_t) res->img.thumb.width;
    m->thumb_height = (uint32_t) res->img.thumb.height;
}

/*  Types j's bytes, makes what is kept of them and stores it, into res
 *  (which the caller finishes with ru_image_fini(&res->img)). */
static void
s_process(ru_node_t *node, const s_bytes *j, s_result *res)
{
    memset(res, 0, sizeof *res);
    res->err = ru_sniff_type(j->data, j->len, res->type);
    if (res->err) {
        snprintf(res->why, sizeof res->why, "the file's type could not be found");
        return;
    }
    if (ru_sniff_is_image(res->type, node->cfg.media_heic != 0)) {
        s_image(node, j, res);
    } else {
        snprintf(res->name, sizeof res->name, "%s", j->name);
        res->media.size = j->len;
    }
    res->media.type = (ru_str_t){res->type, (uint32_t) strlen(res->type)};
    res->media.name = (ru_str_t){res->name, (uint32_t) strlen(res->name)};
    res->media.blurhash = (ru_str_t){res->blurhash, (uint32_t) strlen(res->blurhash)};
    res->media.focus_x = res->media.focus_y = RU_MAX_FOCUS / 2;
    if (!res->err)
        s_store(node, j, res);
}

/*  The store actor's part: the upload becomes ready, holding its blobs,
 *  or failed. An upload deleted meanwhile stays deleted. */
static ru_err
s_finish(const ru_writer_ctx_t *ctx, void *arg)
{
    s_result *res = arg;
    ru_upload_t rec;
    ru_err err = ru_upload_get(ctx->txn, res->id, &rec);
    if (err == RU_E_NOT_FOUND)
        return RU_OK;
    if (err)
        return err;
    ru_buf_t copy, packed;
    ru_buf_init(&copy);
    ru_buf_init(&packed);
    /* rec's strings are views: copied before the first write */
    ru_buf_append(&copy, rec.owner.ptr, rec.owner.len);
    ru_buf_append(&copy, rec.description.ptr, rec.description.len);
    err = ru_buf_status(&copy);
    if (!err) {
        rec.owner.ptr = (const char *) copy.data;
        rec.description.ptr = (const char *) copy.data + rec.owner.len;
    }
    ru_blob_t *blobs = ((ru_mediaq_t *) res->queue)->node->blobs;
    if (!err && !res->err &&
        (!ru_blob_has(blobs, res->media.hash) ||
         (res->image && !ru_blob_has(blobs, res->media.thumb))))
        err = RU_E_NOT_FOUND; /* collected since it was stored: the worker stores it again */
    if (!err && !res->err) {
        msgpack_packer pk;
        ru_mp_packer_init(&pk, &packed);
        ru_media_pack(&pk, &res->media, 1);
        err = ru_buf_status(&packed);
        rec.state = RU_UPLOAD_READY;
        rec.media = (ru_packed_t){packed.data, (uint32_t) packed.len};
        if (!err)
            err = ru_blobref_media(ctx->txn, &res->media, 1, 1, ru_hlc_wall_ms());
    } else if (!err) {
        rec.state = RU_UPLOAD_FAILED;
        rec.error = (ru_str_t){res->why, (uint32_t) strlen(res->why)};
    }
    if (!err)
        err = ru_upload_put(ctx->txn, res->id, &rec);
    ru_buf_fini(&copy);
    ru_buf_fini(&packed);
    return err;
}

/*  ---------------------------------------------------------------------
 *  The queue
 */

static void *
s_worker(void *arg)
{
    ru_mediaq_t *self = arg;
    int slot;
    pthread_mutex_lock(&self->lock);
    for (slot = 0; self->threads[slot] != pthread_self(); slot++)
        ;
    for (;;) {
        while (!self->head && !self->stopping)
            pthread_cond_wait(&self->wake, &self->lock);
        if (self->stopping)
            break;
        s_job *j = self->head;
        self->head = j->next;
        if (!self->head)
            self->tail = NULL;
        self->work[slot] = j;
        pthread_mutex_unlock(&self->lock);
        s_result res;
        s_bytes bytes = {j->data, j->len, j->name};
        s_process(self->node, &bytes, &res);
        res.queue = self;
        res.id = j->id;
        if (res.err)
            ru_log_info(S_LOG, "upload %llu of %s refused: %s", (unsigned long long) j->id,
                        j->owner, res.why);
        ru_err err = ru_writer_call(self->node->writer, s_finish, &res);
        for (int again = 0; err == RU_E_NOT_FOUND && again < 3; again++) {
            s_store(self->node, &bytes, &res);
            err = ru_writer_call(self->node->writer, s_finish, &res);
        }
        ru_image_fini(&res.img);
        if (err)
            ru_log_warn(S_LOG, "upload %llu: its record could not be written: %s",
                        (unsigned long long) j->id, ru_err_str(err));
        pthread_mutex_lock(&self->lock);
        self->work[slot] = NULL;
        self->uploads--;
        self->bytes -= j->len;
        free(j);
        pthread_cond_broadcast(&self->done);
    }
    pthread_mutex_unlock(&self->lock);
    ru_image_thread_end();
    return NULL;
}

ru_err
ru_mediaq_new(ru_node_t *node, ru_mediaq_t **out)
{
    ru_mediaq_t *self = calloc(1, sizeof *self);
    if (!self)
        return RU_E_NOMEM;
    self->node = node;
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->wake, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&self->done, &attr);
    pthread_condattr_destroy(&attr);
    long n = node->cfg.media_workers < S_MAX_WORKERS ? node->cfg.media_workers : S_MAX_WORKERS;
    pthread_mutex_lock(&self->lock); /* each worker finds its slot once all are made */
    for (; self->nthreads < n; self->nthreads++)
        if (pthread_create(&self->threads[self->nthreads], NULL, s_worker, self) != 0)
            break;
    pthread_mutex_unlock(&self->lock);
    if (self->nthreads < n) {
        ru_log_err(S_LOG, "cannot start the media workers");
        ru_mediaq_destroy(&self);
        return RU_E_IO;
    }
    *out = self;
    return RU_OK;
}

void
ru_mediaq_destroy(ru_mediaq_t **self_p)
{
    ru_mediaq_t *self = *self_p;
    if (!self)
        return;
    pthread_mutex_lock(&self->lock);
    self->stopping = 1;
    pthread_cond_broadcast(&self->wake);
    pthread_cond_broadcast(&self->done);
    pthread_mutex_unlock(&self->lock);
    for (int i = 0; i < self->nthreads; i++)
        pthread_join(self->threads[i], NULL);
    while (self->head) {
        s_job *j = self->head;
        self->head = j->next;
        free(j);
    }
    pthread_cond_destroy(&self->wake);
    pthread_cond_destroy(&self->done);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

/*  owner's uploads waiting and in work; lock held. */
static long
s_of_owner(const ru_mediaq_t *self, const char *owner)
{
    long n = 0;
    for (const s_job *j = self->head; j; j = j->next)
        n += strcmp(j->owner, owner) == 0;
    for (const s_job *j = self->filling; j; j = j->next)
        n += strcmp(j->owner, owner) == 0;
    for (int i = 0; i < self->nthreads; i++)
        n += self->work[i] && strcmp(self->work[i]->owner, owner) == 0;
    return n;
}

/*  Takes the room of an upload of len bytes for owner: a job whose bytes
 *  are still to be copied, in the filling list; lock held. */
static ru_err
s_take(ru_mediaq_t *self, const char *owner, size_t len, s_job **out)
{
    uint64_t max = (uint64_t) self->node->cfg.media_queue_mb << 20;
    if (self->stopping || self->bytes + len > max)
        return RU_E_TOO_BIG;
    if (s_of_owner(self, owner) >= self->node->cfg.media_per_user)
        return RU_E_TOO_MANY;
    s_job *j = malloc(sizeof *j + len);
    if (!j)
        return RU_E_NOMEM;
    memset(j, 0, sizeof *j);
    snprintf(j->owner, sizeof j->owner, "%s", owner);
    j->len = len;
    j->next = self->filling;
    self->filling = j;
    self->uploads++;
    self->bytes += len;
    *out = j;
    return RU_OK;
}

ru_err
ru_mediaq_push(ru_mediaq_t *self, uint64_t id, const char *owner, const char *name,
               const void *data, size_t len)
{
    if (strlen(owner) > RU_MAX_NAME || strlen(name) > RU_MAX_FILE_NAME)
        return RU_E_INVALID;
    s_job *j = NULL;
    pthread_mutex_lock(&self->lock);
    ru_err err = s_take(self, owner, len, &j);
    pthread_mutex_unlock(&self->lock);
    if (err)
        return err;
    j->id = id;
    snprintf(j->name, sizeof j->name, "%s", name);
    memcpy(j->data, data, len);
    pthread_mutex_lock(&self->lock);
    s_job **p = &self->filling;
    while (*p != j)
        p = &(*p)->next;
    *p = j->next;
    j->next = NULL;
    if (self->tail)
        self->tail->next = j;
    else
        self->head = j;
    self->tail = j;
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->lock);
    return RU_OK;
}

/*  Is upload id waiting, being copied in or in work? Lock held. */
static int
s_holds(const ru_mediaq_t *self, uint64_t id)
{
    for (const s_job *j = self->head; j; j = j->next)
        if (j->id == id)
            return 1;
    for (const s_job *j = self->filling; j; j = j->next)
        if (j->id == id)
            return 1;
    for (int i = 0; i < self->nthreads; i++)
        if (self->work[i] && self->work[i]->id == id)
            return 1;
    return 0;
}

int
ru_mediaq_wait(ru_mediaq_t *self, uint64_t id, long timeout_ms)
{
    struct timespec until;
    ru_deadline(&until, timeout_ms);
    pthread_mutex_lock(&self->lock);
    int late = 0;
    /* a stopping queue drops what waits in it: the request answers at once */
    while (s_holds(self, id) && !late && !self->stopping)
        late = pthread_cond_timedwait(&self->done, &self->lock, &until) != 0;
    int held = s_holds(self, id);
    pthread_mutex_unlock(&self->lock);
    return !held;
}

void
ru_mediaq_depth(ru_mediaq_t *self, uint64_t *uploads, uint64_t *bytes)
{
    pthread_mutex_lock(&self->lock);
    *uploads = self->uploads;
    *bytes = self->bytes;
    pthread_mutex_unlock(&self->lock);
}

ru_err
ru_mediaq_image(ru_node_t *node, const void *data, size_t len, ru_mediaq_image_t *out)
{
    s_result res;
    s_bytes bytes = {data, len, ""};
    s_process(node, &bytes, &res);
    memset(out, 0, sizeof *out);
    ru_err err = res.err;
    if (!err && !res.image) {
        err = RU_E_TYPE;
        snprintf(out->why, sizeof out->why, "not an image of a type the site takes (%s)",
                 res.type);
    } else if (err) {
        snprintf(out->why, sizeof out->why, "%s", res.why);
    } else {
        out->media = res.media;
        snprintf(out->type, sizeof out->type, "%s", res.type);
        snprintf(out->blurhash, sizeof out->blurhash, "%s", res.blurhash);
        out->media.type = (ru_str_t){out->type, (uint32_t) strlen(out->type)};
        out->media.name = (ru_str_t){"", 0};
        out->media.blurhash = (ru_str_t){out->blurhash, (uint32_t) strlen(out->blurhash)};
    }
    ru_image_fini(&res.img);
    return err;
}
