/*  ru_apply.c - causal delivery of updates (see ru_apply.h).
 *
 *  Heads: origin -> seq (8 bytes, big-endian) | hash (32 bytes).
 *  Waits: dep origin | dep seq | origin | seq -> "". Heads grow one seq at
 *  a time, so a dependency "head of o >= n" becomes true exactly when
 *  (o, n) is applied: waking the waiters of (o, n) then is enough.
 *
 *  Waking is a worklist, not recursion: a long chain of pending updates
 *  (a catch-up received backwards) is applied in a loop of bounded stack.
 *
 *  Forks: the quarantine is one lookup in the forks database per update
 *  delivered (it is empty unless some origin forked); a held update
 *  waits under (origin, RU_FORK_HELD), which no update ever wakes.
 */
#include "ru_apply.h"

#include <stdlib.h>
#include <string.h>

#include "ru_dbkey.h"
#include "ru_fork.h"

#define S_HEAD_BYTES (8 + RU_HASH_BYTES)
#define S_META_SELF_CLOCK "self_clock"
#define S_META_RECOVERING "recovering"

ru_err
ru_apply_head(ru_txn_t *txn, const uint8_t *origin, uint64_t *seq, uint8_t *hash)
{
    MDB_val val;
    ru_err err = ru_txn_get(txn, RU_DB_heads, origin, RU_KEY_BYTES, &val);
    *seq = 0;
    if (hash)
        memset(hash, 0, RU_HASH_BYTES);
    if (err == RU_E_NOT_FOUND)
        return RU_OK;
    if (err)
        return err;
    if (val.mv_size != S_HEAD_BYTES)
        return RU_E_STORE;
    *seq = ru_dbkey_get64(val.mv_data);
    if (hash)
        memcpy(hash, (const uint8_t *) val.mv_data + 8, RU_HASH_BYTES);
    return RU_OK;
}

typedef struct {
    ru_clock_t *clock;
    ru_err err;
} s_clock_scan;

static int
s_clock_entry(void *ctx, const MDB_val *key, const MDB_val *val)
{
    s_clock_scan *s = ctx;
    if (key->mv_size != RU_KEY_BYTES || val->mv_size != S_HEAD_BYTES)
        s->err = RU_E_STORE;
    else
        s->err = ru_clock_set(s->clock, key->mv_data, ru_dbkey_get64(val->mv_data));
    return s->err != RU_OK;
}

ru_err
ru_apply_clock(ru_txn_t *txn, ru_clock_t *clock)
{
    ru_clock_fini(clock);
    s_clock_scan s = {clock, RU_OK};
    ru_err err = ru_txn_scan(txn, RU_DB_heads, NULL, 0, 0, s_clock_entry, &s);
    return err ? err : s.err;
}

/*  ---------------------------------------------------------------------
 *  Dependencies
 */

/*  Sets *missing when head(origin) < seq and records that dependency. */
ru_err
ru_apply_state(ru_store_t *store, ru_clock_t *clock, uint8_t *digest)
{
    ru_txn_t txn;
    ru_err err = ru_store_read(store, &txn);
    if (err)
        return err;
    err = ru_apply_clock(&txn, clock);
    if (!err && digest)
        err = ru_txn_digest(&txn, digest);
    ru_txn_abort(&txn);
    return err;
}

static ru_err
s_need(ru_txn_t *txn, const uint8_t *origin, uint64_t seq, int *missing, ru_ref_t *dep)
{
    uint64_t head;
    ru_err err = ru_apply_head(txn, origin, &head, NULL);
    if (!err && head < seq && !*missing) {
        *missing = 1;
        memcpy(dep->origin, origin, RU_KEY_BYTES);
        dep->seq = seq;
    }
    return err;
}

