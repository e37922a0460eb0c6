/*  ru_conn.c - the connections on the loop: limits per address and in
 *  total, idle time, the first request line (see ru_conn.h).
 */
#include "ru_conn.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ru_http_res.h"
#include "ru_log.h"

#define S_LOG "http"
#define S_ACCEPTS_PER_WAKE 64 /* connections accepted per wake-up of a listener */

/*  Connections from one address. */
typedef struct ru_conn_addr {
    struct ru_conn_addr *next;
    uint8_t key[16];
    socklen_t len;
    long count;
} ru_conn_addr_t;

static void s_on_close(void *data);

ru_conn_t *
ru_conn_of(h2o_req_t *r)
{
    h2o_socket_t *sock =
        r->conn->callbacks->get_socket ? r->conn->callbacks->get_socket(r->conn) : NULL;
    return sock && sock->on_close.cb == s_on_close ? sock->on_close.data : NULL;
}

/*  The request's memory is being freed: its answer has left or its
 *  client went away. */
static void
s_holder_dispose(void *p)
{
    ru_http_job_holder_t *h = p;
    ru_http_job_t *job = h->job;
    if (job) {
        job->h2o = NULL;
        job->holder = NULL;
        ru_http_job_gone(job);
    }
    if (h->conn && h->conn->busy) {
        ru_http_t *self = h->conn->http;
        h->conn->busy = 0;
        h2o_timeout_unlink(&h->conn->idle);
        h2o_timeout_link(self->loop, &self->idle_timeout, &h->conn->idle);
        if (atomic_fetch_sub(&self->busy, 1) == 1 && self->stopping)
            ru_http_job_settled(self);
    }
}

void
ru_conn_bind(ru_http_job_t *job, h2o_req_t *r, ru_conn_t *c)
{
    ru_http_job_holder_t *h = h2o_mem_alloc_shared(&r->pool, sizeof *h, s_holder_dispose);
    h->job = job;
    h->conn = c;
    job->h2o = r;
    job->holder = h;
    if (c && !c->busy) {
        c->busy = 1;
        atomic_fetch_add(&job->http->busy, 1);
    }
}

/*  The key of a peer's address: an IPv4 address, or the first 64 bits of
 *  an IPv6 one (a client has a /64 to itself). Its length; 0 unknown. */
static socklen_t
s_addr_key(const struct sockaddr *sa, uint8_t key[16])
{
    if (sa->sa_family == AF_INET) {
        memcpy(key, &((const struct sockaddr_in *) (const void *) sa)->sin_addr, 4);
        return 4;
    }
    if (sa->sa_family != AF_INET6)
        return 0;
    const uint8_t *a = ((const struct sockaddr_in6 *) (const void *) sa)->sin6_addr.s6_addr;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(a, mapped, 12) == 0) {
        memcpy(key, a + 12, 4);
        return 4;
    }
    memcpy(key, a, 8);
    return 8;
}

static size_t
s_addr_bucket(const uint8_t *key, socklen_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (socklen_t i = 0; i < len; i++)
        h = (h ^ key[i]) * 16777619u;
    return h % RU_HTTP_ADDR_BUCKETS;
}

/*  Counts one more connection of the address of sa: its record, or NULL
 *  when the address has [http] max_connections_per_address already. */
static ru_conn_addr_t *
s_addr_take(ru_http_t *self, const struct sockaddr *sa)
{
    uint8_t key[16] = {0};
    socklen_t len = s_addr_key(sa, key);
    ru_conn_addr_t **slot = &self->addrs[s_addr_bucket(key, len)], *a = *slot;
    while (a && (a->len != len || memcmp(a->key, key, len) != 0))
        a = a->next;
    if (!a) {
        if (!(a = calloc(1, sizeof *a)))
            return NULL;
        memcpy(a->key, key, sizeof key);
        a->len = len;
        a->next = *slot;
        *slot = a;
    }
    if (a->count >= self->node->cfg.max_connections_per_address)
        return NULL;
    a->count++;
    return a;
}

