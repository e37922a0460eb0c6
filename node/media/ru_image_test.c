/*  ru_image_test.c - the image pipeline on images this test makes itself
 *  with libvips, in memory: metadata stripped and the photo turned
 *  upright, transparency kept as PNG and an opaque GIF made JPEG, sizes
 *  fitted and never enlarged, wide-gamut colours brought to sRGB, the
 *  limits on the header (a 100,000 x 100,000 PNG bomb of a few hundred
 *  bytes refused at once), damaged files and junk refused, other formats
 *  (SVG, TIFF, PDF, HTML, HEIC when off) refused, a GIF+HTML polyglot
 *  re-encoded without its HTML, an animation's first frame, and several
 *  threads at once giving what one gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vips/vips.h>
#include <zlib.h>

#include "ru_image.h"
#include "testrand.h"

/*  ---------------------------------------------------------------------
 *  Images made for the tests
 */

/*  A w x h sRGB image of noise around a mean grey, so that it does not
 *  compress away; the same noise every run. */
static VipsImage *
s_noise(int w, int h, double mean)
{
    VipsImage *n, *u, *rgb, *out;
    assert_int_equal(vips_gaussnoise(&n, w, h, "mean", mean, "sigma", 20.0, "seed", 42, NULL), 0);
    assert_int_equal(vips_cast_uchar(n, &u, NULL), 0);
    VipsImage *b[3] = {u, u, u};
    assert_int_equal(vips_bandjoin(b, &rgb, 3, NULL), 0);
    assert_int_equal(vips_copy(rgb, &out, "interpretation", VIPS_INTERPRETATION_sRGB, NULL), 0);
    g_object_unref(n), g_object_unref(u), g_object_unref(rgb);
    return out;
}

/*  A w x h sRGB image of one colour, bands 3 or 4 (the fourth is alpha). */
static VipsImage *
s_flat(int w, int h, int bands, const double *colour)
{
    VipsImage *black, *lin, *u, *out;
    double zero[4] = {0};
    assert_int_equal(vips_black(&black, w, h, "bands", bands, NULL), 0);
    assert_int_equal(vips_linear(black, &lin, zero, colour, bands, NULL), 0);
    assert_int_equal(vips_cast_uchar(lin, &u, NULL), 0);
    assert_int_equal(vips_copy(u, &out, "interpretation", VIPS_INTERPRETATION_sRGB, NULL), 0);
    g_object_unref(black), g_object_unref(lin), g_object_unref(u);
    return out;
}

typedef struct {
    void *data;
    size_t len;
} s_bytes_t;

static s_bytes_t
s_jpeg(VipsImage *img)
{
    s_bytes_t b;
    assert_int_equal(vips_jpegsave_buffer(img, &b.data, &b.len, "Q", 90, NULL), 0);
    return b;
}

static s_bytes_t
s_png(VipsImage *img)
{
    s_bytes_t b;
    assert_int_equal(vips_pngsave_buffer(img, &b.data, &b.len, NULL), 0);
    return b;
}

static s_bytes_t
s_gif(VipsImage *img)
{
    s_bytes_t b;
    assert_int_equal(vips_gifsave_buffer(img, &b.data, &b.len, NULL), 0);
    return b;
}

static s_bytes_t
s_text(const char *text)
{
    s_bytes_t b = {g_strdup(text), strlen(text)};
    return b;
}

/*  The mean of band of img's area (x, y, w, h). */
static double
s_mean(VipsImage *img, int band, int x, int y, int w, int h)
{
    VipsImage *area, *one;
    double mean;
    assert_int_equal(vips_extract_area(img, &area, x, y, w, h, NULL), 0);
    assert_int_equal(vips_extract_band(area, &one, band, NULL), 0);
    assert_int_equal(vips_avg(one, &mean, NULL), 0);
    g_object_unref(area), g_object_unref(one);
    return mean;
}

/*  An output file loaded back, in memory. */
static VipsImage *
s_load(const ru_image_file_t *f)
{
    VipsImage *img = vips_image_new_from_buffer(f->data, f->len, "", NULL);
    assert_non_null(img);
    VipsImage *mem = vips_image_copy_memory(img);
    g_object_unref(img);
    assert_non_null(mem);
    assert_int_equal(vips_image_get_width(mem), f->width);
    assert_int_equal(vips_image_get_height(mem), f->height);
    return mem;
}

