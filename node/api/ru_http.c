/*  ru_http.c - the HTTP core: one event loop that owns every connection,
 *  a bounded pool of workers for the handlers, the limits that keep
 *  anonymous clients from taking the node down, and on top of it routing,
 *  parameters, authentication and JSON responses (see ru_http.h).
 *
 *  Why this shape. The node used to run civetweb, a thread per
 *  connection: every open stream held one of a few hundred threads, a
 *  few hundred idle or slow clients left none for anyone else, and its
 *  WebSocket code buffered a frame whole before any limit of ours applied.
 *  A spike measured two event-driven libraries from Debian on this 2-core
 *  machine, each server on one pinned thread, wrk with 64 kept-alive
 *  connections asking for a 20 KB body: h2o 2.2.5 (libh2o-evloop, epoll)
 *  served 94,000 to 103,000 requests/s at a p99 of 0.7 ms, and as many
 *  with 5,000 idle event streams open (106,000 to 116,000/s, p99 0.7 to
 *  1.1 ms); libwebsockets 4.1.6 (its poll() loop, as Debian builds it)
 *  served 67,000 to 72,000/s but fell to 16,000/s (p99 5 to 6 ms) with
 *  the same 5,000 streams, as every wake-up scans every descriptor; its
 *  epoll flavour (through libuv) crashed under load, and it accepted
 *  "Content-Length: 5x", -1 and conflicting lengths. nginx serving the
 *  same file did 39,000 to 40,000/s. h2o held about 9.4 KB of memory per
 *  idle stream (libwebsockets 1.1 KB, nginx 0.5 KB per idle connection):
 *  10,000 streams cost about 100 MB. libmicrohttpd was left out: no
 *  WebSocket framing. So: h2o's library (MIT), with wslay (which h2o
 *  builds on) for WebSocket frames.
 *
 *  What is used of h2o: its event loop, its HTTP/1.1 parser and response
 *  writer, and its cross-thread message queue. HTTP/1.1 only: no HTTP/2
 *  (whether 2.2.5 has the 2023 "rapid reset" fix is unknown), no TLS (a
 *  proxy in front terminates it, deploy/README.md). h2o has no
 *  connection limits and lets some malformed framing through, so both
 *  are here.
 *
 *  Threads. The loop thread accepts, reads, parses and writes every
 *  connection, and drives every event stream and WebSocket; it never
 *  waits on LMDB, argon2 or the store actor. A complete request (h2o
 *  reads the whole body first, up to [http] max_body) is copied into a
 *  job and queued for the [http] threads workers; at most [http] queue
 *  jobs wait, one more gets 503 with Retry-After at once. A worker runs
 *  the route's handler, which records its answer (status, headers, body)
 *  in the job, and hands the job back to the loop through h2o's message
 *  queue; the loop sends it. A body too large to hold (the backup) goes
 *  piece by piece: the worker hands a piece over and waits, off the loop,
 *  until it has left. A client that left before its answer was ready
 *  costs nothing: its request is gone (h2o disposed of it, and the job's
 *  holder in the request's memory pool said so), and the answer is
 *  dropped.
 *
 *  Limits, all in [http] or [streaming] (deploy/ruched.conf):
 *    - connections per client address and in total, counted as they are
 *      accepted: one past the address's share is closed at once; at the
 *      total, the listeners are left unread until one closes;
 *    - time: a connection must bring a whole request (headers and body)
 *      within request_timeout_ms of the moment the node waits for it
 *      (h2o's own timer, which a byte now and then does not reset: the
 *      slow-loris clients are cut); a kept-alive connection on which
 *      nothing comes for keep_alive_ms is closed;
 *    - the head: at most max_headers header lines and max_header_bytes of
 *      them (431); two Content-Length headers, equal or not, one that is
 *      not a number, or one beside Transfer-Encoding: 400, connection
 *      closed (h2o would take the first length, or the chunks). These are
 *      read again from the request's raw bytes, which h2o keeps until the
 *      answer;
 *    - the body: max_body (h2o's 413, made JSON by a filter, before it is
 *      read); a JSON body nested deeper than max_json_depth is refused
 *      (400) by a scan of its bytes (ru_jsondepth.h) before jansson or
 *      any recursion sees it;
 *    - WebSocket messages: [streaming] max_message bytes, checked by
 *      wslay on a frame's announced length before it allocates anything.
 *
 *  Start and stop. ru_http_new() starts the workers; handlers of other
 *  kinds are registered next; ru_http_listen() opens the listeners last,
 *  so the first request finds every route. ru_http_stop() closes the
 *  listeners, answers new requests on open connections with 503 and
 *  "Connection: close", waits until every request taken has been
 *  answered and its answer has left, then closes what is left.
 */
#include "ru_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <h2o.h>
#include <h2o/http1.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "ruche/ru_text.h"

#include "ru_cache.h"
#include "ru_jsondepth.h"
#include "ru_log.h"
#include "ru_oauth.h"
#include "ru_reqstats.h"

#define S_LOG "http"
#define S_MAX_LISTENERS 8
#define S_MAX_HEADERS 100     /* h2o's own bound (H2O_MAX_HEADERS): more is its 400 */
#define S_ADDR_BUCKETS 4096   /* of the per-address connection counts */
#define S_ACCEPTS_PER_WAKE 64 /* connections accepted per wake-up of a listener */
#define S_WS_BATCH 65536      /* bytes of WebSocket frames gathered into one write */
#define S_CLOSE_MS 5000       /* for a WebSocket's close frame to leave */
#define S_DRAIN_MS 30000      /* stopping: for requests taken to be answered */
#define S_SHUT_MS 3000        /* stopping: for the other connections to close */

/*  How a job is answered. */
typedef enum { S_NONE, S_PLAIN, S_HEAD, S_CHUNKS, S_EVENTS, S_WEBSOCKET } s_kind;

typedef struct {
    const char *name; /* as the client wrote it */
    const char *value;
} s_hdr;

typedef struct s_holder s_holder;
typedef struct s_conn s_conn;

/*  A request between the loop and a worker. The loop makes it and frees
 *  it; the worker owns it between the queue and its answer. */
struct ru_http_job {
    ru_http_t *http;
    h2o_req_t *h2o;   /* loop: the request; NULL once h2o disposed of it */
    s_holder *holder; /* loop: in the request's pool, to learn of that */
    struct ru_http_job *next;
    uint64_t start_us;
    ru_req_t req;
    /* the request, copied (method, path, query, headers and body in one block) */
    char *copy;
    const char *query;
    char addr[INET6_ADDRSTRLEN + 8];
    s_hdr hdrs[S_MAX_HEADERS + 1];
    size_t nhdrs;
    const char *body;
    size_t body_len;
    int websocket;    /* a WebSocket handshake */
    char ws_key[25];
    char *cache_key;    /* an anonymous read whose answer may be kept (ru_cache.h) ... */
    uint64_t cache_gen; /* ... as of this generation of the store */
    /* the answer */
    s_kind kind;
    int status;
    char type[128];
    ru_buf_t lines;    /* the answer's header lines (a Set-Cookie may hold a token) */
    ru_buf_t out;      /* the body (S_PLAIN), the first bytes (S_EVENTS) */
    size_t head_len;   /* S_HEAD: the length the head says */
    long long length;  /* S_CHUNKS: the body's, -1 unknown */
    long long sent_bytes; /* S_CHUNKS: handed to h2o so far */
    char protocol[RU_TOKEN_TEXT_SIZE + 64]; /* S_WEBSOCKET */
    const ru_http_stream_ops_t *ops;
    void *ctx;
    /* S_CHUNKS: one piece at a time, under http->lock */
    h2o_generator_t gen;
    int started;
    int piece_busy; /* a piece is with the loop */
    int gone;       /* the client left: no more pieces */
    pthread_cond_t sent;
    ru_buf_t piece;
};

/*  Lives in an h2o request's pool: when h2o frees the pool (the answer
 *  has left, or the client went away) it tells the job and the
 *  connection. */
struct s_holder {
    ru_http_job_t *job;
    s_conn *conn;
};

/*  The loop's record of a connection (the socket's on_close data). */
struct s_conn {
    ru_http_t *http;
    h2o_socket_t *sock;
    struct s_addr *addr;
    h2o_timeout_entry_t idle;
    int fresh;        /* its first request line has not come yet: not h2o's */
    uint64_t accepted_ms;
    int busy;         /* a request taken, its answer not yet left */
    ru_http_out_t *out; /* an event stream or WebSocket on it */
    s_conn *prev, *next;
};

/*  Connections from one address. */
typedef struct s_addr {
    struct s_addr *next;
    uint8_t key[16];
    socklen_t len;
    long count;
} s_addr;

/*  An event stream or a WebSocket, on the loop. */
struct ru_http_out {
    h2o_generator_t gen; /* event streams */
    ru_http_t *http;
    const ru_http_stream_ops_t *ops;
    void *ctx;
    s_conn *conn;
    int ws;
    h2o_req_t *req;     /* event streams */
    h2o_socket_t *sock; /* WebSockets, once upgraded */
    wslay_event_context_ptr wslay;
    int writing;        /* a write has not left yet */
    int closing;        /* ru_http_out_close() was called */
    int done;           /* closed() was called */
    ru_buf_t wbuf;      /* the bytes being written */
    ru_buf_t acc;       /* WebSocket frames gathered for the next write */
    h2o_timeout_entry_t close_timer;
    int close_code;
    char close_reason[64];
    int in_proceed; /* within s_ws_proceed: wslay calls back from there */
    /* the client's message being read (wslay does not buffer it) */
    ru_buf_t msg;
    int msg_text;
    int msg_over;   /* longer than max_message, or in pieces: its bytes are skipped */
    int msg_told;   /* ... and the client was told so */
    int frame_data; /* the frame being read belongs to a message */
    int frame_fin;
    uint64_t rx_left; /* bytes of the current frame not yet given to wslay */
    int rx_piece;     /* it is a piece of a fragmented message */
};

/*  What the workers hand the loop. */
typedef enum { S_MSG_ANSWER, S_MSG_PIECE, S_MSG_RUN } s_msg_kind;
typedef struct {
    h2o_multithread_message_t super;
    s_msg_kind kind;
    ru_http_job_t *job;
    void (*fn)(void *arg);
    void *arg;
} s_msg;

typedef struct {
    h2o_handler_t super;
    ru_http_t *http;
} s_handler;

typedef struct {
    h2o_filter_t super;
    ru_http_t *http;
} s_filter;

struct ru_http {
    ru_node_t *node;
    const ru_route_t *routes;
    ru_handler websocket;
    ru_handler other; /* requests no route takes; NULL: 404 */
    /* h2o, loop thread only */
    h2o_globalconf_t config;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    h2o_evloop_t *loop;
    h2o_multithread_queue_t *queue;
    h2o_multithread_receiver_t receiver;
    h2o_socket_t *listeners[S_MAX_LISTENERS];
    int nlisteners;
    long max_conns; /* [http] max_connections, within the descriptors the process may open */
    int paused;     /* listeners left unread: the total is reached */
    atomic_int stopping; /* no new requests */
    int quit;     /* the loop ends */
    s_conn *conns;
    s_addr *addrs[S_ADDR_BUCKETS];
    h2o_timeout_t idle_timeout;
    h2o_timeout_t close_timeout;
    pthread_t loop_thread;
    int loop_running;
    /* shared */
    atomic_long nconns;
    atomic_long jobs;  /* taken and not yet freed */
    atomic_long busy;  /* connections whose answer has not left */
    pthread_mutex_t lock;
    pthread_cond_t work;    /* a job for the workers, or quit */
    pthread_cond_t settled; /* stopping: jobs or connections went down */
    ru_http_job_t *head, *tail;
    long queued;
    int workers_quit;
    int closed; /* nothing more may be posted to the loop */
    pthread_t *workers;
    int nworkers;
};

