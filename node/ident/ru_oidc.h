/*  ru_oidc.h - sign-in through the company's OpenID provider: the client
 *  side of OpenID Connect's authorization code flow with PKCE.
 *
 *  A sign-in is a flow: ru_oidc_begin() makes its state, nonce and PKCE
 *  verifier (libsodium randomness), keeps them here for [oidc] pending_s
 *  seconds (at most [oidc] pending flows at once) and gives the
 *  provider's authorization URL to send the browser to; the provider sends
 *  the browser back to <redirect base>/auth/oidc/callback with the state
 *  and a code, and ru_oidc_finish() takes the flow of that state (once: a
 *  state is consumed by its first use), exchanges the code and the
 *  verifier at the token endpoint (client_secret_basic), verifies the ID
 *  token and maps its claims to a user (ru_oidc_user_t).
 *
 *  The provider is found by its discovery document
 *  (<issuer>/.well-known/openid-configuration), fetched on first use and
 *  again after [oidc] jwks_cache_s, as is its key set (jwks_uri), which is
 *  also fetched again when a token names a key it does not hold, at most
 *  once in [oidc] jwks_refetch_s. Every fetch is bounded by [oidc]
 *  timeout_ms and max_response_kb; TLS is checked against [oidc] ca_file
 *  (or the system's CAs). An unreachable provider fails the sign-in with
 *  RU_E_IO and a reason, and nothing else: local accounts do not need it.
 *  A provider that does not answer (a timeout, a connection refused, a
 *  TLS failure) also fails every sign-in at once, with the same reason,
 *  for [oidc] retry_s seconds, so that one that hangs ties up one HTTP
 *  worker for timeout_ms now and then rather than every worker all the
 *  time; then the next sign-in tries it again (the others still fail at
 *  once until that one ends), and an answer ends the window.
 *
 *  The ID token (ru_oidc_check_token) is a JWS verified with libcjose by a
 *  key of the provider's set: the key named by kid (or the only key of a
 *  set without kids), of the family its alg needs (RSA for RS and PS, EC
 *  for ES), whose own alg, when it has one, is the token's. "none" and the
 *  HMAC algorithms are refused whatever the key. Then its claims: iss is
 *  the issuer, aud holds client_id (and azp is client_id when aud holds
 *  several), exp is not past and iat and nbf not ahead by more than
 *  [oidc] clock_skew_s, the nonce is the flow's. A nonce that a sign-in
 *  already used is refused for as long as its flow could have lived.
 *
 *  Thread rules: every function may be called from any thread (the HTTP
 *  workers); begin and finish block on the network, never call them on an
 *  event loop. The flows and caches are behind one mutex, never held while
 *  fetching.
 */
#ifndef RU_OIDC_H
#define RU_OIDC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "ruche/ru_error.h"
#include "ruche/ru_limits.h"

#include "ru_config.h"

typedef struct ru_oidc ru_oidc_t;

#define RU_OIDC_RANDOM_SIZE 44  /* 32 random bytes, base64url, and a NUL */
#define RU_OIDC_RETURN_MAX 2048 /* the path a sign-in goes back to */

/*  The claims an ID token gave (ru_oidc_user_t.given). A claim that is
 *  absent, not text, or that would have to be cut to fit the protocol's
 *  limits and so name something else (an e-mail address, an id) is not
 *  given: the profile keeps what it has for it. */
enum {
    RU_OIDC_GAVE_DISPLAY = 1u << 0, /* a display name that is not empty */
    RU_OIDC_GAVE_EMAIL = 1u << 1,
    RU_OIDC_GAVE_DEPARTMENT = 1u << 2,
    RU_OIDC_GAVE_SITE = 1u << 3,
    RU_OIDC_GAVE_ID = 1u << 4 /* a directory id that is not empty */
};

/*  What an ID token says of its user, mapped by the [oidc] claim_* names
 *  and id_claim; each text "" when not given. */
typedef struct {
    char name[RU_MAX_NAME + 1];                  /* the user name here: lower case, valid */
    char display_name[RU_MAX_DISPLAY_BYTES + 1]; /* cut at RU_MAX_DISPLAY_CHARS */
    char email[RU_MAX_EMAIL + 1];
    char department[RU_MAX_WORK_BYTES + 1]; /* cut at RU_MAX_WORK_CHARS */
    char site[RU_MAX_WORK_BYTES + 1];       /* likewise */
    char dir_id[RU_MAX_DIR_ID + 1];         /* the id claim as it is: a string or an integer */
    unsigned given;                         /* RU_OIDC_GAVE_* */
    char subject[RU_OIDC_RANDOM_SIZE];      /* BLAKE2b of issuer and sub, base64url */
    int admin;                              /* in [oidc] admin_group */
} ru_oidc_user_t;

