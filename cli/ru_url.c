/*  ru_url.c - percent-encoding, query parameters, Link headers and server
 *  URLs (see ru_url.h).
 */
#include "ru_url.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ruche/ru_buf.h"

static int
s_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

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

/*  Copies n bytes of s into a new NUL-terminated string. */
static ru_err
s_dup(const char *s, size_t n, char **out)
{
    char *copy = malloc(n + 1);
    if (copy == NULL)
        return RU_E_NOMEM;
    memcpy(copy, s, n);
    copy[n] = '\0';
    *out = copy;
    return RU_OK;
}

ru_err
ru_url_escape(const char *s, char **out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    *out = NULL;
    char *e = malloc(3 * n + 1);
    if (e == NULL)
        return RU_E_NOMEM;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];
        if (s_unreserved(c)) {
            e[j++] = (char) c;
        } else {
            e[j++] = '%';
            e[j++] = hex[c >> 4];
            e[j++] = hex[c & 15];
        }
    }
    e[j] = '\0';
    *out = e;
    return RU_OK;
}

/*  Percent-decodes the n bytes at s ('+' is a space) into a new string. */
static ru_err
s_decode(const char *s, size_t n, char **out)
{
    char *d = malloc(n + 1);
    if (d == NULL)
        return RU_E_NOMEM;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi = i + 2 < n ? s_hex(s[i + 1]) : -1;
            int lo = hi >= 0 ? s_hex(s[i + 2]) : -1;
            if (lo < 0 || (hi == 0 && lo == 0)) {
                free(d);
                return RU_E_TEXT_FORM;
            }
            d[j++] = (char) (hi * 16 + lo);
            i += 2;
        } else {
            d[j++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    d[j] = '\0';
    *out = d;
    return RU_OK;
}

ru_err
ru_url_query_get(const char *url, const char *key, char **out)
{
    size_t klen = strlen(key);
    const char *q = strchr(url, '?');
    *out = NULL;
    if (q == NULL)
        return RU_E_NOT_FOUND;
    q++;
    const char *end = q + strcspn(q, "#");
    while (q < end) {
        size_t plen = strcspn(q, "&#");
        if (plen > klen && strncmp(q, key, klen) == 0 && q[klen] == '=')
            return s_decode(q + klen + 1, plen - klen - 1, out);
        q += plen;
        if (q < end)
            q++; /* the '&' */
    }
    return RU_E_NOT_FOUND;
}

/*  Is "next" among the space-separated relations of the n bytes at v? */
static int
s_rel_has_next(const char *v, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && v[i] == ' ')
            i++;
        size_t start = i;
        while (i < n && v[i] != ' ')
            i++;
        if (i - start == 4 && strncasecmp(v + start, "next", 4) == 0)
            return 1;
    }
    return 0;
}

/*  Looks at the parameters of one link (from after '>' to the ',' ending
 *  the link, or the end). Sets *next when a rel parameter names "next".
 *  Returns where the link ends. */
static const char *
s_link_params(const char *p, int *next)
{
    *next = 0;
    while (*p != '\0' && *p != ',') {
        p += strspn(p, " \t;");
        const char *name = p;
        p += strcspn(p, "=;,");
        int is_rel = p - name >= 3 && strncasecmp(name, "rel", 3) == 0 &&
                     strspn(name + 3, " \t") == (size_t) (p - name - 3);
        if (*p != '=')
            continue;
        p += 1 + strspn(p + 1, " \t");
        const char *v = p;
        size_t vlen;
        if (*p == '"') {
            const char *close = strchr(p + 1, '"');
            v = p + 1;
            vlen = close ? (size_t) (close - v) : strlen(v);
            p = close ? close + 1 : v + vlen;
        } else {
            vlen = strcspn(p, ";, \t");
            p += vlen;
        }
        if (is_rel && s_rel_has_next(v, vlen))
            *next = 1;
    }
    return p;
}

ru_err
ru_url_link_next(const char *link, char **out)
{
    const char *p = link;
    *out = NULL;
    for (;;) {
        p += strspn(p, " \t,");
        if (*p != '<')
            return RU_E_NOT_FOUND;
        const char *close = strchr(p + 1, '>');
        if (close == NULL)
            return RU_E_NOT_FOUND;
        int next;
        const char *end = s_link_params(close + 1, &next);
        if (next)
            return s_dup(p + 1, (size_t) (close - p - 1), out);
        p = end;
    }
}

/*  Length of the scheme prefix ("http://" or "https://") of url, or 0. */
static size_t
s_scheme(const char *url, int *https)
{
    *https = strncasecmp(url, "https://", 8) == 0;
    if (*https)
        return 8;
    return strncasecmp(url, "http://", 7) == 0 ? 7 : 0;
}

ru_err
ru_url_server(const char *url, char **out)
{
    int https;
    size_t skip = s_scheme(url, &https);
    *out = NULL;
    if (skip == 0)
        return RU_E_INVALID;
    const char *rest = url + skip;
    size_t n = strlen(rest);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) rest[i];
        if (c <= ' ' || c == 0x7F || c == '?' || c == '#' || c == '@' || c == '\\')
            return RU_E_INVALID;
    }
    while (n > 0 && rest[n - 1] == '/')
        n--;
    if (n == 0 || rest[0] == '/' || rest[0] == ':')
        return RU_E_INVALID;
    ru_buf_t buf;
    ru_buf_init(&buf);
    ru_buf_append(&buf, https ? "https://" : "http://", skip);
    ru_buf_append(&buf, rest, n);
    ru_buf_append(&buf, "", 1);
    if (ru_buf_status(&buf) != RU_OK) {
        ru_buf_fini(&buf);
        return RU_E_NOMEM;
    }
    *out = (char *) buf.data;
    return RU_OK;
}
