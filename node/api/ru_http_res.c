/*  ru_http_res.c - an answer's head and a whole body, on the loop (see
 *  ru_http_res.h).
 */
#include "ru_http_res.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
ru_http_res_reason(int status)
{
    static const struct {
        int status;
        const char *text;
    } reasons[] = {{101, "Switching Protocols"},
                   {200, "OK"},
                   {202, "Accepted"},
                   {206, "Partial Content"},
                   {302, "Found"},
                   {304, "Not Modified"},
                   {400, "Bad Request"},
                   {401, "Unauthorized"},
                   {403, "Forbidden"},
                   {404, "Not Found"},
                   {405, "Method Not Allowed"},
                   {409, "Conflict"},
                   {413, "Payload Too Large"},
                   {415, "Unsupported Media Type"},
                   {416, "Range Not Satisfiable"},
                   {417, "Expectation Failed"},
                   {422, "Unprocessable Entity"},
                   {429, "Too Many Requests"},
                   {431, "Request Header Fields Too Large"},
                   {500, "Internal Server Error"},
                   {503, "Service Unavailable"},
                   {507, "Insufficient Storage"}};
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].status == status)
            return reasons[i].text;
    return "Status";
}

void
ru_http_res_header(h2o_req_t *r, const char *name, size_t nlen, const char *value, size_t vlen)
{
    h2o_iovec_t n = h2o_strdup(&r->pool, name, nlen), v = h2o_strdup(&r->pool, value, vlen);
    h2o_add_header_by_str(&r->pool, &r->res.headers, n.base, n.len, 0, NULL, v.base, v.len);
}

/*  Adds the lines of text ("Name: value\r\n"...) to r's response. */
void
ru_http_res_lines(h2o_req_t *r, const char *text)
{
    while (*text) {
        const char *eol = strstr(text, "\r\n"), *colon = strchr(text, ':');
        if (!eol || !colon || colon > eol)
            return;
        const char *v = colon + 1 + strspn(colon + 1, " ");
        ru_http_res_header(r, text, (size_t) (colon - text), v, (size_t) (eol - v));
        text = eol + 2;
    }
}

/*  The head every answer of ours has: status, type, the security headers,
 *  caching, how long the connection is kept, and lines, the handler's
 *  own header lines ("Name: value\r\n"...). */
void
ru_http_res_head(ru_http_t *self, h2o_req_t *r, const char *lines, int status, const char *type)
{
    r->res.status = status;
    r->res.reason = ru_http_res_reason(status);
    if (type && *type)
        RU_HTTP_RES_HEADER(r, "Content-Type", type);
    if (!strstr(lines, "Content-Security-Policy:"))
        RU_HTTP_RES_HEADER(r, "Content-Security-Policy", RU_HTTP_CSP);
    if (!strstr(lines, "Cache-Control:"))
        RU_HTTP_RES_HEADER(r, "Cache-Control", "no-store");
    ru_http_res_lines(r, RU_HTTP_BASE_HEADERS);
    ru_http_res_lines(r, lines);
    if (self->node->cfg.keep_alive_ms == 0 || self->stopping)
        r->http1_is_persistent = 0;
    else if (r->http1_is_persistent) {
        char ka[32];
        snprintf(ka, sizeof ka, "timeout=%ld", self->node->cfg.keep_alive_ms / 1000);
        RU_HTTP_RES_HEADER(r, "Keep-Alive", ka);
    }
}

/*  Our generators' callbacks, which the filter knows ours by. */
static void
s_final_proceed(h2o_generator_t *g, h2o_req_t *r)
{
    (void) g;
    (void) r;
}

static h2o_generator_t s_final_gen = {s_final_proceed, NULL};

void
ru_http_res_start(h2o_req_t *r)
{
    h2o_start_response(r, &s_final_gen);
}

int
ru_http_res_ours(const h2o_generator_t *g)
{
    return g == &s_final_gen || (g && g->proceed == s_final_proceed);
}

/*  The body of an answer, owned by the request's pool. */
static void
s_body_dispose(void *p)
{
    ru_buf_fini(p);
}

/*  Sends a whole answer: body (its memory taken) or, for HEAD, a head
 *  saying len bytes. */
void
ru_http_res_final(h2o_req_t *r, ru_buf_t *body, size_t head_len)
{
    /* the length before the start: h2o chooses chunks for a body without */
    if (!body) {
        r->res.content_length = head_len;
        h2o_start_response(r, &s_final_gen);
        h2o_send(r, NULL, 0, H2O_SEND_STATE_FINAL);
        return;
    }
    ru_buf_t *kept = h2o_mem_alloc_shared(&r->pool, sizeof *kept, s_body_dispose);
    *kept = *body;
    ru_buf_init(body);
    r->res.content_length = kept->len;
    h2o_start_response(r, &s_final_gen);
    h2o_iovec_t iov = h2o_iovec_init(kept->data, kept->len);
    h2o_send(r, &iov, kept->len ? 1 : 0, H2O_SEND_STATE_FINAL);
}

/*  An answer of the loop's own (503, 431, 400 ...), JSON like the others;
 *  close asks the client to close the connection. */
void
ru_http_res_refuse(ru_http_t *self, h2o_req_t *r, int status, const char *why, int close,
                   const char *retry_after)
{
    json_t *body = json_pack("{s:s}", "error", why);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (close)
        r->http1_is_persistent = 0;
    ru_http_res_head(self, r, "", status, "application/json; charset=utf-8");
    if (retry_after)
        RU_HTTP_RES_HEADER(r, "Retry-After", retry_after);
    ru_buf_t out;
    ru_buf_init(&out);
    ru_buf_append(&out, text ? text : "{}", text ? strlen(text) : 2);
    free(text);
    ru_http_res_final(r, &out, 0);
}
