/*  ru_catchup.c - serving one peer's catch-up (see ru_catchup.h).
 *
 *  The session's cursor is the asker's clock as raised by what was sent:
 *  the next update of each origin it lacks is (origin, have + 1), and the
 *  apply-order index gives its position. No other cursor is needed, and
 *  none can go stale: an update applied here while the session runs gets
 *  a position after every one already given, so it is merged in when its
 *  origin's lane reaches it, in the batch that reads it (each batch reads
 *  this node's clock again).
 *
 *  A batch is read from the log straight into the message being encoded:
 *  the envelopes are views into the read transaction's pages, which stay
 *  valid until that transaction ends, after the message is sent.
 *
 *  The walk of the pending database seeks rather than steps: from
 *  (origin, seq) it goes on at (origin, seq + 1) after an update sent, at
 *  (origin, the asker's seq + 1) past those the asker has, and at the next
 *  origin when the rest of this one is of no use to the asker (its next
 *  update lacks a dependency the asker lacks too, or the origin is
 *  quarantined from there on). Each seek is one entry looked at, so one
 *  batch costs at most walk seeks, whatever the pending set holds; the
 *  key to seek next is the session's cursor.
 */
#include "ru_catchup.h"

#include <stdlib.h>
#include <string.h>

#include "ru_apply.h"
#include "ru_fork.h"
#include "ru_order.h"

void
ru_catchup_init(ru_catchup_t *self, uint32_t walk)
{
    memset(self, 0, sizeof *self);
    ru_clock_init(&self->theirs);
    self->walk = walk ? walk : 1;
}

void
ru_catchup_fini(ru_catchup_t *self)
{
    ru_clock_fini(&self->theirs);
}

ru_err
ru_catchup_hello(ru_catchup_t *self, const ru_clock_t *theirs, const uint8_t *asker,
                 uint32_t credit)
{
    self->credit = credit;
    self->pending = 0;
    self->pending_end = 0;
    memset(self->pending_next, 0, sizeof self->pending_next);
    self->has_asker = asker != NULL;
    if (asker)
        memcpy(self->asker, asker, RU_KEY_BYTES);
    return ru_clock_copy(&self->theirs, theirs);
}

void
ru_catchup_credit(ru_catchup_t *self, uint32_t credit)
{
    self->credit += credit;
}

/*  One origin the asker lacks updates of: the seq it has, ours, and the
 *  position of the next one (UINT64_MAX when it has none). */
typedef struct {
    const uint8_t *origin;
    uint64_t have, ours, pos;
} s_lane;

/*  Looks up the position of the lane's next update: UINT64_MAX when it
 *  has none, or it cannot be read (it is still served). */
static void
s_position(ru_txn_t *txn, s_lane *l)
{
    if (ru_order_pos(txn, l->origin, l->have + 1, &l->pos) != RU_OK)
        l->pos = UINT64_MAX;
}

/*  The lane of the update to send next: the one applied first here. */
static s_lane *
s_next_lane(s_lane *lanes, uint32_t n)
{
    s_lane *best = NULL;
    for (uint32_t i = 0; i < n; i++)
        if (lanes[i].have < lanes[i].ours && (!best || lanes[i].pos < best->pos))
            best = &lanes[i];
    return best;
}

/*  Reads the next batch from the log: the updates the asker lacks, in the
 *  order this node applied them (ru_order.h), up to the batch limits. A
 *  merge of the origins it lacks, each in seq order, by position: each
 *  update sent costs the position of its origin's next one. An update
 *  without a position (the index is never without one) goes after those
 *  with one, and a lane whose next update the log lacks ends there. The
 *  number of updates, or -1 when memory ran out before any. */
static int
s_fill_batch(ru_catchup_t *self, ru_txn_t *txn, const ru_clock_t *ours, ru_bytes_t *env)
{
    s_lane *lanes = malloc((ours->n ? ours->n : 1) * sizeof *lanes);
    if (!lanes)
        return -1;
    uint32_t k = 0;
    for (uint32_t i = 0; i < ours->n; i++) {
        s_lane *l = &lanes[k];
        *l = (s_lane){ours->v[i].origin, ru_clock_get(&self->theirs, ours->v[i].origin),
                      ours->v[i].seq, UINT64_MAX};
        if (l->have < l->ours) {
            s_position(txn, l);
            k++;
        }
    }
    int n = 0;
    size_t bytes = 0;
    s_lane *l;
    while (n < RU_MAX_BATCH && (l = s_next_lane(lanes, k)) != NULL) {
        uint8_t key[RU_DBKEY_REF];
        MDB_val val;
        if (ru_txn_get(txn, RU_DB_log, key, ru_dbkey_ref(key, l->origin, l->have + 1), &val)) {
            l->ours = l->have;
            continue;
        }
        if (bytes + val.mv_size > RU_MAX_BATCH_BYTES)
            break;
        if (ru_clock_set(&self->theirs, l->origin, l->have + 1) != RU_OK) {
            n = n ? n : -1;
            break;
        }
        env[n++] = (ru_bytes_t){val.mv_data, val.mv_size};
        bytes += val.mv_size;
        if (++l->have < l->ours)
            s_position(txn, l);
    }
    free(lanes);
    return n;
}

/*  ru_apply_each_dep's callback: stops at a dependency beyond the clock. */
static int
s_dep_lacking(void *ctx, const uint8_t *origin, uint64_t seq)
{
    return seq > ru_clock_get(ctx, origin);
}

/*  Whether every dependency of the pending update wire is in the asker's
 *  clock: then the asker can apply it. */
