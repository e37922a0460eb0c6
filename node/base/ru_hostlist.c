/*  ru_hostlist.c - host names and *.suffix patterns (rules in
 *  ru_hostlist.h). The list is walked word by word at every call: it is
 *  short (a site's intranet hosts), and it is asked once per fetch and per
 *  redirect, never per request.
 */
#include "ru_hostlist.h"

#include <string.h>
#include <strings.h>

#define S_SPACE " \t\r\n"

static int
s_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
}

/*  Is w[0..n) a host name (letters, digits, '-', '_', dots; no empty
 *  label), a pattern or a bracketed IPv6 address? */
static int
s_word_ok(const char *w, size_t n)
{
    if (n > 2 && w[0] == '[' && w[n - 1] == ']') {
        for (size_t i = 1; i + 1 < n; i++)
            if (!strchr("0123456789abcdefABCDEF:.", w[i]))
                return 0;
        return 1;
    }
    if (n > 2 && w[0] == '*' && w[1] == '.') {
        w += 2;
        n -= 2;
    }
    if (n == 0 || w[0] == '.' || w[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!s_name_char(w[i]) || (w[i] == '.' && w[i + 1] == '.'))
            return 0;
    return 1;
}

int
ru_hostlist_check(const char *list, const char **bad, size_t *bad_len)
{
    for (const char *w = list + strspn(list, S_SPACE); *w; w += strspn(w, S_SPACE)) {
        size_t n = strcspn(w, S_SPACE);
        if (!s_word_ok(w, n)) {
            *bad = w;
            *bad_len = n;
            return 0;
        }
        w += n;
    }
    return 1;
}

/*  Does word w[0..n) match host[0..h)? */
static int
s_word_match(const char *w, size_t n, const char *host, size_t h)
{
    if (n > 2 && w[0] == '*' && w[1] == '.')
        return h > n - 1 && strncasecmp(host + h - (n - 1), w + 1, n - 1) == 0;
    return h == n && strncasecmp(host, w, n) == 0;
}

int
ru_hostlist_match(const char *list, const char *host)
{
    size_t h = strlen(host);
    if (h > 1 && host[h - 1] == '.')
        h--;
    if (h == 0)
        return 0;
    for (const char *w = list + strspn(list, S_SPACE); *w; w += strspn(w, S_SPACE)) {
        size_t n = strcspn(w, S_SPACE);
        if (s_word_match(w, n, host, h))
            return 1;
        w += n;
    }
    return 0;
}