static uint64_t
s_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

/*  ---------------------------------------------------------------------
 *  Responses: recorded in the job by the worker, sent by the loop
 */

static const char *
s_reason(int status)
{
    static const struct {
        int status;
        const char *text;
    } reasons[] = {{101, "Switching Protocols"},
                   {200, "OK"},
                   {302, "Found"},
                   {304, "Not Modified"},
                   {400, "Bad Request"},
                   {401, "Unauthorized"},
                   {403, "Forbidden"},
                   {404, "Not Found"},
                   {405, "Method Not Allowed"},
                   {409, "Conflict"},
                   {413, "Payload Too Large"},
                   {415, "Unsupported Media Type"},
                   {417, "Expectation Failed"},
                   {422, "Unprocessable Entity"},
                   {429, "Too Many Requests"},
                   {431, "Request Header Fields Too Large"},
                   {500, "Internal Server Error"},
                   {503, "Service Unavailable"},
                   {507, "Insufficient Storage"}};
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].status == status)
            return reasons[i].text;
    return "Status";
}

void
ru_http_header(ru_req_t *req, const char *name, const char *fmt, ...)
{
    char value[sizeof req->headers];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    size_t used = strlen(req->headers);
    int n = snprintf(req->headers + used, sizeof req->headers - used, "%s: %s\r\n", name, value);
    if (n < 0 || (size_t) n >= sizeof req->headers - used) {
        req->headers[used] = '\0';
        ru_log_err(S_LOG, "%s %s: no room for the %s header", req->method, req->path, name);
    }
}

/*  Takes the answer of kind for req's job: 0, or -1 (logged) when the
 *  handler answered already. */
static int
s_answer(ru_req_t *req, s_kind kind, int status, const char *type)
{
    ru_http_job_t *job = req->job;
    if (job->kind != S_NONE) {
        ru_log_err(S_LOG, "%s %s: a second answer (%d) was dropped", req->method, req->path,
                   status);
        return -1;
    }
    job->kind = kind;
    job->status = status;
    snprintf(job->type, sizeof job->type, "%s", type ? type : "");
    /* as they are now: a handler may wipe them once it has answered */
    if (req->link[0]) {
        ru_buf_append(&job->lines, "Link: ", 6);
        ru_buf_append(&job->lines, req->link, strlen(req->link));
        ru_buf_append(&job->lines, "\r\n", 2);
    }
    ru_buf_append(&job->lines, req->headers, strlen(req->headers) + 1);
    return 0;
}

int
ru_http_send(ru_req_t *req, int status, const char *type, const char *body, size_t len)
{
    if (s_answer(req, S_PLAIN, status, type) == 0)
        ru_buf_append(&req->job->out, body, len);
    return status;
}

int
ru_http_send_head(ru_req_t *req, int status, const char *type, size_t len)
{
    if (s_answer(req, S_HEAD, status, type) == 0)
        req->job->head_len = len;
    return status;
}

int
ru_http_json(ru_req_t *req, int status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(body);
    if (!text) {
        status = 500;
        text = strdup("{\"error\":\"out of memory\"}");
    }
    status =
        ru_http_send(req, status, "application/json; charset=utf-8", text, text ? strlen(text) : 0);
    free(text);
    return status;
}

int
ru_http_error(ru_req_t *req, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    req->link[0] = '\0';
    return ru_http_json(req, status, json_pack("{s:s}", "error", msg));
}

int
ru_http_fail(ru_req_t *req, ru_err err)
{
    switch (err) {
    case RU_E_NOT_FOUND:
        return ru_http_error(req, 404, "Record not found");
    case RU_E_STORE_FULL:
    case RU_E_DISK_FULL:
        return ru_http_error(req, 507, "%s", ru_err_str(err));
    case RU_E_RECOVERING:
        return ru_http_error(req, 503, "%s", ru_err_str(err));
    case RU_E_UTF8:
    case RU_E_TOO_BIG:
    case RU_E_RANGE:
    case RU_E_NAME:
    case RU_E_INVALID:
    case RU_E_EXISTS:
        return ru_http_error(req, 422, "Validation failed: %s", ru_err_str(err));
    default:
        ru_log_err("http", "%s %s: %s", req->method, req->path, ru_err_str(err));
        return ru_http_error(req, 500, "%s", ru_err_str(err));
    }
}

/*  ---------------------------------------------------------------------
 *  Parameters
 */

const char *
ru_http_param(const ru_req_t *req, const char *name)
{
    return json_string_value(json_object_get(req->params, name));
}

long
ru_http_param_long(ru_req_t *req, const char *name, long def, long min, long max)
{
    json_t *v = json_object_get(req->params, name);
    if (!v)
        return def;
    long n;
    char *end = NULL;
    if (json_is_integer(v))
        n = (long) json_integer_value(v);
    else if (json_is_string(v))
        n = strtol(json_string_value(v), &end, 10);
    else
        n = min - 1;
    if ((end && (*end || end == json_string_value(v))) || n < min || n > max) {
        ru_http_error(req, 422, "%s must be a whole number from %ld to %ld", name, min, max);
        return -1;
    }
    return n;
}

/*  Sets params[key] to s (taking its reference). A key ending in "[]"
 *  (types[]=mention&types[]=follow, as Mastodon clients send lists) adds s
 *  to a list under the name without the brackets, as a JSON body's
 *  {"types": [...]} would. */
static void
s_param_set(json_t *params, char *key, size_t klen, json_t *s)
{
    /*  klen counts every byte: a NUL in a name is kept for s_nul_param. */
    if (klen <= 2 || memcmp(key + klen - 2, "[]", 2) != 0) {
        json_object_setn_new(params, key, klen, s);
        return;
    }
    klen -= 2;
    json_t *list = json_object_getn(params, key, klen);
    if (!json_is_array(list)) {
        list = json_array();
        json_object_setn_new(params, key, klen, list);
    }
    json_array_append_new(list, s);
}

/*  The value of a hex digit, -1 for another character. */
static int
s_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*  Decodes len bytes of src (%XX escapes; '+' is a space when form) into
 *  dst, with a NUL after them: their length, or -1 when they do not fit in
 *  size bytes. A '%' without two hex digits after it stays as it is. */
static int
s_url_decode(const char *src, size_t len, char *dst, size_t size, int form)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (n + 1 >= size)
            return -1;
        if (src[i] == '%' && i + 2 < len && s_hex(src[i + 1]) >= 0 && s_hex(src[i + 2]) >= 0) {
            dst[n++] = (char) (s_hex(src[i + 1]) << 4 | s_hex(src[i + 2]));
            i += 2;
        } else
            dst[n++] = form && src[i] == '+' ? ' ' : src[i];
    }
    if (size == 0)
        return -1;
    dst[n] = '\0';
    return (int) n;
}

int
ru_http_form_var(const char *form, const char *name, char *out, size_t size)
{
    size_t nlen = strlen(name);
    for (const char *p = form; p && *p;) {
        const char *end = p + strcspn(p, "&");
        const char *eq = memchr(p, '=', (size_t) (end - p));
        char key[128];
        if (eq && s_url_decode(p, (size_t) (eq - p), key, sizeof key, 1) == (int) nlen &&
            memcmp(key, name, nlen) == 0) {
            int n = size ? s_url_decode(eq + 1, (size_t) (end - eq - 1), out, size, 1) : -1;
            return n < 0 ? -2 : n;
        }
        p = *end ? end + 1 : end;
    }
    return -1;
}

void
ru_http_url_encode(const char *src, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (; *src && size; src++) {
        unsigned char c = (unsigned char) *src;
        int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~';
        if (n + (plain ? 1 : 3) >= size)
            break;
        if (plain)
            out[n++] = (char) c;
        else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    if (size)
        out[n] = '\0';
}

/*  Adds the pairs of an x-www-form-urlencoded string to params.
 *  Returns 0, or -1 when a value is not UTF-8. */
static int
s_parse_form(const char *data, size_t len, json_t *params)
{
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && data[end] != '&')
            end++;
        const char *eq = memchr(data + i, '=', end - i);
        if (eq && eq > data + i) {
            char key[128], *val = malloc(end - i + 1);
            int klen = s_url_decode(data + i, (size_t) (eq - data - i), key, sizeof key, 1);
            int vlen =
                val ? s_url_decode(eq + 1, (size_t) (data + end - eq - 1), val, end - i + 1, 1) : -1;
            json_t *s = vlen >= 0 ? json_stringn(val, (size_t) vlen) : NULL;
            free(val);
            if (!s)
                return -1;
            if (klen > 0)
                s_param_set(params, key, (size_t) klen, s);
            else
                json_decref(s);
        }
        i = end + 1;
    }
    return 0;
}

/*  The first occurrence of needle (nlen > 0 bytes) in hay, or NULL. */
static const char *
s_find(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
    for (const char *p = hay; hlen >= nlen && (p = memchr(p, needle[0], hlen - nlen + 1)) != NULL;
         p++) {
        if (memcmp(p, needle, nlen) == 0)
            return p;
        hlen -= (size_t) (p + 1 - hay);
        hay = p + 1;
    }
    return NULL;
}

/*  The name="..." of a part's headers (len bytes), copied into name; its
 *  length, 0 when it has none or it is a file (filename=), which is
 *  skipped. */
static int
s_part_name(const char *head, size_t len, char *name, size_t size)
{
    const char *p = head, *end = head + len;
    if (s_find(head, len, "filename", 8))
        return 0;
    while ((p = s_find(p, (size_t) (end - p), "name=\"", 6)) != NULL) {
        int plain = p > head && (p[-1] == ' ' || p[-1] == ';');
        p += 6;
        const char *q = memchr(p, '"', (size_t) (end - p));
        if (!q)
            return 0;
        if (plain && (size_t) (q - p) < size && q > p) {
            memcpy(name, p, (size_t) (q - p));
            name[q - p] = '\0';
            return (int) (q - p);
        }
    }
    return 0;
}

/*  The boundary of a multipart Content-Type, "--" first, into out;
 *  its length, 0 when missing or too long (RFC 2046: 70 at most). */
static size_t
s_boundary(const char *type, char out[2 + 70 + 1])
{
    const char *b = strstr(type, "boundary=");
    if (!b)
        return 0;
    b += 9;
    int quoted = *b == '"';
    b += quoted;
    size_t n = strcspn(b, quoted ? "\"" : "; \t");
    if (n == 0 || n > 70)
        return 0;
    memcpy(out, "--", 2);
    memcpy(out + 2, b, n);
    out[2 + n] = '\0';
    return 2 + n;
}

/*  Adds the fields of a multipart/form-data body (RFC 7578) to params;
 *  file parts are skipped. Returns 0, or -1 when it is malformed or a
 *  value is not UTF-8. */
