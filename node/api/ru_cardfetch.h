/*  ru_cardfetch.h - one page fetched for a link preview, within limits.
 *
 *  The node fetches pages its users link to, from the hosts [cards]
 *  allowed_hosts lists and none other (ru_hostlist.h): a page of the
 *  intranet, never the Internet at large, and never a host the list does
 *  not name, whatever a post or a redirect says. So:
 *    - only http and https, no user name or password in the address;
 *    - redirects are not followed by libcurl: each Location is checked
 *      against the list, then asked (at most max_redirects of them); one
 *      to a host not listed ends the fetch before that host is contacted;
 *    - a connect timeout and a total timeout for the whole fetch,
 *      redirects included (a page that drips forever is cut);
 *    - at most max_bytes of the page are read (decoded, if compressed):
 *      the rest is never read, and what was read is the page;
 *    - a status other than 200, or a type other than HTML, is no page;
 *    - no proxy but the configured one (the environment's is ignored).
 *
 *  Blocking: run it on a thread of its own (ru_card's workers), never on
 *  the HTTP event loop or the writer. stop, when it becomes non-zero, ends
 *  a fetch in progress within a moment. curl_global_init() must have run
 *  (ru_card_new does it).
 */
#ifndef RU_CARDFETCH_H
#define RU_CARDFETCH_H

#include <stdatomic.h>
#include <stddef.h>

#include "ruche/ru_buf.h"

#define RU_CARDFETCH_URL_MAX 4096 /* an address asked, redirects' included */

/*  X(name) - how a fetch ended; the names are metrics' labels. */
#define RU_CARDFETCH_RESULTS(X)                                                                    \
    X(ok)       /* a page, maybe cut at max_bytes */                                               \
    X(refused)  /* not an http(s) address of an allowed host */                                    \
    X(redirect) /* a redirect to a host not allowed, or too many */                                \
    X(timeout)  /* connect or total timeout */                                                     \
    X(status)   /* an answer other than 200 */                                                     \
    X(type)     /* not HTML */                                                                     \
    X(network)  /* anything else: no such host, refused, reset, TLS */                             \
    X(stopped)  /* the node is stopping */

typedef enum {
#define RU_CARDFETCH_ENUM(name) RU_CARDFETCH_##name,
    RU_CARDFETCH_RESULTS(RU_CARDFETCH_ENUM)
#undef RU_CARDFETCH_ENUM
        RU_CARDFETCH_COUNT
} ru_cardfetch_result;

typedef struct {
    const char *hosts; /* the allowed hosts (ru_hostlist.h) */
    const char *proxy; /* "": no proxy */
    long connect_timeout_ms, timeout_ms;
    size_t max_bytes;
    int max_redirects;
    const atomic_int *stop; /* may be NULL */
} ru_cardfetch_opts_t;

/*  The result's name ("ok", "refused" ...). */
const char *ru_cardfetch_name(ru_cardfetch_result r);

/*  Is url an http(s) address, without user information, of a host that
 *  hosts allows? */
int ru_cardfetch_allowed(const char *hosts, const char *url);

/*  Fetches url into body (emptied first; at most o->max_bytes). On
 *  RU_CARDFETCH_ok, final (size bytes) holds the address the page came
 *  from, after redirects. */
ru_cardfetch_result ru_cardfetch_get(const ru_cardfetch_opts_t *o, const char *url, ru_buf_t *body,
                                     char *final, size_t size);

/*  ref (an address as a page wrote it, maybe relative) resolved against
 *  base into out (size bytes); 1 when that is an http(s) address that
 *  fits, else 0. */
int ru_cardfetch_resolve(const char *base, const char *ref, char *out, size_t size);

#endif
