/*  ru_throttle.h - the brakes on requests: sign-in attempts and other
 *  costly events counted per client in the node's rate limiters
 *  (ru_ratelimit.h), and the 429 that answers a client past its limit.
 *
 *  An address is counted whole, an IPv6 address by its /64, which one
 *  host usually holds whole. Every function may be called from any
 *  thread; they read the monotonic clock.
 */
#ifndef RU_THROTTLE_H
#define RU_THROTTLE_H

#include "ru_http.h"
#include "ru_ratelimit.h"

/*  Login attempts, counted in node->logins by the request's remote address
 *  and by the user name tried.
 *
 *  Seconds (rounded up) before req may try to sign in as user; 0: now. */
long ru_throttle_login_wait(ru_req_t *req, const char *user);
/*  0 when req may try to sign in as user; else answers 429 {"error"} with
 *  a Retry-After header and returns 429. */
int ru_throttle_login_check(ru_req_t *req, const char *user);
/*  Counts a failed sign-in of req as user (both keys). */
void ru_throttle_login_failed(ru_req_t *req, const char *user);

/*  Other events counted by the request's address alone in a limiter of
 *  their own (node->apps: app registrations). 0 when req may go on; else
 *  answers 429 {"error": "too many WHAT ..."} with Retry-After and returns
 *  429. */
int ru_throttle_addr_check(ru_ratelimit_t *self, ru_req_t *req, const char *what);
/*  Counts one event of req's address. */
void ru_throttle_addr_count(ru_ratelimit_t *self, ru_req_t *req);

#endif
