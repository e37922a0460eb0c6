/*  ru_verify.c - the verification workers (see ru_verify.h).
 *
 *  Each worker owns two sockets, made and closed in its own thread: a PULL
 *  for jobs and a PUSH for results. It polls with a short timeout so that
 *  ru_verify_destroy() can stop it by raising a flag. Each update's origin
 *  is looked up in the site directory (ru_sites.h), which a reload
 *  replaces whole.
 */
#include "ru_verify.h"

#include <czmq.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ruche/ru_hlc.h"
#include "ruche/ru_update.h"

#include "ru_apply.h"
#include "ru_dbkey.h"
#include "ru_log.h"

#define S_MAX_THREADS 64

static const char *const s_reason_names[RU_REJECT_COUNT] = {
#define RU_REJECT_NAME(sym, name) [sym] = (name),
    RU_REJECT_REASONS(RU_REJECT_NAME)
#undef RU_REJECT_NAME
};

struct ru_verify {
    ru_verify_ctx_t ctx;
    char *jobs, *results;
    atomic_int stop;
    int threads;
    pthread_t thread[S_MAX_THREADS];
};

ru_reject
ru_verify_reason(ru_err err)
{
    switch (err) {
    case RU_E_SIGNATURE:
        return RU_REJECT_SIGNATURE;
    case RU_E_UNTRUSTED:
        return RU_REJECT_UNTRUSTED;
    case RU_E_CHAIN:
        return RU_REJECT_CHAIN;
    case RU_E_FORK:
        return RU_REJECT_FORK;
    case RU_E_SKEW:
        return RU_REJECT_SKEW;
    case RU_E_TOO_BIG:
    case RU_E_TOO_MANY:
        return RU_REJECT_TOO_BIG;
    case RU_E_PENDING_FULL:
        return RU_REJECT_PENDING_FULL;
    default:
        return RU_REJECT_MALFORMED;
    }
}

const char *
ru_verify_reason_name(ru_reject reason)
{
    return reason < RU_REJECT_COUNT ? s_reason_names[reason] : "unknown";
}

/*  How many queued jobs, and updates in them, a worker takes into one
 *  store request. */
#define S_GATHER_JOBS 64
#define S_GATHER_UPDATES 4096

/*  One update that passed the checks, waiting for the store. */
typedef struct {
    ru_envelope_t env;
    ru_update_t u;
    int job; /* index of its job in the gathered ones */
} s_item;

/*  What the store made of one job's updates; counted again when the
 *  writer runs the request again after growing the map. */
typedef struct {
    uint32_t applied, pending, duplicate;
    uint32_t rejected[RU_REJECT_COUNT];
} s_stored;

typedef struct {
    s_item *items;
    int n;
    s_stored *stored; /* one per job */
    int jobs;
} s_ingest;

/*  The store actor's request: ingest the items in order. An update that
 *  proves a fork found here is counted as a fork refusal (its evidence is
 *  recorded, its origin quarantined: ru_fork.h); a clock delta that does
 *  not raise (RU_E_RANGE, only known when applying), a full pending set and
 *  an update off the chain a fork's resolution kept (RU_E_CHAIN) refuse
 *  one update without touching the store. They are counted and the
 *  others go on. */
static ru_err
s_ingest_all(const ru_writer_ctx_t *ctx, void *arg)
{
    s_ingest *in = arg;
    memset(in->stored, 0, (size_t) in->jobs * sizeof *in->stored);
    for (int i = 0; i < in->n; i++) {
        s_stored *st = &in->stored[in->items[i].job];
        ru_apply_result how;
        ru_err err = ru_apply_ingest(ctx->apply, &in->items[i].env, &in->items[i].u, &how);
        if (err == RU_E_RANGE || err == RU_E_PENDING_FULL || err == RU_E_CHAIN) {
            st->rejected[err == RU_E_RANGE ? RU_REJECT_CLOCK : ru_verify_reason(err)]++;
            continue;
        }
        if (err)
            return err;
        st->applied += how == RU_APPLY_APPLIED;
        st->pending += how == RU_APPLY_PENDING;
        st->duplicate += how == RU_APPLY_DUPLICATE;
        st->rejected[RU_REJECT_FORK] += how == RU_APPLY_FORK;
    }
    return RU_OK;
}

