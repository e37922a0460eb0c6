/*  ru_reqparse.c - a request's parameters from its query string and
 *  body, and the match of a path against a route's pattern (see
 *  ru_reqparse.h). Pure code on bytes already read: the request's copy
 *  in its job (ru_http_job.h) on a worker, or the path on the loop.
 */
#include "ru_reqparse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ru_jsondepth.h"
#include "ru_multipart.h"

/*  Sets params[key] to s (taking its reference). A key ending in "[]"
 *  (types[]=mention&types[]=follow, as Mastodon clients send lists) adds s
 *  to a list under the name without the brackets, as a JSON body's
 *  {"types": [...]} would. */
static void
s_param_set(json_t *params, char *key, size_t klen, json_t *s)
{
    /*  klen counts every byte: a NUL in a name is kept for s_nul_param. */
    if (klen <= 2 || memcmp(key + klen - 2, "[]", 2) != 0) {
        json_object_setn_new(params, key, klen, s);
        return;
    }
    klen -= 2;
    json_t *list = json_object_getn(params, key, klen);
    if (!json_is_array(list)) {
        list = json_array();
        json_object_setn_new(params, key, klen, list);
    }
    json_array_append_new(list, s);
}

/*  The value of a hex digit, -1 for another character. */
static int
s_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*  Decodes len bytes of src (%XX escapes; '+' is a space when form) into
 *  dst, with a NUL after them: their length, or -1 when they do not fit in
 *  size bytes. A '%' without two hex digits after it stays as it is. */
int
ru_reqparse_url_decode(const char *src, size_t len, char *dst, size_t size, int form)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (n + 1 >= size)
            return -1;
        if (src[i] == '%' && i + 2 < len && s_hex(src[i + 1]) >= 0 && s_hex(src[i + 2]) >= 0) {
            dst[n++] = (char) (s_hex(src[i + 1]) << 4 | s_hex(src[i + 2]));
            i += 2;
        } else
            dst[n++] = form && src[i] == '+' ? ' ' : src[i];
    }
    if (size == 0)
        return -1;
    dst[n] = '\0';
    return (int) n;
}

/*  Adds the pairs of an x-www-form-urlencoded string to params.
 *  Returns 0, or -1 when a value is not UTF-8. */
static int
s_parse_form(const char *data, size_t len, json_t *params)
{
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && data[end] != '&')
            end++;
        const char *eq = memchr(data + i, '=', end - i);
        if (eq && eq > data + i) {
            char key[128], *val = malloc(end - i + 1);
            int klen =
                ru_reqparse_url_decode(data + i, (size_t) (eq - data - i), key, sizeof key, 1);
            int vlen = val ? ru_reqparse_url_decode(eq + 1, (size_t) (data + end - eq - 1), val,
                                                    end - i + 1, 1)
                           : -1;
            json_t *s = vlen >= 0 ? json_stringn(val, (size_t) vlen) : NULL;
            free(val);
            if (!s)
                return -1;
            if (klen > 0)
                s_param_set(params, key, (size_t) klen, s);
            else
                json_decref(s);
        }
        i = end + 1;
    }
    return 0;
}

/*  Adds the fields of a multipart/form-data body (RFC 7578, ru_multipart.h)
 *  to params; file parts are left to the handler that takes them. 0, or
 *  the status of a refusal with why. */
static int
s_parse_multipart(const char *type, const char *body, size_t len,
                  const ru_multipart_limits_t *limits, json_t *params, char *why, size_t size)
{
    ru_multipart_t mp;
    memset(&mp, 0, sizeof mp);
    ru_err err = ru_multipart_parse(&mp, type, body, len, limits, why, size);
    if (err)
        return err == RU_E_TYPE ? 415 : 400;
    int status = 0;
    for (size_t i = 0; !status && i < mp.n; i++) {
        const ru_multipart_part_t *part = &mp.parts[i];
        if (part->filename)
            continue;
        json_t *v = json_stringn(part->data, part->len); /* NULL unless UTF-8 */
        if (!v) {
            snprintf(why, size, "the multipart/form-data field %s is not UTF-8", part->name);
            status = 400;
            break;
        }
        char name[128];
        size_t nlen = strlen(part->name);
        if (nlen >= sizeof name) {
            json_decref(v);
            continue;
        }
        memcpy(name, part->name, nlen + 1);
        s_param_set(params, name, nlen, v);
    }
    ru_multipart_fini(&mp);
    return status;
}

