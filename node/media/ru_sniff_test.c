/*  ru_sniff_test.c - types told from content: images, documents, markup,
 *  junk and nothing; the image allowlist with and without HEIC; a hostile
 *  $MAGIC and ~/.magic.mgc ignored; the cap on the bytes libmagic reads;
 *  several threads sniffing at once, each with its own handle.
 *
 *  The samples are the first bytes of each format, written here: libmagic
 *  needs no more to tell them apart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <magic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ru_sniff.h"
#include "testdir.h"
#include "testrand.h"

#define S_LIT(s) s, sizeof(s) - 1

static const unsigned char s_png[] =
    "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x02\0\0\0"
    "\x90\x91\x68\x36";
static const unsigned char s_jpeg[] = "\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0";
static const unsigned char s_heic[] = "\0\0\0\x18"
                                      "ftypheic\0\0\0\0mif1heic";

static const struct {
    const void *data;
    size_t len;
    const char *mime;
} s_samples[] = {
    {s_png, sizeof s_png - 1, "image/png"},
    {s_jpeg, sizeof s_jpeg - 1, "image/jpeg"},
    {S_LIT("GIF89a\x10\0\x10\0\x80\0\0\xff\xff\xff\0\0\0!\xf9\x04"), "image/gif"},
    {S_LIT("RIFF\x24\0\0\0WEBPVP8 \x18\0\0\0"), "image/webp"},
    {s_heic, sizeof s_heic - 1, "image/heic"},
    {S_LIT("II*\0\x08\0\0\0\x01\0\0\x01\x03\0\x01\0\0\0\x10\0\0\0"), "image/tiff"},
    {S_LIT("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\">"
           "<script>alert(1)</script></svg>\n"),
     "image/svg+xml"},
    {S_LIT("%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"), "application/pdf"},
    {S_LIT("<!DOCTYPE html>\n<html><head><title>x</title></head><body>hi</body></html>\n"),
     "text/html"},
    {S_LIT("just some words\n"), "text/plain"},
    /* a polyglot is what it starts with: the re-encoding removes the rest */
    {S_LIT("GIF89a\x01\0\x01\0\0\0\0<html><script>alert(1)</script></html>"), "image/gif"},
    {"", 0, "application/x-empty"},
};

static void
test_types(void **state)
{
    (void) state;
    char mime[RU_SNIFF_MIME_MAX];
    for (size_t i = 0; i < sizeof s_samples / sizeof s_samples[0]; i++) {
        assert_int_equal(ru_sniff_type(s_samples[i].data, s_samples[i].len, mime), RU_OK);
        if (strcmp(mime, s_samples[i].mime) != 0)
            fail_msg("sample %zu: got %s, want %s", i, mime, s_samples[i].mime);
    }
    assert_int_equal(ru_sniff_type(NULL, 0, mime), RU_OK);
    assert_string_equal(mime, "application/x-empty");
    /* random bytes are of no type */
    uint64_t seed = 0x5eed;
    unsigned char junk[4096];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char) testrand(&seed, 256);
    assert_int_equal(ru_sniff_type(junk, sizeof junk, mime), RU_OK);
    assert_string_equal(mime, "application/octet-stream");
}

static void
test_is_image(void **state)
{
    (void) state;
    const char *yes[] = {"image/jpeg", "image/png", "image/webp", "image/gif"};
    for (size_t i = 0; i < 4; i++) {
        assert_true(ru_sniff_is_image(yes[i], false));
        assert_true(ru_sniff_is_image(yes[i], true));
    }
    assert_false(ru_sniff_is_image("image/heic", false));
    assert_true(ru_sniff_is_image("image/heic", true));
    assert_true(ru_sniff_is_image("image/heif", true));
    const char *no[] = {"image/svg+xml", "image/tiff",  "application/pdf", "text/html",
                        "image/avif",    "image/jpeg2", "image/",          ""};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        assert_false(ru_sniff_is_image(no[i], true));
}

static void *
s_sniff_jpeg(void *arg)
{
    char *mime = arg;
    if (ru_sniff_type(s_jpeg, sizeof s_jpeg - 1, mime) != RU_OK)
        strcpy(mime, "error");
    return NULL;
}

