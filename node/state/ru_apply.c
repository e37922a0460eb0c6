/*  ru_apply.c - causal delivery of updates (see ru_apply.h).
 *
 *  Heads: origin -> seq (8 bytes, big-endian) | hash (32 bytes).
 *  Waits: dep origin | dep seq | origin | seq -> "". Heads grow one seq at
 *  a time, so a dependency "head of o >= n" becomes true exactly when
 *  (o, n) is applied: waking the waiters of (o, n) then is enough.
 *  Applying an update also gives it its position in the apply-order
 *  index (ru_order.h), in the same transaction.
 *
 *  Waking is a worklist, not recursion: a long chain of pending updates
 *  (a catch-up received backwards) is applied in a loop of bounded stack.
 *  A woken update that still lacks something is registered under its next
 *  missing dependency and stays pending with its arrival time.
 *
 *  Pending bookkeeping, changed with every pending put and delete in the
 *  same transaction, so that no figure needs a scan: pending_at holds each
 *  pending update's arrival time (wall ms), pending_age the same as an
 *  index by origin and time (an origin's oldest is its first key),
 *  pending_n each origin's count and meta "pending_total" the sum. The caps
 *  (ru_apply_limits_t) are checked against these counts before an update
 *  is parked; a woken update that parks again is not a new arrival.
 *
 *  Clocks: clocks holds, for every origin, the full clock K(head) its last
 *  applied update was made with (PROTOCOL.md 5.4), one record per entry,
 *  so that checking and folding a delta costs one read and one write per
 *  delta entry, however many sites there are. This node's own entries are
 *  the clock its previous update was made with: the next one's delta is
 *  taken against them, and they come back with its own updates when a
 *  lost store is recovered from the peers.
 *
 *  Forks: the quarantine is one lookup in the forks database per update
 *  delivered (it is empty unless some origin forked); a held update
 *  waits under (origin, RU_FORK_HELD), which no update ever wakes.
 *
 *  Resolution (s_resolve): a rebuild drops the other variant's chain,
 *  empties the databases of s_rebuilt (with ru_txn_clear, which keeps the
 *  digest sum) and replays the log: one lane per origin, merged by the
 *  position each update had in the order index (so that nothing parks
 *  that did not lose a dependency), each update taken out of the log and
 *  delivered again (applied, which gives it a new position, or parked).
 *  It costs a pass over the whole log in the one write transaction, which
 *  a fork, rare and operator-driven, can afford. A RESOLVE that is
 *  replayed finds its own resolution recorded and does nothing.
 */
#include "ru_apply.h"

#include <stdlib.h>
#include <string.h>

#include "ruche/ru_msg.h"

#include "ru_dbkey.h"
#include "ru_log.h"
#include "ru_order.h"
#include "ru_fork.h"

#define S_HEAD_BYTES (8 + RU_HASH_BYTES)
#define S_META_SELF_CLOCK "self_clock" /* schema 2: our previous clock, now in clocks */
#define S_META_RECOVERING "recovering"
#define S_META_PENDING "pending_total"
#define S_CLOCK_KEY (2 * RU_KEY_BYTES)
#define S_AGE_KEY (RU_KEY_BYTES + 8 + 8)

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
    ru_buf_t *heads; /* NULL, or every record as origin | seq | hash */
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
    if (!s->err && s->heads) {
        ru_buf_append(s->heads, key->mv_data, key->mv_size);
        ru_buf_append(s->heads, val->mv_data, val->mv_size);
        s->err = ru_buf_status(s->heads);
    }
    return s->err != RU_OK;
}

/*  The clock, and the heads records unless heads is NULL. */
static ru_err
s_scan_heads(ru_txn_t *txn, ru_clock_t *clock, ru_buf_t *heads)
{
    ru_clock_fini(clock);
    s_clock_scan s = {clock, heads, RU_OK};
    ru_err err = ru_txn_scan(txn, RU_DB_heads, NULL, 0, 0, s_clock_entry, &s);
    return err ? err : s.err;
}

ru_err
ru_apply_clock(ru_txn_t *txn, ru_clock_t *clock)
{
    return s_scan_heads(txn, clock, NULL);
}

ru_err
ru_apply_clock_digest(ru_txn_t *txn, ru_clock_t *clock, uint8_t *digest)
{
    ru_buf_t heads;
    ru_buf_init(&heads);
    ru_err err = s_scan_heads(txn, clock, &heads);
    if (!err)
        ru_msg_digest(heads.data, heads.len / RU_MSG_HEAD_BYTES, digest);
    ru_buf_fini(&heads);
    return err;
}

ru_err
ru_apply_state(ru_store_t *store, ru_clock_t *clock, uint8_t *digest)
{
    ru_txn_t txn;
    ru_err err = ru_store_read(store, &txn);
    if (err)
        return err;
    err = digest ? ru_apply_clock_digest(&txn, clock, digest) : ru_apply_clock(&txn, clock);
    ru_txn_abort(&txn);
    return err;
}

/*  ---------------------------------------------------------------------
 *  Dependencies
 */

int
ru_apply_each_dep(const ru_update_t *u, ru_apply_dep_fn fn, void *ctx)
{
    int stop = u->seq > 1 && fn(ctx, u->origin, u->seq - 1);
    for (uint32_t i = 0; !stop && i < u->clock.n; i++) {
        uint64_t seq = u->clock.v[i].seq;
        /*  A RESOLVE of (O, f) waits for O up to f - 1 only, so that it
         *  applies at sites holding either variant of f, or neither. */
        if (u->kind == RU_KIND_RESOLVE && seq >= u->fork.seq &&
            memcmp(u->clock.v[i].origin, u->fork.origin, RU_KEY_BYTES) == 0)
            seq = u->fork.seq - 1;
        stop = seq && fn(ctx, u->clock.v[i].origin, seq);
    }
    int has_target = u->kind != RU_KIND_POST && u->kind != RU_KIND_PROFILE &&
                     u->kind != RU_KIND_FOLLOW && u->kind != RU_KIND_UNFOLLOW &&
                     u->kind != RU_KIND_GROUP_CREATE && u->kind != RU_KIND_RESOLVE;
    if (!stop && has_target)
        stop = fn(ctx, u->target.origin, u->target.seq);
    if (!stop && u->kind == RU_KIND_POST && u->has_group)
        stop = fn(ctx, u->group.origin, u->group.seq);
    return stop;
}

