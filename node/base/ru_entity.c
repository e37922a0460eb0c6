/*  ru_entity.c - scanning text for hashtags and mentions (rules in
 *  ru_entity.h). One pass, no allocation, no regular expressions.
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

int
ru_entity_next(const char *text, size_t len, size_t *pos, ru_entity_t *e)
{
    for (size_t i = *pos; i < len; i++) {
        if ((text[i] != '#' && text[i] != '@') || !s_boundary(text, i))
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
