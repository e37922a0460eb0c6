/*  ru_throttle.c - requests counted by address and user name in rate
 *  limiters (see ru_throttle.h).
 */
#include "ru_throttle.h"

#include <arpa/inet.h>
#include <string.h>

/*  The key of a request's address: "a" and the address bytes (an IPv6
 *  address: its first 64 bits). Returns its length. */
static size_t
s_addr_key(const ru_req_t *req, uint8_t key[1 + 16])
{
    const char *addr = ru_http_req_addr(req);
    key[0] = 'a';
    if (inet_pton(AF_INET6, addr, key + 1) == 1)
        return 1 + 8;
    if (inet_pton(AF_INET, addr, key + 1) == 1)
        return 1 + 4;
    size_t n = strnlen(addr, 15); /* not an address: kept as text */
    memcpy(key + 1, addr, n);
    return 1 + n;
}

/*  The key of a user name: "u" and the name, at most 64 bytes of it. */
static size_t
s_user_key(const char *user, uint8_t key[1 + 64])
{
    size_t n = user ? strnlen(user, 64) : 0;
    key[0] = 'u';
    memcpy(key + 1, user ? user : "", n);
    return 1 + n;
}

long
ru_throttle_login_wait(ru_req_t *req, const char *user)
{
    uint8_t addr[1 + 16], name[1 + 64];
    uint64_t now = ru_ratelimit_now_ms();
    ru_ratelimit_t *self = req->node->logins;
    long a = ru_ratelimit_wait(self, addr, s_addr_key(req, addr), now);
    long u = ru_ratelimit_wait(self, name, s_user_key(user, name), now);
    long ms = a > u ? a : u;
    return (ms + 999) / 1000;
}

/*  0, or the 429 for a wait of seconds, sent. */
static int
s_refuse(ru_req_t *req, long wait, const char *what)
{
    if (wait == 0)
        return 0;
    ru_http_header(req, "Retry-After", "%ld", wait);
    return ru_http_error(req, 429, "too many %s: try again in %ld seconds", what, wait);
}

int
ru_throttle_login_check(ru_req_t *req, const char *user)
{
    return s_refuse(req, ru_throttle_login_wait(req, user), "failed sign-ins");
}

int
ru_throttle_addr_check(ru_ratelimit_t *self, ru_req_t *req, const char *what)
{
    uint8_t addr[1 + 16];
    long ms = ru_ratelimit_wait(self, addr, s_addr_key(req, addr), ru_ratelimit_now_ms());
    return s_refuse(req, (ms + 999) / 1000, what);
}

void
ru_throttle_addr_count(ru_ratelimit_t *self, ru_req_t *req)
{
    uint8_t addr[1 + 16];
    ru_ratelimit_fail(self, addr, s_addr_key(req, addr), ru_ratelimit_now_ms());
}

void
ru_throttle_login_failed(ru_req_t *req, const char *user)
{
    uint8_t addr[1 + 16], name[1 + 64];
    uint64_t now = ru_ratelimit_now_ms();
    ru_ratelimit_t *self = req->node->logins;
    ru_ratelimit_fail(self, addr, s_addr_key(req, addr), now);
    ru_ratelimit_fail(self, name, s_user_key(user, name), now);
}