/*  The first dependency of u not yet applied, if any (*missing). */
static ru_err
s_first_missing(ru_txn_t *txn, const ru_update_t *u, int *missing, ru_ref_t *dep)
{
    *missing = 0;
    ru_err err = u->seq > 1 ? s_need(txn, u->origin, u->seq - 1, missing, dep) : RU_OK;
    for (uint32_t i = 0; !err && !*missing && i < u->clock.n; i++)
        err = s_need(txn, u->clock.v[i].origin, u->clock.v[i].seq, missing, dep);
    int has_target = u->kind != RU_KIND_POST && u->kind != RU_KIND_PROFILE &&
                     u->kind != RU_KIND_FOLLOW && u->kind != RU_KIND_UNFOLLOW &&
                     u->kind != RU_KIND_GROUP_CREATE;
    if (!err && !*missing && has_target)
        err = s_need(txn, u->target.origin, u->target.seq, missing, dep);
    if (!err && !*missing && u->kind == RU_KIND_POST && u->has_group)
        err = s_need(txn, u->group.origin, u->group.seq, missing, dep);
    return err;
}

static size_t
s_wait_key(uint8_t *key, const ru_ref_t *dep, const uint8_t *origin, uint64_t seq)
{
    size_t n = ru_dbkey_ref(key, dep->origin, dep->seq);
    return n + ru_dbkey_ref(key + n, origin, seq);
}

/*  ---------------------------------------------------------------------
 *  Applying
 */

/*  Updates to look at again: each waiter with the dependency it waited
 *  for, which together name its waits record. */
typedef struct {
    ru_ref_t dep, ref;
} s_wake;

typedef struct {
    s_wake *v;
    size_t n, cap;
    ru_err err;
} s_work;

static ru_err
s_work_push(s_work *w, const uint8_t *key)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 16;
        s_wake *v = realloc(w->v, cap * sizeof *v);
        if (!v)
            return RU_E_NOMEM;
        w->v = v;
        w->cap = cap;
    }
    s_wake *k = &w->v[w->n++];
    memcpy(k->dep.origin, key, RU_KEY_BYTES);
    k->dep.seq = ru_dbkey_get64(key + RU_KEY_BYTES);
    memcpy(k->ref.origin, key + RU_DBKEY_REF, RU_KEY_BYTES);
    k->ref.seq = ru_dbkey_get64(key + RU_DBKEY_REF + RU_KEY_BYTES);
    return RU_OK;
}

static int
s_waiter(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) val;
    s_work *w = ctx;
    if (key->mv_size != 2 * RU_DBKEY_REF)
        return 0;
    w->err = s_work_push(w, key->mv_data);
    return w->err != RU_OK;
}

/*  Stores and applies u, whose dependencies are all met, and queues the
 *  updates that waited for it. */
static ru_err
s_apply_one(const ru_apply_t *ap, const ru_envelope_t *env, const ru_update_t *u, s_work *work)
{
    ru_txn_t *txn = ap->state.txn;
    uint8_t head_hash[RU_HASH_BYTES], key[RU_DBKEY_REF], head[S_HEAD_BYTES];
    uint64_t head_seq;
    ru_err err = ru_apply_head(txn, u->origin, &head_seq, head_hash);
    if (!err && memcmp(head_hash, u->prev, RU_HASH_BYTES) != 0)
        err = RU_E_CHAIN;
    if (!err)
        err = ru_txn_put(txn, RU_DB_log, key, ru_dbkey_ref(key, u->origin, u->seq), env->wire,
                         env->wire_len);
    ru_dbkey_be64(head, u->seq);
    ru_update_hash(env, head + 8);
    if (!err)
        err = ru_txn_put(txn, RU_DB_heads, u->origin, RU_KEY_BYTES, head, sizeof head);
    if (!err)
        err = ru_state_apply(&ap->state, u);
    if (err)
        return err;
    if (ap->hlc && u->hlc > ap->hlc->last)
        ap->hlc->last = u->hlc;
    if (ap->on_applied)
        ap->on_applied(ap->ctx, env, u);
    err = ru_txn_scan(txn, RU_DB_waits, key, RU_DBKEY_REF, 0, s_waiter, work);
    return err ? err : work->err;
}

/*  Parks u in pending under its missing dependency dep. */
static ru_err
s_park(ru_txn_t *txn, const ru_envelope_t *env, const ru_update_t *u, const ru_ref_t *dep)
{
    uint8_t key[2 * RU_DBKEY_REF];
    ru_err err = ru_txn_put(txn, RU_DB_pending, key, ru_dbkey_ref(key, u->origin, u->seq),
                            env->wire, env->wire_len);
    return err ? err
               : ru_txn_put(txn, RU_DB_waits, key, s_wait_key(key, dep, u->origin, u->seq), "", 0);
}

