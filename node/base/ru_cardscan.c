/*  ru_cardscan.c - the head of an HTML page read for a link preview
 *  (rules in ru_cardscan.h).
 *
 *  One pass over the bytes: at each '<' the tag is classified by its name,
 *  and the scan moves past it (past its content too for comments, scripts
 *  and styles). Every search is bounded by the end of the input, so a page
 *  cut anywhere, or never closing a quote or a tag, ends the scan, never
 *  reads beyond it. Fields are written through s_text_put, which alone
 *  decides what reaches a client.
 */
#include "ru_cardscan.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ruche/ru_text.h"

/*  A field being filled: its buffer and size, and whether a space is due
 *  before the next character (white space collapses). */
typedef struct {
    char *out;
    size_t size, len;
    int space, full;
} s_field;

static int
s_is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/*  Position of the first case-insensitive occurrence of needle in
 *  s[from..len), or len. */
static size_t
s_find(const char *s, size_t len, size_t from, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = from; i + n <= len; i++)
        if (strncasecmp(s + i, needle, n) == 0)
            return i;
    return len;
}

/*  Appends one code point (UTF-8 of n bytes at p) to f, unless it is a
 *  control character or f is full (it then stays full: no later, shorter
 *  character slips in after a cut). */
static void
s_put(s_field *f, const char *p, size_t n)
{
    unsigned char c = (unsigned char) p[0];
    if (f->full)
        return;
    if (n == 1 && s_is_space(c)) {
        f->space = f->len > 0;
        return;
    }
    if ((n == 1 && (c < 0x20 || c == 0x7f)) || (n == 2 && c == 0xc2 && (unsigned char) p[1] < 0xa0))
        return; /* C0, DEL, C1 */
    size_t need = n + (size_t) f->space;
    if (f->len + need >= f->size) {
        f->full = 1;
        return;
    }
    if (f->space)
        f->out[f->len++] = ' ';
    memcpy(f->out + f->len, p, n);
    f->len += n;
    f->out[f->len] = '\0';
    f->space = 0;
}

static void
s_put_cp(s_field *f, uint32_t cp)
{
    char b[4];
    size_t n;
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        cp = 0xFFFD;
    if (cp < 0x80) {
        b[0] = (char) cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char) (0xC0 | (cp >> 6));
        b[1] = (char) (0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char) (0xE0 | (cp >> 12));
        b[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char) (0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char) (0xF0 | (cp >> 18));
        b[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char) (0x80 | (cp & 0x3F));
        n = 4;
    }
    s_put(f, b, n);
}

/*  Decodes the entity at s[0..len) (s[0] is '&'): returns its length and
 *  sets *cp, or 0 when it is none that is known (the '&' is then text). */
static size_t
s_entity(const char *s, size_t len, uint32_t *cp)
{
    static const struct {
        const char *name;
        uint32_t cp;
    } named[] = {{"&amp;", '&'},  {"&lt;", '<'},    {"&gt;", '>'},
                 {"&quot;", '"'}, {"&apos;", '\''}, {"&nbsp;", ' '}};
    for (size_t k = 0; k < sizeof named / sizeof named[0]; k++) {
        size_t n = strlen(named[k].name);
        if (n <= len && strncasecmp(s, named[k].name, n) == 0) {
            *cp = named[k].cp;
            return n;
        }
    }
    if (len < 4 || s[1] != '#')
        return 0;
    int hex = s[2] == 'x' || s[2] == 'X';
    uint32_t v = 0;
    size_t i = 2 + (size_t) hex, digits = 0;
    for (; i < len && digits < 8; i++, digits++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'                            ? c - '0'
                : hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10
                                                                : -1;
        if (d < 0)
            break;
        v = v * (hex ? 16u : 10u) + (uint32_t) d;
    }
    if (digits == 0 || i >= len || s[i] != ';')
        return 0;
    *cp = v;
    return i + 1;
}

/*  Writes the raw text s[0..len) into out (size bytes) as ru_cardscan.h
 *  says: entities decoded, UTF-8 made valid, controls dropped, white space
 *  collapsed and trimmed, cut at a character. */
static void
s_text(char *out, size_t size, const char *s, size_t len)
{
    s_field f = {out, size, 0, 0, 0};
    out[0] = '\0';
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = s[i] == '&' ? s_entity(s + i, len - i, &cp) : 0;
        if (n) {
            s_put_cp(&f, cp);
            i += n;
            continue;
        }
        unsigned char c = (unsigned char) s[i];
        n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (n > len - i || ru_utf8_check(s + i, n, NULL) != RU_OK) {
            s_put_cp(&f, 0xFFFD);
            i++;
            continue;
        }
        s_put(&f, s + i, n);
        i += n;
    }
}

/*  The attributes of a meta tag that matter. */
typedef struct {
    const char *key, *content; /* property (or name), content */
    size_t key_len, content_len;
} s_meta;

/*  Reads the attributes of the tag whose name ends at s[i], up to its '>'
 *  (into m when m is not NULL); returns the position after the '>', or
 *  len when the tag never closes. */