static int
s_usable(const ru_catchup_t *self, const MDB_val *wire)
{
    ru_envelope_t env;
    ru_update_t u;
    ru_update_init(&u);
    int ok = ru_envelope_parse(wire->mv_data, wire->mv_size, &env) == RU_OK &&
             ru_update_decode(&env, &u) == RU_OK &&
             !ru_apply_each_dep(&u, s_dep_lacking, (void *) &self->theirs);
    ru_update_fini(&u);
    return ok;
}

/*  What the walk does with a pending update. */
typedef enum {
    S_SEND,       /* the asker can use it */
    S_HAS,        /* the asker has it: on past what it has of the origin */
    S_NEXT_ORIGIN /* of no use, nor are the origin's later ones */
} s_use;

static s_use
s_use_of(const ru_catchup_t *self, ru_txn_t *txn, const uint8_t *origin, uint64_t seq,
         const MDB_val *wire)
{
    uint64_t has = ru_clock_get(&self->theirs, origin), fork;
    if (ru_fork_quarantine(txn, origin, &fork) != RU_OK || (fork && seq >= fork) ||
        seq == UINT64_MAX)
        return S_NEXT_ORIGIN; /* held: not relayed (PROTOCOL.md 16) */
    if (seq <= has)
        return has < UINT64_MAX ? S_HAS : S_NEXT_ORIGIN;
    if (self->has_asker && memcmp(origin, self->asker, RU_KEY_BYTES) == 0)
        return S_SEND; /* its own: a site that lost its store learns of it */
    return seq == has + 1 && s_usable(self, wire) ? S_SEND : S_NEXT_ORIGIN;
}

/*  Sets the cursor to the first key of the origin after origin's; the
 *  walk ends when there is none. */
static void
s_next_origin(ru_catchup_t *self, const uint8_t *origin)
{
    uint8_t *next = self->pending_next;
    memcpy(next, origin, RU_KEY_BYTES);
    memset(next + RU_KEY_BYTES, 0, 8);
    int i = RU_KEY_BYTES - 1;
    while (i >= 0 && ++next[i] == 0)
        i--;
    self->pending_end = i < 0;
}

/*  Reads the next batch from the pending updates: those the asker can use
 *  (ru_catchup.h), from the cursor on in key order. Sets *spent when the
 *  walk budget ran out before the end. */
static int
s_fill_pending(ru_catchup_t *self, ru_txn_t *txn, ru_bytes_t *env, int *spent)
{
    MDB_cursor *c;
    *spent = 0;
    if (self->pending_end ||
        mdb_cursor_open(txn->txn, ru_store_dbi(txn->store, RU_DB_pending), &c) != 0)
        return 0;
    int n = 0;
    size_t bytes = 0;
    for (uint32_t looked = 0; n < RU_MAX_BATCH && !self->pending_end; looked++) {
        MDB_val k = {sizeof self->pending_next, self->pending_next}, v;
        if (looked == self->walk) {
            *spent = 1;
            break;
        }
        if (mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) != 0 || k.mv_size != RU_DBKEY_REF) {
            self->pending_end = 1;
            break;
        }
        uint8_t origin[RU_KEY_BYTES];
        memcpy(origin, k.mv_data, RU_KEY_BYTES);
        uint64_t seq = ru_dbkey_get64((const uint8_t *) k.mv_data + RU_KEY_BYTES);
        s_use use = s_use_of(self, txn, origin, seq, &v);
        if (use == S_NEXT_ORIGIN) {
            s_next_origin(self, origin);
            continue;
        }
        if (use == S_HAS) {
            ru_dbkey_ref(self->pending_next, origin, ru_clock_get(&self->theirs, origin) + 1);
            continue;
        }
        if (bytes + v.mv_size > RU_MAX_BATCH_BYTES ||
            (seq == ru_clock_get(&self->theirs, origin) + 1 &&
             ru_clock_set(&self->theirs, origin, seq) != RU_OK))
            break;
        env[n++] = (ru_bytes_t){v.mv_data, v.mv_size};
        bytes += v.mv_size;
        ru_dbkey_ref(self->pending_next, origin, seq + 1);
    }
    mdb_cursor_close(c);
    return n;
}

ru_catchup_step
ru_catchup_pump(ru_catchup_t *self, ru_store_t *store, ru_catchup_send_fn send, void *ctx)
{
    static _Thread_local ru_bytes_t env[RU_MAX_BATCH];
    ru_txn_t txn;
    ru_clock_t ours;
    ru_buf_t buf;
    if (ru_store_read(store, &txn) != RU_OK)
        return RU_CATCHUP_OVER;
    ru_clock_init(&ours);
    ru_buf_init(&buf);
    ru_catchup_step step = ru_apply_clock(&txn, &ours) == RU_OK ? RU_CATCHUP_WAIT
                                                                 : RU_CATCHUP_OVER;
    while (step == RU_CATCHUP_WAIT && self->credit > 0) {
        int spent = 0;
        int n = self->pending ? 0 : s_fill_batch(self, &txn, &ours, env);
        if (n == 0) {
            self->pending = 1;
            n = s_fill_pending(self, &txn, env, &spent);
        }
        ru_buf_reset(&buf);
        if (n < 0)
            step = RU_CATCHUP_OVER; /* out of memory, asked again; NOLINT(bugprone-branch-clone) */
        else if (n == 0 && spent)
            step = RU_CATCHUP_MORE;
        else if (n == 0) {
            step = RU_CATCHUP_OVER;
            if (ru_msg_encode_done(&ours, &buf) == RU_OK)
                send(ctx, &buf);
        } else if (ru_msg_encode_batch(env, (uint32_t) n, &buf) == RU_OK) {
            send(ctx, &buf);
            self->credit--;
        } else
            step = RU_CATCHUP_OVER;
    }
    ru_txn_abort(&txn);
    ru_buf_fini(&buf);
    ru_clock_fini(&ours);
    return step;
}
