/*  ru_multipart.c - the parts of a multipart/form-data body (see
 *  ru_multipart.h).
 *
 *  The parse is one pass. The boundary comes first, from the
 *  Content-Type; then, from the first delimiter on, each part's header
 *  lines are read one at a time (never further than the limit of header
 *  bytes, so that a body without a blank line is not scanned to its end
 *  once per part) and the next delimiter is searched for from its data.
 *
 *  The search (s_find) looks for the delimiter with its leading CRLF,
 *  "\r\n--BOUNDARY". A boundary holds no CR (RFC 2046's characters do not
 *  include it), so the needle's first byte occurs nowhere else in it: a
 *  comparison started at one CR of the body fails at the next CR at the
 *  latest, and the search costs at most two looks at each byte, whatever
 *  the data. A candidate that is not a delimiter line (the boundary at a
 *  line's start followed by other text) is data, and the search goes on
 *  after its CR.
 *
 *  Strings of a part's headers (its name, file names and Content-Type)
 *  are decoded into one allocation per part, sized from its header bytes:
 *  each string is shorter than the header text it comes from.
 */
#include "ru_multipart.h"

#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ruche/ru_limits.h"
#include "ruche/ru_text.h"

/*  "\r\n--" and the boundary: a delimiter as it appears between parts. */
#define S_DELIM_MAX (4 + RU_MULTIPART_BOUNDARY_MAX)

/*  What a delimiter found at a line's start is (s_delim_at). */
enum { S_DATA = 0, S_PART = 1, S_CLOSE = 2, S_BARE_LF = -1 };

typedef struct {
    const char *body;
    size_t len;
    char delim[S_DELIM_MAX];
    size_t dlen;
    const ru_multipart_limits_t *limits;
    char *why;
    size_t size;
} s_parser_t;

/*  A parameter of a header's value, "; name=value": views into it. */
typedef struct {
    const char *name;
    size_t nlen;
    const char *value; /* inside the quotes, escapes undecoded, when quoted */
    size_t vlen;
    int quoted;
} s_param_t;

/*  The header lines of a part that matter, as views into the body. */
typedef struct {
    const char *disp; /* the Content-Disposition's value; NULL when none */
    size_t disp_len;
    const char *type; /* the Content-Type's value; NULL when none */
    size_t type_len;
    size_t bytes; /* from the first header line to the end of the blank line */
} s_head_t;

/*  Writes a message for people into p->why. */
__attribute__((format(printf, 2, 3))) static void
s_say(s_parser_t *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (p->size > 0)
        (void) vsnprintf(p->why, p->size, fmt, ap);
    va_end(ap);
}

/*  Says why (a format and its arguments) and is err: written so that
 *  err is seen where it is returned, by readers and by the analyzer,
 *  which does not follow a call of a variadic function. */
#define S_FAIL(p, err, ...) (s_say((p), __VA_ARGS__), (err))

static int
s_ows(char c)
{
    return c == ' ' || c == '\t';
}

/*  A character of an HTTP token (RFC 9110's tchar). */
static int
s_tchar(char c)
{
    return c > 0x20 && c < 0x7f && strchr("\"(),/:;<=>?@[\\]{}", c) == NULL;
}

/*  Is param named name (compared case-insensitively)? */
static int
s_is(const s_param_t *param, const char *name)
{
    return param->nlen == strlen(name) && strncasecmp(param->name, name, param->nlen) == 0;
}

/*  Reads the next "; name=value" of a header's value from *at (up to end),
 *  the value a token or a quoted string: 1 with it in *param and *at past
 *  it, 0 at the end (a last ';' alone included), -1 when malformed. */
