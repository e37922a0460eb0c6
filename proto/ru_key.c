/*  ru_key.c - Ed25519 keys in sodium_malloc memory, and domain-separated
 *  signing.
 *
 *  The signed message is prefix || msg. libsodium's multi-part API would
 *  avoid building it, but that is Ed25519ph, another algorithm than the
 *  one PROTOCOL.md names; so the concatenation is built in a heap buffer.
 *  Messages are at most RU_MAX_PAYLOAD bytes and the copy costs far less
 *  than the curve arithmetic.
 */
#include "ruche/ru_key.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

struct ru_key {
    uint8_t pub[crypto_sign_PUBLICKEYBYTES];
    uint8_t seed[crypto_sign_SEEDBYTES];
    uint8_t secret[crypto_sign_SECRETKEYBYTES];
};

/*  sodium_init() is idempotent and thread-safe; every entry point that
 *  needs libsodium calls it. */
static ru_err
s_sodium(void)
{
    return sodium_init() < 0 ? RU_E_NOMEM : RU_OK;
}

ru_err
ru_key_from_seed(const uint8_t *seed, ru_key_t **out)
{
    *out = NULL;
    if (s_sodium())
        return RU_E_NOMEM;
    ru_key_t *self = sodium_malloc(sizeof *self);
    if (!self)
        return RU_E_NOMEM;
    memcpy(self->seed, seed, sizeof self->seed);
    crypto_sign_seed_keypair(self->pub, self->secret, self->seed);
    sodium_mprotect_readonly(self);
    *out = self;
    return RU_OK;
}

ru_err
ru_key_generate(ru_key_t **out)
{
    *out = NULL;
    if (s_sodium())
        return RU_E_NOMEM;
    uint8_t *seed = sodium_malloc(crypto_sign_SEEDBYTES);
    if (!seed)
        return RU_E_NOMEM;
    randombytes_buf(seed, crypto_sign_SEEDBYTES);
    ru_err err = ru_key_from_seed(seed, out);
    sodium_free(seed);
    return err;
}

void
ru_key_destroy(ru_key_t **self_p)
{
    if (*self_p) {
        sodium_free(*self_p); /* wipes before freeing */
        *self_p = NULL;
    }
}

const uint8_t *
ru_key_public(const ru_key_t *self)
{
    return self->pub;
}

const uint8_t *
ru_key_seed(const ru_key_t *self)
{
    return self->seed;
}

/*  prefix || msg in a new heap buffer (caller frees), or NULL. */
static uint8_t *
s_concat(const char *prefix, const uint8_t *msg, size_t len, size_t *total)
{
    size_t plen = strlen(prefix);
    uint8_t *m = malloc(plen + len + 1);
    if (!m)
        return NULL;
    memcpy(m, prefix, plen); /* NOLINT(bugprone-not-null-terminated-result): bytes */
    if (len)
        memcpy(m + plen, msg, len);
    *total = plen + len;
    return m;
}

ru_err
ru_key_sign(const ru_key_t *self, const char *prefix, const uint8_t *msg, size_t len, uint8_t *sig)
{
    size_t total;
    uint8_t *m = s_concat(prefix, msg, len, &total);
    if (!m)
        return RU_E_NOMEM;
    crypto_sign_detached(sig, NULL, m, total, self->secret);
    free(m);
    return RU_OK;
}

ru_err
ru_key_verify(const uint8_t *pub, const char *prefix, const uint8_t *msg, size_t len,
              const uint8_t *sig)
{
    if (s_sodium())
        return RU_E_NOMEM;
    size_t total;
    uint8_t *m = s_concat(prefix, msg, len, &total);
    if (!m)
        return RU_E_NOMEM;
    int bad = crypto_sign_verify_detached(sig, m, total, pub);
    free(m);
    return bad ? RU_E_SIGNATURE : RU_OK;
}

ru_err
ru_key_curve(const ru_key_t *self, uint8_t *public_key, uint8_t *secret)
{
    if (crypto_sign_ed25519_sk_to_curve25519(secret, self->secret) != 0)
        return RU_E_INVALID;
    return ru_key_curve_public(self->pub, public_key);
}

ru_err
ru_key_curve_public(const uint8_t *pub, uint8_t *curve)
{
    if (s_sodium())
        return RU_E_NOMEM;
    return crypto_sign_ed25519_pk_to_curve25519(curve, pub) == 0 ? RU_OK : RU_E_INVALID;
}
