/*  ru_fork.c - the forks database (see ru_fork.h).
 *
 *  forks: origin -> seq (8, big-endian) | found_ms (8) | first hash (32) |
 *  other hash (32) | length of the first envelope (4, big-endian) | the
 *  first envelope | the second envelope. The record is built in memory
 *  before the put, so the envelopes may be views of the store's pages.
 *
 *  The held count of a fork is the number of waits records under
 *  (origin, RU_FORK_HELD): one per held update.
 */
#include "ru_fork.h"

#include <stdlib.h>
#include <string.h>

#include "ruche/ru_hlc.h"

#include "ru_dbkey.h"

#define S_HEAD (8 + 8 + 2 * RU_HASH_BYTES + 4)

/*  Reads a record's value into out; RU_E_STORE if it is malformed. */
static ru_err
s_parse(const uint8_t *origin, const MDB_val *val, ru_fork_t *out)
{
    const uint8_t *p = val->mv_data;
    if (val->mv_size < S_HEAD)
        return RU_E_STORE;
    memcpy(out->origin, origin, RU_KEY_BYTES);
    out->seq = ru_dbkey_get64(p);
    out->found_ms = ru_dbkey_get64(p + 8);
    memcpy(out->first, p + 16, RU_HASH_BYTES);
    memcpy(out->other, p + 16 + RU_HASH_BYTES, RU_HASH_BYTES);
    const uint8_t *q = p + 16 + 2 * RU_HASH_BYTES;
    size_t first = (size_t) q[0] << 24 | (size_t) q[1] << 16 | (size_t) q[2] << 8 | q[3];
    if (first > val->mv_size - S_HEAD)
        return RU_E_STORE;
    out->evidence[0] = (ru_bytes_t){p + S_HEAD, first};
    out->evidence[1] = (ru_bytes_t){p + S_HEAD + first, val->mv_size - S_HEAD - first};
    out->held = 0;
    return RU_OK;
}

ru_err
ru_fork_seq(ru_txn_t *txn, const uint8_t *origin, uint64_t *seq)
{
    MDB_val val;
    ru_err err = ru_txn_get(txn, RU_DB_forks, origin, RU_KEY_BYTES, &val);
    *seq = 0;
    if (err)
        return err == RU_E_NOT_FOUND ? RU_OK : err;
    if (val.mv_size < S_HEAD)
        return RU_E_STORE;
    *seq = ru_dbkey_get64(val.mv_data);
    return RU_OK;
}

ru_err
ru_fork_note(ru_txn_t *txn, const ru_envelope_t *a, const ru_envelope_t *b, uint64_t seq,
             const uint8_t *first, const uint8_t *other, int *noted)
{
    uint64_t known;
    *noted = 0;
    ru_err err = ru_fork_seq(txn, a->origin, &known);
    if (err || (known && known <= seq))
        return err;
    size_t len = S_HEAD + a->wire_len + b->wire_len;
    uint8_t *v = malloc(len);
    if (!v)
        return RU_E_NOMEM;
    ru_dbkey_be64(v, seq);
    ru_dbkey_be64(v + 8, ru_hlc_wall_ms());
    memcpy(v + 16, first, RU_HASH_BYTES);
    memcpy(v + 16 + RU_HASH_BYTES, other, RU_HASH_BYTES);
    uint8_t *q = v + 16 + 2 * RU_HASH_BYTES;
    q[0] = (uint8_t) (a->wire_len >> 24);
    q[1] = (uint8_t) (a->wire_len >> 16);
    q[2] = (uint8_t) (a->wire_len >> 8);
    q[3] = (uint8_t) a->wire_len;
    memcpy(v + S_HEAD, a->wire, a->wire_len);
    memcpy(v + S_HEAD + a->wire_len, b->wire, b->wire_len);
    uint8_t origin[RU_KEY_BYTES]; /* a view too */
    memcpy(origin, a->origin, RU_KEY_BYTES);
    err = ru_txn_put(txn, RU_DB_forks, origin, RU_KEY_BYTES, v, len);
    free(v);
    *noted = err == RU_OK;
    return err;
}

static int
s_count(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) key;
    (void) val;
    ++*(uint64_t *) ctx;
    return 0;
}

typedef struct {
    ru_txn_t *txn;
    ru_fork_fn fn;
    void *ctx;
    ru_err err;
} s_list;

static int
s_each(void *ctx, const MDB_val *key, const MDB_val *val)
{
    s_list *l = ctx;
    ru_fork_t fork;
    uint8_t prefix[RU_DBKEY_REF];
    if (key->mv_size != RU_KEY_BYTES)
        l->err = RU_E_STORE;
    else
        l->err = s_parse(key->mv_data, val, &fork);
    if (!l->err)
        l->err = ru_txn_scan(l->txn, RU_DB_waits, prefix,
                             ru_dbkey_ref(prefix, fork.origin, RU_FORK_HELD), 0, s_count,
                             &fork.held);
    return l->err || l->fn(l->ctx, &fork);
}

ru_err
ru_fork_list(ru_txn_t *txn, ru_fork_fn fn, void *ctx)
{
    s_list l = {txn, fn, ctx, RU_OK};
    ru_err err = ru_txn_scan(txn, RU_DB_forks, NULL, 0, 0, s_each, &l);
    return err ? err : l.err;
}