/*  Is this very payload already in db under its (origin, seq)? */
static int
s_held_in(ru_txn_t *txn, ru_db db, const ru_envelope_t *env, uint64_t seq)
{
    uint8_t key[RU_DBKEY_REF];
    MDB_val val;
    ru_envelope_t old;
    if (ru_txn_get(txn, db, key, ru_dbkey_ref(key, env->origin, seq), &val) != RU_OK ||
        ru_envelope_parse(val.mv_data, val.mv_size, &old) != RU_OK)
        return 0;
    return old.payload_len == env->payload_len &&
           memcmp(old.payload, env->payload, env->payload_len) == 0;
}

/*  A byte-identical copy of an update already applied or pending: dropped
 *  before its signature is checked again (PROTOCOL.md section 7). Relays
 *  echo every update back to the site it came from. txn may be NULL. */
static int
s_held(ru_txn_t *txn, const ru_envelope_t *env)
{
    uint64_t seq;
    if (!txn || ru_envelope_seq(env, &seq) != RU_OK)
        return 0;
    return s_held_in(txn, RU_DB_log, env, seq) || s_held_in(txn, RU_DB_pending, env, seq);
}

/*  Checks one envelope into item; RU_OK, RU_E_EXISTS for a duplicate, or
 *  why it is refused. */
static ru_err
s_check(const ru_verify_ctx_t *ctx, ru_txn_t *txn, ru_bytes_t wire, s_item *item,
        ru_verify_result_t *res)
{
    ru_err err = ru_envelope_parse(wire.ptr, wire.len, &item->env);
    if (!err && !ru_sites_trusted(ctx->sites, item->env.origin))
        err = RU_E_UNTRUSTED;
    if (!err && s_held(txn, &item->env))
        return RU_E_EXISTS;
    if (!err) {
        res->verified++;
        err = ru_envelope_verify(&item->env);
    }
    if (!err)
        err = ru_update_decode(&item->env, &item->u);
    uint64_t limit = ru_hlc_wall_ms() + (uint64_t) ctx->max_skew_ms;
    if (!err && ru_hlc_ms(item->u.hlc) > limit)
        err = RU_E_SKEW;
    return err;
}

void
ru_verify_run(const ru_verify_ctx_t *ctx, const ru_verify_input_t *in, int jobs,
              ru_verify_result_t *res)
{
    size_t n = 0;
    for (int j = 0; j < jobs; j++)
        n += in[j].n;
    s_item *items = calloc(n ? n : 1, sizeof *items);
    s_stored stored[S_GATHER_JOBS];
    if (!items || jobs > S_GATHER_JOBS) {
        for (int j = 0; j < jobs; j++)
            res[j].store_error = RU_E_NOMEM;
        free(items);
        return;
    }
    ru_txn_t txn; /* for duplicates only: without it, every update is checked */
    int have_txn = ru_store_read(ctx->store, &txn) == RU_OK;
    int good = 0;
    for (int j = 0; j < jobs; j++)
        for (size_t k = 0; k < in[j].n; k++) {
            ru_update_init(&items[good].u);
            items[good].job = j;
            ru_err err = s_check(ctx, have_txn ? &txn : NULL, in[j].env[k], &items[good], &res[j]);
            res[j].received++;
            if (!err) {
                good++;
                continue;
            }
            if (err == RU_E_EXISTS)
                res[j].duplicate++;
            else
                res[j].rejected[ru_verify_reason(err)]++;
            ru_update_fini(&items[good].u);
        }
    if (have_txn)
        ru_txn_abort(&txn);
    s_ingest ingest = {items, good, stored, jobs};
    ru_err err = good ? ru_writer_call(ctx->writer, s_ingest_all, &ingest) : RU_OK;
    for (int j = 0; j < jobs && good; j++) {
        res[j].store_error = err;
        if (err)
            continue;
        res[j].applied += stored[j].applied;
        res[j].pending += stored[j].pending;
        res[j].duplicate += stored[j].duplicate;
        for (int k = 0; k < RU_REJECT_COUNT; k++)
            res[j].rejected[k] += stored[j].rejected[k];
    }
    for (int i = 0; i < good; i++)
        ru_update_fini(&items[i].u);
    free(items);
}

