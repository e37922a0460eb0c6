/*  ru_multipart.h - the parts of a multipart/form-data body (RFC 7578),
 *  as an upload (POST /api/v2/media) sends them: each part's name, its
 *  file name as given and as it may safely be shown, its Content-Type as
 *  given, and its bytes.
 *
 *  The body is in memory already (tens of MB for a video), so nothing is
 *  copied: a part's bytes are a view into the body, found by one linear
 *  search for each delimiter, and nothing is read past the body's end.
 *  Only the short strings of the parts' headers are decoded into memory of
 *  their own.
 *
 *  What is taken, and what is refused (with a message for people):
 *  - the request's Content-Type must be multipart/form-data with a
 *    boundary parameter (quoted or not, 1 to 70 characters of RFC 2046's
 *    set, compared case-sensitively); parameter names are matched
 *    case-insensitively, and a second boundary parameter is refused rather
 *    than guessed at;
 *  - the preamble before the first delimiter and the epilogue after the
 *    closing one are ignored; the closing delimiter "--BOUNDARY--" is
 *    required, so that a body cut short is an error, not a shorter file;
 *  - lines end in CRLF: curl and browsers never send LF alone, and a body
 *    in that shape is refused with a message saying so. A line that
 *    begins with the delimiter but goes on with other text is data;
 *  - each part has a Content-Disposition of type form-data with name=
 *    (a quoted string, whose backslash escapes \" and \\ are decoded while
 *    any other backslash stays, as Windows paths arrive, or a token) and
 *    optionally filename=; filename*=UTF-8''... (RFC 5987), when present,
 *    wins over filename= (one in another charset is ignored). Header lines
 *    holding control characters, folded lines and a part without a name
 *    are refused;
 *  - a name seen before: the part is skipped, the first one kept (counted
 *    in duplicates), so that what a handler reads cannot depend on which
 *    of two answers it happened to look at; but a name ending in "[]"
 *    names a list (skills[]=a, skills[]=b, as Mastodon's clients send
 *    lists): each of its parts is kept, in order.
 *
 *  Limits (deploy/ruched.conf, [http] multipart_*): parts in a body, and
 *  the header lines and header bytes of one part; the body's own size is
 *  bounded before it is read ([http] max_body).
 *
 *  Pure code on bytes: no HTTP, any thread, nothing kept between calls.
 */
#ifndef RU_MULTIPART_H
#define RU_MULTIPART_H

#include <stddef.h>

#include "ruche/ru_error.h"

/*  The longest boundary RFC 2046 allows. */
#define RU_MULTIPART_BOUNDARY_MAX 70

typedef struct {
    long max_parts;        /* parts in one body, duplicates included */
    long max_header_bytes; /* bytes of one part's header lines, CRLFs included */
    long max_header_lines; /* header lines of one part */
} ru_multipart_limits_t;

typedef struct {
    const char *name;         /* its name=, never "" */
    const char *filename;     /* its file name as given (filename* decoded, else filename=
                               * unescaped); NULL for a part that is not a file */
    const char *display_name; /* the file name safe to show and store: its last path
                               * component after '/' or '\', the "%22" that browsers
                               * and curl write for a quote read as one (their %0D
                               * and %0A dropped), without control or
                               * bidirectional control characters, at most
                               * RU_MAX_FILE_NAME bytes of valid UTF-8 (a character is
                               * never cut); "" when nothing is left, for "." and "..",
                               * and for a part that is not a file */
    const char *content_type; /* its Content-Type as given (trimmed), "" when none: what
                               * the client says, never to be trusted */
    const char *data;         /* its bytes: a view into the body */
    size_t len;
    char *mem_; /* owns the strings above; freed by ru_multipart_fini */
} ru_multipart_part_t;

typedef struct {
    ru_multipart_part_t *parts; /* in the body's order, names distinct but lists' */
    size_t n;
    size_t duplicates; /* parts skipped because their name came earlier */
} ru_multipart_t;

/*  Parses a body of len bytes whose Content-Type header is content_type
 *  (a C string; NULL when the request has none) into self, within limits
 *  (every one above 0). The parts' data point into body, which must
 *  outlive self; their strings belong to self until ru_multipart_fini.
 *  On error self holds no part and why (size bytes) says what is wrong:
 *  RU_E_TYPE  no Content-Type, or not multipart/form-data (HTTP 415);
 *  RU_E_TOO_MANY  more parts, or more header lines in a part, than the
 *             limits allow;
 *  RU_E_TOO_BIG  a part's header lines longer than the limit;
 *  RU_E_INVALID  anything else malformed, a body cut short included;
 *  RU_E_NOMEM. */
RU_MUST_CHECK ru_err ru_multipart_parse(ru_multipart_t *self, const char *content_type,
                                        const char *body, size_t len,
                                        const ru_multipart_limits_t *limits, char *why,
                                        size_t size);

/*  Frees what ru_multipart_parse allocated and empties self; a self that
 *  was zeroed, or emptied already, is fine too. */
void ru_multipart_fini(ru_multipart_t *self);

/*  The part named name, or NULL. */
const ru_multipart_part_t *ru_multipart_get(const ru_multipart_t *self, const char *name);

#endif