static int
s_parse_multipart(const char *type, const char *body, size_t len, json_t *params)
{
    char delim[2 + 70 + 1], name[128];
    size_t dlen = s_boundary(type, delim);
    const char *end = body + len, *p = dlen ? s_find(body, len, delim, dlen) : NULL;
    while (p) {
        p += dlen;
        if (end - p >= 2 && memcmp(p, "--", 2) == 0)
            return 0;         /* the closing delimiter */
        const char *head = p; /* the CRLF ending the delimiter line, then headers */
        const char *blank = s_find(head, (size_t) (end - head), "\r\n\r\n", 4);
        const char *next =
            blank ? s_find(blank + 4, (size_t) (end - blank - 4), delim, dlen) : NULL;
        if (!next || next - (blank + 4) < 2)
            return -1;
        size_t vlen = (size_t) (next - 2 - (blank + 4)); /* the CRLF before the delimiter */
        int nlen = s_part_name(head, (size_t) (blank - head), name, sizeof name);
        if (nlen > 0) {
            json_t *v = json_stringn(blank + 4, vlen); /* NULL unless UTF-8 */
            if (!v)
                return -1;
            s_param_set(params, name, (size_t) nlen, v);
        }
        p = next;
    }
    return -1;
}

/*  Does v, a parameter's value, hold a string with a NUL byte (in a list
 *  or an object of a JSON body too)? */
static int
s_nul_in(const json_t *v)
{
    size_t i, klen;
    const char *key;
    json_t *x;
    if (json_is_string(v))
        return memchr(json_string_value(v), '\0', json_string_length(v)) != NULL;
    json_array_foreach(v, i, x)
    {
        if (s_nul_in(x))
            return 1;
    }
    json_object_keylen_foreach((json_t *) v, key, klen, x)
    {
        if (memchr(key, '\0', klen) || s_nul_in(x))
            return 1;
    }
    return 0;
}

/*  A parameter whose name or text holds a NUL byte, which every C string
 *  of the handlers would silently cut short ("abc%00def" read as "abc"):
 *  refused here, once for every route and every way a client sends
 *  parameters (query string, form, JSON's \u0000, multipart). Sends 422
 *  and returns it, or 0. */
static int
s_nul_param(ru_req_t *req)
{
    const char *key;
    size_t klen;
    json_t *v;
    json_object_keylen_foreach(req->params, key, klen, v)
    {
        if (memchr(key, '\0', klen) || s_nul_in(v))
            return ru_http_error(req, 422, "Validation failed: %s holds a NUL byte (%%00, \\u0000)",
                                 key);
    }
    return 0;
}

int
ru_http_query_bad(const char *query)
{
    json_t *params = json_object();
    int bad = !params || s_parse_form(query, strlen(query), params) != 0 || s_nul_in(params);
    json_decref(params);
    return bad;
}

/*  Merges query and body parameters into req->params; on failure sends the
 *  error response and returns its status, else 0. (A body over max_body
 *  never gets here: h2o refuses it, ru_http.c's filter makes that JSON.) */
static int
s_params(ru_req_t *req)
{
    const ru_http_job_t *job = req->job;
    req->params = json_object();
    const char *q = job->query;
    if (q && s_parse_form(q, strlen(q), req->params))
        return ru_http_error(req, 400, "query parameters must be UTF-8");
    size_t len = job->body_len;
    const char *body = job->body;
    const char *type = ru_http_req_header(req, "Content-Type");
    int status = 0;
    long max_depth = req->node->cfg.max_json_depth;
    if (len && type && strncasecmp(type, "application/json", 16) == 0 &&
        ru_jsondepth(body, len, max_depth) > max_depth)
        status = ru_http_error(req, 400,
                               "the JSON body nests deeper than %ld levels ([http] "
                               "max_json_depth)",
                               max_depth);
    else if (len && type && strncasecmp(type, "application/json", 16) == 0) {
        json_error_t jerr;
        json_t *obj = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
        if (!json_is_object(obj))
            status = ru_http_error(req, 400, "the body is not a JSON object: %s", jerr.text);
        else
            json_object_update(req->params, obj);
        json_decref(obj);
    } else if (len && type && strncasecmp(type, "application/x-www-form-urlencoded", 33) == 0) {
        if (s_parse_form(body, len, req->params))
            status = ru_http_error(req, 400, "form values must be UTF-8");
    } else if (len && type && strncasecmp(type, "multipart/form-data", 19) == 0) {
        if (s_parse_multipart(type, body, len, req->params))
            status = ru_http_error(req, 400,
                                   "the multipart/form-data body is malformed or a value is "
                                   "not UTF-8");
    } else if (len)
        status = ru_http_error(req, 415,
                               "send the body as application/json, "
                               "application/x-www-form-urlencoded or multipart/form-data");
    return status ? status : s_nul_param(req);
}

/*  ---------------------------------------------------------------------
 *  Routing
 */

/*  Does path match pattern? Fills req->args with the ":x" segments. */
static int
s_match(const char *pattern, const char *path, ru_req_t *req)
{
    int nargs = 0;
    while (*pattern && *path) {
        if (*pattern != ':') {
            if (*pattern++ != *path++)
                return 0;
            continue;
        }
        const char *end = strchr(path, '/');
        size_t n = end ? (size_t) (end - path) : strlen(path);
        if (n == 0 || n >= sizeof req->args[0] || nargs == RU_HTTP_MAX_ARGS)
            return 0;
        memcpy(req->args[nargs], path, n);
        req->args[nargs++][n] = '\0';
        path += n;
        while (*pattern && *pattern != '/')
            pattern++;
    }
    return *pattern == '\0' && (*path == '\0' || strcmp(path, "/") == 0); /* "/x/" is "/x" */
}

void
ru_http_csrf(const char *token, char out[RU_TOKEN_TEXT_SIZE])
{
    static const char domain[] = "ruche/csrf/v1\n";
    uint8_t hash[32];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof hash);
    crypto_generichash_update(&st, (const uint8_t *) domain, sizeof domain - 1);
    crypto_generichash_update(&st, (const uint8_t *) token, strlen(token));
    crypto_generichash_final(&st, hash, sizeof hash);
    ru_b64_encode(out, hash, sizeof hash);
}

int
ru_http_cookie(const ru_req_t *req, const char *name, char *out, size_t size)
{
    const char *h = ru_http_req_header(req, "Cookie");
    size_t nlen = strlen(name);
    for (const char *p = h; p && *p;) {
        p += strspn(p, " \t;");
        const char *end = p + strcspn(p, ";");
        if ((size_t) (end - p) > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            const char *v = p + nlen + 1;
            size_t vlen = (size_t) (end - v);
            while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
                vlen--;
            if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
                v++;
                vlen -= 2;
            }
            if (vlen >= size)
                return -2;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return (int) vlen;
        }
        p = end;
    }
    return -1;
}

const char *
ru_http_ws_protocol(const ru_req_t *req, size_t *len)
{
    const char *list = ru_http_req_header(req, "Sec-WebSocket-Protocol");
    *len = list ? strcspn(list, ", \t") : 0;
    return list;
}

/*  The token a request carries and how; param is the access_token
 *  parameter already parsed, or NULL to read it from the query string. */
static ru_auth_via
s_token(const ru_req_t *req, const char *param, char *out, size_t size)
{
    const char *h = ru_http_req_header(req, "Authorization");
    const char *q = ru_http_req_query(req);
    size_t plen;
    const char *proto = ru_http_ws_protocol(req, &plen);
    if (h && strncasecmp(h, "Bearer ", 7) == 0)
        snprintf(out, size, "%s", h + 7);
    else if (param)
        snprintf(out, size, "%s", param);
    else if (!q || ru_http_form_var(q, "access_token", out, size) <= 0) {
        if (proto)
            snprintf(out, size, "%.*s", (int) plen, proto);
        else
            return ru_http_cookie(req, RU_SESSION_COOKIE, out, size) > 0 ? RU_AUTH_COOKIE
                                                                          : RU_AUTH_NONE;
    }
    return RU_AUTH_TOKEN;
}

/*  The account of a session token and the scope it was granted (every
 *  scope its user may use for a session that no app holds) into scope. */
static ru_err
s_session(ru_node_t *node, const char *token, ru_account_t *acct, char *scope, size_t size)
{
    ru_txn_t txn;
    json_t *app = NULL;
    ru_err err = ru_store_read(node->store, &txn);
    if (err)
        return err;
    err = ru_account_session_get(&txn, token, acct);
    ru_err found = err ? err : ru_oauth_token_get(&txn, token, &app);
    ru_txn_abort(&txn);
    const char *granted = json_string_value(json_object_get(app, "scope"));
    snprintf(scope, size, "%s%s",
             found == RU_E_NOT_FOUND ? RU_OAUTH_ALL_SCOPES
             : granted               ? granted
                                     : "",
             found == RU_E_NOT_FOUND && !err && acct->admin ? " " RU_OAUTH_ADMIN_SCOPES : "");
    json_decref(app);
    return err ? err : found == RU_E_NOT_FOUND ? RU_OK : found;
}

ru_err
ru_http_req_account(const ru_req_t *req, ru_account_t *acct, ru_auth_via *via)
{
    char token[RU_TOKEN_TEXT_SIZE + 1], scope[RU_HTTP_SCOPE_SIZE];
    *via = s_token(req, NULL, token, sizeof token);
    ru_err err = *via == RU_AUTH_NONE ? RU_E_NOT_FOUND
                                      : s_session(req->node, token, acct, scope, sizeof scope);
    if (!err && !ru_oauth_scope_allows(scope, 0))
        err = RU_E_NOT_FOUND; /* an app token without read access reads nothing */
    sodium_memzero(token, sizeof token);
    return err;
}

/*  Signs the request in from its token, if it has one. */
static void
s_authenticate(ru_req_t *req)
{
    char token[RU_TOKEN_TEXT_SIZE + 1];
    ru_auth_via via = s_token(req, ru_http_param(req, "access_token"), token, sizeof token);
    if (via != RU_AUTH_NONE && strlen(token) < sizeof req->token &&
        s_session(req->node, token, &req->user, req->scope, sizeof req->scope) == RU_OK) {
        req->authed = 1;
        req->via = via;
        memcpy(req->token, token, strlen(token) + 1);
    }
    sodium_memzero(token, sizeof token);
}

/*  A request signed in by its cookie that changes something must carry
 *  the session's CSRF token. */
static int
s_csrf_ok(ru_req_t *req)
{
    if (req->via != RU_AUTH_COOKIE || strcmp(req->method, "GET") == 0 ||
        strcmp(req->method, "HEAD") == 0 || strcmp(req->method, "OPTIONS") == 0)
        return 1;
    const char *given = ru_http_req_header(req, "X-CSRF-Token");
    if (!given)
        given = ru_http_param(req, "authenticity_token");
    char want[RU_TOKEN_TEXT_SIZE];
    ru_http_csrf(req->token, want);
    return given && strlen(given) == strlen(want) && sodium_memcmp(given, want, strlen(want)) == 0;
}

int
ru_http_request_token(const ru_req_t *req, char *out, size_t size)
{
    if (s_token(req, ru_http_param(req, "access_token"), out, size) == RU_AUTH_TOKEN && *out)
        return 1;
    sodium_memzero(out, size);
    return 0;
}

