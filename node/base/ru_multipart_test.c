/*  ru_multipart_test.c - multipart/form-data bodies as clients send them,
 *  and as they should not: bodies written byte for byte as curl 7.88
 *  (-F file=@x.png -F description=... -F focus=...) and Chromium's
 *  FormData send them, quoted and unquoted boundaries, file names with
 *  paths, escapes, filename*, control and bidirectional characters, data
 *  holding CRLFs, "--" and the boundary, an empty file, a list's repeated
 *  name ("skills[]"), preamble and epilogue; every refusal with its code and message (no or another
 *  Content-Type, boundaries missing, doubled, bad or 71 characters long,
 *  every cut of a body, LF line ends, the limits at and past their edge);
 *  and a 40 MB part full of false delimiters parsed in linear time.
 *
 *  Every body is parsed from a heap copy of exactly its bytes, so that
 *  the address sanitizer sees any read past its end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ru_multipart.h"

static const ru_multipart_limits_t s_limits = {16, 8192, 16};

/*  What the last s_parse kept: the body's copy and the parts. */
static char *s_body;
static ru_multipart_t s_mp;
static char s_why[256];

static void
s_reset(void)
{
    ru_multipart_fini(&s_mp);
    free(s_body);
    s_body = NULL;
}

static ru_err
s_parse_with(const char *type, const char *body, size_t len, const ru_multipart_limits_t *limits)
{
    s_reset();
    s_body = malloc(len ? len : 1);
    assert_non_null(s_body);
    memcpy(s_body, body, len);
    ru_err err = ru_multipart_parse(&s_mp, type, s_body, len, limits, s_why, sizeof s_why);
    if (err != RU_OK) {
        assert_int_equal(s_mp.n, 0);
        assert_null(s_mp.parts);
        assert_true(s_why[0] != '\0');
    }
    return err;
}

static ru_err
s_parse(const char *type, const char *body, size_t len)
{
    return s_parse_with(type, body, len, &s_limits);
}

/*  The part named name, which must exist. */
static const ru_multipart_part_t *
s_part(const char *name)
{
    const ru_multipart_part_t *p = ru_multipart_get(&s_mp, name);
    assert_non_null(p);
    return p;
}

static void
s_data_equal(const ru_multipart_part_t *p, const char *data, size_t len)
{
    assert_int_equal(p->len, len);
    assert_memory_equal(p->data, data, len);
    assert_true(p->data >= s_body); /* a view into the body */
}

#define S_CURL_TYPE "multipart/form-data; boundary=------------------------62bc0b20e3e1bddb"
#define S_PNG "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR--x\r\n--"
/*  curl 7.88.1 -F file=@x.png -F 'description=A cat, sleeping' -F focus=0.5,-0.25 */
static const char s_curl[] = "--------------------------62bc0b20e3e1bddb\r\n"
                             "Content-Disposition: form-data; name=\"file\"; filename=\"x.png\"\r\n"
                             "Content-Type: image/png\r\n"
                             "\r\n" S_PNG "\r\n"
                             "--------------------------62bc0b20e3e1bddb\r\n"
                             "Content-Disposition: form-data; name=\"description\"\r\n"
                             "\r\n"
                             "A cat, sleeping\r\n"
                             "--------------------------62bc0b20e3e1bddb\r\n"
                             "Content-Disposition: form-data; name=\"focus\"\r\n"
                             "\r\n"
                             "0.5,-0.25\r\n"
                             "--------------------------62bc0b20e3e1bddb--\r\n";

