/*  ru_http_out.c - answers on the loop: a worker's answer sent, the
 *  pieces of a streamed body, event streams and WebSockets (see
 *  ru_http_out.h).
 */
#include "ru_http_out.h"

#include <h2o.h>
#include <h2o/http1.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ru_conn.h"
#include "ru_http_job.h"
#include "ru_http_file.h"
#include "ru_http_res.h"

#define S_WS_BATCH 65536 /* bytes of WebSocket frames gathered into one write */

static void s_piece_proceed(h2o_generator_t *g, h2o_req_t *r);
static void s_piece_stop(h2o_generator_t *g, h2o_req_t *r);
static void s_out_start_events(ru_http_t *self, ru_http_job_t *job, h2o_req_t *r);
static void s_out_start_websocket(ru_http_t *self, ru_http_job_t *job, h2o_req_t *r);

/*  Starts the response of a streamed body. */
static void
s_pieces_start(ru_http_t *self, ru_http_job_t *job, h2o_req_t *r)
{
    ru_http_res_head(self, r, ru_http_job_lines(job), job->status, job->type);
    r->res.content_length = job->length >= 0 ? (size_t) job->length : SIZE_MAX;
    job->gen.proceed = s_piece_proceed;
    job->gen.stop = s_piece_stop;
    h2o_start_response(r, &job->gen);
    job->started = 1;
}

/*  A piece of a streamed body from the worker. */
void
ru_http_out_piece(ru_http_t *self, ru_http_job_t *job)
{
    h2o_req_t *r = job->h2o;
    if (!r) {
        ru_http_job_gone(job);
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
    ru_http_job_gone(job);
}

void
ru_http_out_answer(ru_http_t *self, ru_http_job_t *job)
{
    h2o_req_t *r = job->h2o;
    if (!r) {
        if (job->kind == RU_HTTP_JOB_EVENTS || job->kind == RU_HTTP_JOB_WEBSOCKET)
            job->ops->closed(job->ctx);
        ru_http_job_free(job);
        return;
    }
    switch (job->kind) {
    case RU_HTTP_JOB_CHUNKS:
        if (!job->started)
            s_pieces_start(self, job, r);
        job->started = 0;
        if (job->length >= 0 && job->sent_bytes != job->length)
            r->http1_is_persistent = 0; /* cut short: the client sees it end early */
        h2o_send(r, NULL, 0, H2O_SEND_STATE_FINAL);
        break;
    case RU_HTTP_JOB_EVENTS:
        s_out_start_events(self, job, r);
        break;
    case RU_HTTP_JOB_WEBSOCKET:
        s_out_start_websocket(self, job, r);
        break;
    case RU_HTTP_JOB_FILE:
        ru_http_file_send(self, r, job->status, ru_http_job_lines(job), job->type,
                          (const char *) job->out.data, job->file_off, job->file_len);
        break;
    case RU_HTTP_JOB_HEAD:
        ru_http_res_head(self, r, ru_http_job_lines(job), job->status, job->type);
        ru_http_res_final(r, NULL, job->head_len);
        break;
    default:
        if (job->websocket)
            r->http1_is_persistent = 0; /* a refused handshake: its client expects no more */
        ru_http_res_head(self, r, ru_http_job_lines(job), job->status, job->type);
        ru_http_res_final(r, &job->out, 0);
        break;
    }
    ru_http_job_free(job);
}

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
    out->conn = ru_conn_of(r);
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
    ru_conn_t *c = sock->on_close.data;
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
        ru_http_res_refuse(self, r, 500, "out of memory", 1, NULL);
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
    ru_http_res_head(self, r, ru_http_job_lines(job), 200, job->type);
    RU_HTTP_RES_HEADER(r, "X-Accel-Buffering", "no");
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
    size_t head =
        out->rx_left ? 0 : s_ws_frame_head(out, (uint8_t *) in->bytes, in->size, &payload);
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
 *  until it closes or RU_HTTP_CLOSE_MS pass: closing with bytes unread would
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
 *  answer ends the connection, or RU_HTTP_CLOSE_MS do. */
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
    struct wslay_event_callbacks cbs = {s_ws_recv,        s_ws_send,      NULL, s_ws_frame_start,
                                        s_ws_frame_chunk, s_ws_frame_end, NULL};
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
        ru_http_res_refuse(self, r, 500, "out of memory", 1, NULL);
        return;
    }
    out->ws = 1;
    char accept[64];
    s_ws_accept_key(job->ws_key, accept, sizeof accept);
    r->res.status = 101;
    r->res.reason = ru_http_res_reason(101);
    RU_HTTP_RES_HEADER(r, "Upgrade", "websocket");
    RU_HTTP_RES_HEADER(r, "Sec-WebSocket-Accept", accept);
    if (job->protocol[0])
        RU_HTTP_RES_HEADER(r, "Sec-WebSocket-Protocol", job->protocol);
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

int
ru_http_out_ours(const h2o_generator_t *g)
{
    return g->proceed == s_piece_proceed || g->proceed == s_events_proceed;
}