/*  Holds u, an update of an origin quarantined at or below its seq. */
static ru_err
s_hold(ru_txn_t *txn, const ru_envelope_t *env, const ru_update_t *u, ru_apply_result *result)
{
    ru_ref_t held;
    memcpy(held.origin, u->origin, RU_KEY_BYTES);
    held.seq = RU_FORK_HELD;
    *result = RU_APPLY_PENDING;
    return s_park(txn, env, u, &held);
}

/*  Records the fork that a and b prove, at seq (ru_fork_note): *result
 *  RU_APPLY_FORK when it is new or lower than the one known, else
 *  RU_APPLY_DUPLICATE (a fork known already: nothing learnt). */
static ru_err
s_forked(ru_txn_t *txn, const ru_envelope_t *a, const ru_envelope_t *b, uint64_t seq,
         const uint8_t *first, const uint8_t *other, ru_apply_result *result)
{
    int noted;
    ru_err err = ru_fork_note(txn, a, b, seq, first, other, &noted);
    *result = noted ? RU_APPLY_FORK : RU_APPLY_DUPLICATE;
    return err;
}

/*  u's prev is not the hash of the (origin, seq - 1) applied here: the
 *  origin signed two updates seq - 1. The fork is recorded and u held. */
static ru_err
s_chain_fork(ru_txn_t *txn, const ru_envelope_t *env, const ru_update_t *u,
             ru_apply_result *result)
{
    uint8_t key[RU_DBKEY_REF], first[RU_HASH_BYTES];
    MDB_val val;
    ru_envelope_t held;
    ru_err err = ru_txn_get(txn, RU_DB_log, key, ru_dbkey_ref(key, u->origin, u->seq - 1), &val);
    if (!err && ru_envelope_parse(val.mv_data, val.mv_size, &held) != RU_OK)
        err = RU_E_STORE;
    if (err)
        return err == RU_E_NOT_FOUND ? RU_E_STORE : err; /* its head is applied */
    ru_update_hash(&held, first);
    ru_apply_result found, kept;
    err = s_forked(txn, &held, env, u->seq - 1, first, u->prev, &found);
    if (!err)
        err = s_hold(txn, env, u, &kept);
    *result = found == RU_APPLY_FORK ? found : kept;
    return err;
}

/*  Applies u now or parks it; holds it when its origin is quarantined. */
static ru_err
s_deliver(const ru_apply_t *ap, const ru_envelope_t *env, const ru_update_t *u, s_work *work,
          ru_apply_result *result)
{
    int missing;
    ru_ref_t dep;
    uint64_t fork;
    ru_err err = ru_fork_seq(ap->state.txn, u->origin, &fork);
    if (!err && fork && u->seq >= fork)
        return s_hold(ap->state.txn, env, u, result);
    if (!err)
        err = s_first_missing(ap->state.txn, u, &missing, &dep);
    if (err)
        return err;
    *result = missing ? RU_APPLY_PENDING : RU_APPLY_APPLIED;
    if (missing)
        return s_park(ap->state.txn, env, u, &dep);
    err = s_apply_one(ap, env, u, work);
    return err == RU_E_CHAIN ? s_chain_fork(ap->state.txn, env, u, result) : err;
}

/*  Looks again at the pending update ref after one of its dependencies
 *  was applied. One whose chain turns out broken proves a fork: held. */
static ru_err
s_retry(const ru_apply_t *ap, const ru_ref_t *dep, const ru_ref_t *ref, s_work *work)
{
    ru_txn_t *txn = ap->state.txn;
    uint8_t key[2 * RU_DBKEY_REF];
    ru_err err = ru_txn_del(txn, RU_DB_waits, key, s_wait_key(key, dep, ref->origin, ref->seq));
    MDB_val val;
    if (!err)
        err = ru_txn_get(txn, RU_DB_pending, key, ru_dbkey_ref(key, ref->origin, ref->seq), &val);
    if (err)
        return err == RU_E_NOT_FOUND ? RU_OK : err;
    uint8_t *wire = malloc(val.mv_size); /* the pending record is deleted below */
    if (!wire)
        return RU_E_NOMEM;
    memcpy(wire, val.mv_data, val.mv_size);
    ru_envelope_t env;
    ru_update_t u;
    ru_update_init(&u);
    ru_apply_result result;
    err = ru_envelope_parse(wire, val.mv_size, &env);
    if (!err)
        err = ru_update_decode(&env, &u);
    if (!err)
        err = ru_txn_del(txn, RU_DB_pending, key, RU_DBKEY_REF);
    if (!err)
        err = s_deliver(ap, &env, &u, work, &result);
    ru_update_fini(&u);
    free(wire);
    return err;
}

