/*  ru_http_job.h - internal to the HTTP core (node/api's ru_http*,
 *  ru_conn, ru_reqparse): the records its modules share, never included
 *  by a handler. A job is a request between the event loop and a worker:
 *  the loop copies the request into it (ru_http_job_new), a worker runs
 *  its handler, which records the answer in it, and the loop sends that
 *  answer and frees the job. Beside it: the server's own record (struct
 *  ru_http, the ru_http_t of ru_http.h), a connection's (ru_conn.h) and
 *  a stream's (ru_http_out.h), each written by the module named on it.
 *
 *  Threads. The loop makes a job and frees it; the worker owns it between
 *  the queue and its answer. The fields marked "loop" are the loop's
 *  alone; a streamed body's fields are shared under the server's lock.
 */
#ifndef RU_HTTP_JOB_H
#define RU_HTTP_JOB_H

#include <arpa/inet.h>
#include <h2o.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <wslay/wslay.h>

#include "ruche/ru_buf.h"

#include "ru_req.h"

#define RU_HTTP_MAX_LISTENERS 8
#define RU_HTTP_MAX_HEADERS 100   /* h2o's own bound (H2O_MAX_HEADERS): more is its 400 */
#define RU_HTTP_ADDR_BUCKETS 4096 /* of the per-address connection counts */
#define RU_HTTP_CLOSE_MS 5000     /* for a WebSocket's close frame to leave */

/*  How a job is answered. */
typedef enum {
    RU_HTTP_JOB_NONE,
    RU_HTTP_JOB_PLAIN,
    RU_HTTP_JOB_HEAD,
    RU_HTTP_JOB_CHUNKS,
    RU_HTTP_JOB_FILE, /* out holds the path of a file the loop sends */
    RU_HTTP_JOB_EVENTS,
    RU_HTTP_JOB_WEBSOCKET
} ru_http_job_kind;

typedef struct {
    const char *name; /* as the client wrote it */
    const char *value;
} ru_http_job_hdr_t;

typedef struct ru_http_job_holder ru_http_job_holder_t;
typedef struct ru_conn ru_conn_t;
typedef struct ru_conn_addr ru_conn_addr_t;
typedef struct ru_http_out ru_http_out_t;
struct ru_http_stream_ops;

/*  A request between the loop and a worker. The loop makes it and frees
 *  it; the worker owns it between the queue and its answer. */
