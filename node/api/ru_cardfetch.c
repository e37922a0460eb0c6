/*  ru_cardfetch.c - a page fetched for a link preview (rules in
 *  ru_cardfetch.h).
 *
 *  One libcurl easy handle per fetch, one request per hop: the handle
 *  follows nothing itself, so every address it is given has passed
 *  ru_cardfetch_allowed first. What the write callback takes decides the
 *  rest: on its first call (the head has arrived) it refuses a status
 *  other than 200 and a type other than HTML, and it stops the transfer
 *  once max_bytes are kept, so a large page costs its first bytes only.
 *  The total timeout is one budget for all hops.
 */
#include "ru_cardfetch.h"

#include <curl/curl.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ru_hostlist.h"

static const char *const s_names[] = {
#define RU_CARDFETCH_NAME(name) #name,
    RU_CARDFETCH_RESULTS(RU_CARDFETCH_NAME)
#undef RU_CARDFETCH_NAME
};

const char *
ru_cardfetch_name(ru_cardfetch_result r)
{
    return r < RU_CARDFETCH_COUNT ? s_names[r] : "?";
}

/*  Is part of u (a parsed address) present? */
static int
s_has(CURLU *u, CURLUPart part)
{
    char *v = NULL;
    CURLUcode rc = curl_url_get(u, part, &v, 0);
    curl_free(v);
    return rc == CURLUE_OK;
}

/*  Is u an http(s) address without user information? */
static int
s_web(CURLU *u)
{
    char *scheme = NULL;
    int ok = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
             (strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0) &&
             !s_has(u, CURLUPART_USER) && !s_has(u, CURLUPART_PASSWORD);
    curl_free(scheme);
    return ok;
}

int
ru_cardfetch_allowed(const char *hosts, const char *url)
{
    CURLU *u = curl_url();
    char *host = NULL;
    int ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK && s_web(u) &&
             curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
             ru_hostlist_match(hosts, host);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

int
ru_cardfetch_resolve(const char *base, const char *ref, char *out, size_t size)
{
    CURLU *u = curl_url();
    char *full = NULL;
    int ok = u && curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
             curl_url_set(u, CURLUPART_URL, ref, 0) == CURLUE_OK && s_web(u) &&
             curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK && strlen(full) < size;
    if (ok)
        memcpy(out, full, strlen(full) + 1);
    curl_free(full);
    curl_url_cleanup(u);
    return ok;
}

/*  One hop: what the callbacks see and decide. */
typedef struct {
    CURL *curl;
    const ru_cardfetch_opts_t *o;
    ru_buf_t *body;
    int checked;              /* the head was looked at */
    ru_cardfetch_result said; /* why the write callback stopped, if it did */
    int cut;                  /* it stopped at max_bytes */
} s_hop;

/*  On the first bytes of the body: a 200 of HTML, or the reason not. */
static ru_cardfetch_result
s_check_head(CURL *curl)
{
    long code = 0;
    char *type = NULL;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
    if (code != 200)
        return RU_CARDFETCH_status;
    if (type && strncasecmp(type, "text/html", 9) != 0 &&
        strncasecmp(type, "application/xhtml+xml", 21) != 0)
        return RU_CARDFETCH_type;
    return RU_CARDFETCH_ok;
}

static size_t
s_on_body(char *data, size_t one, size_t n, void *arg)
{
    s_hop *h = arg;
    size_t len = one * n;
    long code = 0;
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 300 && code < 400)
        return len; /* a redirect's own body: not kept */
    if (!h->checked) {
        h->checked = 1;
        h->said = s_check_head(h->curl);
        if (h->said != RU_CARDFETCH_ok)
            return 0;
    }
    size_t room = h->o->max_bytes - h->body->len;
    ru_buf_append(h->body, data, len < room ? len : room);
    if (len < room)
        return len;
    h->cut = 1;
    return 0; /* ends the transfer: the rest is never read */
}

static int
s_on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void) dt, (void) dn, (void) ut, (void) un;
    const s_hop *h = arg;
    return h->o->stop && atomic_load(h->o->stop);
}

static long
s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*  Sets the handle up for one request of url with ms left. */
static void
s_setup(s_hop *h, const char *url, long ms, struct curl_slist *headers)
{
    CURL *c = h->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, h->o->proxy); /* "": none, whatever the environment says */
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->o->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "ruche/" RUCHE_VERSION " (link preview)");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, s_on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
}

/*  The result of one performed hop. */
static ru_cardfetch_result
s_outcome(const s_hop *h, CURLcode rc)
{
    if (rc == CURLE_WRITE_ERROR && h->cut)
        return RU_CARDFETCH_ok;
    if (rc == CURLE_WRITE_ERROR && h->said != RU_CARDFETCH_ok)
        return h->said;
    if (rc == CURLE_ABORTED_BY_CALLBACK)
        return RU_CARDFETCH_stopped;
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return RU_CARDFETCH_timeout;
    if (rc != CURLE_OK)
        return RU_CARDFETCH_network;
    return h->checked ? RU_CARDFETCH_ok : s_check_head(h->curl); /* an empty page */
}

ru_cardfetch_result
ru_cardfetch_get(const ru_cardfetch_opts_t *o, const char *url, ru_buf_t *body, char *final,
                 size_t size)
{
    char at[RU_CARDFETCH_URL_MAX];
    if (!ru_cardfetch_allowed(o->hosts, url) || strlen(url) >= sizeof at)
        return RU_CARDFETCH_refused;
    memcpy(at, url, strlen(url) + 1);
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = curl_slist_append(NULL, "Accept: text/html,application/xhtml+xml");
    ru_cardfetch_result r = curl && headers ? RU_CARDFETCH_redirect : RU_CARDFETCH_network;
    long deadline = s_now_ms() + o->timeout_ms;
    for (int hop = 0; curl && headers && hop <= o->max_redirects; hop++) {
        long left = deadline - s_now_ms();
        if (left <= 0) {
            r = RU_CARDFETCH_timeout;
            break;
        }
        ru_buf_reset(body);
        s_hop h = {curl, o, body, 0, RU_CARDFETCH_ok, 0};
        s_setup(&h, at, left, headers);
        r = s_outcome(&h, curl_easy_perform(curl));
        long code = 0;
        char *next = NULL;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_getinfo(curl, CURLINFO_REDIRECT_URL, &next);
        if (r != RU_CARDFETCH_status || code < 300 || code >= 400 || !next)
            break; /* a page, or no page: not a redirect */
        r = RU_CARDFETCH_redirect;
        if (!ru_cardfetch_allowed(o->hosts, next) || strlen(next) >= sizeof at)
            break; /* never asked */
        memmove(at, next, strlen(next) + 1);
    }
    if (r == RU_CARDFETCH_ok && strlen(at) < size)
        memcpy(final, at, strlen(at) + 1);
    else if (r == RU_CARDFETCH_ok)
        r = RU_CARDFETCH_refused;
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return r;
}
