/*  ru_oauth.h - OAuth 2 for client apps: registered applications, the
 *  authorization codes of the login page, the tokens issued to apps, and
 *  scopes.
 *
 *  Everything here is local to the node (databases apps, oauth_codes and
 *  app_tokens: never replicated, like accounts and sessions). Records are
 *  small JSON objects: a handful per user, read once per request.
 *
 *    apps:       client_id -> {"id", "name", "website", "redirect_uris": [],
 *                "scopes", "secret": hex BLAKE2b-256 of the client secret,
 *                "created_ms"}
 *    oauth_codes: BLAKE2b-256(code) -> {"client_id", "redirect_uri",
 *                "scope", "user", "expires_ms"}
 *    app_tokens: BLAKE2b-256(token) -> {"client_id", "scope", "user"
 *                (absent for a client_credentials token), "created_ms"}
 *
 *  Client secrets, codes and tokens are random 256-bit values: a fast hash
 *  is enough to keep a copy of the store from holding usable ones. A token
 *  issued to an app for a user is also a session of ru_account (so the
 *  HTTP layer signs its requests in); a token of the app alone is not, so
 *  it signs in nobody. A session with no app_tokens record (the CLI's
 *  password grant, the web front end's cookie) has every scope.
 *
 *  Scopes: a space-separated list of read, write, follow, push, profile,
 *  admin:read, admin:write and their "read:x" / "write:x" / "admin:read:x"
 *  / "admin:write:x" refinements. ruche enforces them at the level of reading and
 *  writing: a request that only reads (GET, HEAD, OPTIONS) needs read or any
 *  read:x; any other request needs write or any write:x (follow counts as
 *  write:follows, so it may write). The administrators' endpoints need
 *  admin:read to read and admin:write to change something (or to take a
 *  backup), as Mastodon's do: read and write do not reach them, nor does
 *  a refinement (admin:read:accounts), which names no ruche endpoint.
 *
 *  The functions taking a write transaction run in the store actor.
 */
#ifndef RU_OAUTH_H
#define RU_OAUTH_H

#include <jansson.h>
#include <stdint.h>

#include "ruche/ru_error.h"

#include "ru_store.h"

#define RU_OAUTH_OOB "urn:ietf:wg:oauth:2.0:oob"
#define RU_OAUTH_CODE_TTL_MS (10 * 60 * 1000)
/*  The scope of a session that no app holds; an administrator's has the
 *  admin scopes too. */
#define RU_OAUTH_ALL_SCOPES "read write follow push"
#define RU_OAUTH_ADMIN_SCOPES "admin:read admin:write"
/*  Hex text of a secret's hash, with its NUL. */
#define RU_OAUTH_HASH_TEXT 65

/*  Stores app (a record as above; its reference stays the caller's). */
RU_MUST_CHECK ru_err ru_oauth_app_put(ru_txn_t *txn, const char *client_id, const json_t *app);
/*  The app of client_id in *app (a new reference); RU_E_NOT_FOUND. */
RU_MUST_CHECK ru_err ru_oauth_app_get(ru_txn_t *txn, const char *client_id, json_t **app);
/*  The hex hash of a client secret, as kept in the app's "secret". */
void ru_oauth_secret_hash(const char *secret, char out[RU_OAUTH_HASH_TEXT]);
/*  Does secret match the app's, in constant time? */
int ru_oauth_secret_ok(const json_t *app, const char *secret);
/*  Is uri one of the app's redirect URIs (exactly)? */
int ru_oauth_redirect_ok(const json_t *app, const char *uri);

/*  Stores a new code for grant ({"client_id", "redirect_uri", "scope",
 *  "user"}); it expires RU_OAUTH_CODE_TTL_MS after now_ms. Expired codes
 *  are swept out on the way. */
RU_MUST_CHECK ru_err ru_oauth_code_put(ru_txn_t *txn, const char *code, json_t *grant,
                                       uint64_t now_ms);
/*  Takes a code: it is deleted whatever follows (one use only) and its
 *  grant returned in *grant (a new reference). RU_E_NOT_FOUND when it is
 *  unknown or expired. */
RU_MUST_CHECK ru_err ru_oauth_code_take(ru_txn_t *txn, const char *code, uint64_t now_ms,
                                        json_t **grant);

/*  Stores a token issued to client_id with scope, for user (also made a
 *  session) or, with user NULL, for the app alone. */
RU_MUST_CHECK ru_err ru_oauth_token_put(ru_txn_t *txn, const char *token, const char *client_id,
                                        const char *scope, const char *user, uint64_t now_ms);
/*  The record of a token issued to an app in *rec (a new reference);
 *  RU_E_NOT_FOUND for a token no app holds. */
RU_MUST_CHECK ru_err ru_oauth_token_get(ru_txn_t *txn, const char *token, json_t **rec);
/*  Ends a token: its app record and its session. Unknown: not an error. */
RU_MUST_CHECK ru_err ru_oauth_token_del(ru_txn_t *txn, const char *token);

/*  Is scope a non-empty list of known scopes? */
int ru_oauth_scope_valid(const char *scope);
/*  Is every scope of want in have (a "read" in have covers "read:x")? */
int ru_oauth_scope_subset(const char *want, const char *have);
/*  Does scope allow a request that writes (write != 0) or only reads? */
int ru_oauth_scope_allows(const char *scope, int write);

#endif
