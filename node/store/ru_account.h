/*  ru_account.h - this node's user accounts and their sessions.
 *
 *  Accounts are local (the users database, never replicated): a user lives
 *  on one home node, which signs everything they do. An account is made
 *  here with a password, or comes from the company directory or identity
 *  provider (ru_account_source), which checks the person's password: such
 *  an account keeps that source's stable id of the person and no password
 *  here. A password is kept as an argon2id hash (libsodium's crypto_pwhash_str, interactive limits); a
 *  session is a random 256-bit token given to the client once, of which the
 *  node keeps only the BLAKE2b hash, so a copy of the store holds no usable
 *  token.
 *
 *  Hashing a password takes tens of milliseconds and 64 MiB: it is done by
 *  the calling thread (ru_account_hash), never inside the store actor. The
 *  functions taking a txn are store actor requests (write) or lookups (any
 *  transaction).
 */
#ifndef RU_ACCOUNT_H
#define RU_ACCOUNT_H

#include <sodium.h>
#include <stdint.h>

#include "ruche/ru_error.h"
#include "ruche/ru_limits.h"

#include "ru_store.h"

#define RU_TOKEN_TEXT_SIZE 44 /* 43 characters of base64url and a NUL */
#define RU_PWHASH_SIZE crypto_pwhash_STRBYTES

#define RU_ACCOUNT_DIR_ID_MAX 129 /* a directory's stable id of a person, its NUL included */

/*  Where an account comes from: made here (by an administrator, or the
 *  first admin), with a local password; or made at the first sign-in of
 *  a person that the company directory (LDAP) or identity provider
 *  (OpenID Connect) vouched for, with no local password. */
typedef enum { RU_ACCOUNT_LOCAL = 0, RU_ACCOUNT_LDAP = 1, RU_ACCOUNT_OIDC = 2 } ru_account_source;

typedef struct {
    char name[RU_MAX_NAME + 1];
    int admin;
    uint64_t created_ms;
    int disabled; /* may not sign in; has no session */
    ru_account_source source;
    char dir_id[RU_ACCOUNT_DIR_ID_MAX]; /* the directory's stable id; "" for a local account */
} ru_account_t;

/*  The argon2id hash string of a password. RU_E_NOMEM if the memory it
 *  needs cannot be had. */
RU_MUST_CHECK ru_err ru_account_hash(const char *password, char *hash);
/*  A new random password for people to type: 20 characters of base64url. */
void ru_account_random_password(char *out, size_t size);

/*  Creates an account (RU_E_EXISTS if the name is taken, RU_E_NAME if not a
 *  valid name) with a hash from ru_account_hash. */
RU_MUST_CHECK ru_err ru_account_create(ru_txn_t *txn, const char *name, const char *hash, int admin,
                                       uint64_t now_ms);
/*  Creates the account of a directory's person: acct's name, admin flag,
 *  source (not local), dir_id and created_ms, no local password, enabled.
 *  RU_E_EXISTS if the name is taken, RU_E_NAME if not a valid name. */
RU_MUST_CHECK ru_err ru_account_create_directory(ru_txn_t *txn, const ru_account_t *acct);
/*  Loads an account; RU_E_NOT_FOUND if there is none. */
RU_MUST_CHECK ru_err ru_account_get(ru_txn_t *txn, const char *name, ru_account_t *acct);
/*  Changes an account: its password hash (NULL: kept), admin and
 *  disabled flags (-1: kept). RU_E_NOT_FOUND if there is none. */
RU_MUST_CHECK ru_err ru_account_update(ru_txn_t *txn, const char *name, const char *hash, int admin,
                                       int disabled);
/*  Copies the stored password hash of name into hash (RU_PWHASH_SIZE); ""
 *  for an account with no local password. */
RU_MUST_CHECK ru_err ru_account_get_hash(ru_txn_t *txn, const char *name, char *hash);
/*  Checks a password against a hash, in constant time; RU_OK or RU_E_INVALID. */
RU_MUST_CHECK ru_err ru_account_verify(const char *hash, const char *password);
/*  The number of accounts, in constant time. */
RU_MUST_CHECK ru_err ru_account_count(ru_txn_t *txn, uint64_t *n);

/*  Makes a fresh token (text form) for a new session of name, and stores
 *  its hash. The caller makes the token before the request, so that a
 *  retried batch stores the same one. */
void ru_account_new_token(char *token);
RU_MUST_CHECK ru_err ru_account_session_put(ru_txn_t *txn, const char *token, const char *name,
                                            uint64_t now_ms);
/*  The account whose session token is token; RU_E_NOT_FOUND if none or
 *  when the account is disabled. */
RU_MUST_CHECK ru_err ru_account_session_get(ru_txn_t *txn, const char *token, ru_account_t *acct);
/*  Ends every session of name (a disabled user is signed out at once). */
RU_MUST_CHECK ru_err ru_account_end_sessions(ru_txn_t *txn, const char *name);
/*  Ends a session; ending an unknown one is not an error. */
RU_MUST_CHECK ru_err ru_account_session_del(ru_txn_t *txn, const char *token);

#endif
