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
 *  argument, so tests need no sleeping. What requests are counted by (an
 *  address, a user name) is ru_throttle.h's, in the API layer.
 */
#ifndef RU_RATELIMIT_H
#define RU_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "ruche/ru_error.h"

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

#endif