/*  The first dependency not yet applied, as ru_apply_each_dep finds them. */
typedef struct {
    ru_txn_t *txn;
    int *missing;
    ru_ref_t *dep;
    ru_err err;
} s_need_scan;

/*  Sets *missing when head(origin) < seq and records that dependency. */
static int
s_need(void *ctx, const uint8_t *origin, uint64_t seq)
{
    s_need_scan *s = ctx;
    uint64_t head;
    s->err = ru_apply_head(s->txn, origin, &head, NULL);
    if (!s->err && head < seq) {
        *s->missing = 1;
        memcpy(s->dep->origin, origin, RU_KEY_BYTES);
        s->dep->seq = seq;
    }
    return s->err || *s->missing;
}

/*  The first dependency of u not yet applied, if any (*missing). */
static ru_err
s_first_missing(ru_txn_t *txn, const ru_update_t *u, int *missing, ru_ref_t *dep)
{
    s_need_scan s = {txn, missing, dep, RU_OK};
    *missing = 0;
    ru_apply_each_dep(u, s_need, &s);
    return s.err;
}

static size_t
s_wait_key(uint8_t *key, const ru_ref_t *dep, const uint8_t *origin, uint64_t seq)
{
    size_t n = ru_dbkey_ref(key, dep->origin, dep->seq);
    return n + ru_dbkey_ref(key + n, origin, seq);
}

/*  ---------------------------------------------------------------------
 *  Waking
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

/*  ---------------------------------------------------------------------
 *  Each origin's last full clock (PROTOCOL.md 5.4)
 */

static size_t
s_clock_key(uint8_t *key, const uint8_t *origin, const uint8_t *p)
{
    memcpy(key, origin, RU_KEY_BYTES);
    memcpy(key + RU_KEY_BYTES, p, RU_KEY_BYTES);
    return S_CLOCK_KEY;
}

/*  K(head of origin)[p], 0 when absent. */
static ru_err
s_clock_entry_get(ru_txn_t *txn, const uint8_t *origin, const uint8_t *p, uint64_t *seq)
{
    uint8_t key[S_CLOCK_KEY];
    MDB_val val;
    ru_err err = ru_txn_get(txn, RU_DB_clocks, key, s_clock_key(key, origin, p), &val);
    *seq = err == RU_OK && val.mv_size == 8 ? ru_dbkey_get64(val.mv_data) : 0;
    if (err == RU_OK && val.mv_size != 8)
        return RU_E_STORE;
    return err == RU_E_NOT_FOUND ? RU_OK : err;
}

/*  RU_E_RANGE unless every entry of u's delta strictly raises the entry of
 *  the origin's previous full clock that it replaces. Writes nothing. */
static ru_err
s_clock_check(ru_txn_t *txn, const ru_update_t *u)
{
    for (uint32_t i = 0; i < u->clock.n; i++) {
        uint64_t before;
        ru_err err = s_clock_entry_get(txn, u->origin, u->clock.v[i].origin, &before);
        if (err)
            return err;
        if (u->clock.v[i].seq <= before)
            return RU_E_RANGE;
    }
    return RU_OK;
}

/*  Raises origin's full clock to the entries of delta. */
static ru_err
s_clock_fold(ru_txn_t *txn, const uint8_t *origin, const ru_clock_t *delta)
{
    ru_err err = RU_OK;
    for (uint32_t i = 0; !err && i < delta->n; i++) {
        uint8_t key[S_CLOCK_KEY], val[8];
        ru_dbkey_be64(val, delta->v[i].seq);
        err = ru_txn_put(txn, RU_DB_clocks, key, s_clock_key(key, origin, delta->v[i].origin), val,
                         sizeof val);
    }
    return err;
}

typedef struct {
    ru_clock_t *clock;
    ru_err err;
} s_full_scan;

static int
s_full_entry(void *ctx, const MDB_val *key, const MDB_val *val)
{
    s_full_scan *s = ctx;
    if (key->mv_size != S_CLOCK_KEY || val->mv_size != 8)
        s->err = RU_E_STORE;
    else
        s->err = ru_clock_set(s->clock, (const uint8_t *) key->mv_data + RU_KEY_BYTES,
                              ru_dbkey_get64(val->mv_data));
    return s->err != RU_OK;
}

/*  origin's whole last full clock. */
static ru_err
s_full_clock(ru_txn_t *txn, const uint8_t *origin, ru_clock_t *clock)
{
    s_full_scan s = {clock, RU_OK};
    ru_err err = ru_txn_scan(txn, RU_DB_clocks, origin, RU_KEY_BYTES, 0, s_full_entry, &s);
    return err ? err : s.err;
}

/*  ---------------------------------------------------------------------
 *  Applying
 */

static ru_err s_resolve(const ru_apply_t *ap, const ru_update_t *u, s_work *work);

