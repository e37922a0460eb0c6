/*  ru_fork.c - the forks database (see ru_fork.h).
 *
 *  forks: origin -> seq (8, big-endian) | found_ms (8) | first hash (32) |
 *  other hash (32) | length of the first envelope (4, big-endian) | the
 *  first envelope | the second envelope. The record is built in memory
 *  before the put, so the envelopes may be views of the store's pages.
 *
 *  The held count of a fork is the number of waits records under
 *  (origin, RU_FORK_HELD): one per held update.
 *
 *  Resolutions live in the same database under origin | seq (40 bytes,
 *  so after the origin's fork record in key order): the kept hash (32) |
 *  the deciding RESOLVE's origin (32), seq (8) and hlc (8) | the time it
 *  was applied here (8). A fork record and its resolution are separate,
 *  so a second fork of an origin replaces its record and the resolution
 *  of the first stays, refusing that fork's other variant for good.
 */
#include "ru_fork.h"

#include <stdlib.h>
#include <string.h>

#include "ruche/ru_hlc.h"

#include "ru_dbkey.h"

#define S_HEAD (8 + 8 + 2 * RU_HASH_BYTES + 4)
#define S_RESOLUTION (RU_HASH_BYTES + RU_KEY_BYTES + 8 + 8 + 8)

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
    out->resolved = 0;
    memset(&out->resolution, 0, sizeof out->resolution);
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
ru_fork_resolution(ru_txn_t *txn, const uint8_t *origin, uint64_t seq, ru_fork_resolution_t *out)
{
    uint8_t key[RU_DBKEY_REF];
    MDB_val val;
    ru_err err = ru_txn_get(txn, RU_DB_forks, key, ru_dbkey_ref(key, origin, seq), &val);
    if (!err && val.mv_size != S_RESOLUTION)
        err = RU_E_STORE;
    if (err)
        return err;
    const uint8_t *p = val.mv_data;
    memcpy(out->kept, p, RU_HASH_BYTES);
    memcpy(out->by.origin, p + RU_HASH_BYTES, RU_KEY_BYTES);
    out->by.seq = ru_dbkey_get64(p + RU_HASH_BYTES + RU_KEY_BYTES);
    out->by_hlc = ru_dbkey_get64(p + RU_HASH_BYTES + RU_KEY_BYTES + 8);
    out->at_ms = ru_dbkey_get64(p + RU_HASH_BYTES + RU_KEY_BYTES + 16);
    return RU_OK;
}

ru_err
ru_fork_resolve(ru_txn_t *txn, const uint8_t *origin, uint64_t seq, const ru_fork_resolution_t *r)
{
    uint8_t key[RU_DBKEY_REF], v[S_RESOLUTION];
    memcpy(v, r->kept, RU_HASH_BYTES);
    memcpy(v + RU_HASH_BYTES, r->by.origin, RU_KEY_BYTES);
    ru_dbkey_be64(v + RU_HASH_BYTES + RU_KEY_BYTES, r->by.seq);
    ru_dbkey_be64(v + RU_HASH_BYTES + RU_KEY_BYTES + 8, r->by_hlc);
    ru_dbkey_be64(v + RU_HASH_BYTES + RU_KEY_BYTES + 16, r->at_ms);
    return ru_txn_put(txn, RU_DB_forks, key, ru_dbkey_ref(key, origin, seq), v, sizeof v);
}

typedef struct {
    uint64_t seq;
    int *settled;
} s_settle;

static int
s_settle_entry(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) val;
    s_settle *s = ctx;
    if (key->mv_size == RU_DBKEY_REF &&
        ru_dbkey_get64((const uint8_t *) key->mv_data + RU_KEY_BYTES) <= s->seq)
        *s->settled = 1;
    return *s->settled;
}

ru_err
ru_fork_settled(ru_txn_t *txn, const uint8_t *origin, uint64_t seq, int *settled)
{
    s_settle s = {seq, settled};
    *settled = 0;
    return ru_txn_scan(txn, RU_DB_forks, origin, RU_KEY_BYTES, 0, s_settle_entry, &s);
}

int
ru_fork_decides_before(const ru_fork_resolution_t *a, const ru_fork_resolution_t *b)
{
    if (a->by_hlc != b->by_hlc)
        return a->by_hlc < b->by_hlc;
    int c = memcmp(a->by.origin, b->by.origin, RU_KEY_BYTES);
    return c ? c < 0 : a->by.seq < b->by.seq;
}

/*  *resolved: (origin, seq) has a resolution. */
static ru_err
s_resolved(ru_txn_t *txn, const uint8_t *origin, uint64_t seq, int *resolved)
{
    ru_fork_resolution_t r;
    ru_err err = ru_fork_resolution(txn, origin, seq, &r);
    *resolved = err == RU_OK;
    return err == RU_E_NOT_FOUND ? RU_OK : err;
}

ru_err
ru_fork_quarantine(ru_txn_t *txn, const uint8_t *origin, uint64_t *seq)
{
    int resolved = 0;
    ru_err err = ru_fork_seq(txn, origin, seq);
    if (!err && *seq)
        err = s_resolved(txn, origin, *seq, &resolved);
    if (resolved)
        *seq = 0;
    return err;
}

ru_err
ru_fork_note(ru_txn_t *txn, const ru_envelope_t *a, const ru_envelope_t *b, uint64_t seq,
             const uint8_t *first, const uint8_t *other, int *noted)
{
    uint64_t known;
    int known_resolved = 0, resolved;
    *noted = 0;
    ru_err err = ru_fork_seq(txn, a->origin, &known);
    if (!err && known)
        err = s_resolved(txn, a->origin, known, &known_resolved);
    if (!err)
        err = s_resolved(txn, a->origin, seq, &resolved);
    if (err || resolved || (known && known <= seq && !known_resolved))
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

/*  Fills fork's resolution, if any. */
static ru_err
s_with_resolution(ru_txn_t *txn, ru_fork_t *fork)
{
    ru_err err = ru_fork_resolution(txn, fork->origin, fork->seq, &fork->resolution);
    fork->resolved = err == RU_OK;
    return err == RU_E_NOT_FOUND ? RU_OK : err;
}

ru_err
ru_fork_get(ru_txn_t *txn, const uint8_t *origin, ru_fork_t *out)
{
    MDB_val val;
    ru_err err = ru_txn_get(txn, RU_DB_forks, origin, RU_KEY_BYTES, &val);
    if (!err)
        err = s_parse(origin, &val, out);
    return err ? err : s_with_resolution(txn, out);
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
    if (key->mv_size == RU_DBKEY_REF)
        return 0; /* a resolution: read with its fork */
    if (key->mv_size != RU_KEY_BYTES)
        l->err = RU_E_STORE;
    else
        l->err = s_parse(key->mv_data, val, &fork);
    if (!l->err)
        l->err = ru_txn_scan(l->txn, RU_DB_waits, prefix,
                             ru_dbkey_ref(prefix, fork.origin, RU_FORK_HELD), 0, s_count,
                             &fork.held);
    if (!l->err)
        l->err = s_with_resolution(l->txn, &fork);
    return l->err || l->fn(l->ctx, &fork);
}

ru_err
ru_fork_list(ru_txn_t *txn, ru_fork_fn fn, void *ctx)
{
    s_list l = {txn, fn, ctx, RU_OK};
    ru_err err = ru_txn_scan(txn, RU_DB_forks, NULL, 0, 0, s_each, &l);
    return err ? err : l.err;
}