static bool
s_has(const void *data, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp((const char *) data + i, needle, n) == 0)
            return true;
    return false;
}

static uint32_t
s_be(const unsigned char *p, int n)
{
    uint32_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/*  The file's own blocks hold no metadata: a JPEG has no APP1 (EXIF, XMP),
 *  APP2 (ICC) or APP13 (IPTC) segment before its scan, a PNG no eXIf,
 *  iCCP or text chunk. (Searching the bytes for "GPS" would find it, now
 *  and then, in the compressed pixels.) */
static void
s_assert_no_meta_blocks(const ru_image_file_t *f)
{
    const unsigned char *d = f->data;
    size_t p;
    if (strcmp(f->mime, "image/jpeg") == 0)
        for (p = 2; p + 4 <= f->len && d[p + 1] != 0xda; p += 2 + s_be(d + p + 2, 2)) {
            assert_int_equal(d[p], 0xff);
            if (d[p + 1] == 0xe1 || d[p + 1] == 0xe2 || d[p + 1] == 0xed)
                fail_msg("JPEG segment 0x%02x", d[p + 1]);
        }
    else
        for (p = 8; p + 8 <= f->len && memcmp(d + p + 4, "IEND", 4) != 0;
             p += 12 + s_be(d + p, 4)) {
            static const char *const meta[] = {"eXIf", "iCCP", "iTXt", "tEXt", "zTXt"};
            for (int i = 0; i < 5; i++)
                if (memcmp(d + p + 4, meta[i], 4) == 0)
                    fail_msg("PNG chunk %s", meta[i]);
        }
    assert_true(p + 4 <= f->len); /* the walk reached the scan or the end */
}

/*  No metadata at all in an output: no EXIF (nor fields read from it), no
 *  XMP, IPTC or ICC profile, in what libvips reads or in the bytes. */
static void
s_assert_bare(const ru_image_file_t *f)
{
    VipsImage *img = vips_image_new_from_buffer(f->data, f->len, "", NULL);
    assert_non_null(img);
    char **fields = vips_image_get_fields(img);
    for (int i = 0; fields[i]; i++) {
        if (strncmp(fields[i], "exif", 4) == 0 || strcmp(fields[i], VIPS_META_XMP_NAME) == 0 ||
            strcmp(fields[i], VIPS_META_IPTC_NAME) == 0 ||
            strcmp(fields[i], VIPS_META_ICC_NAME) == 0 ||
            strcmp(fields[i], VIPS_META_ORIENTATION) == 0)
            fail_msg("output keeps %s", fields[i]);
    }
    g_strfreev(fields);
    g_object_unref(img);
    s_assert_no_meta_blocks(f);
}

static ru_image_opts_t
s_opts(void)
{
    ru_image_opts_t o;
    ru_image_opts_default(&o);
    return o;
}

static ru_err
s_process(s_bytes_t in, const ru_image_opts_t *opts, ru_image_t *out)
{
    ru_err err = ru_image_process(in.data, in.len, opts, out);
    g_free(in.data);
    return err;
}

/*  ---------------------------------------------------------------------
 *  Tests
 */

/*  A phone photo: stored sideways with EXIF orientation 6 (turn 90 degrees
 *  clockwise to view), a GPS position, a camera make and XMP. Its left half
 *  is dark and its right half light, so upright means dark on top. */
static void
test_exif_rotated_and_stripped(void **state)
{
    (void) state;
    VipsImage *dark = s_noise(150, 200, 40), *light = s_noise(150, 200, 210), *img, *tagged;
    assert_int_equal(vips_join(dark, light, &img, VIPS_DIRECTION_HORIZONTAL, NULL), 0);
    assert_int_equal(vips_copy(img, &tagged, NULL), 0);
    vips_image_set_int(tagged, VIPS_META_ORIENTATION, 6);
    vips_image_set_string(tagged, "exif-ifd3-GPSLatitude", "48/1 51/1 24/1");
    vips_image_set_string(tagged, "exif-ifd3-GPSLatitudeRef", "N");
    vips_image_set_string(tagged, "exif-ifd0-Make", "Phonemaker");
    static const char xmp[] = "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http:"
                              "//www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns:p=\"http://ns.adobe."
                              "com/photoshop/1.0/\" p:City=\"Nozay\"/></x:xmpmeta>";
    vips_image_set_blob_copy(tagged, VIPS_META_XMP_NAME, xmp, sizeof xmp - 1);
    s_bytes_t in = s_jpeg(tagged);
    g_object_unref(dark), g_object_unref(light), g_object_unref(img), g_object_unref(tagged);
    /* the input really carries them */
    VipsImage *check = vips_image_new_from_buffer(in.data, in.len, "", NULL);
    const char *gps;
    assert_int_equal(vips_image_get_string(check, "exif-ifd3-GPSLatitude", &gps), 0);
    assert_int_equal(vips_image_get_orientation(check), 6);
    assert_true(vips_image_get_typeof(check, VIPS_META_XMP_NAME) != 0);
    g_object_unref(check);
    assert_true(s_has(in.data, in.len, "Phonemaker") && s_has(in.data, in.len, "Nozay"));

    ru_image_opts_t o = s_opts();
    ru_image_t out;
    assert_int_equal(s_process(in, &o, &out), RU_OK);
    assert_string_equal(out.source_mime, "image/jpeg");
    assert_int_equal(out.source_width, 200);
    assert_int_equal(out.source_height, 300);
    assert_string_equal(out.display.mime, "image/jpeg");
    assert_int_equal(out.display.width, 200);
    assert_int_equal(out.display.height, 300);
    const ru_image_file_t *files[] = {&out.display, &out.thumb};
    for (int i = 0; i < 2; i++) {
        s_assert_bare(files[i]);
        assert_false(s_has(files[i]->data, files[i]->len, "Phonemaker"));
        assert_false(s_has(files[i]->data, files[i]->len, "Nozay"));
        VipsImage *o_img = s_load(files[i]);
        int w = files[i]->width, h = files[i]->height;
        assert_true(s_mean(o_img, 0, 0, 0, w, h / 2 - 2) < 80);
        assert_true(s_mean(o_img, 0, 0, h / 2 + 2, w, h / 2 - 2) > 170);
        g_object_unref(o_img);
    }
    assert_int_equal(strlen(out.blurhash), 28);
    ru_image_fini(&out);
    assert_null(out.display.data);
    ru_image_fini(&out);
}

/*  Transparency stays (PNG); an alpha channel opaque everywhere does not
 *  make a PNG. A small image keeps its size. */
static void
test_alpha(void **state)
{
    (void) state;
    double half[4] = {200, 30, 30, 128}, opaque[4] = {30, 200, 30, 255};
    VipsImage *img = s_flat(64, 48, 4, half);
    ru_image_opts_t o = s_opts();
    ru_image_t out;
    assert_int_equal(s_process(s_png(img), &o, &out), RU_OK);
    g_object_unref(img);
    assert_string_equal(out.source_mime, "image/png");
    assert_string_equal(out.display.mime, "image/png");
    assert_string_equal(out.thumb.mime, "image/png");
    assert_int_equal(out.display.width, 64);
    assert_int_equal(out.display.height, 48);
    assert_int_equal(out.thumb.width, 64);
    VipsImage *back = s_load(&out.display);
    assert_int_equal(vips_image_get_bands(back), 4);
    assert_true(s_mean(back, 3, 0, 0, 64, 48) > 120 && s_mean(back, 3, 0, 0, 64, 48) < 136);
    g_object_unref(back);
    s_assert_bare(&out.display);
    ru_image_fini(&out);

    img = s_flat(64, 48, 4, opaque);
    assert_int_equal(s_process(s_png(img), &o, &out), RU_OK);
    g_object_unref(img);
    assert_string_equal(out.display.mime, "image/jpeg");
    assert_string_equal(out.thumb.mime, "image/jpeg");
    ru_image_fini(&out);
}

/*  A large photo fits the display and thumbnail boxes, aspect kept; a tall
 *  one is fitted by its height. */
static void
test_sizes(void **state)
{
    (void) state;
    ru_image_opts_t o = s_opts();
    ru_image_t out;
    VipsImage *img = s_noise(3000, 2000, 128);
    assert_int_equal(s_process(s_jpeg(img), &o, &out), RU_OK);
    g_object_unref(img);
    assert_int_equal(out.display.width, 1920);
    assert_int_equal(out.display.height, 1280);
    assert_int_equal(out.thumb.width, 480);
    assert_int_equal(out.thumb.height, 320);
    g_object_unref(s_load(&out.display)); /* dimensions checked there */
    g_object_unref(s_load(&out.thumb));
    ru_image_fini(&out);

    o.display_px = 800, o.thumb_px = 100;
    img = s_noise(500, 1000, 128);
    assert_int_equal(s_process(s_png(img), &o, &out), RU_OK);
    g_object_unref(img);
    assert_int_equal(out.display.width, 400);
    assert_int_equal(out.display.height, 800);
    assert_int_equal(out.thumb.width, 50);
    assert_int_equal(out.thumb.height, 100);
    ru_image_fini(&out);
}

/*  A photo in the Display P3 space (its profile embedded) comes out in
 *  sRGB with no profile: pure red is pure red again. */
static void
test_colour_profile(void **state)
{
    (void) state;
    double red[3] = {255, 0, 0};
    VipsImage *img = s_flat(64, 64, 3, red), *p3;
    assert_int_equal(vips_icc_transform(img, &p3, "p3", "input_profile", "srgb", NULL), 0);
    g_object_unref(img);
    assert_true(s_mean(p3, 0, 0, 0, 64, 64) < 240); /* P3's red is not sRGB's */
    ru_image_opts_t o = s_opts();
    ru_image_t out;
    assert_int_equal(s_process(s_jpeg(p3), &o, &out), RU_OK);
    g_object_unref(p3);
    s_assert_bare(&out.display);
    VipsImage *back = s_load(&out.display);
    assert_true(s_mean(back, 0, 0, 0, 64, 64) > 250);
    assert_true(s_mean(back, 1, 0, 0, 64, 64) < 8);
    g_object_unref(back);
    ru_image_fini(&out);
}

/*  Grey, grey with transparency and 16-bit images come out as 8-bit sRGB
 *  of the same tones. */
static void
test_colour_spaces(void **state)
{
    (void) state;
    double grey[2] = {90, 255}, deep[3] = {50000, 25000, 0}, half_grey[2] = {90, 100};
    VipsImage *g = s_flat(30, 20, 1, grey), *ga = s_flat(30, 20, 2, half_grey), *g1, *ga1, *d16, *d;
    assert_int_equal(vips_copy(g, &g1, "interpretation", VIPS_INTERPRETATION_B_W, NULL), 0);
    assert_int_equal(vips_copy(ga, &ga1, "interpretation", VIPS_INTERPRETATION_B_W, NULL), 0);
    VipsImage *black;
    double zero[3] = {0};
    assert_int_equal(vips_black(&black, 30, 20, "bands", 3, NULL), 0);
    assert_int_equal(vips_linear(black, &d, zero, deep, 3, NULL), 0);
    assert_int_equal(vips_cast_ushort(d, &d16, NULL), 0);
    VipsImage *rgb16;
    assert_int_equal(vips_copy(d16, &rgb16, "interpretation", VIPS_INTERPRETATION_RGB16, NULL), 0);
    struct {
        VipsImage *img;
        int bands;
        double r, b;
    } cases[] = {{g1, 3, 90, 90}, {ga1, 4, 90, 90}, {rgb16, 3, 50000 / 257.0, 0}};
    ru_image_opts_t o = s_opts();
    for (int i = 0; i < 3; i++) {
        ru_image_t out;
        assert_int_equal(s_process(s_png(cases[i].img), &o, &out), RU_OK);
        VipsImage *back = s_load(&out.display);
        assert_int_equal(vips_image_get_bands(back), cases[i].bands);
        assert_int_equal(vips_image_get_format(back), VIPS_FORMAT_UCHAR);
        assert_true(fabs(s_mean(back, 0, 0, 0, 30, 20) - cases[i].r) < 3);
        assert_true(fabs(s_mean(back, 2, 0, 0, 30, 20) - cases[i].b) < 3);
        g_object_unref(back);
        ru_image_fini(&out);
    }
    VipsImage *all[] = {g, ga, g1, ga1, black, d, d16, rgb16};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        g_object_unref(all[i]);
}

/*  A PNG of under 200 bytes whose header says 100,000 x 100,000 RGB, with a
 *  short IDAT of deflated zeros: 30 gigabytes once decoded. */
static s_bytes_t
s_bomb(void)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char ihdr[13] = {0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0, 8, 2, 0, 0, 0};
    static unsigned char zeros[100001];
    unsigned char idat[1024];
    uLongf idat_len = sizeof idat;
    assert_int_equal(compress2(idat, &idat_len, zeros, sizeof zeros, 9), Z_OK);
    unsigned char *png = g_malloc(8 + 25 + 12 + idat_len + 12), *p = png;
    memcpy(p, sig, 8), p += 8;
    const struct {
        const char *type;
        const unsigned char *data;
        uint32_t len;
    } chunks[] = {{"IHDR", ihdr, 13}, {"IDAT", idat, (uint32_t) idat_len}, {"IEND", NULL, 0}};
    for (int i = 0; i < 3; i++) {
        uint32_t n = chunks[i].len;
        unsigned char *start = p + 4;
        *p++ = (unsigned char) (n >> 24), *p++ = (unsigned char) (n >> 16);
        *p++ = (unsigned char) (n >> 8), *p++ = (unsigned char) n;
        memcpy(p, chunks[i].type, 4), p += 4;
        if (n)
            memcpy(p, chunks[i].data, n), p += n;
        uint32_t crc = (uint32_t) crc32(0, start, n + 4);
        *p++ = (unsigned char) (crc >> 24), *p++ = (unsigned char) (crc >> 16);
        *p++ = (unsigned char) (crc >> 8), *p++ = (unsigned char) crc;
    }
    s_bytes_t b = {png, (size_t) (p - png)};
    return b;
}

