/*  ru_http_job.c - a job's life on the loop: made from h2o's request,
 *  freed once answered (see ru_http_job.h).
 */
#include "ru_http_job.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ru_reqparse.h"

uint64_t
ru_http_job_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

void
ru_http_job_settled(ru_http_t *self)
{
    pthread_mutex_lock(&self->lock);
    pthread_cond_broadcast(&self->settled);
    pthread_mutex_unlock(&self->lock);
}

void
ru_http_job_gone(ru_http_job_t *job)
{
    pthread_mutex_lock(&job->http->lock);
    job->gone = 1;
    pthread_cond_signal(&job->sent);
    pthread_mutex_unlock(&job->http->lock);
}

void
ru_http_job_free(ru_http_job_t *job)
{
    if (job->holder)
        job->holder->job = NULL;
    if (job->lines.data)
        sodium_memzero(job->lines.data, job->lines.len);
    ru_buf_fini(&job->lines);
    ru_buf_fini(&job->out);
    ru_buf_fini(&job->piece);
    pthread_cond_destroy(&job->sent);
    free(job->cache_key);
    free(job->copy);
    ru_http_t *self = job->http;
    atomic_fetch_sub(&self->big_bytes, (long) job->big);
    free(job);
    if (atomic_fetch_sub(&self->jobs, 1) == 1 && self->stopping)
        ru_http_job_settled(self);
}

/*  The bytes of r's copy in a job: its method, path and query, its first
 *  n headers, its Host and its body, each with a NUL after it. */
static size_t
s_copy_size(const h2o_req_t *r, size_t qat, size_t n)
{
    size_t size = r->method.len + 1 + qat + 1 + (r->path.len - qat) + 1 + r->input.authority.len +
                  sizeof "host" + 1 + r->entity.len + 1;
    for (size_t i = 0; i < n; i++)
        size += r->headers.entries[i].name->len + r->headers.entries[i].value.len + 2;
    return size;
}

/*  Copies len bytes of base to p, with a NUL after them, and points *dst
 *  at the copy; returns where the next copy goes. */
static char *
s_copy(char *p, const char **dst, const char *base, size_t len)
{
    memcpy(p, base, len);
    p[len] = '\0';
    *dst = p;
    return p + len + 1;
}

/*  Copies r's method, path (decoded), query, first n headers and Host
 *  into the job's block at p; returns where the body goes. */
static char *
s_copy_head(ru_http_job_t *job, const h2o_req_t *r, size_t qat, size_t n, char *p)
{
    p = s_copy(p, &job->req.method, r->method.base, r->method.len);
    char *path = p; /* decoded in place, as clients' escapes in paths are for us to undo */
    int plen = ru_reqparse_url_decode(r->path.base, qat, path, qat + 1, 0);
    p += qat + 1;
    job->req.path = plen >= 0 ? path : "/";
    if (qat < r->path.len)
        p = s_copy(p, &job->query, r->path.base + qat + 1, r->path.len - qat - 1);
    else
        p++;
    for (size_t i = 0; i < n; i++) {
        const h2o_header_t *h = &r->headers.entries[i];
        ru_http_job_hdr_t *to = &job->hdrs[job->nhdrs++];
        p = s_copy(p, &to->name, h->orig_name ? h->orig_name : h->name->base, h->name->len);
        p = s_copy(p, &to->value, h->value.base, h->value.len);
    }
    if (r->input.authority.base) {
        ru_http_job_hdr_t *to = &job->hdrs[job->nhdrs++];
        p = s_copy(p, &to->name, "Host", 4);
        p = s_copy(p, &to->value, r->input.authority.base, r->input.authority.len);
    }
    return p;
}

/*  The client's address as text into job->addr, "unknown" when h2o has
 *  none. */
static void
s_peer(ru_http_job_t *job, h2o_req_t *r)
{
    struct sockaddr_storage sa;
    socklen_t salen = r->conn->callbacks->get_peername(r->conn, (struct sockaddr *) &sa);
    if (!salen || h2o_socket_getnumerichost((struct sockaddr *) &sa, salen, job->addr) == SIZE_MAX)
        snprintf(job->addr, sizeof job->addr, "unknown");
}

/*  Counts a body over [http] max_body in the server's big_bytes, within
 *  [media] queue_mb: its size, 0 when it is not that big, -1 when there
 *  is no room. */
static long
s_take_big(ru_http_t *self, const h2o_req_t *r)
{
    long len = r->entity.base ? (long) r->entity.len : 0;
    if (len <= self->node->cfg.max_body)
        return 0;
    long held = atomic_fetch_add(&self->big_bytes, len) + len;
    if (held <= self->node->cfg.media_queue_mb << 20)
        return len;
    atomic_fetch_sub(&self->big_bytes, len);
    return -1;
}

ru_http_job_t *
ru_http_job_new(ru_http_t *self, h2o_req_t *r, int *full)
{
    size_t qat = r->query_at != SIZE_MAX ? r->query_at : r->path.len;
    size_t n = r->headers.size < RU_HTTP_MAX_HEADERS ? r->headers.size : RU_HTTP_MAX_HEADERS;
    long big = s_take_big(self, r);
    *full = big < 0;
    ru_http_job_t *job = big >= 0 ? calloc(1, sizeof *job) : NULL;
    char *p = job ? malloc(s_copy_size(r, qat, n)) : NULL;
    if (!p) {
        free(job);
        if (big > 0)
            atomic_fetch_sub(&self->big_bytes, big);
        return NULL;
    }
    job->big = (size_t) big;
    job->copy = p;
    job->http = self;
    job->start_us = ru_http_job_now_us();
    ru_buf_init(&job->lines);
    ru_buf_init(&job->out);
    ru_buf_init(&job->piece);
    pthread_cond_init(&job->sent, NULL);
    p = s_copy_head(job, r, qat, n, p);
    job->body = p;
    job->body_len = r->entity.base ? r->entity.len : 0;
    if (job->body_len)
        memcpy(p, r->entity.base, job->body_len);
    p[job->body_len] = '\0';
    s_peer(job, r);
    job->req.job = job;
    job->req.node = self->node;
    return job;
}

const char *
ru_http_job_lines(const ru_http_job_t *job)
{
    return job->lines.len ? (const char *) job->lines.data : "";
}

const char *
ru_http_job_header(const ru_http_job_t *job, const char *name)
{
    for (size_t i = 0; i < job->nhdrs; i++)
        if (strcasecmp(job->hdrs[i].name, name) == 0)
            return job->hdrs[i].value;
    return NULL;
}
