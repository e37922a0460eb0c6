/*  fuzz_multipart.c - libFuzzer target for the parser of uploads, a
 *  multipart/form-data body's parts (node/base/ru_multipart.c).
 *
 *  The input's first byte picks the Content-Type: one of a few with the
 *  boundary "b" (plain, quoted, among other parameters) or another type,
 *  or, for the last choice, the bytes up to the input's first NUL (the
 *  rest is then the body); the limits are small (4 parts, 256 header
 *  bytes, 4 header lines) so that inputs reach them. The body is parsed
 *  from a heap copy of exactly its bytes, so that a read past its end is
 *  caught.
 *
 *  Checked besides memory safety: the answer is success or one of the
 *  refusals the header documents, with a message; when taken, there are
 *  at most 4 parts, with distinct names that are not empty, whose data
 *  lie inside the body in order without overlapping, each followed there
 *  by a CRLF, "--" and the boundary; a part that is no file shows no name;
 *  a display name is at most RU_MAX_FILE_NAME bytes of UTF-8 without a
 *  control character, '/', '\' or a NUL, and neither "." nor "..".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "ru_multipart.h"
#include "ruche/ru_limits.h"
#include "ruche/ru_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const s_types[] = {
    "multipart/form-data; boundary=b",
    "multipart/form-data; boundary=\"b\"",
    "Multipart/Form-Data; charset=utf-8; Boundary=b",
    "multipart/mixed; boundary=b",
    NULL,
};
#define S_NTYPES (sizeof s_types / sizeof s_types[0])
#define S_FROM_INPUT S_NTYPES /* the choice that reads the type from the input */

static const ru_multipart_limits_t s_limits = {4, 256, 4};

static void
s_check_display(const char *name)
{
    size_t len = strlen(name);
    fuzz_require(len <= RU_MAX_FILE_NAME, "a display name fits RU_MAX_FILE_NAME");
    fuzz_require(len == 0 || ru_utf8_check(name, len, NULL) == RU_OK, "a display name is UTF-8");
    fuzz_require(strcmp(name, ".") != 0 && strcmp(name, "..") != 0,
                 "a display name is neither . nor ..");
    for (size_t i = 0; i < len; i++)
        fuzz_require((unsigned char) name[i] >= 0x20 && name[i] != 0x7f && name[i] != '/' &&
                         name[i] != '\\',
                     "a display name has no control character and no path");
}

/*  The parts of a body taken with the boundary "b" (every choice but the
 *  input's own type has it). */
static void
s_check_parts(const ru_multipart_t *mp, const char *body, size_t len, int boundary_b)
{
    fuzz_require(mp->n <= (size_t) s_limits.max_parts && mp->n + mp->duplicates <= 4,
                 "at most max_parts parts");
    const char *after = body;
    for (size_t i = 0; i < mp->n; i++) {
        const ru_multipart_part_t *p = &mp->parts[i];
        fuzz_check_inside(p->data, p->len, (const uint8_t *) body, len, "a part's data");
        fuzz_require(p->data >= after, "parts in order, not overlapping");
        after = p->data + p->len;
        fuzz_require(p->name[0] != '\0', "a part has a name");
        size_t nlen = strlen(p->name);
        fuzz_require(ru_multipart_get(mp, p->name) == p ||
                         (nlen > 2 && strcmp(p->name + nlen - 2, "[]") == 0),
                     "names are distinct, but a list's");
        fuzz_require(p->filename != NULL || p->display_name[0] == '\0',
                     "a part that is no file shows no name");
        s_check_display(p->display_name);
        fuzz_require(p->content_type != NULL, "a part has a Content-Type, \"\" at least");
        size_t left = len - (size_t) (after - body);
        fuzz_require(left >= 4 && memcmp(after, "\r\n--", 4) == 0,
                     "a part's data ends at a delimiter");
        fuzz_require(!boundary_b || (left >= 5 && after[4] == 'b'),
                     "a part's data ends at the boundary");
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t pick = data[0] % (S_NTYPES + 1);
    const char *in = (const char *) data + 1, *type = pick < S_NTYPES ? s_types[pick] : NULL;
    size_t len = size - 1;
    char *own_type = NULL;
    if (pick == S_FROM_INPUT) {
        const char *nul = memchr(in, '\0', len);
        size_t tlen = nul ? (size_t) (nul - in) : len;
        own_type = malloc(tlen + 1);
        memcpy(own_type, in, tlen);
        own_type[tlen] = '\0';
        type = own_type;
        in += nul ? tlen + 1 : tlen;
        len -= nul ? tlen + 1 : tlen;
    }
    char *body = malloc(len ? len : 1), why[256];
    memcpy(body, in, len);
    ru_multipart_t mp;
    ru_err err = ru_multipart_parse(&mp, type, body, len, &s_limits, why, sizeof why);
    fuzz_require(err == RU_OK || err == RU_E_TYPE || err == RU_E_TOO_MANY || err == RU_E_TOO_BIG ||
                     err == RU_E_INVALID,
                 "only documented refusals");
    fuzz_require(err == RU_OK || (why[0] != '\0' && mp.n == 0), "a refusal says why");
    if (err == RU_OK)
        s_check_parts(&mp, body, len, pick < S_FROM_INPUT);
    ru_multipart_fini(&mp);
    free(body);
    free(own_type);
    return 0;
}
