/*  ru_record.c - msgpack encodings of the state records.
 *
 *  Field order is the struct order of ru_record.h. Readers use the strict
 *  ru_mp cursor like the wire decoders do: the store is ours, but a record
 *  damaged on disk must give an error, never a crash.
 */
#include "ru_record.h"

#include <string.h>

#include "ruche/ru_mp.h"

#include "ru_dbkey.h"

#define S_POST_FIELDS 12
#define S_POST_FIELDS_V2 15
#define S_GROUP_FIELDS 5
#define S_PROFILE_FIELDS 3
#define S_PROFILE_FIELDS_V2 5
#define S_PROFILE_FIELDS_V3 6

static void
s_pack_str(msgpack_packer *pk, ru_str_t s)
{
    msgpack_pack_str(pk, s.len);
    msgpack_pack_str_body(pk, s.ptr, s.len);
}

static void
s_pack_ref(msgpack_packer *pk, int has, const ru_ref_t *ref)
{
    if (!has) {
        msgpack_pack_nil(pk);
        return;
    }
    msgpack_pack_array(pk, 2);
    msgpack_pack_bin(pk, RU_KEY_BYTES);
    msgpack_pack_bin_body(pk, ref->origin, RU_KEY_BYTES);
    msgpack_pack_uint64(pk, ref->seq);
}

static ru_err
s_read_str(ru_mp_t *mp, ru_str_t *s)
{
    return ru_mp_str(mp, &s->ptr, &s->len, UINT32_MAX);
}

static ru_err
s_read_ref(ru_mp_t *mp, int *has, ru_ref_t *ref)
{
    *has = !ru_mp_peek_nil(mp);
    if (!*has)
        return ru_mp_nil(mp);
    ru_err err = ru_mp_array_of(mp, 2);
    if (!err)
        err = ru_mp_bin_exact(mp, ref->origin, RU_KEY_BYTES);
    return err ? err : ru_mp_uint(mp, &ref->seq);
}

/*  Packed bytes: a bin, empty for none. */
static void
s_pack_packed(msgpack_packer *pk, ru_packed_t p)
{
    msgpack_pack_bin(pk, p.len);
    msgpack_pack_bin_body(pk, p.ptr, p.len);
}

static ru_err
s_read_packed(ru_mp_t *mp, ru_packed_t *p)
{
    return ru_mp_bin(mp, &p->ptr, &p->len, UINT32_MAX);
}

/*  Reads an array header of either count; *later tells which. */
static ru_err
s_read_either(ru_mp_t *mp, uint32_t first, uint32_t later, int *is_later)
{
    uint32_t n;
    ru_err err = ru_mp_array(mp, &n);
    if (!err && n != first && n != later)
        err = RU_E_TYPE;
    *is_later = !err && n == later;
    return err;
}

/*  Reads n uints in a row into the given pointers. */
static ru_err
s_read_uints(ru_mp_t *mp, uint64_t **v, int n)
{
    ru_err err = RU_OK;
    for (int i = 0; !err && i < n; i++)
        err = ru_mp_uint(mp, v[i]);
    return err;
}

/*  Any decoding failure of a stored record is damage to the store. */
static ru_err
s_damaged(ru_err err, ru_mp_t *mp)
{
    if (!err)
        err = ru_mp_end(mp);
    return err ? RU_E_STORE : RU_OK;
}

void
ru_post_rec_encode(const ru_post_rec_t *rec, ru_buf_t *out)
{
    msgpack_packer pk;
    ru_mp_packer_init(&pk, out);
    int v2 = rec->spoiler.len || rec->sensitive || rec->media.len;
    msgpack_pack_array(&pk, v2 ? S_POST_FIELDS_V2 : S_POST_FIELDS);
    msgpack_pack_uint8(&pk, (uint8_t) rec->kind);
    s_pack_str(&pk, rec->author);
    msgpack_pack_uint64(&pk, rec->hlc);
    msgpack_pack_uint8(&pk, (uint8_t) rec->visibility);
    s_pack_ref(&pk, rec->has_group, &rec->group);
    s_pack_ref(&pk, rec->has_parent, &rec->parent);
    s_pack_ref(&pk, rec->has_parent, &rec->root);
    msgpack_pack_uint8(&pk, rec->deleted ? 1 : 0);
    s_pack_str(&pk, rec->text);
    msgpack_pack_uint64(&pk, rec->edit_hlc);
    msgpack_pack_uint64(&pk, rec->likes);
    msgpack_pack_uint64(&pk, rec->replies);
    if (v2) {
        s_pack_str(&pk, rec->spoiler);
        msgpack_pack_uint8(&pk, rec->sensitive ? 1 : 0);
        s_pack_packed(&pk, rec->media);
    }
}

