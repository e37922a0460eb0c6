/*  ru_pubid.c - public ids (see ru_pubid.h).
 *
 *  The 128-bit arithmetic for status ids works on four 32-bit limbs, most
 *  significant first, so it needs no compiler extension: printing divides
 *  by ten repeatedly, parsing multiplies by ten and adds.
 */
#include "ru_pubid.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ru_dbkey.h"

/*  n = n * 10 + digit; returns the carry out of the top limb. */
static uint32_t
s_mul10_add(uint32_t *n, uint32_t digit)
{
    uint64_t carry = digit;
    for (int i = 3; i >= 0; i--) {
        uint64_t v = (uint64_t) n[i] * 10 + carry;
        n[i] = (uint32_t) v;
        carry = v >> 32;
    }
    return (uint32_t) carry;
}

/*  n = n / 10; returns the remainder. */
static uint32_t
s_div10(uint32_t *n)
{
    uint64_t rem = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t v = (rem << 32) | n[i];
        n[i] = (uint32_t) (v / 10);
        rem = v % 10;
    }
    return (uint32_t) rem;
}

void
ru_pubid_status(uint64_t hlc, const uint8_t *origin, char *out)
{
    uint64_t lo = ru_dbkey_get64(origin);
    uint32_t n[4] = {(uint32_t) (hlc >> 32), (uint32_t) hlc, (uint32_t) (lo >> 32), (uint32_t) lo};
    char digits[RU_PUBID_SIZE];
    int k = 0;
    do
        digits[k++] = (char) ('0' + s_div10(n));
    while (n[0] | n[1] | n[2] | n[3]);
    for (int i = 0; i < k; i++)
        out[i] = digits[k - 1 - i];
    out[k] = '\0';
}

ru_err
ru_pubid_status_parse(const char *id, uint8_t *pos)
{
    size_t len = strlen(id);
    if (len == 0 || len >= RU_PUBID_SIZE || (id[0] == '0' && len > 1))
        return RU_E_INVALID;
    uint32_t n[4] = {0};
    for (size_t i = 0; i < len; i++) {
        if (id[i] < '0' || id[i] > '9' || s_mul10_add(n, (uint32_t) (id[i] - '0')))
            return RU_E_INVALID;
    }
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 4; b++)
            pos[4 * i + b] = (uint8_t) (n[i] >> (24 - 8 * b));
    return RU_OK;
}

/*  63 bits of BLAKE2b over a key: positive in any signed 64-bit reader. */
static uint64_t
s_hash_id(const uint8_t *key, size_t len)
{
    uint8_t h[8];
    crypto_generichash(h, sizeof h, key, len, NULL, 0);
    return ru_dbkey_get64(h) >> 1;
}

ru_err
ru_pubid_status_ref(ru_txn_t *txn, const uint8_t *pos, ru_ref_t *ref)
{
    MDB_cursor *cur;
    if (mdb_cursor_open(txn->txn, ru_store_dbi(txn->store, RU_DB_timeline), &cur))
        return RU_E_STORE;
    MDB_val k = {RU_PUBID_POS, (void *) pos}, val;
    int rc = mdb_cursor_get(cur, &k, &val, MDB_SET_RANGE);
    int found =
        rc == MDB_SUCCESS && k.mv_size == RU_DBKEY_POS && memcmp(k.mv_data, pos, RU_PUBID_POS) == 0;
    if (found) {
        const uint8_t *key = k.mv_data;
        memcpy(ref->origin, key + 8, RU_KEY_BYTES);
        ref->seq = ru_dbkey_get64(key + 8 + RU_KEY_BYTES);
    }
    mdb_cursor_close(cur);
    return found ? RU_OK : RU_E_NOT_FOUND;
}

uint64_t
ru_pubid_user(const uint8_t *home, ru_str_t name)
{
    uint8_t key[RU_DBKEY_USER];
    return s_hash_id(key, ru_dbkey_user(key, home, name));
}

uint64_t
ru_pubid_group(const ru_ref_t *group)
{
    uint8_t key[RU_DBKEY_REF];
    return s_hash_id(key, ru_dbkey_ref(key, group->origin, group->seq));
}

