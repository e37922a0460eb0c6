/*  ru_ratelimit.h - failures counted per key in a time window: the brake on
 *  password guessing, and on anything else anyone may do that costs the
 *  node work or room (app registrations, each of which is stored).
 *
 *  A key (a remote address, a user name) may fail max_failures times in a
 *  window of window_ms that starts at its first failure; past that it must
 *  wait until the window ends. Successes do not count and do not reset the
 *  count (else one valid login would buy an address ten more guesses).
 *
 *  The table has a fixed number of slots chosen at creation, so memory stays
 *  bounded whatever a client sends: keys are hashed under a random key made
 *  at creation (nobody can aim collisions) into a small neighbourhood of
 *  slots; a new key takes an empty or expired slot there, else the one whose
 *  window started first. Filling every neighbourhood takes as many failed
 *  logins, each costing the attacker an argon2id check, as there are slots.
 *
 *  Thread rules: every function may be called from any thread (one mutex).
 *  The counting functions take the time (monotonic milliseconds) as an
 *  argument, so tests need no sleeping; the login functions read the clock.
 */
#ifndef RU_RATELIMIT_H
#define RU_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "ruche/ru_error.h"

#include "ru_http.h"

typedef struct ru_ratelimit ru_ratelimit_t;

/*  A limiter of max_failures per window_ms, with room for slots keys.
 *  *out is owned by the caller. */
RU_MUST_CHECK ru_err ru_ratelimit_new(long max_failures, long window_ms, size_t slots,
                                      ru_ratelimit_t **out);
/*  Frees. NULL-safe. */
void ru_ratelimit_destroy(ru_ratelimit_t **self_p);

/*  Milliseconds before key (len bytes) may be tried again at time now_ms;
 *  0 when it may be tried now. */
long ru_ratelimit_wait(ru_ratelimit_t *self, const void *key, size_t len, uint64_t now_ms);
/*  Counts one failure of key at time now_ms. */
void ru_ratelimit_fail(ru_ratelimit_t *self, const void *key, size_t len, uint64_t now_ms);

/*  The monotonic clock in milliseconds. */
uint64_t ru_ratelimit_now_ms(void);

/*  Login attempts, counted in node->logins by the request's remote address
 *  (an IPv6 address by its /64, which one host usually holds whole) and by
 *  the user name tried.
 *
 *  Seconds (rounded up) before req may try to sign in as user; 0: now. */
long ru_ratelimit_login_wait(ru_req_t *req, const char *user);
/*  0 when req may try to sign in as user; else answers 429 {"error"} with
 *  a Retry-After header and returns 429. */
int ru_ratelimit_login_check(ru_req_t *req, const char *user);
/*  Counts a failed sign-in of req as user (both keys). */
void ru_ratelimit_login_failed(ru_req_t *req, const char *user);

/*  Other events counted by the request's address alone in a limiter of
 *  their own (node->apps: app registrations). 0 when req may go on; else
 *  answers 429 {"error": "too many WHAT ..."} with Retry-After and returns
 *  429. */
int ru_ratelimit_addr_check(ru_ratelimit_t *self, ru_req_t *req, const char *what);
/*  Counts one event of req's address. */
void ru_ratelimit_addr_count(ru_ratelimit_t *self, ru_req_t *req);

#endif
