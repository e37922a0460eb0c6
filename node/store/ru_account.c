/*  ru_account.c - accounts and sessions in the users and sessions
 *  databases.
 *
 *  users:    name -> [hash str, admin uint, created_ms uint, disabled uint,
 *                    source uint, dir_id str]
 *            (records written before accounts could be disabled have no
 *            fourth field: they read as enabled; before directories, no
 *            fifth and sixth: local accounts. A directory's account has
 *            the hash "": no password verifies against it)
 *  sessions: BLAKE2b-256(token text) -> [name str, created_ms uint]
 */
#include "ru_account.h"

#include <stdio.h>
#include <string.h>

#include "ruche/ru_mp.h"
#include "ruche/ru_text.h"

#define S_TOKEN_BYTES 32

ru_err
ru_account_hash(const char *password, char *hash)
{
    if (crypto_pwhash_str(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return RU_E_NOMEM;
    return RU_OK;
}

ru_err
ru_account_verify(const char *hash, const char *password)
{
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0 ? RU_OK : RU_E_INVALID;
}

void
ru_account_random_password(char *out, size_t size)
{
    uint8_t bytes[15]; /* 20 characters */
    char text[RU_B64_SIZE(sizeof bytes)];
    randombytes_buf(bytes, sizeof bytes);
    ru_b64_encode(text, bytes, sizeof bytes);
    snprintf(out, size, "%s", text);
}

/*  The account record's fields, in order. */
static void
s_pack_account(ru_buf_t *buf, const char *hash, const ru_account_t *acct)
{
    msgpack_packer pk;
    ru_mp_packer_init(&pk, buf);
    msgpack_pack_array(&pk, 6);
    msgpack_pack_str(&pk, strlen(hash));
    msgpack_pack_str_body(&pk, hash, strlen(hash));
    msgpack_pack_uint8(&pk, acct->admin ? 1 : 0);
    msgpack_pack_uint64(&pk, acct->created_ms);
    msgpack_pack_uint8(&pk, acct->disabled ? 1 : 0);
    msgpack_pack_uint8(&pk, (uint8_t) acct->source);
    msgpack_pack_str(&pk, strlen(acct->dir_id));
    msgpack_pack_str_body(&pk, acct->dir_id, strlen(acct->dir_id));
}

/*  Writes the record of acct (its name) with hash. */
static ru_err
s_put_account(ru_txn_t *txn, const char *hash, const ru_account_t *acct)
{
    ru_buf_t buf;
    ru_buf_init(&buf);
    s_pack_account(&buf, hash, acct);
    ru_err err = ru_buf_status(&buf);
    if (!err)
        err = ru_txn_put(txn, RU_DB_users, acct->name, strlen(acct->name), buf.data, buf.len);
    ru_buf_fini(&buf);
    return err;
}

/*  Writes the new account acct with hash, unless its name is taken. */
static ru_err
s_create(ru_txn_t *txn, const char *hash, const ru_account_t *acct)
{
    MDB_val val;
    if (ru_name_check(acct->name, strlen(acct->name)) != RU_OK)
        return RU_E_NAME;
    ru_err err = ru_txn_get(txn, RU_DB_users, acct->name, strlen(acct->name), &val);
    if (err != RU_E_NOT_FOUND)
        return err ? err : RU_E_EXISTS;
    return s_put_account(txn, hash, acct);
}

ru_err
ru_account_create(ru_txn_t *txn, const char *name, const char *hash, int admin, uint64_t now_ms)
{
    ru_account_t acct = {.admin = admin, .created_ms = now_ms};
    if (strlen(name) > RU_MAX_NAME)
        return RU_E_NAME;
    snprintf(acct.name, sizeof acct.name, "%s", name);
    return s_create(txn, hash, &acct);
}

ru_err
ru_account_create_directory(ru_txn_t *txn, const ru_account_t *acct)
{
    ru_account_t a = *acct;
    a.disabled = 0;
    return a.source == RU_ACCOUNT_LOCAL ? RU_E_INVALID : s_create(txn, "", &a);
}

/*  Reads an account record; the hash goes to hash when not NULL. */
static ru_err
s_read_account(ru_txn_t *txn, const char *name, size_t name_len, ru_account_t *acct, char *hash)
{
    MDB_val val;
    if (name_len > RU_MAX_NAME)
        return RU_E_NOT_FOUND;
    ru_err err = ru_txn_get(txn, RU_DB_users, name, name_len, &val);
    if (err)
        return err;
    ru_mp_t mp;
    ru_mp_init(&mp, val.mv_data, val.mv_size);
    const char *h, *id = "";
    uint32_t hlen, idlen = 0;
    uint32_t n;
    uint64_t admin, created, disabled = 0, source = RU_ACCOUNT_LOCAL;
    if (ru_mp_array(&mp, &n) || n < 3 || n > 6 || n == 5 ||
        ru_mp_str(&mp, &h, &hlen, RU_PWHASH_SIZE - 1) || ru_mp_uint(&mp, &admin) ||
        ru_mp_uint(&mp, &created) || (n >= 4 && ru_mp_uint(&mp, &disabled)) ||
        (n == 6 && (ru_mp_uint(&mp, &source) || source > RU_ACCOUNT_OIDC ||
                    ru_mp_str(&mp, &id, &idlen, RU_ACCOUNT_DIR_ID_MAX - 1))) ||
        ru_mp_end(&mp))
        return RU_E_STORE;
    if (hash) {
        memcpy(hash, h, hlen);
        hash[hlen] = '\0';
    }
    if (acct) {
        memcpy(acct->name, name, name_len);
        acct->name[name_len] = '\0';
        acct->admin = admin != 0;
        acct->created_ms = created;
        acct->disabled = disabled != 0;
        acct->source = (ru_account_source) source;
        memcpy(acct->dir_id, id, idlen);
        acct->dir_id[idlen] = '\0';
    }
    return RU_OK;
}

ru_err
ru_account_get(ru_txn_t *txn, const char *name, ru_account_t *acct)
{
    return s_read_account(txn, name, strlen(name), acct, NULL);
}

ru_err
ru_account_get_hash(ru_txn_t *txn, const char *name, char *hash)
{
    return s_read_account(txn, name, strlen(name), NULL, hash);
}

ru_err
ru_account_update(ru_txn_t *txn, const char *name, const char *hash, int admin, int disabled)
{
    ru_account_t acct;
    char old[RU_PWHASH_SIZE];
    ru_err err = s_read_account(txn, name, strlen(name), &acct, old);
    if (err)
        return err;
    acct.admin = admin < 0 ? acct.admin : admin;
    acct.disabled = disabled < 0 ? acct.disabled : disabled;
    return s_put_account(txn, hash ? hash : old, &acct);
}

ru_err
ru_account_count(ru_txn_t *txn, uint64_t *n)
{
    return ru_txn_entries(txn, RU_DB_users, n);
}

void
ru_account_new_token(char *token)
{
    uint8_t bytes[S_TOKEN_BYTES];
    randombytes_buf(bytes, sizeof bytes);
    ru_b64_encode(token, bytes, sizeof bytes);
    sodium_memzero(bytes, sizeof bytes);
}

static void
s_token_key(const char *token, uint8_t *key)
{
    crypto_generichash(key, RU_HASH_BYTES, (const uint8_t *) token, strlen(token), NULL, 0);
}

ru_err
ru_account_session_put(ru_txn_t *txn, const char *token, const char *name, uint64_t now_ms)
{
    uint8_t key[RU_HASH_BYTES];
    s_token_key(token, key);
    ru_buf_t buf;
    ru_buf_init(&buf);
    msgpack_packer pk;
    ru_mp_packer_init(&pk, &buf);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_str(&pk, strlen(name));
    msgpack_pack_str_body(&pk, name, strlen(name));
    msgpack_pack_uint64(&pk, now_ms);
    ru_err err = ru_buf_status(&buf);
    if (!err)
        err = ru_txn_put(txn, RU_DB_sessions, key, sizeof key, buf.data, buf.len);
    ru_buf_fini(&buf);
    return err;
}

ru_err
ru_account_session_get(ru_txn_t *txn, const char *token, ru_account_t *acct)
{
    uint8_t key[RU_HASH_BYTES];
    MDB_val val;
    if (strlen(token) != RU_TOKEN_TEXT_SIZE - 1)
        return RU_E_NOT_FOUND;
    s_token_key(token, key);
    ru_err err = ru_txn_get(txn, RU_DB_sessions, key, sizeof key, &val);
    if (err)
        return err;
    ru_mp_t mp;
    ru_mp_init(&mp, val.mv_data, val.mv_size);
    const char *name;
    uint32_t len;
    uint64_t created;
    if (ru_mp_array_of(&mp, 2) || ru_mp_str(&mp, &name, &len, RU_MAX_NAME) ||
        ru_mp_uint(&mp, &created) || ru_mp_end(&mp))
        return RU_E_STORE;
    err = s_read_account(txn, name, len, acct, NULL); /* a deleted user has no session */
    return !err && acct->disabled ? RU_E_NOT_FOUND : err;
}

ru_err
ru_account_session_del(ru_txn_t *txn, const char *token)
{
    uint8_t key[RU_HASH_BYTES];
    s_token_key(token, key);
    return ru_txn_del(txn, RU_DB_sessions, key, sizeof key);
}

typedef struct {
    const char *name;
    ru_buf_t keys; /* the token hashes of name's sessions, end to end */
} s_sessions_of;

static int
s_collect_session(void *ctx, const MDB_val *key, const MDB_val *val)
{
    s_sessions_of *s = ctx;
    ru_mp_t mp;
    const char *name;
    uint32_t len;
    ru_mp_init(&mp, val->mv_data, val->mv_size);
    if (ru_mp_array_of(&mp, 2) || ru_mp_str(&mp, &name, &len, RU_MAX_NAME))
        return 0;
    if (len == strlen(s->name) && memcmp(name, s->name, len) == 0 && key->mv_size == RU_HASH_BYTES)
        ru_buf_append(&s->keys, key->mv_data, RU_HASH_BYTES);
    return 0;
}

ru_err
ru_account_end_sessions(ru_txn_t *txn, const char *name)
{
    s_sessions_of s = {name, {0}};
    ru_buf_init(&s.keys);
    ru_err err = ru_txn_scan(txn, RU_DB_sessions, NULL, 0, 0, s_collect_session, &s);
    if (!err)
        err = ru_buf_status(&s.keys);
    for (size_t at = 0; !err && at < s.keys.len; at += RU_HASH_BYTES)
        err = ru_txn_del(txn, RU_DB_sessions, s.keys.data + at, RU_HASH_BYTES);
    ru_buf_fini(&s.keys);
    return err;
}
