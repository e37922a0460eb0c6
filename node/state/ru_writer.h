/*  ru_writer.h - the store actor: the one thread that writes to LMDB.
 *
 *  Every change to the store (a local post, an account, a batch of
 *  replicated updates) is a request: a function that the writer runs inside
 *  its write transaction. The writer takes every request queued since its
 *  last commit, runs each in a nested transaction of one shared transaction,
 *  and commits them together with one fsync (group commit): with many
 *  clients, many requests share the cost of one durable commit.
 *
 *  ru_writer_call() returns only after that commit is durable, or with the
 *  request's own error (its changes then vanish, the others' stay). A full
 *  map is grown and the batch run again; requests must therefore have no
 *  effect outside the transaction until the call returns.
 *
 *  Every update applied in a committed batch (local ones, and replicated
 *  ones that were new) is then sent, as its envelope bytes, one ZeroMQ
 *  message each, to the PUSH socket the writer connects to publish_to: the
 *  replication actor publishes them to the peers. A full queue drops the
 *  message with a warning; the peers' catch-up repairs that.
 *
 *  A listener (ru_writer_listen) learns the updates of each committed batch
 *  too, local and replicated alike, in the order they were applied: the
 *  streaming hub turns them into live events for clients.
 *
 *  Thread rules: ru_writer_call() from any thread; request functions run on
 *  the writer's thread and must not call ru_writer_call() themselves.
 */
#ifndef RU_WRITER_H
#define RU_WRITER_H

#include "ruche/ru_buf.h"
#include "ruche/ru_error.h"
#include "ruche/ru_key.h"

#include "ru_apply.h"
#include "ru_store.h"

/*  What a request function gets: the transaction it runs in, an applier
 *  bound to it, and the node key to sign local updates. */
typedef struct {
    ru_txn_t *txn;
    const ru_apply_t *apply;
    const ru_key_t *key;
} ru_writer_ctx_t;

typedef ru_err (*ru_writer_fn)(const ru_writer_ctx_t *ctx, void *arg);

typedef struct ru_writer ru_writer_t;

/*  Starts the writer on store, signing with key (both must outlive it).
 *  resolve/resolve_ctx map site names in mentions (may be NULL);
 *  publish_to is a ZeroMQ endpoint, or NULL to publish nothing. */
RU_MUST_CHECK ru_err ru_writer_new(ru_store_t *store, const ru_key_t *key, ru_site_resolver resolve,
                                   void *resolve_ctx, const char *publish_to, ru_writer_t **out);
/*  The limits of the pending set (ru_apply.h) for the batches taken from
 *  now on; none until this is called. Any thread. */
void ru_writer_set_limits(ru_writer_t *self, ru_apply_limits_t limits);
/*  The node's hybrid logical clock as of the last commit. */
uint64_t ru_writer_hlc(ru_writer_t *self);
/*  Runs what is queued, stops the thread, frees. NULL-safe. */
void ru_writer_destroy(ru_writer_t **self_p);

/*  Runs fn(ctx, arg) in the writer and waits for the durable commit. */
RU_MUST_CHECK ru_err ru_writer_call(ru_writer_t *self, ru_writer_fn fn, void *arg);

/*  Called on the writer's thread, with the writer's lock held, after each
 *  durable commit that applied updates: refs names them (n of them, in
 *  the order they were applied; the array lives until the call returns).
 *  It must be quick and must not wait for anything (copy the refs, wake a
 *  thread of its own, return), for the next batch waits on it, and it must
 *  not call the writer. */
typedef void (*ru_writer_listener)(void *ctx, const ru_ref_t *refs, size_t n);

/*  Sets the listener (one at most; fn NULL removes it). Once this returns,
 *  the previous listener is not running and will not be called again. */
void ru_writer_listen(ru_writer_t *self, ru_writer_listener fn, void *ctx);

/*  Commits so far and requests per commit, for benchmarks and metrics. */
void ru_writer_stats(ru_writer_t *self, unsigned long *commits, unsigned long *requests);
/*  Requests waiting for the writer (not yet taken into a batch). */
size_t ru_writer_queued(ru_writer_t *self);
/*  The store's generation: a number that grows with every commit, read
 *  without a lock. It grows after the commit is durable, so a read
 *  transaction begun after it was read sees at least that state: what is
 *  computed in it may be kept as of that generation until it changes
 *  (ru_cache.h). Any thread. */
unsigned long ru_writer_generation(ru_writer_t *self);
/*  Can the store write? RU_OK when the last batch fitted, or when it
 *  found the disk full (RU_E_DISK_FULL) and the disk has room again
 *  (ru_store_disk_full); else the error of its refusal: RU_E_DISK_FULL,
 *  or RU_E_STORE_FULL (the map cannot grow past store.max_size_mb) until
 *  a batch fits. Read without a lock; any thread. */
ru_err ru_writer_room(ru_writer_t *self);
/*  The collector (ru_prom.h) of those figures: self is an ru_writer_t. */
RU_MUST_CHECK ru_err ru_writer_collect(void *self, ru_buf_t *out);

#endif