/*  Does v, a parameter's value, hold a string with a NUL byte (in a list
 *  or an object of a JSON body too)? */
static int
s_nul_in(const json_t *v)
{
    size_t i, klen;
    const char *key;
    json_t *x;
    if (json_is_string(v))
        return memchr(json_string_value(v), '\0', json_string_length(v)) != NULL;
    json_array_foreach(v, i, x)
    {
        if (s_nul_in(x))
            return 1;
    }
    json_object_keylen_foreach((json_t *) v, key, klen, x)
    {
        if (memchr(key, '\0', klen) || s_nul_in(x))
            return 1;
    }
    return 0;
}

/*  A parameter whose name or text holds a NUL byte, which every C string
 *  of the handlers would silently cut short ("abc%00def" read as "abc"):
 *  refused here, once for every route and every way a client sends
 *  parameters (query string, form, JSON's \u0000, multipart). 422 with
 *  why, or 0. */
static int
s_nul_param(json_t *params, char *why, size_t size)
{
    const char *key;
    size_t klen;
    json_t *v;
    json_object_keylen_foreach(params, key, klen, v)
    {
        if (memchr(key, '\0', klen) || s_nul_in(v)) {
            snprintf(why, size, "Validation failed: %s holds a NUL byte (%%00, \\u0000)", key);
            return 422;
        }
    }
    return 0;
}

int
ru_reqparse_query_bad(const char *query)
{
    json_t *params = json_object();
    int bad = !params || s_parse_form(query, strlen(query), params) != 0 || s_nul_in(params);
    json_decref(params);
    return bad;
}

/*  Adds the members of a JSON body, which must be an object, to params:
 *  0, or 400 with why. */
static int
s_json(json_t *params, const char *body, size_t len, long max_depth, char *why, size_t size)
{
    if (ru_jsondepth(body, len, max_depth) > max_depth) {
        snprintf(why, size, "the JSON body nests deeper than %ld levels ([http] max_json_depth)",
                 max_depth);
        return 400;
    }
    json_error_t jerr;
    json_t *obj = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    int status = 0;
    if (!json_is_object(obj)) {
        snprintf(why, size, "the body is not a JSON object: %s", jerr.text);
        status = 400;
    } else
        json_object_update(params, obj);
    json_decref(obj);
    return status;
}

/*  Adds the parameters of a body of type to params: 0, or a refusal's
 *  status with why. (A body over max_body never gets here: h2o refuses
 *  it, and the core's filter makes that JSON.) */
static int
s_body(json_t *params, const char *type, const char *body, size_t len, long max_depth,
       const ru_multipart_limits_t *limits, char *why, size_t size)
{
    if (!len)
        return 0;
    if (type && strncasecmp(type, "application/json", 16) == 0)
        return s_json(params, body, len, max_depth, why, size);
    if (type && strncasecmp(type, "application/x-www-form-urlencoded", 33) == 0) {
        if (!s_parse_form(body, len, params))
            return 0;
        snprintf(why, size, "form values must be UTF-8");
        return 400;
    }
    if (type && strncasecmp(type, "multipart/form-data", 19) == 0)
        return s_parse_multipart(type, body, len, limits, params, why, size);
    snprintf(why, size,
             "send the body as application/json, application/x-www-form-urlencoded "
             "or multipart/form-data");
    return 415;
}

int
ru_reqparse_params(json_t *params, const char *query, const char *type, const char *body,
                   size_t len, long max_depth, const ru_multipart_limits_t *limits, char *why,
                   size_t size)
{
    if (query && s_parse_form(query, strlen(query), params)) {
        snprintf(why, size, "query parameters must be UTF-8");
        return 400;
    }
    int status = s_body(params, type, body, len, max_depth, limits, why, size);
    return status ? status : s_nul_param(params, why, size);
}

