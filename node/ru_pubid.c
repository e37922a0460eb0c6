/*  ru_pubid.c - public ids (see ru_pubid.h).
 *
 *  The 128-bit arithmetic for status ids works on four 32-bit limbs, most
 *  significant first, so it needs no compiler extension: printing divides
 *  by ten repeatedly, parsing multiplies by ten and adds.
 */
#include "ru_pubid.h"

#include <sodium.h>
#include <stdio.h>
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

static ru_err
s_note(ru_txn_t *txn, uint64_t id, const uint8_t *key, size_t len)
{
    uint8_t k[8];
    MDB_val val;
    ru_dbkey_be64(k, id);
    ru_err err = ru_txn_get(txn, RU_DB_ids, k, sizeof k, &val);
    if (err != RU_E_NOT_FOUND)
        return err; /* already there (a 63-bit collision keeps the first) */
    return ru_txn_put(txn, RU_DB_ids, k, sizeof k, key, len);
}

ru_err
ru_pubid_note_user(ru_txn_t *txn, const uint8_t *home, ru_str_t name)
{
    uint8_t key[RU_DBKEY_USER];
    size_t len = ru_dbkey_user(key, home, name);
    return s_note(txn, ru_pubid_user(home, name), key, len);
}

ru_err
ru_pubid_note_group(ru_txn_t *txn, const ru_ref_t *group)
{
    uint8_t key[RU_DBKEY_REF];
    size_t len = ru_dbkey_ref(key, group->origin, group->seq);
    return s_note(txn, ru_pubid_group(group), key, len);
}

ru_err
ru_pubid_lookup(ru_txn_t *txn, uint64_t id, MDB_val *key)
{
    uint8_t k[8];
    ru_dbkey_be64(k, id);
    return ru_txn_get(txn, RU_DB_ids, k, sizeof k, key);
}
