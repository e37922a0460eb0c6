/*  ru_httpd.c - the event loop: h2o's set-up, the requests taken, the
 *  answers kept, h2o's own errors made JSON, and the loop's start and
 *  stop (see ru_httpd.h).
 */
#include "ru_httpd.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ru_cache.h"
#include "ru_conn.h"
#include "ru_deadline.h"
#include "ru_http_file.h"
#include "ru_http_out.h"
#include "ru_http_pool.h"
#include "ru_http_res.h"
#include "ru_log.h"
#include "ru_reqparse.h"
#include "ru_reqstats.h"

#define S_LOG "http"
#define S_DRAIN_MS 30000 /* stopping: for requests taken to be answered */
#define S_SHUT_MS 3000   /* stopping: for the other connections to close */

typedef struct {
    h2o_handler_t super;
    ru_http_t *http;
} s_handler;

typedef struct {
    h2o_filter_t super;
    ru_http_t *http;
} s_filter;

/*  ---------------------------------------------------------------------
 *  h2o's own errors, as JSON
 */

/*  Is r answered by one of our generators? */
static int
s_ours(const h2o_req_t *r)
{
    const h2o_generator_t *g = r->_generator;
    return g && (ru_http_res_ours(g) || ru_http_out_ours(g) || ru_http_file_ours(g));
}

typedef struct {
    h2o_ostream_t super;
    h2o_iovec_t body;
} s_json_ostream;

static void
s_json_send(h2o_ostream_t *self, h2o_req_t *r, h2o_iovec_t *bufs, size_t n, h2o_send_state_t state)
{
    (void) bufs;
    (void) n;
    s_json_ostream *o = (s_json_ostream *) self;
    h2o_iovec_t body = o->body;
    o->body.len = 0;
    h2o_ostream_send_next(&o->super, r, &body, body.len ? 1 : 0, state);
}

/*  h2o answers some requests itself (a body over max_body: 413; broken
 *  chunks or length: 400; an unknown Expect: 417) with a line of text:
 *  the same status with {"error": ...} instead. */
static void
s_on_setup_ostream(h2o_filter_t *filter, h2o_req_t *r, h2o_ostream_t **slot)
{
    s_filter *f = (s_filter *) filter;
    if (!s_ours(r) && r->res.status >= 400) {
        char why[160];
        const ru_config_t *cfg = &f->http->node->cfg;
        if (r->res.status == 413) /* past both: ru_http.c holds the others to max_body */
            snprintf(why, sizeof why, "the body is larger than %ld bytes",
                     cfg->media_max_upload > cfg->max_body ? cfg->media_max_upload
                                                           : cfg->max_body);
        else
            snprintf(why, sizeof why, "%s", r->res.reason ? r->res.reason : "bad request");
        json_t *j = json_pack("{s:s}", "error", why);
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        s_json_ostream *o = (s_json_ostream *) h2o_add_ostream(r, sizeof *o, slot);
        o->super.do_send = s_json_send;
        o->body = h2o_strdup(&r->pool, text ? text : "{}", SIZE_MAX);
        free(text);
        memset(&r->res.headers, 0, sizeof r->res.headers);
        RU_HTTP_RES_HEADER(r, "Content-Type", "application/json; charset=utf-8");
        ru_http_res_lines(r, RU_HTTP_SECURITY_HEADERS "Cache-Control: no-store\r\n");
        r->res.content_length = o->body.len;
        r->http1_is_persistent = 0;
        slot = &o->super.next;
    }
    h2o_setup_next_ostream(r, slot);
}

/*  ---------------------------------------------------------------------
 *  Requests: the checks h2o does not make, then a worker
 */

/*  The request's head read again from the bytes h2o keeps (the socket's
 *  input starts with it until the answer has left): ru_reqparse_head(). */
static int
s_check_head(const ru_config_t *cfg, const h2o_socket_t *sock, char *why, size_t size)
{
    return ru_reqparse_head(sock->input->bytes, sock->input->size, cfg->max_headers,
                            cfg->max_header_bytes, why, size);
}