/*  Does path match pattern? Fills req->args with the ":x" segments. */
int
ru_reqparse_match(const char *pattern, const char *path, ru_req_t *req)
{
    int nargs = 0;
    while (*pattern && *path) {
        if (*pattern != ':') {
            if (*pattern++ != *path++)
                return 0;
            continue;
        }
        const char *end = strchr(path, '/');
        size_t n = end ? (size_t) (end - path) : strlen(path);
        if (n == 0 || n >= sizeof req->args[0] || nargs == RU_HTTP_MAX_ARGS)
            return 0;
        memcpy(req->args[nargs], path, n);
        req->args[nargs++][n] = '\0';
        path += n;
        while (*pattern && *pattern != '/')
            pattern++;
    }
    return *pattern == '\0' && (*path == '\0' || strcmp(path, "/") == 0); /* "/x/" is "/x" */
}

/*  The digits at the start of [v, ve). */
static long
s_digits(const char *v, const char *ve)
{
    const char *p = v;
    while (p < ve && *p >= '0' && *p <= '9')
        p++;
    return (long) (p - v);
}

int
ru_reqparse_head(const char *head, size_t len, long max_headers, long max_bytes, char *why,
                 size_t size)
{
    const char *p = head, *end = head + len;
    while (p < end && (*p == '\r' || *p == '\n'))
        p++;
    const char *eol = memchr(p, '\n', (size_t) (end - p)); /* the request line */
    long count = 0, bytes = 0, lengths = 0, chunked = 0, bad = 0;
    for (p = eol ? eol + 1 : end; p < end; p = eol + 1) {
        if (!(eol = memchr(p, '\n', (size_t) (end - p))))
            break;
        size_t n = (size_t) (eol - p) - (eol > p && eol[-1] == '\r');
        if (n == 0)
            break; /* the blank line: the head ends */
        count++;
        bytes += (long) n;
        const char *colon = memchr(p, ':', n), *v = colon ? colon + 1 : p, *ve = p + n;
        if (colon && colon - p == 14 && strncasecmp(p, "content-length", 14) == 0) {
            lengths++;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            bad |= v == ve || ve - v > 18 || s_digits(v, ve) < ve - v;
        } else if (colon && colon - p == 17 && strncasecmp(p, "transfer-encoding", 17) == 0)
            chunked = 1;
    }
    if (count > max_headers || bytes > max_bytes) {
        snprintf(why, size,
                 "at most %ld header lines of %ld bytes in all ([http] max_headers, "
                 "max_header_bytes)",
                 max_headers, max_bytes);
        return 431;
    }
    const char *framing = lengths > 1          ? "two Content-Length headers"
                          : bad                ? "a Content-Length that is not a number"
                          : lengths && chunked ? "Content-Length and Transfer-Encoding together"
                                               : NULL;
    if (framing)
        snprintf(why, size, "%s: the body cannot be framed", framing);
    return framing ? 400 : 0;
}

/*  The decimal number at *p (at most 19 digits), *p moved past it; -1
 *  when there is none. */
static int64_t
s_number(const char **p)
{
    uint64_t v = 0; /* 19 digits fit, though not all below INT64_MAX */
    int digits = 0;
    while (**p >= '0' && **p <= '9' && digits < 19) {
        v = v * 10 + (uint64_t) (**p - '0');
        (*p)++;
        digits++;
    }
    return digits && !(**p >= '0' && **p <= '9') && v <= INT64_MAX ? (int64_t) v : -1;
}

int
ru_reqparse_range(const char *value, uint64_t size, uint64_t *off, uint64_t *len)
{
    if (!value || strncmp(value, "bytes=", 6) != 0 || strchr(value, ','))
        return 0;
    const char *p = value + 6;
    int64_t first = *p == '-' ? -1 : s_number(&p);
    if (*p++ != '-' || (first < 0 && p - value != 7))
        return 0;
    int64_t last = *p ? s_number(&p) : -1;
    if (*p != '\0' || (first < 0 && last < 0) || (first >= 0 && last >= 0 && last < first))
        return 0;
    if (first < 0) { /* the last `last` bytes */
        if (last == 0 || size == 0)
            return -1;
        *len = (uint64_t) last < size ? (uint64_t) last : size;
        *off = size - *len;
        return 1;
    }
    if ((uint64_t) first >= size)
        return -1;
    uint64_t end = last < 0 || (uint64_t) last >= size ? size - 1 : (uint64_t) last;
    *off = (uint64_t) first;
    *len = end - (uint64_t) first + 1;
    return 1;
}