/*  Stores and applies u, whose dependencies are all met, and queues the
 *  updates that waited for it. A broken chain (RU_E_CHAIN) or a delta that
 *  does not raise the origin's clock (RU_E_RANGE) refuses u before
 *  anything is written. */
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
        err = s_clock_check(txn, u);
    if (!err)
        err = s_clock_fold(txn, u->origin, &u->clock);
    if (!err)
        err = ru_txn_put(txn, RU_DB_log, key, ru_dbkey_ref(key, u->origin, u->seq), env->wire,
                         env->wire_len);
    ru_dbkey_be64(head, u->seq);
    ru_update_hash(env, head + 8);
    if (!err)
        err = ru_txn_put(txn, RU_DB_heads, u->origin, RU_KEY_BYTES, head, sizeof head);
    if (!err)
        err = ru_order_note(txn, u->origin, u->seq);
    if (!err)
        err = ru_state_apply(&ap->state, u);
    if (!err && u->kind == RU_KIND_RESOLVE)
        err = s_resolve(ap, u, work);
    if (err)
        return err;
    MDB_val still;
    ru_dbkey_ref(key, u->origin, u->seq);
    if (u->kind == RU_KIND_RESOLVE && (err = ru_txn_get(txn, RU_DB_log, key, sizeof key, &still)))
        return err == RU_E_NOT_FOUND ? RU_OK : err; /* a rebuild parked it again */
    if (ap->hlc && u->hlc > ap->hlc->last)
        ap->hlc->last = u->hlc;
    if (ap->on_applied)
        ap->on_applied(ap->ctx, env, u);
    err = ru_txn_scan(txn, RU_DB_waits, key, RU_DBKEY_REF, 0, s_waiter, work);
    return err ? err : work->err;
}

/*  ---------------------------------------------------------------------
 *  The pending set and its counts
 */

static ru_err
s_get64(ru_txn_t *txn, ru_db db, const void *key, size_t len, uint64_t *v)
{
    MDB_val val;
    ru_err err = ru_txn_get(txn, db, key, len, &val);
    *v = err == RU_OK && val.mv_size == 8 ? ru_dbkey_get64(val.mv_data) : 0;
    if (err == RU_OK && val.mv_size != 8)
        return RU_E_STORE;
    return err == RU_E_NOT_FOUND ? RU_OK : err;
}

/*  Puts v under key, or deletes key when v is 0. */
static ru_err
s_put64(ru_txn_t *txn, ru_db db, const void *key, size_t len, uint64_t v)
{
    uint8_t val[8];
    ru_dbkey_be64(val, v);
    return v ? ru_txn_put(txn, db, key, len, val, sizeof val) : ru_txn_del(txn, db, key, len);
}

/*  Adds one (up) or takes one away from origin's pending count and the
 *  total. */
static ru_err
s_count_pending(ru_txn_t *txn, const uint8_t *origin, int up)
{
    uint64_t n, total;
    ru_err err = s_get64(txn, RU_DB_pending_n, origin, RU_KEY_BYTES, &n);
    if (!err)
        err = s_get64(txn, RU_DB_meta, S_META_PENDING, strlen(S_META_PENDING), &total);
    if (!err && !up && (n == 0 || total == 0))
        err = RU_E_STORE; /* counts that do not match the records */
    if (!err)
        err = s_put64(txn, RU_DB_pending_n, origin, RU_KEY_BYTES, up ? n + 1 : n - 1);
    return err ? err
               : s_put64(txn, RU_DB_meta, S_META_PENDING, strlen(S_META_PENDING),
                         up ? total + 1 : total - 1);
}

static size_t
s_age_key(uint8_t *key, const uint8_t *origin, uint64_t ms, uint64_t seq)
{
    memcpy(key, origin, RU_KEY_BYTES);
    ru_dbkey_be64(key + RU_KEY_BYTES, ms);
    ru_dbkey_be64(key + RU_KEY_BYTES + 8, seq);
    return S_AGE_KEY;
}

/*  Records that (origin, seq) became pending at ms, with its counts. */
static ru_err
s_note_pending(ru_txn_t *txn, const uint8_t *origin, uint64_t seq, uint64_t ms)
{
    uint8_t key[S_AGE_KEY];
    ms = ms ? ms : 1; /* s_put64 deletes a 0 */
    ru_err err = s_put64(txn, RU_DB_pending_at, key, ru_dbkey_ref(key, origin, seq), ms);
    if (!err)
        err = ru_txn_put(txn, RU_DB_pending_age, key, s_age_key(key, origin, ms, seq), "", 0);
    return err ? err : s_count_pending(txn, origin, 1);
}

/*  Parks u, a new arrival, in pending under its missing dependency dep. */
static ru_err
s_park(ru_txn_t *txn, const ru_envelope_t *env, const ru_update_t *u, const ru_ref_t *dep)
{
    uint8_t key[2 * RU_DBKEY_REF];
    ru_err err = ru_txn_put(txn, RU_DB_pending, key, ru_dbkey_ref(key, u->origin, u->seq),
                            env->wire, env->wire_len);
    if (!err)
        err = ru_txn_put(txn, RU_DB_waits, key, s_wait_key(key, dep, u->origin, u->seq), "", 0);
    return err ? err : s_note_pending(txn, u->origin, u->seq, ru_hlc_wall_ms());
}

/*  Takes (origin, seq) out of pending, with its time and counts. */
static ru_err
s_unpark(ru_txn_t *txn, const uint8_t *origin, uint64_t seq)
{
    uint8_t key[S_AGE_KEY];
    uint64_t ms;
    size_t len = ru_dbkey_ref(key, origin, seq);
    ru_err err = s_get64(txn, RU_DB_pending_at, key, len, &ms);
    if (!err)
        err = ru_txn_del(txn, RU_DB_pending, key, len);
    if (!err)
        err = ru_txn_del(txn, RU_DB_pending_at, key, len);
    if (!err)
        err = ru_txn_del(txn, RU_DB_pending_age, key, s_age_key(key, origin, ms, seq));
    return err ? err : s_count_pending(txn, origin, 0);
}