/*  Is (origin, seq) already held in db? A different payload is a fork:
 *  RU_E_FORK, with the one held in *old (a view of the store). */
static ru_err
s_held(ru_txn_t *txn, ru_db db, const ru_envelope_t *env, const ru_update_t *u, int *held,
       ru_envelope_t *old)
{
    uint8_t key[RU_DBKEY_REF];
    MDB_val val;
    ru_err err = ru_txn_get(txn, db, key, ru_dbkey_ref(key, u->origin, u->seq), &val);
    *held = err == RU_OK;
    if (err)
        return err == RU_E_NOT_FOUND ? RU_OK : err;
    if (ru_envelope_parse(val.mv_data, val.mv_size, old) != RU_OK)
        return RU_E_STORE;
    int same = old->payload_len == env->payload_len &&
               memcmp(old->payload, env->payload, env->payload_len) == 0;
    return same ? RU_OK : RU_E_FORK;
}

ru_err
ru_apply_ingest(const ru_apply_t *ap, const ru_envelope_t *env, const ru_update_t *u,
                ru_apply_result *result)
{
    int held;
    ru_envelope_t old;
    ru_err err = s_held(ap->state.txn, RU_DB_log, env, u, &held, &old);
    if (!err && !held)
        err = s_held(ap->state.txn, RU_DB_pending, env, u, &held, &old);
    if (err == RU_E_FORK) { /* the one held stays: nobody drops its variant */
        uint8_t first[RU_HASH_BYTES], other[RU_HASH_BYTES];
        ru_update_hash(&old, first);
        ru_update_hash(env, other);
        return s_forked(ap->state.txn, &old, env, u->seq, first, other, result);
    }
    if (err || held) {
        *result = RU_APPLY_DUPLICATE;
        return err;
    }
    s_work work = {0};
    err = s_deliver(ap, env, u, &work, result);
    for (size_t i = 0; !err && i < work.n; i++) {
        s_wake w = work.v[i]; /* a copy: retrying may grow the list */
        err = s_retry(ap, &w.dep, &w.ref, &work);
    }
    free(work.v);
    return err;
}

/*  ---------------------------------------------------------------------
 *  Local updates
 */

/*  The clock this node sent with its previous update (meta self_clock). */
static ru_err
s_self_clock(ru_txn_t *txn, ru_clock_t *clock)
{
    MDB_val val;
    ru_err err = ru_txn_get(txn, RU_DB_meta, S_META_SELF_CLOCK, strlen(S_META_SELF_CLOCK), &val);
    if (err == RU_E_NOT_FOUND)
        return RU_OK;
    ru_mp_t mp;
    ru_mp_init(&mp, val.mv_data, val.mv_size);
    if (!err && (ru_clock_read(clock, &mp) != RU_OK || ru_mp_end(&mp) != RU_OK))
        err = RU_E_STORE;
    return err;
}

static ru_err
s_save_self_clock(ru_txn_t *txn, const ru_clock_t *clock)
{
    ru_buf_t buf;
    ru_buf_init(&buf);
    msgpack_packer pk;
    ru_mp_packer_init(&pk, &buf);
    ru_clock_write(clock, &pk);
    ru_err err = ru_buf_status(&buf);
    if (!err)
        err = ru_txn_put(txn, RU_DB_meta, S_META_SELF_CLOCK, strlen(S_META_SELF_CLOCK), buf.data,
                         buf.len);
    ru_buf_fini(&buf);
    return err;
}

/*  Fills u's header: seq and prev from our head, the clock delta since our
 *  previous update (now holds the clock to save afterwards), the time. */