static void
test_curl(void **state)
{
    (void) state;
    assert_int_equal(s_parse(S_CURL_TYPE, s_curl, sizeof s_curl - 1), RU_OK);
    assert_int_equal(s_mp.n, 3);
    assert_int_equal(s_mp.duplicates, 0);
    const ru_multipart_part_t *file = &s_mp.parts[0];
    assert_string_equal(file->name, "file");
    assert_string_equal(file->filename, "x.png");
    assert_string_equal(file->display_name, "x.png");
    assert_string_equal(file->content_type, "image/png");
    s_data_equal(file, S_PNG, sizeof S_PNG - 1);
    const ru_multipart_part_t *desc = s_part("description");
    assert_null(desc->filename);
    assert_string_equal(desc->display_name, "");
    assert_string_equal(desc->content_type, "");
    s_data_equal(desc, "A cat, sleeping", 15);
    s_data_equal(s_part("focus"), "0.5,-0.25", 9);
    assert_null(ru_multipart_get(&s_mp, "thumbnail"));
}

#define S_CHROME_TYPE "multipart/form-data; boundary=----WebKitFormBoundaryg8DtjQZJi8BjJR8J"
#define S_CHROME_DATA "\x89PNG\r\n\x1a\n--\r\n\0\xff"
/*  Chromium 's FormData, a File named 'été "best"\nphoto.png' (quote and
 *  LF percent-encoded by the browser), a description and a focus. */
static const char s_chrome[] = "------WebKitFormBoundaryg8DtjQZJi8BjJR8J\r\n"
                               "Content-Disposition: form-data; name=\"file\"; "
                               "filename=\"\xc3\xa9t\xc3\xa9 %22best%22%0Aphoto.png\"\r\n"
                               "Content-Type: image/png\r\n"
                               "\r\n" S_CHROME_DATA "\r\n"
                               "------WebKitFormBoundaryg8DtjQZJi8BjJR8J\r\n"
                               "Content-Disposition: form-data; name=\"description\"\r\n"
                               "\r\n"
                               "Un chat, endormi\r\n"
                               "------WebKitFormBoundaryg8DtjQZJi8BjJR8J\r\n"
                               "Content-Disposition: form-data; name=\"focus\"\r\n"
                               "\r\n"
                               "0.5,-0.25\r\n"
                               "------WebKitFormBoundaryg8DtjQZJi8BjJR8J--\r\n";

static void
test_chromium(void **state)
{
    (void) state;
    assert_int_equal(s_parse(S_CHROME_TYPE, s_chrome, sizeof s_chrome - 1), RU_OK);
    assert_int_equal(s_mp.n, 3);
    const ru_multipart_part_t *file = s_part("file");
    assert_string_equal(file->filename, "\xc3\xa9t\xc3\xa9 %22best%22%0Aphoto.png");
    assert_string_equal(file->display_name, "\xc3\xa9t\xc3\xa9 \"best\"photo.png");
    s_data_equal(file, S_CHROME_DATA, sizeof S_CHROME_DATA - 1);
    s_data_equal(s_part("description"), "Un chat, endormi", 16);
}

/*  A body of one part named "a" with the given Content-Disposition
 *  parameters after name, and data; boundary "XyZ". */
static ru_err
s_one(const char *params, const char *data)
{
    char body[2048];
    int n = snprintf(body, sizeof body,
                     "--XyZ\r\nContent-Disposition: form-data; name=\"a\"%s\r\n\r\n%s\r\n--XyZ--",
                     params, data);
    assert_true(n > 0 && (size_t) n < sizeof body);
    return s_parse("multipart/form-data; boundary=XyZ", body, (size_t) n);
}