/*  RU_E_PENDING_FULL when origin, or the node, has as many updates
 *  pending as the limits allow (0: no limit). */
static ru_err
s_room(const ru_apply_t *ap, const uint8_t *origin)
{
    uint64_t n, total;
    ru_err err = s_get64(ap->state.txn, RU_DB_pending_n, origin, RU_KEY_BYTES, &n);
    if (!err)
        err = s_get64(ap->state.txn, RU_DB_meta, S_META_PENDING, strlen(S_META_PENDING), &total);
    if (!err && ap->limits.per_origin && n >= ap->limits.per_origin)
        err = RU_E_PENDING_FULL;
    if (!err && ap->limits.total && total >= ap->limits.total)
        err = RU_E_PENDING_FULL;
    return err;
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
    if (!err)
        *result = found == RU_APPLY_FORK ? found : kept;
    return err;
}

/*  ---------------------------------------------------------------------
 *  Resolution (ru_fork.h, PROTOCOL.md section 16)
 */

/*  RU_E_CHAIN when (u's origin, its seq) is resolved and u is not the
 *  variant kept. */
static ru_err
s_kept(ru_txn_t *txn, const ru_envelope_t *env, const ru_update_t *u)
{
    ru_fork_resolution_t r;
    uint8_t hash[RU_HASH_BYTES];
    ru_err err = ru_fork_resolution(txn, u->origin, u->seq, &r);
    if (err)
        return err == RU_E_NOT_FOUND ? RU_OK : err;
    ru_update_hash(env, hash);
    return memcmp(hash, r.kept, RU_HASH_BYTES) == 0 ? RU_OK : RU_E_CHAIN;
}

/*  u's prev is not the hash of the head it should chain on. Past a
 *  resolution of its origin that is the losing chain, refused
 *  (RU_E_CHAIN); else it proves a fork (s_chain_fork). */
static ru_err
s_broken(ru_txn_t *txn, const ru_envelope_t *env, const ru_update_t *u, ru_apply_result *result)
{
    int settled;
    ru_err err = ru_fork_settled(txn, u->origin, u->seq - 1, &settled);
    if (!err && settled)
        err = RU_E_CHAIN;
    return err ? err : s_chain_fork(txn, env, u, result);
}

/*  u's payload differs from old's, held here with the same (origin, seq).
 *  Past a resolution of the origin only two variants chained to the same
 *  prev prove a new fork; the other variant of a resolved seq, or an
 *  update of another chain, is refused (RU_E_CHAIN). */
static ru_err
s_conflict(ru_txn_t *txn, const ru_envelope_t *old, const ru_envelope_t *env,
           const ru_update_t *u, ru_apply_result *result)
{
    uint8_t first[RU_HASH_BYTES], other[RU_HASH_BYTES], prev[RU_HASH_BYTES];
    int settled;
    ru_fork_resolution_t r;
    ru_err err = ru_fork_settled(txn, u->origin, u->seq, &settled);
    if (!err && settled) {
        ru_update_t was;
        ru_update_init(&was);
        err = ru_update_decode(old, &was) == RU_OK ? RU_OK : RU_E_STORE;
        memcpy(prev, was.prev, RU_HASH_BYTES);
        ru_update_fini(&was);
        if (!err)
            err = ru_fork_resolution(txn, u->origin, u->seq, &r) == RU_OK ? RU_E_CHAIN : RU_OK;
        if (!err && memcmp(prev, u->prev, RU_HASH_BYTES) != 0)
            err = RU_E_CHAIN;
    }
    if (err)
        return err;
    ru_update_hash(old, first);
    ru_update_hash(env, other);
    return s_forked(txn, old, env, u->seq, first, other, result);
}

/*  Keys copied out of a scan, so that the caller may write after it. */
static int
s_copy_key(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) val;
    ru_buf_t *keys = ctx;
    uint32_t len = (uint32_t) key->mv_size;
    ru_buf_append(keys, &len, sizeof len);
    ru_buf_append(keys, key->mv_data, key->mv_size);
    return 0;
}

/*  Appends the keys of db that start with (origin, seq >= from) to keys,
 *  each after its length (4 bytes, host order). */
static ru_err
s_keys_from(ru_txn_t *txn, ru_db db, const uint8_t *origin, uint64_t from, ru_buf_t *keys)
{
    uint8_t after[RU_DBKEY_REF];
    ru_dbkey_ref(after, origin, from - 1);
    ru_err err = from > 1 ? ru_txn_scan_after(txn, db, origin, RU_KEY_BYTES, after, sizeof after,
                                              s_copy_key, keys)
                          : ru_txn_scan(txn, db, origin, RU_KEY_BYTES, 0, s_copy_key, keys);
    return err ? err : ru_buf_status(keys);
}

/*  Steps through keys as s_keys_from wrote them. */
static const uint8_t *
s_next_key(const ru_buf_t *keys, size_t *at, uint32_t *len)
{
    if (*at + sizeof *len > keys->len)
        return NULL;
    memcpy(len, keys->data + *at, sizeof *len);
    const uint8_t *key = keys->data + *at + sizeof *len;
    *at += sizeof *len + *len;
    return key;
}

/*  Drops origin's updates from seq from on: applied (from the log, with
 *  their positions) and pending or held. *dropped counts them. */
