/*  ru_cache.h - answers to anonymous reads, kept until the store changes.
 *
 *  The public timeline, a tag's timeline, a status and its context, as an
 *  anonymous client sees them, depend on the replicated state and nothing
 *  else: the same request gets the same bytes until the store actor
 *  commits again. A whole site's front pages asking for them many times a
 *  second would otherwise render the same JSON each time (most of a
 *  request's cost). So the HTTP core keeps the answers of the routes that
 *  allow it (RU_ROUTE_CACHED in ru_route_t.flags) to requests without credentials, under the
 *  store's generation (ru_writer_generation, with the site directory's
 *  version: a reload may rename a peer) read before the handler opened its
 *  read transaction: the answer is at least that new, and any later
 *  commit makes it stale. A hit is answered on the event loop, without a
 *  worker.
 *
 *  The cache is bounded in bytes ([http] cache_kb); past it the oldest
 *  entries go first, and a stale one goes when it is next asked for. An
 *  entry is shared, counted: a hit may be sent while a newer answer
 *  replaces it.
 *
 *  Thread rules: every function may be called from any thread (one
 *  mutex, held for lookups and inserts only, never while bytes are sent).
 */
#ifndef RU_CACHE_H
#define RU_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "ruche/ru_buf.h"
#include "ruche/ru_error.h"

typedef struct ru_cache ru_cache_t;

/*  One answer: what the core sends again. Read-only once made. */
typedef struct ru_cache_entry {
    int status;
    const char *type;    /* Content-Type */
    const char *headers; /* more header lines, each ending with CRLF ("" for none) */
    const uint8_t *body;
    size_t len;
} ru_cache_entry_t;

/*  A cache of at most max_bytes of answers (0: nothing is kept). */
RU_MUST_CHECK ru_err ru_cache_new(size_t max_bytes, ru_cache_t **out);
/*  NULL-safe; entries still held by callers stay valid until released. */
void ru_cache_destroy(ru_cache_t **self_p);

/*  The answer kept for key (the request's path and query) at generation
 *  gen, or NULL: a miss, or an answer of another generation. A hit is the
 *  caller's until ru_cache_release(). */
const ru_cache_entry_t *ru_cache_get(ru_cache_t *self, const char *key, uint64_t gen);
void ru_cache_release(const ru_cache_entry_t *entry);

/*  Keeps an answer for key made at generation gen (the bytes are copied),
 *  replacing one of an older generation (not one of a newer). An answer
 *  taking more than a quarter of the cache is not kept. RU_E_NOMEM when it cannot be copied (nothing is lost: the
 *  next request renders it again). */
RU_MUST_CHECK ru_err ru_cache_put(ru_cache_t *self, const char *key, uint64_t gen,
                                  const ru_cache_entry_t *answer);

/*  Empties the cache (a reload changed what the answers show: peers'
 *  names). */
void ru_cache_clear(ru_cache_t *self);

/*  The collector (ru_prom.h) of its bytes, hits and misses: self is an
 *  ru_cache_t. */
RU_MUST_CHECK ru_err ru_cache_collect(void *self, ru_buf_t *out);

#endif