static void
test_boundaries(void **state)
{
    (void) state;
    static const char rfc[] = "preamble, to be ignored\r\n"
                              "--simple boundary\r\n"
                              "Content-Disposition: form-data; name=x\r\n\r\n"
                              "1\r\n--simple boundary--\r\nan epilogue, ignored too\r\n";
    assert_int_equal(s_parse("Multipart/Form-Data; charset=utf-8; BOUNDARY=\"simple boundary\"",
                             rfc, sizeof rfc - 1),
                     RU_OK);
    s_data_equal(s_part("x"), "1", 1);
    /* case-sensitive: another boundary finds no delimiter */
    assert_int_equal(
        s_parse("multipart/form-data; boundary=\"Simple boundary\"", rfc, sizeof rfc - 1),
        RU_E_INVALID);
    assert_string_equal(s_why, "the body holds no delimiter of the boundary in its Content-Type");
    /* padding after a delimiter, whitespace around parameters */
    static const char pad[] = "--b \t\r\nContent-Disposition: form-data ; name = \"p\" ;\r\n\r\n"
                              "v\r\n--b--";
    assert_int_equal(s_parse("multipart/form-data ;boundary=b", pad, sizeof pad - 1), RU_OK);
    s_data_equal(s_part("p"), "v", 1);
    /* 70 characters of RFC 2046's set are a boundary; 71 are not */
    char type[200], body[300];
    const char *b70 = "0123456789'()+_,-./:=? abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU";
    assert_int_equal(strlen(b70), 70);
    snprintf(type, sizeof type, "multipart/form-data; boundary=\"%s\"", b70);
    int n =
        snprintf(body, sizeof body,
                 "--%s\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\nv\r\n--%s--", b70, b70);
    assert_int_equal(s_parse(type, body, (size_t) n), RU_OK);
    s_data_equal(s_part("k"), "v", 1);
    snprintf(type, sizeof type, "multipart/form-data; boundary=\"%sV\"", b70);
    assert_int_equal(s_parse(type, body, (size_t) n), RU_E_INVALID);
    assert_string_equal(s_why, "the boundary in the Content-Type is not 1 to 70 of the "
                               "characters RFC 2046 allows");
    assert_int_equal(s_parse("multipart/form-data; boundary=\"\"", body, 4), RU_E_INVALID);
    assert_int_equal(s_parse("multipart/form-data; boundary=\"ends with \"", body, 4),
                     RU_E_INVALID);
    assert_int_equal(s_parse("multipart/form-data; boundary=a<b", body, 4), RU_E_INVALID);
    assert_int_equal(s_parse("multipart/form-data; boundary=a; boundary=a", body, 4), RU_E_INVALID);
    assert_string_equal(s_why, "the Content-Type has two boundary parameters");
    assert_int_equal(s_parse("multipart/form-data; charset=utf-8", body, 4), RU_E_INVALID);
    assert_string_equal(s_why, "no boundary in the Content-Type");
    assert_int_equal(s_parse("multipart/form-data; boundary=\"unterminated", body, 4),
                     RU_E_INVALID);
    assert_string_equal(s_why, "the Content-Type's parameters are malformed");
}

static void
test_content_types(void **state)
{
    (void) state;
    assert_int_equal(s_parse(NULL, s_curl, sizeof s_curl - 1), RU_E_TYPE);
    assert_string_equal(s_why,
                        "the request has no Content-Type: send the upload as multipart/form-data");
    assert_int_equal(s_parse("  ", s_curl, sizeof s_curl - 1), RU_E_TYPE);
    static const char *const wrong[] = {
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/mixed; boundary=------------------------62bc0b20e3e1bddb",
        "multipart/form-datax; boundary=------------------------62bc0b20e3e1bddb",
        "multipart/form",
    };
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        assert_int_equal(s_parse(wrong[i], s_curl, sizeof s_curl - 1), RU_E_TYPE);
        assert_string_equal(s_why, "the Content-Type is not multipart/form-data");
    }
}

