/*  ru_msg.c - encoding and decoding of the replication messages.
 *
 *  Each message type has a row in s_types: its name and how many fields
 *  follow the version and type. The decoder reads the common head, picks
 *  the row, then one reader per type fills ru_msg_t. Sizes are checked
 *  before anything is allocated: the whole message against RU_MAX_MESSAGE,
 *  clocks against RU_MAX_CLOCK, batches against RU_MAX_BATCH.
 */
#include "ruche/ru_msg.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "ruche/ru_mp.h"

typedef ru_err (*s_reader)(ru_mp_t *mp, ru_msg_t *msg);

static ru_err s_read_update(ru_mp_t *mp, ru_msg_t *msg);
static ru_err s_read_hello(ru_mp_t *mp, ru_msg_t *msg);
static ru_err s_read_batch(ru_mp_t *mp, ru_msg_t *msg);
static ru_err s_read_credit(ru_mp_t *mp, ru_msg_t *msg);
static ru_err s_read_done(ru_mp_t *mp, ru_msg_t *msg);
static ru_err s_read_heartbeat(ru_mp_t *mp, ru_msg_t *msg);
static ru_err s_read_want(ru_mp_t *mp, ru_msg_t *msg);
static ru_err s_read_chunk(ru_mp_t *mp, ru_msg_t *msg);
static ru_err s_read_lack(ru_mp_t *mp, ru_msg_t *msg);

static const struct {
    const char *name;
    uint32_t fields; /* after version and type */
    s_reader read;
} s_types[RU_MSG_MAX + 1] = {
    [RU_MSG_UPDATE] = {"update", 1, s_read_update},
    [RU_MSG_HELLO] = {"hello", 2, s_read_hello},
    [RU_MSG_BATCH] = {"batch", 1, s_read_batch},
    [RU_MSG_DONE] = {"done", 1, s_read_done},
    [RU_MSG_HEARTBEAT] = {"heartbeat", 3, s_read_heartbeat},
    [RU_MSG_CREDIT] = {"credit", 1, s_read_credit},
    [RU_MSG_WANT] = {"want", 3, s_read_want},
    [RU_MSG_CHUNK] = {"chunk", 4, s_read_chunk},
    [RU_MSG_LACK] = {"lack", 1, s_read_lack},
};

const char *
ru_msg_type_name(ru_msg_type type)
{
    return type >= 1 && type <= RU_MSG_MAX ? s_types[type].name : NULL;
}

void
ru_msg_init(ru_msg_t *self)
{
    memset(self, 0, sizeof *self);
    ru_clock_init(&self->clock);
}

void
ru_msg_fini(ru_msg_t *self)
{
    ru_clock_fini(&self->clock);
    free(self->updates);
    ru_msg_init(self);
}

/*  ---------------------------------------------------------------------
 *  Encoding
 */

static void
s_head(msgpack_packer *pk, ru_msg_type type)
{
    msgpack_pack_array(pk, 2 + s_types[type].fields);
    msgpack_pack_uint8(pk, RU_PROTO_VERSION);
    msgpack_pack_uint8(pk, (uint8_t) type);
}

static ru_err
s_check_credit(uint32_t credit)
{
    return credit >= 1 && credit <= RU_MAX_CREDIT ? RU_OK : RU_E_RANGE;
}

ru_err
ru_msg_encode_update(ru_bytes_t envelope, ru_buf_t *out)
{
    msgpack_packer pk;
    ru_mp_packer_init(&pk, out);
    s_head(&pk, RU_MSG_UPDATE);
    ru_buf_append(out, envelope.ptr, envelope.len);
    return ru_buf_status(out);
}

ru_err
ru_msg_encode_hello(const ru_clock_t *clock, uint32_t credit, ru_buf_t *out)
{
    if (s_check_credit(credit))
        return RU_E_RANGE;
    msgpack_packer pk;
    ru_mp_packer_init(&pk, out);
    s_head(&pk, RU_MSG_HELLO);
    ru_clock_write(clock, &pk);
    msgpack_pack_uint32(&pk, credit);
    return ru_buf_status(out);
}

ru_err
ru_msg_encode_batch(const ru_bytes_t *envelopes, uint32_t n, ru_buf_t *out)
{
    if (n == 0)
        return RU_E_RANGE;
    if (n > RU_MAX_BATCH)
        return RU_E_TOO_MANY;
    size_t total = 0;
    for (uint32_t i = 0; i < n; i++)
        total += envelopes[i].len;
    if (total > RU_MAX_BATCH_BYTES)
        return RU_E_TOO_BIG;
    msgpack_packer pk;
    ru_mp_packer_init(&pk, out);
    s_head(&pk, RU_MSG_BATCH);
    msgpack_pack_array(&pk, n);
    for (uint32_t i = 0; i < n; i++)
        ru_buf_append(out, envelopes[i].ptr, envelopes[i].len);
    return ru_buf_status(out);
}