/*  Drops the request's sign-in: it goes on as nobody's. */
static void
s_sign_out(ru_req_t *req)
{
    sodium_memzero(&req->user, sizeof req->user);
    sodium_memzero(req->token, sizeof req->token);
    req->authed = 0;
    req->via = RU_AUTH_NONE;
}

int
ru_http_admin_refused(ru_req_t *req, int write)
{
    const char *need = write ? "admin:write" : "admin:read";
    if (!req->authed)
        return ru_http_error(req, 401, "this needs an administrator's token");
    if (!req->user.admin)
        return ru_http_error(req, 403, "only an administrator may do this");
    if (!ru_oauth_scope_subset(need, req->scope))
        return ru_http_error(req, 403, "This action needs the %s scope", need);
    return 0;
}

/*  Checks what the request's sign-in allows before its handler runs;
 *  sends the refusal and returns its status, or 0. A token whose scopes
 *  do not allow the request is refused on a route that needs a user, and
 *  ignored (the request goes on unsigned) on one open to all. */
static int
s_allowed(ru_req_t *req, const ru_route_t *r)
{
    if (r->auth != RU_ROUTE_OPEN && !req->authed)
        return ru_http_error(req, 401, "The access token is invalid");
    if (!s_csrf_ok(req))
        return ru_http_error(req, 403, "the CSRF token is missing or wrong");
    int writes = strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0 &&
                 strcmp(req->method, "OPTIONS") != 0;
    if (r->auth == RU_ROUTE_ADMIN || r->auth == RU_ROUTE_ADMIN_WRITE)
        return ru_http_admin_refused(req, writes || r->auth == RU_ROUTE_ADMIN_WRITE);
    if (!req->authed || ru_oauth_scope_allows(req->scope, writes))
        return 0;
    if (r->auth != RU_ROUTE_OPEN)
        return ru_http_error(req, 403, "This action is outside the authorized scopes");
    s_sign_out(req);
    return 0;
}

/*  Runs the request's route; *route says which, for the metrics. */
static int
s_route(ru_http_t *self, ru_req_t *req, int *route)
{
    int path_known = 0;
    *route = RU_REQSTATS_ROUTE_NONE;
    for (const ru_route_t *r = self->routes; r->method; r++) {
        if (!s_match(r->pattern, req->path, req))
            continue;
        path_known = 1;
        if (strcmp(r->method, req->method) != 0)
            continue;
        *route = (int) (r - self->routes);
        int refused = s_allowed(req, r);
        return refused ? refused : r->handler(req);
    }
    if (path_known)
        return ru_http_error(req, 405, "%s is not allowed here", req->method);
    int status = self->other ? self->other(req) : 0;
    if (status) {
        *route = RU_REQSTATS_ROUTE_WEB;
        return status;
    }
    return ru_http_error(req, 404, "no such endpoint: %s", req->path);
}

/*  ---------------------------------------------------------------------
 *  What a handler reads of its request
 */

const char *
ru_http_req_header(const ru_req_t *req, const char *name)
{
    const ru_http_job_t *job = req->job;
    for (size_t i = 0; i < job->nhdrs; i++)
        if (strcasecmp(job->hdrs[i].name, name) == 0)
            return job->hdrs[i].value;
    return NULL;
}

const char *
ru_http_req_query(const ru_req_t *req)
{
    return req->job->query;
}

const char *
ru_http_req_addr(const ru_req_t *req)
{
    return req->job->addr;
}

/*  ---------------------------------------------------------------------
 *  Running a request on a worker
 */

/*  Hands a message to the loop; 0, or -1 when the loop is gone. */
static int
s_post(ru_http_t *self, s_msg_kind kind, ru_http_job_t *job, void (*fn)(void *), void *arg)
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

int
ru_http_post(ru_http_t *self, void (*fn)(void *arg), void *arg)
{
    return s_post(self, S_MSG_RUN, NULL, fn, arg);
}

/*  A WebSocket handshake: the handler registered for them, after the
 *  checks of the handshake itself. */
static int
s_websocket(ru_http_t *self, ru_req_t *req)
{
    const char *version = ru_http_req_header(req, "Sec-WebSocket-Version");
    if (!req->job->ws_key[0])
        return ru_http_error(req, 400, "Sec-WebSocket-Key must be 24 characters");
    if (!version || strcmp(version, "13") != 0) {
        ru_http_header(req, "Sec-WebSocket-Version", "13");
        return ru_http_error(req, 426, "Sec-WebSocket-Version must be 13");
    }
    if (!self->websocket)
        return ru_http_error(req, 404, "no WebSocket here: %s", req->path);
    return self->websocket(req);
}

/*  Runs job's handler and hands the answer to the loop. */
static const char *s_lines(const ru_http_job_t *job);

/*  Keeps the answer of an anonymous read for the next ones (ru_cache.h). */
static void
s_keep(ru_http_t *self, ru_http_job_t *job)
{
    ru_cache_entry_t answer = {job->status, job->type, s_lines(job), job->out.data, job->out.len};
    if (ru_cache_put(self->node->cache, job->cache_key, job->cache_gen, &answer) != RU_OK)
        ru_log_debug(S_LOG, "%s: no room to keep its answer", job->cache_key);
}

static void
s_run(ru_http_t *self, ru_http_job_t *job)
{
    ru_req_t *req = &job->req;
    int route = RU_REQSTATS_ROUTE_NONE;
    int status = s_params(req);
    if (!status && job->websocket)
        status = s_websocket(self, req);
    else if (!status) {
        s_authenticate(req);
        status = s_route(self, req, &route);
    }
    if (job->kind == S_NONE) {
        ru_log_err(S_LOG, "%s %s: the handler gave no answer", req->method, req->path);
        status = ru_http_error(req, 500, "the handler gave no answer");
    }
    if (job->cache_key && job->kind == S_PLAIN && job->status == 200 && !req->authed)
        s_keep(self, job);
    ru_reqstats_count(self->node->reqstats, route, status, s_now_us() - job->start_us);
    json_decref(req->params);
    req->params = NULL;
    /* it held the session's account */
    sodium_memzero(&req->user, sizeof req->user);
    sodium_memzero(req->token, sizeof req->token);
    if (s_post(self, S_MSG_ANSWER, job, NULL, NULL) != 0)
        ru_log_err(S_LOG, "%s %s: the answer could not reach the loop", req->method, req->path);
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
        s_run(self, job);
        pthread_mutex_lock(&self->lock);
    }
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

/*  Queues job for the workers: 0, or -1 when [http] queue jobs wait. */
static int
s_enqueue(ru_http_t *self, ru_http_job_t *job)
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

/*  ---------------------------------------------------------------------
 *  Streamed bodies (worker side)
 */

int
ru_http_stream_start(ru_req_t *req, int status, const char *type, long long length)
{
    if (s_answer(req, S_CHUNKS, status, type) != 0)
        return -1;
    req->job->length = length;
    return 0;
}

int
ru_http_stream_write(ru_req_t *req, const void *data, size_t len)
{
    ru_http_job_t *job = req->job;
    ru_http_t *self = job->http;
    if (job->kind != S_CHUNKS)
        return -1;
    if (len == 0)
        return 0;
    /* the loop holds no piece now: the last one was waited for */
    ru_buf_reset(&job->piece);
    ru_buf_append(&job->piece, data, len);
    if (ru_buf_status(&job->piece) != RU_OK)
        return -1;
    pthread_mutex_lock(&self->lock);
    int gone = job->gone;
    job->piece_busy = !gone;
    pthread_mutex_unlock(&self->lock);
    if (gone || s_post(self, S_MSG_PIECE, job, NULL, NULL) != 0)
        return -1;
    pthread_mutex_lock(&self->lock);
    while (job->piece_busy && !job->gone)
        pthread_cond_wait(&job->sent, &self->lock);
    gone = job->gone;
    pthread_mutex_unlock(&self->lock);
    return gone ? -1 : 0;
}

/*  ---------------------------------------------------------------------
 *  Streams (worker side)
 */

int
ru_http_event_stream(ru_req_t *req, const char *type, const char *first, size_t len,
                     const ru_http_stream_ops_t *ops, void *ctx)
{
    if (s_answer(req, S_EVENTS, 200, type) != 0) {
        ops->closed(ctx);
        return 500;
    }
    ru_buf_append(&req->job->out, first, len);
    req->job->ops = ops;
    req->job->ctx = ctx;
    return 200;
}

int
ru_http_websocket(ru_req_t *req, const char *protocol, size_t plen,
                  const ru_http_stream_ops_t *ops, void *ctx)
{
    ru_http_job_t *job = req->job;
    if (!job->websocket || plen >= sizeof job->protocol || s_answer(req, S_WEBSOCKET, 101, "")) {
        ops->closed(ctx);
        return job->kind == S_NONE ? ru_http_error(req, 400, "not a WebSocket handshake") : 500;
    }
    memcpy(job->protocol, protocol, plen);
    job->protocol[plen] = '\0';
    job->ops = ops;
    job->ctx = ctx;
    return 101;
}

/*  ---------------------------------------------------------------------
 *  Jobs (loop side)
 */

/*  Tells ru_http_stop() that jobs, answers or connections went down. */
static void
s_settled(ru_http_t *self)
{
    pthread_mutex_lock(&self->lock);
    pthread_cond_broadcast(&self->settled);
    pthread_mutex_unlock(&self->lock);
}

static void
s_job_free(ru_http_job_t *job)
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
    free(job);
    if (atomic_fetch_sub(&self->jobs, 1) == 1 && self->stopping)
        s_settled(self);
}

/*  The request's memory is being freed: its answer has left or its
 *  client went away. */
static void
s_holder_dispose(void *p)
{
    s_holder *h = p;
    ru_http_job_t *job = h->job;
    if (job) {
        job->h2o = NULL;
        job->holder = NULL;
        pthread_mutex_lock(&job->http->lock);
        job->gone = 1;
        pthread_cond_signal(&job->sent);
        pthread_mutex_unlock(&job->http->lock);
    }
    if (h->conn && h->conn->busy) {
        ru_http_t *self = h->conn->http;
        h->conn->busy = 0;
        h2o_timeout_unlink(&h->conn->idle);
        h2o_timeout_link(self->loop, &self->idle_timeout, &h->conn->idle);
        if (atomic_fetch_sub(&self->busy, 1) == 1 && self->stopping)
            s_settled(self);
    }
}

/*  The connection record of a request, NULL if it has none. */
static s_conn *s_conn_of(h2o_req_t *r);

/*  Copies what a handler may read of r into a new job; NULL out of
 *  memory. */
