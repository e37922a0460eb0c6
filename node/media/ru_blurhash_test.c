/*  ru_blurhash_test.c - the blurhash encoder against frozen known answers,
 *  with the row stride honoured and bad arguments refused.
 *
 *  The expected strings were made once by another implementation, Debian
 *  12's python3-blurhash 1.1.4 (blurhash.encode on the same pixels, given
 *  as an RGB PNG through PIL), on the deterministic images built below: a
 *  gradient, a solid colour, a checkerboard of 4-pixel squares and an
 *  arithmetic pattern with high frequencies. Each is encoded with the
 *  components of a photo (4 x 3), of none (1 x 1), of the most (9 x 9) and
 *  of a tall shape. The test needs nothing but this file: a changed string
 *  means the encoder no longer writes what every client decodes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "ru_blurhash.h"

typedef void (*s_paint_fn)(uint8_t *px, int x, int y, int w, int h);

static void
s_gradient(uint8_t *px, int x, int y, int w, int h)
{
    px[0] = (uint8_t) (x * 255 / (w - 1));
    px[1] = (uint8_t) (y * 255 / (h - 1));
    px[2] = 128;
}

static void
s_solid(uint8_t *px, int x, int y, int w, int h)
{
    (void) x, (void) y, (void) w, (void) h;
    px[0] = 200, px[1] = 100, px[2] = 50;
}

static void
s_checker(uint8_t *px, int x, int y, int w, int h)
{
    (void) w, (void) h;
    int on = (x / 4 + y / 4) % 2;
    px[0] = on ? 255 : 30, px[1] = on ? 255 : 60, px[2] = on ? 255 : 90;
}

static void
s_pattern(uint8_t *px, int x, int y, int w, int h)
{
    (void) w, (void) h;
    px[0] = (uint8_t) ((x * x + 3 * y) & 255);
    px[1] = (uint8_t) ((x * y) & 255);
    px[2] = (uint8_t) (((x ^ y) * 4) & 255);
}

/*  The image painted by paint, rows stride bytes apart (padding 0xEE). */
static uint8_t *
s_image(s_paint_fn paint, int w, int h, size_t stride)
{
    uint8_t *img = malloc(stride * (size_t) h);
    assert_non_null(img);
    memset(img, 0xEE, stride * (size_t) h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            paint(img + (size_t) y * stride + (size_t) x * 3, x, y, w, h);
    return img;
}

static const struct {
    const char *name;
    s_paint_fn paint;
    int w, h, xc, yc;
    const char *expect;
} s_vectors[] = {
    {"gradient", s_gradient, 32, 24, 4, 3, "L$HewF2swxX8l}WDjte;gJfjfQfj"},
    {"gradient", s_gradient, 32, 24, 1, 1, "00HewF"},
    {"gradient", s_gradient, 32, 24, 9, 9,
     "|$HewF2swxX8a|ofWpofWpl}WDjte;fQe;fQe;fQgJfjfQfjfQfjfQfjfQn,WpjtfQfQfQfQfQfQe;fQfQfQfQfQfQf"
     "QfQofWpjtfQfQfQfQfQfQeqfQfQfQfQfQfQfQfQoyWpjtfQfQfQfQfQfQeqfQfQfQfQfQfQfQfQ"},
    {"gradient", s_gradient, 32, 24, 3, 5, "c$HewF2swxl}WDjtgJfjfQn,Wpjte;fQfQ"},
    {"solid", s_solid, 16, 16, 4, 3, "LBM|T9}XfQ}X}XoLfQoLfQfQfQfQ"},
    {"solid", s_solid, 16, 16, 1, 1, "00M|T9"},
    {"solid", s_solid, 16, 16, 9, 9,
     "|BM|T9}XfQ}XfQ}XfQ}XfQ}XoLfQoLfQoLfQoLfQfQfQfQfQfQfQfQfQfQ}XoLfQoLfQoLfQoLfQfQfQfQfQfQfQf"
     "QfQfQ}XoLfQoLfQoLfQoLfQfQfQfQfQfQfQfQfQfQ}XoLfQoLfQoLfQoLfQfQfQfQfQfQfQfQfQfQ"},
    {"solid", s_solid, 16, 16, 3, 5, "cBM|T9}XfQ}XoLfQfQfQfQ}XoLfQfQfQfQ"},
    {"checker", s_checker, 17, 13, 4, 3, "LFLh3%xvM{R-_3RjWBM{M{9FIo00"},
    {"checker", s_checker, 17, 13, 1, 1, "00Lh3%"},
    {"checker", s_checker, 17, 13, 9, 9,
     "|aLh3%t7WBWXD%?bof%Mj[%MWBayRjM{t7j[offQRjIVRjD%9F-;ofofj[xvIUM|9F00?bt7t7j[ofxut7%M?aIUWB"
     "WBay%Nofj[ofofayayj[fQjtj[j[j[j[ayfQfQfQ%Nj[a|j[ayoffQj[fQfQayayayayj[fQfQfQ"},
    {"checker", s_checker, 17, 13, 3, 5, "cDLh3%xvM{_NRjWBM{4.IU?c01D%xu?axu"},
    {"pattern", s_pattern, 64, 48, 4, 3, "LSG[ylRMM{N0RVRdR;WIRTnVWtoD"},
    {"pattern", s_pattern, 64, 48, 9, 9,
     "|SG[ylRMM{N0M}NLNLRqNJRVRdR;WIS3WSbWoNk9RTnVWtoDbXs?f+ocbZrwWCbFk7bcX7s+WnayVwf3bYoiX8k6n-"
     "jJR,nTfmf$bWj@aeaje,jFi}W.baocWXjGahn$kBnmbWf*j^jHe=WUf,f+aNbakCawjGjdbXocbZ"},
    {"pattern", s_pattern, 64, 48, 2, 7, "tSG[ylRMRVRdRTnVrwWCVwf3nTfmi}W."},
};

static void
test_known_answers(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof s_vectors / sizeof s_vectors[0]; i++) {
        int w = s_vectors[i].w, h = s_vectors[i].h;
        uint8_t *img = s_image(s_vectors[i].paint, w, h, (size_t) w * 3);
        char out[RU_BLURHASH_MAX];
        assert_int_equal(
            ru_blurhash_encode(img, w, h, (size_t) w * 3, s_vectors[i].xc, s_vectors[i].yc, out),
            RU_OK);
        if (strcmp(out, s_vectors[i].expect) != 0)
            fail_msg("%s %dx%d: got %s, want %s", s_vectors[i].name, s_vectors[i].xc,
                     s_vectors[i].yc, out, s_vectors[i].expect);
        /* the length is what the component count says */
        assert_int_equal(strlen(out), 6 + 2 * (s_vectors[i].xc * s_vectors[i].yc - 1));
        free(img);
    }
}