void
ru_pubid_text(uint64_t id, char *out)
{
    snprintf(out, RU_PUBID_SIZE, "%llu", (unsigned long long) id);
}

ru_err
ru_pubid_parse(const char *text, uint64_t *id)
{
    uint64_t v = 0;
    size_t len = strlen(text);
    if (len == 0 || len > 19 || (text[0] == '0' && len > 1))
        return RU_E_INVALID;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return RU_E_INVALID;
        v = v * 10 + (uint64_t) (text[i] - '0');
    }
    if (v >> 63)
        return RU_E_INVALID;
    *id = v;
    return RU_OK;
}

/*  Records kind | key under id, unless id is recorded already (a 63-bit
 *  collision keeps the first). */
static ru_err
s_note(ru_txn_t *txn, uint64_t id, ru_pubid_kind kind, const uint8_t *key, size_t len)
{
    uint8_t k[8], rec[1 + RU_DBKEY_USER];
    MDB_val val;
    ru_dbkey_be64(k, id);
    ru_err err = ru_txn_get(txn, RU_DB_ids, k, sizeof k, &val);
    if (err != RU_E_NOT_FOUND)
        return err;
    rec[0] = (uint8_t) kind;
    memcpy(rec + 1, key, len);
    return ru_txn_put(txn, RU_DB_ids, k, sizeof k, rec, len + 1);
}

ru_err
ru_pubid_note_user(ru_txn_t *txn, const uint8_t *home, ru_str_t name)
{
    uint8_t key[RU_DBKEY_USER];
    size_t len = ru_dbkey_user(key, home, name);
    return s_note(txn, ru_pubid_user(home, name), RU_PUBID_USER, key, len);
}

ru_err
ru_pubid_note_group(ru_txn_t *txn, const ru_ref_t *group)
{
    uint8_t key[RU_DBKEY_REF];
    size_t len = ru_dbkey_ref(key, group->origin, group->seq);
    return s_note(txn, ru_pubid_group(group), RU_PUBID_GROUP, key, len);
}

/*  Is rec (len bytes) a record of kind with a well-formed key? */
static int
s_is(const uint8_t *rec, size_t len, ru_pubid_kind kind)
{
    if (len < 1 || rec[0] != kind)
        return 0;
    if (kind == RU_PUBID_GROUP)
        return len == 1 + RU_DBKEY_REF;
    return len >= 1 + RU_KEY_BYTES + 2 && len <= 1 + RU_DBKEY_USER && rec[len - 1] == 0;
}

/*  The record of id if it is of kind: *val views the key after the kind. */
static ru_err
s_lookup(ru_txn_t *txn, uint64_t id, ru_pubid_kind kind, MDB_val *val)
{
    uint8_t k[8];
    ru_dbkey_be64(k, id);
    ru_err err = ru_txn_get(txn, RU_DB_ids, k, sizeof k, val);
    if (!err && !s_is(val->mv_data, val->mv_size, kind))
        err = RU_E_NOT_FOUND;
    if (!err)
        *val = (MDB_val){val->mv_size - 1, (uint8_t *) val->mv_data + 1};
    return err;
}

ru_err
ru_pubid_lookup_user(ru_txn_t *txn, uint64_t id, uint8_t *key, size_t *len)
{
    MDB_val val;
    ru_err err = s_lookup(txn, id, RU_PUBID_USER, &val);
    if (!err) {
        memcpy(key, val.mv_data, val.mv_size);
        *len = val.mv_size;
    }
    return err;
}

ru_err
ru_pubid_lookup_group(ru_txn_t *txn, uint64_t id, ru_ref_t *ref)
{
    MDB_val val;
    ru_err err = s_lookup(txn, id, RU_PUBID_GROUP, &val);
    if (!err) {
        memcpy(ref->origin, val.mv_data, RU_KEY_BYTES);
        ref->seq = ru_dbkey_get64((const uint8_t *) val.mv_data + RU_KEY_BYTES);
    }
    return err;
}