/*  The Sec-WebSocket-Key of a handshake into key, "" when it has none of
 *  24 characters. */
static void
s_ws_key(const h2o_req_t *r, char key[25])
{
    ssize_t i = h2o_find_header_by_str(&r->headers, H2O_STRLIT("sec-websocket-key"), -1);
    key[0] = '\0';
    if (i >= 0 && r->headers.entries[i].value.len == 24) {
        memcpy(key, r->headers.entries[i].value.base, 24);
        key[24] = '\0';
    }
}

/*  ---------------------------------------------------------------------
 *  Kept answers (ru_cache.h)
 */

/*  The route of job, when it is an anonymous read whose answer may be kept:
 *  a GET with no body and no credentials anywhere (header, cookie, query),
 *  whose route says so. */
static const ru_route_t *
s_keepable(ru_http_t *self, ru_http_job_t *job)
{
    ru_req_t *req = &job->req;
    if (!self->node->cache || job->websocket || job->body_len || strcmp(req->method, "GET") != 0 ||
        ru_http_job_header(job, "Authorization") || ru_http_job_header(job, "Cookie") ||
        (job->query && strstr(job->query, "access_token")))
        return NULL;
    for (const ru_route_t *r = self->routes; r->method; r++)
        if (strcmp(r->method, "GET") == 0 && ru_reqparse_match(r->pattern, req->path, req))
            return r->flags & RU_ROUTE_CACHED ? r : NULL; /* the route s_route would run */
    return NULL;
}

/*  A kept answer's hold, in the request's memory: released with it. */
typedef struct {
    const ru_cache_entry_t *entry;
} s_kept;

static void
s_kept_dispose(void *p)
{
    ru_cache_release(((s_kept *) p)->entry);
}

/*  Answers r on the loop with the answer kept for job's read, if there is
 *  one of the store's present generation (1); else marks the job so that
 *  its worker keeps the answer it makes (0). */
static int
s_answer_kept(ru_http_t *self, ru_http_job_t *job, h2o_req_t *r, const ru_route_t *route)
{
    char key[4096];
    int n = snprintf(key, sizeof key, "%s?%s", job->req.path, job->query ? job->query : "");
    if (n < 0 || (size_t) n >= sizeof key)
        return 0;
    /* read before the worker opens its transaction: what it renders is at
     * least this new. The site directory's version counts too: a reload
     * may rename a peer, whose accounts every answer names. Both grow. */
    uint64_t gen = (uint64_t) ru_writer_generation(self->node->writer) +
                   ((uint64_t) ru_sites_version(self->node->sites) << 40);
    const ru_cache_entry_t *hit = ru_cache_get(self->node->cache, key, gen);
    if (!hit) {
        job->cache_key = strdup(key);
        job->cache_gen = gen;
        return 0;
    }
    ru_http_res_head(self, r, hit->headers, hit->status, hit->type);
    s_kept *held = h2o_mem_alloc_shared(&r->pool, sizeof *held, s_kept_dispose);
    held->entry = hit;
    r->res.content_length = hit->len;
    ru_http_res_start(r);
    h2o_iovec_t iov = h2o_iovec_init(hit->body, hit->len);
    h2o_send(r, &iov, hit->len ? 1 : 0, H2O_SEND_STATE_FINAL);
    ru_reqstats_count(self->node->reqstats, (int) (route - self->routes), hit->status,
                      ru_http_job_now_us() - job->start_us);
    return 1;
}