static ru_err
s_drop_from(ru_txn_t *txn, const uint8_t *origin, uint64_t from, uint64_t *dropped)
{
    ru_buf_t logged, pending;
    ru_buf_init(&logged);
    ru_buf_init(&pending);
    ru_err err = s_keys_from(txn, RU_DB_log, origin, from, &logged);
    if (!err)
        err = s_keys_from(txn, RU_DB_pending, origin, from, &pending);
    size_t at = 0;
    uint32_t len;
    const uint8_t *key;
    while (!err && (key = s_next_key(&logged, &at, &len)) != NULL) {
        ++*dropped;
        err = ru_txn_del(txn, RU_DB_log, key, len);
        if (!err)
            err = ru_txn_del(txn, RU_DB_order, key, len);
    }
    at = 0;
    while (!err && (key = s_next_key(&pending, &at, &len)) != NULL) {
        ++*dropped;
        err = len == RU_DBKEY_REF ? s_unpark(txn, key, ru_dbkey_get64(key + RU_KEY_BYTES))
                                  : RU_E_STORE;
    }
    ru_buf_fini(&logged);
    ru_buf_fini(&pending);
    return err;
}

/*  Lifts the quarantine of origin: its held updates' waits records are
 *  deleted, and put on the work list to be looked at again unless work
 *  is NULL (their updates are gone). */
static ru_err
s_lift(ru_txn_t *txn, const uint8_t *origin, s_work *work)
{
    uint8_t prefix[RU_DBKEY_REF];
    ru_buf_t keys;
    ru_buf_init(&keys);
    ru_err err = ru_txn_scan(txn, RU_DB_waits, prefix, ru_dbkey_ref(prefix, origin, RU_FORK_HELD),
                             0, s_copy_key, &keys);
    if (!err)
        err = ru_buf_status(&keys);
    size_t at = 0;
    uint32_t len;
    const uint8_t *key;
    while (!err && (key = s_next_key(&keys, &at, &len)) != NULL) {
        if (len != 2 * RU_DBKEY_REF)
            continue;
        err = work ? s_work_push(work, key) : RU_OK; /* s_retry deletes the record */
        if (!err && !work)
            err = ru_txn_del(txn, RU_DB_waits, key, len);
    }
    ru_buf_fini(&keys);
    return err;
}

/*  The databases a rebuild clears and fills again from the log: the
 *  replicated state and everything derived from it. Accounts, sessions,
 *  apps, peers, notifications (made once per subject: a replay makes none
 *  twice), the search dictionaries of names and tags and the public ids
 *  (which only ever grow, from accounts too) stay. */
static const ru_db s_rebuilt[] = {
    RU_DB_heads,    RU_DB_clocks,  RU_DB_posts,   RU_DB_likes,       RU_DB_profiles,
    RU_DB_follows,  RU_DB_groups,  RU_DB_members, RU_DB_timeline,    RU_DB_replies,
    RU_DB_authors,  RU_DB_tags,    RU_DB_mentions, RU_DB_group_posts, RU_DB_followers,
    RU_DB_home,     RU_DB_counts,  RU_DB_words,
};

/*  One origin of the log being replayed: its next seq, its last, and the
 *  position the next one was applied at (UINT64_MAX: none left). */
typedef struct {
    uint8_t origin[RU_KEY_BYTES];
    uint64_t next, last, pos;
} s_lane;

static void
s_lane_pos(ru_txn_t *txn, s_lane *l)
{
    if (l->next > l->last)
        l->pos = UINT64_MAX;
    else if (ru_order_pos(txn, l->origin, l->next, &l->pos) != RU_OK)
        l->pos = UINT64_MAX - 1; /* no position: after the others */
}

/*  Takes (origin, seq) out of the log and through causal delivery again:
 *  applied (quietly: ap tells no listener) or, lacking a dependency now,
 *  parked (*parked counts those). */
static ru_err
s_replay_one(const ru_apply_t *ap, const uint8_t *origin, uint64_t seq, s_work *work,
             uint64_t *parked)
{
    ru_txn_t *txn = ap->state.txn;
    uint8_t key[RU_DBKEY_REF];
    MDB_val val;
    size_t klen = ru_dbkey_ref(key, origin, seq);
    ru_err err = ru_txn_get(txn, RU_DB_log, key, klen, &val);
    if (err)
        return err == RU_E_NOT_FOUND ? RU_OK : err;
    uint8_t *wire = malloc(val.mv_size); /* the log record is deleted below */
    if (!wire)
        return RU_E_NOMEM;
    memcpy(wire, val.mv_data, val.mv_size);
    size_t len = val.mv_size;
    err = ru_txn_del(txn, RU_DB_log, key, klen);
    if (!err)
        err = ru_txn_del(txn, RU_DB_order, key, klen);
    ru_envelope_t env;
    ru_update_t u;
    ru_update_init(&u);
    int missing = 0;
    ru_ref_t dep;
    if (!err && (ru_envelope_parse(wire, len, &env) != RU_OK || ru_update_decode(&env, &u) != RU_OK))
        err = RU_E_TYPE;
    if (!err)
        err = s_first_missing(txn, &u, &missing, &dep);
    if (!err && missing) {
        ++*parked;
        err = s_park(txn, &env, &u, &dep);
    } else if (!err)
        err = s_apply_one(ap, &env, &u, work);
    if (err == RU_E_TYPE || err == RU_E_CHAIN || err == RU_E_RANGE) {
        ru_log_warn("apply", "rebuilding the state: dropped an update of the log that no longer "
                             "applies: %s", ru_err_name(err));
        err = RU_OK;
    }
    ru_update_fini(&u);
    free(wire);
    return err;
}

/*  This node held the other variant of (origin, f), applied: that variant
 *  and every update of origin past it are dropped (applied, pending or
 *  held), and the state is rebuilt from the rest of the log, replayed in
 *  the order it was applied (ru_order.h), quietly. What depended on the
 *  dropped updates waits in pending for the kept chain, which catch-up
 *  brings. */