static int
s_param(const char **at, const char *end, s_param_t *param)
{
    const char *p = *at;
    while (p < end && s_ows(*p))
        p++;
    if (p < end && *p++ != ';')
        return -1;
    while (p < end && s_ows(*p))
        p++;
    if (p == end)
        return 0;
    param->name = p;
    while (p < end && s_tchar(*p))
        p++;
    param->nlen = (size_t) (p - param->name);
    while (p < end && s_ows(*p))
        p++;
    if (param->nlen == 0 || p == end || *p++ != '=')
        return -1;
    while (p < end && s_ows(*p))
        p++;
    param->quoted = p < end && *p == '"';
    param->value = p + param->quoted;
    if (param->quoted) {
        for (p++; p < end && *p != '"'; p++)
            p += *p == '\\' && p + 1 < end; /* an escaped character ends nothing */
        if (p == end)
            return -1;
    } else {
        while (p < end && *p != ';' && !s_ows(*p))
            p++;
    }
    param->vlen = (size_t) (p - param->value);
    *at = p + param->quoted;
    return param->quoted || param->vlen > 0 ? 1 : -1;
}

/*  Writes param's value into out (vlen + 1 bytes) with a NUL after it,
 *  a quoted one with \" and \\ decoded; any other backslash stays, as
 *  browsers and curl send Windows paths unescaped. Its length. */
static size_t
s_unquote(const s_param_t *param, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < param->vlen; i++) {
        char c = param->value[i];
        if (param->quoted && c == '\\' && i + 1 < param->vlen &&
            (param->value[i + 1] == '"' || param->value[i + 1] == '\\'))
            c = param->value[++i];
        out[n++] = c;
    }
    out[n] = '\0';
    return n;
}

/*  Is b, n bytes, a boundary RFC 2046 allows: 1 to 70 of its characters,
 *  the last no space? */
static int
s_boundary_ok(const char *b, size_t n)
{
    static const char extra[] = "'()+_,-./:=? ";
    for (size_t i = 0; i < n; i++)
        if (!((b[i] >= '0' && b[i] <= '9') || (b[i] >= 'a' && b[i] <= 'z') ||
              (b[i] >= 'A' && b[i] <= 'Z') || (b[i] != '\0' && strchr(extra, b[i]))))
            return 0;
    return n >= 1 && n <= RU_MULTIPART_BOUNDARY_MAX && b[n - 1] != ' ';
}

/*  The boundary of a Content-Type, read into p->delim with "\r\n--"
 *  before it. */
static ru_err
s_boundary(s_parser_t *p, const char *type)
{
    static const char mt[] = "multipart/form-data";
    const size_t mlen = sizeof mt - 1;
    const char *at = type ? type + strspn(type, " \t") : "", *end = at + strlen(at);
    if (*at == '\0')
        return S_FAIL(p, RU_E_TYPE,
                      "the request has no Content-Type: send the upload as multipart/form-data");
    if (strncasecmp(at, mt, mlen) != 0 || (at[mlen] != '\0' && at[mlen] != ';' && !s_ows(at[mlen])))
        return S_FAIL(p, RU_E_TYPE, "the Content-Type is not multipart/form-data");
    at += mlen;
    s_param_t param;
    int r, found = 0;
    char b[2 * RU_MULTIPART_BOUNDARY_MAX + 1];
    while ((r = s_param(&at, end, &param)) > 0) {
        if (!s_is(&param, "boundary"))
            continue;
        if (found++)
            return S_FAIL(p, RU_E_INVALID, "the Content-Type has two boundary parameters");
        size_t n = param.vlen < sizeof b ? s_unquote(&param, b) : 0;
        if (!s_boundary_ok(b, n))
            return S_FAIL(p, RU_E_INVALID,
                          "the boundary in the Content-Type is not 1 to 70 of the characters "
                          "RFC 2046 allows");
        memcpy(p->delim, "\r\n--", 4);
        memcpy(p->delim + 4, b, n);
        p->dlen = 4 + n;
    }
    if (r < 0)
        return S_FAIL(p, RU_E_INVALID, "the Content-Type's parameters are malformed");
    if (!found)
        return S_FAIL(p, RU_E_INVALID, "no boundary in the Content-Type");
    return RU_OK;
}

