/*  ru_html.c - status HTML to terminal text (see ru_html.h).
 *
 *  The converter is a single pass over the input with a little state: text
 *  is copied out code point by code point, white space is remembered
 *  rather than written (so runs collapse and nothing trails), and a line or
 *  paragraph break that a tag asks for is written only when the next piece
 *  of text arrives. That way "</p><p>", "<p></p>" and a trailing "</p>"
 *  need no special cases. It is not an HTML parser and does not try to be:
 *  status HTML is a handful of inline tags inside paragraphs.
 *
 *  Every code point goes through one filter (s_put_cp), so neither raw
 *  bytes nor decoded entities can smuggle a control character, and
 *  invalid UTF-8 becomes '?'.
 */
#include "ru_html.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ruche/ru_buf.h"

#define S_REPLACEMENT 0xFFFDu
#define S_MAX_ENTITY 32 /* longest "&...;" looked at */

typedef struct {
    ru_buf_t buf;
    int space; /* white space seen since the last text written */
    int para;  /* a paragraph break is due before the next text */
    int line;  /* a line break is due before the next text */
} s_out_t;

/*  Decodes one UTF-8 sequence of at most avail bytes into *cp. Returns its
 *  length, or 0 when the bytes are not a valid, shortest-form sequence of
 *  a character (surrogates and values above U+10FFFF are invalid). */
static size_t
s_utf8_next(const unsigned char *p, size_t avail, uint32_t *cp)
{
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    size_t n;
    uint32_t v;
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        n = 2, v = p[0] & 0x1Fu;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF)
        n = 3, v = p[0] & 0x0Fu;
    else if (p[0] >= 0xF0 && p[0] <= 0xF4)
        n = 4, v = p[0] & 0x07u;
    else
        return 0;
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3Fu);
    }
    if (v < min[n] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

static void
s_append_utf8(ru_buf_t *buf, uint32_t cp)
{
    unsigned char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (unsigned char) cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char) (0xC0 | (cp >> 6));
        b[1] = (unsigned char) (0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char) (0xE0 | (cp >> 12));
        b[1] = (unsigned char) (0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char) (0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (unsigned char) (0xF0 | (cp >> 18));
        b[1] = (unsigned char) (0x80 | ((cp >> 12) & 0x3F));
        b[2] = (unsigned char) (0x80 | ((cp >> 6) & 0x3F));
        b[3] = (unsigned char) (0x80 | (cp & 0x3F));
        n = 4;
    }
    ru_buf_append(buf, b, n);
}

/*  Control characters: C0, DEL and C1. */
static int
s_is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

/*  Hands the buffer's bytes over as a NUL-terminated string. */
static ru_err
s_finish(ru_buf_t *buf, char **out)
{
    ru_buf_append(buf, "", 1);
    if (ru_buf_status(buf) != RU_OK) {
        ru_buf_fini(buf);
        return RU_E_NOMEM;
    }
    *out = (char *) buf->data;
    return RU_OK;
}

static size_t
s_trailing_newlines(const ru_buf_t *buf)
{
    size_t n = 0;
    while (n < buf->len && buf->data[buf->len - 1 - n] == '\n')
        n++;
    return n;
}

/*  Writes the break or the space that is due, then forgets them all. */
static void
s_flush_pending(s_out_t *o)
{
    if (o->buf.len > 0) {
        size_t want = o->para ? 2 : o->line ? 1 : 0;
        for (size_t n = s_trailing_newlines(&o->buf); n < want; n++)
            ru_buf_append(&o->buf, "\n", 1);
        char last = (char) o->buf.data[o->buf.len - 1];
        if (want == 0 && o->space && last != '\n' && last != ' ')
            ru_buf_append(&o->buf, " ", 1);
    }
    o->space = o->para = o->line = 0;
}

/*  Writes one code point of text: white space is remembered, controls are
 *  dropped, anything else is written after the pending break or space. */