static double
s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

/*  The bomb is refused from its header, at once; the edges of both limits
 *  are where they say. */
static void
test_limits(void **state)
{
    (void) state;
    ru_image_opts_t o = s_opts();
    ru_image_t out;
    s_bytes_t bomb = s_bomb();
    assert_true(bomb.len < 500);
    double t0 = s_now_ms();
    assert_int_equal(s_process(bomb, &o, &out), RU_E_MEDIA_DIMENSIONS);
    double ms = s_now_ms() - t0;
    print_message("100000 x 100000 PNG bomb of %zu bytes refused in %.2f ms\n", bomb.len, ms);
    assert_true(ms < 500); /* ~1 ms; decoding it would take seconds */
    assert_null(out.display.data);

    VipsImage *img = s_noise(400, 300, 128);
    o.max_side = 399;
    assert_int_equal(s_process(s_png(img), &o, &out), RU_E_MEDIA_DIMENSIONS);
    o.max_side = 400;
    assert_int_equal(s_process(s_png(img), &o, &out), RU_OK);
    ru_image_fini(&out);
    o.max_pixels = 400 * 300 - 1;
    assert_int_equal(s_process(s_png(img), &o, &out), RU_E_MEDIA_DIMENSIONS);
    o.max_pixels = 400 * 300;
    assert_int_equal(s_process(s_png(img), &o, &out), RU_OK);
    ru_image_fini(&out);
    g_object_unref(img);
}