static int
s_on_req(h2o_handler_t *handler, h2o_req_t *r)
{
    ru_http_t *self = ((s_handler *) handler)->http;
    h2o_socket_t *sock = r->conn->callbacks->get_socket(r->conn);
    char why[160];
    int status = sock ? s_check_head(&self->node->cfg, sock, why, sizeof why) : 0;
    if (status) {
        ru_http_res_refuse(self, r, status, why, 1, NULL);
        return 0;
    }
    if (self->stopping) {
        ru_http_res_refuse(self, r, 503, "the node is stopping", 1, "5");
        return 0;
    }
    int full = 0;
    ru_http_job_t *job = ru_http_job_new(self, r, &full);
    if (!job) {
        ru_http_res_refuse(self, r, 503,
                           full ? "the site is receiving too many uploads at once: try again"
                                : "out of memory",
                           1, "5");
        return 0;
    }
    if (r->upgrade.base && h2o_lcstris(r->upgrade.base, r->upgrade.len, H2O_STRLIT("websocket")) &&
        h2o_memis(r->method.base, r->method.len, H2O_STRLIT("GET"))) {
        job->websocket = 1;
        s_ws_key(r, job->ws_key);
    }
    atomic_fetch_add(&self->jobs, 1);
    ru_conn_bind(job, r, ru_conn_of(r)); /* the connection is busy until the answer leaves */
    const ru_route_t *keepable = s_keepable(self, job);
    if (keepable && s_answer_kept(self, job, r, keepable)) {
        ru_http_job_free(job);
        return 0;
    }
    if (ru_http_pool_enqueue(self, job) != 0) {
        ru_http_res_refuse(
            self, r, 503, "every worker is busy and [http] queue requests wait: try again", 0, "1");
        ru_http_job_free(job);
    }
    return 0;
}

/*  ---------------------------------------------------------------------
 *  Life cycle
 */

/*  Opens one listener of [http] listen: "host:port", "[v6]:port" or
 *  "port" (every IPv4 address). RU_E_IO (logged) when it cannot. */