static void
s_put_cp(s_out_t *o, uint32_t cp)
{
    if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f') {
        o->space = 1;
        return;
    }
    if (s_is_control(cp))
        return;
    s_flush_pending(o);
    s_append_utf8(&o->buf, cp);
}

/*  Value of the digit c in base 10 or 16, or -1. */
static int
s_digit(char c, int base)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (base == 16 && c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (base == 16 && c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*  Decodes the entity at p (just after '&') into *cp. Returns the bytes it
 *  takes up to and including ';', or 0 when p does not start an entity. */
static size_t
s_entity(const char *p, uint32_t *cp)
{
    static const struct {
        const char *name;
        uint32_t cp;
    } named[] = {{"amp", '&'},  {"lt", '<'},    {"gt", '>'},
                 {"quot", '"'}, {"apos", '\''}, {"nbsp", 0xA0}};
    const char *semi = memchr(p, ';', strnlen(p, S_MAX_ENTITY));
    if (semi == NULL || semi == p)
        return 0;
    size_t len = (size_t) (semi - p);
    if (p[0] != '#') {
        for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
            if (strlen(named[i].name) == len && memcmp(named[i].name, p, len) == 0) {
                *cp = named[i].cp;
                return len + 1;
            }
        return 0;
    }
    int hex = len > 1 && (p[1] == 'x' || p[1] == 'X');
    const char *d = p + 1 + hex;
    if (d == semi)
        return 0;
    uint32_t v = 0;
    for (; d < semi; d++) {
        int digit = s_digit(*d, hex ? 16 : 10);
        if (digit < 0)
            return 0;
        if (v <= 0x10FFFF) /* past it, the value is invalid anyway */
            v = v * (hex ? 16u : 10u) + (uint32_t) digit;
    }
    int bad = v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF);
    *cp = bad ? S_REPLACEMENT : v;
    return len + 1;
}

/*  What a tag does to the text around it. */
typedef enum { S_TAG_INLINE, S_TAG_BREAK, S_TAG_PARA, S_TAG_ITEM } s_tag_t;

/*  Classifies the tag whose text (after '<', before '>') is p, n bytes. */
static s_tag_t
s_tag_kind(const char *p, size_t n)
{
    static const char *const para[] = {"p",  "div", "blockquote", "ul", "ol", "pre",
                                       "h1", "h2",  "h3",         "h4", "h5", "h6"};
    char name[12];
    size_t len = 0;
    int closing = n > 0 && p[0] == '/';
    for (size_t i = (size_t) closing; i < n && len < sizeof name - 1; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            break;
        name[len++] = (char) (c | 0x20);
    }
    name[len] = '\0';
    if (strcmp(name, "br") == 0)
        return S_TAG_BREAK;
    for (size_t i = 0; i < sizeof para / sizeof para[0]; i++)
        if (strcmp(name, para[i]) == 0)
            return S_TAG_PARA;
    return strcmp(name, "li") == 0 && !closing ? S_TAG_ITEM : S_TAG_INLINE;
}

static void
s_apply_tag(s_out_t *o, s_tag_t kind)
{
    switch (kind) {
    case S_TAG_BREAK:
        if (o->buf.len > 0)
            ru_buf_append(&o->buf, "\n", 1);
        o->space = 0;
        break;
    case S_TAG_PARA:
        o->para = 1;
        break;
    case S_TAG_ITEM:
        o->line = 1;
        s_flush_pending(o);
        ru_buf_append(&o->buf, "- ", 2);
        break;
    case S_TAG_INLINE:
        break;
    }
}

/*  Could "<" followed by c open a tag? ("a < b" and "<3" are text.) */
static int
s_tag_start(const char *p)
{
    char c = p[0];
    if (c == '/')
        c = p[1];
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '!' || c == '?';
}

/*  Returns the '>' that closes the tag starting at p (after '<'), quotes
 *  respected and comments skipped whole, or NULL when the input ends first. */
static const char *
s_tag_end(const char *p)
{
    if (strncmp(p, "!--", 3) == 0) {
        const char *end = strstr(p + 3, "-->");
        return end ? end + 2 : NULL;
    }
    char quote = 0;
    for (; *p; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
        } else if (*p == '"' || *p == '\'') {
            quote = *p;
        } else if (*p == '>') {
            return p;
        }
    }
    return NULL;
}