/*  Damaged files and junk are refused with their own errors, and so are
 *  options out of range. */
static void
test_damaged_and_junk(void **state)
{
    (void) state;
    ru_image_opts_t o = s_opts();
    ru_image_t out;
    VipsImage *img = s_noise(300, 200, 128);
    s_bytes_t jpeg = s_jpeg(img), png = s_png(img);
    g_object_unref(img);
    assert_int_equal(ru_image_process(jpeg.data, jpeg.len * 6 / 10, &o, &out), RU_E_MEDIA_CORRUPT);
    assert_int_equal(ru_image_process(png.data, png.len * 6 / 10, &o, &out), RU_E_MEDIA_CORRUPT);
    /* a flipped byte in the middle of the PNG's data breaks its checksum */
    ((unsigned char *) png.data)[png.len / 2] ^= 0x55;
    assert_int_equal(ru_image_process(png.data, png.len, &o, &out), RU_E_MEDIA_CORRUPT);
    /* a JPEG cut right after its header */
    assert_int_equal(ru_image_process(jpeg.data, 700, &o, &out), RU_E_MEDIA_CORRUPT);
    g_free(jpeg.data), g_free(png.data);

    uint64_t seed = 0xbadc0ffee;
    unsigned char junk[65536];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char) testrand(&seed, 256);
    assert_int_equal(ru_image_process(junk, sizeof junk, &o, &out), RU_E_MEDIA_TYPE);
    assert_string_equal(out.source_mime, "application/octet-stream");
    assert_null(out.display.data);
    assert_int_equal(ru_image_process("", 0, &o, &out), RU_E_MEDIA_TYPE);
    assert_int_equal(ru_image_process(NULL, 0, &o, &out), RU_E_MEDIA_TYPE);

    o.thumb_px = o.display_px + 1;
    assert_int_equal(ru_image_process(junk, sizeof junk, &o, &out), RU_E_INVALID);
    o = s_opts(), o.max_pixels = 0;
    assert_int_equal(ru_image_process(junk, sizeof junk, &o, &out), RU_E_INVALID);
    o = s_opts(), o.display_px = RU_IMAGE_PX_MAX + 1;
    assert_int_equal(ru_image_process(junk, sizeof junk, &o, &out), RU_E_INVALID);
}