/*  Padding at the end of each row is not part of the image. */
static void
test_stride(void **state)
{
    (void) state;
    uint8_t *img = s_image(s_gradient, 32, 24, 32 * 3 + 17);
    char out[RU_BLURHASH_MAX];
    assert_int_equal(ru_blurhash_encode(img, 32, 24, 32 * 3 + 17, 4, 3, out), RU_OK);
    assert_string_equal(out, s_vectors[0].expect);
    free(img);
}

static void
test_refusals(void **state)
{
    (void) state;
    uint8_t px[4 * 4 * 3] = {0};
    char out[RU_BLURHASH_MAX] = "x";
    assert_int_equal(ru_blurhash_encode(px, 0, 4, 12, 4, 3, out), RU_E_INVALID);
    assert_string_equal(out, "");
    assert_int_equal(ru_blurhash_encode(px, 4, 0, 12, 4, 3, out), RU_E_INVALID);
    assert_int_equal(ru_blurhash_encode(px, 4, 4, 11, 4, 3, out), RU_E_INVALID);
    assert_int_equal(ru_blurhash_encode(px, 4, 4, 12, 0, 3, out), RU_E_INVALID);
    assert_int_equal(ru_blurhash_encode(px, 4, 4, 12, 4, 10, out), RU_E_INVALID);
    assert_int_equal(ru_blurhash_encode(NULL, 4, 4, 12, 4, 3, out), RU_E_INVALID);
    /* a single pixel is an image */
    assert_int_equal(ru_blurhash_encode(px, 1, 1, 3, 9, 9, out), RU_OK);
    assert_int_equal(strlen(out), RU_BLURHASH_MAX - 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_stride),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