static ru_err
s_header(const ru_apply_t *ap, const ru_key_t *key, ru_update_t *u, ru_clock_t *now)
{
    ru_txn_t *txn = ap->state.txn;
    ru_clock_t before;
    ru_clock_init(&before);
    memcpy(u->origin, ru_key_public(key), RU_KEY_BYTES);
    ru_err err = ru_apply_head(txn, u->origin, &u->seq, u->prev);
    if (!err)
        err = ru_apply_clock(txn, now);
    if (!err)
        err = ru_clock_set(now, u->origin, 0); /* our own entry is implied */
    if (!err)
        err = s_self_clock(txn, &before);
    if (!err)
        err = ru_clock_delta(&before, now, &u->clock);
    ru_clock_fini(&before);
    u->seq++;
    u->hlc = ru_hlc_now(ap->hlc, ru_hlc_wall_ms());
    return err;
}

ru_err
ru_apply_begin_recovery(ru_txn_t *txn)
{
    return ru_txn_put(txn, RU_DB_meta, S_META_RECOVERING, strlen(S_META_RECOVERING), "1", 1);
}

ru_err
ru_apply_recovering(ru_txn_t *txn, int *recovering)
{
    MDB_val val;
    ru_err err = ru_txn_get(txn, RU_DB_meta, S_META_RECOVERING, strlen(S_META_RECOVERING), &val);
    *recovering = err == RU_OK;
    return err == RU_E_NOT_FOUND ? RU_OK : err;
}

/*  Does origin have an update pending here? */
static ru_err
s_has_pending(ru_txn_t *txn, const uint8_t *origin, int *has)
{
    MDB_cursor *c;
    *has = 0;
    if (mdb_cursor_open(txn->txn, ru_store_dbi(txn->store, RU_DB_pending), &c) != 0)
        return RU_E_STORE;
    uint8_t first[RU_DBKEY_REF];
    MDB_val k = {ru_dbkey_ref(first, origin, 0), first}, v;
    int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    *has = rc == 0 && k.mv_size >= RU_KEY_BYTES && memcmp(k.mv_data, origin, RU_KEY_BYTES) == 0;
    mdb_cursor_close(c);
    return rc == 0 || rc == MDB_NOTFOUND ? RU_OK : RU_E_STORE;
}

ru_err
ru_apply_end_recovery(const ru_apply_t *ap, uint64_t target, int *ended)
{
    uint64_t head;
    int pending = 0;
    ru_err err = ru_apply_head(ap->state.txn, ap->state.self, &head, NULL);
    if (!err)
        err = s_has_pending(ap->state.txn, ap->state.self, &pending);
    *ended = !err && head >= target && !pending;
    if (*ended)
        err = ru_txn_del(ap->state.txn, RU_DB_meta, S_META_RECOVERING, strlen(S_META_RECOVERING));
    return err;
}

ru_err
ru_apply_local(const ru_apply_t *ap, const ru_key_t *key, ru_update_t *u, ru_buf_t *out)
{
    ru_clock_t now;
    ru_clock_init(&now);
    ru_buf_t wire;
    ru_buf_init(&wire);
    ru_envelope_t env;
    ru_apply_result result;
    int recovering;
    uint64_t fork;
    ru_err err = ru_apply_recovering(ap->state.txn, &recovering);
    if (!err && recovering)
        err = RU_E_RECOVERING;
    if (!err)
        err = ru_fork_seq(ap->state.txn, ru_key_public(key), &fork);
    if (!err && fork)
        err = RU_E_FORK; /* this site's key signed two histories */
    if (!err)
        err = s_header(ap, key, u, &now);
    if (!err)
        err = ru_update_encode(u, key, &wire);
    if (!err)
        err = ru_envelope_parse(wire.data, wire.len, &env);
    if (!err)
        err = ru_apply_ingest(ap, &env, u, &result);
    if (!err && result != RU_APPLY_APPLIED)
        err = RU_E_STORE; /* all of a local update's dependencies are here */
    if (!err)
        err = s_save_self_clock(ap->state.txn, &now);
    if (!err)
        ru_buf_append(out, wire.data, wire.len);
    ru_clock_fini(&now);
    ru_buf_fini(&wire);
    return err ? err : ru_buf_status(out);
}