static ru_err
s_rebuild(const ru_apply_t *ap, const uint8_t *origin, uint64_t f, s_work *work)
{
    ru_txn_t *txn = ap->state.txn;
    ru_clock_t heads;
    ru_clock_init(&heads);
    uint64_t dropped = 0, parked = 0, replayed = 0;
    ru_err err = s_drop_from(txn, origin, f, &dropped);
    if (!err)
        err = s_lift(txn, origin, NULL);
    if (!err)
        err = ru_apply_clock(txn, &heads);
    s_lane *lanes = err ? NULL : calloc(heads.n ? heads.n : 1, sizeof *lanes);
    if (!err && !lanes)
        err = RU_E_NOMEM;
    for (size_t i = 0; !err && i < sizeof s_rebuilt / sizeof s_rebuilt[0]; i++)
        err = ru_txn_clear(txn, s_rebuilt[i]);
    for (uint32_t i = 0; !err && i < heads.n; i++) {
        s_lane *l = &lanes[i];
        memcpy(l->origin, heads.v[i].origin, RU_KEY_BYTES);
        l->next = 1;
        l->last = heads.v[i].seq;
        if (memcmp(l->origin, origin, RU_KEY_BYTES) == 0 && l->last >= f)
            l->last = f - 1;
        s_lane_pos(txn, l);
    }
    ru_apply_t quiet = *ap;
    quiet.on_applied = NULL;
    while (!err) {
        s_lane *first = NULL;
        for (uint32_t i = 0; i < heads.n; i++)
            if (lanes[i].next <= lanes[i].last && (!first || lanes[i].pos < first->pos))
                first = &lanes[i];
        if (!first)
            break;
        err = s_replay_one(&quiet, first->origin, first->next, work, &parked);
        first->next++;
        replayed++;
        s_lane_pos(txn, first);
    }
    if (!err)
        ru_log_info("apply", "resolution: dropped %llu updates of the variant not kept and the "
                             "chain built on it; the state was rebuilt from %llu updates of the "
                             "log, %llu of which wait for the kept chain",
                    (unsigned long long) dropped, (unsigned long long) replayed,
                    (unsigned long long) parked);
    free(lanes);
    ru_clock_fini(&heads);
    return err;
}

/*  Applies a RESOLVE of (O, f) keeping u->kept: unless an earlier RESOLVE
 *  of (O, f) decided already (ru_fork_decides_before), records it, then
 *  either lifts O's quarantine (this node holds the kept variant, or
 *  neither: the held updates are looked at again, a pending other variant
 *  dropped) or, holding the other variant applied, rebuilds. */
static ru_err
s_resolve(const ru_apply_t *ap, const ru_update_t *u, s_work *work)
{
    ru_txn_t *txn = ap->state.txn;
    const uint8_t *o = u->fork.origin;
    uint64_t f = u->fork.seq;
    ru_fork_resolution_t now, was;
    memset(&now, 0, sizeof now);
    memcpy(now.kept, u->kept, RU_HASH_BYTES);
    memcpy(now.by.origin, u->origin, RU_KEY_BYTES);
    now.by.seq = u->seq;
    now.by_hlc = u->hlc;
    now.at_ms = ru_hlc_wall_ms();
    ru_err err = ru_fork_resolution(txn, o, f, &was);
    if (err == RU_OK && !ru_fork_decides_before(&now, &was))
        return RU_OK;
    if (err && err != RU_E_NOT_FOUND)
        return err;
    err = ru_fork_resolve(txn, o, f, &now);
    uint8_t key[RU_DBKEY_REF], hash[RU_HASH_BYTES];
    MDB_val val;
    ru_envelope_t held;
    int logged = 0, other = 0;
    for (int k = 0; !err && k < 2 && !logged; k++) { /* the log, then pending */
        ru_db db = k == 0 ? RU_DB_log : RU_DB_pending;
        err = ru_txn_get(txn, db, key, ru_dbkey_ref(key, o, f), &val);
        if (err == RU_E_NOT_FOUND) {
            err = RU_OK;
            continue;
        }
        if (!err && ru_envelope_parse(val.mv_data, val.mv_size, &held) != RU_OK)
            err = RU_E_STORE;
        if (!err)
            ru_update_hash(&held, hash);
        other = !err && memcmp(hash, u->kept, RU_HASH_BYTES) != 0;
        logged = k == 0;
        if (!err && k == 1 && other)
            err = s_unpark(txn, o, f);
    }
    if (!err)
        err = logged && other ? s_rebuild(ap, o, f, work) : s_lift(txn, o, work);
    return err;
}

/*  Applies u, a new arrival, now, or parks it if there is room; holds it
 *  if its origin is quarantined at or below its seq. */
static ru_err
s_deliver(const ru_apply_t *ap, const ru_envelope_t *env, const ru_update_t *u, s_work *work,
          ru_apply_result *result)
{
    int missing;
    ru_ref_t dep;
    uint64_t fork;
    ru_err err = ru_fork_quarantine(ap->state.txn, u->origin, &fork);
    if (!err && fork && u->seq >= fork) {
        err = s_room(ap, u->origin);
        return err ? err : s_hold(ap->state.txn, env, u, result);
    }
    if (!err)
        err = s_kept(ap->state.txn, env, u);
    if (!err)
        err = s_first_missing(ap->state.txn, u, &missing, &dep);
    if (err)
        return err;
    *result = missing ? RU_APPLY_PENDING : RU_APPLY_APPLIED;
    if (missing) {
        err = s_room(ap, u->origin);
        if (!err)
            err = s_park(ap->state.txn, env, u, &dep);
        /*  A RESOLVE takes effect as it comes (PROTOCOL.md 16): what it
         *  decides depends on nothing it waits for, and what it waits for
         *  (updates built on the forked origin's held ones) may wait for
         *  it. Applied later, it finds itself recorded already. */
        if (!err && u->kind == RU_KIND_RESOLVE)
            err = s_resolve(ap, u, work);
        return err;
    }
    err = s_apply_one(ap, env, u, work);
    return err == RU_E_CHAIN ? s_broken(ap->state.txn, env, u, result) : err;
}

