/*  ru_upload.c - upload records (ru_upload.h): a msgpack array in the
 *  order of ru_upload_t's fields, keyed by the id's 8 big-endian bytes,
 *  and an entry per owner so that a user's uploads are a prefix scan.
 */
#include "ru_upload.h"

#include <sodium.h>
#include <string.h>

#include "ruche/ru_mp.h"

#define S_FIELDS 8

uint64_t
ru_upload_new_id(void)
{
    uint64_t id = 0;
    while (id == 0) {
        randombytes_buf(&id, sizeof id);
        id &= ~(UINT64_C(1) << 63);
    }
    return id;
}

static void
s_key(uint8_t *key, uint64_t id)
{
    for (int i = 0; i < 8; i++)
        key[i] = (uint8_t) (id >> (56 - 8 * i));
}

/*  owner|0|id: the owner's index key; its length. */
static size_t
s_owner_key(uint8_t *key, ru_str_t owner, uint64_t id)
{
    memcpy(key, owner.ptr, owner.len);
    key[owner.len] = 0;
    s_key(key + owner.len + 1, id);
    return owner.len + 9;
}

static void
s_pack_str(msgpack_packer *pk, ru_str_t s)
{
    msgpack_pack_str(pk, s.len);
    msgpack_pack_str_body(pk, s.ptr, s.len);
}

ru_err
ru_upload_put(ru_txn_t *txn, uint64_t id, const ru_upload_t *rec)
{
    if (rec->owner.len == 0 || rec->owner.len > RU_MAX_NAME)
        return RU_E_INVALID;
    ru_buf_t buf;
    ru_buf_init(&buf);
    msgpack_packer pk;
    ru_mp_packer_init(&pk, &buf);
    msgpack_pack_array(&pk, S_FIELDS);
    s_pack_str(&pk, rec->owner);
    msgpack_pack_uint64(&pk, rec->created_ms);
    msgpack_pack_uint8(&pk, (uint8_t) rec->state);
    s_pack_str(&pk, rec->error);
    s_pack_str(&pk, rec->description);
    msgpack_pack_uint32(&pk, rec->focus_x);
    msgpack_pack_uint32(&pk, rec->focus_y);
    msgpack_pack_bin(&pk, rec->media.len);
    msgpack_pack_bin_body(&pk, rec->media.ptr, rec->media.len);
    uint8_t key[8], okey[RU_MAX_NAME + 9];
    s_key(key, id);
    ru_err err = ru_buf_status(&buf);
    if (!err)
        err = ru_txn_put(txn, RU_DB_uploads, key, sizeof key, buf.data, buf.len);
    if (!err)
        err = ru_txn_put(txn, RU_DB_uploads_by, okey, s_owner_key(okey, rec->owner, id), "", 0);
    ru_buf_fini(&buf);
    return err;
}

static ru_err
s_read_u32(ru_mp_t *mp, uint32_t *out)
{
    uint64_t v;
    ru_err err = ru_mp_uint(mp, &v);
    *out = (uint32_t) v;
    return !err && v > UINT32_MAX ? RU_E_RANGE : err;
}

ru_err
ru_upload_get(ru_txn_t *txn, uint64_t id, ru_upload_t *rec)
{
    memset(rec, 0, sizeof *rec);
    uint8_t key[8];
    s_key(key, id);
    MDB_val val;
    ru_err err = ru_txn_get(txn, RU_DB_uploads, key, sizeof key, &val);
    if (err)
        return err;
    ru_mp_t mp;
    ru_mp_init(&mp, val.mv_data, val.mv_size);
    uint64_t state = 0;
    err = ru_mp_array_of(&mp, S_FIELDS);
    if (!err)
        err = ru_mp_str(&mp, &rec->owner.ptr, &rec->owner.len, RU_MAX_NAME);
    if (!err)
        err = ru_mp_uint(&mp, &rec->created_ms);
    if (!err)
        err = ru_mp_uint(&mp, &state);
    if (!err)
        err = ru_mp_str(&mp, &rec->error.ptr, &rec->error.len, UINT32_MAX);
    if (!err)
        err = ru_mp_str(&mp, &rec->description.ptr, &rec->description.len, UINT32_MAX);
    if (!err)
        err = s_read_u32(&mp, &rec->focus_x);
    if (!err)
        err = s_read_u32(&mp, &rec->focus_y);
    if (!err)
        err = ru_mp_bin(&mp, &rec->media.ptr, &rec->media.len, UINT32_MAX);
    if (!err)
        err = ru_mp_end(&mp);
    if (err || state > RU_UPLOAD_FAILED)
        return RU_E_STORE;
    rec->state = (ru_upload_state) state;
    return RU_OK;
}

ru_err
ru_upload_del(ru_txn_t *txn, uint64_t id, ru_str_t owner)
{
    uint8_t key[8], okey[RU_MAX_NAME + 9];
    s_key(key, id);
    if (owner.len > RU_MAX_NAME)
        return RU_E_INVALID;
    ru_err err = ru_txn_del(txn, RU_DB_uploads, key, sizeof key);
    return err ? err : ru_txn_del(txn, RU_DB_uploads_by, okey, s_owner_key(okey, owner, id));
}

typedef struct {
    ru_upload_fn fn;
    void *ctx;
} s_each;

static uint64_t
s_id(const uint8_t *p)
{
    uint64_t id = 0;
    for (int i = 0; i < 8; i++)
        id = (id << 8) | p[i];
    return id;
}

static int
s_each_all(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) val;
    s_each *e = ctx;
    return key->mv_size == 8 ? e->fn(e->ctx, s_id(key->mv_data)) : 0;
}

static int
s_each_owned(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) val;
    s_each *e = ctx;
    const uint8_t *k = key->mv_data;
    return key->mv_size >= 9 ? e->fn(e->ctx, s_id(k + key->mv_size - 8)) : 0;
}

ru_err
ru_upload_each(ru_txn_t *txn, const char *owner, ru_upload_fn fn, void *ctx)
{
    s_each e = {fn, ctx};
    if (!owner)
        return ru_txn_scan(txn, RU_DB_uploads, NULL, 0, 0, s_each_all, &e);
    size_t len = strlen(owner);
    if (len > RU_MAX_NAME)
        return RU_E_INVALID;
    uint8_t prefix[RU_MAX_NAME + 1];
    memcpy(prefix, owner, len);
    prefix[len] = 0;
    return ru_txn_scan(txn, RU_DB_uploads_by, prefix, len + 1, 0, s_each_owned, &e);
}