/*  Reads one piece of the input at p: a tag, an entity, or one code point
 *  of text. Returns the bytes consumed; 0 at the end of the input. */
static size_t
s_step(s_out_t *o, const char *p)
{
    uint32_t cp;
    size_t n;
    if (p[0] == '<' && s_tag_start(p + 1)) {
        const char *end = s_tag_end(p + 1);
        if (end == NULL)
            return 0; /* a tag left open: drop the rest */
        s_apply_tag(o, s_tag_kind(p + 1, (size_t) (end - p - 1)));
        return (size_t) (end - p) + 1;
    }
    if (p[0] == '&' && (n = s_entity(p + 1, &cp)) > 0) {
        s_put_cp(o, cp);
        return n + 1;
    }
    n = s_utf8_next((const unsigned char *) p, strnlen(p, 4), &cp);
    s_put_cp(o, n ? cp : '?');
    return n ? n : 1;
}

ru_err
ru_html_to_text(const char *html, char **out)
{
    s_out_t o = {.space = 0};
    *out = NULL;
    ru_buf_init(&o.buf);
    size_t i = 0, n;
    while (html[i] != '\0' && (n = s_step(&o, html + i)) > 0)
        i += n;
    while (o.buf.len > 0 && (o.buf.data[o.buf.len - 1] == '\n' || o.buf.data[o.buf.len - 1] == ' '))
        o.buf.len--;
    return s_finish(&o.buf, out);
}

ru_err
ru_html_clean(const char *text, int keep_newlines, char **out)
{
    ru_buf_t buf;
    *out = NULL;
    ru_buf_init(&buf);
    for (size_t i = 0; text[i] != '\0';) {
        uint32_t cp;
        size_t n = s_utf8_next((const unsigned char *) text + i, strnlen(text + i, 4), &cp);
        i += n ? n : 1;
        if (n == 0)
            cp = '?';
        if (cp == '\n' && keep_newlines)
            ru_buf_append(&buf, "\n", 1);
        else if (cp == '\n' || cp == '\t')
            ru_buf_append(&buf, " ", 1);
        else if (!s_is_control(cp))
            s_append_utf8(&buf, cp);
    }
    return s_finish(&buf, out);
}

size_t
ru_html_columns(const char *s, size_t len)
{
    size_t cols = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char) s[i] & 0xC0) != 0x80)
            cols++;
    return cols;
}

/*  Wraps one line (no '\n' in it) of len bytes into buf. */
static void
s_wrap_line(ru_buf_t *buf, const char *line, size_t len, size_t width)
{
    size_t col = 0, i = 0;
    for (;;) {
        while (i < len && line[i] == ' ')
            i++;
        size_t start = i;
        while (i < len && line[i] != ' ')
            i++;
        if (i == start)
            return;
        size_t w = ru_html_columns(line + start, i - start);
        if (col > 0 && col + 1 + w > width) {
            ru_buf_append(buf, "\n", 1);
            col = 0;
        } else if (col > 0) {
            ru_buf_append(buf, " ", 1);
            col++;
        }
        ru_buf_append(buf, line + start, i - start);
        col += w;
    }
}

ru_err
ru_html_wrap(const char *text, size_t width, char **out)
{
    ru_buf_t buf;
    *out = NULL;
    ru_buf_init(&buf);
    if (width == 0)
        width = 1;
    for (;;) {
        const char *eol = strchr(text, '\n');
        size_t len = eol ? (size_t) (eol - text) : strlen(text);
        s_wrap_line(&buf, text, len, width);
        if (eol == NULL)
            break;
        ru_buf_append(&buf, "\n", 1);
        text = eol + 1;
    }
    return s_finish(&buf, out);
}