/*  What a pending update u waits for next: the first dependency it lacks,
 *  or the quarantine of its origin (*missing). */
static ru_err
s_next_wait(ru_txn_t *txn, const ru_update_t *u, int *missing, ru_ref_t *next)
{
    uint64_t fork;
    ru_err err = ru_fork_quarantine(txn, u->origin, &fork);
    if (!err && fork && u->seq >= fork) {
        *missing = 1;
        memcpy(next->origin, u->origin, RU_KEY_BYTES);
        next->seq = RU_FORK_HELD;
        return RU_OK;
    }
    return err ? err : s_first_missing(txn, u, missing, next);
}

/*  Looks again at the pending update ref after one of its dependencies
 *  was applied: it waits for the next one it lacks (or is held), or
 *  leaves pending and is applied. One whose chain turns out broken proves
 *  a fork and is held; one whose clock delta does not raise its origin's
 *  clock is dropped. */
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
    int missing = 0;
    ru_ref_t next;
    err = ru_envelope_parse(wire, val.mv_size, &env);
    if (!err)
        err = ru_update_decode(&env, &u);
    if (err && err != RU_E_NOMEM) { /* parked before the decoder knew better */
        ru_log_warn("apply", "dropped a pending update that no longer decodes: %s",
                    ru_err_name(err));
        err = s_unpark(txn, ref->origin, ref->seq);
        free(wire);
        return err;
    }
    if (!err)
        err = s_next_wait(txn, &u, &missing, &next);
    if (!err && missing)
        err = ru_txn_put(txn, RU_DB_waits, key, s_wait_key(key, &next, u.origin, u.seq), "", 0);
    else if (!err) {
        err = s_unpark(txn, u.origin, u.seq);
        if (!err)
            err = s_kept(txn, &env, &u);
        ru_apply_result result;
        if (!err && (err = s_apply_one(ap, &env, &u, work)) == RU_E_CHAIN)
            err = s_broken(txn, &env, &u, &result);
    }
    if (err == RU_E_CHAIN) {
        ru_log_warn("apply", "dropped a pending update that is not on the chain a resolution "
                             "kept");
        err = RU_OK;
    }
    if (err == RU_E_RANGE) {
        ru_log_warn("apply", "dropped a pending update whose clock delta does not raise its "
                             "origin's clock");
        err = RU_OK;
    }
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
    if (err == RU_E_FORK) /* the one held stays: nobody drops its variant */
        return s_conflict(ap->state.txn, &old, env, u, result);
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

/*  Fills u's header: seq and prev from our head, the clock delta since our
 *  previous update (the entries of our clock now that grew since the full
 *  clock that update was made with), the time. */
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
        err = s_full_clock(txn, u->origin, &before);
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

ru_err
ru_apply_end_recovery(const ru_apply_t *ap, uint64_t target, int *ended)
{
    uint64_t head, pending = 0;
    ru_err err = ru_apply_head(ap->state.txn, ap->state.self, &head, NULL);
    if (!err)
        err = s_get64(ap->state.txn, RU_DB_pending_n, ap->state.self, RU_KEY_BYTES, &pending);
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
    uint64_t fork, pending;
    ru_err err = ru_apply_recovering(ap->state.txn, &recovering);
    if (!err && recovering)
        err = RU_E_RECOVERING;
    if (!err)
        err = ru_fork_seq(ap->state.txn, ru_key_public(key), &fork);
    if (!err && fork)
        err = RU_E_FORK; /* this site's key signed two histories, resolved or not */
    if (!err)
        err = s_get64(ap->state.txn, RU_DB_pending_n, ap->state.self, RU_KEY_BYTES, &pending);
    if (!err && pending)
        err = RU_E_RECOVERING; /* a rebuild parked some of our own: they hold their seqs */
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
        ru_buf_append(out, wire.data, wire.len);
    ru_clock_fini(&now);
    ru_buf_fini(&wire);
    return err ? err : ru_buf_status(out);
}

/*  ---------------------------------------------------------------------
 *  Figures and the schema step
 */

typedef struct {
    ru_apply_pending_t *v;
    size_t n, cap;
    ru_err err;
} s_origins;

static int
s_pending_origin(void *ctx, const MDB_val *key, const MDB_val *val)
{
    s_origins *o = ctx;
    if (key->mv_size != RU_KEY_BYTES || val->mv_size != 8) {
        o->err = RU_E_STORE;
        return 1;
    }
    if (o->n == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 16;
        ru_apply_pending_t *v = realloc(o->v, cap * sizeof *v);
        if (!v) {
            o->err = RU_E_NOMEM;
            return 1;
        }
        o->v = v;
        o->cap = cap;
    }
    ru_apply_pending_t *p = &o->v[o->n++];
    memcpy(p->origin, key->mv_data, RU_KEY_BYTES);
    p->count = ru_dbkey_get64(val->mv_data);
    p->oldest_ms = 0;
    return 0;
}

static int
s_first_age(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) val;
    if (key->mv_size == S_AGE_KEY)
        *(uint64_t *) ctx = ru_dbkey_get64((const uint8_t *) key->mv_data + RU_KEY_BYTES);
    return 1; /* the first is the oldest */
}

