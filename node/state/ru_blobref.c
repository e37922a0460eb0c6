/*  ru_blobref.c - reference counts of blobs, with the lists of blobs
 *  wanted and blobs to collect (ru_blobref.h).
 *
 *  A count's record is a msgpack array [refs, type, name, size]; a blob at zero
 *  has no record, and instead an entry in blob_gc with the time its last
 *  reference went. Regaining a reference takes it off that list.
 */
#include "ru_blobref.h"

#include <string.h>

#include "ruche/ru_mp.h"

static void
s_pack(ru_buf_t *out, const ru_blobref_t *b)
{
    msgpack_packer pk;
    ru_mp_packer_init(&pk, out);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_uint64(&pk, b->refs);
    msgpack_pack_str(&pk, b->type.len);
    msgpack_pack_str_body(&pk, b->type.ptr, b->type.len);
    msgpack_pack_str(&pk, b->name.len);
    msgpack_pack_str_body(&pk, b->name.ptr, b->name.len);
    msgpack_pack_uint64(&pk, b->size);
}

static ru_err
s_decode(const MDB_val *val, ru_blobref_t *out)
{
    ru_mp_t mp;
    ru_mp_init(&mp, val->mv_data, val->mv_size);
    ru_err err = ru_mp_array_of(&mp, 4);
    if (!err)
        err = ru_mp_uint(&mp, &out->refs);
    if (!err)
        err = ru_mp_str(&mp, &out->type.ptr, &out->type.len, RU_MAX_MEDIA_TYPE);
    if (!err)
        err = ru_mp_str(&mp, &out->name.ptr, &out->name.len, RU_MAX_FILE_NAME);
    if (!err)
        err = ru_mp_uint(&mp, &out->size);
    if (!err)
        err = ru_mp_end(&mp);
    return err ? RU_E_STORE : RU_OK;
}

ru_err
ru_blobref_get(ru_txn_t *txn, const uint8_t *hash, ru_blobref_t *out)
{
    MDB_val val;
    ru_err err = ru_txn_get(txn, RU_DB_blobs, hash, RU_HASH_BYTES, &val);
    return err ? err : s_decode(&val, out);
}

/*  The count of hash moves by delta. The record read is a view: it is
 *  re-encoded into buf before the first write. */
static ru_err
s_count(ru_txn_t *txn, const uint8_t *hash, ru_str_t type, ru_str_t name, uint64_t size, int delta,
        uint64_t now_ms)
{
    ru_blobref_t cur = {0, type, name, size};
    ru_err err = ru_blobref_get(txn, hash, &cur);
    if (err && err != RU_E_NOT_FOUND)
        return err;
    if (err == RU_E_NOT_FOUND && delta < 0)
        return RU_OK;
    uint64_t refs = delta > 0 ? cur.refs + 1 : cur.refs - 1;
    ru_buf_t buf;
    ru_buf_init(&buf);
    cur.refs = refs;
    if (refs > 0)
        s_pack(&buf, &cur);
    err = ru_buf_status(&buf);
    if (!err && refs > 0)
        err = ru_txn_put(txn, RU_DB_blobs, hash, RU_HASH_BYTES, buf.data, buf.len);
    if (!err && refs == 0)
        err = ru_txn_del(txn, RU_DB_blobs, hash, RU_HASH_BYTES);
    if (!err && refs == 1 && delta > 0) /* its first reference, or one regained */
        err = ru_txn_del(txn, RU_DB_blob_gc, hash, RU_HASH_BYTES);
    if (!err && refs == 1 && delta > 0)
        err = ru_txn_put(txn, RU_DB_blob_want, hash, RU_HASH_BYTES, "", 0);
    if (!err && refs == 0) /* nobody needs it fetched any more */
        err = ru_txn_del(txn, RU_DB_blob_want, hash, RU_HASH_BYTES);
    if (!err && refs == 0) {
        uint8_t at[8];
        for (int i = 0; i < 8; i++)
            at[i] = (uint8_t) (now_ms >> (56 - 8 * i));
        err = ru_txn_put(txn, RU_DB_blob_gc, hash, RU_HASH_BYTES, at, sizeof at);
    }
    ru_buf_fini(&buf);
    return err;
}

ru_err
ru_blobref_media(ru_txn_t *txn, const ru_media_t *media, uint32_t n, int delta, uint64_t now_ms)
{
    const ru_str_t none = {"", 0};
    ru_err err = RU_OK;
    for (uint32_t i = 0; !err && i < n; i++) {
        err = s_count(txn, media[i].hash, media[i].type, media[i].name, media[i].size, delta,
                      now_ms);
        if (!err && media[i].is_image)
            err = s_count(txn, media[i].thumb, media[i].type, none, media[i].thumb_size, delta,
                          now_ms);
    }
    return err;
}

ru_err
ru_blobref_packed(ru_txn_t *txn, const uint8_t *packed, uint32_t len, int delta, uint64_t now_ms)
{
    if (len == 0)
        return RU_OK;
    ru_media_t media[RU_MAX_MEDIA];
    uint32_t n;
    ru_err err = ru_media_unpack(packed, len, media, &n);
    return err ? RU_E_STORE : ru_blobref_media(txn, media, n, delta, now_ms);
}

uint64_t
ru_blobref_bytes(const ru_media_t *media, uint32_t n)
{
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < n; i++)
        bytes += media[i].size + (media[i].is_image ? media[i].thumb_size : 0);
    return bytes;
}

static ru_err
s_used(ru_txn_t *txn, const void *key, size_t len, uint64_t *bytes)
{
    MDB_val val;
    *bytes = 0;
    ru_err err = ru_txn_get(txn, RU_DB_media_usage, key, len, &val);
    if (err == RU_E_NOT_FOUND)
        return RU_OK;
    if (err)
        return err;
    if (val.mv_size != 8)
        return RU_E_STORE;
    const uint8_t *p = val.mv_data;
    for (int i = 0; i < 8; i++)
        *bytes = (*bytes << 8) | p[i];
    return RU_OK;
}

ru_err
ru_blobref_used(ru_txn_t *txn, const char *user, uint64_t *bytes)
{
    return s_used(txn, user, strlen(user), bytes);
}

ru_err
ru_blobref_usage(ru_txn_t *txn, ru_str_t user, const ru_media_t *media, uint32_t n, int delta)
{
    uint64_t bytes = ru_blobref_bytes(media, n), used;
    if (bytes == 0 || user.len == 0)
        return RU_OK;
    ru_err err = s_used(txn, user.ptr, user.len, &used);
    if (err)
        return err;
    used = delta > 0 ? used + bytes : (used > bytes ? used - bytes : 0);
    uint8_t v[8];
    for (int i = 0; i < 8; i++)
        v[i] = (uint8_t) (used >> (56 - 8 * i));
    return used ? ru_txn_put(txn, RU_DB_media_usage, user.ptr, user.len, v, sizeof v)
                : ru_txn_del(txn, RU_DB_media_usage, user.ptr, user.len);
}