/*  A magic database that calls every JPEG text/html, compiled into dir as
 *  .magic.mgc (the name libmagic looks for in $HOME). */
static void
s_hostile_db(const char *dir, char *mgc, size_t size)
{
    char cwd[4096], src[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    snprintf(src, sizeof src, "%s/.magic", dir);
    FILE *f = fopen(src, "w");
    assert_non_null(f);
    fputs("0\tbeshort\t0xffd8\thostile\n!:mime\ttext/html\n", f);
    fclose(f);
    magic_t m = magic_open(0);
    assert_int_equal(magic_compile(m, ".magic"), 0); /* writes ./.magic.mgc */
    magic_close(m);
    assert_int_equal(chdir(cwd), 0);
    snprintf(mgc, size, "%s/.magic.mgc", dir);
}

/*  libmagic's default search would take the hostile database; ours does
 *  not. The sniff runs on a new thread, whose handle is made (and its
 *  database loaded) under the hostile environment. */
static void
test_environment_ignored(void **state)
{
    (void) state;
    char dir[256], mgc[4096], mime[RU_SNIFF_MIME_MAX];
    assert_int_equal(testdir_make(dir, sizeof dir), 0);
    s_hostile_db(dir, mgc, sizeof mgc);
    char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    for (int round = 0; round < 2; round++) {
        /* first $MAGIC, then ~/.magic.mgc alone */
        if (round == 0)
            assert_int_equal(setenv("MAGIC", mgc, 1), 0);
        else
            assert_int_equal(unsetenv("MAGIC"), 0);
        assert_int_equal(setenv("HOME", dir, 1), 0);
        magic_t m = magic_open(MAGIC_MIME_TYPE);
        assert_int_equal(magic_load(m, NULL), 0);
        assert_string_equal(magic_buffer(m, s_jpeg, sizeof s_jpeg - 1), "text/html");
        magic_close(m);
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, s_sniff_jpeg, mime), 0);
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_string_equal(mime, "image/jpeg");
    }
    if (old_home)
        setenv("HOME", old_home, 1);
    free(old_home);
    testdir_remove(dir);
}

/*  A JSON array of 2 MiB is only JSON to whoever reads to its end:
 *  libmagic is shown its first RU_SNIFF_BYTES_MAX bytes. */
static void
test_bytes_cap(void **state)
{
    (void) state;
    size_t n = 2 * RU_SNIFF_BYTES_MAX + 2;
    char *json = malloc(n), mime[RU_SNIFF_MIME_MAX];
    assert_non_null(json);
    json[0] = '[';
    for (size_t i = 1; i + 1 < n; i += 2)
        json[i] = '1', json[i + 1] = ',';
    json[n - 2] = '1', json[n - 1] = ']';
    assert_int_equal(ru_sniff_type(json, n, mime), RU_OK);
    assert_string_equal(mime, "text/plain");
    assert_int_equal(ru_sniff_type("[1,2]", 5, mime), RU_OK);
    assert_string_equal(mime, "application/json");
    free(json);
}

#define S_THREADS 4
#define S_ROUNDS 300

static void *
s_sniff_many(void *arg)
{
    long *wrong = arg;
    char mime[RU_SNIFF_MIME_MAX];
    size_t n = sizeof s_samples / sizeof s_samples[0];
    for (int r = 0; r < S_ROUNDS; r++) {
        size_t i = (size_t) r % n;
        if (ru_sniff_type(s_samples[i].data, s_samples[i].len, mime) != RU_OK ||
            strcmp(mime, s_samples[i].mime) != 0)
            (*wrong)++;
    }
    return NULL;
}

/*  Threads sniffing at once each get the right answers (a shared handle
 *  would mix them up); each one's handle is closed as it exits, which the
 *  sanitizer build's leak check sees. */
static void
test_threads(void **state)
{
    (void) state;
    pthread_t t[S_THREADS];
    long wrong[S_THREADS] = {0};
    for (int i = 0; i < S_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, s_sniff_many, &wrong[i]), 0);
    for (int i = 0; i < S_THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(wrong[i], 0);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_is_image),
        cmocka_unit_test(test_environment_ignored),
        cmocka_unit_test(test_bytes_cap),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