/*  Formats libvips could read but this site does not: refused as not an
 *  image, before any decoder sees them. */
static void
test_other_formats(void **state)
{
    (void) state;
    ru_image_opts_t o = s_opts();
    ru_image_t out;
    VipsImage *img = s_noise(64, 64, 128);
    s_bytes_t tiff;
    assert_int_equal(vips_tiffsave_buffer(img, &tiff.data, &tiff.len, NULL), 0);
    assert_int_equal(ru_image_process(tiff.data, tiff.len, &o, &out), RU_E_MEDIA_TYPE);
    assert_string_equal(out.source_mime, "image/tiff");
    /* had libmagic been fooled, libvips itself would not read it */
    VipsImage *direct = vips_image_new_from_buffer(tiff.data, tiff.len, "", NULL);
    assert_null(direct);
    assert_non_null(strstr(vips_error_buffer(), "blocked"));
    vips_error_clear();
    g_free(tiff.data);
    s_bytes_t others[] = {
        s_text("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"64\" height=\"64\">"
               "<rect width=\"64\" height=\"64\" fill=\"red\"/><script>alert(1)</script></svg>\n"),
        s_text("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type "
               "/Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"),
        s_text("<!DOCTYPE html>\n<html><body><img src=x onerror=alert(1)></body></html>\n"),
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        assert_int_equal(s_process(others[i], &o, &out), RU_E_MEDIA_TYPE);

    /* HEIC: off by default; and on in the options, off where ru_image_init
     * did not allow it. The start of a HEIC file (its ftyp box) is enough:
     * it is refused from its type alone. */
    static const char heic[] = "\0\0\0\x18"
                               "ftypheic\0\0\0\0mif1heic";
    assert_int_equal(ru_image_process(heic, sizeof heic - 1, &o, &out), RU_E_MEDIA_TYPE);
    assert_string_equal(out.source_mime, "image/heic");
    o.heic = true;
    assert_int_equal(ru_image_process(heic, sizeof heic - 1, &o, &out), RU_E_MEDIA_TYPE);
    g_object_unref(img);
}

/*  A GIF with an HTML page behind it: libmagic and libvips see a GIF, and
 *  what comes out is a new JPEG without a byte of the page. */
static void
test_polyglot(void **state)
{
    (void) state;
    VipsImage *img = s_noise(32, 32, 100);
    s_bytes_t gif = s_gif(img);
    g_object_unref(img);
    static const char html[] = "<html><script>alert(document.cookie)</script></html>";
    s_bytes_t poly = {g_malloc(gif.len + sizeof html), gif.len + sizeof html - 1};
    memcpy(poly.data, gif.data, gif.len);
    memcpy((char *) poly.data + gif.len, html, sizeof html);
    g_free(gif.data);
    ru_image_opts_t o = s_opts();
    ru_image_t out;
    assert_int_equal(s_process(poly, &o, &out), RU_OK);
    assert_string_equal(out.source_mime, "image/gif");
    assert_string_equal(out.display.mime, "image/jpeg"); /* a GIF's alpha is opaque */
    assert_false(s_has(out.display.data, out.display.len, "script"));
    assert_false(s_has(out.thumb.data, out.thumb.len, "script"));
    ru_image_fini(&out);
}

/*  An animated GIF of three frames (red, green, blue) gives its first. */
static void
test_animation(void **state)
{
    (void) state;
    double colours[3][3] = {{220, 20, 20}, {20, 220, 20}, {20, 20, 220}};
    VipsImage *frames[3], *strip, *anim;
    for (int i = 0; i < 3; i++)
        frames[i] = s_flat(40, 30, 3, colours[i]);
    assert_int_equal(vips_arrayjoin(frames, &strip, 3, "across", 1, NULL), 0);
    assert_int_equal(vips_copy(strip, &anim, NULL), 0);
    vips_image_set_int(anim, VIPS_META_PAGE_HEIGHT, 30);
    vips_image_set_int(anim, VIPS_META_N_PAGES, 3);
    int delays[3] = {100, 100, 100};
    vips_image_set_array_int(anim, "delay", delays, 3);
    s_bytes_t gif = s_gif(anim);
    for (int i = 0; i < 3; i++)
        g_object_unref(frames[i]);
    g_object_unref(strip), g_object_unref(anim);
    ru_image_opts_t o = s_opts();
    ru_image_t out;
    assert_int_equal(s_process(gif, &o, &out), RU_OK);
    assert_int_equal(out.frames, 3);
    assert_int_equal(out.display.width, 40);
    assert_int_equal(out.display.height, 30);
    VipsImage *back = s_load(&out.display);
    assert_true(s_mean(back, 0, 0, 0, 40, 30) > 180);
    assert_true(s_mean(back, 1, 0, 0, 40, 30) < 60);
    g_object_unref(back);
    ru_image_fini(&out);
}

#define S_THREADS 3
#define S_ROUNDS 4

typedef struct {
    s_bytes_t in;
    const ru_image_t *expect;
    int wrong;
} s_job_t;

static void *
s_worker(void *arg)
{
    s_job_t *job = arg;
    ru_image_opts_t o = s_opts();
    for (int r = 0; r < S_ROUNDS; r++) {
        ru_image_t out;
        if (ru_image_process(job->in.data, job->in.len, &o, &out) != RU_OK ||
            out.display.len != job->expect->display.len ||
            memcmp(out.display.data, job->expect->display.data, out.display.len) != 0 ||
            strcmp(out.blurhash, job->expect->blurhash) != 0)
            job->wrong++;
        ru_image_fini(&out);
    }
    ru_image_thread_end();
    return NULL;
}

/*  Threads processing at once make the very bytes one thread makes. */
static void
test_threads(void **state)
{
    (void) state;
    VipsImage *img = s_noise(1200, 900, 128);
    s_bytes_t in = s_jpeg(img);
    g_object_unref(img);
    ru_image_opts_t o = s_opts();
    ru_image_t expect;
    assert_int_equal(ru_image_process(in.data, in.len, &o, &expect), RU_OK);
    pthread_t t[S_THREADS];
    s_job_t jobs[S_THREADS];
    for (int i = 0; i < S_THREADS; i++) {
        jobs[i] = (s_job_t){in, &expect, 0};
        assert_int_equal(pthread_create(&t[i], NULL, s_worker, &jobs[i]), 0);
    }
    for (int i = 0; i < S_THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(jobs[i].wrong, 0);
    }
    ru_image_fini(&expect);
    g_free(in.data);
}

static int
s_setup(void **state)
{
    (void) state;
    if (ru_image_init(false, 1) != RU_OK)
        return -1;
    return ru_image_init(false, 1) == RU_E_INVALID ? 0 : -1; /* once only */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_exif_rotated_and_stripped),
        cmocka_unit_test(test_alpha),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_colour_profile),
        cmocka_unit_test(test_colour_spaces),
        cmocka_unit_test(test_damaged_and_junk),
        cmocka_unit_test(test_other_formats),
        cmocka_unit_test(test_polyglot),
        cmocka_unit_test(test_animation),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, s_setup, NULL);
}