/*  What a token is checked against. */
typedef struct {
    const char *issuer;
    const char *client_id;
    const char *nonce;
    long clock_skew_s;
    int64_t now_s;
} ru_oidc_expect_t;

/*  The claim names and groups of the mapping ([oidc] claim_*, id_claim,
 *  allow_group, admin_group; "" claim: none is read; "" group: everyone
 *  may, nobody is). */
typedef struct {
    const char *username, *display_name, *email, *department, *site, *id, *groups;
    const char *allow_group, *admin_group;
} ru_oidc_names_t;

/*  A client for cfg's [oidc] section (NULL in *out, RU_OK, when its issuer
 *  is empty: OpenID Connect is off). public_url is the node's, used when
 *  [oidc] redirect_base is empty. Reads the client secret file (which
 *  must be readable by the owner alone: else RU_E_KEY_MODE); fetches
 *  nothing yet. Errors are logged. */
RU_MUST_CHECK ru_err ru_oidc_new(const ru_config_t *cfg, const char *public_url, ru_oidc_t **out);
/*  Frees, wiping the secret and the flows. NULL-safe; NULLs *self_p. */
void ru_oidc_destroy(ru_oidc_t **self_p);

/*  The provider's name on the sign-in buttons ([oidc] label). */
const char *ru_oidc_label(const ru_oidc_t *self);

/*  Starts a sign-in that goes back to ret (a path of this site, checked
 *  by the caller) when done. *url (the caller's, free()) is the
 *  provider's authorization URL; state (RU_OIDC_RANDOM_SIZE) the flow's,
 *  for the caller to bind to the browser. RU_E_TOO_MANY when [oidc]
 *  pending flows are under way; RU_E_IO when the provider's discovery
 *  document cannot be had, or at once within retry_s of the provider's
 *  failure to answer (*why says why, a static string). */
RU_MUST_CHECK ru_err ru_oidc_begin(ru_oidc_t *self, const char *ret, char **url, char *state,
                                   const char **why);
/*  Finishes the sign-in of state with the provider's code: takes the flow
 *  (RU_E_NOT_FOUND: unknown, expired or already used), exchanges the code
 *  (RU_E_IO: the provider did not answer or refused), checks the ID token
 *  (RU_E_SIGNATURE, RU_E_INVALID: refused) and maps its claims into *user
 *  (RU_E_NAME: no usable user name; RU_E_UNTRUSTED: not in allow_group).
 *  The flow's ret is copied into ret (RU_OIDC_RETURN_MAX). *why says why
 *  it failed, for the log and the user (a static string). */
RU_MUST_CHECK ru_err ru_oidc_finish(ru_oidc_t *self, const char *state, const char *code,
                                    ru_oidc_user_t *user, char *ret, const char **why);

/*  How many flows are pending now (for the tests and the metrics). */
size_t ru_oidc_pending(ru_oidc_t *self);

/*  ---------------------------------------------------------------------
 *  The pieces, pure: no network, no state (the unit tests call them).
 */

/*  A new PKCE pair (RFC 7636, S256): verifier, 43 characters of
 *  base64url from 32 random bytes, and its challenge, base64url of its
 *  SHA-256; both RU_OIDC_RANDOM_SIZE. */
void ru_oidc_pkce(char *verifier, char *challenge);
/*  32 random bytes, base64url (a state or a nonce). */
void ru_oidc_random(char *out);

/*  Verifies the compact JWS token with a key of the JSON key set jwks and
 *  checks its claims against *expect; *claims (the caller's) holds the
 *  payload. RU_E_NOT_FOUND: no key of the set has the token's kid (fetch
 *  the set again); RU_E_SIGNATURE: malformed, an algorithm refused, or a
 *  signature that does not verify; RU_E_INVALID: a claim is wrong. *why
 *  says which (a static string). */
RU_MUST_CHECK ru_err ru_oidc_check_token(const char *jwks, const ru_oidc_expect_t *expect,
                                         const char *token, json_t **claims, const char **why);
/*  Maps verified claims to a user by names: RU_E_NAME when the user name
 *  claim is missing or makes no valid name (lower-cased, any "@domain"
 *  dropped), RU_E_UNTRUSTED when allow_group is set and the groups claim
 *  (an array of strings, or one string) lacks it. issuer and the sub
 *  claim make user->subject. The display name, department and site are
 *  cut to the protocol's limits; the e-mail address and the directory id
 *  (names->id: a string, or an integer written in decimal, taken as it
 *  is, not tied to the issuer) are taken whole or not at all;
 *  user->given says which were given. */
RU_MUST_CHECK ru_err ru_oidc_map(const ru_oidc_names_t *names, const char *issuer,
                                 const json_t *claims, ru_oidc_user_t *user, const char **why);

#endif
