/*  ru_http_pool.c - the workers, their queue, and the messages back to
 *  the loop (see ru_http_pool.h).
 */
#include "ru_http_pool.h"

#include <stdlib.h>

#include "ru_http_out.h"

typedef struct {
    h2o_multithread_message_t super;
    ru_http_pool_kind kind;
    ru_http_job_t *job;
    void (*fn)(void *arg);
    void *arg;
} s_msg;

int
ru_http_pool_post(ru_http_t *self, ru_http_pool_kind kind, ru_http_job_t *job, void (*fn)(void *),
                  void *arg)
{
    s_msg *m = calloc(1, sizeof *m);
    if (!m)
        return -1;
    m->kind = kind;
    m->job = job;
    m->fn = fn;
    m->arg = arg;
    pthread_mutex_lock(&self->lock);
    int closed = self->closed;
    if (!closed)
        h2o_multithread_send_message(&self->receiver, &m->super);
    pthread_mutex_unlock(&self->lock);
    if (closed)
        free(m);
    return closed ? -1 : 0;
}

static void *
s_worker(void *arg)
{
    ru_http_t *self = arg;
    pthread_mutex_lock(&self->lock);
    for (;;) {
        while (!self->head && !self->workers_quit)
            pthread_cond_wait(&self->work, &self->lock);
        if (!self->head)
            break;
        ru_http_job_t *job = self->head;
        self->head = job->next;
        if (!self->head)
            self->tail = NULL;
        self->queued--;
        pthread_mutex_unlock(&self->lock);
        self->run(self, job);
        pthread_mutex_lock(&self->lock);
    }
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

int
ru_http_pool_enqueue(ru_http_t *self, ru_http_job_t *job)
{
    pthread_mutex_lock(&self->lock);
    int full = self->queued >= self->node->cfg.http_queue;
    if (!full) {
        if (self->tail)
            self->tail->next = job;
        else
            self->head = job;
        self->tail = job;
        self->queued++;
        pthread_cond_signal(&self->work);
    }
    pthread_mutex_unlock(&self->lock);
    return full ? -1 : 0;
}

/*  Takes the first message off list (not empty), by the list's anchor.
 *  h2o_linklist_unlink() does the same through the node's prev, which is
 *  the anchor; clang's analyzer cannot tell, keeps the anchor's next as
 *  it was, and reports the next turn's first message as the one just
 *  freed. It is not: h2o hands the messages over in a list of its own,
 *  which no callback reaches. */
static s_msg *
s_shift(h2o_linklist_t *list)
{
    h2o_linklist_t *first = list->next;
    list->next = first->next;
    first->next->prev = list;
    first->next = first->prev = NULL;
    return H2O_STRUCT_FROM_MEMBER(s_msg, super.link, first);
}

void
ru_http_pool_receive(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    ru_http_t *self = H2O_STRUCT_FROM_MEMBER(ru_http_t, receiver, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        s_msg *m = s_shift(messages);
        if (m->kind == RU_HTTP_POOL_ANSWER)
            ru_http_out_answer(self, m->job);
        else if (m->kind == RU_HTTP_POOL_PIECE)
            ru_http_out_piece(self, m->job);
        else
            m->fn(m->arg);
        free(m);
    }
}

int
ru_http_pool_start(ru_http_t *self)
{
    long want = self->node->cfg.http_threads;
    self->workers = calloc((size_t) want, sizeof *self->workers);
    for (long i = 0; self->workers && i < want; i++)
        if (pthread_create(&self->workers[self->nworkers], NULL, s_worker, self) == 0)
            self->nworkers++;
    return self->nworkers == want ? 0 : -1;
}

void
ru_http_pool_stop(ru_http_t *self)
{
    pthread_mutex_lock(&self->lock);
    self->workers_quit = 1;
    self->closed = 1;
    pthread_cond_broadcast(&self->work);
    pthread_mutex_unlock(&self->lock);
    for (int i = 0; i < self->nworkers; i++)
        pthread_join(self->workers[i], NULL);
    free(self->workers);
}

int
ru_http_pool_piece(ru_http_job_t *job, const void *data, size_t len)
{
    ru_http_t *self = job->http;
    /* the loop holds no piece now: the last one was waited for */
    ru_buf_reset(&job->piece);
    ru_buf_append(&job->piece, data, len);
    if (ru_buf_status(&job->piece) != RU_OK)
        return -1;
    pthread_mutex_lock(&self->lock);
    int gone = job->gone;
    job->piece_busy = !gone;
    pthread_mutex_unlock(&self->lock);
    if (gone || ru_http_pool_post(self, RU_HTTP_POOL_PIECE, job, NULL, NULL) != 0)
        return -1;
    pthread_mutex_lock(&self->lock);
    while (job->piece_busy && !job->gone)
        pthread_cond_wait(&job->sent, &self->lock);
    gone = job->gone;
    pthread_mutex_unlock(&self->lock);
    return gone ? -1 : 0;
}