ru_err
ru_msg_encode_credit(uint32_t credit, ru_buf_t *out)
{
    if (s_check_credit(credit))
        return RU_E_RANGE;
    msgpack_packer pk;
    ru_mp_packer_init(&pk, out);
    s_head(&pk, RU_MSG_CREDIT);
    msgpack_pack_uint32(&pk, credit);
    return ru_buf_status(out);
}

ru_err
ru_msg_encode_done(const ru_clock_t *clock, ru_buf_t *out)
{
    msgpack_packer pk;
    ru_mp_packer_init(&pk, out);
    s_head(&pk, RU_MSG_DONE);
    ru_clock_write(clock, &pk);
    return ru_buf_status(out);
}

ru_err
ru_msg_encode_heartbeat(const ru_clock_t *clock, uint64_t hlc, const uint8_t *digest,
                        ru_buf_t *out)
{
    msgpack_packer pk;
    ru_mp_packer_init(&pk, out);
    s_head(&pk, RU_MSG_HEARTBEAT);
    ru_clock_write(clock, &pk);
    msgpack_pack_uint64(&pk, hlc);
    msgpack_pack_bin(&pk, RU_HASH_BYTES);
    msgpack_pack_bin_body(&pk, digest, RU_HASH_BYTES);
    return ru_buf_status(out);
}

static void
s_pack_hash(msgpack_packer *pk, const uint8_t *hash)
{
    msgpack_pack_bin(pk, RU_HASH_BYTES);
    msgpack_pack_bin_body(pk, hash, RU_HASH_BYTES);
}

/*  The rules of a chunk's numbers, shared by encoder and decoder. */
static ru_err
s_check_chunk(uint64_t size, uint64_t offset, size_t len)
{
    if (size < 1 || size > RU_MAX_BLOB_SIZE || len < 1 || len > RU_BLOB_CHUNK || offset >= size ||
        len > size - offset)
        return RU_E_RANGE;
    return RU_OK;
}

ru_err
ru_msg_encode_want(const uint8_t *hash, uint64_t offset, uint32_t credit, ru_buf_t *out)
{
    if (credit < 1 || credit > RU_MAX_WANT || offset >= RU_MAX_BLOB_SIZE)
        return RU_E_RANGE;
    msgpack_packer pk;
    ru_mp_packer_init(&pk, out);
    s_head(&pk, RU_MSG_WANT);
    s_pack_hash(&pk, hash);
    msgpack_pack_uint64(&pk, offset);
    msgpack_pack_uint32(&pk, credit);
    return ru_buf_status(out);
}

ru_err
ru_msg_encode_chunk(const uint8_t *hash, uint64_t size, uint64_t offset, const uint8_t *data,
                    size_t len, ru_buf_t *out)
{
    if (s_check_chunk(size, offset, len))
        return RU_E_RANGE;
    msgpack_packer pk;
    ru_mp_packer_init(&pk, out);
    s_head(&pk, RU_MSG_CHUNK);
    s_pack_hash(&pk, hash);
    msgpack_pack_uint64(&pk, size);
    msgpack_pack_uint64(&pk, offset);
    msgpack_pack_bin(&pk, (uint32_t) len);
    msgpack_pack_bin_body(&pk, data, len);
    return ru_buf_status(out);
}

ru_err
ru_msg_encode_lack(const uint8_t *hash, ru_buf_t *out)
{
    msgpack_packer pk;
    ru_mp_packer_init(&pk, out);
    s_head(&pk, RU_MSG_LACK);
    s_pack_hash(&pk, hash);
    return ru_buf_status(out);
}

void
ru_msg_digest(const uint8_t *heads, size_t n, uint8_t *digest)
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, RU_HASH_BYTES);
    crypto_generichash_update(&h, (const uint8_t *) RU_MSG_DIGEST_DOMAIN,
                              strlen(RU_MSG_DIGEST_DOMAIN));
    crypto_generichash_update(&h, heads, n * RU_MSG_HEAD_BYTES);
    crypto_generichash_final(&h, digest, RU_HASH_BYTES);
}

/*  ---------------------------------------------------------------------
 *  Decoding
 */

/*  Reads n envelopes into a new array of msg. */
static ru_err
s_read_envelopes(ru_mp_t *mp, ru_msg_t *msg, uint32_t n)
{
    msg->updates = calloc(n, sizeof *msg->updates);
    if (!msg->updates)
        return RU_E_NOMEM;
    for (uint32_t i = 0; i < n; i++) {
        ru_err err = ru_envelope_read(mp, &msg->updates[i]);
        if (err)
            return err;
        msg->n_updates = i + 1;
    }
    return RU_OK;
}