static ru_http_job_t *
s_job_new(ru_http_t *self, h2o_req_t *r)
{
    size_t qat = r->query_at != SIZE_MAX ? r->query_at : r->path.len;
    size_t size = r->method.len + 1 + qat + 1 + (r->path.len - qat) + 1 +
                  r->input.authority.len + sizeof "host" + 1 + r->entity.len + 1;
    size_t n = r->headers.size < S_MAX_HEADERS ? r->headers.size : S_MAX_HEADERS;
    for (size_t i = 0; i < n; i++)
        size += r->headers.entries[i].name->len + r->headers.entries[i].value.len + 2;
    ru_http_job_t *job = calloc(1, sizeof *job);
    char *p = job ? malloc(size) : NULL;
    if (!p) {
        free(job);
        return NULL;
    }
    job->copy = p;
    job->http = self;
    job->start_us = s_now_us();
    ru_buf_init(&job->lines);
    ru_buf_init(&job->out);
    ru_buf_init(&job->piece);
    pthread_cond_init(&job->sent, NULL);
#define S_COPY(dst, base, len)                                                                     \
    do {                                                                                           \
        memcpy(p, (base), (len));                                                                  \
        p[(len)] = '\0';                                                                           \
        (dst) = p;                                                                                 \
        p += (len) + 1;                                                                            \
    } while (0)
    S_COPY(job->req.method, r->method.base, r->method.len);
    char *path = p; /* decoded in place, as clients' escapes in paths are for us to undo */
    int plen = s_url_decode(r->path.base, qat, path, qat + 1, 0);
    p += qat + 1;
    job->req.path = plen >= 0 ? path : "/";
    if (qat < r->path.len)
        S_COPY(job->query, r->path.base + qat + 1, r->path.len - qat - 1);
    else
        p++;
    for (size_t i = 0; i < n; i++) {
        const h2o_header_t *h = &r->headers.entries[i];
        S_COPY(job->hdrs[job->nhdrs].name, h->orig_name ? h->orig_name : h->name->base,
               h->name->len);
        S_COPY(job->hdrs[job->nhdrs].value, h->value.base, h->value.len);
        job->nhdrs++;
    }
    if (r->input.authority.base) {
        S_COPY(job->hdrs[job->nhdrs].name, "Host", 4);
        S_COPY(job->hdrs[job->nhdrs].value, r->input.authority.base, r->input.authority.len);
        job->nhdrs++;
    }
    job->body = p;
    job->body_len = r->entity.base ? r->entity.len : 0;
    if (job->body_len)
        memcpy(p, r->entity.base, job->body_len);
    p[job->body_len] = '\0';
#undef S_COPY
    struct sockaddr_storage sa;
    socklen_t salen = r->conn->callbacks->get_peername(r->conn, (struct sockaddr *) &sa);
    if (!salen || h2o_socket_getnumerichost((struct sockaddr *) &sa, salen, job->addr) == SIZE_MAX)
        snprintf(job->addr, sizeof job->addr, "unknown");
    job->req.job = job;
    job->req.node = self->node;
    return job;
}

/*  Ties job to r: h2o's freeing of r's pool tells them both. */
static void
s_job_bind(ru_http_job_t *job, h2o_req_t *r, s_conn *c)
{
    s_holder *h = h2o_mem_alloc_shared(&r->pool, sizeof *h, s_holder_dispose);
    h->job = job;
    h->conn = c;
    job->h2o = r;
    job->holder = h;
    if (c && !c->busy) {
        c->busy = 1;
        atomic_fetch_add(&job->http->busy, 1);
    }
}

/*  ---------------------------------------------------------------------
 *  Answering (loop side)
 */

/*  Adds header name: value (len bytes) to r's response, copied into its
 *  pool. */
static void
s_res_header(h2o_req_t *r, const char *name, size_t nlen, const char *value, size_t vlen)
{
    h2o_iovec_t n = h2o_strdup(&r->pool, name, nlen), v = h2o_strdup(&r->pool, value, vlen);
    h2o_add_header_by_str(&r->pool, &r->res.headers, n.base, n.len, 0, NULL, v.base, v.len);
}

#define S_HEADER(r, name, value) s_res_header((r), (name), strlen(name), (value), strlen(value))

/*  Adds the lines of text ("Name: value\r\n"...) to r's response. */
static void
s_res_lines(h2o_req_t *r, const char *text)
{
    while (*text) {
        const char *eol = strstr(text, "\r\n"), *colon = strchr(text, ':');
        if (!eol || !colon || colon > eol)
            return;
        const char *v = colon + 1 + strspn(colon + 1, " ");
        s_res_header(r, text, (size_t) (colon - text), v, (size_t) (eol - v));
        text = eol + 2;
    }
}

/*  The head every answer of ours has: status, type, the security headers,
 *  caching, how long the connection is kept, and lines, the handler's
 *  own header lines ("Name: value\r\n"...). */
static void
s_res_head(ru_http_t *self, h2o_req_t *r, const char *lines, int status, const char *type)
{
    r->res.status = status;
    r->res.reason = s_reason(status);
    if (type && *type)
        S_HEADER(r, "Content-Type", type);
    if (!strstr(lines, "Content-Security-Policy:"))
        S_HEADER(r, "Content-Security-Policy", RU_HTTP_CSP);
    if (!strstr(lines, "Cache-Control:"))
        S_HEADER(r, "Cache-Control", "no-store");
    s_res_lines(r, RU_HTTP_BASE_HEADERS);
    s_res_lines(r, lines);
    if (self->node->cfg.keep_alive_ms == 0 || self->stopping)
        r->http1_is_persistent = 0;
    else if (r->http1_is_persistent) {
        char ka[32];
        snprintf(ka, sizeof ka, "timeout=%ld", self->node->cfg.keep_alive_ms / 1000);
        S_HEADER(r, "Keep-Alive", ka);
    }
}

/*  The header lines of job's answer, as its handler had set them when it
 *  answered. */
static const char *
s_lines(const ru_http_job_t *job)
{
    return job->lines.len ? (const char *) job->lines.data : "";
}

/*  Our generators' callbacks, which the filter knows ours by. */
static void
s_final_proceed(h2o_generator_t *g, h2o_req_t *r)
{
    (void) g;
    (void) r;
}

static h2o_generator_t s_final_gen = {s_final_proceed, NULL};

/*  The body of an answer, owned by the request's pool. */
static void
s_body_dispose(void *p)
{
    ru_buf_fini(p);
}

/*  Sends a whole answer: body (its memory taken) or, for HEAD, a head
 *  saying len bytes. */
static void
s_send_final(h2o_req_t *r, ru_buf_t *body, size_t head_len)
{
    /* the length before the start: h2o chooses chunks for a body without */
    if (!body) {
        r->res.content_length = head_len;
        h2o_start_response(r, &s_final_gen);
        h2o_send(r, NULL, 0, H2O_SEND_STATE_FINAL);
        return;
    }
    ru_buf_t *kept = h2o_mem_alloc_shared(&r->pool, sizeof *kept, s_body_dispose);
    *kept = *body;
    ru_buf_init(body);
    r->res.content_length = kept->len;
    h2o_start_response(r, &s_final_gen);
    h2o_iovec_t iov = h2o_iovec_init(kept->data, kept->len);
    h2o_send(r, &iov, kept->len ? 1 : 0, H2O_SEND_STATE_FINAL);
}

/*  An answer of the loop's own (503, 431, 400 ...), JSON like the others;
 *  close asks the client to close the connection. */
static void
s_refuse(ru_http_t *self, h2o_req_t *r, int status, const char *why, int close,
         const char *retry_after)
{
    json_t *body = json_pack("{s:s}", "error", why);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (close)
        r->http1_is_persistent = 0;
    s_res_head(self, r, "", status, "application/json; charset=utf-8");
    if (retry_after)
        S_HEADER(r, "Retry-After", retry_after);
    ru_buf_t out;
    ru_buf_init(&out);
    ru_buf_append(&out, text ? text : "{}", text ? strlen(text) : 2);
    free(text);
    s_send_final(r, &out, 0);
}

static void s_piece_proceed(h2o_generator_t *g, h2o_req_t *r);
static void s_piece_stop(h2o_generator_t *g, h2o_req_t *r);
static void s_out_start_events(ru_http_t *self, ru_http_job_t *job, h2o_req_t *r);
static void s_out_start_websocket(ru_http_t *self, ru_http_job_t *job, h2o_req_t *r);

/*  Starts the response of a streamed body. */
static void
s_pieces_start(ru_http_t *self, ru_http_job_t *job, h2o_req_t *r)
{
    s_res_head(self, r, s_lines(job), job->status, job->type);
    r->res.content_length = job->length >= 0 ? (size_t) job->length : SIZE_MAX;
    job->gen.proceed = s_piece_proceed;
    job->gen.stop = s_piece_stop;
    h2o_start_response(r, &job->gen);
    job->started = 1;
}

/*  A piece of a streamed body from the worker. */
static void
s_on_piece(ru_http_t *self, ru_http_job_t *job)
{
    h2o_req_t *r = job->h2o;
    if (!r) {
        pthread_mutex_lock(&self->lock);
        job->gone = 1;
        pthread_cond_signal(&job->sent);
        pthread_mutex_unlock(&self->lock);
        return;
    }
    if (!job->started)
        s_pieces_start(self, job, r);
    job->sent_bytes += (long long) job->piece.len;
    h2o_iovec_t iov = h2o_iovec_init(job->piece.data, job->piece.len);
    h2o_send(r, &iov, 1, H2O_SEND_STATE_IN_PROGRESS);
}

static void
s_piece_proceed(h2o_generator_t *g, h2o_req_t *r)
{
    (void) r;
    ru_http_job_t *job = H2O_STRUCT_FROM_MEMBER(ru_http_job_t, gen, g);
    pthread_mutex_lock(&job->http->lock);
    job->piece_busy = 0;
    pthread_cond_signal(&job->sent);
    pthread_mutex_unlock(&job->http->lock);
}

static void
s_piece_stop(h2o_generator_t *g, h2o_req_t *r)
{
    (void) r;
    ru_http_job_t *job = H2O_STRUCT_FROM_MEMBER(ru_http_job_t, gen, g);
    job->started = 0; /* h2o is done with it */
    pthread_mutex_lock(&job->http->lock);
    job->gone = 1;
    pthread_cond_signal(&job->sent);
    pthread_mutex_unlock(&job->http->lock);
}

/*  A worker's answer: sent, unless its client left; the job is freed
 *  (a stream's goes on as an out of its own). */
static void
s_on_answer(ru_http_t *self, ru_http_job_t *job)
{
    h2o_req_t *r = job->h2o;
    if (!r) {
        if (job->kind == S_EVENTS || job->kind == S_WEBSOCKET)
            job->ops->closed(job->ctx);
        s_job_free(job);
        return;
    }
    switch (job->kind) {
    case S_CHUNKS:
        if (!job->started)
            s_pieces_start(self, job, r);
        job->started = 0;
        if (job->length >= 0 && job->sent_bytes != job->length)
            r->http1_is_persistent = 0; /* cut short: the client sees it end early */
        h2o_send(r, NULL, 0, H2O_SEND_STATE_FINAL);
        break;
    case S_EVENTS:
        s_out_start_events(self, job, r);
        break;
    case S_WEBSOCKET:
        s_out_start_websocket(self, job, r);
        break;
    case S_HEAD:
        s_res_head(self, r, s_lines(job), job->status, job->type);
        s_send_final(r, NULL, job->head_len);
        break;
    default:
        if (job->websocket)
            r->http1_is_persistent = 0; /* a refused handshake: its client expects no more */
        s_res_head(self, r, s_lines(job), job->status, job->type);
        s_send_final(r, &job->out, 0);
        break;
    }
    s_job_free(job);
}

static void
s_on_messages(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    ru_http_t *self = H2O_STRUCT_FROM_MEMBER(ru_http_t, receiver, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        s_msg *m = H2O_STRUCT_FROM_MEMBER(s_msg, super.link, messages->next);
        h2o_linklist_unlink(&m->super.link);
        if (m->kind == S_MSG_ANSWER)
            s_on_answer(self, m->job);
        else if (m->kind == S_MSG_PIECE)
            s_on_piece(self, m->job);
        else
            m->fn(m->arg);
        free(m);
    }
}

