/*  ru_key.h - a node's Ed25519 key pair, and signature checks.
 *
 *  The node id is the 32-byte public key. The secret part (seed and
 *  expanded secret key) lives in sodium_malloc memory: guarded pages, kept
 *  out of swap and core dumps, wiped when freed. It is read-only except
 *  while being created. Nothing here logs or prints a secret.
 *
 *  A key is immutable once made and may be used from several threads.
 */
#ifndef RU_KEY_H
#define RU_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "ruche/ru_error.h"
#include "ruche/ru_limits.h"

#define RU_SEED_BYTES 32

typedef struct ru_key ru_key_t;

/*  Makes a fresh random key. *out is owned by the caller. */
RU_MUST_CHECK ru_err ru_key_generate(ru_key_t **out);
/*  Makes the key of a 32-byte seed (as stored in the key file). */
RU_MUST_CHECK ru_err ru_key_from_seed(const uint8_t *seed, ru_key_t **out);
/*  Wipes and frees the key; NULL-safe; sets *self_p to NULL. */
void ru_key_destroy(ru_key_t **self_p);

/*  The 32-byte public key, valid as long as the key. */
const uint8_t *ru_key_public(const ru_key_t *self);
/*  The 32-byte seed, to be written to the key file and nowhere else. */
const uint8_t *ru_key_seed(const ru_key_t *self);

/*  The X25519 (CURVE) key pair of this key, for ZeroMQ's CURVE security:
 *  a site has one secret, its Ed25519 key, and its CURVE keys follow from
 *  it. The caller wipes secret (32 bytes) after use. */
RU_MUST_CHECK ru_err ru_key_curve(const ru_key_t *self, uint8_t *public_key, uint8_t *secret);
/*  The CURVE public key of an Ed25519 public key; RU_E_INVALID for a key
 *  that is not a valid curve point. */
RU_MUST_CHECK ru_err ru_key_curve_public(const uint8_t *pub, uint8_t *curve);

/*  Ed25519 signature of prefix || msg into sig (RU_SIG_BYTES). The prefix
 *  separates the protocol's kinds of signed data (domain separation). */
RU_MUST_CHECK ru_err ru_key_sign(const ru_key_t *self, const char *prefix, const uint8_t *msg,
                                 size_t len, uint8_t *sig);
/*  RU_OK if sig is pub's signature of prefix || msg, else RU_E_SIGNATURE. */
RU_MUST_CHECK ru_err ru_key_verify(const uint8_t *pub, const char *prefix, const uint8_t *msg,
                                   size_t len, const uint8_t *sig);

#endif