ru_err
ru_post_rec_decode(const void *bytes, size_t len, ru_post_rec_t *rec)
{
    memset(rec, 0, sizeof *rec);
    ru_mp_t mp;
    ru_mp_init(&mp, bytes, len);
    uint64_t kind = 0, visibility = 0, deleted = 0, sensitive = 0;
    int has_root, v2;
    ru_err err = s_read_either(&mp, S_POST_FIELDS, S_POST_FIELDS_V2, &v2);
    if (!err)
        err = ru_mp_uint(&mp, &kind);
    if (!err)
        err = s_read_str(&mp, &rec->author);
    if (!err)
        err = s_read_uints(&mp, (uint64_t *[]){&rec->hlc, &visibility}, 2);
    if (!err)
        err = s_read_ref(&mp, &rec->has_group, &rec->group);
    if (!err)
        err = s_read_ref(&mp, &rec->has_parent, &rec->parent);
    if (!err)
        err = s_read_ref(&mp, &has_root, &rec->root);
    if (!err)
        err = ru_mp_uint(&mp, &deleted);
    if (!err)
        err = s_read_str(&mp, &rec->text);
    if (!err)
        err = s_read_uints(&mp, (uint64_t *[]){&rec->edit_hlc, &rec->likes, &rec->replies}, 3);
    if (!err && v2)
        err = s_read_str(&mp, &rec->spoiler);
    if (!err && v2)
        err = ru_mp_uint(&mp, &sensitive);
    if (!err && v2)
        err = s_read_packed(&mp, &rec->media);
    /*  The fields the encoder writes from its rules: a post or a reply, a
     *  visibility the views know, a parent and a root on a reply only. */
    if (!err &&
        ((kind != RU_KIND_POST && kind != RU_KIND_REPLY) || visibility > RU_VIS_MAX ||
         deleted > 1 || sensitive > 1 || rec->has_parent != (kind == RU_KIND_REPLY) ||
         has_root != rec->has_parent))
        err = RU_E_STORE;
    rec->sensitive = sensitive != 0;
    rec->kind = (ru_kind) kind;
    rec->visibility = (ru_visibility) visibility;
    rec->deleted = deleted != 0;
    return s_damaged(err, &mp);
}

void
ru_group_rec_encode(const ru_group_rec_t *rec, ru_buf_t *out)
{
    msgpack_packer pk;
    ru_mp_packer_init(&pk, out);
    msgpack_pack_array(&pk, S_GROUP_FIELDS);
    s_pack_str(&pk, rec->name);
    s_pack_str(&pk, rec->description);
    s_pack_str(&pk, rec->creator);
    msgpack_pack_uint64(&pk, rec->hlc);
    msgpack_pack_uint64(&pk, rec->members);
}

ru_err
ru_group_rec_decode(const void *bytes, size_t len, ru_group_rec_t *rec)
{
    memset(rec, 0, sizeof *rec);
    ru_mp_t mp;
    ru_mp_init(&mp, bytes, len);
    ru_err err = ru_mp_array_of(&mp, S_GROUP_FIELDS);
    if (!err)
        err = s_read_str(&mp, &rec->name);
    if (!err)
        err = s_read_str(&mp, &rec->description);
    if (!err)
        err = s_read_str(&mp, &rec->creator);
    if (!err)
        err = s_read_uints(&mp, (uint64_t *[]){&rec->hlc, &rec->members}, 2);
    return s_damaged(err, &mp);
}

void
ru_profile_rec_encode(const ru_profile_rec_t *rec, ru_buf_t *out)
{
    msgpack_packer pk;
    ru_mp_packer_init(&pk, out);
    int v3 = rec->person.len > 0, v2 = v3 || rec->avatar.len || rec->header.len;
    msgpack_pack_array(&pk, v3 ? S_PROFILE_FIELDS_V3 : v2 ? S_PROFILE_FIELDS_V2 : S_PROFILE_FIELDS);
    s_pack_str(&pk, rec->display_name);
    s_pack_str(&pk, rec->note);
    msgpack_pack_uint64(&pk, rec->hlc);
    if (v2) {
        s_pack_packed(&pk, rec->avatar);
        s_pack_packed(&pk, rec->header);
    }
    if (v3)
        s_pack_packed(&pk, rec->person);
}

ru_err
ru_profile_rec_decode(const void *bytes, size_t len, ru_profile_rec_t *rec)
{
    memset(rec, 0, sizeof *rec);
    ru_mp_t mp;
    ru_mp_init(&mp, bytes, len);
    uint32_t n;
    ru_err err = ru_mp_array(&mp, &n);
    if (!err && n != S_PROFILE_FIELDS && n != S_PROFILE_FIELDS_V2 && n != S_PROFILE_FIELDS_V3)
        err = RU_E_TYPE;
    int v2 = n >= S_PROFILE_FIELDS_V2;
    if (!err)
        err = s_read_str(&mp, &rec->display_name);
    if (!err)
        err = s_read_str(&mp, &rec->note);
    if (!err)
        err = ru_mp_uint(&mp, &rec->hlc);
    if (!err && v2)
        err = s_read_packed(&mp, &rec->avatar);
    if (!err && v2)
        err = s_read_packed(&mp, &rec->header);
    if (!err && n == S_PROFILE_FIELDS_V3)
        err = s_read_packed(&mp, &rec->person);

    return s_damaged(err, &mp);
}

void
ru_counts_rec_encode(const ru_counts_rec_t *rec, uint8_t *out)
{
    const uint64_t v[4] = {rec->statuses, rec->following, rec->followers, rec->since};
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 8; b++)
            out[8 * i + b] = (uint8_t) (v[i] >> (56 - 8 * b));
}

void
ru_counts_rec_decode(const void *bytes, size_t len, ru_counts_rec_t *rec)
{
    uint64_t v[4] = {0, 0, 0, 0};
    const uint8_t *p = bytes;
    int n = len == RU_COUNTS_REC_BYTES ? 4 : len == RU_COUNTS_REC_BYTES_OLD ? 3 : 0;
    for (int i = 0; i < n; i++)
        for (int b = 0; b < 8; b++)
            v[i] = (v[i] << 8) | p[8 * i + b];
    *rec = (ru_counts_rec_t){v[0], v[1], v[2], v[3]};
}

ru_err
ru_post_rec_get(ru_txn_t *txn, const ru_ref_t *ref, ru_post_rec_t *rec)
{
    uint8_t key[RU_DBKEY_REF];
    MDB_val val;
    ru_err err = ru_txn_get(txn, RU_DB_posts, key, ru_dbkey_ref(key, ref->origin, ref->seq), &val);
    return err ? err : ru_post_rec_decode(val.mv_data, val.mv_size, rec);
}