static ru_err
s_read_update(ru_mp_t *mp, ru_msg_t *msg)
{
    return s_read_envelopes(mp, msg, 1);
}

static ru_err
s_read_batch(ru_mp_t *mp, ru_msg_t *msg)
{
    uint32_t n;
    ru_err err = ru_mp_array(mp, &n);
    if (err)
        return err;
    if (n == 0)
        return RU_E_RANGE;
    if (n > RU_MAX_BATCH)
        return RU_E_TOO_MANY;
    const uint8_t *start = mp->p;
    err = s_read_envelopes(mp, msg, n);
    if (!err && (size_t) (mp->p - start) > RU_MAX_BATCH_BYTES)
        err = RU_E_TOO_BIG; /* the same limit as the encoder's */
    return err;
}

static ru_err
s_read_credit_field(ru_mp_t *mp, ru_msg_t *msg)
{
    uint64_t credit;
    ru_err err = ru_mp_uint(mp, &credit);
    if (err)
        return err;
    if (credit < 1 || credit > RU_MAX_CREDIT)
        return RU_E_RANGE;
    msg->credit = (uint32_t) credit;
    return RU_OK;
}

static ru_err
s_read_hello(ru_mp_t *mp, ru_msg_t *msg)
{
    ru_err err = ru_clock_read(&msg->clock, mp);
    return err ? err : s_read_credit_field(mp, msg);
}

static ru_err
s_read_credit(ru_mp_t *mp, ru_msg_t *msg)
{
    return s_read_credit_field(mp, msg);
}

static ru_err
s_read_done(ru_mp_t *mp, ru_msg_t *msg)
{
    return ru_clock_read(&msg->clock, mp);
}

static ru_err
s_read_heartbeat(ru_mp_t *mp, ru_msg_t *msg)
{
    ru_err err = ru_clock_read(&msg->clock, mp);
    if (!err)
        err = ru_mp_uint(mp, &msg->hlc);
    return err ? err : ru_mp_bin_exact(mp, msg->digest, RU_HASH_BYTES);
}

static ru_err
s_read_want(ru_mp_t *mp, ru_msg_t *msg)
{
    uint64_t credit;
    ru_err err = ru_mp_bin_exact(mp, msg->blob, RU_HASH_BYTES);
    if (!err)
        err = ru_mp_uint(mp, &msg->offset);
    if (!err)
        err = ru_mp_uint(mp, &credit);
    if (!err && (credit < 1 || credit > RU_MAX_WANT || msg->offset >= RU_MAX_BLOB_SIZE))
        err = RU_E_RANGE;
    msg->credit = err ? 0 : (uint32_t) credit;
    return err;
}

static ru_err
s_read_chunk(ru_mp_t *mp, ru_msg_t *msg)
{
    const uint8_t *data;
    uint32_t len = 0;
    ru_err err = ru_mp_bin_exact(mp, msg->blob, RU_HASH_BYTES);
    if (!err)
        err = ru_mp_uint(mp, &msg->blob_size);
    if (!err)
        err = ru_mp_uint(mp, &msg->offset);
    if (!err)
        err = ru_mp_bin(mp, &data, &len, RU_BLOB_CHUNK);
    if (!err)
        err = s_check_chunk(msg->blob_size, msg->offset, len);
    if (!err)
        msg->data = (ru_bytes_t){data, len};
    return err;
}

static ru_err
s_read_lack(ru_mp_t *mp, ru_msg_t *msg)
{
    return ru_mp_bin_exact(mp, msg->blob, RU_HASH_BYTES);
}

ru_err
ru_msg_decode(const uint8_t *bytes, size_t len, ru_msg_t *msg)
{
    ru_msg_fini(msg);
    if (len > RU_MAX_MESSAGE)
        return RU_E_TOO_BIG;
    ru_mp_t mp;
    ru_mp_init(&mp, bytes, len);
    uint32_t n;
    uint64_t version, type;
    ru_err err = ru_mp_array(&mp, &n);
    if (!err && n < 2)
        err = RU_E_TYPE;
    if (!err)
        err = ru_mp_uint(&mp, &version);
    if (!err && version != RU_PROTO_VERSION)
        err = RU_E_VERSION;
    if (!err)
        err = ru_mp_uint(&mp, &type);
    if (!err && (type < 1 || type > RU_MSG_MAX))
        err = RU_E_MSGTYPE;
    if (!err && n != 2 + s_types[type].fields)
        err = RU_E_TYPE;
    if (!err) {
        msg->type = (ru_msg_type) type;
        err = s_types[type].read(&mp, msg);
    }
    if (!err)
        err = ru_mp_end(&mp);
    if (err)
        ru_msg_fini(msg);
    return err;
}