static void
s_addr_put(ru_http_t *self, ru_conn_addr_t *a)
{
    if (--a->count > 0)
        return;
    ru_conn_addr_t **slot = &self->addrs[s_addr_bucket(a->key, a->len)];
    while (*slot != a)
        slot = &(*slot)->next;
    *slot = a->next;
    free(a);
}

static void s_on_accept(h2o_socket_t *listener, const char *err);

static void
s_first_bad_written(h2o_socket_t *sock, const char *err)
{
    (void) err;
    h2o_socket_close(sock);
}

void
ru_conn_listen(ru_http_t *self, int on)
{
    for (int i = 0; i < self->nlisteners; i++)
        if (on)
            h2o_socket_read_start(self->listeners[i], s_on_accept);
        else
            h2o_socket_read_stop(self->listeners[i]);
    self->paused = !on;
}

static void
s_on_close(void *data)
{
    ru_conn_t *c = data;
    ru_http_t *self = c->http;
    h2o_timeout_unlink(&c->idle);
    if (c->out)
        c->out->conn = NULL;
    if (c->prev)
        c->prev->next = c->next;
    else
        self->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s_addr_put(self, c->addr);
    free(c);
    long left = atomic_fetch_sub(&self->nconns, 1) - 1;
    if (self->paused && !self->stopping && left < self->max_conns)
        ru_conn_listen(self, 1);
    if (self->stopping && left == 0)
        ru_http_job_settled(self);
}

/*  Nothing came on a connection waiting for a request for keep_alive_ms:
 *  it is closed (h2o's request timer cuts one that sends slowly). */
static void
s_on_idle(h2o_timeout_entry_t *entry)
{
    ru_conn_t *c = H2O_STRUCT_FROM_MEMBER(ru_conn_t, idle, entry);
    if (c->busy || c->out)
        return; /* set again once the answer has left */
    if (c->fresh && ru_http_job_now_us() / 1000 - c->accepted_ms >=
                        (uint64_t) c->http->node->cfg.request_timeout_ms) {
        h2o_socket_close(c->sock); /* a first line sent slowly: not yet h2o's to time */
        return;
    }
    if (c->sock->input->size) { /* a request is coming: request_timeout_ms is its bound */
        h2o_timeout_link(c->http->loop, &c->http->idle_timeout, &c->idle);
        return;
    }
    shutdown(h2o_socket_get_fd(c->sock), SHUT_RDWR); /* h2o reads the end and closes it */
}

/*  Is the request line at p (len bytes, its end of line excluded) well
 *  formed: a method of token characters, a target of visible characters,
 *  HTTP/1.0 or 1.1, one space between them? */
