/*  ru_verify.h - signature verification workers for replicated updates.
 *
 *  Verifying an Ed25519 signature is the most expensive step of taking in
 *  an update (about 50 µs here), so it runs on a pool of threads. The
 *  replication actor sends each worker a job: the updates of one live
 *  message, or of one catch-up batch, as one ZeroMQ message. A worker takes
 *  the job and every other job already queued for it (up to 64 jobs or
 *  4096 updates), drops the byte-identical copies of updates the store
 *  already holds (relays echo updates back to where they came from), checks
 *  the others in the order of PROTOCOL.md (shape and limits, trusted
 *  origin, signature, fields, time), hands the good ones of all those jobs
 *  to the store actor in one request, in their order, and answers each job
 *  with what became of its updates. While a worker waits for a durable
 *  commit, its queue fills, and the next commit takes all of it: arrivals
 *  spread out in time still share commits.
 *
 *  Job message frames: a ru_verify_job_t, then one frame per envelope.
 *  Result message: one frame holding a ru_verify_result_t.
 */
#ifndef RU_VERIFY_H
#define RU_VERIFY_H

#include <stdint.h>

#include "ruche/ru_error.h"
#include "ruche/ru_msg.h"

#include "ru_sites.h"
#include "ru_store.h"
#include "ru_writer.h"

/*  Why an update was refused; the names are the replication status's. */
#define RU_REJECT_REASONS(X)                                                                       \
    X(RU_REJECT_SIGNATURE, "signature")                                                            \
    X(RU_REJECT_UNTRUSTED, "untrusted")                                                            \
    X(RU_REJECT_CHAIN, "chain")                                                                    \
    X(RU_REJECT_FORK, "fork")                                                                      \
    X(RU_REJECT_SKEW, "skew")                                                                      \
    X(RU_REJECT_MALFORMED, "malformed")                                                            \
    X(RU_REJECT_TOO_BIG, "too_big")                                                                \
    X(RU_REJECT_CLOCK, "clock")               /* a delta that lowers (PROTOCOL.md 5.4) */          \
    X(RU_REJECT_PENDING_FULL, "pending_full") /* would wait past [replication] pending_* */

typedef enum {
#define RU_REJECT_ENUM(sym, name) sym,
    RU_REJECT_REASONS(RU_REJECT_ENUM)
#undef RU_REJECT_ENUM
        RU_REJECT_COUNT
} ru_reject;

/*  The reason for an ru_err from decoding or applying an update. */
ru_reject ru_verify_reason(ru_err err);
const char *ru_verify_reason_name(ru_reject reason);

typedef struct {
    uint32_t peer;  /* index of the peer it came from */
    uint32_t sync;  /* 1: a catch-up batch (answer with credit), 0: live */
    uint32_t bytes;   /* of its envelopes: what it holds in the queue until answered */
    uint32_t session; /* sync: the catch-up of ours it belongs to (credit goes back to it) */
} ru_verify_job_t;

typedef struct {
    ru_verify_job_t job;
    uint32_t received; /* updates in the job */
    uint32_t verified; /* signatures checked: not the duplicates found first */
    uint32_t applied, pending, duplicate;
    uint32_t rejected[RU_REJECT_COUNT];
    int32_t store_error; /* an ru_err that stopped the whole job, else 0 */
} ru_verify_result_t;

/*  What the workers check and store with; the objects must outlive them. */
typedef struct {
    ru_store_t *store;   /* duplicates are looked up in it */
    ru_writer_t *writer; /* stores the good updates */
    ru_sites_t *sites;   /* the trusted origins: ours and the peers' */
    long max_skew_ms;    /* [replication] max_skew_ms */
} ru_verify_ctx_t;

/*  The updates of one job, as envelope bytes (views the caller keeps). */
typedef struct {
    const ru_bytes_t *env;
    size_t n;
} ru_verify_input_t;

/*  Checks the updates of jobs (up to 64 of them) in the order of
 *  PROTOCOL.md section 7, and stores the good ones of all of them through
 *  ctx's writer in one request, in their order; res[j]
 *  counts what became of job j's updates (res must come zeroed, but for
 *  its job field). What a worker runs for each job it takes; socket-free,
 *  so that the simulation of the federation (tests/sim) runs it too. Any
 *  thread but the writer's. */
void ru_verify_run(const ru_verify_ctx_t *ctx, const ru_verify_input_t *in, int jobs,
                   ru_verify_result_t *res);

typedef struct ru_verify ru_verify_t;

/*  Starts threads workers (ctx is copied) that take jobs from the PUSH
 *  socket bound at jobs and send results to the PULL socket bound at
 *  results. */
RU_MUST_CHECK ru_err ru_verify_new(const ru_verify_ctx_t *ctx, int threads, const char *jobs,
                                   const char *results, ru_verify_t **out);
/*  Stops and joins the workers; NULL-safe. */
void ru_verify_destroy(ru_verify_t **self_p);

#endif
