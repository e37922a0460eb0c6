/*  ru_catchup.c - serving one peer's catch-up (see ru_catchup.h).
 *
 *  A batch is read from the log straight into the message being encoded:
 *  the envelopes are views into the read transaction's pages, which stay
 *  valid until that transaction ends, after the message is sent.
 */
#include "ru_catchup.h"

#include <string.h>

#include "ru_apply.h"

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

/*  Reads the next batch from the log: each origin's updates the asker
 *  lacks, in seq order, up to the batch limits. */
static int
s_fill_batch(ru_catchup_t *self, ru_txn_t *txn, const ru_clock_t *ours, ru_bytes_t *env)
{
    int n = 0;
    size_t bytes = 0;
    for (uint32_t i = 0; i < ours->n && n < RU_MAX_BATCH; i++) {
        const ru_clock_entry_t *e = &ours->v[i];
        uint64_t have = ru_clock_get(&self->theirs, e->origin);
        while (have < e->seq && n < RU_MAX_BATCH) {
            uint8_t key[RU_DBKEY_REF];
            MDB_val val;
            if (ru_txn_get(txn, RU_DB_log, key, ru_dbkey_ref(key, e->origin, have + 1), &val) ||
                bytes + val.mv_size > RU_MAX_BATCH_BYTES)
                break;
            env[n++] = (ru_bytes_t){val.mv_data, val.mv_size};
            bytes += val.mv_size;
            have++;
        }
        if (ru_clock_set(&self->theirs, e->origin, have) != RU_OK)
            break;
        if (have < e->seq)
            break; /* the batch is full */
    }
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