/*  What body[at...] is, where at begins a line: a delimiter line (S_PART,
 *  with *next at the line after it), the closing delimiter (S_CLOSE; the
 *  epilogue after it is ignored), a delimiter ended by LF alone
 *  (S_BARE_LF), or data (S_DATA). */
static int
s_delim_at(const s_parser_t *p, size_t at, size_t *next)
{
    size_t blen = p->dlen - 2, i = at + blen; /* "--BOUNDARY" */
    if (p->len - at < blen || memcmp(p->body + at, p->delim + 2, blen) != 0)
        return S_DATA;
    if (p->len - i >= 2 && p->body[i] == '-' && p->body[i + 1] == '-')
        return S_CLOSE;
    while (i < p->len && s_ows(p->body[i]))
        i++; /* RFC 2046's transport padding */
    if (i < p->len && p->body[i] == '\n')
        return S_BARE_LF;
    if (p->len - i < 2 || p->body[i] != '\r' || p->body[i + 1] != '\n')
        return S_DATA;
    *next = i + 2;
    return S_PART;
}

/*  The first "\r\n--BOUNDARY" from body[from] that is a delimiter: its
 *  offset, with its kind and *next from s_delim_at; p->len with S_DATA
 *  when there is none. Linear: see the top of the file. */
static size_t
s_find(const s_parser_t *p, size_t from, int *kind, size_t *next)
{
    const char *at = p->body + from, *end = p->body + p->len;
    while ((size_t) (end - at) >= p->dlen && (at = memchr(at, '\r', (size_t) (end - at))) != NULL) {
        size_t off = (size_t) (at - p->body);
        if (p->len - off >= p->dlen && memcmp(at, p->delim, p->dlen) == 0 &&
            (*kind = s_delim_at(p, off + 2, next)) != S_DATA)
            return off;
        at++;
    }
    *kind = S_DATA;
    return p->len;
}

/*  Takes one header line of a part (len bytes without its CRLF) into h. */
static ru_err
s_line(s_parser_t *p, const char *line, size_t len, s_head_t *h)
{
    if (s_ows(line[0]))
        return S_FAIL(p, RU_E_INVALID, "a part's header line is folded (begins with a space)");
    for (size_t i = 0; i < len; i++)
        if (((unsigned char) line[i] < 0x20 && line[i] != '\t') || line[i] == 0x7f)
            return S_FAIL(p, RU_E_INVALID, "a part's header holds a control character");
    size_t n = 0;
    while (n < len && s_tchar(line[n]))
        n++;
    if (n == 0 || n == len || line[n] != ':')
        return S_FAIL(p, RU_E_INVALID, "a part's header line is not \"Name: value\"");
    const char *v = line + n + 1, *end = line + len;
    while (v < end && s_ows(*v))
        v++;
    while (end > v && s_ows(end[-1]))
        end--;
    const char **field = n == 19 && strncasecmp(line, "Content-Disposition", n) == 0 ? &h->disp
                         : n == 12 && strncasecmp(line, "Content-Type", n) == 0      ? &h->type
                                                                                     : NULL;
    if (field == NULL)
        return RU_OK; /* others (Content-Transfer-Encoding ...) mean nothing here */
    if (*field != NULL)
        return S_FAIL(p, RU_E_INVALID, "a part has two %.*s headers", (int) n, line);
    *field = v;
    *(field == &h->disp ? &h->disp_len : &h->type_len) = (size_t) (end - v);
    return RU_OK;
}

/*  Reads the header lines of the part at body[at], up to and with its
 *  blank line, into h; never looks further than the limit allows. */
