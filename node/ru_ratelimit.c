/*  ru_ratelimit.c - failure counting in a bounded hash table (see
 *  ru_ratelimit.h).
 *
 *  A slot holds a 16-byte keyed BLAKE2b of its key (the identity: two keys
 *  sharing a slot by chance would need a 128-bit collision), the start of
 *  its window and its failures. A key lives in one of S_PROBE slots from
 *  the index its hash gives.
 */
#include "ru_ratelimit.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_ID_BYTES 16
#define S_PROBE 8

typedef struct {
    uint8_t id[S_ID_BYTES];
    uint64_t start_ms; /* the window's start; 0: a free slot */
    long failures;
} s_slot;

struct ru_ratelimit {
    pthread_mutex_t lock;
    long max_failures;
    long window_ms;
    size_t n;
    s_slot *slots;
    uint8_t hash_key[crypto_generichash_KEYBYTES];
};

ru_err
ru_ratelimit_new(long max_failures, long window_ms, size_t slots, ru_ratelimit_t **out)
{
    *out = NULL;
    if (max_failures < 1 || window_ms < 1 || slots < S_PROBE)
        return RU_E_INVALID;
    ru_ratelimit_t *self = calloc(1, sizeof *self);
    if (!self || !(self->slots = calloc(slots, sizeof *self->slots))) {
        free(self);
        return RU_E_NOMEM;
    }
    pthread_mutex_init(&self->lock, NULL);
    self->max_failures = max_failures;
    self->window_ms = window_ms;
    self->n = slots;
    randombytes_buf(self->hash_key, sizeof self->hash_key);
    *out = self;
    return RU_OK;
}

void
ru_ratelimit_destroy(ru_ratelimit_t **self_p)
{
    ru_ratelimit_t *self = *self_p;
    if (!self)
        return;
    pthread_mutex_destroy(&self->lock);
    free(self->slots);
    free(self);
    *self_p = NULL;
}

static int
s_expired(const ru_ratelimit_t *self, const s_slot *s, uint64_t now_ms)
{
    return s->start_ms == 0 || now_ms >= s->start_ms + (uint64_t) self->window_ms;
}

/*  The slot of key, or when it has none and make is set, the slot it
 *  takes (cleared); NULL when it has none and make is not set. Called
 *  with the lock held. */
static s_slot *
s_find(ru_ratelimit_t *self, const void *key, size_t len, uint64_t now_ms, int make)
{
    uint8_t id[S_ID_BYTES];
    crypto_generichash(id, sizeof id, key, len, self->hash_key, sizeof self->hash_key);
    uint64_t h;
    memcpy(&h, id, sizeof h);
    s_slot *take = NULL;
    for (size_t i = 0; i < S_PROBE; i++) {
        s_slot *s = &self->slots[(h + i) % self->n];
        if (s->start_ms && memcmp(s->id, id, sizeof id) == 0)
            return s;
        if (!take || (!s_expired(self, take, now_ms) &&
                      (s_expired(self, s, now_ms) || s->start_ms < take->start_ms)))
            take = s;
    }
    if (!make)
        return NULL;
    memcpy(take->id, id, sizeof id);
    take->start_ms = 0;
    take->failures = 0;
    return take;
}

long
ru_ratelimit_wait(ru_ratelimit_t *self, const void *key, size_t len, uint64_t now_ms)
{
    pthread_mutex_lock(&self->lock);
    s_slot *s = s_find(self, key, len, now_ms, 0);
    long wait = 0;
    if (s && !s_expired(self, s, now_ms) && s->failures >= self->max_failures)
        wait = (long) (s->start_ms + (uint64_t) self->window_ms - now_ms);
    pthread_mutex_unlock(&self->lock);
    return wait;
}

void
ru_ratelimit_fail(ru_ratelimit_t *self, const void *key, size_t len, uint64_t now_ms)
{
    pthread_mutex_lock(&self->lock);
    s_slot *s = s_find(self, key, len, now_ms, 1);
    if (s_expired(self, s, now_ms)) {
        s->start_ms = now_ms ? now_ms : 1; /* 0 marks a free slot */
        s->failures = 0;
    }
    s->failures++;
    pthread_mutex_unlock(&self->lock);
}

uint64_t
ru_ratelimit_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

/*  ---------------------------------------------------------------------
 *  Login attempts
 */

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
ru_ratelimit_login_wait(ru_req_t *req, const char *user)
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
ru_ratelimit_login_check(ru_req_t *req, const char *user)
{
    return s_refuse(req, ru_ratelimit_login_wait(req, user), "failed sign-ins");
}

int
ru_ratelimit_addr_check(ru_ratelimit_t *self, ru_req_t *req, const char *what)
{
    uint8_t addr[1 + 16];
    long ms = ru_ratelimit_wait(self, addr, s_addr_key(req, addr), ru_ratelimit_now_ms());
    return s_refuse(req, (ms + 999) / 1000, what);
}

void
ru_ratelimit_addr_count(ru_ratelimit_t *self, ru_req_t *req)
{
    uint8_t addr[1 + 16];
    ru_ratelimit_fail(self, addr, s_addr_key(req, addr), ru_ratelimit_now_ms());
}

void
ru_ratelimit_login_failed(ru_req_t *req, const char *user)
{
    uint8_t addr[1 + 16], name[1 + 64];
    uint64_t now = ru_ratelimit_now_ms();
    ru_ratelimit_t *self = req->node->logins;
    ru_ratelimit_fail(self, addr, s_addr_key(req, addr), now);
    ru_ratelimit_fail(self, name, s_user_key(user, name), now);
}