/*  ---------------------------------------------------------------------
 *  Streams (loop side): event streams and WebSockets
 */

/*  Ends out's life: its stream's closed(), then out is freed. */
static void
s_out_done(ru_http_out_t *out)
{
    if (out->done)
        return;
    out->done = 1;
    if (out->conn && out->conn->out == out)
        out->conn->out = NULL;
    h2o_timeout_unlink(&out->close_timer);
    if (out->wslay)
        wslay_event_context_free(out->wslay);
    ru_buf_fini(&out->wbuf);
    ru_buf_fini(&out->acc);
    ru_buf_fini(&out->msg);
    out->ops->closed(out->ctx);
    free(out);
}

static ru_http_out_t *
s_out_new(ru_http_t *self, ru_http_job_t *job, h2o_req_t *r)
{
    ru_http_out_t *out = calloc(1, sizeof *out);
    if (!out)
        return NULL;
    out->http = self;
    out->ops = job->ops;
    out->ctx = job->ctx;
    out->conn = s_conn_of(r);
    if (out->conn)
        out->conn->out = out;
    ru_buf_init(&out->wbuf);
    ru_buf_init(&out->acc);
    ru_buf_init(&out->msg);
    return out;
}

int
ru_http_out_idle(const ru_http_out_t *out)
{
    if (out->done || out->closing || out->writing)
        return 0;
    return !out->ws || (out->wslay && !wslay_event_want_write(out->wslay));
}

/*  - event streams - */

static void
s_events_proceed(h2o_generator_t *g, h2o_req_t *r)
{
    ru_http_out_t *out = H2O_STRUCT_FROM_MEMBER(ru_http_out_t, gen, g);
    out->writing = 0;
    ru_buf_reset(&out->wbuf);
    if (out->closing) {
        h2o_send(r, NULL, 0, H2O_SEND_STATE_FINAL);
        s_out_done(out);
    } else
        out->ops->ready(out->ctx, out);
}

static void
s_events_stop(h2o_generator_t *g, h2o_req_t *r)
{
    (void) r;
    s_out_done(H2O_STRUCT_FROM_MEMBER(ru_http_out_t, gen, g));
}

/*  The event stream's connection is read while the stream lasts, so
 *  that a client that leaves frees its place at once, not at the next
 *  write; what it sends is dropped. */
static void
s_events_on_read(h2o_socket_t *sock, const char *err)
{
    s_conn *c = sock->on_close.data;
    ru_http_out_t *out = c ? c->out : NULL;
    h2o_buffer_consume(&sock->input, sock->input->size);
    if (!err)
        return;
    h2o_socket_read_stop(sock);
    if (!out || out->ws)
        return;
    if (out->writing)
        out->closing = 1; /* the write fails or ends, then it is over */
    else {
        h2o_req_t *r = out->req;
        s_out_done(out);
        h2o_send(r, NULL, 0, H2O_SEND_STATE_ERROR);
    }
}

static void
s_out_start_events(ru_http_t *self, ru_http_job_t *job, h2o_req_t *r)
{
    ru_http_out_t *out = s_out_new(self, job, r);
    if (!out) {
        job->ops->closed(job->ctx);
        s_refuse(self, r, 500, "out of memory", 1, NULL);
        return;
    }
    out->req = r;
    out->gen.proceed = s_events_proceed;
    out->gen.stop = s_events_stop;
    /* an event stream ends with its connection, and goes out as bytes
     * until then, not in chunks (as clients of the streaming API read it):
     * h2o's chunked encoder leaves HTTP/1.0 answers alone */
    r->http1_is_persistent = 0;
    r->version = 0x100;
    s_res_head(self, r, s_lines(job), 200, job->type);
    S_HEADER(r, "X-Accel-Buffering", "no");
    h2o_start_response(r, &out->gen);
    out->wbuf = job->out;
    ru_buf_init(&job->out);
    out->writing = 1;
    h2o_iovec_t iov = h2o_iovec_init(out->wbuf.data, out->wbuf.len);
    h2o_send(r, &iov, 1, H2O_SEND_STATE_IN_PROGRESS);
    h2o_socket_t *sock = r->conn->callbacks->get_socket(r->conn);
    if (sock && out->conn)
        h2o_socket_read_start(sock, s_events_on_read);
}

/*  - WebSockets: wslay frames, written by the loop - */

static int s_ws_proceed(ru_http_out_t *out);

/*  Closes a WebSocket's connection now. */
static void
s_ws_close_now(ru_http_out_t *out)
{
    h2o_socket_t *sock = out->sock;
    out->sock = NULL;
    if (sock)
        h2o_socket_close(sock);
    s_out_done(out);
}

static void
s_ws_on_written(h2o_socket_t *sock, const char *err)
{
    ru_http_out_t *out = sock->data;
    out->writing = 0;
    ru_buf_reset(&out->wbuf);
    if (err) {
        s_ws_close_now(out);
        return;
    }
    if (s_ws_proceed(out) == 0 && ru_http_out_idle(out))
        out->ops->ready(out->ctx, out);
}

static void
s_ws_on_read(h2o_socket_t *sock, const char *err)
{
    ru_http_out_t *out = sock->data;
    if (err)
        s_ws_close_now(out);
    else
        (void) s_ws_proceed(out);
}

static void
s_ws_close_late(h2o_timeout_entry_t *entry)
{
    s_ws_close_now(H2O_STRUCT_FROM_MEMBER(ru_http_out_t, close_timer, entry));
}

/*  At the start of a frame in the input: its header's length (0 when it
 *  has not all come yet) and its payload's into *payload. A piece of a
 *  fragmented message is made a whole text message for wslay and marked
 *  (rx_piece): the streaming API's messages are one frame each, a client
 *  is told so and may go on, where wslay would close the connection at a
 *  new message after an unfinished one. */
static size_t
s_ws_frame_head(ru_http_out_t *out, uint8_t *b, size_t avail, uint64_t *payload)
{
    if (avail < 2)
        return 0;
    size_t ext = (b[1] & 0x7f) == 126 ? 2 : (b[1] & 0x7f) == 127 ? 8 : 0;
    size_t head = 2 + ext + ((b[1] & 0x80) ? 4 : 0);
    if (avail < head)
        return 0;
    *payload = ext ? 0 : (uint64_t) (b[1] & 0x7f);
    for (size_t i = 0; i < ext; i++)
        *payload = *payload << 8 | b[2 + i];
    unsigned opcode = b[0] & 0x0f;
    out->rx_piece = opcode < 0x8 && (!(b[0] & 0x80) || opcode == WSLAY_CONTINUATION_FRAME);
    if (out->rx_piece)
        b[0] = (uint8_t) ((b[0] & 0x70) | 0x80 | (opcode ? opcode : WSLAY_TEXT_FRAME));
    return head;
}

static ssize_t
s_ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
    (void) flags;
    ru_http_out_t *out = user;
    h2o_buffer_t *in = out->sock->input;
    uint64_t payload = 0;
    size_t head = out->rx_left ? 0 : s_ws_frame_head(out, (uint8_t *) in->bytes, in->size, &payload);
    if (!out->rx_left && head)
        out->rx_left = head + payload;
    if (in->size == 0 || !out->rx_left) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t n = in->size < len ? in->size : len;
    if ((uint64_t) n > out->rx_left)
        n = (size_t) out->rx_left;
    memcpy(buf, in->bytes, n);
    h2o_buffer_consume(&out->sock->input, n);
    out->rx_left -= n;
    return (ssize_t) n;
}

/*  wslay's frames are gathered, then written in one go by s_ws_proceed. */
static ssize_t
s_ws_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user)
{
    (void) flags;
    ru_http_out_t *out = user;
    if (out->writing || out->acc.len >= S_WS_BATCH) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    ru_buf_append(&out->acc, data, len);
    if (ru_buf_status(&out->acc) != RU_OK) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t) len;
}

/*  A client's message is read frame by frame into out->msg, never more
 *  than [streaming] max_message bytes of it: wslay buffers none of it
 *  (only control frames, which are 125 bytes at most). A message found
 *  longer (by the lengths its frames announce), or sent in pieces (the
 *  streaming API's are one frame each), is skipped as it comes and
 *  answered with an error once; a frame that announces more than
 *  S_WS_SKIP_MAX times max_message closes the connection at once (1009,
 *  by wslay): reading a client's half gigabyte only to drop it is no
 *  use. */
#define S_WS_SKIP_MAX 64

static void
s_ws_frame_start(wslay_event_context_ptr ctx, const struct wslay_event_on_frame_recv_start_arg *arg,
                 void *user)
{
    (void) ctx;
    ru_http_out_t *out = user;
    uint64_t max = (uint64_t) out->http->node->cfg.stream_max_message;
    out->frame_data = arg->opcode < 0x8;
    out->frame_fin = arg->fin;
    if (!out->frame_data)
        return;
    if (arg->opcode != WSLAY_CONTINUATION_FRAME) {
        ru_buf_reset(&out->msg);
        out->msg_text = arg->opcode == WSLAY_TEXT_FRAME;
        out->msg_over = out->msg_told = 0;
    }
    if (out->msg.len + arg->payload_length > max || out->rx_piece)
        out->msg_over = 1; /* past S_WS_SKIP_MAX times, wslay closed it before this */
}

static void
s_ws_frame_chunk(wslay_event_context_ptr ctx, const struct wslay_event_on_frame_recv_chunk_arg *arg,
                 void *user)
{
    (void) ctx;
    ru_http_out_t *out = user;
    if (out->frame_data && !out->msg_over)
        ru_buf_append(&out->msg, arg->data, arg->data_length);
}

static void
s_ws_frame_end(wslay_event_context_ptr ctx, void *user)
{
    (void) ctx;
    ru_http_out_t *out = user;
    int ok = !out->msg_over && ru_buf_status(&out->msg) == RU_OK;
    if (!out->frame_data || (!out->frame_fin && (ok || out->msg_told)) || out->closing ||
        wslay_event_get_close_sent(out->wslay))
        return;
    out->msg_told = !ok;
    out->ops->message(out->ctx, out, ok ? (const char *) out->msg.data : NULL,
                      ok ? out->msg.len : 0, out->msg_text);
    ru_buf_reset(&out->msg);
}

/*  After a close frame of ours that ends a client's error (a frame too
 *  large), the client's bytes still on their way are read and dropped
 *  until it closes or S_CLOSE_MS pass: closing with bytes unread would
 *  reset the connection, and the client might never read why. */
static void
s_ws_drain(h2o_socket_t *sock, const char *err)
{
    ru_http_out_t *out = sock->data;
    h2o_buffer_consume(&sock->input, sock->input->size);
    if (err)
        s_ws_close_now(out);
}

static void
s_ws_linger(ru_http_out_t *out)
{
    shutdown(h2o_socket_get_fd(out->sock), SHUT_WR);
    h2o_buffer_consume(&out->sock->input, out->sock->input->size);
    h2o_socket_read_start(out->sock, s_ws_drain);
    if (!h2o_timeout_is_linked(&out->close_timer)) {
        out->close_timer.cb = s_ws_close_late;
        h2o_timeout_link(out->http->loop, &out->http->close_timeout, &out->close_timer);
    }
}

