/*  fuzz_params.c - libFuzzer target for what an HTTP request's parameters
 *  go through before any handler (node/api/ru_reqparse.c): the query
 *  string, and a form, multipart/form-data or JSON body, merged into one
 *  JSON object; the JSON depth scan in front of jansson (ru_jsondepth.c);
 *  and URL decoding into a buffer too small.
 *
 *  The input's first byte picks the body's type (form, JSON, multipart
 *  with the boundary "b", another type, or none); the rest is split at
 *  its first NUL byte into the query (before) and the body (after), or is
 *  all body when it holds none.
 *
 *  Checked besides memory safety: the answer is 0 or a refusal the API
 *  documents (400, 415, 422) with a message; when taken, every parameter
 *  is a string, a number, a boolean, null, or an array or object of them,
 *  every string (names included) valid UTF-8 without a NUL byte, and a
 *  JSON body nested within the depth limit; a decoded text always fits
 *  its buffer and ends with a NUL; a head is taken (0), refused as too
 *  big (431) or as unframeable (400), never taken with two
 *  Content-Length lines (counted here by a separate reading).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_check.h"
#include "ru_jsondepth.h"
#include "ru_reqparse.h"
#include "ruche/ru_text.h"

#define S_DEPTH 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const s_types[] = {
    "application/x-www-form-urlencoded",
    "application/json; charset=utf-8",
    "multipart/form-data; boundary=b",
    "text/plain",
    NULL,
};

static void
s_check_text(const char *s, size_t len, const char *what)
{
    fuzz_require(memchr(s, 0, len) == NULL, what);
    fuzz_require(ru_utf8_check(s, len, NULL) == RU_OK, what);
}

/*  A parameter's value, at depth levels of nesting. */
static void
s_check_value(json_t *v, int depth)
{
    fuzz_require(depth <= S_DEPTH + 1, "parameters nest within the limit");
    const char *key;
    json_t *item;
    size_t i;
    switch (json_typeof(v)) {
    case JSON_STRING:
        s_check_text(json_string_value(v), json_string_length(v), "a string parameter");
        break;
    case JSON_OBJECT:
        json_object_foreach(v, key, item)
        {
            s_check_text(key, strlen(key), "a parameter's name");
            s_check_value(item, depth + 1);
        }
        break;
    case JSON_ARRAY:
        json_array_foreach(v, i, item) s_check_value(item, depth + 1);
        break;
    default:
        break;
    }
}

/*  The Content-Length lines of a head, read line by line up to its blank
 *  line. */
static int
s_lengths(const char *p, size_t len)
{
    const char *end = p + len;
    int n = 0;
    while (p < end && (*p == '\r' || *p == '\n'))
        p++;
    const char *eol = memchr(p, '\n', (size_t) (end - p));
    for (p = eol ? eol + 1 : end; p < end && (eol = memchr(p, '\n', (size_t) (end - p)));
         p = eol + 1) {
        if (eol == p || (eol == p + 1 && *p == '\r'))
            break;
        n += eol - p >= 15 && strncasecmp(p, "content-length:", 15) == 0;
    }
    return n;
}

static void
s_head(const char *head, size_t len)
{
    char why[256] = "";
    int status = ru_reqparse_head(head, len, 64, 16384, why, sizeof why);
    fuzz_require(status == 0 || status == 400 || status == 431, "a head's refusal documented");
    fuzz_require(status == 0 || why[0], "a refused head says why");
    fuzz_require(status != 0 || s_lengths(head, len) < 2, "no head taken with two lengths");
}

static void
s_decode(const char *src, size_t len)
{
    char small[8];
    int n = ru_reqparse_url_decode(src, len, small, sizeof small, 1);
    fuzz_require(n == -1 || (n >= 0 && (size_t) n < sizeof small && small[n] == 0),
                 "a decoded text fits its buffer, with its NUL");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    s_head((const char *) data, size);
    const char *type = s_types[data[0] % (sizeof s_types / sizeof s_types[0])];
    const char *rest = (const char *) data + 1;
    size_t len = size - 1;
    const char *nul = memchr(rest, 0, len);
    char *query = NULL;
    if (nul) {
        query = strndup(rest, (size_t) (nul - rest));
        len -= (size_t) (nul - rest) + 1;
        rest = nul + 1;
    }
    json_t *params = json_object();
    char why[256] = "";
    const ru_multipart_limits_t limits = {16, 8192, 16};
    int status =
        ru_reqparse_params(params, query, type, rest, len, S_DEPTH, &limits, why, sizeof why);
    fuzz_require(status == 0 || status == 400 || status == 415 || status == 422,
                 "a refusal the API documents");
    fuzz_require(status == 0 || why[0], "a refusal says why");
    if (status == 0) {
        s_check_value(params, 0);
        if (type && strncmp(type, "application/json", 16) == 0)
            fuzz_require(ru_jsondepth(rest, len, S_DEPTH) <= S_DEPTH,
                         "a JSON body taken nests within the limit");
    }
    json_decref(params);
    s_decode(rest, len);
    if (query)
        (void) ru_reqparse_query_bad(query);
    free(query);
    return 0;
}
