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
 */
#include "ru_catchup.h"

#include <stdlib.h>
#include <string.h>

#include "ru_apply.h"
#include "ru_order.h"

void
ru_catchup_init(ru_catchup_t *self)
{
    ru_clock_init(&self->theirs);
    self->credit = 0;
}

void
ru_catchup_fini(ru_catchup_t *self)
{
    ru_clock_fini(&self->theirs);
}

ru_err
ru_catchup_hello(ru_catchup_t *self, const ru_clock_t *theirs, uint32_t credit)
{
    self->credit = credit;
    self->pending = 0;
    self->pending_started = 0;
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
 *  with one, and a lane whose next update the log lacks ends there. */
static int
s_fill_batch(ru_catchup_t *self, ru_txn_t *txn, const ru_clock_t *ours, ru_bytes_t *env)
{
    s_lane *lanes = malloc((ours->n ? ours->n : 1) * sizeof *lanes);
    if (!lanes)
        return 0;
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
        if (bytes + val.mv_size > RU_MAX_BATCH_BYTES ||
            ru_clock_set(&self->theirs, l->origin, l->have + 1) != RU_OK)
            break;
        env[n++] = (ru_bytes_t){val.mv_data, val.mv_size};
        bytes += val.mv_size;
        if (++l->have < l->ours)
            s_position(txn, l);
    }
    free(lanes);
    return n;
}

/*  Reads the next batch from the pending updates, in key order from where
 *  the last one ended: those above what the asker has of their origin. */
static int
s_fill_pending(ru_catchup_t *self, ru_txn_t *txn, ru_bytes_t *env)
{
    MDB_cursor *c;
    if (mdb_cursor_open(txn->txn, ru_store_dbi(txn->store, RU_DB_pending), &c) != 0)
        return 0;
    MDB_val k = {sizeof self->pending_after, self->pending_after}, v;
    int rc = self->pending_started ? mdb_cursor_get(c, &k, &v, MDB_SET_RANGE)
                                   : mdb_cursor_get(c, &k, &v, MDB_FIRST);
    if (rc == 0 && self->pending_started && k.mv_size == RU_DBKEY_REF &&
        memcmp(k.mv_data, self->pending_after, RU_DBKEY_REF) == 0)
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    int n = 0;
    size_t bytes = 0;
    for (; rc == 0 && n < RU_MAX_BATCH; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != RU_DBKEY_REF)
            continue;
        if (bytes + v.mv_size > RU_MAX_BATCH_BYTES)
            break;
        memcpy(self->pending_after, k.mv_data, RU_DBKEY_REF);
        self->pending_started = 1;
        const uint8_t *origin = k.mv_data;
        if (ru_dbkey_get64(origin + RU_KEY_BYTES) <= ru_clock_get(&self->theirs, origin))
            continue;
        env[n++] = (ru_bytes_t){v.mv_data, v.mv_size};
        bytes += v.mv_size;
    }
    mdb_cursor_close(c);
    return n;
}

int
ru_catchup_pump(ru_catchup_t *self, ru_store_t *store, ru_catchup_send_fn send, void *ctx)
{
    static _Thread_local ru_bytes_t env[RU_MAX_BATCH];
    ru_txn_t txn;
    ru_clock_t ours;
    ru_buf_t buf;
    if (ru_store_read(store, &txn) != RU_OK)
        return 1;
    ru_clock_init(&ours);
    ru_buf_init(&buf);
    int over = ru_apply_clock(&txn, &ours) != RU_OK;
    while (!over && self->credit > 0) {
        int n = self->pending ? 0 : s_fill_batch(self, &txn, &ours, env);
        if (n == 0) {
            self->pending = 1;
            n = s_fill_pending(self, &txn, env);
        }
        ru_buf_reset(&buf);
        if (n == 0) {
            over = 1;
            if (ru_msg_encode_done(&ours, &buf) == RU_OK)
                send(ctx, &buf);
        } else if (ru_msg_encode_batch(env, (uint32_t) n, &buf) == RU_OK) {
            send(ctx, &buf);
            self->credit--;
        } else
            over = 1;
    }
    ru_txn_abort(&txn);
    ru_buf_fini(&buf);
    ru_clock_fini(&ours);
    return over;
}
