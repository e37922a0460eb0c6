/*  ru_cache.c - answers to anonymous reads (see ru_cache.h).
 *
 *  A hash table of entries by key, chained, and a list of the entries in
 *  the order they were kept: eviction takes the list's head. Each entry is
 *  one allocation (the answer's fields, then its key, type, header lines
 *  and body) with a count of its holders: the table is one, every hit
 *  handed out another; the last release frees it. A stale entry (another
 *  generation) is dropped when it is next asked for, so the room it held
 *  goes back at once.
 */
#include "ru_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ru_hash.h"
#include "ru_prom.h"

#define S_BUCKETS 4096

typedef struct s_entry {
    ru_cache_entry_t answer; /* first: a hit is a pointer to it */
    atomic_int holders;
    uint64_t gen;
    size_t size; /* of the allocation */
    const char *key;
    struct s_entry *chain;       /* next in the bucket */
    struct s_entry *prev, *next; /* in the order kept */
} s_entry;

struct ru_cache {
    pthread_mutex_t lock;
    size_t max, bytes;
    uint64_t hits, misses;
    s_entry *buckets[S_BUCKETS];
    s_entry *oldest, *newest;
};

static size_t
s_bucket(const char *key)
{
    return (size_t) (ru_hash_str(key) % S_BUCKETS);
}

ru_err
ru_cache_new(size_t max_bytes, ru_cache_t **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return RU_E_NOMEM;
    pthread_mutex_init(&(*out)->lock, NULL);
    (*out)->max = max_bytes;
    return RU_OK;
}

void
ru_cache_release(const ru_cache_entry_t *entry)
{
    s_entry *e = (s_entry *) entry;
    if (e && atomic_fetch_sub(&e->holders, 1) == 1)
        free(e);
}

/*  Takes e out of the table and the list, dropping the table's hold. */
static void
s_unlink(ru_cache_t *self, s_entry *e)
{
    s_entry **link = &self->buckets[s_bucket(e->key)];
    while (*link && *link != e)
        link = &(*link)->chain;
    if (*link) /* always: e is in its bucket */
        *link = e->chain;
    if (e == self->oldest)
        self->oldest = e->next;
    else
        e->prev->next = e->next;
    if (e == self->newest)
        self->newest = e->prev;
    else
        e->next->prev = e->prev;
    self->bytes -= e->size;
    ru_cache_release(&e->answer);
}

static s_entry *
s_find(ru_cache_t *self, const char *key)
{
    s_entry *e = self->buckets[s_bucket(key)];
    while (e && strcmp(e->key, key) != 0)
        e = e->chain;
    return e;
}

void
ru_cache_destroy(ru_cache_t **self_p)
{
    ru_cache_t *self = *self_p;
    if (!self)
        return;
    ru_cache_clear(self);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

const ru_cache_entry_t *
ru_cache_get(ru_cache_t *self, const char *key, uint64_t gen)
{
    pthread_mutex_lock(&self->lock);
    s_entry *e = s_find(self, key);
    if (e && e->gen != gen) {
        s_unlink(self, e);
        e = NULL;
    }
    if (e)
        atomic_fetch_add(&e->holders, 1);
    if (e)
        self->hits++;
    else
        self->misses++;
    pthread_mutex_unlock(&self->lock);
    return e ? &e->answer : NULL;
}

/*  The bytes an entry of key and a takes. */
static size_t
s_size(const char *key, const ru_cache_entry_t *a)
{
    return sizeof(s_entry) + strlen(key) + strlen(a->type) + strlen(a->headers) + 3 + a->len;
}

/*  One allocation of size bytes holding a copy of answer and key. */
static s_entry *
s_make(const char *key, uint64_t gen, const ru_cache_entry_t *a, size_t size)
{
    size_t klen = strlen(key) + 1, tlen = strlen(a->type) + 1, hlen = strlen(a->headers) + 1;
    s_entry *e = malloc(size);
    if (!e)
        return NULL;
    char *p = (char *) (e + 1);
    memset(e, 0, sizeof *e);
    atomic_init(&e->holders, 1);
    e->gen = gen;
    e->size = size;
    e->key = memcpy(p, key, klen);
    e->answer.type = memcpy(p + klen, a->type, tlen);
    e->answer.headers = memcpy(p + klen + tlen, a->headers, hlen);
    e->answer.body = a->len ? memcpy(p + klen + tlen + hlen, a->body, a->len) : NULL;
    e->answer.len = a->len;
    e->answer.status = a->status;
    return e;
}

ru_err
ru_cache_put(ru_cache_t *self, const char *key, uint64_t gen, const ru_cache_entry_t *answer)
{
    size_t size = s_size(key, answer);
    if (size > self->max / 4)
        return RU_OK;
    s_entry *e = s_make(key, gen, answer, size);
    if (!e)
        return RU_E_NOMEM;
    pthread_mutex_lock(&self->lock);
    s_entry *old = s_find(self, key);
    if (old && old->gen > gen) { /* a newer answer is kept already */
        pthread_mutex_unlock(&self->lock);
        free(e);
        return RU_OK;
    }
    if (old)
        s_unlink(self, old);
    while (self->oldest && self->bytes + e->size > self->max)
        s_unlink(self, self->oldest);
    size_t b = s_bucket(key);
    e->chain = self->buckets[b];
    self->buckets[b] = e;
    e->prev = self->newest;
    if (self->newest)
        self->newest->next = e;
    else
        self->oldest = e;
    self->newest = e;
    self->bytes += e->size;
    pthread_mutex_unlock(&self->lock);
    return RU_OK;
}

void
ru_cache_clear(ru_cache_t *self)
{
    pthread_mutex_lock(&self->lock);
    while (self->oldest)
        s_unlink(self, self->oldest);
    pthread_mutex_unlock(&self->lock);
}

ru_err
ru_cache_collect(void *self_p, ru_buf_t *out)
{
    ru_cache_t *self = self_p;
    pthread_mutex_lock(&self->lock);
    size_t bytes = self->bytes;
    uint64_t hits = self->hits, misses = self->misses;
    pthread_mutex_unlock(&self->lock);
    ru_prom_single(out, "ruche_http_cache_bytes", "gauge",
                   "Bytes of anonymous answers kept ([http] cache_kb).", (double) bytes);
    ru_prom_single(out, "ruche_http_cache_hits_total", "counter",
                   "Anonymous reads answered from the cache.", (double) hits);
    ru_prom_single(out, "ruche_http_cache_misses_total", "counter",
                   "Anonymous reads of cached routes rendered again.", (double) misses);
    return RU_OK;
}