ru_err
ru_apply_pending(ru_txn_t *txn, ru_apply_pending_t **out, size_t *n, uint64_t *total)
{
    s_origins o = {0};
    *out = NULL;
    *n = 0;
    ru_err err = s_get64(txn, RU_DB_meta, S_META_PENDING, strlen(S_META_PENDING), total);
    if (!err)
        err = ru_txn_scan(txn, RU_DB_pending_n, NULL, 0, 0, s_pending_origin, &o);
    if (!err)
        err = o.err;
    for (size_t i = 0; !err && i < o.n; i++)
        err = ru_txn_scan(txn, RU_DB_pending_age, o.v[i].origin, RU_KEY_BYTES, 0, s_first_age,
                          &o.v[i].oldest_ms);
    if (err) {
        free(o.v);
        return err;
    }
    *out = o.v;
    *n = o.n;
    return RU_OK;
}

/*  The schema step reads a page of records, then writes: a put may move
 *  the pages a scan is reading (lmdb.h). */
#define S_UPGRADE_PAGE 1024

typedef struct {
    ru_buf_t keys; /* the page's keys, RU_DBKEY_REF each */
    ru_buf_t deltas; /* log: origin | p | seq (8), for every delta entry */
    size_t n;
    ru_err err;
} s_page;

static int
s_page_log(void *ctx, const MDB_val *key, const MDB_val *val)
{
    s_page *pg = ctx;
    ru_envelope_t env;
    ru_update_t u;
    ru_update_init(&u);
    if (key->mv_size != RU_DBKEY_REF)
        return 0;
    ru_buf_append(&pg->keys, key->mv_data, key->mv_size);
    /*  Verified when it came; one that no longer decodes folds nothing
     *  (its origin's clock then stays lower, which refuses nothing more). */
    if (ru_envelope_parse(val->mv_data, val->mv_size, &env) == RU_OK &&
        ru_update_decode(&env, &u) == RU_OK)
        for (uint32_t i = 0; i < u.clock.n; i++) {
            uint8_t row[S_CLOCK_KEY + 8];
            ru_dbkey_be64(row + s_clock_key(row, u.origin, u.clock.v[i].origin),
                          u.clock.v[i].seq);
            ru_buf_append(&pg->deltas, row, sizeof row);
        }
    ru_update_fini(&u);
    return ++pg->n == S_UPGRADE_PAGE;
}

static int
s_page_pending(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) val;
    s_page *pg = ctx;
    if (key->mv_size == RU_DBKEY_REF)
        ru_buf_append(&pg->keys, key->mv_data, key->mv_size);
    return ++pg->n == S_UPGRADE_PAGE;
}

/*  Writes what a page read: the log's deltas folded into clocks (each
 *  entry raised, never lowered), or the pending updates noted at now. */
static ru_err
s_page_write(ru_txn_t *txn, const s_page *pg, uint64_t now)
{
    ru_err err = ru_buf_status(&pg->keys);
    if (!err)
        err = ru_buf_status(&pg->deltas);
    for (size_t at = 0; !err && at < pg->deltas.len; at += S_CLOCK_KEY + 8) {
        const uint8_t *row = pg->deltas.data + at;
        uint64_t before, seq = ru_dbkey_get64(row + S_CLOCK_KEY);
        err = s_get64(txn, RU_DB_clocks, row, S_CLOCK_KEY, &before);
        if (!err && seq > before)
            err = s_put64(txn, RU_DB_clocks, row, S_CLOCK_KEY, seq);
    }
    for (size_t at = 0; !err && now && at < pg->keys.len; at += RU_DBKEY_REF) {
        const uint8_t *k = pg->keys.data + at;
        err = s_note_pending(txn, k, ru_dbkey_get64(k + RU_KEY_BYTES), now);
    }
    return err;
}

/*  Runs fn over every record of db, a page at a time, writing each page. */
static ru_err
s_upgrade_pages(ru_txn_t *txn, ru_db db, ru_scan_fn fn, uint64_t now)
{
    uint8_t last[RU_DBKEY_REF];
    int first = 1;
    ru_err err = RU_OK;
    for (;;) {
        s_page pg = {.n = 0, .err = RU_OK};
        ru_buf_init(&pg.keys);
        ru_buf_init(&pg.deltas);
        err = first ? ru_txn_scan(txn, db, NULL, 0, 0, fn, &pg)
                    : ru_txn_scan_after(txn, db, NULL, 0, last, sizeof last, fn, &pg);
        if (!err)
            err = s_page_write(txn, &pg, now);
        int more = !err && pg.n == S_UPGRADE_PAGE && pg.keys.len >= RU_DBKEY_REF;
        if (more)
            memcpy(last, pg.keys.data + pg.keys.len - RU_DBKEY_REF, RU_DBKEY_REF);
        ru_buf_fini(&pg.keys);
        ru_buf_fini(&pg.deltas);
        first = 0;
        if (!more)
            return err;
    }
}

ru_err
ru_apply_upgrade(ru_txn_t *txn)
{
    ru_err err = s_upgrade_pages(txn, RU_DB_log, s_page_log, 0);
    if (!err)
        err = s_upgrade_pages(txn, RU_DB_pending, s_page_pending, ru_hlc_wall_ms());
    return err ? err
               : ru_txn_del(txn, RU_DB_meta, S_META_SELF_CLOCK, strlen(S_META_SELF_CLOCK));
}

ru_err
ru_apply_resolve(const ru_apply_t *ap, const ru_key_t *key, const uint8_t *origin,
                 const char *author, ru_fork_t *fork, ru_update_t *u, ru_buf_t *out)
{
    ru_err err = ru_fork_get(ap->state.txn, origin, fork);
    if (!err && fork->resolved)
        err = RU_E_NOT_FOUND;
    if (err)
        return err;
    ru_update_fini(u);
    u->author = (ru_str_t){author, (uint32_t) strlen(author)};
    u->kind = RU_KIND_RESOLVE;
    memcpy(u->fork.origin, origin, RU_KEY_BYTES);
    u->fork.seq = fork->seq;
    memcpy(u->kept, fork->first, RU_HASH_BYTES);
    return ru_apply_local(ap, key, u, out);
}