int
ru_pubid_known_user(ru_txn_t *txn, const uint8_t *home, ru_str_t name)
{
    MDB_val val;
    return s_lookup(txn, ru_pubid_user(home, name), RU_PUBID_USER, &val) == RU_OK;
}

typedef struct {
    int (*fn)(void *ctx, const uint8_t *key, size_t len);
    void *ctx;
} s_each;

static int
s_each_user(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) key;
    const s_each *e = ctx;
    const uint8_t *rec = val->mv_data;
    return s_is(rec, val->mv_size, RU_PUBID_USER) ? e->fn(e->ctx, rec + 1, val->mv_size - 1) : 0;
}

ru_err
ru_pubid_each_user(ru_txn_t *txn, int (*fn)(void *ctx, const uint8_t *key, size_t len), void *ctx)
{
    s_each e = {fn, ctx};
    return ru_txn_scan(txn, RU_DB_ids, NULL, 0, 0, s_each_user, &e);
}

/*  ---------------------------------------------------------------------
 *  Upgrade from schema 1: records without their kind
 */

#define S_UPGRADE_PAGE 256

typedef struct {
    uint8_t ids[S_UPGRADE_PAGE][8];
    uint8_t keys[S_UPGRADE_PAGE][RU_DBKEY_USER];
    size_t lens[S_UPGRADE_PAGE];
    int n;
} s_old_page;

static int
s_old_record(void *ctx, const MDB_val *key, const MDB_val *val)
{
    s_old_page *p = ctx;
    if (key->mv_size != 8 || val->mv_size > RU_DBKEY_USER)
        return 0; /* not an id record: left alone */
    memcpy(p->ids[p->n], key->mv_data, 8);
    memcpy(p->keys[p->n], val->mv_data, val->mv_size);
    p->lens[p->n] = val->mv_size;
    return ++p->n == S_UPGRADE_PAGE;
}

/*  The kind of an old record: a ref the groups database holds is a group;
 *  otherwise a well-formed user key is a user; else 0 (not one of ours). */
static ru_pubid_kind
s_old_kind(ru_txn_t *txn, const uint8_t *key, size_t len)
{
    MDB_val val;
    if (len == RU_DBKEY_REF && ru_txn_get(txn, RU_DB_groups, key, len, &val) == RU_OK)
        return RU_PUBID_GROUP;
    if (len >= RU_KEY_BYTES + 2 && key[len - 1] == 0 && !memchr(key + RU_KEY_BYTES, 0,
                                                               len - RU_KEY_BYTES - 1))
        return RU_PUBID_USER;
    return 0;
}

/*  Rewrites one page of old records; a record of no known kind is
 *  dropped (it would answer for nothing). */
static ru_err
s_upgrade_page(ru_txn_t *txn, const s_old_page *p)
{
    ru_err err = RU_OK;
    for (int i = 0; !err && i < p->n; i++) {
        ru_pubid_kind kind = s_old_kind(txn, p->keys[i], p->lens[i]);
        uint8_t rec[1 + RU_DBKEY_USER] = {(uint8_t) kind};
        memcpy(rec + 1, p->keys[i], p->lens[i]);
        err = kind ? ru_txn_put(txn, RU_DB_ids, p->ids[i], 8, rec, p->lens[i] + 1)
                   : ru_txn_del(txn, RU_DB_ids, p->ids[i], 8);
    }
    return err;
}

ru_err
ru_pubid_upgrade(ru_txn_t *txn)
{
    s_old_page *p = malloc(sizeof *p);
    if (!p)
        return RU_E_NOMEM;
    uint8_t after[8];
    int first = 1, full;
    ru_err err;
    do {
        p->n = 0;
        err = first ? ru_txn_scan(txn, RU_DB_ids, NULL, 0, 0, s_old_record, p)
                    : ru_txn_scan_after(txn, RU_DB_ids, NULL, 0, after, 8, s_old_record, p);
        full = p->n == S_UPGRADE_PAGE;
        if (full)
            memcpy(after, p->ids[S_UPGRADE_PAGE - 1], 8);
        if (!err)
            err = s_upgrade_page(txn, p);
        first = 0;
    } while (!err && full);
    free(p);
    return err;
}
