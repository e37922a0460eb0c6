/*  ru_http_out.h - streams, and every answer as it leaves, on the loop.
 *
 *  A stream is an answer that stays open: an event stream or a WebSocket
 *  (ru_http_event_stream(), ru_http_websocket() in ru_http.h). From the
 *  moment its handler has answered, the stream's callbacks (the ops
 *  below) run on the event loop, which makes its writes: the calls below
 *  are the loop's. ru_http.h includes this header; handlers include
 *  ru_http.h.
 *
 *  WebSocket frames go through wslay. A client's message is never longer
 *  than [streaming] max_message bytes in memory: wslay checks a frame's
 *  announced length before it allocates anything, and the message is
 *  gathered here, frame by frame.
 *
 *  For the core alone (ru_http_pool.c, ru_httpd.c): the worker's answers
 *  and the pieces of a streamed body are sent from here.
 */
#ifndef RU_HTTP_OUT_H
#define RU_HTTP_OUT_H

#include <stddef.h>

#include "ru_req.h"

typedef struct ru_http_out ru_http_out_t;

typedef struct ru_http_stream_ops {
    /*  The connection can take a write: the head or handshake has left,
     *  or the last write has. out is valid until closed(). */
    void (*ready)(void *ctx, ru_http_out_t *out);
    /*  A WebSocket message from the client; text is 1 for a text
     *  message. data is NULL (len 0) for one refused unread: longer
     *  than [streaming] max_message bytes, or in more than one frame. */
    void (*message)(void *ctx, ru_http_out_t *out, const char *data, size_t len, int text);
    /*  The stream is over (the client left, it was closed, or it never
     *  opened because the client left first): no more calls; ctx is the
     *  caller's to free. Called once for every stream answered. */
    void (*closed)(void *ctx);
} ru_http_stream_ops_t;

/*  Loop only. Can out take a write now (the last one has left)? */
int ru_http_out_idle(const ru_http_out_t *out);
/*  Loop only, when idle: sends len bytes (copied): bytes of an event
 *  stream, or one WebSocket text message. ready() follows once they have
 *  left. */
void ru_http_out_write(ru_http_out_t *out, const char *data, size_t len);
/*  Loop only: a WebSocket ping (nothing for an event stream). */
void ru_http_out_ping(ru_http_out_t *out);
/*  Loop only: ends the stream: a WebSocket close frame with code and
 *  reason, the end of an event stream's body. closed() follows. */
void ru_http_out_close(ru_http_out_t *out, int code, const char *reason);

/*  ---------------------------------------------------------------------
 *  The core's own (loop only).
 */
struct st_h2o_generator_t;

/*  A worker's answer to job: sent, unless its client left; the job is
 *  freed (a stream's goes on as an out of its own). */
void ru_http_out_answer(ru_http_t *self, ru_http_job_t *job);
/*  A piece of job's streamed body, from its worker. */
void ru_http_out_piece(ru_http_t *self, ru_http_job_t *job);
/*  Is g the generator of a streamed body or an event stream? */
int ru_http_out_ours(const struct st_h2o_generator_t *g);

#endif