/*  Moves frames both ways as far as they go; -1 when the WebSocket ended
 *  (out is freed). */
static int
s_ws_proceed(ru_http_out_t *out)
{
    wslay_event_context_ptr w = out->wslay;
    if (out->in_proceed)
        return 0; /* a callback of the loop below: it goes on */
    out->in_proceed = 1;
    for (int moved = 1; moved;) {
        moved = 0;
        if (!out->writing && wslay_event_want_write(w)) {
            if (wslay_event_send(w) != 0)
                goto end;
            if (out->acc.len) {
                ru_buf_t t = out->wbuf;
                out->wbuf = out->acc;
                out->acc = t;
                out->writing = 1;
                h2o_iovec_t iov = h2o_iovec_init(out->wbuf.data, out->wbuf.len);
                h2o_socket_write(out->sock, &iov, 1, s_ws_on_written);
            }
        }
        size_t before = out->sock->input->size;
        if (before && wslay_event_want_read(w)) {
            if (wslay_event_recv(w) != 0)
                goto end;
            moved = out->sock->input->size != before; /* a frame's head may wait for more */
        }
    }
    out->in_proceed = 0;
    if (wslay_event_want_read(w))
        h2o_socket_read_start(out->sock, s_ws_on_read);
    else if (out->writing || wslay_event_want_write(w))
        h2o_socket_read_stop(out->sock);
    else if (wslay_event_get_close_sent(w) && !wslay_event_get_close_received(w))
        s_ws_linger(out);
    else
        goto end;
    return 0;
end:
    out->in_proceed = 0;
    s_ws_close_now(out);
    return -1;
}

/*  Queues the close frame ru_http_out_close() asked for; the client's
 *  answer ends the connection, or S_CLOSE_MS do. */
static void
s_ws_send_close(ru_http_out_t *out)
{
    out->close_timer.cb = s_ws_close_late;
    h2o_timeout_link(out->http->loop, &out->http->close_timeout, &out->close_timer);
    (void) wslay_event_queue_close(out->wslay, (uint16_t) out->close_code,
                                   (const uint8_t *) out->close_reason, strlen(out->close_reason));
    if (!out->writing)
        (void) s_ws_proceed(out);
}

static void
s_ws_upgraded(void *data, h2o_socket_t *sock, size_t reqsize)
{
    ru_http_out_t *out = data;
    ru_http_t *self = out->http;
    if (!sock) {
        s_out_done(out);
        return;
    }
    out->sock = sock;
    sock->data = out;
    h2o_buffer_consume(&sock->input, reqsize);
    struct wslay_event_callbacks cbs = {s_ws_recv,        s_ws_send,        NULL,
                                        s_ws_frame_start, s_ws_frame_chunk, s_ws_frame_end,
                                        NULL};
    if (wslay_event_context_server_init(&out->wslay, &cbs, out) != 0) {
        out->wslay = NULL;
        s_ws_close_now(out);
        return;
    }
    /* messages are ours to gather, within max_message (above) */
    wslay_event_config_set_no_buffering(out->wslay, 1);
    wslay_event_config_set_max_recv_msg_length(
        out->wslay, (uint64_t) S_WS_SKIP_MAX * (uint64_t) self->node->cfg.stream_max_message);
    if (out->closing) {
        s_ws_send_close(out);
        return;
    }
    out->ops->ready(out->ctx, out);
    if (!out->done)
        (void) s_ws_proceed(out);
}

/*  The Sec-WebSocket-Accept of a handshake's key (RFC 6455 4.2.2): the
 *  base64 of the SHA-1 of the key and the protocol's GUID. */
static void
s_ws_accept_key(const char *key, char *out, size_t size)
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char text[24 + sizeof guid];
    unsigned char sha1[20];
    unsigned int n = 0;
    snprintf(text, sizeof text, "%s%s", key, guid);
    if (EVP_Digest(text, strlen(text), sha1, &n, EVP_sha1(), NULL) != 1 || n != sizeof sha1)
        memset(sha1, 0, sizeof sha1); /* the client refuses the handshake */
    sodium_bin2base64(out, size, sha1, sizeof sha1, sodium_base64_VARIANT_ORIGINAL);
}

static void
s_out_start_websocket(ru_http_t *self, ru_http_job_t *job, h2o_req_t *r)
{
    ru_http_out_t *out = s_out_new(self, job, r);
    if (!out) {
        job->ops->closed(job->ctx);
        s_refuse(self, r, 500, "out of memory", 1, NULL);
        return;
    }
    out->ws = 1;
    char accept[64];
    s_ws_accept_key(job->ws_key, accept, sizeof accept);
    r->res.status = 101;
    r->res.reason = s_reason(101);
    S_HEADER(r, "Upgrade", "websocket");
    S_HEADER(r, "Sec-WebSocket-Accept", accept);
    if (job->protocol[0])
        S_HEADER(r, "Sec-WebSocket-Protocol", job->protocol);
    h2o_http1_upgrade(r, NULL, 0, s_ws_upgraded, out);
}

void
ru_http_out_write(ru_http_out_t *out, const char *data, size_t len)
{
    /* a WebSocket takes a message that is not waited for (an answer to
     * the client's own) while busy, within a bound */
    if (out->ws && out->wslay && !out->closing && !out->done &&
        wslay_event_get_queued_msg_length(out->wslay) < S_WS_BATCH) {
        struct wslay_event_msg msg = {WSLAY_TEXT_FRAME, (const uint8_t *) data, len};
        if (wslay_event_queue_msg(out->wslay, &msg) == 0 && !out->writing)
            (void) s_ws_proceed(out);
        return;
    }
    if (out->ws || !ru_http_out_idle(out))
        return;
    ru_buf_reset(&out->wbuf);
    ru_buf_append(&out->wbuf, data, len);
    if (ru_buf_status(&out->wbuf) != RU_OK)
        return;
    out->writing = 1;
    h2o_iovec_t iov = h2o_iovec_init(out->wbuf.data, out->wbuf.len);
    h2o_send(out->req, &iov, 1, H2O_SEND_STATE_IN_PROGRESS);
}

void
ru_http_out_ping(ru_http_out_t *out)
{
    if (!out->ws || !out->wslay || out->closing || out->done)
        return;
    struct wslay_event_msg msg = {WSLAY_PING, NULL, 0};
    if (wslay_event_queue_msg(out->wslay, &msg) == 0 && !out->writing)
        (void) s_ws_proceed(out);
}

void
ru_http_out_close(ru_http_out_t *out, int code, const char *reason)
{
    if (out->closing || out->done)
        return;
    out->closing = 1;
    if (!out->ws) {
        if (!out->writing) {
            h2o_req_t *r = out->req;
            s_out_done(out);
            h2o_send(r, NULL, 0, H2O_SEND_STATE_FINAL);
        }
        return;
    }
    out->close_code = code;
    snprintf(out->close_reason, sizeof out->close_reason, "%s", reason ? reason : "");
    if (out->wslay) /* else once the handshake has left */
        s_ws_send_close(out);
}

/*  ---------------------------------------------------------------------
 *  h2o's own errors, as JSON
 */

/*  Is r answered by one of our generators? */
static int
s_ours(const h2o_req_t *r)
{
    const h2o_generator_t *g = r->_generator;
    return g && (g->proceed == s_final_proceed || g->proceed == s_piece_proceed ||
                 g->proceed == s_events_proceed);
}

typedef struct {
    h2o_ostream_t super;
    h2o_iovec_t body;
} s_json_ostream;

static void
s_json_send(h2o_ostream_t *self, h2o_req_t *r, h2o_iovec_t *bufs, size_t n,
            h2o_send_state_t state)
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
        if (r->res.status == 413)
            snprintf(why, sizeof why, "the body is larger than %ld bytes",
                     f->http->node->cfg.max_body);
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
        S_HEADER(r, "Content-Type", "application/json; charset=utf-8");
        s_res_lines(r, RU_HTTP_SECURITY_HEADERS "Cache-Control: no-store\r\n");
        r->res.content_length = o->body.len;
        r->http1_is_persistent = 0;
        slot = &o->super.next;
    }
    h2o_setup_next_ostream(r, slot);
}

/*  ---------------------------------------------------------------------
 *  Connections: limits per address and in total, idle time
 */

static void s_on_close(void *data);

static s_conn *
s_conn_of(h2o_req_t *r)
{
    h2o_socket_t *sock = r->conn->callbacks->get_socket ? r->conn->callbacks->get_socket(r->conn)
                                                        : NULL;
    return sock && sock->on_close.cb == s_on_close ? sock->on_close.data : NULL;
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
    return h % S_ADDR_BUCKETS;
}

/*  Counts one more connection of the address of sa: its record, or NULL
 *  when the address has [http] max_connections_per_address already. */
static s_addr *
s_addr_take(ru_http_t *self, const struct sockaddr *sa)
{
    uint8_t key[16] = {0};
    socklen_t len = s_addr_key(sa, key);
    s_addr **slot = &self->addrs[s_addr_bucket(key, len)], *a = *slot;
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
s_addr_put(ru_http_t *self, s_addr *a)
{
    if (--a->count > 0)
        return;
    s_addr **slot = &self->addrs[s_addr_bucket(a->key, a->len)];
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

/*  Reads the listeners again, or leaves them unread (the total is
 *  reached, or the node stops). */
static void
s_listeners_read(ru_http_t *self, int on)
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
    s_conn *c = data;
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
        s_listeners_read(self, 1);
    if (self->stopping && left == 0)
        s_settled(self);
}

/*  Nothing came on a connection waiting for a request for keep_alive_ms:
 *  it is closed (h2o's request timer cuts one that sends slowly). */
static void
s_on_idle(h2o_timeout_entry_t *entry)
{
    s_conn *c = H2O_STRUCT_FROM_MEMBER(s_conn, idle, entry);
    if (c->busy || c->out)
        return; /* set again once the answer has left */
    if (c->fresh && s_now_us() / 1000 - c->accepted_ms >=
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
    s_conn *c = sock->on_close.data;
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
        static const char bad[] = "HTTP/1.1 400 Bad Request\r\n"
                                  "Content-Type: application/json; charset=utf-8\r\n"
                                  "Content-Length: 35\r\n"
                                  "Cache-Control: no-store\r\n" RU_HTTP_SECURITY_HEADERS
                                  "Connection: close\r\n\r\n"
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
    uint64_t now = s_now_us();
    count++;
    if (now - last_us < 10000000u)
        return;
    ru_log_warn(S_LOG, "%llu connections closed at once: %s", (unsigned long long) count, why);
    last_us = now;
    count = 0;
    (void) self;
}

/*  Takes a connection just accepted: counted, or closed at once when its
 *  address has its share. */
static void
s_take(ru_http_t *self, h2o_socket_t *sock)
{
    struct sockaddr_storage sa;
    memset(&sa, 0, sizeof sa);
    s_addr *a = h2o_socket_getpeername(sock, (struct sockaddr *) &sa)
                    ? s_addr_take(self, (struct sockaddr *) &sa)
                    : NULL;
    s_conn *c = a ? calloc(1, sizeof *c) : NULL;
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
    c->accepted_ms = s_now_us() / 1000;
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
            s_listeners_read(self, 0);
            return;
        }
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (!sock)
            return;
        s_take(self, sock);
    }
}