static ru_err
s_head(s_parser_t *p, size_t at, s_head_t *h)
{
    const size_t max = (size_t) p->limits->max_header_bytes;
    long lines = 0;
    memset(h, 0, sizeof *h);
    for (size_t i = at;;) {
        size_t left = p->len - i, room = at + max + 2 - i; /* the blank line may follow max */
        const char *lf = memchr(p->body + i, '\n', left < room ? left : room);
        if (lf == NULL && left < room)
            return S_FAIL(p, RU_E_INVALID, "the upload ended before its last part");
        if (lf == NULL)
            return S_FAIL(p, RU_E_TOO_BIG, "a part's headers are longer than %zu bytes", max);
        if (lf == p->body + i || lf[-1] != '\r')
            return S_FAIL(p, RU_E_INVALID, "a part's header line ends in LF alone, not CRLF");
        size_t e = (size_t) (lf - p->body) + 1, n = e - 2 - i;
        if (n == 0) {
            h->bytes = e - at;
            return RU_OK;
        }
        if (e - at > max)
            return S_FAIL(p, RU_E_TOO_BIG, "a part's headers are longer than %zu bytes", max);
        if (++lines > p->limits->max_header_lines)
            return S_FAIL(p, RU_E_TOO_MANY, "a part has more than %ld header lines",
                          p->limits->max_header_lines);
        ru_err err = s_line(p, p->body + i, n, h);
        if (err != RU_OK)
            return err;
        i = e;
    }
}

