/*  ru_entity.c - scanning text for hashtags, mentions and links (rules in
 *  ru_entity.h). One pass, no allocation, no regular expressions.
 *
 *  Links are looked for first at every place an entity may start: the
 *  scan then goes on after the link's run, so no tag or mention is ever
 *  found inside one.
 */
#include "ru_entity.h"

#include <string.h>

static int
s_tag_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c >= 0x80;
}

static int
s_name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

static char
s_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}

/*  An entity may start at i if what precedes it is a boundary. */
static int
s_boundary(const char *text, size_t i)
{
    if (i == 0)
        return 1;
    unsigned char c = (unsigned char) text[i - 1];
    return !s_tag_char(c) && !strchr("@#/.-", c);
}

/*  Length of the run of name characters at text[i], trailing '.' and '-'
 *  left out ("@bob." ends a sentence). */
static size_t
s_name_run(const char *text, size_t len, size_t i)
{
    size_t n = 0;
    while (i + n < len && s_name_char((unsigned char) text[i + n]))
        n++;
    while (n > 0 && (text[i + n - 1] == '.' || text[i + n - 1] == '-'))
        n--;
    return n;
}

static void
s_copy_lower(char *out, const char *in, size_t n)
{
    for (size_t k = 0; k < n; k++)
        out[k] = s_lower(in[k]);
    out[n] = '\0';
}

static int
s_tag(const char *text, size_t len, size_t i, ru_entity_t *e)
{
    size_t n = 0;
    while (i + 1 + n < len && s_tag_char((unsigned char) text[i + 1 + n]))
        n++;
    if (n == 0 || n > RU_MAX_TAG)
        return 0;
    e->kind = RU_ENTITY_TAG;
    e->start = i;
    e->len = 1 + n;
    s_copy_lower(e->name, text + i + 1, n);
    e->site[0] = '\0';
    return 1;
}

static int
s_mention(const char *text, size_t len, size_t i, ru_entity_t *e)
{
    size_t n = s_name_run(text, len, i + 1);
    unsigned char first = n ? (unsigned char) text[i + 1] : 0;
    if (n == 0 || n > RU_MAX_NAME || !s_tag_char(first) || first == '_')
        return 0;
    e->kind = RU_ENTITY_MENTION;
    e->start = i;
    e->len = 1 + n;
    s_copy_lower(e->name, text + i + 1, n);
    e->site[0] = '\0';
    size_t at = i + 1 + n;
    if (at < len && text[at] == '@') {
        size_t m = s_name_run(text, len, at + 1);
        if (m > 0 && m <= RU_MAX_NAME) {
            s_copy_lower(e->site, text + at + 1, m);
            e->len += 1 + m;
        }
    }
    return 1;
}

/*  Length of "http://" or "https://" at text[i] (either case) when a host
 *  follows it, else 0. */
static size_t
s_url_scheme(const char *text, size_t len, size_t i)
{
    static const char *const schemes[] = {"http://", "https://"};
    for (size_t k = 0; k < 2; k++) {
        size_t n = strlen(schemes[k]);
        if (len - i <= n)
            continue;
        size_t j = 0;
        while (j < n && s_lower(text[i + j]) == schemes[k][j])
            j++;
        unsigned char host = (unsigned char) text[i + n];
        if (j == n && (s_tag_char(host) || host == '['))
            return n;
    }
    return 0;
}

/*  Length of the character at text[i] if it ends a link's run (white
 *  space, controls, characters URLs never hold raw), else 0. */
static size_t
s_url_stop(const char *text, size_t len, size_t i)
{
    unsigned char c = (unsigned char) text[i];
    if (c <= 0x20 || c == 0x7f || strchr("<>\"`{}|\\^", c))
        return 1;
    if (c == 0xc2 && i + 1 < len && (unsigned char) text[i + 1] == 0xa0)
        return 2; /* U+00A0 no-break space */
    if (c == 0xe3 && i + 2 < len && (unsigned char) text[i + 1] == 0x80 &&
        (unsigned char) text[i + 2] == 0x80)
        return 3; /* U+3000 ideographic space */
    return 0;
}

/*  How many of c are in s[0..n). */
static size_t
s_count(const char *s, size_t n, char c)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == c;
    return k;
}

/*  The length of a link's run of n bytes once what ends the sentence
 *  around it is left out. */
static size_t
s_url_trim(const char *s, size_t n)
{
    for (;;) {
        char last = s[n - 1];
        if (strchr(".,;:!?'*", last) || (last == ')' && s_count(s, n, ')') > s_count(s, n, '(')) ||
            (last == ']' && s_count(s, n, ']') > s_count(s, n, '[')))
            n--;
        else
            return n;
    }
}

/*  A link at text[i], or 0; *run is set to the length of the whole run
 *  from i (a run too long to be a link is skipped by the caller all the
 *  same). */
static int
s_url(const char *text, size_t len, size_t i, ru_entity_t *e, size_t *run)
{
    size_t scheme = s_url_scheme(text, len, i);
    *run = 0;
    if (!scheme)
        return 0;
    size_t n = scheme;
    while (i + n < len && !s_url_stop(text, len, i + n))
        n++;
    *run = n;
    n = s_url_trim(text + i, n);
    if (n > RU_MAX_URL || n <= scheme)
        return 0;
    e->kind = RU_ENTITY_URL;
    e->start = i;
    e->len = n;
    e->name[0] = '\0';
    e->site[0] = '\0';
    return 1;
}

int
ru_entity_next(const char *text, size_t len, size_t *pos, ru_entity_t *e)
{
    for (size_t i = *pos; i < len; i++) {
        if (!text[i] || !strchr("#@hH", text[i]) || !s_boundary(text, i))
            continue;
        size_t run;
        if (s_url(text, len, i, e, &run)) {
            *pos = e->start + e->len;
            return 1;
        }
        if (run) {
            i += run - 1; /* no link, but nothing inside is an entity either */
            continue;
        }
        if (text[i] != '#' && text[i] != '@')
            continue;
        int found = text[i] == '#' ? s_tag(text, len, i, e) : s_mention(text, len, i, e);
        if (found) {
            *pos = e->start + e->len;
            return 1;
        }
    }
    *pos = len;
    return 0;
}

int
ru_entity_first_url(const char *text, size_t len, size_t *start, size_t *url_len)
{
    size_t pos = 0;
    ru_entity_t e;
    while (ru_entity_next(text, len, &pos, &e))
        if (e.kind == RU_ENTITY_URL) {
            *start = e.start;
            *url_len = e.len;
            return 1;
        }
    return 0;
}