static int
s_request_line_ok(const char *p, size_t len)
{
    static const char tchar[] = "!#$%&'*+-.^_`|~";
    size_t i = 0;
    while (i < len && (((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'z') ||
                       (p[i] >= '0' && p[i] <= '9') || (p[i] && strchr(tchar, p[i]))))
        i++;
    if (i == 0 || i >= len || p[i++] != ' ')
        return 0;
    size_t t = i;
    while (i < len && (unsigned char) p[i] > 0x20 && p[i] != 0x7f)
        i++;
    return i > t && len - i == 9 && memcmp(p + i, " HTTP/1.", 8) == 0 &&
           (p[i + 8] == '0' || p[i + 8] == '1');
}

/*  A new connection's first bytes, before h2o has it: a malformed first
 *  request line gets a JSON 400 (h2o would answer a line of text), then
 *  the connection is closed; a good one goes to h2o with what came. */
static void
s_first_read(h2o_socket_t *sock, const char *err)
{
    ru_conn_t *c = sock->on_close.data;
    ru_http_t *self = c->http;
    const char *p = sock->input->bytes, *end = p + sock->input->size;
    while (p < end && (*p == '\r' || *p == '\n'))
        p++;
    const char *eol = memchr(p, '\n', (size_t) (end - p));
    if (err) {
        h2o_socket_close(sock);
        return;
    }
    if (!eol && end - p < 8192)
        return; /* more to come */
    h2o_socket_read_stop(sock);
    c->fresh = 0;
    size_t len = eol ? (size_t) (eol - p) - (eol > p && eol[-1] == '\r') : 0;
    if (eol && !s_request_line_ok(p, len)) {
        static const char bad[] =
            "HTTP/1.1 400 Bad Request\r\n"
            "Content-Type: application/json; charset=utf-8\r\n"
            "Content-Length: 35\r\n"
            "Cache-Control: no-store\r\n" RU_HTTP_SECURITY_HEADERS "Connection: close\r\n\r\n"
            "{\"error\":\"malformed request line\"}\n";
        h2o_iovec_t iov = h2o_iovec_init(bad, sizeof bad - 1);
        h2o_socket_write(sock, &iov, 1, s_first_bad_written);
        return;
    }
    h2o_accept(&self->accept_ctx, sock); /* h2o reads what came first */
}

/*  Says, at most every 10 s, that connections were refused. */
static void
s_refused_log(ru_http_t *self, const char *why)
{
    static uint64_t last_us, count;
    uint64_t now = ru_http_job_now_us();
    count++;
    if (now - last_us < 10000000u)
        return;
    ru_log_warn(S_LOG, "%llu connections closed at once: %s", (unsigned long long) count, why);
    last_us = now;
    count = 0;
    (void) self;
}

void
ru_conn_take(ru_http_t *self, h2o_socket_t *sock)
{
    struct sockaddr_storage sa;
    memset(&sa, 0, sizeof sa);
    ru_conn_addr_t *a = h2o_socket_getpeername(sock, (struct sockaddr *) &sa)
                            ? s_addr_take(self, (struct sockaddr *) &sa)
                            : NULL;
    ru_conn_t *c = a ? calloc(1, sizeof *c) : NULL;
    if (!c) {
        if (a)
            s_addr_put(self, a);
        h2o_socket_close(sock);
        s_refused_log(self, "[http] max_connections_per_address reached");
        return;
    }
    int one = 1;
    setsockopt(h2o_socket_get_fd(sock), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->http = self;
    c->sock = sock;
    c->addr = a;
    c->idle.cb = s_on_idle;
    c->next = self->conns;
    if (c->next)
        c->next->prev = c;
    self->conns = c;
    atomic_fetch_add(&self->nconns, 1);
    sock->on_close.cb = s_on_close;
    sock->on_close.data = c;
    h2o_timeout_link(self->loop, &self->idle_timeout, &c->idle);
    c->fresh = 1;
    c->accepted_ms = ru_http_job_now_us() / 1000;
    h2o_socket_read_start(sock, s_first_read);
}

static void
s_on_accept(h2o_socket_t *listener, const char *err)
{
    ru_http_t *self = listener->data;
    if (err)
        return;
    for (int i = 0; i < S_ACCEPTS_PER_WAKE; i++) {
        if (atomic_load(&self->nconns) >= self->max_conns) {
            ru_conn_listen(self, 0);
            return;
        }
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (!sock)
            return;
        ru_conn_take(self, sock);
    }
}

void
ru_conn_close_idle(void *arg)
{
    ru_http_t *self = arg;
    char byte;
    for (ru_conn_t *c = self->conns; c; c = c->next) {
        int fd = h2o_socket_get_fd(c->sock);
        if (c->sock->input->size == 0 && recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) <= 0)
            shutdown(fd, SHUT_RDWR);
    }
}

void
ru_conn_close_rest(void *arg)
{
    ru_http_t *self = arg;
    for (ru_conn_t *c = self->conns; c; c = c->next)
        shutdown(h2o_socket_get_fd(c->sock), SHUT_RDWR);
}

void
ru_conn_free_addrs(ru_http_t *self)
{
    for (size_t i = 0; i < RU_HTTP_ADDR_BUCKETS; i++)
        while (self->addrs[i]) {
            ru_conn_addr_t *a = self->addrs[i];
            self->addrs[i] = a->next;
            free(a);
        }
}