/*  Runs the gathered jobs: their frames as envelopes, for ru_verify_run. */
static void
s_jobs(ru_verify_t *self, zmsg_t **msgs, ru_verify_result_t *res, int jobs)
{
    ru_verify_input_t in[S_GATHER_JOBS];
    size_t n = 0;
    for (int j = 0; j < jobs; j++)
        n += zmsg_size(msgs[j]) - 1;
    ru_bytes_t *env = malloc((n ? n : 1) * sizeof *env);
    if (!env) {
        for (int j = 0; j < jobs; j++)
            res[j].store_error = RU_E_NOMEM;
        return;
    }
    size_t at = 0;
    for (int j = 0; j < jobs; j++) {
        in[j] = (ru_verify_input_t){env + at, 0};
        zmsg_first(msgs[j]); /* the job head */
        for (zframe_t *f = zmsg_next(msgs[j]); f; f = zmsg_next(msgs[j]))
            env[at + in[j].n++] = (ru_bytes_t){zframe_data(f), zframe_size(f)};
        at += in[j].n;
    }
    ru_verify_run(&self->ctx, in, jobs, res);
    free(env);
}

/*  Takes the job message first and whatever else is already queued, up to
 *  the gathering bounds; returns how many. Messages whose head is not a
 *  job are dropped. */
static int
s_gather(zsock_t *in, zmsg_t *first, zmsg_t **msgs, ru_verify_result_t *res)
{
    int jobs = 0;
    size_t updates = 0;
    for (zmsg_t *msg = first; msg;) {
        zframe_t *head = zmsg_first(msg);
        if (head && zframe_size(head) == sizeof res->job) {
            memset(&res[jobs], 0, sizeof res[jobs]);
            memcpy(&res[jobs].job, zframe_data(head), sizeof res->job);
            updates += zmsg_size(msg) - 1;
            msgs[jobs++] = msg;
        } else
            zmsg_destroy(&msg);
        if (jobs == S_GATHER_JOBS || updates >= S_GATHER_UPDATES ||
            !(zsock_events(in) & ZMQ_POLLIN))
            break;
        msg = zmsg_recv(in);
    }
    return jobs;
}

static void *
s_worker(void *arg)
{
    ru_verify_t *self = arg;
    zsock_t *in = zsock_new(ZMQ_PULL);
    zsock_t *out = zsock_new(ZMQ_PUSH);
    if (in && zsock_connect(in, "%s", self->jobs) != 0)
        zsock_destroy(&in);
    if (out && zsock_connect(out, "%s", self->results) != 0)
        zsock_destroy(&out);
    if (!in || !out) {
        ru_log_err("verify", "a worker cannot reach the replication actor");
        zsock_destroy(&in);
        zsock_destroy(&out);
        return NULL;
    }
    zsock_set_rcvtimeo(in, 200);
    /*  At shutdown the actor's result socket may be gone before this
     *  worker sees the stop flag: a send must not wait for it forever. */
    zsock_set_sndtimeo(out, 1000);
    zsock_set_linger(out, 0);
    zmsg_t *msgs[S_GATHER_JOBS];
    ru_verify_result_t res[S_GATHER_JOBS];
    while (!atomic_load(&self->stop)) {
        zmsg_t *msg = zmsg_recv(in);
        if (!msg)
            continue; /* the timeout: look at the flag */
        int jobs = s_gather(in, msg, msgs, res);
        if (jobs)
            s_jobs(self, msgs, res, jobs);
        for (int j = 0; j < jobs; j++) {
            zframe_t *reply = zframe_new(&res[j], sizeof res[j]);
            if (reply)
                zframe_send(&reply, out, 0);
            zmsg_destroy(&msgs[j]);
        }
    }
    zsock_destroy(&in);
    zsock_destroy(&out);
    return NULL;
}

ru_err
ru_verify_new(const ru_verify_ctx_t *ctx, int threads, const char *jobs, const char *results,
              ru_verify_t **out)
{
    *out = NULL;
    ru_verify_t *self = calloc(1, sizeof *self);
    if (!self)
        return RU_E_NOMEM;
    self->ctx = *ctx;
    self->jobs = strdup(jobs);
    self->results = strdup(results);
    atomic_init(&self->stop, 0);
    threads = threads < 1 ? 1 : threads > S_MAX_THREADS ? S_MAX_THREADS : threads;
    for (; self->threads < threads; self->threads++)
        if (pthread_create(&self->thread[self->threads], NULL, s_worker, self) != 0)
            break;
    if (self->threads == 0) {
        ru_verify_destroy(&self);
        return RU_E_NOMEM;
    }
    *out = self;
    return RU_OK;
}

void
ru_verify_destroy(ru_verify_t **self_p)
{
    ru_verify_t *self = *self_p;
    if (!self)
        return;
    atomic_store(&self->stop, 1);
    for (int i = 0; i < self->threads; i++)
        pthread_join(self->thread[i], NULL);
    free(self->jobs);
    free(self->results);
    free(self);
    *self_p = NULL;
}