static void
test_file_names(void **state)
{
    (void) state;
    static const struct {
        const char *params, *given, *shown;
    } cases[] = {
        {"; filename=\"C:\\Users\\me\\photo.jpg\"", "C:\\Users\\me\\photo.jpg", "photo.jpg"},
        {"; filename=\"../../etc/passwd\"", "../../etc/passwd", "passwd"},
        {"; filename=\"..\"", "..", ""},
        {"; filename=\".\"", ".", ""},
        {"; filename=\"photos/\"", "photos/", ""},
        {"; filename=\"\"", "", ""},
        {"; filename=plain.txt", "plain.txt", "plain.txt"},
        {"; filename=\"a \\\"quoted\\\" name.txt\"", "a \"quoted\" name.txt",
         "a \"quoted\" name.txt"},
        {"; filename=\"C:\\\\share\\\\b.txt\"", "C:\\share\\b.txt", "b.txt"},
        {"; filename=\"100%25.txt\"", "100%25.txt", "100%25.txt"},
        {"; filename=\"%x2%2%\"", "%x2%2%", "%x2%2%"}, /* no escape: no shift of -1 */
        /* a bidirectional override, C1 controls and bytes that are not UTF-8 */
        {"; filename=\"photo\xe2\x80\xaegpj.exe\"", "photo\xe2\x80\xaegpj.exe", "photogpj.exe"},
        {"; filename=\"a\xc2\x85"
         "b\xff\xc3(.txt\"",
         "a\xc2\x85"
         "b\xff\xc3(.txt",
         "ab(.txt"},
        {"; filename=\"x\xe2\x81\xa6y\xd8\x9cz\"", "x\xe2\x81\xa6y\xd8\x9cz", "xyz"},
        /* filename* wins, in UTF-8; another charset is ignored */
        {"; filename=\"fallback.jpg\"; filename*=UTF-8''%E2%82%AC%20rates.jpg",
         "\xe2\x82\xac rates.jpg", "\xe2\x82\xac rates.jpg"},
        {"; filename*=utf-8'fr'dir%2Fb%C3%A9b%C3%A9.png",
         "dir/b\xc3\xa9"
         "b\xc3\xa9.png",
         "b\xc3\xa9"
         "b\xc3\xa9.png"},
        {"; filename*=UTF-8''%0A..", "\n..", ""},
        {"; filename=\"fallback.jpg\"; filename*=iso-8859-1''%E9t%E9.jpg", "fallback.jpg",
         "fallback.jpg"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(s_one(cases[i].params, "bytes"), RU_OK);
        assert_string_equal(s_part("a")->filename, cases[i].given);
        assert_string_equal(s_part("a")->display_name, cases[i].shown);
        s_data_equal(s_part("a"), "bytes", 5);
    }
    assert_int_equal(s_one("; filename*=UTF-8''%E2%82", ""), RU_E_INVALID); /* not UTF-8 */
    assert_string_equal(s_why, "a part's filename* is malformed or not UTF-8");
    assert_int_equal(s_one("; filename*=UTF-8''a%00b", ""), RU_E_INVALID);
    assert_int_equal(s_one("; filename*=UTF-8''a%4", ""), RU_E_INVALID);
    assert_int_equal(s_one("; filename*=no-quotes", ""), RU_E_INVALID);
    assert_int_equal(s_one("; filename=\"a\"; filename=\"b\"", ""), RU_E_INVALID);
    assert_string_equal(s_why, "a part's Content-Disposition gives filename twice");
}

/*  At most RU_MAX_FILE_NAME bytes are shown, and a character is never cut. */
static void
test_long_name(void **state)
{
    (void) state;
    char params[1024] = "; filename=\"dir/", shown[300] = "";
    for (int i = 0; i < 200; i++)
        strcat(params, "a");
    for (int i = 0; i < 30; i++)
        strcat(params, "\xc3\xa9");
    strcat(params, "\"");
    assert_int_equal(s_one(params, ""), RU_OK);
    for (int i = 0; i < 200; i++)
        strcat(shown, "a");
    for (int i = 0; i < 27; i++)
        strcat(shown, "\xc3\xa9");
    assert_int_equal(strlen(shown), 254);
    assert_string_equal(s_part("a")->display_name, shown);
    assert_int_equal(strlen(s_part("a")->filename), 4 + 260);
}

static void
test_data(void **state)
{
    (void) state;
    /* the boundary inside the data, not at a line's start, or at one but
     * followed by other text; CRLFs and "--" */
    static const char body[] = "--XyZ\r\nContent-Disposition: form-data; name=\"bin\"; "
                               "filename=\"b.bin\"\r\nContent-Type: application/octet-stream\r\n"
                               "\r\nx--XyZ y\r\n--XyZX\r\n--XyZ-\r\n-\r\n--\r\n\r\n\0\xff--"
                               "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"empty\"; "
                               "filename=\"e.txt\"\r\n\r\n"
                               "\r\n--XyZ--";
    static const char data[] = "x--XyZ y\r\n--XyZX\r\n--XyZ-\r\n-\r\n--\r\n\r\n\0\xff--";
    assert_int_equal(s_parse("multipart/form-data; boundary=XyZ", body, sizeof body - 1), RU_OK);
    assert_int_equal(s_mp.n, 2);
    s_data_equal(s_part("bin"), data, sizeof data - 1);
    assert_string_equal(s_part("bin")->content_type, "application/octet-stream");
    const ru_multipart_part_t *empty = s_part("empty");
    assert_string_equal(empty->filename, "e.txt");
    assert_int_equal(empty->len, 0);
    assert_string_equal(empty->content_type, "");
    /* a part with no bytes right after its blank line */
    assert_int_equal(s_one("", ""), RU_OK);
    assert_int_equal(s_part("a")->len, 0);
    /* no parts at all, as Chromium sends an empty FormData */
    assert_int_equal(s_parse("multipart/form-data; boundary=XyZ", "--XyZ--\r\n", 9), RU_OK);
    assert_int_equal(s_mp.n, 0);
}

/*  Every cut of a body before its closing delimiter is refused. */
static void
test_cut_short(void **state)
{
    (void) state;
    size_t close = sizeof s_curl - 1 - 2; /* past "--" of the closing delimiter */
    for (size_t len = 0; len < close; len++) {
        ru_err err = s_parse(S_CURL_TYPE, s_curl, len);
        assert_int_equal(err, RU_E_INVALID);
        assert_true(strcmp(s_why, "the upload ended before its last part") == 0 ||
                    strcmp(s_why, "the body holds no delimiter of the boundary in its "
                                  "Content-Type") == 0);
    }
    assert_int_equal(s_parse(S_CURL_TYPE, s_curl, close), RU_OK);
    assert_int_equal(s_mp.n, 3);
    /* a big part cut short does not come out a shorter file */
    static const char cut[] = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
                              "filename=\"a.jpg\"\r\n\r\nsome bytes of a photo";
    assert_int_equal(s_parse("multipart/form-data; boundary=XyZ", cut, sizeof cut - 1),
                     RU_E_INVALID);
    assert_string_equal(s_why, "the upload ended before its last part");
}

static void
test_bad_parts(void **state)
{
    (void) state;
    static const struct {
        const char *body, *why;
    } cases[] = {
        {"--b\r\n\r\nno headers\r\n--b--", "a part has no Content-Disposition header"},
        {"--b\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--",
         "a part has no Content-Disposition header"},
        {"--b\r\nContent-Disposition: form-data\r\n\r\nv\r\n--b--",
         "a part has no name in its Content-Disposition"},
        {"--b\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nv\r\n--b--",
         "a part has no name in its Content-Disposition"},
        {"--b\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--b--",
         "a part's Content-Disposition is not form-data"},
        {"--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--b--",
         "a part's Content-Disposition is malformed"},
        {"--b\r\nContent-Disposition: form-data; name=a b\r\n\r\nv\r\n--b--",
         "a part's Content-Disposition is malformed"},
        {"--b\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Disposition: form-data; "
         "name=\"b\"\r\n\r\nv\r\n--b--",
         "a part has two Content-Disposition headers"},
        {"--b\r\nContent-Disposition: form-data;\r\n name=\"a\"\r\n\r\nv\r\n--b--",
         "a part's header line is folded (begins with a space)"},
        {"--b\r\nContent-Disposition: form-data; name=\"a\rb\"\r\n\r\nv\r\n--b--",
         "a part's header holds a control character"},
        {"--b\r\nContent-Disposition form-data; name=\"a\"\r\n\r\nv\r\n--b--",
         "a part's header line is not \"Name: value\""},
        {"--b\r\nContent-Disposition: form-data; name=\"a\"\n\r\nv\r\n--b--",
         "a part's header line ends in LF alone, not CRLF"},
        {"--b\nContent-Disposition: form-data; name=\"a\"\n\nv\n--b--\n",
         "the body's lines end in LF alone, not CRLF as multipart/form-data needs"},
        {"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--b\n--b--",
         "the body's lines end in LF alone, not CRLF as multipart/form-data needs"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(
            s_parse("multipart/form-data; boundary=b", cases[i].body, strlen(cases[i].body)),
            RU_E_INVALID);
        assert_string_equal(s_why, cases[i].why);
    }
    static const char nul[] = "--b\r\nContent-Disposition: form-data; name=\"a\0\"\r\n\r\nv"
                              "\r\n--b--";
    assert_int_equal(s_parse("multipart/form-data; boundary=b", nul, sizeof nul - 1), RU_E_INVALID);
    assert_string_equal(s_why, "a part's header holds a control character");
}

/*  A name seen before: the first part is kept. */
static void
test_duplicates(void **state)
{
    (void) state;
    static const char body[] = "--b\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\n"
                               "first\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; "
                               "filename=\"a.png\"\r\n\r\nA\r\n--b\r\nContent-Disposition: "
                               "form-data; name=\"description\"\r\n\r\nsecond\r\n--b--";
    assert_int_equal(s_parse("multipart/form-data; boundary=b", body, sizeof body - 1), RU_OK);
    assert_int_equal(s_mp.n, 2);
    assert_int_equal(s_mp.duplicates, 1);
    s_data_equal(s_part("description"), "first", 5);
    s_data_equal(s_part("file"), "A", 1);
}

/*  A list's name ("skills[]") may repeat: every part is kept, in order,
 *  beside a name that does not repeat. */
static void
test_list(void **state)
{
    (void) state;
    static const char body[] = "--b\r\nContent-Disposition: form-data; name=\"skills[]\"\r\n\r\n"
                               "C\r\n--b\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n"
                               "hi\r\n--b\r\nContent-Disposition: form-data; name=\"skills[]\"\r\n"
                               "\r\nLMDB\r\n--b\r\nContent-Disposition: form-data; name=\"note\"\r\n"
                               "\r\nagain\r\n--b--";
    assert_int_equal(s_parse("multipart/form-data; boundary=b", body, sizeof body - 1), RU_OK);
    assert_int_equal(s_mp.n, 3);
    assert_int_equal(s_mp.duplicates, 1);
    assert_string_equal(s_mp.parts[0].name, "skills[]");
    s_data_equal(&s_mp.parts[0], "C", 1);
    s_data_equal(&s_mp.parts[1], "hi", 2);
    assert_string_equal(s_mp.parts[2].name, "skills[]");
    s_data_equal(&s_mp.parts[2], "LMDB", 4);
}

/*  n parts named p0, p1 ... into buf; the body's length. */
static size_t
s_parts_body(char *buf, size_t size, int n)
{
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += (size_t) snprintf(
            buf + len, size - len,
            "--b\r\nContent-Disposition: form-data; name=\"p%d\"\r\n\r\n%d\r\n", i, i);
    len += (size_t) snprintf(buf + len, size - len, "--b--\r\n");
    assert_true(len < size);
    return len;
}

static void
test_limits(void **state)
{
    (void) state;
    static char body[16384];
    size_t len = s_parts_body(body, sizeof body, 16);
    assert_int_equal(s_parse("multipart/form-data; boundary=b", body, len), RU_OK);
    assert_int_equal(s_mp.n, 16);
    len = s_parts_body(body, sizeof body, 17);
    assert_int_equal(s_parse("multipart/form-data; boundary=b", body, len), RU_E_TOO_MANY);
    assert_string_equal(s_why, "the upload has more than 16 parts");
    /* header lines: 16 pass, 17 do not */
    char head[4096] = "";
    for (int i = 0; i < 15; i++)
        strcat(head, "\r\nX-Extra: 1");
    assert_int_equal(s_one(head, "v"), RU_OK);
    strcat(head, "\r\nX-Extra: 1");
    assert_int_equal(s_one(head, "v"), RU_E_TOO_MANY);
    assert_string_equal(s_why, "a part has more than 16 header lines");
    /* header bytes: exactly the limit passes, one more does not */
    ru_multipart_limits_t small = {16, 100, 16};
    static const char fmt[] = "--b\r\nContent-Disposition: form-data; name=\"a\"\r\nX: %s\r\n\r\nv"
                              "\r\n--b--";
    char pad[128] = "", one[512];
    size_t fixed = strlen("Content-Disposition: form-data; name=\"a\"\r\nX: \r\n");
    memset(pad, 'p', 100 - fixed);
    int n = snprintf(one, sizeof one, fmt, pad);
    assert_int_equal(s_parse_with("multipart/form-data; boundary=b", one, (size_t) n, &small),
                     RU_OK);
    pad[100 - fixed] = 'p';
    n = snprintf(one, sizeof one, fmt, pad);
    assert_int_equal(s_parse_with("multipart/form-data; boundary=b", one, (size_t) n, &small),
                     RU_E_TOO_BIG);
    assert_string_equal(s_why, "a part's headers are longer than 100 bytes");
    /* a line longer than the limit, and no blank line at all, within 8 KiB */
    static char huge[100000];
    n = snprintf(huge, sizeof huge, "--b\r\nContent-Disposition: form-data; name=\"a\"; x=\"");
    memset(huge + n, 'x', sizeof huge - (size_t) n);
    assert_int_equal(s_parse("multipart/form-data; boundary=b", huge, sizeof huge), RU_E_TOO_BIG);
    assert_string_equal(s_why, "a part's headers are longer than 8192 bytes");
}

static double
s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/*  A 40 MB part whose every line is a false delimiter ("--BOUNDARYX"),
 *  then one of CRs alone: parsed in linear time, where a search that
 *  started again from the part's start at each false one would take
 *  hours. */
static void
test_forty_megabytes(void **state)
{
    (void) state;
    const char *boundary = "------WebKitFormBoundaryg8DtjQZJi8BjJR8J";
    const size_t size = 40u << 20;
    char *body = malloc(size + 200);
    assert_non_null(body);
    size_t len = (size_t) sprintf(
        body, "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"v.mp4\"\r\n\r\n",
        boundary);
    size_t start = len, line = strlen(boundary) + 5;
    while (len + line < size / 2) {
        len += (size_t) sprintf(body + len, "\r\n--%sX", boundary);
    }
    memset(body + len, '\r', size - len);
    len = size;
    size_t data_len = len - start;
    len += (size_t) sprintf(body + len, "\r\n--%s--\r\n", boundary);
    char type[128];
    snprintf(type, sizeof type, "multipart/form-data; boundary=%s", boundary);
    double t0 = s_now();
    assert_int_equal(s_parse(type, body, len), RU_OK);
    double took = s_now() - t0;
    printf("40 MB part of false delimiters and CRs parsed in %.3f s\n", took);
    assert_int_equal(s_mp.n, 1);
    assert_int_equal(s_part("file")->len, data_len);
    assert_true(took < 10.0);
    free(body);
}

static int
s_teardown(void **state)
{
    (void) state;
    s_reset();
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_curl),       cmocka_unit_test(test_chromium),
        cmocka_unit_test(test_boundaries), cmocka_unit_test(test_content_types),
        cmocka_unit_test(test_file_names), cmocka_unit_test(test_long_name),
        cmocka_unit_test(test_data),       cmocka_unit_test(test_cut_short),
        cmocka_unit_test(test_bad_parts),  cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_list),       cmocka_unit_test(test_limits),
        cmocka_unit_test(test_forty_megabytes),
    };
    return cmocka_run_group_tests(tests, NULL, s_teardown);
}