struct ru_http_job {
    ru_http_t *http;
    h2o_req_t *h2o;               /* loop: the request; NULL once h2o disposed of it */
    ru_http_job_holder_t *holder; /* loop: in the request's pool, to learn of that */
    struct ru_http_job *next;
    uint64_t start_us;
    ru_req_t req;
    /* the request, copied (method, path, query, headers and body in one block) */
    char *copy;
    const char *query;
    char addr[INET6_ADDRSTRLEN + 8];
    ru_http_job_hdr_t hdrs[RU_HTTP_MAX_HEADERS + 1];
    size_t nhdrs;
    const char *body;
    size_t body_len;
    size_t big; /* body_len when counted in the server's big_bytes, else 0 */
    int websocket; /* a WebSocket handshake */
    char ws_key[25];
    char *cache_key;    /* an anonymous read whose answer may be kept (ru_cache.h) ... */
    uint64_t cache_gen; /* ... as of this generation of the store */
    /* the answer */
    ru_http_job_kind kind;
    int status;
    char type[128];
    uint64_t file_off, file_len; /* RU_HTTP_JOB_FILE: the bytes of the file sent */
    ru_buf_t lines;       /* the answer's header lines (a Set-Cookie may hold a token) */
    ru_buf_t out;         /* the body (RU_HTTP_JOB_PLAIN), the first bytes (RU_HTTP_JOB_EVENTS) */
    size_t head_len;      /* RU_HTTP_JOB_HEAD: the length the head says */
    long long length;     /* RU_HTTP_JOB_CHUNKS: the body's, -1 unknown */
    long long sent_bytes; /* RU_HTTP_JOB_CHUNKS: handed to h2o so far */
    char protocol[RU_TOKEN_TEXT_SIZE + 64]; /* RU_HTTP_JOB_WEBSOCKET */
    const struct ru_http_stream_ops *ops;
    void *ctx;
    /* RU_HTTP_JOB_CHUNKS: one piece at a time, under http->lock */
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
struct ru_http_job_holder {
    ru_http_job_t *job;
    ru_conn_t *conn;
};

/*  The loop's record of a connection (the socket's on_close data). */
struct ru_conn {
    ru_http_t *http;
    h2o_socket_t *sock;
    struct ru_conn_addr *addr;
    h2o_timeout_entry_t idle;
    int fresh; /* its first request line has not come yet: not h2o's */
    uint64_t accepted_ms;
    int busy;           /* a request taken, its answer not yet left */
    ru_http_out_t *out; /* an event stream or WebSocket on it */
    ru_conn_t *prev, *next;
};

/*  An event stream or a WebSocket, on the loop. */
struct ru_http_out {
    h2o_generator_t gen; /* event streams */
    ru_http_t *http;
    const struct ru_http_stream_ops *ops;
    void *ctx;
    ru_conn_t *conn;
    int ws;
    h2o_req_t *req;     /* event streams */
    h2o_socket_t *sock; /* WebSockets, once upgraded */
    wslay_event_context_ptr wslay;
    int writing;   /* a write has not left yet */
    int closing;   /* ru_http_out_close() was called */
    int done;      /* closed() was called */
    ru_buf_t wbuf; /* the bytes being written */
    ru_buf_t acc;  /* WebSocket frames gathered for the next write */
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

/*  The server (ru_http_t): made by ru_http_new(), set up by ru_httpd_init(). */
struct ru_http {
    ru_node_t *node;
    const ru_route_t *routes;
    ru_handler websocket;
    ru_handler other; /* requests no route takes; NULL: 404 */
    /* runs a job's handler on a worker (ru_http.c) */
    void (*run)(ru_http_t *self, ru_http_job_t *job);
    /* h2o, loop thread only */
    h2o_globalconf_t config;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    h2o_evloop_t *loop;
    h2o_multithread_queue_t *queue;
    h2o_multithread_receiver_t receiver;
    h2o_socket_t *listeners[RU_HTTP_MAX_LISTENERS];
    int nlisteners;
    long max_conns;      /* [http] max_connections, within the descriptors the process may open */
    int paused;          /* listeners left unread: the total is reached */
    atomic_int stopping; /* no new requests */
    int quit;            /* the loop ends */
    ru_conn_t *conns;
    ru_conn_addr_t *addrs[RU_HTTP_ADDR_BUCKETS];
    h2o_timeout_t idle_timeout;
    h2o_timeout_t close_timeout;
    pthread_t loop_thread;
    int loop_running;
    /* shared */
    atomic_long nconns;
    atomic_long jobs; /* taken and not yet freed */
    atomic_long busy; /* connections whose answer has not left */
    atomic_long big_bytes; /* bodies over [http] max_body that jobs hold (uploads) */
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

/*  Loop: copies what a handler may read of r into a new job; NULL out
 *  of memory, or when its body is over [http] max_body (an upload's) and
 *  the bodies of that size jobs hold would pass [media] queue_mb
 *  (*full set then). The job is the caller's to free. */
ru_http_job_t *ru_http_job_new(ru_http_t *self, h2o_req_t *r, int *full);
/*  Loop: frees job (and tells ru_http_stop() when it was the last). */
void ru_http_job_free(ru_http_job_t *job);
/*  The value of the request header name (case-insensitive; "Host" too),
 *  NULL when absent. */
const char *ru_http_job_header(const ru_http_job_t *job, const char *name);
/*  The header lines of job's answer, as its handler had set them when it
 *  answered. */
const char *ru_http_job_lines(const ru_http_job_t *job);
/*  Loop: job's client is gone; its worker, waiting on a piece of a
 *  streamed body, is told. */
void ru_http_job_gone(ru_http_job_t *job);
/*  Loop: tells ru_http_stop() that jobs, answers or connections went
 *  down. */
void ru_http_job_settled(ru_http_t *self);
/*  The monotonic clock, in microseconds: requests' times, connections'
 *  ages. */
uint64_t ru_http_job_now_us(void);

#endif