static ru_err
s_listen_one(ru_http_t *self, const char *spec)
{
    char host[256] = "0.0.0.0", port[16];
    const char *colon = spec[0] == '[' ? strstr(spec, "]:") : strrchr(spec, ':');
    int n = 0;
    if (!colon)
        n = snprintf(port, sizeof port, "%s", spec);
    else {
        size_t hlen = (size_t) (colon - spec) - (spec[0] == '[');
        if (hlen >= sizeof host) {
            ru_log_err(S_LOG, "[http] listen: the host of '%s' is too long", spec);
            return RU_E_IO;
        }
        memcpy(host, spec + (spec[0] == '['), hlen);
        host[hlen] = '\0';
        n = snprintf(port, sizeof port, "%s", colon + 1 + (spec[0] == '['));
    }
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = n > 0 && (size_t) n < sizeof port && self->nlisteners < RU_HTTP_MAX_LISTENERS
                  ? getaddrinfo(host, port, &hints, &ai)
                  : EAI_NONAME;
    if (gai != 0) {
        ru_log_err(S_LOG, "[http] listen: cannot use '%s': %s", spec, gai_strerror(gai));
        return RU_E_IO;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        ru_log_err(S_LOG, "cannot listen on %s: %s", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return RU_E_IO;
    }
    freeaddrinfo(ai);
    h2o_socket_t *sock = h2o_evloop_socket_create(self->loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    sock->data = self;
    self->listeners[self->nlisteners++] = sock;
    return RU_OK;
}

static void *
s_loop(void *arg)
{
    ru_http_t *self = arg;
    while (!self->quit)
        h2o_evloop_run(self->loop, INT32_MAX);
    return NULL;
}

/*  How many connections the process can hold, up to want: the limit on
 *  descriptors is raised as far as it may go, and S_FD_SPARE are left for
 *  the store, ZeroMQ and the rest. One accept too many would fail without
 *  taking the connection, and the listener would wake the loop for ever. */
#define S_FD_SPARE 256
static long
s_fd_room(long want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return want;
    if (rl.rlim_cur < rl.rlim_max && rl.rlim_cur < (rlim_t) (want + S_FD_SPARE)) {
        rl.rlim_cur =
            rl.rlim_max < (rlim_t) (want + S_FD_SPARE) ? rl.rlim_max : (rlim_t) (want + S_FD_SPARE);
        (void) setrlimit(RLIMIT_NOFILE, &rl);
        (void) getrlimit(RLIMIT_NOFILE, &rl);
    }
    long room = rl.rlim_cur > S_FD_SPARE ? (long) (rl.rlim_cur - S_FD_SPARE) : 16;
    if (room >= want)
        return want;
    ru_log_warn(S_LOG,
                "[http] max_connections = %ld, but the process may open %llu descriptors: "
                "%ld connections at most (raise LimitNOFILE or ulimit -n)",
                want, (unsigned long long) rl.rlim_cur, room);
    return room;
}

/*  For the sanitizers' leak check: h2o keeps, per thread, lists of memory
 *  blocks to use again (its pools' chunks, its sockets' buffers), which it
 *  never frees; they are not leaks. */
const char *__lsan_default_suppressions(void);
const char *
__lsan_default_suppressions(void)
{
    return "leak:h2o_mem_alloc_recycle\n";
}

const char *__lsan_default_options(void);
const char *
__lsan_default_options(void)
{
    return "print_suppressions=0"; /* the log stays lines of ours */
}

/*  Registers a filter turning h2o's own errors into JSON on pathconf. */
static void
s_add_filter(ru_http_t *self, h2o_pathconf_t *pathconf)
{
    s_filter *f = (s_filter *) h2o_create_filter(pathconf, sizeof *f);
    f->super.on_setup_ostream = s_on_setup_ostream;
    f->http = self;
}

/*  h2o's configuration: one host, one path, our handler and filters. */
static void
s_config(ru_http_t *self)
{
    const ru_config_t *cfg = &self->node->cfg;
    h2o_config_init(&self->config);
    self->config.server_name = h2o_iovec_init(H2O_STRLIT("ruche"));
    /* uploads' routes take bodies of up to [media] max_upload; s_route
     * holds the others to [http] max_body */
    self->config.max_request_entity_size =
        (size_t) (cfg->media_max_upload > cfg->max_body ? cfg->media_max_upload : cfg->max_body);
    /* a request's bytes past 1 MiB (an upload) wait in an unlinked file of
     * the data directory that h2o maps, not in the heap: [media] queue_mb
     * bounds what is copied into memory, the disk what waits to be */
    h2o_socket_buffer_mmap_settings.threshold = 1024 * 1024;
    snprintf(h2o_socket_buffer_mmap_settings.fn_template,
             sizeof h2o_socket_buffer_mmap_settings.fn_template, "%s/blobs/tmp/h2o.XXXXXX",
             cfg->data_dir);
    self->config.http1.req_timeout = (uint64_t) cfg->request_timeout_ms;
    self->config.http1.upgrade_to_http2 = 0; /* HTTP/1.1 only: see ru_http.c */
    h2o_hostconf_t *host =
        h2o_config_register_host(&self->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    s_handler *h = (s_handler *) h2o_create_handler(path, sizeof *h);
    h->super.on_req = s_on_req;
    h->http = self;
    s_add_filter(self, path);
    s_add_filter(self, &host->fallback_path); /* errors before a path is chosen */
}

void
ru_httpd_init(ru_http_t *self)
{
    const ru_config_t *cfg = &self->node->cfg;
    s_config(self);
    self->loop = h2o_evloop_create();
    h2o_context_init(&self->ctx, self->loop, &self->config);
    self->accept_ctx.ctx = &self->ctx;
    self->accept_ctx.hosts = self->config.hosts;
    self->queue = h2o_multithread_create_queue(self->loop);
    h2o_multithread_register_receiver(self->queue, &self->receiver, ru_http_pool_receive);
    h2o_timeout_init(
        self->loop, &self->idle_timeout,
        (uint64_t) (cfg->keep_alive_ms ? cfg->keep_alive_ms : cfg->request_timeout_ms));
    h2o_timeout_init(self->loop, &self->close_timeout, RU_HTTP_CLOSE_MS);
    self->max_conns = s_fd_room(cfg->max_connections);
}

ru_err
ru_httpd_listen(ru_http_t *self)
{
    char list[sizeof self->node->cfg.listen], *save = NULL;
    snprintf(list, sizeof list, "%s", self->node->cfg.listen);
    for (char *spec = strtok_r(list, ", ", &save); spec; spec = strtok_r(NULL, ", ", &save))
        if (s_listen_one(self, spec) != RU_OK)
            return RU_E_IO;
    ru_conn_listen(self, 1);
    if (pthread_create(&self->loop_thread, NULL, s_loop, self) != 0)
        return RU_E_NOMEM;
    self->loop_running = 1;
    return RU_OK;
}

/*  Loop: no more connections, no more requests. */
static void
s_stop_taking(void *arg)
{
    ru_http_t *self = arg;
    self->stopping = 1;
    for (int i = 0; i < self->nlisteners; i++) {
        /* the connections the kernel took already are ours to answer (503):
         * closing the listener would reset them, requests sent and all */
        h2o_socket_t *sock;
        while ((sock = h2o_evloop_socket_accept(self->listeners[i])) != NULL)
            ru_conn_take(self, sock);
        h2o_socket_close(self->listeners[i]);
    }
    self->nlisteners = 0;
    /* not h2o_context_request_shutdown(): its HTTP/2 part sets a timer
     * that outlives it; our answers say "Connection: close" from now on */
    self->ctx.shutdown_requested = 1;
    ru_http_job_settled(self);
}

static void
s_quit(void *arg)
{
    ((ru_http_t *) arg)->quit = 1;
}

/*  Waits until done(self) or ms have passed; 1 when done. */
static int
s_wait(ru_http_t *self, int (*done)(ru_http_t *), long ms)
{
    struct timespec until;
    ru_deadline(&until, ms);
    pthread_mutex_lock(&self->lock);
    while (!done(self) && pthread_cond_timedwait(&self->settled, &self->lock, &until) != ETIMEDOUT)
        ;
    int ok = done(self);
    pthread_mutex_unlock(&self->lock);
    return ok;
}

static int
s_drained(ru_http_t *self)
{
    return self->stopping && atomic_load(&self->jobs) == 0 && atomic_load(&self->busy) == 0;
}

static int
s_empty(ru_http_t *self)
{
    return atomic_load(&self->nconns) == 0;
}

int
ru_httpd_stop(ru_http_t *self)
{
    (void) ru_http_pool_post(self, RU_HTTP_POOL_RUN, NULL, s_stop_taking, self);
    if (!s_wait(self, s_drained, S_DRAIN_MS))
        ru_log_warn(S_LOG, "stopping: %ld requests were still unanswered after %d s",
                    atomic_load(&self->jobs), S_DRAIN_MS / 1000);
    (void) ru_http_pool_post(self, RU_HTTP_POOL_RUN, NULL, ru_conn_close_idle, self);
    int clean = s_wait(self, s_empty, S_SHUT_MS);
    if (!clean) {
        (void) ru_http_pool_post(self, RU_HTTP_POOL_RUN, NULL, ru_conn_close_rest, self);
        clean = s_wait(self, s_empty, S_SHUT_MS);
    }
    (void) ru_http_pool_post(self, RU_HTTP_POOL_RUN, NULL, s_quit, self);
    pthread_join(self->loop_thread, NULL);
    return clean;
}

void
ru_httpd_dispose(ru_http_t *self)
{
    for (int i = 0; i < self->nlisteners; i++)
        h2o_socket_close(self->listeners[i]);
    h2o_multithread_queue_t *ctx_queue = self->ctx.queue;
    h2o_multithread_unregister_receiver(self->queue, &self->receiver);
    h2o_multithread_destroy_queue(self->queue);
    free(self->queue); /* h2o 2.2.5's evloop flavour leaves a queue's memory */
    h2o_timeout_dispose(self->loop, &self->idle_timeout);
    h2o_timeout_dispose(self->loop, &self->close_timeout);
    h2o_context_dispose(&self->ctx);
    free(ctx_queue);
    h2o_evloop_run(self->loop, 0); /* the sockets closed above are freed on a turn */
    h2o_evloop_destroy(self->loop);
    h2o_config_dispose(&self->config);
    ru_conn_free_addrs(self);
}