static int
s_hex(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/*  Decodes filename*'s value, charset'language'%XX..., into out (vlen + 1
 *  bytes) with a NUL: its length; -1 when malformed or not UTF-8 (a NUL
 *  included), -2 when its charset is another than UTF-8. */
static long
s_ext_value(const s_param_t *param, char *out)
{
    const char *v = param->value, *end = v + param->vlen;
    const char *q1 = memchr(v, '\'', param->vlen);
    const char *q2 = q1 ? memchr(q1 + 1, '\'', (size_t) (end - q1 - 1)) : NULL;
    if (q2 == NULL || param->quoted)
        return -1;
    if (q1 - v != 5 || strncasecmp(v, "UTF-8", 5) != 0)
        return -2;
    size_t n = 0;
    for (const char *s = q2 + 1; s < end; s++) {
        if (*s != '%') {
            out[n++] = *s;
            continue;
        }
        if (end - s < 3 || s_hex(s[1]) < 0 || s_hex(s[2]) < 0)
            return -1;
        out[n++] = (char) (s_hex(s[1]) << 4 | s_hex(s[2]));
        s += 2;
    }
    out[n] = '\0';
    return ru_utf8_check(out, n, NULL) == RU_OK ? (long) n : -1;
}

/*  The length of the valid UTF-8 character at s (n > 0 bytes), 0 when
 *  its bytes are none. */
static size_t
s_char_len(const char *s, size_t n)
{
    unsigned char c = (unsigned char) s[0];
    size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return len <= n && ru_utf8_check(s, len, NULL) == RU_OK ? len : 0;
}

/*  Is the valid UTF-8 character at s (len bytes) one a name must not
 *  show: a C0 or C1 control, DEL, or a bidirectional control, with which
 *  "photo<U+202E>gpj.exe" reads as "photoexe.jpg"? */
static int
s_hidden(const char *s, size_t len)
{
    static const unsigned char mask[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
    uint32_t cp = (unsigned char) s[0] & mask[len];
    for (size_t i = 1; i < len; i++)
        cp = cp << 6 | ((unsigned char) s[i] & 0x3f);
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x61c || cp == 0x200e || cp == 0x200f ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/*  The escape browsers and curl write into a file name for a quote, a CR
 *  or a LF ("%22", "%0D", "%0A") at fn[i] (n bytes in all): its length,
 *  with *c the character it stands for; 0 when there is none there. */
static size_t
s_form_escape(const char *fn, size_t n, size_t i, char *c)
{
    if (n - i < 3 || fn[i] != '%')
        return 0;
    int hi = s_hex(fn[i + 1]), lo = s_hex(fn[i + 2]);
    if (hi < 0 || lo < 0)
        return 0;
    int v = hi << 4 | lo;
    if (v != '"' && v != '\r' && v != '\n')
        return 0;
    *c = (char) v;
    return 3;
}

/*  Writes the display form of the file name fn (n bytes) into out (n + 1
 *  bytes): see ru_multipart_part_t. */
static void
s_display(const char *fn, size_t n, char *out)
{
    size_t i = n, o = 0;
    while (i > 0 && fn[i - 1] != '/' && fn[i - 1] != '\\')
        i--;
    while (i < n) {
        char c = 0;
        size_t esc = s_form_escape(fn, n, i, &c), len = esc ? 0 : s_char_len(fn + i, n - i);
        size_t take = c == '"' || (len && !s_hidden(fn + i, len)) ? (len ? len : 1) : 0;
        if (o + take > RU_MAX_FILE_NAME)
            break;
        if (c == '"')
            out[o] = c;
        else
            memcpy(out + o, fn + i, take);
        o += take;
        i += esc ? esc : len ? len : 1; /* a byte that is not UTF-8 is dropped */
    }
    out[o] = '\0';
    if (strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
        out[0] = '\0';
}

/*  The parameters of a Content-Disposition that matter, after its type. */
typedef struct {
    s_param_t name, filename, ext; /* name=, filename=, filename*= */
    int has[3];
} s_disp_t;

static ru_err
s_disp_params(s_parser_t *p, const s_head_t *h, s_disp_t *d)
{
    const char *at = h->disp, *end = h->disp + h->disp_len;
    size_t n = 0;
    while (at + n < end && s_tchar(at[n]))
        n++;
    if (n != 9 || strncasecmp(at, "form-data", 9) != 0)
        return S_FAIL(p, RU_E_INVALID, "a part's Content-Disposition is not form-data");
    at += n;
    static const char *const names[] = {"name", "filename", "filename*"};
    s_param_t *slots[] = {&d->name, &d->filename, &d->ext}, param;
    int r;
    memset(d, 0, sizeof *d);
    while ((r = s_param(&at, end, &param)) > 0)
        for (int k = 0; k < 3; k++) {
            if (!s_is(&param, names[k]))
                continue;
            if (d->has[k]++)
                return S_FAIL(p, RU_E_INVALID, "a part's Content-Disposition gives %s twice",
                              names[k]);
            *slots[k] = param;
        }
    if (r < 0)
        return S_FAIL(p, RU_E_INVALID, "a part's Content-Disposition is malformed");
    return RU_OK;
}

/*  Fills part's strings from its headers h, in memory of its own. */
static ru_err
s_part(s_parser_t *p, const s_head_t *h, ru_multipart_part_t *part)
{
    s_disp_t d;
    if (h->disp == NULL)
        return S_FAIL(p, RU_E_INVALID, "a part has no Content-Disposition header");
    ru_err err = s_disp_params(p, h, &d);
    if (err != RU_OK)
        return err;
    if (!d.has[0] || d.name.vlen == 0)
        return S_FAIL(p, RU_E_INVALID, "a part has no name in its Content-Disposition");
    char *out = malloc(2 * h->bytes + 4); /* name, file name, its display, type: see the top */
    if (out == NULL)
        return S_FAIL(p, RU_E_NOMEM, "out of memory");
    part->mem_ = out;
    part->name = out;
    out += s_unquote(&d.name, out) + 1;
    long fn = d.has[2] ? s_ext_value(&d.ext, out) : -2;
    if (fn == -1)
        return S_FAIL(p, RU_E_INVALID, "a part's filename* is malformed or not UTF-8");
    if (fn == -2 && d.has[1])
        fn = (long) s_unquote(&d.filename, out);
    part->filename = fn >= 0 ? out : NULL;
    out += fn >= 0 ? fn + 1 : 0;
    part->display_name = out;
    s_display(part->filename ? part->filename : "", fn >= 0 ? (size_t) fn : 0, out);
    out += strlen(out) + 1;
    part->content_type = out;
    if (h->type)
        memcpy(out, h->type, h->type_len);
    out[h->type ? h->type_len : 0] = '\0';
    return RU_OK;
}

/*  Does name end in "[]", a list's name? */
static int
s_is_list(const char *name)
{
    size_t len = strlen(name);
    return len > 2 && strcmp(name + len - 2, "[]") == 0;
}

/*  Adds part to self, or frees it when its name came before (and is no
 *  list's). */
static ru_err
s_add(s_parser_t *p, ru_multipart_t *self, ru_multipart_part_t *part)
{
    if (!s_is_list(part->name) && ru_multipart_get(self, part->name) != NULL) {
        free(part->mem_);
        self->duplicates++;
        return RU_OK;
    }
    if ((self->n & (self->n - 1)) == 0) { /* 0, 1, 2, 4 ...: full */
        ru_multipart_part_t *more =
            realloc(self->parts, (self->n ? 2 * self->n : 1) * sizeof *more);
        if (more == NULL) {
            free(part->mem_);
            return S_FAIL(p, RU_E_NOMEM, "out of memory");
        }
        self->parts = more;
    }
    self->parts[self->n++] = *part;
    return RU_OK;
}

/*  Reads the part whose headers begin at body[*at]; *kind and *at then
 *  say what follows its data (s_find). */
static ru_err
s_one(s_parser_t *p, ru_multipart_t *self, int *kind, size_t *at)
{
    s_head_t h;
    ru_multipart_part_t part = {0};
    ru_err err = s_head(p, *at, &h);
    if (err == RU_OK)
        err = s_part(p, &h, &part);
    if (err != RU_OK) {
        free(part.mem_);
        return err;
    }
    size_t data = *at + h.bytes;
    part.data = p->body + data;
    part.len = s_find(p, data, kind, at) - data;
    if (*kind == S_DATA || *kind == S_BARE_LF) {
        free(part.mem_);
        return RU_OK; /* the caller says why */
    }
    return s_add(p, self, &part);
}

static ru_err
s_parts(s_parser_t *p, ru_multipart_t *self)
{
    size_t at = 0;
    long count = 0;
    int kind = s_delim_at(p, 0, &at);
    if (kind == S_DATA && s_find(p, 0, &kind, &at) == p->len)
        return S_FAIL(p, RU_E_INVALID,
                      "the body holds no delimiter of the boundary in its Content-Type");
    while (kind == S_PART) {
        if (++count > p->limits->max_parts)
            return S_FAIL(p, RU_E_TOO_MANY, "the upload has more than %ld parts",
                          p->limits->max_parts);
        ru_err err = s_one(p, self, &kind, &at);
        if (err != RU_OK)
            return err;
    }
    if (kind == S_CLOSE)
        return RU_OK;
    if (kind == S_BARE_LF)
        return S_FAIL(p, RU_E_INVALID,
                      "the body's lines end in LF alone, not CRLF as multipart/form-data needs");
    return S_FAIL(p, RU_E_INVALID, "the upload ended before its last part");
}

ru_err
ru_multipart_parse(ru_multipart_t *self, const char *content_type, const char *body, size_t len,
                   const ru_multipart_limits_t *limits, char *why, size_t size)
{
    assert(limits != NULL && limits->max_parts > 0 && limits->max_header_bytes > 0 &&
           limits->max_header_lines > 0);
    memset(self, 0, sizeof *self);
    s_parser_t p = {.body = body, .len = len, .limits = limits, .why = why, .size = size};
    if (size > 0)
        why[0] = '\0';
    ru_err err = s_boundary(&p, content_type);
    if (err == RU_OK)
        err = s_parts(&p, self);
    if (err != RU_OK)
        ru_multipart_fini(self);
    return err;
}

void
ru_multipart_fini(ru_multipart_t *self)
{
    for (size_t i = 0; i < self->n; i++)
        free(self->parts[i].mem_);
    free(self->parts);
    memset(self, 0, sizeof *self);
}

const ru_multipart_part_t *
ru_multipart_get(const ru_multipart_t *self, const char *name)
{
    for (size_t i = 0; i < self->n; i++)
        if (strcmp(self->parts[i].name, name) == 0)
            return &self->parts[i];
    return NULL;
}
