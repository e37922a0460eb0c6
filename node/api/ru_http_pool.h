/*  ru_http_pool.h - internal to the HTTP core: the workers that run the
 *  handlers, the queue of jobs from the loop to them, and the messages
 *  from them (and any thread) back to the loop.
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
 */
#ifndef RU_HTTP_POOL_H
#define RU_HTTP_POOL_H

#include "ru_http_job.h"

/*  What a message to the loop carries. */
typedef enum {
    RU_HTTP_POOL_ANSWER, /* job's answer */
    RU_HTTP_POOL_PIECE,  /* a piece of job's streamed body */
    RU_HTTP_POOL_RUN     /* fn(arg), to run on the loop */
} ru_http_pool_kind;

/*  Starts [http] threads workers, which run self->run on the jobs
 *  queued: 0, or -1 when some could not start (those that did run). */
int ru_http_pool_start(ru_http_t *self);
/*  Ends the workers (each finishes its job first) and lets nothing more
 *  reach the loop. */
void ru_http_pool_stop(ru_http_t *self);
/*  Loop: queues job for the workers: 0, or -1 when [http] queue jobs
 *  wait already. */
int ru_http_pool_enqueue(ru_http_t *self, ru_http_job_t *job);
/*  Any thread: hands a message to the loop; 0, or -1 when the loop is
 *  gone (or out of memory). */
int ru_http_pool_post(ru_http_t *self, ru_http_pool_kind kind, ru_http_job_t *job,
                      void (*fn)(void *), void *arg);
/*  Worker: hands len bytes of data to the loop as the next piece of job's
 *  streamed body and waits until they have left: 0, or -1 when the
 *  client went away. */
int ru_http_pool_piece(ru_http_job_t *job, const void *data, size_t len);
/*  Loop: h2o's receiver of the messages posted. */
void ru_http_pool_receive(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages);

#endif