/*  ---------------------------------------------------------------------
 *  Requests: the checks h2o does not make, then a worker
 */

/*  Reads the request's head again from the bytes h2o keeps (the socket's
 *  input starts with it until the answer has left): the number and bytes
 *  of its header lines, and the framing h2o lets through (two
 *  Content-Length lines, equal or not: it takes the first; a length
 *  beside Transfer-Encoding: it reads chunks; the second length's value
 *  it never reads). 0, or the status of a refusal with why. */
static int
s_check_head(const ru_config_t *cfg, const h2o_socket_t *sock, char *why, size_t size)
{
    const char *p = sock->input->bytes, *end = p + sock->input->size;
    while (p < end && (*p == '\r' || *p == '\n'))
        p++;
    const char *eol = memchr(p, '\n', (size_t) (end - p)); /* the request line */
    long count = 0, bytes = 0, lengths = 0, chunked = 0, bad = 0;
    for (p = eol ? eol + 1 : end; p < end; p = eol + 1) {
        if (!(eol = memchr(p, '\n', (size_t) (end - p))))
            break;
        size_t len = (size_t) (eol - p) - (eol > p && eol[-1] == '\r');
        if (len == 0)
            break; /* the blank line: the head ends */
        count++;
        bytes += (long) len;
        const char *colon = memchr(p, ':', len), *v = colon ? colon + 1 : p, *ve = p + len;
        if (colon && colon - p == 14 && strncasecmp(p, "content-length", 14) == 0) {
            lengths++;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            bad |= v == ve || ve - v > 18 || strspn(v, "0123456789") < (size_t) (ve - v);
        } else if (colon && colon - p == 17 && strncasecmp(p, "transfer-encoding", 17) == 0)
            chunked = 1;
    }
    if (count > cfg->max_headers || bytes > cfg->max_header_bytes) {
        snprintf(why, size, "at most %ld header lines of %ld bytes in all ([http] max_headers, "
                 "max_header_bytes)", cfg->max_headers, cfg->max_header_bytes);
        return 431;
    }
    const char *framing = lengths > 1 ? "two Content-Length headers"
                          : bad       ? "a Content-Length that is not a number"
                          : lengths && chunked ? "Content-Length and Transfer-Encoding together"
                                               : NULL;
    if (framing)
        snprintf(why, size, "%s: the body cannot be framed", framing);
    return framing ? 400 : 0;
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
        ru_http_req_header(req, "Authorization") || ru_http_req_header(req, "Cookie") ||
        (job->query && strstr(job->query, "access_token")))
        return NULL;
    for (const ru_route_t *r = self->routes; r->method; r++)
        if (strcmp(r->method, "GET") == 0 && s_match(r->pattern, req->path, req))
            return r->cached ? r : NULL; /* the route s_route would run */
    return NULL;
}

/*  A kept answer's hold, released with the request's memory. */
static void
s_kept_dispose(void *p)
{
    ru_cache_release(*(const ru_cache_entry_t **) p);
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
    s_res_head(self, r, hit->headers, hit->status, hit->type);
    const ru_cache_entry_t **held =
        h2o_mem_alloc_shared(&r->pool, sizeof *held, s_kept_dispose);
    *held = hit;
    r->res.content_length = hit->len;
    h2o_start_response(r, &s_final_gen);
    h2o_iovec_t iov = h2o_iovec_init(hit->body, hit->len);
    h2o_send(r, &iov, hit->len ? 1 : 0, H2O_SEND_STATE_FINAL);
    ru_reqstats_count(self->node->reqstats, (int) (route - self->routes), hit->status,
                      s_now_us() - job->start_us);
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
        s_refuse(self, r, status, why, 1, NULL);
        return 0;
    }
    if (self->stopping) {
        s_refuse(self, r, 503, "the node is stopping", 1, "5");
        return 0;
    }
    ru_http_job_t *job = s_job_new(self, r);
    if (!job) {
        s_refuse(self, r, 503, "out of memory", 1, "5");
        return 0;
    }
    if (r->upgrade.base && h2o_lcstris(r->upgrade.base, r->upgrade.len, H2O_STRLIT("websocket")) &&
        h2o_memis(r->method.base, r->method.len, H2O_STRLIT("GET"))) {
        job->websocket = 1;
        s_ws_key(r, job->ws_key);
    }
    atomic_fetch_add(&self->jobs, 1);
    s_job_bind(job, r, s_conn_of(r)); /* the connection is busy until the answer leaves */
    const ru_route_t *keepable = s_keepable(self, job);
    if (keepable && s_answer_kept(self, job, r, keepable)) {
        s_job_free(job);
        return 0;
    }
    if (s_enqueue(self, job) != 0) {
        s_refuse(self, r, 503, "every worker is busy and [http] queue requests wait: try again",
                 0, "1");
        s_job_free(job);
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
    int gai = n > 0 && (size_t) n < sizeof port && self->nlisteners < S_MAX_LISTENERS
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
        rl.rlim_cur = rl.rlim_max < (rlim_t) (want + S_FD_SPARE) ? rl.rlim_max
                                                                  : (rlim_t) (want + S_FD_SPARE);
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

ru_err
ru_http_new(ru_node_t *node, const ru_route_t *routes, ru_http_t **out)
{
    *out = NULL;
    ru_http_t *self = calloc(1, sizeof *self);
    if (!self)
        return RU_E_NOMEM;
    /* a write to a client that left is an error to handle, not a signal
     * that ends the process */
    signal(SIGPIPE, SIG_IGN);
    const ru_config_t *cfg = &node->cfg;
    self->node = node;
    self->routes = routes;
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->work, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&self->settled, &attr);
    pthread_condattr_destroy(&attr);
    h2o_config_init(&self->config);
    self->config.server_name = h2o_iovec_init(H2O_STRLIT("ruche"));
    self->config.max_request_entity_size = (size_t) cfg->max_body;
    self->config.http1.req_timeout = (uint64_t) cfg->request_timeout_ms;
    self->config.http1.upgrade_to_http2 = 0; /* HTTP/1.1 only: see the top */
    h2o_hostconf_t *host =
        h2o_config_register_host(&self->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    s_handler *h = (s_handler *) h2o_create_handler(path, sizeof *h);
    h->super.on_req = s_on_req;
    h->http = self;
    s_add_filter(self, path);
    s_add_filter(self, &host->fallback_path); /* errors before a path is chosen */
    self->loop = h2o_evloop_create();
    h2o_context_init(&self->ctx, self->loop, &self->config);
    self->accept_ctx.ctx = &self->ctx;
    self->accept_ctx.hosts = self->config.hosts;
    self->queue = h2o_multithread_create_queue(self->loop);
    h2o_multithread_register_receiver(self->queue, &self->receiver, s_on_messages);
    h2o_timeout_init(self->loop, &self->idle_timeout,
                     (uint64_t) (cfg->keep_alive_ms ? cfg->keep_alive_ms : cfg->request_timeout_ms));
    h2o_timeout_init(self->loop, &self->close_timeout, S_CLOSE_MS);
    self->max_conns = s_fd_room(cfg->max_connections);
    self->workers = calloc((size_t) cfg->http_threads, sizeof *self->workers);
    for (long i = 0; self->workers && i < cfg->http_threads; i++)
        if (pthread_create(&self->workers[self->nworkers], NULL, s_worker, self) == 0)
            self->nworkers++;
    *out = self;
    if (self->nworkers == cfg->http_threads)
        return RU_OK;
    ru_log_err(S_LOG, "cannot start %ld HTTP workers", cfg->http_threads);
    ru_http_stop(out);
    return RU_E_NOMEM;
}

void
ru_http_on_websocket(ru_http_t *self, ru_handler handler)
{
    self->websocket = handler;
}

void
ru_http_on_other(ru_http_t *self, ru_handler handler)
{
    self->other = handler;
}

ru_err
ru_http_listen(ru_http_t *self)
{
    char list[sizeof self->node->cfg.listen], *save = NULL;
    snprintf(list, sizeof list, "%s", self->node->cfg.listen);
    for (char *spec = strtok_r(list, ", ", &save); spec; spec = strtok_r(NULL, ", ", &save))
        if (s_listen_one(self, spec) != RU_OK)
            return RU_E_IO;
    s_listeners_read(self, 1);
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
            s_take(self, sock);
        h2o_socket_close(self->listeners[i]);
    }
    self->nlisteners = 0;
    /* not h2o_context_request_shutdown(): its HTTP/2 part sets a timer
     * that outlives it; our answers say "Connection: close" from now on */
    self->ctx.shutdown_requested = 1;
    s_settled(self);
}

/*  Loop: ends the connections left that have nothing to read: a request
 *  that came (its bytes wait to be read) is answered first, with 503. */
static void
s_close_idle(void *arg)
{
    ru_http_t *self = arg;
    char byte;
    for (s_conn *c = self->conns; c; c = c->next) {
        int fd = h2o_socket_get_fd(c->sock);
        if (c->sock->input->size == 0 && recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) <= 0)
            shutdown(fd, SHUT_RDWR);
    }
}

/*  Loop: ends every connection left (a request half sent). */
static void
s_close_rest(void *arg)
{
    ru_http_t *self = arg;
    for (s_conn *c = self->conns; c; c = c->next)
        shutdown(h2o_socket_get_fd(c->sock), SHUT_RDWR);
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
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&self->lock);
    int ok;
    while (!(ok = done(self)) &&
           pthread_cond_timedwait(&self->settled, &self->lock, &until) != ETIMEDOUT)
        ;
    ok = done(self);
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

void
ru_http_stop(ru_http_t **self_p)
{
    ru_http_t *self = *self_p;
    if (!self)
        return;
    int clean = 1;
    if (self->loop_running) {
        (void) ru_http_post(self, s_stop_taking, self);
        if (!s_wait(self, s_drained, S_DRAIN_MS))
            ru_log_warn(S_LOG, "stopping: %ld requests were still unanswered after %d s",
                        atomic_load(&self->jobs), S_DRAIN_MS / 1000);
        (void) ru_http_post(self, s_close_idle, self);
        clean = s_wait(self, s_empty, S_SHUT_MS);
        if (!clean) {
            (void) ru_http_post(self, s_close_rest, self);
            clean = s_wait(self, s_empty, S_SHUT_MS);
        }
        (void) ru_http_post(self, s_quit, self);
        pthread_join(self->loop_thread, NULL);
    }
    pthread_mutex_lock(&self->lock);
    self->workers_quit = 1;
    self->closed = 1;
    pthread_cond_broadcast(&self->work);
    pthread_mutex_unlock(&self->lock);
    for (int i = 0; i < self->nworkers; i++)
        pthread_join(self->workers[i], NULL);
    free(self->workers);
    if (clean) { /* h2o's timers must hold no connection when freed */
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
        for (size_t i = 0; i < S_ADDR_BUCKETS; i++)
            while (self->addrs[i]) {
                s_addr *a = self->addrs[i];
                self->addrs[i] = a->next;
                free(a);
            }
    } else
        ru_log_warn(S_LOG, "stopping: %ld connections would not close; left as they are",
                    atomic_load(&self->nconns));
    pthread_cond_destroy(&self->settled);
    pthread_cond_destroy(&self->work);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}