static size_t
s_attrs(const char *s, size_t len, size_t i, s_meta *m)
{
    while (i < len && s[i] != '>') {
        if (s_is_space((unsigned char) s[i]) || s[i] == '/') {
            i++;
            continue;
        }
        size_t name = i;
        while (i < len && !s_is_space((unsigned char) s[i]) && s[i] != '=' && s[i] != '>' &&
               s[i] != '/')
            i++;
        if (i == name && s[i] != '=') {
            i++; /* a stray byte: no attribute */
            continue;
        }
        size_t name_len = i - name, value = i, value_len = 0;
        while (i < len && s_is_space((unsigned char) s[i]))
            i++;
        if (i < len && s[i] == '=') {
            i++;
            while (i < len && s_is_space((unsigned char) s[i]))
                i++;
            char quote = i < len && (s[i] == '"' || s[i] == '\'') ? s[i] : 0;
            i += quote != 0;
            value = i;
            while (i < len &&
                   (quote ? s[i] != quote : !s_is_space((unsigned char) s[i]) && s[i] != '>'))
                i++;
            value_len = i - value;
            i += quote != 0 && i < len;
        }
        if (!m || name_len == 0)
            continue;
        if ((name_len == 8 && strncasecmp(s + name, "property", 8) == 0) ||
            (name_len == 4 && strncasecmp(s + name, "name", 4) == 0 && !m->key)) {
            m->key = s + value;
            m->key_len = value_len;
        } else if (name_len == 7 && strncasecmp(s + name, "content", 7) == 0) {
            m->content = s + value;
            m->content_len = value_len;
        }
    }
    return i < len ? i + 1 : len;
}

/*  What the scan has found so far: each field is taken from the first
 *  tag that gives it. */
typedef struct {
    ru_cardscan_t *out;
    int og_title, og_description;
} s_scan;

/*  Sets field (size bytes) to m's content unless that is empty once
 *  cleaned; *have (when not NULL) notes that it was set. */
static void
s_take(char *field, size_t size, int *have, const s_meta *m)
{
    char text[RU_MAX_URL + 1];
    s_text(text, size < sizeof text ? size : sizeof text, m->content, m->content_len);
    if (!text[0])
        return;
    memcpy(field, text, strlen(text) + 1);
    if (have)
        *have = 1;
}

static void
s_on_meta(s_scan *sc, const s_meta *m)
{
    ru_cardscan_t *o = sc->out;
    if (!m->key || !m->content)
        return;
#define S_KEY(k) (m->key_len == strlen(k) && strncasecmp(m->key, k, m->key_len) == 0)
    if (S_KEY("og:title") && !sc->og_title)
        s_take(o->title, sizeof o->title, &sc->og_title, m);
    else if (S_KEY("og:description") && !sc->og_description)
        s_take(o->description, sizeof o->description, &sc->og_description, m);
    else if (S_KEY("description") && !sc->og_description && !o->description[0])
        s_take(o->description, sizeof o->description, NULL, m);
    else if (S_KEY("og:site_name") && !o->provider[0])
        s_take(o->provider, sizeof o->provider, NULL, m);
    else if (S_KEY("og:image") && !o->image[0] && m->content_len <= RU_MAX_URL)
        s_take(o->image, sizeof o->image, NULL, m);
#undef S_KEY
}

/*  Is the tag at s[i] (just after '<') named name, whole? */
static int
s_tag_is(const char *s, size_t len, size_t i, const char *name)
{
    size_t n = strlen(name);
    return i + n < len && strncasecmp(s + i, name, n) == 0 &&
           (s_is_space((unsigned char) s[i + n]) || s[i + n] == '>' || s[i + n] == '/');
}

/*  Handles the tag at s[i] (just after '<'); returns where the scan goes
 *  on, or len to stop (the head is over). */
static size_t
s_tag(s_scan *sc, const char *s, size_t len, size_t i)
{
    if (i + 3 <= len && strncmp(s + i, "!--", 3) == 0) {
        size_t end = s_find(s, len, i + 3, "-->");
        return end < len ? end + 3 : len;
    }
    if (s_tag_is(s, len, i, "/head") || s_tag_is(s, len, i, "body"))
        return len;
    if (s_tag_is(s, len, i, "meta")) {
        s_meta m = {NULL, NULL, 0, 0};
        size_t next = s_attrs(s, len, i + 4, &m);
        s_on_meta(sc, &m);
        return next;
    }
    static const char *const raw[] = {"title", "script", "style"};
    for (size_t k = 0; k < 3; k++) {
        if (!s_tag_is(s, len, i, raw[k]))
            continue;
        size_t start = s_attrs(s, len, i + strlen(raw[k]), NULL);
        char close[10];
        snprintf(close, sizeof close, "</%s", raw[k]);
        size_t end = s_find(s, len, start, close);
        if (k == 0 && !sc->out->title[0] && end < len)
            s_text(sc->out->title, sizeof sc->out->title, s + start, end - start);
        return end;
    }
    return s_attrs(s, len, i, NULL);
}

int
ru_cardscan(const char *html, size_t len, ru_cardscan_t *out)
{
    memset(out, 0, sizeof *out);
    s_scan sc = {out, 0, 0};
    size_t i = 0;
    while (i < len) {
        const char *lt = memchr(html + i, '<', len - i);
        if (!lt)
            break;
        i = s_tag(&sc, html, len, (size_t) (lt - html) + 1);
    }
    return out->title[0] != '\0';
}
